package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// oneEngineTemplate is a SAM function with local code (CodeUri: ./src) whose environment names the release.
func oneEngineTemplate(release string) string {
	return fmt.Sprintf(`AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: !Sub "${AWS::StackName}-fn"
      CodeUri: ./src
      Handler: index.handler
      Runtime: nodejs22.x
      AutoPublishAlias: live
      Environment: {Variables: {RELEASE: %s}}
Outputs:
  Function: {Value: !Ref Fn}
`, release)
}

// TestOneEngine: `sluice deploy` is a client of the CloudFormation API. A stack it makes is updated by `aws
// cloudformation package` + `deploy` (AWS CLI v1, which reads AWS_ENDPOINT_URL for the S3 upload too) and then by
// `sluice deploy` again; a stack the AWS CLI makes is updated by `sluice deploy`; `sluice stack list` and the API
// list the same stacks. Its code goes to the artifact bucket under content-addressed keys, so a deploy of
// unchanged code uploads nothing.
func TestOneEngine(t *testing.T) {
	parallelLong(t)
	cliV1(t)
	s := startServer(t)
	env := s.Env()
	ctx := context.Background()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "src"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "src", "index.js"), []byte(`exports.handler = async () => process.env.RELEASE;`), 0o644); err != nil {
		t.Fatal(err)
	}
	write := func(release string) string {
		path := filepath.Join(dir, "template.yaml")
		if err := os.WriteFile(path, []byte(oneEngineTemplate(release)), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	release := func(fn string) string {
		t.Helper()
		out, err := s.Lambda().GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(fn), Qualifier: aws.String("live")})
		if err != nil {
			t.Fatal(err)
		}
		return out.Environment.Variables["RELEASE"]
	}
	awsDeploy := func(stackName, path string) {
		t.Helper()
		if out, errOut, code := awsCLI(t, s, false, "s3", "mb", "s3://cli-artifacts"); code != 0 && !strings.Contains(errOut, "BucketAlreadyOwnedByYou") {
			t.Fatalf("s3 mb: exit %d\n%s%s", code, out, errOut)
		}
		packaged := filepath.Join(dir, "packaged.yaml")
		if out, errOut, code := awsCLI(t, s, false, "cloudformation", "package", "--template-file", path, "--s3-bucket", "cli-artifacts",
			"--output-template-file", packaged); code != 0 {
			t.Fatalf("cloudformation package: exit %d\n%s%s", code, out, errOut)
		}
		if out, errOut, code := awsCLI(t, s, false, "cloudformation", "deploy", "--template-file", packaged, "--stack-name", stackName,
			"--capabilities", "CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"); code != 0 {
			t.Fatalf("cloudformation deploy %s: exit %d\n%s%s", stackName, code, out, errOut)
		}
	}

	// sluice deploy makes the stack; its code lands in the artifact bucket.
	r, stderr, code := deployStack(t, env, dir, "-t", write("v1"), "--stack-name", "made-by-sluice")
	if code != 0 || r.Status != "CREATE_COMPLETE" || release("made-by-sluice-fn") != "v1" {
		t.Fatalf("sluice deploy v1: exit %d %s %s\n%s", code, r.Status, r.Reason, stderr)
	}
	bucket := "sluice-artifacts-000000000000-" + region
	objects := func() []string {
		t.Helper()
		out, err := s.S3(false).ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
		if err != nil {
			t.Fatalf("the artifact bucket: %v", err)
		}
		var keys []string
		for _, o := range out.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
		return keys
	}
	if keys := objects(); len(keys) != 1 || !strings.HasPrefix(keys[0], "code/") || !strings.HasSuffix(keys[0], ".zip") {
		t.Fatalf("artifact bucket after v1: %v", keys)
	}

	// The AWS CLI updates the stack sluice deploy made.
	awsDeploy("made-by-sluice", write("v2"))
	st := describeStackCLI(t, s, "made-by-sluice")
	if st.StackStatus != "UPDATE_COMPLETE" || release("made-by-sluice-fn") != "v2" {
		t.Fatalf("after aws cloudformation deploy: %s, live has %s", st.StackStatus, release("made-by-sluice-fn"))
	}

	// And sluice deploy updates it after the AWS CLI; the code has not changed, so nothing more is uploaded.
	r, stderr, code = deployStack(t, env, dir, "-t", write("v3"), "--stack-name", "made-by-sluice")
	if code != 0 || r.Status != "UPDATE_COMPLETE" || release("made-by-sluice-fn") != "v3" {
		t.Fatalf("sluice deploy v3: exit %d %s %s\n%s", code, r.Status, r.Reason, stderr)
	}
	if keys := objects(); len(keys) != 1 {
		t.Errorf("unchanged code was uploaded again: %v", keys)
	}

	// A stack the AWS CLI made is updated by sluice deploy.
	awsDeploy("made-by-cli", write("c1"))
	r, stderr, code = deployStack(t, env, dir, "-t", write("c2"), "--stack-name", "made-by-cli")
	if code != 0 || r.Status != "UPDATE_COMPLETE" || release("made-by-cli-fn") != "c2" || r.Outputs["Function"] == "" {
		t.Fatalf("sluice deploy of the AWS CLI's stack: exit %d %s %s %v\n%s", code, r.Status, r.Reason, r.Outputs, stderr)
	}

	// A template over the TemplateBody limit (51,200 bytes) goes by TemplateURL, from the artifact bucket.
	big := oneEngineTemplate("c3") + "Metadata:\n  Padding: " + strings.Repeat("x", 60000) + "\n"
	bigPath := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(bigPath, []byte(big), 0o644); err != nil {
		t.Fatal(err)
	}
	r, stderr, code = deployStack(t, env, dir, "-t", bigPath, "--stack-name", "made-by-cli")
	if code != 0 || r.Status != "UPDATE_COMPLETE" || release("made-by-cli-fn") != "c3" {
		t.Fatalf("sluice deploy of a large template: exit %d %s %s\n%s", code, r.Status, r.Reason, stderr)
	}
	if keys := objects(); !slices.ContainsFunc(keys, func(k string) bool { return strings.HasPrefix(k, "templates/") && strings.HasSuffix(k, ".json") }) {
		t.Errorf("the large template is not in the artifact bucket: %v", keys)
	}

	// One list: sluice stack list shows what ListStacks does.
	out, errOut, code := sluice(t, env, "stack", "list")
	if code != 0 || !strings.Contains(out, "made-by-sluice") || !strings.Contains(out, "made-by-cli") {
		t.Fatalf("sluice stack list: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = sluice(t, env, "stack", "show", "made-by-cli")
	if code != 0 || !strings.Contains(out, "UPDATE_COMPLETE") || !strings.Contains(out, "FnAliaslive") || !strings.Contains(out, "made-by-cli-fn:live → version 3") {
		t.Fatalf("sluice stack show: exit %d\n%s%s", code, out, errOut)
	}

	// sluice diff is a change set described and deleted: it leaves no change set behind.
	out, errOut, code = sluice(t, env, "diff", "-t", write("c4"), "--stack-name", "made-by-cli")
	if code != 0 || !strings.Contains(out, "would update") || !strings.Contains(out, "Dry run: nothing was changed.") {
		t.Fatalf("sluice diff: exit %d\n%s%s", code, out, errOut)
	}
	if out, _, _ := awsCLI(t, s, false, "cloudformation", "list-change-sets", "--stack-name", "made-by-cli",
		"--query", "length(Summaries[?ExecutionStatus=='AVAILABLE'])", "--output", "text"); strings.TrimSpace(out) != "0" {
		t.Errorf("sluice diff left a change set to execute: %s", out)
	}

	// Deleting through sluice deletes through the API.
	if out, errOut, code := sluice(t, env, "stack", "delete", "made-by-cli"); code != 0 || !strings.Contains(out, "DELETE_COMPLETE") {
		t.Fatalf("sluice stack delete: exit %d\n%s%s", code, out, errOut)
	}
	if _, err := s.Lambda().GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("made-by-cli-fn")}); err == nil {
		t.Error("the function outlived its stack")
	}
}
