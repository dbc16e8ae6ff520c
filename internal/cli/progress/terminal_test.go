package progress

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var t0 = time.Date(2026, 11, 26, 12, 1, 51, 0, time.UTC)

// canary is orders:live ten percent into a canary deployment.
func canary() Function {
	return Function{
		Name: "orders", Alias: "live", FromVersion: "3", ToVersion: "4", DeploymentID: "d-ABCDEF123",
		Status: "InProgress", Config: "CodeDeployDefault.LambdaCanary10Percent5Minutes",
		NewWeight: 0.1, Step: "canary at 10%", NextShiftAt: t0.Add(3*time.Minute + 12*time.Second),
		Alarms:         []Alarm{{Name: "OrdersErrorsAlarm", State: "OK"}, {Name: "OrdersLatencyP99Alarm", State: "OK"}},
		Hooks:          []Hook{{Event: "BeforeAllowTraffic", Function: "orders-pre", Status: "Succeeded"}, {Event: "AfterAllowTraffic", Function: "orders-post", Status: "Pending"}},
		NewInvocations: 1204,
	}
}

var (
	sgrRE         = regexp.MustCompile(`\x1b\[[0-9;]*m`)
	cursorUpRE    = regexp.MustCompile(`^\r\x1b\[(\d+)A`)
	anyCursorUpRE = regexp.MustCompile(`\x1b\[\d*A`)
)

// screenLines returns the lines a redraw wrote, control sequences removed.
func screenLines(out string) []string {
	out = cursorUpRE.ReplaceAllString(out, "")
	out = strings.NewReplacer("\x1b[2K", "", "\x1b[J", "").Replace(sgrRE.ReplaceAllString(out, ""))
	return strings.Split(strings.TrimSuffix(out, "\n"), "\n")
}

