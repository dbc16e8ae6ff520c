package codedeployapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/codedeploy"
)

// TestCLIs runs the AWS CLI v1 (on PATH) and v2 (/usr/bin/aws 2.9) against the handler: create-deployment with
// the AppSpec inline, get-deployment, stop-deployment, list-deployment-targets, and `deploy wait
// deployment-successful`, which returns on its first poll for a deployment that has already succeeded and fails
// at once for a failed one.
func TestCLIs(t *testing.T) {
	for _, cli := range []struct{ name, bin, version string }{
		{"v1", "aws", "aws-cli/1."},
		{"v2", "/usr/bin/aws", "aws-cli/2."},
	} {
		t.Run(cli.name, func(t *testing.T) {
			t.Parallel()
			bin, err := exec.LookPath(cli.bin)
			if err != nil {
				t.Skipf("%s: %v", cli.bin, err)
			}
			if out, err := exec.Command(bin, "--version").CombinedOutput(); err != nil || !strings.HasPrefix(string(out), cli.version) {
				t.Skipf("%s is not the AWS CLI %s: %v %s", bin, cli.name, err, out)
			}
			s := newServer(t)
			run := func(args ...string) (string, string, error) {
				t.Helper()
				ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
				defer cancel()
				cmd := exec.CommandContext(ctx, bin, append([]string{"--endpoint-url", s.URL, "--output", "json", "deploy"}, args...)...)
				cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=secret", "AWS_DEFAULT_REGION=us-east-1",
					"AWS_REGION=us-east-1", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=", "AWS_MAX_ATTEMPTS=1")
				var stdout, stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				err := cmd.Run()
				return stdout.String(), stderr.String(), err
			}
			mustRun := func(args ...string) string {
				t.Helper()
				out, stderr, err := run(args...)
				if err != nil {
					t.Fatalf("aws deploy %s: %v\n%s", strings.Join(args, " "), err, stderr)
				}
				return out
			}

			revision, _ := json.Marshal(map[string]any{"revisionType": "AppSpecContent", "appSpecContent": map[string]any{"content": appSpecYAML}})
			var created struct{ DeploymentId string }
			if err := json.Unmarshal([]byte(mustRun("create-deployment", "--application-name", "orders", "--deployment-group-name", "orders-live",
				"--revision", string(revision), "--deployment-config-name", codedeploy.LambdaLinear10PercentEvery1Minute)), &created); err != nil || created.DeploymentId != idCreated {
				t.Errorf("create-deployment: %v %+v", err, created)
			}
			want := codedeploy.CreateDeploymentInput{ApplicationName: "orders", DeploymentGroupName: "orders-live",
				DeploymentConfigName: codedeploy.LambdaLinear10PercentEvery1Minute, Revision: appSpecRevision()}
			if calls := s.fake.takeCalls(); len(calls) != 1 || !reflect.DeepEqual(calls[0].Args, want) {
				t.Errorf("backend calls:\n%s\nwant CreateDeployment %+v", dump(calls), want)
			}

			var got struct{ DeploymentInfo map[string]any }
			if err := json.Unmarshal([]byte(mustRun("get-deployment", "--deployment-id", idInProgress)), &got); err != nil {
				t.Fatal(err)
			}
			d := got.DeploymentInfo
			if d["deploymentId"] != idInProgress || d["status"] != "InProgress" || d["computePlatform"] != "Lambda" ||
				d["deploymentOverview"].(map[string]any)["InProgress"] != 1.0 || d["sluiceTimeline"] != nil {
				t.Errorf("deploymentInfo %v", d)
			}
			// v1 prints timestamps as they came on the wire (epoch seconds), v2 in ISO 8601.
			var ts time.Time
			switch v := d["createTime"].(type) {
			case float64:
				ts = time.UnixMilli(int64(v * 1000))
			case string:
				ts, _ = time.Parse(time.RFC3339Nano, v)
			}
			if !ts.Equal(tCreate) {
				t.Errorf("createTime %v, want %s", d["createTime"], tCreate)
			}

			var stop struct{ Status, StatusMessage string }
			if err := json.Unmarshal([]byte(mustRun("stop-deployment", "--deployment-id", idInProgress, "--auto-rollback-enabled")), &stop); err != nil || stop.Status != "Pending" {
				t.Errorf("stop-deployment: %v %+v", err, stop)
			}
			rollback := true
			if calls := s.fake.takeCalls(); !reflect.DeepEqual(calls, []call{{"GetDeployment", idInProgress}, {"StopDeployment", stopArgs{idInProgress, &rollback}}}) {
				t.Errorf("backend calls:\n%s\nwant GetDeployment, then StopDeployment with autoRollbackEnabled true", dump(calls))
			}

			var targets struct{ TargetIds []string }
			if err := json.Unmarshal([]byte(mustRun("list-deployment-targets", "--deployment-id", idInProgress)), &targets); err != nil ||
				!reflect.DeepEqual(targets.TargetIds, []string{"orders:live"}) {
				t.Errorf("list-deployment-targets: %v %+v", err, targets)
			}

			s.fake.takeCalls() // what list-deployment-targets asked
			if out := mustRun("wait", "deployment-successful", "--deployment-id", idSucceeded); out != "" {
				t.Errorf("wait printed %q", out)
			}
			// The waiter's first poll sees the deployment succeeded: one GetDeployment, no second round.
			if calls := s.fake.takeCalls(); !reflect.DeepEqual(calls, []call{{"GetDeployment", idSucceeded}}) {
				t.Errorf("backend calls of the waiter:\n%s\nwant one GetDeployment", dump(calls))
			}
			_, stderr, err := run("wait", "deployment-successful", "--deployment-id", idFailed)
			if err == nil || !strings.Contains(stderr, "Waiter DeploymentSuccessful failed") {
				t.Errorf("wait on a failed deployment: %v %s", err, stderr)
			}

			_, stderr, err = run("get-deployment", "--deployment-id", idMissing)
			if err == nil || !strings.Contains(stderr, "(DeploymentDoesNotExistException) when calling the GetDeployment operation") ||
				!strings.Contains(stderr, ": The deployment d-MISSING01 could not be found.") {
				t.Errorf("get-deployment of a missing deployment: %v %s", err, stderr)
			}
		})
	}
}
