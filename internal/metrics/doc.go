// Package metrics owns Sluice's metric store: every CloudWatch-shaped series (namespace, name, sorted dimensions)
// that the invoke path records on each invocation or PutMetricData publishes, kept as 1-second buckets in memory
// for a bounded retention and, with a durable store (Options.Durable), as 1-minute aggregates persisted as each
// minute closes, and the queries that the CloudWatch API (GetMetricStatistics, GetMetricData, ListMetrics) and the
// alarm evaluator run on them. It knows nothing of alarms, deployments or wire formats.
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
// # Persisted minutes (archive.go)
//
// With Options.Durable, Run calls Flush a second (FlushDelay) after each minute boundary: every series that received
// samples for a closed minute since the last flush gets that minute's record — per unit: SampleCount, Sum, Minimum,
// Maximum, whether its values are unknown (a statistic set), and its DDSketch in the sketch's binary encoding
// (none when all its values are equal) — recomputed whole from the 1-second buckets. So the write rate is one
// batch per minute, whatever the invocation rate, split into transactions of at most Options.WriteBatch records;
// a late sample for a minute already written makes the next flush rewrite that minute. A failed write leaves its
// minutes due for the next flush. The minute still open when the process dies (kill -9) is lost, and with it any
// late sample recorded since the last flush; a graceful stop (Run's context ending: SIGTERM, a rolling upgrade)
// writes the open minute too (FlushAll), and the next process adds its own samples of that minute to that record.
//
// Keys (the store's values are JSON):
//
//	metrics/min/<node>/<series id>/<minute>/<boot>  []Aggregate, one per unit (Aggregate.Start is the minute)
//	metrics/ser/<node>/<series id>                  MetricID: the catalog Expire walks
//
// where <node> is Options.Node path-escaped ("local" on one machine), <series id> the first 16 bytes of the
// SHA-256 of the series' identity in hex (stable across processes, unlike the in-memory hash), <minute> its start
// in Unix seconds on 11 digits, and <boot> this process's start in hex nanoseconds: each process writes only its
// own records, so a minute written by an earlier run and one written by this run after a late sample are two
// records, never one overwritten by a partial other. Keys of one series sort by minute, so a read is one seek.
//
// A query whose periods are whole minutes on minute boundaries (Period a multiple of 60 s, which aligned periods
// then are) merges, per minute: the records of the node's earlier runs (which hold no minute after the one this
// run started in), this run's records for minutes the 1-second buckets no longer hold completely (older than the
// retention plus a five-minute slack during which memory still answers and late samples have been flushed), and the
// 1-second buckets for the rest. Each sample is therefore counted once, and every statistic keeps its guarantee
// below (the sketches merge bin by bin). Periods shorter than a minute, or unaligned ones that do not start on a
// minute, read the 1-second buckets only: after a restart they see only what this run recorded, as CloudWatch keeps
// sub-minute data only for 3 hours.
//
// Expire (every ExpireInterval from Run) deletes the node's minutes older than Options.MinuteRetention (default
// DefaultMinuteRetention, 15 days, as CloudWatch keeps 1-minute data), walking the catalog and deleting at most
// Options.WriteBatch keys per transaction, and removes a series from the catalog in the transaction that deletes
// its last minute. Queries ignore expired minutes before Expire deletes them.
//
// In a cluster every node writes and reads only its own records (Node is its cluster name, which a restart on the
// same data dir keeps), and Cluster merges the nodes' answers as before: a minute is counted once, by the node that
// recorded it. The minutes of a node that is down are missing from answers (as its memory was) until it returns,
// and only that node expires them.
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
//   - 1-second data is kept for Options.Retention in memory only; 1-minute data for Options.MinuteRetention in
//     the store, each minute whole (a persisted minute counts in a period if the minute starts before the query's
//     End). There is no 5-minute or 1-hour roll-up: 15 days of 1-minute data is the longest retention.
//   - Record drops, without an error, samples outside [now − retention, now + 2 h], non-finite values and
//     statistic sets with a non-positive SampleCount: PutMetricData's validation belongs to the edge.
//   - Only pNN(.N) extended statistics exist (no tm90, IQM, PR(…), …).
package metrics
