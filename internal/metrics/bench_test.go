package metrics

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/store"
	"github.com/sluice-dev/sluice/internal/store/bolt"
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

// BenchmarkFlushMinute is the write cost of one closed minute (Flush) with many series, on bbolt in a file (one
// fsync per transaction of at most batch records: DefaultWriteBatch as in a cluster, 500 as the embedded server
// runs): each series got 10 samples a second of varying latencies, so every record carries a sketch. One op is
// one minute's flush; records/op and bytes/record are reported.
func BenchmarkFlushMinute(b *testing.B) {
	for _, c := range []struct{ series, batch int }{{100, 100}, {1000, 100}, {1000, 500}, {10000, 100}, {10000, 500}} {
		n := c.series
		b.Run(fmt.Sprintf("series=%d/batch=%d", n, c.batch), func(b *testing.B) {
			db, err := bolt.Open(filepath.Join(b.TempDir(), "sluice.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			now := time.Unix(1_800_000_000, 0)
			clk := newClock(now)
			s := NewStore(Options{Now: clk.Now, Durable: db, WriteBatch: c.batch})
			ids := make([]MetricID, n)
			for i := range ids {
				ids[i] = NewMetricID("AWS/Lambda", "Duration", Dimension{"FunctionName", fmt.Sprintf("fn-%05d", i)})
			}
			records, bytes := 0, 0
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				minute := now.Add(time.Duration(i) * time.Minute)
				clk.Set(minute.Add(time.Minute - time.Second))
				for _, id := range ids {
					for sec := 0; sec < 60; sec++ {
						for k := 0; k < 10; k++ {
							s.Record(id, Sample{Value: float64(1 + (sec*31+k*17)%400), Unit: "Milliseconds",
								At: minute.Add(time.Duration(sec)*time.Second + time.Duration(k)*time.Millisecond)})
						}
					}
				}
				clk.Set(minute.Add(time.Minute + FlushDelay))
				b.StartTimer()
				w, err := s.Flush(context.Background())
				if err != nil || w != n {
					b.Fatalf("Flush = %d, %v; want %d", w, err, n)
				}
				records += w
				b.StopTimer()
				s.Prune()
				b.StartTimer()
			}
			b.StopTimer()
			err = db.View(context.Background(), func(tx store.Tx) error {
				bytes = 0
				return tx.Scan(keyMinutes, "", func(_ string, v []byte) (bool, error) { bytes += len(v); return true, nil })
			})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(records)/float64(b.N), "records/op")
			b.ReportMetric(float64(bytes)/float64(records), "bytes/record")
		})
	}
}
