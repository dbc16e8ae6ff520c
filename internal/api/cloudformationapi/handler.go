// Package cloudformationapi is the CloudFormation 2010-05-15 edge (signing service `cloudformation`): the AWS
// query protocol with XML responses, per botocore's model. Every request is checked against its operation's input
// shape in the model (model_gen.go) before it is authorized as cloudformation:<Operation> on the stack it names,
// then handed to internal/cloudformation; the wire shapes here are the model's members.
package cloudformationapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/internal/api/edge"
	"github.com/sluice-dev/sluice/internal/api/gateway"
	"github.com/sluice-dev/sluice/internal/api/wire"
	"github.com/sluice-dev/sluice/internal/cloudformation"
	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/lambda"
	"github.com/sluice-dev/sluice/internal/stack"
)

var service = &wire.Service{Version: "2010-05-15", XMLNamespace: "http://cloudformation.amazonaws.com/doc/2010-05-15/"}

// maxBody bounds a request body: a template body is at most 51,200 bytes, its form encoding up to three times
// that, with the rest of the call around it.
const maxBody = 1 << 20

// Handler serves the CloudFormation API.
type Handler struct {
	*edge.Handler
	svc  *cloudformation.Service
	acct lambda.Account
}

// New returns the CloudFormation API handler over svc; acct names the region and account of the stack ARNs
// calls are authorized on.
func New(svc *cloudformation.Service, acct lambda.Account, log *slog.Logger) *Handler {
	h := &Handler{svc: svc, acct: acct}
	h.Handler = edge.New(edge.Service{
		IAMPrefix: "cloudformation",
		Protocol:  service.Detect,
		Body:      edge.MaxBody(maxBody),
		Admit:     edge.CheckQueryModel(cfnModel, cfnModelInputs, cloudformation.CodeValidation),
		Resource:  h.resource,
		Error: edge.ByStatus(map[string]int{
			cloudformation.CodeValidation: 400, cloudformation.CodeAlreadyExists: 400, cloudformation.CodeInsufficientCapability: 400,
			cloudformation.CodeChangeSetNotFound: 404, cloudformation.CodeInvalidChangeSetStatus: 400, cloudformation.CodeTokenAlreadyExists: 400,
			cloudformation.CodeLimitExceeded: 400, cloudformation.CodeAccessDenied: 403,
			"InvalidAction": 400, "MissingAction": 400, "InvalidParameterValue": 400, "MalformedQueryString": 404,
			"MissingAuthenticationToken": 403, "RequestEntityTooLarge": 413, "InternalFailure": 500,
		}),
		InternalCode: "InternalFailure",
		AuthCodes:    edge.QueryAuthCodes,
		Log:          log.With("component", "cloudformationapi"),
	},
		edge.Op("CreateStack", h.createStack),
		edge.Op("UpdateStack", h.updateStack),
		edge.OpNoOutput("DeleteStack", h.deleteStack),
		edge.Op("DescribeStacks", h.describeStacks),
		edge.Op("DescribeStackEvents", h.describeStackEvents),
		edge.Op("DescribeStackResource", h.describeStackResource),
		edge.Op("DescribeStackResources", h.describeStackResources),
		edge.Op("ListStackResources", h.listStackResources),
		edge.Op("ListStacks", h.listStacks),
		edge.Op("GetTemplate", h.getTemplate),
		edge.Op("GetTemplateSummary", h.getTemplateSummary),
		edge.Op("ValidateTemplate", h.validateTemplate),
		edge.Op("CreateChangeSet", h.createChangeSet),
		edge.Op("DescribeChangeSet", h.describeChangeSet),
		edge.Op("ExecuteChangeSet", h.executeChangeSet),
		edge.Op("DeleteChangeSet", h.deleteChangeSet),
		edge.Op("ListChangeSets", h.listChangeSets),
		edge.Op("UpdateTerminationProtection", h.updateTerminationProtection),
	)
	return h
}

// resource is the ARN a call is authorized on: the stack it names (arn:…:stack/<name>/* for a name, the ID as
// given), "*" for the calls that name none.
func (h *Handler) resource(req edge.Request) string {
	name := req.Query().Get("StackName")
	switch {
	case name == "":
		return "*"
	case strings.HasPrefix(name, "arn:"):
		return name
	}
	return "arn:aws:cloudformation:" + h.acct.Region + ":" + h.acct.ID + ":stack/" + name + "/*"
}

