package codedeploy

import (
	"fmt"
	"time"
)

// TimelineKind classifies a timeline entry.
type TimelineKind string

// Timeline entry kinds.
const (
	KindCreated       TimelineKind = "created"
	KindQueued        TimelineKind = "queued"
	KindStarted       TimelineKind = "started"
	KindEvent         TimelineKind = "event" // a lifecycle event started, succeeded, failed or was skipped
	KindHookInvoked   TimelineKind = "hookInvoked"
	KindHookSucceeded TimelineKind = "hookSucceeded"
	KindHookFailed    TimelineKind = "hookFailed"
	KindHookTimedOut  TimelineKind = "hookTimedOut"
	KindStep          TimelineKind = "step" // the alias is asked to give the target version Weight
	KindAlarm         TimelineKind = "alarm"
	KindStopRequested TimelineKind = "stopRequested"
	KindDrift         TimelineKind = "aliasDrift"
	KindRollback      TimelineKind = "rollback"
	KindSucceeded     TimelineKind = "succeeded"
	KindFailed        TimelineKind = "failed"
	KindStopped       TimelineKind = "stopped"
	KindPrewarmed     TimelineKind = "prewarmed" // the controller started environments of the target ahead of traffic
)

// NotePrewarmed records that the controller pre-warmed n environments of the target version.
func (d *Deployment) NotePrewarmed(now time.Time, n int) {
	d.Prewarmed = true
	d.note(now, KindPrewarmed, "started %d environment(s) of version %s ahead of the first traffic shift", n, d.AppSpec.Resource.TargetVersion)
}

// TimelineEntry is one line of a deployment's history. Decide appends an entry only when something changes, so
// calling it repeatedly with the same observation adds nothing.
type TimelineEntry struct {
	Time   time.Time    `json:"time"`
	Kind   TimelineKind `json:"kind"`
	Detail string       `json:"detail,omitempty"`
	// Weight is the target version's weight for KindStep entries.
	Weight *float64 `json:"weight,omitempty"`
}

func (d *Deployment) note(now time.Time, kind TimelineKind, format string, args ...any) {
	d.Timeline = append(d.Timeline, TimelineEntry{Time: now, Kind: kind, Detail: fmt.Sprintf(format, args...)})
}

func (d *Deployment) noteStep(now time.Time, w float64, detail string) {
	d.Timeline = append(d.Timeline, TimelineEntry{Time: now, Kind: KindStep, Detail: detail, Weight: &w})
}
