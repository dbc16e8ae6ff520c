package codedeployapi

import (
	"context"
	"strings"

	"github.com/sluice-dev/sluice/internal/codedeploy"
	"github.com/sluice-dev/sluice/internal/fault"
)

// deploymentGroupInput holds the members CreateDeploymentGroup and UpdateDeploymentGroup share. Members for EC2,
// on-premises, Auto Scaling, ECS and load balancers are not read; triggerConfigurations publish to SNS topics
// (internal/server/triggers.go).
type deploymentGroupInput struct {
	ApplicationName           *string                               `json:"applicationName"`
	DeploymentConfigName      *string                               `json:"deploymentConfigName"`
	ServiceRoleARN            *string                               `json:"serviceRoleArn"`
	AlarmConfiguration        *codedeploy.AlarmConfiguration        `json:"alarmConfiguration"`
	AutoRollbackConfiguration *codedeploy.AutoRollbackConfiguration `json:"autoRollbackConfiguration"`
	DeploymentStyle           *codedeploy.DeploymentStyle           `json:"deploymentStyle"`
	TriggerConfigurations     *[]codedeploy.TriggerConfig           `json:"triggerConfigurations"`
	Tags                      []tag                                 `json:"tags"`
}

type createDeploymentGroupInput struct {
	deploymentGroupInput
	DeploymentGroupName *string `json:"deploymentGroupName"`
}

// createDeploymentGroup passes the group as sent: an absent deploymentConfigName or deploymentStyle is "" /
// zero, for the Backend to default.
func (h *Handler) createDeploymentGroup(ctx context.Context, in *createDeploymentGroupInput) (any, error) {
	app, err := applicationName(in.ApplicationName)
	if err != nil {
		return nil, err
	}
	name, err := groupName(in.DeploymentGroupName)
	if err != nil {
		return nil, err
	}
	cfg := optional(in.DeploymentConfigName)
	if err := checkConfigName(cfg); err != nil {
		return nil, err
	}
	role := optional(in.ServiceRoleARN)
	if role == "" {
		return nil, fault.New(codeRoleRequired, msgRoleRequired)
	}
	g := codedeploy.DeploymentGroup{ApplicationName: app, Name: name, ServiceRoleARN: role, DeploymentConfigName: cfg, Tags: tagMap(in.Tags)}
	if in.AlarmConfiguration != nil {
		g.Alarms = *in.AlarmConfiguration
	}
	if in.AutoRollbackConfiguration != nil {
		g.AutoRollback = *in.AutoRollbackConfiguration
	}
	if in.DeploymentStyle != nil {
		g.Style = *in.DeploymentStyle
	}
	if err := h.setTriggers(&g, in.TriggerConfigurations); err != nil {
		return nil, err
	}
	out, err := h.b.CreateDeploymentGroup(ctx, g)
	if err != nil {
		return nil, err
	}
	return map[string]string{"deploymentGroupId": out.ID}, nil
}

type groupInput struct {
	ApplicationName     *string `json:"applicationName"`
	DeploymentGroupName *string `json:"deploymentGroupName"`
}

func (in *groupInput) names() (app, group string, err error) {
	if app, err = applicationName(in.ApplicationName); err != nil {
		return "", "", err
	}
	group, err = groupName(in.DeploymentGroupName)
	return app, group, err
}

func (h *Handler) getDeploymentGroup(ctx context.Context, in *groupInput) (any, error) {
	app, name, err := in.names()
	if err != nil {
		return nil, err
	}
	g, err := h.b.GetDeploymentGroup(ctx, app, name)
	if err != nil {
		return nil, err
	}
	info, err := h.groupWire(ctx, g)
	if err != nil {
		return nil, err
	}
	return map[string]any{"deploymentGroupInfo": info}, nil
}

type batchGetDeploymentGroupsInput struct {
	ApplicationName      *string  `json:"applicationName"`
	DeploymentGroupNames []string `json:"deploymentGroupNames"`
}

type batchGetDeploymentGroupsOutput struct {
	DeploymentGroupsInfo []deploymentGroupInfo `json:"deploymentGroupsInfo"`
	ErrorMessage         string                `json:"errorMessage,omitempty"`
}

