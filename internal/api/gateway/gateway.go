// Package gateway is Sluice's front door: every API request passes here to get a request ID, have its body read
// within limits, its SigV4 signature verified, and be handed to the protocol edge of the service it was signed
// for (lambda today; codedeploy, sts, monitoring later). Paths under /_sluice/ are Sluice's own, unsigned endpoints.
package gateway

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/internal/api/awshttp"
	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/sigv4"
)

// AuthErrorWriter is implemented by service handlers whose protocol shapes errors differently from REST-JSON
// (CloudWatch's CBOR and query protocols, STS's XML): the gateway lets them write authentication failures.
type AuthErrorWriter interface {
	WriteAuthError(w http.ResponseWriter, r *http.Request, code string, status int, message string)
}

// MaxRequestBytes is the largest request AWS accepts (a CreateFunction carrying a 50 MB package in base64).
const MaxRequestBytes = 70167211

// Gateway routes authenticated requests to per-service handlers.
type Gateway struct {
	Verifier *sigv4.Verifier
	// Services maps a SigV4 service name (e.g. "lambda") to its protocol handler.
	Services map[string]http.Handler
	// Internal serves /_sluice/ paths without authentication.
	Internal http.Handler
	// Region is the only region signatures may be scoped to.
	Region string
	// Metrics serves GET /metrics unsigned, as Prometheus scrapers expect (nil: not served).
	Metrics http.Handler
	// Authorizer decides what each verified caller may do (nil: everything).
	Authorizer Authorizer
	// Anonymous, if set, names the handler for an unsigned request that may go without a signature (STS's
	// AssumeRoleWithWebIdentity), or nil.
	Anonymous func(r *http.Request, body []byte) http.Handler
	// GlobalServices are signing names of global services (iam, sts) whose clients may scope signatures to
	// us-east-1 whatever the endpoint's region.
	GlobalServices map[string]bool
	Log            *slog.Logger
}

// Authorizer decides whether a caller may perform an action (e.g. "lambda:InvokeFunction") on a resource (an
// ARN or "*"). A refusal is a fault the service edge puts on the wire in its own protocol.
type Authorizer interface {
	Authorize(ctx context.Context, principal, accessKeyID, action, resource string) error
	// Unrestricted reports whether principal may do anything (the account root), so that edges can skip working
	// out which resource a request names.
	Unrestricted(principal string) bool
}

type authorizerKey struct{}

// Authorize checks that the caller of the request ctx belongs to may perform action on resource. Requests that
// did not pass the gateway (edge unit tests) are not checked.
func Authorize(ctx context.Context, action, resource string) error {
	return AuthorizeFor(ctx, action, func() string { return resource })
}

// AuthorizeFor is Authorize for edges that must look something up to name the resource: resource is only
// called for callers whose permissions are limited.
func AuthorizeFor(ctx context.Context, action string, resource func() string) error {
	a, ok := ctx.Value(authorizerKey{}).(Authorizer)
	if !ok || a == nil {
		return nil
	}
	id, ok := IdentityFrom(ctx)
	if !ok {
		return fault.New("AccessDenied", "Anonymous callers may not perform %s", action)
	}
	if a.Unrestricted(id.Principal) {
		return nil
	}
	return a.Authorize(ctx, id.Principal, id.AccessKeyID, action, resource())
}

// AccessDeniedAs spells an authorization refusal (Authorize's "AccessDenied") with a service's own error code, e.g.
// Lambda's and CodeDeploy's AccessDeniedException; other errors pass through.
func AccessDeniedAs(err error, code string) error {
	if f, ok := fault.As(err); ok && f.Code == "AccessDenied" {
		return fault.New(code, "%s", f.Message)
	}
	return err
}

type identityKey struct{}

// IdentityFrom returns the verified caller of a request.
func IdentityFrom(ctx context.Context) (sigv4.Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(sigv4.Identity)
	return id, ok
}

func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_sluice/") {
		g.Internal.ServeHTTP(w, r)
		return
	}
	if r.URL.Path == "/metrics" && r.Method == http.MethodGet && g.Metrics != nil {
		g.Metrics.ServeHTTP(w, r)
		return
	}
	start := time.Now()
	r = awshttp.WithRequestID(w, r)
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	g.serve(sw, r)
	g.Log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", sw.status,
		"duration_ms", float64(time.Since(start).Microseconds())/1000, "request_id", awshttp.RequestID(r.Context()))
}

func (g *Gateway) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxRequestBytes+1))
	if err != nil {
		awshttp.WriteRESTError(w, r, g.Log, fault.New(fault.InvalidRequestContent, "Could not read request body: %s", err))
		return
	}
	if len(body) > MaxRequestBytes {
		awshttp.WriteRESTError(w, r, g.Log, fault.New(fault.RequestTooLarge,
			"Request must be smaller than %d bytes for the %s operation", MaxRequestBytes, operationName(r)))
		return
	}
	if g.Anonymous != nil && !sigv4.Signed(r) {
		if h := g.Anonymous(r, body); h != nil {
			r.Body = io.NopCloser(bytes.NewReader(body))
			h.ServeHTTP(w, r)
			return
		}
	}
	id, err := g.Verifier.Verify(r.Context(), r, body)
	if err != nil {
		var se *sigv4.Error
		if !errors.As(err, &se) {
			se = &sigv4.Error{Code: fault.Service, Status: 500, Message: "internal error"}
		}
		if se.Status >= 500 {
			g.Log.Error("credential lookup failed", "err", err, "request_id", awshttp.RequestID(r.Context()))
		}
		g.authError(w, r, sigv4.ClaimedService(r), se.Code, se.Status, se.Message)
		return
	}
	if id.Region != g.Region && !(g.GlobalServices[id.Service] && id.Region == "us-east-1") {
		g.authError(w, r, id.Service, sigv4.CodeInvalidSignature, http.StatusForbidden,
			"Credential should be scoped to a valid region, not '"+id.Region+"'. This endpoint serves '"+g.Region+"'.")
		return
	}
	h, ok := g.Services[id.Service]
	if !ok {
		awshttp.WriteRESTError(w, r, g.Log, fault.New("UnknownOperationException", "Sluice does not serve the %q service", id.Service))
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	ctx := context.WithValue(r.Context(), identityKey{}, id)
	if g.Authorizer != nil {
		ctx = context.WithValue(ctx, authorizerKey{}, g.Authorizer)
	}
	h.ServeHTTP(w, r.WithContext(ctx))
}

// authError answers an authentication failure in the protocol of the service the request claimed.
func (g *Gateway) authError(w http.ResponseWriter, r *http.Request, service, code string, status int, message string) {
	if h, ok := g.Services[service].(AuthErrorWriter); ok {
		h.WriteAuthError(w, r, code, status, message)
		return
	}
	w.Header().Set("x-amzn-ErrorType", code)
	awshttp.WriteJSON(w, status, map[string]string{"message": message})
}

// operationName names the operation in the request-too-large message for the two operations that carry packages.
func operationName(r *http.Request) string {
	switch {
	case r.Method == http.MethodPost && strings.TrimSuffix(r.URL.Path, "/") == "/2015-03-31/functions":
		return "CreateFunction"
	case r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/code"):
		return "UpdateFunctionCode"
	}
	return "requested"
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}