// TestTerminalHookProblems: a hook that cannot run or report says so under the block, in full, with the way out
// while the deployment still waits; once the deployment is over the way out is gone.
func TestTerminalHookProblems(t *testing.T) {
	stuck := canary()
	stuck.Hooks = []Hook{{Event: "BeforeAllowTraffic", Function: "orders-pre", Status: "InProgress",
		Problems: []string{"hook orders-pre invocation failed: Runtime.ImportModuleError: No module named 'boto3' — waiting for its status until 2026-11-26T13:01:51Z"}}}
	ended := stuck
	ended.Status, ended.NewWeight, ended.Step, ended.NextShiftAt = "Failed", 0, "", time.Time{}
	for _, tc := range []struct {
		name string
		f    Function
		want []string
	}{
		{"Waiting", stuck, []string{
			"  hook orders-pre invocation failed: Runtime.ImportModuleError: No module named 'boto3' — waiting for its status until",
			"  2026-11-26T13:01:51Z",
			"  to give up now: sluice rollback orders --alias live",
		}},
		{"Ended", ended, []string{
			"  hook orders-pre invocation failed: Runtime.ImportModuleError: No module named 'boto3' — waiting for its status until",
			"  2026-11-26T13:01:51Z",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lines := hookProblemLines(tc.f, 120)
			got := make([]string, len(lines))
			for i, l := range lines {
				got[i] = sgrRE.ReplaceAllString(l.render(false), "")
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestTerminalGolden(t *testing.T) {
	failed := canary()
	failed.Status, failed.NewWeight, failed.Step, failed.NextShiftAt = "Stopped", 0, "rolled back", time.Time{}
	failed.Alarms[0].State, failed.NewErrors = "ALARM", 37
	failed.Hooks[1].Status = "Skipped"
	failed.Message = "One or more alarms have been activated according to the Amazon CloudWatch metrics you selected, and the affected deployments have been stopped. Activated alarms: <OrdersErrorsAlarm>"
	first := Function{Name: "billing", ToVersion: "1", Status: "Succeeded", Config: "CodeDeployDefault.LambdaAllAtOnce", NewWeight: 1}

	tests := []struct {
		name  string
		width int
		final bool
		s     Snapshot
		want  []string
	}{
		{"Canary", 120, false, Snapshot{Stack: "orders-app", Functions: []Function{canary()}, Now: t0}, []string{
			"stack orders-app",
			"orders:live  v3 → v4  Canary10Percent5Minutes  InProgress",
			"  [███░░░░░░░░░░░░░░░░░░░░░░░░░]  10% → v4  canary at 10%  next shift in 3m12s",
			"  alarms: OrdersErrorsAlarm OK · OrdersLatencyP99Alarm OK   hooks: pre ✓ post …   blast radius: 1,204 req, 0 errors",
		}},
		{"CanaryAt80", 80, false, Snapshot{Functions: []Function{canary()}, Now: t0}, []string{
			"orders:live  v3 → v4  Canary10Percent5Minutes  InProgress",
			"  [███░░░░░░░░░░░░░░░░░░░░░░░░░]  10% → v4  canary at 10%  next shift in 3m12s",
			"  alarms: OrdersErrorsAlarm OK · OrdersLatencyP99Alarm OK   hooks: pre ✓ post …",
			"  blast radius: 1,204 req, 0 errors",
		}},
		{"StoppedLive", 80, false, Snapshot{Functions: []Function{failed, first}, Now: t0}, []string{
			"orders:live  v3 → v4  Canary10Percent5Minutes  Stopped",
			"  [░░░░░░░░░░░░░░░░░░░░░░░░░░░░]  0% → v4  rolled back",
			"  alarms: OrdersErrorsAlarm ALARM · OrdersLatencyP99Alarm OK",
			"  hooks: pre ✓ post –   blast radius: 1,204 req, 37 errors",
			"  One or more alarms have been activated according to the Amazon CloudWatch",
			"  metrics you selected, and the affected deployments have been stopped. …",
			"billing  v1  AllAtOnce  Succeeded",
			"  [████████████████████████████]  100% → v1",
			"  blast radius: 0 req, 0 errors",
		}},
		{"StoppedFinal", 80, true, Snapshot{Functions: []Function{failed}, Now: t0}, []string{
			"orders:live  v3 → v4  Canary10Percent5Minutes  Stopped",
			"  [░░░░░░░░░░░░░░░░░░░░░░░░░░░░]  0% → v4  rolled back",
			"  alarms: OrdersErrorsAlarm ALARM · OrdersLatencyP99Alarm OK",
			"  hooks: pre ✓ post –   blast radius: 1,204 req, 37 errors",
			"  One or more alarms have been activated according to the Amazon CloudWatch",
			"  metrics you selected, and the affected deployments have been stopped.",
			"  Activated alarms: <OrdersErrorsAlarm>",
		}},
		{"NarrowDropsAndCompacts", 40, false, Snapshot{Functions: []Function{canary()}, Now: t0}, []string{
			"orders:live  v3 → v4  InProgress",
			"  [███░░░░░░░░░░░░░░░░░░░░░░]  10% → v4",
			"  alarms: 2 OK   hooks: pre ✓ post …",
			"  blast radius: 1,204 req, 0 errors",
		}},
		{"CountdownKeptOverStep", 60, false, Snapshot{Functions: []Function{canary()}, Now: t0}, []string{
			"orders:live  v3 → v4  Canary10Percent5Minutes  InProgress",
			"  [██░░░░░░░░░░░░░░░░░░░░░░]  10% → v4  next shift in 3m12s",
			"  alarms: OrdersErrorsAlarm OK · OrdersLatencyP99Alarm OK",
			"  hooks: pre ✓ post …   blast radius: 1,204 req, 0 errors",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			r := NewTerminal(&buf, tt.width, false)
			var err error
			if tt.final {
				err = r.Close(tt.s)
			} else {
				err = r.Render(tt.s)
			}
			if err != nil {
				t.Fatal(err)
			}
			got := screenLines(buf.String())
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// Ensure each redraw moves up exactly over what the previous one drew, clears every line it writes, and
// clears below a block that got shorter.
func TestTerminalRedraw(t *testing.T) {
	withMessage := canary()
	withMessage.Message = "waiting for the canary"
	steps := []struct {
		name      string
		s         Snapshot
		close     bool
		wantLines int // lines drawn; -1: nothing written
	}{
		{"First", Snapshot{Functions: []Function{canary()}, Now: t0}, false, 3},
		{"Countdown", Snapshot{Functions: []Function{canary()}, Now: t0.Add(time.Second)}, false, 3},
		{"Unchanged", Snapshot{Functions: []Function{canary()}, Now: t0.Add(time.Second)}, false, -1},
		{"Longer", Snapshot{Stack: "app", Functions: []Function{withMessage}, Now: t0.Add(2 * time.Second)}, false, 5},
		{"Shorter", Snapshot{Functions: []Function{canary()}, Now: t0.Add(3 * time.Second)}, false, 3},
		{"Close", Snapshot{Functions: []Function{canary()}, Now: t0.Add(4 * time.Second)}, true, 3},
		{"RenderAfterClose", Snapshot{Functions: []Function{withMessage}, Now: t0.Add(5 * time.Second)}, false, -1},
		{"CloseAgain", Snapshot{Functions: []Function{withMessage}, Now: t0.Add(5 * time.Second)}, true, -1},
	}
	var buf bytes.Buffer
	r := NewTerminal(&buf, 200, true)
	drawn := 0
	for _, st := range steps {
		buf.Reset()
		var err error
		if st.close {
			err = r.Close(st.s)
		} else {
			err = r.Render(st.s)
		}
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		out := buf.String()
		if st.wantLines < 0 {
			if out != "" {
				t.Errorf("%s: wrote %q, want nothing", st.name, out)
			}
			continue
		}
		up := 0
		if m := cursorUpRE.FindStringSubmatch(out); m != nil {
			up, _ = strconv.Atoi(m[1])
		}
		if n := len(anyCursorUpRE.FindAllString(out, -1)); n > 1 || n == 1 && up == 0 {
			t.Errorf("%s: cursor-up elsewhere than at the start of %q", st.name, out)
		}
		if up != drawn {
			t.Errorf("%s: moved up %d lines, want %d (the lines drawn before)", st.name, up, drawn)
		}
		if got := strings.Count(out, "\x1b[2K"); got != st.wantLines {
			t.Errorf("%s: cleared %d lines, want %d", st.name, got, st.wantLines)
		}
		if got := strings.Count(out, "\n"); got != st.wantLines {
			t.Errorf("%s: wrote %d lines, want %d", st.name, got, st.wantLines)
		}
		if !strings.HasSuffix(out, "\x1b[J") {
			t.Errorf("%s: does not clear below the block: %q", st.name, out)
		}
		if strings.Contains(out, "\x1b[?1049h") {
			t.Errorf("%s: switched to the alternate screen", st.name)
		}
		drawn = st.wantLines
	}
}

// Ensure the final frame shows no countdown: nothing is scheduled any more once the output ends.
func TestTerminalCloseDropsCountdown(t *testing.T) {
	var buf bytes.Buffer
	r := NewTerminal(&buf, 120, false)
	if err := r.Close(Snapshot{Functions: []Function{canary()}, Now: t0}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "next shift") {
		t.Errorf("final frame has a countdown:\n%s", buf.String())
	}
}

// Ensure no line is ever wider than the terminal, for any width and content, with or without colour.
func TestTerminalWidths(t *testing.T) {
	long := canary()
	long.Name = strings.Repeat("very-long-function-name-", 4)
	long.Alias = "production-canary-alias"
	long.Config = "MyCustomLinearDeploymentConfigurationWithAVeryLongName"
	long.Step = "shifting 10% every 1m, then waiting for AfterAllowTraffic"
	long.Alarms = append(long.Alarms, Alarm{Name: "AnotherVeryLongCloudWatchAlarmNameForLatency", State: "INSUFFICIENT_DATA"}, Alarm{Name: "X", State: "ALARM"})
	long.NewInvocations, long.NewErrors = 1234567890, 12345
	long.Message = strings.Repeat("a rather long failure message ", 10) + strings.Repeat("x", 150)
	ctrl := canary()
	ctrl.Step, ctrl.Message, ctrl.Name = "step\nwith newline", "hook said:\n\tpanic: boom\r\n\x1b[2J", "evil\x1b[31m"

	fns := []Function{canary(), long, ctrl, {Name: "bare"}}
	for _, colour := range []bool{false, true} {
		for _, width := range []int{1, 5, 10, 15, 20, 30, 40, 50, 60, 79, 80, 100, 200} {
			for _, final := range []bool{false, true} {
				var buf bytes.Buffer
				r := NewTerminal(&buf, width, colour)
				s := Snapshot{Stack: "a-stack-with-a-long-name-too", Functions: fns, Now: t0}
				var err error
				if final {
					err = r.Close(s)
				} else {
					err = r.Render(s)
				}
				if err != nil {
					t.Fatal(err)
				}
				lines := screenLines(buf.String())
				for _, l := range lines {
					if n := utf8.RuneCountInString(l); n >= width && !(width == 1 && n <= 1) {
						t.Errorf("width %d (colour %v, final %v): line is %d wide: %q", width, colour, final, n, l)
					}
					if strings.ContainsAny(l, "\r\t\x1b") {
						t.Errorf("width %d: control character in %q", width, l)
					}
				}
				if !final && width >= 40 && len(lines) > 1+len(fns)*6 {
					t.Errorf("width %d: %d lines for %d functions, want a compact block", width, len(lines), len(fns))
				}
			}
		}
	}
}

func TestTerminalColour(t *testing.T) {
	tests := []struct {
		name      string
		colour    bool
		noColor   string
		wantColor bool
	}{
		{"Asked", true, "", true},
		{"NotAsked", false, "", false},
		{"NoColorSet", true, "1", false},
		{"NoColorAnyValue", true, "false", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("NO_COLOR", tt.noColor)
			var buf bytes.Buffer
			if err := NewTerminal(&buf, 120, tt.colour).Render(Snapshot{Functions: []Function{canary()}, Now: t0}); err != nil {
				t.Fatal(err)
			}
			if got := sgrRE.MatchString(buf.String()); got != tt.wantColor {
				t.Errorf("colour sequences present = %v, want %v:\n%q", got, tt.wantColor, buf.String())
			}
			if tt.wantColor && !strings.Contains(buf.String(), "\x1b["+cyan+"mInProgress\x1b[0m") {
				t.Errorf("status not coloured: %q", buf.String())
			}
		})
	}
}
