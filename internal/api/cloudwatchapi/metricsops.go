package cloudwatchapi

import (
	"context"
	"encoding/base64"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/metricmath"
	"github.com/sluice-dev/sluice/internal/metrics"
)

// Limits of the metric operations.
const (
	maxMetricData           = 1000   // MetricDatum objects per PutMetricData
	maxValues               = 150    // Values per MetricDatum
	maxStatisticsDatapoints = 1440   // datapoints per GetMetricStatistics
	maxMetricDataQueries    = 500    // queries per GetMetricData
	defaultMaxDatapoints    = 100800 // GetMetricData's page size
	futureLimit             = 2 * time.Hour
	pastLimit               = 14 * 24 * time.Hour
)

func (h *Handler) putMetricData(ctx context.Context, in *PutMetricDataInput) error {
	if in.Namespace == nil {
		return missing("Namespace")
	}
	ns := *in.Namespace
	if err := checkNamespace("Namespace", ns); err != nil {
		return err
	}
	if strings.HasPrefix(ns, "AWS/") {
		return invalidValue("The value AWS/ for parameter Namespace is invalid.")
	}
	type datum struct {
		path string
		d    MetricDatum
	}
	var all []datum
	for i, d := range in.MetricData {
		all = append(all, datum{elem("MetricData", i), d})
	}
	for i, e := range in.EntityMetricData { // the entity itself (what emitted the metric) is not kept
		for j, d := range e.MetricData {
			all = append(all, datum{elem(elem("EntityMetricData", i)+".MetricData", j), d})
		}
	}
	switch {
	case len(all) == 0:
		return missing("MetricData")
	case len(all) > maxMetricData:
		return invalidValue("The collection MetricData must not have a size greater than %d.", maxMetricData)
	}
	now := h.now()
	var data []Datum
	for _, x := range all {
		out, err := datumSamples(x.path, ns, x.d, now)
		if err != nil {
			return err
		}
		data = append(data, out...)
	}
	return h.backend.PutMetricData(ctx, data)
}

