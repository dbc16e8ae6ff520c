package stackdeploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/sluice-dev/sluice/internal/awsraw"
	"github.com/sluice-dev/sluice/internal/stack"
)

// pendingShift is a CodeDeploy deployment moving an alias, started by this deploy.
type pendingShift struct {
	res                      *resource
	prev                     stack.ResourceState
	function, alias          string
	from, to                 string
	id, config               string
	pre, post                string
	done                     bool
	status, message          string
	seen                     string // CodeDeploy's status when last read
	rollbackSince            time.Time
	invocations, errorsCount int64
}

// startShift asks CodeDeploy to move an alias to its new version under the deployment group the alias's
// CodeDeployLambdaAliasUpdate policy names, with the policy's hooks.
func (r *run) startShift(ctx context.Context, res *resource, prev stack.ResourceState, policy any) (Action, string, error) {
	v, err := r.l.eval.Eval(policy, r.refs(), "Resources."+res.id+".UpdatePolicy.CodeDeployLambdaAliasUpdate")
	if err != nil {
		return "", "", err
	}
	p, _ := v.(map[string]any)
	app, group := str(p, "ApplicationName"), str(p, "DeploymentGroupName")
	if app == "" || group == "" {
		return "", "", errors.New("CodeDeployLambdaAliasUpdate needs ApplicationName and DeploymentGroupName")
	}
	fn, alias := str(res.props, "FunctionName"), str(res.props, "Name")
	current, err := r.lambda.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String(fn), Name: aws.String(alias)})
	if err != nil {
		return "", "", err
	}
	s := &pendingShift{res: res, prev: prev, function: fn, alias: alias, from: aws.ToString(current.FunctionVersion),
		to: str(res.props, "FunctionVersion"), pre: str(p, "BeforeAllowTrafficHook"), post: str(p, "AfterAllowTrafficHook")}
	if s.from == s.to && (current.RoutingConfig == nil || len(current.RoutingConfig.AdditionalVersionWeights) == 0) {
		// Already there (a deployment an interrupted deploy left running has finished since): nothing to shift.
		return ActionUpdate, fmt.Sprintf("%s:%s is already on version %s", fn, alias, s.to), nil
	}
	spec := fmt.Sprintf("version: 0.0\nResources:\n  - %s:\n      Type: AWS::Lambda::Function\n      Properties:\n        Name: %q\n        Alias: %q\n        CurrentVersion: %q\n        TargetVersion: %q\n",
		res.id, fn, alias, s.from, s.to)
	var hooks []string
	if s.pre != "" {
		hooks = append(hooks, fmt.Sprintf("  - BeforeAllowTraffic: %q\n", s.pre))
	}
	if s.post != "" {
		hooks = append(hooks, fmt.Sprintf("  - AfterAllowTraffic: %q\n", s.post))
	}
	if len(hooks) > 0 {
		spec += "Hooks:\n" + strings.Join(hooks, "")
	}
	g, err := r.cd.GetDeploymentGroup(ctx, &codedeploy.GetDeploymentGroupInput{ApplicationName: aws.String(app), DeploymentGroupName: aws.String(group)})
	if err != nil {
		return "", "", err
	}
	s.config = aws.ToString(g.DeploymentGroupInfo.DeploymentConfigName)
	description := "CloudFormation stack " + r.o.StackName
	id := r.st.Deployments[res.id]
	if !r.shifted(res.id) {
		id = "" // a deployment of an earlier operation
	}
	if r.o.Resuming && id == "" {
		// The operation may have started it and stopped before its record said so. Not finding out (the caller
		// may not list deployments) is no failure: a new deployment waits for that one.
		if open, err := r.openShift(ctx, app, group, description); err == nil {
			id = open
		}
	}
	if id != "" {
		// Resumed: the operation started this shift before; it is watched, not started again.
		s.id = id
		if prev.Properties != nil {
			s.from = str(prev.Properties, "FunctionVersion")
		}
		for _, a := range r.applied {
			if a.id == res.id && a.action == ActionShift {
				s.prev, s.from = a.old, str(a.old.Properties, "FunctionVersion")
			}
		}
		r.pending = append(r.pending, s)
		detail := fmt.Sprintf("%s:%s version %s → %s through CodeDeploy deployment %s (%s), resumed", fn, alias, s.from, s.to, s.id, s.config)
		return ActionShift, detail, nil
	}
	out, err := r.cd.CreateDeployment(ctx, &codedeploy.CreateDeploymentInput{ApplicationName: aws.String(app), DeploymentGroupName: aws.String(group),
		Description: aws.String(description),
		Revision: &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeAppSpecContent,
			AppSpecContent: &cdtypes.AppSpecContent{Content: aws.String(spec)}}})
	if err != nil {
		return "", "", err
	}
	s.id = aws.ToString(out.DeploymentId)
	r.pending = append(r.pending, s)
	if r.st.Deployments == nil {
		r.st.Deployments = map[string]string{}
	}
	r.st.Deployments[res.id] = s.id
	detail := fmt.Sprintf("%s:%s version %s → %s through CodeDeploy deployment %s (%s)", fn, alias, s.from, s.to, s.id, s.config)
	return ActionShift, detail, nil
}

