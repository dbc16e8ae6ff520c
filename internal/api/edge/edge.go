// Package edge is the one way an RPC-style AWS wire edge is written (CloudWatch, CodeDeploy, CloudWatch Logs, IAM,
// STS, Sluice's stack service: every service that names its operation in a header, a path or a form rather than
// with REST routes). An edge declares its Service — its protocols, how its faults look on the wire, how it names
// resources for IAM — and a table of Operations, each an operation name, its input shape (the handler's input
// type, decoded by the request's protocol), its authorization and its handler. Handler does the rest, the same
// way for every edge:
//
//  1. a request ID (the gateway's, or a fresh one for an edge served on its own in a unit test);
//  2. the protocol of the request (Service.Protocol), from its path and headers;
//  3. the body as the gateway read it (gateway.Body), never read twice; Service.Body may decompress and bound it;
//  4. the operation the protocol names, looked up in the table: an unknown one is the protocol's own error;
//  5. Service.Admit's checks, and the refusal of unsigned calls (Service.Unsigned) to operations that need a
//     signature;
//  6. authorization of the IAM action <Service.IAMPrefix>:<Operation> (gateway.AuthorizeFor), on the resource
//     Service.Resource names from the raw request — or, for an operation declared with ResourceOf, after its
//     input is decoded and checked, on the resource ResourceOf names from it (IAM validates before it
//     authorizes);
//  7. the input decoded into the handler's input type, the handler, and its output encoded by the protocol;
//  8. any error written in the request's protocol: a *wire.Error as it is, a *fault.Error through Service.Error,
//     anything else logged and answered as Service.InternalCode (500) without detail.
//
// The protocols are package wire's (Smithy RPC v2 CBOR, AWS JSON 1.0, AWS query) and JSON11 (AWS JSON 1.1 with
// encoding/json shapes). REST edges (lambdaapi) route with a ServeMux and share only the authorization helpers.
package edge

import (
	"context"
	"io"
	"log/slog"
	"net/http"

	"github.com/sluice-dev/sluice/internal/api/awshttp"
	"github.com/sluice-dev/sluice/internal/api/gateway"
	"github.com/sluice-dev/sluice/internal/api/wire"
	"github.com/sluice-dev/sluice/internal/fault"
)

// Service is what an edge declares about its service; the zero value of an optional field means "nothing to do".
type Service struct {
	// IAMPrefix is the service's prefix in IAM actions: an operation is authorized as <IAMPrefix>:<Operation>
	// (cloudwatch:PutMetricAlarm). "" means the edge authorizes nothing itself (STS, whose calls internal/iam
	// decides on from trust policies and sessions).
	IAMPrefix string
	// Protocol picks the protocol a request speaks from its path and headers (the body is not needed, so that
	// the gateway's refusals, WriteAuthError, are answered in the client's protocol too).
	Protocol func(r *http.Request) wire.Protocol
	// Body, if set, turns the body into what the protocol parses (decompressing it) and bounds it, before the
	// operation is looked up; its errors are the service's own.
	Body func(r *http.Request, body []byte) ([]byte, error)
	// Admit, if set, checks a request for a known operation before it is authorized (a body too large for the
	// operation).
	Admit func(req Request) error
	// Unsigned, if set, is the error for an unsigned call of an operation not declared AllowUnsigned. Unset, an
	// unsigned call is left to authorization, which lets everything through for an edge served without the
	// gateway (unit tests) and nothing through behind it.
	Unsigned error
	// Resource names, for IAM, the resource a request acts on, from the raw request ("*" when nil). It is only
	// worked out for callers whose permissions are limited. Operations declared with ResourceOf name theirs.
	Resource func(req Request) string
	// AccessDenied is the code an authorization refusal is answered with, where the service does not say
	// AccessDenied (the JSON services' AccessDeniedException).
	AccessDenied string
	// Error puts a fault on the wire: its code as clients report it, its shape, its HTTP status.
	Error func(f *fault.Error) *wire.Error
	// InternalCode is the fault an error that is not a fault is reported as, without detail (HTTP 500 through
	// Error).
	InternalCode string
	// AuthCodes respells the gateway's authentication error codes for this service's clients (the query
	// protocol's SignatureDoesNotMatch for InvalidSignatureException); codes not in it are sent as they are.
	AuthCodes map[string]string
	Log       *slog.Logger
}

