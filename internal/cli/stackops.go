package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/sluice-dev/sluice/internal/cfn"
	"github.com/sluice-dev/sluice/internal/stack"
	"github.com/sluice-dev/sluice/internal/stackdeploy"
)

// deployCapabilities are what `sluice deploy` acknowledges for its user: it has always created IAM roles (SAM's
// function roles, named ones too) and expanded the SAM transform, so running it is consent to all three.
var deployCapabilities = []cftypes.Capability{cftypes.CapabilityCapabilityIam, cftypes.CapabilityCapabilityNamedIam, cftypes.CapabilityCapabilityAutoExpand}

// noChangesReason is how CloudFormation's DescribeChangeSet says that a change set has nothing to do.
const noChangesReason = "The submitted information didn't contain changes"

// pollEvery is how often a deploy reads the stack, its events and its traffic shifts while the operation runs.
const pollEvery = time.Second

// stackDeploy is one `sluice deploy` (or diff): a client of the CloudFormation API like any other. It packages
// the template's local code into the artifact bucket, makes a change set (CREATE for a new stack, UPDATE
// otherwise), describes it, and — unless it is a dry run — executes it and follows the operation to its end,
// showing resources' steps from the stack's events and traffic shifts from CodeDeploy, Lambda and CloudWatch.
type stackDeploy struct {
	cfg       aws.Config
	cf        *cloudformation.Client
	name      string
	template  string
	overrides map[string]string
	event     func(format string, args ...any)
	observer  *progressObserver
	res       *stackdeploy.Result

	// changeSet is the change set made, and created whether the stack was made for it (REVIEW_IN_PROGRESS).
	changeSet string
	created   bool
	executed  bool
	// shiftGroups are the aliases whose version moves through CodeDeploy, with their deployment groups' logical ids.
	shiftGroups map[string]aliasPolicy
	shifts      *shiftWatch
	// cleanup collects, from the events, what became of the resources that left the stack.
	phase string
	seen  map[string]bool
	// replaced says whether a resource deleted in a cleanup phase was replaced (it stays in the stack) rather than
	// removed; nil: the change set says.
	replaced func(logicalID string) bool
	// label is the stack's name in the lines printed (name may be its ID).
	label string
}

// aliasPolicy is an alias's CodeDeployLambdaAliasUpdate: the application and group that move it (logical ids or
// names, as the processed template gives them).
type aliasPolicy struct {
	app, group any
}

func newStackDeploy(cfg aws.Config, name, template string, overrides map[string]string, event func(string, ...any)) *stackDeploy {
	return &stackDeploy{cfg: cfg, cf: cloudformation.NewFromConfig(cfg), name: name, template: template, overrides: overrides, event: event,
		res: &stackdeploy.Result{Stack: name, Changes: []stackdeploy.Change{}}, seen: map[string]bool{}, label: name}
}

