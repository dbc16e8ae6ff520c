package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// deployResult is `sluice deploy --output json`.
type deployResult struct {
	Stack   string `json:"stack"`
	Status  string `json:"status"`
	Reason  string `json:"reason"`
	Changes []struct {
		LogicalID string `json:"logicalId"`
		Type      string `json:"type"`
		Action    string `json:"action"`
	} `json:"changes"`
	Shifts []struct {
		Alias, Function, FromVersion, ToVersion, DeploymentID, Status, Message string
		Config                                                                 string `json:"deploymentConfig"`
	} `json:"shifts"`
	Outputs  map[string]string `json:"outputs"`
	Resolved map[string]string `json:"resolvedParameters"`
	Notes    []string          `json:"notes"`
	Cleanup  []struct {
		LogicalID                              string `json:"logicalId"`
		Type, PhysicalID, Why, Outcome, Reason string
	} `json:"cleanup"`
}

func (r deployResult) actions() map[string]int {
	out := map[string]int{}
	for _, c := range r.Changes {
		out[c.Action]++
	}
	return out
}

// copyTree copies an example directory so that a test can edit it.
func copyTree(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.Walk(src, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if info.IsDir() {
			if info.Name() == "node_modules" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, info.Mode())
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// deployStack runs `sluice deploy --output json` and decodes its summary.
func deployStack(t *testing.T, env []string, dir string, args ...string) (deployResult, string, int) {
	t.Helper()
	stdout, stderr, code := run(t, env, dir, sluiceBin, append([]string{"deploy", "--output", "json"}, args...)...)
	var r deployResult
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("sluice deploy printed no JSON summary (exit %d): %v\nstdout:\n%s\nstderr:\n%s", code, err, stdout, stderr)
	}
	return r, stderr, code
}

func setRelease(t *testing.T, dir, release string) {
	t.Helper()
	path := filepath.Join(dir, "src", "index.js")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	src := string(b)
	i := strings.Index(src, `const RELEASE = "`)
	if i < 0 {
		t.Fatal("index.js has no RELEASE line")
	}
	j := strings.Index(src[i:], "\n")
	src = src[:i] + `const RELEASE = "` + release + `";` + src[i+j:]
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
}

func aliasVersion(t *testing.T, c *lambda.Client, fn, alias string) (string, map[string]float64) {
	t.Helper()
	a, err := c.GetAlias(context.Background(), &lambda.GetAliasInput{FunctionName: aws.String(fn), Name: aws.String(alias)})
	if err != nil {
		t.Fatalf("GetAlias %s:%s: %v", fn, alias, err)
	}
	var w map[string]float64
	if a.RoutingConfig != nil {
		w = a.RoutingConfig.AdditionalVersionWeights
	}
	return aws.ToString(a.FunctionVersion), w
}

// TestDeploySeedTemplate is the seed's §3 story with its own template (examples/orders, the seed's template
// completed): v1 in one step, a no-op deploy, v2 through Canary10Percent5Minutes (time-scaled) with both hooks and
// both alarms, a defective v3 rolled back by the errors alarm with a non-zero exit, then `sluice rollback`.
func TestDeploySeedTemplate(t *testing.T) {
	parallel(t)
	s := startServer(t, "--deploy-time-scale", "60", "--alarm-time-scale", "60") // five minutes last five seconds, a 60 s alarm period one
	dir := copyTree(t, filepath.Join(moduleRoot, "examples", "orders"))
	env := s.Env()
	c := s.Lambda()
	cd := s.CodeDeploy()
	ctx := context.Background()

	// v1: everything is created and the alias points at version 1, with no deployment.
	r, stderr, code := deployStack(t, env, dir, "--stack-name", "orders")
	if code != 0 || r.Status != "CREATE_COMPLETE" {
		t.Fatalf("first deploy: exit %d, %s %s\n%s", code, r.Status, r.Reason, stderr)
	}
	if v, w := aliasVersion(t, c, "orders", "live"); v != "1" || len(w) != 0 {
		t.Fatalf("after the first deploy live → %s %v, want 1", v, w)
	}
	if ds, _ := cd.ListDeployments(ctx, &codedeploy.ListDeploymentsInput{}); len(ds.Deployments) != 0 {
		t.Fatalf("the first deploy ran deployments: %v", ds.Deployments)
	}
	if !strings.HasSuffix(r.Outputs["OrdersLiveAliasArn"], ":function:orders:live") {
		t.Fatalf("outputs %v", r.Outputs)
	}
	for _, want := range []string{"OrdersFunctionAliaslive", "ServerlessDeploymentApplication", "OrdersFunctionDeploymentGroup", "CodeDeployServiceRole"} {
		found := false
		for _, ch := range r.Changes {
			found = found || ch.LogicalID == want && ch.Action == "create"
		}
		if !found {
			t.Errorf("first deploy did not create %s: %+v", want, r.Changes)
		}
	}
	out := invokeJSON(t, c, "orders", "live", `{"orderId":"o-1","items":[{"sku":"a","quantity":2,"unitPrice":3.5}]}`)
	if out.FunctionError != nil || !strings.Contains(string(out.Payload), `"orderId":"o-1"`) {
		t.Fatalf("invoke v1: %s", out.Payload)
	}
	// The same order over HTTP, unsigned, through the public URL the stack prints.
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.Outputs["OrdersUrl"], strings.NewReader(`{"orderId":"o-2","items":[{"sku":"a","quantity":2,"unitPrice":3.5}]}`))
	if err != nil {
		t.Fatalf("outputs %v: %v", r.Outputs, err)
	}
	if a := urlDo(t, urlClient(s), req); a.status != http.StatusOK || string(a.body) != `{"orderId":"o-2","status":"ACCEPTED","total":7}` ||
		a.header.Get("X-Sluice-Executed-Version") != "1" {
		t.Fatalf("POST %s: %d %s %v", r.Outputs["OrdersUrl"], a.status, a.body, a.header)
	}

	// A deploy with nothing changed changes nothing: no version, no deployment.
	r, _, code = deployStack(t, env, dir, "--stack-name", "orders")
	if code != 0 || len(r.Changes) == 0 || r.actions()["none"] != len(r.Changes) {
		t.Fatalf("no-op deploy: exit %d %+v", code, r.Changes)
	}
	if stdout, _, _ := sluice(t, env, "deploy", "-t", filepath.Join(dir, "template.yaml"), "--stack-name", "orders"); !strings.Contains(stdout, "No changes") {
		t.Fatalf("no-op deploy printed:\n%s", stdout)
	}

	// v2: a new version, shifted by CodeDeploy with both hooks; the dry run says so first.
	setRelease(t, dir, "v2")
	stdout, _, code := sluice(t, env, "diff", "-t", filepath.Join(dir, "template.yaml"), "--stack-name", "orders")
	if code != 0 || !strings.Contains(stdout, "would shift") || !strings.Contains(stdout, "OrdersFunctionAliaslive") {
		t.Fatalf("diff before v2 (exit %d):\n%s", code, stdout)
	}
	r, stderr, code = deployStack(t, env, dir, "--stack-name", "orders")
	if code != 0 || r.Status != "UPDATE_COMPLETE" || len(r.Shifts) != 1 || r.Shifts[0].Status != "Succeeded" {
		t.Fatalf("v2 deploy: exit %d %s %s %+v\n%s", code, r.Status, r.Reason, r.Shifts, stderr)
	}
	shift := r.Shifts[0]
	if shift.FromVersion != "1" || shift.ToVersion != "2" || shift.Config != "CodeDeployDefault.LambdaCanary10Percent5Minutes" {
		t.Fatalf("v2 shift %+v", shift)
	}
	if v, w := aliasVersion(t, c, "orders", "live"); v != "2" || len(w) != 0 {
		t.Fatalf("after v2 live → %s %v", v, w)
	}
	target, err := cd.GetDeploymentTarget(ctx, &codedeploy.GetDeploymentTargetInput{DeploymentId: aws.String(shift.DeploymentID), TargetId: aws.String("orders:live")})
	if err != nil {
		t.Fatal(err)
	}
	hooks := map[string]cdtypes.LifecycleEventStatus{}
	for _, e := range target.DeploymentTarget.LambdaTarget.LifecycleEvents {
		hooks[aws.ToString(e.LifecycleEventName)] = e.Status
	}
	if hooks["BeforeAllowTraffic"] != cdtypes.LifecycleEventStatusSucceeded || hooks["AfterAllowTraffic"] != cdtypes.LifecycleEventStatusSucceeded {
		t.Fatalf("hooks of the v2 deployment: %v", hooks)
	}
	if !strings.Contains(stderr, "10% on the new version") && !strings.Contains(stderr, " 10% ") {
		t.Errorf("the progress never showed the canary step:\n%s", stderr)
	}

	// v3 is defective for multi-line orders. Under load, the errors alarm fires during the canary, CodeDeploy
	// rolls back, and sluice deploy exits 2 once live is back on version 2.
	setRelease(t, dir, "v3")
	var stop atomic.Bool
	var wg sync.WaitGroup
	var v3Errors atomic.Int64
	for range 4 {
		wg.Go(func() {
			for !stop.Load() {
				out, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("orders"), Qualifier: aws.String("live"),
					Payload: []byte(`{"items":[{"sku":"a","quantity":1,"unitPrice":2},{"sku":"b","quantity":1,"unitPrice":3}]}`)})
				if err == nil && out.FunctionError != nil {
					v3Errors.Add(1)
				}
			}
		})
	}
	r, stderr, code = deployStack(t, env, dir, "--stack-name", "orders")
	stop.Store(true)
	wg.Wait()
	if code != 2 || r.Status != "UPDATE_ROLLBACK_COMPLETE" || len(r.Shifts) != 1 || r.Shifts[0].Status == "Succeeded" {
		t.Fatalf("defective deploy: exit %d %s %+v (errors seen by clients: %d)\n%s", code, r.Status, r.Shifts, v3Errors.Load(), stderr)
	}
	if !strings.Contains(r.Reason, "OrdersErrorsAlarm") && !strings.Contains(r.Shifts[0].Message, "alarm") {
		t.Errorf("the rollback reason does not name the alarm: %s / %s", r.Reason, r.Shifts[0].Message)
	}
	if v, w := aliasVersion(t, c, "orders", "live"); v != "2" || len(w) != 0 {
		t.Fatalf("after the rollback live → %s %v, want 2", v, w)
	}
	stdout, _, _ = sluice(t, env, "stack", "status", "orders")
	if !strings.Contains(stdout, "UPDATE_ROLLBACK_COMPLETE") || !strings.Contains(stdout, "OrdersFunctionAliaslive") {
		t.Fatalf("stack status:\n%s", stdout)
	}

	// sluice rollback flips the alias back one more version at once.
	if stdout, stderr, code := sluice(t, env, "rollback", "orders", "--alias", "live"); code != 0 || !strings.Contains(stdout, "2 → 1") {
		t.Fatalf("sluice rollback: exit %d\n%s%s", code, stdout, stderr)
	}
	if v, _ := aliasVersion(t, c, "orders", "live"); v != "1" {
		t.Fatalf("after sluice rollback live → %s", v)
	}
	stdout, _, _ = sluice(t, env, "stack", "status", "orders")
	if !strings.Contains(stdout, "Aliases now:") || !strings.Contains(stdout, "orders:live → version 1") {
		t.Fatalf("stack status after sluice rollback does not show where live is:\n%s", stdout)
	}
	// The stack record still names version 2; diff starts from where traffic really goes.
	stdout, stderr, code = sluice(t, env, "diff", "-t", filepath.Join(dir, "template.yaml"), "--stack-name", "orders")
	if code != 0 || !strings.Contains(stdout+stderr, "is on version 1 (the stack recorded 2)") || !strings.Contains(stdout, "from version 1 to") {
		t.Fatalf("sluice diff after sluice rollback: exit %d\n%s%s", code, stdout, stderr)
	}
}

