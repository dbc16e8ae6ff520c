package e2e

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

func (s *server) CodeDeploy() *codedeploy.Client {
	return codedeploy.NewFromConfig(aws.Config{Region: region, BaseEndpoint: aws.String(s.URL),
		Credentials: credentials.NewStaticCredentialsProvider(s.creds().AccessKeyID, s.creds().SecretAccessKey, "")})
}

func appSpecFor(fn, alias, current, target string) string {
	return fmt.Sprintf("version: 0.0\nResources:\n  - %s:\n      Type: AWS::Lambda::Function\n      Properties:\n        Name: %s\n        Alias: %s\n        CurrentVersion: %q\n        TargetVersion: %q\n", fn, fn, alias, current, target)
}

// createDeploymentGroup creates the Lambda application "app" and its deployment group "dg", with the suite's
// codedeploy service role; edit, if set, adds what the test needs (a config, alarms, rollback events).
func createDeploymentGroup(t *testing.T, cd *codedeploy.Client, edit func(*codedeploy.CreateDeploymentGroupInput)) {
	t.Helper()
	if _, err := cd.CreateApplication(t.Context(), &codedeploy.CreateApplicationInput{ApplicationName: aws.String("app"), ComputePlatform: cdtypes.ComputePlatformLambda}); err != nil {
		t.Fatal(err)
	}
	in := &codedeploy.CreateDeploymentGroupInput{ApplicationName: aws.String("app"), DeploymentGroupName: aws.String("dg"),
		ServiceRoleArn: aws.String("arn:aws:iam::000000000000:role/codedeploy")}
	if edit != nil {
		edit(in)
	}
	if _, err := cd.CreateDeploymentGroup(t.Context(), in); err != nil {
		t.Fatal(err)
	}
}

// linear10 gives a deployment group the linear configuration that shifts 10% a minute.
func linear10(in *codedeploy.CreateDeploymentGroupInput) {
	in.DeploymentConfigName = aws.String("CodeDeployDefault.LambdaLinear10PercentEvery1Minute")
}

// putLiveAlarm creates the seed's alarm — the Sum of an AWS/Lambda metric of fn:live at least 1 — with a 1-second
// period (a Sluice extension) so the test is quick.
func putLiveAlarm(t *testing.T, cw *cloudwatch.Client, name, metric, fn string) {
	t.Helper()
	if _, err := cw.PutMetricAlarm(t.Context(), &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String(name),
		Namespace: aws.String("AWS/Lambda"), MetricName: aws.String(metric), Statistic: cwtypes.StatisticSum,
		Dimensions: []cwtypes.Dimension{{Name: aws.String("FunctionName"), Value: aws.String(fn)}, {Name: aws.String("Resource"), Value: aws.String(fn + ":live")}},
		Period:     aws.Int32(1), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(1), TreatMissingData: aws.String("notBreaching"),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold}); err != nil {
		t.Fatal(err)
	}
}

// createCanaryGroupWithRollback creates app/dg: the seed's canary (10% for five configured minutes), watching
// alarm, rolled back automatically when it fires or the deployment fails.
func createCanaryGroupWithRollback(t *testing.T, cd *codedeploy.Client, alarm string) {
	t.Helper()
	createDeploymentGroup(t, cd, func(in *codedeploy.CreateDeploymentGroupInput) {
		in.DeploymentConfigName = aws.String("CodeDeployDefault.LambdaCanary10Percent5Minutes")
		in.DeploymentStyle = &cdtypes.DeploymentStyle{DeploymentType: cdtypes.DeploymentTypeBlueGreen, DeploymentOption: cdtypes.DeploymentOptionWithTrafficControl}
		in.AlarmConfiguration = &cdtypes.AlarmConfiguration{Enabled: true, Alarms: []cdtypes.Alarm{{Name: aws.String(alarm)}}}
		in.AutoRollbackConfiguration = &cdtypes.AutoRollbackConfiguration{Enabled: true,
			Events: []cdtypes.AutoRollbackEvent{cdtypes.AutoRollbackEventDeploymentFailure, cdtypes.AutoRollbackEventDeploymentStopOnAlarm}}
	})
}

