package codedeploy

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// DefaultHookTimeout is how long a hook has to report its status (CodeDeploy: one hour).
const DefaultHookTimeout = time.Hour

// AliasState is an alias's routing: the version it points at and the extra weighted version, if any.
type AliasState struct {
	FunctionVersion          string             `json:"functionVersion"`
	AdditionalVersionWeights map[string]float64 `json:"additionalVersionWeights,omitempty"`
}

// Observe is everything the controller knows now. Its zero value means "everything exists, nothing reported,
// no alarm": the controller fills in what it saw.
type Observe struct {
	// Now is the current time; Decide never reads a clock.
	Now time.Time
	// TimeScale speeds up the schedule: a configured minute lasts 60/TimeScale seconds. 0 means 1 (real time).
	// Hook timeouts are not scaled: a hook is real code calling back in real time.
	TimeScale float64

	// Alias is the alias as it is now.
	Alias AliasState
	// FunctionMissing and AliasMissing report that the AppSpec's function or alias does not exist;
	// TargetVersionMissing that the TargetVersion is not a published version. They are checked when the
	// deployment starts.
	FunctionMissing      bool
	AliasMissing         bool
	TargetVersionMissing bool

	// AlarmsInAlarm names this deployment's alarms that are in ALARM now (ignored when its alarm configuration
	// is disabled). AlarmPollFailed reports that their state could not be read.
	AlarmsInAlarm   []string
	AlarmPollFailed bool

	// Hooks maps the hook executions the controller has dispatched to what they reported (HookPending until they
	// report). A dispatched execution must be listed, so that Decide knows it need not invoke it again; a nil map
	// means the controller does not track dispatches and Decide never re-invokes. Results may arrive here or
	// through ReportHookStatus; the first recorded one counts.
	Hooks map[string]HookResult
	// HookTimeout bounds how long a hook may take to report; 0 means DefaultHookTimeout.
	HookTimeout time.Duration

	// StopRequested is a StopDeployment call kept apart from the record (NewStopRequest), or not yet recorded with
	// RequestStop. Decide records it in the returned record (Deployment.Stop) and performs it; once recorded it is
	// ignored, so the controller may keep passing it.
	StopRequested *StopRequest
	// Controls are the traffic controls accepted for this deployment (CheckControl), oldest first, kept apart from
	// the record. Decide applies those past d.ControlsApplied, so the controller may keep passing them all.
	Controls []TrafficControl
	// BlockedBy names another deployment that must finish before this one may start (same deployment group or
	// alias); while it is set a Created deployment waits as Queued.
	BlockedBy string
}

// ActionType says what an Action asks the controller to do.
type ActionType string

// The three things Decide can ask for.
const (
	ActionSetAlias      ActionType = "SetAlias"
	ActionInvokeHook    ActionType = "InvokeHook"
	ActionStartRollback ActionType = "StartRollback"
)

// Action is one side effect for the controller to perform after persisting the record Decide returned. Exactly
// the field matching Type is set.
type Action struct {
	Type       ActionType  `json:"type"`
	SetAlias   *SetAlias   `json:"setAlias,omitempty"`
	InvokeHook *InvokeHook `json:"invokeHook,omitempty"`
	// Rollback is a new deployment record to persist and reconcile like any other.
	Rollback *Deployment `json:"rollback,omitempty"`
}

// SetAlias asks for UpdateAlias(FunctionName, AliasName, FunctionVersion, RoutingConfig). An empty
// AdditionalVersionWeights means RoutingConfig={AdditionalVersionWeights:{}}: remove any routing.
type SetAlias struct {
	FunctionName string `json:"functionName"`
	AliasName    string `json:"aliasName"`
	AliasState
}

// InvokeHook asks for an asynchronous (Event) invocation of a hook function with Payload.
type InvokeHook struct {
	FunctionName string    `json:"functionName"`
	Event        EventName `json:"lifecycleEventName"`
	DeploymentID string    `json:"deploymentId"`
	ExecutionID  string    `json:"lifecycleEventHookExecutionId"`
}

// Payload is the event CodeDeploy sends a hook: {"DeploymentId": …, "LifecycleEventHookExecutionId": …}.
func (h InvokeHook) Payload() []byte {
	b, _ := json.Marshal(struct {
		DeploymentID string `json:"DeploymentId"`
		ExecutionID  string `json:"LifecycleEventHookExecutionId"`
	}{h.DeploymentID, h.ExecutionID})
	return b
}

