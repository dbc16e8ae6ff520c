package alarms

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// pattern turns CloudWatch's documentation notation into an evaluation range (oldest first): "0" a good datapoint,
// "X" a breaching one, "-" a missing one. Threshold 1, GreaterThanOrEqualToThreshold, 5-minute periods.
func pattern(t *testing.T, s string) []point {
	t.Helper()
	base := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	var pts []point
	for i, tok := range strings.Fields(s) {
		p := point{ts: base.Add(time.Duration(i) * 5 * time.Minute)}
		switch tok {
		case "0":
			p.present, p.value, p.sampleCount = true, 0, 1
		case "X":
			p.present, p.value, p.sampleCount, p.breaching = true, 5, 1, true
		case "-":
		default:
			t.Fatalf("bad token %q", tok)
		}
		pts = append(pts, p)
	}
	return pts
}

func testRule(n, m int, treat string) rule {
	return rule{n: n, m: m, treat: treat, op: "GreaterThanOrEqualToThreshold", threshold: 1, statistic: "Sum",
		periodSec: 300, evaluatedAt: time.Date(2026, 11, 26, 10, 25, 0, 0, time.UTC)}
}

const keep = "keep" // the state is retained

// TestDecideMatchesCloudWatchTables replays both tables of CloudWatch's "How alarm state is evaluated when data
// is missing" (evaluation range 5, Evaluation Periods 3), for every TreatMissingData mode.
func TestDecideMatchesCloudWatchTables(t *testing.T) {
	tests := []struct {
		data                                   string
		m                                      int
		missing, ignore, breaching, notBreachi string
	}{
		// Datapoints to Alarm 3 of 3.
		{"0 - X - X", 3, StateOK, StateOK, StateOK, StateOK},
		{"0 - - - -", 3, StateOK, StateOK, StateOK, StateOK},
		{"- - - - -", 3, StateInsufficientData, keep, StateAlarm, StateOK},
		{"0 X X - X", 3, StateAlarm, StateAlarm, StateAlarm, StateAlarm},
		{"- - X - -", 3, StateAlarm, keep, StateAlarm, StateOK},
		// 2 out of 3.
		{"0 - X - X", 2, StateAlarm, StateAlarm, StateAlarm, StateAlarm},
		{"0 0 X 0 X", 2, StateAlarm, StateAlarm, StateAlarm, StateAlarm},
		{"0 - X - -", 2, StateOK, StateOK, StateAlarm, StateOK},
		{"- - - - 0", 2, StateOK, StateOK, StateAlarm, StateOK},
		{"- - - X -", 2, StateAlarm, keep, StateAlarm, StateOK},
		// Beyond the tables.
		{"- - - - X", 3, StateOK, StateOK, StateAlarm, StateOK}, // too recent to be a premature alarm
		{"X X X X 0", 3, StateOK, StateOK, StateOK, StateOK},
		{"X X X 0 X", 1, StateAlarm, StateAlarm, StateAlarm, StateAlarm},
	}
	for _, tt := range tests {
		for _, mode := range []struct{ treat, want string }{
			{MissingDataMissing, tt.missing}, {MissingDataIgnore, tt.ignore},
			{MissingDataBreaching, tt.breaching}, {MissingDataNotBreaching, tt.notBreachi},
		} {
			name := tt.data + " M=" + string(rune('0'+tt.m)) + " " + mode.treat
			t.Run(name, func(t *testing.T) {
				o := decide(testRule(3, tt.m, mode.treat), pattern(t, tt.data), "CURRENT")
				got := o.state
				if got == "" {
					got = keep
				}
				if got != mode.want {
					t.Errorf("state = %s, want %s", got, mode.want)
				}
				if o.state != "" {
					if _, data := o.render(); !json.Valid([]byte(data)) {
						t.Errorf("reason data is not JSON: %s", data)
					}
				}
			})
		}
	}
}

func TestComparisonOperators(t *testing.T) {
	tests := []struct {
		op               string
		below, at, above bool
	}{
		{"GreaterThanOrEqualToThreshold", false, true, true},
		{"GreaterThanThreshold", false, false, true},
		{"LessThanThreshold", true, false, false},
		{"LessThanOrEqualToThreshold", true, true, false},
	}
	for _, tt := range tests {
		for _, c := range []struct {
			v    float64
			want bool
		}{{9.5, tt.below}, {10, tt.at}, {10.5, tt.above}} {
			if got := breaches(tt.op, c.v, 10); got != c.want {
				t.Errorf("%s: %v vs 10 = %v, want %v", tt.op, c.v, got, c.want)
			}
		}
	}
}

