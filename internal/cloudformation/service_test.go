package cloudformation

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/stack"
)

// TestCreateStack: the call answers with the stack's ID at once, the stack CREATE_IN_PROGRESS with its first
// event; the controller's pass creates it, every step an event; the session the engine acted with is revoked;
// describes mask NoEcho parameters and show outputs as the template describes them.
func TestCreateStack(t *testing.T) {
	e := newEnv(t)
	id, err := e.create("orders", simpleTemplate, func(in *CreateStackInput) {
		in.Parameters = []Parameter{{Key: "Greeting", Value: "hi"}}
		in.Tags = []stack.Tag{{Key: "team", Value: "payments"}}
		in.ClientRequestToken = "tok-1"
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(id, "arn:aws:cloudformation:us-east-1:000000000000:stack/orders/") || len(stackUUID(id)) != 36 {
		t.Fatalf("stack ID %s", id)
	}
	v := e.describe("orders")
	if v.Status != "CREATE_IN_PROGRESS" || v.ID != id || !e.hasWork("orders") || e.sessions.liveCount() != 1 {
		t.Fatalf("after CreateStack: %+v, work %v, sessions %d", v, e.hasWork("orders"), e.sessions.liveCount())
	}
	if again, err := e.create("orders", simpleTemplate, func(in *CreateStackInput) { in.ClientRequestToken = "tok-1" }); err != nil || again != id {
		t.Fatalf("the same request again: %s %v, want %s", again, err, id)
	}
	e.clock.Advance(time.Second)
	e.settle("orders")
	v = e.describe(id)
	want := []stack.Param{{Key: "Greeting", Value: "hi"}, {Key: "Secret", Value: maskedValue}}
	if v.Status != "CREATE_COMPLETE" || !reflect.DeepEqual(v.Parameters, want) || v.Description != "simple" ||
		len(v.Outputs) != 1 || v.Outputs[0].Key != "Name" || v.Updated != nil || !reflect.DeepEqual(v.Tags, []stack.Tag{{Key: "team", Value: "payments"}}) {
		t.Fatalf("after the operation: %+v", v)
	}
	if got, want := e.events("orders"), []string{"orders CREATE_IN_PROGRESS: User Initiated", "Fn CREATE_IN_PROGRESS", "Fn CREATE_COMPLETE",
		"orders CREATE_COMPLETE"}; !slices.Equal(got, want) {
		t.Fatalf("events %q, want %q", got, want)
	}
	if e.hasWork("orders") || e.sessions.liveCount() != 0 {
		t.Fatalf("work left %v, sessions live %d", e.hasWork("orders"), e.sessions.liveCount())
	}
	rs, err := e.svc.Resources(t.Context(), "orders", "")
	if err != nil || len(rs) != 1 || rs[0].PhysicalID != "orders-Fn" || rs[0].Status != "CREATE_COMPLETE" {
		t.Fatalf("resources %+v %v", rs, err)
	}
	if _, err := e.svc.Resources(t.Context(), "orders", "Nope"); err == nil || !strings.Contains(err.Error(), "Resource Nope does not exist for stack orders") {
		t.Fatalf("missing resource: %v", err)
	}
	body, stages, err := e.svc.GetTemplate(t.Context(), "orders", "", "")
	if err != nil || body != simpleTemplate || !slices.Equal(stages, []string{"Original", "Processed"}) {
		t.Fatalf("GetTemplate %q %v %v", body, stages, err)
	}
}

// TestRefusals: what CloudFormation refuses before anything is stored, with its words.
func TestRefusals(t *testing.T) {
	named := strings.Replace(roleTemplate, "Properties:", "Properties:\n      RoleName: fixed", 1)
	cases := []struct {
		name       string
		body       string
		mod        func(*CreateStackInput)
		code, want string
	}{
		{"IAM resources need CAPABILITY_IAM", roleTemplate, nil, CodeInsufficientCapability, "Requires capabilities : [CAPABILITY_IAM]"},
		{"named IAM resources need CAPABILITY_NAMED_IAM", named, func(in *CreateStackInput) { in.Capabilities = []string{"CAPABILITY_IAM"} },
			CodeInsufficientCapability, "Requires capabilities : [CAPABILITY_NAMED_IAM]"},
		{"transforms need CAPABILITY_AUTO_EXPAND", "Transform: AWS::Serverless-2016-10-31\n" + simpleTemplate, nil,
			CodeInsufficientCapability, "Requires capabilities : [CAPABILITY_AUTO_EXPAND]"},
		{"no template", "", nil, CodeValidation, "Either Template URL or Template Body must be specified."},
		{"both template sources", simpleTemplate, func(in *CreateStackInput) { in.Template.URL = "https://s3.amazonaws.com/b/k" },
			CodeValidation, "Exactly one of TemplateBody or TemplateUrl must be specified."},
		{"a URL that is not S3's", "", func(in *CreateStackInput) { in.Template.URL = "http://169.254.169.254/latest/meta-data" },
			CodeValidation, "TemplateURL must be a supported URL."},
		{"an S3 URL without S3", "", func(in *CreateStackInput) { in.Template.URL = "https://bucket.s3.us-east-1.amazonaws.com/t.yaml" },
			CodeValidation, "TemplateURL must reference a valid S3 object to which you have access."},
		{"a parameter without a value", "Parameters: {Env: {Type: String}}\n" + roleTemplate, func(in *CreateStackInput) { in.Capabilities = []string{"CAPABILITY_IAM"} },
			CodeValidation, "Parameters: [Env] must have values"},
		{"a value not allowed", "Parameters: {Env: {Type: String, AllowedValues: [a, b]}}\n" + roleTemplate,
			func(in *CreateStackInput) {
				in.Capabilities, in.Parameters = []string{"CAPABILITY_IAM"}, []Parameter{{Key: "Env", Value: "c"}}
			}, CodeValidation, "Parameter 'Env' must be one of AllowedValues"},
		{"a parameter the template lacks", simpleTemplate, func(in *CreateStackInput) { in.Parameters = []Parameter{{Key: "Colour", Value: "blue"}} },
			CodeValidation, "Parameters: [Colour] do not exist in the template"},
		{"a resource type Sluice cannot make", "Resources: {Queue: {Type: AWS::SQS::Queue}}", nil, CodeValidation,
			"Queue: resource type AWS::SQS::Queue is not supported by Sluice"},
		{"a template that does not parse", "Resources: [", nil, CodeValidation, "Template format error"},
		{"a role CloudFormation cannot assume", simpleTemplate, func(in *CreateStackInput) { in.RoleARN = "arn:aws:iam::000000000000:role/lambda-only" },
			CodeValidation, "Role arn:aws:iam::000000000000:role/lambda-only is invalid or cannot be assumed"},
		{"both DisableRollback and OnFailure", simpleTemplate, func(in *CreateStackInput) {
			yes := true
			in.DisableRollback, in.OnFailure = &yes, "DELETE"
		}, CodeValidation, "DisableRollback"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			_, err := e.create("orders", tc.body, tc.mod)
			wantFault(t, err, tc.code, tc.want)
			if _, err := e.svc.DescribeStacks(t.Context(), "orders"); err == nil || e.sessions.liveCount() != 0 {
				t.Fatalf("a refused call left a stack (%v) or a session (%d)", err, e.sessions.liveCount())
			}
		})
	}
	t.Run("a stack that exists", func(t *testing.T) {
		e := newEnv(t)
		if _, err := e.create("orders", simpleTemplate, nil); err != nil {
			t.Fatal(err)
		}
		_, err := e.create("orders", simpleTemplate, nil)
		wantFault(t, err, CodeAlreadyExists, "Stack [orders] already exists")
	})
	t.Run("a caller who may not pass the role", func(t *testing.T) {
		e := newEnv(t)
		e.sessions.denied = []string{"iam:PassRole"}
		_, err := e.create("orders", simpleTemplate, func(in *CreateStackInput) { in.RoleARN = "arn:aws:iam::000000000000:role/cfn" })
		wantFault(t, err, "AccessDenied", "iam:PassRole")
	})
}

// TestCapabilities: which capability a template needs, and what acknowledges it.
func TestCapabilities(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name  string
		given []string
		ok    bool
	}{
		{"none", nil, false},
		{"CAPABILITY_IAM", []string{"CAPABILITY_IAM"}, true},
		{"CAPABILITY_NAMED_IAM acknowledges CAPABILITY_IAM", []string{"CAPABILITY_NAMED_IAM"}, true},
		{"another", []string{"CAPABILITY_AUTO_EXPAND"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.create("s"+strconv.Itoa(len(tc.given))+strings.ReplaceAll(strings.Join(tc.given, ""), "_", ""), roleTemplate,
				func(in *CreateStackInput) { in.Capabilities = tc.given })
			if (err == nil) != tc.ok {
				t.Fatalf("err %v, want ok %v", err, tc.ok)
			}
		})
	}
}

