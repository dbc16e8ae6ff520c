// Package s3api is Amazon S3's REST-XML edge (the 2006-03-01 API, per botocore's model): it finds the operation a
// request names (method, bucket from the path or the Host, key, sub-resource), authorizes it with S3's action and
// resource ARN (identity policies and the bucket policy; anonymous callers by the bucket policy alone), reads the
// request's headers and XML, calls package buckets, and answers in S3's XML with S3's error codes and statuses. It
// reads object bodies as streams, never whole.
package s3api

import (
	"context"
	"encoding/xml"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/sluice-dev/sluice/internal/api/awshttp"
	"github.com/sluice-dev/sluice/internal/api/gateway"
	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/iam/policy"
	"github.com/sluice-dev/sluice/internal/s3"
	"github.com/sluice-dev/sluice/internal/s3/buckets"
	"github.com/sluice-dev/sluice/internal/sigv4"
)

// Handler serves S3.
type Handler struct {
	svc *buckets.Service
	log *slog.Logger
}

// New returns the S3 handler.
func New(svc *buckets.Service, log *slog.Logger) *Handler {
	return &Handler{svc: svc, log: log.With("component", "s3api")}
}

// request is one S3 call as the handler reads it.
type request struct {
	r      *http.Request
	w      http.ResponseWriter
	bucket string
	key    string
	q      url.Values
	// release gives back the memory of the small bodies the operation read (readBody).
	release []func()
}

func (q *request) ctx() context.Context { return q.r.Context() }
func (q *request) has(sub string) bool  { _, ok := q.q[sub]; return ok }

// resource is the ARN IAM policies name: the bucket, or the object.
func (q *request) resource() string {
	if q.key != "" {
		return "arn:aws:s3:::" + q.bucket + "/" + q.key
	}
	return "arn:aws:s3:::" + q.bucket
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := &request{r: r, w: w, q: r.URL.Query()}
	defer func() {
		for _, f := range q.release {
			f()
		}
	}()
	if b, ok := gateway.S3Bucket(r); ok {
		q.bucket, q.key = b, strings.TrimPrefix(r.URL.Path, "/")
	} else {
		rest := strings.TrimPrefix(r.URL.Path, "/")
		q.bucket, q.key, _ = strings.Cut(rest, "/")
	}
	if q.has("AWSAccessKeyId") && q.has("Signature") { // a SigV2 presigned URL
		h.drain(q)
		h.writeError(q, errSigV2())
		return
	}
	op, action := h.route(q)
	if op == nil {
		h.writeError(q, fault.New(s3.CodeNotImplemented, "A header you provided implies functionality that is not implemented"))
		return
	}
	if err := h.authorizeOp(q, action); err != nil {
		h.drain(q)
		h.writeError(q, err)
		return
	}
	if err := op(q); err != nil {
		h.drain(q)
		h.writeError(q, err)
	}
}

// drain reads what is left of a small body a refused request sent, so the connection can serve the next request;
// a larger one is not read, and the connection closes after the answer.
func (h *Handler) drain(q *request) {
	if q.r.ContentLength >= 0 && q.r.ContentLength <= 1<<20 {
		_, _ = io.Copy(io.Discard, io.LimitReader(q.r.Body, 1<<20))
		return
	}
	q.w.Header().Set("Connection", "close")
}

type op func(*request) error

// authorizeOp authorizes the operation's action on the resource the request names ("" action: the operation
// authorizes each resource it touches itself).
func (h *Handler) authorizeOp(q *request, action string) error {
	if action == "" {
		return nil
	}
	return h.authorize(q, action, q.resource())
}

