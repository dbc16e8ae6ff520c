// Package stack owns the stack records, one per stack name, that `sluice deploy` and the CloudFormation API
// (internal/cloudformation) share: the resources a template created (logical id → type, physical id, the
// properties they were last given, their attributes, their status), the parameters and outputs, the outcome of
// the last operation and, for the CloudFormation API, the stack's ID, settings and the operation it still owes.
// Records are kept by the server (so that CI jobs on fresh machines see them) with a revision for optimistic
// concurrency: a deploy that read revision N may only write N+1, so two deploys of one stack cannot interleave.
package stack

import (
	"context"
	"errors"
	"time"
)

// Status of a stack's last deploy.
type Status string

// Stack statuses, named as CloudFormation names them. An update goes UPDATE_IN_PROGRESS, then — once every
// resource is updated and every traffic shift has ended — UPDATE_COMPLETE_CLEANUP_IN_PROGRESS while the resources
// it superseded are deleted, then UPDATE_COMPLETE. An update that fails (a traffic shift rolled back, or any
// resource) goes UPDATE_ROLLBACK_IN_PROGRESS while what it changed is put back, then
// UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS while what it created is deleted, then UPDATE_ROLLBACK_COMPLETE — or
// UPDATE_ROLLBACK_FAILED when something could not be put back.
const (
	StatusCreateInProgress                        Status = "CREATE_IN_PROGRESS"
	StatusCreateComplete                          Status = "CREATE_COMPLETE"
	StatusCreateFailed                            Status = "CREATE_FAILED" // kept as far as it got (nothing rolled back)
	StatusUpdateInProgress                        Status = "UPDATE_IN_PROGRESS"
	StatusUpdateCompleteCleanupInProgress         Status = "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"
	StatusUpdateComplete                          Status = "UPDATE_COMPLETE"
	StatusUpdateFailed                            Status = "UPDATE_FAILED" // stopped half-way (interrupted), nothing rolled back
	StatusUpdateRollbackInProgress                Status = "UPDATE_ROLLBACK_IN_PROGRESS"
	StatusUpdateRollbackCompleteCleanupInProgress Status = "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS"
	StatusUpdateRollbackComplete                  Status = "UPDATE_ROLLBACK_COMPLETE"
	StatusUpdateRollbackFailed                    Status = "UPDATE_ROLLBACK_FAILED"
	StatusDeleteInProgress                        Status = "DELETE_IN_PROGRESS"
	StatusDeleteFailed                            Status = "DELETE_FAILED"
	StatusDeleteComplete                          Status = "DELETE_COMPLETE" // reported by a delete; the record is then gone
	// A creation that failed is rolled back when the caller asked for it (the CloudFormation API's default):
	// ROLLBACK_IN_PROGRESS while what it made is deleted, then ROLLBACK_COMPLETE (or ROLLBACK_FAILED).
	StatusRollbackInProgress Status = "ROLLBACK_IN_PROGRESS"
	StatusRollbackComplete   Status = "ROLLBACK_COMPLETE"
	StatusRollbackFailed     Status = "ROLLBACK_FAILED"
	// StatusReviewInProgress is a stack a CREATE change set brought into being: nothing made yet.
	StatusReviewInProgress Status = "REVIEW_IN_PROGRESS"
)

// InProgress reports whether a deploy holds the stack.
func (s Status) InProgress() bool {
	switch s {
	case StatusCreateInProgress, StatusUpdateInProgress, StatusUpdateCompleteCleanupInProgress, StatusUpdateRollbackInProgress,
		StatusUpdateRollbackCompleteCleanupInProgress, StatusDeleteInProgress, StatusRollbackInProgress:
		return true
	}
	return false
}

