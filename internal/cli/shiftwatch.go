package cli

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/sluice-dev/sluice/internal/stackdeploy"
)

// shiftWatch follows the CodeDeploy deployments a stack operation starts to move aliases, for the live view and the
// deploy's result. It knows them from the outside, as any client could: the alias's deployment group (from the
// stack's resources), a deployment of that group that was not there before the change set ran and that the
// operation describes as its own ("CloudFormation stack <name>"), its target (versions, hooks), the alias's
// weights (GetAlias) and the group's alarms (DescribeAlarms).
type shiftWatch struct {
	cfg   aws.Config
	stack string
	event func(string, ...any)
	cf    *cloudformation.Client
	cd    *codedeploy.Client
	lc    *lambda.Client
	cw    *cloudwatch.Client

	shifts []*watchedShift
	ended  bool
}

// watchedShift is one alias's traffic shift.
type watchedShift struct {
	aliasID    string
	policy     aliasPolicy
	app, group string
	before     map[string]bool // the group's deployments before the change set ran
	alarms     []string
	state      stackdeploy.ShiftState
	done       bool
	// announced: the shift's start was printed (once its versions are known).
	announced bool
}

func newShiftWatch(cfg aws.Config, stackName string, event func(string, ...any)) *shiftWatch {
	return &shiftWatch{cfg: cfg, stack: stackName, event: event, cd: codedeploy.NewFromConfig(cfg), lc: lambda.NewFromConfig(cfg), cw: cloudwatch.NewFromConfig(cfg)}
}

// prepare notes, for each alias the change set shifts, its deployment group and the deployments it has already.
func (w *shiftWatch) prepare(ctx context.Context, cf *cloudformation.Client, aliases map[string]aliasPolicy) error {
	w.cf = cf
	if len(aliases) == 0 {
		return nil
	}
	physical, err := w.physicalIDs(ctx)
	if err != nil {
		return err
	}
	for _, id := range sortedStackKeys(aliases) {
		s := &watchedShift{aliasID: id, policy: aliases[id], app: nameOf(aliases[id].app, physical), group: nameOf(aliases[id].group, physical), before: map[string]bool{}}
		fn, alias := aliasOf(physical[id])
		s.state = stackdeploy.ShiftState{Name: fn, Alias: alias}
		if s.app == "" || s.group == "" {
			// A group the change set creates has no deployments yet; the alias is not shifted before it exists.
			w.shifts = append(w.shifts, s)
			continue
		}
		out, err := w.cd.ListDeployments(ctx, &codedeploy.ListDeploymentsInput{ApplicationName: aws.String(s.app), DeploymentGroupName: aws.String(s.group)})
		if err != nil {
			return err
		}
		for _, d := range out.Deployments {
			s.before[d] = true
		}
		w.shifts = append(w.shifts, s)
	}
	return nil
}

// physicalIDs are the stack's resources' physical ids by logical id.
func (w *shiftWatch) physicalIDs(ctx context.Context) (map[string]string, error) {
	res, err := w.cf.DescribeStackResources(ctx, &cloudformation.DescribeStackResourcesInput{StackName: aws.String(w.stack)})
	if err != nil {
		return nil, err
	}
	physical := map[string]string{}
	for _, r := range res.StackResources {
		physical[aws.ToString(r.LogicalResourceId)] = aws.ToString(r.PhysicalResourceId)
	}
	return physical, nil
}

// nameOf resolves a policy's ApplicationName or DeploymentGroupName: a name, or a Ref to a resource of the stack.
func nameOf(v any, physical map[string]string) string {
	switch t := v.(type) {
	case string:
		return t
	case map[string]any:
		if ref, ok := t["Ref"].(string); ok {
			return physical[ref]
		}
	}
	return ""
}

// aliasOf splits an alias ARN (an AWS::Lambda::Alias's physical id) into function and alias names.
func aliasOf(arn string) (string, string) {
	parts := strings.Split(arn, ":")
	if len(parts) == 8 {
		return parts[6], parts[7]
	}
	return arn, ""
}

