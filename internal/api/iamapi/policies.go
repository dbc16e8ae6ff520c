package iamapi

import (
	"context"
	"regexp"
	"time"

	"github.com/sluice-dev/sluice/internal/iam"
)

// ---- customer managed policies (and the AWS managed ones Sluice knows, read-only) ----

type policyShape struct {
	PolicyName, PolicyId, Arn, Path, DefaultVersionId string
	AttachmentCount, PermissionsBoundaryUsageCount    int
	IsAttachable                                      bool
	Description                                       *string
	CreateDate, UpdateDate                            time.Time
	Tags                                              []tagShape
}

type policyVersionShape struct {
	Document         *string
	VersionId        string
	IsDefaultVersion bool
	CreateDate       time.Time
}

// policyOut describes a policy; ListPolicies leaves out the description and tags, as IAM does.
func policyOut(p iam.ManagedPolicyInfo, full bool) policyShape {
	out := policyShape{PolicyName: p.Name, PolicyId: p.ID, Arn: p.ARN, Path: p.Path, DefaultVersionId: p.DefaultVersion,
		AttachmentCount: p.AttachmentCount, IsAttachable: true, CreateDate: p.Created, UpdateDate: p.Updated}
	if full {
		out.Description, out.Tags = optString(p.Description), tagsOut(p.Tags)
	}
	return out
}

func versionOut(v iam.PolicyVersion) policyVersionShape {
	out := policyVersionShape{VersionId: v.ID, IsDefaultVersion: v.IsDefault, CreateDate: v.Created}
	if v.Document != "" {
		out.Document = optString(iam.EncodePolicy(v.Document))
	}
	return out
}

var policyPathPattern = regexp.MustCompile(`^((/[A-Za-z0-9\.,\+@=_-]+)*)/$`)

func policyPath(member string, v *string) *violation {
	if l := length(member, v, 1, 512); l != nil {
		return l
	}
	if v != nil && !policyPathPattern.MatchString(*v) {
		return &violation{member, *v, `Member must satisfy regular expression pattern: ((/[A-Za-z0-9\.,\+@=_-]+)*)/`}
	}
	return nil
}

var versionPattern = regexp.MustCompile(`^v[1-9][0-9]*(\.[A-Za-z0-9-]*)?$`)

func versionID(member string, v *string) *violation {
	if r := required(member, v); r != nil {
		return r
	}
	if !versionPattern.MatchString(*v) {
		return &violation{member, *v, `Member must satisfy regular expression pattern: v[1-9][0-9]*(\.[A-Za-z0-9-]*)?`}
	}
	return nil
}

func policyARN(arn *string) (string, error) {
	if err := check(required("policyArn", arn), length("policyArn", arn, 20, 2048)); err != nil {
		return "", err
	}
	return *arn, nil
}

type createPolicyInput struct {
	PolicyName, Path, PolicyDocument, Description *string
	Tags                                          []tagShape
}

func (o *iamOps) createPolicyResource(_ context.Context, in *createPolicyInput) (string, error) {
	if err := check(name("policyName", in.PolicyName, 128), required("policyName", in.PolicyName),
		required("policyDocument", in.PolicyDocument), document("policyDocument", in.PolicyDocument),
		policyPath("path", in.Path), length("description", in.Description, 0, 1000)); err != nil {
		return "", err
	}
	path := "/"
	if in.Path != nil {
		path = *in.Path
	}
	return "arn:aws:iam::" + o.svc.AccountID() + ":policy" + path + *in.PolicyName, nil
}

func (o *iamOps) createPolicy(ctx context.Context, in *createPolicyInput) (*struct{ Policy policyShape }, error) {
	p, err := o.svc.CreatePolicy(ctx, iam.CreatePolicyInput{Name: *in.PolicyName, Path: str(in.Path), Document: *in.PolicyDocument,
		Description: str(in.Description), Tags: tagsIn(in.Tags)})
	if err != nil {
		return nil, err
	}
	return &struct{ Policy policyShape }{policyOut(p, true)}, nil
}

type policyARNInput struct{ PolicyArn *string }

func policyResource(_ context.Context, in *policyARNInput) (string, error) {
	return policyARN(in.PolicyArn)
}

func (o *iamOps) getPolicy(ctx context.Context, in *policyARNInput) (*struct{ Policy policyShape }, error) {
	p, err := o.svc.GetPolicy(ctx, *in.PolicyArn)
	if err != nil {
		return nil, err
	}
	return &struct{ Policy policyShape }{policyOut(p, true)}, nil
}

func (o *iamOps) deletePolicy(ctx context.Context, in *policyARNInput) error {
	return o.svc.DeletePolicy(ctx, *in.PolicyArn)
}

type policyVersionInput struct{ PolicyArn, VersionId *string }

