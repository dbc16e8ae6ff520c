package codedeploy

import (
	"slices"
	"time"

	"github.com/sluice-dev/sluice/internal/fault"
)

// Status is deploymentInfo.status.
type Status string

// The statuses a Lambda deployment goes through. CodeDeploy's enum also has Baking and Ready, which describe
// EC2/ECS blue/green phases and are never used here.
const (
	StatusCreated    Status = "Created"
	StatusQueued     Status = "Queued"
	StatusInProgress Status = "InProgress"
	StatusSucceeded  Status = "Succeeded"
	StatusFailed     Status = "Failed"
	StatusStopped    Status = "Stopped"
)

// Terminal reports whether s is final: Succeeded, Failed or Stopped.
func (s Status) Terminal() bool {
	return s == StatusSucceeded || s == StatusFailed || s == StatusStopped
}

// EventName is a lifecycle event of a Lambda deployment.
type EventName string

// Lambda's five lifecycle events, in order. Only BeforeAllowTraffic and AfterAllowTraffic run hooks.
const (
	EventStart              EventName = "Start"
	EventBeforeAllowTraffic EventName = "BeforeAllowTraffic"
	EventAllowTraffic       EventName = "AllowTraffic"
	EventAfterAllowTraffic  EventName = "AfterAllowTraffic"
	EventEnd                EventName = "End"
)

// LifecycleEvents lists the events in the order they run.
var LifecycleEvents = []EventName{EventStart, EventBeforeAllowTraffic, EventAllowTraffic, EventAfterAllowTraffic, EventEnd}

// EventStatus is a lifecycle event's status.
type EventStatus string

// Lifecycle event statuses (CodeDeploy's enum also has Unknown, never used here).
const (
	EventPending    EventStatus = "Pending"
	EventInProgress EventStatus = "InProgress"
	EventSucceeded  EventStatus = "Succeeded"
	EventFailed     EventStatus = "Failed"
	EventSkipped    EventStatus = "Skipped"
)

// HookResult is what a hook reported through PutLifecycleEventHookExecutionStatus; "" means nothing yet.
type HookResult string

// The two statuses a hook may report.
const (
	HookPending   HookResult = ""
	HookSucceeded HookResult = "Succeeded"
	HookFailed    HookResult = "Failed"
)

// ErrorCode is errorInformation.code.
type ErrorCode string

// The error codes a Lambda deployment ends with (CodeDeploy's ErrorCode enum has more, for EC2 and ECS).
const (
	CodeHookExecutionFailure       ErrorCode = "HOOK_EXECUTION_FAILURE"
	CodeAlarmActive                ErrorCode = "ALARM_ACTIVE"
	CodeManualStop                 ErrorCode = "MANUAL_STOP"
	CodeTimeout                    ErrorCode = "TIMEOUT"
	CodeInvalidLambdaConfiguration ErrorCode = "INVALID_LAMBDA_CONFIGURATION"
	CodeInvalidLambdaFunction      ErrorCode = "INVALID_LAMBDA_FUNCTION"
	CodeInvalidRevision            ErrorCode = "INVALID_REVISION"
	CodeInternalError              ErrorCode = "INTERNAL_ERROR"
	CodeThrottled                  ErrorCode = "THROTTLED"
	CodeIAMRolePermissions         ErrorCode = "IAM_ROLE_PERMISSIONS"
	CodeIAMRoleMissing             ErrorCode = "IAM_ROLE_MISSING"
	CodeRevisionMissing            ErrorCode = "REVISION_MISSING"
	CodeDeploymentGroupMissing     ErrorCode = "DEPLOYMENT_GROUP_MISSING"
	CodeApplicationMissing         ErrorCode = "APPLICATION_MISSING"
)

// ErrorInformation is deploymentInfo.errorInformation.
type ErrorInformation struct {
	Code    ErrorCode `json:"code"`
	Message string    `json:"message"`
}

// Creator is deploymentInfo.creator.
type Creator string

