// Package functionurl is the front door of Lambda function URLs: plain HTTP requests to <url-id>.<domain> (by
// default <url-id>.lambda-url.<region>.localhost on the API listener) become payload-format-2.0 events for the
// function's $LATEST or alias — an alias's weights apply, so a canary shift moves HTTP traffic and a rollback
// restores it — and the function's answer becomes the HTTP response. It authorizes as Lambda does (NONE: the
// function's resource policy must let the public invoke it through the URL; AWS_IAM: a SigV4 signature from a caller
// whose identity or the function's policy allows it), answers CORS as configured, and records the URL metrics.
// The gateway routes the hosts here, reads the body within its memory budget and, for AWS_IAM URLs, verifies the
// signature.
package functionurl

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/internal/api/awshttp"
	"github.com/sluice-dev/sluice/internal/api/gateway"
	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/invoke"
	"github.com/sluice-dev/sluice/internal/lambda"
	"github.com/sluice-dev/sluice/internal/metrics"
)

// MaxPayload is the largest request or response body a function URL carries (Lambda's 6 MB).
const MaxPayload = 6 << 20

// Functions finds URLs and invokes their functions (invoke.Service).
type Functions interface {
	FunctionURL(id string) (invoke.FunctionURL, bool)
	Invoke(ctx context.Context, req invoke.Request) (invoke.Result, error)
	InvokeStream(ctx context.Context, req invoke.Request, w io.Writer) (invoke.Result, error)
}

// Policies answers whether a function's resource-based policy allows a call (the control plane).
type Policies interface {
	ResourcePolicyAllows(ctx context.Context, ref lambda.Ref, action, principal string, conditions map[string]string) (bool, error)
}

// Authorizer decides whether a signed caller may perform an action, with the request's condition keys, on its
// identity policies or else the function's resource policy (iam.Service).
type Authorizer interface {
	AuthorizeWith(ctx context.Context, principal, accessKeyID, action, resource string, conditions map[string]string) error
}

// Recorder stores metric samples (the metrics store); nil records nothing.
type Recorder interface {
	Record(id metrics.MetricID, s metrics.Sample)
}

