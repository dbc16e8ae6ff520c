package codedeploy

import (
	"fmt"
	"time"

	"github.com/sluice-dev/sluice/internal/fault"
)

// ControlKind names one of Sluice's traffic controls of a running deployment: operations CodeDeploy does not have
// for Lambda (it offers only StopDeployment), served as extensions of its API.
type ControlKind string

// The four traffic controls, named as their operations.
const (
	// ControlPause holds the traffic where it is: no step is taken and no lifecycle event begins, while a hook
	// already running finishes and alarms still stop and roll back.
	ControlPause ControlKind = "PauseDeployment"
	// ControlResume lets a paused deployment go on: the wait of the step it was paused in resumes where it stopped.
	ControlResume ControlKind = "ResumeDeployment"
	// ControlSkipWait takes the next traffic step now; its own wait starts then.
	ControlSkipWait ControlKind = "SkipWaitTime"
	// ControlPromote sends all traffic to the target version as soon as the pre-traffic hook (if still running)
	// has succeeded; the post-traffic hook still runs.
	ControlPromote ControlKind = "PromoteDeployment"
)

// MaxTrafficControls bounds the traffic controls one deployment accepts, so that a client calling in a loop cannot
// grow its record and timeline without end.
const MaxTrafficControls = 100

// Exception names of the traffic controls beyond those StopDeployment answers.
const (
	ErrInvalidDeploymentStatus     = "InvalidDeploymentStatusException"
	ErrUnsupportedActionForType    = "UnsupportedActionForDeploymentTypeException"
	ErrTrafficControlLimitExceeded = "LimitExceededException"
)

// TrafficControl is one accepted traffic-control call, kept with the deployment's intents (apart from the record)
// until Decide applies it (Observe.Controls).
type TrafficControl struct {
	Kind ControlKind `json:"kind"`
	// By is the caller's principal ARN, recorded in the timeline.
	By          string    `json:"by,omitempty"`
	RequestedAt time.Time `json:"requestedAt"`
}

// Hold is a pause in effect: since when, and who asked.
type Hold struct {
	Since time.Time `json:"since"`
	By    string    `json:"by,omitempty"`
}

// controlState is what the traffic controls decided so far: the record's, with the ones not yet applied folded in.
type controlState struct {
	paused, promoted bool
	skips            int
}

func foldControls(d Deployment, pending []TrafficControl) controlState {
	st := controlState{paused: d.Hold != nil, promoted: d.Promoted}
	for _, c := range pending {
		switch c.Kind {
		case ControlPause:
			st.paused = true
		case ControlResume:
			st.paused = false
		case ControlPromote:
			st.promoted, st.paused = true, false
		case ControlSkipWait:
			st.skips++
		}
	}
	return st
}

// PendingControls is the part of all (a deployment's accepted controls, oldest first) that d has not applied yet.
func PendingControls(d Deployment, all []TrafficControl) []TrafficControl {
	if d.ControlsApplied >= len(all) || d.ControlsApplied < 0 {
		return nil
	}
	return all[d.ControlsApplied:]
}