// Creators (CodeDeploy's enum; Lambda deployments see the first four).
const (
	CreatorUser                   Creator = "user"
	CreatorCodeDeployRollback     Creator = "codeDeployRollback"
	CreatorCloudFormation         Creator = "CloudFormation"
	CreatorCloudFormationRollback Creator = "CloudFormationRollback"
	CreatorCodeDeploy             Creator = "CodeDeploy"
	CreatorCodeDeployAutoUpdate   Creator = "CodeDeployAutoUpdate"
	CreatorAutoscaling            Creator = "autoscaling"
	CreatorAutoscalingTermination Creator = "autoscalingTermination"
)

// RollbackInfo is deploymentInfo.rollbackInfo. The rolled-back deployment carries RollbackDeploymentID, the
// rollback deployment RollbackTriggeringDeploymentID; both carry a message.
type RollbackInfo struct {
	RollbackDeploymentID           string `json:"rollbackDeploymentId,omitempty"`
	RollbackTriggeringDeploymentID string `json:"rollbackTriggeringDeploymentId,omitempty"`
	RollbackMessage                string `json:"rollbackMessage,omitempty"`
}

// AutoRollbackEvent is an autoRollbackConfiguration event.
type AutoRollbackEvent string

// The three events that can trigger an automatic rollback.
const (
	RollbackOnFailure       AutoRollbackEvent = "DEPLOYMENT_FAILURE"
	RollbackOnAlarm         AutoRollbackEvent = "DEPLOYMENT_STOP_ON_ALARM"
	RollbackOnStopRequested AutoRollbackEvent = "DEPLOYMENT_STOP_ON_REQUEST"
)

// AutoRollbackConfiguration is autoRollbackConfiguration.
type AutoRollbackConfiguration struct {
	Enabled bool                `json:"enabled"`
	Events  []AutoRollbackEvent `json:"events,omitempty"`
}

// Covers reports whether the configuration rolls back on e.
func (c AutoRollbackConfiguration) Covers(e AutoRollbackEvent) bool {
	if !c.Enabled {
		return false
	}
	for _, x := range c.Events {
		if x == e {
			return true
		}
	}
	return false
}

// Validate refuses an enabled configuration without events and unknown events (InvalidAutoRollbackConfigException).
func (c AutoRollbackConfiguration) Validate() error {
	for _, e := range c.Events {
		switch e {
		case RollbackOnFailure, RollbackOnAlarm, RollbackOnStopRequested:
		default:
			return fault.New(ErrInvalidAutoRollbackConfig, "The automatic rollback event %s is invalid.", e)
		}
	}
	if c.Enabled && len(c.Events) == 0 {
		return fault.New(ErrInvalidAutoRollbackConfig, "Automatic rollback is enabled but no triggering events were specified.")
	}
	return nil
}

// MaxAlarms is how many alarms a deployment group (or a deployment's override) may name.
const MaxAlarms = 10

// Alarm is one alarmConfiguration.alarms entry.
type Alarm struct {
	Name string `json:"name"`
}

// AlarmConfiguration is alarmConfiguration (of a group, or a deployment's overrideAlarmConfiguration).
type AlarmConfiguration struct {
	Enabled                bool    `json:"enabled"`
	IgnorePollAlarmFailure bool    `json:"ignorePollAlarmFailure"`
	Alarms                 []Alarm `json:"alarms,omitempty"`
}

// Active reports whether alarms are checked: enabled with at least one alarm.
func (c AlarmConfiguration) Active() bool { return c.Enabled && len(c.Alarms) > 0 }

// Names returns the alarm names.
func (c AlarmConfiguration) Names() []string {
	out := make([]string, len(c.Alarms))
	for i, a := range c.Alarms {
		out[i] = a.Name
	}
	return out
}

