// Package stackapi is Sluice's own `sluice` service: the cluster's status (`sluice cluster status`) and the web
// console's sign-in links (`sluice ui`). It is an AWS JSON 1.1 edge (POST /, X-Amz-Target
// SluiceStacks_20261126.<Operation>, content type application/x-amz-json-1.1) under the SigV4 signing name "sluice".
//
// Operations (envelope members are UpperCamelCase):
//
//	DescribeCluster  {} → {"Cluster": cluster.Status}
//	CreateSignInLink {} → {"SignInPath": "/_sluice/ui/sign-in?token=…", "Expiration": epoch seconds}
//
// CreateSignInLink gives the caller a single-use link, valid for a minute, that signs a browser in to the web
// console as the caller's own IAM identity (package console): the link is the only way in, and it is obtained with
// a SigV4-signed call like every other.
//
// The service once also kept the stack records `sluice deploy` wrote (GetStack, PutStack, DeleteStack,
// ListStacks); `sluice deploy` is now a client of the CloudFormation API, whose engine alone writes stack records,
// so they are gone (UnknownOperationException) rather than left as a second way in. The package keeps its name and
// target prefix so that `sluice cluster status` of earlier releases still works.
//
// Errors are {"__type": <code>, "message": <text>} with HTTP 400 (CodeDeploy's convention), InternalFailure with
// 500: ValidationException, AccessDeniedException, SerializationException, UnknownOperationException.
//
// Every call is authorized as action "sluice:<Operation>" on "*".
package stackapi

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/sluice-dev/sluice/internal/api/awshttp"
	"github.com/sluice-dev/sluice/internal/api/edge"
	"github.com/sluice-dev/sluice/internal/api/gateway"
	"github.com/sluice-dev/sluice/internal/api/ui"
	"github.com/sluice-dev/sluice/internal/api/wire"
	"github.com/sluice-dev/sluice/internal/cluster"
	"github.com/sluice-dev/sluice/internal/console"
	"github.com/sluice-dev/sluice/internal/fault"
)

// TargetPrefix starts every X-Amz-Target header of the service.
const TargetPrefix = "SluiceStacks_20261126."

// ContentType is the JSON 1.1 protocol's media type, for requests and responses alike.
const ContentType = "application/x-amz-json-1.1"

// MaxBodyBytes bounds a request body (DescribeCluster takes none).
const MaxBodyBytes = 64 << 10

// Exception names the service answers with.
const (
	CodeValidation       = "ValidationException"
	CodeAccessDenied     = "AccessDeniedException"
	CodeSerialization    = awshttp.CodeSerialization
	CodeUnknownOperation = "UnknownOperationException"
	CodeInternalFailure  = "InternalFailure"
)

// Handler serves the `sluice` service.
type Handler struct {
	*edge.Handler // serves the operations New declares
	describe      func(context.Context) (cluster.Status, error)
	log           *slog.Logger
	links         SignInLinks // nil: CreateSignInLink is refused
}

// SignInLinks makes the console's sign-in links (console.Service).
type SignInLinks interface {
	CreateLink(ctx context.Context, id console.Identity) (console.Link, error)
}

// WithSignInLinks serves CreateSignInLink from links.
func (h *Handler) WithSignInLinks(links SignInLinks) *Handler {
	h.links = links
	return h
}

var _ gateway.AuthErrorWriter = (*Handler)(nil)

// New returns the service's handler; describe answers DescribeCluster.
func New(log *slog.Logger, describe func(context.Context) (cluster.Status, error)) *Handler {
	h := &Handler{describe: describe, log: log.With("component", "stackapi")}
	proto := edge.JSON11{TargetPrefix: TargetPrefix, InternalCode: CodeInternalFailure}
	h.Handler = edge.New(edge.Service{
		IAMPrefix:    "sluice",
		Protocol:     func(*http.Request) wire.Protocol { return proto },
		Admit:        admit,
		Resource:     h.resource,
		AccessDenied: CodeAccessDenied,
		// Every exception is a 400 (CodeDeploy's convention), InternalFailure a 500.
		Error:        edge.ByStatus(map[string]int{CodeInternalFailure: http.StatusInternalServerError}),
		InternalCode: CodeInternalFailure,
		Log:          h.log,
	},
		edge.Op("DescribeCluster", h.describeCluster),
		edge.Op("CreateSignInLink", h.createSignInLink),
	)
	return h
}

// admit refuses a body larger than MaxBodyBytes, naming the operation.
func admit(req edge.Request) error {
	if len(req.Body) > MaxBodyBytes {
		return fault.New(CodeValidation, "Request must be smaller than %d bytes for the %s operation", MaxBodyBytes, req.Op)
	}
	return nil
}

// resource is the ARN an operation acts on: the service names no resource of its own.
func (h *Handler) resource(edge.Request) string { return "*" }

func (h *Handler) describeCluster(ctx context.Context, _ *struct{}) (any, error) {
	st, err := h.describe(ctx)
	if err != nil {
		return nil, err
	}
	return struct{ Cluster cluster.Status }{st}, nil
}

type createSignInLinkOutput struct {
	SignInPath string
	Expiration float64
}

// createSignInLink makes a console sign-in link for the request's verified caller.
func (h *Handler) createSignInLink(ctx context.Context, _ *struct{}) (any, error) {
	caller, ok := gateway.IdentityFrom(ctx)
	if !ok || h.links == nil {
		return nil, fault.New(CodeValidation, "This server does not serve the web console.")
	}
	link, err := h.links.CreateLink(ctx, console.Identity{Principal: caller.Principal, AccessKeyID: caller.AccessKeyID})
	if err != nil {
		return nil, err
	}
	return createSignInLinkOutput{SignInPath: ui.SignInPath + "?token=" + link.Token, Expiration: float64(link.Expires.UnixMilli()) / 1000}, nil
}
