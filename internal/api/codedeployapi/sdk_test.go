package codedeployapi_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/smithy-go"

	domain "github.com/sluice-dev/sluice/internal/codedeploy"
	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/sdkhttp"
)

func sdkClient(url string) *codedeploy.Client {
	return codedeploy.NewFromConfig(aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		BaseEndpoint: aws.String(url),
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
		HTTPClient:   sdkhttp.Wrap(nil),
	})
}

// sdkCase is one operation called through the Go SDK: what the backend must receive and what the client must
// parse from the answer.
type sdkCase struct {
	name  string
	setup func(f *fake)
	call  func(ctx context.Context, c *codedeploy.Client) (any, error)
	want  []call
	check func(t *testing.T, out any)
}

func dump(calls []call) string {
	var b strings.Builder
	for _, c := range calls {
		fmt.Fprintf(&b, "  %s %+v\n", c.Op, c.Args)
	}
	return b.String()
}

func TestSDKRoundTrips(t *testing.T) {
	s := newServer(t)
	c := sdkClient(s.URL)
	for _, tc := range sdkCases() {
		t.Run(tc.name, func(t *testing.T) {
			*s.fake = *newFake()
			if tc.setup != nil {
				tc.setup(s.fake)
			}
			out, err := tc.call(context.Background(), c)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if calls := s.fake.takeCalls(); !reflect.DeepEqual(calls, tc.want) {
				t.Errorf("backend calls:\n%s\nwant:\n%s", dump(calls), dump(tc.want))
			}
			if tc.check != nil {
				tc.check(t, out)
			}
		})
	}
}

func eq[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}