// TestCreateFailures: a creation that fails ends as OnFailure says — rolled back, deleted, or left — with
// CloudFormation's events; an engine that fails before it holds the stack ends it the same way.
func TestCreateFailures(t *testing.T) {
	for _, tc := range []struct {
		onFailure, early string
		want             string
		gone             bool
		last             []string
	}{
		{"", "", "ROLLBACK_COMPLETE", false, []string{"Fn CREATE_FAILED: it failed", "orders ROLLBACK_COMPLETE"}},
		{"DO_NOTHING", "", "CREATE_FAILED", false, []string{"Fn CREATE_FAILED: it failed", "orders CREATE_FAILED"}},
		{"DELETE", "", "DELETE_COMPLETE", true, []string{"Fn CREATE_FAILED: it failed", "orders DELETE_COMPLETE"}},
		{"", "STS said no", "ROLLBACK_COMPLETE", false, []string{"orders ROLLBACK_IN_PROGRESS: STS said no", "orders ROLLBACK_COMPLETE"}},
		{"DELETE", "STS said no", "DELETE_COMPLETE", true, []string{"orders DELETE_IN_PROGRESS: STS said no", "orders DELETE_COMPLETE"}},
	} {
		t.Run(tc.onFailure+" "+tc.early, func(t *testing.T) {
			e := newEnv(t)
			e.engine.failOn = "Fn"
			if tc.early != "" {
				e.engine.early = errors.New(tc.early)
			}
			id, err := e.create("orders", simpleTemplate, func(in *CreateStackInput) { in.OnFailure = tc.onFailure })
			if err != nil {
				t.Fatal(err)
			}
			e.settle("orders")
			_, err = e.svc.DescribeStacks(t.Context(), "orders")
			if gone := err != nil; gone != tc.gone {
				t.Fatalf("stack gone by name: %v (%v), want %v", gone, err, tc.gone)
			}
			if v := e.describe(id); v.Status != tc.want {
				t.Fatalf("status %s, want %s", v.Status, tc.want)
			}
			evs := e.events(id)
			if got := evs[len(evs)-len(tc.last):]; !slices.Equal(got, tc.last) {
				t.Fatalf("last events %q, want %q", got, tc.last)
			}
			if e.hasWork("orders") || e.sessions.liveCount() != 0 {
				t.Fatal("work or a session left")
			}
			if tc.want == "ROLLBACK_COMPLETE" {
				_, err := e.svc.UpdateStack(t.Context(), UpdateStackInput{StackInput: StackInput{Caller: alice, StackName: "orders",
					Template: templateSource{Body: simpleTemplate}}})
				wantFault(t, err, CodeValidation, "Stack:"+id+" is in ROLLBACK_COMPLETE state and can not be updated.")
			}
		})
	}
}

