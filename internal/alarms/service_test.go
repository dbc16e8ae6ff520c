package alarms

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/metrics"
	"github.com/sluice-dev/sluice/internal/store/bolt"
	"github.com/sluice-dev/sluice/internal/store/storetest"
)

type clock struct{ ns atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) Set(t time.Time)         { c.ns.Store(t.UnixNano()) }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// t0 is 2026-11-26T10:00:00Z, a minute boundary.
var t0 = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

func at(sec float64) time.Time { return t0.Add(time.Duration(sec * float64(time.Second))) }

type env struct {
	t       *testing.T
	clock   *clock
	metrics *metrics.Store
	path    string
	db      *bolt.Store
	svc     *Service
	changes *recorder
}

// recorder collects what a subscriber receives.
type recorder struct {
	mu sync.Mutex
	l  []Change
}

func (r *recorder) add(c Change) { r.mu.Lock(); r.l = append(r.l, c); r.mu.Unlock() }
func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, c := range r.l {
		out = append(out, c.AlarmName+":"+c.From+">"+c.To)
	}
	r.l = nil
	return out
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, clock: &clock{}, path: filepath.Join(t.TempDir(), "sluice.db"), changes: &recorder{}}
	e.clock.Set(t0)
	e.metrics = metrics.NewStore(metrics.Options{Now: e.clock.Now})
	e.open()
	t.Cleanup(func() { e.db.Close() })
	return e
}

// open (re)opens the store and the service on it.
func (e *env) open() {
	e.t.Helper()
	db, err := bolt.Open(e.path)
	if err != nil {
		e.t.Fatal(err)
	}
	e.db = db
	// Every closure runs twice: the service's transactions must be re-runnable.
	svc, err := New(Options{Store: storetest.RerunUpdates(db), Metrics: e.metrics, Region: "us-east-1", AccountID: "000000000000", Now: e.clock.Now, Logger: quiet})
	if err != nil {
		e.t.Fatal(err)
	}
	e.svc = svc
	svc.Subscribe(e.changes.add)
}

func (e *env) reopen() {
	e.t.Helper()
	if err := e.db.Close(); err != nil {
		e.t.Fatal(err)
	}
	e.open()
}

func (e *env) put(d Definition) {
	e.t.Helper()
	if err := e.svc.Put(context.Background(), d); err != nil {
		e.t.Fatalf("Put %s: %v", d.Name, err)
	}
}

func (e *env) get(name string) Alarm {
	e.t.Helper()
	l, _, err := e.svc.Describe(context.Background(), DescribeFilter{Names: []string{name}})
	if err != nil || len(l) != 1 {
		e.t.Fatalf("Describe %s: %v, %v", name, l, err)
	}
	return l[0]
}

// evalAt sets the clock and runs one pass; it returns the alarm's state once the subscribers have seen the
// pass's changes.
func (e *env) evalAt(tm time.Time, name string) string {
	e.t.Helper()
	e.clock.Set(tm)
	e.svc.EvaluateAll(context.Background())
	e.svc.waitDelivered(e.t)
	return e.get(name).StateValue
}

// take returns what the env's subscriber received, once every queued change was delivered.
func (e *env) take() []string {
	e.t.Helper()
	e.svc.waitDelivered(e.t)
	return e.changes.take()
}

// waitDelivered waits until every subscriber has received every queued change and returned (it fails the test
// after a minute rather than hang).
func (s *Service) waitDelivered(t testing.TB) {
	t.Helper()
	s.mu.RLock()
	subs := slices.Collect(maps.Values(s.subs))
	s.mu.RUnlock()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, sub := range subs {
			sub.mu.Lock()
			for (len(sub.queue) > 0 || sub.busy) && !sub.closed {
				sub.cond.Wait()
			}
			sub.mu.Unlock()
		}
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("subscribers did not drain their queues")
	}
}

func (e *env) record(id metrics.MetricID, v float64, tm time.Time) {
	e.metrics.Record(id, metrics.Sample{Value: v, Unit: "Count", At: tm})
}

var (
	errorsLive = metrics.NewMetricID("AWS/Lambda", "Errors",
		metrics.Dimension{Name: "FunctionName", Value: "orders"}, metrics.Dimension{Name: "Resource", Value: "orders:live"})
	durationLive = metrics.NewMetricID("AWS/Lambda", "Duration",
		metrics.Dimension{Name: "FunctionName", Value: "orders"}, metrics.Dimension{Name: "Resource", Value: "orders:live"})
)

// seedAlarm is the seed article's rollback alarm.
func seedAlarm() Definition {
	return Definition{
		Name: "orders-live-errors", ActionsEnabled: true, Metric: errorsLive, Statistic: "Sum", Period: time.Minute,
		EvaluationPeriods: 1, Threshold: 1, ComparisonOperator: "GreaterThanOrEqualToThreshold",
	}
}

