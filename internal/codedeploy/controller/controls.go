package controller

import (
	"context"

	"github.com/sluice-dev/sluice/internal/codedeploy"
	"github.com/sluice-dev/sluice/internal/store"
)

// ControlDeployment accepts a traffic control — pause, resume, skip the wait, promote (Sluice's extensions of
// CodeDeploy) — by principal: checked against the record and the controls accepted before it
// (codedeploy.CheckControl), it is appended to the deployment's intents, where no pass writes, and the next pass
// applies it. As for StopDeployment, a control is refused only if the deployment has completed when it is checked,
// so an accepted control is never lost; and an alarm rollback wins: a pass that decided the rollback without the
// control cannot save (the intents moved), and decides again — the alarm still in ALARM — with it; a control
// checked after the rollback was saved is refused with DeploymentAlreadyCompletedException.
func (c *Controller) ControlDeployment(ctx context.Context, id string, kind codedeploy.ControlKind, principal string) error {
	return c.o.Store.Update(ctx, func(tx store.Tx) error {
		d, err := c.loadDeployment(tx, id)
		if err != nil {
			return err
		}
		in, err := loadIntents(tx, id)
		if err != nil {
			return err
		}
		if err := codedeploy.CheckControl(d, in.Controls, kind); err != nil {
			return err
		}
		in.Controls = append(in.Controls, codedeploy.TrafficControl{Kind: kind, By: principal, RequestedAt: c.o.Now()})
		return putIntents(tx, id, in)
	})
}