// TestUpdateStack: an update with nothing new is refused with CloudFormation's words; a stack in progress cannot be
// updated; UsePreviousValue and UsePreviousTemplate take what the stack has; a failed update rolls back.
func TestUpdateStack(t *testing.T) {
	e := newEnv(t)
	id, err := e.create("orders", simpleTemplate, func(in *CreateStackInput) {
		in.Parameters, in.ClientRequestToken = []Parameter{{Key: "Greeting", Value: "hi"}}, "first"
	})
	if err != nil {
		t.Fatal(err)
	}
	update := func(body string, usePrevious bool, params ...Parameter) (string, error) {
		in := UpdateStackInput{StackInput: StackInput{Caller: alice, StackName: "orders", Parameters: params}}
		in.SetTemplate(body, "", usePrevious)
		return e.svc.UpdateStack(t.Context(), in)
	}
	_, err = update(simpleTemplate, false)
	wantFault(t, err, CodeValidation, "Stack:"+id+" is in CREATE_IN_PROGRESS state and can not be updated.")
	e.settle("orders")
	_, err = update("", true, Parameter{Key: "Greeting", UsePrevious: true})
	wantFault(t, err, CodeValidation, noUpdatesMessage)
	_, err = update("", true, Parameter{Key: "Colour", UsePrevious: true})
	wantFault(t, err, CodeValidation, "Cannot specify usePreviousValue as true for a parameter key not in the previous template")
	if _, err := update("", true, Parameter{Key: "Greeting", Value: "hey"}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)
	e.settle("orders")
	v := e.describe("orders")
	if v.Status != "UPDATE_COMPLETE" || v.Parameters[0].Value != "hey" || v.Updated == nil {
		t.Fatalf("after the update %+v", v)
	}
	e.engine.failOn = "Fn"
	if _, err := update("", true, Parameter{Key: "Greeting", Value: "broken"}); err != nil {
		t.Fatal(err)
	}
	e.settle("orders")
	if v := e.describe("orders"); v.Status != "UPDATE_ROLLBACK_COMPLETE" || v.Parameters[0].Value != "hey" {
		t.Fatalf("after the failed update %+v (the parameters must stay the stack's)", v)
	}
}

