package codedeployapi

import (
	"context"
	"sort"

	"github.com/sluice-dev/sluice/internal/codedeploy"
	"github.com/sluice-dev/sluice/internal/fault"
)

// A Lambda deployment has exactly one target, the alias of the AppSpec's function. Its ID is "<function>:<alias>";
// since the model documents Lambda target IDs as function names, the bare function name is accepted as well.
// Targets exist once the deployment has started: before that (Created, Queued) the target operations answer
// DeploymentNotStartedException.

// startedDeployment validates the ID and reads a deployment that has started.
func (h *Handler) startedDeployment(ctx context.Context, v *string) (codedeploy.Deployment, error) {
	id, err := deploymentID(v)
	if err != nil {
		return codedeploy.Deployment{}, err
	}
	d, err := h.b.GetDeployment(ctx, id)
	if err != nil {
		return codedeploy.Deployment{}, err
	}
	if d.Status == codedeploy.StatusCreated || d.Status == codedeploy.StatusQueued {
		return codedeploy.Deployment{}, fault.New(codeDeploymentNotStarted, "The deployment %s has not started.", id)
	}
	return d, nil
}

// checkTarget accepts d's target ID (or its function name).
func checkTarget(d codedeploy.Deployment, id string) error {
	if id == targetID(d) || id == d.AppSpec.Resource.Name {
		return nil
	}
	return fault.New(codeDeploymentTargetDoesNotExist, "The target %s does not belong to deployment %s.", id, d.ID)
}

type getDeploymentTargetInput struct {
	DeploymentID *string `json:"deploymentId"`
	TargetID     *string `json:"targetId"`
}

func (h *Handler) getDeploymentTarget(ctx context.Context, in *getDeploymentTargetInput) (any, error) {
	if _, err := deploymentID(in.DeploymentID); err != nil {
		return nil, err
	}
	target := optional(in.TargetID)
	if target == "" {
		return nil, fault.New(codeDeploymentTargetIDRequired, msgTargetIDRequired)
	}
	d, err := h.startedDeployment(ctx, in.DeploymentID)
	if err != nil {
		return nil, err
	}
	if err := checkTarget(d, target); err != nil {
		return nil, err
	}
	return map[string]any{"deploymentTarget": h.targetWire(d)}, nil
}

type batchGetDeploymentTargetsInput struct {
	DeploymentID *string  `json:"deploymentId"`
	TargetIDs    []string `json:"targetIds"`
}

// batchGetDeploymentTargets: "the target list of [Lambda and ECS] deployments must have exactly one item"
// (DeploymentTargetListSizeExceededException), so a request names the one target.
func (h *Handler) batchGetDeploymentTargets(ctx context.Context, in *batchGetDeploymentTargetsInput) (any, error) {
	if _, err := deploymentID(in.DeploymentID); err != nil {
		return nil, err
	}
	ids := dedupe(in.TargetIDs)
	switch {
	case len(ids) == 0 || ids[0] == "":
		return nil, fault.New(codeDeploymentTargetIDRequired, msgTargetIDRequired)
	case len(ids) > 1:
		return nil, fault.New(codeDeploymentTargetListSize,
			"A deployment on the Lambda compute platform has exactly one target; %d target IDs were specified.", len(ids))
	}
	d, err := h.startedDeployment(ctx, in.DeploymentID)
	if err != nil {
		return nil, err
	}
	if err := checkTarget(d, ids[0]); err != nil {
		return nil, err
	}
	return map[string]any{"deploymentTargets": []deploymentTarget{h.targetWire(d)}}, nil
}

type listDeploymentTargetsInput struct {
	DeploymentID  *string             `json:"deploymentId"`
	NextToken     string              `json:"nextToken"`
	TargetFilters map[string][]string `json:"targetFilters"`
}

type listDeploymentTargetsOutput struct {
	TargetIDs []string `json:"targetIds"`
	NextToken string   `json:"nextToken,omitempty"`
}

// listDeploymentTargets lists the one target, unless a filter excludes it: TargetStatus keeps the statuses it
// names; ServerInstanceLabel (Blue, Green) matches no Lambda target. The list never has a next page, so any
// nextToken is invalid.
func (h *Handler) listDeploymentTargets(ctx context.Context, in *listDeploymentTargetsInput) (any, error) {
	if _, err := deploymentID(in.DeploymentID); err != nil {
		return nil, err
	}
	if in.NextToken != "" {
		return nil, fault.New(codeInvalidNextToken, "The next token %s is invalid.", in.NextToken)
	}
	names := make([]string, 0, len(in.TargetFilters))
	for name := range in.TargetFilters {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		switch name {
		case "TargetStatus":
			for _, s := range in.TargetFilters[name] {
				if !targetStatuses[codedeploy.EventStatus(s)] {
					return nil, fault.New(codeInvalidInstanceStatus,
						"The target status %s is invalid. Valid statuses are Pending, InProgress, Succeeded, Failed, Skipped, Unknown and Ready.", s)
				}
			}
		case "ServerInstanceLabel":
			for _, l := range in.TargetFilters[name] {
				if l != "Blue" && l != "Green" {
					return nil, fault.New(codeInvalidTargetFilterName, "The ServerInstanceLabel filter value %s is invalid. Valid values are Blue and Green.", l)
				}
			}
		default:
			return nil, fault.New(codeInvalidTargetFilterName, "The target filter name %s is invalid. Valid names are TargetStatus and ServerInstanceLabel.", name)
		}
	}
	d, err := h.startedDeployment(ctx, in.DeploymentID)
	if err != nil {
		return nil, err
	}
	out := listDeploymentTargetsOutput{TargetIDs: []string{}}
	if matches(d, in.TargetFilters) {
		out.TargetIDs = append(out.TargetIDs, targetID(d))
	}
	return out, nil
}

func matches(d codedeploy.Deployment, filters map[string][]string) bool {
	if labels, ok := filters["ServerInstanceLabel"]; ok && len(labels) > 0 {
		return false
	}
	statuses, ok := filters["TargetStatus"]
	if !ok || len(statuses) == 0 {
		return true
	}
	status := string(d.TargetStatus())
	for _, s := range statuses {
		if s == status {
			return true
		}
	}
	return false
}