// CheckControl validates a traffic-control call against the record and the controls accepted before it (all,
// oldest first; those d has not applied yet count as done). A completed deployment answers
// DeploymentAlreadyCompletedException, a rollback deployment UnsupportedActionForDeploymentTypeException, a call
// that does not fit where the deployment stands InvalidDeploymentStatusException (resume what is not paused, skip
// with no step left, pause or promote once all traffic has moved), and a deployment that accepted
// MaxTrafficControls already LimitExceededException. Decide checks each control again when it applies it, since
// the schedule may have moved meanwhile.
func CheckControl(d Deployment, all []TrafficControl, kind ControlKind) error {
	if d.Status.Terminal() {
		return fault.New(ErrDeploymentAlreadyCompleted, "Deployment %s has already completed.", d.ID)
	}
	if d.IsRollback() {
		return fault.New(ErrUnsupportedActionForType,
			"Deployment %s is a rollback deployment: it puts the alias back at once and cannot be paused, resumed, promoted or skipped.", d.ID)
	}
	if len(all) >= MaxTrafficControls {
		return fault.New(ErrTrafficControlLimitExceeded, "Deployment %s has received the maximum of %d traffic controls.", d.ID, MaxTrafficControls)
	}
	st := foldControls(d, PendingControls(d, all))
	shift := d.Event(EventAllowTraffic)
	if shift == nil {
		return fmt.Errorf("deployment %s: corrupt record: no AllowTraffic event", d.ID)
	}
	res := d.AppSpec.Resource
	shifted := shift.Status != EventPending && shift.Status != EventInProgress
	invalid := func(format string, args ...any) error {
		return fault.New(ErrInvalidDeploymentStatus, format, args...)
	}
	switch kind {
	case ControlPause:
		switch {
		case shifted:
			return invalid("Deployment %s has already shifted all traffic to version %s; there is no traffic shift left to pause.", d.ID, res.TargetVersion)
		case st.promoted:
			return invalid("Deployment %s is being promoted; it can no longer be paused.", d.ID)
		case st.paused:
			return invalid("Deployment %s is already paused.", d.ID)
		}
	case ControlResume:
		if !st.paused {
			return invalid("Deployment %s is not paused.", d.ID)
		}
	case ControlPromote:
		switch {
		case shifted:
			return invalid("Deployment %s has already shifted all traffic to version %s.", d.ID, res.TargetVersion)
		case st.promoted:
			return invalid("Deployment %s is already being promoted.", d.ID)
		}
	case ControlSkipWait:
		if st.promoted {
			return invalid("Deployment %s is being promoted; there is no wait left to skip.", d.ID)
		}
		if shift.Status != EventInProgress {
			if shifted {
				return invalid("Deployment %s has already shifted all traffic to version %s; there is no wait left to skip.", d.ID, res.TargetVersion)
			}
			return invalid("Deployment %s is not shifting traffic yet (its %s lifecycle event has not finished); there is no wait to skip.", d.ID, d.pendingEventName())
		}
		steps := d.TrafficRouting.Steps()
		if k := stepOfWeight(steps, d.TargetWeight); k+st.skips+1 >= len(steps) {
			return invalid("Deployment %s is at its last traffic step (%d%% on version %s); there is no wait left to skip.",
				d.ID, steps[min(k+st.skips, len(steps)-1)].Percent, res.TargetVersion)
		}
	default:
		return fmt.Errorf("unknown traffic control %q", kind)
	}
	return nil
}

// pendingEventName names the first lifecycle event before AllowTraffic that has not finished (Start when none).
func (d *Deployment) pendingEventName() EventName {
	for _, ev := range d.Events {
		if ev.Name == EventAllowTraffic {
			break
		}
		if ev.Status == EventPending || ev.Status == EventInProgress {
			return ev.Name
		}
	}
	return EventStart
}

// stepOfWeight is the index of the schedule step whose weight is w (the last step not above it).
func stepOfWeight(steps []Step, w float64) int {
	k := 0
	for i, st := range steps {
		if st.Weight() <= w+1e-9 {
			k = i
		}
	}
	return k
}

// applyControls applies the controls of the observation that the record has not applied yet, in the order they
// were accepted, each at the time it was asked for (never after now). A control that no longer fits — the
// schedule reached its last step before a skip was applied, say — is noted as ignored.
func (s *decider) applyControls() {
	d := s.d
	for _, c := range PendingControls(*d, s.o.Controls) {
		at := s.now
		if !c.RequestedAt.IsZero() && c.RequestedAt.Before(at) {
			at = c.RequestedAt
		}
		if last := len(d.Timeline); last > 0 && at.Before(d.Timeline[last-1].Time) {
			at = d.Timeline[last-1].Time // the timeline stays in order
		}
		if why := s.applyControl(c, at); why != "" {
			d.note(at, KindControlIgnored, "%s by %s ignored: %s", c.Kind, by(c.By), why)
		}
		d.ControlsApplied++
	}
}

func by(principal string) string {
	if principal == "" {
		return "an unknown caller"
	}
	return principal
}

