package cli

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/sluice-dev/sluice/internal/cfn"
	"github.com/sluice-dev/sluice/internal/pack"
	"github.com/sluice-dev/sluice/internal/stack"
	"github.com/sluice-dev/sluice/internal/stackdeploy"
)

// TestPackageCodeRewritesLocalCode: each function's local code — SAM's CodeUri (its own or the Globals'), a
// Code path, a CDK asset directory — is uploaded and named by its object; code already in S3, inline code and
// intrinsics are left as they are.
func TestPackageCodeRewritesLocalCode(t *testing.T) {
	for _, tc := range []struct {
		name     string
		template string
		want     map[string]any // resource → its code property after packaging
		uploaded map[string]pack.Spec
	}{
		{name: "SAM CodeUri", template: `
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: ./src, Runtime: nodejs22.x, Handler: index.handler, Architectures: [arm64]}
  InS3:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: s3://b/k.zip, Runtime: nodejs22.x, Handler: index.handler}
  Inline:
    Type: AWS::Serverless::Function
    Properties: {InlineCode: "exports.handler=1", Runtime: nodejs22.x, Handler: index.handler}
`, want: map[string]any{"Fn": "s3://art/key-Fn", "InS3": "s3://b/k.zip", "Inline": nil},
			uploaded: map[string]pack.Spec{"Fn": {Dir: "/tpl/src", Runtime: "nodejs22.x", Architecture: "arm64"}}},
		{name: "SAM Globals", template: `
Transform: AWS::Serverless-2016-10-31
Globals: {Function: {CodeUri: ./app, Runtime: provided.al2023}}
Resources:
  Go:
    Type: AWS::Serverless::Function
    Metadata: {BuildMethod: go1.x}
    Properties: {Handler: bootstrap}
  Own:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: /abs/own, Handler: bootstrap}
`, want: map[string]any{"Go": "s3://art/key-Go", "Own": "s3://art/key-Own"},
			uploaded: map[string]pack.Spec{"Go": {Dir: "/tpl/app", Runtime: "provided.al2023", BuildMethod: "go1.x"}, "Own": {Dir: "/abs/own", Runtime: "provided.al2023"}}},
		{name: "Lambda Code path, CDK asset, S3 and intrinsics", template: `
Resources:
  Path:
    Type: AWS::Lambda::Function
    Properties: {Code: ./fn, Runtime: python3.12, Handler: a.h, Role: r}
  Asset:
    Type: AWS::Lambda::Function
    Metadata: {aws:asset:path: asset.abc, aws:asset:property: Code}
    Properties: {Code: {S3Bucket: {"Fn::Sub": "cdk-${AWS::AccountId}"}, S3Key: abc.zip}, Runtime: nodejs22.x, Handler: i.h, Role: r}
  Bucket:
    Type: AWS::Lambda::Function
    Properties: {Code: {S3Bucket: b, S3Key: k}, Runtime: nodejs22.x, Handler: i.h, Role: r}
`, want: map[string]any{"Path": map[string]any{"S3Bucket": "art", "S3Key": "key-Path"}, "Asset": map[string]any{"S3Bucket": "art", "S3Key": "key-Asset"},
			"Bucket": map[string]any{"S3Bucket": "b", "S3Key": "k"}},
			uploaded: map[string]pack.Spec{"Path": {Dir: "/tpl/fn", Runtime: "python3.12"}, "Asset": {Dir: "/tpl/asset.abc", Runtime: "nodejs22.x"}}},
	} {
		tpl, err := cfn.Parse([]byte(tc.template))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		uploaded := map[string]pack.Spec{}
		err = packageCode(context.Background(), tpl, "/tpl", "art", func(_ context.Context, id string, spec pack.Spec) (string, error) {
			uploaded[id] = spec
			return "key-" + id, nil
		})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !reflect.DeepEqual(uploaded, tc.uploaded) {
			t.Errorf("%s: uploaded %+v, want %+v", tc.name, uploaded, tc.uploaded)
		}
		resources := tpl.Raw["Resources"].(map[string]any)
		for id, want := range tc.want {
			props := resources[id].(map[string]any)["Properties"].(map[string]any)
			got := props["Code"]
			if strings.HasPrefix(resources[id].(map[string]any)["Type"].(string), "AWS::Serverless") {
				got = props["CodeUri"]
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s: %s's code is %v, want %v", tc.name, id, got, want)
			}
		}
		if g, ok := tpl.Raw["Globals"].(map[string]any); ok {
			if _, left := g["Function"].(map[string]any)["CodeUri"]; left {
				t.Errorf("%s: the Globals keep their local CodeUri", tc.name)
			}
		}
		// What is sent is JSON the API parses back to the same template.
		body, _ := json.Marshal(tpl.Raw)
		if _, err := cfn.Parse(body); err != nil {
			t.Errorf("%s: the packaged template does not parse: %v", tc.name, err)
		}
	}
}