func TestSeedAlarm(t *testing.T) {
	e := newEnv(t)
	e.put(seedAlarm())
	a := e.get("orders-live-errors")
	if a.StateValue != StateInsufficientData || a.StateReason != "Unchecked: Initial alarm creation" ||
		a.ARN != "arn:aws:cloudwatch:us-east-1:000000000000:alarm:orders-live-errors" {
		t.Fatalf("new alarm = %+v", a)
	}
	// Minute 10:00: nine good invocations and one error (Lambda publishes Errors=0 for the good ones).
	for i := 0; i < 10; i++ {
		v := 0.0
		if i == 4 {
			v = 1
		}
		e.record(errorsLive, v, at(float64(i*5)+0.5))
	}
	if got := e.evalAt(at(59.999), "orders-live-errors"); got != StateInsufficientData {
		t.Fatalf("before the period completes: %s", got)
	}
	if got := e.evalAt(at(60), "orders-live-errors"); got != StateAlarm {
		t.Fatalf("first evaluation after the period: %s", got)
	}
	a = e.get("orders-live-errors")
	if want := "Threshold Crossed: 1 datapoint [1.0 (26/11/26 10:00:00)] was greater than or equal to the threshold (1.0)."; a.StateReason != want {
		t.Errorf("reason = %q, want %q", a.StateReason, want)
	}
	var data struct {
		Version, QueryDate, StartDate, Statistic string
		Period                                   int
		RecentDatapoints                         []float64
		Threshold                                float64
		EvaluatedDatapoints                      []struct {
			Timestamp   string
			SampleCount float64
			Value       float64
		}
	}
	if err := json.Unmarshal([]byte(a.StateReasonData), &data); err != nil {
		t.Fatalf("reason data %s: %v", a.StateReasonData, err)
	}
	if data.Version != "1.0" || data.QueryDate != "2026-11-26T10:01:00.000+0000" || data.StartDate != "2026-11-26T10:00:00.000+0000" ||
		data.Statistic != "Sum" || data.Period != 60 || !slices.Equal(data.RecentDatapoints, []float64{1}) || data.Threshold != 1 ||
		len(data.EvaluatedDatapoints) != 1 || data.EvaluatedDatapoints[0].SampleCount != 10 || data.EvaluatedDatapoints[0].Value != 1 {
		t.Errorf("reason data = %s", a.StateReasonData)
	}
	if !a.StateUpdated.Equal(at(60)) || !a.StateTransitioned.Equal(at(60)) {
		t.Errorf("state timestamps %v %v", a.StateUpdated, a.StateTransitioned)
	}
	// Minute 10:01 is clean.
	for i := 0; i < 10; i++ {
		e.record(errorsLive, 0, at(60+float64(i*6)))
	}
	if got := e.evalAt(at(119), "orders-live-errors"); got != StateAlarm {
		t.Fatalf("during the clean minute: %s", got)
	}
	if got := e.evalAt(at(120), "orders-live-errors"); got != StateOK {
		t.Fatalf("after a clean minute: %s", got)
	}
	if got, want := e.take(), []string{"orders-live-errors:INSUFFICIENT_DATA>ALARM", "orders-live-errors:ALARM>OK"}; !slices.Equal(got, want) {
		t.Errorf("subscriber got %v, want %v", got, want)
	}
	// The next minute has no data: CloudWatch keeps evaluating the most recent real datapoint (still OK).
	if got := e.evalAt(at(180), "orders-live-errors"); got != StateOK {
		t.Errorf("after a minute without data: %s", got)
	}
	if got := e.take(); len(got) != 0 {
		t.Errorf("spurious changes %v", got)
	}
}

// TestLateData: a sample stamped in an already evaluated period (Lambda stamps its metrics at the invocation's
// start) is taken into account by the next pass, despite the evaluator's cache.
func TestLateData(t *testing.T) {
	e := newEnv(t)
	d := seedAlarm()
	e.put(d)
	e.record(errorsLive, 0, at(10))
	if got := e.evalAt(at(60), d.Name); got != StateOK {
		t.Fatalf("setup: %s", got)
	}
	if got := e.evalAt(at(61), d.Name); got != StateOK {
		t.Fatalf("cached pass: %s", got)
	}
	e.record(errorsLive, 0, at(62)) // current data does not disturb the cache
	if got := e.evalAt(at(63), d.Name); got != StateOK {
		t.Fatalf("cached pass: %s", got)
	}
	e.clock.Set(at(64))
	e.record(errorsLive, 1, at(59.5)) // an invocation that started at 10:00:59.5 failed
	if got := e.evalAt(at(64), d.Name); got != StateAlarm {
		t.Fatalf("late error not seen: %s", got)
	}
	// The definition changing resets the cache too.
	d.Threshold = 2
	e.put(d)
	if got := e.evalAt(at(65), d.Name); got != StateOK {
		t.Fatalf("after raising the threshold: %s", got)
	}
}

// TestPeriods checks that an alarm reacts exactly when the period holding the breaching sample completes.
func TestPeriods(t *testing.T) {
	tests := []struct {
		period      time.Duration
		sample      float64 // seconds after t0
		before, end float64 // last instant without ALARM, first with
	}{
		{time.Second, 3.2, 3.999, 4},
		{5 * time.Second, 7, 9.999, 10},
		{10 * time.Second, 3, 9.999, 10},
		{time.Minute, 30, 59.999, 60},
		{5 * time.Minute, 210, 239.999, 240}, // windows slide by the minute
	}
	for _, tt := range tests {
		t.Run(tt.period.String(), func(t *testing.T) {
			e := newEnv(t)
			d := seedAlarm()
			d.Period = tt.period
			e.put(d)
			e.record(errorsLive, 2, at(tt.sample))
			if got := e.evalAt(at(tt.before), d.Name); got == StateAlarm {
				t.Fatalf("ALARM before the period completed")
			}
			if got := e.evalAt(at(tt.end), d.Name); got != StateAlarm {
				t.Fatalf("state at the period end = %s, want ALARM", got)
			}
		})
	}
}