// Handler serves function URLs.
type Handler struct {
	// Domain is what follows "<url-id>." in a URL's host (lambda-url.<region>.localhost).
	Domain    string
	Account   lambda.Account
	Functions Functions
	Policies  Policies
	// Authorizer decides for AWS_IAM URLs (nil: every signed caller is refused).
	Authorizer Authorizer
	Metrics    Recorder
	Log        *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// ID returns the URL ID a host names ("" when the host is not under Domain).
func (h *Handler) ID(host string) string {
	host = strings.ToLower(host)
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.Contains(host[i:], "]") {
		host = host[:i]
	}
	id, ok := strings.CutSuffix(host, "."+h.Domain)
	if !ok || id == "" || strings.Contains(id, ".") {
		return ""
	}
	return id
}

// Signed reports whether requests to the URL a host names must carry a SigV4 signature (AWS_IAM).
func (h *Handler) Signed(host string) bool {
	u, ok := h.Functions.FunctionURL(h.ID(host))
	return ok && u.Config.AuthType == "AWS_IAM"
}

// Lambda's answers at the front door.
const (
	forbidden       = "Forbidden"
	forbiddenNone   = "Forbidden. For troubleshooting Function URL authorization issues, see: https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html"
	internalError   = "Internal Server Error"
	invokeURLAction = "lambda:InvokeFunctionUrl"
)

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// ServeHTTP serves one request to a URL; the gateway has read its body (gateway.BodyReader) and, for AWS_IAM,
// verified its signature (gateway.IdentityFrom).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := h.now()
	id := h.ID(r.Host)
	u, ok := h.Functions.FunctionURL(id)
	if !ok {
		writeMessage(w, http.StatusForbidden, "AccessDeniedException", forbidden)
		return
	}
	ref := lambda.Ref{Name: u.Function, Qualifier: u.Config.Qualifier}
	resource := u.Function
	if ref.Qualifier != "" {
		resource += ":" + ref.Qualifier
	}
	rec := &statusRecorder{ResponseWriter: w}
	defer func() { h.record(u.Function, resource, rec.version, rec.status, h.now().Sub(start)) }()

	who, err := h.authorize(r.Context(), r, u, ref)
	if err != nil {
		var denied deniedError
		if errors.As(err, &denied) {
			writeMessage(rec, http.StatusForbidden, "AccessDeniedException", string(denied))
			return
		}
		h.Log.Error("function URL authorization", "url", id, "err", err)
		writeMessage(rec, http.StatusInternalServerError, "ServiceException", internalError)
		return
	}
	if cors := u.Config.Cors; cors != nil && r.Header.Get("Origin") != "" {
		if preflight(r) {
			writePreflight(rec, r, cors)
			return
		}
		corsHeaders(rec.Header(), r, cors)
	}
	body, err := readBody(r)
	if err != nil {
		writeMessage(rec, http.StatusRequestEntityTooLarge, "RequestEntityTooLargeException",
			"Request must be smaller than 6291456 bytes for the InvokeFunction operation")
		return
	}
	ev := newEvent(r, body, id, h.Domain, h.Account.ID, awshttp.RequestID(r.Context()), who, start)
	payload, err := marshal(ev)
	if err != nil {
		writeMessage(rec, http.StatusRequestEntityTooLarge, "RequestEntityTooLargeException",
			"Request must be smaller than 6291456 bytes for the InvokeFunction operation")
		return
	}
	req := invoke.Request{Ref: ref, Type: invoke.RequestResponse, Payload: payload, StickyKey: stickyKey(r, u.Sticky)}
	if u.Config.InvokeMode == "RESPONSE_STREAM" {
		sw := &streamWriter{w: rec}
		res, err := h.Functions.InvokeStream(r.Context(), req, sw)
		rec.version = res.ExecutedVersion
		if err != nil && !sw.started {
			h.invokeError(rec, err)
			return
		}
		sw.finish(res)
		return
	}
	res, err := h.Functions.Invoke(r.Context(), req)
	rec.version = res.ExecutedVersion
	if err != nil {
		h.invokeError(rec, err)
		return
	}
	rec.Header().Set(VersionHeader, res.ExecutedVersion)
	if res.FunctionError != "" {
		writeMessage(rec, http.StatusBadGateway, "", internalError)
		return
	}
	resp, ok := mapResponse(res.Payload)
	if !ok || len(resp.body) > MaxPayload {
		writeMessage(rec, http.StatusBadGateway, "", internalError)
		return
	}
	for k, vs := range resp.headers {
		rec.Header()[k] = vs
	}
	for _, c := range resp.cookies {
		rec.Header().Add("Set-Cookie", c)
	}
	rec.Header().Set("Content-Length", strconv.Itoa(len(resp.body)))
	rec.WriteHeader(resp.status)
	_, _ = rec.Write(resp.body)
}

// VersionHeader names, on every answer a function gave, the version that ran (a Sluice extension: behind an alias
// during a canary, which side served this request).
const VersionHeader = "X-Sluice-Executed-Version"

// stickyKey is the request's stickiness key under the function's sticky-canary setting ("cookie:<name>" or
// "header:<name>", from its invoke.StickyTag tag), "" when none applies: such a request is split like any
// invocation.
func stickyKey(r *http.Request, setting string) string {
	kind, name, ok := strings.Cut(setting, ":")
	if !ok || name == "" {
		return ""
	}
	switch strings.ToLower(kind) {
	case "cookie":
		if c, err := r.Cookie(name); err == nil {
			return c.Value
		}
	case "header":
		return r.Header.Get(name)
	}
	return ""
}

// deniedError is a refusal, with the message Lambda gives it.
type deniedError string

func (e deniedError) Error() string { return string(e) }

