package stackdeploy

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/sluice-dev/sluice/internal/cfn"
	"github.com/sluice-dev/sluice/internal/stack"
)

// ---- AWS::Logs::LogGroup ----

// logGroupHandler makes a log group in Sluice's CloudWatch Logs, with its retention and tags. Ref is its name;
// Arn is the group's ARN as CloudFormation gives it (with the trailing ":*").
type logGroupHandler struct{}

var logGroupKeys = []string{"LogGroupName", "RetentionInDays", "Tags", "LogGroupClass"}

func (logGroupHandler) check(r *run, id string, _ *cfn.Resource) error {
	props, err := checkedProps(r, id, logGroupKeys...)
	if err != nil {
		return err
	}
	if c := str(props, "LogGroupClass"); c != "" && c != "STANDARD" {
		return errors.New("LogGroupClass: Sluice's log groups are STANDARD")
	}
	_, err = tagMap(props["Tags"])
	return err
}

func (h logGroupHandler) create(ctx context.Context, r *run, res *resource) error {
	name := str(res.props, "LogGroupName")
	if name == "" {
		name = r.physicalName(res.id, 512)
	}
	tags, err := tagMap(res.props["Tags"])
	if err != nil {
		return err
	}
	if _, err := r.logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(name), Tags: tags}); err != nil {
		return err
	}
	if err := h.retention(ctx, r, name, res.props, nil); err != nil {
		_, _ = r.logs.DeleteLogGroup(context.WithoutCancel(ctx), &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: aws.String(name)})
		return err
	}
	res.physicalID, res.attrs = name, logGroupAttrs(r, name)
	return nil
}

func logGroupAttrs(r *run, name string) map[string]string {
	return map[string]string{"Arn": "arn:aws:logs:" + r.region + ":" + r.account + ":log-group:" + name + ":*"}
}

// retention makes the group's retention that of props (before: the previous props, nil for a new group).
func (logGroupHandler) retention(ctx context.Context, r *run, name string, props, before map[string]any) error {
	if props["RetentionInDays"] == nil {
		if before != nil && before["RetentionInDays"] != nil {
			_, err := r.logs.DeleteRetentionPolicy(ctx, &cloudwatchlogs.DeleteRetentionPolicyInput{LogGroupName: aws.String(name)})
			return err
		}
		return nil
	}
	in := &cloudwatchlogs.PutRetentionPolicyInput{}
	if err := decodeInto(map[string]any{"RetentionInDays": props["RetentionInDays"]}, in); err != nil {
		return err
	}
	in.LogGroupName = aws.String(name)
	_, err := r.logs.PutRetentionPolicy(ctx, in)
	return err
}

func (h logGroupHandler) update(ctx context.Context, r *run, res *resource, prev stack.ResourceState, changed []string) (Action, string, error) {
	res.attrs = logGroupAttrs(r, prev.PhysicalID)
	if has(changed, "RetentionInDays") {
		if err := h.retention(ctx, r, prev.PhysicalID, res.props, prev.Properties); err != nil {
			return "", "", err
		}
	}
	return ActionUpdate, "", nil
}

// replaces: a new name is a new group; so are new tags, which Sluice's log groups take only at creation.
func (logGroupHandler) replaces(changed []string) bool {
	return has(changed, "LogGroupName", "LogGroupClass", "Tags")
}

func (logGroupHandler) remove(ctx context.Context, r *run, prev stack.ResourceState) error {
	_, err := r.logs.DeleteLogGroup(ctx, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: aws.String(prev.PhysicalID)})
	if apiCode(err) == "ResourceNotFoundException" {
		return nil
	}
	return err
}
