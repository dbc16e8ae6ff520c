package codedeployapi

import (
	"context"

	"github.com/sluice-dev/sluice/internal/api/gateway"
	"github.com/sluice-dev/sluice/internal/codedeploy"
)

// Sluice's traffic controls: PauseDeployment, ResumeDeployment, SkipWaitTime and PromoteDeployment. CodeDeploy
// has none of them for Lambda (only StopDeployment), so no stock client sends them; they take the JSON 1.1
// protocol of the rest of the edge — X-Amz-Target CodeDeploy_20141006.<Operation>, input {"deploymentId": …},
// output {} —, are authorized as codedeploy:<Operation> on the deployment's group like StopDeployment, and answer
// as soon as the control is kept: the deployment applies it at its next pass (GetDeployment shows it).

type controlInput struct {
	DeploymentID *string `json:"deploymentId"`
}

type controlOutput struct{}

// control returns the handler of one traffic control.
func (h *Handler) control(kind codedeploy.ControlKind) func(context.Context, *controlInput) (controlOutput, error) {
	return func(ctx context.Context, in *controlInput) (controlOutput, error) {
		id, err := deploymentID(in.DeploymentID)
		if err != nil {
			return controlOutput{}, err
		}
		principal := ""
		if caller, ok := gateway.IdentityFrom(ctx); ok {
			principal = caller.Principal
		}
		return controlOutput{}, h.b.ControlDeployment(ctx, id, kind, principal)
	}
}
