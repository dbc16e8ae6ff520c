package alarms

import (
	"math"
	"time"

	"github.com/sluice-dev/sluice/internal/metricmath"
	"github.com/sluice-dev/sluice/internal/metrics"
)

// Evaluation constants.
const (
	// RangeExtra is how many periods before the last EvaluationPeriods ones an evaluation also fetches (the
	// evaluation range), so that missing recent datapoints can be replaced by older real ones as CloudWatch does.
	// CloudWatch's documented example fetches 5 datapoints for 3 evaluation periods.
	RangeExtra = 2
	// MaxStep is the longest interval between two evaluation instants of an alarm: alarms with periods longer
	// than a minute slide their windows by whole minutes, as CloudWatch evaluates them every minute.
	MaxStep = time.Minute
)

// TreatMissingData values.
const (
	MissingDataMissing      = "missing"
	MissingDataBreaching    = "breaching"
	MissingDataNotBreaching = "notBreaching"
	MissingDataIgnore       = "ignore"
)

// evalStep is the distance between two evaluation instants of an alarm with the given period: the period itself
// up to a minute, a minute beyond.
func evalStep(period time.Duration) time.Duration { return min(period, MaxStep) }

// windowEnd is the end of the last complete period an evaluation at now considers: now rounded down to the
// alarm's evaluation step (epoch-aligned).
func windowEnd(now time.Time, period time.Duration) time.Time {
	step := int64(evalStep(period) / time.Second)
	sec := now.Unix()
	q := sec / step
	if sec%step != 0 && sec < 0 {
		q--
	}
	return time.Unix(q*step, 0).UTC()
}

// LowSampleThreshold is the number of samples below which a period is not statistically significant for the
// percentile q (a fraction): 10/(1−q) for q in [0.5, 1), 10/q for q in (0, 0.5), as CloudWatch documents; 0
// (always significant) for p0 and p100, which are the exact extremes.
func LowSampleThreshold(q float64) float64 {
	switch {
	case q >= 0.5 && q < 1:
		return 10 / (1 - q)
	case q > 0 && q < 0.5:
		return 10 / q
	}
	return 0
}

// point is one period of an evaluation range.
type point struct {
	ts          time.Time // period start
	present     bool
	value       float64
	sampleCount float64
	breaching   bool
	lowSample   bool
}

// rule is what the decision needs of a definition.
type rule struct {
	n, m        int  // EvaluationPeriods, DatapointsToAlarm (defaulted)
	mExplicit   bool // DatapointsToAlarm was set: reasons use the "M out of N" form
	treat       string
	ignoreLow   bool // EvaluateLowSampleCountPercentile=ignore on a percentile alarm
	op          string
	threshold   float64
	unit        string
	statistic   string
	extended    string
	periodSec   int64
	evaluatedAt time.Time
	math        bool // a metric-math alarm: its datapoints have no statistic, unit or sample count
}

func ruleOf(d *Definition, now time.Time) rule {
	r := rule{
		n: d.EvaluationPeriods, m: d.DatapointsToAlarm, mExplicit: d.DatapointsToAlarm > 0,
		treat: d.TreatMissingData, op: d.ComparisonOperator, threshold: d.Threshold, unit: d.Unit,
		statistic: d.Statistic, extended: d.ExtendedStatistic, periodSec: int64(d.Period / time.Second),
		evaluatedAt: now, math: len(d.Metrics) > 0,
	}
	if r.m <= 0 {
		r.m = r.n
	}
	if r.treat == "" {
		r.treat = MissingDataMissing
	}
	r.ignoreLow = d.ExtendedStatistic != "" && d.EvaluateLowSampleCountPercentile == "ignore"
	return r
}

// breaches applies the comparison operator.
func breaches(op string, v, threshold float64) bool {
	switch op {
	case "GreaterThanOrEqualToThreshold":
		return v >= threshold
	case "GreaterThanThreshold":
		return v > threshold
	case "LessThanThreshold":
		return v < threshold
	case "LessThanOrEqualToThreshold":
		return v <= threshold
	}
	return false
}

// statValue extracts the alarm's statistic from a datapoint; false when the datapoint cannot provide it (a
// percentile over a statistic set with unknown values).
func statValue(d *Definition, dp *metrics.Datapoint) (float64, bool) {
	stat := d.Statistic
	if d.ExtendedStatistic != "" {
		stat = d.ExtendedStatistic
	}
	if v, ok := dp.Statistic(stat); ok {
		return v, true
	}
	return math.NaN(), false
}

// points lays datapoints onto the r periods that start at start, oldest first, and classifies them.
func points(d *Definition, r rule, start time.Time, nPeriods int, dps []metrics.Datapoint) []point {
	pts := make([]point, nPeriods)
	for i := range pts {
		pts[i].ts = start.Add(time.Duration(i) * d.Period)
	}
	lowThreshold := 0.0
	if r.ignoreLow {
		q, _ := metrics.ParsePercentile(d.ExtendedStatistic)
		lowThreshold = LowSampleThreshold(q)
	}
	for i := range dps {
		k := int(dps[i].Timestamp.Sub(start) / d.Period)
		if k < 0 || k >= nPeriods {
			continue
		}
		v, ok := statValue(d, &dps[i])
		if !ok {
			continue
		}
		p := &pts[k]
		p.present, p.value, p.sampleCount = true, v, dps[i].SampleCount
		p.breaching = breaches(r.op, v, r.threshold)
		p.lowSample = r.ignoreLow && dps[i].SampleCount < lowThreshold
	}
	return pts
}