// Validate applies CodeDeploy's alarm rules: at most 10 alarms, names 1..255 characters and unique, and an enabled
// configuration names at least one alarm.
func (c AlarmConfiguration) Validate() error {
	if len(c.Alarms) > MaxAlarms {
		return fault.New(ErrAlarmsLimitExceeded, "The maximum number of alarms for a deployment group (%d) was exceeded.", MaxAlarms)
	}
	seen := make(map[string]bool, len(c.Alarms))
	for _, a := range c.Alarms {
		if a.Name == "" || len(a.Name) > 255 {
			return fault.New(ErrInvalidAlarmConfig, "The alarm name must be between 1 and 255 characters long.")
		}
		if seen[a.Name] {
			return fault.New(ErrInvalidAlarmConfig, "The alarm %s is specified more than once.", a.Name)
		}
		seen[a.Name] = true
	}
	if c.Enabled && len(c.Alarms) == 0 {
		return fault.New(ErrInvalidAlarmConfig, "The alarm configuration is enabled but the alarm list is empty.")
	}
	return nil
}

// Diagnostics explains a failed lifecycle event (LifecycleEvent.diagnostics). ErrorCode is CodeDeploy's
// LifecycleErrorCode: ScriptFailed for a hook reporting Failed, ScriptTimedOut for one that never reported.
type Diagnostics struct {
	ErrorCode  string `json:"errorCode,omitempty"`
	ScriptName string `json:"scriptName,omitempty"`
	Message    string `json:"message,omitempty"`
}

// LifecycleEvent is one lifecycle event of the deployment's (single) Lambda target, plus the hook bookkeeping.
type LifecycleEvent struct {
	Name      EventName   `json:"lifecycleEventName"`
	Status    EventStatus `json:"status"`
	StartTime time.Time   `json:"startTime,omitzero"`
	EndTime   time.Time   `json:"endTime,omitzero"`
	// Hook is the validation function from the AppSpec ("" for Start, AllowTraffic, End and unhooked events).
	Hook string `json:"hook,omitempty"`
	// HookExecutionID identifies the hook's current invocation; it is assigned when the event starts.
	HookExecutionID string `json:"hookExecutionId,omitempty"`
	// HookResult is what the hook reported through ReportHookStatus, and when.
	HookResult     HookResult   `json:"hookResult,omitempty"`
	HookReportedAt time.Time    `json:"hookReportedAt,omitzero"`
	Diagnostics    *Diagnostics `json:"diagnostics,omitempty"`
	// HookProblems are what went wrong with the hook's current invocation that its status would not tell (its
	// invocation failed, its report was denied), in the order they were noticed (NoteHookProblem).
	HookProblems []string `json:"hookProblems,omitempty"`
}

// StopRequest is a recorded StopDeployment call. AutoRollbackEnabled is the request's nullable flag: nil means
// "as the deployment's auto-rollback configuration says for DEPLOYMENT_STOP_ON_REQUEST".
type StopRequest struct {
	AutoRollbackEnabled *bool     `json:"autoRollbackEnabled,omitempty"`
	RequestedAt         time.Time `json:"requestedAt,omitzero"`
	// RequestedBy is the principal (an IAM ARN) whose call asked for the stop ("" when unknown), so the timeline
	// says who stopped the deployment.
	RequestedBy string `json:"requestedBy,omitempty"`
}

// BlastRadius counts what the target version served while this deployment shifted traffic to it. The controller
// fills these in (from invocation metrics on the ExecutedVersion dimension); Decide never reads them.
type BlastRadius struct {
	TargetInvocations int64 `json:"targetInvocations"`
	TargetErrors      int64 `json:"targetErrors"`
}