// TestOperatorsEndToEnd runs each comparison operator through the service on values below, at and above the
// threshold.
func TestOperatorsEndToEnd(t *testing.T) {
	for _, tt := range []struct {
		op   string
		want [3]string // for 9, 10, 11 against 10
	}{
		{"GreaterThanOrEqualToThreshold", [3]string{StateOK, StateAlarm, StateAlarm}},
		{"GreaterThanThreshold", [3]string{StateOK, StateOK, StateAlarm}},
		{"LessThanThreshold", [3]string{StateAlarm, StateOK, StateOK}},
		{"LessThanOrEqualToThreshold", [3]string{StateAlarm, StateAlarm, StateOK}},
	} {
		t.Run(tt.op, func(t *testing.T) {
			e := newEnv(t)
			d := seedAlarm()
			d.Period, d.Threshold, d.ComparisonOperator, d.Statistic = 10*time.Second, 10, tt.op, "Maximum"
			e.put(d)
			for i, v := range []float64{9, 10, 11} {
				e.record(errorsLive, v, at(float64(i*10)+1))
				if got := e.evalAt(at(float64(i*10+10)), d.Name); got != tt.want[i] {
					t.Errorf("%v %s 10: %s, want %s", v, tt.op, got, tt.want[i])
				}
			}
		})
	}
}

func TestMOutOfN(t *testing.T) {
	e := newEnv(t)
	d := seedAlarm()
	d.Name, d.Period, d.EvaluationPeriods, d.DatapointsToAlarm = "two-of-three", 10*time.Second, 3, 2
	e.put(d)
	for i, v := range []float64{1, 0, 0, 1, 0, 1} { // periods 10:00:00 … 10:00:50
		e.record(errorsLive, v, at(float64(i*10)+1))
	}
	steps := []struct {
		at   float64
		want string
	}{
		{30, StateOK},    // 1 0 0
		{40, StateOK},    // 0 0 | 1 0 0
		{50, StateOK},    // 0 1 0 → 1 of 3
		{60, StateAlarm}, // 1 0 1 → 2 of 3
	}
	for _, s := range steps {
		if got := e.evalAt(at(s.at), d.Name); got != s.want {
			t.Fatalf("at +%vs: %s, want %s", s.at, got, s.want)
		}
	}
	if want := "Threshold Crossed: 2 out of the last 3 datapoints [1.0 (26/11/26 10:00:50), 1.0 (26/11/26 10:00:30)] were greater than or equal to the threshold (1.0) (minimum 2 datapoints for OK -> ALARM transition)."; e.get(d.Name).StateReason != want {
		t.Errorf("reason = %q\nwant     %q", e.get(d.Name).StateReason, want)
	}
}

func TestTreatMissingDataModes(t *testing.T) {
	for _, tt := range []struct {
		treat      string
		noData     string // after a minute without data from INSUFFICIENT_DATA
		afterAlarm string // state when data stops after an ALARM and the range empties
	}{
		{"", StateInsufficientData, StateInsufficientData},
		{MissingDataMissing, StateInsufficientData, StateInsufficientData},
		{MissingDataBreaching, StateAlarm, StateAlarm},
		{MissingDataNotBreaching, StateOK, StateOK},
		{MissingDataIgnore, StateInsufficientData, StateAlarm},
	} {
		t.Run("treat="+tt.treat, func(t *testing.T) {
			e := newEnv(t)
			d := seedAlarm()
			d.TreatMissingData = tt.treat
			e.put(d)
			if got := e.evalAt(at(60), d.Name); got != tt.noData {
				t.Fatalf("no data: %s, want %s", got, tt.noData)
			}
			e.record(errorsLive, 5, at(70))
			if got := e.evalAt(at(120), d.Name); got != StateAlarm {
				t.Fatalf("breaching minute: %s", got)
			}
			// The breaching datapoint leaves the evaluation range (1 + RangeExtra periods) after three minutes.
			if got := e.evalAt(at(240), d.Name); got != StateAlarm {
				t.Fatalf("within the range: %s", got)
			}
			if got := e.evalAt(at(300), d.Name); got != tt.afterAlarm {
				t.Fatalf("range empty: %s, want %s", got, tt.afterAlarm)
			}
		})
	}
}

