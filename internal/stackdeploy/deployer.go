// Package stackdeploy is `sluice deploy`: it makes a SAM or CloudFormation template so, through Sluice's own AWS
// APIs (the same calls any AWS client makes, under the caller's credentials), and remembers what it made in a
// server-side stack record.
//
// A deploy loads the template (internal/cfn), expands SAM (internal/sam) after packaging local code
// (internal/pack), then walks the resources in dependency order: each is created, updated (or replaced) or left
// alone by comparing its resolved properties with those recorded last time; resources that left the template
// are deleted (unless retained). An alias whose version moves under a CodeDeployLambdaAliasUpdate policy is not
// updated directly: a CodeDeploy deployment shifts its traffic, and the deploy watches it to the end. The
// first deploy creates aliases at their version in one step (no deployment: there is nothing to shift from).
package stackdeploy

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/sluice-dev/sluice/internal/cfn"
	"github.com/sluice-dev/sluice/internal/stack"
)

// Options configure a deploy.
type Options struct {
	TemplatePath string
	StackName    string
	Overrides    map[string]string
	// DryRun computes the changes without making them.
	DryRun bool
	Config aws.Config
	Stacks stack.Store
	// Observer is told how traffic shifts stand while they run (nil: nobody).
	Observer Observer
	// Event reports each step as a line of text (nil: none).
	Event func(format string, args ...any)
	// Poll is how often a running deployment is looked at (default 500 ms).
	Poll time.Duration
	// Unlock deploys even if the stack is recorded as being deployed (by a deploy that is known to be gone).
	Unlock bool
}

// Change is one resource's fate in a deploy.
type Change struct {
	LogicalID  string   `json:"logicalId"`
	Type       string   `json:"type"`
	Action     Action   `json:"action"`
	PhysicalID string   `json:"physicalId,omitempty"`
	Properties []string `json:"changedProperties,omitempty"`
	Detail     string   `json:"detail,omitempty"`
}

// Action is what a deploy does to a resource.
type Action string

// Actions.
const (
	ActionCreate  Action = "create"
	ActionUpdate  Action = "update"
	ActionReplace Action = "replace"
	ActionDelete  Action = "delete"
	ActionRetain  Action = "retain" // left the template, kept (DeletionPolicy: Retain)
	ActionNone    Action = "none"
	ActionShift   Action = "shift" // an alias's traffic moves through CodeDeploy
)

// Shift is a traffic shift a deploy ran. A deploy that stopped before the shift ended (interrupted, or failed
// elsewhere) reports the status it last saw and says the deployment goes on.
type Shift struct {
	LogicalID    string `json:"logicalId"`
	Alias        string `json:"alias"`
	Function     string `json:"function"`
	FromVersion  string `json:"fromVersion"`
	ToVersion    string `json:"toVersion"`
	DeploymentID string `json:"deploymentId"`
	Config       string `json:"deploymentConfig"`
	Status       string `json:"status"`
	Message      string `json:"message,omitempty"`
	Invocations  int64  `json:"newVersionInvocations"`
	Errors       int64  `json:"newVersionErrors"`
}

// Result is a deploy's outcome.
type Result struct {
	Stack   string            `json:"stack"`
	Status  stack.Status      `json:"status"`
	Reason  string            `json:"reason,omitempty"`
	Changes []Change          `json:"changes"`
	Shifts  []Shift           `json:"shifts,omitempty"`
	Outputs map[string]string `json:"outputs,omitempty"`
	Notes   []string          `json:"notes,omitempty"`
	DryRun  bool              `json:"dryRun,omitempty"`
}

// Changed reports whether the deploy changed (or would change) anything.
func (r *Result) Changed() bool {
	for _, c := range r.Changes {
		if c.Action != ActionNone {
			return true
		}
	}
	return false
}

// ErrRolledBack is returned (wrapped) when a traffic shift was rolled back.
var ErrRolledBack = errors.New("traffic shift rolled back")

