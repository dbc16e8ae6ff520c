package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// TestREADMETrafficControls runs README.md's "Hold, push on, or finish a canary" block (marked
// <!-- e2e: controls -->) as printed, with AWS CLI v1, against a fresh server started with the quick start's flags
// and set up as the walkthrough leaves it: orders-demo with live on version 2, the application orders-demo and its
// canary group live. The deployment it starts is paused — no step while it is —, then promoted, and ends with live on version 3.
func TestREADMETrafficControls(t *testing.T) {
	parallel(t)
	cliV1(t)
	b, err := os.ReadFile(filepath.Join(moduleRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	blocks := markedBlocks(t, readme, "controls")
	if len(blocks) != 1 {
		t.Fatalf("README.md has %d blocks marked <!-- e2e: controls -->, want 1", len(blocks))
	}
	s, env := startREADMEServer(t, readme)
	grantTestRoles(t, s) // the walkthrough's roles: orders (the function's) and codedeploy (the group's)

	c, cd := s.Lambda(), s.CodeDeploy()
	createEcho(t, c, "orders-demo")
	publishNew(t, c, "orders-demo", "one")
	v2 := publishNew(t, c, "orders-demo", "two")
	if _, err := c.CreateAlias(t.Context(), &lambda.CreateAliasInput{FunctionName: aws.String("orders-demo"), Name: aws.String("live"), FunctionVersion: aws.String(v2)}); err != nil {
		t.Fatal(err)
	}
	if _, err := cd.CreateApplication(t.Context(), &codedeploy.CreateApplicationInput{ApplicationName: aws.String("orders-demo"), ComputePlatform: cdtypes.ComputePlatformLambda}); err != nil {
		t.Fatal(err)
	}
	if _, err := cd.CreateDeploymentGroup(t.Context(), &codedeploy.CreateDeploymentGroupInput{ApplicationName: aws.String("orders-demo"),
		DeploymentGroupName: aws.String("live"), ServiceRoleArn: aws.String("arn:aws:iam::000000000000:role/codedeploy"),
		DeploymentConfigName: aws.String("CodeDeployDefault.LambdaCanary10Percent5Minutes")}); err != nil {
		t.Fatal(err)
	}

	env = append(env, "PS4=+ README: ")
	stdout, stderr, code := run(t, env, t.TempDir(), "bash", "-x", "-euo", "pipefail", "-c", `eval "$(sluice env)"`+"\n"+blocks[0])
	if code != 0 {
		t.Fatalf("the README's block exited %d\nstdout:\n%s\nstderr (bash -x):\n%s", code, tail(stdout, 6000), tail(stderr, 12000))
	}
	for _, want := range []string{"PauseDeployment accepted", "PromoteDeployment accepted", "InProgress",
		"paused by arn:aws:iam::000000000000:root: traffic held at ", "promoted by arn:aws:iam::000000000000:root", "deployment succeeded"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("the block's output has no %q\nstdout:\n%s", want, tail(stdout, 6000))
		}
	}
	a, err := c.GetAlias(t.Context(), &lambda.GetAliasInput{FunctionName: aws.String("orders-demo"), Name: aws.String("live")})
	if err != nil || aws.ToString(a.FunctionVersion) != "3" || a.RoutingConfig != nil && len(a.RoutingConfig.AdditionalVersionWeights) > 0 {
		t.Errorf("after the block live is %+v (%v), want version 3 alone", a, err)
	}
	// Only the promotion moved the alias: while paused, nothing did.
	out, err := cd.ListDeployments(t.Context(), &codedeploy.ListDeploymentsInput{ApplicationName: aws.String("orders-demo"), DeploymentGroupName: aws.String("live")})
	if err != nil || len(out.Deployments) != 1 {
		t.Fatalf("deployments %+v %v", out, err)
	}
	show, _, _ := sluice(t, env, "deployments", "show", out.Deployments[0])
	_, afterPause, _ := strings.Cut(show, "paused by")
	whilePaused, _, promoted := strings.Cut(afterPause, "promoted by")
	if !promoted || strings.Contains(whilePaused, " step ") {
		t.Errorf("the paused deployment took a step before it was promoted:\n%s", show)
	}
}
