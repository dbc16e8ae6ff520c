package cli

import (
	"github.com/sluice-dev/sluice/internal/cli/progress"
	"github.com/sluice-dev/sluice/internal/stackdeploy"
)

// progressObserver renders the deploy engine's reports on traffic shifts with a progress.Renderer. Write errors
// are dropped: the view is best effort and never fails a deploy.
type progressObserver struct{ r progress.Renderer }

func (p progressObserver) Shifting(s stackdeploy.ShiftSnapshot) { _ = p.r.Render(s) }

func (p progressObserver) ShiftsEnded(final stackdeploy.ShiftSnapshot) { _ = p.r.Close(final) }