// caller is who signed the request.
func caller(ctx context.Context) cloudformation.Caller {
	id, _ := gateway.IdentityFrom(ctx)
	return cloudformation.Caller{Principal: id.Principal, AccessKeyID: id.AccessKeyID}
}

// ---- shapes (members as in the model) ----

type parameterShape struct {
	ParameterKey, ParameterValue *string
	UsePreviousValue             *bool
	ResolvedValue                *string
}

type tagShape struct{ Key, Value *string }

type rollbackConfiguration struct {
	RollbackTriggers        []struct{ Arn, Type *string }
	MonitoringTimeInMinutes *int
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func parametersIn(in []parameterShape) []cloudformation.Parameter {
	out := make([]cloudformation.Parameter, 0, len(in))
	for _, p := range in {
		out = append(out, cloudformation.Parameter{Key: str(p.ParameterKey), Value: str(p.ParameterValue), UsePrevious: p.UsePreviousValue != nil && *p.UsePreviousValue})
	}
	return out
}

func tagsIn(in []tagShape) []stack.Tag {
	out := make([]stack.Tag, 0, len(in))
	for _, t := range in {
		out = append(out, stack.Tag{Key: str(t.Key), Value: str(t.Value)})
	}
	return out
}

func tagsOut(in []stack.Tag) []tagShape {
	out := []tagShape{}
	for _, t := range in {
		out = append(out, tagShape{Key: &t.Key, Value: &t.Value})
	}
	return out
}

func validationError(msg string) error { return fault.New(cloudformation.CodeValidation, "%s", msg) }

// unsupported refuses settings Sluice does not carry out, rather than accepting them silently.
func unsupported(rollback *rollbackConfiguration, policies ...*string) error {
	if rollback != nil && (len(rollback.RollbackTriggers) > 0 || rollback.MonitoringTimeInMinutes != nil && *rollback.MonitoringTimeInMinutes > 0) {
		return fault.New(cloudformation.CodeValidation, "RollbackConfiguration (rollback triggers) is not supported by Sluice.")
	}
	for _, p := range policies {
		if p != nil {
			return fault.New(cloudformation.CodeValidation, "Stack policies are not supported by Sluice.")
		}
	}
	return nil
}

// ---- stacks ----

type stackInput struct {
	StackName, TemplateBody, TemplateURL *string
	UsePreviousTemplate                  *bool
	Parameters                           []parameterShape
	Capabilities, ResourceTypes          []string
	RoleARN                              *string
	Tags                                 []tagShape
	NotificationARNs                     []string
	RollbackConfiguration                *rollbackConfiguration
	StackPolicyBody, StackPolicyURL      *string
	ClientRequestToken                   *string
	DisableRollback                      *bool
	// CreateStack's
	OnFailure                   *string
	TimeoutInMinutes            *int
	EnableTerminationProtection *bool
	// UpdateStack's
	StackPolicyDuringUpdateBody, StackPolicyDuringUpdateURL *string
	// CreateChangeSet's (the query decoder binds named fields only, so the three operations share one shape)
	ChangeSetName, ClientToken, Description, ChangeSetType, OnStackFailure, DeploymentMode *string
	ResourcesToImport                                                                      []struct{ ResourceType, LogicalResourceId *string }
	IncludeNestedStacks, ImportExistingResources                                           *bool
}

func (in *stackInput) common(ctx context.Context, raw url.Values) cloudformation.StackInput {
	out := cloudformation.StackInput{Caller: caller(ctx), StackName: str(in.StackName), Parameters: parametersIn(in.Parameters),
		Capabilities: in.Capabilities, ResourceTypes: in.ResourceTypes, RoleARN: str(in.RoleARN), Tags: tagsIn(in.Tags),
		NotificationARNs: in.NotificationARNs}
	out.SetTemplate(str(in.TemplateBody), str(in.TemplateURL), in.UsePreviousTemplate != nil && *in.UsePreviousTemplate)
	_, out.TagsGiven = raw["Tags"]
	for k := range raw {
		if strings.HasPrefix(k, "Tags.") {
			out.TagsGiven = true
		}
		if k == "NotificationARNs" || strings.HasPrefix(k, "NotificationARNs.") {
			out.NotificationsGiven = true
		}
	}
	if out.Tags == nil {
		out.Tags = []stack.Tag{}
	}
	return out
}

type stackIDOutput struct{ StackId *string }

func (h *Handler) createStack(ctx context.Context, in *stackInput) (*stackIDOutput, error) {
	if err := unsupported(in.RollbackConfiguration, in.StackPolicyBody, in.StackPolicyURL); err != nil {
		return nil, err
	}
	c := cloudformation.CreateStackInput{StackInput: in.common(ctx, formOf(ctx)), DisableRollback: in.DisableRollback, OnFailure: str(in.OnFailure),
		ClientRequestToken: str(in.ClientRequestToken), EnableTerminationProtection: in.EnableTerminationProtection != nil && *in.EnableTerminationProtection}
	if in.TimeoutInMinutes != nil {
		c.TimeoutInMinutes = *in.TimeoutInMinutes
	}
	id, err := h.svc.CreateStack(ctx, c)
	if err != nil {
		return nil, err
	}
	return &stackIDOutput{StackId: &id}, nil
}

func (h *Handler) updateStack(ctx context.Context, in *stackInput) (*stackIDOutput, error) {
	if err := unsupported(in.RollbackConfiguration, in.StackPolicyBody, in.StackPolicyURL, in.StackPolicyDuringUpdateBody, in.StackPolicyDuringUpdateURL); err != nil {
		return nil, err
	}
	u := cloudformation.UpdateStackInput{StackInput: in.common(ctx, formOf(ctx)), DisableRollback: in.DisableRollback != nil && *in.DisableRollback,
		ClientRequestToken: str(in.ClientRequestToken)}
	id, err := h.svc.UpdateStack(ctx, u)
	if err != nil {
		return nil, err
	}
	return &stackIDOutput{StackId: &id}, nil
}

type deleteStackInput struct {
	StackName, RoleARN, ClientRequestToken, DeletionMode *string
	RetainResources                                      []string
}

func (h *Handler) deleteStack(ctx context.Context, in *deleteStackInput) error {
	if str(in.DeletionMode) == "FORCE_DELETE_STACK" {
		return fault.New(cloudformation.CodeValidation, "DeletionMode FORCE_DELETE_STACK is not supported by Sluice.")
	}
	return h.svc.DeleteStack(ctx, cloudformation.DeleteStackInput{Caller: caller(ctx), StackName: str(in.StackName), RetainResources: in.RetainResources,
		RoleARN: str(in.RoleARN), ClientRequestToken: str(in.ClientRequestToken)})
}

type outputShape struct{ OutputKey, OutputValue, Description, ExportName *string }

type driftShape struct{ StackDriftStatus string }

type stackShape struct {
	StackId                     string
	StackName                   string
	ChangeSetId                 *string
	Description                 *string
	Parameters                  []parameterShape
	CreationTime                time.Time
	DeletionTime                *time.Time
	LastUpdatedTime             *time.Time
	RollbackConfiguration       *struct{}
	StackStatus                 string
	StackStatusReason           *string
	DisableRollback             bool
	NotificationARNs            []string
	TimeoutInMinutes            *int
	Capabilities                []string
	Outputs                     []outputShape
	RoleARN                     *string
	Tags                        []tagShape
	EnableTerminationProtection bool
	DriftInformation            driftShape
}

func stackOut(v cloudformation.StackView) stackShape {
	out := stackShape{StackId: v.ID, StackName: v.Name, ChangeSetId: optString(v.ChangeSetID), Description: optString(v.Description),
		CreationTime: v.Created, DeletionTime: v.Deleted, LastUpdatedTime: v.Updated, RollbackConfiguration: &struct{}{},
		StackStatus: v.Status, StackStatusReason: optString(v.StatusReason), DisableRollback: v.DisableRollback,
		NotificationARNs: v.NotificationARNs, Capabilities: v.Capabilities, RoleARN: optString(v.RoleARN), Tags: tagsOut(v.Tags),
		EnableTerminationProtection: v.TerminationProtection, DriftInformation: driftShape{StackDriftStatus: "NOT_CHECKED"}}
	if out.NotificationARNs == nil {
		out.NotificationARNs = []string{}
	}
	if v.TimeoutInMinutes > 0 {
		t := v.TimeoutInMinutes
		out.TimeoutInMinutes = &t
	}
	for _, p := range v.Parameters {
		ps := parameterShape{ParameterKey: &p.Key, ParameterValue: &p.Value}
		if r, ok := v.Resolved[p.Key]; ok {
			ps.ResolvedValue = &r
		}
		out.Parameters = append(out.Parameters, ps)
	}
	for _, o := range v.Outputs {
		out.Outputs = append(out.Outputs, outputShape{OutputKey: &o.Key, OutputValue: &o.Value, Description: optString(o.Description), ExportName: optString(o.ExportName)})
	}
	return out
}

type describeStacksInput struct{ StackName, NextToken *string }

type describeStacksOutput struct {
	Stacks    []stackShape
	NextToken *string
}

func (h *Handler) describeStacks(ctx context.Context, in *describeStacksInput) (*describeStacksOutput, error) {
	views, err := h.svc.DescribeStacks(ctx, str(in.StackName))
	if err != nil {
		return nil, err
	}
	out := &describeStacksOutput{Stacks: []stackShape{}}
	for _, v := range views {
		out.Stacks = append(out.Stacks, stackOut(v))
	}
	return out, nil
}

type stackNameInput struct{ StackName, NextToken *string }

type eventShape struct {
	StackId, EventId, StackName string
	OperationId                 *string
	LogicalResourceId           string
	PhysicalResourceId          *string
	ResourceType                string
	Timestamp                   time.Time
	ResourceStatus              string
	ResourceStatusReason        *string
	ResourceProperties          *string
	ClientRequestToken          *string
}

type describeStackEventsOutput struct {
	StackEvents []eventShape
	NextToken   *string
}

func (h *Handler) describeStackEvents(ctx context.Context, in *stackNameInput) (*describeStackEventsOutput, error) {
	evs, next, err := h.svc.DescribeStackEvents(ctx, str(in.StackName), str(in.NextToken))
	if err != nil {
		return nil, err
	}
	out := &describeStackEventsOutput{StackEvents: []eventShape{}, NextToken: optString(next)}
	for _, e := range evs {
		out.StackEvents = append(out.StackEvents, eventShape{StackId: e.StackID, EventId: e.EventID, StackName: e.StackName, OperationId: optString(e.OperationID),
			LogicalResourceId: e.LogicalID, PhysicalResourceId: optString(e.PhysicalID), ResourceType: e.Type, Timestamp: time.UnixMilli(e.Timestamp),
			ResourceStatus: e.Status, ResourceStatusReason: optString(e.Reason), ResourceProperties: optString(e.Properties),
			ClientRequestToken: optString(e.ClientRequestToken)})
	}
	return out, nil
}

type resourceDrift struct{ StackResourceDriftStatus string }

type resourceDetailShape struct {
	StackName, StackId, LogicalResourceId string
	PhysicalResourceId                    *string
	ResourceType                          string
	LastUpdatedTimestamp                  time.Time
	ResourceStatus                        string
	ResourceStatusReason                  *string
	Metadata                              *string
	DriftInformation                      resourceDrift
}

type describeStackResourceInput struct{ StackName, LogicalResourceId *string }

func (h *Handler) describeStackResource(ctx context.Context, in *describeStackResourceInput) (*struct{ StackResourceDetail resourceDetailShape }, error) {
	rs, err := h.svc.Resources(ctx, str(in.StackName), str(in.LogicalResourceId))
	if err != nil {
		return nil, err
	}
	r := rs[0]
	return &struct{ StackResourceDetail resourceDetailShape }{resourceDetailShape{StackName: r.StackName, StackId: r.StackID, LogicalResourceId: r.LogicalID,
		PhysicalResourceId: optString(r.PhysicalID), ResourceType: r.Type, LastUpdatedTimestamp: r.Updated, ResourceStatus: r.Status,
		ResourceStatusReason: optString(r.Reason), Metadata: optString("{}"), DriftInformation: resourceDrift{StackResourceDriftStatus: "NOT_CHECKED"}}}, nil
}

type resourceShape struct {
	StackName, StackId, LogicalResourceId string
	PhysicalResourceId                    *string
	ResourceType                          string
	Timestamp                             time.Time
	ResourceStatus                        string
	ResourceStatusReason                  *string
	DriftInformation                      resourceDrift
}

type describeStackResourcesInput struct{ StackName, LogicalResourceId, PhysicalResourceId *string }

func (h *Handler) describeStackResources(ctx context.Context, in *describeStackResourcesInput) (*struct{ StackResources []resourceShape }, error) {
	name := str(in.StackName)
	switch {
	case name == "" && in.PhysicalResourceId == nil:
		return nil, fault.New(cloudformation.CodeValidation, "Either StackName or PhysicalResourceId must be specified.")
	case name != "" && in.PhysicalResourceId != nil:
		return nil, fault.New(cloudformation.CodeValidation, "Only one of StackName or PhysicalResourceId may be specified.")
	case name == "":
		var err error
		if name, err = h.svc.StackOfPhysicalID(ctx, str(in.PhysicalResourceId)); err != nil {
			return nil, err
		}
	}
	rs, err := h.svc.Resources(ctx, name, str(in.LogicalResourceId))
	if err != nil {
		return nil, err
	}
	out := &struct{ StackResources []resourceShape }{StackResources: []resourceShape{}}
	for _, r := range rs {
		out.StackResources = append(out.StackResources, resourceShape{StackName: r.StackName, StackId: r.StackID, LogicalResourceId: r.LogicalID,
			PhysicalResourceId: optString(r.PhysicalID), ResourceType: r.Type, Timestamp: r.Updated, ResourceStatus: r.Status,
			ResourceStatusReason: optString(r.Reason), DriftInformation: resourceDrift{StackResourceDriftStatus: "NOT_CHECKED"}})
	}
	return out, nil
}

type resourceSummaryShape struct {
	LogicalResourceId    string
	PhysicalResourceId   *string
	ResourceType         string
	LastUpdatedTimestamp time.Time
	ResourceStatus       string
	ResourceStatusReason *string
	DriftInformation     resourceDrift
}

func (h *Handler) listStackResources(ctx context.Context, in *stackNameInput) (*struct {
	StackResourceSummaries []resourceSummaryShape
	NextToken              *string
}, error) {
	rs, err := h.svc.Resources(ctx, str(in.StackName), "")
	if err != nil {
		return nil, err
	}
	out := &struct {
		StackResourceSummaries []resourceSummaryShape
		NextToken              *string
	}{StackResourceSummaries: []resourceSummaryShape{}}
	for _, r := range rs {
		out.StackResourceSummaries = append(out.StackResourceSummaries, resourceSummaryShape{LogicalResourceId: r.LogicalID,
			PhysicalResourceId: optString(r.PhysicalID), ResourceType: r.Type, LastUpdatedTimestamp: r.Updated, ResourceStatus: r.Status,
			ResourceStatusReason: optString(r.Reason), DriftInformation: resourceDrift{StackResourceDriftStatus: "NOT_CHECKED"}})
	}
	return out, nil
}

type listStacksInput struct {
	NextToken         *string
	StackStatusFilter []string
}

type stackSummaryShape struct {
	StackId             string
	StackName           string
	TemplateDescription *string
	CreationTime        time.Time
	LastUpdatedTime     *time.Time
	DeletionTime        *time.Time
	StackStatus         string
	StackStatusReason   *string
	DriftInformation    driftShape
}

func (h *Handler) listStacks(ctx context.Context, in *listStacksInput) (*struct {
	StackSummaries []stackSummaryShape
	NextToken      *string
}, error) {
	sums, err := h.svc.ListStacks(ctx, in.StackStatusFilter)
	if err != nil {
		return nil, err
	}
	out := &struct {
		StackSummaries []stackSummaryShape
		NextToken      *string
	}{StackSummaries: []stackSummaryShape{}}
	for _, s := range sums {
		out.StackSummaries = append(out.StackSummaries, stackSummaryShape{StackId: s.ID, StackName: s.Name, TemplateDescription: optString(s.TemplateDescription),
			CreationTime: s.Created, LastUpdatedTime: s.Updated, DeletionTime: s.Deleted, StackStatus: s.Status, StackStatusReason: optString(s.StatusReason),
			DriftInformation: driftShape{StackDriftStatus: "NOT_CHECKED"}})
	}
	return out, nil
}

type updateTerminationProtectionInput struct {
	StackName                   *string
	EnableTerminationProtection *bool
}

func (h *Handler) updateTerminationProtection(ctx context.Context, in *updateTerminationProtectionInput) (*stackIDOutput, error) {
	id, err := h.svc.UpdateTerminationProtection(ctx, str(in.StackName), in.EnableTerminationProtection != nil && *in.EnableTerminationProtection)
	if err != nil {
		return nil, err
	}
	return &stackIDOutput{StackId: &id}, nil
}

// ---- templates ----

type templateInput struct {
	TemplateBody, TemplateURL, StackName, StackSetName *string
}

type templateParameterShape struct {
	ParameterKey, DefaultValue *string
	NoEcho                     bool
	Description                *string
}

type validateTemplateOutput struct {
	Parameters         []templateParameterShape
	Description        *string
	Capabilities       []string
	CapabilitiesReason *string
	DeclaredTransforms []string
}

func (h *Handler) validateTemplate(ctx context.Context, in *templateInput) (*validateTemplateOutput, error) {
	sum, err := h.svc.ValidateTemplate(ctx, caller(ctx), str(in.TemplateBody), str(in.TemplateURL))
	if err != nil {
		return nil, err
	}
	out := &validateTemplateOutput{Parameters: []templateParameterShape{}, Description: optString(sum.Description), Capabilities: sum.Capabilities,
		CapabilitiesReason: optString(sum.CapabilitiesReason), DeclaredTransforms: sum.DeclaredTransforms}
	if out.Capabilities == nil {
		out.Capabilities = []string{}
	}
	if out.DeclaredTransforms == nil {
		out.DeclaredTransforms = []string{}
	}
	for _, p := range sum.Parameters {
		out.Parameters = append(out.Parameters, templateParameterShape{ParameterKey: &p.Key, DefaultValue: p.Default, NoEcho: p.NoEcho,
			Description: optString(p.Description)})
	}
	return out, nil
}

type parameterDeclarationShape struct {
	ParameterKey, DefaultValue, ParameterType *string
	NoEcho                                    bool
	Description                               *string
	ParameterConstraints                      struct{ AllowedValues []string }
}

type templateSummaryOutput struct {
	Parameters         []parameterDeclarationShape
	Description        *string
	Capabilities       []string
	CapabilitiesReason *string
	ResourceTypes      []string
	Version            string
	Metadata           *string
	DeclaredTransforms []string
}

func (h *Handler) getTemplateSummary(ctx context.Context, in *templateInput) (*templateSummaryOutput, error) {
	if in.StackSetName != nil {
		return nil, fault.New(cloudformation.CodeValidation, "StackSets are not supported by Sluice.")
	}
	sum, err := h.svc.GetTemplateSummary(ctx, caller(ctx), str(in.StackName), str(in.TemplateBody), str(in.TemplateURL))
	if err != nil {
		return nil, err
	}
	out := &templateSummaryOutput{Parameters: []parameterDeclarationShape{}, Description: optString(sum.Description), Capabilities: sum.Capabilities,
		CapabilitiesReason: optString(sum.CapabilitiesReason), ResourceTypes: sum.ResourceTypes, Version: sum.Version, Metadata: optString(sum.Metadata),
		DeclaredTransforms: sum.DeclaredTransforms}
	if out.Capabilities == nil {
		out.Capabilities = []string{}
	}
	if out.DeclaredTransforms == nil {
		out.DeclaredTransforms = []string{}
	}
	for _, p := range sum.Parameters {
		d := parameterDeclarationShape{ParameterKey: &p.Key, DefaultValue: p.Default, ParameterType: &p.Type, NoEcho: p.NoEcho, Description: optString(p.Description)}
		d.ParameterConstraints.AllowedValues = p.AllowedValues
		out.Parameters = append(out.Parameters, d)
	}
	return out, nil
}

type getTemplateInput struct{ StackName, ChangeSetName, TemplateStage *string }

func (h *Handler) getTemplate(ctx context.Context, in *getTemplateInput) (*struct {
	TemplateBody    *string
	StagesAvailable []string
}, error) {
	body, stages, err := h.svc.GetTemplate(ctx, str(in.StackName), str(in.ChangeSetName), str(in.TemplateStage))
	if err != nil {
		return nil, err
	}
	var out struct {
		TemplateBody    *string
		StagesAvailable []string
	}
	out.StagesAvailable = stages
	if body != "" {
		out.TemplateBody = &body
	}
	return &out, nil
}

// formOf is the form of the request being served (the edge hands decoded inputs to operations; the few that
// need to know which members were given at all read it here).
func formOf(ctx context.Context) url.Values {
	r, _ := ctx.Value(requestKey{}).(*http.Request)
	if r == nil {
		return url.Values{}
	}
	body, _ := gateway.Body(r)
	q, err := wire.QueryParams(r, body)
	if err != nil {
		return url.Values{}
	}
	return q
}

type requestKey struct{}

// ServeHTTP serves one request, keeping it in the context for formOf.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.Handler.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestKey{}, r)))
}
