package main

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/sluice-dev/sluice/bench/internal/benchiam"
)

const (
	fnName      = "orders"
	aliasName   = "live"
	appName     = "orders-app"
	alarmName   = "orders-errors-p1"
	linearGroup = "linear" // 1% more every configured minute, no alarm: the failover part
	canaryGroup = "canary" // 10% for two configured days, watched by the alarm: the rollback part
	healthy     = "1"      // the version the alias starts on and is rolled back to
	defective   = "2"      // FAIL_ALL: every invocation fails
	healthy2    = "3"      // the healthy target of the linear deployment
	linearCfg   = "bench-linear-1pct"
	canaryCfg   = "bench-canary-10pct-2days"
)

func envOf(m map[string]string) *types.Environment { return &types.Environment{Variables: m} }

// setupDeploy creates, through n, the deployment parts' function (versions 1 healthy, 2 defective, 3 healthy;
// alias live → 1), the Errors alarm on fn:live with a 1-second period (a Sluice extension; threshold 1, as
// bench/deploy's), two custom deployment configurations and their groups.
func setupDeploy(ctx context.Context, n *node, pkg []byte) error {
	l := n.lambda
	// The deployment groups' service role must exist and be assumable by CodeDeploy, with the managed policy.
	if err := benchiam.CreateCodeDeployRole(ctx, n.iam); err != nil {
		return err
	}
	if err := createFunction(ctx, l, fnName, pkg, map[string]string{"BUILD": "1"}); err != nil {
		return err
	}
	for i, env := range []map[string]string{{"BUILD": "1"}, {"BUILD": "2", "FAIL_ALL": "defect in version 2"}, {"BUILD": "3"}} {
		if i > 0 {
			if _, err := l.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String(fnName), Environment: envOf(env)}); err != nil {
				return err
			}
			if err := waitUpdated(ctx, l, fnName); err != nil {
				return err
			}
		}
		out, err := l.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String(fnName)})
		if err != nil {
			return err
		}
		if want := fmt.Sprint(i + 1); aws.ToString(out.Version) != want {
			return fmt.Errorf("published version %s, want %s", aws.ToString(out.Version), want)
		}
	}
	if _, err := l.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String(fnName), Name: aws.String(aliasName),
		FunctionVersion: aws.String(healthy)}); err != nil {
		return err
	}
	if _, err := n.cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String(alarmName),
		Namespace: aws.String("AWS/Lambda"), MetricName: aws.String("Errors"), Statistic: cwtypes.StatisticSum,
		Dimensions: []cwtypes.Dimension{{Name: aws.String("FunctionName"), Value: aws.String(fnName)},
			{Name: aws.String("Resource"), Value: aws.String(fnName + ":" + aliasName)}},
		Period: aws.Int32(1), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(1), TreatMissingData: aws.String("notBreaching"),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold}); err != nil {
		return err
	}
	if _, err := n.cd.CreateDeploymentConfig(ctx, &codedeploy.CreateDeploymentConfigInput{DeploymentConfigName: aws.String(linearCfg),
		ComputePlatform: cdtypes.ComputePlatformLambda, TrafficRoutingConfig: &cdtypes.TrafficRoutingConfig{Type: cdtypes.TrafficRoutingTypeTimeBasedLinear,
			TimeBasedLinear: &cdtypes.TimeBasedLinear{LinearPercentage: 1, LinearInterval: 1}}}); err != nil {
		return err
	}
	if _, err := n.cd.CreateDeploymentConfig(ctx, &codedeploy.CreateDeploymentConfigInput{DeploymentConfigName: aws.String(canaryCfg),
		ComputePlatform: cdtypes.ComputePlatformLambda, TrafficRoutingConfig: &cdtypes.TrafficRoutingConfig{Type: cdtypes.TrafficRoutingTypeTimeBasedCanary,
			TimeBasedCanary: &cdtypes.TimeBasedCanary{CanaryPercentage: 10, CanaryInterval: 2880}}}); err != nil {
		return err
	}
	if _, err := n.cd.CreateApplication(ctx, &codedeploy.CreateApplicationInput{ApplicationName: aws.String(appName),
		ComputePlatform: cdtypes.ComputePlatformLambda}); err != nil {
		return err
	}
	style := &cdtypes.DeploymentStyle{DeploymentType: cdtypes.DeploymentTypeBlueGreen, DeploymentOption: cdtypes.DeploymentOptionWithTrafficControl}
	if _, err := n.cd.CreateDeploymentGroup(ctx, &codedeploy.CreateDeploymentGroupInput{ApplicationName: aws.String(appName),
		DeploymentGroupName: aws.String(linearGroup), ServiceRoleArn: aws.String(benchiam.CodeDeployRole),
		DeploymentConfigName: aws.String(linearCfg), DeploymentStyle: style}); err != nil {
		return err
	}
	_, err := n.cd.CreateDeploymentGroup(ctx, &codedeploy.CreateDeploymentGroupInput{ApplicationName: aws.String(appName),
		DeploymentGroupName: aws.String(canaryGroup), ServiceRoleArn: aws.String(benchiam.CodeDeployRole),
		DeploymentConfigName: aws.String(canaryCfg), DeploymentStyle: style,
		AlarmConfiguration: &cdtypes.AlarmConfiguration{Enabled: true, Alarms: []cdtypes.Alarm{{Name: aws.String(alarmName)}}},
		AutoRollbackConfiguration: &cdtypes.AutoRollbackConfiguration{Enabled: true,
			Events: []cdtypes.AutoRollbackEvent{cdtypes.AutoRollbackEventDeploymentFailure, cdtypes.AutoRollbackEventDeploymentStopOnAlarm}}})
	return err
}

