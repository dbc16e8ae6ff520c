package alarms

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/metrics"
)

var invocationsLive = metrics.NewMetricID("AWS/Lambda", "Invocations",
	metrics.Dimension{Name: "FunctionName", Value: "orders"}, metrics.Dimension{Name: "Resource", Value: "orders:live"})

// errorRateAlarm is the seed's alarm as an error rate: errors above 1% of invocations on orders:live, 1-second
// periods (so a test steps through several periods quickly).
func errorRateAlarm() Definition {
	return Definition{
		Name: "orders-live-error-rate", ActionsEnabled: true, EvaluationPeriods: 1, Threshold: 1,
		ComparisonOperator: "GreaterThanThreshold", TreatMissingData: MissingDataNotBreaching,
		Metrics: []MetricQuery{
			{ID: "errors", Metric: errorsLive, Stat: "Sum", Period: time.Second},
			{ID: "invocations", Metric: invocationsLive, Stat: "Sum", Period: time.Second},
			{ID: "rate", Expression: "100*errors/invocations", Label: "Error rate (%)", ReturnData: true},
		},
	}
}

// traffic records n invocations of orders:live in the second starting at sec, failed of them errors, as Lambda
// publishes them (Errors 0 or 1 per invocation).
func (e *env) traffic(sec float64, n, failed int) {
	for i := range n {
		tm := at(sec + float64(i)/float64(n+1))
		e.record(invocationsLive, 1, tm)
		v := 0.0
		if i < failed {
			v = 1
		}
		e.record(errorsLive, v, tm)
	}
}

func TestErrorRateAlarm(t *testing.T) {
	e := newEnv(t)
	e.put(errorRateAlarm())
	count := seedAlarm() // the count alarm the rate replaces: 5 errors a second
	count.Name, count.Period, count.Threshold, count.TreatMissingData = "orders-live-errors", time.Second, 5, MissingDataNotBreaching
	e.put(count)
	// Each step is a second of traffic, then the evaluation at its end. An evaluation looks at the latest
	// datapoints of its range (the period and two before), so a quiet second keeps the last verdict until the
	// range holds no datapoint at all; then notBreaching counts.
	for _, step := range []struct {
		sec             float64
		n, failed       int
		rate, countWant string
	}{
		{0, 1000, 4, StateOK, StateOK},      // high traffic, 0.4% errors: 4 errors, neither alarm fires
		{1, 0, 0, StateOK, StateOK},         // quiet
		{2, 0, 0, StateOK, StateOK},         //
		{3, 0, 0, StateOK, StateOK},         // no datapoint in the range: notBreaching
		{4, 20, 2, StateAlarm, StateOK},     // low traffic, a defective canary: 10%, but only 2 errors
		{5, 500, 6, StateAlarm, StateAlarm}, // 1.2% and 6 errors: both
	} {
		e.traffic(step.sec, step.n, step.failed)
		if got := e.evalAt(at(step.sec+1), "orders-live-error-rate"); got != step.rate {
			t.Fatalf("second %v: the rate alarm is %s, want %s", step.sec, got, step.rate)
		}
		if got := e.get("orders-live-errors").StateValue; got != step.countWant {
			t.Fatalf("second %v: the count alarm is %s, want %s", step.sec, got, step.countWant)
		}
	}
	a := e.get("orders-live-error-rate")
	if want := "Threshold Crossed: 1 datapoint [10.0 (26/11/26 10:00:04)] was greater than the threshold (1.0)."; a.StateReason != want {
		t.Errorf("reason = %q, want %q", a.StateReason, want)
	}
	var data map[string]any
	if err := json.Unmarshal([]byte(a.StateReasonData), &data); err != nil {
		t.Fatal(err)
	}
	if _, ok := data["statistic"]; ok || data["period"] != 1.0 || data["threshold"] != 1.0 {
		t.Errorf("reason data = %s (a metric-math alarm's has no statistic)", a.StateReasonData)
	}
	points, _ := data["evaluatedDatapoints"].([]any)
	if len(points) != 1 || points[0].(map[string]any)["value"] != 10.0 || points[0].(map[string]any)["sampleCount"] != nil {
		t.Errorf("evaluated datapoints = %v", points)
	}
	if got := e.take(); !slices.Contains(got, "orders-live-error-rate:INSUFFICIENT_DATA>OK") || !slices.Contains(got, "orders-live-error-rate:OK>ALARM") {
		t.Errorf("subscribers heard %v", got)
	}
}

func TestErrorRateAlarmMissingData(t *testing.T) {
	for _, tc := range []struct {
		treat, want string
	}{
		{"", StateInsufficientData}, {MissingDataMissing, StateInsufficientData}, {MissingDataBreaching, StateAlarm},
		{MissingDataNotBreaching, StateOK},
	} {
		t.Run(tc.treat, func(t *testing.T) {
			e := newEnv(t)
			d := errorRateAlarm()
			d.TreatMissingData = tc.treat
			e.put(d)
			// Traffic with no invocations datapoint has no rate: an error recorded alone divides by zero.
			e.record(errorsLive, 1, at(0.5))
			if got := e.evalAt(at(1), d.Name); got != tc.want {
				t.Fatalf("no invocations: %s, want %s", got, tc.want)
			}
		})
	}
}

