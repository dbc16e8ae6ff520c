// Package stack owns what `sluice deploy` remembers between deploys: a stack record per stack name — the
// resources a template created (logical id → type, physical id, the properties they were last given, their
// attributes), the parameters and outputs, and the outcome of the last deploy. Records are kept by the server
// (so that CI jobs on fresh machines see them) with a revision for optimistic concurrency: a deploy that read
// revision N may only write N+1, so two deploys of one stack cannot interleave.
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
)

// InProgress reports whether a deploy holds the stack.
func (s Status) InProgress() bool {
	switch s {
	case StatusCreateInProgress, StatusUpdateInProgress, StatusUpdateCompleteCleanupInProgress, StatusUpdateRollbackInProgress,
		StatusUpdateRollbackCompleteCleanupInProgress, StatusDeleteInProgress:
		return true
	}
	return false
}

// Failed reports whether the last operation on the stack failed — rolled back or not — so that `sluice deploy`
// exits non-zero.
func (s Status) Failed() bool {
	switch s {
	case StatusCreateFailed, StatusUpdateFailed, StatusUpdateRollbackComplete, StatusUpdateRollbackFailed, StatusDeleteFailed:
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
}

// Summary is a stack in a listing.
type Summary struct {
	Name    string    `json:"name"`
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
