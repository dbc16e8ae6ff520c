// Package codedeployapi is the CodeDeploy 2014-10-06 edge (AWS JSON 1.1: POST /, X-Amz-Target
// CodeDeploy_20141006.<Operation>, lowerCamelCase members, epoch-second timestamps) over a Backend that speaks in
// internal/codedeploy's domain types. It decodes requests, applies the checks the wire itself implies (required
// members, the model's length limits, enum values the domain never sees, batch sizes), renders domain records in
// CodeDeploy's shapes and writes *fault.Error values as {"__type": <ExceptionName>, "message": ...} with HTTP 400.
// Every rule about applications, groups, configurations and deployments is the Backend's.
//
// Operations: Create/Get/BatchGet/List/Delete/UpdateApplication; Create/Get/BatchGet/Update/Delete/
// ListDeploymentGroups; Create/Get/Delete/ListDeploymentConfigs; CreateDeployment, GetDeployment,
// BatchGetDeployments, ListDeployments, StopDeployment, ContinueDeployment, PutLifecycleEventHookExecutionStatus;
// GetDeploymentTarget, ListDeploymentTargets, BatchGetDeploymentTargets (a Lambda deployment has exactly one
// target, built from the deployment record).
//
// Sluice extensions: the traffic controls PauseDeployment, ResumeDeployment, SkipWaitTime and PromoteDeployment
// (controls.go), operations stock clients never send, each authorized as codedeploy:<Operation>; a paused or
// promoted deployment says so in deploymentStatusMessages. deploymentInfo carries sluiceTimeline (the deployment's history: time, kind, detail and, for
// traffic steps, the target version's weight), sluiceBlastRadius ({targetInvocations, targetErrors}),
// sluiceTargetWeight, sluiceNextStepTime and sluiceLifecycleEvents (what `sluice deploy` shows live). Stock
// clients (botocore, the AWS CLI, the Go SDK) ignore members their model does not declare.
package codedeployapi

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"

	"github.com/sluice-dev/sluice/internal/api/edge"
	"github.com/sluice-dev/sluice/internal/api/wire"
	"github.com/sluice-dev/sluice/internal/codedeploy"
	"github.com/sluice-dev/sluice/internal/lambda"
)

// targetPrefix starts every X-Amz-Target header of the service.
const targetPrefix = "CodeDeploy_20141006."

// Protocol-level exception names. InternalFailure and ServiceUnavailable are the common errors AWS documents for
// every JSON service (CodeDeploy's model declares no server-side exception).
const (
	codeInternalFailure    = "InternalFailure"
	codeServiceUnavailable = "ServiceUnavailable"
)

// Handler serves the CodeDeploy API.
type Handler struct {
	*edge.Handler // serves the operations New declares
	b             Backend
	log           *slog.Logger
	acct          lambda.Account
}

// Option configures a Handler.
type Option func(*Handler)

// WithAccount sets the region and account used in the ARNs the edge builds (a Lambda target's targetArn). The
// default is us-east-1 / 000000000000, Sluice's defaults.
func WithAccount(acct lambda.Account) Option {
	return func(h *Handler) { h.acct = acct }
}