// run deploys (or, dryRun, describes what a deploy would do and removes the change set). It fills d.res as it goes,
// so an error leaves in it what was known.
func (d *stackDeploy) run(ctx context.Context, dryRun bool) error {
	current, err := d.describe(ctx)
	if err != nil {
		return err
	}
	if current != nil && current.StackStatus == cftypes.StackStatusRollbackComplete && !dryRun {
		// A creation that failed and was rolled back leaves an empty stack CloudFormation cannot update: it is
		// deleted, and this deploy creates the stack anew.
		d.event("stack %s is ROLLBACK_COMPLETE (its creation failed and was rolled back, so it holds nothing): deleting it to create it again", d.name)
		gone := newStackDeploy(d.cfg, d.name, "", nil, d.event)
		if err := gone.deleteStack(ctx); err != nil {
			return err
		}
		current = nil
	}
	kind := cftypes.ChangeSetTypeUpdate
	if current == nil || current.StackStatus == cftypes.StackStatusReviewInProgress {
		kind = cftypes.ChangeSetTypeCreate
	} else {
		d.res.Status = stack.Status(current.StackStatus)
		if strings.HasSuffix(string(current.StackStatus), "_IN_PROGRESS") {
			return fmt.Errorf("stack %s is %s: an operation is under way (`sluice stack show %s` follows it)", d.name, current.StackStatus, d.name)
		}
	}
	d.res.DryRun = dryRun
	id, err := sts.NewFromConfig(d.cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return fmt.Errorf("who am I (sts:GetCallerIdentity): %w", err)
	}
	d.event("reading %s", d.template)
	arts := &artifacts{s3: s3.NewFromConfig(d.cfg, func(o *s3.Options) { o.UsePathStyle = true }), bucket: ArtifactBucket(aws.ToString(id.Account), d.cfg.Region),
		endpoint: aws.ToString(d.cfg.BaseEndpoint), build: func(id string) { d.event("building %s (go build)", id) }}
	tpl, err := arts.packageTemplate(ctx, d.template)
	if err != nil {
		return err
	}
	d.res.Notes = templateNotes(tpl.template)
	in := &cloudformation.CreateChangeSetInput{StackName: aws.String(d.name), ChangeSetName: aws.String(fmt.Sprintf("sluice-deploy-%d", time.Now().UnixNano())),
		ChangeSetType: kind, Capabilities: deployCapabilities, Description: aws.String("sluice deploy")}
	if tpl.url != "" {
		in.TemplateURL = aws.String(tpl.url)
	} else {
		in.TemplateBody = aws.String(tpl.body)
	}
	in.Parameters = changeSetParameters(tpl.template, d.overrides, current, kind)
	out, err := d.cf.CreateChangeSet(ctx, in)
	if err != nil {
		return err
	}
	d.changeSet, d.created = aws.ToString(out.Id), kind == cftypes.ChangeSetTypeCreate && current == nil
	cs, err := d.awaitChangeSet(ctx)
	if err != nil {
		d.discard()
		return err
	}
	if cs.Status == cftypes.ChangeSetStatusFailed {
		d.discard()
		if strings.HasPrefix(aws.ToString(cs.StatusReason), noChangesReason) && current != nil {
			return d.unchanged(ctx, current)
		}
		return errors.New(aws.ToString(cs.StatusReason))
	}
	if err := d.plan(ctx, cs, kind); err != nil {
		d.discard()
		return err
	}
	if dryRun {
		d.discard()
		return nil
	}
	return d.execute(ctx)
}

// changeSetParameters are the parameters a change set is given, as `aws cloudformation deploy` gives them: each
// override, and on an update every parameter the stack has, the template still declares and no override sets, with
// UsePreviousValue (so a value given once is kept, not reset to the template's default).
func changeSetParameters(tpl *cfn.Template, overrides map[string]string, current *cftypes.Stack, kind cftypes.ChangeSetType) []cftypes.Parameter {
	var out []cftypes.Parameter
	for _, k := range sortedStackKeys(overrides) {
		out = append(out, cftypes.Parameter{ParameterKey: aws.String(k), ParameterValue: aws.String(overrides[k])})
	}
	if kind != cftypes.ChangeSetTypeUpdate || current == nil {
		return out
	}
	for _, p := range current.Parameters {
		k := aws.ToString(p.ParameterKey)
		if _, declared := tpl.Parameters[k]; !declared {
			continue
		}
		if _, set := overrides[k]; !set {
			out = append(out, cftypes.Parameter{ParameterKey: aws.String(k), UsePreviousValue: aws.Bool(true)})
		}
	}
	return out
}

// describe returns the stack, or nil if there is none.
func (d *stackDeploy) describe(ctx context.Context) (*cftypes.Stack, error) {
	out, err := d.cf.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(d.name)})
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() == "ValidationError" && strings.Contains(ae.ErrorMessage(), "does not exist") {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if len(out.Stacks) == 0 {
		return nil, nil
	}
	return &out.Stacks[0], nil
}

// awaitChangeSet waits until the change set is described (CREATE_COMPLETE) or has failed; every page of its
// changes is gathered.
func (d *stackDeploy) awaitChangeSet(ctx context.Context) (*cloudformation.DescribeChangeSetOutput, error) {
	wait := 100 * time.Millisecond
	for {
		cs, err := d.cf.DescribeChangeSet(ctx, &cloudformation.DescribeChangeSetInput{StackName: aws.String(d.name), ChangeSetName: aws.String(d.changeSet)})
		if err != nil {
			return nil, err
		}
		switch cs.Status {
		case cftypes.ChangeSetStatusCreateComplete:
			for next := cs.NextToken; next != nil; {
				page, err := d.cf.DescribeChangeSet(ctx, &cloudformation.DescribeChangeSetInput{StackName: aws.String(d.name), ChangeSetName: aws.String(d.changeSet), NextToken: next})
				if err != nil {
					return nil, err
				}
				cs.Changes, next = append(cs.Changes, page.Changes...), page.NextToken
			}
			return cs, nil
		case cftypes.ChangeSetStatusFailed:
			return cs, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, pollEvery)
	}
}