// TestDeleteStack: a deleted stack is gone by name, still described by ID (DELETE_COMPLETE, with its events), and
// listed; deleting what does not exist succeeds; termination protection refuses.
func TestDeleteStack(t *testing.T) {
	e := newEnv(t)
	id, _ := e.create("orders", simpleTemplate, nil)
	e.settle("orders")
	if _, err := e.svc.UpdateTerminationProtection(t.Context(), "orders", true); err != nil {
		t.Fatal(err)
	}
	err := e.svc.DeleteStack(t.Context(), DeleteStackInput{Caller: alice, StackName: "orders"})
	wantFault(t, err, CodeValidation, "Stack [orders] cannot be deleted while TerminationProtection is enabled")
	if _, err := e.svc.UpdateTerminationProtection(t.Context(), id, false); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.DeleteStack(t.Context(), DeleteStackInput{Caller: alice, StackName: "orders"}); err != nil {
		t.Fatal(err)
	}
	if v := e.describe("orders"); v.Status != "DELETE_IN_PROGRESS" {
		t.Fatalf("status %s", v.Status)
	}
	e.settle("orders")
	_, err = e.svc.DescribeStacks(t.Context(), "orders")
	wantFault(t, err, CodeValidation, "Stack with id orders does not exist")
	if v := e.describe(id); v.Status != "DELETE_COMPLETE" || v.Deleted == nil {
		t.Fatalf("by ID: %+v", v)
	}
	if evs := e.events(id); evs[len(evs)-1] != "orders DELETE_COMPLETE" {
		t.Fatalf("events %q", evs)
	}
	list, err := e.svc.ListStacks(t.Context(), []string{"DELETE_COMPLETE"})
	if err != nil || len(list) != 1 || list[0].ID != id {
		t.Fatalf("ListStacks %+v %v", list, err)
	}
	if list, _ := e.svc.ListStacks(t.Context(), []string{"CREATE_COMPLETE"}); len(list) != 0 {
		t.Fatalf("filtered %+v", list)
	}
	if err := e.svc.DeleteStack(t.Context(), DeleteStackInput{Caller: alice, StackName: "never"}); err != nil {
		t.Fatalf("deleting a stack that does not exist: %v", err)
	}
	// The name is free again, for a new stack with a new ID.
	id2, err := e.create("orders", simpleTemplate, nil)
	if err != nil || id2 == id {
		t.Fatalf("again: %s %v", id2, err)
	}
}

