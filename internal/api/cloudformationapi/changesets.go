package cloudformationapi

import (
	"context"
	"time"

	"github.com/sluice-dev/sluice/internal/cloudformation"
)

type createChangeSetOutput struct{ Id, StackId *string }

func (h *Handler) createChangeSet(ctx context.Context, in *stackInput) (*createChangeSetOutput, error) {
	if err := unsupported(in.RollbackConfiguration); err != nil {
		return nil, err
	}
	// ImportExistingResources (which `cdk bootstrap` always sends) is accepted: it only matters when a named
	// resource already exists outside any stack, which Sluice does not import — its creation fails, as it would
	// without the flag.
	switch {
	case len(in.ResourcesToImport) > 0:
		return nil, validationError("Importing resources is not supported by Sluice.")
	case in.DeploymentMode != nil:
		return nil, validationError("DeploymentMode is not supported by Sluice.")
	}
	id, stackID, err := h.svc.CreateChangeSet(ctx, cloudformation.CreateChangeSetInput{StackInput: in.common(ctx, formOf(ctx)),
		ChangeSetName: str(in.ChangeSetName), Description: str(in.Description), ChangeSetType: str(in.ChangeSetType),
		ClientToken: str(in.ClientToken), OnStackFailure: str(in.OnStackFailure)})
	if err != nil {
		return nil, err
	}
	return &createChangeSetOutput{Id: &id, StackId: &stackID}, nil
}

type changeSetInput struct {
	ChangeSetName, StackName, NextToken, ClientRequestToken      *string
	IncludePropertyValues, DisableRollback, RetainExceptOnCreate *bool
}

type targetShape struct {
	Attribute          string
	Name               *string
	RequiresRecreation *string
}

type detailShape struct {
	Target        targetShape
	Evaluation    string
	ChangeSource  *string
	CausingEntity *string
}

type resourceChangeShape struct {
	PolicyAction       *string
	Action             string
	LogicalResourceId  string
	PhysicalResourceId *string
	ResourceType       string
	Replacement        *string
	Scope              []string
	Details            []detailShape
}

type changeShape struct {
	Type           string
	ResourceChange resourceChangeShape
}

type describeChangeSetOutput struct {
	ChangeSetName, ChangeSetId, StackId, StackName string
	Description                                    *string
	Parameters                                     []parameterShape
	CreationTime                                   time.Time
	ExecutionStatus, Status                        string
	StatusReason                                   *string
	NotificationARNs                               []string
	RollbackConfiguration                          *struct{}
	Capabilities                                   []string
	Tags                                           []tagShape
	Changes                                        []changeShape
	IncludeNestedStacks                            bool
	OnStackFailure                                 *string
}

func (h *Handler) describeChangeSet(ctx context.Context, in *changeSetInput) (*describeChangeSetOutput, error) {
	cs, err := h.svc.DescribeChangeSet(ctx, str(in.StackName), str(in.ChangeSetName))
	if err != nil {
		return nil, err
	}
	out := &describeChangeSetOutput{ChangeSetName: cs.Name, ChangeSetId: cs.ID, StackId: cs.StackID, StackName: cs.StackName,
		Description: optString(cs.Description), CreationTime: cs.Created, ExecutionStatus: cs.ExecutionStatus, Status: cs.Status,
		StatusReason: optString(cs.StatusReason), NotificationARNs: []string{}, RollbackConfiguration: &struct{}{}, Tags: []tagShape{},
		Changes: []changeShape{}, OnStackFailure: optString(cs.OnStackFailure)}
	if s := cs.Settings; s != nil {
		for _, p := range s.Parameters {
			out.Parameters = append(out.Parameters, parameterShape{ParameterKey: &p.Key, ParameterValue: &p.Value})
		}
		out.Capabilities, out.Tags = s.Capabilities, tagsOut(s.Tags)
		if s.NotificationARNs != nil {
			out.NotificationARNs = s.NotificationARNs
		}
	}
	for _, c := range cs.Changes {
		rc := resourceChangeShape{PolicyAction: optString(c.PolicyAction), Action: c.Action, LogicalResourceId: c.LogicalID,
			PhysicalResourceId: optString(c.PhysicalID), ResourceType: c.ResourceType, Replacement: optString(c.Replacement),
			Scope: c.Scope, Details: []detailShape{}}
		for _, d := range c.Details {
			rc.Details = append(rc.Details, detailShape{Target: targetShape{Attribute: d.Attribute, Name: optString(d.Name),
				RequiresRecreation: optString(d.RequiresRecreation)}, Evaluation: d.Evaluation, ChangeSource: optString(d.ChangeSource),
				CausingEntity: optString(d.CausingEntity)})
		}
		out.Changes = append(out.Changes, changeShape{Type: "Resource", ResourceChange: rc})
	}
	return out, nil
}

func (h *Handler) executeChangeSet(ctx context.Context, in *changeSetInput) (*struct{}, error) {
	err := h.svc.ExecuteChangeSet(ctx, cloudformation.ExecuteChangeSetInput{Caller: caller(ctx), StackName: str(in.StackName),
		ChangeSetName: str(in.ChangeSetName), ClientRequestToken: str(in.ClientRequestToken), DisableRollback: in.DisableRollback})
	return &struct{}{}, err
}

func (h *Handler) deleteChangeSet(ctx context.Context, in *changeSetInput) (*struct{}, error) {
	return &struct{}{}, h.svc.DeleteChangeSet(ctx, str(in.StackName), str(in.ChangeSetName))
}

type changeSetSummaryShape struct {
	StackId, StackName, ChangeSetId, ChangeSetName string
	ExecutionStatus, Status                        string
	StatusReason                                   *string
	CreationTime                                   time.Time
	Description                                    *string
	IncludeNestedStacks                            bool
}

func (h *Handler) listChangeSets(ctx context.Context, in *changeSetInput) (*struct {
	Summaries []changeSetSummaryShape
	NextToken *string
}, error) {
	all, err := h.svc.ListChangeSets(ctx, str(in.StackName))
	if err != nil {
		return nil, err
	}
	out := &struct {
		Summaries []changeSetSummaryShape
		NextToken *string
	}{Summaries: []changeSetSummaryShape{}}
	for _, cs := range all {
		out.Summaries = append(out.Summaries, changeSetSummaryShape{StackId: cs.StackID, StackName: cs.StackName, ChangeSetId: cs.ID,
			ChangeSetName: cs.Name, ExecutionStatus: cs.ExecutionStatus, Status: cs.Status, StatusReason: optString(cs.StatusReason),
			CreationTime: cs.Created, Description: optString(cs.Description)})
	}
	return out, nil
}