func sdkCases() []sdkCase {
	rollbackTrue := true
	return []sdkCase{
		// ---- applications ----
		{
			name: "CreateApplication",
			call: func(ctx context.Context, c *codedeploy.Client) (any, error) {
				return c.CreateApplication(ctx, &codedeploy.CreateApplicationInput{ApplicationName: aws.String("orders"),
					ComputePlatform: types.ComputePlatformLambda, Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("payments")}}})
			},
			want: []call{{"CreateApplication", domain.Application{Name: "orders", ComputePlatform: "Lambda", Tags: map[string]string{"team": "payments"}}}},
			check: func(t *testing.T, out any) {
				eq(t, "applicationId", aws.ToString(out.(*codedeploy.CreateApplicationOutput).ApplicationId), ordersApp().ID)
			},
		},
		{
			name: "GetApplication",
			call: func(ctx context.Context, c *codedeploy.Client) (any, error) {
				return c.GetApplication(ctx, &codedeploy.GetApplicationInput{ApplicationName: aws.String("orders")})
			},
			want: []call{{"GetApplication", "orders"}},
			check: func(t *testing.T, out any) {
				a := out.(*codedeploy.GetApplicationOutput).Application
				eq(t, "application", [4]any{aws.ToString(a.ApplicationName), aws.ToString(a.ApplicationId), a.ComputePlatform, aws.ToTime(a.CreateTime)},
					[4]any{"orders", ordersApp().ID, types.ComputePlatformLambda, tCreate})
			},
		},
		{
			name: "BatchGetApplications",
			call: func(ctx context.Context, c *codedeploy.Client) (any, error) {
				return c.BatchGetApplications(ctx, &codedeploy.BatchGetApplicationsInput{ApplicationNames: []string{"orders", "orders"}})
			},
			want: []call{{"GetApplication", "orders"}},
			check: func(t *testing.T, out any) {
				a := out.(*codedeploy.BatchGetApplicationsOutput).ApplicationsInfo
				if len(a) != 1 || aws.ToString(a[0].ApplicationName) != "orders" {
					t.Errorf("applicationsInfo %+v", a)
				}
			},
		},
		{
			name:  "ListApplications",
			setup: func(f *fake) { f.names, f.nextToken = []string{"billing", "orders"}, "page-2" },
			call: func(ctx context.Context, c *codedeploy.Client) (any, error) {
				return c.ListApplications(ctx, &codedeploy.ListApplicationsInput{NextToken: aws.String("page-1")})
			},
			want: []call{{"ListApplications", "page-1"}},
			check: func(t *testing.T, out any) {
				o := out.(*codedeploy.ListApplicationsOutput)
				eq(t, "applications", o.Applications, []string{"billing", "orders"})
				eq(t, "nextToken", aws.ToString(o.NextToken), "page-2")
			},
		},
		{
			name: "DeleteApplication",
			call: func(ctx context.Context, c *codedeploy.Client) (any, error) {
				return c.DeleteApplication(ctx, &codedeploy.DeleteApplicationInput{ApplicationName: aws.String("orders")})
			},
			want: []call{{"DeleteApplication", "orders"}},
		},
		{
			name: "UpdateApplication same name",
			call: func(ctx context.Context, c *codedeploy.Client) (any, error) {
				return c.UpdateApplication(ctx, &codedeploy.UpdateApplicationInput{ApplicationName: aws.String("orders"), NewApplicationName: aws.String("orders")})
			},
			want: []call{{"GetApplication", "orders"}},
		},

		// ---- deployment groups ----
		{
			name: "CreateDeploymentGroup",
			call: func(ctx context.Context, c *codedeploy.Client) (any, error) {
				return c.CreateDeploymentGroup(ctx, &codedeploy.CreateDeploymentGroupInput{
					ApplicationName: aws.String("orders"), DeploymentGroupName: aws.String("orders-live"),
					ServiceRoleArn:       aws.String("arn:aws:iam::123456789012:role/CodeDeployServiceRole"),
					DeploymentConfigName: aws.String(domain.LambdaCanary10Percent5Minutes),
					AlarmConfiguration: &types.AlarmConfiguration{Enabled: true,
						Alarms: []types.Alarm{{Name: aws.String("orders-errors")}, {Name: aws.String("orders-latency-p99")}}},
					AutoRollbackConfiguration: &types.AutoRollbackConfiguration{Enabled: true,
						Events: []types.AutoRollbackEvent{types.AutoRollbackEventDeploymentFailure, types.AutoRollbackEventDeploymentStopOnAlarm}},
					DeploymentStyle: &types.DeploymentStyle{DeploymentType: types.DeploymentTypeBlueGreen, DeploymentOption: types.DeploymentOptionWithTrafficControl},
					Tags:            []types.Tag{{Key: aws.String("team"), Value: aws.String("payments")}},
				})
			},
			want: []call{{"CreateDeploymentGroup", domain.DeploymentGroup{
				ApplicationName: "orders", Name: "orders-live", ServiceRoleARN: "arn:aws:iam::123456789012:role/CodeDeployServiceRole",
				DeploymentConfigName: domain.LambdaCanary10Percent5Minutes, Alarms: ordersAlarms, AutoRollback: ordersRollback,
				Style: lambdaStyle, Tags: map[string]string{"team": "payments"},
			}}},
			check: func(t *testing.T, out any) {
				eq(t, "deploymentGroupId", aws.ToString(out.(*codedeploy.CreateDeploymentGroupOutput).DeploymentGroupId), ordersGroup().ID)
			},
		},
		{
			name: "CreateDeploymentGroup minimal",
			call: func(ctx context.Context, c *codedeploy.Client) (any, error) {
				return c.CreateDeploymentGroup(ctx, &codedeploy.CreateDeploymentGroupInput{
					ApplicationName: aws.String("orders"), DeploymentGroupName: aws.String("g"), ServiceRoleArn: aws.String("arn:aws:iam::123456789012:role/r")})
			},
			want: []call{{"CreateDeploymentGroup", domain.DeploymentGroup{ApplicationName: "orders", Name: "g", ServiceRoleARN: "arn:aws:iam::123456789012:role/r"}}},
		},
		{
			name: "GetDeploymentGroup",
			call: func(ctx context.Context, c *codedeploy.Client) (any, error) {
				return c.GetDeploymentGroup(ctx, &codedeploy.GetDeploymentGroupInput{ApplicationName: aws.String("orders"), DeploymentGroupName: aws.String("orders-live")})
			},
			want: []call{{"GetDeploymentGroup", groupArgs{"orders", "orders-live"}}, {"GetDeployment", idInProgress}, {"GetDeployment", idSucceeded}},
			check: func(t *testing.T, out any) {
				g := out.(*codedeploy.GetDeploymentGroupOutput).DeploymentGroupInfo
				checkGroup(t, g)
			},
		},
		{
			name: "BatchGetDeploymentGroups",
			call: func(ctx context.Context, c *codedeploy.Client) (any, error) {
				return c.BatchGetDeploymentGroups(ctx, &codedeploy.BatchGetDeploymentGroupsInput{ApplicationName: aws.String("orders"),
					DeploymentGroupNames: []string{"orders-live", "missing"}})
			},
			want: []call{{"GetDeploymentGroup", groupArgs{"orders", "orders-live"}}, {"GetDeployment", idInProgress}, {"GetDeployment", idSucceeded},
				{"GetDeploymentGroup", groupArgs{"orders", "missing"}}},
			check: func(t *testing.T, out any) {
				o := out.(*codedeploy.BatchGetDeploymentGroupsOutput)
				if len(o.DeploymentGroupsInfo) != 1 {
					t.Fatalf("deploymentGroupsInfo %+v", o.DeploymentGroupsInfo)
				}
				checkGroup(t, &o.DeploymentGroupsInfo[0])
				eq(t, "errorMessage", aws.ToString(o.ErrorMessage), "No Deployment Group found for name: missing")
			},
		},
		{
			name: "UpdateDeploymentGroup",
			call: func(ctx context.Context, c *codedeploy.Client) (any, error) {
				return c.UpdateDeploymentGroup(ctx, &codedeploy.UpdateDeploymentGroupInput{
					ApplicationName: aws.String("orders"), CurrentDeploymentGroupName: aws.String("orders-live"),
					NewDeploymentGroupName: aws.String("orders-prod"), DeploymentConfigName: aws.String(domain.LambdaLinear10PercentEvery1Minute),
					AlarmConfiguration: &types.AlarmConfiguration{Enabled: false},
				})
			},
			want: []call{{"GetDeploymentGroup", groupArgs{"orders", "orders-live"}}, {"UpdateDeploymentGroup", updateGroupArgs{"orders-live", func() domain.DeploymentGroup {
				g := ordersGroup()
				g.Name, g.DeploymentConfigName, g.Alarms = "orders-prod", domain.LambdaLinear10PercentEvery1Minute, domain.AlarmConfiguration{}
				return g
			}()}}},
			check: func(t *testing.T, out any) {
				if h := out.(*codedeploy.UpdateDeploymentGroupOutput).HooksNotCleanedUp; h == nil || len(h) != 0 {
					t.Errorf("hooksNotCleanedUp %#v, want []", h)
				}
			},
		},
		{
			name: "DeleteDeploymentGroup",
			call: func(ctx context.Context, c *codedeploy.Client) (any, error) {
				return c.DeleteDeploymentGroup(ctx, &codedeploy.DeleteDeploymentGroupInput{ApplicationName: aws.String("orders"), DeploymentGroupName: aws.String("orders-live")})
			},
			want: []call{{"DeleteDeploymentGroup", groupArgs{"orders", "orders-live"}}},
			check: func(t *testing.T, out any) {
				if h := out.(*codedeploy.DeleteDeploymentGroupOutput).HooksNotCleanedUp; h == nil || len(h) != 0 {
					t.Errorf("hooksNotCleanedUp %#v, want []", h)
				}
			},
		},
		{
			name:  "ListDeploymentGroups",
			setup: func(f *fake) { f.names = []string{"orders-live"} },
			call: func(ctx context.Context, c *codedeploy.Client) (any, error) {
				return c.ListDeploymentGroups(ctx, &codedeploy.ListDeploymentGroupsInput{ApplicationName: aws.String("orders")})
			},
			want: []call{{"ListDeploymentGroups", listGroupsArgs{"orders", ""}}},
			check: func(t *testing.T, out any) {
				o := out.(*codedeploy.ListDeploymentGroupsOutput)
				eq(t, "output", [3]any{aws.ToString(o.ApplicationName), o.DeploymentGroups, o.NextToken}, [3]any{"orders", []string{"orders-live"}, (*string)(nil)})
			},
		},

		// ---- deployment configurations ----
		{
			name: "CreateDeploymentConfig",
			call: func(ctx context.Context, c *codedeploy.Client) (any, error) {
				return c.CreateDeploymentConfig(ctx, &codedeploy.CreateDeploymentConfigInput{
					DeploymentConfigName: aws.String("Canary25Percent45Minutes"), ComputePlatform: types.ComputePlatformLambda,
					TrafficRoutingConfig: &types.TrafficRoutingConfig{Type: types.TrafficRoutingTypeTimeBasedCanary,
						TimeBasedCanary: &types.TimeBasedCanary{CanaryPercentage: 25, CanaryInterval: 45}},
				})
			},
			want: []call{{"CreateDeploymentConfig", func() domain.DeploymentConfig {
				c := customConfig()
				c.ID, c.CreateTime = "", time.Time{}
				return c
			}()}},
			check: func(t *testing.T, out any) {
				eq(t, "deploymentConfigId", aws.ToString(out.(*codedeploy.CreateDeploymentConfigOutput).DeploymentConfigId), customConfig().ID)
			},
		},
		{
			name: "GetDeploymentConfig custom",
			call: func(ctx context.Context, c *codedeploy.Client) (any, error) {
				return c.GetDeploymentConfig(ctx, &codedeploy.GetDeploymentConfigInput{DeploymentConfigName: aws.String("Canary25Percent45Minutes")})
			},
			want: []call{{"GetDeploymentConfig", "Canary25Percent45Minutes"}},
			check: func(t *testing.T, out any) {
				i := out.(*codedeploy.GetDeploymentConfigOutput).DeploymentConfigInfo
				eq(t, "info", [4]any{aws.ToString(i.DeploymentConfigName), aws.ToString(i.DeploymentConfigId), i.ComputePlatform, aws.ToTime(i.CreateTime)},
					[4]any{"Canary25Percent45Minutes", customConfig().ID, types.ComputePlatformLambda, tCreate})
				r := i.TrafficRoutingConfig
				if r.Type != types.TrafficRoutingTypeTimeBasedCanary || r.TimeBasedCanary == nil || r.TimeBasedCanary.CanaryPercentage != 25 ||
					r.TimeBasedCanary.CanaryInterval != 45 || r.TimeBasedLinear != nil {
					t.Errorf("trafficRoutingConfig %+v", r)
				}
			},
		},
		{
			name: "GetDeploymentConfig predefined linear",
			call: func(ctx context.Context, c *codedeploy.Client) (any, error) {
				return c.GetDeploymentConfig(ctx, &codedeploy.GetDeploymentConfigInput{DeploymentConfigName: aws.String(domain.LambdaLinear10PercentEvery2Minutes)})
			},
			want: []call{{"GetDeploymentConfig", domain.LambdaLinear10PercentEvery2Minutes}},
			check: func(t *testing.T, out any) {
				i := out.(*codedeploy.GetDeploymentConfigOutput).DeploymentConfigInfo
				r := i.TrafficRoutingConfig
				if i.DeploymentConfigId != nil || i.CreateTime != nil || r.Type != types.TrafficRoutingTypeTimeBasedLinear || r.TimeBasedLinear == nil ||
					r.TimeBasedLinear.LinearPercentage != 10 || r.TimeBasedLinear.LinearInterval != 2 {
					t.Errorf("info %+v routing %+v", i, r)
				}
			},
		},
		{
			name: "DeleteDeploymentConfig",
			call: func(ctx context.Context, c *codedeploy.Client) (any, error) {
				return c.DeleteDeploymentConfig(ctx, &codedeploy.DeleteDeploymentConfigInput{DeploymentConfigName: aws.String("Canary25Percent45Minutes")})
			},
			want: []call{{"DeleteDeploymentConfig", "Canary25Percent45Minutes"}},
		},
		{
			name:  "ListDeploymentConfigs",
			setup: func(f *fake) { f.names = []string{domain.LambdaAllAtOnce, "Canary25Percent45Minutes"} },
			call: func(ctx context.Context, c *codedeploy.Client) (any, error) {
				return c.ListDeploymentConfigs(ctx, &codedeploy.ListDeploymentConfigsInput{})
			},
			want: []call{{"ListDeploymentConfigs", ""}},
			check: func(t *testing.T, out any) {
				eq(t, "deploymentConfigsList", out.(*codedeploy.ListDeploymentConfigsOutput).DeploymentConfigsList,
					[]string{domain.LambdaAllAtOnce, "Canary25Percent45Minutes"})
			},
		},

		// ---- deployments ----
		{
			name: "CreateDeployment",
			call: func(ctx context.Context, c *codedeploy.Client) (any, error) {
				return c.CreateDeployment(ctx, &codedeploy.CreateDeploymentInput{
					ApplicationName: aws.String("orders"), DeploymentGroupName: aws.String("orders-live"),
					Revision: &types.RevisionLocation{RevisionType: types.RevisionLocationTypeAppSpecContent,
						AppSpecContent: &types.AppSpecContent{Content: aws.String(appSpecYAML)}},
					DeploymentConfigName: aws.String(domain.LambdaAllAtOnce), Description: aws.String("orders v2"),
					AutoRollbackConfiguration:  &types.AutoRollbackConfiguration{Enabled: false},
					OverrideAlarmConfiguration: &types.AlarmConfiguration{Enabled: true, IgnorePollAlarmFailure: true, Alarms: []types.Alarm{{Name: aws.String("orders-errors")}}},
				})
			},
			want: []call{{"CreateDeployment", domain.CreateDeploymentInput{
				ApplicationName: "orders", DeploymentGroupName: "orders-live", DeploymentConfigName: domain.LambdaAllAtOnce,
				Revision: appSpecRevision(), Description: "orders v2", AutoRollback: &domain.AutoRollbackConfiguration{},
				Alarms: &domain.AlarmConfiguration{Enabled: true, IgnorePollAlarmFailure: true, Alarms: []domain.Alarm{{Name: "orders-errors"}}},
			}}},
			check: func(t *testing.T, out any) {
				eq(t, "deploymentId", aws.ToString(out.(*codedeploy.CreateDeploymentOutput).DeploymentId), idCreated)
			},
		},
		sdkCase{
			name: "CreateDeployment String revision, group defaults",
			call: func(ctx context.Context, c *codedeploy.Client) (any, error) {
				return c.CreateDeployment(ctx, &codedeploy.CreateDeploymentInput{
					ApplicationName: aws.String("orders"), DeploymentGroupName: aws.String("orders-live"),
					Revision: &types.RevisionLocation{RevisionType: types.RevisionLocationTypeString,
						String_: &types.RawString{Content: aws.String(appSpecYAML), Sha256: aws.String("abc")}},
				})
			},
			want: []call{{"CreateDeployment", domain.CreateDeploymentInput{
				ApplicationName: "orders", DeploymentGroupName: "orders-live",
				Revision: domain.Revision{RevisionType: "String", String: &domain.RawString{Content: appSpecYAML, Sha256: "abc"}},
			}}},
		}.withErr(), // the fake's ParseRevision refuses the sha256: checked in TestSDKErrors
		{
			name: "GetDeployment",
			call: func(ctx context.Context, c *codedeploy.Client) (any, error) {
				return c.GetDeployment(ctx, &codedeploy.GetDeploymentInput{DeploymentId: aws.String(idInProgress)})
			},
			want: []call{{"GetDeployment", idInProgress}},
			check: func(t *testing.T, out any) {
				checkInProgress(t, out.(*codedeploy.GetDeploymentOutput).DeploymentInfo)
			},
		},
		{
			name: "GetDeployment failed",
			call: func(ctx context.Context, c *codedeploy.Client) (any, error) {
				return c.GetDeployment(ctx, &codedeploy.GetDeploymentInput{DeploymentId: aws.String(idFailed)})
			},
			want: []call{{"GetDeployment", idFailed}},
			check: func(t *testing.T, out any) {
				d := out.(*codedeploy.GetDeploymentOutput).DeploymentInfo
				eq(t, "status", d.Status, types.DeploymentStatusFailed)
				eq(t, "errorInformation", [2]any{d.ErrorInformation.Code, aws.ToString(d.ErrorInformation.Message)},
					[2]any{types.ErrorCodeHookExecutionFailure, "The deployment failed because one or more of the lifecycle event hooks failed."})
				eq(t, "rollbackInfo", [3]any{aws.ToString(d.RollbackInfo.RollbackDeploymentId), d.RollbackInfo.RollbackTriggeringDeploymentId, aws.ToString(d.RollbackInfo.RollbackMessage)},
					[3]any{"d-ROLLBACK1", (*string)(nil), "Deployment d-FAILED001 terminated. Automatic rollback is triggered with a DeploymentId d-ROLLBACK1."})
				eq(t, "completeTime", aws.ToTime(d.CompleteTime), tShift)
				eq(t, "overview", *d.DeploymentOverview, types.DeploymentOverview{Failed: 1})
			},
		},
		{
			name: "BatchGetDeployments",
			call: func(ctx context.Context, c *codedeploy.Client) (any, error) {
				return c.BatchGetDeployments(ctx, &codedeploy.BatchGetDeploymentsInput{DeploymentIds: []string{idInProgress, idMissing, idSucceeded, idInProgress}})
			},
			want: []call{{"GetDeployment", idInProgress}, {"GetDeployment", idMissing}, {"GetDeployment", idSucceeded}},
			check: func(t *testing.T, out any) {
				infos := out.(*codedeploy.BatchGetDeploymentsOutput).DeploymentsInfo
				if len(infos) != 2 {
					t.Fatalf("%d deployments, want 2", len(infos))
				}
				checkInProgress(t, &infos[0])
				eq(t, "second", [3]any{aws.ToString(infos[1].DeploymentId), infos[1].Status, aws.ToTime(infos[1].CompleteTime)},
					[3]any{idSucceeded, types.DeploymentStatusSucceeded, tEnd})
			},
		},
		{
			name:  "ListDeployments",
			setup: func(f *fake) { f.names, f.nextToken = []string{idSucceeded, idInProgress}, "more" },
			call: func(ctx context.Context, c *codedeploy.Client) (any, error) {
				return c.ListDeployments(ctx, &codedeploy.ListDeploymentsInput{ApplicationName: aws.String("orders"), DeploymentGroupName: aws.String("orders-live"),
					IncludeOnlyStatuses: []types.DeploymentStatus{types.DeploymentStatusSucceeded, types.DeploymentStatusInProgress},
					CreateTimeRange:     &types.TimeRange{Start: aws.Time(tCreate), End: aws.Time(tEnd)}, NextToken: aws.String("page-1")})
			},
			want: []call{{"ListDeployments", domain.ListDeploymentsFilter{ApplicationName: "orders", DeploymentGroupName: "orders-live",
				Statuses: []domain.Status{domain.StatusSucceeded, domain.StatusInProgress}, CreatedAfter: tCreate, CreatedBefore: tEnd, NextToken: "page-1"}}},
			check: func(t *testing.T, out any) {
				o := out.(*codedeploy.ListDeploymentsOutput)
				eq(t, "deployments", o.Deployments, []string{idSucceeded, idInProgress})
				eq(t, "nextToken", aws.ToString(o.NextToken), "more")
			},
		},
		{
			name: "ListDeployments open range",
			call: func(ctx context.Context, c *codedeploy.Client) (any, error) {
				return c.ListDeployments(ctx, &codedeploy.ListDeploymentsInput{CreateTimeRange: &types.TimeRange{Start: aws.Time(tCreate)}})
			},
			want: []call{{"ListDeployments", domain.ListDeploymentsFilter{CreatedAfter: tCreate}}},
			check: func(t *testing.T, out any) {
				if d := out.(*codedeploy.ListDeploymentsOutput).Deployments; d == nil || len(d) != 0 {
					t.Errorf("deployments %#v, want []", d)
				}
			},
		},
		{
			name: "ListDeployments externalId",
			call: func(ctx context.Context, c *codedeploy.Client) (any, error) {
				return c.ListDeployments(ctx, &codedeploy.ListDeploymentsInput{ExternalId: aws.String("arn:aws:cloudformation:us-east-1:123456789012:stack/orders/1")})
			},
			check: func(t *testing.T, out any) {
				if d := out.(*codedeploy.ListDeploymentsOutput).Deployments; d == nil || len(d) != 0 {
					t.Errorf("deployments %#v, want []", d)
				}
			},
		},
		{
			name: "StopDeployment",
			call: func(ctx context.Context, c *codedeploy.Client) (any, error) {
				return c.StopDeployment(ctx, &codedeploy.StopDeploymentInput{DeploymentId: aws.String(idInProgress), AutoRollbackEnabled: aws.Bool(true)})
			},
			want: []call{{"StopDeployment", stopArgs{idInProgress, &rollbackTrue}}},
			check: func(t *testing.T, out any) {
				o := out.(*codedeploy.StopDeploymentOutput)
				eq(t, "stop", [2]any{o.Status, aws.ToString(o.StatusMessage)}, [2]any{types.StopStatusPending, "The deployment is being stopped."})
			},
		},
		{
			name: "StopDeployment without flag",
			call: func(ctx context.Context, c *codedeploy.Client) (any, error) {
				return c.StopDeployment(ctx, &codedeploy.StopDeploymentInput{DeploymentId: aws.String(idInProgress)})
			},
			want: []call{{"StopDeployment", stopArgs{idInProgress, nil}}},
		},
		{
			name: "PutLifecycleEventHookExecutionStatus",
			call: func(ctx context.Context, c *codedeploy.Client) (any, error) {
				return c.PutLifecycleEventHookExecutionStatus(ctx, &codedeploy.PutLifecycleEventHookExecutionStatusInput{
					DeploymentId: aws.String(idHook), LifecycleEventHookExecutionId: aws.String(hookExecution), Status: types.LifecycleEventStatusSucceeded})
			},
			want: []call{{"PutLifecycleEventHookExecutionStatus", hookArgs{idHook, hookExecution, "Succeeded"}}},
			check: func(t *testing.T, out any) {
				eq(t, "lifecycleEventHookExecutionId", aws.ToString(out.(*codedeploy.PutLifecycleEventHookExecutionStatusOutput).LifecycleEventHookExecutionId), hookExecution)
			},
		},

		// ---- targets ----
		{
			name: "GetDeploymentTarget",
			call: func(ctx context.Context, c *codedeploy.Client) (any, error) {
				return c.GetDeploymentTarget(ctx, &codedeploy.GetDeploymentTargetInput{DeploymentId: aws.String(idInProgress), TargetId: aws.String("orders:live")})
			},
			want: []call{{"GetDeployment", idInProgress}},
			check: func(t *testing.T, out any) {
				checkTarget(t, out.(*codedeploy.GetDeploymentTargetOutput).DeploymentTarget)
			},
		},
		{
			name: "GetDeploymentTarget by function name",
			call: func(ctx context.Context, c *codedeploy.Client) (any, error) {
				return c.GetDeploymentTarget(ctx, &codedeploy.GetDeploymentTargetInput{DeploymentId: aws.String(idInProgress), TargetId: aws.String("orders")})
			},
			want: []call{{"GetDeployment", idInProgress}},
			check: func(t *testing.T, out any) {
				checkTarget(t, out.(*codedeploy.GetDeploymentTargetOutput).DeploymentTarget)
			},
		},
		{
			name: "ListDeploymentTargets",
			call: func(ctx context.Context, c *codedeploy.Client) (any, error) {
				return c.ListDeploymentTargets(ctx, &codedeploy.ListDeploymentTargetsInput{DeploymentId: aws.String(idInProgress),
					TargetFilters: map[string][]string{"TargetStatus": {"InProgress", "Failed"}}})
			},
			want: []call{{"GetDeployment", idInProgress}},
			check: func(t *testing.T, out any) {
				o := out.(*codedeploy.ListDeploymentTargetsOutput)
				eq(t, "targetIds", o.TargetIds, []string{"orders:live"})
				eq(t, "nextToken", o.NextToken, (*string)(nil))
			},
		},
		{
			name: "ListDeploymentTargets filtered out",
			call: func(ctx context.Context, c *codedeploy.Client) (any, error) {
				return c.ListDeploymentTargets(ctx, &codedeploy.ListDeploymentTargetsInput{DeploymentId: aws.String(idSucceeded),
					TargetFilters: map[string][]string{"TargetStatus": {"Failed"}}})
			},
			want: []call{{"GetDeployment", idSucceeded}},
			check: func(t *testing.T, out any) {
				if ids := out.(*codedeploy.ListDeploymentTargetsOutput).TargetIds; ids == nil || len(ids) != 0 {
					t.Errorf("targetIds %#v, want []", ids)
				}
			},
		},
		{
			name: "BatchGetDeploymentTargets",
			call: func(ctx context.Context, c *codedeploy.Client) (any, error) {
				return c.BatchGetDeploymentTargets(ctx, &codedeploy.BatchGetDeploymentTargetsInput{DeploymentId: aws.String(idInProgress), TargetIds: []string{"orders:live"}})
			},
			want: []call{{"GetDeployment", idInProgress}},
			check: func(t *testing.T, out any) {
				ts := out.(*codedeploy.BatchGetDeploymentTargetsOutput).DeploymentTargets
				if len(ts) != 1 {
					t.Fatalf("%d targets", len(ts))
				}
				checkTarget(t, &ts[0])
			},
		},
		{
			name: "BatchGetDeploymentTargets failed deployment",
			call: func(ctx context.Context, c *codedeploy.Client) (any, error) {
				return c.BatchGetDeploymentTargets(ctx, &codedeploy.BatchGetDeploymentTargetsInput{DeploymentId: aws.String(idFailed), TargetIds: []string{"orders:live"}})
			},
			want: []call{{"GetDeployment", idFailed}},
			check: func(t *testing.T, out any) {
				lt := out.(*codedeploy.BatchGetDeploymentTargetsOutput).DeploymentTargets[0].LambdaTarget
				eq(t, "status", lt.Status, types.TargetStatusFailed)
				ev := lt.LifecycleEvents[1]
				eq(t, "event", [3]any{aws.ToString(ev.LifecycleEventName), ev.Status, aws.ToTime(ev.EndTime)}, [3]any{"BeforeAllowTraffic", types.LifecycleEventStatusFailed, tShift})
				eq(t, "diagnostics", [3]any{ev.Diagnostics.ErrorCode, aws.ToString(ev.Diagnostics.ScriptName), aws.ToString(ev.Diagnostics.Message)},
					[3]any{types.LifecycleErrorCodeScriptFailed, "CodeDeployHook_preTraffic", "The hook CodeDeployHook_preTraffic reported Failed."})
				skipped := lt.LifecycleEvents[4]
				if skipped.Status != types.LifecycleEventStatusSkipped || skipped.StartTime != nil || skipped.EndTime != nil || skipped.Diagnostics != nil {
					t.Errorf("End event %+v", skipped)
				}
			},
		},
	}
}

