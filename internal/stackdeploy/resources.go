package stackdeploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/sluice-dev/sluice/internal/cfn"
	iampkg "github.com/sluice-dev/sluice/internal/iam"
	"github.com/sluice-dev/sluice/internal/stack"
)

// ---- AWS::CloudWatch::Alarm ----

type alarmHandler struct{}

func (alarmHandler) check(r *run, id string, _ *cfn.Resource) error {
	props, err := r.resolved(id, placeholderRefs{})
	if err != nil {
		return err
	}
	return decodeInto(props, &cloudwatch.PutMetricAlarmInput{})
}

func (alarmHandler) create(ctx context.Context, r *run, res *resource) error {
	name := str(res.props, "AlarmName")
	if name == "" {
		name = r.physicalName(res.id, 255)
	}
	in := &cloudwatch.PutMetricAlarmInput{}
	if err := decodeInto(res.props, in, "AlarmName"); err != nil {
		return err
	}
	in.AlarmName = aws.String(name)
	if _, err := r.cw.PutMetricAlarm(ctx, in); err != nil {
		return err
	}
	res.physicalID = name
	res.attrs = map[string]string{"Arn": "arn:aws:cloudwatch:" + r.region + ":" + r.account + ":alarm:" + name}
	return nil
}

func (h alarmHandler) update(ctx context.Context, r *run, res *resource, prev stack.ResourceState, _ []string) (Action, string, error) {
	res.props["AlarmName"] = prev.PhysicalID
	err := h.create(ctx, r, res)
	if str(prev.Properties, "AlarmName") == "" {
		delete(res.props, "AlarmName")
	}
	return ActionUpdate, "", err
}

func (alarmHandler) replaces(changed []string) bool { return has(changed, "AlarmName") }

func (alarmHandler) remove(ctx context.Context, r *run, prev stack.ResourceState) error {
	_, err := r.cw.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{prev.PhysicalID}})
	return err
}

// ---- AWS::CodeDeploy::Application ----

type applicationHandler struct{}

func (applicationHandler) check(r *run, id string, _ *cfn.Resource) error {
	props, err := r.resolved(id, placeholderRefs{})
	if err != nil {
		return err
	}
	return decodeInto(props, &codedeploy.CreateApplicationInput{})
}

func (applicationHandler) create(ctx context.Context, r *run, res *resource) error {
	name := str(res.props, "ApplicationName")
	if name == "" {
		name = r.physicalName(res.id, 100)
	}
	in := &codedeploy.CreateApplicationInput{}
	if err := decodeInto(res.props, in, "ApplicationName"); err != nil {
		return err
	}
	in.ApplicationName = aws.String(name)
	if _, err := r.cd.CreateApplication(ctx, in); err != nil {
		return err
	}
	res.physicalID = name
	return nil
}

func (applicationHandler) update(context.Context, *run, *resource, stack.ResourceState, []string) (Action, string, error) {
	return ActionUpdate, "", nil // only Tags can differ; CodeDeploy keeps them as given at creation
}

func (applicationHandler) replaces(changed []string) bool {
	return has(changed, "ApplicationName", "ComputePlatform")
}

func (applicationHandler) remove(ctx context.Context, r *run, prev stack.ResourceState) error {
	_, err := r.cd.DeleteApplication(ctx, &codedeploy.DeleteApplicationInput{ApplicationName: aws.String(prev.PhysicalID)})
	var nf *cdtypes.ApplicationDoesNotExistException
	if errors.As(err, &nf) {
		return nil
	}
	return err
}

// ---- AWS::CodeDeploy::DeploymentGroup ----

type groupHandler struct{}

func (groupHandler) check(r *run, id string, _ *cfn.Resource) error {
	props, err := r.resolved(id, placeholderRefs{})
	if err != nil {
		return err
	}
	return decodeInto(props, &codedeploy.CreateDeploymentGroupInput{})
}

func (groupHandler) create(ctx context.Context, r *run, res *resource) error {
	name := str(res.props, "DeploymentGroupName")
	if name == "" {
		name = r.physicalName(res.id, 100)
	}
	in := &codedeploy.CreateDeploymentGroupInput{}
	if err := decodeInto(res.props, in, "DeploymentGroupName"); err != nil {
		return err
	}
	in.DeploymentGroupName = aws.String(name)
	if _, err := r.cd.CreateDeploymentGroup(ctx, in); err != nil {
		return err
	}
	res.physicalID = name
	return nil
}