func TestPercentileAlarm(t *testing.T) {
	for _, tt := range []struct {
		name    string
		lowMode string
		samples int
		want    string
	}{
		{"enough samples", "ignore", 1000, StateAlarm},
		{"few samples, evaluate", "evaluate", 200, StateAlarm},
		{"few samples, default evaluates", "", 200, StateAlarm},
		{"few samples, ignore keeps state", "ignore", 200, StateInsufficientData},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			d := Definition{
				Name: "orders-p99", Metric: durationLive, ExtendedStatistic: "p99", Period: time.Minute, EvaluationPeriods: 1,
				Threshold: 900, ComparisonOperator: "GreaterThanThreshold", EvaluateLowSampleCountPercentile: tt.lowMode,
				Unit: "Milliseconds",
			}
			e.put(d)
			// 2% of invocations take 1000 ms, the rest 100 ms: p99 = 1000 > 900 although the average is 118.
			for i := 0; i < tt.samples; i++ {
				v := 100.0
				if i%50 == 0 {
					v = 1000
				}
				e.metrics.Record(durationLive, metrics.Sample{Value: v, Unit: "Milliseconds", At: at(float64(i%60) + 0.25)})
			}
			if got := e.evalAt(at(60), d.Name); got != tt.want {
				t.Fatalf("state = %s, want %s (%s)", got, tt.want, e.get(d.Name).StateReason)
			}
			if tt.want == StateAlarm && !strings.Contains(e.get(d.Name).StateReasonData, `"extendedStatistic":"p99"`) {
				t.Errorf("reason data %s", e.get(d.Name).StateReasonData)
			}
		})
	}
	// A unit the metric was not recorded with finds no data.
	e := newEnv(t)
	d := Definition{Name: "p99-seconds", Metric: durationLive, ExtendedStatistic: "p99", Period: time.Minute,
		EvaluationPeriods: 1, Threshold: 0.5, ComparisonOperator: "GreaterThanThreshold", Unit: "Seconds"}
	e.put(d)
	e.metrics.Record(durationLive, metrics.Sample{Value: 1000, Unit: "Milliseconds", At: at(1)})
	if got := e.evalAt(at(60), d.Name); got != StateInsufficientData {
		t.Errorf("unit mismatch: %s", got)
	}
}

func TestSetStateHoldsUntilNextEvaluation(t *testing.T) {
	e := newEnv(t)
	d := seedAlarm()
	e.put(d)
	e.record(errorsLive, 0, at(10))
	if got := e.evalAt(at(60), d.Name); got != StateOK {
		t.Fatalf("setup: %s", got)
	}
	e.clock.Set(at(75))
	if err := e.svc.SetState(context.Background(), d.Name, StateAlarm, "testing rollback", `{"test":true}`); err != nil {
		t.Fatal(err)
	}
	a := e.get(d.Name)
	if a.StateValue != StateAlarm || a.StateReason != "testing rollback" || a.StateReasonData != `{"test":true}` {
		t.Fatalf("after SetState: %+v", a)
	}
	if got := e.evalAt(at(119.9), d.Name); got != StateAlarm {
		t.Fatalf("evaluation within the same minute flipped the forced state: %s", got)
	}
	// The next evaluation instant re-evaluates the data (the 10:00 datapoint is still the latest real one).
	if got := e.evalAt(at(120), d.Name); got != StateOK {
		t.Fatalf("next evaluation: %s", got)
	}
	if got, want := e.take(), []string{
		"orders-live-errors:INSUFFICIENT_DATA>OK", "orders-live-errors:OK>ALARM", "orders-live-errors:ALARM>OK",
	}; !slices.Equal(got, want) {
		t.Errorf("changes = %v, want %v", got, want)
	}
	// Setting the current state changes nothing.
	if err := e.svc.SetState(context.Background(), d.Name, StateOK, "again", ""); err != nil {
		t.Fatal(err)
	}
	if got := e.take(); len(got) != 0 {
		t.Errorf("no-op SetState notified %v", got)
	}
	for _, tt := range []struct {
		name, state, data, code string
	}{
		{"nope", StateAlarm, "", CodeResourceNotFound},
		{d.Name, "BROKEN", "", CodeValidationError},
		{d.Name, StateAlarm, "{not json", CodeInvalidFormat},
	} {
		if err := e.svc.SetState(context.Background(), tt.name, tt.state, "r", tt.data); !fault.Is(err, tt.code) {
			t.Errorf("SetState(%s, %s, %q) = %v, want %s", tt.name, tt.state, tt.data, err, tt.code)
		}
	}
}