// route finds the operation and its IAM action.
func (h *Handler) route(q *request) (op, string) {
	m := q.r.Method
	if q.bucket == "" {
		if m == http.MethodGet {
			return h.listBuckets, "s3:ListAllMyBuckets"
		}
		return nil, ""
	}
	if q.key == "" {
		switch m {
		case http.MethodGet:
			switch {
			case q.has("location"):
				return h.getBucketLocation, "s3:GetBucketLocation"
			case q.has("policy"):
				return h.getBucketPolicy, "s3:GetBucketPolicy"
			case q.has("versioning"):
				return h.getBucketVersioning, "s3:GetBucketVersioning"
			case q.has("encryption"):
				return h.getBucketEncryption, "s3:GetEncryptionConfiguration"
			case q.has("publicAccessBlock"):
				return h.getDocument(buckets.DocPublicAccessBlock, s3.ErrNoSuchPublicAccessBlock), "s3:GetBucketPublicAccessBlock"
			case q.has("lifecycle"):
				return h.getDocument(buckets.DocLifecycle, s3.ErrNoSuchLifecycleConfiguration), "s3:GetLifecycleConfiguration"
			case q.has("tagging"):
				return h.getDocument(buckets.DocTagging, s3.ErrNoSuchTagSet), "s3:GetBucketTagging"
			case q.has("versions"):
				return h.listObjectVersions, "s3:ListBucketVersions"
			case q.has("uploads"):
				return h.listMultipartUploads, "s3:ListBucketMultipartUploads"
			case q.q.Get("list-type") == "2":
				return h.listObjectsV2, "s3:ListBucket"
			case len(subresources(q.q)) == 0:
				return h.listObjects, "s3:ListBucket"
			}
		case http.MethodHead:
			return h.headBucket, "s3:ListBucket"
		case http.MethodPut:
			switch {
			case q.has("policy"):
				return h.putBucketPolicy, "s3:PutBucketPolicy"
			case q.has("versioning"):
				return h.putBucketVersioning, "s3:PutBucketVersioning"
			case q.has("encryption"):
				return h.putBucketEncryption, "s3:PutEncryptionConfiguration"
			case q.has("publicAccessBlock"):
				return h.putPublicAccessBlock, "s3:PutBucketPublicAccessBlock"
			case q.has("lifecycle"):
				return h.putBucketLifecycle, "s3:PutLifecycleConfiguration"
			case q.has("tagging"):
				return h.putBucketTagging, "s3:PutBucketTagging"
			case len(subresources(q.q)) == 0:
				return h.createBucket, "s3:CreateBucket"
			}
		case http.MethodDelete:
			switch {
			case q.has("policy"):
				return h.deleteBucketPolicy, "s3:DeleteBucketPolicy"
			case q.has("publicAccessBlock"):
				return h.deleteDocument(buckets.DocPublicAccessBlock), "s3:PutBucketPublicAccessBlock"
			case q.has("lifecycle"):
				return h.deleteDocument(buckets.DocLifecycle), "s3:PutLifecycleConfiguration"
			case q.has("tagging"):
				return h.deleteDocument(buckets.DocTagging), "s3:PutBucketTagging"
			case q.has("encryption"):
				return h.deleteDocument(buckets.DocEncryption), "s3:PutEncryptionConfiguration"
			case len(subresources(q.q)) == 0:
				return h.deleteBucket, "s3:DeleteBucket"
			}
		case http.MethodPost:
			if q.has("delete") {
				return h.deleteObjects, "" // each key is authorized on its own
			}
		}
		return nil, ""
	}
	switch m {
	case http.MethodPut:
		switch {
		case q.has("tagging"):
			return h.putObjectTagging, versioned(q, "s3:PutObjectTagging")
		case q.has("partNumber") && q.has("uploadId") && q.r.Header.Get("x-amz-copy-source") != "":
			return h.uploadPartCopy, "s3:PutObject"
		case q.has("partNumber") && q.has("uploadId"):
			return h.uploadPart, "s3:PutObject"
		case q.r.Header.Get("x-amz-copy-source") != "" && len(subresources(q.q)) == 0:
			return h.copyObject, "s3:PutObject"
		case len(subresources(q.q)) == 0:
			return h.putObject, "s3:PutObject"
		}
	case http.MethodGet, http.MethodHead:
		switch {
		case q.has("tagging") && q.r.Method == http.MethodGet:
			return h.getObjectTagging, versioned(q, "s3:GetObjectTagging")
		case q.has("uploadId") && q.r.Method == http.MethodGet:
			return h.listParts, "s3:ListMultipartUploadParts"
		case len(subresources(q.q)) == 0:
			if q.q.Get("versionId") != "" {
				return h.getObject, "s3:GetObjectVersion"
			}
			return h.getObject, "s3:GetObject"
		}
	case http.MethodDelete:
		switch {
		case q.has("tagging"):
			return h.deleteObjectTagging, versioned(q, "s3:DeleteObjectTagging")
		case q.has("uploadId"):
			return h.abortMultipartUpload, "s3:AbortMultipartUpload"
		case len(subresources(q.q)) == 0:
			if q.q.Get("versionId") != "" {
				return h.deleteObject, "s3:DeleteObjectVersion"
			}
			return h.deleteObject, "s3:DeleteObject"
		}
	case http.MethodPost:
		switch {
		case q.has("uploads"):
			return h.createMultipartUpload, "s3:PutObject"
		case q.has("uploadId"):
			return h.completeMultipartUpload, "s3:PutObject"
		}
	}
	return nil, ""
}

// versioned is an object action's name for a request naming a version ("s3:GetObjectTagging" →
// "s3:GetObjectVersionTagging").
func versioned(q *request, action string) string {
	if q.q.Get("versionId") == "" {
		return action
	}
	return strings.Replace(action, "Object", "ObjectVersion", 1)
}

