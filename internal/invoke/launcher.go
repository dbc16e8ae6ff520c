package invoke

import (
	"context"
	"net"
	"time"

	"github.com/sluice-dev/sluice/internal/sandbox"
)

// sandboxes is the seam between the orchestration in this package (pools, admission, timeouts, reaping) and the
// kernel: it starts function processes and tells whose a Runtime API connection is. Production uses hostSandboxes;
// tests substitute fake runtimes that speak the Runtime API from goroutines (see Options.sandboxes).
type sandboxes interface {
	// Detect reports the isolation mechanisms processes will get (it decides where /tmp lives).
	Detect() sandbox.Mechanisms
	// Start starts the function process described by spec. A nil process comes with a non-nil error; an error
	// wrapping sandbox.ErrExecFailed means the runtime's command could not be executed.
	Start(ctx context.Context, spec sandbox.Spec) (process, error)
	// PeerUID is the uid owning the far end of a loopback connection: the Runtime API admits only the
	// environment's own.
	PeerUID(c net.Conn) (uint32, error)
}

// process is what an environment uses of its function process (*sandbox.Process in production).
type process interface {
	Done() <-chan struct{}
	Wait() sandbox.Exit
	Kill()
	Pid() int
	PeakMemoryBytes() uint64
	FlushOutput(timeout time.Duration)
}

var _ process = (*sandbox.Process)(nil)

// hostSandboxes runs function processes in real sandboxes (package sandbox).
type hostSandboxes struct{}

func (hostSandboxes) Detect() sandbox.Mechanisms { return sandbox.Detect() }

func (hostSandboxes) Start(ctx context.Context, spec sandbox.Spec) (process, error) {
	p, err := sandbox.Start(ctx, spec)
	if p == nil {
		return nil, err // never a non-nil interface holding a nil *Process
	}
	return p, err
}

func (hostSandboxes) PeerUID(c net.Conn) (uint32, error) { return sandbox.PeerUID(c) }
