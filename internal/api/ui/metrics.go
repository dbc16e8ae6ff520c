package ui

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/internal/alarms"
	"github.com/sluice-dev/sluice/internal/lambda"
	"github.com/sluice-dev/sluice/internal/metrics"
)

// The metrics page shows the last metricsWindow of a function's (or an alias's) AWS/Lambda metrics in periods of
// metricsPeriod: the 1-second data the metric store keeps in memory, read as GetMetricData would read it.
const (
	metricsWindow = 10 * time.Minute
	metricsPeriod = 10 * time.Second
	// maxVersionSeries bounds the per-version series a page reads (each is two queries per render).
	maxVersionSeries = 8
	// maxPageAlarms bounds the alarms the page reads to find those on the function.
	maxPageAlarms   = 1000
	lambdaNamespace = "AWS/Lambda"
)

// Metrics is the metric store's read side, as the CloudWatch edge reads it (this node's store, or a cluster's).
type Metrics interface {
	Statistics(metrics.Query) ([]metrics.Datapoint, error)
	List(namespace, name string, filters []metrics.DimensionFilter, token string) ([]metrics.MetricID, string, error)
}

// metricsView is everything the metrics page shows.
type metricsView struct {
	Function  string
	Qualifier string
	Title     string // orders or orders:live
	Window    string
	Period    string
	Charts    []lineChart
	Total     totalsRow
	Versions  []versionRow
	Periods   []periodRow // the periods that have data, newest first
	Alarms    []metricAlarmRow
	// HiddenAlarms counts the alarms on the function the session may not describe.
	HiddenAlarms int
}

type totalsRow struct {
	Invocations, Errors, Throttles string
	P50, P99                       string
}

type versionRow struct {
	Version                        string
	Invocations, Errors, ErrorRate string
}

type periodRow struct {
	Time                           string
	Invocations, Errors, Throttles string
	P50, P99                       string
	ByVersion                      string
}

type metricAlarmRow struct {
	alarmRow
	// Chart says where the threshold is drawn, or why it is not.
	Chart     string
	metric    string  // the metric a single-metric alarm reads
	threshold float64 // its threshold
}

// lineChart is one metrics chart drawn as inline SVG: a line per series and a horizontal line per alarm threshold.
type lineChart struct {
	ID, Title, Desc string
	Width, Height   int
	PlotLeft        int
	PlotRight       int
	PlotTop         int
	PlotBottom      int
	Lines           []chartLine
	Thresholds      []thresholdLine
	XTicks, YTicks  []tick
}

type chartLine struct {
	Label  string
	Index  int // its style: colour and dash, so lines differ without colour
	Points string
}

type thresholdLine struct {
	Alarm, Label, State string
	Y                   float64
}

// series is one line's values by period start (Unix seconds).
type series struct {
	label  string
	values map[int64]float64
}

// checkFunctionRef checks a metrics or logs page's function name and qualifier as Lambda would.
func checkFunctionRef(name, qualifier string) error {
	if err := lambda.ValidNewFunctionName(name); err != nil {
		return err
	}
	if qualifier == "" || qualifier == lambda.Latest || lambda.IsVersionNumber(qualifier) {
		return nil
	}
	return lambda.ValidAliasName(qualifier)
}

