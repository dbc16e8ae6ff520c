package stackdeploy

import "time"

// ShiftSnapshot is the state of every traffic shift of a stack operation at one moment: what `sluice deploy`'s live
// view shows (internal/cli reads it from CodeDeploy with DeploymentView, Follow and AlarmStates; internal/cli/progress
// renders it).
type ShiftSnapshot struct {
	Stack     string
	Functions []ShiftState
	Now       time.Time
}

// ShiftState is the state of one function's deployment, as it was last read.
type ShiftState struct {
	Name, Alias            string
	FromVersion, ToVersion string // "" FromVersion: first deployment of the alias
	DeploymentID           string
	// Status is CodeDeploy's: Created, Queued, InProgress, Baking, Ready, Succeeded, Failed or Stopped.
	Status string
	// Config is the deployment configuration, e.g. "CodeDeployDefault.LambdaCanary10Percent5Minutes".
	Config string
	// NewWeight is the share of the alias's traffic on ToVersion, 0..1.
	NewWeight float64
	// Step is human text for the current step, e.g. "canary at 10%" or "BeforeAllowTraffic hook".
	Step string
	// NextShiftAt is when traffic next moves; zero when no shift is scheduled.
	NextShiftAt time.Time
	Alarms      []ShiftAlarm
	Hooks       []ShiftHook
	// NewInvocations and NewErrors are the blast radius: requests ToVersion served so far, and how many failed.
	NewInvocations, NewErrors int64
	// Message is a failure or rollback reason, or a final note.
	Message string
}

// ShiftAlarm is a CloudWatch alarm watched by a deployment. State is OK, ALARM or INSUFFICIENT_DATA.
type ShiftAlarm struct {
	Name, State string
}

// ShiftHook is a lifecycle hook of a deployment. Event is BeforeAllowTraffic or AfterAllowTraffic; Status is
// Pending, InProgress, Succeeded, Failed or Skipped.
type ShiftHook struct {
	Event, Function, Status string
	// Problems are what went wrong with the hook's run that its status does not tell yet — its invocation
	// failed or was refused, its report was denied — as the deployment's lifecycle event lists them.
	Problems []string
}

// EventObserver is told each step of each resource, and each status of the stack, as CloudFormation lists them in
// a stack's events (the CloudFormation API's service records them).
type EventObserver interface {
	Event(e Event)
}

// Event is one step of a resource (CREATE_IN_PROGRESS, CREATE_COMPLETE, CREATE_FAILED, UPDATE_*, DELETE_*,
// DELETE_SKIPPED) or a status of the stack itself (LogicalID the stack's name, Type StackType, Status a
// stack.Status), with CloudFormation's reason where it gives one.
type Event struct {
	LogicalID  string
	Type       string
	PhysicalID string
	Status     string
	Reason     string
	// Properties are the properties a resource is being given (with its *_IN_PROGRESS steps).
	Properties map[string]any
}

// StackType is the resource type of a stack's own events.
const StackType = "AWS::CloudFormation::Stack"

// Resource statuses, as CloudFormation names them.
const (
	CreateInProgress = "CREATE_IN_PROGRESS"
	CreateComplete   = "CREATE_COMPLETE"
	CreateFailed     = "CREATE_FAILED"
	UpdateInProgress = "UPDATE_IN_PROGRESS"
	UpdateComplete   = "UPDATE_COMPLETE"
	UpdateFailed     = "UPDATE_FAILED"
	DeleteInProgress = "DELETE_IN_PROGRESS"
	DeleteComplete   = "DELETE_COMPLETE"
	DeleteFailed     = "DELETE_FAILED"
	DeleteSkipped    = "DELETE_SKIPPED"
)