// openShift finds a deployment of the group still under way that the stack's operation started (by its
// description), for a resumed operation whose record did not say so yet ("" if none).
func (r *run) openShift(ctx context.Context, app, group, description string) (string, error) {
	out, err := r.cd.ListDeployments(ctx, &codedeploy.ListDeploymentsInput{ApplicationName: aws.String(app), DeploymentGroupName: aws.String(group),
		IncludeOnlyStatuses: []cdtypes.DeploymentStatus{cdtypes.DeploymentStatusCreated, cdtypes.DeploymentStatusQueued,
			cdtypes.DeploymentStatusInProgress, cdtypes.DeploymentStatusBaking, cdtypes.DeploymentStatusReady}})
	if err != nil {
		return "", err
	}
	for _, id := range out.Deployments {
		d, err := r.cd.GetDeployment(ctx, &codedeploy.GetDeploymentInput{DeploymentId: aws.String(id)})
		if err != nil {
			return "", err
		}
		if d.DeploymentInfo != nil && aws.ToString(d.DeploymentInfo.Description) == description {
			return id, nil
		}
	}
	return "", nil
}

// DeploymentView is CodeDeploy's GetDeployment answer with Sluice's extensions, which a traffic shift's progress is
// read from (the SDK's output type drops the extensions): by the engine, and by `sluice deploy`'s live view.
type DeploymentView struct {
	DeploymentInfo DeploymentInfo `json:"deploymentInfo"`
}

// DeploymentInfo is the part of a deployment a shift's progress needs.
type DeploymentInfo struct {
	Status           string `json:"status"`
	ErrorInformation *struct {
		Code, Message string
	} `json:"errorInformation"`
	RollbackInfo *struct {
		RollbackMessage string `json:"rollbackMessage"`
	} `json:"rollbackInfo"`
	TargetWeight float64 `json:"sluiceTargetWeight"`
	NextStep     float64 `json:"sluiceNextStepTime"`
	Events       []struct {
		Name         string   `json:"lifecycleEventName"`
		Status       string   `json:"status"`
		Hook         string   `json:"hook"`
		HookProblems []string `json:"hookProblems"`
	} `json:"sluiceLifecycleEvents"`
	BlastRadius struct {
		TargetInvocations int64 `json:"targetInvocations"`
		TargetErrors      int64 `json:"targetErrors"`
	} `json:"sluiceBlastRadius"`
}

// EndMessage is why a failed or stopped deployment ended, as its error information says ("rolled back" when it
// says nothing).
func (d DeploymentInfo) EndMessage() string {
	if d.ErrorInformation != nil {
		return d.ErrorInformation.Code + ": " + d.ErrorInformation.Message
	}
	return "rolled back"
}

// Follow sets what deployment d says of the shift: its status, blast radius and hooks, the step under way
// (described at weight, the new version's share) and when the next traffic shift is due.
func (f *ShiftState) Follow(d DeploymentInfo, weight float64) {
	f.Status = d.Status
	f.NewInvocations, f.NewErrors = d.BlastRadius.TargetInvocations, d.BlastRadius.TargetErrors
	f.Hooks, f.Step, f.NextShiftAt = nil, "", time.Time{}
	for _, e := range d.Events {
		if e.Hook != "" {
			f.Hooks = append(f.Hooks, ShiftHook{Event: e.Name, Function: e.Hook, Status: e.Status, Problems: e.HookProblems})
		}
		if e.Status == "InProgress" {
			f.Step = stepText(e.Name, weight)
			if e.Name == "AllowTraffic" && d.NextStep > 0 {
				f.NextShiftAt = time.UnixMilli(int64(d.NextStep * 1000))
			}
		}
	}
}

