package gateway

import (
	"net/http"

	"github.com/sluice-dev/sluice/internal/api/awshttp"
	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/sigv4"
)

// Error codes of the gateway's own refusals.
const (
	codeUnknownOperation = "UnknownOperationException"
	codeRequestTimeout   = "RequestTimeoutException"
	codeThrottling       = "ThrottlingException" // the JSON protocols' spelling (CodeDeploy, CloudWatch Logs, sluice)
)

// throttling spells "slow down" for the services that do not say ThrottlingException with a 400. Every AWS SDK
// retries all of these spellings with back-off.
var throttling = map[string]struct {
	code   string
	status int
}{
	"lambda":     {fault.TooManyRequests, http.StatusTooManyRequests},
	"monitoring": {"Throttling", http.StatusBadRequest},
	"iam":        {"Throttling", http.StatusBadRequest},
	"sts":        {"Throttling", http.StatusBadRequest},
	// CloudFormation speaks the query protocol too.
	"cloudformation": {"Throttling", http.StatusBadRequest},
}

// throttle answers a request whose body does not fit in the memory budget, in the protocol of its service.
func (g *Gateway) throttle(w http.ResponseWriter, r *http.Request, service string) {
	g.Log.Warn("request body memory budget exhausted", "method", r.Method, "path", r.URL.Path,
		"content_length", r.ContentLength, "in_use", g.inUse.Load(), "request_id", requestID(r))
	t, ok := throttling[service]
	if !ok {
		t.code, t.status = codeThrottling, http.StatusBadRequest
	}
	const message = "Rate exceeded"
	if t.code == fault.TooManyRequests {
		g.writeREST(w, r, &fault.Error{Code: fault.TooManyRequests, Message: message, Reason: "CallerRateLimitExceeded"})
		return
	}
	g.refuse(w, r, service, t.code, t.status, message)
}

// unknownPath answers a path no API serves (an unclean path, a CONNECT, an internal path nobody routes) as an
// unknown operation of the service the request claims, without reading its body.
func (g *Gateway) unknownPath(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength != 0 {
		w.Header().Set("Connection", "close")
	}
	service := sigv4.ClaimedService(r)
	message := "Unknown operation " + r.Method + " " + r.URL.Path
	if _, ok := g.Services[service].(AuthErrorWriter); ok {
		g.refuse(w, r, service, codeUnknownOperation, http.StatusNotFound, message)
		return
	}
	g.writeREST(w, r, fault.New(codeUnknownOperation, "%s", message)) // Lambda's own answer (404)
}

// refuse answers with an error in the protocol of service: its AuthErrorWriter, or else the REST-JSON shape
// (x-amzn-ErrorType and a JSON message) the gateway's authentication errors have always had.
func (g *Gateway) refuse(w http.ResponseWriter, r *http.Request, service, code string, status int, message string) {
	if h, ok := g.Services[service].(AuthErrorWriter); ok {
		h.WriteAuthError(w, r, code, status, message)
		return
	}
	w.Header().Set("x-amzn-ErrorType", code)
	awshttp.WriteJSON(w, status, map[string]string{"message": message})
}

// writeREST writes a fault the way Lambda's REST-JSON edge does.
func (g *Gateway) writeREST(w http.ResponseWriter, r *http.Request, f *fault.Error) {
	awshttp.WriteRESTError(w, r, g.Log, f)
}

func invalidContent(err error) *fault.Error {
	return fault.New(fault.InvalidRequestContent, "Could not read request body: %s", err)
}

func requestID(r *http.Request) string { return awshttp.RequestID(r.Context()) }

// guard wraps w for a request: it records the status for the request log and keeps every answer out of the 3xx
// range. No API path redirects, but net/http's ServeMux answers a path it would clean, or a subtree's path without
// its trailing slash, with a 307; such an answer becomes unknownPath's, and whatever the handler writes after it
// is dropped.
func (g *Gateway) guard(w http.ResponseWriter, r *http.Request) *answerWriter {
	return &answerWriter{ResponseWriter: w, status: http.StatusOK, replace: func(w http.ResponseWriter) { g.unknownPath(w, r) }}
}

type answerWriter struct {
	http.ResponseWriter
	status  int
	wrote   bool                      // the status line is decided
	dropped bool                      // a redirect was replaced: the handler's answer goes nowhere
	replace func(http.ResponseWriter) // nil: 3xx answers pass (a function URL's)
}

func (w *answerWriter) WriteHeader(code int) {
	switch {
	case w.dropped:
		return
	case !w.wrote && code >= 300 && code < 400 && w.replace != nil:
		w.dropped, w.wrote, w.status = true, true, http.StatusNotFound
		h := w.ResponseWriter.Header()
		h.Del("Location")
		h.Del("Content-Type")
		w.replace(w.ResponseWriter)
		return
	case !w.wrote && code >= 200:
		w.wrote, w.status = true, code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *answerWriter) Write(p []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	if w.dropped {
		return len(p), nil
	}
	return w.ResponseWriter.Write(p)
}

// Unwrap gives http.ResponseController the connection (read deadlines, flushing).
func (w *answerWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
