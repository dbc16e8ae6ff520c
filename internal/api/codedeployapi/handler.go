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
// Sluice extension: deploymentInfo carries sluiceTimeline (the deployment's history: time, kind, detail and, for
// traffic steps, the target version's weight), sluiceBlastRadius ({targetInvocations, targetErrors}),
// sluiceTargetWeight, sluiceNextStepTime and sluiceLifecycleEvents (what `sluice deploy` shows live). Stock
// clients (botocore, the AWS CLI, the Go SDK) ignore members their model does not declare.
package codedeployapi

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/sluice-dev/sluice/internal/api/awshttp"
	"github.com/sluice-dev/sluice/internal/api/gateway"
	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/lambda"
)

// targetPrefix starts every X-Amz-Target header of the service.
const targetPrefix = "CodeDeploy_20141006."

// contentType is the JSON 1.1 protocol's media type, for requests and responses alike.
const contentType = "application/x-amz-json-1.1"

// Protocol-level exception names. InternalFailure and ServiceUnavailable are the common errors AWS documents for
// every JSON service (CodeDeploy's model declares no server-side exception).
const (
	codeUnknownOperation   = "UnknownOperationException"
	codeSerialization      = awshttp.CodeSerialization
	codeInternalFailure    = "InternalFailure"
	codeServiceUnavailable = "ServiceUnavailable"
)

// Handler serves the CodeDeploy API.
type Handler struct {
	b    Backend
	log  *slog.Logger
	acct lambda.Account
	ops  map[string]func(ctx context.Context, body []byte) (any, error)
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
	h.ops = map[string]func(context.Context, []byte) (any, error){
		"CreateApplication":    decoded(h.createApplication),
		"GetApplication":       decoded(h.getApplication),
		"BatchGetApplications": decoded(h.batchGetApplications),
		"ListApplications":     decoded(h.listApplications),
		"DeleteApplication":    decoded(h.deleteApplication),
		"UpdateApplication":    decoded(h.updateApplication),

		"CreateDeploymentGroup":    decoded(h.createDeploymentGroup),
		"GetDeploymentGroup":       decoded(h.getDeploymentGroup),
		"BatchGetDeploymentGroups": decoded(h.batchGetDeploymentGroups),
		"UpdateDeploymentGroup":    decoded(h.updateDeploymentGroup),
		"DeleteDeploymentGroup":    decoded(h.deleteDeploymentGroup),
		"ListDeploymentGroups":     decoded(h.listDeploymentGroups),

		"CreateDeploymentConfig": decoded(h.createDeploymentConfig),
		"GetDeploymentConfig":    decoded(h.getDeploymentConfig),
		"DeleteDeploymentConfig": decoded(h.deleteDeploymentConfig),
		"ListDeploymentConfigs":  decoded(h.listDeploymentConfigs),

		"CreateDeployment":                     decoded(h.createDeployment),
		"GetDeployment":                        decoded(h.getDeployment),
		"BatchGetDeployments":                  decoded(h.batchGetDeployments),
		"ListDeployments":                      decoded(h.listDeployments),
		"StopDeployment":                       decoded(h.stopDeployment),
		"ContinueDeployment":                   decoded(h.continueDeployment),
		"PutLifecycleEventHookExecutionStatus": decoded(h.putLifecycleEventHookExecutionStatus),

		"GetDeploymentTarget":       decoded(h.getDeploymentTarget),
		"ListDeploymentTargets":     decoded(h.listDeploymentTargets),
		"BatchGetDeploymentTargets": decoded(h.batchGetDeploymentTargets),
	}
	return h
}

// decoded adapts an operation taking its typed input. An empty body is an empty input.
func decoded[In any](op func(context.Context, *In) (any, error)) func(context.Context, []byte) (any, error) {
	return func(ctx context.Context, body []byte) (any, error) {
		in := new(In)
		if err := awshttp.DecodeJSONBody(body, in); err != nil {
			return nil, err
		}
		return op(ctx, in)
	}
}

// ServeHTTP serves a CodeDeploy request (behind the gateway, which has verified its signature and read its body).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if awshttp.RequestID(r.Context()) == "" {
		r = awshttp.WithRequestID(w, r)
	}
	name, shown, ok := awshttp.Operation(r, targetPrefix)
	op := h.ops[name]
	if !ok || op == nil {
		h.writeError(w, r, fault.New(codeUnknownOperation, "Unknown operation %s", shown))
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		h.writeError(w, r, fault.New(codeSerialization, "Could not read request body: %s", err))
		return
	}
	if err := gateway.AuthorizeFor(r.Context(), "codedeploy:"+name, func() string { return h.resource(r.Context(), name, body) }); err != nil {
		h.writeError(w, r, gateway.AccessDeniedAs(err, "AccessDeniedException"))
		return
	}
	out, err := op(r.Context(), body)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// WriteAuthError answers a request the gateway could not authenticate, in JSON 1.1 form.
func (h *Handler) WriteAuthError(w http.ResponseWriter, r *http.Request, code string, status int, message string) {
	h.proto().WriteFault(w, status, code, message)
}

// proto is the JSON 1.1 protocol as CodeDeploy answers it: every exception a 400.
func (h *Handler) proto() awshttp.JSONRPC {
	return awshttp.JSONRPC{ContentType: contentType, InternalCode: codeInternalFailure, Log: h.log, Status: func(code string) int {
		switch code {
		case codeInternalFailure:
			return http.StatusInternalServerError
		case codeServiceUnavailable:
			return http.StatusServiceUnavailable
		}
		return http.StatusBadRequest
	}}
}

// writeJSON writes a JSON 1.1 response.
func writeJSON(w http.ResponseWriter, status int, v any) {
	awshttp.JSONRPC{ContentType: contentType, InternalCode: codeInternalFailure}.WriteJSON(w, status, v)
}

// writeError writes err in JSON 1.1 form (see awshttp.JSONRPC).
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	h.proto().WriteError(w, r, err)
}

// resource is the ARN an operation acts on, as IAM policies name CodeDeploy's resources: the deployment group
// (operations on a deployment act on its group), the application, the deployment config, or "*".
func (h *Handler) resource(ctx context.Context, op string, body []byte) string {
	var in struct {
		ApplicationName, DeploymentGroupName, CurrentDeploymentGroupName, DeploymentConfigName, DeploymentID string
	}
	_ = json.Unmarshal(body, &in)
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
