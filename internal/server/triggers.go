package server

import (
	"context"
	"log/slog"
	"time"

	"github.com/sluice-dev/sluice/internal/codedeploy"
	"github.com/sluice-dev/sluice/internal/codedeploy/controller"
	"github.com/sluice-dev/sluice/internal/sns"
	"github.com/sluice-dev/sluice/internal/sns/topics"
)

// triggerLookback is how far back a starting process looks for deployment events it may not have sent: less
// than the day PublishOnce remembers what it sent, so nothing is sent twice.
const triggerLookback = 23 * time.Hour

// deploymentTriggers publishes CodeDeploy's trigger notifications: for every deployment record written, the
// events its state shows (codedeploy.TriggeredEvents) go to the triggers of its group that name them. Every
// process follows the deployments; PublishOnce, keyed by deployment, event and trigger, sends each once.
func deploymentTriggers(ctx context.Context, deployments *controller.Controller, notifications *topics.Service, region, account string, log *slog.Logger) {
	deployments.FollowDeployments(ctx, triggerLookback, func(d codedeploy.Deployment) {
		events := codedeploy.TriggeredEvents(d)
		if len(events) == 0 {
			return
		}
		g, err := deployments.GetDeploymentGroup(ctx, d.ApplicationName, d.DeploymentGroupName)
		if err != nil || len(g.Triggers) == 0 {
			return // a deleted group has no triggers left
		}
		for _, t := range g.Triggers {
			for _, e := range events {
				if !t.Subscribes(e) {
					continue
				}
				subject, body := codedeploy.TriggerNotification(t, e, d, region, account)
				key := "codedeploy\x00" + d.ID + "\x00" + e + "\x00" + t.Name + "\x00" + t.TargetARN
				if _, err := notifications.PublishOnce(ctx, t.TargetARN, sns.Message{Subject: sns.SubjectFrom(subject), Body: string(body)}, key); err != nil && ctx.Err() == nil {
					log.Warn("deployment trigger failed", "deployment", d.ID, "trigger", t.Name, "event", e, "err", err)
				}
			}
		}
	})
}