// run is one deploy in progress.
type run struct {
	o       Options
	l       *loaded
	region  string
	account string
	lambda  *lambda.Client
	iam     *iam.Client
	cw      *cloudwatch.Client
	cd      *codedeploy.Client
	st      stack.Stack
	// state is what exists now, by logical id (starts as the recorded stack).
	state   map[string]stack.ResourceState
	pending []*pendingShift
	// replaced are resources superseded by a replacement, deleted at the end.
	replaced []replacedResource
	result   Result
}

func (r *run) event(format string, args ...any) {
	if r.o.Event != nil {
		r.o.Event(format, args...)
	}
}

// Deploy deploys a template as a stack. It returns the result even when it fails.
func Deploy(ctx context.Context, o Options) (*Result, error) {
	r := newRun(o)
	err := r.deploy(ctx)
	if err != nil {
		r.recordUnwatched()
	}
	if err != nil && r.result.Reason == "" {
		r.result.Reason = err.Error()
	}
	return &r.result, err
}

func (r *run) deploy(ctx context.Context) error {
	id, err := sts.NewFromConfig(r.o.Config).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return fmt.Errorf("who am I (sts:GetCallerIdentity): %w", err)
	}
	r.account = aws.ToString(id.Account)
	st, err := r.o.Stacks.Get(ctx, r.o.StackName)
	switch {
	case errors.Is(err, stack.ErrNotFound):
		st = stack.Stack{Name: r.o.StackName, Resources: map[string]stack.ResourceState{}}
	case err != nil:
		return fmt.Errorf("read stack %s: %w", r.o.StackName, err)
	}
	if err := r.locked(st); err != nil {
		return err
	}
	if st.Resources == nil {
		st.Resources = map[string]stack.ResourceState{}
	}
	r.st = st
	r.state = map[string]stack.ResourceState{}
	for k, v := range st.Resources {
		r.state[k] = v
	}
	if err := r.readLiveAliases(ctx); err != nil {
		return err
	}
	pseudo := cfn.Pseudo{Region: r.region, AccountID: r.account, StackName: r.o.StackName,
		StackID: "arn:aws:cloudformation:" + r.region + ":" + r.account + ":stack/" + r.o.StackName + "/sluice"}
	r.event("reading %s", r.o.TemplatePath)
	r.l, err = load(ctx, r.o.TemplatePath, pseudo, r.o.Overrides, func(id string) { r.event("building %s (go build)", id) })
	if err != nil {
		return err
	}
	r.result.Notes = r.l.notes
	order, err := r.l.eval.Order()
	if err != nil {
		return err
	}
	if err := r.check(order); err != nil {
		return err
	}
	if r.o.DryRun {
		return r.plan(order)
	}
	creating := len(st.Resources) == 0
	status := stack.StatusUpdateInProgress
	if creating {
		status = stack.StatusCreateInProgress
	}
	if err := r.hold(ctx, status); err != nil {
		return err
	}
	err = r.apply(ctx, order)
	if err == nil {
		err = r.removeLeftovers(ctx)
	}
	if err == nil {
		err = r.awaitShifts(ctx)
	}
	if err == nil {
		r.result.Outputs, err = r.l.eval.Outputs(r.refs())
		r.st.Outputs = r.result.Outputs
	}
	r.st.Owner = ""
	r.st.Parameters = r.o.Overrides
	r.st.TemplateSHA256 = r.l.sha256
	switch {
	case errors.Is(err, ErrRolledBack):
		r.st.Status = stack.StatusUpdateRolledBack
	case err != nil && creating:
		r.st.Status = stack.StatusCreateFailed
	case err != nil:
		r.st.Status = stack.StatusUpdateFailed
	case creating:
		r.st.Status = stack.StatusCreateComplete
	default:
		r.st.Status = stack.StatusUpdateComplete
	}
	if err != nil {
		r.st.Reason = err.Error()
	}
	r.result.Status = r.st.Status
	// Record the outcome even when the caller gave up (Ctrl-C): the stack must not stay locked.
	saveCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if serr := r.save(saveCtx); serr != nil && err == nil {
		err = serr
	}
	return err
}

func newRun(o Options) *run {
	if o.Poll == 0 {
		o.Poll = 500 * time.Millisecond
	}
	r := &run{o: o, region: o.Config.Region, lambda: lambda.NewFromConfig(o.Config), iam: iam.NewFromConfig(o.Config),
		cw: cloudwatch.NewFromConfig(o.Config), cd: codedeploy.NewFromConfig(o.Config)}
	r.result = Result{Stack: o.StackName, DryRun: o.DryRun, Changes: []Change{}}
	return r
}

