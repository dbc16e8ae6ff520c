package progress

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCountdown(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{time.Hour + 2*time.Minute, "1h2m"},
		{time.Hour + 2*time.Minute + 59*time.Second, "1h2m"},
		{time.Hour, "1h0m"},
		{3*time.Minute + 12*time.Second, "3m12s"},
		{3*time.Minute + 11*time.Second + 100*time.Millisecond, "3m12s"}, // rounds up
		{59*time.Second + 500*time.Millisecond, "1m0s"},
		{9 * time.Second, "9s"},
		{8*time.Second + time.Millisecond, "9s"},
		{time.Millisecond, "1s"},
		{0, "now"},
		{-5 * time.Second, "now"},
	}
	for _, tt := range tests {
		if got := countdown(tt.d); got != tt.want {
			t.Errorf("countdown(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestPercent(t *testing.T) {
	tests := []struct {
		w    float64
		want string
	}{
		{0, "0%"},
		{0.1, "10%"},
		{0.333, "33.3%"},
		{1.0 / 3, "33.3%"},
		{0.005, "0.5%"},
		{0.9999, "100%"},
		{1, "100%"},
		{1.5, "100%"},
		{-0.1, "0%"},
		{math.NaN(), "0%"},
	}
	for _, tt := range tests {
		if got := percent(tt.w); got != tt.want {
			t.Errorf("percent(%v) = %q, want %q", tt.w, got, tt.want)
		}
	}
}

func TestBar(t *testing.T) {
	tests := []struct {
		w      float64
		cells  int
		filled int
	}{
		{0, 28, 0},
		{0.1, 28, 3},
		{0.333, 28, 9},
		{1, 28, 28},
		{0, 30, 0},
		{0.1, 30, 3},
		{0.333, 30, 10},
		{1, 30, 30},
		{0.001, 30, 1},  // some traffic never looks like none
		{0.995, 30, 29}, // not done never looks done
		{2, 10, 10},
	}
	for _, tt := range tests {
		l := bar(tt.w, tt.cells, cyan)
		text := l.render(false)
		if got := strings.Count(text, "█"); got != tt.filled {
			t.Errorf("bar(%v, %d) = %s: %d filled, want %d", tt.w, tt.cells, text, got, tt.filled)
		}
		if got := l.width(); got != tt.cells+2 {
			t.Errorf("bar(%v, %d) is %d wide, want %d", tt.w, tt.cells, got, tt.cells+2)
		}
	}
}

func TestFormatHelpers(t *testing.T) {
	tests := []struct {
		name, got, want string
	}{
		{"Thousands0", thousands(0), "0"},
		{"Thousands999", thousands(999), "999"},
		{"Thousands1204", thousands(1204), "1,204"},
		{"ThousandsMillions", thousands(1234567), "1,234,567"},
		{"ThousandsNegative", thousands(-1234), "-1,234"},
		{"BlastOneError", blastRadius(Function{NewInvocations: 10, NewErrors: 1}), "10 req, 1 error"},
		{"Version", version("4"), "v4"},
		{"VersionLatest", version("$LATEST"), "$LATEST"},
		{"Versions", versions(Function{FromVersion: "3", ToVersion: "4"}), "v3 → v4"},
		{"VersionsFirstDeploy", versions(Function{ToVersion: "1"}), "v1"},
		{"ConfigPredefined", shortConfig("CodeDeployDefault.LambdaCanary10Percent5Minutes"), "Canary10Percent5Minutes"},
		{"ConfigCustom", shortConfig("LambdaSlowRollout"), "LambdaSlowRollout"},
		{"LabelNoAlias", label(Function{Name: "orders"}), "orders"},
		{"CleanControls", clean("line1\nline2\x1b[31m\t"), "line1 line2 [31m "},
		{"HookPre", hookLabel("BeforeAllowTraffic"), "pre"},
		{"HookOther", hookLabel("Install"), "Install"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}

func TestWrap(t *testing.T) {
	tests := []struct {
		text  string
		limit int
		want  []string
	}{
		{"one two three", 20, []string{"one two three"}},
		{"one two three", 7, []string{"one two", "three"}},
		{"  spaced   out  ", 20, []string{"spaced out"}},
		{"abcdefghij xy", 4, []string{"abcd", "efgh", "ij", "xy"}},
		{"", 10, nil},
	}
	for _, tt := range tests {
		if got := wrap(tt.text, tt.limit); !slices.Equal(got, tt.want) {
			t.Errorf("wrap(%q, %d) = %q, want %q", tt.text, tt.limit, got, tt.want)
		}
	}
}

func TestIsTerminal(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if IsTerminal(f) || IsTerminal(nil) {
		t.Error("IsTerminal is true for a regular file or nil")
	}
	if w := TerminalWidth(f); w != 0 {
		t.Errorf("TerminalWidth of a file = %d, want 0", w)
	}
}