// withErr marks a case whose call fails at the backend; TestSDKRoundTrips still compares what the backend got.
func (c sdkCase) withErr() sdkCase {
	call := c.call
	c.call = func(ctx context.Context, cl *codedeploy.Client) (any, error) {
		_, err := call(ctx, cl)
		var re *types.InvalidRevisionException
		if !errors.As(err, &re) {
			return nil, fmt.Errorf("got %v, want InvalidRevisionException", err)
		}
		return nil, nil
	}
	return c
}

func checkGroup(t *testing.T, g *types.DeploymentGroupInfo) {
	t.Helper()
	want := ordersGroup()
	eq(t, "names", [5]string{aws.ToString(g.ApplicationName), aws.ToString(g.DeploymentGroupName), aws.ToString(g.DeploymentGroupId),
		aws.ToString(g.DeploymentConfigName), aws.ToString(g.ServiceRoleArn)},
		[5]string{want.ApplicationName, want.Name, want.ID, want.DeploymentConfigName, want.ServiceRoleARN})
	eq(t, "computePlatform", g.ComputePlatform, types.ComputePlatformLambda)
	eq(t, "alarmConfiguration", *g.AlarmConfiguration, types.AlarmConfiguration{Enabled: true,
		Alarms: []types.Alarm{{Name: aws.String("orders-errors")}, {Name: aws.String("orders-latency-p99")}}})
	eq(t, "autoRollbackConfiguration", *g.AutoRollbackConfiguration, types.AutoRollbackConfiguration{Enabled: true,
		Events: []types.AutoRollbackEvent{types.AutoRollbackEventDeploymentFailure, types.AutoRollbackEventDeploymentStopOnAlarm}})
	eq(t, "deploymentStyle", *g.DeploymentStyle, types.DeploymentStyle{DeploymentType: types.DeploymentTypeBlueGreen, DeploymentOption: types.DeploymentOptionWithTrafficControl})
	eq(t, "lastAttemptedDeployment", *g.LastAttemptedDeployment, types.LastDeploymentInfo{DeploymentId: aws.String(idInProgress),
		Status: types.DeploymentStatusInProgress, CreateTime: aws.Time(tCreate)})
	eq(t, "lastSuccessfulDeployment", *g.LastSuccessfulDeployment, types.LastDeploymentInfo{DeploymentId: aws.String(idSucceeded),
		Status: types.DeploymentStatusSucceeded, CreateTime: aws.Time(tCreate), EndTime: aws.Time(tEnd)})
	if g.TriggerConfigurations == nil || g.Ec2TagFilters == nil || g.AutoScalingGroups == nil {
		t.Errorf("empty lists missing: %+v", g)
	}
}

