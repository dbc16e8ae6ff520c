package metrics

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/fault"
)

// clock is a fake clock safe for concurrent reads.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock {
	c := &clock{}
	c.ns.Store(t.UnixNano())
	return c
}
func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) Set(t time.Time)         { c.ns.Store(t.UnixNano()) }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// t0 is a minute boundary (2026-11-26T10:00:00Z).
var t0 = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

func newTestStore(t *testing.T) (*Store, *clock) {
	t.Helper()
	c := newClock(t0)
	return NewStore(Options{Now: c.Now}), c
}

var ordersID = NewMetricID("AWS/Lambda", "Duration", Dimension{"FunctionName", "orders"})

// at is t0 plus seconds (fractions allowed).
func at(sec float64) time.Time { return t0.Add(time.Duration(sec * float64(time.Second))) }

func mustStats(t *testing.T, s *Store, q Query) []Datapoint {
	t.Helper()
	dps, err := s.Statistics(q)
	if err != nil {
		t.Fatalf("Statistics(%+v): %v", q, err)
	}
	return dps
}

// want is the exact aggregate of a list of values.
type want struct {
	ts                   time.Time
	count, sum, min, max float64
}

func exact(ts time.Time, values ...float64) want {
	w := want{ts: ts, min: math.Inf(1), max: math.Inf(-1)}
	for _, v := range values {
		w.count++
		w.sum += v
		w.min = min(w.min, v)
		w.max = max(w.max, v)
	}
	return w
}

func checkDatapoints(t *testing.T, got []Datapoint, wants []want) {
	t.Helper()
	if len(got) != len(wants) {
		t.Fatalf("got %d datapoints %+v, want %d", len(got), got, len(wants))
	}
	for i, w := range wants {
		g := got[i]
		if !g.Timestamp.Equal(w.ts) || g.SampleCount != w.count || g.Sum != w.sum || g.Minimum != w.min || g.Maximum != w.max {
			t.Errorf("datapoint %d = {%s n=%v sum=%v min=%v max=%v}, want {%s n=%v sum=%v min=%v max=%v}", i,
				g.Timestamp.Format(time.TimeOnly), g.SampleCount, g.Sum, g.Minimum, g.Maximum,
				w.ts.Format(time.TimeOnly), w.count, w.sum, w.min, w.max)
		}
	}
}

func TestStatisticsExactAcrossBoundaries(t *testing.T) {
	s, c := newTestStore(t)
	c.Set(at(300))
	// Samples straddling 1-second buckets and 10/60-second periods, recorded out of order.
	samples := []struct {
		sec float64
		v   float64
	}{
		{0.0, 5}, {0.999, 7}, {1.0, 1}, {9.5, 2}, {10.0, 100}, {59.999, 3}, {60, 4}, {61.5, 8}, {119.2, 6},
		{30, 9}, {0.5, 11}, // back-dated into existing buckets
	}
	for _, sm := range samples {
		s.Record(ordersID, Sample{Value: sm.v, Unit: "Milliseconds", At: at(sm.sec)})
	}
	tests := []struct {
		name       string
		start, end time.Time
		period     time.Duration
		want       []want
	}{
		{"1s", at(0), at(2), time.Second, []want{exact(at(0), 5, 7, 11), exact(at(1), 1)}},
		{"10s", at(0), at(120), 10 * time.Second, []want{
			exact(at(0), 5, 7, 11, 1, 2), exact(at(10), 100), exact(at(30), 9), exact(at(50), 3),
			exact(at(60), 4, 8), exact(at(110), 6)}},
		{"60s", at(0), at(120), time.Minute, []want{exact(at(0), 5, 7, 11, 1, 2, 100, 9, 3), exact(at(60), 4, 8, 6)}},
		{"start aligned down to the period", at(45), at(120), time.Minute, []want{
			exact(at(0), 5, 7, 11, 1, 2, 100, 9, 3), exact(at(60), 4, 8, 6)}},
		{"end is exclusive", at(0), at(61), time.Minute, []want{exact(at(0), 5, 7, 11, 1, 2, 100, 9, 3), exact(at(60), 4)}},
		{"fractional end includes its second", at(0), at(60.5), time.Minute, []want{
			exact(at(0), 5, 7, 11, 1, 2, 100, 9, 3), exact(at(60), 4)}},
		{"300s", at(0), at(300), 5 * time.Minute, []want{exact(at(0), 5, 7, 11, 1, 2, 100, 9, 3, 4, 8, 6)}},
		{"empty range", at(200), at(300), time.Minute, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkDatapoints(t, mustStats(t, s, Query{Metric: ordersID, Start: tt.start, End: tt.end, Period: tt.period}), tt.want)
		})
	}
}

