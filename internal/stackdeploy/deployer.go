// Package stackdeploy is the engine of the CloudFormation API (internal/cloudformation, through the adapter
// internal/server wires): it makes a SAM or CloudFormation template body so, through Sluice's own AWS APIs (the
// same calls any AWS client makes, under the operation's credentials), and remembers what it made in the stack's
// record.
//
// A deploy parses the template (internal/cfn) and expands SAM (internal/sam), then walks the resources in
// dependency order: each is created, updated (or replaced) or left alone by comparing its resolved properties with
// those recorded last time. An alias whose version moves under a CodeDeployLambdaAliasUpdate policy is not updated
// directly: a CodeDeploy deployment shifts its traffic, and the deploy watches it to the end. The first deploy
// creates aliases at their version in one step (no deployment: there is nothing to shift from).
//
// As in CloudFormation, nothing is deleted before every update — traffic shifts included — has succeeded: then
// the cleanup phase deletes, in reverse dependency order, the physical resources replaced and the resources that
// left the template, unless UpdateReplacePolicy or DeletionPolicy retains them (cleanup.go). An update that fails
// instead, or whose shift is rolled back, is rolled back: in-place changes are put back, aliases return to their
// version, and what the deploy created is deleted while what it superseded stays.
package stackdeploy

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/sluice-dev/sluice/internal/cfn"
	"github.com/sluice-dev/sluice/internal/stack"
)

// Options configure a deploy.
type Options struct {
	// TemplateBody is the template itself, as the CloudFormation API receives it. Functions' code must be inline
	// (Code.ZipFile) or uploaded: a local path is refused as CloudFormation does.
	TemplateBody []byte
	StackName    string
	Overrides    map[string]string
	// DryRun computes the changes without making them.
	DryRun bool
	Config aws.Config
	Stacks stack.Store
	// Observer is told each step of each resource and each status of the stack, CloudFormation's events (nil:
	// nobody).
	Observer EventObserver
	// Poll is how often a running deployment is looked at (default 500 ms).
	Poll time.Duration
	// Owner holds the stack while the deploy runs: the CloudFormation API's service records the operation — the
	// stack in progress under Owner — then runs the deploy, again after a restart if need be, and the deploy
	// carries on from what the record says (events.go). A Deploy or Delete refuses a stack its owner does not
	// hold (a dry run needs none), and leaves a deleted stack's record, in DELETE_COMPLETE, to its owner.
	Owner string
	// OnCreateFailure is what a creation that fails does, as CloudFormation's OnFailure: OnFailureRollback (or "",
	// CloudFormation's default) deletes what it made (ROLLBACK_COMPLETE), OnFailureDelete deletes it and the
	// stack (DELETE_COMPLETE), OnFailureDoNothing keeps it (CREATE_FAILED).
	OnCreateFailure string
	// DisableRollback leaves a failed update as it stopped (UPDATE_FAILED), as CloudFormation's DisableRollback.
	DisableRollback bool
	// RetainResources are resources a Delete keeps (CloudFormation's DeleteStack RetainResources).
	RetainResources []string
	// Resuming says the owner ran this operation before and it stopped without an end (a restart, a new
	// leader): a traffic shift it started may be under way without the record saying so yet.
	Resuming bool
	// clock is the deploy's time (nil: the real one); tests set a fake.
	clock clock
}

// What a failed creation does (Options.OnCreateFailure), as CloudFormation's OnFailure names it.
const (
	OnFailureRollback  = "ROLLBACK"
	OnFailureDelete    = "DELETE"
	OnFailureDoNothing = "DO_NOTHING"
)

// Change is one resource's fate in a deploy.
type Change struct {
	LogicalID  string   `json:"logicalId"`
	Type       string   `json:"type"`
	Action     Action   `json:"action"`
	PhysicalID string   `json:"physicalId,omitempty"`
	Properties []string `json:"changedProperties,omitempty"`
	Detail     string   `json:"detail,omitempty"`
	// Details say, for a dry run, how each changed property changes (what a change set describes).
	Details []PropertyChange `json:"-"`
	// Retained: a resource leaving the stack is kept (its DeletionPolicy).
	Retained bool `json:"-"`
}