func checkInProgress(t *testing.T, d *types.DeploymentInfo) {
	t.Helper()
	eq(t, "ids", [4]string{aws.ToString(d.ApplicationName), aws.ToString(d.DeploymentGroupName), aws.ToString(d.DeploymentConfigName), aws.ToString(d.DeploymentId)},
		[4]string{"orders", "orders-live", domain.LambdaCanary10Percent5Minutes, idInProgress})
	eq(t, "status", d.Status, types.DeploymentStatusInProgress)
	eq(t, "creator", d.Creator, types.DeploymentCreatorUser)
	eq(t, "description", aws.ToString(d.Description), "orders v2")
	eq(t, "computePlatform", d.ComputePlatform, types.ComputePlatformLambda)
	eq(t, "times", [3]any{aws.ToTime(d.CreateTime), aws.ToTime(d.StartTime), d.CompleteTime}, [3]any{tCreate, tStart, (*time.Time)(nil)})
	eq(t, "revision", [3]any{d.Revision.RevisionType, aws.ToString(d.Revision.AppSpecContent.Content), d.Revision.AppSpecContent.Sha256},
		[3]any{types.RevisionLocationTypeAppSpecContent, appSpecYAML, (*string)(nil)})
	eq(t, "deploymentOverview", *d.DeploymentOverview, types.DeploymentOverview{InProgress: 1})
	eq(t, "deploymentStyle", *d.DeploymentStyle, types.DeploymentStyle{DeploymentType: types.DeploymentTypeBlueGreen, DeploymentOption: types.DeploymentOptionWithTrafficControl})
	eq(t, "autoRollbackConfiguration", *d.AutoRollbackConfiguration, types.AutoRollbackConfiguration{Enabled: true,
		Events: []types.AutoRollbackEvent{types.AutoRollbackEventDeploymentFailure, types.AutoRollbackEventDeploymentStopOnAlarm}})
	eq(t, "overrideAlarmConfiguration", *d.OverrideAlarmConfiguration, types.AlarmConfiguration{Enabled: true,
		Alarms: []types.Alarm{{Name: aws.String("orders-errors")}, {Name: aws.String("orders-latency-p99")}}})
	if d.ErrorInformation != nil || d.RollbackInfo != nil || d.DeploymentStatusMessages == nil {
		t.Errorf("errorInformation %+v rollbackInfo %+v deploymentStatusMessages %#v", d.ErrorInformation, d.RollbackInfo, d.DeploymentStatusMessages)
	}
}