// poll finds the operation's deployments not found yet, reads every open one, and shows them.
func (w *shiftWatch) poll(ctx context.Context, view *progressObserver) error {
	if len(w.shifts) == 0 || w.ended {
		return nil
	}
	for _, s := range w.shifts {
		if err := w.update(ctx, s); err != nil {
			return err
		}
	}
	w.render(view)
	return nil
}

// settle reads the shift of an alias whose update the stack's events say has ended, so that its end is shown
// before what the operation did after it (its cleanup, or its rollback).
func (w *shiftWatch) settle(ctx context.Context, aliasID string, view *progressObserver) {
	for _, s := range w.shifts {
		if s.aliasID == aliasID && !w.ended {
			_ = w.update(ctx, s)
			w.render(view)
		}
	}
}

// update finds s's deployment if it is not known yet, and reads it while it is open.
func (w *shiftWatch) update(ctx context.Context, s *watchedShift) error {
	if s.state.DeploymentID == "" {
		if err := w.find(ctx, s); err != nil || s.state.DeploymentID == "" {
			return err
		}
	}
	if s.done {
		return nil
	}
	return w.observe(ctx, s)
}

// render shows the shifts found so far: live while one is open, and once, at the end, when all have ended.
func (w *shiftWatch) render(view *progressObserver) {
	snap := stackdeploy.ShiftSnapshot{Stack: w.stack, Now: time.Now()}
	open := 0
	for _, s := range w.shifts {
		if s.state.DeploymentID == "" {
			continue
		}
		snap.Functions = append(snap.Functions, s.state)
		if !s.done {
			open++
		}
	}
	switch {
	case len(snap.Functions) == 0:
	case open > 0:
		view.Shifting(snap)
	case slices.IndexFunc(w.shifts, func(s *watchedShift) bool { return s.state.DeploymentID == "" }) < 0:
		w.ended = true
		view.ShiftsEnded(snap)
	}
}

// finish reads the shifts a last time when the operation has ended, and closes the live view.
func (w *shiftWatch) finish(ctx context.Context, view *progressObserver) {
	if w.ended || len(w.shifts) == 0 {
		return
	}
	snap := stackdeploy.ShiftSnapshot{Stack: w.stack, Now: time.Now()}
	for _, s := range w.shifts {
		if s.state.DeploymentID == "" {
			_ = w.find(ctx, s)
		}
		if s.state.DeploymentID != "" && !s.done {
			_ = w.observe(ctx, s)
		}
		if s.state.DeploymentID != "" {
			snap.Functions = append(snap.Functions, s.state)
		}
	}
	w.ended = true
	if len(snap.Functions) > 0 {
		view.ShiftsEnded(snap)
	}
}

// find looks for the deployment the operation started for s's alias.
func (w *shiftWatch) find(ctx context.Context, s *watchedShift) error {
	if s.app == "" || s.group == "" {
		// A group this change set creates: named once it exists (it has no earlier deployments to skip).
		physical, err := w.physicalIDs(ctx)
		if err != nil {
			return err
		}
		if s.app, s.group = nameOf(s.policy.app, physical), nameOf(s.policy.group, physical); s.app == "" || s.group == "" {
			return nil
		}
	}
	out, err := w.cd.ListDeployments(ctx, &codedeploy.ListDeploymentsInput{ApplicationName: aws.String(s.app), DeploymentGroupName: aws.String(s.group)})
	if err != nil {
		return err
	}
	for _, id := range out.Deployments {
		if s.before[id] {
			continue
		}
		s.before[id] = true // looked at once
		d, err := w.cd.GetDeployment(ctx, &codedeploy.GetDeploymentInput{DeploymentId: aws.String(id)})
		if err != nil {
			return err
		}
		if d.DeploymentInfo == nil || aws.ToString(d.DeploymentInfo.Description) != "CloudFormation stack "+w.stack {
			continue
		}
		s.state.DeploymentID, s.state.Config = id, aws.ToString(d.DeploymentInfo.DeploymentConfigName)
		g, err := w.cd.GetDeploymentGroup(ctx, &codedeploy.GetDeploymentGroupInput{ApplicationName: aws.String(s.app), DeploymentGroupName: aws.String(s.group)})
		if err == nil && g.DeploymentGroupInfo != nil {
			if ac := g.DeploymentGroupInfo.AlarmConfiguration; ac != nil && ac.Enabled {
				for _, a := range ac.Alarms {
					s.alarms = append(s.alarms, aws.ToString(a.Name))
				}
			}
		}
		return nil
	}
	return nil
}