// datumSamples checks one MetricDatum and returns its samples: one for Value or StatisticValues, one per value
// with a non-zero count for Values/Counts.
func datumSamples(p, ns string, d MetricDatum, now time.Time) ([]Datum, error) {
	if d.MetricName == nil {
		return nil, missing(p + ".MetricName")
	}
	if err := length(p+".MetricName", *d.MetricName, 1, 255); err != nil {
		return nil, err
	}
	dims, err := toDimensions(p+".Dimensions", d.Dimensions)
	if err != nil {
		return nil, err
	}
	at := now
	if d.Timestamp != nil {
		at = *d.Timestamp
		switch {
		case at.After(now.Add(futureLimit)):
			return nil, invalidValue("The parameter %s.Timestamp must specify a time no more than two hours in the future.", p)
		case at.Before(now.Add(-pastLimit)):
			return nil, invalidValue("The parameter %s.Timestamp must specify a time within the past two weeks.", p)
		}
	}
	unit := "None"
	if d.Unit != nil {
		if err := oneOf(p+".Unit", *d.Unit, unitValues); err != nil {
			return nil, err
		}
		unit = *d.Unit
	}
	if r := d.StorageResolution; r != nil && *r != 1 && *r != 60 {
		return nil, invalidValue("The value %d for parameter %s.StorageResolution is invalid. Valid values are 1 and 60.", *r, p)
	}
	hasValue, hasValues, hasStats := d.Value != nil, d.Values != nil, d.StatisticValues != nil
	exclusive := func(a, b string) error {
		return invalidCombination("The parameters %s.%s and %s.%s are mutually exclusive and you have specified both.", p, a, p, b)
	}
	switch {
	case hasValue && hasValues:
		return nil, exclusive("Value", "Values")
	case hasValue && hasStats:
		return nil, exclusive("Value", "StatisticValues")
	case hasValues && hasStats:
		return nil, exclusive("Values", "StatisticValues")
	case d.Counts != nil && !hasValues:
		return nil, invalidCombination("The parameter %s.Counts can only be specified together with %s.Values.", p, p)
	case !hasValue && !hasValues && !hasStats:
		return nil, fault.New(CodeMissingParameter, "At least one of the parameters %s.Value, %s.Values or %s.StatisticValues must be specified.", p, p, p)
	}
	id := metrics.MetricID{Namespace: ns, Name: *d.MetricName, Dimensions: dims}
	sample := func(s metrics.Sample) Datum {
		s.Unit, s.At = unit, at
		return Datum{Metric: id, Sample: s}
	}
	switch {
	case hasValue:
		if err := finite(p+".Value", *d.Value); err != nil {
			return nil, err
		}
		return []Datum{sample(metrics.Sample{Value: *d.Value, Count: 1})}, nil
	case hasStats:
		s := d.StatisticValues
		sp := p + ".StatisticValues"
		for _, m := range []struct {
			name string
			v    *float64
		}{{"SampleCount", s.SampleCount}, {"Sum", s.Sum}, {"Minimum", s.Minimum}, {"Maximum", s.Maximum}} {
			if m.v == nil {
				return nil, missing(sp + "." + m.name)
			}
			if err := finite(sp+"."+m.name, *m.v); err != nil {
				return nil, err
			}
		}
		switch {
		case *s.SampleCount <= 0:
			return nil, invalidValue("The parameter %s.SampleCount must be greater than 0.", sp)
		case *s.Maximum < *s.Minimum:
			return nil, invalidValue("The parameter %s.Maximum must be greater than or equal to %s.Minimum.", sp, sp)
		}
		set := &metrics.StatisticSet{SampleCount: *s.SampleCount, Sum: *s.Sum, Minimum: *s.Minimum, Maximum: *s.Maximum}
		return []Datum{sample(metrics.Sample{Count: set.SampleCount, Stats: set})}, nil
	}
	if len(d.Values) > maxValues {
		return nil, invalidValue("The collection %s.Values must not have a size greater than %d.", p, maxValues)
	}
	if d.Counts != nil && len(d.Counts) != len(d.Values) {
		return nil, invalidValue("The parameters %s.Values and %s.Counts must be of the same size.", p, p)
	}
	var out []Datum
	for i, v := range d.Values {
		if err := finite(elem(p+".Values", i), v); err != nil {
			return nil, err
		}
		count := 1.0
		if d.Counts != nil {
			count = d.Counts[i]
			if err := finite(elem(p+".Counts", i), count); err != nil {
				return nil, err
			}
			if count < 0 {
				return nil, invalidValue("The value %s for parameter %s is invalid.", formatValue(count), elem(p+".Counts", i))
			}
		}
		if count > 0 {
			out = append(out, sample(metrics.Sample{Value: v, Count: count}))
		}
	}
	return out, nil
}

// checkPeriod applies the rule for the period of statistics: 1, 5, 10, 20, 30 or a multiple of 60 seconds.
func checkPeriod(path string, period int) error {
	if period < 1 {
		return constraint(period, path, "Member must have value greater than or equal to 1")
	}
	switch period {
	case 1, 5, 10, 20, 30:
		return nil
	}
	if period%60 != 0 {
		return invalidValue("The parameter %s must be 1, 5, 10, 20, 30 or a multiple of 60.", path)
	}
	return nil
}