// discard deletes the change set (and the stack it alone made), when it is not to be executed. It runs even after
// an interruption: a dry run changes nothing.
func (d *stackDeploy) discard() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if d.changeSet == "" || d.executed {
		return
	}
	if d.created {
		// Waited for (within the bound above), so that the next command finds no stack rather than one going away.
		if _, err := d.cf.DeleteStack(ctx, &cloudformation.DeleteStackInput{StackName: aws.String(d.name)}); err == nil {
			for wait := 50 * time.Millisecond; ; wait = min(2*wait, pollEvery) {
				if st, err := d.describe(ctx); err != nil || st == nil || st.StackStatus == cftypes.StackStatusDeleteComplete {
					return
				}
				select {
				case <-ctx.Done():
					return
				case <-time.After(wait):
				}
			}
		}
		return
	}
	_, _ = d.cf.DeleteChangeSet(ctx, &cloudformation.DeleteChangeSetInput{StackName: aws.String(d.name), ChangeSetName: aws.String(d.changeSet)})
}

// unchanged reports a deploy with nothing to do: every resource of the stack, unchanged, and its outputs.
func (d *stackDeploy) unchanged(ctx context.Context, st *cftypes.Stack) error {
	out, err := d.cf.DescribeStackResources(ctx, &cloudformation.DescribeStackResourcesInput{StackName: aws.String(d.name)})
	if err != nil {
		return err
	}
	for _, r := range out.StackResources {
		d.res.Changes = append(d.res.Changes, stackdeploy.Change{LogicalID: aws.ToString(r.LogicalResourceId), Type: aws.ToString(r.ResourceType),
			Action: stackdeploy.ActionNone, PhysicalID: aws.ToString(r.PhysicalResourceId)})
	}
	sort.Slice(d.res.Changes, func(i, j int) bool { return d.res.Changes[i].LogicalID < d.res.Changes[j].LogicalID })
	d.settle(st)
	return nil
}

// plan turns the change set's changes into the deploy's: Add → create, Modify → update (replace when it replaces,
// shift when it moves an alias with a CodeDeployLambdaAliasUpdate policy to a new version), Remove → delete (retain
// when a DeletionPolicy keeps it).
func (d *stackDeploy) plan(ctx context.Context, cs *cloudformation.DescribeChangeSetOutput, kind cftypes.ChangeSetType) error {
	d.shiftGroups = map[string]aliasPolicy{}
	if kind == cftypes.ChangeSetTypeUpdate {
		// CodeDeploy acts on updates only: a new alias is made at its version.
		processed, err := d.processedTemplate(ctx)
		if err != nil {
			return err
		}
		resources, _ := processed["Resources"].(map[string]any)
		for id, v := range resources {
			r, _ := v.(map[string]any)
			up, _ := r["UpdatePolicy"].(map[string]any)
			if p, ok := up["CodeDeployLambdaAliasUpdate"].(map[string]any); ok && r["Type"] == "AWS::Lambda::Alias" {
				d.shiftGroups[id] = aliasPolicy{app: p["ApplicationName"], group: p["DeploymentGroupName"]}
			}
		}
	}
	for _, c := range cs.Changes {
		rc := c.ResourceChange
		if rc == nil {
			continue
		}
		ch := stackdeploy.Change{LogicalID: aws.ToString(rc.LogicalResourceId), Type: aws.ToString(rc.ResourceType), PhysicalID: aws.ToString(rc.PhysicalResourceId)}
		for _, det := range rc.Details {
			if det.Target != nil && det.Target.Name != nil && !slices.Contains(ch.Properties, aws.ToString(det.Target.Name)) {
				ch.Properties = append(ch.Properties, aws.ToString(det.Target.Name))
			}
		}
		switch rc.Action {
		case cftypes.ChangeActionAdd:
			ch.Action = stackdeploy.ActionCreate
		case cftypes.ChangeActionRemove:
			ch.Action = stackdeploy.ActionDelete
			if rc.PolicyAction == cftypes.PolicyActionRetain {
				ch.Action, ch.Retained = stackdeploy.ActionRetain, true
			}
		default:
			ch.Action = stackdeploy.ActionUpdate
			_, shifted := d.shiftGroups[ch.LogicalID]
			switch {
			case rc.Replacement == cftypes.ReplacementTrue:
				ch.Action = stackdeploy.ActionReplace
			case shifted && slices.Contains(ch.Properties, "FunctionVersion"):
				ch.Action = stackdeploy.ActionShift
				ch.Detail = "traffic shifted to the new version through CodeDeploy"
			}
		}
		d.res.Changes = append(d.res.Changes, ch)
	}
	for id := range d.shiftGroups {
		if !slices.ContainsFunc(d.res.Changes, func(c stackdeploy.Change) bool { return c.LogicalID == id && c.Action == stackdeploy.ActionShift }) {
			delete(d.shiftGroups, id)
		}
	}
	if len(d.shiftGroups) > 0 {
		return d.liveAliases(ctx)
	}
	return nil
}

