// Package alarms owns CloudWatch alarms — metric alarms on one metric, metric-math alarms (PutMetricAlarm's Metrics,
// evaluated with internal/metricmath) and composite alarms (PutCompositeAlarm, composite.go) —: their durable
// definitions, states and history (in the store, keys "alarm/<name>" and "alarmhist/<name>/<time>", see
// storage.go), the PutMetricAlarm / PutCompositeAlarm / DescribeAlarms / DescribeAlarmsForMetric / DeleteAlarms /
// SetAlarmState / DescribeAlarmHistory / Enable-/DisableAlarmActions rules with CloudWatch's error codes, the
// evaluator that compares the metrics of internal/metrics with the thresholds at least once a second, and the
// subscriptions through which in-process consumers (the deployment controller) learn of a state change the moment
// it is committed. What it holds in memory — every alarm's definition and state — is a watch-fed cache of the
// alarm records, so several processes sharing one store (a cluster) see each other's alarms, and each one's
// subscribers hear of every state change, whoever committed it. Anomaly detection is out of scope, and alarm
// actions are stored and described but not executed (the deployment controller subscribes instead).
//
// # Metric-math alarms
//
// An alarm with Metrics watches the one query with ReturnData, a single time series: each evaluation reads every
// metric query's datapoints over the evaluation range (through the same per-period cache as a single-metric
// alarm), runs the expressions over them (metricmath.Program, compiled once per definition) and takes the
// returned series' values as the alarm's datapoints; a period where the expression has no datapoint — no
// traffic for 100*errors/invocations, a division by zero — is missing data, for TreatMissingData to decide.
// Reasons read as for any alarm; their StateReasonData has no statistic, unit or sample counts. The metrics of an
// alarm share one period (checked at PutMetricAlarm), which is the alarm's.
//
// # Evaluation
//
// Run evaluates every alarm once a second, TickGrace (10 ms) after each whole second. An evaluation at time now
// looks at complete periods only: the last one ends at now rounded down to the alarm's evaluation step — the
// period itself for periods up to a minute (epoch-aligned, so 10-second windows end at :00, :10, …), one
// minute for longer periods, whose windows slide by the minute as CloudWatch evaluates them every minute. The
// evaluation range is EvaluationPeriods + RangeExtra (2) periods ending there (CloudWatch's documented example:
// 5 for 3). The datapoint of a period is the alarm's statistic over its samples (of the alarm's Unit, if set); it
// breaches per ComparisonOperator and Threshold. Then, as CloudWatch documents (see decide for the details):
//
//   - with at least N (EvaluationPeriods) real datapoints in the range, the N most recent ones are evaluated:
//     ALARM if at least M (DatapointsToAlarm, default N) breach, OK otherwise; TreatMissingData plays no part;
//   - with none: missing → INSUFFICIENT_DATA, ignore → the state is kept, breaching → ALARM, notBreaching → OK;
//   - with some: breaching/notBreaching fill the N−real most recent missing periods; missing and ignore evaluate
//     the real ones, with CloudWatch's "premature alarm" rule (ALARM when the oldest breaching datapoint of the
//     last N periods is at least M periods old and nothing good follows it); where that rule fires, ignore keeps
//     the state. Every row of both tables of CloudWatch's "How alarm state is evaluated when data is missing" is
//     a test case.
//
// Percentile alarms with EvaluateLowSampleCountPercentile=ignore keep their state while any evaluated period
// has fewer samples than LowSampleThreshold: 10/(1−q) for q ≥ 0.5 (1,000 for p99), 10/q below, none for p0 and
// p100 — CloudWatch's statistical-significance rule. Percentile values carry the metrics package's 1% relative
// accuracy, so a datapoint within 1% of the threshold may be classified as CloudWatch would not.
//
// Reaction time: a sample changes an alarm at the first evaluation after its period completes, so with 1- or
// 5-second periods Sluice reacts within about one period plus TickGrace, and the change is queued for the
// subscribers as soon as the store's watch delivers its commit (each subscriber's goroutine picks it up at once).
//
// SetState forces a state that holds until the alarm's next evaluation instant (the next boundary of its step),
// whose evaluation may change it back: CloudWatch's "until the next alarm comparison". The hold survives a
// restart.
//
// Each pass aggregates only what changed: completed periods are cached per alarm and read again only when
// metrics.Store.ChangedSince reports a late sample in them (Lambda stamps its metrics at the invocation's start)
// or the definition changed. BenchmarkEvaluateAll (100 alarms, half of them p99, 60-second periods, N=3, data at
// 100 samples a second): 0.2 ms per pass with the cache, 7.4 ms with every period aggregated again.
//
// # Reasons
//
// StateReason follows CloudWatch's texts: "Threshold Crossed: 1 datapoint [3.0 (26/11/26 10:00:00)] was greater
// than or equal to the threshold (1.0)." for alarms without DatapointsToAlarm, "Threshold Crossed: 1 out of the
// last 1 datapoints [3.0 (26/11/26 10:00:00)] was greater than or equal to the threshold (1.0) (minimum 1
// datapoint for OK -> ALARM transition)." for M-out-of-N alarms, "… and 2 missing datapoints were treated as
// [Breaching]." when missing data was filled, "Threshold Crossed: no datapoints were received for 1 period and
// 1 missing datapoint was treated as [NonBreaching].", "Insufficient Data: 1 datapoint was unknown.". Numbers
// print as Java's Double.toString does. StateReasonData is CloudWatch's JSON: {"version":"1.0","queryDate":…,
// "startDate":…,"unit":…,"statistic":… (or "extendedStatistic"),"period":…,"recentDatapoints":[…],"threshold":…,
// "evaluatedDatapoints":[{"timestamp":…,"sampleCount":…,"value":…},…]}.
//
// # Durability, the cache and notification order
//
// Every mutation is one store transaction; a state change and its StateUpdate history item are committed
// together (all changes of an evaluation pass share one transaction). A mutation decides inside its
// transaction from the stored records — the store serialises write transactions, across processes too — and
// holds no lock of the service while the store writes (an fsync). Nothing but the store's watch changes the
// in-memory alarms (cache.go): New lists the alarm/ records, then follows their changes one commit at a time in
// revision order; a watch that fell behind (ErrCompacted, ErrLagged) lists again, and the store closing ends it.
// The follower runs from New rather than Run, so a write made before Run (or without it) still returns promptly:
// every mutation returns only once the cache has applied its commit (it waits on Options.Progress, at most
// cacheWaitLimit, 10 s, then answers with a warning), so DescribeAlarms after PutMetricAlarm on one process sees
// it; a write by another process shows here as soon as the watch delivers it. A cached definition keeps its
// identity (and the evaluator its cached datapoints) until a record with a different definition arrives. An
// evaluation pass decides from a snapshot of the cache and commits a change only if the alarm's record still
// has the Gen the pass read, so two processes evaluating the same alarm commit a transition once. Reads take the
// in-memory lock only to copy.
//
// Subscribers hear of state changes from the watch: a record whose state differs from the cached one is a
// transition (from the cached state to the record's, with the record's reason and timestamp), queued when the
// cache applies it, so every process notifies its subscribers once per transition, in revision order, whichever
// process committed it. After a re-list, a state that differs from the cached one is notified as one transition
// (the intermediate ones the watch missed are lost). Each subscriber has its own goroutine and queue, so one
// that is slow (or stuck) delays neither the evaluator, nor mutations, nor the watch, nor the other subscribers.
// A stuck subscriber's queue is bounded: past maxQueued (256) changes, a change of an alarm that already has one
// queued is merged into it (the latest state wins).
//
// History keeps the last MaxHistoryPerAlarm (100) items per alarm and is deleted with the alarm.
//
// # Deviations from CloudWatch
//
//   - Period may also be 1 or 5 seconds (a Sluice extension for sub-minute canary analysis); Period ×
//     EvaluationPeriods must also fit in the metric store's retention (3 hours by default).
//   - Alarms evaluate every second on 1-second data, so 10/20/30-second alarms never "lapse" for lack of
//     high-resolution data, and 60-second alarms react at the minute boundary rather than up to a minute later.
//   - Reason texts for cases CloudWatch does not document (e.g. an OK state reached with no good datapoint) are
//     Sluice's best rendering in the same style; ActionPrefix matches any of the three action lists.
//   - DeleteAlarms' message for unknown names is "N out of M alarm(s) not found"; messages of model-level
//     validation use AWS's "1 validation error detected: …" form; a few other messages are best-effort copies.
//   - The DynamoDB namespace's "always ignore missing data" exception is not reproduced.
//   - A composite alarm rule that would close a cycle is refused (CloudWatch accepts it and stops evaluating along
//     the cycle); a metric-math alarm's metrics must share one period; AT_LEAST is not part of the rule language.
package alarms