// mathPoints lays a metric-math alarm's returned series onto the n periods that start at start, oldest first, and
// classifies them.
func mathPoints(r rule, start time.Time, period time.Duration, n int, s metricmath.Series) []point {
	pts := make([]point, n)
	for i := range pts {
		pts[i].ts = start.Add(time.Duration(i) * period)
	}
	step := int64(period / time.Second)
	for i, t := range s.Times {
		k := (t - start.Unix()) / step
		if t < start.Unix() || k >= int64(n) || (t-start.Unix())%step != 0 {
			continue
		}
		p := &pts[k]
		p.present, p.value = true, s.Values[i]
		p.breaching = breaches(r.op, p.value, r.threshold)
	}
	return pts
}

// outcome is the result of one evaluation: a state (empty = keep the current one) and, built only when the
// state changes, CloudWatch's reason texts.
type outcome struct {
	state  string
	render func() (reason, reasonData string)
}

// decide applies CloudWatch's evaluation rules to the evaluation range pts (oldest first, the last n of which
// are the evaluation periods) for an alarm currently in state current:
//
//   - With at least n real datapoints in the range, the n most recent real ones are evaluated and TreatMissingData
//     plays no part: ALARM when at least m breach, OK otherwise.
//   - With none: missing → INSUFFICIENT_DATA, ignore → keep the state, breaching → ALARM, notBreaching → OK.
//   - With some (fewer than n): every real datapoint is evaluated and n−real missing ones are filled in (the
//     most recent missing periods): breaching/notBreaching fill them as breaching/not breaching. missing and ignore
//     do not fill: ALARM when at least m real datapoints breach, or — CloudWatch's "premature alarm" rule — when
//     the oldest breaching datapoint of the last n periods is at least m periods old and everything after it
//     is breaching or missing (and no real datapoint of the range is good; this reproduces every row of
//     CloudWatch's published tables); OK otherwise. Where missing would go to ALARM through that rule, ignore
//     keeps the state.
//   - For percentile alarms with EvaluateLowSampleCountPercentile=ignore, if any evaluated real datapoint has
//     fewer samples than LowSampleThreshold, the state is kept.
func decide(r rule, pts []point, current string) outcome {
	var real []int
	for i := range pts {
		if pts[i].present {
			real = append(real, i)
		}
	}
	lastN := pts[max(0, len(pts)-r.n):]
	switch {
	case len(real) >= r.n:
		chosen := real[len(real)-r.n:]
		if r.ignoreLow && anyLow(pts, chosen) {
			return outcome{}
		}
		b := countBreaching(pts, chosen)
		return r.verdict(pts, chosen, nil, b >= r.m, "")
	case len(real) == 0:
		var fills []int
		for i := len(pts) - r.n; i < len(pts); i++ {
			fills = append(fills, i)
		}
		switch r.treat {
		case MissingDataBreaching:
			return r.verdict(pts, nil, fills, true, "Breaching")
		case MissingDataNotBreaching:
			return r.verdict(pts, nil, fills, false, "NonBreaching")
		case MissingDataIgnore:
			return outcome{}
		default:
			return outcome{state: StateInsufficientData, render: func() (string, string) {
				return "Insufficient Data: " + plural(r.n, "datapoint", "datapoints") + " " + wasWere(r.n) + " unknown.",
					r.reasonData(pts, nil, fills)
			}}
		}
	default:
		if r.ignoreLow && anyLow(pts, real) {
			return outcome{}
		}
		nFill := r.n - len(real)
		var fills []int // the most recent missing periods
		for i := len(pts) - 1; i >= 0 && len(fills) < nFill; i-- {
			if !pts[i].present {
				fills = append([]int{i}, fills...)
			}
		}
		b := countBreaching(pts, real)
		switch r.treat {
		case MissingDataBreaching:
			return r.verdict(pts, real, fills, b+nFill >= r.m, "Breaching")
		case MissingDataNotBreaching:
			return r.verdict(pts, real, fills, b >= r.m, "NonBreaching")
		}
		if b >= r.m {
			return r.verdict(pts, real, nil, true, "")
		}
		if premature(pts, lastN, r.m) {
			if r.treat == MissingDataIgnore {
				return outcome{}
			}
			return r.verdict(pts, real, nil, true, "")
		}
		return r.verdict(pts, real, nil, false, "")
	}
}

// premature reports CloudWatch's rule that an alarm goes to ALARM, even with fewer than m real datapoints, when the
// oldest breaching datapoint among the last n periods is at least m periods old, every more recent period is
// breaching or missing, and the range holds no good datapoint.
func premature(all, lastN []point, m int) bool {
	for i := range all {
		if all[i].present && !all[i].breaching {
			return false
		}
	}
	for i := range lastN {
		if lastN[i].present && lastN[i].breaching {
			return len(lastN)-i >= m // everything after it is breaching or missing: no good point anywhere
		}
	}
	return false
}

func anyLow(pts []point, idx []int) bool {
	for _, i := range idx {
		if pts[i].lowSample {
			return true
		}
	}
	return false
}

func countBreaching(pts []point, idx []int) int {
	n := 0
	for _, i := range idx {
		if pts[i].breaching {
			n++
		}
	}
	return n
}
