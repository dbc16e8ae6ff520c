// Package gateway is Sluice's front door: every API request passes here to get a request ID, have its SigV4
// signature checked as far as its headers allow, its body read within limits (a server-wide memory budget and a
// read deadline), the signature verified against the body, and be handed to the protocol edge of the service it
// was signed for. Paths under /_sluice/ are Sluice's own, unsigned endpoints; GET /metrics is Prometheus's. No path
// is ever answered with a redirect.
package gateway

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"sync/atomic"
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

// Defaults of the limits on request bodies.
const (
	// DefaultMaxBodyMemory is the memory budget for request bodies when Gateway.MaxBodyMemory is zero: seven
	// maximum-size requests at once.
	DefaultMaxBodyMemory = 512 << 20
	// DefaultReadTimeout is Gateway.ReadTimeout's default.
	DefaultReadTimeout = 30 * time.Second
	// DefaultMinReadRate is Gateway.MinReadRate's default, in bytes per second.
	DefaultMinReadRate = 64 << 10
)

// anonymousMaxBytes bounds how much of an unsigned request's body is read to find out whether it may go unsigned:
// an STS AssumeRoleWithWebIdentity form (a token of up to 20,000 characters, a role ARN, a session policy and up
// to ten policy ARNs of 2,048 characters each, URL-encoded) fits with room to spare.
const anonymousMaxBytes = 128 << 10

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
	// FunctionURLs serves requests whose host is a function URL's, whatever their path (nil: none).
	FunctionURLs FunctionURLs
	// S3 serves Amazon S3 (nil: none): requests for S3Domain ("s3.<region>.localhost": path-style) or a bucket
	// below it ("<bucket>.s3.<region>.localhost": virtual-hosted), and requests for the main endpoint signed for s3
	// (path-style) or unsigned with a path no other API serves.
	S3       S3
	S3Domain string
	// AWSHosts makes S3's own hosts in amazonaws.com ("s3.<region>.amazonaws.com", "<bucket>.s3.amazonaws.com"…)
	// S3's as well, so that a request an AWS client addressed to S3 itself, and sent through Sluice's proxy for AWS
	// endpoints, is routed as S3 would route it.
	AWSHosts bool
	// Authorizer decides what each verified caller may do (nil: everything).
	Authorizer Authorizer
	// Anonymous, if set, names the handler for an unsigned request that may go without a signature (STS's
	// AssumeRoleWithWebIdentity), or nil.
	Anonymous func(r *http.Request, body []byte) http.Handler
	// GlobalServices are signing names of global services (iam, sts) whose clients may scope signatures to
	// us-east-1 whatever the endpoint's region.
	GlobalServices map[string]bool
	Log            *slog.Logger

	// MaxBodyMemory bounds the bytes of request bodies the gateway holds in memory at once, across all requests
	// (0: DefaultMaxBodyMemory). A request whose body does not fit is answered at once, without being read, with
	// its service's throttling error, which SDKs retry; so a body larger than the whole budget is never accepted.
	MaxBodyMemory int64
	// ReadTimeout is how long an upload may stall, and how far it may fall behind MinReadRate, before its
	// connection is cut (0: DefaultReadTimeout).
	ReadTimeout time.Duration
	// MinReadRate is the slowest upload, in bytes per second, that is read to its end (0: DefaultMinReadRate).
	MinReadRate int64

	inUse atomic.Int64 // bytes of the budget held by bodies being read or served
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

type bodyKey struct{}

// BodyReader reads, from the start, the body of a request the gateway has read (within its memory budget) and
// verified, so that an edge takes it as it is instead of reading it a second time from r.Body (which replays it
// for handlers that want a reader). ok is false for a request that did not come through the gateway. The bytes
// are the gateway's and go back to its pool when the handler returns: a handler keeps none of them.
func BodyReader(r *http.Request) (io.Reader, bool) {
	b, ok := r.Context().Value(bodyKey{}).(*body)
	if !ok {
		return nil, false
	}
	return b.reader(), true
}

