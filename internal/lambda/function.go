package lambda

import (
	"time"

	"github.com/sluice-dev/sluice/internal/fault"
)

// Function states and update statuses (reference §3.5).
const (
	StatePending  = "Pending"
	StateActive   = "Active"
	StateInactive = "Inactive"
	StateFailed   = "Failed"

	UpdateInProgress = "InProgress"
	UpdateSuccessful = "Successful"
	UpdateFailed     = "Failed"
)

// Status is the observable state of a function or version.
type Status struct {
	State                      string `json:"state"`
	StateReason                string `json:"stateReason,omitempty"`
	StateReasonCode            string `json:"stateReasonCode,omitempty"`
	LastUpdateStatus           string `json:"lastUpdateStatus,omitempty"`
	LastUpdateStatusReason     string `json:"lastUpdateStatusReason,omitempty"`
	LastUpdateStatusReasonCode string `json:"lastUpdateStatusReasonCode,omitempty"`
}

// Function is a function's $LATEST plus its function-level settings.
type Function struct {
	Name         string            `json:"name"`
	Config       Config            `json:"config"`
	Status       Status            `json:"status"`
	RevisionID   string            `json:"revisionId"`
	LastModified time.Time         `json:"lastModified"`
	Tags         map[string]string `json:"tags,omitempty"`
	// ReservedConcurrency is nil when unset; 0 means fully throttled.
	ReservedConcurrency *int `json:"reservedConcurrency,omitempty"`
	// Pending is the work the background processor still owes this function (nil when settled).
	Pending *PendingWork `json:"pending,omitempty"`
	// Previous is the configuration in effect before the update in progress; restored if that update fails.
	Previous *Config `json:"previous,omitempty"`
}

// PendingWork tells the processor what to do to settle a function.
type PendingWork struct {
	// ExtractCode is the CodeSha256 of a package to validate and extract ("" when only configuration changed).
	ExtractCode string `json:"extractCode,omitempty"`
	// Token identifies this piece of work, so a result computed for an older update is never applied to a newer one.
	Token string `json:"token"`
	// PublishVersion, when non-zero, is a version created by UpdateFunctionCode(Publish=true) that settles with it.
	PublishVersion int `json:"publishVersion,omitempty"`
}

// Version is an immutable published snapshot.
type Version struct {
	Function     string    `json:"function"`
	Number       int       `json:"number"`
	Config       Config    `json:"config"`
	Status       Status    `json:"status"`
	RevisionID   string    `json:"revisionId"`
	LastModified time.Time `json:"lastModified"`
}

// Creating is the status of a function (or version) whose package is still being processed.
func Creating() Status {
	return Status{State: StatePending, StateReason: "The function is being created.", StateReasonCode: "Creating"}
}

// Updating is the status of a function whose code or configuration update is being applied. AWS reports the
// "being created" reason for updates too (recorded behaviour, reference §1.2).
func Updating() Status {
	return Status{State: StateActive, LastUpdateStatus: UpdateInProgress,
		LastUpdateStatusReason: "The function is being created.", LastUpdateStatusReasonCode: "Creating"}
}

// Settled is the status after successful processing.
func Settled() Status { return Status{State: StateActive, LastUpdateStatus: UpdateSuccessful} }

// CreationFailed is the status of a function whose package could not be processed.
func CreationFailed(code, reason string) Status {
	return Status{State: StateFailed, StateReason: reason, StateReasonCode: code,
		LastUpdateStatus: UpdateFailed, LastUpdateStatusReason: reason, LastUpdateStatusReasonCode: code}
}

// UpdateFailedStatus is the status of an Active function whose last update could not be applied.
func UpdateFailedStatus(code, reason string) Status {
	return Status{State: StateActive, LastUpdateStatus: UpdateFailed,
		LastUpdateStatusReason: reason, LastUpdateStatusReasonCode: code}
}

// CheckMutable returns the 409 AWS answers when $LATEST cannot be updated or published right now.
func (f *Function) CheckMutable(a Account) error {
	switch {
	case f.Status.State == StatePending:
		return fault.Conflict("The operation cannot be performed at this time. The function is currently in the following state: Pending")
	case f.Status.LastUpdateStatus == UpdateInProgress:
		return fault.Conflict("The operation cannot be performed at this time. An update is in progress for resource: %s", a.FunctionARN(f.Name))
	}
	return nil
}

// CheckRevision enforces an optional RevisionId precondition.
func CheckRevision(given, current string) error {
	if given != "" && given != current {
		return fault.New(fault.PreconditionFailed, "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id")
	}
	return nil
}

// CheckPublishCodeSha enforces PublishVersion's optional CodeSha256 precondition (a 400, not a 412).
func CheckPublishCodeSha(given, current string) error {
	if given != "" && given != current {
		return fault.InvalidParameter("CodeSHA256 (%s) is different from current CodeSHA256 in $LATEST (%s). Please try again with the CodeSHA256 in $LATEST.", given, current)
	}
	return nil
}

// NeedsNewVersion decides publish idempotence: a new version is created only when $LATEST differs from the most
// recently published version (nil when none exists).
func NeedsNewVersion(latest Config, lastPublished *Version) bool {
	return lastPublished == nil || !latest.SameForPublish(lastPublished.Config)
}
