// Package iamapi is the IAM 2010-05-08 and STS 2011-06-15 edge (signing services `iam` and `sts`): both speak
// the AWS query protocol with XML responses. It checks inputs against the models, authorizes each call through
// the gateway, and calls internal/iam. STS's AssumeRoleWithWebIdentity is the one unsigned operation Sluice
// serves: the gateway hands such requests here without an identity.
package iamapi

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/sluice-dev/sluice/internal/api/awshttp"
	"github.com/sluice-dev/sluice/internal/api/gateway"
	"github.com/sluice-dev/sluice/internal/api/wire"
	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/iam"
)

var (
	iamService = &wire.Service{Version: "2010-05-08", XMLNamespace: "https://iam.amazonaws.com/doc/2010-05-08/"}
	stsService = &wire.Service{Version: "2011-06-15", XMLNamespace: "https://sts.amazonaws.com/doc/2011-06-15/"}
)

// Handler serves one of the two services.
type Handler struct {
	svc     *iam.Service
	service *wire.Service
	codes   map[string]int // error code → HTTP status, from the model
	ops     map[string]wire.Operation
	log     *slog.Logger
}

// ServeHTTP serves a request the gateway authenticated (or, for AssumeRoleWithWebIdentity, let through).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if awshttp.RequestID(r.Context()) == "" {
		r = awshttp.WithRequestID(w, r)
	}
	p := h.service.Detect(r)
	body, err := readBody(r)
	if err != nil {
		h.writeError(w, r, p, "", err)
		return
	}
	name, werr := p.Operation(r, body)
	if werr != nil {
		h.writeError(w, r, p, "", werr)
		return
	}
	op, ok := h.ops[name]
	if !ok {
		h.writeError(w, r, p, name, p.UnknownOperation(name))
		return
	}
	if _, signed := gateway.IdentityFrom(r.Context()); !signed && name != "AssumeRoleWithWebIdentity" {
		h.writeError(w, r, p, name, fault.New("MissingAuthenticationToken", "Request is missing Authentication Token"))
		return
	}
	out, err := op(r.Context(), p, r, body)
	if err != nil {
		h.writeError(w, r, p, name, err)
		return
	}
	if err := p.Encode(w, name, out, awshttp.RequestID(r.Context())); err != nil {
		h.log.Error("write response", "operation", name, "request_id", awshttp.RequestID(r.Context()), "err", err)
	}
}

func readBody(r *http.Request) ([]byte, error) {
	const max = 1 << 20
	b, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	if err != nil {
		return nil, fault.New("MalformedQueryString", "Could not read the request body: %s", err)
	}
	if len(b) > max {
		return nil, fault.New("RequestEntityTooLarge", "The request body exceeds %d bytes.", max)
	}
	return b, nil
}

// commonStatus are the statuses of errors every query service may return.
var commonStatus = map[string]int{
	"InvalidAction": 400, "MissingAction": 400, "InvalidQueryParameter": 400, "MalformedQueryString": 404,
	"InvalidParameterValue": 400, "MissingParameter": 400, "ValidationError": 400, "AccessDenied": 403,
	"MissingAuthenticationToken": 403, "RequestEntityTooLarge": 413, "ServiceFailure": 500, "InternalFailure": 500,
}

// authCodes are the query-protocol spellings of the gateway's authentication errors.
var authCodes = map[string]string{
	"InvalidSignatureException":           "SignatureDoesNotMatch",
	"UnrecognizedClientException":         "InvalidClientTokenId",
	"MissingAuthenticationTokenException": "MissingAuthenticationToken",
	"IncompleteSignatureException":        "IncompleteSignature",
	"ExpiredTokenException":               "ExpiredToken",
}

func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, p wire.Protocol, op string, err error) {
	reqID := awshttp.RequestID(r.Context())
	we, ok := err.(*wire.Error)
	if !ok {
		f, isFault := fault.As(err)
		if !isFault {
			h.log.Error("internal error", "operation", op, "request_id", reqID, "err", err)
			f = fault.New("ServiceFailure", "An internal error occurred. Request ID: %s", reqID)
		}
		status, known := h.codes[f.Code]
		if !known {
			status = commonStatus[f.Code]
		}
		if status == 0 {
			status = http.StatusBadRequest
		}
		we = &wire.Error{Code: f.Code, Status: status, Receiver: status >= 500, Message: f.Message}
	}
	h.log.Debug("error", "operation", op, "code", we.Code, "status", we.Status, "request_id", reqID)
	p.EncodeError(w, we, reqID)
}

// WriteAuthError answers a request the gateway could not authenticate, in the query protocol.
func (h *Handler) WriteAuthError(w http.ResponseWriter, r *http.Request, code string, status int, message string) {
	if c, ok := authCodes[code]; ok {
		code = c
	}
	h.service.Detect(r).EncodeError(w, &wire.Error{Code: code, Status: status, Receiver: status >= 500, Message: message},
		awshttp.RequestID(r.Context()))
}

// IsAnonymousSTS reports whether an unsigned request is one STS serves without a signature
// (AssumeRoleWithWebIdentity), so that the gateway can let it through.
func IsAnonymousSTS(r *http.Request, body []byte) bool {
	q := r.URL.Query()
	if r.Method == http.MethodPost {
		if form, err := url.ParseQuery(string(body)); err == nil {
			for k, v := range form {
				q[k] = v
			}
		}
	}
	return q.Get("Action") == "AssumeRoleWithWebIdentity"
}

// authorize checks the caller may perform action on resource.
func authorize(ctx context.Context, action, resource string) error {
	return gateway.Authorize(ctx, action, resource)
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func num(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