// PropertyChange is how one property of a resource changes in a dry run.
type PropertyChange struct {
	Name string
	// Replaces: changing the property needs a new physical resource.
	Replaces bool
	// CausedBy names the resource (Ref) or attribute (Fn::GetAtt, "Id.Attr") whose new value the property takes:
	// its value is only known once that resource exists (a dynamic change). "" for a change in the template or
	// the parameters.
	CausedBy string
	// ByAttribute: CausedBy is an attribute (Fn::GetAtt), not a Ref.
	ByAttribute bool
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
	ActionShift   Action = "shift"   // an alias's traffic moves through CodeDeploy
	ActionRestore Action = "restore" // a rollback put back what the deploy had changed
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
	// Resolved are the values the template's AWS::SSM::Parameter::Value<…> parameters resolved to, by parameter
	// (CloudFormation's ResolvedValue).
	Resolved map[string]string `json:"resolvedParameters,omitempty"`
	Notes    []string          `json:"notes,omitempty"`
	DryRun   bool              `json:"dryRun,omitempty"`
	// Cleanup is what became of the physical resources that left the stack (as the stack record's Cleanup).
	Cleanup []stack.Removal `json:"cleanup,omitempty"`
	// Exports are the outputs' export names, by output.
	Exports map[string]string `json:"exports,omitempty"`
}

// Changed reports whether the deploy changed (or would change) anything — a cleanup of what an earlier deploy
// superseded included.
func (r *Result) Changed() bool {
	if len(r.Cleanup) > 0 {
		return true
	}
	for _, c := range r.Changes {
		if c.Action != ActionNone {
			return true
		}
	}
	return false
}

// ErrRolledBack is returned (wrapped) when a traffic shift was rolled back.
var ErrRolledBack = errors.New("traffic shift rolled back")

// ErrRollbackFailed is returned (wrapped, with the failure that caused the rollback) when a failed update could not
// be rolled back entirely: the stack is UPDATE_ROLLBACK_FAILED.
var ErrRollbackFailed = errors.New("the rollback failed")

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
	ssm     *ssm.Client
	s3      *s3.Client
	logs    *cloudwatchlogs.Client
	st      stack.Stack
	// state is what exists now, by logical id (starts as the recorded stack).
	state map[string]stack.ResourceState
	// applied is what the update phase did, in order: after a success the cleanup deletes what it superseded,
	// after a failure the rollback undoes it.
	applied []applied
	pending []*pendingShift
	result  Result
	clock   clock
	// failed are the resources whose step failed, for the stack's reason.
	failed []string
	// renewed are, in a dry run, the resources it would create or replace: what refers to them changes with them.
	renewed map[string]bool
}