func checkTarget(t *testing.T, dt *types.DeploymentTarget) {
	t.Helper()
	eq(t, "deploymentTargetType", dt.DeploymentTargetType, types.DeploymentTargetTypeLambdaTarget)
	lt := dt.LambdaTarget
	eq(t, "target", [4]any{aws.ToString(lt.DeploymentId), aws.ToString(lt.TargetId), aws.ToString(lt.TargetArn), lt.Status},
		[4]any{idInProgress, "orders:live", "arn:aws:lambda:us-east-1:123456789012:function:orders:live", types.TargetStatusInProgress})
	eq(t, "lastUpdatedAt", aws.ToTime(lt.LastUpdatedAt), tShift)
	eq(t, "lambdaFunctionInfo", *lt.LambdaFunctionInfo, types.LambdaFunctionInfo{FunctionName: aws.String("orders"), FunctionAlias: aws.String("live"),
		CurrentVersion: aws.String("1"), TargetVersion: aws.String("2"), TargetVersionWeight: 0.1})
	var names []string
	var statuses []types.LifecycleEventStatus
	for _, e := range lt.LifecycleEvents {
		names, statuses = append(names, aws.ToString(e.LifecycleEventName)), append(statuses, e.Status)
	}
	eq(t, "lifecycle events", names, []string{"Start", "BeforeAllowTraffic", "AllowTraffic", "AfterAllowTraffic", "End"})
	eq(t, "lifecycle statuses", statuses, []types.LifecycleEventStatus{"Succeeded", "Succeeded", "InProgress", "Pending", "Pending"})
	eq(t, "BeforeAllowTraffic times", [2]time.Time{aws.ToTime(lt.LifecycleEvents[1].StartTime), aws.ToTime(lt.LifecycleEvents[1].EndTime)}, [2]time.Time{tStart, tShift})
	if lt.LifecycleEvents[3].StartTime != nil {
		t.Errorf("pending event has a startTime")
	}
}

