package ui

import (
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/alarms"
	"github.com/sluice-dev/sluice/internal/console"
	"github.com/sluice-dev/sluice/internal/metrics"
)

// invoked records one invocation of orders through alias live, run by version, as the invoke path records it: the
// function, the function as invoked, and the executed version (and the account aggregate, which the page ignores).
func invoked(f *fixture, version string, at time.Time, failed bool, ms float64) {
	fn := metrics.Dimension{Name: "FunctionName", Value: "orders"}
	res := metrics.Dimension{Name: "Resource", Value: "orders:live"}
	sets := [][]metrics.Dimension{nil, {fn}, {fn, res}, {{Name: "ExecutedVersion", Value: version}, fn, res}}
	errs := 0.0
	if failed {
		errs = 1
	}
	for _, dims := range sets {
		record := func(name, unit string, v float64) {
			f.metrics.Record(metrics.NewMetricID("AWS/Lambda", name, dims...), metrics.Sample{Value: v, Count: 1, Unit: unit, At: at})
		}
		record("Invocations", "Count", 1)
		record("Errors", "Count", errs)
		record("Duration", "Milliseconds", ms)
	}
}

func TestMetricsView(t *testing.T) {
	f := newFixture(t)
	op := f.signIn(t, "AKIAOPERATOR", operator)
	at := f.now.Add(-time.Minute)
	for i := range 10 {
		invoked(f, "1", at.Add(time.Duration(i)*time.Second), false, 10)
	}
	for i := range 4 {
		invoked(f, "2", at.Add(time.Duration(i)*time.Second), i%2 == 0, 30)
	}
	invoked(f, "1", f.now.Add(-time.Hour), false, 10) // outside the window

	s := &session{Session: sessionOf(t, f, op)}
	v, err := f.h.metricsView(t.Context(), s, "orders", "live")
	if err != nil {
		t.Fatal(err)
	}
	if v.Title != "orders:live" || v.Total.Invocations != "14" || v.Total.Errors != "2" || v.Total.Throttles != "0" || !within(v.Total.P99, 30) || !within(v.Total.P50, 10) {
		t.Errorf("totals %+v", v.Total)
	}
	wantVersions := []versionRow{{"1", "10", "0", "0%"}, {"2", "4", "2", "50%"}}
	if len(v.Versions) != 2 || v.Versions[0] != wantVersions[0] || v.Versions[1] != wantVersions[1] {
		t.Errorf("versions %+v, want %+v", v.Versions, wantVersions)
	}
	if len(v.Periods) != 1 || v.Periods[0].Time != "15:59:00" || v.Periods[0].ByVersion != "v1: 10, v2: 4" {
		t.Errorf("periods %+v", v.Periods)
	}
	// The alias's two alarms, not the other function's; the metric alarm's threshold on the errors chart.
	if len(v.Alarms) != 2 || v.Alarms[0].Name != "orders-error-rate" || v.Alarms[1].Name != "orders-errors" {
		t.Fatalf("alarms %+v", v.Alarms)
	}
	if !strings.HasPrefix(v.Alarms[0].Chart, "not drawn") || v.Alarms[1].Threshold != "Sum of Errors per 1m00s ≥ 3" || v.Alarms[1].Chart != "drawn on “Errors and throttles”" {
		t.Errorf("alarm rows %+v", v.Alarms)
	}
	var errorsChart lineChart
	for _, c := range v.Charts {
		if c.ID == "chart-errors" {
			errorsChart = c
		} else if len(c.Thresholds) != 0 {
			t.Errorf("chart %s has thresholds %+v", c.ID, c.Thresholds)
		}
	}
	// The axis tops at 5 (3 is the largest value, a round 5 above it); 3 is 3/5 of the way up.
	if len(errorsChart.Thresholds) != 1 || errorsChart.Thresholds[0].State != "ALARM" || errorsChart.Thresholds[0].Y != round1(plotBottom-0.6*(plotBottom-plotTop)) {
		t.Errorf("errors chart thresholds %+v", errorsChart.Thresholds)
	}

	// The function page: every alias together, and its alarms (on the alias or the whole function).
	v, err = f.h.metricsView(t.Context(), s, "orders", "")
	if err != nil {
		t.Fatal(err)
	}
	if v.Total.Invocations != "14" || len(v.Versions) != 2 || len(v.Alarms) != 2 {
		t.Errorf("function page: totals %+v, versions %+v, alarms %d", v.Total, v.Versions, len(v.Alarms))
	}
	// Another alias sees neither the alias's data nor its alarms.
	v, err = f.h.metricsView(t.Context(), s, "orders", "beta")
	if err != nil {
		t.Fatal(err)
	}
	if v.Total.Invocations != "0" || len(v.Versions) != 0 || len(v.Alarms) != 0 {
		t.Errorf("alias beta: totals %+v, versions %+v, alarms %+v", v.Total, v.Versions, v.Alarms)
	}

	// The page as HTML: the threshold line and the alarm's state as text.
	w := get(t, f, Prefix+"functions/orders/metrics?qualifier=live", op)
	body := w.Body.String()
	for _, want := range []string{`data-alarm-threshold="orders-errors" data-state="ALARM"`, `data-invocations="14"`, `data-state="ALARM">ALARM</span>`,
		`data-src="/_sluice/ui/functions/orders/metrics/live?qualifier=live"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
}

// An alarm the session may not describe is counted, not shown.
func TestMetricsHidesAlarmsNotAllowed(t *testing.T) {
	f := newFixture(t)
	f.h.o.Authorizer = policies{operator: {"cloudwatch:GetMetricData"}}
	op := f.signIn(t, "AKIAOPERATOR", operator)
	v, err := f.h.metricsView(t.Context(), &session{Session: sessionOf(t, f, op)}, "orders", "live")
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Alarms) != 0 || v.HiddenAlarms != 2 {
		t.Errorf("alarms %+v, hidden %d", v.Alarms, v.HiddenAlarms)
	}
}

func TestWatches(t *testing.T) {
	fn := metrics.Dimension{Name: "FunctionName", Value: "orders"}
	live := metrics.Dimension{Name: "Resource", Value: "orders:live"}
	beta := metrics.Dimension{Name: "Resource", Value: "orders:beta"}
	metric := func(ns string, dims ...metrics.Dimension) alarms.Definition {
		return alarms.Definition{Metric: metrics.NewMetricID(ns, "Errors", dims...)}
	}
	cases := []struct {
		name      string
		d         alarms.Definition
		qualifier string
		want      bool
	}{
		{"the alias", metric("AWS/Lambda", fn, live), "live", true},
		{"the function, on an alias page", metric("AWS/Lambda", fn), "live", true},
		{"another alias", metric("AWS/Lambda", fn, beta), "live", false},
		{"an alias, on the function page", metric("AWS/Lambda", fn, beta), "", true},
		{"another namespace", metric("Custom", fn), "", false},
		{"another function", metric("AWS/Lambda", metrics.Dimension{Name: "FunctionName", Value: "order"}), "", false},
		{"no function", metric("AWS/Lambda"), "", false},
		{"metric math over the alias", alarms.Definition{Metrics: []alarms.MetricQuery{{ID: "e", Metric: metrics.NewMetricID("AWS/Lambda", "Errors", fn, live)}, {ID: "r", Expression: "e"}}}, "live", true},
		{"composite", alarms.Definition{AlarmRule: "ALARM(x)", Metric: metrics.NewMetricID("AWS/Lambda", "Errors", fn)}, "", false},
	}
	for _, tc := range cases {
		if got := watches(tc.d, "orders", tc.qualifier); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestDrawLines(t *testing.T) {
	periods := []int64{0, 10, 20, 30, 40}
	counts := series{label: "n", values: map[int64]float64{10: 4, 30: 8}}
	c := drawLines("c", "Counts", "", []series{counts}, false, []thresholdLine{{Alarm: "a", Y: 10}}, periods)
	// Missing periods are zeros; the axis tops at 10 (the threshold); x spreads the five periods over the plot.
	if c.Lines[0].Points != "44,214 189,134 334,214 479,54 624,214" {
		t.Errorf("count points %q", c.Lines[0].Points)
	}
	if c.Thresholds[0].Y != plotTop || c.YTicks[2].Label != "10" {
		t.Errorf("threshold %+v, y ticks %+v", c.Thresholds, c.YTicks)
	}
	d := drawLines("d", "Duration", "ms", []series{{label: "p99", values: map[int64]float64{10: 4, 30: 8}}}, true, nil, periods)
	// Durations skip missing periods rather than drop to zero.
	if d.Lines[0].Points != "189,134 479,54" || d.YTicks[2].Label != "10ms" || !strings.Contains(d.Desc, "p99: latest 8 ms") {
		t.Errorf("duration %q, ticks %+v, desc %q", d.Lines[0].Points, d.YTicks, d.Desc)
	}
	for _, tc := range []struct{ in, want float64 }{{0, 1}, {0.3, 1}, {1, 1}, {1.5, 2}, {3, 5}, {7, 10}, {10, 10}, {11, 20}, {260, 500}, {999, 1000}} {
		if got := niceCeiling(tc.in); got != tc.want {
			t.Errorf("niceCeiling(%g) = %g, want %g", tc.in, got, tc.want)
		}
	}
}

// within reports whether a duration the page shows ("29.89 ms") is v within DDSketch's 1%.
func within(shown string, v float64) bool {
	got, err := strconv.ParseFloat(strings.TrimSuffix(shown, " ms"), 64)
	return err == nil && math.Abs(got-v) <= 0.01*v
}

// sessionOf looks up the session a cookie holds.
func sessionOf(t *testing.T, f *fixture, c *http.Cookie) console.Session {
	t.Helper()
	s, err := f.s.Lookup(t.Context(), c.Value)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func get(t *testing.T, f *fixture, path string, c *http.Cookie) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, path, nil)
	if c != nil {
		r.AddCookie(c)
	}
	w := f.serve(r, "")
	if w.Code != http.StatusOK {
		body, _ := io.ReadAll(w.Body)
		t.Fatalf("GET %s: %d %s", path, w.Code, body)
	}
	return w
}