// Body returns the body the gateway read, in one slice (a large body is copied: BodyReader does not).
func Body(r *http.Request) ([]byte, bool) {
	b, ok := r.Context().Value(bodyKey{}).(*body)
	if !ok {
		return nil, false
	}
	return b.bytes(), true
}

// IdentityFrom returns the verified caller of a request.
func IdentityFrom(ctx context.Context) (sigv4.Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(sigv4.Identity)
	return id, ok
}

func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if g.FunctionURLs != nil && g.FunctionURLs.ID(r.Host) != "" {
		// A function's answer is the web's, redirects included: no guard.
		start := time.Now()
		r = awshttp.WithRequestID(w, r)
		sw := &answerWriter{ResponseWriter: w, status: http.StatusOK}
		g.serveFunctionURL(sw, r)
		g.Log.Debug("function URL request", "method", r.Method, "host", r.Host, "path", r.URL.Path, "status", sw.status,
			"duration_ms", float64(time.Since(start).Microseconds())/1000, "request_id", awshttp.RequestID(r.Context()))
		return
	}
	if bucket, ok := g.s3Host(r.Host); ok {
		g.serveS3(w, r, bucket, bucket != "")
		return
	}
	if g.isS3(r) { // before cleanPath: S3 keys may hold "//", "." and ".." segments
		g.serveS3(w, r, "", false)
		return
	}
	if !cleanPath(r) {
		g.logged(w, r, g.unknownPath)
		return
	}
	if strings.HasPrefix(r.URL.Path, "/_sluice/") {
		g.internal(g.guard(w, r), r)
		return
	}
	if r.URL.Path == "/metrics" && r.Method == http.MethodGet && g.Metrics != nil {
		g.Metrics.ServeHTTP(g.guard(w, r), r)
		return
	}
	g.logged(w, r, g.serve)
}

// logged serves an API request with a request ID and logs its outcome.
func (g *Gateway) logged(w http.ResponseWriter, r *http.Request, serve func(http.ResponseWriter, *http.Request)) {
	start := time.Now()
	r = awshttp.WithRequestID(w, r)
	aw := g.guard(w, r)
	serve(aw, r)
	g.Log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", aw.status,
		"duration_ms", float64(time.Since(start).Microseconds())/1000, "request_id", awshttp.RequestID(r.Context()))
}

// serve decides all it can from the headers before it reads the body: the size the request declares, whether it
// is signed (or may go unsigned), the signature's form, time, access key, session and scope, and the service. Only
// then does it take the body's size from the memory budget and read the body, under a read deadline, to verify
// the signature and hand the request to its service. A request refused before its body was read is answered with
// "Connection: close", so that its body is not read at all.
func (g *Gateway) serve(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength != 0 {
		w.Header().Set("Connection", "close") // removed once the body is read
	}
	if r.ContentLength > MaxRequestBytes {
		awshttp.WriteRESTError(w, r, g.Log, tooLarge(r))
		return
	}
	if g.Anonymous != nil && !sigv4.Signed(r) {
		g.serveUnsigned(w, r)
		return
	}
	p, err := g.Verifier.Prepare(r.Context(), r)
	if err != nil {
		g.authFailure(w, r, err)
		return
	}
	service, region := p.Service(), p.Region()
	if region != g.Region && !(g.GlobalServices[service] && region == "us-east-1") {
		g.refuse(w, r, service, sigv4.CodeInvalidSignature, http.StatusForbidden,
			"Credential should be scoped to a valid region, not '"+region+"'. This endpoint serves '"+g.Region+"'.")
		return
	}
	h, ok := g.Services[service]
	if !ok {
		awshttp.WriteRESTError(w, r, g.Log, fault.New("UnknownOperationException", "Sluice does not serve the %q service", service))
		return
	}
	b, err := g.readBody(w, r, MaxRequestBytes, p.NeedsBodyHash())
	if err != nil {
		g.bodyError(w, r, service, err)
		return
	}
	defer g.release(b)
	w.Header().Del("Connection")
	id, err := p.VerifyHash(b.sum)
	if err != nil {
		g.authFailure(w, r, err)
		return
	}
	r.Body = io.NopCloser(b.reader())
	ctx := context.WithValue(r.Context(), identityKey{}, id)
	ctx = context.WithValue(ctx, bodyKey{}, b)
	if g.Authorizer != nil {
		ctx = context.WithValue(ctx, authorizerKey{}, g.Authorizer)
	}
	h.ServeHTTP(w, r.WithContext(ctx))
}

