package stackdeploy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/cfn"
	"github.com/sluice-dev/sluice/internal/stack"
)

// The engine as the CloudFormation API's service runs it: templates as bodies, an owner that holds the stack and
// resumes it, failed creations rolled back as OnFailure says, and every step reported as an event.

// owner holds the stacks of these tests, as the CloudFormation API's service holds its own.
const owner = "cloudformation"

// recorder is an EventObserver that keeps the events, as "<logical id> <status>[: reason]".
type recorder struct{ events []string }

func (r *recorder) Event(e Event) {
	s := e.LogicalID + " " + e.Status
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	r.events = append(r.events, s)
}

// begin records an operation on stack "orders" as the service does before it runs the engine: the stack in
// progress under owner — DELETE_IN_PROGRESS for a deletion, else CREATE_IN_PROGRESS for a stack without resources
// and UPDATE_IN_PROGRESS for one with — unless it is in progress already (an operation resumed).
func begin(t *testing.T, stacks stack.Store, deleting bool) {
	t.Helper()
	st, err := stacks.Get(t.Context(), "orders")
	if errors.Is(err, stack.ErrNotFound) {
		st, err = stack.Stack{Name: "orders", Resources: map[string]stack.ResourceState{}}, nil
	}
	if err != nil {
		t.Fatal(err)
	}
	if st.Status.InProgress() {
		return
	}
	switch {
	case deleting:
		st.Status = stack.StatusDeleteInProgress
	case len(st.Resources) == 0:
		st.Status = stack.StatusCreateInProgress
	default:
		st.Status = stack.StatusUpdateInProgress
	}
	st.Owner, st.Applied, st.Deployments, st.Cleanup = owner, nil, nil, nil
	if _, err := stacks.Put(t.Context(), st); err != nil {
		t.Fatal(err)
	}
}

// operate runs the engine on stack "orders" as the service does (begin, then the engine held by owner): a Delete
// when o has no template body, else a Deploy.
func operate(t *testing.T, o Options) (*Result, error) {
	t.Helper()
	o.StackName, o.Owner = "orders", owner
	if o.TemplateBody == nil {
		begin(t, o.Stacks, true)
		return Delete(t.Context(), o)
	}
	begin(t, o.Stacks, false)
	return Deploy(t.Context(), o)
}

// run deploys a body under ctx as the service does (begin, then the engine held by owner), keeping the events in
// w.events.
func (w *world) run(ctx context.Context, body string, o Options) (*Result, error) {
	w.t.Helper()
	begin(w.t, w.stacks, false)
	rec := &recorder{}
	o.TemplateBody, o.StackName, o.Config, o.Stacks, o.Poll, o.clock, o.Owner, o.Observer = []byte(body), "orders", w.aws.config(), w.stacks,
		time.Second, w.clock, owner, rec
	res, err := Deploy(ctx, o)
	w.events = rec.events
	return res, err
}

// serve deploys a body as the service does, and returns the events too.
func (w *world) serve(body string, o Options) (*Result, []string, error) {
	w.t.Helper()
	res, err := w.run(w.t.Context(), body, o)
	return res, w.events, err
}

// remove deletes stack "orders" as the service does.
func (w *world) remove() (*Result, error) {
	w.t.Helper()
	return operate(w.t, Options{Config: w.aws.config(), Stacks: w.stacks, clock: w.clock})
}

const twoFunctions = `Resources:
  Good:
    Type: AWS::Lambda::Function
    Properties: {FunctionName: good, Role: arn:aws:iam::000000000000:role/orders, Runtime: nodejs22.x, Handler: index.handler, Code: {ZipFile: "x"}}
  Kept:
    Type: AWS::Lambda::Function
    DeletionPolicy: %s
    Properties: {FunctionName: kept, Role: arn:aws:iam::000000000000:role/orders, Runtime: nodejs22.x, Handler: index.handler, Code: {ZipFile: "x"}}
  Broken:
    Type: AWS::Lambda::Function
    DependsOn: [Good, Kept]
    Properties: {FunctionName: broken, Role: arn:aws:iam::000000000000:role/orders, Runtime: nodejs22.x, Handler: index.handler, Code: {ZipFile: "x"}}
`

