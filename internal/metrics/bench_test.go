package metrics

import (
	"sync/atomic"
	"testing"
	"time"
)

// lambdaIDs are the dimension sets Lambda publishes each metric under.
func lambdaIDs(metric string) []MetricID {
	return []MetricID{
		NewMetricID("AWS/Lambda", metric),
		NewMetricID("AWS/Lambda", metric, Dimension{"FunctionName", "orders"}),
		NewMetricID("AWS/Lambda", metric, Dimension{"FunctionName", "orders"}, Dimension{"Resource", "orders:live"}),
		NewMetricID("AWS/Lambda", metric, Dimension{"FunctionName", "orders"}, Dimension{"Resource", "orders:live"},
			Dimension{"ExecutedVersion", "7"}),
	}
}

// BenchmarkRecord is one Duration sample (varying values, so the buckets keep sketches) into one of Lambda's
// four dimension sets, from one goroutine, stamped like Lambda's metrics (at the invocation's start, here a
// microsecond apart), so the clock is read only when a series enters a new second.
func BenchmarkRecord(b *testing.B) {
	s := NewStore(Options{})
	ids := lambdaIDs("Duration")
	t0 := time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.Record(ids[i&3], Sample{Value: float64(10 + i%500), Unit: "Milliseconds", At: t0.Add(time.Duration(i) * time.Microsecond)})
	}
}

// BenchmarkRecordNow is BenchmarkRecord with unstamped samples (PutMetricData without Timestamp): every Record
// reads the clock.
func BenchmarkRecordNow(b *testing.B) {
	s := NewStore(Options{})
	ids := lambdaIDs("Duration")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.Record(ids[i&3], Sample{Value: float64(10 + i%500), Unit: "Milliseconds"})
	}
}

// BenchmarkRecordParallel is BenchmarkRecord from GOMAXPROCS goroutines that all write the same four series
// (the worst case: one busy function), plus a count metric on the same path.
func BenchmarkRecordParallel(b *testing.B) {
	s := NewStore(Options{})
	dur, errs := lambdaIDs("Duration"), lambdaIDs("Errors")
	var seed atomic.Int64
	t0 := time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := int(seed.Add(1)) * 7919
		for pb.Next() {
			i++
			at := t0.Add(time.Duration(i) * time.Microsecond)
			if i&1 == 0 {
				s.Record(dur[i&3], Sample{Value: float64(10 + i%500), Unit: "Milliseconds", At: at})
			} else {
				s.Record(errs[i&3], Sample{Value: 0, Unit: "Count", At: at})
			}
		}
	})
}

// BenchmarkStatisticsP99 is a one-hour query with 60-second periods and a p99, over a series with 100
// samples a second.
func BenchmarkStatisticsP99(b *testing.B) {
	now := time.Unix(1_800_000_000, 0)
	s := NewStore(Options{Now: func() time.Time { return now }})
	id := NewMetricID("AWS/Lambda", "Duration", Dimension{"FunctionName", "orders"})
	for sec := int64(0); sec < 3600; sec++ {
		for j := 0; j < 100; j++ {
			s.Record(id, Sample{Value: float64(1 + (sec*31+int64(j)*17)%1000), Unit: "Milliseconds", At: now.Add(time.Duration(sec-3600) * time.Second)})
		}
	}
	q := Query{Metric: id, Start: now.Add(-time.Hour), End: now, Period: time.Minute, Percentiles: []string{"p99"}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Statistics(q); err != nil {
			b.Fatal(err)
		}
	}
}