func (groupHandler) update(ctx context.Context, r *run, res *resource, prev stack.ResourceState, _ []string) (Action, string, error) {
	in := &codedeploy.UpdateDeploymentGroupInput{}
	if err := decodeInto(res.props, in, "DeploymentGroupName"); err != nil {
		return "", "", err
	}
	in.CurrentDeploymentGroupName = aws.String(prev.PhysicalID)
	// Alarms and rollback settings that left the template are switched off, as CloudFormation does.
	if in.AlarmConfiguration == nil {
		in.AlarmConfiguration = &cdtypes.AlarmConfiguration{Enabled: false, Alarms: []cdtypes.Alarm{}}
	}
	if in.AutoRollbackConfiguration == nil {
		in.AutoRollbackConfiguration = &cdtypes.AutoRollbackConfiguration{Enabled: false}
	}
	_, err := r.cd.UpdateDeploymentGroup(ctx, in)
	return ActionUpdate, "", err
}

func (groupHandler) replaces(changed []string) bool {
	return has(changed, "ApplicationName", "DeploymentGroupName")
}

func (groupHandler) remove(ctx context.Context, r *run, prev stack.ResourceState) error {
	_, err := r.cd.DeleteDeploymentGroup(ctx, &codedeploy.DeleteDeploymentGroupInput{
		ApplicationName: aws.String(str(prev.Properties, "ApplicationName")), DeploymentGroupName: aws.String(prev.PhysicalID)})
	var nf *cdtypes.ApplicationDoesNotExistException
	if errors.As(err, &nf) {
		return nil
	}
	return err
}

// ---- AWS::CodeDeploy::DeploymentConfig ----

type configHandler struct{}

func (configHandler) check(r *run, id string, _ *cfn.Resource) error {
	props, err := r.resolved(id, placeholderRefs{})
	if err != nil {
		return err
	}
	return decodeInto(props, &codedeploy.CreateDeploymentConfigInput{})
}

func (configHandler) create(ctx context.Context, r *run, res *resource) error {
	name := str(res.props, "DeploymentConfigName")
	if name == "" {
		name = r.physicalName(res.id, 100)
	}
	in := &codedeploy.CreateDeploymentConfigInput{}
	if err := decodeInto(res.props, in, "DeploymentConfigName"); err != nil {
		return err
	}
	in.DeploymentConfigName = aws.String(name)
	if _, err := r.cd.CreateDeploymentConfig(ctx, in); err != nil {
		return err
	}
	res.physicalID = name
	return nil
}

func (configHandler) update(context.Context, *run, *resource, stack.ResourceState, []string) (Action, string, error) {
	return "", "", errors.New("deployment configs are immutable")
}

func (configHandler) replaces([]string) bool { return true }

func (configHandler) remove(ctx context.Context, r *run, prev stack.ResourceState) error {
	_, err := r.cd.DeleteDeploymentConfig(ctx, &codedeploy.DeleteDeploymentConfigInput{DeploymentConfigName: aws.String(prev.PhysicalID)})
	return err
}

// ---- AWS::IAM::Role ----

type roleHandler struct{}

var roleKeys = []string{"RoleName", "AssumeRolePolicyDocument", "Policies", "ManagedPolicyArns", "Path", "Description", "MaxSessionDuration", "Tags"}

func (roleHandler) check(r *run, id string, _ *cfn.Resource) error {
	props, err := checkedProps(r, id, roleKeys...)
	if err != nil {
		return err
	}
	if _, err := rolePolicies(props); err != nil {
		return err
	}
	for _, arn := range managedARNs(props) {
		// The account's own policies (a Ref to an AWS::IAM::ManagedPolicy included) are IAM's to find.
		if strings.HasPrefix(arn, "{") || strings.HasPrefix(arn, "arn:aws:iam::"+r.account+":policy/") {
			continue
		}
		if _, ok := iampkg.ManagedPolicy(arn); !ok {
			return fmt.Errorf("managed policy %s is not one Sluice knows (it knows %s and the account's own); use an inline or customer managed policy", arn, strings.Join(iampkg.ManagedPolicyARNs(), ", "))
		}
	}
	_, err = document(props["AssumeRolePolicyDocument"])
	return err
}

// document renders a policy document given as an object (CloudFormation's usual form) or a string.
func document(v any) (string, error) {
	switch d := v.(type) {
	case string:
		return d, nil
	case map[string]any:
		b, err := json.Marshal(d)
		return string(b), err
	}
	return "", errors.New("a policy document must be an object or a JSON string")
}

