// Package lambdaapi is the Lambda 2015-03-31 REST-JSON edge: it routes AWS's paths, decodes requests into
// controlplane calls, and encodes responses and errors exactly as AWS clients expect them.
package lambdaapi

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"

	"github.com/sluice-dev/sluice/internal/api/awshttp"
	"github.com/sluice-dev/sluice/internal/api/edge"
	"github.com/sluice-dev/sluice/internal/controlplane"
	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/lambda"
)

// CodeLocator mints the short-lived download URL GetFunction returns for a package.
type CodeLocator func(r *http.Request, codeSha256 string) string

// Handler serves the Lambda API.
type Handler struct {
	svc     *controlplane.Service
	invoker Invoker
	locate  CodeLocator
	// urlDomain is the domain function URLs live under: <url-id>.<urlDomain> (lambda-url.<region>.localhost).
	urlDomain string
	packages  Packages // nil: no S3
	log       *slog.Logger
	mux       *http.ServeMux
}

// New returns the Lambda API handler; function URLs are named <url-id>.<urlDomain>.
func New(svc *controlplane.Service, invoker Invoker, locate CodeLocator, urlDomain string, log *slog.Logger) *Handler {
	h := &Handler{svc: svc, invoker: invoker, locate: locate, urlDomain: urlDomain, log: log.With("component", "lambdaapi"), mux: http.NewServeMux()}
	h.routes()
	return h
}

// routes lists every operation in one place.
func (h *Handler) routes() {
	const fn = "/2015-03-31/functions/{FunctionName}"
	h.handle("POST /2015-03-31/functions", "lambda:CreateFunction", h.createFunction)
	h.handle("GET /2015-03-31/functions", "lambda:ListFunctions", h.listFunctions)
	h.handle("GET /2015-03-31/functions/{$}", "lambda:ListFunctions", h.listFunctions) // the model's path; CLI v2 sends it
	h.handle("GET "+fn, "lambda:GetFunction", h.getFunction)
	h.handle("DELETE "+fn, "lambda:DeleteFunction", h.deleteFunction)
	h.handle("GET "+fn+"/configuration", "lambda:GetFunctionConfiguration", h.getFunctionConfiguration)
	h.handle("PUT "+fn+"/configuration", "lambda:UpdateFunctionConfiguration", h.updateFunctionConfiguration)
	h.handle("PUT "+fn+"/code", "lambda:UpdateFunctionCode", h.updateFunctionCode)
	h.handle("POST "+fn+"/invocations", "lambda:InvokeFunction", h.invoke)
	h.handle("POST /2021-11-15/functions/{FunctionName}/response-streaming-invocations", "lambda:InvokeFunction", h.invokeWithResponseStream)
	h.handle("POST "+fn+"/versions", "lambda:PublishVersion", h.publishVersion)
	h.handle("GET "+fn+"/versions", "lambda:ListVersionsByFunction", h.listVersionsByFunction)
	h.handle("POST "+fn+"/aliases", "lambda:CreateAlias", h.createAlias)
	h.handle("GET "+fn+"/aliases", "lambda:ListAliases", h.listAliases)
	h.handle("GET "+fn+"/aliases/{Name}", "lambda:GetAlias", h.getAlias)
	h.handle("PUT "+fn+"/aliases/{Name}", "lambda:UpdateAlias", h.updateAlias)
	h.handle("DELETE "+fn+"/aliases/{Name}", "lambda:DeleteAlias", h.deleteAlias)
	h.handle("POST "+fn+"/policy", "lambda:AddPermission", h.addPermission)
	h.handle("GET "+fn+"/policy", "lambda:GetPolicy", h.getPolicy)
	h.handle("DELETE "+fn+"/policy/{StatementId}", "lambda:RemovePermission", h.removePermission)
	h.handle("PUT /2017-10-31/functions/{FunctionName}/concurrency", "lambda:PutFunctionConcurrency", h.putFunctionConcurrency)
	h.handle("GET /2019-09-30/functions/{FunctionName}/concurrency", "lambda:GetFunctionConcurrency", h.getFunctionConcurrency)
	h.handle("DELETE /2017-10-31/functions/{FunctionName}/concurrency", "lambda:DeleteFunctionConcurrency", h.deleteFunctionConcurrency)
	const eic = "/2019-09-25/functions/{FunctionName}/event-invoke-config"
	h.handle("PUT "+eic, "lambda:PutFunctionEventInvokeConfig", h.putEventInvokeConfig(false))
	h.handle("POST "+eic, "lambda:UpdateFunctionEventInvokeConfig", h.putEventInvokeConfig(true))
	h.handle("GET "+eic, "lambda:GetFunctionEventInvokeConfig", h.getEventInvokeConfig)
	h.handle("DELETE "+eic, "lambda:DeleteFunctionEventInvokeConfig", h.deleteEventInvokeConfig)
	h.handle("GET "+eic+"/list", "lambda:ListFunctionEventInvokeConfigs", h.listEventInvokeConfigs)
	const pc = "/2019-09-30/functions/{FunctionName}/provisioned-concurrency"
	h.handle("PUT "+pc, "lambda:PutProvisionedConcurrencyConfig", h.putProvisioned)
	h.handle("GET "+pc, "lambda:GetProvisionedConcurrencyConfig", h.getProvisioned) // also ?List=ALL
	h.handle("DELETE "+pc, "lambda:DeleteProvisionedConcurrencyConfig", h.deleteProvisioned)
	const url = "/2021-10-31/functions/{FunctionName}/url"
	h.handle("POST "+url, "lambda:CreateFunctionUrlConfig", h.createFunctionURLConfig)
	h.handle("GET "+url, "lambda:GetFunctionUrlConfig", h.getFunctionURLConfig)
	h.handle("PUT "+url, "lambda:UpdateFunctionUrlConfig", h.updateFunctionURLConfig)
	h.handle("DELETE "+url, "lambda:DeleteFunctionUrlConfig", h.deleteFunctionURLConfig)
	h.handle("GET /2021-10-31/functions/{FunctionName}/urls", "lambda:ListFunctionUrlConfigs", h.listFunctionURLConfigs)
	h.handle("GET "+DeadLettersPath, "sluice:ListDeadLetters", h.listDeadLetters)
	h.handle("GET /2016-08-19/account-settings", "lambda:GetAccountSettings", h.getAccountSettings)
	h.handle("GET /2016-08-19/account-settings/{$}", "lambda:GetAccountSettings", h.getAccountSettings)
	h.handle("POST /2017-03-31/tags/{Resource}", "lambda:TagResource", h.tagResource)
	h.handle("DELETE /2017-03-31/tags/{Resource}", "lambda:UntagResource", h.untagResource)
	h.handle("GET /2017-03-31/tags/{Resource}", "lambda:ListTags", h.listTags)
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		awshttp.WriteRESTError(w, r, h.log, fault.New("UnknownOperationException", "Unknown operation %s %s", r.Method, r.URL.Path))
	})
}