// createDeployment starts a deployment of app/dg with the AppSpec spec and returns its ID.
func createDeployment(t *testing.T, cd *codedeploy.Client, spec string) string {
	t.Helper()
	out, err := cd.CreateDeployment(t.Context(), &codedeploy.CreateDeploymentInput{ApplicationName: aws.String("app"), DeploymentGroupName: aws.String("dg"),
		Revision: &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeAppSpecContent, AppSpecContent: &cdtypes.AppSpecContent{Content: aws.String(spec)}}})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.DeploymentId)
}

func waitDeployment(t *testing.T, cd *codedeploy.Client, id string, want cdtypes.DeploymentStatus) *cdtypes.DeploymentInfo {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		out, err := cd.GetDeployment(t.Context(), &codedeploy.GetDeploymentInput{DeploymentId: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		info := out.DeploymentInfo
		if info.Status == want {
			return info
		}
		terminal := info.Status == cdtypes.DeploymentStatusSucceeded || info.Status == cdtypes.DeploymentStatusFailed || info.Status == cdtypes.DeploymentStatusStopped
		if terminal || time.Now().After(deadline) {
			t.Fatalf("deployment %s is %s (%+v), want %s", id, info.Status, info.ErrorInformation, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestCanaryDeploymentsWithAlarmRollback(t *testing.T) {
	parallel(t)
	s := startServer(t, "--deploy-time-scale", "30") // a configured minute lasts 2 s
	c, cw, cd := s.Lambda(), s.CloudWatch(), s.CodeDeploy()
	createEcho(t, c, "orders")
	v1 := publishNew(t, c, "orders", "one")
	v2 := publishNew(t, c, "orders", "two")
	if _, err := c.UpdateFunctionConfiguration(t.Context(), &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("orders"),
		Environment: &types.Environment{Variables: map[string]string{"FAIL_ALL": "defect in v3"}}}); err != nil {
		t.Fatal(err)
	}
	waitUpdated(t, c, "orders")
	v3 := publishNew(t, c, "orders", "three (defective)")
	if _, err := c.CreateAlias(t.Context(), &lambda.CreateAliasInput{FunctionName: aws.String("orders"), Name: aws.String("live"), FunctionVersion: aws.String(v1)}); err != nil {
		t.Fatal(err)
	}
	// The seed's alarm, with a 1-second period (a Sluice extension) so the test is quick.
	putLiveAlarm(t, cw, "orders-errors", "Errors", "orders")
	createCanaryGroupWithRollback(t, cd, "orders-errors")
	deployTo := func(current, target string) string {
		return createDeployment(t, cd, appSpecFor("orders", "live", current, target))
	}

	// Steady traffic through the alias for the whole test; count what each version served.
	var stop atomic.Bool
	var mu sync.Mutex
	served := map[string]int{}
	failed := map[string]int{}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for !stop.Load() {
				out, err := c.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String("orders"), Qualifier: aws.String("live"), Payload: []byte(`{}`)})
				if err != nil {
					continue
				}
				mu.Lock()
				served[aws.ToString(out.ExecutedVersion)]++
				if out.FunctionError != nil {
					failed[aws.ToString(out.ExecutedVersion)]++
				}
				mu.Unlock()
			}
		})
	}
	defer func() { stop.Store(true); wg.Wait() }()

	// 1. A healthy canary: 10%, then all of it, Succeeded, the alias left on v2 with no routing.
	id := deployTo(v1, v2)
	waitDeployment(t, cd, id, cdtypes.DeploymentStatusSucceeded)
	shown, stderr, code := sluice(t, s.Env(), "deployments", "show", id)
	for _, want := range []string{"Succeeded", "prewarmed", "step       10%", "step       100%", "Blast radius: the target version served"} {
		if code != 0 || !strings.Contains(shown, want) {
			t.Fatalf("sluice deployments show lacks %q (exit %d):\n%s\n%s", want, code, shown, stderr)
		}
	}
	alias, err := c.GetAlias(t.Context(), &lambda.GetAliasInput{FunctionName: aws.String("orders"), Name: aws.String("live")})
	if err != nil || aws.ToString(alias.FunctionVersion) != v2 || alias.RoutingConfig != nil && len(alias.RoutingConfig.AdditionalVersionWeights) != 0 {
		t.Fatalf("alias after the healthy canary: %+v %v", alias, err)
	}

	// 2. A defective version: the canary's errors drive the alarm, the deployment stops and rolls back.
	id = deployTo(v2, v3)
	info := waitDeployment(t, cd, id, cdtypes.DeploymentStatusStopped)
	if info.ErrorInformation == nil || info.ErrorInformation.Code != cdtypes.ErrorCodeAlarmActive || info.RollbackInfo == nil {
		t.Fatalf("stopped deployment: %+v %+v", info.ErrorInformation, info.RollbackInfo)
	}
	rollback := waitDeployment(t, cd, aws.ToString(info.RollbackInfo.RollbackDeploymentId), cdtypes.DeploymentStatusSucceeded)
	if rollback.Creator != cdtypes.DeploymentCreatorCodeDeployRollback {
		t.Fatalf("rollback creator %q", rollback.Creator)
	}
	alias, err = c.GetAlias(t.Context(), &lambda.GetAliasInput{FunctionName: aws.String("orders"), Name: aws.String("live")})
	if err != nil || aws.ToString(alias.FunctionVersion) != v2 || alias.RoutingConfig != nil && len(alias.RoutingConfig.AdditionalVersionWeights) != 0 {
		t.Fatalf("alias after the rollback: %+v %v (must be back on %s, unsplit)", alias, err, v2)
	}
	stop.Store(true)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	t.Logf("served %v, failed %v", served, failed)
	if failed[v1] != 0 || failed[v2] != 0 {
		t.Fatalf("healthy versions served errors: %v", failed)
	}
	if served[v3] == 0 || failed[v3] != served[v3] {
		t.Fatalf("the defective canary served %d and failed %d", served[v3], failed[v3])
	}
}

