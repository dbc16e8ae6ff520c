package codedeployapi

import (
	"context"

	"github.com/sluice-dev/sluice/internal/api/edge"
	"github.com/sluice-dev/sluice/internal/api/gateway"

	"github.com/sluice-dev/sluice/internal/codedeploy"
	"github.com/sluice-dev/sluice/internal/fault"
)

type createDeploymentInput struct {
	ApplicationName            *string                               `json:"applicationName"`
	DeploymentGroupName        *string                               `json:"deploymentGroupName"`
	Revision                   *codedeploy.Revision                  `json:"revision"`
	DeploymentConfigName       *string                               `json:"deploymentConfigName"`
	Description                string                                `json:"description"`
	AutoRollbackConfiguration  *codedeploy.AutoRollbackConfiguration `json:"autoRollbackConfiguration"`
	OverrideAlarmConfiguration *codedeploy.AlarmConfiguration        `json:"overrideAlarmConfiguration"`
}

// createDeployment checks what the wire requires — an application, a deployment group (the model leaves it
// optional for EC2 deployments without groups; a Lambda deployment always has one) and a revision — and passes the
// revision, as sent, and the overrides to the Backend. Members for EC2 and ECS are not read.
func (h *Handler) createDeployment(ctx context.Context, in *createDeploymentInput) (any, error) {
	app, err := applicationName(in.ApplicationName)
	if err != nil {
		return nil, err
	}
	group, err := groupName(in.DeploymentGroupName)
	if err != nil {
		return nil, err
	}
	if in.Revision == nil {
		return nil, fault.New(codeRevisionRequired, msgRevisionRequired)
	}
	cfg := optional(in.DeploymentConfigName)
	if err := checkConfigName(cfg); err != nil {
		return nil, err
	}
	id, err := h.b.CreateDeployment(ctx, codedeploy.CreateDeploymentInput{
		ApplicationName:      app,
		DeploymentGroupName:  group,
		DeploymentConfigName: cfg,
		Revision:             *in.Revision,
		Description:          in.Description,
		AutoRollback:         in.AutoRollbackConfiguration,
		Alarms:               in.OverrideAlarmConfiguration,
	})
	if err != nil {
		return nil, err
	}
	return map[string]string{"deploymentId": id}, nil
}

type deploymentIDInput struct {
	DeploymentID *string `json:"deploymentId"`
}

func (h *Handler) getDeployment(ctx context.Context, in *deploymentIDInput) (any, error) {
	id, err := deploymentID(in.DeploymentID)
	if err != nil {
		return nil, err
	}
	d, err := h.b.GetDeployment(ctx, id)
	if err != nil {
		return nil, err
	}
	return map[string]any{"deploymentInfo": deploymentWire(d)}, nil
}

type batchGetDeploymentsInput struct {
	DeploymentIDs []string `json:"deploymentIds"`
}

// batchGetDeployments answers the deployments that exist, in request order, and leaves out the IDs the Backend
// does not know (DeploymentDoesNotExistException is not among the operation's errors).
func (h *Handler) batchGetDeployments(ctx context.Context, in *batchGetDeploymentsInput) (any, error) {
	if len(in.DeploymentIDs) == 0 {
		return nil, codedeploy.CheckDeploymentID("")
	}
	ids := dedupe(in.DeploymentIDs)
	if err := batchLimit(len(ids), maxBatchDeployments); err != nil {
		return nil, err
	}
	for _, id := range ids {
		if err := codedeploy.CheckDeploymentID(id); err != nil {
			return nil, err
		}
	}
	out := make([]deploymentInfo, 0, len(ids))
	for _, id := range ids {
		d, err := h.b.GetDeployment(ctx, id)
		if fault.Is(err, codeDeploymentDoesNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, deploymentWire(d))
	}
	return map[string]any{"deploymentsInfo": out}, nil
}

type timeRange struct {
	Start *epoch `json:"start"`
	End   *epoch `json:"end"`
}

