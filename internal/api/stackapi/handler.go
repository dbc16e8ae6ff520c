// Package stackapi is Sluice's own service: the stack records `sluice deploy` remembers between deploys, the
// cluster's status (`sluice cluster status`) and the web console's sign-in links (`sluice ui`). It is an AWS JSON 1.1 edge (POST /, X-Amz-Target SluiceStacks_20261126.<Operation>, content type
// application/x-amz-json-1.1) under the SigV4 signing name "sluice", over a stack.Store.
//
// Operations (envelope members are UpperCamelCase; the record inside is stack.Stack's own JSON):
//
//	GetStack    {"StackName"}             → {"Stack": record}
//	PutStack    {"Stack": record}         → {"Stack": stored record}  (revision checked, then incremented)
//	DeleteStack {"StackName", "Revision"} → {}
//	ListStacks  {}                        → {"Stacks": [summary, ...]} (by name)
//	DescribeCluster {}                    → {"Cluster": cluster.Status}
//	CreateSignInLink {}                   → {"SignInPath": "/_sluice/ui/sign-in?token=…", "Expiration": epoch seconds}
//
// CreateSignInLink gives the caller a single-use link, valid for a minute, that signs a browser in to the web
// console as the caller's own IAM identity (package console): the link is the only way in, and it is obtained with
// a SigV4-signed call like every other.
//
// Errors are {"__type": <code>, "message": <text>} with HTTP 400 (CodeDeploy's convention), InternalFailure with
// 500: StackNotFoundException, RevisionConflictException, ValidationException, AccessDeniedException,
// SerializationException, UnknownOperationException.
//
// Every call is authorized as action "sluice:<Operation>" on "arn:aws:sluice:<region>:<account>:stack/<name>"
// ("*" for ListStacks, DescribeCluster and CreateSignInLink).
package stackapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"regexp"

	"github.com/sluice-dev/sluice/internal/api/awshttp"
	"github.com/sluice-dev/sluice/internal/api/edge"
	"github.com/sluice-dev/sluice/internal/api/gateway"
	"github.com/sluice-dev/sluice/internal/api/ui"
	"github.com/sluice-dev/sluice/internal/api/wire"
	"github.com/sluice-dev/sluice/internal/cluster"
	"github.com/sluice-dev/sluice/internal/console"
	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/lambda"
	"github.com/sluice-dev/sluice/internal/stack"
)

// TargetPrefix starts every X-Amz-Target header of the service.
const TargetPrefix = "SluiceStacks_20261126."

// ContentType is the JSON 1.1 protocol's media type, for requests and responses alike.
const ContentType = "application/x-amz-json-1.1"

// MaxBodyBytes bounds a request body (a stack record with every resource's properties).
const MaxBodyBytes = 16 << 20

// Exception names the service answers with.
const (
	CodeStackNotFound    = "StackNotFoundException"
	CodeRevisionConflict = "RevisionConflictException"
	CodeValidation       = "ValidationException"
	CodeAccessDenied     = "AccessDeniedException"
	CodeSerialization    = awshttp.CodeSerialization
	CodeUnknownOperation = "UnknownOperationException"
	CodeInternalFailure  = "InternalFailure"
)

// CloudFormation's stack name rule.
const (
	maxStackNameLength   = 128
	stackNamePatternText = "[a-zA-Z][-a-zA-Z0-9]*"
)

var stackNamePattern = regexp.MustCompile("^" + stackNamePatternText + "$")

