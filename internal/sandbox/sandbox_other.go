//go:build !linux

package sandbox

import (
	"context"
	"errors"
	"net"
	"time"
)

// Process is one running sandbox (Linux only).
type Process struct{}

// MaybeRunInit does nothing outside Linux.
func MaybeRunInit() {}

// Detect reports that no mechanism is available outside Linux.
func Detect() Mechanisms {
	return Mechanisms{Notes: []string{"sandboxing is only implemented on Linux"}}
}

// Start always fails outside Linux.
func Start(ctx context.Context, spec Spec) (*Process, error) { return nil, ErrUnsupported }

// CleanupStale does nothing outside Linux.
func CleanupStale(cgroupParent string) (int, error) { return 0, nil }

func (p *Process) Pid() int                  { return 0 }
func (p *Process) Wait() Exit                { return Exit{Err: ErrUnsupported} }
func (p *Process) Kill()                     {}
func (p *Process) Done() <-chan struct{}     { c := make(chan struct{}); close(c); return c }
func (p *Process) PeakMemoryBytes() uint64   { return 0 }
func (p *Process) Mechanisms() Mechanisms    { return Mechanisms{} }
func (p *Process) FlushOutput(time.Duration) {}

// Prewarm does nothing outside Linux.
func Prewarm(int) {}

func allowedCPUs() []int { return nil }

// ErrPeerUnknown is returned by PeerUID when the connecting socket is unknown.
var ErrPeerUnknown = errors.New("sandbox: the connecting socket is unknown")

// PeerUID is not available outside Linux.
func PeerUID(net.Conn) (uint32, error) { return 0, ErrUnsupported }