// Delete deletes what a stack made — except resources it retains (DeletionPolicy: Retain), which stay — and then
// the stack's record. Options' TemplatePath, Overrides and DryRun are not used.
func Delete(ctx context.Context, o Options) (*Result, error) {
	r := newRun(o)
	err := r.delete(ctx)
	if err != nil && r.result.Reason == "" {
		r.result.Reason = err.Error()
	}
	return &r.result, err
}

func (r *run) delete(ctx context.Context) error {
	st, err := r.o.Stacks.Get(ctx, r.o.StackName)
	if err != nil {
		return fmt.Errorf("read stack %s: %w", r.o.StackName, err)
	}
	if err := r.locked(st); err != nil {
		return err
	}
	r.st, r.state = st, map[string]stack.ResourceState{}
	for k, v := range st.Resources {
		r.state[k] = v
	}
	if err := r.hold(ctx, stack.StatusDeleteInProgress); err != nil {
		return err
	}
	if err := r.removeLeftovers(ctx); err != nil {
		r.st.Status, r.st.Owner, r.st.Reason = stack.StatusDeleteFailed, "", err.Error()
		r.result.Status = r.st.Status
		saveCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_ = r.save(saveCtx)
		return err
	}
	if err := r.o.Stacks.Delete(ctx, r.st.Name, r.st.Revision); err != nil {
		return fmt.Errorf("delete the record of stack %s: %w", r.st.Name, err)
	}
	r.result.Status = stack.StatusDeleteComplete
	return nil
}

// locked refuses a stack another deploy holds (unless it has been silent for staleLock, or Unlock says it is gone).
func (r *run) locked(st stack.Stack) error {
	if !st.Status.InProgress() || time.Since(st.Updated) >= staleLock || r.o.Unlock {
		return nil
	}
	return fmt.Errorf("stack %s is being deployed by %s (since %s); try again when it is done, or with --unlock if that deploy is gone",
		st.Name, st.Owner, st.Updated.Local().Format(time.TimeOnly))
}

// hold records the stack as in progress (status) by this process, which locks it for other deploys.
func (r *run) hold(ctx context.Context, status stack.Status) error {
	host, _ := os.Hostname()
	r.st.Status, r.st.Owner, r.st.Reason = status, fmt.Sprintf("%s pid %d", host, os.Getpid()), ""
	return r.save(ctx)
}

// staleLock is how long an in-progress stack stays locked when its deploy disappeared.
const staleLock = 2 * time.Hour

// save writes the stack record (a checkpoint after every change).
func (r *run) save(ctx context.Context) error {
	r.st.Resources = map[string]stack.ResourceState{}
	for k, v := range r.state {
		r.st.Resources[k] = v
	}
	stored, err := r.o.Stacks.Put(ctx, r.st)
	if err != nil {
		return fmt.Errorf("save stack %s: %w", r.st.Name, err)
	}
	r.st = stored
	return nil
}

// check refuses, before anything is touched, templates with resource types or properties Sluice cannot deploy.
func (r *run) check(order []string) error {
	var problems []string
	for _, id := range order {
		res := r.l.tpl.Resources[id]
		h, ok := handlers[res.Type]
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: resource type %s is not supported by sluice deploy", id, res.Type))
			continue
		}
		if err := h.check(r, id, res); err != nil {
			problems = append(problems, fmt.Sprintf("%s (%s): %v", id, res.Type, err))
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "\n"))
	}
	return nil
}

// resolved evaluates a resource's properties against what exists now.
func (r *run) resolved(id string, refs cfn.Refs) (map[string]any, error) {
	res := r.l.tpl.Resources[id]
	v, err := r.l.eval.Eval(res.Properties, refs, "Resources."+id+".Properties")
	if err != nil {
		return nil, err
	}
	props, _ := v.(map[string]any)
	if props == nil {
		props = map[string]any{}
	}
	return props, nil
}

