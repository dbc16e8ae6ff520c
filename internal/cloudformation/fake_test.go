package cloudformation

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/cfn"
	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/sigv4"
	"github.com/sluice-dev/sluice/internal/stack"
	"github.com/sluice-dev/sluice/internal/store"
	"github.com/sluice-dev/sluice/internal/store/bolt"
	"github.com/sluice-dev/sluice/internal/store/storetest"
)

// fakeEngine keeps the engine's contract with the service the simple way: it makes every resource of the template
// (physical id "<stack>-<id>"), recording each step in the stack's record and reporting it as an event, and ends
// in the status an operation of its kind ends in. failOn makes a resource's creation or update fail; hold makes a
// run wait until it is released or its context ends; plan is what a dry run answers.
type fakeEngine struct {
	t      *testing.T
	stacks *stack.KV
	mu     sync.Mutex
	failOn string
	// early makes Run fail before it holds the stack (it records nothing).
	early error
	hold  chan struct{}
	held  chan struct{}
	plan  []PlannedChange
	runs  []Run
}

func (e *fakeEngine) Inspect(_ context.Context, body []byte, pseudo cfn.Pseudo, parameters map[string]string) (*Inspection, error) {
	t, err := cfn.Parse(body)
	if err != nil {
		return nil, err
	}
	if _, err := cfn.NewEvaluator(t, pseudo, parameters); err != nil {
		return nil, err
	}
	for _, r := range t.Resources {
		if r.Type == "AWS::SQS::Queue" {
			return nil, errors.New("Queue: resource type AWS::SQS::Queue is not supported by sluice deploy")
		}
	}
	return &Inspection{Template: t, Processed: t}, nil
}

func (e *fakeEngine) Run(ctx context.Context, run Run) (RunResult, error) {
	e.mu.Lock()
	e.runs = append(e.runs, run)
	failOn, early, hold, held, plan := e.failOn, e.early, e.hold, e.held, e.plan
	e.mu.Unlock()
	if early != nil {
		return RunResult{}, early
	}
	if run.Kind == RunPlan {
		return RunResult{Changes: plan}, nil
	}
	if held != nil {
		held <- struct{}{}
	}
	if hold != nil {
		select {
		case <-hold:
		case <-ctx.Done():
			return RunResult{}, ctx.Err()
		}
	}
	st, err := e.stacks.Get(ctx, run.Stack)
	if err != nil {
		return RunResult{}, err
	}
	step := func(id, typ, status, reason string) {
		run.Events(Event{LogicalID: id, Type: typ, PhysicalID: run.Stack + "-" + id, Status: status, Reason: reason})
	}
	finish := func(status stack.Status) (RunResult, error) {
		st.Status, st.Owner = status, ""
		run.Events(Event{LogicalID: run.Stack, Type: stackType, PhysicalID: st.StackID(), Status: string(status)})
		if _, err := e.stacks.Put(context.WithoutCancel(ctx), st); err != nil {
			return RunResult{}, err
		}
		return RunResult{Status: status}, nil
	}
	if run.Kind == stack.OpDelete {
		for _, id := range sortedKeys(st.Resources) {
			step(id, st.Resources[id].Type, "DELETE_IN_PROGRESS", "")
			step(id, st.Resources[id].Type, "DELETE_COMPLETE", "")
			delete(st.Resources, id)
		}
		return finish(stack.StatusDeleteComplete)
	}
	t, err := cfn.Parse(run.Body)
	if err != nil {
		return RunResult{}, err
	}
	creating := run.Kind == stack.OpCreate
	if st.Resources == nil {
		st.Resources = map[string]stack.ResourceState{}
	}
	for _, id := range t.ResourceOrder {
		typ := t.Resources[id].Type
		verb := "UPDATE"
		if _, ok := st.Resources[id]; !ok {
			verb = "CREATE"
		}
		step(id, typ, verb+"_IN_PROGRESS", "")
		if id == failOn {
			step(id, typ, verb+"_FAILED", "it failed")
			switch {
			case !creating && run.DisableRollback:
				return finish(stack.StatusUpdateFailed)
			case !creating:
				return finish(stack.StatusUpdateRollbackComplete)
			case run.OnFailure == "DO_NOTHING":
				return finish(stack.StatusCreateFailed)
			case run.OnFailure == "DELETE":
				st.Resources = map[string]stack.ResourceState{}
				return finish(stack.StatusDeleteComplete)
			}
			st.Resources = map[string]stack.ResourceState{}
			return finish(stack.StatusRollbackComplete)
		}
		st.Resources[id] = stack.ResourceState{Type: typ, PhysicalID: run.Stack + "-" + id, Status: verb + "_COMPLETE"}
		step(id, typ, verb+"_COMPLETE", "")
	}
	outputs := map[string]string{}
	for name := range t.Outputs {
		outputs[name] = "value-of-" + name
	}
	st.Outputs = outputs
	if creating {
		return finish(stack.StatusCreateComplete)
	}
	return finish(stack.StatusUpdateComplete)
}

// fakeSessions mints sessions and remembers which are live.
type fakeSessions struct {
	mu      sync.Mutex
	n       int
	live    map[string]string // access key → principal
	trusted []string          // roles that trust CloudFormation
	denied  []string          // actions refused
	now     func() time.Time
}