// metricsView reads the page of function name (qualifier: an alias or version, or ""), authorized as
// cloudwatch:GetMetricData, which IAM grants on "*" only.
func (h *Handler) metricsView(ctx context.Context, s *session, name, qualifier string) (metricsView, error) {
	if err := checkFunctionRef(name, qualifier); err != nil {
		return metricsView{}, err
	}
	if err := h.authorize(ctx, s, "cloudwatch:GetMetricData", "*"); err != nil {
		return metricsView{}, err
	}
	v := metricsView{Function: name, Qualifier: qualifier, Title: name, Window: shortDuration(metricsWindow), Period: shortDuration(metricsPeriod)}
	dims := []metrics.Dimension{{Name: "FunctionName", Value: name}}
	if qualifier != "" {
		v.Title = name + ":" + qualifier
		dims = append(dims, metrics.Dimension{Name: "Resource", Value: v.Title})
	}
	end := h.o.Now().Truncate(metricsPeriod).Add(metricsPeriod)
	start := end.Add(-metricsWindow)
	read := func(metric string, dims []metrics.Dimension, stat string) (series, error) {
		q := metrics.Query{Metric: metrics.NewMetricID(lambdaNamespace, metric, slices.Clone(dims)...), Start: start, End: end, Period: metricsPeriod}
		if stat != "Sum" {
			q.Percentiles = []string{stat}
		}
		dps, err := h.o.Metrics.Statistics(q)
		if err != nil {
			return series{}, err
		}
		out := series{values: map[int64]float64{}}
		for _, d := range dps {
			if val, ok := d.Statistic(stat); ok {
				out.values[d.Timestamp.Unix()] = val
			}
		}
		return out, nil
	}
	total := map[string]series{}
	for _, m := range []struct{ key, metric, stat string }{
		{"invocations", "Invocations", "Sum"}, {"errors", "Errors", "Sum"}, {"throttles", "Throttles", "Sum"},
		{"p50", "Duration", "p50"}, {"p99", "Duration", "p99"},
	} {
		sr, err := read(m.metric, dims, m.stat)
		if err != nil {
			return metricsView{}, err
		}
		total[m.key] = sr
	}
	byVersion, err := h.versionSeries(name, qualifier, read)
	if err != nil {
		return metricsView{}, err
	}
	v.Alarms, v.HiddenAlarms = h.functionAlarms(ctx, s, name, qualifier)

	var periods []int64
	for t := start; t.Before(end); t = t.Add(metricsPeriod) {
		periods = append(periods, t.Unix())
	}
	v.Total = totalsRow{Invocations: count(sum(total["invocations"])), Errors: count(sum(total["errors"])), Throttles: count(sum(total["throttles"])),
		P50: millis(last(total["p50"], periods)), P99: millis(last(total["p99"], periods))}
	for _, vs := range byVersion {
		inv, errs := sum(vs.inv), sum(vs.errs)
		rate := "—"
		if inv > 0 {
			rate = strconv.FormatFloat(math.Round(1000*errs/inv)/10, 'f', -1, 64) + "%"
		}
		v.Versions = append(v.Versions, versionRow{Version: vs.version, Invocations: count(inv), Errors: count(errs), ErrorRate: rate})
	}
	for i := len(periods) - 1; i >= 0; i-- {
		p := periods[i]
		inv, okInv := total["invocations"].values[p]
		errs, okErr := total["errors"].values[p]
		thr, okThr := total["throttles"].values[p]
		if !okInv && !okErr && !okThr {
			continue
		}
		row := periodRow{Time: time.Unix(p, 0).UTC().Format("15:04:05"), Invocations: count(inv), Errors: count(errs), Throttles: count(thr)}
		if d, ok := total["p50"].values[p]; ok {
			row.P50 = millis(d)
		}
		if d, ok := total["p99"].values[p]; ok {
			row.P99 = millis(d)
		}
		var split []string
		for _, vs := range byVersion {
			if n, ok := vs.inv.values[p]; ok {
				split = append(split, "v"+vs.version+": "+count(n))
			}
		}
		row.ByVersion = strings.Join(split, ", ")
		v.Periods = append(v.Periods, row)
	}

	// Three charts; an alarm's threshold is drawn on the chart of its metric.
	invocations := []series{{label: "all versions", values: total["invocations"].values}}
	errorLines := []series{{label: "errors", values: total["errors"].values}, {label: "throttles", values: total["throttles"].values}}
	for _, vs := range byVersion {
		invocations = append(invocations, series{label: "version " + vs.version, values: vs.inv.values})
		errorLines = append(errorLines, series{label: "errors of version " + vs.version, values: vs.errs.values})
	}
	durations := []series{{label: "p50", values: total["p50"].values}, {label: "p99", values: total["p99"].values}}
	charts := []struct {
		id, title, unit string
		metrics         []string
		lines           []series
		gaps            bool // missing periods are gaps (a duration), not zeros (a count)
	}{
		{"chart-invocations", "Invocations", "", []string{"Invocations"}, invocations, false},
		{"chart-errors", "Errors and throttles", "", []string{"Errors", "Throttles"}, errorLines, false},
		{"chart-duration", "Duration p50 and p99", "ms", []string{"Duration"}, durations, true},
	}
	for _, c := range charts {
		var th []thresholdLine
		for i, a := range v.Alarms {
			if a.metric != "" && slices.Contains(c.metrics, a.metric) {
				th = append(th, thresholdLine{Alarm: a.Name, State: a.State, Label: a.Name + " " + a.Threshold + " (" + a.State + ")", Y: a.threshold})
				v.Alarms[i].Chart = "drawn on “" + c.title + "”"
			}
		}
		v.Charts = append(v.Charts, drawLines(c.id, c.title, c.unit, c.lines, c.gaps, th, periods))
	}
	return v, nil
}

type versionSeries struct {
	version   string
	inv, errs series
}