func TestMathAlarmTimeScaleAndPercentiles(t *testing.T) {
	e := newEnv(t)
	d := Definition{
		Name: "p99-over-budget", EvaluationPeriods: 2, DatapointsToAlarm: 2, Threshold: 0,
		ComparisonOperator: "GreaterThanThreshold", TreatMissingData: MissingDataMissing,
		Metrics: []MetricQuery{
			{ID: "p99", Metric: durationLive, Stat: "p99", Period: 5 * time.Second},
			{ID: "budget", Expression: "p99 - 100", ReturnData: true},
		},
	}
	e.put(d)
	for sec := range 10 {
		e.metrics.Record(durationLive, metrics.Sample{Value: 50 + float64(sec)*20, Unit: "Milliseconds", At: at(float64(sec) + 0.5)})
	}
	// Periods [0,5): p99 130 → 30 over; [5,10): p99 230 → 130 over. Both breach: ALARM at 10 s.
	if got := e.evalAt(at(10), d.Name); got != StateAlarm {
		t.Fatalf("state %s, want ALARM", got)
	}
	if a := e.get(d.Name); !strings.HasPrefix(a.StateReason, "Threshold Crossed: 2 out of the last 2 datapoints [") {
		t.Errorf("reason %q", a.StateReason)
	}
}

func TestMathAlarmValidation(t *testing.T) {
	e := newEnv(t)
	base := errorRateAlarm
	for _, tc := range []struct {
		name string
		edit func(*Definition)
		code string
		msg  string
	}{
		{"two return data", func(d *Definition) { d.Metrics[0].ReturnData = true }, CodeValidationError, "Exactly one element of the metrics list should return data."},
		{"no return data", func(d *Definition) { d.Metrics[2].ReturnData = false }, CodeValidationError, "Exactly one element of the metrics list should return data."},
		{"different periods", func(d *Definition) { d.Metrics[1].Period = time.Minute }, CodeValidationError,
			"The metrics of a metric math alarm must all have the same period (Metrics.member.2.MetricStat.Period is 60, not 1)."},
		{"bad period", func(d *Definition) { d.Metrics[0].Period = 7 * time.Second }, CodeValidationError, "Period must be 10, 20, 30 or a multiple of 60"},
		{"bad statistic", func(d *Definition) { d.Metrics[1].Stat = "tm99" }, CodeInvalidParameterValue,
			"The value tm99 for parameter Metrics.member.2.MetricStat.Stat is not supported."},
		{"bad id", func(d *Definition) { d.Metrics[2].ID = "Rate" }, CodeValidationError, "Invalid metric_id: Rate."},
		{"bad expression", func(d *Definition) { d.Metrics[2].Expression = "100*errors/" }, CodeValidationError,
			"Error in expression rate [Unsupported token '<EOF>' at char 11]"},
		{"an array", func(d *Definition) { d.Metrics[2].Expression = "METRICS()" }, CodeValidationError,
			"Error in expression rate [The expression returns an array of time series; its result must be a time series]"},
		{"too many metrics", func(d *Definition) {
			for i := range 10 {
				d.Metrics = append(d.Metrics, MetricQuery{ID: "m" + string(rune('a'+i)), Metric: errorsLive, Stat: "Sum", Period: time.Second})
			}
		}, CodeValidationError, "The Metrics of an alarm may hold at most 10 metrics (MetricStat) and 10 expressions; these hold 12 and 1."},
		{"no metric", func(d *Definition) {
			d.Metrics = []MetricQuery{{ID: "one", Expression: "TIME_SERIES(1)", ReturnData: true}}
		}, CodeValidationError, "The Metrics of an alarm must hold at least one metric (MetricStat)."},
		{"span", func(d *Definition) { d.EvaluationPeriods = 86401 }, CodeValidationError,
			"Metrics cannot be checked across more than a day (EvaluationPeriods * Period must be <= 86400)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := base()
			tc.edit(&d)
			err := e.svc.Put(context.Background(), d)
			f, ok := fault.As(err)
			if !ok || f.Code != tc.code || !strings.HasPrefix(f.Message, tc.msg) {
				t.Fatalf("Put: %v, want %s: %s", err, tc.code, tc.msg)
			}
		})
	}
}

func TestMathAlarmPersistsAndDescribes(t *testing.T) {
	e := newEnv(t)
	e.put(errorRateAlarm())
	e.reopen()
	a := e.get("orders-live-error-rate")
	want := errorRateAlarm()
	if a.Type() != TypeMetric || len(a.Metrics) != 3 || a.Metrics[2].Expression != "100*errors/invocations" ||
		a.Metrics[2].Label != "Error rate (%)" || !a.Metrics[2].ReturnData || a.Metrics[0].Metric.Name != "Errors" ||
		!slices.Equal(a.Metrics[0].Metric.Dimensions, want.Metrics[0].Metric.Dimensions) || a.Metrics[1].Period != time.Second ||
		a.Metric.Name != "" || a.Period != 0 {
		t.Fatalf("described %+v", a)
	}
	items, _, err := e.svc.History(context.Background(), HistoryFilter{Name: a.Name})
	if err != nil || len(items) != 1 || items[0].AlarmType != TypeMetric || !strings.Contains(items[0].Data, `"expression":"100*errors/invocations"`) {
		t.Fatalf("history %+v %v", items, err)
	}
}

// A late sample in a completed period is read again and recomputed, though the evaluation range did not move.
func TestMathAlarmLateData(t *testing.T) {
	e := newEnv(t)
	e.put(errorRateAlarm())
	e.traffic(0, 100, 0)
	if got := e.evalAt(at(1), "orders-live-error-rate"); got != StateOK {
		t.Fatalf("clean traffic: %s", got)
	}
	e.record(errorsLive, 1, at(0.99)) // a late error, stamped in the period that ended
	e.record(errorsLive, 1, at(0.995))
	if got := e.evalAt(at(1.5), "orders-live-error-rate"); got != StateAlarm {
		t.Fatalf("after late errors (2%%): %s", got)
	}
}