// subresources lists the query parameters that name a sub-resource Sluice does not serve (acl, cors, website...):
// everything but the parameters of the operations above and presigned URLs' own.
func subresources(q url.Values) []string {
	var out []string
	for k := range q {
		switch strings.ToLower(k) {
		case "versionid", "prefix", "delimiter", "marker", "max-keys", "encoding-type", "list-type", "continuation-token",
			"start-after", "fetch-owner", "partnumber", "x-id", "response-content-type", "response-content-language",
			"response-expires", "response-cache-control", "response-content-disposition", "response-content-encoding",
			"x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-expires", "x-amz-signedheaders",
			"x-amz-signature", "x-amz-security-token", "x-amz-content-sha256", "x-amz-user-agent", "x-amz-checksum-mode":
		default:
			out = append(out, k)
		}
	}
	return out
}

// authorize decides whether the caller may perform action on resource: a signed caller by IAM (identity policies,
// then the bucket policy through iam's resource-based fallback), an anonymous one by the bucket policy alone, which
// must allow "*" explicitly, as on AWS.
func (h *Handler) authorize(q *request, action, resource string) error {
	if _, signed := gateway.IdentityFrom(q.ctx()); signed {
		err := gateway.Authorize(q.ctx(), action, resource)
		if f, ok := fault.As(err); ok && f.Code == "AccessDenied" {
			return s3.ErrAccessDenied()
		}
		return err
	}
	if q.bucket == "" {
		return s3.ErrAccessDenied()
	}
	doc, err := h.svc.BucketPolicy(q.ctx(), q.bucket)
	if err != nil {
		return err
	}
	if policy.Evaluate(policy.Request{Action: action, Resource: resource}, doc) != policy.Allow {
		return s3.ErrAccessDenied()
	}
	return nil
}

// statuses is S3's HTTP status of each error code.
var statuses = map[string]int{
	s3.CodeAccessDenied: 403, s3.CodeBadDigest: 400, s3.CodeBucketAlreadyExists: 409, s3.CodeBucketAlreadyOwnedByYou: 409,
	s3.CodeBucketNotEmpty: 409, s3.CodeEntityTooLarge: 400, s3.CodeEntityTooSmall: 400, s3.CodeIllegalLocationConstraint: 400,
	s3.CodeIncompleteBody: 400, s3.CodeInternalError: 500, s3.CodeInvalidArgument: 400, s3.CodeInvalidBucketName: 400,
	s3.CodeInvalidDigest: 400, s3.CodeInvalidLocationConstraint: 400, s3.CodeInvalidPart: 400, s3.CodeInvalidPartOrder: 400,
	s3.CodeInvalidRange: 416, s3.CodeInvalidRequest: 400, s3.CodeInvalidTag: 400, s3.CodeKeyTooLong: 400,
	s3.CodeMalformedXML: 400, s3.CodeMalformedPolicy: 400, s3.CodeMethodNotAllowed: 405, s3.CodeMissingContentLength: 411,
	s3.CodeNoSuchBucket: 404, s3.CodeNoSuchBucketPolicy: 404, s3.CodeNoSuchKey: 404, s3.CodeNoSuchLifecycleConfiguration: 404,
	s3.CodeNoSuchPublicAccessBlock: 404, s3.CodeNoSuchTagSet: 404, s3.CodeNoSuchUpload: 404, s3.CodeNoSuchVersion: 404,
	s3.CodeNotImplemented: 501, s3.CodeNotModified: 304, s3.CodePreconditionFailed: 412, s3.CodeServiceUnavailable: 503,
	s3.CodeXAmzContentSHA256Mismatch: 400, "SignatureDoesNotMatch": 403, "InvalidAccessKeyId": 403,
	"RequestTimeTooSkewed": 403, "AuthorizationHeaderMalformed": 400, "AuthorizationQueryParametersError": 400,
	"ExpiredToken": 400, "InvalidToken": 400, "MaxMessageLengthExceeded": 400, "RequestTimeout": 400, "SlowDown": 503,
}

type errorBody struct {
	XMLName    xml.Name `xml:"Error"`
	Code       string   `xml:"Code"`
	Message    string   `xml:"Message"`
	BucketName string   `xml:"BucketName,omitempty"`
	Key        string   `xml:"Key,omitempty"`
	Resource   string   `xml:"Resource,omitempty"`
	RequestID  string   `xml:"RequestId"`
	HostID     string   `xml:"HostId"`
}

