package alarms

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/metrics"
	"github.com/sluice-dev/sluice/internal/store/bolt"
)

// BenchmarkEvaluateAll is one evaluation pass (within a minute, so every period is cached: the common pass)
// over 100 alarms on 60-second periods (3 evaluation periods, so 5
// periods fetched each): 50 Sum alarms on Errors and 50 p99 alarms on Duration, over metrics with 100 samples a
// second for the last 10 minutes. No state changes, so no store writes: the cost Run pays every second.
func BenchmarkEvaluateAll(b *testing.B) { benchmarkEvaluateAll(b, false) }

// BenchmarkEvaluateAllCold is BenchmarkEvaluateAll with the evaluator's cache dropped before each pass: every
// period is aggregated again (the cost after late data everywhere; a pass after a period boundary aggregates one
// period per alarm).
func BenchmarkEvaluateAllCold(b *testing.B) { benchmarkEvaluateAll(b, true) }

func benchmarkEvaluateAll(b *testing.B, cold bool) {
	c := &clock{}
	now := t0.Add(10 * time.Minute)
	c.Set(now)
	m := metrics.NewStore(metrics.Options{Now: c.Now})
	db, err := bolt.Open(filepath.Join(b.TempDir(), "db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	svc, err := New(Options{Store: db, Metrics: m, Now: c.Now, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	for f := 0; f < 50; f++ {
		fn := metrics.Dimension{Name: "FunctionName", Value: fmt.Sprint("fn", f)}
		errs := metrics.NewMetricID("AWS/Lambda", "Errors", fn)
		dur := metrics.NewMetricID("AWS/Lambda", "Duration", fn)
		for sec := 0; sec < 600; sec++ {
			for j := 0; j < 100; j++ {
				ts := t0.Add(time.Duration(sec)*time.Second + time.Duration(j)*10*time.Millisecond)
				m.Record(errs, metrics.Sample{Value: 0, Unit: "Count", At: ts})
				m.Record(dur, metrics.Sample{Value: float64(50 + (sec*7+j*13)%400), Unit: "Milliseconds", At: ts})
			}
		}
		for _, d := range []Definition{
			{Name: fmt.Sprint("errors-", f), Metric: errs, Statistic: "Sum", Period: time.Minute, EvaluationPeriods: 3,
				Threshold: 1, ComparisonOperator: "GreaterThanOrEqualToThreshold"},
			{Name: fmt.Sprint("p99-", f), Metric: dur, ExtendedStatistic: "p99", Period: time.Minute, EvaluationPeriods: 3,
				Threshold: 1000, ComparisonOperator: "GreaterThanThreshold"},
		} {
			if err := svc.Put(context.Background(), d); err != nil {
				b.Fatal(err)
			}
		}
	}
	svc.EvaluateAll(context.Background()) // settle INSUFFICIENT_DATA → OK
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if cold {
			svc.cache = map[string]*windowCache{}
		}
		svc.EvaluateAll(context.Background())
	}
}

// BenchmarkEvaluateAll1000Mixed is one evaluation pass over 1,000 alarms on 250 functions, half of them
// metric-math: per function a Sum alarm on Errors, a p99 alarm on Duration, the error rate 100*errors/invocations
// and a filled rate 100*FILL(errors,0)/FILL(invocations,1); 60-second periods, 3 evaluation periods, metrics with 10
// samples a second for the last 10 minutes. Within a minute every period is cached (the pass Run makes each
// second); the Cold variant aggregates every period again.
func BenchmarkEvaluateAll1000Mixed(b *testing.B) { benchmarkMixed(b, false) }

// BenchmarkEvaluateAll1000MixedCold is BenchmarkEvaluateAll1000Mixed with the evaluator's cache dropped before each
// pass.
func BenchmarkEvaluateAll1000MixedCold(b *testing.B) { benchmarkMixed(b, true) }

func benchmarkMixed(b *testing.B, cold bool) {
	c := &clock{}
	now := t0.Add(10 * time.Minute)
	c.Set(now)
	m := metrics.NewStore(metrics.Options{Now: c.Now})
	db, err := bolt.Open(filepath.Join(b.TempDir(), "db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	svc, err := New(Options{Store: db, Metrics: m, Now: c.Now, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	for f := 0; f < 250; f++ {
		fn := metrics.Dimension{Name: "FunctionName", Value: fmt.Sprint("fn", f)}
		errs := metrics.NewMetricID("AWS/Lambda", "Errors", fn)
		invs := metrics.NewMetricID("AWS/Lambda", "Invocations", fn)
		dur := metrics.NewMetricID("AWS/Lambda", "Duration", fn)
		for sec := 0; sec < 600; sec++ {
			for j := 0; j < 10; j++ {
				ts := t0.Add(time.Duration(sec)*time.Second + time.Duration(j)*100*time.Millisecond)
				m.Record(invs, metrics.Sample{Value: 1, Unit: "Count", At: ts})
				m.Record(errs, metrics.Sample{Value: 0, Unit: "Count", At: ts})
				m.Record(dur, metrics.Sample{Value: float64(50 + (sec*7+j*13)%400), Unit: "Milliseconds", At: ts})
			}
		}
		rate := func(name, expr string) Definition {
			return Definition{Name: name, EvaluationPeriods: 3, Threshold: 1, ComparisonOperator: "GreaterThanThreshold",
				Metrics: []MetricQuery{
					{ID: "errors", Metric: errs, Stat: "Sum", Period: time.Minute},
					{ID: "invocations", Metric: invs, Stat: "Sum", Period: time.Minute},
					{ID: "rate", Expression: expr, ReturnData: true},
				}}
		}
		for _, d := range []Definition{
			{Name: fmt.Sprint("errors-", f), Metric: errs, Statistic: "Sum", Period: time.Minute, EvaluationPeriods: 3,
				Threshold: 1, ComparisonOperator: "GreaterThanOrEqualToThreshold"},
			{Name: fmt.Sprint("p99-", f), Metric: dur, ExtendedStatistic: "p99", Period: time.Minute, EvaluationPeriods: 3,
				Threshold: 1000, ComparisonOperator: "GreaterThanThreshold"},
			rate(fmt.Sprint("rate-", f), "100*errors/invocations"),
			rate(fmt.Sprint("filled-rate-", f), "100*FILL(errors,0)/FILL(invocations,1)"),
		} {
			if err := svc.Put(context.Background(), d); err != nil {
				b.Fatal(err)
			}
		}
	}
	svc.EvaluateAll(context.Background()) // settle INSUFFICIENT_DATA → OK
	if l, _, _ := svc.Describe(context.Background(), DescribeFilter{State: StateOK, MaxRecords: 100}); len(l) != 100 {
		b.Fatalf("the alarms did not all settle to OK: %d", len(l))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if cold {
			svc.cache = map[string]*windowCache{}
		}
		svc.EvaluateAll(context.Background())
	}
}
