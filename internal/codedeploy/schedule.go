package codedeploy

import (
	"math"
	"time"
)

// Step is one traffic increment of a schedule: at Offset configured minutes after traffic shifting started, the
// target version receives Percent % of the alias's traffic.
type Step struct {
	OffsetMinutes int `json:"offsetMinutes"`
	Percent       int `json:"percent"`
}

// Weight is the step's target-version weight as Lambda's AdditionalVersionWeights carries it (0.1, 0.2, …: an
// integer percentage divided by 100, so the float is the one nearest the decimal — never 0.30000000000000004).
func (s Step) Weight() float64 { return PercentWeight(s.Percent) }

// PercentWeight converts an integer percentage to a weight in 0..1.
func PercentWeight(p int) float64 { return float64(p) / 100 }

// Steps lists r's increments in order; the last one is always 100 %.
//
//   - AllAtOnce: 100 % at minute 0.
//   - Canary p % / i min: p % at 0, 100 % at i ("two increments").
//   - Linear p % / i min: p % at 0, then p % more every i minutes, the last increment capped at 100 %. There are
//     ⌈100/p⌉ increments, so 100 % is reached after (⌈100/p⌉−1)·i minutes: Linear10PercentEvery1Minute is
//     10 %, 20 %, … 90 % at minutes 0…8 and 100 % at minute 9. CodeDeploy documents a linear configuration as
//     "equal increments with an equal number of minutes between each increment", and a recorded CodeDeploy
//     linear shift (10 % every minute) reached 100 % about nine minutes after its first increment.
func (r TrafficRouting) Steps() []Step {
	switch r.Type {
	case TimeBasedCanary:
		if r.Percentage > 0 && r.Percentage < 100 {
			return []Step{{0, r.Percentage}, {r.IntervalMinutes, 100}}
		}
	case TimeBasedLinear:
		if r.Percentage > 0 && r.Percentage < 100 {
			n := (100 + r.Percentage - 1) / r.Percentage
			steps := make([]Step, n)
			for k := range n {
				steps[k] = Step{OffsetMinutes: k * r.IntervalMinutes, Percent: min(100, (k+1)*r.Percentage)}
			}
			return steps
		}
	}
	return []Step{{0, 100}}
}

// TotalMinutes is the configured time from the first increment to 100 %.
func (r TrafficRouting) TotalMinutes() int {
	steps := r.Steps()
	return steps[len(steps)-1].OffsetMinutes
}

// TotalDuration is TotalMinutes at the given time scale.
func (r TrafficRouting) TotalDuration(scale float64) time.Duration {
	return ScaledMinutes(r.TotalMinutes(), scale)
}

// ScaledMinutes is how long the given number of configured minutes lasts at the time scale: one minute lasts
// 60/scale seconds, so scale 1 is real time and scale 60 turns a minute into a second. A scale that is not a
// positive finite number means 1.
func ScaledMinutes(minutes int, scale float64) time.Duration {
	scale = normalScale(scale)
	return time.Duration(math.Round(float64(minutes) * float64(time.Minute) / scale))
}

func normalScale(scale float64) float64 {
	if !(scale > 0) || math.IsInf(scale, 0) {
		return 1
	}
	return scale
}

// Progress is where a schedule stands at a moment.
type Progress struct {
	Step     int       // index in Steps of the increment in effect
	Percent  int       // target version's share of traffic, in %
	Weight   float64   // the same as a weight in 0..1
	Complete bool      // the last increment (100 %) is in effect
	NextAt   time.Time // when the next increment is due; zero once Complete
}

// ProgressAt is the schedule's state at now for a shift that started at started. Increment k is in effect from
// started + ScaledMinutes(offset_k, scale) on (inclusive); before started, the first increment is (shifting has
// begun by definition once it has a start time).
func (r TrafficRouting) ProgressAt(started, now time.Time, scale float64) Progress {
	steps := r.Steps()
	k := 0
	for k+1 < len(steps) && !now.Before(started.Add(ScaledMinutes(steps[k+1].OffsetMinutes, scale))) {
		k++
	}
	p := Progress{Step: k, Percent: steps[k].Percent, Weight: steps[k].Weight(), Complete: k == len(steps)-1}
	if !p.Complete {
		p.NextAt = started.Add(ScaledMinutes(steps[k+1].OffsetMinutes, scale))
	}
	return p
}