// TestPlanFromChangeSet: CloudFormation's changes read as the deploy's actions.
func TestPlanFromChangeSet(t *testing.T) {
	change := func(id string, action cftypes.ChangeAction, replacement cftypes.Replacement, policy cftypes.PolicyAction, props ...string) cftypes.Change {
		rc := &cftypes.ResourceChange{LogicalResourceId: aws.String(id), ResourceType: aws.String("AWS::Lambda::Function"), Action: action,
			Replacement: replacement, PolicyAction: policy}
		for _, p := range props {
			rc.Details = append(rc.Details, cftypes.ResourceChangeDetail{Target: &cftypes.ResourceTargetDefinition{Name: aws.String(p)}})
		}
		return cftypes.Change{ResourceChange: rc}
	}
	d := newStackDeploy(aws.Config{}, "orders", "", nil, func(string, ...any) {})
	cs := &cloudformation.DescribeChangeSetOutput{Changes: []cftypes.Change{
		change("New", cftypes.ChangeActionAdd, "", ""),
		change("Code", cftypes.ChangeActionModify, cftypes.ReplacementFalse, "", "Code", "Code"),
		change("Name", cftypes.ChangeActionModify, cftypes.ReplacementTrue, "", "FunctionName"),
		change("Gone", cftypes.ChangeActionRemove, "", cftypes.PolicyActionDelete),
		change("Kept", cftypes.ChangeActionRemove, "", cftypes.PolicyActionRetain),
	}}
	// A CREATE change set reads no template: CodeDeploy shifts nothing in a creation.
	if err := d.plan(context.Background(), cs, cftypes.ChangeSetTypeCreate); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, c := range d.res.Changes {
		got[c.LogicalID] = string(c.Action) + " " + strings.Join(c.Properties, ",")
	}
	want := map[string]string{"New": "create ", "Code": "update Code", "Name": "replace FunctionName", "Gone": "delete ", "Kept": "retain "}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("plan = %v, want %v", got, want)
	}
}

// TestEventsMakeTheCleanup: the resources deleted or kept in a cleanup phase are the deploy's cleanup, each with
// why it left: replaced (still in the stack), left the template, or created by an update that was rolled back.
func TestEventsMakeTheCleanup(t *testing.T) {
	var lines []string
	d := newStackDeploy(aws.Config{}, "orders", "", nil, func(f string, a ...any) { lines = append(lines, f) })
	d.res.Changes = []stackdeploy.Change{{LogicalID: "Fn", Action: stackdeploy.ActionReplace}, {LogicalID: "V1", Action: stackdeploy.ActionDelete}}
	ev := func(id, typ, status, phys, reason string) cftypes.StackEvent {
		return cftypes.StackEvent{LogicalResourceId: aws.String(id), ResourceType: aws.String(typ), ResourceStatus: cftypes.ResourceStatus(status),
			PhysicalResourceId: aws.String(phys), ResourceStatusReason: aws.String(reason)}
	}
	const st = stackdeploy.StackType
	for _, e := range []cftypes.StackEvent{
		ev("orders", st, "UPDATE_IN_PROGRESS", "", "User Initiated"),
		ev("Fn", "AWS::Lambda::Function", "DELETE_COMPLETE", "old", ""), // not in a cleanup phase: not the cleanup's
		ev("orders", st, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "", ""),
		ev("Fn", "AWS::Lambda::Function", "DELETE_IN_PROGRESS", "fn-old", ""),
		ev("Fn", "AWS::Lambda::Function", "DELETE_COMPLETE", "fn-old", ""),
		ev("V1", "AWS::Lambda::Version", "DELETE_SKIPPED", "v:1", ""),
		ev("orders", st, "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", "", ""),
		ev("V3", "AWS::Lambda::Version", "DELETE_FAILED", "v:3", "boom"),
	} {
		d.show(e)
	}
	want := []stack.Removal{
		{LogicalID: "Fn", Type: "AWS::Lambda::Function", PhysicalID: "fn-old", Why: stack.RemovalReplaced, Outcome: stack.OutcomeDeleted},
		{LogicalID: "V1", Type: "AWS::Lambda::Version", PhysicalID: "v:1", Why: stack.RemovalRemoved, Outcome: stack.OutcomeRetained},
		{LogicalID: "V3", Type: "AWS::Lambda::Version", PhysicalID: "v:3", Why: stack.RemovalRolledBack, Outcome: stack.OutcomeDeleteFailed, Reason: "boom"},
	}
	if !reflect.DeepEqual(d.res.Cleanup, want) {
		t.Errorf("cleanup = %+v\nwant %+v", d.res.Cleanup, want)
	}
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "%s") {
		t.Errorf("the stack's events are not shown: %v", lines)
	}
}

func TestRecordedVersion(t *testing.T) {
	physical := map[string]string{"V2": "arn:aws:lambda:us-east-1:1:function:orders:2", "Alias": "arn:aws:lambda:us-east-1:1:function:orders:live"}
	for _, tc := range []struct {
		name    string
		version any
		want    string
	}{
		{"a number", "7", "7"},
		{"a Ref", map[string]any{"Ref": "V2"}, "2"},
		{"a GetAtt", map[string]any{"Fn::GetAtt": []any{"V2", "Version"}}, "2"},
		{"a version not in the stack", map[string]any{"Ref": "V9"}, ""},
		{"none", nil, ""},
	} {
		tpl := map[string]any{"Resources": map[string]any{"Alias": map[string]any{"Properties": map[string]any{"FunctionVersion": tc.version}}}}
		if got := recordedVersion(tpl, "Alias", physical); got != tc.want {
			t.Errorf("%s: recordedVersion = %q, want %q", tc.name, got, tc.want)
		}
	}
	if fn, alias := aliasOf(physical["Alias"]); fn != "orders" || alias != "live" {
		t.Errorf("aliasOf = %s, %s", fn, alias)
	}
	if got := nameOf(map[string]any{"Ref": "V2"}, physical); got != physical["V2"] {
		t.Errorf("nameOf a Ref = %q", got)
	}
}