// seedHook is the seed article's pre-traffic hook, verbatim below the line that gives it the smoke test it calls.
const seedHook = `import json, os, urllib.request


def run_smoke_tests():
    if os.environ.get("SMOKE") == "fail":
        raise RuntimeError("smoke test failed")


# ---- the seed's hook, verbatim ----
# プリトラフィックフック:切替前に新バージョンをスモークテストし、合否をCodeDeployへ返す
import boto3
codedeploy = boto3.client("codedeploy")
def handler(event, context):
    deployment_id = event["DeploymentId"]
    hook_id = event["LifecycleEventHookExecutionId"]
    status = "Succeeded"
    try:
        run_smoke_tests() # 新バージョン(エイリアス未切替の version)を直接叩いて検証
    except Exception:
        status = "Failed" # ここでFailedを返すと切替されずロールバックされる
    codedeploy.put_lifecycle_event_hook_execution_status(
        deploymentId=deployment_id, lifecycleEventHookExecutionId=hook_id, status=status,
    )
    return {"status": status}
`

func TestSeedPreTrafficHook(t *testing.T) {
	parallel(t)
	requireBoto3ForFunctions(t)
	s := startServer(t, "--deploy-time-scale", "600")
	c, cd := s.Lambda(), s.CodeDeploy()
	createEcho(t, c, "orders")
	v1 := publishNew(t, c, "orders", "one")
	v2 := publishNew(t, c, "orders", "two")
	if _, err := c.CreateAlias(t.Context(), &lambda.CreateAliasInput{FunctionName: aws.String("orders"), Name: aws.String("live"), FunctionVersion: aws.String(v1)}); err != nil {
		t.Fatal(err)
	}
	for _, hook := range []struct{ name, smoke string }{{"CodeDeployHook_pre", "pass"}, {"CodeDeployHook_pre_bad", "fail"}} {
		createFunction(t, c, hook.name, func(in *lambda.CreateFunctionInput) {
			in.Runtime, in.Handler = types.RuntimePython311, aws.String("hook.handler")
			in.Code.ZipFile = makeZip(t, zipFile{Name: "hook.py", Body: seedHook})
			in.Environment = &types.Environment{Variables: map[string]string{"SMOKE": hook.smoke}}
		})
		waitActive(t, c, hook.name)
	}
	createDeploymentGroup(t, cd, func(in *codedeploy.CreateDeploymentGroupInput) {
		in.DeploymentConfigName = aws.String("CodeDeployDefault.LambdaAllAtOnce")
		in.AutoRollbackConfiguration = &cdtypes.AutoRollbackConfiguration{Enabled: true, Events: []cdtypes.AutoRollbackEvent{cdtypes.AutoRollbackEventDeploymentFailure}}
	})
	deploy := func(current, target, hook string) string {
		return createDeployment(t, cd, appSpecFor("orders", "live", current, target)+"Hooks:\n  - BeforeAllowTraffic: "+hook+"\n")
	}
	// A failing smoke test: the hook reports Failed, no traffic moves.
	info := waitDeployment(t, cd, deploy(v1, v2, "CodeDeployHook_pre_bad"), cdtypes.DeploymentStatusFailed)
	if info.ErrorInformation == nil || info.ErrorInformation.Code != cdtypes.ErrorCodeHookExecutionFailure {
		t.Fatalf("failed hook: %+v", info.ErrorInformation)
	}
	if a, _ := c.GetAlias(t.Context(), &lambda.GetAliasInput{FunctionName: aws.String("orders"), Name: aws.String("live")}); aws.ToString(a.FunctionVersion) != v1 {
		t.Fatalf("a failed pre-traffic hook moved the alias to %s", aws.ToString(a.FunctionVersion))
	}
	// A passing one: the deployment shifts and succeeds.
	waitDeployment(t, cd, deploy(v1, v2, "CodeDeployHook_pre"), cdtypes.DeploymentStatusSucceeded)
	if a, _ := c.GetAlias(t.Context(), &lambda.GetAliasInput{FunctionName: aws.String("orders"), Name: aws.String("live")}); aws.ToString(a.FunctionVersion) != v2 {
		t.Fatalf("after a passing hook the alias is on %s, want %s", aws.ToString(a.FunctionVersion), v2)
	}
}