func (h *Handler) getMetricStatistics(ctx context.Context, in *GetMetricStatisticsInput) (*GetMetricStatisticsOutput, error) {
	for _, m := range []struct {
		name    string
		present bool
	}{
		{"Namespace", in.Namespace != nil}, {"MetricName", in.MetricName != nil}, {"StartTime", in.StartTime != nil},
		{"EndTime", in.EndTime != nil}, {"Period", in.Period != nil},
	} {
		if !m.present {
			return nil, missing(m.name)
		}
	}
	if err := firstErr(checkNamespace("Namespace", *in.Namespace), length("MetricName", *in.MetricName, 1, 255)); err != nil {
		return nil, err
	}
	dims, err := toDimensions("Dimensions", in.Dimensions)
	if err != nil {
		return nil, err
	}
	if err := firstErr(
		checkPeriod("Period", *in.Period),
		maxItems("Statistics", in.Statistics, 5),
		maxItems("ExtendedStatistics", in.ExtendedStatistics, 10),
		optOneOf("Unit", in.Unit, unitValues),
	); err != nil {
		return nil, err
	}
	for i, s := range in.Statistics {
		if err := oneOf(elem("Statistics", i), s, statisticValues); err != nil {
			return nil, err
		}
	}
	for i, s := range in.ExtendedStatistics {
		if err := checkExtendedStatistic(elem("ExtendedStatistics", i), s); err != nil {
			return nil, err
		}
	}
	switch {
	case len(in.Statistics) == 0 && len(in.ExtendedStatistics) == 0:
		return nil, invalidCombination("At least one of the parameters Statistics and ExtendedStatistics must be specified.")
	case len(in.Statistics) > 0 && len(in.ExtendedStatistics) > 0:
		return nil, invalidCombination("The parameters Statistics and ExtendedStatistics are mutually exclusive and you have specified both.")
	}
	period := time.Duration(*in.Period) * time.Second
	start, end := *in.StartTime, *in.EndTime
	if !start.Before(end) {
		return nil, invalidValue("The parameter StartTime must be less than the parameter EndTime.")
	}
	if n := (end.Sub(start) + period - 1) / period; n > maxStatisticsDatapoints {
		return nil, invalidCombination("You have requested up to %s datapoints, which exceeds the limit of %s. You may reduce the datapoints requested by increasing Period, or decreasing the time range.",
			thousands(int64(n)), thousands(maxStatisticsDatapoints))
	}
	q := metrics.Query{
		Metric:      metrics.MetricID{Namespace: *in.Namespace, Name: *in.MetricName, Dimensions: dims},
		Start:       start,
		End:         end,
		Period:      period,
		Unit:        str(in.Unit),
		Percentiles: in.ExtendedStatistics,
	}
	dps, err := h.backend.Statistics(ctx, q)
	if err != nil {
		return nil, err
	}
	sort.Slice(dps, func(i, j int) bool { return dps[i].Timestamp.Before(dps[j].Timestamp) })
	out := &GetMetricStatisticsOutput{Label: ptr(*in.MetricName), Datapoints: []Datapoint{}}
	for _, dp := range dps {
		w := Datapoint{Timestamp: ptr(dp.Timestamp), Unit: optString(dp.Unit)}
		if w.Unit == nil {
			w.Unit = optString(q.Unit)
		}
		for _, s := range in.Statistics {
			v, _ := dp.Statistic(s)
			switch s {
			case "SampleCount":
				w.SampleCount = ptr(v)
			case "Average":
				w.Average = ptr(v)
			case "Sum":
				w.Sum = ptr(v)
			case "Minimum":
				w.Minimum = ptr(v)
			case "Maximum":
				w.Maximum = ptr(v)
			}
		}
		for _, s := range in.ExtendedStatistics {
			if v, ok := dp.Percentiles[s]; ok {
				if w.ExtendedStatistics == nil {
					w.ExtendedStatistics = map[string]float64{}
				}
				w.ExtendedStatistics[s] = v
			}
		}
		out.Datapoints = append(out.Datapoints, w)
	}
	return out, nil
}

// thousands formats n with thousands separators, as AWS's messages do (1,440).
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// dataQuery is one checked MetricDataQuery: a metric (MetricStat) or a math expression.
type dataQuery struct {
	id, label  string
	returnData bool
	expression string // "" for a metric query
	exprPeriod int    // an expression's Period (GetMetricData only), 0 when absent
	// A metric query's MetricStat.
	stat  string
	query metrics.Query
}

// Messages of GetMetricData results.
const (
	arithmeticErrorCode    = "ArithmeticError"
	arithmeticErrorMessage = "One or more data-points have been dropped due to non-numeric values (NaN, -Infinite, +Infinite)"
	// Sluice's own: a request's expressions compute a bounded number of datapoints (metricmath.MaxGridPoints,
	// MaxRunPoints).
	truncatedCode    = "MaxQueryResultsExceeded"
	truncatedMessage = "The expressions of this request reached the number of datapoints one request may compute; use a longer period, a shorter time range or fewer expressions."
)