type listDeploymentsInput struct {
	ApplicationName     *string             `json:"applicationName"`
	DeploymentGroupName *string             `json:"deploymentGroupName"`
	IncludeOnlyStatuses []codedeploy.Status `json:"includeOnlyStatuses"`
	CreateTimeRange     *timeRange          `json:"createTimeRange"`
	ExternalID          string              `json:"externalId"`
	NextToken           string              `json:"nextToken"`
}

type listDeploymentsOutput struct {
	Deployments []string `json:"deployments"`
	NextToken   string   `json:"nextToken,omitempty"`
}

// listDeployments checks the filter's shape: applicationName and deploymentGroupName come together or not at all,
// statuses belong to the DeploymentStatus enum, and a time range does not end before it starts. Sluice links no
// deployment to an external resource, so a list filtered by externalId is empty (and the Backend is not asked).
func (h *Handler) listDeployments(ctx context.Context, in *listDeploymentsInput) (any, error) {
	app, group := optional(in.ApplicationName), optional(in.DeploymentGroupName)
	switch {
	case app == "" && group != "":
		return nil, fault.New(codeApplicationNameRequired, "If deploymentGroupName is specified, applicationName must be specified too.")
	case app != "" && group == "":
		return nil, fault.New(codeDeploymentGroupNameRequired, "If applicationName is specified, deploymentGroupName must be specified too.")
	}
	if err := checkApplicationName(app); err != nil {
		return nil, err
	}
	if err := checkGroupName(group); err != nil {
		return nil, err
	}
	f := codedeploy.ListDeploymentsFilter{ApplicationName: app, DeploymentGroupName: group, NextToken: in.NextToken}
	for _, s := range in.IncludeOnlyStatuses {
		if !deploymentStatuses[s] {
			return nil, fault.New(codeInvalidDeploymentStatus,
				"The deployment status %s is invalid. Valid statuses are Created, Queued, InProgress, Baking, Succeeded, Failed, Stopped and Ready.", s)
		}
	}
	if len(in.IncludeOnlyStatuses) > 0 {
		f.Statuses = dedupeStatuses(in.IncludeOnlyStatuses)
	}
	if r := in.CreateTimeRange; r != nil {
		f.CreatedAfter, f.CreatedBefore = timeOf(r.Start), timeOf(r.End)
		if !f.CreatedAfter.IsZero() && !f.CreatedBefore.IsZero() && f.CreatedBefore.Before(f.CreatedAfter) {
			return nil, fault.New(codeInvalidTimeRange, "The createTimeRange end (%s) is before its start (%s).",
				f.CreatedBefore.UTC().Format("2006-01-02T15:04:05.000Z"), f.CreatedAfter.UTC().Format("2006-01-02T15:04:05.000Z"))
		}
	}
	if in.ExternalID != "" {
		return listDeploymentsOutput{Deployments: []string{}}, nil
	}
	ids, next, err := h.b.ListDeployments(ctx, f)
	if err != nil {
		return nil, err
	}
	return listDeploymentsOutput{Deployments: orEmpty(ids), NextToken: next}, nil
}

