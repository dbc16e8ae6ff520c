package codedeploy

import "time"

// CreateDeploymentInput is a request to start a deployment, in domain terms (the CodeDeploy edge decodes the wire
// form into it). Nil overrides mean "as the deployment group says".
type CreateDeploymentInput struct {
	ApplicationName      string
	DeploymentGroupName  string
	DeploymentConfigName string // "" = the group's
	Revision             Revision
	Description          string
	AutoRollback         *AutoRollbackConfiguration
	Alarms               *AlarmConfiguration
}

// ListDeploymentsFilter selects the deployments ListDeployments returns.
type ListDeploymentsFilter struct {
	ApplicationName, DeploymentGroupName string
	Statuses                             []Status
	CreatedAfter, CreatedBefore          time.Time
	NextToken                            string
}
