package metrics_test

import (
	"testing"

	"github.com/sluice-dev/sluice/internal/metrics"
)

func TestDatapointStatistic(t *testing.T) {
	dp := metrics.Datapoint{SampleCount: 4, Sum: 10, Minimum: 1, Maximum: 4, Percentiles: map[string]float64{"p99": 3.9}}
	tests := []struct {
		stat string
		want float64
		ok   bool
	}{
		{"SampleCount", 4, true},
		{"Average", 2.5, true},
		{"Sum", 10, true},
		{"Minimum", 1, true},
		{"Maximum", 4, true},
		{"p99", 3.9, true},
		{"p50", 0, false}, // not asked for
		{"average", 0, false},
	}
	for _, tt := range tests {
		got, ok := dp.Statistic(tt.stat)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Statistic(%q) = %v, %v; want %v, %v", tt.stat, got, ok, tt.want, tt.ok)
		}
	}
	for _, s := range metrics.StandardStatistics {
		if !metrics.IsStandardStatistic(s) {
			t.Errorf("IsStandardStatistic(%q) = false", s)
		}
		if _, ok := dp.Statistic(s); !ok {
			t.Errorf("a datapoint has no %s", s)
		}
	}
	if metrics.IsStandardStatistic("p99") {
		t.Error("IsStandardStatistic(p99) = true")
	}
}