// TestDeployRefusesWhatItCannotDo: an unsupported resource or property is named, and nothing is created.
func TestDeployRefusesWhatItCannotDo(t *testing.T) {
	parallel(t)
	s := startServer(t)
	dir := t.TempDir()
	tpl := `Resources:
  Queue:
    Type: AWS::SQS::Queue
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Role: arn:aws:iam::000000000000:role/orders
      Runtime: nodejs22.x
      Handler: index.handler
      Code: {ZipFile: "exports.handler = async () => 1"}
      Colour: blue
`
	if err := os.WriteFile(filepath.Join(dir, "template.yaml"), []byte(tpl), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := sluice(t, s.Env(), "deploy", "-t", filepath.Join(dir, "template.yaml"), "--stack-name", "bad")
	if code != 1 || !strings.Contains(stderr, "Queue: resource type AWS::SQS::Queue is not supported") || !strings.Contains(stderr, "Colour") {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	fns, err := s.Lambda().ListFunctions(context.Background(), &lambda.ListFunctionsInput{})
	if err != nil || len(fns.Functions) != 0 {
		t.Fatalf("functions after a refused deploy: %v %v", fns, err)
	}
}

// TestDeployCDKTemplate: a template in the shape `cdk synth` writes (asset directories, LambdaDeploymentGroup)
// deploys.
func TestDeployCDKTemplate(t *testing.T) {
	parallel(t)
	matches, _ := filepath.Glob(filepath.Join(moduleRoot, "examples", "cdk", "cdk.out", "*.template.json"))
	if len(matches) != 1 {
		t.Fatalf("examples/cdk/cdk.out has %d templates", len(matches))
	}
	s := startServer(t)
	r, stderr, code := deployStack(t, s.Env(), "", "-t", matches[0], "--stack-name", "cdk-orders")
	if code != 0 || r.Status != "CREATE_COMPLETE" {
		t.Fatalf("cdk deploy: exit %d %s %s\n%s", code, r.Status, r.Reason, stderr)
	}
	types := map[string]bool{}
	for _, ch := range r.Changes {
		types[ch.Type] = true
	}
	for _, want := range []string{"AWS::Lambda::Function", "AWS::Lambda::Version", "AWS::Lambda::Alias", "AWS::CodeDeploy::DeploymentGroup"} {
		if !types[want] {
			t.Errorf("the CDK deploy created no %s: %+v", want, r.Changes)
		}
	}
	r, _, code = deployStack(t, s.Env(), "", "-t", matches[0], "--stack-name", "cdk-orders")
	if code != 0 || r.actions()["none"] != len(r.Changes) {
		t.Fatalf("second CDK deploy changed things: %+v", r.Changes)
	}
}

// TestDeployCDKNewVersions: CloudFormation's update order with CDK's fn.currentVersion, whose logical id changes
// with the code (testdata/cdkversions, synthesized by `cdk synth` for three releases of the function). The second
// deploy shifts live to version 2 through the canary and deletes version 1 — a resource that left the template —
// only in the cleanup phase, once the shift has succeeded: no version an alias routes to is ever deleted. The third
// deploy is a defective release: the errors alarm rolls its shift back, and so the stack: live stays on version 2,
// the function gets version 2's code back, the new version 3 is deleted and version 2 kept, the stack is
// UPDATE_ROLLBACK_COMPLETE and sluice deploy exits 2.
func TestDeployCDKNewVersions(t *testing.T) {
	parallel(t)
	s := startServer(t, "--deploy-time-scale", "60", "--alarm-time-scale", "60") // the canary's five minutes last five seconds
	env, c, ctx := s.Env(), s.Lambda(), t.Context()
	template := func(release string) string {
		return filepath.Join(moduleRoot, "test", "e2e", "testdata", "cdkversions", "cdk.out."+release, "CdkVersions.template.json")
	}
	versionID := func(release string) string { // the logical id cdk synth gave the release's fn.currentVersion
		b, err := os.ReadFile(template(release))
		if err != nil {
			t.Fatal(err)
		}
		var tpl struct {
			Resources map[string]struct{ Type string }
		}
		if err := json.Unmarshal(b, &tpl); err != nil {
			t.Fatal(err)
		}
		for id, r := range tpl.Resources {
			if r.Type == "AWS::Lambda::Version" {
				return id
			}
		}
		t.Fatalf("%s has no version", template(release))
		return ""
	}
	v1, v2, v3 := versionID("v1"), versionID("v2"), versionID("v3")
	if v1 == v2 || v2 == v3 {
		t.Fatalf("the releases' versions have the same logical ids: %s %s %s", v1, v2, v3)
	}
	versions := func(fn string) []string {
		out, err := c.ListVersionsByFunction(ctx, &lambda.ListVersionsByFunctionInput{FunctionName: aws.String(fn)})
		if err != nil {
			t.Fatal(err)
		}
		var vs []string
		for _, v := range out.Versions {
			if aws.ToString(v.Version) != "$LATEST" {
				vs = append(vs, aws.ToString(v.Version))
			}
		}
		return vs
	}
	at := func(lines, prefix string) int { // where a line of the deploy's events starts with prefix (-1: none)
		for i, line := range strings.Split(lines, "\n") {
			if _, event, ok := strings.Cut(line, " "); ok && strings.HasPrefix(event, prefix) {
				return i
			}
		}
		return -1
	}

	r, stderr, code := deployStack(t, env, "", "-t", template("v1"), "--stack-name", "cdk-versions")
	if code != 0 || r.Status != "CREATE_COMPLETE" {
		t.Fatalf("first deploy: exit %d %s %s\n%s", code, r.Status, r.Reason, stderr)
	}
	fn := r.Outputs["FunctionName"]
	if v, _ := aliasVersion(t, c, fn, "live"); v != "1" {
		t.Fatalf("live → %s after the first deploy", v)
	}

	// v2: while the deploy runs, every version live routes to exists (Lambda refuses to delete one, and the deploy
	// would fail on it); version 1 goes once the shift has succeeded.
	var watching atomic.Bool
	watching.Store(true)
	var routedToMissing []string
	var wg sync.WaitGroup
	wg.Go(func() {
		for watching.Load() {
			a, err := c.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String(fn), Name: aws.String("live")})
			if err != nil {
				continue
			}
			routed := []string{aws.ToString(a.FunctionVersion)}
			if a.RoutingConfig != nil {
				for v := range a.RoutingConfig.AdditionalVersionWeights {
					routed = append(routed, v)
				}
			}
			for _, v := range routed {
				if _, err := c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(fn), Qualifier: aws.String(v)}); err != nil {
					routedToMissing = append(routedToMissing, v+": "+err.Error())
				}
			}
		}
	})
	r, stderr, code = deployStack(t, env, "", "-t", template("v2"), "--stack-name", "cdk-versions")
	watching.Store(false)
	wg.Wait()
	if code != 0 || r.Status != "UPDATE_COMPLETE" || len(r.Shifts) != 1 || r.Shifts[0].Status != "Succeeded" || r.Shifts[0].ToVersion != "2" {
		t.Fatalf("v2 deploy: exit %d %s %s %+v\n%s", code, r.Status, r.Reason, r.Shifts, stderr)
	}
	if len(routedToMissing) > 0 {
		t.Errorf("live routed to versions that did not exist: %v", routedToMissing)
	}
	if v, w := aliasVersion(t, c, fn, "live"); v != "2" || len(w) != 0 {
		t.Fatalf("after v2 live → %s %v", v, w)
	}
	if got := versions(fn); !slices.Equal(got, []string{"2"}) {
		t.Errorf("versions after v2: %v, want [2]", got)
	}
	if len(r.Cleanup) != 1 || r.Cleanup[0].LogicalID != v1 || r.Cleanup[0].Why != "removed" || r.Cleanup[0].Outcome != "deleted" ||
		!strings.HasSuffix(r.Cleanup[0].PhysicalID, ":"+fn+":1") {
		t.Errorf("the v2 deploy's cleanup: %+v", r.Cleanup)
	}
	shifted, cleanup, deleted := at(stderr, "shifting "+fn+":live version 1 → 2"), at(stderr, "stack cdk-versions: UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"), at(stderr, "deleting "+v1)
	if onV2 := at(stderr, fn+":live is on version 2"); shifted < 0 || onV2 < shifted || cleanup < onV2 || deleted < cleanup {
		t.Errorf("version 1 was not deleted after the shift (shift at line %d, done %d, cleanup %d, deletion %d):\n%s", shifted, onV2, cleanup, deleted, stderr)
	}
	stdout, _, _ := sluice(t, env, "stack", "status", "cdk-versions")
	if !strings.Contains(stdout, "UPDATE_COMPLETE") || !strings.Contains(stdout, "Last cleanup:") || !strings.Contains(stdout, "left the template: deleted") {
		t.Errorf("stack status after v2:\n%s", stdout)
	}

	// v3 fails every invocation. Under load the errors alarm goes off during the canary, CodeDeploy rolls the shift
	// back, and the deploy rolls the stack back: version 3 is deleted once live is back on version 2.
	var stop atomic.Bool
	var load sync.WaitGroup
	for range 4 {
		load.Go(func() {
			for !stop.Load() {
				_, _ = c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(fn), Qualifier: aws.String("live"), Payload: []byte(`{}`)})
			}
		})
	}
	r, stderr, code = deployStack(t, env, "", "-t", template("v3"), "--stack-name", "cdk-versions")
	stop.Store(true)
	load.Wait()
	if code != 2 || r.Status != "UPDATE_ROLLBACK_COMPLETE" || len(r.Shifts) != 1 || r.Shifts[0].Status == "Succeeded" {
		t.Fatalf("defective deploy: exit %d %s %s %+v\n%s", code, r.Status, r.Reason, r.Shifts, stderr)
	}
	if v, w := aliasVersion(t, c, fn, "live"); v != "2" || len(w) != 0 {
		t.Fatalf("after the rollback live → %s %v, want 2", v, w)
	}
	if got := versions(fn); !slices.Equal(got, []string{"2"}) {
		t.Errorf("versions after the rollback: %v, want [2] (3 deleted, 2 kept)", got)
	}
	if len(r.Cleanup) != 1 || r.Cleanup[0].LogicalID != v3 || r.Cleanup[0].Why != "rolled-back" || r.Cleanup[0].Outcome != "deleted" {
		t.Errorf("the rollback's cleanup: %+v", r.Cleanup)
	}
	if back, deleted := at(stderr, "rolling back"), at(stderr, "deleting "+v3); back < 0 || deleted < back {
		t.Errorf("version 3 was not deleted after the rollback began (%d, %d):\n%s", back, deleted, stderr)
	}
	latest, err := c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(fn)})
	if err != nil {
		t.Fatal(err)
	}
	two, err := c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(fn), Qualifier: aws.String("2")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(latest.CodeSha256) != aws.ToString(two.CodeSha256) {
		t.Errorf("$LATEST has code %s after the rollback, version 2 %s", aws.ToString(latest.CodeSha256), aws.ToString(two.CodeSha256))
	}
	stdout, _, _ = sluice(t, env, "stack", "status", "cdk-versions")
	resources, _, _ := strings.Cut(stdout, "Aliases now:")
	if !strings.Contains(stdout, "UPDATE_ROLLBACK_COMPLETE") || !strings.Contains(resources, v2) || strings.Contains(resources, v3) ||
		!strings.Contains(stdout, "created by the update rolled back: deleted") {
		t.Errorf("stack status after the rollback:\n%s", stdout)
	}
}