func (h *Handler) getMetricData(ctx context.Context, in *GetMetricDataInput) (*GetMetricDataOutput, error) {
	switch {
	case len(in.MetricDataQueries) == 0:
		return nil, missing("MetricDataQueries")
	case in.StartTime == nil:
		return nil, missing("StartTime")
	case in.EndTime == nil:
		return nil, missing("EndTime")
	}
	if err := firstErr(
		maxItems("MetricDataQueries", in.MetricDataQueries, maxMetricDataQueries),
		optOneOf("ScanBy", in.ScanBy, scanByValues),
		intRange("MaxDatapoints", in.MaxDatapoints, 1, 0),
	); err != nil {
		return nil, err
	}
	if !in.StartTime.Before(*in.EndTime) {
		return nil, invalidValue("The parameter StartTime must be less than the parameter EndTime.")
	}
	queries := make([]dataQuery, 0, len(in.MetricDataQueries))
	for i, mq := range in.MetricDataQueries {
		q, err := checkDataQuery(elem("MetricDataQueries", i), mq, *in.StartTime, *in.EndTime, false)
		if err != nil {
			return nil, err
		}
		queries = append(queries, q)
	}
	prog, err := compileQueries(queries)
	if err != nil {
		return nil, err
	}
	for _, q := range queries {
		if q.expression != "" && q.returnData {
			if err := prog.RequireSeries(q.id, metricmath.TimeSeries, metricmath.Array); err != nil {
				return nil, err
			}
		}
	}
	offset := 0
	if tok := str(in.NextToken); tok != "" {
		n, ok := parseDataToken(tok)
		if !ok {
			return nil, fault.New(CodeInvalidNextToken, "The NextToken %s is invalid.", tok)
		}
		offset = n
	}
	limit := defaultMaxDatapoints
	if in.MaxDatapoints != nil {
		limit = *in.MaxDatapoints
	}
	descending := str(in.ScanBy) != "TimestampAscending"

	// Every metric is read (an expression may use one whose data is not returned), then every expression runs.
	start, end := in.StartTime.Unix(), in.EndTime.Unix()
	if in.EndTime.Nanosecond() != 0 {
		end++
	}
	data := map[string]metricmath.Series{}
	defaultGrid := metricmath.Grid{Start: start, End: end, Period: 60}
	for _, q := range queries {
		if q.expression != "" {
			if q.exprPeriod > 0 && defaultGrid.Period == 60 {
				defaultGrid = gridOf(start, end, int64(q.exprPeriod))
			}
			continue
		}
		if !q.returnData && !prog.Used(q.id) {
			continue
		}
		dps, err := h.backend.Statistics(ctx, q.query)
		if err != nil {
			return nil, err
		}
		data[q.id] = seriesOf(dps, q.stat, gridOf(start, end, int64(q.query.Period/time.Second)))
	}
	values := prog.Run(data, defaultGrid)

	// Each returned query gives one result, an array expression one per member; the pages cut their datapoints,
	// concatenated in request order, into runs of MaxDatapoints.
	out := &GetMetricDataOutput{MetricDataResults: []MetricDataResult{}, Messages: []MessageData{}}
	skip, room, more := offset, limit, false
	for _, q := range queries {
		if !q.returnData {
			continue
		}
		v := values[q.id]
		for _, s := range v.Series {
			// An expression's default label is its id; each member of an array is labelled with its own label,
			// after the expression's when it has one.
			label := q.label
			switch {
			case v.Kind == metricmath.Array && label != "":
				label += " " + s.Label
			case v.Kind == metricmath.Array:
				label = s.Label
			case label == "":
				label = q.id
			}
			times, vals := s.Times, s.Values
			n := len(times)
			from := min(skip, n)
			skip -= from
			to := from + min(room, n-from)
			room -= to - from
			status := "Complete"
			if to < n {
				status, more = "PartialData", true
			}
			r := MetricDataResult{Id: ptr(q.id), Label: ptr(label), StatusCode: ptr(status),
				Timestamps: make([]time.Time, 0, to-from), Values: make([]float64, 0, to-from), Messages: []MessageData{}}
			for k := range to - from {
				i := from + k
				if descending {
					i = n - 1 - i
				}
				r.Timestamps = append(r.Timestamps, time.Unix(times[i], 0).UTC())
				r.Values = append(r.Values, vals[i])
			}
			if v.Dropped {
				r.Messages = append(r.Messages, MessageData{Code: ptr(arithmeticErrorCode), Value: ptr(arithmeticErrorMessage)})
			}
			if v.Truncated { // the request's expressions met their bound: what is returned is partial
				r.StatusCode = ptr("PartialData")
				r.Messages = append(r.Messages, MessageData{Code: ptr(truncatedCode), Value: ptr(truncatedMessage)})
			}
			out.MetricDataResults = append(out.MetricDataResults, r)
		}
	}
	if more {
		out.NextToken = ptr(dataToken(offset + limit))
	}
	return out, nil
}

