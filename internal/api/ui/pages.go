package ui

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/sluice-dev/sluice/internal/alarms"
	"github.com/sluice-dev/sluice/internal/codedeploy"
	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/lambda"
)

// maxFunctions bounds the functions one page shows (ListFunctions pages of 50).
const maxFunctions = 200

// functionRow is one function on the functions page.
type functionRow struct {
	Name             string
	Runtime          string
	State            string
	StateReason      string
	LastUpdateStatus string
	LastUpdateReason string
	Versions         []string
	Aliases          []aliasRow
	Denied           string // why its versions and aliases are not shown
}

// aliasRow is an alias with its split: the shares of each version, as a bar and as text.
type aliasRow struct {
	Name   string
	Shares []share
	Text   string
}

type share struct {
	Version string
	Percent float64
	X, W    float64 // the segment of the bar, in percent of its width
	Index   int     // 0: the alias's primary version
}

// functionsView lists the functions the session may list, with what it may read of each.
func (h *Handler) functionsView(ctx context.Context, s *session) ([]functionRow, error) {
	if err := h.authorize(ctx, s, "lambda:ListFunctions", "*"); err != nil {
		return nil, err
	}
	var rows []functionRow
	for marker := ""; len(rows) < maxFunctions; {
		page, next, err := h.o.Functions.ListFunctions(ctx, marker, 50, false)
		if err != nil {
			return nil, err
		}
		for _, f := range page {
			rows = append(rows, h.functionRow(ctx, s, f.Name, f.Config.Runtime, f.Status))
		}
		if next == "" {
			break
		}
		marker = next
	}
	return rows, nil
}

func (h *Handler) functionRow(ctx context.Context, s *session, name, runtime string, st lambda.Status) functionRow {
	row := functionRow{Name: name, Runtime: runtime, State: st.State, StateReason: st.StateReason,
		LastUpdateStatus: st.LastUpdateStatus, LastUpdateReason: st.LastUpdateStatusReason}
	if runtime == "" {
		row.Runtime = "container image"
	}
	arn := h.o.Account.FunctionARN(name)
	for _, action := range []string{"lambda:ListVersionsByFunction", "lambda:ListAliases"} {
		if err := h.authorize(ctx, s, action, arn); err != nil {
			row.Denied = "You may not " + strings.TrimPrefix(action, "lambda:") + " on this function."
			return row
		}
	}
	ref := lambda.Ref{Name: name}
	versions, _, err := h.o.Functions.ListVersionsByFunction(ctx, ref, "", 50)
	if err != nil {
		row.Denied = err.Error()
		return row
	}
	for _, v := range versions {
		if v.Version != lambda.Latest {
			row.Versions = append(row.Versions, v.Version)
		}
	}
	aliases, _, err := h.o.Functions.ListAliases(ctx, ref, "", "", 50)
	if err != nil {
		row.Denied = err.Error()
		return row
	}
	for _, a := range aliases {
		row.Aliases = append(row.Aliases, splitOf(a.Alias))
	}
	return row
}

// splitOf is an alias's traffic split: its primary version gets what the additional weights leave.
func splitOf(a lambda.Alias) aliasRow {
	row := aliasRow{Name: a.Name}
	rest := 100.0
	var extra []share
	if a.Routing != nil {
		for v, w := range a.Routing.AdditionalVersionWeights {
			p := math.Round(w*1000) / 10
			extra = append(extra, share{Version: v, Percent: p})
			rest -= p
		}
	}
	sort.Slice(extra, func(i, j int) bool { return extra[i].Version < extra[j].Version })
	all := append([]share{{Version: a.FunctionVersion, Percent: math.Max(0, math.Round(rest*10)/10)}}, extra...)
	x := 0.0
	var text []string
	for i := range all {
		all[i].Index, all[i].X, all[i].W = i, x, all[i].Percent
		x += all[i].Percent
		text = append(text, "version "+all[i].Version+" "+formatPercent(all[i].Percent))
	}
	row.Shares, row.Text = all, strings.Join(text, ", ")
	return row
}

func formatPercent(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) + "%" }