// batchGetDeploymentGroups answers the groups it finds; the groups that do not exist are named in errorMessage
// (the Backend's messages, joined with spaces). Any other error fails the call.
func (h *Handler) batchGetDeploymentGroups(ctx context.Context, in *batchGetDeploymentGroupsInput) (any, error) {
	app, err := applicationName(in.ApplicationName)
	if err != nil {
		return nil, err
	}
	if len(in.DeploymentGroupNames) == 0 {
		return nil, fault.New(codeDeploymentGroupNameRequired, msgGroupNameRequired)
	}
	names := dedupe(in.DeploymentGroupNames)
	if err := batchLimit(len(names), maxBatchNames); err != nil {
		return nil, err
	}
	for _, n := range names {
		if _, err := groupName(&n); err != nil {
			return nil, err
		}
	}
	out := batchGetDeploymentGroupsOutput{DeploymentGroupsInfo: []deploymentGroupInfo{}}
	var missing []string
	for _, n := range names {
		g, err := h.b.GetDeploymentGroup(ctx, app, n)
		if f, ok := fault.As(err); ok && f.Code == codeDeploymentGroupDoesNotExist {
			missing = append(missing, f.Message)
			continue
		}
		if err != nil {
			return nil, err
		}
		info, err := h.groupWire(ctx, g)
		if err != nil {
			return nil, err
		}
		out.DeploymentGroupsInfo = append(out.DeploymentGroupsInfo, info)
	}
	out.ErrorMessage = strings.Join(missing, " ")
	return out, nil
}

type updateDeploymentGroupInput struct {
	deploymentGroupInput
	CurrentDeploymentGroupName *string `json:"currentDeploymentGroupName"`
	NewDeploymentGroupName     *string `json:"newDeploymentGroupName"`
}

// updateDeploymentGroup changes only the members the request carries: it reads the group, overlays them, and asks
// the Backend to replace the group with the result. tags are not a member of UpdateDeploymentGroup.
func (h *Handler) updateDeploymentGroup(ctx context.Context, in *updateDeploymentGroupInput) (any, error) {
	app, err := applicationName(in.ApplicationName)
	if err != nil {
		return nil, err
	}
	current, err := groupName(in.CurrentDeploymentGroupName)
	if err != nil {
		return nil, err
	}
	newName := optional(in.NewDeploymentGroupName)
	if err := checkGroupName(newName); err != nil {
		return nil, err
	}
	cfg := optional(in.DeploymentConfigName)
	if err := checkConfigName(cfg); err != nil {
		return nil, err
	}
	g, err := h.b.GetDeploymentGroup(ctx, app, current)
	if err != nil {
		return nil, err
	}
	g.ApplicationName = app
	if newName != "" {
		g.Name = newName
	}
	if cfg != "" {
		g.DeploymentConfigName = cfg
	}
	if role := optional(in.ServiceRoleARN); role != "" {
		g.ServiceRoleARN = role
	}
	if in.AlarmConfiguration != nil {
		g.Alarms = *in.AlarmConfiguration
	}
	if in.AutoRollbackConfiguration != nil {
		g.AutoRollback = *in.AutoRollbackConfiguration
	}
	if in.DeploymentStyle != nil {
		g.Style = *in.DeploymentStyle
	}
	if err := h.setTriggers(&g, in.TriggerConfigurations); err != nil {
		return nil, err
	}
	if err := h.b.UpdateDeploymentGroup(ctx, current, g); err != nil {
		return nil, err
	}
	return hooksNotCleanedUp{HooksNotCleanedUp: []struct{}{}}, nil
}

// hooksNotCleanedUp is the output of UpdateDeploymentGroup and DeleteDeploymentGroup: Lambda groups have no Auto
// Scaling hooks, so the list is always empty.
type hooksNotCleanedUp struct {
	HooksNotCleanedUp []struct{} `json:"hooksNotCleanedUp"`
}