// Failed reports whether the last operation on the stack failed — rolled back or not — so that `sluice deploy`
// exits non-zero.
func (s Status) Failed() bool {
	switch s {
	case StatusCreateFailed, StatusUpdateFailed, StatusUpdateRollbackComplete, StatusUpdateRollbackFailed, StatusDeleteFailed,
		StatusRollbackComplete, StatusRollbackFailed:
		return true
	}
	return false
}

// Stack is one stack's record.
type Stack struct {
	Name     string `json:"name"`
	Revision int64  `json:"revision"`
	Status   Status `json:"status"`
	// Reason explains a failed or rolled-back deploy.
	Reason string `json:"reason,omitempty"`
	// Owner identifies the deploy holding an in-progress stack (host, pid, start), for the "being deployed" error.
	Owner      string            `json:"owner,omitempty"`
	Parameters map[string]string `json:"parameters,omitempty"`
	// ResolvedParameters are the values the template's AWS::SSM::Parameter::Value<…> parameters resolved to at the
	// last deploy (CloudFormation's ResolvedValue), by parameter.
	ResolvedParameters map[string]string `json:"resolvedParameters,omitempty"`
	// TemplateSHA256 is the hex digest of the template body last deployed.
	TemplateSHA256 string                   `json:"templateSha256,omitempty"`
	Resources      map[string]ResourceState `json:"resources"`
	Outputs        map[string]string        `json:"outputs,omitempty"`
	Created        time.Time                `json:"created"`
	Updated        time.Time                `json:"updated"`
	// Deployments are the CodeDeploy deployments the last deploy started (alias logical id → deployment id).
	Deployments map[string]string `json:"deployments,omitempty"`
	// Superseded are physical resources an update replaced that no cleanup phase has deleted yet: the deploy that
	// replaced them is still running, or was interrupted (UPDATE_FAILED) or could not roll back
	// (UPDATE_ROLLBACK_FAILED). The next deploy that succeeds deletes them.
	Superseded []Superseded `json:"superseded,omitempty"`
	// Cleanup is what the last deploy did, in order, with the physical resources that left the stack: after a
	// success, those it superseded (replaced, or removed from the template); after a rollback, those it had
	// created.
	Cleanup []Removal `json:"cleanup,omitempty"`
	// Applied is the journal of the operation under way: what it has changed so far, in order, so that a deploy
	// resumed after a restart can still roll all of it back. Empty once the operation has ended.
	Applied []Applied `json:"applied,omitempty"`

	// What the CloudFormation API knows of the stack (internal/cloudformation); a stack `sluice deploy` made has
	// none of it until the API updates it, and gets an ID from Put.
	API *APISettings `json:"api,omitempty"`
	// Operation is the work the CloudFormation API accepted and its controller still owes (nil: none).
	Operation *Operation `json:"operation,omitempty"`
}

// StackID is the stack's ID, the ARN CloudFormation gives it:
// arn:aws:cloudformation:<region>:<account>:stack/<name>/<uuid>; a store made WithStackIDs assigns it when the
// record is created ("" in records written before).
func (s Stack) StackID() string {
	if s.API == nil {
		return ""
	}
	return s.API.ID
}

