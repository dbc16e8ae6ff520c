package progress

import (
	"os"

	"golang.org/x/term"

	"github.com/sluice-dev/sluice/internal/stackdeploy"
)

// What the view shows is stackdeploy's state of a traffic shift, as `sluice deploy` reads it from CodeDeploy: one set
// of types, no copies.
type (
	// Snapshot is everything shown at one moment. Now is the moment; zero means time.Now().
	Snapshot = stackdeploy.ShiftSnapshot
	// Function is the state of one function's deployment, as the deploy command last saw it.
	Function = stackdeploy.ShiftState
	// Alarm is a CloudWatch alarm watched by a deployment.
	Alarm = stackdeploy.ShiftAlarm
	// Hook is a lifecycle hook of a deployment.
	Hook = stackdeploy.ShiftHook
)

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
