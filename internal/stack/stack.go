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

// Stack statuses, named as CloudFormation names them.
const (
	StatusCreateInProgress Status = "CREATE_IN_PROGRESS"
	StatusCreateComplete   Status = "CREATE_COMPLETE"
	StatusCreateFailed     Status = "CREATE_FAILED"
	StatusUpdateInProgress Status = "UPDATE_IN_PROGRESS"
	StatusUpdateComplete   Status = "UPDATE_COMPLETE"
	StatusUpdateFailed     Status = "UPDATE_FAILED"
	StatusUpdateRolledBack Status = "UPDATE_ROLLBACK_COMPLETE" // a traffic shift was rolled back
	StatusDeleteInProgress Status = "DELETE_IN_PROGRESS"
	StatusDeleteFailed     Status = "DELETE_FAILED"
	StatusDeleteComplete   Status = "DELETE_COMPLETE" // reported by a delete; the record is then gone
)

// InProgress reports whether a deploy holds the stack.
func (s Status) InProgress() bool {
	return s == StatusCreateInProgress || s == StatusUpdateInProgress || s == StatusDeleteInProgress
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
	// TemplateSHA256 is the hex digest of the template body last deployed.
	TemplateSHA256 string                   `json:"templateSha256,omitempty"`
	Resources      map[string]ResourceState `json:"resources"`
	Outputs        map[string]string        `json:"outputs,omitempty"`
	Created        time.Time                `json:"created"`
	Updated        time.Time                `json:"updated"`
	// Deployments are the CodeDeploy deployments the last deploy started (alias logical id → deployment id).
	Deployments map[string]string `json:"deployments,omitempty"`
}

// ResourceState is what a deploy knows about one resource it manages.
type ResourceState struct {
	Type       string `json:"type"`
	PhysicalID string `json:"physicalId"`
	// Properties are the resolved properties the resource was last created or updated with.
	Properties map[string]any `json:"properties,omitempty"`
	// Attributes are its Fn::GetAtt values (Arn, Version, …).
	Attributes map[string]string `json:"attributes,omitempty"`
	// Retain: the resource is kept when it leaves the template (DeletionPolicy: Retain).
	Retain bool `json:"retain,omitempty"`
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