// AlarmStates reads the states of a deployment group's alarms, which may be composite ones too.
func AlarmStates(ctx context.Context, cw *cloudwatch.Client, names []string) ([]ShiftAlarm, error) {
	out, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: names,
		AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm, cwtypes.AlarmTypeCompositeAlarm}})
	if err != nil {
		return nil, err
	}
	var states []ShiftAlarm
	for _, a := range out.MetricAlarms {
		states = append(states, ShiftAlarm{Name: aws.ToString(a.AlarmName), State: string(a.StateValue)})
	}
	for _, a := range out.CompositeAlarms {
		states = append(states, ShiftAlarm{Name: aws.ToString(a.AlarmName), State: string(a.StateValue)})
	}
	return states, nil
}

// awaitShifts watches every shift this deploy started until each ends; a failed or stopped shift (rolled back by
// CodeDeploy) fails the deploy once the alias is back where it was.
func (r *run) awaitShifts(ctx context.Context) error {
	if err := r.watchShifts(ctx); err != nil {
		return err
	}
	return r.settleShifts(ctx)
}

// watchShifts polls the shifts until each has ended.
func (r *run) watchShifts(ctx context.Context) error {
	if len(r.pending) == 0 {
		return nil
	}
	for {
		open := 0
		for _, s := range r.pending {
			if err := r.observe(ctx, s); err != nil {
				return err
			}
			if !s.done {
				open++
			}
		}
		if open == 0 {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("stopped watching (the deployments go on): %w", ctx.Err())
		case <-r.clock.After(r.o.Poll):
		}
	}
	return nil
}

// settleShifts records how the ended shifts went: a succeeded one puts its alias's new version in the record; any
// other fails the deploy with ErrRolledBack.
func (r *run) settleShifts(ctx context.Context) error {
	if len(r.pending) == 0 {
		return nil
	}
	var failed []string
	for _, s := range r.pending {
		r.result.Shifts = append(r.result.Shifts, Shift{Alias: s.alias, LogicalID: s.res.id, Function: s.function, FromVersion: s.from, ToVersion: s.to,
			DeploymentID: s.id, Config: s.config, Status: s.status, Message: s.message, Invocations: s.invocations, Errors: s.errorsCount})
		if s.status == string(cdtypes.DeploymentStatusSucceeded) {
			r.state[s.res.id] = r.stateOf(s.res, s.prev.PhysicalID, s.res.props, s.prev.Attributes)
			r.emit(s.res.id, s.res.typ, s.prev.PhysicalID, UpdateComplete, "", nil)
			continue
		}
		failed = append(failed, fmt.Sprintf("%s:%s stayed on version %s: deployment %s %s: %s", s.function, s.alias, s.from, s.id, strings.ToLower(s.status), s.message))
		r.fail(s.res.id)
		r.emit(s.res.id, s.res.typ, s.prev.PhysicalID, UpdateFailed, fmt.Sprintf("CodeDeploy deployment %s %s: %s", s.id, strings.ToLower(s.status), s.message), nil)
	}
	if err := r.save(ctx); err != nil {
		return err
	}
	if len(failed) > 0 {
		return fmt.Errorf("%w: %s", ErrRolledBack, strings.Join(failed, "; "))
	}
	return nil
}

// recordUnwatched puts in the result the shifts this deploy started when it stopped before watching them all to
// their end (it failed or was interrupted): a deployment not seen to end goes on without the deploy, and says so.
func (r *run) recordUnwatched() {
	if len(r.result.Shifts) > 0 {
		return // awaitShifts recorded them all
	}
	for _, s := range r.pending {
		status, message := s.status, s.message
		if !s.done {
			status, message = s.seen, "not watched to its end: the deployment goes on"
			if status == "" {
				status = string(cdtypes.DeploymentStatusCreated)
			}
		}
		r.result.Shifts = append(r.result.Shifts, Shift{Alias: s.alias, LogicalID: s.res.id, Function: s.function, FromVersion: s.from, ToVersion: s.to,
			DeploymentID: s.id, Config: s.config, Status: status, Message: message, Invocations: s.invocations, Errors: s.errorsCount})
	}
}