// liveAliases says, for each alias the change set shifts, which version traffic goes to now — the shift starts
// from there — and notes an alias a rollback moved away from the version the stack names.
func (d *stackDeploy) liveAliases(ctx context.Context) error {
	res, err := d.cf.DescribeStackResources(ctx, &cloudformation.DescribeStackResourcesInput{StackName: aws.String(d.name)})
	if err != nil {
		return err
	}
	physical := map[string]string{}
	for _, r := range res.StackResources {
		physical[aws.ToString(r.LogicalResourceId)] = aws.ToString(r.PhysicalResourceId)
	}
	current, err := d.cf.GetTemplate(ctx, &cloudformation.GetTemplateInput{StackName: aws.String(d.name), TemplateStage: cftypes.TemplateStageProcessed})
	var recorded map[string]any
	if err == nil {
		_ = json.Unmarshal([]byte(aws.ToString(current.TemplateBody)), &recorded)
	}
	lc := lambda.NewFromConfig(d.cfg)
	for i, c := range d.res.Changes {
		if c.Action != stackdeploy.ActionShift {
			continue
		}
		fn, alias := aliasOf(physical[c.LogicalID])
		a, err := lc.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String(fn), Name: aws.String(alias)})
		if err != nil {
			continue // the change set stands; only the note is missing
		}
		live := aws.ToString(a.FunctionVersion)
		d.res.Changes[i].Detail = fmt.Sprintf("%s:%s from version %s to the new version, through CodeDeploy", fn, alias, live)
		if was := recordedVersion(recorded, c.LogicalID, physical); was != "" && was != live {
			d.res.Notes = append(d.res.Notes, fmt.Sprintf("%s: alias %s:%s is on version %s (the stack recorded %s)", c.LogicalID, fn, alias, live, was))
		}
	}
	return nil
}

// recordedVersion is the version an alias of the stack's template points at: its FunctionVersion, a version's
// number or a Ref or GetAtt of an AWS::Lambda::Version of the stack (whose ARN ends with its number).
func recordedVersion(tpl map[string]any, aliasID string, physical map[string]string) string {
	resources, _ := tpl["Resources"].(map[string]any)
	r, _ := resources[aliasID].(map[string]any)
	props, _ := r["Properties"].(map[string]any)
	var versionID string
	switch v := props["FunctionVersion"].(type) {
	case string:
		return v
	case map[string]any:
		if ref, ok := v["Ref"].(string); ok {
			versionID = ref
		} else if att, ok := v["Fn::GetAtt"].([]any); ok && len(att) == 2 {
			versionID, _ = att[0].(string)
		}
	}
	arn := physical[versionID]
	if i := strings.LastIndex(arn, ":"); i >= 0 && arn != "" {
		return arn[i+1:]
	}
	return ""
}