// Deployment is the persisted record of one Lambda deployment: its inputs, where it stands, and its history.
// It is plain data (JSON-encodable, no pointers into shared state), so the controller can store it as is and
// the API edge can render deploymentInfo and the LambdaTarget from it.
type Deployment struct {
	ID                   string         `json:"deploymentId"`
	ApplicationName      string         `json:"applicationName"`
	DeploymentGroupName  string         `json:"deploymentGroupName"`
	DeploymentConfigName string         `json:"deploymentConfigName"`
	TrafficRouting       TrafficRouting `json:"trafficRouting"`
	Revision             Revision       `json:"revision"`
	AppSpec              AppSpec        `json:"appSpec"`
	Description          string         `json:"description,omitempty"`
	Creator              Creator        `json:"creator"`

	Status           Status            `json:"status"`
	ErrorInformation *ErrorInformation `json:"errorInformation,omitempty"`
	CreateTime       time.Time         `json:"createTime"`
	StartTime        time.Time         `json:"startTime,omitzero"`
	CompleteTime     time.Time         `json:"completeTime,omitzero"`

	AutoRollback AutoRollbackConfiguration `json:"autoRollbackConfiguration"`
	Alarms       AlarmConfiguration        `json:"alarmConfiguration"`
	RollbackInfo *RollbackInfo             `json:"rollbackInfo,omitempty"`

	// Events are the five lifecycle events in LifecycleEvents order.
	Events []LifecycleEvent `json:"lifecycleEvents"`
	// TargetWeight is the target version's weight this deployment last asked the alias to carry
	// (lambdaFunctionInfo.targetVersionWeight).
	TargetWeight float64 `json:"targetVersionWeight"`
	// Stop is the StopDeployment request being honoured, if any.
	Stop *StopRequest `json:"stopRequest,omitempty"`
	// Hold is the pause in effect (PauseDeployment, a Sluice extension; control.go), nil while the deployment runs.
	Hold *Hold `json:"hold,omitempty"`
	// ScheduleOrigin, once set, replaces AllowTraffic's start time as the moment the traffic schedule counts from:
	// a resume moves it later by the time paused, a skipped wait earlier to the next step.
	ScheduleOrigin time.Time `json:"scheduleOrigin,omitzero"`
	// Promoted records a PromoteDeployment: all traffic at once, once the pre-traffic hook has succeeded.
	Promoted bool `json:"promoted,omitempty"`
	// ControlsApplied counts the traffic controls (Observe.Controls, oldest first) Decide has applied.
	ControlsApplied int `json:"controlsApplied,omitempty"`
	// AlarmPollFailing remembers that alarm states could not be read (and were ignored), so the timeline records
	// only changes.
	AlarmPollFailing bool `json:"alarmPollFailing,omitempty"`
	// WakeAt is when Decide wants to be called again at the latest ("" once terminal). It is a hint for the
	// controller's queue; calling Decide earlier or more often is always safe.
	WakeAt time.Time `json:"wakeAt,omitzero"`

	// Prewarmed records that the controller started environments of the target version before shifting traffic
	// (a Sluice extension; Decide ignores it).
	Prewarmed bool `json:"prewarmed,omitempty"`

	// StoreRevision counts the writes of this record to the store (0: never written). A controller writes a decided
	// record only if the stored one is still at the revision the decision was made from (a compare-and-swap), and
	// increments it; the functions of this package copy it unchanged.
	StoreRevision int64 `json:"storeRevision,omitempty"`

	BlastRadius BlastRadius     `json:"blastRadius"`
	Timeline    []TimelineEntry `json:"timeline"`
}

// Event returns the lifecycle event with the given name.
func (d *Deployment) Event(name EventName) *LifecycleEvent {
	for i := range d.Events {
		if d.Events[i].Name == name {
			return &d.Events[i]
		}
	}
	return nil
}

// IsRollback reports whether d is a rollback deployment created by CodeDeploy.
func (d *Deployment) IsRollback() bool { return d.Creator == CreatorCodeDeployRollback }

// TargetStatus is the status of d's one Lambda target (LambdaTarget.status): Pending before the deployment
// starts, then InProgress, Succeeded, or — for a failed or stopped deployment — Failed if a lifecycle event failed
// and Skipped if it ended before any ran.
func (d *Deployment) TargetStatus() EventStatus {
	switch d.Status {
	case StatusCreated, StatusQueued:
		return EventPending
	case StatusInProgress:
		return EventInProgress
	case StatusSucceeded:
		return EventSucceeded
	}
	for _, e := range d.Events {
		if e.Status == EventFailed {
			return EventFailed
		}
	}
	return EventSkipped
}

// Overview counts d's targets by status (deploymentInfo.deploymentOverview); a Lambda deployment has one.
type Overview struct {
	Pending, InProgress, Succeeded, Failed, Skipped, Ready int64
}

// Overview reports where d's one target stands.
func (d *Deployment) Overview() Overview {
	switch d.TargetStatus() {
	case EventPending:
		return Overview{Pending: 1}
	case EventInProgress:
		return Overview{InProgress: 1}
	case EventSucceeded:
		return Overview{Succeeded: 1}
	case EventFailed:
		return Overview{Failed: 1}
	}
	return Overview{Skipped: 1}
}