func (h *Handler) functionsPage(w http.ResponseWriter, r *http.Request, s *session) {
	rows, err := h.functionsView(r.Context(), s)
	if err != nil {
		h.failFault(w, r, s, err)
		return
	}
	h.render(w, r, http.StatusOK, "functions", page{Title: "Functions", Nav: "functions", Session: s, Data: rows})
}

// deploymentRow is one deployment in the list.
type deploymentRow struct {
	D      codedeploy.Deployment
	Weight string
}

// maxDeployments bounds the deployments the list shows (the newest).
const maxDeployments = 50

func (h *Handler) deploymentsPage(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	if err := h.authorize(ctx, s, "codedeploy:ListDeployments", "*"); err != nil {
		h.failFault(w, r, s, err)
		return
	}
	var ids []string
	for token := ""; len(ids) < 10*maxDeployments; {
		page, next, err := h.o.Deployments.ListDeployments(ctx, codedeploy.ListDeploymentsFilter{NextToken: token})
		if err != nil {
			h.failFault(w, r, s, err)
			return
		}
		ids = append(ids, page...)
		if next == "" {
			break
		}
		token = next
	}
	var rows []deploymentRow
	for _, id := range ids {
		d, err := h.o.Deployments.GetDeployment(ctx, id)
		if err != nil {
			continue // deleted meanwhile
		}
		rows = append(rows, deploymentRow{D: d, Weight: formatPercent(buildChart(d, h.o.DeployTimeScale, h.o.Now()).Weight)})
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].D.CreateTime.After(rows[j].D.CreateTime) })
	if len(rows) > maxDeployments {
		rows = rows[:maxDeployments]
	}
	h.render(w, r, http.StatusOK, "deployments", page{Title: "Deployments", Nav: "deployments", Session: s, Data: rows})
}

// deploymentView is everything the deployment page shows.
type deploymentView struct {
	D        codedeploy.Deployment
	Chart    chart
	Alarms   []alarmRow
	Hooks    []hookRow
	Timeline []timelineRow
	Steps    string // the planned schedule as text
	Terminal bool
	Messages []string // what a paused deployment says about itself (deploymentStatusMessages)
}

type alarmRow struct {
	Name, State, Reason, Threshold string
}

type hookRow struct {
	Event, Status, Hook, Result, Problems string
}

type timelineRow struct {
	Time   string
	Offset string
	Kind   string
	Detail string
}

// groupARN is the resource CodeDeploy's API authorizes a deployment's operations on.
func (h *Handler) groupARN(d codedeploy.Deployment) string {
	return "arn:aws:codedeploy:" + h.o.Account.Region + ":" + h.o.Account.ID + ":deploymentgroup:" + d.ApplicationName + "/" + d.DeploymentGroupName
}

// deployment reads a deployment the session may GetDeployment.
func (h *Handler) deployment(ctx context.Context, s *session, id string) (codedeploy.Deployment, error) {
	if !codedeploy.ValidDeploymentID(id) {
		return codedeploy.Deployment{}, fault.New(codedeploy.ErrInvalidDeploymentID, "Specified DeploymentId is not in the valid format: %s", id)
	}
	d, err := h.o.Deployments.GetDeployment(ctx, id)
	if err != nil {
		// Refuse first, as the API does for a caller who may not read the deployment's group.
		if aerr := h.authorize(ctx, s, "codedeploy:GetDeployment", "*"); aerr != nil {
			return codedeploy.Deployment{}, aerr
		}
		return codedeploy.Deployment{}, err
	}
	if err := h.authorize(ctx, s, "codedeploy:GetDeployment", h.groupARN(d)); err != nil {
		return codedeploy.Deployment{}, err
	}
	return d, nil
}