func TestUnalignedPeriods(t *testing.T) {
	s, c := newTestStore(t)
	c.Set(at(600))
	for sec := 0; sec < 300; sec++ {
		s.Record(ordersID, Sample{Value: float64(sec), At: at(float64(sec))})
	}
	dps, err := s.StatisticsUnaligned(Query{Metric: ordersID, Start: at(30), End: at(270), Period: 2 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	var first, second []float64
	for v := 30; v < 150; v++ {
		first = append(first, float64(v))
	}
	for v := 150; v < 270; v++ {
		second = append(second, float64(v))
	}
	checkDatapoints(t, dps, []want{exact(at(30), first...), exact(at(150), second...)})
}

func TestCountsAndStatisticSets(t *testing.T) {
	s, c := newTestStore(t)
	c.Set(at(100))
	s.Record(ordersID, Sample{Value: 2, Count: 3, At: at(1)})                                                    // 2,2,2
	s.Record(ordersID, Sample{Stats: &StatisticSet{SampleCount: 4, Sum: 10, Minimum: 1, Maximum: 4}, At: at(1)}) // spread
	s.Record(ordersID, Sample{Value: 9, At: at(70)})
	s.Record(ordersID, Sample{Stats: &StatisticSet{SampleCount: 2, Sum: 14, Minimum: 7, Maximum: 7}, At: at(71)}) // = 7,7
	dps := mustStats(t, s, Query{Metric: ordersID, Start: at(0), End: at(120), Period: time.Minute, Percentiles: []string{"p50", "p100"}})
	checkDatapoints(t, dps, []want{
		{ts: at(0), count: 7, sum: 16, min: 1, max: 4},
		{ts: at(60), count: 3, sum: 23, min: 7, max: 9},
	})
	if dps[0].Percentiles != nil {
		t.Errorf("percentiles over a statistic set with Minimum != Maximum = %v, want none", dps[0].Percentiles)
	}
	if got := dps[1].Percentiles; got["p50"] < 7*(1-RelativeAccuracy) || got["p50"] > 7*(1+RelativeAccuracy) || got["p100"] != 9 {
		t.Errorf("percentiles = %v, want p50≈7 p100=9", got)
	}
	if dps[1].Average() != 23.0/3 {
		t.Errorf("Average = %v", dps[1].Average())
	}
}

// exactQuantile is the value at rank floor(q·(n−1)) of the sorted values: the lower quantile, the definition the
// sketch's guarantee is stated against.
func exactQuantile(sorted []float64, q float64) float64 {
	return sorted[int(math.Floor(q*float64(len(sorted)-1)))]
}

func TestPercentilesWithinStatedAccuracy(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	dists := []struct {
		name string
		gen  func() float64
	}{
		{"uniform", func() float64 { return 1 + rng.Float64()*999 }},
		{"exponential", func() float64 { return rng.ExpFloat64() * 120 }},
		{"lognormal latency", func() float64 { return math.Exp(rng.NormFloat64()*0.8 + 4) }},
		{"with zeros and negatives", func() float64 {
			if rng.IntN(10) == 0 {
				return 0
			}
			return rng.NormFloat64() * 50
		}},
	}
	names := []string{"p0", "p1", "p10", "p50", "p90", "p99", "p99.9", "p100"}
	for _, d := range dists {
		t.Run(d.name, func(t *testing.T) {
			s, c := newTestStore(t)
			c.Set(at(600))
			const seconds, perSecond = 120, 200
			periods := map[int64][]float64{}
			var all []float64
			for sec := 0; sec < seconds; sec++ {
				for j := 0; j < perSecond; j++ {
					v := d.gen()
					s.Record(ordersID, Sample{Value: v, Unit: "Milliseconds", At: at(float64(sec) + float64(j)/perSecond)})
					periods[int64(sec/60)] = append(periods[int64(sec/60)], v)
					all = append(all, v)
				}
			}
			check := func(dp Datapoint, values []float64) {
				t.Helper()
				sorted := slices.Sorted(slices.Values(values))
				for _, name := range names {
					q, _ := ParsePercentile(name)
					want := exactQuantile(sorted, q)
					got, ok := dp.Percentiles[name]
					if !ok {
						t.Fatalf("%s missing from %v", name, dp.Percentiles)
					}
					if math.Abs(got-want) > RelativeAccuracy*math.Abs(want)+1e-12 {
						t.Errorf("%s at %s = %v, exact %v: relative error %.4f > %v", name, dp.Timestamp.Format(time.TimeOnly),
							got, want, math.Abs(got-want)/math.Abs(want), RelativeAccuracy)
					}
				}
			}
			dps := mustStats(t, s, Query{Metric: ordersID, Start: at(0), End: at(seconds), Period: time.Minute, Percentiles: names})
			if len(dps) != 2 {
				t.Fatalf("got %d datapoints", len(dps))
			}
			for i, dp := range dps {
				check(dp, periods[int64(i)])
			}
			one := mustStats(t, s, Query{Metric: ordersID, Start: at(0), End: at(seconds), Period: 2 * time.Minute, Percentiles: names})
			check(one[0], all)
		})
	}
}

func TestPercentileOfRepeatedValueIsExact(t *testing.T) {
	s, c := newTestStore(t)
	c.Set(at(100))
	for i := 0; i < 50; i++ {
		s.Record(ordersID, Sample{Value: 123.456, At: at(float64(i))})
	}
	dps := mustStats(t, s, Query{Metric: ordersID, Start: at(0), End: at(60), Period: time.Minute, Percentiles: []string{"p1", "p99.99"}})
	if got := dps[0].Percentiles; got["p1"] != 123.456 || got["p99.99"] != 123.456 {
		t.Errorf("percentiles = %v, want exactly 123.456", got)
	}
}

func TestUnitFiltering(t *testing.T) {
	s, c := newTestStore(t)
	c.Set(at(100))
	s.Record(ordersID, Sample{Value: 10, Unit: "Milliseconds", At: at(1)})
	s.Record(ordersID, Sample{Value: 2, Unit: "Seconds", At: at(1)})
	s.Record(ordersID, Sample{Value: 30, Unit: "Milliseconds", At: at(2)})
	s.Record(ordersID, Sample{Value: 7, At: at(70)}) // no unit: None
	q := Query{Metric: ordersID, Start: at(0), End: at(120), Period: time.Minute}
	tests := []struct {
		unit      string
		wantUnits []string
		want      []want
	}{
		{"", []string{"None", "None"}, []want{exact(at(0), 10, 2, 30), exact(at(60), 7)}},
		{"Milliseconds", []string{"Milliseconds"}, []want{exact(at(0), 10, 30)}},
		{"Seconds", []string{"Seconds"}, []want{exact(at(0), 2)}},
		{"None", []string{"None"}, []want{exact(at(60), 7)}},
		{"Bytes", nil, nil},
		{"Furlongs", nil, nil},
	}
	for _, tt := range tests {
		t.Run("unit="+tt.unit, func(t *testing.T) {
			q.Unit = tt.unit
			dps := mustStats(t, s, q)
			checkDatapoints(t, dps, tt.want)
			for i, u := range tt.wantUnits {
				if dps[i].Unit != u {
					t.Errorf("datapoint %d unit = %q, want %q", i, dps[i].Unit, u)
				}
			}
		})
	}
	// A period with one unit reports it.
	s.Record(ordersID, Sample{Value: 1, Unit: "Count", At: at(130)})
	c.Set(at(200))
	dps := mustStats(t, s, Query{Metric: ordersID, Start: at(120), End: at(180), Period: time.Minute})
	if len(dps) != 1 || dps[0].Unit != "Count" {
		t.Errorf("single-unit period = %+v, want Unit Count", dps)
	}
}

func TestRetentionAndPrune(t *testing.T) {
	c := newClock(t0)
	s := NewStore(Options{Retention: 10 * time.Minute, Now: c.Now})
	if s.Retention() != 10*time.Minute {
		t.Fatalf("Retention = %v", s.Retention())
	}
	other := NewMetricID("Custom", "Other")
	s.Record(ordersID, Sample{Value: 1, At: t0})
	s.Record(other, Sample{Value: 2, At: t0})
	s.Record(ordersID, Sample{Value: 3, At: t0.Add(-11 * time.Minute)}) // already outside retention: dropped
	s.Record(ordersID, Sample{Value: 4, At: t0.Add(3 * time.Hour)})     // too far ahead: dropped
	c.Advance(5 * time.Minute)
	s.Record(ordersID, Sample{Value: 5})
	q := Query{Metric: ordersID, Start: t0.Add(-time.Hour), End: t0.Add(4 * time.Hour), Period: time.Minute}
	checkDatapoints(t, mustStats(t, s, q), []want{exact(t0, 1), exact(t0.Add(5*time.Minute), 5)})

	c.Advance(5*time.Minute + time.Second) // t0 is now out of retention
	checkDatapoints(t, mustStats(t, s, q), []want{exact(t0.Add(5*time.Minute), 5)})
	if ids, _, _ := s.List("", "", nil, ""); len(ids) != 1 || ids[0].Name != "Duration" {
		t.Errorf("List after expiry = %v, want only Duration", ids)
	}
	if s.Len() != 2 {
		t.Fatalf("Len before Prune = %d", s.Len())
	}
	s.Prune()
	if s.Len() != 1 {
		t.Errorf("Len after Prune = %d, want 1 (the expired series dropped)", s.Len())
	}
	// A dropped series comes back on the next Record.
	s.Record(other, Sample{Value: 6})
	checkDatapoints(t, mustStats(t, s, Query{Metric: other, Start: t0, End: t0.Add(time.Hour), Period: time.Hour}),
		[]want{exact(t0, 6)})
	c.Advance(time.Hour)
	s.Prune()
	if s.Len() != 0 {
		t.Errorf("Len after everything expired = %d", s.Len())
	}
}

func TestMetricIDNormalization(t *testing.T) {
	s, c := newTestStore(t)
	c.Set(at(10))
	dims := []Dimension{{"Resource", "orders:live"}, {"FunctionName", "orders"}}
	id := NewMetricID("AWS/Lambda", "Errors", dims...)
	if id.Dimensions[0].Name != "FunctionName" || dims[0].Name != "Resource" {
		t.Fatalf("NewMetricID must sort a copy: %v (input %v)", id.Dimensions, dims)
	}
	s.Record(MetricID{Namespace: "AWS/Lambda", Name: "Errors", Dimensions: dims}, Sample{Value: 1, At: at(1)}) // unsorted literal
	s.Record(id, Sample{Value: 1, At: at(2)})
	if s.Len() != 1 {
		t.Fatalf("unsorted and sorted dimensions made %d series", s.Len())
	}
	dps := mustStats(t, s, Query{Metric: MetricID{Namespace: "AWS/Lambda", Name: "Errors", Dimensions: dims}, Start: at(0), End: at(10), Period: 10 * time.Second})
	checkDatapoints(t, dps, []want{exact(at(0), 1, 1)})
	if dims[0].Name != "Resource" {
		t.Error("Record or Statistics reordered the caller's dimensions")
	}
	v1 := s.Version(id)
	s.Record(id, Sample{Value: 1, At: at(3)})
	if v2 := s.Version(id); v2 == v1 || v1 == (Version{}) {
		t.Errorf("Version did not change: %v → %v", v1, v2)
	}
	if s.Version(NewMetricID("AWS/Lambda", "Nope")) != (Version{}) {
		t.Error("Version of a missing series is not zero")
	}
}

func TestChangedSince(t *testing.T) {
	s, c := newTestStore(t)
	c.Set(at(100))
	win := func(from, to float64) (time.Time, time.Time) { return at(from), at(to) }
	if s.ChangedSince(ordersID, Version{}, at(0), at(60)) {
		t.Error("a series that never existed changed")
	}
	s.Record(ordersID, Sample{Value: 1, At: at(10)})
	v := s.Version(ordersID)
	if s.ChangedSince(ordersID, v, at(0), at(60)) {
		t.Error("changed without writes")
	}
	s.Record(ordersID, Sample{Value: 1, At: at(70)})
	s.Record(ordersID, Sample{Value: 1, At: at(71)})
	if f, to := win(0, 60); s.ChangedSince(ordersID, v, f, to) {
		t.Error("writes after the window reported as changing it")
	}
	if f, to := win(60, 120); !s.ChangedSince(ordersID, v, f, to) {
		t.Error("writes inside the window not reported")
	}
	s.Record(ordersID, Sample{Value: 1, At: at(10)}) // same second as before v
	if f, to := win(0, 60); !s.ChangedSince(ordersID, v, f, to) {
		t.Error("late write not reported")
	}
	v = s.Version(ordersID)
	s.Record(ordersID, Sample{Value: 1, At: at(10)}) // continues the second current at v
	if f, to := win(0, 60); !s.ChangedSince(ordersID, v, f, to) {
		t.Error("a write continuing the current second not reported")
	}
	// Beyond the change log: conservative.
	v = s.Version(ordersID)
	for i := 0; i < changeLogLen+1; i++ {
		s.Record(ordersID, Sample{Value: 1, At: at(float64(61 + i%30))})
	}
	if f, to := win(0, 60); !s.ChangedSince(ordersID, v, f, to) {
		t.Error("an overflowed log must answer true")
	}
	if !s.ChangedSince(ordersID, Version{}, at(0), at(60)) {
		t.Error("a zero version of an existing series must answer true")
	}
}

func TestList(t *testing.T) {
	s, c := newTestStore(t)
	c.Set(at(10))
	rec := func(id MetricID) { s.Record(id, Sample{Value: 1, At: at(1)}) }
	for i := 0; i < 1203; i++ {
		rec(NewMetricID("Custom", "Load", Dimension{"Host", fmt.Sprintf("h%04d", i)}))
	}
	rec(NewMetricID("AWS/Lambda", "Errors"))
	rec(NewMetricID("AWS/Lambda", "Errors", Dimension{"FunctionName", "orders"}))
	rec(NewMetricID("AWS/Lambda", "Errors", Dimension{"FunctionName", "orders"}, Dimension{"Resource", "orders:live"}))
	rec(NewMetricID("AWS/Lambda", "Errors", Dimension{"FunctionName", "billing"}))
	rec(NewMetricID("AWS/Lambda", "Duration", Dimension{"FunctionName", "orders"}))

	key := func(id MetricID) string { return seriesKey(&id) }
	tests := []struct {
		name       string
		ns, metric string
		filters    []DimensionFilter
		want       int
	}{
		{"all", "", "", nil, 1208},
		{"namespace", "AWS/Lambda", "", nil, 5},
		{"name", "AWS/Lambda", "Errors", nil, 4},
		{"name in any namespace", "", "Duration", nil, 1},
		{"dimension present", "AWS/Lambda", "", []DimensionFilter{{Name: "FunctionName"}}, 4},
		{"dimension value", "AWS/Lambda", "Errors", []DimensionFilter{{Name: "FunctionName", Value: "orders"}}, 2},
		{"two filters", "", "", []DimensionFilter{{Name: "FunctionName", Value: "orders"}, {Name: "Resource"}}, 1},
		{"no such dimension", "AWS/Lambda", "", []DimensionFilter{{Name: "Nope"}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var all []MetricID
			token, pages := "", 0
			for {
				ids, next, err := s.List(tt.ns, tt.metric, tt.filters, token)
				if err != nil {
					t.Fatal(err)
				}
				pages++
				if len(ids) > ListPageSize {
					t.Fatalf("page of %d", len(ids))
				}
				all = append(all, ids...)
				if next == "" {
					break
				}
				token = next
			}
			if len(all) != tt.want {
				t.Fatalf("got %d series in %d pages, want %d", len(all), pages, tt.want)
			}
			if wantPages := max(1, (tt.want+ListPageSize-1)/ListPageSize); pages != wantPages {
				t.Errorf("pages = %d, want %d", pages, wantPages)
			}
			if !sort.SliceIsSorted(all, func(i, j int) bool { return key(all[i]) < key(all[j]) }) {
				t.Error("not sorted")
			}
			seen := map[string]bool{}
			for _, id := range all {
				if seen[key(id)] {
					t.Fatalf("duplicate %v", id)
				}
				seen[key(id)] = true
			}
		})
	}
	if _, _, err := s.List("", "", nil, "!!not-a-token"); !fault.Is(err, CodeInvalidParameterValue) {
		t.Errorf("bad token error = %v", err)
	}
}

func TestStatisticsValidation(t *testing.T) {
	s, _ := newTestStore(t)
	tests := []struct {
		name string
		q    Query
	}{
		{"zero period", Query{Metric: ordersID, Start: at(0), End: at(60)}},
		{"sub-second period", Query{Metric: ordersID, Start: at(0), End: at(60), Period: 1500 * time.Millisecond}},
		{"end before start", Query{Metric: ordersID, Start: at(60), End: at(0), Period: time.Minute}},
		{"end equals start", Query{Metric: ordersID, Start: at(60), End: at(60), Period: time.Minute}},
		{"bad percentile", Query{Metric: ordersID, Start: at(0), End: at(60), Period: time.Minute, Percentiles: []string{"p101"}}},
		{"trimmed mean", Query{Metric: ordersID, Start: at(0), End: at(60), Period: time.Minute, Percentiles: []string{"tm90"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.Statistics(tt.q); !fault.Is(err, CodeInvalidParameterValue) {
				t.Errorf("error = %v, want %s", err, CodeInvalidParameterValue)
			}
		})
	}
}

func TestParsePercentile(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		ok   bool
	}{
		{"p99", 0.99, true}, {"p99.9", 0.999, true}, {"p50", 0.5, true}, {"p0", 0, true}, {"p100", 1, true},
		{"p0.0", 0, true}, {"p99.99", 0.9999, true}, {"p100.0", 1, true},
		{"p", 0, false}, {"p101", 0, false}, {"p-1", 0, false}, {"P99", 0, false}, {"p99.", 0, false},
		{"p.5", 0, false}, {"99", 0, false}, {"tm99", 0, false}, {"p1e2", 0, false}, {"p 9", 0, false},
	}
	for _, tt := range tests {
		got, ok := ParsePercentile(tt.in)
		if ok != tt.ok || (ok && math.Abs(got-tt.want) > 1e-12) {
			t.Errorf("ParsePercentile(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// TestConcurrentRecord hammers a few series from many goroutines while others query, list and prune; counts and
// sums must come out exact (run under -race).
func TestConcurrentRecord(t *testing.T) {
	s, c := newTestStore(t)
	c.Set(at(5))
	ids := []MetricID{
		ordersID,
		NewMetricID("AWS/Lambda", "Duration"),
		NewMetricID("AWS/Lambda", "Errors", Dimension{"FunctionName", "orders"}),
	}
	const writers, perWriter = 8, 2000
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for r := 0; r < 3; r++ {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := s.Statistics(Query{Metric: ordersID, Start: at(0), End: at(10), Period: time.Second, Percentiles: []string{"p99"}}); err != nil {
					t.Error(err)
				}
				s.List("", "", nil, "")
				s.Prune()
			}
		}()
	}
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < perWriter; i++ {
				s.Record(ids[i%len(ids)], Sample{Value: float64(i % 7), Unit: "Milliseconds", At: at(float64(i%5) + 0.5)})
			}
		}(w)
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	for k, id := range ids {
		var n, sum float64
		for i := 0; i < perWriter; i++ {
			if i%len(ids) == k {
				n++
				sum += float64(i % 7)
			}
		}
		dps := mustStats(t, s, Query{Metric: id, Start: at(0), End: at(5), Period: 5 * time.Second})
		if len(dps) != 1 || dps[0].SampleCount != n*writers || dps[0].Sum != sum*writers {
			t.Errorf("%v: got %+v, want n=%v sum=%v", id, dps, n*writers, sum*writers)
		}
	}
}
