package controller

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode"

	"github.com/google/uuid"

	"github.com/sluice-dev/sluice/internal/codedeploy"
	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/store"
)

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// newUUID names applications, groups and configs, as CodeDeploy's UUID-shaped ids.
func (c *Controller) newUUID() string { return uuid.NewString() }

// list pages through the names under a prefix (pages of 100, opaque tokens).
func (c *Controller) list(ctx context.Context, prefix, token string) ([]string, string, error) {
	after := ""
	if token != "" {
		b, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil {
			return nil, "", fault.New("InvalidNextTokenException", "The next token is invalid.")
		}
		after = prefix + string(b)
	}
	var names []string
	next := ""
	err := c.o.Store.View(ctx, func(tx store.Tx) error {
		return tx.Scan(prefix, after, func(k string, _ []byte) (bool, error) {
			if len(names) == 100 {
				next = base64.RawURLEncoding.EncodeToString([]byte(names[len(names)-1]))
				return false, nil
			}
			names = append(names, k[len(prefix):])
			return true, nil
		})
	})
	return names, next, err
}

// Applications.

func (c *Controller) CreateApplication(ctx context.Context, app codedeploy.Application) (codedeploy.Application, error) {
	if app.ComputePlatform == "" {
		app.ComputePlatform = codedeploy.ComputePlatformLambda
	}
	if err := codedeploy.CheckApplication(app.Name, app.ComputePlatform); err != nil {
		return app, err
	}
	app.ID, app.CreateTime = c.newUUID(), c.o.Now()
	err := c.o.Store.Update(ctx, func(tx store.Tx) error {
		if ok, err := store.Exists(tx, appKey(app.Name)); err != nil || ok {
			return errors.Join(err, fault.New("ApplicationAlreadyExistsException", "Application %s already exists", app.Name))
		}
		return store.PutJSON(tx, appKey(app.Name), app)
	})
	return app, err
}

func (c *Controller) loadApp(tx store.Tx, name string) (codedeploy.Application, error) {
	var a codedeploy.Application
	err := store.GetJSON(tx, appKey(name), &a)
	if errors.Is(err, store.ErrNotFound) {
		return a, codedeploy.ApplicationDoesNotExist(name)
	}
	return a, err
}

func (c *Controller) GetApplication(ctx context.Context, name string) (codedeploy.Application, error) {
	var a codedeploy.Application
	err := c.o.Store.View(ctx, func(tx store.Tx) error {
		var err error
		a, err = c.loadApp(tx, name)
		return err
	})
	return a, err
}

func (c *Controller) ListApplications(ctx context.Context, token string) ([]string, string, error) {
	return c.list(ctx, prefixApp, token)
}

