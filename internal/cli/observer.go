package cli

import (
	"github.com/sluice-dev/sluice/internal/cli/progress"
	"github.com/sluice-dev/sluice/internal/deployer"
)

// progressObserver renders the deploy engine's reports on traffic shifts with a progress.Renderer. Write errors
// are dropped: the view is best effort and never fails a deploy.
type progressObserver struct{ r progress.Renderer }

func (p progressObserver) Shifting(s deployer.ShiftSnapshot) { _ = p.r.Render(toProgress(s)) }

func (p progressObserver) ShiftsEnded(final deployer.ShiftSnapshot) { _ = p.r.Close(toProgress(final)) }

func toProgress(s deployer.ShiftSnapshot) progress.Snapshot {
	out := progress.Snapshot{Stack: s.Stack, Now: s.Now}
	for _, f := range s.Functions {
		pf := progress.Function{Name: f.Name, Alias: f.Alias, FromVersion: f.FromVersion, ToVersion: f.ToVersion,
			DeploymentID: f.DeploymentID, Status: f.Status, Config: f.Config, NewWeight: f.NewWeight, Step: f.Step,
			NextShiftAt: f.NextShiftAt, NewInvocations: f.NewInvocations, NewErrors: f.NewErrors, Message: f.Message}
		for _, a := range f.Alarms {
			pf.Alarms = append(pf.Alarms, progress.Alarm{Name: a.Name, State: a.State})
		}
		for _, h := range f.Hooks {
			pf.Hooks = append(pf.Hooks, progress.Hook{Event: h.Event, Function: h.Function, Status: h.Status})
		}
		out.Functions = append(out.Functions, pf)
	}
	return out
}