// processedTemplate is the change set's template after its transform, as JSON.
func (d *stackDeploy) processedTemplate(ctx context.Context) (map[string]any, error) {
	out, err := d.cf.GetTemplate(ctx, &cloudformation.GetTemplateInput{StackName: aws.String(d.name), ChangeSetName: aws.String(d.changeSet), TemplateStage: cftypes.TemplateStageProcessed})
	if err != nil {
		return nil, err
	}
	// The processed stage is JSON: the transform's output, or the text as given, which packageTemplate made JSON.
	var t map[string]any
	if err := json.Unmarshal([]byte(aws.ToString(out.TemplateBody)), &t); err != nil {
		return nil, fmt.Errorf("the change set's processed template: %w", err)
	}
	return t, nil
}

// execute runs the change set and follows the operation to its end.
func (d *stackDeploy) execute(ctx context.Context) error {
	before, err := d.newestEvent(ctx)
	if err != nil {
		return err
	}
	d.shifts = newShiftWatch(d.cfg, d.name, d.event)
	if err := d.shifts.prepare(ctx, d.cf, d.shiftGroups); err != nil {
		return err
	}
	if _, err := d.cf.ExecuteChangeSet(ctx, &cloudformation.ExecuteChangeSetInput{StackName: aws.String(d.name), ChangeSetName: aws.String(d.changeSet)}); err != nil {
		d.discard()
		return err
	}
	d.executed = true
	d.seen[before] = true
	for {
		if err := d.readEvents(ctx); err != nil && ctx.Err() == nil {
			return err
		}
		if err := d.shifts.poll(ctx, d.observer); err != nil && ctx.Err() == nil {
			return err
		}
		st, err := d.describe(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			return err
		}
		if st != nil && !strings.HasSuffix(string(st.StackStatus), "_IN_PROGRESS") {
			if err := d.readEvents(ctx); err != nil {
				return err
			}
			d.shifts.finish(ctx, d.observer)
			d.settle(st)
			return d.outcome()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pollEvery):
		}
	}
}

// newestEvent is the id of the stack's latest event ("" for none): what the operation's events come after.
func (d *stackDeploy) newestEvent(ctx context.Context) (string, error) {
	out, err := d.cf.DescribeStackEvents(ctx, &cloudformation.DescribeStackEventsInput{StackName: aws.String(d.name)})
	if err != nil {
		return "", err
	}
	if len(out.StackEvents) == 0 {
		return "", nil
	}
	return aws.ToString(out.StackEvents[0].EventId), nil
}

// readEvents prints the operation's new events, oldest first, and notes what its cleanup did.
func (d *stackDeploy) readEvents(ctx context.Context) error {
	var fresh []cftypes.StackEvent
	var next *string
	for done := false; !done; {
		out, err := d.cf.DescribeStackEvents(ctx, &cloudformation.DescribeStackEventsInput{StackName: aws.String(d.name), NextToken: next})
		if err != nil {
			return err
		}
		for _, e := range out.StackEvents {
			if d.seen[aws.ToString(e.EventId)] {
				done = true
				break
			}
			fresh = append(fresh, e)
		}
		if next = out.NextToken; next == nil {
			done = true
		}
	}
	for i := len(fresh) - 1; i >= 0; i-- {
		e := fresh[i]
		d.seen[aws.ToString(e.EventId)] = true
		if d.shifts != nil && aws.ToString(e.ResourceType) == "AWS::Lambda::Alias" &&
			(e.ResourceStatus == cftypes.ResourceStatusUpdateComplete || e.ResourceStatus == cftypes.ResourceStatusUpdateFailed) {
			// The alias's shift has ended: its end is shown before the steps that follow it.
			d.shifts.settle(ctx, aws.ToString(e.LogicalResourceId), d.observer)
		}
		d.show(e)
	}
	return nil
}