func TestHistory(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	d := seedAlarm()
	e.put(d)
	e.clock.Set(at(1))
	d.Description = "now with a description"
	e.put(d)
	e.record(errorsLive, 3, at(10))
	e.evalAt(at(60), d.Name)
	e.clock.Set(at(61))
	if err := e.svc.SetState(ctx, d.Name, StateOK, "manual", ""); err != nil {
		t.Fatal(err)
	}

	items, next, err := e.svc.History(ctx, HistoryFilter{Name: d.Name})
	if err != nil || next != "" {
		t.Fatal(err, next)
	}
	var got []string
	for _, it := range items {
		got = append(got, it.Type+": "+it.Summary)
	}
	want := []string{
		"StateUpdate: Alarm updated from ALARM to OK",
		"StateUpdate: Alarm updated from INSUFFICIENT_DATA to ALARM",
		`ConfigurationUpdate: Alarm "orders-live-errors" updated`,
		`ConfigurationUpdate: Alarm "orders-live-errors" created`,
	}
	if !slices.Equal(got, want) {
		t.Fatalf("history (newest first)\n got %q\nwant %q", got, want)
	}
	var create struct {
		Version, Type string
		CreatedAlarm  struct {
			AlarmName, MetricName, Namespace string
			Period                           int
		}
	}
	if err := json.Unmarshal([]byte(items[3].Data), &create); err != nil || create.Type != "Create" ||
		create.CreatedAlarm.AlarmName != d.Name || create.CreatedAlarm.Period != 60 {
		t.Errorf("create data %s (%v)", items[3].Data, err)
	}
	var update struct {
		Type                 string
		OriginalUpdatedAlarm struct{ AlarmDescription string }
		UpdatedAlarm         struct{ AlarmDescription string }
	}
	if err := json.Unmarshal([]byte(items[2].Data), &update); err != nil || update.Type != "Update" ||
		update.OriginalUpdatedAlarm.AlarmDescription != "" || update.UpdatedAlarm.AlarmDescription != "now with a description" {
		t.Errorf("update data %s (%v)", items[2].Data, err)
	}
	var state struct {
		Version  string
		OldState struct{ StateValue, StateReason string }
		NewState struct {
			StateValue, StateReason string
			StateReasonData         struct{ Statistic string }
		}
	}
	if err := json.Unmarshal([]byte(items[1].Data), &state); err != nil || state.OldState.StateValue != StateInsufficientData ||
		state.OldState.StateReason != reasonCreated || state.NewState.StateValue != StateAlarm || state.NewState.StateReasonData.Statistic != "Sum" {
		t.Errorf("state data %s (%v)", items[1].Data, err)
	}
	if !items[0].Timestamp.Equal(at(61)) || items[0].AlarmName != d.Name {
		t.Errorf("newest item %+v", items[0])
	}

	// Filters, order, pages.
	only, _, _ := e.svc.History(ctx, HistoryFilter{Name: d.Name, Type: "StateUpdate", Ascending: true})
	if len(only) != 2 || only[0].Summary != "Alarm updated from INSUFFICIENT_DATA to ALARM" {
		t.Errorf("StateUpdate ascending = %+v", only)
	}
	ranged, _, _ := e.svc.History(ctx, HistoryFilter{Start: at(1), End: at(60)}) // both ends inclusive
	if len(ranged) != 2 {
		t.Errorf("time range got %d items", len(ranged))
	}
	var paged []HistoryItem
	token := ""
	for {
		page, next, err := e.svc.History(ctx, HistoryFilter{MaxRecords: 3, NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		paged = append(paged, page...)
		if next == "" {
			break
		}
		token = next
	}
	if len(paged) != 4 || paged[0].Summary != items[0].Summary || paged[3].Summary != items[3].Summary {
		t.Errorf("paged history %+v", paged)
	}
	if _, _, err := e.svc.History(ctx, HistoryFilter{NextToken: "garbage!"}); !fault.Is(err, CodeInvalidNextToken) {
		t.Errorf("bad token: %v", err)
	}
	if _, _, err := e.svc.History(ctx, HistoryFilter{Type: "Nope"}); !fault.Is(err, CodeValidationError) {
		t.Errorf("bad type: %v", err)
	}

	// Bounded per alarm.
	for i := 0; i < MaxHistoryPerAlarm+20; i++ {
		e.clock.Advance(time.Second)
		d.Description = fmt.Sprint("rev ", i)
		e.put(d)
	}
	all, _, _ := e.svc.History(ctx, HistoryFilter{Name: d.Name, MaxRecords: 100})
	if len(all) != MaxHistoryPerAlarm || all[0].Summary != `Alarm "orders-live-errors" updated` || !all[0].Timestamp.Equal(e.clock.Now()) {
		t.Errorf("bounded history: %d items, newest %+v", len(all), all[0])
	}
	// Deleting the alarm deletes its history.
	if err := e.svc.Delete(ctx, []string{d.Name}); err != nil {
		t.Fatal(err)
	}
	if left, _, _ := e.svc.History(ctx, HistoryFilter{}); len(left) != 0 {
		t.Errorf("history after delete: %d items", len(left))
	}
}

func TestPersistence(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a1 := seedAlarm()
	a1.AlarmActions = []string{"arn:aws:sns:us-east-1:000000000000:rollback"}
	a1.Tags = map[string]string{"team": "orders"}
	a1.DatapointsToAlarm = 1
	a2 := Definition{Name: "slash/name%", Metric: durationLive, ExtendedStatistic: "p99.9", Period: 10 * time.Second,
		EvaluationPeriods: 3, Threshold: 250, ComparisonOperator: "GreaterThanThreshold", TreatMissingData: MissingDataNotBreaching,
		EvaluateLowSampleCountPercentile: "ignore", Unit: "Milliseconds", Description: "latency"}
	e.put(a1)
	e.put(a2)
	e.record(errorsLive, 4, at(5))
	e.evalAt(at(60), a1.Name)
	e.clock.Set(at(61))
	if err := e.svc.SetState(ctx, a2.Name, StateAlarm, "forced", ""); err != nil {
		t.Fatal(err)
	}
	before, _, _ := e.svc.Describe(ctx, DescribeFilter{})
	histBefore, _, _ := e.svc.History(ctx, HistoryFilter{})

	e.reopen()
	after, _, err := e.svc.Describe(ctx, DescribeFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(before, after) {
		t.Fatalf("alarms changed across reopen\nbefore %+v\n after %+v", before, after)
	}
	if after[1].Name != "slash/name%" || after[1].StateValue != StateAlarm || after[0].StateValue != StateAlarm {
		t.Fatalf("after reopen: %+v", after)
	}
	histAfter, _, _ := e.svc.History(ctx, HistoryFilter{})
	if !reflect.DeepEqual(histBefore, histAfter) {
		t.Errorf("history changed across reopen")
	}
	if h, _, _ := e.svc.History(ctx, HistoryFilter{Name: "slash/name%"}); len(h) != 3 { // created, OK, forced ALARM
		t.Errorf("history of the alarm with a slash: %d items", len(h))
	}
	// The SetState hold survives too: a pass within the same 10-second step keeps ALARM, the next one
	// re-evaluates (no data for the latency metric, missing treated as not breaching: OK).
	if got := e.evalAt(at(69), a2.Name); got != StateAlarm {
		t.Errorf("hold lost across reopen: %s", got)
	}
	if got := e.evalAt(at(70), a2.Name); got != StateOK {
		t.Errorf("after the hold: %s", got)
	}
}

func TestValidation(t *testing.T) {
	e := newEnv(t)
	base := seedAlarm()
	tests := []struct {
		name   string
		edit   func(d *Definition)
		code   string
		inText string
	}{
		{"empty name", func(d *Definition) { d.Name = "" }, CodeValidationError, "at 'alarmName'"},
		{"long name", func(d *Definition) { d.Name = strings.Repeat("a", 256) }, CodeValidationError, "less than or equal to 255"},
		{"control character", func(d *Definition) { d.Name = "a\tb" }, CodeValidationError, "control characters"},
		{"period 15", func(d *Definition) { d.Period = 15 * time.Second }, CodeValidationError, "Period must be 10, 20, 30 or a multiple of 60"},
		{"period 90", func(d *Definition) { d.Period = 90 * time.Second }, CodeValidationError, "Period must be"},
		{"sub-second period", func(d *Definition) { d.Period = 1500 * time.Millisecond }, CodeValidationError, "Period must be"},
		{"no period", func(d *Definition) { d.Period = 0 }, CodeMissingParameter, "Period"},
		{"evaluation periods 0", func(d *Definition) { d.EvaluationPeriods = 0 }, CodeValidationError, "'evaluationPeriods'"},
		{"M > N", func(d *Definition) { d.EvaluationPeriods, d.DatapointsToAlarm = 2, 3 }, CodeValidationError, "DatapointsToAlarm must be less than or equal to EvaluationPeriods"},
		{"negative M", func(d *Definition) { d.DatapointsToAlarm = -1 }, CodeValidationError, "datapointsToAlarm"},
		{"both statistics", func(d *Definition) { d.ExtendedStatistic = "p99" }, CodeInvalidParameterCombination, "mutually exclusive"},
		{"no statistic", func(d *Definition) { d.Statistic = "" }, CodeValidationError, "Statistic"},
		{"bad statistic", func(d *Definition) { d.Statistic = "Median" }, CodeValidationError, "enum value set: [Maximum, SampleCount, Sum, Minimum, Average]"},
		{"unsupported extended", func(d *Definition) { d.Statistic, d.ExtendedStatistic = "", "tm90" }, CodeInvalidParameterValue, "tm90"},
		{"more than a day", func(d *Definition) { d.EvaluationPeriods = 1441 }, CodeValidationError, "more than a day"},
		{"beyond retention", func(d *Definition) { d.Period, d.EvaluationPeriods = time.Hour, 4 }, CodeValidationError, "Sluice keeps metrics for 10800 seconds"},
		{"bad operator", func(d *Definition) { d.ComparisonOperator = "Equal" }, CodeValidationError, "comparisonOperator"},
		{"anomaly operator", func(d *Definition) { d.ComparisonOperator = "LessThanLowerThreshold" }, CodeValidationError, "anomaly"},
		{"no operator", func(d *Definition) { d.ComparisonOperator = "" }, CodeMissingParameter, "ComparisonOperator"},
		{"treat missing", func(d *Definition) { d.TreatMissingData = "zero" }, CodeValidationError, "TreatMissingData"},
		{"low sample", func(d *Definition) { d.EvaluateLowSampleCountPercentile = "skip" }, CodeValidationError, "EvaluateLowSampleCountPercentile"},
		{"unit", func(d *Definition) { d.Unit = "Furlongs" }, CodeValidationError, "'unit'"},
		{"no namespace", func(d *Definition) { d.Metric.Namespace = "" }, CodeMissingParameter, "Namespace"},
		{"colon namespace", func(d *Definition) { d.Metric.Namespace = ":x" }, CodeValidationError, "[^:].*"},
		{"no metric name", func(d *Definition) { d.Metric.Name = "" }, CodeMissingParameter, "MetricName"},
		{"duplicate dimension", func(d *Definition) {
			d.Metric.Dimensions = []metrics.Dimension{{Name: "A", Value: "1"}, {Name: "A", Value: "2"}}
		}, CodeInvalidParameterValue, "same dimension twice"},
		{"six actions", func(d *Definition) { d.AlarmActions = make([]string, 6) }, CodeValidationError, "'alarmActions'"},
		{"NaN threshold", func(d *Definition) { d.Threshold = nan() }, CodeValidationError, "Threshold"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := base
			tt.edit(&d)
			err := e.svc.Put(context.Background(), d)
			f, ok := fault.As(err)
			if !ok || f.Code != tt.code || !strings.Contains(f.Message, tt.inText) {
				t.Errorf("Put = %v, want %s containing %q", err, tt.code, tt.inText)
			}
		})
	}
	// Sluice accepts 1- and 5-second periods.
	for _, p := range []time.Duration{time.Second, 5 * time.Second, 20 * time.Second, 2 * time.Minute} {
		d := base
		d.Name, d.Period = "p"+p.String(), p
		e.put(d)
	}
	// The quota.
	small, err := New(Options{Store: e.db, Metrics: e.metrics, MaxAlarms: 4, Now: e.clock.Now, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	d := base
	d.Name = "one-too-many"
	if err := small.Put(context.Background(), d); !fault.Is(err, CodeLimitExceeded) {
		t.Errorf("over quota: %v", err)
	}
	d.Name = "p1s" // updating an existing alarm is fine at the quota
	if err := small.Put(context.Background(), d); err != nil {
		t.Errorf("update at quota: %v", err)
	}
}

func TestDescribeDeleteAndActions(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for i := 0; i < 7; i++ {
		d := seedAlarm()
		d.Name = fmt.Sprintf("alarm-%02d", i)
		if i%2 == 0 {
			d.AlarmActions = []string{"arn:aws:sns:us-east-1:000000000000:page"}
		}
		e.put(d)
	}
	other := Definition{Name: "zzz-latency", Metric: durationLive, Statistic: "Average", Period: time.Minute,
		EvaluationPeriods: 1, Threshold: 1, ComparisonOperator: "GreaterThanThreshold", Unit: "Milliseconds"}
	e.put(other)
	if err := e.svc.SetState(ctx, "alarm-03", StateAlarm, "x", ""); err != nil {
		t.Fatal(err)
	}
	names := func(l []Alarm) []string {
		var out []string
		for _, a := range l {
			out = append(out, a.Name)
		}
		return out
	}
	tests := []struct {
		name string
		f    DescribeFilter
		want []string
	}{
		{"names", DescribeFilter{Names: []string{"alarm-05", "alarm-01", "missing"}}, []string{"alarm-01", "alarm-05"}},
		{"prefix", DescribeFilter{NamePrefix: "zzz"}, []string{"zzz-latency"}},
		{"state", DescribeFilter{State: StateAlarm}, []string{"alarm-03"}},
		{"action prefix", DescribeFilter{ActionPrefix: "arn:aws:sns:us-east-1:000000000000:pa"}, []string{"alarm-00", "alarm-02", "alarm-04", "alarm-06"}},
		{"state and prefix", DescribeFilter{State: StateInsufficientData, NamePrefix: "alarm-0", ActionPrefix: "arn:aws:sns"}, []string{"alarm-00", "alarm-02", "alarm-04", "alarm-06"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, next, err := e.svc.Describe(ctx, tt.f)
			if err != nil || next != "" || !slices.Equal(names(l), tt.want) {
				t.Errorf("got %v %q %v, want %v", names(l), next, err, tt.want)
			}
		})
	}
	var all []string
	token := ""
	for pages := 1; ; pages++ {
		l, next, err := e.svc.Describe(ctx, DescribeFilter{MaxRecords: 3, NextToken: token})
		if err != nil || len(l) > 3 || pages > 3 {
			t.Fatalf("page %d: %v %v", pages, names(l), err)
		}
		all = append(all, names(l)...)
		if next == "" {
			break
		}
		token = next
	}
	if len(all) != 8 || !slices.IsSorted(all) {
		t.Errorf("paged = %v", all)
	}
	for _, f := range []DescribeFilter{
		{Names: []string{"a"}, NamePrefix: "a"}, {State: "Nope"}, {MaxRecords: 101}, {NextToken: "***"},
	} {
		if _, _, err := e.svc.Describe(ctx, f); err == nil {
			t.Errorf("Describe(%+v) accepted", f)
		}
	}

	// ForMetric matches the metric's identity whatever the dimension order, and the optional filters.
	swapped := metrics.MetricID{Namespace: "AWS/Lambda", Name: "Errors", Dimensions: []metrics.Dimension{errorsLive.Dimensions[1], errorsLive.Dimensions[0]}}
	if l, _ := e.svc.ForMetric(ctx, swapped, "Sum", "", time.Minute, ""); len(l) != 7 {
		t.Errorf("ForMetric = %v", names(l))
	}
	if l, _ := e.svc.ForMetric(ctx, swapped, "Average", "", 0, ""); len(l) != 0 {
		t.Errorf("ForMetric by statistic = %v", names(l))
	}
	if l, _ := e.svc.ForMetric(ctx, durationLive, "", "", 0, "Milliseconds"); !slices.Equal(names(l), []string{"zzz-latency"}) {
		t.Errorf("ForMetric by unit = %v", names(l))
	}
	if l, _ := e.svc.ForMetric(ctx, metrics.NewMetricID("AWS/Lambda", "Errors"), "", "", 0, ""); len(l) != 0 {
		t.Errorf("ForMetric with other dimensions = %v", names(l))
	}

	// Actions.
	if err := e.svc.SetActionsEnabled(ctx, []string{"alarm-00", "alarm-01", "unknown"}, false); err != nil {
		t.Fatal(err)
	}
	if e.get("alarm-00").ActionsEnabled || e.get("alarm-01").ActionsEnabled || !e.get("alarm-02").ActionsEnabled {
		t.Error("SetActionsEnabled(false) did not apply")
	}
	e.reopen()
	if e.get("alarm-00").ActionsEnabled {
		t.Error("ActionsEnabled not persisted")
	}

	// Delete is all or nothing.
	err := e.svc.Delete(ctx, []string{"alarm-00", "nope", "alarm-01"})
	if f, ok := fault.As(err); !ok || f.Code != CodeResourceNotFound || f.Message != "1 out of 3 alarm(s) not found" {
		t.Fatalf("Delete with a missing name = %v", err)
	}
	if l, _, _ := e.svc.Describe(ctx, DescribeFilter{}); len(l) != 8 {
		t.Fatalf("a failed Delete removed alarms: %v", names(l))
	}
	if err := e.svc.Delete(ctx, []string{"alarm-00", "alarm-01", "alarm-00"}); err != nil {
		t.Fatal(err)
	}
	e.reopen()
	if l, _, _ := e.svc.Describe(ctx, DescribeFilter{NamePrefix: "alarm-0"}); len(l) != 5 || l[0].Name != "alarm-02" {
		t.Errorf("after delete: %v", names(l))
	}
}

// TestSubscribeExactTransitions checks that a subscriber sees every committed change once, in order, and nothing
// after cancel; concurrent mutations and passes run under -race.
func TestSubscribeExactTransitions(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	d := seedAlarm()
	d.Period = time.Second
	e.put(d)
	var seen []Change
	var mu sync.Mutex
	cancel := e.svc.Subscribe(func(c Change) {
		// Reads are allowed inside a subscriber, and the change is already committed.
		if a := e.get(c.AlarmName); a.StateValue != c.To {
			t.Errorf("subscriber saw %s before it was visible (%s)", c.To, a.StateValue)
		}
		mu.Lock()
		seen = append(seen, c)
		mu.Unlock()
	})
	// Alternate breaching and good seconds: every one-second pass flips the alarm.
	for i := 0; i < 10; i++ {
		e.record(errorsLive, float64(i%2), at(float64(i)+0.5))
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // concurrent readers and unrelated writers
		defer wg.Done()
		for i := 0; i < 20; i++ {
			e.svc.Describe(ctx, DescribeFilter{})
			x := seedAlarm()
			x.Name = fmt.Sprint("other-", i)
			e.svc.Put(ctx, x)
		}
	}()
	for i := 1; i <= 10; i++ {
		e.evalAt(at(float64(i)), d.Name)
	}
	wg.Wait()
	cancel()
	cancel()
	e.record(errorsLive, 1, at(10.5))
	e.evalAt(at(11), d.Name)
	mu.Lock()
	defer mu.Unlock()
	want := []string{"INSUFFICIENT_DATA>OK"}
	for i := 1; i < 10; i++ {
		if i%2 == 1 {
			want = append(want, "OK>ALARM")
		} else {
			want = append(want, "ALARM>OK")
		}
	}
	var got []string
	for _, c := range seen {
		got = append(got, c.From+">"+c.To)
	}
	if !slices.Equal(got, want) {
		t.Errorf("transitions\n got %v\nwant %v", got, want)
	}
	for i, c := range seen {
		if !c.At.Equal(at(float64(i+1))) || c.AlarmName != d.Name || c.Reason == "" {
			t.Errorf("change %d = %+v", i, c)
		}
	}
}

// TestRun drives the real loop on the wall clock: an alarm on 1-second periods goes to ALARM within about one
// period of a breaching sample.
func TestRun(t *testing.T) {
	if testing.Short() {
		t.Skip("uses the wall clock")
	}
	m := metrics.NewStore(metrics.Options{})
	db, err := bolt.Open(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	svc, err := New(Options{Store: db, Metrics: m, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	d := seedAlarm()
	d.Period = time.Second
	d.TreatMissingData = MissingDataNotBreaching
	if err := svc.Put(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	got := make(chan Change, 4)
	svc.Subscribe(func(c Change) { got <- c })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { svc.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	if c := <-got; c.To != StateOK {
		t.Fatalf("first change %+v", c)
	}
	// How soon the alarm fires is measured by the deploy benchmark, not asserted here (timed assertions flake).
	m.Record(errorsLive, metrics.Sample{Value: 1, Unit: "Count"})
	select {
	case c := <-got:
		if c.To != StateAlarm {
			t.Fatalf("change %+v", c)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no ALARM")
	}
}

var quiet = slog.New(slog.DiscardHandler)

func nan() float64 { var z float64; return z / z }

// TestTimeScale: with TimeScale 60 the seed's 60 s alarm is evaluated on 1 s periods, so it catches a
// time-scaled canary; without it the same error waits for the minute to end.
func TestTimeScale(t *testing.T) {
	cases := []struct {
		scale float64
		want  string
	}{{1, StateInsufficientData}, {60, StateAlarm}}
	for _, tc := range cases {
		e := newEnv(t)
		svc, err := New(Options{Store: e.db, Metrics: e.metrics, Now: e.clock.Now, Logger: quiet, TimeScale: tc.scale})
		if err != nil {
			t.Fatal(err)
		}
		e.svc = svc
		e.put(seedAlarm())
		e.record(errorsLive, 1, at(0.5))
		if got := e.evalAt(at(2.01), "orders-live-errors"); got != tc.want {
			t.Errorf("scale %g: state %s two seconds after an error, want %s", tc.scale, got, tc.want)
		}
		if p := e.get("orders-live-errors").Period; p != time.Minute {
			t.Errorf("scale %g: the alarm reports period %v", tc.scale, p)
		}
	}
}