// gridOf is the periods of [start, end) as CloudWatch aligns them: from start rounded down to a multiple of the
// period.
func gridOf(start, end, period int64) metricmath.Grid {
	if period <= 0 {
		period = 60
	}
	first := start - ((start%period)+period)%period
	return metricmath.Grid{Start: first, End: end, Period: period}
}

// seriesOf turns a metric's datapoints into metric math's series of one statistic.
func seriesOf(dps []metrics.Datapoint, stat string, g metricmath.Grid) metricmath.Series {
	sort.Slice(dps, func(i, j int) bool { return dps[i].Timestamp.Before(dps[j].Timestamp) })
	s := metricmath.Series{Grid: g, Times: make([]int64, 0, len(dps)), Values: make([]float64, 0, len(dps))}
	for _, dp := range dps {
		if v, ok := dp.Statistic(stat); ok {
			s.Times, s.Values = append(s.Times, dp.Timestamp.Unix()), append(s.Values, v)
		}
	}
	return s
}

// compileQueries checks the expressions of a request together (ids, references, cycles, types).
func compileQueries(queries []dataQuery) (*metricmath.Program, error) {
	mq := make([]metricmath.Query, len(queries))
	for i, q := range queries {
		mq[i] = metricmath.Query{ID: q.id, Expression: q.expression, Label: q.label, Period: int64(q.query.Period / time.Second)}
	}
	return metricmath.Compile(mq)
}