// NewDeploymentInput is what CreateDeployment resolved: the group's (or the request's) configuration, alarms and
// rollback settings, and the revision as received.
type NewDeploymentInput struct {
	ID                  string
	ApplicationName     string
	DeploymentGroupName string
	Config              DeploymentConfig
	Revision            Revision
	Description         string
	Creator             Creator // "" means user
	AutoRollback        AutoRollbackConfiguration
	Alarms              AlarmConfiguration
	Now                 time.Time
}

// NewDeployment validates a CreateDeployment and returns the Created record. Errors are CodeDeploy's synchronous
// ones: InvalidRevisionException / RevisionRequiredException for the revision, InvalidTrafficRoutingConfiguration
// for a non-Lambda configuration, InvalidAutoRollbackConfig, InvalidAlarmConfig, AlarmsLimitExceeded. What
// depends on the function's state (alias, versions) is checked when the deployment starts, as CodeDeploy does.
func NewDeployment(in NewDeploymentInput) (Deployment, error) {
	if !ValidDeploymentID(in.ID) {
		return Deployment{}, fault.New(ErrInvalidDeploymentID, "Specified DeploymentId is not in the valid format: %s", in.ID)
	}
	spec, err := ParseRevision(in.Revision)
	if err != nil {
		return Deployment{}, err
	}
	if in.Config.ComputePlatform != ComputePlatformLambda {
		return Deployment{}, fault.New(ErrInvalidTrafficRoutingConfiguration,
			"The deployment configuration %s is not a Lambda configuration.", in.Config.Name)
	}
	if err := ValidateTrafficRouting(in.Config.TrafficRouting); err != nil {
		return Deployment{}, err
	}
	if err := in.AutoRollback.Validate(); err != nil {
		return Deployment{}, err
	}
	if err := in.Alarms.Validate(); err != nil {
		return Deployment{}, err
	}
	creator := in.Creator
	if creator == "" {
		creator = CreatorUser
	}
	d := Deployment{
		ID:                   in.ID,
		ApplicationName:      in.ApplicationName,
		DeploymentGroupName:  in.DeploymentGroupName,
		DeploymentConfigName: in.Config.Name,
		TrafficRouting:       in.Config.TrafficRouting,
		Revision:             in.Revision,
		AppSpec:              spec,
		Description:          in.Description,
		Creator:              creator,
		Status:               StatusCreated,
		CreateTime:           in.Now,
		AutoRollback:         in.AutoRollback,
		Alarms:               in.Alarms,
		Events:               newEvents(spec.Hooks),
		WakeAt:               in.Now,
	}
	d.note(in.Now, KindCreated, "deployment %s created by %s: %s alias %s from version %s to %s with %s",
		d.ID, creator, spec.Resource.Name, spec.Resource.Alias, spec.Resource.CurrentVersion, spec.Resource.TargetVersion, d.DeploymentConfigName)
	return d, nil
}

func newEvents(h AppSpecHooks) []LifecycleEvent {
	ev := make([]LifecycleEvent, len(LifecycleEvents))
	for i, n := range LifecycleEvents {
		ev[i] = LifecycleEvent{Name: n, Status: EventPending}
	}
	ev[1].Hook = h.BeforeAllowTraffic
	ev[3].Hook = h.AfterAllowTraffic
	return ev
}

