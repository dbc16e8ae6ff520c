package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// TestCloudFormationBoto3: testdata/cloudformation.py — create-stack with boto3 and its waiter, the stack's events
// as CloudFormation reports them, a failed creation rolled back to ROLLBACK_COMPLETE with nothing left, delete-stack
// and its waiter.
//
// testdata/cloudformation_iam.py: a stack operation acts with the caller's permissions (a user who may not create
// functions cannot make one through a stack) or its RoleARN's, and the refusals of a role CloudFormation cannot
// assume and of a caller without cloudformation:CreateStack.
func TestCloudFormationBoto3(t *testing.T) {
	parallel(t)
	requireBoto3(t)
	for _, name := range []string{"cloudformation.py", "cloudformation_iam.py"} {
		t.Run(strings.TrimSuffix(name, ".py"), func(t *testing.T) {
			t.Parallel()
			srv := startServer(t)
			script, err := filepath.Abs(filepath.Join("testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			stdout, stderr, code := run(t, srv.Env(), filepath.Dir(script), "python3", script)
			if code != 0 {
				t.Fatalf("python3 %s: exit %d\nstdout:\n%s\nstderr:\n%s", name, code, stdout, stderr)
			}
			t.Log(strings.TrimSpace(stdout))
		})
	}
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
	parallelLong(t)
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
	// The same template again: the change set has nothing to do, and the CLI says so.
	if out, code := deploy(true); code != 0 || !strings.Contains(out, "No changes to deploy. Stack orders is up to date") {
		t.Fatalf("deploy of v2 again: exit %d\n%s", code, out)
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
	// `sluice stack status` lists the stack the API made, as it stands.
	if out, errOut, code := sluice(t, s.Env(), "stack", "status", "orders"); code != 0 || !strings.Contains(out, "UPDATE_ROLLBACK_COMPLETE") {
		t.Errorf("sluice stack status: exit %d\n%s%s", code, out, errOut)
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

// cfnRaw sends a CloudFormation query request signed for `cloudformation`; tamper, if set, changes the request
// after it was signed.
func cfnRaw(t *testing.T, s *server, form string, tamper func(*http.Request)) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL+"/", strings.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256([]byte(form))
	if err := v4.NewSigner().SignHTTP(t.Context(), s.creds(), req, hex.EncodeToString(sum[:]), "cloudformation", region, time.Now()); err != nil {
		t.Fatal(err)
	}
	if tamper != nil {
		tamper(req)
	}
	r := doRaw(t, req)
	return r.Status, string(r.Body)
}

// TestCloudFormationHostileInput: the CloudFormation edge answers tampered, malformed, oversized and unknown requests
// with the query protocol's errors (XML) and keeps nothing of them.
func TestCloudFormationHostileInput(t *testing.T) {
	parallel(t)
	s := startServer(t)
	create := "Action=CreateStack&Version=2010-05-15&StackName=x&TemplateBody=" + url.QueryEscape("Resources: {}")
	big := "Action=ValidateTemplate&Version=2010-05-15&TemplateBody=" + strings.Repeat("a", 51201)
	for _, tc := range []struct {
		name, form string
		tamper     func(*http.Request)
		status     int
		contains   []string
	}{
		{"a body changed after signing", create, func(r *http.Request) {
			b := []byte(strings.Replace(create, "StackName=x", "StackName=y", 1))
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
		}, 403, []string{"<Code>SignatureDoesNotMatch</Code>"}},
		{"an unknown operation", "Action=DescribeEverything&Version=2010-05-15", nil, 400,
			[]string{"<Code>InvalidAction</Code>", "Could not find operation DescribeEverything for version 2010-05-15"}},
		{"no operation", "Version=2010-05-15", nil, 400, []string{"<Code>MissingAction</Code>"}},
		{"a malformed form", "Action=DescribeStacks&StackName=%zz", nil, 404, []string{"<Code>MalformedQueryString</Code>"}},
		{"a template over 51,200 bytes", big, nil, 400,
			[]string{"<Code>ValidationError</Code>", "templateBody&#39; failed to satisfy constraint: Member must have length less than or equal to 51200"}},
		{"a body over 1 MiB", "Action=ValidateTemplate&Version=2010-05-15&TemplateBody=" + strings.Repeat("a", 1<<20), nil, 413,
			[]string{"<Code>RequestEntityTooLarge</Code>"}},
		{"a wrong type", "Action=CreateStack&Version=2010-05-15&StackName=x&TemplateBody=a&TimeoutInMinutes=soon", nil, 400,
			[]string{"<Code>InvalidParameterValue</Code>"}},
		{"a YAML bomb", "Action=ValidateTemplate&Version=2010-05-15&TemplateBody=" + url.QueryEscape("a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\nResources: {}"),
			nil, 400, []string{"<Code>ValidationError</Code>", "Template format error"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := cfnRaw(t, s, tc.form, tc.tamper)
			shown := body
			if len(shown) > 400 {
				shown = shown[:200] + " … " + shown[len(shown)-200:]
			}
			if status != tc.status {
				t.Fatalf("HTTP %d, want %d: %s", status, tc.status, shown)
			}
			for _, c := range tc.contains {
				if !strings.Contains(body, c) {
					t.Errorf("the answer lacks %q: %s", c, shown)
				}
			}
		})
	}
	if status, body := cfnRaw(t, s, "Action=ListStacks&Version=2010-05-15", nil); status != 200 || strings.Contains(body, "<member>") {
		t.Fatalf("stacks after the refusals: HTTP %d %s", status, body)
	}
}

// TestCloudFormationResumesAfterKill: a server killed (kill -9) while a stack update's canary is shifting traffic
// resumes the operation when it starts again: the shift it started is watched to its end, not started again, and
// the stack ends UPDATE_COMPLETE with the alias on the new version and the old version cleaned up.
func TestCloudFormationResumesAfterKill(t *testing.T) {
	parallel(t)
	cliV1(t)
	s := startServer(t, "--deploy-time-scale", "20") // the five-minute canary lasts fifteen seconds
	dir := t.TempDir()
	path := filepath.Join(dir, "t.yaml")
	cli := func(args ...string) string {
		t.Helper()
		out, errOut, code := awsCLI(t, s, false, append([]string{"cloudformation"}, args...)...)
		if code != 0 {
			t.Fatalf("aws cloudformation %s: exit %d\n%s%s", args[0], code, out, errOut)
		}
		return out
	}
	waitStatus := func(want string) cfnStack {
		t.Helper()
		deadline := time.Now().Add(2 * time.Minute)
		for {
			st := describeStackCLI(t, s, "orders")
			if st.StackStatus == want {
				return st
			}
			if !strings.HasSuffix(st.StackStatus, "_IN_PROGRESS") || time.Now().After(deadline) {
				t.Fatalf("stack %s (%s), want %s", st.StackStatus, st.StackStatusReason, want)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	if err := os.WriteFile(path, []byte(canaryTemplate("v1", false)), 0o644); err != nil {
		t.Fatal(err)
	}
	cli("create-stack", "--stack-name", "orders", "--template-body", "file://"+path, "--capabilities", "CAPABILITY_IAM")
	fn := waitStatus("CREATE_COMPLETE").Outputs[0].OutputValue
	if err := os.WriteFile(path, []byte(canaryTemplate("v2", false)), 0o644); err != nil {
		t.Fatal(err)
	}
	cli("update-stack", "--stack-name", "orders", "--template-body", "file://"+path, "--capabilities", "CAPABILITY_IAM")
	c := s.Lambda()
	deadline := time.Now().Add(time.Minute)
	for {
		if _, w := aliasVersion(t, c, fn, "live"); w["2"] > 0 {
			break // mid-canary
		}
		if time.Now().After(deadline) {
			t.Fatal("the canary never started")
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.Kill(t)
	s.Restart(t)
	c = s.Lambda()
	waitStatus("UPDATE_COMPLETE")
	if v, w := aliasVersion(t, c, fn, "live"); v != "2" || len(w) != 0 {
		t.Fatalf("after the resumed update live → %s %v", v, w)
	}
	ds, err := s.CodeDeploy().ListDeployments(t.Context(), &codedeploy.ListDeploymentsInput{})
	if err != nil || len(ds.Deployments) != 1 {
		t.Fatalf("deployments %v %v: the resumed update must watch the shift it started, not start another", ds, err)
	}
	if vs := versions(t, c, fn); !slices.Equal(vs, []string{"$LATEST", "2"}) {
		t.Errorf("versions %v: the cleanup did not delete version 1", vs)
	}
}

// samTemplate is a SAM template with inline code: AutoPublishAlias live, a canary DeploymentPreference.
func samTemplate(release string) string {
	return `AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  Greeter:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: nodejs20.x
      Handler: index.handler
      InlineCode: |
        exports.handler = async () => ({ release: '` + release + `' });
      AutoPublishAlias: live
      DeploymentPreference:
        Type: Canary10Percent5Minutes
Outputs:
  Name:
    Value: !Ref Greeter
`
}

// TestCloudFormationDeploySAM: `aws cloudformation deploy` (AWS CLI v2) of a SAM template: the transform expanded by
// the change set (roles, version, alias, CodeDeploy application and group), the first release in one step, the
// second through the canary SAM's DeploymentPreference asks for; GetTemplate gives the template as given and as
// processed.
func TestCloudFormationDeploySAM(t *testing.T) {
	parallel(t)
	requireCLIv2(t)
	s := startServer(t, "--deploy-time-scale", "60")
	path := filepath.Join(t.TempDir(), "template.yaml")
	deploy := func(release string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(samTemplate(release)), 0o644); err != nil {
			t.Fatal(err)
		}
		out, errOut, code := awsCLI(t, s, true, "cloudformation", "deploy", "--template-file", path, "--stack-name", "greeter", "--capabilities", "CAPABILITY_IAM")
		if code != 0 {
			t.Fatalf("deploy %s: exit %d\n%s%s", release, code, out, errOut)
		}
	}
	deploy("one")
	c := s.Lambda()
	st := describeStackCLI(t, s, "greeter")
	fn := st.Outputs[0].OutputValue
	if v, _ := aliasVersion(t, c, fn, "live"); st.StackStatus != "CREATE_COMPLETE" || v != "1" {
		t.Fatalf("after one: %+v, live → %s", st, v)
	}
	res, _, _ := awsCLI(t, s, true, "cloudformation", "list-stack-resources", "--stack-name", "greeter", "--query", "StackResourceSummaries[].ResourceType", "--output", "text")
	for _, typ := range []string{"AWS::Lambda::Function", "AWS::Lambda::Version", "AWS::Lambda::Alias", "AWS::IAM::Role", "AWS::CodeDeploy::Application", "AWS::CodeDeploy::DeploymentGroup"} {
		if !strings.Contains(res, typ) {
			t.Errorf("the expanded stack has no %s: %s", typ, res)
		}
	}
	deploy("two")
	if v, w := aliasVersion(t, c, fn, "live"); v != "2" || len(w) != 0 {
		t.Fatalf("after two live → %s %v", v, w)
	}
	ds, err := s.CodeDeploy().ListDeployments(t.Context(), &codedeploy.ListDeploymentsInput{})
	if err != nil || len(ds.Deployments) != 1 {
		t.Fatalf("deployments %v %v", ds, err)
	}
	if d, err := s.CodeDeploy().GetDeployment(t.Context(), &codedeploy.GetDeploymentInput{DeploymentId: aws.String(ds.Deployments[0])}); err != nil ||
		aws.ToString(d.DeploymentInfo.DeploymentConfigName) != "CodeDeployDefault.LambdaCanary10Percent5Minutes" || d.DeploymentInfo.Status != cdtypes.DeploymentStatusSucceeded {
		t.Fatalf("the shift %+v %v", d, err)
	}
	orig, _, _ := awsCLI(t, s, true, "cloudformation", "get-template", "--stack-name", "greeter", "--query", "TemplateBody", "--output", "text")
	proc, _, _ := awsCLI(t, s, true, "cloudformation", "get-template", "--stack-name", "greeter", "--template-stage", "Processed", "--query", "TemplateBody")
	if !strings.Contains(orig, "AWS::Serverless::Function") || !strings.Contains(proc, "AWS::CodeDeploy::DeploymentGroup") || strings.Contains(proc, "AWS::Serverless::Function") {
		t.Fatalf("GetTemplate: original\n%s\nprocessed\n%s", orig, proc)
	}
}

// TestClusterCloudFormation: in a cluster, a stack asked of one node is carried out by whichever node leads the
// stacks job — with the session the first node minted — and every node describes it; a deletion asked of another
// node deletes it.
func TestClusterCloudFormation(t *testing.T) {
	parallel(t)
	cliV1(t)
	nodes := startCluster(t, 2)
	path := filepath.Join(t.TempDir(), "t.yaml")
	if err := os.WriteFile(path, []byte(canaryTemplate("v1", false)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, errOut, code := awsCLI(t, nodes[0], false, "cloudformation", "create-stack", "--stack-name", "orders", "--template-body", "file://"+path,
		"--capabilities", "CAPABILITY_IAM"); code != 0 {
		t.Fatalf("create-stack: exit %d\n%s%s", code, out, errOut)
	}
	for i := range nodes {
		eventually(t, time.Minute, fmt.Sprintf("node %d describes the stack CREATE_COMPLETE", i), func() (bool, string) {
			out, errOut, _ := awsCLI(t, nodes[i], false, "cloudformation", "describe-stacks", "--stack-name", "orders", "--query", "Stacks[0].StackStatus", "--output", "text")
			return strings.TrimSpace(out) == "CREATE_COMPLETE", out + errOut
		})
	}
	if out, errOut, code := awsCLI(t, nodes[1], false, "cloudformation", "delete-stack", "--stack-name", "orders"); code != 0 {
		t.Fatalf("delete-stack: exit %d\n%s%s", code, out, errOut)
	}
	eventually(t, time.Minute, "node 0 says the stack is gone", func() (bool, string) {
		out, errOut, _ := awsCLI(t, nodes[0], false, "cloudformation", "describe-stacks", "--stack-name", "orders")
		return strings.Contains(errOut, "Stack with id orders does not exist"), out + errOut
	})
}