// checkDataQuery checks one MetricDataQuery of GetMetricData (forAlarm false) or of PutMetricAlarm's Metrics: an
// id, and either a MetricStat or an Expression. An expression's Period is for GetMetricData only.
func checkDataQuery(p string, mq MetricDataQuery, start, end time.Time, forAlarm bool) (dataQuery, error) {
	var q dataQuery
	if mq.Id == nil {
		return q, missing(p + ".Id")
	}
	if err := length(p+".Id", *mq.Id, 1, 255); err != nil {
		return q, err
	}
	if err := metricmath.CheckID(*mq.Id); err != nil {
		return q, err
	}
	q.id, q.label = *mq.Id, str(mq.Label)
	q.returnData = mq.ReturnData == nil || *mq.ReturnData
	switch {
	case mq.Expression != nil && mq.MetricStat != nil:
		return q, invalidCombination("The parameters %s.MetricStat and %s.Expression are mutually exclusive and you have specified both.", p, p)
	case mq.Expression != nil:
		if err := length(p+".Expression", *mq.Expression, 1, 2048); err != nil {
			return q, err
		}
		q.expression = *mq.Expression
		if mq.Period != nil {
			if forAlarm {
				return q, unsupported("The parameter %s.Period is for GetMetricData only; a metric math alarm evaluates its expressions at the period of its metrics.", p)
			}
			if err := checkPeriod(p+".Period", *mq.Period); err != nil {
				return q, err
			}
			q.exprPeriod = *mq.Period
		}
		return q, nil
	case mq.MetricStat == nil:
		return q, fault.New(CodeMissingParameter, "At least one of the parameters %s.MetricStat and %s.Expression must be specified.", p, p)
	case mq.Period != nil:
		return q, invalidCombination("The parameters %s.Period and %s.MetricStat are mutually exclusive and you have specified both.", p, p)
	}
	ms, sp := mq.MetricStat, p+".MetricStat"
	switch {
	case ms.Metric == nil:
		return q, missing(sp + ".Metric")
	case ms.Metric.Namespace == nil:
		return q, missing(sp + ".Metric.Namespace")
	case ms.Metric.MetricName == nil:
		return q, missing(sp + ".Metric.MetricName")
	case ms.Period == nil:
		return q, missing(sp + ".Period")
	case ms.Stat == nil:
		return q, missing(sp + ".Stat")
	}
	if err := firstErr(
		checkNamespace(sp+".Metric.Namespace", *ms.Metric.Namespace),
		length(sp+".Metric.MetricName", *ms.Metric.MetricName, 1, 255),
	); err != nil {
		return q, err
	}
	dims, err := toDimensions(sp+".Metric.Dimensions", ms.Metric.Dimensions)
	if err != nil {
		return q, err
	}
	if err := firstErr(checkPeriod(sp+".Period", *ms.Period), optOneOf(sp+".Unit", ms.Unit, unitValues)); err != nil {
		return q, err
	}
	stat := *ms.Stat
	var percentiles []string
	if !metrics.IsStandardStatistic(stat) {
		if err := checkExtendedStatistic(sp+".Stat", stat); err != nil {
			return q, err
		}
		percentiles = []string{stat}
	}
	q.stat = stat
	q.query = metrics.Query{
		Metric:      metrics.MetricID{Namespace: *ms.Metric.Namespace, Name: *ms.Metric.MetricName, Dimensions: dims},
		Start:       start,
		End:         end,
		Period:      time.Duration(*ms.Period) * time.Second,
		Unit:        str(ms.Unit),
		Percentiles: percentiles,
	}
	if q.label == "" {
		q.label = *ms.Metric.MetricName
	}
	return q, nil
}

// GetMetricData's NextToken counts the datapoints already returned.
const dataTokenPrefix = "sluice-gmd:"

func dataToken(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("%s%d", dataTokenPrefix, offset)))
}

func parseDataToken(tok string) (int, bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, false
	}
	s, ok := strings.CutPrefix(string(b), dataTokenPrefix)
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 0
}

func (h *Handler) listMetrics(ctx context.Context, in *ListMetricsInput) (*ListMetricsOutput, error) {
	if in.Namespace != nil {
		if err := checkNamespace("Namespace", *in.Namespace); err != nil {
			return nil, err
		}
	}
	if err := firstErr(
		optLength("MetricName", in.MetricName, 1, 255),
		maxItems("Dimensions", in.Dimensions, 10),
		optOneOf("RecentlyActive", in.RecentlyActive, recentlyActive),
		optLength("OwningAccount", in.OwningAccount, 1, 255),
	); err != nil {
		return nil, err
	}
	f := ListMetricsFilter{Namespace: str(in.Namespace), MetricName: str(in.MetricName), NextToken: str(in.NextToken)}
	for i, d := range in.Dimensions {
		p := elem("Dimensions", i)
		if d.Name == nil {
			return nil, missing(p + ".Name")
		}
		if err := firstErr(length(p+".Name", *d.Name, 1, 255), optLength(p+".Value", d.Value, 1, 1024)); err != nil {
			return nil, err
		}
		f.Dimensions = append(f.Dimensions, metrics.DimensionFilter{Name: *d.Name, Value: str(d.Value)})
	}
	if in.RecentlyActive != nil {
		f.ActiveSince = h.now().Add(-3 * time.Hour)
	}
	ids, next, err := h.backend.ListMetrics(ctx, f)
	if err != nil {
		return nil, err
	}
	out := &ListMetricsOutput{Metrics: []Metric{}, NextToken: optString(next)}
	for _, id := range ids {
		out.Metrics = append(out.Metrics, Metric{Namespace: ptr(id.Namespace), MetricName: ptr(id.Name), Dimensions: fromDimensions(id.Dimensions)})
	}
	return out, nil
}
