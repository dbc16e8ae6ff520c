package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// liveWeight is the share of orders:live's traffic on version target, as a stock client (the Go SDK's GetAlias)
// sees it.
func liveWeight(t *testing.T, c *lambda.Client, target string) float64 {
	t.Helper()
	a, err := c.GetAlias(t.Context(), &lambda.GetAliasInput{FunctionName: aws.String("orders"), Name: aws.String("live")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(a.FunctionVersion) == target {
		return 1
	}
	if a.RoutingConfig == nil {
		return 0
	}
	return a.RoutingConfig.AdditionalVersionWeights[target]
}

// awaitWeight waits (bounded) until the alias gives target a weight for which ok holds, and returns it.
func awaitWeight(t *testing.T, c *lambda.Client, target, what string, ok func(float64) bool) float64 {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if w := liveWeight(t, c, target); ok(w) {
			return w
		}
		if time.Now().After(deadline) {
			t.Fatalf("the alias never reached %s (version %s at %g)", what, target, liveWeight(t, c, target))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// holds checks that the alias keeps target at weight w for the whole of d (several steps of the schedule).
func holds(t *testing.T, c *lambda.Client, target string, w float64, d time.Duration, what string) {
	t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if got := liveWeight(t, c, target); got != w {
			t.Fatalf("%s: the alias moved from %g to %g on version %s", what, w, got, target)
		}
	}
}

// awaitPaused waits until GetDeployment (the Go SDK's) says in deploymentStatusMessages that the deployment is
// paused (paused) or no longer says so, while its status stays InProgress.
func awaitPaused(t *testing.T, cd *codedeploy.Client, id string, paused bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := cd.GetDeployment(t.Context(), &codedeploy.GetDeploymentInput{DeploymentId: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		info := out.DeploymentInfo
		says := len(info.DeploymentStatusMessages) > 0 && strings.HasPrefix(info.DeploymentStatusMessages[0], "Paused by arn:aws:iam::000000000000:")
		if says == paused {
			if info.Status != cdtypes.DeploymentStatusInProgress {
				t.Fatalf("deployment %s is %s, want InProgress (paused %v)", id, info.Status, paused)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("deployment %s: status messages %q, want paused %v", id, info.DeploymentStatusMessages, paused)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestDeploymentTrafficControls drives a linear deployment with `sluice deployments pause|skip|resume|promote`
// against the real binary and watches the alias with a stock client: a pause holds the weight (across a kill -9),
// a skip takes one step and stays paused, a resume goes on, a promote finishes at 100 %; `sluice deployments show`
// tells who did what; a read-only identity is refused; a finished deployment refuses controls; and a paused canary
// whose alarm fires is rolled back.
func TestDeploymentTrafficControls(t *testing.T) {
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
	putLiveAlarm(t, cw, "orders-errors", "Errors", "orders")
	createDeploymentGroup(t, cd, func(in *codedeploy.CreateDeploymentGroupInput) {
		linear10(in)
		in.AlarmConfiguration = &cdtypes.AlarmConfiguration{Enabled: true, Alarms: []cdtypes.Alarm{{Name: aws.String("orders-errors")}}}
		in.AutoRollbackConfiguration = &cdtypes.AutoRollbackConfiguration{Enabled: true,
			Events: []cdtypes.AutoRollbackEvent{cdtypes.AutoRollbackEventDeploymentFailure, cdtypes.AutoRollbackEventDeploymentStopOnAlarm}}
	})
	ctl := func(sub, id string) {
		t.Helper()
		if out, errOut, code := sluice(t, s.Env(), "deployments", sub, id); code != 0 || !strings.Contains(out, "accepted") {
			t.Fatalf("sluice deployments %s: exit %d\n%s%s", sub, code, out, errOut)
		}
	}

	id := createDeployment(t, cd, appSpecFor("orders", "live", v1, v2))
	awaitWeight(t, c, v2, "the first 10% step", func(w float64) bool { return w >= 0.1 })
	ctl("pause", id)
	awaitPaused(t, cd, id, true)
	held := liveWeight(t, c, v2)
	if held <= 0 || held >= 1 {
		t.Fatalf("paused at weight %g", held)
	}
	holds(t, c, v2, held, 5*time.Second, "paused") // two and a half steps of the schedule
	if list, errOut, code := sluice(t, s.Env(), "deployments"); code != 0 || !strings.Contains(list, "InProgress (paused)") {
		t.Fatalf("sluice deployments: exit %d, no paused deployment listed:\n%s%s", code, list, errOut)
	}

	// Durable: a kill -9 and a restart find the deployment paused, at the same weight.
	s.Kill(t)
	s.Restart(t)
	c, cd = s.Lambda(), s.CodeDeploy()
	awaitPaused(t, cd, id, true)
	holds(t, c, v2, held, 3*time.Second, "paused, after a restart")

	ctl("skip", id)
	skipped := awaitWeight(t, c, v2, "the next step", func(w float64) bool { return w > held })
	if want := held + 0.1; skipped < want-1e-9 || skipped > want+1e-9 {
		t.Fatalf("a skip while paused moved the alias from %g to %g, want one step", held, skipped)
	}
	awaitPaused(t, cd, id, true)
	holds(t, c, v2, skipped, 3*time.Second, "paused after a skip")

	ctl("resume", id)
	awaitPaused(t, cd, id, false)
	awaitWeight(t, c, v2, "the schedule going on", func(w float64) bool { return w > skipped })
	ctl("pause", id)
	awaitPaused(t, cd, id, true)
	ctl("promote", id)
	waitDeployment(t, cd, id, cdtypes.DeploymentStatusSucceeded)
	a, err := c.GetAlias(t.Context(), &lambda.GetAliasInput{FunctionName: aws.String("orders"), Name: aws.String("live")})
	if err != nil || aws.ToString(a.FunctionVersion) != v2 || a.RoutingConfig != nil && len(a.RoutingConfig.AdditionalVersionWeights) != 0 {
		t.Fatalf("alias after the promotion: %+v %v", a, err)
	}

	show, errOut, code := sluice(t, s.Env(), "deployments", "show", id)
	if code != 0 {
		t.Fatalf("sluice deployments show: exit %d %s", code, errOut)
	}
	for _, want := range []string{"paused by arn:aws:iam::000000000000:root: traffic held at", "wait skipped by arn:aws:iam::000000000000:root",
		"resumed by arn:aws:iam::000000000000:root", "promoted by arn:aws:iam::000000000000:root", "(promoted)", "deployment succeeded"} {
		if !strings.Contains(show, want) {
			t.Errorf("sluice deployments show lacks %q:\n%s", want, show)
		}
	}
	_, errOut, code = sluice(t, s.Env(), "deployments", "resume", id)
	if code != 1 || errOut != "sluice: DeploymentAlreadyCompletedException: Deployment "+id+" has already completed.\n" {
		t.Errorf("resume of a finished deployment: exit %d %q", code, errOut)
	}

	// A read-only identity may look but not pause.
	admin := s.IAM()
	ctx := context.Background()
	if _, err := admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("viewer")}); err != nil {
		t.Fatal(err)
	}
	readOnly := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["codedeploy:Get*","codedeploy:List*","codedeploy:BatchGet*"],"Resource":"*"}]}`
	if _, err := admin.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("viewer"), PolicyName: aws.String("read-only"), PolicyDocument: aws.String(readOnly)}); err != nil {
		t.Fatal(err)
	}
	key, err := admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("viewer")})
	if err != nil {
		t.Fatal(err)
	}
	viewer := append(s.Env(), "AWS_ACCESS_KEY_ID="+aws.ToString(key.AccessKey.AccessKeyId), "AWS_SECRET_ACCESS_KEY="+aws.ToString(key.AccessKey.SecretAccessKey))

	// A paused canary whose alarm fires is rolled back: the rollback wins.
	id2 := createDeployment(t, cd, appSpecFor("orders", "live", v2, v3))
	awaitWeight(t, c, v3, "the defective version's first step", func(w float64) bool { return w >= 0.1 })
	if _, errOut, code := sluice(t, viewer, "deployments", "show", id2); code != 0 {
		t.Fatalf("a read-only identity may not show a deployment: %s", errOut)
	}
	_, errOut, code = sluice(t, viewer, "deployments", "pause", id2)
	if want := "sluice: AccessDeniedException: User: arn:aws:iam::000000000000:user/viewer is not authorized to perform: codedeploy:PauseDeployment on resource: arn:aws:codedeploy:us-east-1:000000000000:deploymentgroup:app/dg"; code != 1 || !strings.HasPrefix(errOut, want) {
		t.Fatalf("pause by a read-only identity: exit %d %q, want %q", code, errOut, want)
	}
	ctl("pause", id2)
	awaitPaused(t, cd, id2, true)
	deadline := time.Now().Add(60 * time.Second)
	for {
		out, err := cd.GetDeployment(t.Context(), &codedeploy.GetDeploymentInput{DeploymentId: aws.String(id2)})
		if err != nil {
			t.Fatal(err)
		}
		if out.DeploymentInfo.Status != cdtypes.DeploymentStatusInProgress {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the alarm never stopped the paused deployment")
		}
		// Traffic through the alias: one call in ten reaches the defective version.
		if _, err := c.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String("orders"), Qualifier: aws.String("live"), Payload: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	info := waitDeployment(t, cd, id2, cdtypes.DeploymentStatusStopped)
	if info.ErrorInformation == nil || info.ErrorInformation.Code != cdtypes.ErrorCodeAlarmActive || info.RollbackInfo == nil || len(info.DeploymentStatusMessages) != 0 {
		t.Fatalf("paused deployment after the alarm: %+v %+v %q", info.ErrorInformation, info.RollbackInfo, info.DeploymentStatusMessages)
	}
	awaitWeight(t, c, v2, "the rollback to version "+v2, func(w float64) bool { return w == 1 })
	_, errOut, code = sluice(t, s.Env(), "deployments", "resume", id2)
	if code != 1 || !strings.Contains(errOut, "DeploymentAlreadyCompletedException") {
		t.Errorf("resume after the rollback: exit %d %q", code, errOut)
	}
}