// newRollback builds the rollback deployment of d: AllAtOnce back to d's CurrentVersion, no hooks, no alarms
// (an alarm that stopped d is typically still in ALARM and must not stop its cure) and no auto-rollback.
func newRollback(d Deployment, id string, now time.Time) Deployment {
	spec := AppSpec{Version: AppSpecVersion, Resource: LambdaResource{
		LogicalName:    d.AppSpec.Resource.LogicalName,
		Name:           d.AppSpec.Resource.Name,
		Alias:          d.AppSpec.Resource.Alias,
		CurrentVersion: d.AppSpec.Resource.TargetVersion,
		TargetVersion:  d.AppSpec.Resource.CurrentVersion,
	}}
	r := Deployment{
		ID:                   id,
		ApplicationName:      d.ApplicationName,
		DeploymentGroupName:  d.DeploymentGroupName,
		DeploymentConfigName: LambdaAllAtOnce,
		TrafficRouting:       TrafficRouting{Type: AllAtOnce},
		Revision:             spec.Revision(),
		AppSpec:              spec,
		Creator:              CreatorCodeDeployRollback,
		Status:               StatusCreated,
		CreateTime:           now,
		Events:               newEvents(AppSpecHooks{}),
		RollbackInfo: &RollbackInfo{
			RollbackTriggeringDeploymentID: d.ID,
			RollbackMessage:                "Deployment " + id + " is triggered to roll back deployment " + d.ID + ".",
		},
		WakeAt: now,
	}
	r.note(now, KindCreated, "rollback deployment %s created for %s: %s alias %s back to version %s",
		id, d.ID, spec.Resource.Name, spec.Resource.Alias, spec.Resource.TargetVersion)
	return r
}

// RollbackOf rebuilds the rollback deployment Decide created when it ended d — the record its StartRollback
// action carried — for a controller that must recreate it (the StartRollback record belongs in the same
// transaction as d; this is the repair path). ok is false when d triggered no rollback.
func RollbackOf(d Deployment) (Deployment, bool) {
	if d.IsRollback() || d.RollbackInfo == nil || d.RollbackInfo.RollbackDeploymentID == "" {
		return Deployment{}, false
	}
	return newRollback(d, d.RollbackInfo.RollbackDeploymentID, d.CompleteTime), true
}

// ReportHookStatus records a PutLifecycleEventHookExecutionStatus call on d. It validates the call as CodeDeploy
// does — status must be Succeeded or Failed, the execution ID must be one of d's, and the event must still be
// waiting for it — and stores the result; Decide acts on it at its next call.
func ReportHookStatus(d Deployment, executionID, status string, now time.Time) (Deployment, error) {
	result, err := CheckHookReport(d, executionID, status, HookPending)
	if err != nil {
		return d, err
	}
	d = d.clone()
	ev := d.eventOfExecution(executionID)
	ev.HookResult, ev.HookReportedAt = result, now
	d.WakeAt = now
	return d, nil
}

// CheckHookReport validates a PutLifecycleEventHookExecutionStatus call as ReportHookStatus does, for a
// controller that keeps reports apart from the record and hands them to Decide in Observe.Hooks: recorded is
// what is already kept for the execution (HookPending if nothing), and a result there counts as a report even
// before Decide copied it into d. It returns the result to keep.
func CheckHookReport(d Deployment, executionID, status string, recorded HookResult) (HookResult, error) {
	result := HookResult(status)
	if result != HookSucceeded && result != HookFailed {
		return "", fault.New(ErrInvalidHookExecutionStatus,
			"The status %s is not valid for a lifecycle event hook execution; it must be Succeeded or Failed.", status)
	}
	ev := d.eventOfExecution(executionID)
	if ev == nil {
		return "", fault.New(ErrInvalidHookExecutionID,
			"The lifecycle event hook execution ID %s is not valid for deployment %s.", executionID, d.ID)
	}
	if ev.Status != EventInProgress || ev.HookResult != HookPending || recorded != HookPending || d.Status.Terminal() {
		return "", fault.New(ErrLifecycleEventAlreadyCompleted,
			"The %s lifecycle event of deployment %s has already completed.", ev.Name, d.ID)
	}
	return result, nil
}

// eventOfExecution returns the lifecycle event whose hook execution is executionID, or nil.
func (d *Deployment) eventOfExecution(executionID string) *LifecycleEvent {
	var ev *LifecycleEvent
	for i := range d.Events {
		if executionID != "" && d.Events[i].HookExecutionID == executionID {
			ev = &d.Events[i]
		}
	}
	return ev
}

// StopStatus is StopDeployment's answer.
type StopStatus string

// StopDeployment statuses.
const (
	StopPending   StopStatus = "Pending"
	StopSucceeded StopStatus = "Succeeded"
)