func (f *fakeSessions) mint(principal string) sigv4.Credential {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	id := fmt.Sprintf("ASIAFAKE%04d", f.n)
	f.live[id] = principal
	return sigv4.Credential{AccessKeyID: id, SecretAccessKey: "secret", SessionToken: "token", Principal: principal, Expires: f.now().Add(12 * time.Hour)}
}

func (f *fakeSessions) ForwardSession(_ context.Context, principal, _ string, _ time.Duration) (sigv4.Credential, error) {
	return f.mint(principal), nil
}

func (f *fakeSessions) ServiceRoleSession(_ context.Context, role, service, name string, _ time.Duration) (sigv4.Credential, bool, error) {
	if service != servicePrincipal || !slices.Contains(f.trusted, role) {
		return sigv4.Credential{}, false, nil
	}
	return f.mint(role + "/" + name), true, nil
}

func (f *fakeSessions) SessionCredential(_ context.Context, id string) (sigv4.Credential, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.live[id]
	if !ok {
		return sigv4.Credential{}, sigv4.ErrUnknownAccessKey
	}
	return sigv4.Credential{AccessKeyID: id, Principal: p, Expires: f.now().Add(11 * time.Hour)}, nil
}

func (f *fakeSessions) RevokeSession(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.live, id)
	return nil
}

func (f *fakeSessions) Authorize(_ context.Context, principal, _, action, resource string) error {
	if slices.Contains(f.denied, action) {
		return fault.New("AccessDenied", "User: %s is not authorized to perform: %s on resource: %s", principal, action, resource)
	}
	return nil
}

func (f *fakeSessions) liveCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.live)
}

// env is a service over a real bbolt store (every Update closure run twice), a fake engine and fake sessions.
type env struct {
	t        *testing.T
	svc      *Service
	db       store.Store
	engine   *fakeEngine
	sessions *fakeSessions
	clock    *clock
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newEnv(t *testing.T) *env {
	t.Helper()
	raw, err := bolt.Open(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	db := storetest.RerunUpdates(raw)
	c := &clock{t: time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)}
	stacks := stack.NewStore(db, stack.WithClock(c.Now), stack.WithStackIDs("us-east-1", "000000000000"))
	e := &env{t: t, db: db, clock: c, engine: &fakeEngine{t: t, stacks: stacks},
		sessions: &fakeSessions{live: map[string]string{}, trusted: []string{"arn:aws:iam::000000000000:role/cfn"}, now: c.Now}}
	e.svc = New(Options{Store: db, Stacks: stacks, Engine: e.engine, Sessions: e.sessions, Region: "us-east-1", Account: "000000000000",
		Now: c.Now, AfterFunc: func(time.Duration, func()) func() bool { return func() bool { return true } }})
	return e
}

var alice = Caller{Principal: "arn:aws:iam::000000000000:user/alice", AccessKeyID: "AKIDALICE"}

// create asks for a stack and returns its ID.
func (e *env) create(name, body string, mod func(*CreateStackInput)) (string, error) {
	in := CreateStackInput{StackInput: StackInput{Caller: alice, StackName: name}}
	in.SetTemplate(body, "", false)
	if mod != nil {
		mod(&in)
	}
	return e.svc.CreateStack(e.t.Context(), in)
}

// settle carries out the stack's operation, as the controller would.
func (e *env) settle(name string) {
	e.t.Helper()
	if err := e.svc.operate(e.t.Context(), name); err != nil {
		e.t.Fatalf("operate %s: %v", name, err)
	}
}

func (e *env) describe(nameOrID string) StackView {
	e.t.Helper()
	vs, err := e.svc.DescribeStacks(e.t.Context(), nameOrID)
	if err != nil {
		e.t.Fatalf("describe %s: %v", nameOrID, err)
	}
	return vs[0]
}

// events are a stack's events, oldest first, as "<logical id> <status>[: reason]".
func (e *env) events(nameOrID string) []string {
	e.t.Helper()
	var out []string
	token := ""
	for {
		evs, next, err := e.svc.DescribeStackEvents(e.t.Context(), nameOrID, token)
		if err != nil {
			e.t.Fatalf("events of %s: %v", nameOrID, err)
		}
		for _, ev := range evs {
			s := ev.LogicalID + " " + ev.Status
			if ev.Reason != "" {
				s += ": " + ev.Reason
			}
			out = append(out, s)
		}
		if next == "" {
			break
		}
		token = next
	}
	slices.Reverse(out)
	return out
}

// hasWork reports whether the controller still owes name an operation.
func (e *env) hasWork(name string) bool {
	var ok bool
	_ = e.db.View(e.t.Context(), func(tx store.Tx) error {
		var err error
		ok, err = store.Exists(tx, prefixOp+name)
		return err
	})
	return ok
}

// wantFault fails unless err is the fault code with a message containing msg.
func wantFault(t *testing.T, err error, code, msg string) {
	t.Helper()
	f, ok := fault.As(err)
	if !ok || f.Code != code || !strings.Contains(f.Message, msg) {
		t.Fatalf("error %v, want %s containing %q", err, code, msg)
	}
}

const simpleTemplate = `Description: simple
Parameters:
  Greeting: {Type: String, Default: hello}
  Secret: {Type: String, NoEcho: true, Default: shh}
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties: {Runtime: nodejs22.x, Handler: index.handler, Role: arn:aws:iam::000000000000:role/orders, Code: {ZipFile: "x"}}
Outputs:
  Name: {Value: !Ref Fn, Description: the function}
`

const roleTemplate = `Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}]}
`
