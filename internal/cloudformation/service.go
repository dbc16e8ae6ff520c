package cloudformation

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/internal/cfn"
	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/reconcile"
	"github.com/sluice-dev/sluice/internal/sigv4"
	"github.com/sluice-dev/sluice/internal/stack"
	"github.com/sluice-dev/sluice/internal/store"
)

// Error codes the service answers with, as CloudFormation's model names them.
const (
	CodeValidation             = "ValidationError"
	CodeAlreadyExists          = "AlreadyExistsException"
	CodeInsufficientCapability = "InsufficientCapabilitiesException"
	CodeChangeSetNotFound      = "ChangeSetNotFound"
	CodeInvalidChangeSetStatus = "InvalidChangeSetStatus"
	CodeTokenAlreadyExists     = "TokenAlreadyExistsException"
	CodeLimitExceeded          = "LimitExceededException"
	CodeAccessDenied           = "AccessDenied"
	servicePrincipal           = "cloudformation.amazonaws.com"
	maskedValue                = "****"
	owner                      = "cloudformation"
	defaultSessionTTL          = 12 * time.Hour
	sessionRenewBefore         = time.Hour
	maxTemplateBody            = 51200
	maxTemplateFetched         = 1 << 20
	roleSessionName            = "AWSCloudFormation"
	noChangesReason            = "The submitted information didn't contain changes. Submit different information to create a change set."
	noUpdatesMessage           = "No updates are to be performed."
	userInitiated              = "User Initiated"
	defaultOnFailure           = "ROLLBACK"
	requiresCapabilities       = "Requires capabilities : [%s]"
)

// Limits of what the service keeps.
const (
	// MaxEventsPerStack bounds the events kept for one stack: the oldest go first.
	MaxEventsPerStack = 1000
	// MaxDeletedStacks bounds the deleted stacks kept for listings (and their events): the oldest go first.
	MaxDeletedStacks = 1000
	// MaxChangeSetsPerStack bounds a stack's change sets, as CloudFormation's quota does.
	MaxChangeSetsPerStack = 1000
	// maxEventProperties bounds the ResourceProperties an event keeps (JSON), beyond which it keeps none.
	maxEventProperties = 4096
)

// Caller is who makes an API call, as the gateway verified it.
type Caller struct {
	Principal   string
	AccessKeyID string
}

// Engine deploys templates: internal/stackdeploy, which the server adapts (the service imports no client).
type Engine interface {
	// Inspect reads a template body as a deploy of it would, calling nothing: parameters resolved, transforms
	// expanded, what Sluice cannot deploy refused. Its errors are the template's problems, in CloudFormation's
	// words where CloudFormation has them.
	Inspect(ctx context.Context, body []byte, pseudo cfn.Pseudo, parameters map[string]string) (*Inspection, error)
	// Run carries out one operation on a stack the service holds (Run.Owner), recording every step in the stack's
	// record and reporting each resource's step to Run.Events. It returns once the operation has ended — or its
	// context has, in which case the record is left for a later Run to resume.
	Run(ctx context.Context, run Run) (RunResult, error)
}

// Inspection is a template as the engine read it.
type Inspection struct {
	// Template is the template as given; Processed is it after its transforms.
	Template, Processed *cfn.Template
}

// Run is one operation for the engine.
type Run struct {
	Kind            string // stack.OpCreate, OpUpdate (a deploy), stack.OpDelete, or RunPlan (a dry run)
	Stack           string
	Owner           string
	Body            []byte
	Parameters      map[string]string
	OnFailure       string // a creation's: ROLLBACK, DELETE, DO_NOTHING
	DisableRollback bool
	RetainResources []string
	// Resuming: the engine ran this operation before, and it stopped without an end.
	Resuming bool
	// Credentials are the session the engine signs its calls with.
	Credentials sigv4.Credential
	Events      func(Event)
}

// RunPlan is a dry run: the changes a deploy would make, for a change set.
const RunPlan = "plan"

// RunResult is what an operation came to.
type RunResult struct {
	Status stack.Status
	// Changes are a dry run's.
	Changes []PlannedChange
}

// Event is one step the engine reports (a resource's, or the stack's own when Type is stackType).
type Event struct {
	LogicalID, Type, PhysicalID, Status, Reason string
	Properties                                  map[string]any
}

// stackType is the resource type of a stack's own events.
const stackType = "AWS::CloudFormation::Stack"

// PlannedChange is what a dry run would do to one resource.
type PlannedChange struct {
	LogicalID, Type, PhysicalID string
	// Action is the engine's: create, update, replace, shift (an update by CodeDeploy), delete, retain, none.
	Action     string
	Properties []PlannedProperty
}

// PlannedProperty is how one property of a resource would change.
type PlannedProperty struct {
	Name        string
	Replaces    bool
	CausedBy    string
	ByAttribute bool
}