// Messages of the deployment failures Decide reports. The first three are AWS's own text; the others follow its
// style where AWS's wording is not public.
const (
	msgAppSpecInvalid = "The deployment failed because the AppSpec file that specifies the AWS Lambda deployment configuration is missing or has an invalid configuration."
	msgAliasMismatch  = msgAppSpecInvalid + " The Lambda function alias version does not match the current version in AppSpec file."
	msgHookFailed     = "The deployment failed because one or more of the lifecycle event validation functions failed."
	msgAlarmActive    = "One or more alarms have been activated according to the Amazon CloudWatch metrics you selected, and the affected deployments have been stopped. Activated alarms:"
	msgAlarmPoll      = "The deployment was stopped because the state of its alarms could not be retrieved from Amazon CloudWatch."
	msgManualStop     = "The deployment was manually stopped."
)

// Decide is the deployment controller's whole policy: given the record and the world as observed, it returns the
// next record and the actions that move the world toward it. It is
//   - pure: no clock, no I/O; identifiers come from ids;
//   - level-based: it derives everything from d and o, so a restarted controller just calls it again;
//   - idempotent: called again with the same observation after the actions were applied (the alias set, the
//     hook listed in o.Hooks, the rollback record stored), it returns no new action and an unchanged state.
//
// The controller must persist the returned record before performing the actions (or in the same transaction as
// recording them), so that a crash can only lose actions Decide will ask for again: alias changes are re-derived
// from the observed alias, hook invocations from o.Hooks. A terminal record yields no actions. An error means
// nothing was decided (ids failed, or the record is corrupt): the unchanged record comes back, retry later.
func Decide(d Deployment, o Observe, ids IDSource) (Deployment, []Action, error) {
	if len(d.Events) != len(LifecycleEvents) {
		return d, nil, fmt.Errorf("deployment %s: corrupt record: %d lifecycle events", d.ID, len(d.Events))
	}
	for i, n := range LifecycleEvents {
		if d.Events[i].Name != n {
			return d, nil, fmt.Errorf("deployment %s: corrupt record: lifecycle event %d is %q", d.ID, i, d.Events[i].Name)
		}
	}
	if d.Status.Terminal() {
		return d, nil, nil
	}
	if o.TimeScale <= 0 || math.IsNaN(o.TimeScale) || math.IsInf(o.TimeScale, 0) {
		o.TimeScale = 1
	}
	if o.HookTimeout <= 0 {
		o.HookTimeout = DefaultHookTimeout
	}
	next := d.clone()
	s := &decider{d: &next, o: o, ids: ids, now: o.Now, observed: normalAlias(o.Alias)}
	if err := s.run(); err != nil {
		return d, nil, err
	}
	return next, s.actions, nil
}

type decider struct {
	d        *Deployment
	o        Observe
	ids      IDSource
	now      time.Time
	observed AliasState
	actions  []Action
}

