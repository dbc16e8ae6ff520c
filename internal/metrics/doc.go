// Package metrics owns Sluice's in-memory metric store: every CloudWatch-shaped series (namespace, name, sorted
// dimensions) that the invoke path records on each invocation or PutMetricData publishes, kept as 1-second buckets
// for a bounded retention, and the queries that the CloudWatch API (GetMetricStatistics, ListMetrics), the alarm
// evaluator and, later, Prometheus run on them. It knows nothing of alarms, deployments or wire formats.
//
// # Model
//
// A series is interned by a hash of its identity into one of 64 lock-striped shards. It holds a slice of buckets
// sorted by second, one bucket per (second, unit): CloudWatch aggregates units separately, so the unit is kept
// per bucket and Query.Unit selects it. A bucket keeps SampleCount, Sum, Minimum and Maximum, and — only once it
// has seen two distinct values — a DDSketch for percentiles; while all its values are equal the value itself is
// the exact distribution. Samples older than the retention (Options.Retention, default 3 hours, the time
// CloudWatch keeps 1-second data) are invisible to every query and are freed by Prune, which the owner runs
// periodically (Run does it every minute); Prune also drops the series left without data.
//
// # Statistical guarantees
//
// SampleCount, Sum, Minimum and Maximum are exact (float64 arithmetic), across buckets, periods and statistic
// sets, whatever the period.
//
// Percentiles ("pNN" or "pNN.N…", p0 to p100) come from merging the sketches of a period's buckets: DDSketch
// (github.com/DataDog/sketches-go) with a relative accuracy of 1% (RelativeAccuracy). For a period holding n
// values with the sorted values x₀ ≤ … ≤ xₙ₋₁, the percentile q is estimated against x at rank ⌊q·(n−1)⌋ (the
// lower quantile; no interpolation), and the estimate v̂ satisfies |v̂ − x| ≤ 0.01·|x| (zero is exact; negative
// values are supported). The estimate is clamped into the exact [Minimum, Maximum] of the period, p0 and p100
// are the exact Minimum and Maximum, and a period whose values are all equal returns that value exactly. The
// guarantee holds for any period length and any number of samples: merging sketches adds no error. Samples with
// Count > 1 weigh Count times. A statistic set (PutMetricData StatisticValues) enters percentiles only when its
// Minimum equals its Maximum (all its values are then known); a period containing any other statistic set has
// no percentiles, as in CloudWatch.
//
// # Hot path
//
// Record takes a shard read lock to find the series (creating it under the write lock the first time), then the
// series' mutex; a sample for the newest second of a series does not even read the clock. It does not allocate
// in the steady state: a new second appends to a slice whose capacity Prune keeps, sketches come from a pool
// and return to it when their bucket expires. Measured on a 2-vCPU AMD EPYC development machine (go test
// -bench, 0 allocs/op for all): BenchmarkRecord 110–125 ns/op (one goroutine, Lambda's four dimension sets of
// one busy function), BenchmarkRecordParallel 95–150 ns/op (two goroutines on those same series: the worst case
// for the series mutexes), BenchmarkRecordNow 170–180 ns/op (unstamped samples read the clock each time).
//
// Memory: a bucket is 56 bytes; its sketch, when it has one, uses a paginated store (a buffer of indexes for the
// first values, then 32-bin pages of 8-byte counts), typically well under 1 KB for one second of latencies.
//
// # Deviations from CloudWatch
//
//   - Without Query.Unit, samples of different units are aggregated into one datapoint whose Unit is "None"
//     (CloudWatch returns one datapoint per unit).
//   - Periods may be any whole number of seconds; the API edge enforces CloudWatch's set (1, 5, 10, 20, 30, 60
//     and multiples of 60) and its 1,440-datapoint limit.
//   - All data has the same 1-second resolution and one retention: there is no roll-up to 1-minute data kept
//     for 15 days.
//   - Record drops, without an error, samples outside [now − retention, now + 2 h], non-finite values and
//     statistic sets with a non-positive SampleCount: PutMetricData's validation belongs to the edge.
//   - Only pNN(.N) extended statistics exist (no tm90, IQM, PR(…), …).
package metrics