// operation is a handler that returns its error instead of writing it.
type operation func(w http.ResponseWriter, r *http.Request) error

// handle routes pattern to op after authorizing the caller for action on the resource the request names and
// checking the request against the operation's shape in the model.
func (h *Handler) handle(pattern, action string, op operation) {
	h.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		err := edge.Authorize(r.Context(), action, func() string { return h.resource(r, action) }, "AccessDeniedException")
		if err == nil {
			err = checkModel(action, r)
		}
		if err == nil {
			err = op(w, r)
		}
		if err != nil {
			awshttp.WriteRESTError(w, r, h.log, err)
		}
	})
}

// resource is the ARN a request acts on, as IAM policies name it: the function ARN, qualified when the request
// names a version or alias; the tagged resource; "*" for account-wide operations.
func (h *Handler) resource(r *http.Request, action string) string {
	acct := h.svc.Account()
	label := r.PathValue("FunctionName")
	if action == "lambda:CreateFunction" {
		label = peekFunctionName(r)
	}
	if res := r.PathValue("Resource"); res != "" {
		return res
	}
	if label == "" {
		return "*"
	}
	ref, err := acct.ParseFunctionName("functionName", label, maxNamespacedFunctionName)
	if err != nil {
		return "*"
	}
	q := ref.Qualifier
	if v := r.URL.Query().Get("Qualifier"); v != "" {
		q = v
	}
	if alias := r.PathValue("Name"); alias != "" {
		q = alias
	}
	if q == "" {
		return acct.FunctionARN(ref.Name)
	}
	return acct.QualifiedARN(ref.Name, q)
}

// peekFunctionName reads CreateFunction's FunctionName without consuming the body.
func peekFunctionName(r *http.Request) string {
	var in struct{ FunctionName string }
	_ = json.Unmarshal(requestBody(r), &in)
	return in.FunctionName
}

// ServeHTTP serves an authenticated Lambda API request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// decode reads a JSON request body into v; an empty body leaves v as is.
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(v); err != nil && err.Error() != "EOF" {
		return fault.New(fault.InvalidRequestContent, "Could not parse request body into json: %s", err.Error())
	}
	return nil
}

// functionRef parses the {FunctionName} path label (maxLen per the operation's shape) and the Qualifier query.
func (h *Handler) functionRef(r *http.Request, maxLen int) (lambda.Ref, error) {
	ref, err := h.svc.Account().ParseFunctionName("functionName", r.PathValue("FunctionName"), maxLen)
	if err != nil {
		return ref, err
	}
	return ref.WithQualifier(r.URL.Query().Get("Qualifier"))
}

const (
	maxFunctionName           = 140 // FunctionName shape
	maxNamespacedFunctionName = 256 // NamespacedFunctionName shape
)

// listRequest is a decoded List operation: the function it is about, the marker and the page size.
type listRequest struct {
	ref    lambda.Ref
	marker string
	max    int
	query  url.Values
}

func (h *Handler) decodeList(r *http.Request, maxLen int) (listRequest, error) {
	ref, err := h.functionRef(r, maxLen)
	if err != nil {
		return listRequest{}, err
	}
	q := r.URL.Query()
	n, err := maxItems(q)
	return listRequest{ref: ref, marker: q.Get("Marker"), max: n, query: q}, err
}

// writeList answers a List operation: the items encoded under field, and NextMarker when there are more.
func writeList[V, W any](w http.ResponseWriter, field string, views []V, next string, encode func(V) W) {
	items := make([]W, len(views))
	for i, v := range views {
		items[i] = encode(v)
	}
	out := map[string]any{field: items}
	if next != "" {
		out["NextMarker"] = next
	}
	awshttp.WriteJSON(w, http.StatusOK, out)
}

// maxItems parses the MaxItems query parameter (1..10000 per the model; pages hold at most 50).
func maxItems(q url.Values) (int, error) {
	s := q.Get("MaxItems")
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 10000 {
		return 0, lambda.ValidationError(s, "maxItems", "Member must have value between 1 and 10000")
	}
	return n, nil
}