func createDeployment(ctx context.Context, n *node, group, current, target string) (string, error) {
	spec := fmt.Sprintf("version: 0.0\nResources:\n  - %s:\n      Type: AWS::Lambda::Function\n      Properties:\n        Name: %s\n        Alias: %s\n        CurrentVersion: %q\n        TargetVersion: %q\n",
		fnName, fnName, aliasName, current, target)
	out, err := n.cd.CreateDeployment(ctx, &codedeploy.CreateDeploymentInput{ApplicationName: aws.String(appName), DeploymentGroupName: aws.String(group),
		Revision: &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeAppSpecContent,
			AppSpecContent: &cdtypes.AppSpecContent{Content: aws.String(spec)}}})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.DeploymentId), nil
}

// waitDeployment polls the deployment through n until it ends, and returns it.
func waitDeployment(ctx context.Context, n *node, id string, timeout time.Duration) (*cdtypes.DeploymentInfo, error) {
	deadline := time.Now().Add(timeout)
	for {
		out, err := n.cd.GetDeployment(ctx, &codedeploy.GetDeploymentInput{DeploymentId: aws.String(id)})
		if err == nil {
			switch out.DeploymentInfo.Status {
			case cdtypes.DeploymentStatusSucceeded, cdtypes.DeploymentStatusFailed, cdtypes.DeploymentStatusStopped:
				return out.DeploymentInfo, nil
			}
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("deployment %s not over after %s (last error %v)", id, timeout, err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// ensureHealthyAlias puts the alias back on version 1 unsplit if it is not.
func ensureHealthyAlias(ctx context.Context, n *node) error {
	out, err := n.lambda.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String(fnName), Name: aws.String(aliasName)})
	if err != nil {
		return err
	}
	if aws.ToString(out.FunctionVersion) == healthy && (out.RoutingConfig == nil || len(out.RoutingConfig.AdditionalVersionWeights) == 0) {
		return nil
	}
	_, err = n.lambda.UpdateAlias(ctx, &lambda.UpdateAliasInput{FunctionName: aws.String(fnName), Name: aws.String(aliasName),
		FunctionVersion: aws.String(healthy), RoutingConfig: &types.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{}}})
	return err
}

// waitAlarmState waits for the alarm to reach a state (one still in ALARM would stop the next deployment at once).
func waitAlarmState(ctx context.Context, n *node, state string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		out, err := n.cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{alarmName}})
		if err == nil && len(out.MetricAlarms) == 1 && string(out.MetricAlarms[0].StateValue) == state {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("alarm %s not %s after %s (%v)", alarmName, state, timeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// aliasSample is one GetAlias poll: when it was sent and answered, and the alias it saw.
type aliasSample struct {
	sent, recv time.Time
	version    string
	weights    map[string]float64
}

// pollAlias polls GetAlias through n every interval until ctx ends, handing each answer to f; f returning true
// stops it.
func pollAlias(ctx context.Context, n *node, interval time.Duration, f func(aliasSample) bool) {
	for ctx.Err() == nil {
		s := aliasSample{sent: time.Now()}
		out, err := n.lambda.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String(fnName), Name: aws.String(aliasName)})
		s.recv = time.Now()
		if err == nil {
			s.version = aws.ToString(out.FunctionVersion)
			if out.RoutingConfig != nil {
				s.weights = out.RoutingConfig.AdditionalVersionWeights
			}
			if f(s) {
				return
			}
		}
		if d := time.Until(s.sent.Add(interval)); d > 0 {
			time.Sleep(d)
		}
	}
}