// applyControl applies one control at time at, or returns why it does not apply.
func (s *decider) applyControl(c TrafficControl, at time.Time) string {
	d, res := s.d, s.d.AppSpec.Resource
	shift := d.Event(EventAllowTraffic)
	shifting := shift.Status == EventInProgress
	shifted := shift.Status != EventPending && !shifting
	switch c.Kind {
	case ControlPause:
		switch {
		case shifted:
			return "all traffic has already shifted"
		case d.Promoted:
			return "the deployment is being promoted"
		case d.Hold != nil:
			return "the deployment is already paused"
		}
		d.Hold = &Hold{Since: at, By: c.By}
		percent := 0
		if shifting {
			percent = s.progress(shift).Percent
		}
		d.note(at, KindPaused, "paused by %s: traffic held at %d%% on version %s", by(c.By), percent, res.TargetVersion)
	case ControlResume:
		if d.Hold == nil {
			return "the deployment is not paused"
		}
		paused := at.Sub(d.Hold.Since)
		if shifting {
			d.ScheduleOrigin = s.origin(shift).Add(paused)
		}
		d.Hold = nil
		d.note(at, KindResumed, "resumed by %s after %s paused", by(c.By), paused.Round(time.Millisecond))
	case ControlPromote:
		switch {
		case shifted:
			return "all traffic has already shifted"
		case d.Promoted:
			return "the deployment is already being promoted"
		}
		d.Promoted, d.Hold = true, nil
		d.note(at, KindPromoted, "promoted by %s: all traffic to version %s once the remaining pre-traffic hook has succeeded", by(c.By), res.TargetVersion)
	case ControlSkipWait:
		switch {
		case d.Promoted:
			return "the deployment is being promoted"
		case !shifting:
			return "the deployment is not shifting traffic"
		}
		clock := at
		if d.Hold != nil {
			clock = d.Hold.Since // a paused schedule stands still: the skip moves the step it holds
		}
		steps := d.TrafficRouting.Steps()
		origin := s.origin(shift)
		k := d.TrafficRouting.ProgressAt(origin, clock, s.o.TimeScale).Step
		if k+1 >= len(steps) {
			return "the deployment is at its last traffic step"
		}
		d.ScheduleOrigin = clock.Add(-ScaledMinutes(steps[k+1].OffsetMinutes, s.o.TimeScale))
		held := ""
		if d.Hold != nil {
			held = ", still paused"
		}
		d.note(at, KindWaitSkipped, "wait skipped by %s: version %s to %d%% now%s", by(c.By), res.TargetVersion, steps[k+1].Percent, held)
	default:
		return fmt.Sprintf("unknown traffic control %q", c.Kind)
	}
	return ""
}

// origin is when the traffic schedule counts from: AllowTraffic's start, moved later by pauses and earlier by
// skipped waits.
func (s *decider) origin(shift *LifecycleEvent) time.Time {
	if !s.d.ScheduleOrigin.IsZero() {
		return s.d.ScheduleOrigin
	}
	return shift.StartTime
}

// progress is where the traffic schedule stands for the AllowTraffic event shift: at 100 % once promoted; frozen
// at the moment of the pause while paused (never complete, no next step); otherwise on the schedule from origin.
func (s *decider) progress(shift *LifecycleEvent) Progress {
	d := s.d
	steps := d.TrafficRouting.Steps()
	if d.Promoted {
		return Progress{Step: len(steps) - 1, Percent: 100, Weight: 1, Complete: true}
	}
	origin, clock := s.origin(shift), s.now
	if d.Hold != nil {
		clock = d.Hold.Since
	}
	if clock.Before(origin) {
		clock = origin
	}
	p := d.TrafficRouting.ProgressAt(origin, clock, s.o.TimeScale)
	if d.Hold != nil {
		p.Complete, p.NextAt = false, time.Time{}
	}
	return p
}

// StatusMessages are deploymentInfo.deploymentStatusMessages: how a paused deployment (whose status stays
// InProgress) says it is paused, and a promoted one that it is being promoted.
func (d *Deployment) StatusMessages() []string {
	var out []string
	res := d.AppSpec.Resource
	if d.Hold != nil && !d.Status.Terminal() {
		out = append(out, fmt.Sprintf("Paused by %s at %s: the alias %s holds %g%% of its traffic on version %s until the deployment is resumed, promoted or stopped.",
			by(d.Hold.By), d.Hold.Since.UTC().Format(time.RFC3339), res.Alias, d.TargetWeight*100, res.TargetVersion))
	}
	if d.Promoted && d.Status == StatusInProgress {
		out = append(out, fmt.Sprintf("Promoted: all traffic goes to version %s once the remaining pre-traffic hook has succeeded.", res.TargetVersion))
	}
	return out
}
