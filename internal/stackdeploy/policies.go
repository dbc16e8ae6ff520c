package stackdeploy

import (
	"context"
	"errors"
	"slices"

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

func (inlinePolicyHandler) normalize(_ *run, _ string, p map[string]any) map[string]any { return p }

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
