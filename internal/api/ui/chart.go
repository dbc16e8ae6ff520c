package ui

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/internal/codedeploy"
)

// The chart's drawing area, in SVG user units (the viewBox is chartWidth × chartHeight; the browser scales it).
const (
	chartWidth  = 640
	chartHeight = 250
	plotLeft    = 44
	plotRight   = 624
	plotTop     = 14
	plotBottom  = 214
)

// chart is a deployment's traffic shift drawn as inline SVG: the planned schedule, the weight the deployment
// actually gave the target version over time, and the moments that matter (alarms, a stop, the rollback).
type chart struct {
	Width, Height int
	PlotLeft      int
	PlotRight     int
	PlotTop       int
	PlotBottom    int
	Planned       string // SVG polyline points of the schedule
	Actual        string // SVG polyline points of the target version's weight
	// ActualWeights lists, in order, the distinct weights (percent) the target version was given: "0,10,100".
	ActualWeights string
	// Weight is the target version's weight now, in percent.
	Weight  float64
	Markers []marker
	Ticks   []tick
	YTicks  []tick
}

type marker struct {
	X           float64
	DY          int // the label's offset below the top, so that labels of nearby markers do not overlap
	Label, Kind string
	At          string
}

type tick struct {
	X, Y  float64
	Label string
}

type point struct {
	t time.Time
	w float64 // percent
}

// buildChart draws d at time now. scale is the server's --deploy-time-scale (a configured minute lasts
// 60/scale seconds), which places the planned steps.
func buildChart(d codedeploy.Deployment, scale float64, now time.Time) chart {
	c := chart{Width: chartWidth, Height: chartHeight, PlotLeft: plotLeft, PlotRight: plotRight, PlotTop: plotTop, PlotBottom: plotBottom}
	begin := firstNonZero(d.StartTime, d.CreateTime)
	// The schedule runs from the moment traffic shifting began (after BeforeAllowTraffic), or would begin now.
	shift := time.Time{}
	if ev := d.Event(codedeploy.EventAllowTraffic); ev != nil {
		shift = ev.StartTime
	}
	end := now
	if !d.CompleteTime.IsZero() {
		end = d.CompleteTime
	}
	planFrom := shift
	if planFrom.IsZero() {
		planFrom = end
		if !d.Status.Terminal() && now.After(begin) {
			planFrom = now
		}
	}
	var planned []point
	for _, s := range d.TrafficRouting.Steps() {
		planned = append(planned, point{planFrom.Add(codedeploy.ScaledMinutes(s.OffsetMinutes, scale)), float64(s.Percent)})
	}
	actual := []point{{begin, 0}}
	weight := 0.0
	for _, e := range d.Timeline {
		switch {
		case e.Kind == codedeploy.KindStep && e.Weight != nil:
			weight = math.Round(*e.Weight*1000) / 10
		case e.Kind == codedeploy.KindRollback:
			weight = 0
		default:
			if m, ok := markerOf(e); ok {
				c.Markers = append(c.Markers, m)
			}
			continue
		}
		actual = append(actual, point{e.Time, weight})
		if e.Kind == codedeploy.KindRollback {
			c.Markers = append(c.Markers, marker{Label: "rollback", Kind: "rollback", At: e.Time.UTC().Format(time.RFC3339Nano)})
		}
	}
	c.Weight = weight

	// The time axis spans the deployment from its start to the later of now (or its end) and the plan's last step.
	last := end
	for _, p := range append(planned, actual...) {
		if p.t.After(last) {
			last = p.t
		}
	}
	span := last.Sub(begin)
	if span < time.Second {
		span = time.Second
	}
	span += span / 20
	x := func(t time.Time) float64 {
		f := float64(t.Sub(begin)) / float64(span)
		return round1(plotLeft + math.Max(0, math.Min(1, f))*(plotRight-plotLeft))
	}
	y := func(w float64) float64 { return round1(plotBottom - w/100*(plotBottom-plotTop)) }

	c.Planned = steps(planned, last, x, y)
	c.Actual = steps(append(actual, point{end, weight}), time.Time{}, x, y)
	var distinct []string
	for _, p := range actual {
		s := strconv.FormatFloat(p.w, 'f', -1, 64)
		if len(distinct) == 0 || distinct[len(distinct)-1] != s {
			distinct = append(distinct, s)
		}
	}
	c.ActualWeights = strings.Join(distinct, ",")
	for i := range c.Markers {
		t, _ := time.Parse(time.RFC3339Nano, c.Markers[i].At)
		c.Markers[i].X = x(t)
		c.Markers[i].At = t.Format("15:04:05")
		c.Markers[i].DY = 10 + 13*(i%4)
	}
	for i := 0; i <= 4; i++ {
		t := begin.Add(span * time.Duration(i) / 4)
		c.Ticks = append(c.Ticks, tick{X: x(t), Y: plotBottom + 16, Label: "+" + shortDuration(t.Sub(begin))})
	}
	for _, w := range []float64{0, 50, 100} {
		c.YTicks = append(c.YTicks, tick{X: plotLeft - 6, Y: y(w) + 4, Label: fmt.Sprintf("%g%%", w)})
	}
	return c
}

// markerOf marks the timeline entries the chart shows as vertical lines: alarms going off and stop requests.
func markerOf(e codedeploy.TimelineEntry) (marker, bool) {
	m := marker{At: e.Time.UTC().Format(time.RFC3339Nano)}
	switch {
	case e.Kind == codedeploy.KindAlarm && strings.HasPrefix(e.Detail, "in ALARM"):
		m.Label, m.Kind = "alarm", "alarm"
	case e.Kind == codedeploy.KindStopRequested:
		m.Label, m.Kind = "stop", "stop"
	default:
		return marker{}, false
	}
	return m, true
}

// steps renders points as a step line (each weight holds until the next point), continued to until if it is later.
func steps(ps []point, until time.Time, x func(time.Time) float64, y func(float64) float64) string {
	if len(ps) == 0 {
		return ""
	}
	var b strings.Builder
	add := func(t time.Time, w float64) {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%g,%g", x(t), y(w))
	}
	add(ps[0].t, ps[0].w)
	for i := 1; i < len(ps); i++ {
		add(ps[i].t, ps[i-1].w)
		add(ps[i].t, ps[i].w)
	}
	if lastP := ps[len(ps)-1]; until.After(lastP.t) {
		add(until, lastP.w)
	}
	return b.String()
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }

func firstNonZero(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

// shortDuration prints 0s, 12s, 1m30s, 2h5m.
func shortDuration(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}
