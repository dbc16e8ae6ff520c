package lambdaapi

import (
	"context"
	"net/http"

	"github.com/sluice-dev/sluice/internal/api/awshttp"
	"github.com/sluice-dev/sluice/internal/api/edge"
	"github.com/sluice-dev/sluice/internal/codestore"
	"github.com/sluice-dev/sluice/internal/controlplane"
	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/lambda"
)

// unsupported rejects request members whose feature Sluice does not implement, rather than silently ignoring them.
func (c *configRequest) unsupported() error {
	switch {
	case c.Layers != nil && len(*c.Layers) > 0:
		return fault.InvalidParameter("Layers are not supported by Sluice; bundle dependencies into the deployment package.")
	case len(c.FileSystemConfigs) > 0:
		return fault.InvalidParameter("FileSystemConfigs are not supported by Sluice.")
	case c.ImageConfig != nil && string(*c.ImageConfig) != "null" && string(*c.ImageConfig) != "{}":
		return fault.InvalidParameter("ImageConfig is not supported by Sluice: only Zip packages are.")
	}
	return nil
}

func codeUnsupported(c *functionCode) error {
	if c.ImageUri != "" {
		return fault.InvalidParameter("Sluice runs Zip packages only; ImageUri is not supported.")
	}
	return nil
}

// Packages reads deployment packages stored in S3 (Code.S3Bucket, S3Key, S3ObjectVersion).
type Packages interface {
	// Package returns an object's bytes, at most limit+1 of them; a missing bucket, key or version is S3's fault
	// (NoSuchBucket, NoSuchKey, NoSuchVersion) with S3's message.
	Package(ctx context.Context, bucket, key, version string, limit int64) ([]byte, error)
}

// WithPackages lets CreateFunction and UpdateFunctionCode take their package from S3.
func (h *Handler) WithPackages(p Packages) *Handler {
	h.packages = p
	return h
}

// packageFromS3 reads the package a request names in S3, as Lambda does on the caller's behalf: the caller must
// be allowed s3:GetObject (s3:GetObjectVersion for a version) on the object, and what S3 answers is reported in
// Lambda's words.
func (h *Handler) packageFromS3(r *http.Request, c *functionCode) ([]byte, error) {
	if c.S3Bucket == "" && c.S3Key == "" && c.S3ObjectVersion == "" {
		return c.ZipFile, nil
	}
	if len(c.ZipFile) > 0 {
		return nil, fault.InvalidParameter("Please do not provide other FunctionCode parameters when providing a ZipFile.")
	}
	if c.S3Bucket == "" || c.S3Key == "" {
		return nil, fault.InvalidParameter("Please provide a source for function code.")
	}
	if h.packages == nil {
		return nil, fault.InvalidParameter("Sluice serves no S3 here: upload the package with ZipFile.")
	}
	action := "s3:GetObject"
	if c.S3ObjectVersion != "" {
		action = "s3:GetObjectVersion"
	}
	if err := edge.Authorize(r.Context(), action, func() string { return "arn:aws:s3:::" + c.S3Bucket + "/" + c.S3Key }, ""); err != nil {
		if f, ok := fault.As(err); ok && f.Code == "AccessDenied" {
			return nil, fault.New("AccessDeniedException", "Your access has been denied by S3, please make sure your request credentials have permission to GetObject for %s/%s. S3 Error Code: AccessDenied. S3 Error Message: Access Denied", c.S3Bucket, c.S3Key)
		}
		return nil, err
	}
	b, err := h.packages.Package(r.Context(), c.S3Bucket, c.S3Key, c.S3ObjectVersion, codestore.DefaultMaxZipped)
	if f, ok := fault.As(err); ok {
		return nil, fault.InvalidParameter("Error occurred while GetObject. S3 Error Code: %s. S3 Error Message: %s", f.Code, f.Message)
	}
	return b, err
}

func (h *Handler) createFunction(w http.ResponseWriter, r *http.Request) error {
	var req createFunctionRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.FunctionName == "" {
		return lambda.ValidationError("null", "functionName", "Member must not be null")
	}
	if req.Code == nil {
		return lambda.ValidationError("null", "code", "Member must not be null")
	}
	if req.PackageType == "Image" {
		return fault.InvalidParameter("Sluice runs Zip packages only; PackageType Image is not supported.")
	}
	if err := req.unsupported(); err != nil {
		return err
	}
	if err := codeUnsupported(req.Code); err != nil {
		return err
	}
	zip, err := h.packageFromS3(r, req.Code)
	if err != nil {
		return err
	}
	// CreateFunction accepts a name or an ARN; the function is created under the bare name.
	if h.svc.Account().NamesOtherAccount(req.FunctionName) {
		return fault.New("AccessDeniedException", "")
	}
	ref, err := h.svc.Account().ParseFunctionName("functionName", req.FunctionName, maxFunctionName)
	if err != nil {
		return err
	}
	if ref.Qualifier != "" {
		return fault.InvalidParameter("Unsupported qualifier in function name: %s", req.FunctionName)
	}
	patch := req.patch()
	patch.Architectures = req.Architectures
	view, err := h.svc.CreateFunction(r.Context(), controlplane.CreateFunctionInput{
		Name: ref.Name, Config: patch, ZipFile: zip, Publish: req.Publish, Tags: req.Tags,
	})
	if err != nil {
		return err
	}
	awshttp.WriteJSON(w, http.StatusCreated, h.encodeConfiguration(view, false))
	return nil
}

func (h *Handler) getFunctionConfiguration(w http.ResponseWriter, r *http.Request) error {
	ref, err := h.functionRef(r, maxNamespacedFunctionName)
	if err != nil {
		return err
	}
	view, err := h.svc.GetFunctionConfiguration(r.Context(), ref)
	if err != nil {
		return err
	}
	awshttp.WriteJSON(w, http.StatusOK, h.encodeConfiguration(view, false))
	return nil
}