// show prints one event as a line of the deploy's log, and keeps what the cleanup phases did to a resource.
func (d *stackDeploy) show(e cftypes.StackEvent) {
	id, typ, phys := aws.ToString(e.LogicalResourceId), aws.ToString(e.ResourceType), aws.ToString(e.PhysicalResourceId)
	status, reason := string(e.ResourceStatus), aws.ToString(e.ResourceStatusReason)
	if typ == stackdeploy.StackType {
		d.phase = status
		line := fmt.Sprintf("stack %s: %s", d.label, status)
		if reason != "" && reason != "User Initiated" {
			line += " — " + reason
		}
		d.event("%s", line)
		if status == string(stack.StatusUpdateRollbackInProgress) || status == string(stack.StatusRollbackInProgress) {
			d.event("rolling back: %s", reason)
		}
		return
	}
	switch status {
	case stackdeploy.CreateInProgress:
		if reason == "" {
			d.event("creating %s (%s)", id, typ)
		}
	case stackdeploy.UpdateInProgress:
		if strings.Contains(reason, "new physical resource") {
			d.event("replacing %s (%s)", id, typ)
		} else if reason == "" {
			d.event("updating %s (%s)", id, typ)
		}
	case stackdeploy.DeleteInProgress:
		d.event("deleting %s (%s) %s", id, typ, phys)
	case stackdeploy.DeleteSkipped:
		d.event("retaining %s (%s) %s", id, typ, phys)
	case stackdeploy.CreateFailed, stackdeploy.UpdateFailed, stackdeploy.DeleteFailed:
		d.event("%s (%s) %s: %s", id, typ, status, reason)
	}
	if strings.Contains(d.phase, "CLEANUP_IN_PROGRESS") {
		outcome := map[string]string{stackdeploy.DeleteComplete: stack.OutcomeDeleted, stackdeploy.DeleteSkipped: stack.OutcomeRetained,
			stackdeploy.DeleteFailed: stack.OutcomeDeleteFailed}[status]
		if outcome == "" {
			return
		}
		why := stack.RemovalRemoved
		switch {
		case strings.HasPrefix(d.phase, "UPDATE_ROLLBACK"):
			why = stack.RemovalRolledBack
		case d.replaced != nil && d.replaced(id),
			d.replaced == nil && slices.ContainsFunc(d.res.Changes, func(c stackdeploy.Change) bool { return c.LogicalID == id && c.Action == stackdeploy.ActionReplace }):
			why = stack.RemovalReplaced
		}
		rm := stack.Removal{LogicalID: id, Type: typ, PhysicalID: phys, Why: why, Outcome: outcome}
		if outcome != stack.OutcomeDeleted {
			rm.Reason = reason
		}
		d.res.Cleanup = append(d.res.Cleanup, rm)
	}
}

// settle puts the stack's final state in the result: status, reason, outputs and resolved parameters.
func (d *stackDeploy) settle(st *cftypes.Stack) {
	d.res.Status, d.res.Reason = stack.Status(st.StackStatus), aws.ToString(st.StackStatusReason)
	for _, o := range st.Outputs {
		if d.res.Outputs == nil {
			d.res.Outputs = map[string]string{}
		}
		d.res.Outputs[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
		if o.ExportName != nil {
			if d.res.Exports == nil {
				d.res.Exports = map[string]string{}
			}
			d.res.Exports[aws.ToString(o.OutputKey)] = aws.ToString(o.ExportName)
		}
	}
	for _, p := range st.Parameters {
		if p.ResolvedValue != nil {
			if d.res.Resolved == nil {
				d.res.Resolved = map[string]string{}
			}
			d.res.Resolved[aws.ToString(p.ParameterKey)] = aws.ToString(p.ResolvedValue)
		}
	}
	if d.shifts != nil {
		d.res.Shifts = d.shifts.results()
	}
}

// outcome is the deploy's error for a stack that ended failed: ErrRolledBack when a traffic shift was rolled back
// and the stack with it, ErrRollbackFailed when the rollback itself failed.
func (d *stackDeploy) outcome() error {
	if !d.res.Status.Failed() {
		return nil
	}
	var rolled []string
	for _, s := range d.res.Shifts {
		if s.Status == "Failed" || s.Status == "Stopped" {
			rolled = append(rolled, fmt.Sprintf("%s:%s stayed on version %s: deployment %s %s: %s", s.Function, s.Alias, s.FromVersion, s.DeploymentID, strings.ToLower(s.Status), s.Message))
		}
	}
	reason := d.res.Reason
	if reason == "" {
		reason = "stack " + d.name + " is " + string(d.res.Status)
	}
	switch {
	case d.res.Status == stack.StatusUpdateRollbackFailed || d.res.Status == stack.StatusRollbackFailed:
		return fmt.Errorf("%w: %s", stackdeploy.ErrRollbackFailed, reason)
	case len(rolled) > 0:
		return fmt.Errorf("%w: %s", stackdeploy.ErrRolledBack, strings.Join(rolled, "; "))
	}
	return errors.New(reason)
}