// TestChangeSets: a CREATE change set brings a REVIEW_IN_PROGRESS stack into being, is computed by the dry run,
// executes into a creation; an UPDATE change set with nothing to do fails with CloudFormation's reason; executing
// one makes the others OBSOLETE; a change set not ready cannot be executed.
func TestChangeSets(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	cs := func(name, kind, body string) (string, string, error) {
		in := CreateChangeSetInput{StackInput: StackInput{Caller: alice, StackName: "orders"}, ChangeSetName: name, ChangeSetType: kind}
		in.SetTemplate(body, "", false)
		return e.svc.CreateChangeSet(ctx, in)
	}
	_, _, err := cs("first", "UPDATE", simpleTemplate)
	wantFault(t, err, CodeValidation, "Stack [orders] does not exist")
	csID, stackID, err := cs("first", "CREATE", simpleTemplate)
	if err != nil {
		t.Fatal(err)
	}
	if v := e.describe("orders"); v.Status != "REVIEW_IN_PROGRESS" || v.ID != stackID {
		t.Fatalf("the stack of a CREATE change set: %+v", v)
	}
	err = e.svc.ExecuteChangeSet(ctx, ExecuteChangeSetInput{Caller: alice, ChangeSetName: csID})
	wantFault(t, err, CodeInvalidChangeSetStatus, "cannot be executed in its current status of [CREATE_PENDING]")
	e.engine.plan = []PlannedChange{{LogicalID: "Fn", Type: "AWS::Lambda::Function", Action: "create"}}
	if err := e.svc.compute(ctx, "orders", stackUUID(csID)); err != nil {
		t.Fatal(err)
	}
	d, err := e.svc.DescribeChangeSet(ctx, "orders", "first")
	if err != nil || d.Status != CSCreateComplete || d.ExecutionStatus != ExecAvailable || len(d.Changes) != 1 || d.Changes[0].Action != "Add" ||
		d.Settings.Parameters[1].Value != maskedValue {
		t.Fatalf("DescribeChangeSet %+v %v", d, err)
	}
	second, _, err := cs("second", "CREATE", simpleTemplate)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.ExecuteChangeSet(ctx, ExecuteChangeSetInput{Caller: alice, StackName: "orders", ChangeSetName: "first"}); err != nil {
		t.Fatal(err)
	}
	if v := e.describe("orders"); v.Status != "CREATE_IN_PROGRESS" {
		t.Fatalf("executing: %s", v.Status)
	}
	e.settle("orders")
	if v := e.describe("orders"); v.Status != "CREATE_COMPLETE" || v.ChangeSetID != csID {
		t.Fatalf("executed: %+v", v)
	}
	if d, _ := e.svc.DescribeChangeSet(ctx, "", csID); d.ExecutionStatus != ExecComplete {
		t.Fatalf("executed change set %s", d.ExecutionStatus)
	}
	if d, _ := e.svc.DescribeChangeSet(ctx, "", second); d.ExecutionStatus != ExecObsolete {
		t.Fatalf("the other change set %s", d.ExecutionStatus)
	}
	third, _, err := cs("third", "UPDATE", simpleTemplate)
	if err != nil {
		t.Fatal(err)
	}
	e.engine.plan = []PlannedChange{{LogicalID: "Fn", Type: "AWS::Lambda::Function", Action: "none"}}
	if err := e.svc.compute(ctx, "orders", stackUUID(third)); err != nil {
		t.Fatal(err)
	}
	if d, _ := e.svc.DescribeChangeSet(ctx, "", third); d.Status != CSFailed || d.StatusReason != noChangesReason || d.ExecutionStatus != ExecUnavailable {
		t.Fatalf("a change set without changes: %+v", d)
	}
	_, err = e.svc.DescribeChangeSet(ctx, "orders", "fourth")
	wantFault(t, err, CodeChangeSetNotFound, "ChangeSet [fourth] does not exist")
	if err := e.svc.DeleteChangeSet(ctx, "orders", "third"); err != nil {
		t.Fatal(err)
	}
	if list, err := e.svc.ListChangeSets(ctx, "orders"); err != nil || len(list) != 2 {
		t.Fatalf("ListChangeSets %d %v", len(list), err)
	}
}