// applied is one change the update phase made to a resource.
type applied struct {
	id string
	// action is ActionCreate, ActionReplace (a new physical resource; also a resource whose type changed) or
	// ActionUpdate (in place).
	action Action
	// old is the resource before: the physical resource a replacement superseded, or the state an update changed.
	old stack.ResourceState
	// tried are the properties an update that failed was applying (nil: it did not fail).
	tried map[string]any
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
	if !r.o.DryRun {
		if err := r.holds(st); err != nil {
			return err
		}
	}
	if st.Resources == nil {
		st.Resources = map[string]stack.ResourceState{}
	}
	r.st = st
	r.state = map[string]stack.ResourceState{}
	for k, v := range st.Resources {
		r.state[k] = v
	}
	if !r.o.DryRun {
		r.applied = fromJournal(st.Applied)
	}
	if err := r.readLiveAliases(ctx); err != nil {
		return err
	}
	r.l, err = load(ctx, r.o.TemplateBody, r.pseudo(), r.o.Overrides, r.resolveSSM)
	if err != nil {
		return err
	}
	r.result.Notes, r.result.Resolved = r.l.notes, r.l.resolved
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
	creating := st.Status == stack.StatusCreateInProgress || st.Status == stack.StatusRollbackInProgress
	if rollingBack(st.Status) {
		err = errResumed
		if st.Reason != "" {
			err = errors.New(st.Reason)
		}
		r.resumeShifts()
	} else {
		err = r.apply(ctx, order)
		if err == nil {
			err = r.awaitShifts(ctx)
		}
	}
	var outputs, exports map[string]string
	if err == nil {
		outputs, err = r.l.eval.Outputs(r.refs())
	}
	if err == nil {
		exports, err = r.l.eval.Exports(r.refs())
	}
	if err != nil && ctx.Err() != nil {
		// The owner resumes the operation; nothing is recorded that would end it.
		return err
	}
	switch {
	case err == nil:
		r.result.Outputs, r.st.Outputs, r.result.Exports = outputs, outputs, exports
		r.st.Parameters, r.st.ResolvedParameters, r.st.TemplateSHA256 = r.o.Overrides, r.l.resolved, r.l.sha256
		if r.st.API != nil {
			r.st.API.Outputs = r.outputInfo(exports)
		}
		// Only now, with every update and shift done, does anything superseded go (CloudFormation's cleanup phase).
		r.cleanup(ctx)
		r.st.Status = stack.StatusUpdateComplete
		if creating {
			r.st.Status = stack.StatusCreateComplete
		}
	case creating:
		r.st.Status, err = r.rollbackCreate(ctx, err)
	case r.o.DisableRollback:
		// Asked not to roll back: nothing is rolled back (a shift under way goes on), and the next deploy carries on.
		r.st.Status = stack.StatusUpdateFailed
		r.st.Parameters, r.st.ResolvedParameters, r.st.TemplateSHA256 = r.o.Overrides, r.l.resolved, r.l.sha256
	default:
		// The stack goes back to the template, parameters and outputs it had.
		r.st.Status, err = r.rollback(ctx, err)
	}
	r.st.Owner, r.applied = "", nil
	r.st.Reason = ""
	if err != nil {
		r.st.Reason = r.stackReason(creating, err)
	}
	r.result.Status = r.st.Status
	r.emitStack(r.st.Status, r.finalEventReason())
	// Record the outcome even if the operation's context ends now: the stack must not stay in progress.
	saveCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if serr := r.save(saveCtx); serr != nil && err == nil {
		err = serr
	}
	return err
}

// pseudo are the pseudo parameters' values for the stack.
func (r *run) pseudo() cfn.Pseudo {
	id := r.st.StackID()
	if id == "" {
		id = "arn:aws:cloudformation:" + r.region + ":" + r.account + ":stack/" + r.o.StackName + "/sluice"
	}
	return cfn.Pseudo{Region: r.region, AccountID: r.account, StackName: r.o.StackName, StackID: id}
}

// outputInfo describes the outputs the template declares.
func (r *run) outputInfo(exports map[string]string) map[string]stack.OutputInfo {
	out := map[string]stack.OutputInfo{}
	for name := range r.st.Outputs {
		out[name] = stack.OutputInfo{Description: r.l.tpl.Outputs[name].Description, ExportName: exports[name]}
	}
	return out
}

// stackReason is the stack's reason after a failed operation, as CloudFormation words it, with the failure.
func (r *run) stackReason(creating bool, err error) string {
	if len(r.failed) == 0 {
		return err.Error()
	}
	return r.failedReason(creating, "")
}

// finalEventReason is the reason of the stack's event for the status an operation ended in.
func (r *run) finalEventReason() string {
	switch r.st.Status {
	case stack.StatusCreateFailed, stack.StatusUpdateFailed, stack.StatusRollbackFailed, stack.StatusUpdateRollbackFailed, stack.StatusDeleteFailed:
		return r.st.Reason
	}
	return ""
}

func newRun(o Options) *run {
	if o.Poll == 0 {
		o.Poll = 500 * time.Millisecond
	}
	if o.clock == nil {
		o.clock = realClock{}
	}
	r := &run{o: o, clock: o.clock, region: o.Config.Region, lambda: lambda.NewFromConfig(o.Config), iam: iam.NewFromConfig(o.Config),
		cw: cloudwatch.NewFromConfig(o.Config), cd: codedeploy.NewFromConfig(o.Config), ssm: ssm.NewFromConfig(o.Config),
		// Path-style: Sluice's S3 answers on the listener's own address, which names no bucket.
		s3: s3.NewFromConfig(o.Config, func(so *s3.Options) { so.UsePathStyle = true }), logs: cloudwatchlogs.NewFromConfig(o.Config)}
	r.result = Result{Stack: o.StackName, DryRun: o.DryRun, Changes: []Change{}}
	return r
}