type functionCodeLocation struct {
	RepositoryType string `json:"RepositoryType"`
	Location       string `json:"Location"`
}

type concurrency struct {
	ReservedConcurrentExecutions *int `json:"ReservedConcurrentExecutions,omitempty"`
}

type getFunctionResponse struct {
	Configuration functionConfiguration `json:"Configuration"`
	Code          functionCodeLocation  `json:"Code"`
	Tags          map[string]string     `json:"Tags,omitempty"`
	Concurrency   *concurrency          `json:"Concurrency,omitempty"`
}

func (h *Handler) getFunction(w http.ResponseWriter, r *http.Request) error {
	ref, err := h.functionRef(r, maxNamespacedFunctionName)
	if err != nil {
		return err
	}
	d, err := h.svc.GetFunction(r.Context(), ref)
	if err != nil {
		return err
	}
	out := getFunctionResponse{
		Configuration: h.encodeConfiguration(d.View, false),
		Code:          functionCodeLocation{RepositoryType: "S3", Location: h.locate(r, d.View.Config.CodeSha256)},
		Tags:          d.Tags,
	}
	if d.ReservedConcurrency != nil {
		out.Concurrency = &concurrency{ReservedConcurrentExecutions: d.ReservedConcurrency}
	}
	awshttp.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (h *Handler) updateFunctionCode(w http.ResponseWriter, r *http.Request) error {
	ref, err := h.functionRef(r, maxFunctionName)
	if err != nil {
		return err
	}
	var req updateFunctionCodeRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if err := codeUnsupported(&req.functionCode); err != nil {
		return err
	}
	zip, err := h.packageFromS3(r, &req.functionCode)
	if err != nil {
		return err
	}
	view, err := h.svc.UpdateFunctionCode(r.Context(), ref, controlplane.UpdateFunctionCodeInput{
		ZipFile: zip, Architectures: req.Architectures, Publish: req.Publish, DryRun: req.DryRun, RevisionID: req.RevisionId,
	})
	if err != nil {
		return err
	}
	awshttp.WriteJSON(w, http.StatusOK, h.encodeConfiguration(view, false))
	return nil
}

func (h *Handler) updateFunctionConfiguration(w http.ResponseWriter, r *http.Request) error {
	ref, err := h.functionRef(r, maxFunctionName)
	if err != nil {
		return err
	}
	var req configRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if err := req.unsupported(); err != nil {
		return err
	}
	view, err := h.svc.UpdateFunctionConfiguration(r.Context(), ref, req.patch(), req.RevisionId)
	if err != nil {
		return err
	}
	awshttp.WriteJSON(w, http.StatusOK, h.encodeConfiguration(view, false))
	return nil
}

func (h *Handler) deleteFunction(w http.ResponseWriter, r *http.Request) error {
	ref, err := h.functionRef(r, maxNamespacedFunctionName)
	if err != nil {
		return err
	}
	if err := h.svc.DeleteFunction(r.Context(), ref); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent) // AWS answers 204 although the model says 200
	return nil
}

type listFunctionsResponse struct {
	Functions  []functionConfiguration `json:"Functions"`
	NextMarker string                  `json:"NextMarker,omitempty"`
}

func (h *Handler) listFunctions(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	n, err := maxItems(q)
	if err != nil {
		return err
	}
	fv := q.Get("FunctionVersion")
	if fv != "" && fv != "ALL" {
		return lambda.ValidationError(fv, "functionVersion", "Member must satisfy enum value set: [ALL]")
	}
	views, next, err := h.svc.ListFunctions(r.Context(), q.Get("Marker"), n, fv == "ALL")
	if err != nil {
		return err
	}
	out := listFunctionsResponse{Functions: make([]functionConfiguration, len(views)), NextMarker: next}
	for i, v := range views {
		out.Functions[i] = h.encodeConfiguration(v, true)
	}
	awshttp.WriteJSON(w, http.StatusOK, out)
	return nil
}

type tagsBody struct {
	Tags map[string]string `json:"Tags"`
}

// tagRef parses the {Resource} label, which must be a full function ARN.
func (h *Handler) tagRef(r *http.Request) (lambda.Ref, error) {
	arn := r.PathValue("Resource")
	if !lambda.LooksLikeFunctionARN(arn) {
		return lambda.Ref{}, lambda.ValidationError(arn, "resource", `Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*):lambda:[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:function:[a-zA-Z0-9-_]+(:(\$LATEST|[a-zA-Z0-9-_]+))?`)
	}
	return h.svc.Account().ParseFunctionName("resource", arn, 256)
}

func (h *Handler) tagResource(w http.ResponseWriter, r *http.Request) error {
	ref, err := h.tagRef(r)
	if err != nil {
		return err
	}
	var req tagsBody
	if err := decode(r, &req); err != nil {
		return err
	}
	if err := h.svc.TagResource(r.Context(), ref, req.Tags); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) untagResource(w http.ResponseWriter, r *http.Request) error {
	ref, err := h.tagRef(r)
	if err != nil {
		return err
	}
	if err := h.svc.UntagResource(r.Context(), ref, r.URL.Query()["tagKeys"]); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) listTags(w http.ResponseWriter, r *http.Request) error {
	ref, err := h.tagRef(r)
	if err != nil {
		return err
	}
	tags, err := h.svc.ListTags(r.Context(), ref)
	if err != nil {
		return err
	}
	if tags == nil {
		tags = map[string]string{}
	}
	awshttp.WriteJSON(w, http.StatusOK, tagsBody{Tags: tags})
	return nil
}