// rolePolicies returns a role's inline policies by name.
func rolePolicies(props map[string]any) (map[string]string, error) {
	out := map[string]string{}
	list, _ := props["Policies"].([]any)
	for i, item := range list {
		m, _ := item.(map[string]any)
		name, _ := m["PolicyName"].(string)
		if name == "" {
			return nil, fmt.Errorf("Policies[%d]: PolicyName is required", i)
		}
		doc, err := document(m["PolicyDocument"])
		if err != nil {
			return nil, fmt.Errorf("Policies[%d]: %w", i, err)
		}
		out[name] = doc
	}
	return out, nil
}

func managedARNs(props map[string]any) []string {
	var out []string
	list, _ := props["ManagedPolicyArns"].([]any)
	for _, v := range list {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func (roleHandler) create(ctx context.Context, r *run, res *resource) error {
	name := str(res.props, "RoleName")
	if name == "" {
		name = r.physicalName(res.id, 64)
	}
	trust, err := document(res.props["AssumeRolePolicyDocument"])
	if err != nil {
		return err
	}
	in := &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trust)}
	if p := str(res.props, "Path"); p != "" {
		in.Path = aws.String(p)
	}
	if d := str(res.props, "Description"); d != "" {
		in.Description = aws.String(d)
	}
	if res.props["MaxSessionDuration"] != nil {
		var m struct{ MaxSessionDuration *int32 }
		if err := decodeInto(map[string]any{"MaxSessionDuration": res.props["MaxSessionDuration"]}, &m); err != nil {
			return err
		}
		in.MaxSessionDuration = m.MaxSessionDuration
	}
	tags, err := tagMap(res.props["Tags"])
	if err != nil {
		return err
	}
	for _, k := range sortedKeys(tags) {
		in.Tags = append(in.Tags, iamtypes.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	out, err := r.iam.CreateRole(ctx, in)
	if err != nil {
		return err
	}
	res.physicalID = name
	res.attrs = map[string]string{"Arn": aws.ToString(out.Role.Arn), "RoleId": aws.ToString(out.Role.RoleId)}
	return syncRolePolicies(ctx, r, name, nil, res.props)
}

// syncRolePolicies makes a role's inline and managed policies those of props (before: the previous props).
func syncRolePolicies(ctx context.Context, r *run, role string, before, props map[string]any) error {
	want, err := rolePolicies(props)
	if err != nil {
		return err
	}
	had, _ := rolePolicies(before)
	for _, name := range sortedKeys(had) {
		if _, ok := want[name]; !ok {
			if _, err := r.iam.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String(name)}); err != nil {
				return err
			}
		}
	}
	for _, name := range sortedKeys(want) {
		if had[name] == want[name] {
			continue
		}
		if _, err := r.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String(name),
			PolicyDocument: aws.String(want[name])}); err != nil {
			return err
		}
	}
	wantARNs, hadARNs := managedARNs(props), managedARNs(before)
	for _, arn := range hadARNs {
		if !slices.Contains(wantARNs, arn) {
			if _, err := r.iam.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String(role), PolicyArn: aws.String(arn)}); err != nil {
				return err
			}
		}
	}
	for _, arn := range wantARNs {
		if !slices.Contains(hadARNs, arn) {
			if _, err := r.iam.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(role), PolicyArn: aws.String(arn)}); err != nil {
				return err
			}
		}
	}
	return nil
}

func (roleHandler) update(ctx context.Context, r *run, res *resource, prev stack.ResourceState, changed []string) (Action, string, error) {
	if has(changed, "AssumeRolePolicyDocument") {
		trust, err := document(res.props["AssumeRolePolicyDocument"])
		if err != nil {
			return "", "", err
		}
		if _, err := r.iam.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String(prev.PhysicalID), PolicyDocument: aws.String(trust)}); err != nil {
			return "", "", err
		}
	}
	return ActionUpdate, "", syncRolePolicies(ctx, r, prev.PhysicalID, prev.Properties, res.props)
}

func (roleHandler) replaces(changed []string) bool {
	return has(changed, "RoleName", "Path", "Description", "MaxSessionDuration", "Tags")
}

func (roleHandler) remove(ctx context.Context, r *run, prev stack.ResourceState) error {
	role := aws.String(prev.PhysicalID)
	if err := syncRolePolicies(ctx, r, prev.PhysicalID, prev.Properties, map[string]any{}); err != nil {
		var nf *iamtypes.NoSuchEntityException
		if errors.As(err, &nf) {
			return nil
		}
		return err
	}
	_, err := r.iam.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: role})
	var nf *iamtypes.NoSuchEntityException
	if errors.As(err, &nf) {
		return nil
	}
	return err
}