// Delete deletes what a stack made — except resources it retains (DeletionPolicy: Retain), which stay — and then
// the stack's record is left to its owner, in DELETE_COMPLETE. Options' TemplateBody, Overrides and DryRun are not
// used.
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
	if err := r.holds(st); err != nil {
		return err
	}
	r.st, r.state = st, map[string]stack.ResourceState{}
	for k, v := range st.Resources {
		r.state[k] = v
	}
	if err := r.deleteAll(ctx, false); err != nil {
		r.st.Status, r.st.Owner = stack.StatusDeleteFailed, ""
		r.st.Reason = "The following resource(s) failed to delete: [" + strings.Join(r.failed, ", ") + "]. "
		r.result.Status = r.st.Status
		r.emitStack(r.st.Status, r.st.Reason)
		saveCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_ = r.save(saveCtx)
		return err
	}
	r.result.Status = stack.StatusDeleteComplete
	// The owner removes the record, with what it keeps of a deleted stack.
	r.st.Status, r.st.Owner, r.st.Reason = stack.StatusDeleteComplete, "", ""
	r.emitStack(r.st.Status, "")
	return r.save(ctx)
}

// holds refuses a stack its owner does not hold: the owner records an operation — the stack in progress under it —
// before it runs the deploy, which carries on from what the record says.
func (r *run) holds(st stack.Stack) error {
	if r.o.Owner == "" || st.Owner != r.o.Owner || !st.Status.InProgress() {
		return fmt.Errorf("stack %s is not held by %q for an operation (owner %q, %s)", st.Name, r.o.Owner, st.Owner, st.Status)
	}
	return nil
}

// enter records that the deploy, still holding the stack, moved on to another phase (cleanup, rollback).
func (r *run) enter(ctx context.Context, status stack.Status) error {
	return r.enterWith(ctx, status, "")
}

// enterWith is enter with the reason the stack's event gives (and, for the API, the stack's reason meanwhile).
func (r *run) enterWith(ctx context.Context, status stack.Status, reason string) error {
	if r.st.Status == status {
		return nil // resumed in this phase: it was recorded, and told, before
	}
	r.st.Status = status
	if reason != "" {
		r.st.Reason = reason
	}
	r.emitStack(status, reason)
	return r.save(ctx)
}