// TestDescribeChanges: the dry run's plan as CloudFormation's Changes.
func TestDescribeChanges(t *testing.T) {
	plan := []PlannedChange{
		{LogicalID: "New", Type: "T", Action: "create"},
		{LogicalID: "Same", Type: "T", Action: "none"},
		{LogicalID: "Gone", Type: "T", PhysicalID: "p1", Action: "delete"},
		{LogicalID: "Kept", Type: "T", PhysicalID: "p2", Action: "retain"},
		{LogicalID: "Fn", Type: "T", PhysicalID: "p3", Action: "update", Properties: []PlannedProperty{{Name: "MemorySize"}, {Name: "Tags"}}},
		{LogicalID: "Ver", Type: "T", PhysicalID: "p4", Action: "replace", Properties: []PlannedProperty{{Name: "Description", Replaces: true}}},
		{LogicalID: "Live", Type: "T", PhysicalID: "p5", Action: "shift",
			Properties: []PlannedProperty{{Name: "FunctionVersion", CausedBy: "Ver.Version", ByAttribute: true}}},
		{LogicalID: "Perm", Type: "T", PhysicalID: "p6", Action: "replace",
			Properties: []PlannedProperty{{Name: "FunctionName", Replaces: true, CausedBy: "Fn"}}},
	}
	got := describeChanges(plan)
	type row struct{ action, id, replacement, policy, scope, details string }
	var rows []row
	for _, c := range got {
		var ds []string
		for _, d := range c.Details {
			ds = append(ds, strings.Join([]string{d.Attribute, d.Name, d.RequiresRecreation, d.Evaluation, d.ChangeSource, d.CausingEntity}, "/"))
		}
		rows = append(rows, row{c.Action, c.LogicalID, c.Replacement, c.PolicyAction, strings.Join(c.Scope, ","), strings.Join(ds, " ")})
	}
	want := []row{
		{"Add", "New", "", "", "", ""},
		{"Remove", "Gone", "", "Delete", "", ""},
		{"Remove", "Kept", "", "Retain", "", ""},
		{"Modify", "Fn", "False", "", "Properties,Tags", "Properties/MemorySize/Never/Static/DirectModification/ Tags//Never/Static/DirectModification/"},
		{"Modify", "Ver", "True", "", "Properties", "Properties/Description/Always/Static/DirectModification/"},
		{"Modify", "Live", "False", "", "Properties", "Properties/FunctionVersion/Never/Dynamic/ResourceAttribute/Ver.Version"},
		{"Modify", "Perm", "Conditional", "", "Properties", "Properties/FunctionName/Always/Dynamic/ResourceReference/Fn"},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Fatalf("changes\n%v\nwant\n%v", rows, want)
	}
}

