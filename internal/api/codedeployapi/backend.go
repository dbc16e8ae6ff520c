package codedeployapi

import (
	"context"

	"github.com/sluice-dev/sluice/internal/codedeploy"
)

// Backend is what the CodeDeploy edge needs from the deployment controller, in domain terms. Errors are
// *fault.Error values carrying CodeDeploy exception names.
type Backend interface {
	CreateApplication(ctx context.Context, app codedeploy.Application) (codedeploy.Application, error)
	GetApplication(ctx context.Context, name string) (codedeploy.Application, error)
	ListApplications(ctx context.Context, nextToken string) ([]string, string, error)
	DeleteApplication(ctx context.Context, name string) error

	CreateDeploymentGroup(ctx context.Context, g codedeploy.DeploymentGroup) (codedeploy.DeploymentGroup, error)
	GetDeploymentGroup(ctx context.Context, application, name string) (codedeploy.DeploymentGroup, error)
	// UpdateDeploymentGroup replaces the group named current with g (g.Name may rename it).
	UpdateDeploymentGroup(ctx context.Context, current string, g codedeploy.DeploymentGroup) error
	DeleteDeploymentGroup(ctx context.Context, application, name string) error
	ListDeploymentGroups(ctx context.Context, application, nextToken string) ([]string, string, error)

	CreateDeploymentConfig(ctx context.Context, c codedeploy.DeploymentConfig) (codedeploy.DeploymentConfig, error)
	GetDeploymentConfig(ctx context.Context, name string) (codedeploy.DeploymentConfig, error)
	DeleteDeploymentConfig(ctx context.Context, name string) error
	ListDeploymentConfigs(ctx context.Context, nextToken string) ([]string, string, error)

	CreateDeployment(ctx context.Context, in codedeploy.CreateDeploymentInput) (id string, err error)
	GetDeployment(ctx context.Context, id string) (codedeploy.Deployment, error)
	ListDeployments(ctx context.Context, f codedeploy.ListDeploymentsFilter) ([]string, string, error)
	StopDeployment(ctx context.Context, id string, autoRollbackEnabled *bool, by string) (status codedeploy.StopStatus, message string, err error)
	PutLifecycleEventHookExecutionStatus(ctx context.Context, deploymentID, executionID, status string) error
	// ControlDeployment accepts a traffic control (pause, resume, skip the wait, promote) by principal, or refuses
	// it as codedeploy.CheckControl does.
	ControlDeployment(ctx context.Context, deploymentID string, kind codedeploy.ControlKind, principal string) error
	// NoteHookReportDenied records on the deployment that IAM refused a hook's status report with message, so
	// that the deployment says why its hook will time out; an unknown deployment or execution is no error.
	NoteHookReportDenied(ctx context.Context, deploymentID, executionID, message string) error
}