// versions reads the versions a shift moves its alias between from the deployment's target (which a deployment
// has once it has started).
func (w *shiftWatch) versions(ctx context.Context, s *watchedShift) {
	if s.state.FromVersion != "" || s.state.Alias == "" {
		return
	}
	t, err := w.cd.GetDeploymentTarget(ctx, &codedeploy.GetDeploymentTargetInput{DeploymentId: aws.String(s.state.DeploymentID),
		TargetId: aws.String(s.state.Name + ":" + s.state.Alias)})
	if err == nil && t.DeploymentTarget != nil && t.DeploymentTarget.LambdaTarget != nil && t.DeploymentTarget.LambdaTarget.LambdaFunctionInfo != nil {
		info := t.DeploymentTarget.LambdaTarget.LambdaFunctionInfo
		s.state.FromVersion, s.state.ToVersion = aws.ToString(info.CurrentVersion), aws.ToString(info.TargetVersion)
	}
}

// observe reads a shift's deployment, its alias's weights and its alarms.
func (w *shiftWatch) observe(ctx context.Context, s *watchedShift) error {
	var v stackdeploy.DeploymentView
	if err := codeDeployCall(ctx, w.cfg, "GetDeployment", map[string]string{"deploymentId": s.state.DeploymentID}, &v); err != nil {
		return err
	}
	d, f := v.DeploymentInfo, &s.state
	w.versions(ctx, s)
	ended := d.Status == "Succeeded" || d.Status == "Failed" || d.Status == "Stopped"
	if !s.announced && (f.ToVersion != "" || ended) {
		s.announced = true
		w.event("shifting %s:%s version %s → %s through CodeDeploy deployment %s (%s)", f.Name, f.Alias, f.FromVersion, f.ToVersion, f.DeploymentID, f.Config)
	}
	if a, err := w.lc.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String(f.Name), Name: aws.String(f.Alias)}); err == nil {
		f.NewWeight = 0
		if aws.ToString(a.FunctionVersion) == f.ToVersion {
			f.NewWeight = 1
		} else if a.RoutingConfig != nil {
			f.NewWeight = a.RoutingConfig.AdditionalVersionWeights[f.ToVersion]
		}
	}
	f.Follow(d, f.NewWeight)
	if len(s.alarms) > 0 {
		if states, err := stackdeploy.AlarmStates(ctx, w.cw, s.alarms); err == nil {
			f.Alarms = states
		}
	}
	switch d.Status {
	case "Succeeded":
		s.done = true
		f.Step, f.NewWeight = "done", 1
		f.Message = fmt.Sprintf("%s:%s is on version %s", f.Name, f.Alias, f.ToVersion)
		w.event("%s", f.Message)
	case "Failed", "Stopped":
		s.done = true
		f.Message = d.EndMessage()
		f.Step, f.NewWeight = "rolled back to version "+f.FromVersion, 0
		w.event("%s:%s stays on version %s: deployment %s %s: %s", f.Name, f.Alias, f.FromVersion, f.DeploymentID, strings.ToLower(d.Status), f.Message)
	}
	return nil
}

// results are the shifts as the deploy's result reports them.
func (w *shiftWatch) results() []stackdeploy.Shift {
	var out []stackdeploy.Shift
	for _, s := range w.shifts {
		f := s.state
		if f.DeploymentID == "" {
			continue
		}
		status, message := f.Status, f.Message
		if !s.done {
			message = "not watched to its end: the deployment goes on"
		}
		out = append(out, stackdeploy.Shift{LogicalID: s.aliasID, Alias: f.Alias, Function: f.Name, FromVersion: f.FromVersion, ToVersion: f.ToVersion,
			DeploymentID: f.DeploymentID, Config: f.Config, Status: status, Message: message, Invocations: f.NewInvocations, Errors: f.NewErrors})
	}
	return out
}
