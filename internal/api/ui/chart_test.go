package ui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/codedeploy"
	"github.com/sluice-dev/sluice/internal/lambda"
)

var t0 = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

func weight(w float64) *float64 { return &w }

func canary(status codedeploy.Status, timeline ...codedeploy.TimelineEntry) codedeploy.Deployment {
	d := codedeploy.Deployment{ID: "d-TEST00001", Status: status, CreateTime: t0, StartTime: t0,
		TrafficRouting: codedeploy.TrafficRouting{Type: codedeploy.TimeBasedCanary, Percentage: 10, IntervalMinutes: 5},
		Events:         []codedeploy.LifecycleEvent{{Name: codedeploy.EventAllowTraffic, StartTime: t0.Add(time.Second)}},
		Timeline:       timeline}
	if status.Terminal() {
		d.CompleteTime = timeline[len(timeline)-1].Time
	}
	return d
}

func TestBuildChart(t *testing.T) {
	step := func(at time.Duration, w float64) codedeploy.TimelineEntry {
		return codedeploy.TimelineEntry{Time: t0.Add(at), Kind: codedeploy.KindStep, Weight: weight(w)}
	}
	cases := []struct {
		name        string
		d           codedeploy.Deployment
		now         time.Duration
		weights     string
		weight      float64
		markerKinds []string
	}{
		{name: "not shifted yet", d: canary(codedeploy.StatusInProgress), now: time.Second, weights: "0", weight: 0},
		{name: "at the canary", d: canary(codedeploy.StatusInProgress, step(time.Second, 0.1)), now: 5 * time.Second, weights: "0,10", weight: 10},
		{name: "succeeded", d: canary(codedeploy.StatusSucceeded, step(time.Second, 0.1), step(11*time.Second, 1),
			codedeploy.TimelineEntry{Time: t0.Add(12 * time.Second), Kind: codedeploy.KindSucceeded}), now: 20 * time.Second, weights: "0,10,100", weight: 100},
		{name: "rolled back on an alarm", d: canary(codedeploy.StatusStopped, step(time.Second, 0.1),
			codedeploy.TimelineEntry{Time: t0.Add(3 * time.Second), Kind: codedeploy.KindAlarm, Detail: "in ALARM: errors"},
			codedeploy.TimelineEntry{Time: t0.Add(3 * time.Second), Kind: codedeploy.KindStopped},
			codedeploy.TimelineEntry{Time: t0.Add(3 * time.Second), Kind: codedeploy.KindRollback}),
			now: 4 * time.Second, weights: "0,10,0", weight: 0, markerKinds: []string{"alarm", "rollback"}},
		{name: "alarm readable again is no marker", d: canary(codedeploy.StatusInProgress, step(time.Second, 0.1),
			codedeploy.TimelineEntry{Time: t0.Add(2 * time.Second), Kind: codedeploy.KindAlarm, Detail: "alarm states readable again"},
			codedeploy.TimelineEntry{Time: t0.Add(2 * time.Second), Kind: codedeploy.KindStopRequested, Detail: "stop requested by x"}),
			now: 3 * time.Second, weights: "0,10", weight: 10, markerKinds: []string{"stop"}},
		{name: "a linear step of 30% is 30, not 30.000000000000004", d: canary(codedeploy.StatusInProgress, step(time.Second, 0.1), step(2*time.Second, 0.3)),
			now: 3 * time.Second, weights: "0,10,30", weight: 30},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := buildChart(tc.d, 30, t0.Add(tc.now))
			if c.ActualWeights != tc.weights || c.Weight != tc.weight {
				t.Errorf("weights %q now %v, want %q now %v", c.ActualWeights, c.Weight, tc.weights, tc.weight)
			}
			var kinds []string
			for _, m := range c.Markers {
				kinds = append(kinds, m.Kind)
				if m.X < plotLeft || m.X > plotRight {
					t.Errorf("marker %s at x=%v, outside the plot", m.Kind, m.X)
				}
			}
			if strings.Join(kinds, ",") != strings.Join(tc.markerKinds, ",") {
				t.Errorf("markers %v, want %v", kinds, tc.markerKinds)
			}
			for name, pts := range map[string]string{"planned": c.Planned, "actual": c.Actual} {
				if pts == "" {
					t.Errorf("no %s line", name)
				}
				for _, p := range strings.Fields(pts) {
					var x, y float64
					if _, err := fmtSscanf(p, &x, &y); err != nil || x < plotLeft || x > plotRight || y < plotTop || y > plotBottom {
						t.Errorf("%s point %q outside the plot (%v)", name, p, err)
					}
				}
			}
		})
	}
}

// The planned schedule's 100% step sits at the configured interval, scaled: 5 minutes at scale 30 is 10 s after
// traffic shifting began.
func TestPlannedStepsAreScaled(t *testing.T) {
	d := canary(codedeploy.StatusInProgress)
	c := buildChart(d, 30, t0.Add(time.Second))
	pts := strings.Fields(c.Planned)
	// (start,10%) (10s later,10%) (10s later,100%)
	if len(pts) != 3 {
		t.Fatalf("planned %q", c.Planned)
	}
	var x0, x1, y float64
	fmtSscanf(pts[0], &x0, &y)
	fmtSscanf(pts[2], &x1, &y)
	span := c.Ticks[len(c.Ticks)-1].X - c.Ticks[0].X
	// The axis spans 11 s (the schedule's end) plus 5%: the step is 10/11.55 of the width after the start.
	if got, want := (x1-x0)/span, 10.0/11.55; got < want-0.01 || got > want+0.01 {
		t.Errorf("the 100%% step is at %.3f of the axis, want %.3f", got, want)
	}
	if y != plotTop {
		t.Errorf("the last planned step is at y=%v, want 100%% (%v)", y, float64(plotTop))
	}
}

func TestSplitOf(t *testing.T) {
	cases := []struct {
		alias lambda.Alias
		text  string
	}{
		{lambda.Alias{Name: "live", FunctionVersion: "1"}, "version 1 100%"},
		{lambda.Alias{Name: "live", FunctionVersion: "1", Routing: &lambda.Routing{AdditionalVersionWeights: map[string]float64{"2": 0.1}}}, "version 1 90%, version 2 10%"},
		{lambda.Alias{Name: "live", FunctionVersion: "1", Routing: &lambda.Routing{AdditionalVersionWeights: map[string]float64{"2": 0.03}}}, "version 1 97%, version 2 3%"},
		{lambda.Alias{Name: "live", FunctionVersion: "4", Routing: &lambda.Routing{AdditionalVersionWeights: map[string]float64{"5": 0.333}}}, "version 4 66.7%, version 5 33.3%"},
	}
	for _, tc := range cases {
		row := splitOf(tc.alias)
		if row.Text != tc.text {
			t.Errorf("split %q, want %q", row.Text, tc.text)
		}
		total := 0.0
		for i, s := range row.Shares {
			if i > 0 && s.X != row.Shares[i-1].X+row.Shares[i-1].W {
				t.Errorf("%q: segments do not abut: %+v", tc.text, row.Shares)
			}
			total += s.W
		}
		if total < 99.95 || total > 100.05 {
			t.Errorf("%q: the bar is %v%% wide", tc.text, total)
		}
	}
}

func fmtSscanf(p string, x, y *float64) (int, error) { return fmt.Sscanf(p, "%g,%g", x, y) }