// TestCreateFailure: a creation that fails is left (DO_NOTHING), rolled back (ROLLBACK, also CloudFormation's default:
// what it made is deleted, but a DeletionPolicy Retain) or deleted with its stack (DELETE); the events say so,
// CloudFormation's way.
func TestCreateFailure(t *testing.T) {
	for _, tc := range []struct {
		onFailure, policy string
		status            stack.Status
		left              []string
		events            []string
	}{
		{"", "Delete", stack.StatusRollbackComplete, nil, nil},
		{OnFailureDoNothing, "Delete", stack.StatusCreateFailed, []string{"good", "kept"}, []string{"orders CREATE_FAILED: The following resource(s) failed to create: [Broken]. "}},
		{OnFailureRollback, "Delete", stack.StatusRollbackComplete, nil, []string{
			"orders ROLLBACK_IN_PROGRESS: The following resource(s) failed to create: [Broken]. Rollback requested by user.",
			"Good DELETE_IN_PROGRESS", "Good DELETE_COMPLETE", "Kept DELETE_IN_PROGRESS", "Kept DELETE_COMPLETE", "orders ROLLBACK_COMPLETE"}},
		{OnFailureRollback, "Retain", stack.StatusRollbackComplete, []string{"kept"}, []string{
			"orders ROLLBACK_IN_PROGRESS: The following resource(s) failed to create: [Broken]. Rollback requested by user.",
			"Good DELETE_IN_PROGRESS", "Good DELETE_COMPLETE", "Kept DELETE_SKIPPED", "orders ROLLBACK_COMPLETE"}},
		{OnFailureRollback, "RetainExceptOnCreate", stack.StatusRollbackComplete, nil, nil},
		{OnFailureDelete, "Delete", stack.StatusDeleteComplete, nil, []string{
			"orders DELETE_IN_PROGRESS: The following resource(s) failed to create: [Broken]. Delete requested by user.",
			"Good DELETE_IN_PROGRESS", "Good DELETE_COMPLETE", "Kept DELETE_IN_PROGRESS", "Kept DELETE_COMPLETE", "orders DELETE_COMPLETE"}},
	} {
		t.Run(tc.onFailure+" "+tc.policy, func(t *testing.T) {
			w := newWorld(t)
			w.aws.fail = func(op, target string) string {
				if op == "CreateFunction" && target == "broken" {
					return "the broken function cannot be created"
				}
				return ""
			}
			res, events, err := w.serve(fmt.Sprintf(twoFunctions, tc.policy), Options{OnCreateFailure: tc.onFailure})
			if err == nil || res.Status != tc.status || w.record().Status != tc.status {
				t.Fatalf("deploy: %v, status %s (record %s), want %s", err, res.Status, w.record().Status, tc.status)
			}
			var left []string
			for name := range w.aws.functions {
				left = append(left, name)
			}
			slices.Sort(left)
			if !slices.Equal(left, tc.left) {
				t.Errorf("functions left %v, want %v", left, tc.left)
			}
			want := []string{"Good CREATE_IN_PROGRESS", "Good CREATE_COMPLETE", "Kept CREATE_IN_PROGRESS", "Kept CREATE_COMPLETE",
				"Broken CREATE_IN_PROGRESS", "Broken CREATE_FAILED: Resource handler returned message: \"the broken function cannot be created\" (Service: Lambda, Status Code: 400, Request ID: )"}
			if tc.events != nil && !slices.Equal(events, append(want, tc.events...)) {
				t.Errorf("events\n%s\nwant\n%s", strings.Join(events, "\n"), strings.Join(append(want, tc.events...), "\n"))
			}
			if rec := w.record(); rec.Owner != "" || len(rec.Applied) != 0 {
				t.Errorf("the record still holds the operation: owner %q, journal %v", rec.Owner, rec.Applied)
			}
		})
	}
}

// TestBodyCode: a template given as a body cannot name local code, refused as CloudFormation (or SAM's transform)
// refuses it, nor an image; inline code and code in S3 deploy.
func TestBodyCode(t *testing.T) {
	pseudo := cfn.Pseudo{Region: "us-east-1", AccountID: "000000000000", StackName: "orders", StackID: "arn:aws:cloudformation:us-east-1:000000000000:stack/orders/x"}
	for _, tc := range []struct{ body, want string }{
		{`Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties: {Role: r, Runtime: nodejs22.x, Handler: index.handler, Code: src/}
`, "Properties validation failed for resource Fn with message: [#/Code: expected type: JSONObject, found: String]"},
		{`Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties: {Runtime: nodejs22.x, Handler: index.handler, CodeUri: src/}
`, "Transform AWS::Serverless-2016-10-31 failed with: Invalid Serverless Application Specification document. Number of errors found: 1. Resource with id [Fn] is invalid. 'CodeUri' is not a valid S3 Uri of the form 's3://bucket/key' with optional versionId query parameter."},
		{`Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties: {Role: r, Runtime: nodejs22.x, Handler: index.handler, Code: {ImageUri: "000000000000.dkr.ecr.us-east-1.amazonaws.com/r:1"}}
`, "Code must be inline (ZipFile) or an S3 object (S3Bucket and S3Key)"},
	} {
		_, err := Inspect(t.Context(), []byte(tc.body), pseudo, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Inspect: %v, want %q", err, tc.want)
		}
	}
	in, err := Inspect(t.Context(), []byte(`Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties: {Runtime: nodejs22.x, Handler: index.handler, InlineCode: "exports.handler = async () => 1"}
`), pseudo, nil)
	if err != nil || in.Processed.Resources["FnRole"] == nil || in.Template.Resources["Fn"].Type != "AWS::Serverless::Function" {
		t.Fatalf("Inspect of SAM with inline code: %v", err)
	}
	if _, err := Inspect(t.Context(), []byte(`Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties: {Role: r, Runtime: nodejs22.x, Handler: index.handler, Code: {S3Bucket: b, S3Key: k}}
`), pseudo, nil); err != nil {
		t.Fatalf("Inspect of code in S3: %v", err)
	}
}

