package cli

import (
	"sync"

	"github.com/sluice-dev/sluice/internal/cli/progress"
	"github.com/sluice-dev/sluice/internal/stackdeploy"
)

// progressObserver renders the traffic shifts a stack operation started (shiftWatch reads them) with a
// progress.Renderer. Write errors are dropped: the view is best effort and never fails a deploy. It keeps the latest
// report, so that a deploy interrupted mid-shift can say which CodeDeploy deployments go on without it.
type progressObserver struct {
	r progress.Renderer

	mu     sync.Mutex
	latest []stackdeploy.ShiftState
}

func (p *progressObserver) Shifting(s stackdeploy.ShiftSnapshot) {
	p.remember(s)
	_ = p.r.Render(s)
}

func (p *progressObserver) ShiftsEnded(final stackdeploy.ShiftSnapshot) {
	p.remember(final)
	_ = p.r.Close(final)
}

func (p *progressObserver) remember(s stackdeploy.ShiftSnapshot) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.latest = append(p.latest[:0], s.Functions...)
}

// unfinished returns the shifts whose deployment had not succeeded when last seen: those still moving traffic, or
// rolling it back.
func (p *progressObserver) unfinished() []stackdeploy.ShiftState {
	p.mu.Lock()
	defer p.mu.Unlock()
	var open []stackdeploy.ShiftState
	for _, s := range p.latest {
		if s.DeploymentID != "" && s.Status != "Succeeded" {
			open = append(open, s)
		}
	}
	return open
}