// APISettings are a stack's CloudFormation settings and what the API shows of it beyond the record's own fields.
type APISettings struct {
	ID               string   `json:"id"`
	Description      string   `json:"description,omitempty"`
	Capabilities     []string `json:"capabilities,omitempty"`
	Tags             []Tag    `json:"tags,omitempty"`
	RoleARN          string   `json:"roleArn,omitempty"`
	DisableRollback  bool     `json:"disableRollback,omitempty"`
	TimeoutInMinutes int      `json:"timeoutInMinutes,omitempty"`
	NotificationARNs []string `json:"notificationArns,omitempty"`
	// TerminationProtection refuses DeleteStack.
	TerminationProtection bool `json:"terminationProtection,omitempty"`
	// NoEcho names the parameters whose values are shown masked.
	NoEcho []string `json:"noEcho,omitempty"`
	// ParameterOrder is the order the template declares its parameters in (DescribeStacks lists them so).
	ParameterOrder []string `json:"parameterOrder,omitempty"`
	// Parameters are every parameter's value, defaults included, in ParameterOrder (the record's Parameters are
	// only those the deploy was given).
	Parameters []Param `json:"parameters,omitempty"`
	// Outputs describe the record's Outputs: each one's Description and export name.
	Outputs map[string]OutputInfo `json:"outputs,omitempty"`
	// ChangeSetID is the change set that made the stack what it is, if one did.
	ChangeSetID string `json:"changeSetId,omitempty"`
	// TemplateKey names, in the CloudFormation service's store, the templates (original and processed) the stack
	// was last made from.
	TemplateKey string `json:"templateKey,omitempty"`
	// LastOperationID is the ID of the last operation the API started (CreateStack's OperationId).
	LastOperationID string `json:"lastOperationId,omitempty"`
	// LastToken is the ClientRequestToken of the last operation started with one, LastTokenKind that operation's
	// kind: the same request again is answered as the first was.
	LastToken     string `json:"lastToken,omitempty"`
	LastTokenKind string `json:"lastTokenKind,omitempty"`
	// DeletionTime is set on the record a deletion leaves for listings.
	DeletionTime time.Time `json:"deletionTime,omitzero"`
}

// Param is a parameter's value.
type Param struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Tag is a stack tag, in the order given.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// OutputInfo is what a template says of an output besides its value.
type OutputInfo struct {
	Description string `json:"description,omitempty"`
	ExportName  string `json:"exportName,omitempty"`
}

// Operation is a stack operation the CloudFormation API accepted: the controller drives the engine until it has
// ended, from whichever process leads, resuming after a restart.
type Operation struct {
	ID string `json:"id"`
	// Kind is OpCreate, OpUpdate or OpDelete.
	Kind string `json:"kind"`
	// Token is the caller's ClientRequestToken (idempotency: the same token is the same operation).
	Token string `json:"token,omitempty"`
	// TemplateKey names the template the operation deploys (create, update).
	TemplateKey string            `json:"templateKey,omitempty"`
	Parameters  map[string]string `json:"parameters,omitempty"`
	// OnFailure is what a failed creation does: ROLLBACK, DELETE or DO_NOTHING.
	OnFailure       string `json:"onFailure,omitempty"`
	DisableRollback bool   `json:"disableRollback,omitempty"`
	// ChangeSetID is the change set being executed, if any.
	ChangeSetID string `json:"changeSetId,omitempty"`
	// RetainResources are logical ids a DeleteStack keeps.
	RetainResources []string `json:"retainResources,omitempty"`
	// Principal is who asked (its permissions are what the engine acts with, unless RoleARN names a service role);
	// SessionKey the access key of the session the engine calls Sluice's APIs with.
	Principal  string    `json:"principal"`
	RoleARN    string    `json:"roleArn,omitempty"`
	SessionKey string    `json:"sessionKey,omitempty"`
	Started    time.Time `json:"started"`
	// Settings are the stack's new CloudFormation settings, applied when the operation succeeds.
	Settings *APISettings `json:"settings,omitempty"`
	// Runs counts the engine's runs of the operation: more than one means it is being resumed.
	Runs int `json:"runs,omitempty"`
}

// Operation kinds.
const (
	OpCreate = "create"
	OpUpdate = "update"
	OpDelete = "delete"
)

// Applied is one change an operation made to a resource (its journal entry): Action "create", "replace" (a new
// physical resource; Old is the one it superseded), "update" (in place; Old is the state before, Tried the
// properties an update that failed was applying) or "shift" (a traffic shift of an alias; Old is the alias before).
type Applied struct {
	LogicalID string         `json:"logicalId"`
	Action    string         `json:"action"`
	Old       ResourceState  `json:"old"`
	Tried     map[string]any `json:"tried,omitempty"`
}