// observe reads a shift's deployment: its status and blast radius.
func (r *run) observe(ctx context.Context, s *pendingShift) error {
	var v DeploymentView
	if err := r.rawCodeDeploy(ctx, "GetDeployment", map[string]string{"deploymentId": s.id}, &v); err != nil {
		return err
	}
	d := v.DeploymentInfo
	s.seen = d.Status
	s.invocations, s.errorsCount = d.BlastRadius.TargetInvocations, d.BlastRadius.TargetErrors
	switch d.Status {
	case "Succeeded":
		s.done, s.status = true, d.Status
	case "Failed", "Stopped":
		if !s.done {
			// Report only once the rollback has put the alias back, so that the exit means "traffic is safe".
			a, err := r.lambda.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String(s.function), Name: aws.String(s.alias)})
			back := err == nil && aws.ToString(a.FunctionVersion) == s.from && (a.RoutingConfig == nil || len(a.RoutingConfig.AdditionalVersionWeights) == 0)
			if !back && s.status == "" {
				s.status = "rolling-back"
				s.rollbackSince = r.clock.Now()
			}
			if back || r.clock.Now().Sub(s.rollbackSince) > 30*time.Second {
				s.done, s.status = true, d.Status
			}
		}
		s.message = d.EndMessage()
	}
	return nil
}

func stepText(event string, weight float64) string {
	switch event {
	case "BeforeAllowTraffic":
		return "pre-traffic hook"
	case "AfterAllowTraffic":
		return "post-traffic hook"
	case "AllowTraffic":
		if weight > 0 && weight < 1 {
			return fmt.Sprintf("%g%% on the new version", weight*100)
		}
		return "shifting traffic"
	}
	return event
}

// rawCodeDeploy calls a CodeDeploy operation and decodes the raw response, extensions included (the SDK's
// output types drop members its model does not declare).
func (r *run) rawCodeDeploy(ctx context.Context, op string, in, out any) error {
	body, _ := json.Marshal(in)
	resp, err := awsraw.Do(ctx, r.o.Config, "codedeploy", http.MethodPost, "/",
		map[string]string{"X-Amz-Target": "CodeDeploy_20141006." + op, "Content-Type": "application/x-amz-json-1.1"}, body)
	if err != nil {
		return err
	}
	if resp.Status != http.StatusOK {
		return fmt.Errorf("codedeploy %s: HTTP %d: %s", op, resp.Status, resp.Body)
	}
	return json.Unmarshal(resp.Body, out)
}

// stopShifts stops the shifts still under way when the deploy fails elsewhere — CodeDeploy rolls each back — and
// watches them until they have ended.
func (r *run) stopShifts(ctx context.Context) error {
	stopped := false
	for _, s := range r.pending {
		if s.done {
			continue
		}
		if _, err := r.cd.StopDeployment(ctx, &codedeploy.StopDeploymentInput{DeploymentId: aws.String(s.id), AutoRollbackEnabled: aws.Bool(true)}); err != nil {
			return fmt.Errorf("stop deployment %s: %w", s.id, err)
		}
		stopped = true
	}
	if !stopped {
		return nil
	}
	if err := r.watchShifts(ctx); err != nil {
		return err
	}
	if len(r.result.Shifts) == 0 {
		_ = r.settleShifts(ctx) // records them; that they did not succeed is what the rollback is about
	}
	return nil
}

// restoreAlias puts an alias a shift moved back on the version it was on, at once: after a shift CodeDeploy rolled
// back it is there already; after one that succeeded before the deploy failed elsewhere, it is not.
func (r *run) restoreAlias(ctx context.Context, s *pendingShift) error {
	a, err := r.lambda.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String(s.function), Name: aws.String(s.alias)})
	if err != nil {
		return fmt.Errorf("%s: read alias %s:%s: %w", s.res.id, s.function, s.alias, err)
	}
	if aws.ToString(a.FunctionVersion) != s.from || a.RoutingConfig != nil && len(a.RoutingConfig.AdditionalVersionWeights) > 0 {
		if _, err := r.lambda.UpdateAlias(ctx, &lambda.UpdateAliasInput{FunctionName: aws.String(s.function), Name: aws.String(s.alias),
			FunctionVersion: aws.String(s.from), RoutingConfig: &lambdatypes.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{}}}); err != nil {
			return fmt.Errorf("%s: put alias %s:%s back on version %s: %w", s.res.id, s.function, s.alias, s.from, err)
		}
		detail := fmt.Sprintf("%s:%s moved back at once from version %s to %s", s.function, s.alias, aws.ToString(a.FunctionVersion), s.from)
		r.note(Change{LogicalID: s.res.id, Type: s.res.typ, Action: ActionRestore, PhysicalID: s.prev.PhysicalID, Detail: detail})
		r.emit(s.res.id, s.res.typ, s.prev.PhysicalID, UpdateInProgress, "", s.prev.Properties)
		r.state[s.res.id] = s.prev
		r.emit(s.res.id, s.res.typ, s.prev.PhysicalID, UpdateComplete, "", nil)
		return nil
	}
	r.state[s.res.id] = s.prev
	return nil
}