// Sessions mints and resolves the sessions the engine acts with (internal/iam satisfies it).
type Sessions interface {
	// ForwardSession mints a session acting as principal, with its permissions (and the session policy of
	// accessKeyID, if any).
	ForwardSession(ctx context.Context, principal, accessKeyID string, ttl time.Duration) (sigv4.Credential, error)
	// ServiceRoleSession mints a session of a role that trusts servicePrincipal; ok is false if it does not
	// exist or does not trust it.
	ServiceRoleSession(ctx context.Context, roleARN, servicePrincipal, sessionName string, ttl time.Duration) (sigv4.Credential, bool, error)
	// SessionCredential returns a live session's credential.
	SessionCredential(ctx context.Context, accessKeyID string) (sigv4.Credential, error)
	RevokeSession(ctx context.Context, accessKeyID string) error
	// Authorize decides whether principal may perform action on resource (iam:PassRole on a RoleARN).
	Authorize(ctx context.Context, principal, accessKeyID, action, resource string) error
}

// Objects reads a template an S3 TemplateURL names from Sluice's S3, as the caller (who must be allowed
// s3:GetObject on it): nil means no S3 is served, and such URLs are refused.
type Objects interface {
	GetObject(ctx context.Context, caller Caller, bucket, key, version string) ([]byte, error)
}

// Options configure a Service.
type Options struct {
	Store    store.Store
	Stacks   *stack.KV
	Engine   Engine
	Sessions Sessions
	Objects  Objects
	// S3Domain is the S3 host on Sluice's listener (s3.<region>.localhost): TemplateURLs on it are read from Objects.
	S3Domain string
	Region   string
	Account  string
	// Now is the clock (default time.Now); AfterFunc the timer (default time.AfterFunc).
	Now       func() time.Time
	AfterFunc reconcile.AfterFunc
	Logger    *slog.Logger
	// Workers is how many operations the controller runs at once (default 8).
	Workers int
}

// Service is the CloudFormation API's use cases and its controller.
type Service struct {
	o     Options
	log   *slog.Logger
	queue *reconcile.Queue[string]
}

// New returns the service.
func New(o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.AfterFunc == nil {
		o.AfterFunc = reconcile.RealAfterFunc
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Workers <= 0 {
		o.Workers = 8
	}
	return &Service{o: o, log: o.Logger.With("component", "cloudformation"), queue: reconcile.NewQueue[string]()}
}

func (s *Service) now() time.Time { return s.o.Now().UTC() }

// ---- errors ----

func validation(format string, args ...any) error { return fault.New(CodeValidation, format, args...) }

// stackNotFound is CloudFormation's answer for a stack that does not exist (by name or ID, as given).
func stackNotFound(nameOrID string) error {
	return validation("Stack with id %s does not exist", nameOrID)
}

func cannotUpdate(st stack.Stack) error {
	return validation("Stack:%s is in %s state and can not be updated.", st.StackID(), st.Status)
}

func insufficient(missing []string) error {
	return fault.New(CodeInsufficientCapability, requiresCapabilities, strings.Join(missing, ", "))
}

// ---- names and IDs ----

// stackUUID is the last part of a stack ID, which names the stack's own keys.
func stackUUID(id string) string { return id[strings.LastIndex(id, "/")+1:] }

// parseStackID splits a stack ID (arn:aws:cloudformation:<region>:<account>:stack/<name>/<uuid>) into the name
// and the UUID; ok is false for anything else (a name).
func parseStackID(s string) (name, uuid string, ok bool) {
	if !strings.HasPrefix(s, "arn:") {
		return "", "", false
	}
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[2] != "cloudformation" {
		return "", "", false
	}
	rest, ok := strings.CutPrefix(parts[5], "stack/")
	if !ok {
		return "", "", false
	}
	name, uuid, ok = strings.Cut(rest, "/")
	return name, uuid, ok && name != "" && uuid != ""
}

// parseChangeSetID splits a change set ID (arn:aws:cloudformation:<region>:<account>:changeSet/<name>/<uuid>).
func parseChangeSetID(s string) (name, uuid string, ok bool) {
	if !strings.HasPrefix(s, "arn:") {
		return "", "", false
	}
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[2] != "cloudformation" {
		return "", "", false
	}
	rest, ok := strings.CutPrefix(parts[5], "changeSet/")
	if !ok {
		return "", "", false
	}
	name, uuid, ok = strings.Cut(rest, "/")
	return name, uuid, ok && name != "" && uuid != ""
}

func (s *Service) changeSetID(name, uuid string) string {
	return "arn:aws:cloudformation:" + s.o.Region + ":" + s.o.Account + ":changeSet/" + name + "/" + uuid
}

// pseudo are the pseudo parameters of a stack.
func (s *Service) pseudo(name, id string) cfn.Pseudo {
	return cfn.Pseudo{Region: s.o.Region, AccountID: s.o.Account, StackName: name, StackID: id}
}
