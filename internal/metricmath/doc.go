// Package metricmath owns CloudWatch's metric math: the expression language of MetricDataQuery.Expression
// (GetMetricData queries and PutMetricAlarm's Metrics), parsed, checked and evaluated over timestamped series.
// It is pure: the caller fetches the series of the metric (MetricStat) queries and hands them over; nothing here
// reads a clock, a store or the network.
//
// # Using it
//
// Compile takes the queries of one request — metric queries (Expression empty) and expressions — and checks
// them as CloudWatch does: ids start with a lower-case letter and are unique, every expression parses, refers only
// to ids of the request and to no expression that refers back to it, and is well typed. Run then evaluates every
// expression, in dependency order, over the series of the metric queries.
//
// # Types
//
// A value is a scalar (S), a time series (TS) or an array of time series (TS[]), CloudWatch's three types. Types
// are known before any data is: a number is S, a metric id TS, METRICS() TS[], and each operator and function maps
// argument types to a result type as CloudWatch's tables list them (see the table in functions.go); any other
// combination is refused at Compile with the expression's id, the function and the position. An expression whose
// data is returned must be TS or TS[] ("The final result of any math expression must be a single time series or
// an array of time series"); an alarm's must be one TS.
//
// # Semantics (CloudWatch's "Metric math syntax and functions")
//
//   - Arithmetic (+ - * / ^, unary -) between two series works on the union of their timestamps, a value missing
//     from one series counting as 0; with a scalar, on the series' own timestamps. A datapoint whose result is not
//     a finite number — a division by zero, 0/0, a negative base raised to a fraction — is dropped, and the
//     expression's result says so (Result.Dropped: GetMetricData's ArithmeticError message). So
//     100*errors/invocations has a datapoint exactly where invocations has one that is not 0: with no traffic, no
//     datapoint at all, and the alarm's TreatMissingData decides.
//   - Comparison (== != < > <= >=) and logical operators (AND &&, OR ||) give 1 or 0, between two series on the
//     union of their timestamps with a missing value counting as 0 (the docs' table: metric1 [30, 20, 0, 0] <
//     metric2 [20, -, 20, -] is 0, 0, 1, 0).
//   - IF(cond, a[, b]) follows the docs' rules form by form: with a series condition, the result has a datapoint
//     where the condition has one; a true condition takes a (0 where a series a has no datapoint), a false one b
//     (dropped where a series b has none, or when b is omitted). With a scalar condition the result is a, or b, or
//     an empty series when b is omitted.
//   - FILL(x, S | TS | REPEAT | LINEAR) gives x a datapoint at every period of its grid (the request's time range
//     cut into the metric's periods): the value, the filler series' datapoint at that time, the most recent real
//     value before (REPEAT: nothing before the first), or the line between the real values on either side of the
//     gap (LINEAR: nothing outside them).
//   - SUM, AVG, MIN, MAX and STDDEV of a TS are scalars over its datapoints; of a TS[] a TS over the union of the
//     members' timestamps, with a missing value counting as 0 for SUM and AVG (as the docs say for AVG) and left
//     out for MIN, MAX and STDDEV (population standard deviation).
//   - DIFF, RATE (per second) and DIFF_TIME compare each datapoint with the one before it (the first has none and
//     is dropped); RUNNING_SUM accumulates; ABS, CEIL, FLOOR, LOG and LOG10 apply to each datapoint; PERIOD(m)
//     is the period in seconds of the metric query m (not of an expression); METRICS() is every metric query of
//     the request in request order, METRICS("s") those whose id contains s; METRIC_COUNT, DATAPOINT_COUNT,
//     REMOVE_EMPTY and TIME_SERIES as documented.
//
// A Run is bounded, so that a hostile request cannot make unbounded data: FILL and TIME_SERIES walk at most
// MaxGridPoints periods, all their series together (weeks at a one-second period would be millions), and once the
// values computed hold more than MaxRunPoints datapoints the remaining expressions are not evaluated; either way
// the values concerned are Truncated.
//
// Function names are upper case, ids start with a lower-case letter; numbers may have a fraction and an
// exponent; strings (METRICS' argument) are in double quotes. Precedence, loosest first: OR, AND, comparisons,
// + and -, * and /, unary -, ^ (right-associative, so -2^2 is -4).
//
// # Not here
//
// SEARCH, Metrics Insights queries, ANOMALY_DETECTION_BAND, SORT, SLICE, FIRST, LAST, the calendar functions
// (MINUTE … EPOCH), INSIGHT_RULE_METRIC, SERVICE_QUOTA and LAMBDA are refused at Compile with a message naming
// the function as one Sluice does not support.
//
// Error messages follow the form of CloudWatch's recorded rule errors ("Error in AlarmRule [Unsupported token
// ')' at char 1]"): "Error in expression e1 [Unsupported token ')' at char 6]"; where CloudWatch's exact wording
// for metric math is not recorded, the words are Sluice's, in the same form.
package metricmath