// RequestStop records a StopDeployment call in d, for a controller that keeps the request in the record. A
// completed deployment answers DeploymentAlreadyCompletedException; otherwise the stop is Pending until Decide
// performs it. Repeating the call while it is pending is harmless (the first request's rollback choice stands).
func RequestStop(d Deployment, autoRollbackEnabled *bool, now time.Time) (Deployment, StopStatus, string, error) {
	req, status, msg, err := NewStopRequest(d, nil, autoRollbackEnabled, "", now)
	if err != nil || req == nil {
		return d, status, msg, err
	}
	d = d.clone()
	d.Stop = req
	d.note(now, KindStopRequested, "stop requested%s", rollbackChoice(autoRollbackEnabled))
	d.WakeAt = now
	return d, status, msg, nil
}

// NewStopRequest validates a StopDeployment call for a controller that keeps the request apart from the record
// and hands it to Decide as Observe.StopRequested. pending is the request already kept, if any; d.Stop, once
// Decide recorded it, counts as pending too. A completed deployment answers DeploymentAlreadyCompletedException;
// otherwise the answer is Pending, and req is the new request to keep — nil when one is pending already (the first
// request's rollback choice stands).
func NewStopRequest(d Deployment, pending *StopRequest, autoRollbackEnabled *bool, by string, now time.Time) (req *StopRequest, status StopStatus, msg string, err error) {
	if d.Status.Terminal() {
		return nil, "", "", fault.New(ErrDeploymentAlreadyCompleted, "Deployment %s has already completed.", d.ID)
	}
	const stopping = "The deployment is being stopped."
	if d.Stop != nil || pending != nil {
		return nil, StopPending, stopping, nil
	}
	req = &StopRequest{RequestedAt: now, RequestedBy: by}
	if autoRollbackEnabled != nil {
		v := *autoRollbackEnabled
		req.AutoRollbackEnabled = &v
	}
	return req, StopPending, stopping, nil
}

// requester names who asked for a stop in its timeline entry.
func requester(principal string) string {
	if principal == "" {
		return ""
	}
	return " by " + principal
}

func rollbackChoice(b *bool) string {
	switch {
	case b == nil:
		return ""
	case *b:
		return " with rollback"
	}
	return " without rollback"
}

// clone returns a deep copy, so that the functions here never mutate the caller's record.
func (d Deployment) clone() Deployment {
	d.Events = slices.Clone(d.Events)
	for i := range d.Events {
		if d.Events[i].Diagnostics != nil {
			x := *d.Events[i].Diagnostics
			d.Events[i].Diagnostics = &x
		}
	}
	d.Timeline = slices.Clone(d.Timeline)
	for i := range d.Timeline {
		if d.Timeline[i].Weight != nil {
			w := *d.Timeline[i].Weight
			d.Timeline[i].Weight = &w
		}
	}
	if d.ErrorInformation != nil {
		x := *d.ErrorInformation
		d.ErrorInformation = &x
	}
	if d.RollbackInfo != nil {
		x := *d.RollbackInfo
		d.RollbackInfo = &x
	}
	if d.Hold != nil {
		x := *d.Hold
		d.Hold = &x
	}
	if d.Stop != nil {
		x := *d.Stop
		if x.AutoRollbackEnabled != nil {
			v := *x.AutoRollbackEnabled
			x.AutoRollbackEnabled = &v
		}
		d.Stop = &x
	}
	d.AutoRollback.Events = slices.Clone(d.AutoRollback.Events)
	d.Alarms.Alarms = slices.Clone(d.Alarms.Alarms)
	d.Revision = d.Revision.clone()
	return d
}

func (r Revision) clone() Revision {
	if r.AppSpecContent != nil {
		x := *r.AppSpecContent
		r.AppSpecContent = &x
	}
	if r.String != nil {
		x := *r.String
		r.String = &x
	}
	if r.S3Location != nil {
		x := *r.S3Location
		r.S3Location = &x
	}
	if r.GitHubLocation != nil {
		x := *r.GitHubLocation
		r.GitHubLocation = &x
	}
	return r
}