// Request is a request as Handler has it when it asks the Service about it.
type Request struct {
	HTTP     *http.Request
	Protocol wire.Protocol
	// Op is the operation's name (as the table declares it).
	Op string
	// Body is the request body after Service.Body; it belongs to the request and must not be kept.
	Body []byte
}

// Operation is one row of an edge's operation table: build it with Op or OpNoOutput.
type Operation struct {
	name     string
	unsigned bool
	newInput func() any
	// resource, if set, checks the decoded input and names the resource it is authorized on.
	resource func(ctx context.Context, in any) (string, error)
	handle   func(ctx context.Context, in any) (any, error)
}

// Name is the operation's name on the wire.
func (o Operation) Name() string { return o.name }

// AllowUnsigned declares that the operation may be called without a signature (STS's
// AssumeRoleWithWebIdentity, which the gateway lets through unsigned).
func (o Operation) AllowUnsigned() Operation {
	o.unsigned = true
	return o
}

// Option adds to the declaration of an operation whose input is In.
type Option[In any] func(*Operation)

// ResourceOf declares an operation authorized after its input is decoded and checked: resource validates the
// input (it may fill in defaults) and names the resource, and its error is answered before authorization is
// asked, whoever the caller is — IAM's order.
func ResourceOf[In any](resource func(ctx context.Context, in *In) (string, error)) Option[In] {
	return func(o *Operation) {
		o.resource = func(ctx context.Context, in any) (string, error) { return resource(ctx, in.(*In)) }
	}
}

// Op declares an operation: its name, its handler, whose input type is the operation's input shape (decoded by
// the request's protocol) and whose result is its output.
func Op[In, Out any](name string, handle func(context.Context, *In) (Out, error), opts ...Option[In]) Operation {
	o := Operation{name: name, newInput: func() any { return new(In) }, handle: func(ctx context.Context, in any) (any, error) {
		out, err := handle(ctx, in.(*In))
		if err != nil {
			return nil, err
		}
		return out, nil
	}}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// OpNoOutput declares an operation whose response has no members.
func OpNoOutput[In any](name string, handle func(context.Context, *In) error, opts ...Option[In]) Operation {
	return Op(name, func(ctx context.Context, in *In) (any, error) { return nil, handle(ctx, in) }, opts...)
}

// Handler serves a Service's operations. It is the edge's http.Handler and its gateway.AuthErrorWriter.
type Handler struct {
	svc Service
	ops map[string]Operation
}

var _ gateway.AuthErrorWriter = (*Handler)(nil)

// New returns the handler of svc's operations. Declaring an operation twice is a programming error (a panic).
func New(svc Service, ops ...Operation) *Handler {
	h := &Handler{svc: svc, ops: make(map[string]Operation, len(ops))}
	for _, o := range ops {
		if _, dup := h.ops[o.name]; dup {
			panic("edge: operation " + o.name + " declared twice")
		}
		h.ops[o.name] = o
	}
	return h
}

// ServeHTTP serves one request (see the package doc for the steps).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if awshttp.RequestID(r.Context()) == "" {
		r = awshttp.WithRequestID(w, r)
	}
	req := Request{HTTP: r, Protocol: h.svc.Protocol(r)}
	fail := func(err error) { h.writeError(w, req, err) }
	body, err := h.body(r)
	if err != nil {
		fail(err)
		return
	}
	req.Body = body
	name, werr := req.Protocol.Operation(r, body)
	if werr != nil {
		fail(werr)
		return
	}
	op, ok := h.ops[name]
	if !ok {
		fail(req.Protocol.UnknownOperation(name))
		return
	}
	req.Op = name
	if h.svc.Admit != nil {
		if err := h.svc.Admit(req); err != nil {
			fail(err)
			return
		}
	}
	ctx := r.Context()
	if _, signed := gateway.IdentityFrom(ctx); !signed && !op.unsigned && h.svc.Unsigned != nil {
		fail(h.svc.Unsigned)
		return
	}
	if op.resource == nil {
		if err := h.authorize(ctx, name, func() string { return h.resource(req) }); err != nil {
			fail(err)
			return
		}
	}
	in := op.newInput()
	if werr := req.Protocol.Decode(r, body, in); werr != nil {
		fail(werr)
		return
	}
	if op.resource != nil {
		resource, err := op.resource(ctx, in)
		if err == nil {
			err = h.authorize(ctx, name, func() string { return resource })
		}
		if err != nil {
			fail(err)
			return
		}
	}
	out, err := op.handle(ctx, in)
	if err != nil {
		fail(err)
		return
	}
	if err := req.Protocol.Encode(w, name, out, awshttp.RequestID(ctx)); err != nil {
		h.svc.Log.Error("write response", "operation", name, "protocol", req.Protocol.Name(), "request_id", awshttp.RequestID(ctx), "err", err)
	}
}