func (h *Handler) deploymentView(ctx context.Context, s *session, id string) (deploymentView, error) {
	d, err := h.deployment(ctx, s, id)
	if err != nil {
		return deploymentView{}, err
	}
	now := h.o.Now()
	v := deploymentView{D: d, Chart: buildChart(d, h.o.DeployTimeScale, now), Terminal: d.Status.Terminal(), Messages: d.StatusMessages()}
	var plan []string
	for _, st := range d.TrafficRouting.Steps() {
		plan = append(plan, fmt.Sprintf("%d%% at +%s", st.Percent, shortDuration(codedeploy.ScaledMinutes(st.OffsetMinutes, h.o.DeployTimeScale))))
	}
	v.Steps = strings.Join(plan, ", then ")
	v.Alarms = h.alarmRows(ctx, s, d.Alarms.Names())
	for _, e := range d.Events {
		row := hookRow{Event: string(e.Name), Status: string(e.Status), Hook: e.Hook, Result: string(e.HookResult), Problems: strings.Join(e.HookProblems, "; ")}
		if e.Diagnostics != nil && e.Diagnostics.Message != "" {
			row.Problems = strings.TrimPrefix(strings.Join([]string{row.Problems, e.Diagnostics.Message}, "; "), "; ")
		}
		v.Hooks = append(v.Hooks, row)
	}
	begin := firstNonZero(d.StartTime, d.CreateTime)
	for _, e := range d.Timeline {
		detail := e.Detail
		if e.Kind == codedeploy.KindStep && e.Weight != nil && detail == "" {
			detail = formatPercent(*e.Weight * 100)
		}
		v.Timeline = append(v.Timeline, timelineRow{Time: e.Time.UTC().Format("15:04:05.000"), Offset: "+" + shortDuration(e.Time.Sub(begin)), Kind: string(e.Kind), Detail: detail})
	}
	return v, nil
}

// alarmRows reads the alarms a deployment watches, each only if the session may describe it.
func (h *Handler) alarmRows(ctx context.Context, s *session, names []string) []alarmRow {
	var rows []alarmRow
	var allowed []string
	for _, n := range names {
		if err := h.authorize(ctx, s, "cloudwatch:DescribeAlarms", "arn:aws:cloudwatch:"+h.o.Account.Region+":"+h.o.Account.ID+":alarm:"+n); err != nil {
			rows = append(rows, alarmRow{Name: n, State: "UNKNOWN", Reason: "You may not DescribeAlarms on this alarm."})
			continue
		}
		allowed = append(allowed, n)
	}
	found := map[string]alarms.Alarm{}
	if len(allowed) > 0 {
		list, _, err := h.o.Alarms.Describe(ctx, alarms.DescribeFilter{Names: allowed, MaxRecords: 100})
		if err != nil {
			h.o.Log.Warn("describe a deployment's alarms", "err", err)
		}
		for _, a := range list {
			found[a.Name] = a
		}
	}
	for _, n := range allowed {
		a, ok := found[n]
		if !ok {
			rows = append(rows, alarmRow{Name: n, State: "MISSING", Reason: "No alarm has this name."})
			continue
		}
		row := alarmRow{Name: n, State: a.StateValue, Reason: a.StateReason}
		if a.AlarmRule != "" {
			row.Threshold = a.AlarmRule
		} else {
			row.Threshold = comparison(a.ComparisonOperator) + " " + strconv.FormatFloat(a.Threshold, 'f', -1, 64)
		}
		rows = append(rows, row)
	}
	slices.SortStableFunc(rows, func(a, b alarmRow) int { return strings.Compare(a.Name, b.Name) })
	return rows
}

func comparison(op string) string {
	switch op {
	case "GreaterThanOrEqualToThreshold":
		return "≥"
	case "GreaterThanThreshold":
		return ">"
	case "LessThanThreshold":
		return "<"
	case "LessThanOrEqualToThreshold":
		return "≤"
	}
	return op
}

func (h *Handler) deploymentPage(w http.ResponseWriter, r *http.Request, s *session) {
	v, err := h.deploymentView(r.Context(), s, r.PathValue("id"))
	if err != nil {
		h.failFault(w, r, s, err)
		return
	}
	h.render(w, r, http.StatusOK, "deployment", page{Title: "Deployment " + v.D.ID, Nav: "deployments", Session: s, Data: v})
}

// stopConfirm asks before stopping: the action is one more, deliberate POST.
func (h *Handler) stopConfirm(w http.ResponseWriter, r *http.Request, s *session) {
	d, err := h.deployment(r.Context(), s, r.PathValue("id"))
	if err != nil {
		h.failFault(w, r, s, err)
		return
	}
	h.render(w, r, http.StatusOK, "stop", page{Title: "Stop deployment " + d.ID, Nav: "deployments", Session: s, Data: d})
}

