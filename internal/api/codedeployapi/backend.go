package codedeployapi

import (
	"context"

	"github.com/sluice-dev/sluice/internal/deploy"
)

// Backend is what the CodeDeploy edge needs from the deployment controller, in domain terms. Errors are
// *fault.Error values carrying CodeDeploy exception names.
type Backend interface {
	CreateApplication(ctx context.Context, app deploy.Application) (deploy.Application, error)
	GetApplication(ctx context.Context, name string) (deploy.Application, error)
	ListApplications(ctx context.Context, nextToken string) ([]string, string, error)
	DeleteApplication(ctx context.Context, name string) error

	CreateDeploymentGroup(ctx context.Context, g deploy.DeploymentGroup) (deploy.DeploymentGroup, error)
	GetDeploymentGroup(ctx context.Context, application, name string) (deploy.DeploymentGroup, error)
	// UpdateDeploymentGroup replaces the group named current with g (g.Name may rename it).
	UpdateDeploymentGroup(ctx context.Context, current string, g deploy.DeploymentGroup) error
	DeleteDeploymentGroup(ctx context.Context, application, name string) error
	ListDeploymentGroups(ctx context.Context, application, nextToken string) ([]string, string, error)

	CreateDeploymentConfig(ctx context.Context, c deploy.DeploymentConfig) (deploy.DeploymentConfig, error)
	GetDeploymentConfig(ctx context.Context, name string) (deploy.DeploymentConfig, error)
	DeleteDeploymentConfig(ctx context.Context, name string) error
	ListDeploymentConfigs(ctx context.Context, nextToken string) ([]string, string, error)

	CreateDeployment(ctx context.Context, in deploy.CreateDeploymentInput) (id string, err error)
	GetDeployment(ctx context.Context, id string) (deploy.Deployment, error)
	ListDeployments(ctx context.Context, f deploy.ListDeploymentsFilter) ([]string, string, error)
	StopDeployment(ctx context.Context, id string, autoRollbackEnabled *bool) (status deploy.StopStatus, message string, err error)
	PutLifecycleEventHookExecutionStatus(ctx context.Context, deploymentID, executionID, status string) error
}