// save writes the stack record (a checkpoint after every change), with the journal of the operation.
func (r *run) save(ctx context.Context) error {
	r.st.Resources = map[string]stack.ResourceState{}
	for k, v := range r.state {
		r.st.Resources[k] = v
	}
	r.st.Applied = nil
	if len(r.applied) > 0 {
		r.st.Applied = journal(r.applied)
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

// apply creates, updates or replaces each resource in dependency order. Nothing is deleted here: what a
// replacement supersedes waits for the cleanup phase (or goes back into use if the deploy rolls back).
func (r *run) apply(ctx context.Context, order []string) error {
	for _, id := range order {
		res := r.l.tpl.Resources[id]
		h := handlers[res.Type]
		props, err := r.resolved(id, r.refs())
		if err != nil {
			return err
		}
		prev, existed := r.state[id]
		desired := &resource{id: id, typ: res.Type, props: props, raw: res}
		switch {
		case !existed || prev.Type != res.Type:
			r.emit(id, res.Type, "", CreateInProgress, "", props)
			err := h.create(ctx, r, desired)
			if existed {
				r.made(applied{id: id, action: ActionReplace, old: prev}, desired)
			} else {
				r.made(applied{id: id, action: ActionCreate}, desired)
			}
			if err != nil {
				r.fail(id)
				r.emit(id, res.Type, desired.physicalID, CreateFailed, failureReason(err), nil)
				return fmt.Errorf("%s: create: %w", id, err)
			}
			r.emit(id, res.Type, desired.physicalID, CreateComplete, "", nil)
			r.note(Change{LogicalID: id, Type: res.Type, Action: ActionCreate, PhysicalID: desired.physicalID})
		default:
			changed := changedKeys(prev.Properties, props)
			if len(changed) == 0 {
				r.note(Change{LogicalID: id, Type: res.Type, Action: ActionNone, PhysicalID: prev.PhysicalID})
				// The policies and references may have changed without the properties: the record follows them.
				r.state[id] = r.stateOf(desired, prev.PhysicalID, prev.Properties, prev.Attributes)
				continue
			}
			desired.physicalID, desired.attrs = prev.PhysicalID, prev.Attributes
			if h.replaces(changed) {
				r.emit(id, res.Type, prev.PhysicalID, UpdateInProgress, "Requested update requires the creation of a new physical resource; hence creating one.", props)
				desired.physicalID, desired.attrs = "", nil
				err := h.create(ctx, r, desired)
				r.made(applied{id: id, action: ActionReplace, old: prev}, desired)
				if err != nil {
					r.fail(id)
					r.emit(id, res.Type, desired.physicalID, UpdateFailed, failureReason(err), nil)
					return fmt.Errorf("%s: replace: %w", id, err)
				}
				r.emit(id, res.Type, desired.physicalID, UpdateComplete, "", nil)
				r.note(Change{LogicalID: id, Type: res.Type, Action: ActionReplace, PhysicalID: desired.physicalID, Properties: changed})
				break
			}
			r.emit(id, res.Type, prev.PhysicalID, UpdateInProgress, "", props)
			action, detail, err := h.update(ctx, r, desired, prev, changed)
			if err != nil {
				// It may be half-changed: a rollback puts every property it tried back. The record keeps the old
				// properties, so that a deploy after an interruption tries them all again.
				r.applied = append(r.applied, applied{id: id, action: ActionUpdate, old: prev, tried: props})
				r.fail(id)
				r.emit(id, res.Type, prev.PhysicalID, UpdateFailed, failureReason(err), nil)
				return fmt.Errorf("%s: update: %w", id, err)
			}
			r.note(Change{LogicalID: id, Type: res.Type, Action: action, PhysicalID: desired.physicalID, Properties: changed, Detail: detail})
			if action == ActionShift {
				// Recorded once the shift succeeds; a rollback puts the alias back. The journal has it from now on,
				// so that a rollback after a restart does too.
				if !r.shifted(id) {
					r.applied = append(r.applied, applied{id: id, action: ActionShift, old: prev})
				}
				break
			}
			r.made(applied{id: id, action: ActionUpdate, old: prev}, desired)
			r.emit(id, res.Type, desired.physicalID, UpdateComplete, "", nil)
		}
		if err := r.save(ctx); err != nil {
			return err
		}
	}
	return nil
}

// made records a change the update phase made: the resource as it now is, what a rollback would undo, and — for a
// replacement — the physical resource superseded, which the record keeps until a cleanup phase deletes it. A
// resource whose creation failed before it existed (no physical id) changed nothing.
func (r *run) made(a applied, res *resource) {
	if res.physicalID == "" {
		return
	}
	r.state[a.id] = r.stateOf(res, res.physicalID, res.props, res.attrs)
	r.applied = append(r.applied, a)
	if a.action == ActionReplace {
		r.st.Superseded = append(r.st.Superseded, stack.Superseded{LogicalID: a.id, Resource: a.old, Retain: res.raw.UpdateReplacePolicy == "Retain"})
	}
}

// stateOf is what the record says of a template resource; its status stays what it was until a step changes it.
func (r *run) stateOf(res *resource, physicalID string, props map[string]any, attrs map[string]string) stack.ResourceState {
	st := stack.ResourceState{Type: res.typ, PhysicalID: physicalID, Properties: props, Attributes: attrs,
		Retain: retainedOnDelete(res.raw.DeletionPolicy), DependsOn: r.dependencies(res.id)}
	if prev, ok := r.state[res.id]; ok {
		st.Status, st.Reason, st.Updated = prev.Status, prev.Reason, prev.Updated
	}
	return st
}

// retainedOnDelete reports whether a DeletionPolicy keeps a resource that leaves the template.
func retainedOnDelete(policy string) bool {
	return policy == "Retain" || policy == "RetainExceptOnCreate"
}

// dependencies lists the template's resources id refers to (Ref, Fn::GetAtt, Fn::Sub, in any of its sections) or
// names in DependsOn, as Order counts them: recorded, they keep the deletion order once id has left the template.
func (r *run) dependencies(id string) []string {
	res := r.l.tpl.Resources[id]
	var out []string
	for _, name := range append(r.l.tpl.References([]any{res.Properties, res.Metadata, res.UpdatePolicy, res.CreationPolicy}), res.DependsOn...) {
		if _, ok := r.l.tpl.Resources[name]; ok && name != id && !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

func (r *run) note(c Change) { r.result.Changes = append(r.result.Changes, c) }

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
		}
	}
	return nil
}