func policyVersionResource(_ context.Context, in *policyVersionInput) (string, error) {
	if err := check(versionID("versionId", in.VersionId)); err != nil {
		return "", err
	}
	return policyARN(in.PolicyArn)
}

func (o *iamOps) getPolicyVersion(ctx context.Context, in *policyVersionInput) (*struct{ PolicyVersion policyVersionShape }, error) {
	v, err := o.svc.GetPolicyVersion(ctx, *in.PolicyArn, *in.VersionId)
	if err != nil {
		return nil, err
	}
	return &struct{ PolicyVersion policyVersionShape }{versionOut(v)}, nil
}

func (o *iamOps) deletePolicyVersion(ctx context.Context, in *policyVersionInput) error {
	return o.svc.DeletePolicyVersion(ctx, *in.PolicyArn, *in.VersionId)
}

type createPolicyVersionInput struct {
	PolicyArn, PolicyDocument *string
	SetAsDefault              *bool
}

func createPolicyVersionResource(_ context.Context, in *createPolicyVersionInput) (string, error) {
	if err := check(required("policyDocument", in.PolicyDocument), document("policyDocument", in.PolicyDocument)); err != nil {
		return "", err
	}
	return policyARN(in.PolicyArn)
}

func (o *iamOps) createPolicyVersion(ctx context.Context, in *createPolicyVersionInput) (*struct{ PolicyVersion policyVersionShape }, error) {
	v, err := o.svc.CreatePolicyVersion(ctx, *in.PolicyArn, *in.PolicyDocument, in.SetAsDefault != nil && *in.SetAsDefault)
	if err != nil {
		return nil, err
	}
	return &struct{ PolicyVersion policyVersionShape }{versionOut(v)}, nil
}

type listPolicyVersionsInput struct {
	PolicyArn, Marker *string
	MaxItems          *int
}

type listPolicyVersionsOutput struct {
	Versions    []policyVersionShape
	IsTruncated bool
}

func listPolicyVersionsResource(_ context.Context, in *listPolicyVersionsInput) (string, error) {
	if err := check(intRange("maxItems", in.MaxItems, 1, 1000)); err != nil {
		return "", err
	}
	return policyARN(in.PolicyArn)
}

// listPolicyVersions lists every version in one page: a policy has at most five.
func (o *iamOps) listPolicyVersions(ctx context.Context, in *listPolicyVersionsInput) (*listPolicyVersionsOutput, error) {
	vs, err := o.svc.ListPolicyVersions(ctx, *in.PolicyArn)
	if err != nil {
		return nil, err
	}
	out := &listPolicyVersionsOutput{Versions: []policyVersionShape{}}
	for _, v := range vs {
		out.Versions = append(out.Versions, versionOut(v))
	}
	return out, nil
}

type listPoliciesInput struct {
	Scope, PathPrefix, PolicyUsageFilter, Marker *string
	OnlyAttached                                 *bool
	MaxItems                                     *int
}

type listManagedPoliciesOutput struct {
	Policies    []policyShape
	IsTruncated bool
	Marker      *string
}

func listPoliciesResource(_ context.Context, in *listPoliciesInput) (string, error) {
	var scope *violation
	if in.Scope != nil && *in.Scope != "All" && *in.Scope != "AWS" && *in.Scope != "Local" {
		scope = &violation{"scope", *in.Scope, "Member must satisfy enum value set: [All, AWS, Local]"}
	}
	var usage *violation
	if in.PolicyUsageFilter != nil && *in.PolicyUsageFilter != "PermissionsPolicy" && *in.PolicyUsageFilter != "PermissionsBoundary" {
		usage = &violation{"policyUsageFilter", *in.PolicyUsageFilter, "Member must satisfy enum value set: [PermissionsPolicy, PermissionsBoundary]"}
	}
	if err := check(scope, usage, policyPath("pathPrefix", in.PathPrefix), intRange("maxItems", in.MaxItems, 1, 1000)); err != nil {
		return "", err
	}
	return "*", nil
}

// listPolicies lists managed policies. No policy is a permissions boundary in Sluice, so a PermissionsBoundary
// filter lists none.
func (o *iamOps) listPolicies(ctx context.Context, in *listPoliciesInput) (*listManagedPoliciesOutput, error) {
	out := &listManagedPoliciesOutput{Policies: []policyShape{}}
	if str(in.PolicyUsageFilter) == "PermissionsBoundary" {
		return out, nil
	}
	ps, next, err := o.svc.ListPolicies(ctx, str(in.Scope), in.OnlyAttached != nil && *in.OnlyAttached, str(in.PathPrefix), str(in.Marker), num(in.MaxItems))
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		out.Policies = append(out.Policies, policyOut(p, false))
	}
	out.IsTruncated, out.Marker = next != "", optString(next)
	return out, nil
}