// writeError answers a fault in S3's XML (no body for HEAD, nor for 304); any other error is an InternalError,
// logged. A request body that failed its signature or checksum while it was read is answered as its sigv4 error.
func (h *Handler) writeError(q *request, err error) {
	var se *sigv4.Error
	if errors.As(err, &se) {
		h.WriteAuthFailure(q.w, q.r, se)
		return
	}
	f, ok := fault.As(err)
	if !ok {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			f = fault.New(s3.CodeIncompleteBody, "You did not provide the number of bytes specified by the Content-Length HTTP header.")
		} else if isTimeout(err) {
			f = fault.New("RequestTimeout", "Your socket connection to the server was not read from or written to within the timeout period. Idle connections will be closed.")
		} else {
			h.log.Error("internal error", "method", q.r.Method, "path", q.r.URL.Path, "request_id", awshttp.RequestID(q.ctx()), "err", err)
			f = fault.New(s3.CodeInternalError, "We encountered an internal error. Please try again.")
		}
	}
	status, ok := statuses[f.Code]
	if !ok {
		status = 400
	}
	body := errorBody{Code: f.Code, Message: f.Message, RequestID: awshttp.RequestID(q.ctx()), HostID: hostID}
	switch f.Code {
	case s3.CodeNoSuchBucket, s3.CodeBucketNotEmpty, s3.CodeBucketAlreadyOwnedByYou, s3.CodeNoSuchBucketPolicy,
		s3.CodeNoSuchLifecycleConfiguration, s3.CodeNoSuchTagSet, s3.CodeNoSuchPublicAccessBlock, s3.CodeInvalidBucketName:
		body.BucketName = q.bucket
	case s3.CodeNoSuchKey:
		body.Key = q.key
	}
	body.Resource = q.r.URL.Path
	h.writeErrorBody(q.w, q.r, status, body)
}

// hostID is the x-amz-id-2 S3 sends with every answer; one server has one.
const hostID = "sluice"

func (h *Handler) writeErrorBody(w http.ResponseWriter, r *http.Request, status int, body errorBody) {
	w.Header().Set("x-amz-id-2", hostID)
	if status == http.StatusNotModified {
		w.WriteHeader(status)
		return
	}
	if r.Method == http.MethodHead {
		w.WriteHeader(status)
		return
	}
	out, _ := xml.Marshal(body)
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(out)
}

// WriteAuthFailure answers a request whose signature (or signed payload) failed, in S3's words.
func (h *Handler) WriteAuthFailure(w http.ResponseWriter, r *http.Request, se *sigv4.Error) {
	code, status, msg := se.Code, se.Status, se.Message
	if strings.HasPrefix(r.Header.Get("Authorization"), "AWS ") { // SigV2
		f, _ := fault.As(errSigV2())
		se = &sigv4.Error{Kind: sigv4.KindOther}
		code, status, msg = f.Code, 400, f.Message
	}
	switch se.Kind {
	case sigv4.KindMissing:
		code, status, msg = s3.CodeAccessDenied, 403, "Access Denied"
	case sigv4.KindMalformed:
		if code != "AuthorizationHeaderMalformed" {
			code, status = "AuthorizationHeaderMalformed", 400
			if r.Header.Get("Authorization") == "" {
				code = "AuthorizationQueryParametersError"
			}
		}
	case sigv4.KindMismatch:
		code, status, msg = "SignatureDoesNotMatch", 403, "The request signature we calculated does not match the signature you provided. Check your key and signing method."
	case sigv4.KindUnknownKey:
		code, status, msg = "InvalidAccessKeyId", 403, "The AWS Access Key Id you provided does not exist in our records."
	case sigv4.KindBadToken:
		code, status, msg = "InvalidToken", 400, "The provided token is malformed or otherwise invalid."
	case sigv4.KindExpiredToken:
		code, status, msg = "ExpiredToken", 400, "The provided token has expired."
	case sigv4.KindExpiredRequest:
		code, status, msg = s3.CodeAccessDenied, 403, "Request has expired"
	case sigv4.KindSkewed:
		code, status, msg = "RequestTimeTooSkewed", 403, "The difference between the request time and the current time is too large."
	case sigv4.KindContentMismatch:
		code, status = s3.CodeXAmzContentSHA256Mismatch, 400
	case sigv4.KindIncompleteBody:
		code, status = s3.CodeIncompleteBody, 400
	case sigv4.KindInternal:
		code, status, msg = s3.CodeInternalError, 500, "We encountered an internal error. Please try again."
	}
	w.Header().Set("Connection", "close")
	h.writeErrorBody(w, r, status, errorBody{Code: code, Message: msg, Resource: r.URL.Path,
		RequestID: awshttp.RequestID(r.Context()), HostID: hostID})
}

// errSigV2 refuses Signature Version 2 (header or presigned), as S3 does in the regions that only take SigV4.
func errSigV2() error {
	return s3.InvalidRequest("The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.")
}