// errCase is a call that must fail with an exception the Go SDK parses into its typed error.
type errCase struct {
	name  string
	setup func(f *fake)
	call  func(ctx context.Context, c *codedeploy.Client) error
	// typed is a pointer to the SDK's typed error (nil for a generic API error).
	typed   any
	code    string
	message string
	status  int
	// calls are the backend operations the call must reach (nil: none).
	calls []string
}

func TestSDKErrors(t *testing.T) {
	s := newServer(t)
	c := sdkClient(s.URL)
	long := strings.Repeat("a", 101)
	ids26 := make([]string, 26)
	for i := range ids26 {
		ids26[i] = fmt.Sprintf("d-A%08d", i)
	}
	for _, tc := range []errCase{
		{
			name: "ApplicationNameRequired",
			call: func(ctx context.Context, c *codedeploy.Client) error {
				_, err := c.GetApplication(ctx, &codedeploy.GetApplicationInput{ApplicationName: aws.String("")})
				return err
			},
			typed: new(*types.ApplicationNameRequiredException), code: "ApplicationNameRequiredException", message: "Application name is required",
		},
		{
			name: "InvalidApplicationName too long",
			call: func(ctx context.Context, c *codedeploy.Client) error {
				_, err := c.CreateApplication(ctx, &codedeploy.CreateApplicationInput{ApplicationName: aws.String(long)})
				return err
			},
			typed: new(*types.InvalidApplicationNameException), code: "InvalidApplicationNameException",
			message: "Application name " + long + " is longer than 100 characters.",
		},
		{
			name: "ApplicationDoesNotExist",
			call: func(ctx context.Context, c *codedeploy.Client) error {
				_, err := c.GetApplication(ctx, &codedeploy.GetApplicationInput{ApplicationName: aws.String("nope")})
				return err
			},
			typed: new(*types.ApplicationDoesNotExistException), code: "ApplicationDoesNotExistException", message: "No application found for name: nope",
			calls: []string{"GetApplication"},
		},
		{
			name: "BatchGetApplications unknown",
			call: func(ctx context.Context, c *codedeploy.Client) error {
				_, err := c.BatchGetApplications(ctx, &codedeploy.BatchGetApplicationsInput{ApplicationNames: []string{"orders", "nope"}})
				return err
			},
			typed: new(*types.ApplicationDoesNotExistException), code: "ApplicationDoesNotExistException", message: "No application found for name: nope",
			calls: []string{"GetApplication", "GetApplication"},
		},
		{
			name: "BatchGetApplications empty",
			call: func(ctx context.Context, c *codedeploy.Client) error {
				_, err := c.BatchGetApplications(ctx, &codedeploy.BatchGetApplicationsInput{ApplicationNames: []string{}})
				return err
			},
			typed: new(*types.ApplicationNameRequiredException), code: "ApplicationNameRequiredException", message: "Application name is required",
		},
		{
			name: "UpdateApplication rename",
			call: func(ctx context.Context, c *codedeploy.Client) error {
				_, err := c.UpdateApplication(ctx, &codedeploy.UpdateApplicationInput{ApplicationName: aws.String("orders"), NewApplicationName: aws.String("orders2")})
				return err
			},
			// InvalidOperationException is not among UpdateApplication's modelled errors: the SDK reports it generically.
			code:    "InvalidOperationException",
			message: "Renaming an application is not supported by Sluice: create application orders2 and deployment groups in it instead.",
			calls:   []string{"GetApplication", "GetApplication"},
		},
		{
			name: "RoleRequired",
			call: func(ctx context.Context, c *codedeploy.Client) error {
				_, err := c.CreateDeploymentGroup(ctx, &codedeploy.CreateDeploymentGroupInput{ApplicationName: aws.String("orders"),
					DeploymentGroupName: aws.String("g"), ServiceRoleArn: aws.String("")})
				return err
			},
			typed: new(*types.RoleRequiredException), code: "RoleRequiredException", message: "Role ARN is required",
		},
		{
			name: "DeploymentGroupNameRequired",
			call: func(ctx context.Context, c *codedeploy.Client) error {
				_, err := c.GetDeploymentGroup(ctx, &codedeploy.GetDeploymentGroupInput{ApplicationName: aws.String("orders"), DeploymentGroupName: aws.String("")})
				return err
			},
			typed: new(*types.DeploymentGroupNameRequiredException), code: "DeploymentGroupNameRequiredException", message: "Deployment group name is required",
		},
		{
			name: "DeploymentGroupDoesNotExist",
			call: func(ctx context.Context, c *codedeploy.Client) error {
				_, err := c.UpdateDeploymentGroup(ctx, &codedeploy.UpdateDeploymentGroupInput{ApplicationName: aws.String("orders"), CurrentDeploymentGroupName: aws.String("nope")})
				return err
			},
			typed: new(*types.DeploymentGroupDoesNotExistException), code: "DeploymentGroupDoesNotExistException", message: "No Deployment Group found for name: nope",
			calls: []string{"GetDeploymentGroup"},
		},
		{
			name: "InvalidDeploymentConfigName too long",
			call: func(ctx context.Context, c *codedeploy.Client) error {
				_, err := c.GetDeploymentConfig(ctx, &codedeploy.GetDeploymentConfigInput{DeploymentConfigName: aws.String(long)})
				return err
			},
			typed: new(*types.InvalidDeploymentConfigNameException), code: "InvalidDeploymentConfigNameException",
			message: "Deployment configuration name " + long + " is longer than 100 characters.",
		},
		{
			name: "InvalidTrafficRoutingConfiguration",
			call: func(ctx context.Context, c *codedeploy.Client) error {
				_, err := c.CreateDeploymentConfig(ctx, &codedeploy.CreateDeploymentConfigInput{DeploymentConfigName: aws.String("c"), ComputePlatform: types.ComputePlatformLambda,
					TrafficRoutingConfig: &types.TrafficRoutingConfig{Type: types.TrafficRoutingTypeTimeBasedCanary, TimeBasedCanary: &types.TimeBasedCanary{CanaryPercentage: 100, CanaryInterval: 5}}})
				return err
			},
			typed: new(*types.InvalidTrafficRoutingConfigurationException), code: "InvalidTrafficRoutingConfigurationException", message: "Canary percentage must be between 1 and 99.",
		},
		{
			name: "DeploymentConfigDoesNotExist",
			call: func(ctx context.Context, c *codedeploy.Client) error {
				_, err := c.GetDeploymentConfig(ctx, &codedeploy.GetDeploymentConfigInput{DeploymentConfigName: aws.String("nope")})
				return err
			},
			typed: new(*types.DeploymentConfigDoesNotExistException), code: "DeploymentConfigDoesNotExistException", message: "No deployment configuration found for name: nope",
			calls: []string{"GetDeploymentConfig"},
		},
		{
			name: "DeleteDeploymentConfig predefined",
			call: func(ctx context.Context, c *codedeploy.Client) error {
				_, err := c.DeleteDeploymentConfig(ctx, &codedeploy.DeleteDeploymentConfigInput{DeploymentConfigName: aws.String(domain.LambdaAllAtOnce)})
				return err
			},
			typed: new(*types.InvalidOperationException), code: "InvalidOperationException",
			message: "The predefined deployment configuration CodeDeployDefault.LambdaAllAtOnce cannot be deleted.", calls: []string{"DeleteDeploymentConfig"},
		},
		{
			name: "RevisionRequired",
			call: func(ctx context.Context, c *codedeploy.Client) error {
				_, err := c.CreateDeployment(ctx, &codedeploy.CreateDeploymentInput{ApplicationName: aws.String("orders"), DeploymentGroupName: aws.String("orders-live")})
				return err
			},
			typed: new(*types.RevisionRequiredException), code: "RevisionRequiredException", message: "RevisionLocation must be specified",
		},
		{
			name: "CreateDeployment without group",
			call: func(ctx context.Context, c *codedeploy.Client) error {
				_, err := c.CreateDeployment(ctx, &codedeploy.CreateDeploymentInput{ApplicationName: aws.String("orders"),
					Revision: &types.RevisionLocation{RevisionType: types.RevisionLocationTypeAppSpecContent, AppSpecContent: &types.AppSpecContent{Content: aws.String(appSpecYAML)}}})
				return err
			},
			typed: new(*types.DeploymentGroupNameRequiredException), code: "DeploymentGroupNameRequiredException", message: "Deployment group name is required",
		},
		{
			name: "InvalidRevision from the backend",
			call: func(ctx context.Context, c *codedeploy.Client) error {
				_, err := c.CreateDeployment(ctx, &codedeploy.CreateDeploymentInput{ApplicationName: aws.String("orders"), DeploymentGroupName: aws.String("orders-live"),
					Revision: &types.RevisionLocation{RevisionType: types.RevisionLocationTypeS3, S3Location: &types.S3Location{Bucket: aws.String("b"), Key: aws.String("k")}}})
				return err
			},
			typed: new(*types.InvalidRevisionException), code: "InvalidRevisionException",
			message: "Revisions stored in Amazon S3 are not supported for AWS Lambda deployments by this server; pass the AppSpec inline with revisionType AppSpecContent.",
			calls:   []string{"CreateDeployment"},
		},
		{
			name: "DeploymentIdRequired",
			call: func(ctx context.Context, c *codedeploy.Client) error {
				_, err := c.GetDeployment(ctx, &codedeploy.GetDeploymentInput{DeploymentId: aws.String("")})
				return err
			},
			typed: new(*types.DeploymentIdRequiredException), code: "DeploymentIdRequiredException", message: "At least one deployment ID must be specified.",
		},
		{
			name: "InvalidDeploymentId",
			call: func(ctx context.Context, c *codedeploy.Client) error {
				_, err := c.StopDeployment(ctx, &codedeploy.StopDeploymentInput{DeploymentId: aws.String("d-lower")})
				return err
			},
			typed: new(*types.InvalidDeploymentIdException), code: "InvalidDeploymentIdException", message: "Specified DeploymentId is not in the valid format: d-lower",
		},
		{
			name: "DeploymentDoesNotExist",
			call: func(ctx context.Context, c *codedeploy.Client) error {
				_, err := c.GetDeployment(ctx, &codedeploy.GetDeploymentInput{DeploymentId: aws.String(idMissing)})
				return err
			},
			typed: new(*types.DeploymentDoesNotExistException), code: "DeploymentDoesNotExistException", message: "The deployment d-MISSING01 could not be found.",
			calls: []string{"GetDeployment"},
		},
		{
			name: "BatchLimitExceeded",
			call: func(ctx context.Context, c *codedeploy.Client) error {
				_, err := c.BatchGetDeployments(ctx, &codedeploy.BatchGetDeploymentsInput{DeploymentIds: ids26})
				return err
			},
			typed: new(*types.BatchLimitExceededException), code: "BatchLimitExceededException", message: "The maximum number of names or IDs allowed for this request (25) was exceeded.",
		},
		{
			name: "InvalidDeploymentStatus",
			call: func(ctx context.Context, c *codedeploy.Client) error {
				_, err := c.ListDeployments(ctx, &codedeploy.ListDeploymentsInput{IncludeOnlyStatuses: []types.DeploymentStatus{"Running"}})
				return err
			},
			typed: new(*types.InvalidDeploymentStatusException), code: "InvalidDeploymentStatusException",
			message: "The deployment status Running is invalid. Valid statuses are Created, Queued, InProgress, Baking, Succeeded, Failed, Stopped and Ready.",
		},
		{
			name: "InvalidTimeRange",
			call: func(ctx context.Context, c *codedeploy.Client) error {
				_, err := c.ListDeployments(ctx, &codedeploy.ListDeploymentsInput{CreateTimeRange: &types.TimeRange{Start: aws.Time(tEnd), End: aws.Time(tCreate)}})
				return err
			},
			typed: new(*types.InvalidTimeRangeException), code: "InvalidTimeRangeException",
			message: "The createTimeRange end (2026-06-01T12:00:00.250Z) is before its start (2026-06-01T12:06:00.250Z).",
		},
		{
			name: "ListDeployments group without application",
			call: func(ctx context.Context, c *codedeploy.Client) error {
				_, err := c.ListDeployments(ctx, &codedeploy.ListDeploymentsInput{DeploymentGroupName: aws.String("orders-live")})
				return err
			},
			typed: new(*types.ApplicationNameRequiredException), code: "ApplicationNameRequiredException",
			message: "If deploymentGroupName is specified, applicationName must be specified too.",
		},
		{
			name: "DeploymentAlreadyCompleted",
			call: func(ctx context.Context, c *codedeploy.Client) error {
				_, err := c.StopDeployment(ctx, &codedeploy.StopDeploymentInput{DeploymentId: aws.String(idSucceeded)})
				return err
			},
			typed: new(*types.DeploymentAlreadyCompletedException), code: "DeploymentAlreadyCompletedException", message: "Deployment d-SUCCEED01 has already completed.",
			calls: []string{"StopDeployment"},
		},
		{
			name: "ContinueDeployment in progress",
			call: func(ctx context.Context, c *codedeploy.Client) error {
				_, err := c.ContinueDeployment(ctx, &codedeploy.ContinueDeploymentInput{DeploymentId: aws.String(idInProgress), DeploymentWaitType: types.DeploymentWaitTypeReadyWait})
				return err
			},
			typed: new(*types.DeploymentIsNotInReadyStateException), code: "DeploymentIsNotInReadyStateException",
			message: "The deployment d-RPCR1U3TW does not have a status of Ready and can't continue: a deployment on the Lambda compute platform shifts traffic on its deployment configuration's schedule and never waits to be continued.",
			calls:   []string{"GetDeployment"},
		},
		{
			name: "ContinueDeployment completed",
			call: func(ctx context.Context, c *codedeploy.Client) error {
				_, err := c.ContinueDeployment(ctx, &codedeploy.ContinueDeploymentInput{DeploymentId: aws.String(idSucceeded)})
				return err
			},
			typed: new(*types.DeploymentAlreadyCompletedException), code: "DeploymentAlreadyCompletedException", message: "Deployment d-SUCCEED01 has already completed.",
			calls: []string{"GetDeployment"},
		},
		{
			name: "ContinueDeployment wait type",
			call: func(ctx context.Context, c *codedeploy.Client) error {
				_, err := c.ContinueDeployment(ctx, &codedeploy.ContinueDeploymentInput{DeploymentId: aws.String(idInProgress), DeploymentWaitType: "SOON"})
				return err
			},
			typed: new(*types.InvalidDeploymentWaitTypeException), code: "InvalidDeploymentWaitTypeException",
			message: "The deployment wait type SOON is invalid. Valid types are READY_WAIT and TERMINATION_WAIT.",
		},
		{
			name: "InvalidLifecycleEventHookExecutionStatus",
			call: func(ctx context.Context, c *codedeploy.Client) error {
				_, err := c.PutLifecycleEventHookExecutionStatus(ctx, &codedeploy.PutLifecycleEventHookExecutionStatusInput{DeploymentId: aws.String(idHook),
					LifecycleEventHookExecutionId: aws.String(hookExecution), Status: types.LifecycleEventStatusSkipped})
				return err
			},
			typed: new(*types.InvalidLifecycleEventHookExecutionStatusException), code: "InvalidLifecycleEventHookExecutionStatusException",
			message: "The status Skipped is not valid for a lifecycle event hook execution; it must be Succeeded or Failed.",
			calls:   []string{"PutLifecycleEventHookExecutionStatus"},
		},
		{
			name: "LifecycleEventAlreadyCompleted",
			call: func(ctx context.Context, c *codedeploy.Client) error {
				_, err := c.PutLifecycleEventHookExecutionStatus(ctx, &codedeploy.PutLifecycleEventHookExecutionStatusInput{DeploymentId: aws.String(idInProgress),
					LifecycleEventHookExecutionId: aws.String("hook-exec-done"), Status: types.LifecycleEventStatusFailed})
				return err
			},
			typed: new(*types.LifecycleEventAlreadyCompletedException), code: "LifecycleEventAlreadyCompletedException",
			message: "The BeforeAllowTraffic lifecycle event of deployment d-RPCR1U3TW has already completed.",
			calls:   []string{"PutLifecycleEventHookExecutionStatus"},
		},
		{
			name: "DeploymentNotStarted",
			call: func(ctx context.Context, c *codedeploy.Client) error {
				_, err := c.ListDeploymentTargets(ctx, &codedeploy.ListDeploymentTargetsInput{DeploymentId: aws.String(idNotStarted)})
				return err
			},
			typed: new(*types.DeploymentNotStartedException), code: "DeploymentNotStartedException", message: "The deployment d-CREATED01 has not started.",
			calls: []string{"GetDeployment"},
		},
		{
			name: "DeploymentTargetIdRequired",
			call: func(ctx context.Context, c *codedeploy.Client) error {
				_, err := c.GetDeploymentTarget(ctx, &codedeploy.GetDeploymentTargetInput{DeploymentId: aws.String(idInProgress), TargetId: aws.String("")})
				return err
			},
			typed: new(*types.DeploymentTargetIdRequiredException), code: "DeploymentTargetIdRequiredException", message: "A deployment target ID must be specified.",
		},
		{
			name: "DeploymentTargetDoesNotExist",
			call: func(ctx context.Context, c *codedeploy.Client) error {
				_, err := c.GetDeploymentTarget(ctx, &codedeploy.GetDeploymentTargetInput{DeploymentId: aws.String(idInProgress), TargetId: aws.String("orders:beta")})
				return err
			},
			typed: new(*types.DeploymentTargetDoesNotExistException), code: "DeploymentTargetDoesNotExistException",
			message: "The target orders:beta does not belong to deployment d-RPCR1U3TW.", calls: []string{"GetDeployment"},
		},
		{
			name: "DeploymentTargetListSizeExceeded",
			call: func(ctx context.Context, c *codedeploy.Client) error {
				_, err := c.BatchGetDeploymentTargets(ctx, &codedeploy.BatchGetDeploymentTargetsInput{DeploymentId: aws.String(idInProgress), TargetIds: []string{"orders:live", "orders"}})
				return err
			},
			typed: new(*types.DeploymentTargetListSizeExceededException), code: "DeploymentTargetListSizeExceededException",
			message: "A deployment on the Lambda compute platform has exactly one target; 2 target IDs were specified.",
		},
		{
			name: "InvalidTargetFilterName",
			call: func(ctx context.Context, c *codedeploy.Client) error {
				_, err := c.ListDeploymentTargets(ctx, &codedeploy.ListDeploymentTargetsInput{DeploymentId: aws.String(idInProgress), TargetFilters: map[string][]string{"Color": {"Blue"}}})
				return err
			},
			typed: new(*types.InvalidTargetFilterNameException), code: "InvalidTargetFilterNameException",
			message: "The target filter name Color is invalid. Valid names are TargetStatus and ServerInstanceLabel.",
		},
		{
			name: "InvalidNextToken targets",
			call: func(ctx context.Context, c *codedeploy.Client) error {
				_, err := c.ListDeploymentTargets(ctx, &codedeploy.ListDeploymentTargetsInput{DeploymentId: aws.String(idInProgress), NextToken: aws.String("x")})
				return err
			},
			typed: new(*types.InvalidNextTokenException), code: "InvalidNextTokenException", message: "The next token x is invalid.",
		},
		{
			name:  "InternalFailure",
			setup: func(f *fake) { f.fail = failOn("ListApplications", errors.New("disk on fire")) },
			call: func(ctx context.Context, c *codedeploy.Client) error {
				_, err := c.ListApplications(ctx, &codedeploy.ListApplicationsInput{})
				return err
			},
			code: "InternalFailure", message: "An internal error occurred. Request ID: ", status: 500, calls: []string{"ListApplications"},
		},
		{
			name: "backend fault passes through",
			setup: func(f *fake) {
				f.fail = failOn("CreateApplication", fault.New("ApplicationAlreadyExistsException", "Application orders already exists"))
			},
			call: func(ctx context.Context, c *codedeploy.Client) error {
				_, err := c.CreateApplication(ctx, &codedeploy.CreateApplicationInput{ApplicationName: aws.String("orders")})
				return err
			},
			typed: new(*types.ApplicationAlreadyExistsException), code: "ApplicationAlreadyExistsException", message: "Application orders already exists",
			calls: []string{"CreateApplication"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			*s.fake = *newFake()
			if tc.setup != nil {
				tc.setup(s.fake)
			}
			err := tc.call(context.Background(), c)
			if err == nil {
				t.Fatal("succeeded")
			}
			var api smithy.APIError
			if !errors.As(err, &api) {
				t.Fatalf("%T %v is not an API error", err, err)
			}
			msg := api.ErrorMessage()
			if tc.code == "InternalFailure" && strings.HasPrefix(msg, tc.message) && len(msg) > len(tc.message) {
				msg = tc.message
			}
			if api.ErrorCode() != tc.code || msg != tc.message {
				t.Errorf("error %s %q, want %s %q", api.ErrorCode(), api.ErrorMessage(), tc.code, tc.message)
			}
			if tc.typed != nil {
				if !errors.As(err, tc.typed) {
					t.Errorf("%T is not %T", api, tc.typed)
				}
			}
			status := tc.status
			if status == 0 {
				status = 400
			}
			var re *awshttp.ResponseError
			if !errors.As(err, &re) || re.HTTPStatusCode() != status {
				t.Errorf("status %v, want %d", err, status)
			}
			var ops []string
			for _, c := range s.fake.takeCalls() {
				ops = append(ops, c.Op)
			}
			eq(t, "backend calls", ops, tc.calls)
		})
	}
	if !strings.Contains(s.logText(), "disk on fire") {
		t.Errorf("the internal error was not logged:\n%s", s.logText())
	}
}

// TestSDKWaiter: the Go SDK's DeploymentSuccessful waiter returns on a Succeeded deployment and fails on a
// Failed one.
func TestSDKWaiter(t *testing.T) {
	s := newServer(t)
	w := codedeploy.NewDeploymentSuccessfulWaiter(sdkClient(s.URL), func(o *codedeploy.DeploymentSuccessfulWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Millisecond, time.Millisecond
	})
	if err := w.Wait(t.Context(), &codedeploy.GetDeploymentInput{DeploymentId: aws.String(idSucceeded)}, 10*time.Second); err != nil {
		t.Errorf("succeeded deployment: %v", err)
	}
	if err := w.Wait(t.Context(), &codedeploy.GetDeploymentInput{DeploymentId: aws.String(idFailed)}, 10*time.Second); err == nil ||
		!strings.Contains(err.Error(), "waiter state transitioned to Failure") {
		t.Errorf("failed deployment: %v", err)
	}
}