// authorize decides whether the request may invoke the URL, as Lambda does. NONE: the function's resource policy
// must allow the public both lambda:InvokeFunctionUrl (with lambda:FunctionUrlAuthType NONE) and
// lambda:InvokeFunction through the URL (lambda:InvokedViaFunctionUrl), as new URLs need since October 2025.
// AWS_IAM: the request must be signed, and the caller's identity policy or the function's resource policy must
// allow both actions.
func (h *Handler) authorize(ctx context.Context, r *http.Request, u invoke.FunctionURL, ref lambda.Ref) (*caller, error) {
	conditions := map[string]string{"lambda:FunctionUrlAuthType": u.Config.AuthType, "lambda:InvokedViaFunctionUrl": "true"}
	arn := h.Account.QualifiedARN(ref.Name, ref.Qualifier)
	if u.Config.AuthType != "AWS_IAM" {
		for _, action := range []string{invokeURLAction, "lambda:InvokeFunction"} {
			ok, err := h.policyAllows(ctx, ref, action, "", conditions)
			if err != nil || !ok {
				return nil, errors.Join(err, deniedOnce(err, forbiddenNone))
			}
		}
		return nil, nil
	}
	id, signed := gateway.IdentityFrom(ctx)
	if !signed || h.Authorizer == nil {
		return nil, deniedError(forbidden)
	}
	for _, action := range []string{invokeURLAction, "lambda:InvokeFunction"} {
		if err := h.Authorizer.AuthorizeWith(ctx, id.Principal, id.AccessKeyID, action, arn, conditions); err != nil {
			if _, refused := fault.As(err); refused {
				return nil, deniedError(forbidden)
			}
			return nil, err
		}
	}
	return &caller{accessKey: id.AccessKeyID, account: h.Account.ID, arn: id.Principal, userID: id.Principal}, nil
}

// deniedOnce is the refusal for a policy check that did not fail (a failure is reported as itself).
func deniedOnce(err error, message string) error {
	if err != nil {
		return nil
	}
	return deniedError(message)
}

func (h *Handler) policyAllows(ctx context.Context, ref lambda.Ref, action, principal string, conditions map[string]string) (bool, error) {
	if h.Policies == nil {
		return false, nil
	}
	return h.Policies.ResourcePolicyAllows(ctx, ref, action, principal, conditions)
}

// invokeError answers an invocation that did not produce a result, in Lambda's function-URL shapes.
func (h *Handler) invokeError(w http.ResponseWriter, err error) {
	f, ok := fault.As(err)
	switch {
	case !ok:
		h.Log.Error("function URL invocation", "err", err)
		writeMessage(w, http.StatusInternalServerError, "ServiceException", internalError)
	case f.Code == fault.TooManyRequests:
		writeMessage(w, http.StatusTooManyRequests, f.Code, "Rate Exceeded.")
	case f.Code == fault.ResourceNotFound:
		writeMessage(w, http.StatusForbidden, "AccessDeniedException", forbidden)
	default:
		writeMessage(w, http.StatusBadGateway, f.Code, internalError)
	}
}

// writeMessage writes Lambda's front-door error body ({"Message": …}) with its error type.
func writeMessage(w http.ResponseWriter, status int, errorType, message string) {
	if errorType != "" {
		w.Header().Set("x-amzn-ErrorType", errorType)
	}
	awshttp.WriteJSON(w, status, map[string]string{"Message": message})
}

// readBody reads the request body, up to MaxPayload.
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	b, err := readAtMost(r.Body, MaxPayload)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// statusRecorder remembers the status written and the version that ran, for the metrics.
type statusRecorder struct {
	http.ResponseWriter
	status  int
	version string
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

// Unwrap gives http.ResponseController the connection (flushing a streamed response).
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// record adds one request to the URL metrics Lambda publishes: UrlRequestCount, Url4xxCount, Url5xxCount and
// UrlRequestLatency, by FunctionName, by FunctionName and Resource, and for an alias by the version that ran.
func (h *Handler) record(function, resource, executed string, status int, latency time.Duration) {
	if h.Metrics == nil {
		return
	}
	fn := metrics.Dimension{Name: "FunctionName", Value: function}
	res := metrics.Dimension{Name: "Resource", Value: resource}
	sets := [][]metrics.Dimension{{fn}, {fn, res}}
	if executed != "" && resource != function {
		sets = append(sets, []metrics.Dimension{{Name: "ExecutedVersion", Value: executed}, fn, res})
	}
	at := h.now()
	put := func(name, unit string, v float64) {
		for _, dims := range sets {
			h.Metrics.Record(metrics.MetricID{Namespace: "AWS/Lambda", Name: name, Dimensions: dims},
				metrics.Sample{Value: v, Count: 1, Unit: unit, At: at})
		}
	}
	put("UrlRequestCount", "Count", 1)
	put("Url4xxCount", "Count", b2f(status >= 400 && status < 500))
	put("Url5xxCount", "Count", b2f(status >= 500))
	put("UrlRequestLatency", "Milliseconds", float64(latency.Microseconds())/1000)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