func dedupeStatuses(s []codedeploy.Status) []codedeploy.Status {
	seen := make(map[codedeploy.Status]bool, len(s))
	out := make([]codedeploy.Status, 0, len(s))
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

type stopDeploymentInput struct {
	DeploymentID        *string `json:"deploymentId"`
	AutoRollbackEnabled *bool   `json:"autoRollbackEnabled"`
}

type stopDeploymentOutput struct {
	Status        codedeploy.StopStatus `json:"status"`
	StatusMessage string                `json:"statusMessage,omitempty"`
}

func (h *Handler) stopDeployment(ctx context.Context, in *stopDeploymentInput) (any, error) {
	id, err := deploymentID(in.DeploymentID)
	if err != nil {
		return nil, err
	}
	var by string // the timeline says who stopped the deployment
	if caller, ok := gateway.IdentityFrom(ctx); ok {
		by = caller.Principal
	}
	status, msg, err := h.b.StopDeployment(ctx, id, in.AutoRollbackEnabled, by)
	if err != nil {
		return nil, err
	}
	return stopDeploymentOutput{Status: status, StatusMessage: msg}, nil
}

type continueDeploymentInput struct {
	DeploymentID       *string `json:"deploymentId"`
	DeploymentWaitType *string `json:"deploymentWaitType"`
}

// continueDeployment answers as CodeDeploy does for a deployment that is not waiting: ContinueDeployment starts
// the rerouting of a blue/green deployment that waits in Ready (READY_WAIT) or before terminating the original
// environment (TERMINATION_WAIT). A Lambda deployment shifts traffic on its configuration's schedule and never
// waits, so once the ID is valid and the deployment exists, the answer is DeploymentAlreadyCompletedException for a
// finished deployment and DeploymentIsNotInReadyStateException otherwise.
func (h *Handler) continueDeployment(ctx context.Context, in *continueDeploymentInput) (any, error) {
	id, err := deploymentID(in.DeploymentID)
	if err != nil {
		return nil, err
	}
	if w := in.DeploymentWaitType; w != nil && *w != "READY_WAIT" && *w != "TERMINATION_WAIT" {
		return nil, fault.New(codeInvalidDeploymentWaitType, "The deployment wait type %s is invalid. Valid types are READY_WAIT and TERMINATION_WAIT.", *w)
	}
	d, err := h.b.GetDeployment(ctx, id)
	if err != nil {
		return nil, err
	}
	if d.Status.Terminal() {
		return nil, fault.New(codeDeploymentAlreadyCompleted, "Deployment %s has already completed.", id)
	}
	return nil, fault.New(codeDeploymentIsNotInReadyState,
		"The deployment %s does not have a status of Ready and can't continue: a deployment on the Lambda compute platform shifts traffic on its deployment configuration's schedule and never waits to be continued.", id)
}

type putLifecycleEventHookExecutionStatusInput struct {
	DeploymentID                  *string `json:"deploymentId"`
	LifecycleEventHookExecutionID string  `json:"lifecycleEventHookExecutionId"`
	Status                        string  `json:"status"`
}

// hookReportResource names the deployment group a hook's status report is authorized on, and asks IAM itself
// first: a hook whose role may not report is otherwise seen only as a hook timeout, so a refusal is recorded on
// the deployment (Backend.NoteHookReportDenied) before the edge answers it with the same refusal. As for every
// other operation, the deployment is looked up only for a caller whose permissions are limited.
func (h *Handler) hookReportResource(ctx context.Context, in *putLifecycleEventHookExecutionStatusInput) (string, error) {
	id, err := deploymentID(in.DeploymentID)
	if err != nil {
		return "", err
	}
	resource := "*" // what an unrestricted caller, who is never asked about, is authorized on
	group := func() string {
		if d, err := h.b.GetDeployment(ctx, id); err == nil {
			resource = "arn:aws:codedeploy:" + h.acct.Region + ":" + h.acct.ID + ":deploymentgroup:" + d.ApplicationName + "/" + d.DeploymentGroupName
		}
		return resource
	}
	denied := edge.Authorize(ctx, "codedeploy:PutLifecycleEventHookExecutionStatus", group, "AccessDeniedException")
	if f, ok := fault.As(denied); ok && f.Code == "AccessDeniedException" {
		if err := h.b.NoteHookReportDenied(ctx, id, in.LifecycleEventHookExecutionID, f.Message); err != nil {
			h.log.Warn("record a denied hook report", "deployment", id, "err", err)
		}
	}
	return resource, nil
}

// putLifecycleEventHookExecutionStatus validates the deployment ID; the execution ID and the status (only
// Succeeded and Failed are accepted) are the Backend's to judge.
func (h *Handler) putLifecycleEventHookExecutionStatus(ctx context.Context, in *putLifecycleEventHookExecutionStatusInput) (any, error) {
	id, err := deploymentID(in.DeploymentID)
	if err != nil {
		return nil, err
	}
	if err := h.b.PutLifecycleEventHookExecutionStatus(ctx, id, in.LifecycleEventHookExecutionID, in.Status); err != nil {
		return nil, err
	}
	return map[string]string{"lifecycleEventHookExecutionId": in.LifecycleEventHookExecutionID}, nil
}
