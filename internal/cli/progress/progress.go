package progress

import (
	"os"
	"time"

	"golang.org/x/term"
)

// Function is the state of one function's deployment, as the deploy command last saw it.
type Function struct {
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
	Alarms      []Alarm
	Hooks       []Hook
	// NewInvocations and NewErrors are the blast radius: requests ToVersion served so far, and how many failed.
	NewInvocations, NewErrors int64
	// Message is a failure or rollback reason, or a final note.
	Message string
}

// Alarm is a CloudWatch alarm watched by a deployment. State is OK, ALARM or INSUFFICIENT_DATA.
type Alarm struct {
	Name, State string
}

// Hook is a lifecycle hook of a deployment. Event is BeforeAllowTraffic or AfterAllowTraffic; Status is
// Pending, InProgress, Succeeded, Failed or Skipped.
type Hook struct {
	Event, Function, Status string
}

// Snapshot is everything shown at one moment. Now is the moment; zero means time.Now().
type Snapshot struct {
	Stack     string
	Functions []Function
	Now       time.Time
}

// Renderer shows a sequence of snapshots. Render may be called as often as the caller polls; Close shows the
// final state and ends the output; calls after Close do nothing. Implementations here are safe for concurrent
// use, and return only the writer's errors.
type Renderer interface {
	Render(s Snapshot) error
	Close(final Snapshot) error
}

// IsTerminal reports whether f is a terminal, where NewTerminal's redraws make sense.
func IsTerminal(f *os.File) bool {
	return f != nil && term.IsTerminal(int(f.Fd()))
}

// TerminalWidth returns f's width in columns, or 0 when f is not a terminal (NewTerminal then assumes 80).
// The width is read once; a resize mid-deployment is not followed.
func TerminalWidth(f *os.File) int {
	if f == nil {
		return 0
	}
	w, _, err := term.GetSize(int(f.Fd()))
	if err != nil {
		return 0
	}
	return w
}