// New returns the CodeDeploy API handler over b.
func New(b Backend, log *slog.Logger, opts ...Option) *Handler {
	h := &Handler{b: b, log: log.With("component", "codedeployapi"), acct: lambda.Account{Region: "us-east-1", ID: "000000000000"}}
	for _, o := range opts {
		o(h)
	}
	proto := edge.JSON11{TargetPrefix: targetPrefix, InternalCode: codeInternalFailure}
	h.Handler = edge.New(edge.Service{
		IAMPrefix:    "codedeploy",
		Protocol:     func(*http.Request) wire.Protocol { return proto },
		Resource:     h.resource,
		AccessDenied: "AccessDeniedException",
		// Every exception is a 400 but the two server-side ones.
		Error: edge.ByStatus(map[string]int{
			codeInternalFailure:    http.StatusInternalServerError,
			codeServiceUnavailable: http.StatusServiceUnavailable,
		}),
		InternalCode: codeInternalFailure,
		Log:          h.log,
	},
		edge.Op("CreateApplication", h.createApplication),
		edge.Op("GetApplication", h.getApplication),
		edge.Op("BatchGetApplications", h.batchGetApplications),
		edge.Op("ListApplications", h.listApplications),
		edge.Op("DeleteApplication", h.deleteApplication),
		edge.Op("UpdateApplication", h.updateApplication),

		edge.Op("CreateDeploymentGroup", h.createDeploymentGroup),
		edge.Op("GetDeploymentGroup", h.getDeploymentGroup),
		edge.Op("BatchGetDeploymentGroups", h.batchGetDeploymentGroups),
		edge.Op("UpdateDeploymentGroup", h.updateDeploymentGroup),
		edge.Op("DeleteDeploymentGroup", h.deleteDeploymentGroup),
		edge.Op("ListDeploymentGroups", h.listDeploymentGroups),

		edge.Op("CreateDeploymentConfig", h.createDeploymentConfig),
		edge.Op("GetDeploymentConfig", h.getDeploymentConfig),
		edge.Op("DeleteDeploymentConfig", h.deleteDeploymentConfig),
		edge.Op("ListDeploymentConfigs", h.listDeploymentConfigs),

		edge.Op("CreateDeployment", h.createDeployment),
		edge.Op("GetDeployment", h.getDeployment),
		edge.Op("BatchGetDeployments", h.batchGetDeployments),
		edge.Op("ListDeployments", h.listDeployments),
		edge.Op("StopDeployment", h.stopDeployment),
		edge.Op("ContinueDeployment", h.continueDeployment),
		edge.Op("PutLifecycleEventHookExecutionStatus", h.putLifecycleEventHookExecutionStatus, edge.ResourceOf(h.hookReportResource)),
		edge.Op(string(codedeploy.ControlPause), h.control(codedeploy.ControlPause)),
		edge.Op(string(codedeploy.ControlResume), h.control(codedeploy.ControlResume)),
		edge.Op(string(codedeploy.ControlSkipWait), h.control(codedeploy.ControlSkipWait)),
		edge.Op(string(codedeploy.ControlPromote), h.control(codedeploy.ControlPromote)),

		edge.Op("GetDeploymentTarget", h.getDeploymentTarget),
		edge.Op("ListDeploymentTargets", h.listDeploymentTargets),
		edge.Op("BatchGetDeploymentTargets", h.batchGetDeploymentTargets),
	)
	return h
}

// resource is the ARN an operation acts on, as IAM policies name CodeDeploy's resources: the deployment group
// (operations on a deployment act on its group), the application, the deployment config, or "*".
func (h *Handler) resource(req edge.Request) string {
	ctx, op := req.HTTP.Context(), req.Op
	var in struct {
		ApplicationName, DeploymentGroupName, CurrentDeploymentGroupName, DeploymentConfigName, DeploymentID string
	}
	_ = json.Unmarshal(req.Body, &in)
	prefix := "arn:aws:codedeploy:" + h.acct.Region + ":" + h.acct.ID + ":"
	if in.CurrentDeploymentGroupName != "" {
		in.DeploymentGroupName = in.CurrentDeploymentGroupName
	}
	switch {
	case in.DeploymentID != "":
		d, err := h.b.GetDeployment(ctx, in.DeploymentID)
		if err != nil {
			return "*"
		}
		return prefix + "deploymentgroup:" + d.ApplicationName + "/" + d.DeploymentGroupName
	case in.ApplicationName != "" && in.DeploymentGroupName != "":
		return prefix + "deploymentgroup:" + in.ApplicationName + "/" + in.DeploymentGroupName
	case in.ApplicationName != "":
		return prefix + "application:" + in.ApplicationName
	case in.DeploymentConfigName != "" && strings.HasSuffix(op, "DeploymentConfig"):
		return prefix + "deploymentconfig:" + in.DeploymentConfigName
	}
	return "*"
}
