package stackdeploy

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/sluice-dev/sluice/internal/cfn"
	"github.com/sluice-dev/sluice/internal/stack"
)

// ---- AWS::IAM::Policy ----

// inlinePolicyHandler puts one inline policy, under PolicyName, on each of the roles and users it names (what CDK
// makes of a role's grants: the role's DefaultPolicy). Its physical id is generated, as CloudFormation's is.
type inlinePolicyHandler struct{}

func (inlinePolicyHandler) check(r *run, id string, _ *cfn.Resource) error {
	props, err := checkedProps(r, id, "PolicyName", "PolicyDocument", "Roles", "Users", "Groups")
	if err != nil {
		return err
	}
	if props["Groups"] != nil {
		return errors.New("Groups: Sluice's IAM has no groups; attach the policy to Roles or Users")
	}
	if str(props, "PolicyName") == "" {
		return errors.New("PolicyName is required")
	}
	if len(names(props["Roles"]))+len(names(props["Users"])) == 0 {
		return errors.New("at least one of Roles, Users or Groups is required")
	}
	_, err = document(props["PolicyDocument"])
	return err
}

// names reads a list of names (Roles, Users).
func names(v any) []string {
	list, _ := v.([]any)
	var out []string
	for _, item := range list {
		if s, ok := item.(string); ok && s != "" {
			out = append(out, s)
		}
	}
	return out
}

func (h inlinePolicyHandler) create(ctx context.Context, r *run, res *resource) error {
	if err := syncInlinePolicy(ctx, r, map[string]any{}, res.props); err != nil {
		return err
	}
	res.physicalID = r.physicalName(res.id, 128)
	return nil
}

// syncInlinePolicy makes the policy that of props on props' roles and users, and takes the one of before (a
// policy of another name, or on a role or user no longer named) away.
func syncInlinePolicy(ctx context.Context, r *run, before, props map[string]any) error {
	name, oldName := str(props, "PolicyName"), str(before, "PolicyName")
	var doc string
	if name != "" {
		var err error
		if doc, err = document(props["PolicyDocument"]); err != nil {
			return err
		}
	}
	roles, users := names(props["Roles"]), names(props["Users"])
	for _, role := range roles {
		if _, err := r.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String(name),
			PolicyDocument: aws.String(doc)}); err != nil {
			return err
		}
	}
	for _, user := range users {
		if _, err := r.iam.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(user), PolicyName: aws.String(name),
			PolicyDocument: aws.String(doc)}); err != nil {
			return err
		}
	}
	if oldName == "" {
		return nil
	}
	for _, role := range names(before["Roles"]) {
		if oldName == name && slices.Contains(roles, role) {
			continue
		}
		_, err := r.iam.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String(oldName)})
		if err := ignoreNoSuchEntity(err); err != nil {
			return err
		}
	}
	for _, user := range names(before["Users"]) {
		if oldName == name && slices.Contains(users, user) {
			continue
		}
		_, err := r.iam.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String(user), PolicyName: aws.String(oldName)})
		if err := ignoreNoSuchEntity(err); err != nil {
			return err
		}
	}
	return nil
}

// ignoreNoSuchEntity treats an entity already gone as removed.
func ignoreNoSuchEntity(err error) error {
	var nf *iamtypes.NoSuchEntityException
	if errors.As(err, &nf) {
		return nil
	}
	return err
}

func (inlinePolicyHandler) update(ctx context.Context, r *run, res *resource, prev stack.ResourceState, _ []string) (Action, string, error) {
	return ActionUpdate, "", syncInlinePolicy(ctx, r, prev.Properties, res.props)
}

func (inlinePolicyHandler) replaces([]string) bool { return false }

func (inlinePolicyHandler) remove(ctx context.Context, r *run, prev stack.ResourceState) error {
	return syncInlinePolicy(ctx, r, prev.Properties, map[string]any{})
}

// ---- AWS::IAM::ManagedPolicy ----

// managedPolicyHandler makes a customer managed policy and attaches it to the roles it names. A new document is
// a new default version (the oldest other version goes when IAM's five are there); Ref is the policy's ARN.
type managedPolicyHandler struct{}

var managedPolicyKeys = []string{"ManagedPolicyName", "Path", "Description", "PolicyDocument", "Roles", "Users", "Groups"}