// DeleteApplication deletes an application with its deployment groups (as CodeDeploy does).
func (c *Controller) DeleteApplication(ctx context.Context, name string) error {
	return c.o.Store.Update(ctx, func(tx store.Tx) error {
		var keys []string
		if err := tx.Scan(groupPrefix(name), "", func(k string, _ []byte) (bool, error) {
			keys = append(keys, k)
			return true, nil
		}); err != nil {
			return err
		}
		for _, k := range append(keys, appKey(name)) {
			if err := tx.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}

// Deployment groups.

func (c *Controller) checkGroupRefs(tx store.Tx, g *codedeploy.DeploymentGroup) error {
	if _, err := c.loadApp(tx, g.ApplicationName); err != nil {
		return err
	}
	if g.DeploymentConfigName == "" {
		g.DeploymentConfigName = codedeploy.LambdaAllAtOnce
	}
	if _, err := codedeploy.ResolveConfig(g.DeploymentConfigName, c.configLookup(tx)); err != nil {
		return err
	}
	*g = withStyleDefault(*g)
	return codedeploy.CheckDeploymentGroup(*g)
}

// withStyleDefault gives a group without a deployment style Lambda's only one.
func withStyleDefault(g codedeploy.DeploymentGroup) codedeploy.DeploymentGroup {
	if g.Style.DeploymentType == "" {
		g.Style = codedeploy.DeploymentStyle{DeploymentType: "BLUE_GREEN", DeploymentOption: "WITH_TRAFFIC_CONTROL"}
	}
	return g
}

func (c *Controller) CreateDeploymentGroup(ctx context.Context, g codedeploy.DeploymentGroup) (codedeploy.DeploymentGroup, error) {
	g.ID = c.newUUID()
	if err := c.checkServiceRole(ctx, g); err != nil {
		return g, err
	}
	err := c.o.Store.Update(ctx, func(tx store.Tx) error {
		if err := c.checkGroupRefs(tx, &g); err != nil {
			return err
		}
		key := groupKey(g.ApplicationName, g.Name)
		if ok, err := store.Exists(tx, key); err != nil || ok {
			return errors.Join(err, fault.New("DeploymentGroupAlreadyExistsException", "Deployment group %s already exists for application %s", g.Name, g.ApplicationName))
		}
		return store.PutJSON(tx, key, g)
	})
	return g, err
}

// checkServiceRole asks the hooks' IAM whether CodeDeploy may assume the group's role. It runs outside the store
// transaction (IAM reads the store itself), after the group's own validation so a missing role is
// RoleRequiredException, not InvalidRoleException.
func (c *Controller) checkServiceRole(ctx context.Context, g codedeploy.DeploymentGroup) error {
	if err := codedeploy.CheckDeploymentGroup(withStyleDefault(g)); err != nil {
		return err
	}
	return c.o.Hooks.CheckServiceRole(ctx, g.ServiceRoleARN)
}

func (c *Controller) loadGroup(tx store.Tx, app, name string) (codedeploy.DeploymentGroup, error) {
	if _, err := c.loadApp(tx, app); err != nil {
		return codedeploy.DeploymentGroup{}, err
	}
	var g codedeploy.DeploymentGroup
	err := store.GetJSON(tx, groupKey(app, name), &g)
	if errors.Is(err, store.ErrNotFound) {
		return g, codedeploy.DeploymentGroupDoesNotExist(name)
	}
	return g, err
}

func (c *Controller) GetDeploymentGroup(ctx context.Context, app, name string) (codedeploy.DeploymentGroup, error) {
	var g codedeploy.DeploymentGroup
	err := c.o.Store.View(ctx, func(tx store.Tx) error {
		var err error
		g, err = c.loadGroup(tx, app, name)
		return err
	})
	return g, err
}

func (c *Controller) UpdateDeploymentGroup(ctx context.Context, current string, g codedeploy.DeploymentGroup) error {
	// Only a role the update changes is checked, as in AWS: a group keeps working on updates of its other
	// settings even if its role was since broken. A role swapped between this read and the commit below is
	// not re-checked; the hooks' own authorisation still stands behind it.
	old, err := c.GetDeploymentGroup(ctx, g.ApplicationName, current)
	if err != nil {
		return err
	}
	if g.ServiceRoleARN != old.ServiceRoleARN {
		checked := g
		if checked.Name == "" {
			checked.Name = current
		}
		if err := c.checkServiceRole(ctx, checked); err != nil {
			return err
		}
	}
	return c.o.Store.Update(ctx, func(tx store.Tx) error {
		old, err := c.loadGroup(tx, g.ApplicationName, current)
		if err != nil {
			return err
		}
		if g.Name == "" {
			g.Name = current
		}
		g.ID, g.LastAttempted, g.LastSuccessful = old.ID, old.LastAttempted, old.LastSuccessful
		if err := c.checkGroupRefs(tx, &g); err != nil {
			return err
		}
		if g.Name != current {
			if ok, err := store.Exists(tx, groupKey(g.ApplicationName, g.Name)); err != nil || ok {
				return errors.Join(err, fault.New("DeploymentGroupAlreadyExistsException", "Deployment group %s already exists", g.Name))
			}
			if err := tx.Delete(groupKey(g.ApplicationName, current)); err != nil {
				return err
			}
		}
		return store.PutJSON(tx, groupKey(g.ApplicationName, g.Name), g)
	})
}

func (c *Controller) DeleteDeploymentGroup(ctx context.Context, app, name string) error {
	return c.o.Store.Update(ctx, func(tx store.Tx) error {
		if _, err := c.loadApp(tx, app); err != nil {
			return err
		}
		return tx.Delete(groupKey(app, name))
	})
}

func (c *Controller) ListDeploymentGroups(ctx context.Context, app, token string) ([]string, string, error) {
	if _, err := c.GetApplication(ctx, app); err != nil {
		return nil, "", err
	}
	return c.list(ctx, groupPrefix(app), token)
}

// Deployment configs.

func (c *Controller) configLookup(tx store.Tx) func(string) (codedeploy.DeploymentConfig, bool) {
	return func(name string) (codedeploy.DeploymentConfig, bool) {
		var dc codedeploy.DeploymentConfig
		if err := store.GetJSON(tx, configKey(name), &dc); err != nil {
			return dc, false
		}
		return dc, true
	}
}

func (c *Controller) CreateDeploymentConfig(ctx context.Context, dc codedeploy.DeploymentConfig) (codedeploy.DeploymentConfig, error) {
	if err := codedeploy.CheckConfigName(dc.Name); err != nil {
		return dc, err
	}
	if codedeploy.IsPredefined(dc.Name) {
		return dc, fault.New("DeploymentConfigAlreadyExistsException", "A deployment configuration with the name %s already exists", dc.Name)
	}
	if err := codedeploy.ValidateTrafficRouting(dc.TrafficRouting); err != nil {
		return dc, err
	}
	dc.ID, dc.CreateTime = c.newUUID(), c.o.Now()
	err := c.o.Store.Update(ctx, func(tx store.Tx) error {
		if ok, err := store.Exists(tx, configKey(dc.Name)); err != nil || ok {
			return errors.Join(err, fault.New("DeploymentConfigAlreadyExistsException", "A deployment configuration with the name %s already exists", dc.Name))
		}
		return store.PutJSON(tx, configKey(dc.Name), dc)
	})
	return dc, err
}

func (c *Controller) GetDeploymentConfig(ctx context.Context, name string) (codedeploy.DeploymentConfig, error) {
	var dc codedeploy.DeploymentConfig
	err := c.o.Store.View(ctx, func(tx store.Tx) error {
		var err error
		dc, err = codedeploy.ResolveConfig(name, c.configLookup(tx))
		return err
	})
	return dc, err
}

func (c *Controller) DeleteDeploymentConfig(ctx context.Context, name string) error {
	if err := codedeploy.CheckDeletable(name); err != nil {
		return err
	}
	return c.o.Store.Update(ctx, func(tx store.Tx) error { return tx.Delete(configKey(name)) })
}

func (c *Controller) ListDeploymentConfigs(ctx context.Context, token string) ([]string, string, error) {
	custom, next, err := c.list(ctx, prefixConfig, token)
	if err != nil || token != "" {
		return custom, next, err
	}
	var names []string
	for _, p := range codedeploy.PredefinedConfigs() {
		names = append(names, p.Name)
	}
	return append(names, custom...), next, nil
}

// Deployments.

func (c *Controller) CreateDeployment(ctx context.Context, in codedeploy.CreateDeploymentInput) (string, error) {
	id, err := c.o.IDs.DeploymentID()
	if err != nil {
		return "", err
	}
	err = c.o.Store.Update(ctx, func(tx store.Tx) error {
		g, err := c.loadGroup(tx, in.ApplicationName, in.DeploymentGroupName)
		if err != nil {
			return err
		}
		name := in.DeploymentConfigName
		if name == "" {
			name = g.DeploymentConfigName
		}
		dc, err := codedeploy.ResolveConfig(name, c.configLookup(tx))
		if err != nil {
			return err
		}
		rollback, alarms := g.AutoRollback, g.Alarms
		if in.AutoRollback != nil {
			rollback = *in.AutoRollback
		}
		if in.Alarms != nil {
			alarms = *in.Alarms
		}
		d, err := codedeploy.NewDeployment(codedeploy.NewDeploymentInput{ID: id, ApplicationName: in.ApplicationName,
			DeploymentGroupName: in.DeploymentGroupName, Config: dc, Revision: in.Revision, Description: in.Description,
			AutoRollback: rollback, Alarms: alarms, Now: c.o.Now()})
		if err != nil {
			return err
		}
		g.LastAttempted = id
		if err := store.PutJSON(tx, groupKey(g.ApplicationName, g.Name), g); err != nil {
			return err
		}
		d.StoreRevision = 1
		if err := store.PutJSON(tx, depKey(id), d); err != nil {
			return err
		}
		return tx.Put(openKey(id), []byte{})
	})
	if err != nil {
		return "", err
	}
	return id, nil
}

func (c *Controller) loadDeployment(tx store.Tx, id string) (codedeploy.Deployment, error) {
	if err := codedeploy.CheckDeploymentID(id); err != nil {
		return codedeploy.Deployment{}, err
	}
	var d codedeploy.Deployment
	err := store.GetJSON(tx, depKey(id), &d)
	if errors.Is(err, store.ErrNotFound) {
		return d, codedeploy.DeploymentDoesNotExist(id)
	}
	return d, err
}

func (c *Controller) GetDeployment(ctx context.Context, id string) (codedeploy.Deployment, error) {
	var d codedeploy.Deployment
	err := c.o.Store.View(ctx, func(tx store.Tx) error {
		var err error
		d, err = c.loadDeployment(tx, id)
		return err
	})
	return d, err
}

func (c *Controller) ListDeployments(ctx context.Context, f codedeploy.ListDeploymentsFilter) ([]string, string, error) {
	var all []codedeploy.Deployment
	err := c.o.Store.View(ctx, func(tx store.Tx) error {
		return tx.Scan(prefixDep, "", func(_ string, v []byte) (bool, error) {
			var d codedeploy.Deployment
			if err := jsonUnmarshal(v, &d); err != nil {
				return false, err
			}
			if matches(d, f) {
				all = append(all, d)
			}
			return true, nil
		})
	})
	if err != nil {
		return nil, "", err
	}
	sort.Slice(all, func(i, j int) bool { return all[i].CreateTime.After(all[j].CreateTime) }) // newest first
	start := 0
	if f.NextToken != "" {
		for i, d := range all {
			if d.ID == f.NextToken {
				start = i + 1
			}
		}
	}
	var ids []string
	next := ""
	for i := start; i < len(all); i++ {
		if len(ids) == 100 {
			next = ids[len(ids)-1]
			break
		}
		ids = append(ids, all[i].ID)
	}
	return ids, next, nil
}

func matches(d codedeploy.Deployment, f codedeploy.ListDeploymentsFilter) bool {
	if f.ApplicationName != "" && d.ApplicationName != f.ApplicationName || f.DeploymentGroupName != "" && d.DeploymentGroupName != f.DeploymentGroupName {
		return false
	}
	if !f.CreatedAfter.IsZero() && d.CreateTime.Before(f.CreatedAfter) || !f.CreatedBefore.IsZero() && d.CreateTime.After(f.CreatedBefore) {
		return false
	}
	if len(f.Statuses) == 0 {
		return true
	}
	for _, s := range f.Statuses {
		if strings.EqualFold(string(s), string(d.Status)) {
			return true
		}
	}
	return false
}

// StopDeployment keeps a stop request — with by, the principal asking (for the timeline) — in the deployment's intents, where no reconcile pass writes; the next pass
// hands it to Decide, which stops the deployment (and rolls it back if asked). The request is refused only if the
// deployment has completed when it is made, so a Pending answer is never lost: a pass that decided without it
// cannot save its decision (see save).
func (c *Controller) StopDeployment(ctx context.Context, id string, autoRollback *bool, by string) (codedeploy.StopStatus, string, error) {
	var status codedeploy.StopStatus
	var msg string
	err := c.o.Store.Update(ctx, func(tx store.Tx) error {
		d, err := c.loadDeployment(tx, id)
		if err != nil {
			return err
		}
		in, err := loadIntents(tx, id)
		if err != nil {
			return err
		}
		var req *codedeploy.StopRequest
		req, status, msg, err = codedeploy.NewStopRequest(d, in.Stop, autoRollback, by, c.o.Now())
		if err != nil || req == nil {
			return err
		}
		in.Stop = req
		return putIntents(tx, id, in)
	})
	return status, msg, err
}

// PutLifecycleEventHookExecutionStatus keeps a hook's report in the dispatch log (cd/hook/<id>/<execution>),
// where the next pass reads it, and counts it as an intent of the deployment.
func (c *Controller) PutLifecycleEventHookExecutionStatus(ctx context.Context, id, execution, status string) error {
	err := c.o.Store.Update(ctx, func(tx store.Tx) error {
		d, err := c.loadDeployment(tx, id)
		if err != nil {
			return err
		}
		var recorded codedeploy.HookResult
		if err := store.GetJSON(tx, hookKey(id, execution), &recorded); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		result, err := codedeploy.CheckHookReport(d, execution, status, recorded)
		if err != nil {
			return err
		}
		if err := store.PutJSON(tx, hookKey(id, execution), result); err != nil {
			return err
		}
		in, err := loadIntents(tx, id)
		if err != nil {
			return err
		}
		return putIntents(tx, id, in)
	})
	return err
}

// maxHookProblems bounds the problems kept per hook execution: a hook retrying a denied report in a loop must not
// grow the deployment's record without end.
const maxHookProblems = 5

// NoteHookProblem records something that went wrong with a hook's run that its status would not tell — its
// invocation failed, or its report was denied — so that the deployment's lifecycle event and timeline say so at
// once rather than only after the hook timeout. detail is the whole sentence shown, possibly followed by lines
// that illustrate it (a failed invocation's last log lines). A problem about an execution that is not the current
// invocation of one of the deployment's hooks, a problem whose sentence is already recorded (a retry whose log
// lines differ only by their timestamps is no news), or one past the bound is dropped without an error; so is one
// about a finished deployment.
func (c *Controller) NoteHookProblem(ctx context.Context, id, execution, detail string) error {
	return c.o.Store.Update(ctx, func(tx store.Tx) error {
		d, err := c.loadDeployment(tx, id)
		if err != nil || d.Status.Terminal() || !hasExecution(d, execution) {
			return err
		}
		in, err := loadIntents(tx, id)
		if err != nil {
			return err
		}
		n := 0
		for _, p := range in.HookProblems {
			if p.Execution != execution {
				continue
			}
			if n++; firstLine(p.Detail) == firstLine(detail) || n >= maxHookProblems {
				return nil
			}
		}
		in.HookProblems = append(in.HookProblems, hookProblem{Execution: execution, Detail: detail})
		return putIntents(tx, id, in)
	})
}

// NoteHookReportDenied records that IAM refused a hook's PutLifecycleEventHookExecutionStatus: the hook ran but
// its role may not report, which otherwise shows only as a hook timeout an hour later.
func (c *Controller) NoteHookReportDenied(ctx context.Context, id, execution, message string) error {
	d, err := c.GetDeployment(ctx, id)
	if f, ok := fault.As(err); ok && f.Code == codedeploy.ErrDeploymentDoesNotExist {
		return nil // a report about no deployment: nothing to tell
	}
	if err != nil {
		return err
	}
	for _, ev := range d.Events {
		if ev.HookExecutionID == execution && execution != "" {
			return c.NoteHookProblem(ctx, id, execution, fmt.Sprintf("hook %s could not report its status: %s", ev.Hook, message))
		}
	}
	return nil
}

func hasExecution(d codedeploy.Deployment, execution string) bool {
	for _, ev := range d.Events {
		if execution != "" && ev.HookExecutionID == execution {
			return true
		}
	}
	return false
}

// maxHookFailureReason bounds the function's error text kept on the deployment (a stack trace can be long).
const maxHookFailureReason = 300

// NoteHookInvocationFailed records that one attempt of a hook's asynchronous invocation ended in a function error
// (a Python hook without boto3, say): payload is the event the hook was invoked with, response the error document
// the function answered, logTail the end of the attempt's log (START to REPORT; nil if unknown), whose last lines
// the function wrote follow the sentence (hookLogLines). Invocations that are not hook events of a deployment are
// ignored. The deployment keeps waiting for the hook's status, as CodeDeploy does, but shows why it may never come.
func (c *Controller) NoteHookInvocationFailed(ctx context.Context, payload, response, logTail []byte) error {
	var event struct {
		DeploymentID string `json:"DeploymentId"`
		Execution    string `json:"LifecycleEventHookExecutionId"`
	}
	if json.Unmarshal(payload, &event) != nil || event.DeploymentID == "" || event.Execution == "" {
		return nil
	}
	var answer struct {
		ErrorType    string `json:"errorType"`
		ErrorMessage string `json:"errorMessage"`
	}
	_ = json.Unmarshal(response, &answer) // a function may answer anything; say what can be said
	reason := answer.ErrorType
	switch {
	case reason != "" && answer.ErrorMessage != "":
		reason += ": " + answer.ErrorMessage
	case reason == "":
		reason = answer.ErrorMessage
	}
	if reason == "" {
		reason = "the function failed"
	}
	if len(reason) > maxHookFailureReason {
		reason = strings.ToValidUTF8(reason[:maxHookFailureReason], "") + "…"
	}
	d, err := c.GetDeployment(ctx, event.DeploymentID)
	if f, ok := fault.As(err); ok && f.Code == codedeploy.ErrDeploymentDoesNotExist {
		return nil
	}
	if err != nil {
		return err
	}
	for _, ev := range d.Events {
		if ev.HookExecutionID == event.Execution {
			detail := fmt.Sprintf("hook %s invocation failed: %s — %s", ev.Hook, reason, waitingUntil(d, event.Execution, c.o.HookTimeout))
			for _, l := range hookLogLines(logTail, answer.ErrorMessage) {
				detail += "\n" + hookLogPrefix + l
			}
			return c.NoteHookProblem(ctx, d.ID, event.Execution, detail)
		}
	}
	return nil
}

// Bounds on the log lines of a failed hook invocation kept on its deployment: a glance at why, not the whole log
// (`sluice logs HOOK` has it).
const (
	maxHookLogLines = 5
	maxHookLogLine  = 160
)

// minRepeatedMessage is the shortest error message whose repetition in a log line drops the line: a short one
// ("boom") may well be part of a line that says more.
const minRepeatedMessage = 16

// hookLogPrefix starts each log line that follows a problem's sentence: it keeps them apart when a view puts the
// whole problem on one line.
const hookLogPrefix = "  | "

// platformLinePrefixes start the lines Sluice writes around an invocation's output, which say nothing about why
// it failed.
var platformLinePrefixes = []string{"START RequestId: ", "END RequestId: ", "REPORT RequestId: ", "INIT_START ", "INIT_REPORT "}

// runtimeBoilerplate is in the warning Lambda's Python runtime logs before every unhandled exception (a paragraph
// about runtime updates): a line holding it says nothing about this failure.
const runtimeBoilerplate = "LAMBDA_WARNING: Unhandled exception."

// hookLogLines are the last lines a failed invocation's function wrote, from the attempt's log tail: without the
// platform's lines, blank ones, the runtime's boilerplate and those repeating the error message the sentence
// already quotes (a runtime logs it too), at most maxHookLogLines, each cut to maxHookLogLine bytes.
func hookLogLines(logTail []byte, errorMessage string) []string {
	var lines []string
	// Lambda's runtimes keep a multi-line record (a Python traceback) on one log line with \r between its lines.
	for _, l := range strings.FieldsFunc(string(logTail), func(r rune) bool { return r == '\n' || r == '\r' }) {
		l = strings.TrimSpace(strings.ToValidUTF8(l, ""))
		if l == "" || slices.ContainsFunc(platformLinePrefixes, func(p string) bool { return strings.HasPrefix(l, p) }) ||
			strings.Contains(l, runtimeBoilerplate) || len(errorMessage) >= minRepeatedMessage && strings.Contains(l, errorMessage) {
			continue
		}
		l = strings.Map(func(r rune) rune {
			if unicode.IsControl(r) {
				return ' '
			}
			return r
		}, l)
		if len(l) > maxHookLogLine {
			l = strings.ToValidUTF8(l[:maxHookLogLine], "") + "…"
		}
		lines = append(lines, l)
	}
	if len(lines) > maxHookLogLines {
		lines = lines[len(lines)-maxHookLogLines:]
	}
	return lines
}

// firstLine is a hook problem's sentence, without the lines that follow it.
func firstLine(detail string) string {
	s, _, _ := strings.Cut(detail, "\n")
	return s
}