func (h *Handler) deleteDeploymentGroup(ctx context.Context, in *groupInput) (any, error) {
	app, name, err := in.names()
	if err != nil {
		return nil, err
	}
	if err := h.b.DeleteDeploymentGroup(ctx, app, name); err != nil {
		return nil, err
	}
	return hooksNotCleanedUp{HooksNotCleanedUp: []struct{}{}}, nil
}

type listDeploymentGroupsInput struct {
	ApplicationName *string `json:"applicationName"`
	NextToken       string  `json:"nextToken"`
}

type listDeploymentGroupsOutput struct {
	ApplicationName  string   `json:"applicationName"`
	DeploymentGroups []string `json:"deploymentGroups"`
	NextToken        string   `json:"nextToken,omitempty"`
}

func (h *Handler) listDeploymentGroups(ctx context.Context, in *listDeploymentGroupsInput) (any, error) {
	app, err := applicationName(in.ApplicationName)
	if err != nil {
		return nil, err
	}
	names, next, err := h.b.ListDeploymentGroups(ctx, app, in.NextToken)
	if err != nil {
		return nil, err
	}
	return listDeploymentGroupsOutput{ApplicationName: app, DeploymentGroups: orEmpty(names), NextToken: next}, nil
}

// groupWire renders a group. lastAttemptedDeployment and lastSuccessfulDeployment carry the status and times of
// the deployments the group names, read through the Backend; a deployment the Backend cannot answer with a fault
// (it no longer exists) is reported by its ID alone.
func (h *Handler) groupWire(ctx context.Context, g codedeploy.DeploymentGroup) (deploymentGroupInfo, error) {
	style := g.Style
	if style.DeploymentType == "" && style.DeploymentOption == "" {
		style = lambdaStyle
	}
	info := deploymentGroupInfo{
		ApplicationName:              g.ApplicationName,
		DeploymentGroupID:            g.ID,
		DeploymentGroupName:          g.Name,
		DeploymentConfigName:         g.DeploymentConfigName,
		EC2TagFilters:                []struct{}{},
		OnPremisesInstanceTagFilters: []struct{}{},
		AutoScalingGroups:            []struct{}{},
		ServiceRoleARN:               g.ServiceRoleARN,
		TriggerConfigurations:        triggersWire(g.Triggers),
		AlarmConfiguration:           alarmWire(g.Alarms),
		AutoRollbackConfiguration:    autoRollbackWire(g.AutoRollback),
		DeploymentStyle:              style,
		ComputePlatform:              codedeploy.ComputePlatformLambda,
	}
	var err error
	if info.LastAttemptedDeployment, err = h.lastDeployment(ctx, g.LastAttempted); err != nil {
		return deploymentGroupInfo{}, err
	}
	if info.LastSuccessfulDeployment, err = h.lastDeployment(ctx, g.LastSuccessful); err != nil {
		return deploymentGroupInfo{}, err
	}
	return info, nil
}

func (h *Handler) lastDeployment(ctx context.Context, id string) (*lastDeploymentInfo, error) {
	if id == "" {
		return nil, nil
	}
	d, err := h.b.GetDeployment(ctx, id)
	if _, ok := fault.As(err); ok {
		return &lastDeploymentInfo{DeploymentID: id}, nil
	}
	if err != nil {
		return nil, err
	}
	return &lastDeploymentInfo{DeploymentID: id, Status: d.Status, EndTime: epoch(d.CompleteTime), CreateTime: epoch(d.CreateTime)}, nil
}

// setTriggers replaces a group's triggers with those of the request, when it carries them (an empty list removes
// them all), after checking them.
func (h *Handler) setTriggers(g *codedeploy.DeploymentGroup, in *[]codedeploy.TriggerConfig) error {
	if in == nil {
		return nil
	}
	if err := codedeploy.CheckTriggers(*in, h.acct.Region, h.acct.ID); err != nil {
		return err
	}
	g.Triggers = *in
	if len(g.Triggers) == 0 {
		g.Triggers = nil
	}
	return nil
}

func triggersWire(ts []codedeploy.TriggerConfig) []codedeploy.TriggerConfig {
	out := []codedeploy.TriggerConfig{}
	for _, t := range ts {
		if t.Events == nil {
			t.Events = []string{}
		}
		out = append(out, t)
	}
	return out
}