// stopDeployment stops a deployment as StopDeployment would, authorized the same way and recorded with the
// session's principal.
func (h *Handler) stopDeployment(w http.ResponseWriter, r *http.Request, s *session) {
	if !h.checkCSRF(w, r, s) {
		return
	}
	ctx := r.Context()
	d, err := h.deployment(ctx, s, r.PathValue("id"))
	if err != nil {
		h.failFault(w, r, s, err)
		return
	}
	if err := h.authorize(ctx, s, "codedeploy:StopDeployment", h.groupARN(d)); err != nil {
		h.failFault(w, r, s, err)
		return
	}
	rollback := r.PostForm.Get("rollback") == "yes"
	if _, _, err := h.o.Deployments.StopDeployment(ctx, d.ID, &rollback, s.Principal); err != nil {
		h.failFault(w, r, s, err)
		return
	}
	h.o.Log.Info("console stopped a deployment", "deployment", d.ID, "principal", s.Principal, "rollback", rollback)
	h.render(w, r, http.StatusOK, "moveon", page{Title: "Stop requested", Session: s, MoveOn: Prefix + "deployments/" + d.ID})
}

// controls are the traffic controls the console offers, by the path segment that names each.
var controls = map[string]struct {
	Kind  codedeploy.ControlKind
	Label string // what the button says
	Means string // what the confirmation page says it does
}{
	"pause":   {codedeploy.ControlPause, "Pause", "Hold the traffic where it is: no further step is taken until the deployment is resumed, promoted or stopped. Alarms still roll it back."},
	"resume":  {codedeploy.ControlResume, "Resume", "Let the paused deployment go on: the wait of its current step resumes where it stopped."},
	"skip":    {codedeploy.ControlSkipWait, "Skip the wait", "Take the next traffic step now."},
	"promote": {codedeploy.ControlPromote, "Promote", "Send all traffic to the target version as soon as the pre-traffic hook has succeeded; the post-traffic hook still runs."},
}

type controlPage struct {
	D       codedeploy.Deployment
	Control string
	Label   string
	Means   string
}

func (h *Handler) controlConfirm(w http.ResponseWriter, r *http.Request, s *session) {
	c, ok := controls[r.PathValue("control")]
	if !ok {
		h.fail(w, r, http.StatusNotFound, "No such action.")
		return
	}
	d, err := h.deployment(r.Context(), s, r.PathValue("id"))
	if err != nil {
		h.failFault(w, r, s, err)
		return
	}
	h.render(w, r, http.StatusOK, "control", page{Title: c.Label + " deployment " + d.ID, Nav: "deployments", Session: s,
		Data: controlPage{D: d, Control: r.PathValue("control"), Label: c.Label, Means: c.Means}})
}

// controlDeployment applies a traffic control as its API operation would, authorized as codedeploy:<Operation> on
// the deployment's group and recorded with the session's principal.
func (h *Handler) controlDeployment(w http.ResponseWriter, r *http.Request, s *session) {
	if !h.checkCSRF(w, r, s) {
		return
	}
	c, ok := controls[r.PathValue("control")]
	if !ok {
		h.fail(w, r, http.StatusNotFound, "No such action.")
		return
	}
	ctx := r.Context()
	d, err := h.deployment(ctx, s, r.PathValue("id"))
	if err != nil {
		h.failFault(w, r, s, err)
		return
	}
	if err := h.authorize(ctx, s, "codedeploy:"+string(c.Kind), h.groupARN(d)); err != nil {
		h.failFault(w, r, s, err)
		return
	}
	if err := h.o.Deployments.ControlDeployment(ctx, d.ID, c.Kind, s.Principal); err != nil {
		h.failFault(w, r, s, err)
		return
	}
	h.o.Log.Info("console controlled a deployment", "deployment", d.ID, "control", string(c.Kind), "principal", s.Principal)
	h.render(w, r, http.StatusOK, "moveon", page{Title: c.Label + " requested", Session: s, MoveOn: Prefix + "deployments/" + d.ID})
}