// TestDeployKeyless: `sluice deploy` with only a role and a web identity token file (the GitHub Actions set-up of
// examples/github-actions) deploys the orders stack under a least-privilege role, and the same role cannot deploy a
// stack its policy does not cover.
func TestDeployKeyless(t *testing.T) {
	parallel(t)
	s := startServer(t)
	issuer := keyless(t, s)
	ctx := context.Background()
	policy, err := os.ReadFile(filepath.Join(moduleRoot, "examples", "github-actions", "deploy-policy.json"))
	if err != nil {
		t.Fatal(err)
	}
	// The example's policy replaces the suite's.
	if _, err := s.IAM().PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("gha-deploy"), PolicyName: aws.String("deploy"),
		PolicyDocument: aws.String(string(policy))}); err != nil {
		t.Fatal(err)
	}
	dir := copyTree(t, filepath.Join(moduleRoot, "examples", "orders"))
	env := webIdentityEnv(s, tokenFile(t, issuer.Sign(issuer.GitHubClaims(repo, "refs/heads/main"))))
	r, stderr, code := deployStack(t, env, dir, "--stack-name", "orders")
	if code != 0 || r.Status != "CREATE_COMPLETE" {
		t.Fatalf("keyless deploy: exit %d %s %s\n%s", code, r.Status, r.Reason, stderr)
	}
	if v, _ := aliasVersion(t, s.Lambda(), "orders", "live"); v != "1" {
		t.Fatalf("live → %s", v)
	}
	_, stderr, code = deployStack(t, env, dir, "--stack-name", "payments")
	if code == 0 || !strings.Contains(stderr, "AccessDenied") {
		t.Fatalf("deploying another stack with the orders role: exit %d\n%s", code, stderr)
	}

	// A token the trust policy refuses is an error — never a fall back to the root credentials of a local data dir.
	bad := webIdentityEnv(s, tokenFile(t, issuer.Sign(issuer.GitHubClaims(repo, "refs/heads/feature"))))
	bad = append(bad, "SLUICE_DATA_DIR="+s.DataDir)
	_, stderr, code = run(t, bad, dir, sluiceBin, "deploy", "--stack-name", "orders")
	if code == 0 || !strings.Contains(stderr, "AccessDenied") || !strings.Contains(stderr, "AssumeRoleWithWebIdentity") {
		t.Fatalf("deploy with a feature-branch token: exit %d\n%s", code, stderr)
	}
}