func (s *decider) run() error {
	d := s.d
	if s.o.StopRequested != nil && d.Stop == nil {
		req := *s.o.StopRequested
		if req.AutoRollbackEnabled != nil {
			v := *req.AutoRollbackEnabled
			req.AutoRollbackEnabled = &v
		}
		if req.RequestedAt.IsZero() {
			req.RequestedAt = s.now
		}
		d.Stop = &req
		// Noted when it was asked for (never after now, so the timeline stays in order).
		d.note(minTime(req.RequestedAt, s.now), KindStopRequested, "stop requested%s%s", requester(req.RequestedBy), rollbackChoice(req.AutoRollbackEnabled))
	}
	s.applyControls()
	switch d.Status {
	case StatusCreated, StatusQueued:
		if d.Stop != nil {
			return s.finish(StatusStopped, CodeManualStop, msgManualStop, s.stopRollback())
		}
		if s.o.BlockedBy != "" {
			if d.Status == StatusCreated {
				d.Status = StatusQueued
				d.note(s.now, KindQueued, "waiting for deployment %s to finish", s.o.BlockedBy)
			}
			d.WakeAt = time.Time{}
			return nil
		}
		d.Status = StatusInProgress
		d.StartTime = s.now
		d.note(s.now, KindStarted, "deployment started")
	case StatusInProgress:
	default:
		return fmt.Errorf("deployment %s: corrupt record: status %q", d.ID, d.Status)
	}
	for range 2 * len(LifecycleEvents) {
		if d.Stop != nil {
			return s.finish(StatusStopped, CodeManualStop, msgManualStop, s.stopRollback())
		}
		if stopped, err := s.checkAlarms(); stopped || err != nil {
			return err
		}
		ev := s.current()
		if ev == nil {
			return fmt.Errorf("deployment %s: corrupt record: in progress with every lifecycle event finished", d.ID)
		}
		progressed, err := s.advance(ev)
		if err != nil || !progressed {
			return err
		}
	}
	return fmt.Errorf("deployment %s: lifecycle did not settle", d.ID)
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// current is the first lifecycle event not yet finished.
func (s *decider) current() *LifecycleEvent {
	for i := range s.d.Events {
		if st := s.d.Events[i].Status; st == EventPending || st == EventInProgress {
			return &s.d.Events[i]
		}
	}
	return nil
}

func (s *decider) stopRollback() bool {
	if s.d.Stop.AutoRollbackEnabled != nil {
		return *s.d.Stop.AutoRollbackEnabled
	}
	return s.d.AutoRollback.Covers(RollbackOnStopRequested)
}

// checkAlarms stops the deployment if one of its alarms is in ALARM, or if their state cannot be read and
// ignorePollAlarmFailure is false. It runs on every call, in every phase (hooks included).
func (s *decider) checkAlarms() (bool, error) {
	d := s.d
	if !d.Alarms.Active() {
		return false, nil
	}
	var active []string
	for _, name := range d.Alarms.Names() {
		for _, a := range s.o.AlarmsInAlarm {
			if a == name {
				active = append(active, name)
				break
			}
		}
	}
	if len(active) > 0 {
		var b strings.Builder
		b.WriteString(msgAlarmActive)
		for _, a := range active {
			b.WriteString(" <" + a + ">")
		}
		d.note(s.now, KindAlarm, "in ALARM: %s", strings.Join(active, ", "))
		return true, s.finish(StatusStopped, CodeAlarmActive, b.String(), d.AutoRollback.Covers(RollbackOnAlarm))
	}
	if s.o.AlarmPollFailed {
		if !d.Alarms.IgnorePollAlarmFailure {
			d.note(s.now, KindAlarm, "alarm states could not be read")
			return true, s.finish(StatusStopped, CodeAlarmActive, msgAlarmPoll, d.AutoRollback.Covers(RollbackOnAlarm))
		}
		if !d.AlarmPollFailing {
			d.AlarmPollFailing = true
			d.note(s.now, KindAlarm, "alarm states could not be read; continuing (ignorePollAlarmFailure)")
		}
	} else if d.AlarmPollFailing {
		d.AlarmPollFailing = false
		d.note(s.now, KindAlarm, "alarm states readable again")
	}
	return false, nil
}

// advance moves the current event as far as the observation allows; true means it finished and the next event
// may start in the same call.
func (s *decider) advance(ev *LifecycleEvent) (bool, error) {
	d, res := s.d, s.d.AppSpec.Resource
	if ev.Status == EventPending && ev.Name != EventStart && d.Hold != nil {
		// Paused: no lifecycle event begins (Start only validates, so it may). Alarms, checked before, still stop
		// the deployment; a resume, a promote or a stop wakes it.
		d.WakeAt = time.Time{}
		return false, nil
	}
	if ev.Status == EventPending && (ev.Name == EventStart || ev.Name == EventAllowTraffic || ev.Name == EventEnd) {
		ev.Status, ev.StartTime = EventInProgress, s.now
	}
	if ev.Name != EventStart && (s.o.FunctionMissing || s.o.AliasMissing) {
		d.note(s.now, KindDrift, "alias %s of %s no longer exists", res.Alias, res.Name)
		return false, s.finish(StatusFailed, CodeInvalidLambdaConfiguration,
			fmt.Sprintf("The deployment failed because the Lambda function alias %s of %s no longer exists.", res.Alias, res.Name), false)
	}
	switch ev.Name {
	case EventStart:
		return s.start(ev)

	case EventBeforeAllowTraffic:
		if !d.IsRollback() && !s.aliasIs(AliasState{FunctionVersion: res.CurrentVersion}) {
			return false, s.drift(fmt.Sprintf("version %s with no additional version", res.CurrentVersion))
		}
		return s.hook(ev)

	case EventAllowTraffic:
		prog := s.progress(ev)
		want := s.stateAt(prog.Percent)
		if !d.IsRollback() && !s.scheduleState() {
			return false, s.drift(fmt.Sprintf("a state of the %s schedule from version %s to %s", d.TrafficRouting.Type, res.CurrentVersion, res.TargetVersion))
		}
		if !s.stepNoted(prog.Weight) {
			promoted := ""
			if d.Promoted {
				promoted = " (promoted)"
			}
			d.noteStep(s.now, prog.Weight, fmt.Sprintf("target version %s at %d%%%s", res.TargetVersion, prog.Percent, promoted))
		}
		d.TargetWeight = prog.Weight
		if !aliasEqual(s.observed, want) {
			s.setAlias(want)
			d.WakeAt = s.now
			return false, nil
		}
		if !prog.Complete {
			d.WakeAt = prog.NextAt
			return false, nil
		}
		ev.Status, ev.EndTime = EventSucceeded, s.now
		d.note(s.now, KindEvent, "AllowTraffic succeeded: all traffic on version %s", res.TargetVersion)
		return true, nil

	case EventAfterAllowTraffic:
		if !d.IsRollback() && !s.aliasIs(AliasState{FunctionVersion: res.TargetVersion}) {
			return false, s.drift(fmt.Sprintf("version %s with no additional version", res.TargetVersion))
		}
		return s.hook(ev)

	case EventEnd:
		ev.Status, ev.EndTime = EventSucceeded, s.now
		d.Status, d.CompleteTime, d.WakeAt = StatusSucceeded, s.now, time.Time{}
		d.note(s.now, KindSucceeded, "deployment succeeded")
		return false, nil
	}
	return false, fmt.Errorf("deployment %s: unknown lifecycle event %q", d.ID, ev.Name)
}

// stepNoted reports whether the last step entry of the timeline is for weight w (so a re-issued alias update
// after a restart adds no duplicate entry).
func (s *decider) stepNoted(w float64) bool {
	for i := len(s.d.Timeline) - 1; i >= 0; i-- {
		if e := s.d.Timeline[i]; e.Kind == KindStep && e.Weight != nil {
			return *e.Weight == w
		}
	}
	return false
}

// start validates the deployment against the function as it is (CodeDeploy's Start event).
func (s *decider) start(ev *LifecycleEvent) (bool, error) {
	d, res := s.d, s.d.AppSpec.Resource
	switch {
	case s.o.FunctionMissing:
		return false, s.finish(StatusFailed, CodeInvalidLambdaFunction,
			fmt.Sprintf("The deployment failed because the Lambda function %s specified in the AppSpec file does not exist.", res.Name), false)
	case s.o.AliasMissing:
		return false, s.finish(StatusFailed, CodeInvalidLambdaConfiguration,
			fmt.Sprintf("%s The Lambda function alias %s does not exist.", msgAppSpecInvalid, res.Alias), false)
	case s.o.TargetVersionMissing:
		return false, s.finish(StatusFailed, CodeInvalidLambdaConfiguration,
			fmt.Sprintf("%s The target version %s of the Lambda function %s does not exist.", msgAppSpecInvalid, res.TargetVersion, res.Name), false)
	}
	if !d.IsRollback() {
		switch {
		case res.CurrentVersion == res.TargetVersion && d.TrafficRouting.Type != AllAtOnce:
			// AWS gives no detail for this one.
			return false, s.finish(StatusFailed, CodeInvalidLambdaConfiguration, msgAppSpecInvalid, false)
		case s.observed.FunctionVersion != res.CurrentVersion:
			return false, s.finish(StatusFailed, CodeInvalidLambdaConfiguration, msgAliasMismatch, false)
		case len(s.observed.AdditionalVersionWeights) > 0:
			return false, s.finish(StatusFailed, CodeInvalidLambdaConfiguration,
				msgAppSpecInvalid+" The Lambda function alias routes traffic to an additional version; remove its routing configuration before deploying.", false)
		}
	}
	ev.Status, ev.EndTime = EventSucceeded, s.now
	d.note(s.now, KindEvent, "Start succeeded: alias %s of %s is on version %s", res.Alias, res.Name, s.observed.FunctionVersion)
	return true, nil
}

// hook runs a BeforeAllowTraffic or AfterAllowTraffic event.
func (s *decider) hook(ev *LifecycleEvent) (bool, error) {
	d := s.d
	if ev.Status == EventPending {
		if ev.Hook == "" {
			ev.Status = EventSkipped
			d.note(s.now, KindEvent, "%s skipped: no hook", ev.Name)
			return true, nil
		}
		id, err := s.ids.HookExecutionID()
		if err != nil {
			return false, err
		}
		ev.Status, ev.StartTime, ev.HookExecutionID, ev.HookResult = EventInProgress, s.now, id, HookPending
		d.note(s.now, KindHookInvoked, "%s hook %s invoked (execution %s)", ev.Name, ev.Hook, id)
		s.invoke(ev)
		d.WakeAt = ev.StartTime.Add(s.o.HookTimeout)
		return false, nil
	}
	if ev.HookResult == HookPending {
		if r := s.o.Hooks[ev.HookExecutionID]; r == HookSucceeded || r == HookFailed {
			ev.HookResult, ev.HookReportedAt = r, s.now
		}
	}
	switch ev.HookResult {
	case HookSucceeded:
		ev.Status, ev.EndTime = EventSucceeded, s.now
		d.note(s.now, KindHookSucceeded, "%s hook %s succeeded", ev.Name, ev.Hook)
		return true, nil
	case HookFailed:
		ev.Diagnostics = &Diagnostics{ErrorCode: "ScriptFailed", ScriptName: ev.Hook,
			Message: fmt.Sprintf("The %s hook %s reported Failed.", ev.Name, ev.Hook)}
		d.note(s.now, KindHookFailed, "%s hook %s failed", ev.Name, ev.Hook)
		return false, s.finish(StatusFailed, CodeHookExecutionFailure, msgHookFailed, d.AutoRollback.Covers(RollbackOnFailure))
	}
	deadline := ev.StartTime.Add(s.o.HookTimeout)
	if !s.now.Before(deadline) {
		ev.Diagnostics = &Diagnostics{ErrorCode: "ScriptTimedOut", ScriptName: ev.Hook,
			Message: fmt.Sprintf("The %s hook %s did not report a status within %s.", ev.Name, ev.Hook, s.o.HookTimeout)}
		d.note(s.now, KindHookTimedOut, "%s hook %s timed out after %s", ev.Name, ev.Hook, s.o.HookTimeout)
		return false, s.finish(StatusFailed, CodeTimeout,
			fmt.Sprintf("The deployment failed because the %s lifecycle event hook %s did not report a status within %s.", ev.Name, ev.Hook, s.o.HookTimeout),
			d.AutoRollback.Covers(RollbackOnFailure))
	}
	if s.o.Hooks != nil {
		if _, dispatched := s.o.Hooks[ev.HookExecutionID]; !dispatched {
			s.invoke(ev)
		}
	}
	d.WakeAt = deadline
	return false, nil
}

func (s *decider) invoke(ev *LifecycleEvent) {
	s.actions = append(s.actions, Action{Type: ActionInvokeHook, InvokeHook: &InvokeHook{
		FunctionName: ev.Hook, Event: ev.Name, DeploymentID: s.d.ID, ExecutionID: ev.HookExecutionID,
	}})
}

func (s *decider) setAlias(want AliasState) {
	res := s.d.AppSpec.Resource
	s.actions = append(s.actions, Action{Type: ActionSetAlias, SetAlias: &SetAlias{
		FunctionName: res.Name, AliasName: res.Alias, AliasState: want,
	}})
}

// stateAt is the alias state that gives the target version p %.
func (s *decider) stateAt(p int) AliasState {
	res := s.d.AppSpec.Resource
	if p >= 100 || res.CurrentVersion == res.TargetVersion {
		return AliasState{FunctionVersion: res.TargetVersion}
	}
	if p <= 0 {
		return AliasState{FunctionVersion: res.CurrentVersion}
	}
	return AliasState{FunctionVersion: res.CurrentVersion, AdditionalVersionWeights: map[string]float64{res.TargetVersion: PercentWeight(p)}}
}

// scheduleState reports whether the observed alias is a state this deployment may have put it in: untouched, any
// increment of its schedule, or the final one. Any increment, not only past ones, so that a clock stepping back a
// little never reads as someone else's change.
func (s *decider) scheduleState() bool {
	if s.aliasIs(s.stateAt(0)) {
		return true
	}
	for _, st := range s.d.TrafficRouting.Steps() {
		if s.aliasIs(s.stateAt(st.Percent)) {
			return true
		}
	}
	return false
}

func (s *decider) aliasIs(want AliasState) bool { return aliasEqual(s.observed, want) }

// drift fails a deployment whose alias was changed behind its back. It is not rolled back: the alias now belongs
// to whoever changed it, and a rollback would overwrite their decision.
func (s *decider) drift(expected string) error {
	res := s.d.AppSpec.Resource
	found := describeAlias(s.observed)
	s.d.note(s.now, KindDrift, "alias %s changed outside the deployment: expected %s, found %s", res.Alias, expected, found)
	return s.finish(StatusFailed, CodeInvalidLambdaConfiguration,
		fmt.Sprintf("The deployment failed because the Lambda function alias %s was changed outside of the deployment: it routes %s, the deployment expected %s.", res.Alias, found, expected), false)
}

// finish ends the deployment: the event in progress fails, the ones not started are skipped. With rollback, and
// if the deployment got past Start (so it may have moved the alias), the alias is put back on CurrentVersion with
// no routing and a rollback deployment is created to record (and, if needed, finish) that.
func (s *decider) finish(status Status, code ErrorCode, message string, rollback bool) error {
	d := s.d
	started := d.Events[0].Status == EventSucceeded
	var rb *Deployment
	if rollback && started && !d.IsRollback() {
		id, err := s.ids.DeploymentID()
		if err != nil {
			return err
		}
		r := newRollback(*d, id, s.now)
		rb = &r
	}
	for i := range d.Events {
		switch ev := &d.Events[i]; ev.Status {
		case EventInProgress:
			ev.Status, ev.EndTime = EventFailed, s.now
		case EventPending:
			ev.Status = EventSkipped
		}
	}
	d.Status, d.CompleteTime, d.WakeAt = status, s.now, time.Time{}
	d.Hold = nil // a finished deployment holds nothing
	d.ErrorInformation = &ErrorInformation{Code: code, Message: message}
	kind := KindFailed
	if status == StatusStopped {
		kind = KindStopped
	}
	d.note(s.now, kind, "%s: %s", code, message)
	switch {
	case rb != nil:
		verb := "failed"
		if status == StatusStopped {
			verb = "terminated"
		}
		d.RollbackInfo = &RollbackInfo{RollbackDeploymentID: rb.ID,
			RollbackMessage: fmt.Sprintf("Deployment %s %s. Automatic rollback is triggered with a DeploymentId %s.", d.ID, verb, rb.ID)}
		res := d.AppSpec.Resource
		d.TargetWeight = 0
		d.note(s.now, KindRollback, "rolling back with deployment %s: alias %s back to version %s", rb.ID, res.Alias, res.CurrentVersion)
		if want := (AliasState{FunctionVersion: res.CurrentVersion}); !aliasEqual(s.observed, want) {
			s.setAlias(want)
		}
		s.actions = append(s.actions, Action{Type: ActionStartRollback, Rollback: rb})
	case rollback && !d.IsRollback():
		d.RollbackInfo = &RollbackInfo{RollbackMessage: fmt.Sprintf(
			"Automatic rollback was not triggered because deployment %s ended before it changed the Lambda function alias.", d.ID)}
	}
	return nil
}

// normalAlias puts an observed alias in canonical form: version numbers without leading zeros, zero weights
// dropped (a 0 weight routes nothing).
func normalAlias(a AliasState) AliasState {
	out := AliasState{FunctionVersion: canonicalOrSame(a.FunctionVersion)}
	for v, w := range a.AdditionalVersionWeights {
		if w == 0 {
			continue
		}
		if out.AdditionalVersionWeights == nil {
			out.AdditionalVersionWeights = map[string]float64{}
		}
		out.AdditionalVersionWeights[canonicalOrSame(v)] = w
	}
	return out
}

func canonicalOrSame(v string) string {
	if c, ok := canonicalVersion(v); ok {
		return c
	}
	return v
}

func aliasEqual(a, b AliasState) bool {
	if a.FunctionVersion != b.FunctionVersion || len(a.AdditionalVersionWeights) != len(b.AdditionalVersionWeights) {
		return false
	}
	for v, w := range a.AdditionalVersionWeights {
		x, ok := b.AdditionalVersionWeights[v]
		if !ok || math.Abs(x-w) > 1e-9 {
			return false
		}
	}
	return true
}

func describeAlias(a AliasState) string {
	if len(a.AdditionalVersionWeights) == 0 {
		return fmt.Sprintf("version %s with no additional version", a.FunctionVersion)
	}
	keys := make([]string, 0, len(a.AdditionalVersionWeights))
	for v := range a.AdditionalVersionWeights {
		keys = append(keys, v)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, v := range keys {
		parts[i] = fmt.Sprintf("%g to version %s", a.AdditionalVersionWeights[v], v)
	}
	return fmt.Sprintf("version %s with %s", a.FunctionVersion, strings.Join(parts, ", "))
}
