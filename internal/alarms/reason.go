package alarms

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Texts of CloudWatch's state reasons.
const (
	reasonCreated = "Unchecked: Initial alarm creation"
)

var opPhrases = map[string]string{
	"GreaterThanOrEqualToThreshold": "greater than or equal to",
	"GreaterThanThreshold":          "greater than",
	"LessThanThreshold":             "less than",
	"LessThanOrEqualToThreshold":    "less than or equal to",
}

// verdict builds the outcome of a threshold evaluation. real are the evaluated real datapoints, fills the missing
// periods filled in as fillAs ("Breaching" or "NonBreaching"; empty when missing data was not filled). The reason
// follows CloudWatch's two forms: "Threshold Crossed: 1 datapoint [3.0 (26/11/26 10:00:00)] was greater than the
// threshold (1.0)." for alarms without DatapointsToAlarm, and "Threshold Crossed: 1 out of the last 1 datapoints
// [3.0 (26/11/26 10:00:00)] was greater than or equal to the threshold (1.0) (minimum 1 datapoint for OK -> ALARM
// transition)." for M-out-of-N alarms. The listed datapoints (newest first) are those that support the new state:
// the breaching ones for ALARM, the others for OK.
func (r rule) verdict(pts []point, real, fills []int, alarm bool, fillAs string) outcome {
	o := outcome{state: StateOK}
	if alarm {
		o.state = StateAlarm
	}
	o.render = func() (string, string) {
		return r.thresholdReason(pts, real, fills, alarm, fillAs), r.reasonData(pts, real, fills)
	}
	return o
}

func (r rule) thresholdReason(pts []point, real, fills []int, alarm bool, fillAs string) string {
	fillPhrase := ""
	if len(fills) > 0 && fillAs != "" {
		fillPhrase = plural(len(fills), "missing datapoint", "missing datapoints") + " " + wasWere(len(fills)) +
			" treated as [" + fillAs + "]"
	}
	var b strings.Builder
	b.WriteString("Threshold Crossed: ")
	if len(real) == 0 {
		b.WriteString("no datapoints were received for " + plural(len(fills), "period", "periods"))
		if fillPhrase != "" {
			b.WriteString(" and " + fillPhrase)
		}
		b.WriteString(".")
		return b.String()
	}
	breachingListed := alarm
	listed := listOf(pts, real, breachingListed)
	if len(listed) == 0 { // e.g. OK because too few real datapoints breach: say which did
		breachingListed = !breachingListed
		listed = listOf(pts, real, breachingListed)
	}
	k := len(listed)
	if r.mExplicit {
		b.WriteString(strconv.Itoa(k) + " out of the last " + strconv.Itoa(r.n) + " datapoints")
	} else {
		b.WriteString(plural(k, "datapoint", "datapoints"))
	}
	b.WriteString(" [")
	for i, idx := range listed {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(javaDouble(pts[idx].value) + " (" + pts[idx].ts.UTC().Format("02/01/06 15:04:05") + ")")
	}
	b.WriteString("] " + wasWere(k) + " ")
	if !breachingListed {
		b.WriteString("not ")
	}
	b.WriteString(opPhrases[r.op] + " the threshold (" + javaDouble(r.threshold) + ")")
	if fillPhrase != "" {
		b.WriteString(" and " + fillPhrase)
	}
	if r.mExplicit {
		if breachingListed {
			b.WriteString(" (minimum " + plural(r.m, "datapoint", "datapoints") + " for OK -> ALARM transition)")
		} else {
			b.WriteString(" (minimum " + plural(r.n-r.m+1, "datapoint", "datapoints") + " for ALARM -> OK transition)")
		}
	}
	b.WriteString(".")
	return b.String()
}

// listOf returns, newest first, the indexes of the real datapoints that breach (or not).
func listOf(pts []point, real []int, breaching bool) []int {
	var out []int
	for i := len(real) - 1; i >= 0; i-- {
		if pts[real[i]].breaching == breaching {
			out = append(out, real[i])
		}
	}
	return out
}

// reasonData is CloudWatch's StateReasonData JSON: {"version":"1.0","queryDate":…,"startDate":…,"unit":…,
// "statistic":…,"period":…,"recentDatapoints":[…],"threshold":…,"evaluatedDatapoints":[…]}. recentDatapoints are
// the evaluated values oldest first; evaluatedDatapoints list the evaluated periods newest first, missing ones
// with their timestamp only; startDate (the oldest evaluated real datapoint) is absent when there is none.
func (r rule) reasonData(pts []point, real, fills []int) string {
	var b strings.Builder
	b.WriteString(`{"version":"1.0","queryDate":` + quote(awsTime(r.evaluatedAt)))
	if len(real) > 0 {
		b.WriteString(`,"startDate":` + quote(awsTime(pts[real[0]].ts)))
	}
	if r.unit != "" {
		b.WriteString(`,"unit":` + quote(r.unit))
	}
	switch {
	case r.math: // a metric-math alarm's datapoints are its expression's values: no statistic
	case r.extended != "":
		b.WriteString(`,"extendedStatistic":` + quote(r.extended))
	default:
		b.WriteString(`,"statistic":` + quote(r.statistic))
	}
	b.WriteString(`,"period":` + strconv.FormatInt(r.periodSec, 10) + `,"recentDatapoints":[`)
	for i, idx := range real {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(javaDouble(pts[idx].value))
	}
	b.WriteString(`],"threshold":` + javaDouble(r.threshold) + `,"evaluatedDatapoints":[`)
	evaluated := append(append([]int(nil), real...), fills...)
	slices.Sort(evaluated)
	slices.Reverse(evaluated) // newest first
	for i, idx := range evaluated {
		if i > 0 {
			b.WriteByte(',')
		}
		p := pts[idx]
		b.WriteString(`{"timestamp":` + quote(awsTime(p.ts)))
		switch {
		case p.present && r.math:
			b.WriteString(`,"value":` + javaDouble(p.value))
		case p.present:
			b.WriteString(`,"sampleCount":` + javaDouble(p.sampleCount) + `,"value":` + javaDouble(p.value))
		}
		b.WriteByte('}')
	}
	b.WriteString("]}")
	return b.String()
}

// awsTime is CloudWatch's timestamp format inside JSON documents: 2024-09-19T06:01:18.043+0000.
func awsTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000-0700") }

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// javaDouble formats like Java's Double.toString, which CloudWatch's texts use: 1.0, 21.5, 0.0666851903306472,
// 1.0E7, 1.0E-4.
func javaDouble(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "Infinity"
	case math.IsInf(v, -1):
		return "-Infinity"
	case v == 0:
		if math.Signbit(v) {
			return "-0.0"
		}
		return "0.0"
	}
	if a := math.Abs(v); a >= 1e-3 && a < 1e7 {
		s := strconv.FormatFloat(v, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	s := strconv.FormatFloat(v, 'E', -1, 64) // 1E+07, 1.5E-05
	mant, exp, _ := strings.Cut(s, "E")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	e, _ := strconv.Atoi(exp)
	return mant + "E" + strconv.Itoa(e)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

func wasWere(n int) string {
	if n == 1 {
		return "was"
	}
	return "were"
}