// TestInterruptedOperationResumes: an operation whose run ends with the controller's context (a restart, the
// leadership lost) is not ended; the next pass runs the engine again, which resumes it.
func TestInterruptedOperationResumes(t *testing.T) {
	e := newEnv(t)
	if _, err := e.create("orders", simpleTemplate, nil); err != nil {
		t.Fatal(err)
	}
	e.engine.hold, e.engine.held = make(chan struct{}), make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- e.svc.operate(ctx, "orders") }()
	<-e.engine.held
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if v := e.describe("orders"); v.Status != "CREATE_IN_PROGRESS" || !e.hasWork("orders") {
		t.Fatalf("after the interruption: %s, work %v", v.Status, e.hasWork("orders"))
	}
	e.engine.hold = nil
	e.settle("orders") // the engine runs again, and resumes
	<-e.engine.held
	if v := e.describe("orders"); v.Status != "CREATE_COMPLETE" || e.hasWork("orders") {
		t.Fatalf("resumed: %s", v.Status)
	}
	if runs := e.engine.runs; len(runs) != 2 || runs[0].Resuming || !runs[1].Resuming {
		t.Fatalf("runs %+v: only the second resumes", runs)
	}
}

// TestControllerRuns: Run picks up work committed after it started, from the store's watch.
func TestControllerRuns(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(t.Context())
	stopped := make(chan struct{})
	go func() { e.svc.Run(ctx); close(stopped) }()
	defer func() { cancel(); <-stopped }()
	if _, err := e.create("orders", simpleTemplate, nil); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for e.describe("orders").Status != "CREATE_COMPLETE" {
		if time.Now().After(deadline) {
			t.Fatalf("the controller never created the stack: %s", e.describe("orders").Status)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestEventsAreBounded: a stack keeps its last MaxEventsPerStack events, newest first, a page at a time.
func TestEventsAreBounded(t *testing.T) {
	e := newEnv(t)
	if _, err := e.create("orders", simpleTemplate, nil); err != nil {
		t.Fatal(err)
	}
	for i := range MaxEventsPerStack + 10 {
		e.svc.recordEvent(t.Context(), "orders", Event{LogicalID: "Fn", Type: "T", Status: "UPDATE_IN_PROGRESS", Reason: strings.Repeat("x", i%3)})
	}
	evs := e.events("orders")
	if len(evs) != MaxEventsPerStack || strings.Contains(evs[0], "User Initiated") {
		t.Fatalf("%d events, first %q", len(evs), evs[0])
	}
	page, next, err := e.svc.DescribeStackEvents(t.Context(), "orders", "")
	if err != nil || len(page) != eventsPage || next == "" {
		t.Fatalf("first page: %d %q %v", len(page), next, err)
	}
}

// TestS3URLs: the forms of S3 URL CloudFormation takes.
func TestS3URLs(t *testing.T) {
	for _, tc := range []struct{ url, bucket, key, version string }{
		{"https://s3.amazonaws.com/b/dir/t.yaml", "b", "dir/t.yaml", ""},
		{"https://s3.us-west-2.amazonaws.com/b/t.yaml?versionId=3", "b", "t.yaml", "3"},
		{"https://s3-us-west-2.amazonaws.com/b/t.yaml", "b", "t.yaml", ""},
		{"https://b.s3.amazonaws.com/t.yaml", "b", "t.yaml", ""},
		{"https://b.s3.eu-west-1.amazonaws.com/a/t.yaml", "b", "a/t.yaml", ""},
		{"https://example.com/b/t.yaml", "", "", ""},
		{"s3://b/t.yaml", "", "", ""},
		{"https://s3.amazonaws.com/b", "", "", ""},
		{"http://127.0.0.1:4566/b/dir/t.yaml", "b", "dir/t.yaml", ""},
		{"http://localhost:4566/b/t.yaml?versionId=7", "b", "t.yaml", "7"},
		{"http://s3.us-east-1.localhost:4566/b/t.yaml", "b", "t.yaml", ""},
		{"http://b.s3.us-east-1.localhost:4566/a/t.yaml", "b", "a/t.yaml", ""},
		{"http://10.0.0.8:4566/b/t.yaml", "", "", ""},
		{"http://b.s3.eu-west-1.localhost/t.yaml", "", "", ""},
	} {
		b, k, v, ok := parseS3URL(tc.url, "s3.us-east-1.localhost")
		if b != tc.bucket || k != tc.key || v != tc.version || ok != (tc.bucket != "") {
			t.Errorf("%s: %q %q %q %v", tc.url, b, k, v, ok)
		}
	}
}

// TestClientRequestTokens: a request repeated with its ClientRequestToken is answered as the first was, during the
// operation and after it; the token of one kind of operation is refused for another.
func TestClientRequestTokens(t *testing.T) {
	e := newEnv(t)
	id, err := e.create("orders", simpleTemplate, func(in *CreateStackInput) { in.ClientRequestToken = "t1" })
	if err != nil {
		t.Fatal(err)
	}
	e.settle("orders")
	if again, err := e.create("orders", simpleTemplate, func(in *CreateStackInput) { in.ClientRequestToken = "t1" }); err != nil || again != id {
		t.Fatalf("CreateStack repeated after it ended: %s %v", again, err)
	}
	in := UpdateStackInput{StackInput: StackInput{Caller: alice, StackName: "orders", Parameters: []Parameter{{Key: "Greeting", Value: "yo"}}}, ClientRequestToken: "t1"}
	in.SetTemplate(simpleTemplate, "", false)
	_, err = e.svc.UpdateStack(t.Context(), in)
	wantFault(t, err, CodeTokenAlreadyExists, "A client request token already exists.")
	in.ClientRequestToken = "t2"
	if _, err := e.svc.UpdateStack(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	if got, err := e.svc.UpdateStack(t.Context(), in); err != nil || got != id {
		t.Fatalf("UpdateStack repeated while it runs: %s %v", got, err)
	}
	e.settle("orders")
	del := DeleteStackInput{Caller: alice, StackName: "orders", ClientRequestToken: "t3"}
	if err := e.svc.DeleteStack(t.Context(), del); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.DeleteStack(t.Context(), del); err != nil {
		t.Fatalf("DeleteStack repeated: %v", err)
	}
	if len(e.engine.runs) != 2 {
		t.Fatalf("the engine ran %d operations, want 2 (the repeats started none)", len(e.engine.runs))
	}
}

// TestEndedOperationIsNotRunAgain: when the engine ended an operation but the process stopped before the API
// ended it, the next pass ends it without running the engine again.
func TestEndedOperationIsNotRunAgain(t *testing.T) {
	e := newEnv(t)
	if _, err := e.create("orders", simpleTemplate, nil); err != nil {
		t.Fatal(err)
	}
	st, err := e.engine.stacks.Get(t.Context(), "orders")
	if err != nil {
		t.Fatal(err)
	}
	st.Status, st.Owner = stack.StatusCreateComplete, ""
	if _, err := e.engine.stacks.Put(t.Context(), st); err != nil {
		t.Fatal(err)
	}
	e.settle("orders")
	if len(e.engine.runs) != 0 || e.hasWork("orders") || e.sessions.liveCount() != 0 {
		t.Fatalf("engine runs %d, work %v, sessions %d", len(e.engine.runs), e.hasWork("orders"), e.sessions.liveCount())
	}
	if v := e.describe("orders"); v.Status != "CREATE_COMPLETE" || len(v.Parameters) != 2 {
		t.Fatalf("ended: %+v", v)
	}
}

// TestEventsMaskNoEcho: a NoEcho parameter's value that a resource's properties took is masked in its events.
func TestEventsMaskNoEcho(t *testing.T) {
	op := &stack.Operation{Parameters: map[string]string{"Secret": `s3"cr3t`}, Settings: &stack.APISettings{NoEcho: []string{"Secret", "Default"},
		Parameters: []stack.Param{{Key: "Secret", Value: `s3"cr3t`}, {Key: "Default", Value: "dflt"}}}}
	got := maskNoEcho(`{"Environment":{"Variables":{"KEY":"s3\"cr3t","OTHER":"dflt-x"}},"Name":"fn"}`, op)
	if want := `{"Environment":{"Variables":{"KEY":"****","OTHER":"****-x"}},"Name":"fn"}`; got != want {
		t.Fatalf("masked %s, want %s", got, want)
	}
}