// TestHeldDeployResumes: a deploy held by an owner finds the stack in progress under that owner and carries on
// (no "being deployed" refusal); a deploy found in a rollback phase is rolled back with the journal the record
// kept; one interrupted records no end, for its owner to resume.
func TestHeldDeployResumes(t *testing.T) {
	w := newWorld(t)
	v1 := app{release: "v1", version: "VersionA"}.template()
	if _, events, err := w.serve(v1, Options{OnCreateFailure: OnFailureRollback}); err != nil || w.record().Status != stack.StatusCreateComplete {
		t.Fatalf("create: %v %s\n%s", err, w.record().Status, strings.Join(events, "\n"))
	}
	// An update changed the function's memory, then the server stopped while rolling it back: the record is in
	// UPDATE_ROLLBACK_IN_PROGRESS with the journal, and the function has the new memory.
	rec := w.record()
	old := rec.Resources["Fn"]
	changed := old
	changed.Properties = map[string]any{}
	for k, v := range old.Properties {
		changed.Properties[k] = v
	}
	changed.Properties["MemorySize"] = 256
	rec.Resources["Fn"] = changed
	rec.Status, rec.Owner, rec.Reason = stack.StatusUpdateRollbackInProgress, owner, "The following resource(s) failed to update: [Live]. "
	rec.Applied = []stack.Applied{{LogicalID: "Fn", Action: string(ActionUpdate), Old: old}}
	if _, err := w.stacks.Put(t.Context(), rec); err != nil {
		t.Fatal(err)
	}
	w.aws.functions["orders"].memory = 256
	v2 := app{release: "v2", memory: 256, version: "VersionB"}.template()
	_, events, err := w.serve(v2, Options{})
	if err == nil || w.record().Status != stack.StatusUpdateRollbackComplete || w.aws.functions["orders"].memory != 128 {
		t.Fatalf("resumed rollback: %v, %s, memory %d\n%s", err, w.record().Status, w.aws.functions["orders"].memory, strings.Join(events, "\n"))
	}
	if w.aws.functions["orders"].versions["2"].sha != "" || len(w.aws.functions["orders"].versions) != 1 {
		t.Errorf("the resumed rollback applied the update: versions %v", w.aws.versions("orders"))
	}
	if !slices.Contains(events, "Fn UPDATE_COMPLETE") || events[len(events)-1] != "orders UPDATE_ROLLBACK_COMPLETE" {
		t.Errorf("events\n%s", strings.Join(events, "\n"))
	}

	// Interrupted: nothing ends the operation; the record stays in progress under its owner.
	ctx, cancel := context.WithCancel(t.Context())
	w.aws.setPolls(1000) // the shift never ends
	go func() {
		for len(w.aws.deployments()) == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel() // the deployment exists; the record may or may not say so yet
	}()
	rec = w.record()
	rec.Status, rec.Owner = stack.StatusUpdateInProgress, owner
	if _, err := w.stacks.Put(t.Context(), rec); err != nil {
		t.Fatal(err)
	}
	o := Options{TemplateBody: []byte(v2), StackName: "orders", Config: w.aws.config(), Stacks: w.stacks, Poll: time.Second, clock: w.clock, Owner: owner}
	if _, err := Deploy(ctx, o); err == nil {
		t.Fatal("an interrupted deploy returned no error")
	}
	if rec := w.record(); rec.Status != stack.StatusUpdateInProgress || rec.Owner != owner || len(rec.Applied) == 0 {
		t.Fatalf("after the interruption: %s owner %q journal %d", rec.Status, rec.Owner, len(rec.Applied))
	}
	// Resumed: the shift it started is watched, not started again.
	w.aws.setPolls(2) // a request of the interrupted deploy may still be served meanwhile
	before := len(w.aws.deployments())
	o.Resuming = true
	if _, err := Deploy(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	if rec := w.record(); rec.Status != stack.StatusUpdateComplete || len(w.aws.deployments()) != before {
		t.Fatalf("resumed: %s, deployments %d (were %d)", rec.Status, len(w.aws.deployments()), before)
	}
}

// TestUpdateEvents: an update through a traffic shift reports each step as CloudFormation does — the new version
// created, the alias updated once its shift succeeded, the old version deleted in the cleanup phase; an update that
// fails with DisableRollback stops as it is (UPDATE_FAILED), nothing put back.
func TestUpdateEvents(t *testing.T) {
	w := newWorld(t)
	if _, events, err := w.serve(app{release: "v1", version: "VersionA"}.template(), Options{}); err != nil {
		t.Fatalf("create: %v\n%s", err, strings.Join(events, "\n"))
	}
	_, events, err := w.serve(app{release: "v2", version: "VersionB"}.template(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Fn UPDATE_IN_PROGRESS", "Fn UPDATE_COMPLETE", "VersionB CREATE_IN_PROGRESS", "VersionB CREATE_COMPLETE",
		"Live UPDATE_IN_PROGRESS", "Live UPDATE_COMPLETE", "orders UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
		"VersionA DELETE_IN_PROGRESS", "VersionA DELETE_COMPLETE", "orders UPDATE_COMPLETE"}
	if !slices.Equal(events, want) {
		t.Fatalf("events\n%s\nwant\n%s", strings.Join(events, "\n"), strings.Join(want, "\n"))
	}
	if st := w.record().Resources["Live"]; st.Status != UpdateComplete || st.Updated.IsZero() {
		t.Errorf("the alias's recorded status %q at %v", st.Status, st.Updated)
	}

	w.aws.outcome = "Failed" // the shift is rolled back
	_, events, err = w.serve(app{release: "v3", version: "VersionC", memory: 256}.template(), Options{DisableRollback: true})
	if err == nil || w.record().Status != stack.StatusUpdateFailed || w.aws.functions["orders"].memory != 256 {
		t.Fatalf("DisableRollback: %v, %s, memory %d\n%s", err, w.record().Status, w.aws.functions["orders"].memory, strings.Join(events, "\n"))
	}
	if last := events[len(events)-1]; !strings.HasPrefix(last, "orders UPDATE_FAILED: The following resource(s) failed to update: [Live].") {
		t.Errorf("the last event %q", last)
	}
}

// TestUnheldStackRefused: a Deploy or Delete runs only on a stack its owner holds — recorded in progress under
// Options.Owner, as the service records an operation before running it — and changes nothing otherwise; a dry run
// needs no hold.
func TestUnheldStackRefused(t *testing.T) {
	body := app{release: "v1", version: "VersionA"}.template()
	for _, tc := range []struct {
		name   string
		record *stack.Stack // nil: no record
		owner  string
	}{
		{name: "no owner given", record: &stack.Stack{Status: stack.StatusCreateInProgress, Owner: owner}},
		{name: "no record", owner: owner},
		{name: "not in progress", record: &stack.Stack{Status: stack.StatusUpdateComplete, Owner: owner}, owner: owner},
		{name: "held by another owner", record: &stack.Stack{Status: stack.StatusUpdateInProgress, Owner: "someone else"}, owner: owner},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			if tc.record != nil {
				tc.record.Name = "orders"
				if _, err := w.stacks.Put(t.Context(), *tc.record); err != nil {
					t.Fatal(err)
				}
			}
			o := Options{TemplateBody: []byte(body), StackName: "orders", Config: w.aws.config(), Stacks: w.stacks, clock: w.clock, Owner: tc.owner}
			if _, err := Deploy(t.Context(), o); err == nil {
				t.Error("Deploy ran on a stack its owner does not hold")
			}
			if _, err := Delete(t.Context(), o); err == nil {
				t.Error("Delete ran on a stack its owner does not hold")
			}
			if log := w.aws.logged(); len(log) != 0 {
				t.Errorf("changed:\n%s", strings.Join(log, "\n"))
			}
			o.DryRun = true
			if res, err := Deploy(t.Context(), o); err != nil || !res.Changed() {
				t.Errorf("dry run: %v, %+v", err, res)
			}
		})
	}
}