// Handler serves the stack API.
type Handler struct {
	*edge.Handler // serves the operations New declares
	s             stack.Store
	describe      func(context.Context) (cluster.Status, error)
	acct          lambda.Account
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

// New returns the stack API handler over s; acct names the region and account in the ARNs it authorizes;
// describe answers DescribeCluster.
func New(s stack.Store, acct lambda.Account, log *slog.Logger, describe func(context.Context) (cluster.Status, error)) *Handler {
	h := &Handler{s: s, describe: describe, acct: acct, log: log.With("component", "stackapi")}
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
		edge.Op("GetStack", h.getStack),
		edge.Op("PutStack", h.putStack),
		edge.Op("DeleteStack", h.deleteStack),
		edge.Op("ListStacks", h.listStacks),
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

// resource is the ARN an operation acts on: the stack it names, or "*" for ListStacks. A body that does not
// decode names no stack (the operation then fails with SerializationException, if the caller may call it at all).
func (h *Handler) resource(req edge.Request) string {
	if req.Op == "ListStacks" || req.Op == "DescribeCluster" || req.Op == "CreateSignInLink" {
		return "*"
	}
	var in struct {
		StackName string
		Stack     *struct {
			Name string `json:"name"`
		}
	}
	_ = json.Unmarshal(req.Body, &in)
	if in.Stack != nil {
		in.StackName = in.Stack.Name
	}
	return "arn:aws:sluice:" + h.acct.Region + ":" + h.acct.ID + ":stack/" + in.StackName
}

type getStackInput struct {
	StackName string
}

type stackOutput struct {
	Stack stack.Stack
}

func (h *Handler) getStack(ctx context.Context, in *getStackInput) (any, error) {
	if err := validateName("StackName", in.StackName); err != nil {
		return nil, err
	}
	s, err := h.s.Get(ctx, in.StackName)
	if err != nil {
		return nil, storeFault(in.StackName, err)
	}
	return stackOutput{Stack: s}, nil
}

type putStackInput struct {
	Stack *stack.Stack
}

func (h *Handler) putStack(ctx context.Context, in *putStackInput) (any, error) {
	if in.Stack == nil {
		return nil, validationError("null", "Stack", "Member must not be null")
	}
	if err := validateName("Stack.name", in.Stack.Name); err != nil {
		return nil, err
	}
	if in.Stack.Revision < 0 {
		return nil, validationError(in.Stack.Revision, "Stack.revision", "Member must have value greater than or equal to 0")
	}
	// What the CloudFormation API keeps in a record — the operation it owes (whose principal its engine acts as)
	// and the stack's settings (its RoleARN) — is the API's: a record put here keeps the stored ones, whatever it
	// says, so that sluice:PutStack cannot make the engine act as someone else. The revision check makes the read
	// and the write one: a record changed meanwhile is a conflict.
	put := *in.Stack
	put.Operation, put.API = nil, nil
	if put.Revision > 0 {
		cur, err := h.s.Get(ctx, put.Name)
		if err != nil && !errors.Is(err, stack.ErrNotFound) {
			return nil, storeFault(put.Name, err)
		}
		if err == nil && cur.Revision == put.Revision {
			put.Operation, put.API = cur.Operation, cur.API
		}
	}
	s, err := h.s.Put(ctx, put)
	if err != nil {
		return nil, storeFault(in.Stack.Name, err)
	}
	return stackOutput{Stack: s}, nil
}

type deleteStackInput struct {
	StackName string
	Revision  int64
}

func (h *Handler) deleteStack(ctx context.Context, in *deleteStackInput) (any, error) {
	if err := validateName("StackName", in.StackName); err != nil {
		return nil, err
	}
	if err := h.s.Delete(ctx, in.StackName, in.Revision); err != nil {
		return nil, storeFault(in.StackName, err)
	}
	return struct{}{}, nil
}

type listStacksOutput struct {
	Stacks []stack.Summary
}

func (h *Handler) listStacks(ctx context.Context, _ *struct{}) (any, error) {
	l, err := h.s.List(ctx)
	if err != nil {
		return nil, err
	}
	if l == nil {
		l = []stack.Summary{}
	}
	return listStacksOutput{Stacks: l}, nil
}

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

// validateName applies CloudFormation's stack name rule, with its validation message.
func validateName(member, name string) error {
	switch {
	case name == "":
		return validationError("null", member, "Member must not be null")
	case len(name) > maxStackNameLength:
		return validationError("'"+name+"'", member, "Member must have length less than or equal to 128")
	case !stackNamePattern.MatchString(name):
		return validationError("'"+name+"'", member, "Member must satisfy regular expression pattern: "+stackNamePatternText)
	}
	return nil
}

func validationError(value any, member, constraint string) error {
	return fault.New(CodeValidation, "1 validation error detected: Value %v at '%s' failed to satisfy constraint: %s", value, member, constraint)
}

// storeFault puts a store error in the service's vocabulary; other errors stay internal.
func storeFault(name string, err error) error {
	var se *stack.Error
	switch {
	case errors.Is(err, stack.ErrNotFound):
		msg := "Stack with id " + name + " does not exist"
		if errors.As(err, &se) {
			msg = se.Message
		}
		return fault.New(CodeStackNotFound, "%s", msg)
	case errors.Is(err, stack.ErrConflict):
		msg := "Stack " + name + " was changed by another deploy"
		if errors.As(err, &se) {
			msg = se.Message
		}
		return fault.New(CodeRevisionConflict, "%s", msg)
	}
	return err
}
