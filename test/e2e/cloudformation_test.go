package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// TestCloudFormationBoto3: testdata/cloudformation.py — create-stack with boto3 and its waiter, the stack's events
// as CloudFormation reports them, a failed creation rolled back to ROLLBACK_COMPLETE with nothing left, delete-stack
// and its waiter.
func TestCloudFormationBoto3(t *testing.T) {
	t.Parallel()
	requireBoto3(t)
	srv := startServer(t)
	script, err := filepath.Abs(filepath.Join("testdata", "cloudformation.py"))
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := run(t, srv.Env(), filepath.Dir(script), "python3", script)
	if code != 0 {
		t.Fatalf("python3 cloudformation.py: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	t.Log(strings.TrimSpace(stdout))
}

// canaryTemplate is a plain CloudFormation template (no transform) of what a Lambda canary needs: the function's
// role and CodeDeploy's with the managed policies AWS requires of them, the function with inline code, a version
// (its Description is the release, so each release publishes a new one), the live alias moved by CodeDeploy
// (CodeDeployLambdaAliasUpdate), the errors alarm on live, and the deployment group: the seed's canary, rolled
// back when the alarm fires. defective makes the code throw.
func canaryTemplate(release string, defective bool) string {
	body := "return { release: '" + release + "' };"
	if defective {
		body = "throw new Error('defect in " + release + "');"
	}
	return `AWSTemplateFormatVersion: "2010-09-09"
Description: orders through a CodeDeploy canary
Resources:
  OrdersRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - {Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}
      ManagedPolicyArns: [arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]
  DeployRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - {Effect: Allow, Principal: {Service: codedeploy.amazonaws.com}, Action: sts:AssumeRole}
      ManagedPolicyArns: [arn:aws:iam::aws:policy/service-role/AWSCodeDeployRoleForLambda]
  Orders:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: nodejs20.x
      Handler: index.handler
      Role: !GetAtt OrdersRole.Arn
      Code:
        ZipFile: |
          exports.handler = async () => { ` + body + ` };
  OrdersVersion:
    Type: AWS::Lambda::Version
    Properties:
      FunctionName: !Ref Orders
      Description: ` + release + `
  Live:
    Type: AWS::Lambda::Alias
    UpdatePolicy:
      CodeDeployLambdaAliasUpdate:
        ApplicationName: !Ref App
        DeploymentGroupName: !Ref Group
    Properties:
      FunctionName: !Ref Orders
      FunctionVersion: !GetAtt OrdersVersion.Version
      Name: live
  Errors:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: AWS/Lambda
      MetricName: Errors
      Dimensions:
        - {Name: FunctionName, Value: !Ref Orders}
        - {Name: Resource, Value: !Sub "${Orders}:live"}
      Statistic: Sum
      Period: 60
      EvaluationPeriods: 1
      Threshold: 1
      ComparisonOperator: GreaterThanOrEqualToThreshold
      TreatMissingData: notBreaching
  App:
    Type: AWS::CodeDeploy::Application
    Properties: {ComputePlatform: Lambda}
  Group:
    Type: AWS::CodeDeploy::DeploymentGroup
    Properties:
      ApplicationName: !Ref App
      ServiceRoleArn: !GetAtt DeployRole.Arn
      DeploymentConfigName: CodeDeployDefault.LambdaCanary10Percent5Minutes
      DeploymentStyle: {DeploymentType: BLUE_GREEN, DeploymentOption: WITH_TRAFFIC_CONTROL}
      AlarmConfiguration:
        Enabled: true
        Alarms: [{Name: !Ref Errors}]
      AutoRollbackConfiguration:
        Enabled: true
        Events: [DEPLOYMENT_FAILURE, DEPLOYMENT_STOP_ON_ALARM]
Outputs:
  FunctionName:
    Value: !Ref Orders
`
}

// cfnStack is describe-stacks' answer for one stack, as the AWS CLI prints it.
type cfnStack struct {
	StackStatus, StackStatusReason string
	Outputs                        []struct{ OutputKey, OutputValue string }
}

func describeStackCLI(t *testing.T, s *server, name string) cfnStack {
	t.Helper()
	out, errOut, code := awsCLI(t, s, false, "cloudformation", "describe-stacks", "--stack-name", name)
	var r struct{ Stacks []cfnStack }
	if code != 0 || json.Unmarshal([]byte(out), &r) != nil || len(r.Stacks) != 1 {
		t.Fatalf("describe-stacks %s: exit %d\n%s%s", name, code, out, errOut)
	}
	return r.Stacks[0]
}

// TestCloudFormationDeployCanary: `aws cloudformation deploy` of a template with inline-code functions: v1 created
// in one step (AWS CLI v1); v2 as a change set described before it is executed, then shifted by a CodeDeploy
// canary (AWS CLI v2); a defective v3 whose alarm rolls the shift back under load, so the stack ends
// UPDATE_ROLLBACK_COMPLETE with the alias on v2 and the deploy fails (AWS CLI v1).
func TestCloudFormationDeployCanary(t *testing.T) {
	t.Parallel()
	cliV1(t)
	requireCLIv2(t)
	s := startServer(t, "--deploy-time-scale", "60", "--alarm-time-scale", "60") // the five-minute canary lasts five seconds
	dir := t.TempDir()
	write := func(release string, defective bool) {
		if err := os.WriteFile(filepath.Join(dir, "t.yaml"), []byte(canaryTemplate(release, defective)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c, cd := s.Lambda(), s.CodeDeploy()
	deploy := func(v2 bool, extra ...string) (string, int) {
		args := append([]string{"cloudformation", "deploy", "--template-file", filepath.Join(dir, "t.yaml"), "--stack-name", "orders",
			"--capabilities", "CAPABILITY_IAM"}, extra...)
		out, errOut, code := awsCLI(t, s, v2, args...)
		return out + errOut, code
	}

	write("v1", false)
	if out, code := deploy(false); code != 0 || !strings.Contains(out, "Successfully created/updated stack - orders") {
		t.Fatalf("deploy v1: exit %d\n%s", code, out)
	}
	st := describeStackCLI(t, s, "orders")
	if st.StackStatus != "CREATE_COMPLETE" || len(st.Outputs) != 1 {
		t.Fatalf("after v1: %+v", st)
	}
	fn := st.Outputs[0].OutputValue
	if v, w := aliasVersion(t, c, fn, "live"); v != "1" || len(w) != 0 {
		t.Fatalf("after v1 live → %s %v", v, w)
	}
	if ds, _ := cd.ListDeployments(t.Context(), &codedeploy.ListDeploymentsInput{}); len(ds.Deployments) != 0 {
		t.Fatalf("the creation ran deployments: %v", ds.Deployments)
	}

	// v2: the change set, described before it is executed, says what will change and how.
	write("v2", false)
	out, code := deploy(true, "--no-execute-changeset")
	m := regexp.MustCompile(`arn:aws:cloudformation:[^ \n]*:changeSet/[^ \n]*`).FindString(out)
	if code != 0 || m == "" {
		t.Fatalf("deploy --no-execute-changeset: exit %d\n%s", code, out)
	}
	desc, errOut, code := awsCLI(t, s, true, "cloudformation", "describe-change-set", "--change-set-name", m)
	var cs struct {
		Status, ExecutionStatus string
		Changes                 []struct {
			ResourceChange struct {
				Action, LogicalResourceId, Replacement string
				Scope                                  []string
				Details                                []struct {
					Target                                  struct{ Attribute, Name, RequiresRecreation string }
					Evaluation, ChangeSource, CausingEntity string
				}
			}
		}
	}
	if code != 0 || json.Unmarshal([]byte(desc), &cs) != nil {
		t.Fatalf("describe-change-set: exit %d\n%s%s", code, desc, errOut)
	}
	got := map[string]string{}
	for _, ch := range cs.Changes {
		rc := ch.ResourceChange
		var ds []string
		for _, d := range rc.Details {
			ds = append(ds, strings.Join([]string{d.Target.Name, d.Target.RequiresRecreation, d.Evaluation, d.ChangeSource, d.CausingEntity}, "/"))
		}
		got[rc.LogicalResourceId] = rc.Action + " " + rc.Replacement + " " + strings.Join(ds, ",")
	}
	want := map[string]string{
		"Orders":        "Modify False Code/Never/Static/DirectModification/",
		"OrdersVersion": "Modify True Description/Always/Static/DirectModification/",
		"Live":          "Modify False FunctionVersion/Never/Dynamic/ResourceAttribute/OrdersVersion.Version",
	}
	if cs.Status != "CREATE_COMPLETE" || cs.ExecutionStatus != "AVAILABLE" || !reflect.DeepEqual(got, want) {
		t.Fatalf("the v2 change set: %s %s\n%v\nwant %v", cs.Status, cs.ExecutionStatus, got, want)
	}
	if st := describeStackCLI(t, s, "orders"); st.StackStatus != "CREATE_COMPLETE" {
		t.Fatalf("describing the change set changed the stack: %s", st.StackStatus)
	}
	if out, errOut, code := awsCLI(t, s, true, "cloudformation", "execute-change-set", "--change-set-name", m); code != 0 {
		t.Fatalf("execute-change-set: exit %d\n%s%s", code, out, errOut)
	}
	if out, errOut, code := awsCLI(t, s, true, "cloudformation", "wait", "stack-update-complete", "--stack-name", "orders"); code != 0 {
		t.Fatalf("wait stack-update-complete: exit %d\n%s%s", code, out, errOut)
	}
	if v, w := aliasVersion(t, c, fn, "live"); v != "2" || len(w) != 0 {
		t.Fatalf("after v2 live → %s %v", v, w)
	}
	ds, err := cd.ListDeployments(t.Context(), &codedeploy.ListDeploymentsInput{})
	if err != nil || len(ds.Deployments) != 1 {
		t.Fatalf("deployments after v2: %v %v", ds, err)
	}
	d, err := cd.GetDeployment(t.Context(), &codedeploy.GetDeploymentInput{DeploymentId: aws.String(ds.Deployments[0])})
	if err != nil || d.DeploymentInfo.Status != cdtypes.DeploymentStatusSucceeded ||
		aws.ToString(d.DeploymentInfo.DeploymentConfigName) != "CodeDeployDefault.LambdaCanary10Percent5Minutes" {
		t.Fatalf("the v2 shift: %+v %v", d, err)
	}

	// v3 is defective: under load, the errors alarm fires during the canary, CodeDeploy rolls the alias back, the
	// update fails and the stack is rolled back.
	write("v3", true)
	var stop atomic.Bool
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			for !stop.Load() {
				_, _ = c.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String(fn), Qualifier: aws.String("live"), Payload: []byte(`{}`)})
			}
		})
	}
	out, code = deploy(false)
	stop.Store(true)
	wg.Wait()
	if code == 0 || !strings.Contains(out, "Failed to create/update the stack") {
		t.Fatalf("deploy of the defective v3: exit %d\n%s", code, out)
	}
	if st := describeStackCLI(t, s, "orders"); st.StackStatus != "UPDATE_ROLLBACK_COMPLETE" ||
		st.StackStatusReason != "The following resource(s) failed to update: [Live]. " {
		t.Fatalf("after v3: %+v", st)
	}
	if v, w := aliasVersion(t, c, fn, "live"); v != "2" || len(w) != 0 {
		t.Fatalf("after the rollback live → %s %v, want 2", v, w)
	}
	evOut, _, _ := awsCLI(t, s, false, "cloudformation", "describe-stack-events", "--stack-name", "orders")
	var evs struct {
		StackEvents []struct{ LogicalResourceId, ResourceStatus, ResourceStatusReason string }
	}
	if err := json.Unmarshal([]byte(evOut), &evs); err != nil {
		t.Fatal(err)
	}
	var steps []string
	for i := len(evs.StackEvents) - 1; i >= 0; i-- {
		e := evs.StackEvents[i]
		steps = append(steps, e.LogicalResourceId+" "+e.ResourceStatus)
		if e.LogicalResourceId == "Live" && e.ResourceStatus == "UPDATE_FAILED" && !strings.Contains(e.ResourceStatusReason, "ALARM_ACTIVE") {
			t.Errorf("the alias's failure does not name the alarm: %s", e.ResourceStatusReason)
		}
	}
	tail := strings.Join(steps[len(steps)-8:], ", ")
	if wantTail := "Live UPDATE_FAILED, orders UPDATE_ROLLBACK_IN_PROGRESS, Orders UPDATE_IN_PROGRESS, Orders UPDATE_COMPLETE, " +
		"orders UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS, OrdersVersion DELETE_IN_PROGRESS, OrdersVersion DELETE_COMPLETE, " +
		"orders UPDATE_ROLLBACK_COMPLETE"; tail != wantTail {
		t.Errorf("the last events: %s\nwant %s", tail, wantTail)
	}
	if vs := versions(t, c, fn); !slices.Equal(vs, []string{"$LATEST", "2"}) {
		t.Errorf("versions after the rollback %v, want the v3 version deleted and v1's cleaned up", vs)
	}
}

func versions(t *testing.T, c *lambda.Client, fn string) []string {
	t.Helper()
	out, err := c.ListVersionsByFunction(t.Context(), &lambda.ListVersionsByFunctionInput{FunctionName: aws.String(fn)})
	if err != nil {
		t.Fatal(err)
	}
	var vs []string
	for _, v := range out.Versions {
		vs = append(vs, aws.ToString(v.Version))
	}
	return vs
}