// versionSeries reads Invocations and Errors per executed version (the dimension Lambda adds to an alias's
// invocations): of the alias, or for a function page of all its aliases together.
func (h *Handler) versionSeries(name, qualifier string, read func(string, []metrics.Dimension, string) (series, error)) ([]versionSeries, error) {
	filters := []metrics.DimensionFilter{{Name: "FunctionName", Value: name}, {Name: "Resource"}, {Name: "ExecutedVersion"}}
	if qualifier != "" {
		filters[1].Value = name + ":" + qualifier
	}
	var ids []metrics.MetricID
	for token := ""; len(ids) < maxVersionSeries; {
		page, next, err := h.o.Metrics.List(lambdaNamespace, "Invocations", filters, token)
		if err != nil {
			return nil, err
		}
		ids = append(ids, page...)
		if next == "" {
			break
		}
		token = next
	}
	ids = ids[:min(len(ids), maxVersionSeries)]
	byVersion := map[string]*versionSeries{}
	for _, id := range ids {
		version := ""
		for _, d := range id.Dimensions {
			if d.Name == "ExecutedVersion" {
				version = d.Value
			}
		}
		if len(id.Dimensions) != 3 || version == "" {
			continue
		}
		vs := byVersion[version]
		if vs == nil {
			vs = &versionSeries{version: version, inv: series{values: map[int64]float64{}}, errs: series{values: map[int64]float64{}}}
			byVersion[version] = vs
		}
		for _, m := range []struct {
			metric string
			into   map[int64]float64
		}{{"Invocations", vs.inv.values}, {"Errors", vs.errs.values}} {
			sr, err := read(m.metric, id.Dimensions, "Sum")
			if err != nil {
				return nil, err
			}
			for t, x := range sr.values {
				m.into[t] += x
			}
		}
	}
	out := make([]versionSeries, 0, len(byVersion))
	for _, vs := range byVersion {
		out = append(out, *vs)
	}
	slices.SortFunc(out, func(a, b versionSeries) int { return cmpVersion(a.version, b.version) })
	return out, nil
}

// cmpVersion orders version numbers numerically ($LATEST last).
func cmpVersion(a, b string) int {
	x, errA := strconv.Atoi(a)
	y, errB := strconv.Atoi(b)
	switch {
	case errA == nil && errB == nil:
		return x - y
	case errA == nil:
		return -1
	case errB == nil:
		return 1
	}
	return strings.Compare(a, b)
}

// functionAlarms lists the alarms on function name (and on the alias or version, when qualifier is set) the session
// may describe, as DescribeAlarms would authorize each, and counts the others.
func (h *Handler) functionAlarms(ctx context.Context, s *session, name, qualifier string) (rows []metricAlarmRow, hidden int) {
	var all []alarms.Alarm
	for token := ""; len(all) < maxPageAlarms; {
		page, next, err := h.o.Alarms.Describe(ctx, alarms.DescribeFilter{MaxRecords: 100, NextToken: token})
		if err != nil {
			h.o.Log.Warn("describe alarms for a metrics page", "err", err)
			break
		}
		all = append(all, page...)
		if next == "" {
			break
		}
		token = next
	}
	for _, a := range all {
		if !watches(a.Definition, name, qualifier) {
			continue
		}
		if err := h.authorize(ctx, s, "cloudwatch:DescribeAlarms", "arn:aws:cloudwatch:"+h.o.Account.Region+":"+h.o.Account.ID+":alarm:"+a.Name); err != nil {
			hidden++
			continue
		}
		row := metricAlarmRow{alarmRow: alarmRow{Name: a.Name, State: a.StateValue, Reason: a.StateReason}}
		row.Threshold = comparison(a.ComparisonOperator) + " " + strconv.FormatFloat(a.Threshold, 'f', -1, 64)
		row.threshold = a.Threshold
		if len(a.Metrics) > 0 {
			row.Threshold = "expression " + row.Threshold
			row.Chart = "not drawn: a metric-math alarm compares its expression's value"
		} else {
			// Drawn on the chart of its metric, labelled with its own statistic and period, which may differ from
			// the chart's (a 1-minute alarm over 10-second sums).
			row.metric = a.Metric.Name
			row.Threshold = statisticOf(a.Definition) + " of " + a.Metric.Name + " per " + shortDuration(a.Period) + " " + row.Threshold
			row.Chart = "not drawn: the page charts no " + a.Metric.Name
		}
		rows = append(rows, row)
	}
	slices.SortStableFunc(rows, func(a, b metricAlarmRow) int { return strings.Compare(a.Name, b.Name) })
	return rows, hidden
}

func statisticOf(d alarms.Definition) string {
	if d.ExtendedStatistic != "" {
		return d.ExtendedStatistic
	}
	return d.Statistic
}