// TestDeploymentSurvivesKill: SIGKILL mid-canary; after the restart the deployment continues on schedule and the
// alias ends on the target with no split left behind.
func TestDeploymentSurvivesKill(t *testing.T) {
	parallel(t)
	s := startServer(t, "--deploy-time-scale", "60") // a configured minute lasts 1 s
	c, cd := s.Lambda(), s.CodeDeploy()
	createEcho(t, c, "orders")
	v1 := publishNew(t, c, "orders", "one")
	v2 := publishNew(t, c, "orders", "two")
	if _, err := c.CreateAlias(t.Context(), &lambda.CreateAliasInput{FunctionName: aws.String("orders"), Name: aws.String("live"), FunctionVersion: aws.String(v1)}); err != nil {
		t.Fatal(err)
	}
	createDeploymentGroup(t, cd, linear10)
	id := createDeployment(t, cd, appSpecFor("orders", "live", v1, v2))
	// Wait until the alias is split (mid-shift), then kill the server without warning.
	deadline := time.Now().Add(30 * time.Second)
	for {
		a, err := c.GetAlias(t.Context(), &lambda.GetAliasInput{FunctionName: aws.String("orders"), Name: aws.String("live")})
		if err != nil {
			t.Fatal(err)
		}
		if a.RoutingConfig != nil && a.RoutingConfig.AdditionalVersionWeights[v2] >= 0.2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the linear shift never reached 20%")
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.Kill(t)
	s.Restart(t)
	c, cd = s.Lambda(), s.CodeDeploy()
	waitDeployment(t, cd, id, cdtypes.DeploymentStatusSucceeded)
	a, err := c.GetAlias(t.Context(), &lambda.GetAliasInput{FunctionName: aws.String("orders"), Name: aws.String("live")})
	if err != nil || aws.ToString(a.FunctionVersion) != v2 || a.RoutingConfig != nil && len(a.RoutingConfig.AdditionalVersionWeights) != 0 {
		t.Fatalf("alias after the restarted deployment: %+v %v", a, err)
	}
}

// TestHookTimeoutAndQueueing: a hook that never reports fails its deployment with TIMEOUT, and a second deployment
// to the same group waits Queued until the first one ends.
func TestHookTimeoutAndQueueing(t *testing.T) {
	parallel(t)
	s := startServer(t, "--hook-timeout", "2s", "--deploy-time-scale", "600")
	c, cd := s.Lambda(), s.CodeDeploy()
	createEcho(t, c, "orders")
	createEcho(t, c, "CodeDeployHook_silent") // answers its invocation and never calls back
	v1 := publishNew(t, c, "orders", "one")
	v2 := publishNew(t, c, "orders", "two")
	if _, err := c.CreateAlias(t.Context(), &lambda.CreateAliasInput{FunctionName: aws.String("orders"), Name: aws.String("live"), FunctionVersion: aws.String(v1)}); err != nil {
		t.Fatal(err)
	}
	createDeploymentGroup(t, cd, nil)
	create := func(spec string) string { return createDeployment(t, cd, spec) }
	first := create(appSpecFor("orders", "live", v1, v2) + "Hooks:\n  - BeforeAllowTraffic: CodeDeployHook_silent\n")
	second := create(appSpecFor("orders", "live", v1, v2))
	deadline := time.Now().Add(20 * time.Second)
	for {
		out, err := cd.GetDeployment(t.Context(), &codedeploy.GetDeploymentInput{DeploymentId: aws.String(second)})
		if err != nil {
			t.Fatal(err)
		}
		if out.DeploymentInfo.Status == cdtypes.DeploymentStatusQueued {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the second deployment is %s while the first runs, want Queued", out.DeploymentInfo.Status)
		}
		time.Sleep(20 * time.Millisecond)
	}
	info := waitDeployment(t, cd, first, cdtypes.DeploymentStatusFailed)
	if info.ErrorInformation == nil || info.ErrorInformation.Code != cdtypes.ErrorCodeTimeout {
		t.Fatalf("silent hook: %+v", info.ErrorInformation)
	}
	waitDeployment(t, cd, second, cdtypes.DeploymentStatusSucceeded)
}

// TestHookNeedsTheServiceRole: CodeDeploy invokes hooks as the deployment group's service role. With AWS's
// managed AWSCodeDeployRoleForLambda only CodeDeployHook_* functions may be invoked, so a hook named otherwise —
// or any hook under a role without that permission — fails its lifecycle event at once, and no traffic moves.
func TestHookNeedsTheServiceRole(t *testing.T) {
	parallel(t)
	s := startServer(t, "--deploy-time-scale", "600")
	c, cd := s.Lambda(), s.CodeDeploy()
	createEcho(t, c, "orders")
	createEcho(t, c, "smoke") // not CodeDeployHook_*
	v1 := publishNew(t, c, "orders", "one")
	v2 := publishNew(t, c, "orders", "two")
	if _, err := c.CreateAlias(t.Context(), &lambda.CreateAliasInput{FunctionName: aws.String("orders"), Name: aws.String("live"), FunctionVersion: aws.String(v1)}); err != nil {
		t.Fatal(err)
	}
	createDeploymentGroup(t, cd, nil)
	id := createDeployment(t, cd, appSpecFor("orders", "live", v1, v2)+"Hooks:\n  - BeforeAllowTraffic: smoke\n")
	info := waitDeployment(t, cd, id, cdtypes.DeploymentStatusFailed)
	if info.ErrorInformation == nil || info.ErrorInformation.Code != cdtypes.ErrorCodeHookExecutionFailure {
		t.Fatalf("hook the role may not invoke: %+v", info.ErrorInformation)
	}
	if a, _ := c.GetAlias(t.Context(), &lambda.GetAliasInput{FunctionName: aws.String("orders"), Name: aws.String("live")}); aws.ToString(a.FunctionVersion) != v1 {
		t.Fatalf("live moved to %s", aws.ToString(a.FunctionVersion))
	}
	if !strings.Contains(s.log.String(), "hook not authorized") {
		t.Errorf("the server did not say why the hook failed")
	}
	// The deployment says why too, not only the server's log.
	shown, stderr, code := sluice(t, s.Env(), "deployments", "show", id)
	if want := "hook smoke invocation failed: the deployment group's service role is not authorized to invoke the hook: " +
		`role "arn:aws:iam::000000000000:role/codedeploy" may not perform lambda:InvokeFunction`; code != 0 || !strings.Contains(shown, want) {
		t.Errorf("deployments show (exit %d, %s) does not say %q:\n%s", code, stderr, want, shown)
	}
}