// body is the request body: the one the gateway read, or (for an edge served on its own) read here.
func (h *Handler) body(r *http.Request) ([]byte, error) {
	body, ok := gateway.Body(r)
	if !ok {
		var err error
		if body, err = io.ReadAll(r.Body); err != nil {
			return nil, err // the gateway reads bodies whole before any edge runs: only a unit test gets here
		}
	}
	if h.svc.Body != nil {
		return h.svc.Body(r, body)
	}
	return body, nil
}

func (h *Handler) resource(req Request) string {
	if h.svc.Resource == nil {
		return "*"
	}
	return h.svc.Resource(req)
}

// authorize asks whether the caller may call op, spelling a refusal as the service does.
func (h *Handler) authorize(ctx context.Context, op string, resource func() string) error {
	if h.svc.IAMPrefix == "" {
		return nil
	}
	return Authorize(ctx, h.svc.IAMPrefix+":"+op, resource, h.svc.AccessDenied)
}

// Authorize asks whether the caller of ctx's request may perform action on the resource that resource names
// (worked out only for callers whose permissions are limited), and spells a refusal with deniedCode where the
// service does not say AccessDenied ("": as it is). Handler asks it for every operation; a REST edge
// (lambdaapi) asks it for every route.
func Authorize(ctx context.Context, action string, resource func() string, deniedCode string) error {
	err := gateway.AuthorizeFor(ctx, action, resource)
	if err != nil && deniedCode != "" {
		err = gateway.AccessDeniedAs(err, deniedCode)
	}
	return err
}

// writeError answers err in the request's protocol: a *wire.Error as it is, a fault through Service.Error,
// anything else as Service.InternalCode, logged and without detail to the client.
func (h *Handler) writeError(w http.ResponseWriter, req Request, err error) {
	reqID := awshttp.RequestID(req.HTTP.Context())
	we, ok := err.(*wire.Error)
	if !ok {
		f, isFault := fault.As(err)
		if !isFault {
			h.svc.Log.Error("internal error", "operation", req.Op, "protocol", req.Protocol.Name(), "request_id", reqID, "err", err)
			f = fault.New(h.svc.InternalCode, "An internal error occurred. Request ID: %s", reqID)
		}
		we = h.svc.Error(f)
	}
	h.svc.Log.Debug("error", "operation", req.Op, "protocol", req.Protocol.Name(), "code", we.Code, "status", we.Status, "request_id", reqID)
	req.Protocol.EncodeError(w, we, reqID)
}

// WriteAuthError answers a request the gateway could not authenticate, in the protocol the client speaks and
// with the service's spelling of the code (AuthCodes).
func (h *Handler) WriteAuthError(w http.ResponseWriter, r *http.Request, code string, status int, message string) {
	if c, ok := h.svc.AuthCodes[code]; ok {
		code = c
	}
	h.svc.Protocol(r).EncodeError(w, &wire.Error{Code: code, Status: status, Receiver: status >= 500, Message: message},
		awshttp.RequestID(r.Context()))
}

// ByStatus is Service.Error for services whose errors are only a code and a message: the status is the first
// of statuses that knows the code, else 400.
func ByStatus(statuses ...map[string]int) func(*fault.Error) *wire.Error {
	return func(f *fault.Error) *wire.Error {
		status := http.StatusBadRequest
		for _, m := range statuses {
			if s, ok := m[f.Code]; ok {
				status = s
				break
			}
		}
		return &wire.Error{Code: f.Code, Status: status, Receiver: status >= 500, Message: f.Message}
	}
}