// watches reports whether alarm definition d watches function name's AWS/Lambda metrics (of the alias or version
// qualifier when it is set: an alarm on the alias's series, or on the function's as a whole).
func watches(d alarms.Definition, name, qualifier string) bool {
	on := func(id metrics.MetricID) bool {
		if id.Namespace != lambdaNamespace {
			return false
		}
		fn, res := "", ""
		for _, dim := range id.Dimensions {
			switch dim.Name {
			case "FunctionName":
				fn = dim.Value
			case "Resource":
				res = dim.Value
			}
		}
		return fn == name && (qualifier == "" || res == "" || res == name+":"+qualifier)
	}
	if d.AlarmRule != "" {
		return false
	}
	if len(d.Metrics) == 0 {
		return on(d.Metric)
	}
	for _, q := range d.Metrics {
		if q.Expression == "" && on(q.Metric) {
			return true
		}
	}
	return false
}

// drawLines draws series over periods (their start times, in order): counts drop to zero where a period has no
// data, durations (gaps) break instead. Thresholds are horizontal lines.
func drawLines(id, title, unit string, lines []series, gaps bool, thresholds []thresholdLine, periods []int64) lineChart {
	c := lineChart{ID: id, Title: title, Width: chartWidth, Height: chartHeight, PlotLeft: plotLeft, PlotRight: plotRight, PlotTop: plotTop, PlotBottom: plotBottom}
	top := 0.0
	for _, l := range lines {
		for _, x := range l.values {
			top = math.Max(top, x)
		}
	}
	for _, t := range thresholds {
		top = math.Max(top, t.Y)
	}
	top = niceCeiling(top)
	n := len(periods)
	x := func(i int) float64 {
		if n < 2 {
			return plotLeft
		}
		return round1(plotLeft + float64(i)/float64(n-1)*(plotRight-plotLeft))
	}
	y := func(v float64) float64 { return round1(plotBottom - math.Min(v, top)/top*(plotBottom-plotTop)) }
	var desc []string
	for i, l := range lines {
		var b strings.Builder
		for j, p := range periods {
			v, ok := l.values[p]
			if !ok && gaps {
				continue
			}
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "%g,%g", x(j), y(v))
		}
		c.Lines = append(c.Lines, chartLine{Label: l.label, Index: i % 6, Points: b.String()})
		desc = append(desc, fmt.Sprintf("%s: total %s", l.label, count(sum(l))))
		if gaps {
			desc[len(desc)-1] = fmt.Sprintf("%s: latest %s", l.label, millis(last(l, periods)))
		}
	}
	for i := range thresholds {
		thresholds[i].Y = y(thresholds[i].Y)
		desc = append(desc, "threshold "+thresholds[i].Label)
	}
	c.Thresholds = thresholds
	c.Desc = strings.Join(desc, "; ")
	for i := 0; i <= 4 && n > 0; i++ {
		j := i * (n - 1) / 4
		c.XTicks = append(c.XTicks, tick{X: x(j), Y: plotBottom + 16, Label: time.Unix(periods[j], 0).UTC().Format("15:04:05")})
	}
	for _, f := range []float64{0, 0.5, 1} {
		c.YTicks = append(c.YTicks, tick{X: plotLeft - 6, Y: y(top*f) + 4, Label: strconv.FormatFloat(top*f, 'f', -1, 64) + unit})
	}
	return c
}

// niceCeiling rounds up to 1, 2 or 5 times a power of ten (at least 1), so that the axis reads in round numbers.
func niceCeiling(v float64) float64 {
	if v <= 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

func sum(s series) float64 {
	t := 0.0
	for _, v := range s.values {
		t += v
	}
	return t
}

// last is the value of the latest period that has one (NaN when none has).
func last(s series, periods []int64) float64 {
	for i := len(periods) - 1; i >= 0; i-- {
		if v, ok := s.values[periods[i]]; ok {
			return v
		}
	}
	return math.NaN()
}

func count(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func millis(f float64) string {
	if math.IsNaN(f) {
		return "—"
	}
	return strconv.FormatFloat(math.Round(f*100)/100, 'f', -1, 64) + " ms"
}

// metricsQualifier is the page's ?qualifier=.
func metricsQualifier(r *http.Request) string { return r.URL.Query().Get("qualifier") }

func (h *Handler) metricsPage(w http.ResponseWriter, r *http.Request, s *session) {
	v, err := h.metricsView(r.Context(), s, r.PathValue("name"), metricsQualifier(r))
	if err != nil {
		h.failFault(w, r, s, err)
		return
	}
	h.render(w, r, http.StatusOK, "metrics", page{Title: "Metrics of " + v.Title, Nav: "functions", Session: s, Data: v})
}
