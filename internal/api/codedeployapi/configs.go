package codedeployapi

import (
	"context"

	"github.com/sluice-dev/sluice/internal/codedeploy"
)

type createDeploymentConfigInput struct {
	DeploymentConfigName *string                   `json:"deploymentConfigName"`
	ComputePlatform      string                    `json:"computePlatform"`
	TrafficRoutingConfig *codedeploy.RoutingConfig `json:"trafficRoutingConfig"`
}

// createDeploymentConfig turns the request into a domain configuration with deploy.NewCustomConfig (name,
// platform and routing rules are the domain's) and stores it through the Backend, which assigns its ID.
// minimumHealthyHosts and zonalConfig (EC2/On-premises members) are not read.
func (h *Handler) createDeploymentConfig(ctx context.Context, in *createDeploymentConfigInput) (any, error) {
	name, err := configName(in.DeploymentConfigName)
	if err != nil {
		return nil, err
	}
	c, err := codedeploy.NewCustomConfig(name, in.ComputePlatform, in.TrafficRoutingConfig)
	if err != nil {
		return nil, err
	}
	out, err := h.b.CreateDeploymentConfig(ctx, c)
	if err != nil {
		return nil, err
	}
	return map[string]string{"deploymentConfigId": out.ID}, nil
}

type deploymentConfigNameInput struct {
	DeploymentConfigName *string `json:"deploymentConfigName"`
}

func (h *Handler) getDeploymentConfig(ctx context.Context, in *deploymentConfigNameInput) (any, error) {
	name, err := configName(in.DeploymentConfigName)
	if err != nil {
		return nil, err
	}
	c, err := h.b.GetDeploymentConfig(ctx, name)
	if err != nil {
		return nil, err
	}
	return map[string]any{"deploymentConfigInfo": deploymentConfigWire(c)}, nil
}

func (h *Handler) deleteDeploymentConfig(ctx context.Context, in *deploymentConfigNameInput) (any, error) {
	name, err := configName(in.DeploymentConfigName)
	if err != nil {
		return nil, err
	}
	if err := h.b.DeleteDeploymentConfig(ctx, name); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

type listDeploymentConfigsOutput struct {
	DeploymentConfigsList []string `json:"deploymentConfigsList"`
	NextToken             string   `json:"nextToken,omitempty"`
}

func (h *Handler) listDeploymentConfigs(ctx context.Context, in *nextTokenInput) (any, error) {
	names, next, err := h.b.ListDeploymentConfigs(ctx, in.NextToken)
	if err != nil {
		return nil, err
	}
	return listDeploymentConfigsOutput{DeploymentConfigsList: orEmpty(names), NextToken: next}, nil
}