// apply creates, updates or replaces each resource in dependency order.
func (r *run) apply(ctx context.Context, order []string) error {
	for _, id := range order {
		res := r.l.tpl.Resources[id]
		h := handlers[res.Type]
		props, err := r.resolved(id, r.refs())
		if err != nil {
			return err
		}
		props = h.normalize(r, id, props)
		prev, existed := r.state[id]
		desired := &resource{id: id, typ: res.Type, props: props, raw: res}
		switch {
		case !existed || prev.Type != res.Type:
			if existed {
				r.replaced = append(r.replaced, replacedResource{id, prev})
			}
			r.event("creating %s (%s)", id, res.Type)
			if err := h.create(ctx, r, desired); err != nil {
				return fmt.Errorf("%s: create: %w", id, err)
			}
			r.note(Change{LogicalID: id, Type: res.Type, Action: ActionCreate, PhysicalID: desired.physicalID})
		default:
			changed := changedKeys(prev.Properties, props)
			if len(changed) == 0 {
				r.note(Change{LogicalID: id, Type: res.Type, Action: ActionNone, PhysicalID: prev.PhysicalID})
				continue
			}
			desired.physicalID, desired.attrs = prev.PhysicalID, prev.Attributes
			if h.replaces(changed) {
				r.event("replacing %s (%s): %s changed", id, res.Type, strings.Join(changed, ", "))
				r.replaced = append(r.replaced, replacedResource{id, prev})
				desired.physicalID, desired.attrs = "", nil
				if err := h.create(ctx, r, desired); err != nil {
					return fmt.Errorf("%s: replace: %w", id, err)
				}
				r.note(Change{LogicalID: id, Type: res.Type, Action: ActionReplace, PhysicalID: desired.physicalID, Properties: changed})
				break
			}
			r.event("updating %s (%s): %s", id, res.Type, strings.Join(changed, ", "))
			action, detail, err := h.update(ctx, r, desired, prev, changed)
			if err != nil {
				return fmt.Errorf("%s: update: %w", id, err)
			}
			r.note(Change{LogicalID: id, Type: res.Type, Action: action, PhysicalID: desired.physicalID, Properties: changed, Detail: detail})
			if action == ActionShift {
				continue // recorded once the shift succeeds
			}
		}
		r.state[id] = stack.ResourceState{Type: res.Type, PhysicalID: desired.physicalID, Properties: props,
			Attributes: desired.attrs, Retain: res.DeletionPolicy == "Retain"}
		if err := r.save(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (r *run) note(c Change) { r.result.Changes = append(r.result.Changes, c) }

// removeLeftovers deletes what left the template (and what was replaced), most dependent first.
func (r *run) removeLeftovers(ctx context.Context) error {
	var gone []replacedResource
	for id, st := range r.state {
		if r.l != nil { // nil when the whole stack is being deleted
			if _, ok := r.l.tpl.Resources[id]; ok {
				if inc, _ := r.l.eval.Included(id); inc {
					continue
				}
			}
		}
		gone = append(gone, replacedResource{id, st})
	}
	gone = append(gone, r.replaced...)
	sort.SliceStable(gone, func(i, j int) bool {
		pi, pj := deletePriority(gone[i].state.Type), deletePriority(gone[j].state.Type)
		if pi != pj {
			return pi < pj
		}
		return gone[i].id < gone[j].id
	})
	for _, g := range gone {
		isReplacement := false
		if cur, ok := r.state[g.id]; ok && cur.PhysicalID != g.state.PhysicalID {
			isReplacement = true
		}
		if g.state.Retain {
			r.event("retaining %s (%s) %s", g.id, g.state.Type, g.state.PhysicalID)
			if !isReplacement {
				delete(r.state, g.id)
				r.note(Change{LogicalID: g.id, Type: g.state.Type, Action: ActionRetain, PhysicalID: g.state.PhysicalID})
			}
		} else {
			r.event("deleting %s (%s) %s", g.id, g.state.Type, g.state.PhysicalID)
			if h, ok := handlers[g.state.Type]; ok {
				if err := h.remove(ctx, r, g.state); err != nil {
					return fmt.Errorf("%s: delete %s: %w", g.id, g.state.PhysicalID, err)
				}
			}
			if !isReplacement {
				delete(r.state, g.id)
				r.note(Change{LogicalID: g.id, Type: g.state.Type, Action: ActionDelete, PhysicalID: g.state.PhysicalID})
			}
		}
		if err := r.save(ctx); err != nil {
			return err
		}
	}
	return nil
}

type replacedResource struct {
	id    string
	state stack.ResourceState
}

// deletePriority orders deletions so that nothing is deleted while something else still uses it.
func deletePriority(typ string) int {
	switch typ {
	case "AWS::Lambda::EventInvokeConfig":
		return 0
	case "AWS::Lambda::Alias":
		return 1
	case "AWS::CodeDeploy::DeploymentGroup":
		return 2
	case "AWS::Lambda::Version":
		return 3
	case "AWS::Lambda::Function":
		return 4
	case "AWS::CloudWatch::Alarm", "AWS::CodeDeploy::DeploymentConfig":
		return 5
	case "AWS::CodeDeploy::Application":
		return 6
	}
	return 7 // roles last: functions and groups name them
}

// changedKeys lists the top-level properties whose values differ.
func changedKeys(old, new map[string]any) []string {
	var out []string
	seen := map[string]bool{}
	for k, v := range new {
		seen[k] = true
		if !sameJSON(old[k], v) {
			out = append(out, k)
		}
	}
	for k := range old {
		if !seen[k] {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// sameJSON compares values as JSON would encode them (records come back from JSON).
func sameJSON(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	var va, vb any
	_ = json.Unmarshal(ja, &va)
	_ = json.Unmarshal(jb, &vb)
	return reflect.DeepEqual(va, vb)
}

// refs resolves Ref and Fn::GetAtt against what exists now.
func (r *run) refs() cfn.Refs { return liveRefs{r} }

type liveRefs struct{ r *run }

func (l liveRefs) Ref(id string) (any, error) {
	st, ok := l.r.state[id]
	if !ok {
		return nil, fmt.Errorf("%s does not exist yet", id)
	}
	return st.PhysicalID, nil
}

func (l liveRefs) GetAtt(id, attr string) (any, error) {
	st, ok := l.r.state[id]
	if !ok {
		return nil, fmt.Errorf("%s does not exist yet", id)
	}
	if v, ok := st.Attributes[attr]; ok {
		return v, nil
	}
	return nil, fmt.Errorf("%s (%s) has no attribute %s", id, st.Type, attr)
}

// physicalName makes a name for a resource the template does not name, as CloudFormation does:
// <stack>-<logical id>-<random>, cut to max.
func (r *run) physicalName(id string, max int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	prefix := r.o.StackName + "-" + id
	if len(prefix) > max-13 {
		prefix = prefix[:max-13]
	}
	return prefix + "-" + string(b)
}

// readLiveAliases replaces the recorded version of each alias of the stack with the one it is on now: `sluice
// rollback`, a CodeDeploy rollback or a hand-made update moves an alias without the stack record knowing, and a
// deploy or a diff must start from where traffic really goes — not skip a shift because the record already names
// the version the template asks for.
func (r *run) readLiveAliases(ctx context.Context) error {
	for _, id := range sortedKeys(r.state) {
		st := r.state[id]
		if st.Type != "AWS::Lambda::Alias" {
			continue
		}
		fn, name, recorded := str(st.Properties, "FunctionName"), str(st.Properties, "Name"), str(st.Properties, "FunctionVersion")
		if fn == "" || name == "" {
			continue
		}
		a, err := r.lambda.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String(fn), Name: aws.String(name)})
		var notFound *types.ResourceNotFoundException
		if errors.As(err, &notFound) {
			continue // gone: the alias handler recreates it
		}
		if err != nil {
			return fmt.Errorf("read alias %s:%s: %w", fn, name, err)
		}
		if live := aws.ToString(a.FunctionVersion); live != recorded {
			st.Properties = maps.Clone(st.Properties)
			st.Properties["FunctionVersion"] = live
			r.state[id] = st
			r.event("%s: alias %s:%s is on version %s (the stack recorded %s)", id, fn, name, live, recorded)
		}
	}
	return nil
}