// Superseded is a physical resource an update replaced, waiting for a cleanup phase.
type Superseded struct {
	LogicalID string        `json:"logicalId"`
	Resource  ResourceState `json:"resource"`
	// Retain: its UpdateReplacePolicy was Retain, so the cleanup leaves it in the account.
	Retain bool `json:"retain,omitempty"`
}

// Removal is one physical resource leaving a stack, and what became of it.
type Removal struct {
	LogicalID  string `json:"logicalId"`
	Type       string `json:"type"`
	PhysicalID string `json:"physicalId"`
	// Why it left: RemovalReplaced, RemovalRemoved or RemovalRolledBack.
	Why string `json:"why"`
	// Outcome: OutcomeDeleted, OutcomeRetained (a policy kept it) or OutcomeDeleteFailed. A resource retained or not
	// deleted is in the account but no longer in the stack.
	Outcome string `json:"outcome"`
	// Reason says which policy retained it, or why the deletion failed.
	Reason string `json:"reason,omitempty"`
}

// Why a physical resource left a stack.
const (
	RemovalReplaced   = "replaced"    // an update replaced it with a new physical resource
	RemovalRemoved    = "removed"     // it left the template
	RemovalRolledBack = "rolled-back" // the update that created it was rolled back
)

// What became of a physical resource that left a stack.
const (
	OutcomeDeleted      = "deleted"
	OutcomeRetained     = "retained"
	OutcomeDeleteFailed = "delete-failed"
)

// ResourceState is what a deploy knows about one resource it manages.
type ResourceState struct {
	Type       string `json:"type"`
	PhysicalID string `json:"physicalId"`
	// Properties are the resolved properties the resource was last created or updated with.
	Properties map[string]any `json:"properties,omitempty"`
	// Attributes are its Fn::GetAtt values (Arn, Version, …).
	Attributes map[string]string `json:"attributes,omitempty"`
	// Retain: the resource is kept when it leaves the template (DeletionPolicy: Retain or RetainExceptOnCreate).
	Retain bool `json:"retain,omitempty"`
	// DependsOn are the logical ids it referred to (Ref, Fn::GetAtt, Fn::Sub, DependsOn) when last deployed: a
	// resource is deleted before those it depends on, even once it has left the template.
	DependsOn []string `json:"dependsOn,omitempty"`
	// Status is the resource's status as CloudFormation reports it (CREATE_COMPLETE, UPDATE_COMPLETE, …; ""
	// in records written before statuses were kept, which read as CREATE_COMPLETE); Updated when it last changed.
	Status  string    `json:"status,omitempty"`
	Reason  string    `json:"statusReason,omitempty"`
	Updated time.Time `json:"updated,omitzero"`
}

// Summary is a stack in a listing.
type Summary struct {
	Name    string    `json:"name"`
	ID      string    `json:"id,omitempty"`
	Status  Status    `json:"status"`
	Reason  string    `json:"reason,omitempty"`
	Updated time.Time `json:"updated"`
	// Resources counts the stack's resources.
	Resources int `json:"resources"`
}

// ErrConflict is returned by Store.Put when the stored revision is not the expected one.
var ErrConflict = errors.New("stack: revision conflict")

// ErrNotFound is returned for a stack that does not exist.
var ErrNotFound = errors.New("stack: not found")

// Store keeps stack records.
type Store interface {
	// Get returns a stack or ErrNotFound.
	Get(ctx context.Context, name string) (Stack, error)
	// Put writes s if the stored revision equals s.Revision (0 for a stack that does not exist yet) and returns
	// the record as stored, with Revision incremented; else ErrConflict.
	Put(ctx context.Context, s Stack) (Stack, error)
	// Delete removes a stack if its revision is revision; ErrNotFound or ErrConflict otherwise.
	Delete(ctx context.Context, name string, revision int64) error
	// List lists every stack by name.
	List(ctx context.Context) ([]Summary, error)
}