func (managedPolicyHandler) check(r *run, id string, _ *cfn.Resource) error {
	props, err := checkedProps(r, id, managedPolicyKeys...)
	if err != nil {
		return err
	}
	if props["Users"] != nil || props["Groups"] != nil {
		return errors.New("Users, Groups: Sluice attaches managed policies to roles only")
	}
	_, err = document(props["PolicyDocument"])
	return err
}

func (h managedPolicyHandler) create(ctx context.Context, r *run, res *resource) error {
	name := str(res.props, "ManagedPolicyName")
	if name == "" {
		name = r.physicalName(res.id, 128)
	}
	doc, err := document(res.props["PolicyDocument"])
	if err != nil {
		return err
	}
	in := &iam.CreatePolicyInput{PolicyName: aws.String(name), PolicyDocument: aws.String(doc)}
	if p := str(res.props, "Path"); p != "" {
		in.Path = aws.String(p)
	}
	if d := str(res.props, "Description"); d != "" {
		in.Description = aws.String(d)
	}
	out, err := r.iam.CreatePolicy(ctx, in)
	if err != nil {
		return err
	}
	arn := aws.ToString(out.Policy.Arn)
	if err := attachManaged(ctx, r, arn, nil, names(res.props["Roles"])); err != nil {
		_ = attachManaged(context.WithoutCancel(ctx), r, arn, names(res.props["Roles"]), nil)
		_, _ = r.iam.DeletePolicy(context.WithoutCancel(ctx), &iam.DeletePolicyInput{PolicyArn: out.Policy.Arn})
		return err
	}
	res.physicalID = arn
	res.attrs = map[string]string{"PolicyArn": arn, "PolicyId": aws.ToString(out.Policy.PolicyId)}
	return nil
}

// attachManaged attaches the policy to the roles of want it is not attached to as one of had, and detaches it from
// those of had no longer wanted.
func attachManaged(ctx context.Context, r *run, arn string, had, want []string) error {
	for _, role := range want {
		if !slices.Contains(had, role) {
			if _, err := r.iam.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(role), PolicyArn: aws.String(arn)}); err != nil {
				return err
			}
		}
	}
	for _, role := range had {
		if !slices.Contains(want, role) {
			_, err := r.iam.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String(role), PolicyArn: aws.String(arn)})
			if err := ignoreNoSuchEntity(err); err != nil {
				return err
			}
		}
	}
	return nil
}

func (managedPolicyHandler) update(ctx context.Context, r *run, res *resource, prev stack.ResourceState, changed []string) (Action, string, error) {
	arn := prev.PhysicalID
	res.attrs = prev.Attributes
	if has(changed, "PolicyDocument") {
		doc, err := document(res.props["PolicyDocument"])
		if err != nil {
			return "", "", err
		}
		versions, err := r.iam.ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: aws.String(arn)})
		if err != nil {
			return "", "", err
		}
		if len(versions.Versions) >= 5 {
			// Make room as CloudFormation does: the oldest version that is not the default goes.
			oldest := ""
			for _, v := range versions.Versions {
				if !v.IsDefaultVersion && (oldest == "" || versionNumber(aws.ToString(v.VersionId)) < versionNumber(oldest)) {
					oldest = aws.ToString(v.VersionId)
				}
			}
			if _, err := r.iam.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String(oldest)}); err != nil {
				return "", "", err
			}
		}
		if _, err := r.iam.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(arn), PolicyDocument: aws.String(doc),
			SetAsDefault: true}); err != nil {
			return "", "", err
		}
	}
	return ActionUpdate, "", attachManaged(ctx, r, arn, names(prev.Properties["Roles"]), names(res.props["Roles"]))
}

func versionNumber(id string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(id, "v"))
	return n
}

func (managedPolicyHandler) replaces(changed []string) bool {
	return has(changed, "ManagedPolicyName", "Path", "Description")
}

// remove detaches the policy, deletes its versions but the default, then the policy, as IAM requires.
func (managedPolicyHandler) remove(ctx context.Context, r *run, prev stack.ResourceState) error {
	arn := aws.String(prev.PhysicalID)
	if err := attachManaged(ctx, r, prev.PhysicalID, names(prev.Properties["Roles"]), nil); err != nil {
		return err
	}
	versions, err := r.iam.ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: arn})
	if err != nil {
		return ignoreNoSuchEntity(err)
	}
	for _, v := range versions.Versions {
		if !v.IsDefaultVersion {
			if _, err := r.iam.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: arn, VersionId: v.VersionId}); err != nil {
				return err
			}
		}
	}
	_, err = r.iam.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: arn})
	return ignoreNoSuchEntity(err)
}