func TestReasonTexts(t *testing.T) {
	ts := func(m int) time.Time { return time.Date(2026, 11, 26, 10, m, 0, 0, time.UTC) }
	pt := func(m int, v float64, breaching bool) point {
		return point{ts: ts(m), present: true, value: v, sampleCount: 2, breaching: breaching}
	}
	gte := func(n, m int, explicit bool, treat string) rule {
		r := testRule(n, m, treat)
		r.mExplicit, r.periodSec, r.evaluatedAt = explicit, 60, ts(3).Add(1500*time.Millisecond)
		return r
	}
	tests := []struct {
		name   string
		r      rule
		pts    []point
		state  string
		reason string
		data   string
	}{
		{"M of N alarm", gte(1, 1, true, ""), []point{{ts: ts(0)}, {ts: ts(1)}, pt(2, 3, true)}, StateAlarm,
			"Threshold Crossed: 1 out of the last 1 datapoints [3.0 (26/11/26 10:02:00)] was greater than or equal to the threshold (1.0) (minimum 1 datapoint for OK -> ALARM transition).",
			`{"version":"1.0","queryDate":"2026-11-26T10:03:01.500+0000","startDate":"2026-11-26T10:02:00.000+0000","statistic":"Sum","period":60,"recentDatapoints":[3.0],"threshold":1.0,"evaluatedDatapoints":[{"timestamp":"2026-11-26T10:02:00.000+0000","sampleCount":2.0,"value":3.0}]}`},
		{"M of N ok", gte(1, 1, true, ""), []point{{ts: ts(0)}, pt(1, 3, true), pt(2, 0, false)}, StateOK,
			"Threshold Crossed: 1 out of the last 1 datapoints [0.0 (26/11/26 10:02:00)] was not greater than or equal to the threshold (1.0) (minimum 1 datapoint for ALARM -> OK transition).", ""},
		{"2 of 3 ok", gte(3, 2, true, ""), []point{{ts: ts(0)}, {ts: ts(1)}, pt(2, 0, false), pt(3, 4, true), pt(4, 0.5, false)}, StateOK,
			"Threshold Crossed: 2 out of the last 3 datapoints [0.5 (26/11/26 10:04:00), 0.0 (26/11/26 10:02:00)] were not greater than or equal to the threshold (1.0) (minimum 2 datapoints for ALARM -> OK transition).", ""},
		{"legacy alarm", gte(1, 1, false, ""), []point{{ts: ts(0)}, {ts: ts(1)}, pt(2, 21.5, true)}, StateAlarm,
			"Threshold Crossed: 1 datapoint [21.5 (26/11/26 10:02:00)] was greater than or equal to the threshold (1.0).", ""},
		{"legacy, two datapoints", gte(2, 2, false, ""), []point{{ts: ts(0)}, pt(1, 2, true), pt(2, 3, true)}, StateAlarm,
			"Threshold Crossed: 2 datapoints [3.0 (26/11/26 10:02:00), 2.0 (26/11/26 10:01:00)] were greater than or equal to the threshold (1.0).", ""},
		{"missing treated as breaching", gte(2, 2, false, MissingDataBreaching), []point{{ts: ts(0)}, pt(1, 0, false), {ts: ts(2)}}, StateOK,
			"Threshold Crossed: 1 datapoint [0.0 (26/11/26 10:01:00)] was not greater than or equal to the threshold (1.0) and 1 missing datapoint was treated as [Breaching].", ""},
		{"no data, breaching", gte(2, 2, false, MissingDataBreaching), []point{{ts: ts(0)}, {ts: ts(1)}, {ts: ts(2)}, {ts: ts(3)}}, StateAlarm,
			"Threshold Crossed: no datapoints were received for 2 periods and 2 missing datapoints were treated as [Breaching].",
			`{"version":"1.0","queryDate":"2026-11-26T10:03:01.500+0000","statistic":"Sum","period":60,"recentDatapoints":[],"threshold":1.0,"evaluatedDatapoints":[{"timestamp":"2026-11-26T10:03:00.000+0000"},{"timestamp":"2026-11-26T10:02:00.000+0000"}]}`},
		{"no data, not breaching", gte(1, 1, false, MissingDataNotBreaching), []point{{ts: ts(0)}, {ts: ts(1)}, {ts: ts(2)}}, StateOK,
			"Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as [NonBreaching].", ""},
		{"no data, missing", gte(1, 1, false, MissingDataMissing), []point{{ts: ts(0)}, {ts: ts(1)}, {ts: ts(2)}}, StateInsufficientData,
			"Insufficient Data: 1 datapoint was unknown.", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := decide(tt.r, tt.pts, StateInsufficientData)
			reason, data := o.render()
			if o.state != tt.state || reason != tt.reason {
				t.Errorf("got %s %q\nwant %s %q", o.state, reason, tt.state, tt.reason)
			}
			if tt.data != "" && data != tt.data {
				t.Errorf("reason data\n got %s\nwant %s", data, tt.data)
			}
		})
	}
}

func TestJavaDouble(t *testing.T) {
	for v, want := range map[float64]string{
		0: "0.0", 1: "1.0", 21.5: "21.5", -3: "-3.0", 0.0666851903306472: "0.0666851903306472", 1e7: "1.0E7",
		1.5e-5: "1.5E-5", 123456.789: "123456.789", 1.0166666666666666: "1.0166666666666666",
	} {
		if got := javaDouble(v); got != want {
			t.Errorf("javaDouble(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestLowSampleThreshold(t *testing.T) {
	for q, want := range map[float64]float64{0.99: 1000, 0.5: 20, 0.9: 100, 0.1: 100, 0.25: 40, 1: 0, 0: 0} {
		if got := LowSampleThreshold(q); got < want-1e-9 || got > want+1e-9 {
			t.Errorf("LowSampleThreshold(%v) = %v, want %v", q, got, want)
		}
	}
}

func TestWindowEnd(t *testing.T) {
	now := time.Date(2026, 11, 26, 10, 7, 43, 500_000_000, time.UTC)
	for period, want := range map[time.Duration]time.Time{
		time.Second:      time.Date(2026, 11, 26, 10, 7, 43, 0, time.UTC),
		5 * time.Second:  time.Date(2026, 11, 26, 10, 7, 40, 0, time.UTC),
		10 * time.Second: time.Date(2026, 11, 26, 10, 7, 40, 0, time.UTC),
		30 * time.Second: time.Date(2026, 11, 26, 10, 7, 30, 0, time.UTC),
		time.Minute:      time.Date(2026, 11, 26, 10, 7, 0, 0, time.UTC),
		5 * time.Minute:  time.Date(2026, 11, 26, 10, 7, 0, 0, time.UTC), // slides by the minute
	} {
		if got := windowEnd(now, period); !got.Equal(want) {
			t.Errorf("windowEnd(%v) = %v, want %v", period, got, want)
		}
	}
}
