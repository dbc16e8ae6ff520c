package codedeploy

import (
	"reflect"
	"testing"
	"time"
)

func TestPredefinedSchedules(t *testing.T) {
	tests := []struct {
		name    string
		steps   []Step
		total   time.Duration // real time
		total60 time.Duration // at scale 60
	}{
		{LambdaAllAtOnce, []Step{{0, 100}}, 0, 0},
		{LambdaCanary10Percent5Minutes, []Step{{0, 10}, {5, 100}}, 5 * time.Minute, 5 * time.Second},
		{LambdaCanary10Percent10Minutes, []Step{{0, 10}, {10, 100}}, 10 * time.Minute, 10 * time.Second},
		{LambdaCanary10Percent15Minutes, []Step{{0, 10}, {15, 100}}, 15 * time.Minute, 15 * time.Second},
		{LambdaCanary10Percent30Minutes, []Step{{0, 10}, {30, 100}}, 30 * time.Minute, 30 * time.Second},
		{LambdaLinear10PercentEvery1Minute, linear10(1), 9 * time.Minute, 9 * time.Second},
		{LambdaLinear10PercentEvery2Minutes, linear10(2), 18 * time.Minute, 18 * time.Second},
		{LambdaLinear10PercentEvery3Minutes, linear10(3), 27 * time.Minute, 27 * time.Second},
		{LambdaLinear10PercentEvery10Minutes, linear10(10), 90 * time.Minute, 90 * time.Second},
	}
	if len(tests) != len(PredefinedConfigs()) {
		t.Fatalf("%d predefined configs", len(PredefinedConfigs()))
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, ok := PredefinedConfig(tc.name)
			if !ok {
				t.Fatal("not predefined")
			}
			r := c.TrafficRouting
			if got := r.Steps(); !reflect.DeepEqual(got, tc.steps) {
				t.Fatalf("steps %v, want %v", got, tc.steps)
			}
			if got := r.TotalDuration(1); got != tc.total {
				t.Fatalf("total %s, want %s", got, tc.total)
			}
			if got := r.TotalDuration(60); got != tc.total60 {
				t.Fatalf("total at scale 60 %s, want %s", got, tc.total60)
			}
			// Walk the boundaries: just before each step the previous weight holds, at the step the new one.
			for scale, unit := range map[float64]time.Duration{1: time.Minute, 60: time.Second} {
				for k, st := range tc.steps {
					at := t0.Add(time.Duration(st.OffsetMinutes) * unit)
					p := r.ProgressAt(t0, at, scale)
					if p.Step != k || p.Percent != st.Percent || p.Weight != st.Weight() || p.Complete != (k == len(tc.steps)-1) {
						t.Fatalf("scale %v at %s: %+v", scale, at.Sub(t0), p)
					}
					if !p.Complete && !p.NextAt.Equal(t0.Add(time.Duration(tc.steps[k+1].OffsetMinutes)*unit)) {
						t.Fatalf("next at %s", p.NextAt.Sub(t0))
					}
					if k > 0 {
						before := r.ProgressAt(t0, at.Add(-time.Nanosecond), scale)
						if before.Step != k-1 || before.NextAt != at {
							t.Fatalf("scale %v just before step %d: %+v", scale, k, before)
						}
					}
				}
			}
			end := r.ProgressAt(t0, t0.Add(24*time.Hour), 1)
			if !end.Complete || end.Weight != 1 || !end.NextAt.IsZero() {
				t.Fatalf("end %+v", end)
			}
		})
	}
}

func linear10(interval int) []Step {
	var s []Step
	for k := range 10 {
		s = append(s, Step{k * interval, (k + 1) * 10})
	}
	return s
}

func TestCustomSchedules(t *testing.T) {
	tests := []struct {
		r     TrafficRouting
		steps []Step
	}{
		{TrafficRouting{TimeBasedCanary, 25, 45}, []Step{{0, 25}, {45, 100}}},
		{TrafficRouting{TimeBasedCanary, 1, 1}, []Step{{0, 1}, {1, 100}}},
		{TrafficRouting{TimeBasedCanary, 99, 2880}, []Step{{0, 99}, {2880, 100}}},
		{TrafficRouting{TimeBasedLinear, 33, 5}, []Step{{0, 33}, {5, 66}, {10, 99}, {15, 100}}},
		{TrafficRouting{TimeBasedLinear, 30, 2}, []Step{{0, 30}, {2, 60}, {4, 90}, {6, 100}}},
		{TrafficRouting{TimeBasedLinear, 50, 7}, []Step{{0, 50}, {7, 100}}},
		{TrafficRouting{TimeBasedLinear, 99, 1}, []Step{{0, 99}, {1, 100}}},
		{TrafficRouting{TimeBasedLinear, 40, 3}, []Step{{0, 40}, {3, 80}, {6, 100}}},
	}
	for _, tc := range tests {
		if got := tc.r.Steps(); !reflect.DeepEqual(got, tc.steps) {
			t.Errorf("%+v: steps %v, want %v", tc.r, got, tc.steps)
		}
		if err := ValidateTrafficRouting(tc.r); err != nil {
			t.Errorf("%+v: %v", tc.r, err)
		}
	}
	one := TrafficRouting{TimeBasedLinear, 1, 28}.Steps()
	if len(one) != 100 || one[99] != (Step{99 * 28, 100}) || one[41].Weight() != 0.42 {
		t.Fatalf("1%% linear: %d steps, last %v", len(one), one[len(one)-1])
	}
}

func TestWeightsAreExactDecimals(t *testing.T) {
	want := []float64{0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1}
	var got []float64
	for _, s := range linear10(1) {
		got = append(got, s.Weight())
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%v", got)
	}
	for p := 0; p <= 100; p++ {
		if w := PercentWeight(p); w*100 != float64(p) && w != float64(p)/100 {
			t.Fatalf("%d%% -> %v", p, w)
		}
	}
	if PercentWeight(30) != 0.3 || PercentWeight(7) != 0.07 {
		t.Fatal("float noise")
	}
}

func TestScaledMinutes(t *testing.T) {
	for _, tc := range []struct {
		min   int
		scale float64
		want  time.Duration
	}{
		{1, 1, time.Minute}, {1, 60, time.Second}, {5, 60, 5 * time.Second}, {1, 3600, 16666667 * time.Nanosecond},
		{1, 0, time.Minute}, {1, -2, time.Minute}, {3, 0.5, 6 * time.Minute}, {10, 600, time.Second},
	} {
		if got := ScaledMinutes(tc.min, tc.scale); got != tc.want {
			t.Errorf("ScaledMinutes(%d, %v) = %s, want %s", tc.min, tc.scale, got, tc.want)
		}
	}
}

func TestProgressBeforeStart(t *testing.T) {
	r := TrafficRouting{TimeBasedCanary, 10, 5}
	p := r.ProgressAt(t0, t0.Add(-time.Hour), 1)
	if p.Step != 0 || p.Weight != 0.1 || !p.NextAt.Equal(t0.Add(5*time.Minute)) {
		t.Fatalf("%+v", p)
	}
}
