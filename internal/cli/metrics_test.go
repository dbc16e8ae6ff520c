package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestSinceDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"30s": 30 * time.Second, "15m": 15 * time.Minute, "1h30m": 90 * time.Minute, "1d": 24 * time.Hour, " 2d ": 48 * time.Hour,
		"1w": 7 * 24 * time.Hour,
	} {
		if got, err := sinceDuration(in); err != nil || got != want {
			t.Errorf("sinceDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "d", "xd", "-5m", "-1d", "1dw", "yesterday", "all"} {
		if _, err := sinceDuration(bad); err == nil {
			t.Errorf("sinceDuration(%q) succeeded", bad)
		}
	}
}

// TestMetricsSinceTakesDays: `sluice metrics --since 1d` is accepted as `sluice logs --since 1d` is; it gets as far
// as looking for credentials.
func TestMetricsSinceTakesDays(t *testing.T) {
	noAWSEnvironment(t)
	for _, since := range []string{"1d", "2h"} {
		var stdout, stderr bytes.Buffer
		Execute(t.Context(), []string{"metrics", "orders", "--since", since, "--data-dir", t.TempDir()}, &stdout, &stderr)
		if !strings.HasPrefix(stderr.String(), "sluice: no credentials") {
			t.Errorf("sluice metrics --since %s: %s", since, stderr.String())
		}
	}
}

func TestPrintMinutes(t *testing.T) {
	minute := time.Date(2024, 5, 6, 7, 8, 0, 0, time.Local)
	for _, tc := range []struct {
		name     string
		rows     map[time.Time]*minuteRow
		want     []string
		wantNone []string
	}{
		{"no data", nil, []string{"orders:live — AWS/Lambda, per minute, last 1d\n", "No invocations in this window."}, []string{"MINUTE", "INVOCATIONS"}},
		{"one minute", map[time.Time]*minuteRow{minute: {invocations: 8, errors: 1, durationAvg: 12.5, concurrency: 2}},
			[]string{"MINUTE", "07:08", "12.50"}, []string{"No invocations"}},
	} {
		var out bytes.Buffer
		printMinutes(&out, "orders:live", "1d", tc.rows)
		for _, want := range tc.want {
			if !strings.Contains(out.String(), want) {
				t.Errorf("%s: output lacks %q:\n%s", tc.name, want, out.String())
			}
		}
		for _, unwanted := range tc.wantNone {
			if strings.Contains(out.String(), unwanted) {
				t.Errorf("%s: output has %q:\n%s", tc.name, unwanted, out.String())
			}
		}
	}
}