// TestDeployGoFunctionWithParameters: a Go main package as CodeUri is built into a bootstrap, parameters come
// from --parameter-overrides (and are checked against AllowedValues), conditions and outputs follow them, and a
// function without a DeploymentPreference has its alias moved at once on the next code change.
func TestDeployGoFunctionWithParameters(t *testing.T) {
	parallel(t)
	s := startServer(t)
	dir := t.TempDir()
	tpl := `AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage:
    Type: String
    AllowedValues: [dev, prod]
    Default: dev
  Greeting:
    Type: String
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
Globals:
  Function:
    Timeout: 5
    MemorySize: 256
Resources:
  Echo:
    Type: AWS::Serverless::Function
    Metadata:
      BuildMethod: go1.x
    Properties:
      FunctionName: !Sub "echo-${Stage}"
      CodeUri: ` + filepath.Join(moduleRoot, "test", "functions", "echo") + `
      Handler: bootstrap
      Runtime: provided.al2023
      Architectures: [x86_64]
      AutoPublishAlias: live
      Environment:
        Variables:
          GREETING: !Ref Greeting
          TIER: !If [IsProd, gold, bronze]
      EventInvokeConfig:
        MaximumRetryAttempts: 0
Outputs:
  Alias:
    Value: !Ref Echo.Alias
  Tier:
    Value: !If [IsProd, gold, bronze]
`
	path := filepath.Join(dir, "template.yaml")
	if err := os.WriteFile(path, []byte(tpl), 0o644); err != nil {
		t.Fatal(err)
	}
	env := s.Env()
	_, stderr, code := run(t, env, dir, sluiceBin, "deploy", "--stack-name", "echo", "--parameter-overrides", "Stage=qa Greeting=hi")
	if code != 1 || !strings.Contains(stderr, "Stage") {
		t.Fatalf("a value outside AllowedValues: exit %d\n%s", code, stderr)
	}
	r, stderr, code := deployStack(t, env, dir, "--stack-name", "echo", "--parameter-overrides", "Stage=prod", "--parameter-overrides", "Greeting=hi")
	if code != 0 || r.Outputs["Tier"] != "gold" || !strings.HasSuffix(r.Outputs["Alias"], ":function:echo-prod:live") {
		t.Fatalf("deploy: exit %d %s %+v\n%s", code, r.Reason, r.Outputs, stderr)
	}
	c := s.Lambda()
	cfg, err := c.GetFunctionConfiguration(context.Background(), &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("echo-prod")})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Environment.Variables["GREETING"] != "hi" || cfg.Environment.Variables["TIER"] != "gold" || aws.ToInt32(cfg.MemorySize) != 256 || aws.ToInt32(cfg.Timeout) != 5 {
		t.Fatalf("configuration %+v", cfg.Environment.Variables)
	}
	out := invokeJSON(t, c, "echo-prod", "live", `{"message":"built by sluice deploy"}`)
	if out.FunctionError != nil || !strings.Contains(string(out.Payload), "built by sluice deploy") {
		t.Fatalf("invoke the built function: %s", out.Payload)
	}
	eic, err := c.GetFunctionEventInvokeConfig(context.Background(), &lambda.GetFunctionEventInvokeConfigInput{FunctionName: aws.String("echo-prod"), Qualifier: aws.String("live")})
	if err != nil || aws.ToInt32(eic.MaximumRetryAttempts) != 0 {
		t.Fatalf("event invoke config: %+v %v", eic, err)
	}

	// A new environment value is a new version; without a deployment preference live moves at once.
	r, stderr, code = deployStack(t, env, dir, "--stack-name", "echo", "--parameter-overrides", "Stage=prod Greeting=hello")
	if code != 0 || len(r.Shifts) != 0 {
		t.Fatalf("second deploy: exit %d %+v\n%s", code, r.Shifts, stderr)
	}
	if v, _ := aliasVersion(t, c, "echo-prod", "live"); v != "2" {
		t.Fatalf("live → %s, want 2", v)
	}

	// What leaves the template leaves the account. Parameters not given keep their values, as with `aws
	// cloudformation deploy` (Greeting has no default: without its previous value the update would fail).
	if err := os.WriteFile(path, []byte(strings.Replace(tpl, "      EventInvokeConfig:\n        MaximumRetryAttempts: 0\n", "", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	r, stderr, code = deployStack(t, env, dir, "--stack-name", "echo")
	if code != 0 || r.actions()["delete"] != 1 || r.Outputs["Tier"] != "gold" {
		t.Fatalf("deploy without the event invoke config: exit %d %+v %+v\n%s", code, r.Changes, r.Outputs, stderr)
	}
	if cfg, err := c.GetFunctionConfiguration(context.Background(), &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("echo-prod")}); err != nil || cfg.Environment.Variables["GREETING"] != "hello" {
		t.Fatalf("after a deploy without overrides: %v %v, want GREETING=hello kept", err, cfg)
	}
	if _, err := c.GetFunctionEventInvokeConfig(context.Background(), &lambda.GetFunctionEventInvokeConfigInput{FunctionName: aws.String("echo-prod"), Qualifier: aws.String("live")}); err == nil {
		t.Fatal("the event invoke config is still there")
	}

	// Deleting the stack deletes what it made, then its record.
	stdout, stderr, code := sluice(t, env, "stack", "delete", "echo")
	if code != 0 || !strings.Contains(stdout, "DELETE_COMPLETE") {
		t.Fatalf("stack delete: exit %d\n%s%s", code, stdout, stderr)
	}
	if _, err := c.GetFunction(context.Background(), &lambda.GetFunctionInput{FunctionName: aws.String("echo-prod")}); err == nil {
		t.Fatal("the function outlived its stack")
	}
	roles, err := s.IAM().ListRoles(context.Background(), &iam.ListRolesInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range roles.Roles {
		if strings.HasPrefix(aws.ToString(r.RoleName), "echo-") {
			t.Fatalf("role %s outlived its stack", aws.ToString(r.RoleName))
		}
	}
	if stdout, _, code := sluice(t, env, "stack", "status", "echo"); code == 0 {
		t.Fatalf("the stack record outlived the stack:\n%s", stdout)
	}
}

// TestExampleTemplatesPassCfnLint: the templates the examples ship are valid CloudFormation as AWS's own linter
// sees it.
func TestExampleTemplatesPassCfnLint(t *testing.T) {
	parallel(t)
	if _, err := exec.LookPath("cfn-lint"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("cfn-lint is not installed")
		}
		t.Skip("cfn-lint is not installed")
	}
	templates := []string{filepath.Join(moduleRoot, "examples", "orders", "template.yaml")}
	cdk, _ := filepath.Glob(filepath.Join(moduleRoot, "examples", "cdk", "cdk.out", "*.template.json"))
	templates = append(templates, cdk...)
	for _, tpl := range templates {
		cmd := exec.Command("cfn-lint", tpl)
		cmd.Dir = filepath.Dir(tpl)
		if dir := filepath.Dir(filepath.Dir(tpl)); strings.HasSuffix(dir, "cdk") {
			cmd.Dir = dir // its .cfnlintrc.yaml (CDK's redundant DependsOn)
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("cfn-lint %s: %v\n%s", tpl, err, out)
		}
	}
}