// serveUnsigned serves an unsigned request that may go without a signature (g.Anonymous decides from the request
// and its body, of which at most anonymousMaxBytes are read); anything else is refused as unauthenticated, a larger
// body without being read any further.
func (g *Gateway) serveUnsigned(w http.ResponseWriter, r *http.Request) {
	b, err := g.readBody(w, r, anonymousMaxBytes, false)
	switch {
	case errors.Is(err, errTooLarge):
		g.missingAuthentication(w, r)
		return
	case err != nil:
		g.bodyError(w, r, sigv4.ClaimedService(r), err)
		return
	}
	defer g.release(b)
	w.Header().Del("Connection")
	if h := g.Anonymous(r, b.bytes()); h != nil {
		r.Body = io.NopCloser(b.reader())
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), bodyKey{}, b)))
		return
	}
	g.missingAuthentication(w, r)
}

// missingAuthentication answers an unsigned request with the verifier's own refusal.
func (g *Gateway) missingAuthentication(w http.ResponseWriter, r *http.Request) {
	_, err := g.Verifier.Prepare(r.Context(), r)
	if err == nil { // not for an unsigned request; it must be refused all the same
		err = &sigv4.Error{Code: sigv4.CodeMissingAuthenticationToken, Status: http.StatusForbidden, Message: "Missing Authentication Token"}
	}
	g.authFailure(w, r, err)
}

// authFailure answers a verification error in the protocol of the service the request claimed.
func (g *Gateway) authFailure(w http.ResponseWriter, r *http.Request, err error) {
	var se *sigv4.Error
	if !errors.As(err, &se) {
		se = &sigv4.Error{Code: fault.Service, Status: 500, Message: "internal error"}
	}
	if se.Status >= 500 {
		g.Log.Error("credential lookup failed", "err", err, "request_id", awshttp.RequestID(r.Context()))
	}
	g.refuse(w, r, sigv4.ClaimedService(r), se.Code, se.Status, se.Message)
}

// internal serves Sluice's own unsigned endpoints; a path the internal mux does not route is an unknown operation.
func (g *Gateway) internal(w http.ResponseWriter, r *http.Request) {
	if g.Internal == nil {
		g.unknownPath(w, r)
		return
	}
	if m, ok := g.Internal.(interface {
		Handler(*http.Request) (http.Handler, string)
	}); ok {
		if _, pattern := m.Handler(r); pattern == "" {
			g.unknownPath(w, r)
			return
		}
	}
	g.Internal.ServeHTTP(w, r)
}

// cleanPath reports whether a request's path is one that no router rewrites: it starts with "/" and has no empty,
// "." or ".." segment, neither as sent nor once decoded, except that it may end in one "/" (Lambda's model spells
// ListFunctions "/2015-03-31/functions/"). net/http's ServeMux answers any other path with a redirect to its
// cleaned form, and API paths never redirect. A CONNECT names no path.
func cleanPath(r *http.Request) bool {
	return r.Method != http.MethodConnect && isClean(r.URL.EscapedPath()) && isClean(r.URL.Path)
}

func isClean(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	c := path.Clean(p)
	if p[len(p)-1] == '/' && c != "/" {
		c += "/"
	}
	return c == p
}

// tooLarge refuses a body larger than MaxRequestBytes.
func tooLarge(r *http.Request) *fault.Error {
	return fault.New(fault.RequestTooLarge, "Request must be smaller than %d bytes for the %s operation", MaxRequestBytes, operationName(r))
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
