package progress

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestPlainGolden(t *testing.T) {
	brief := Function{Name: "orders", Alias: "live", FromVersion: "3", ToVersion: "4", Status: "InProgress",
		NewWeight: 0.1, Step: "canary at 10%", NextShiftAt: time.Date(2026, 11, 26, 12, 5, 3, 0, time.UTC),
		Alarms: []Alarm{{Name: "OrdersErrorsAlarm", State: "OK"}, {Name: "OrdersLatencyP99Alarm", State: "OK"}},
		Hooks:  []Hook{{Event: "BeforeAllowTraffic", Function: "orders-pre", Status: "Succeeded"}}}
	now := time.Date(2026, 11, 26, 12, 0, 3, 0, time.UTC)

	stopped := canary()
	stopped.Status, stopped.NewWeight, stopped.Step = "Stopped", 0, "rolled back"
	stopped.Alarms = append(stopped.Alarms, Alarm{Name: "X", State: "INSUFFICIENT_DATA"})
	stopped.Alarms[0].State, stopped.NewErrors = "ALARM", 1
	stopped.Message = "Activated alarms:\n<OrdersErrorsAlarm>"

	stuck := brief
	stuck.Step, stuck.NextShiftAt, stuck.Alarms = "", time.Time{}, nil
	stuck.Hooks = []Hook{{Event: "BeforeAllowTraffic", Function: "orders-pre", Status: "InProgress",
		Problems: []string{"hook orders-pre could not report its status: User: r is not authorized"}}}

	tests := []struct {
		name string
		s    Snapshot
		want string
	}{
		{"HookProblem", Snapshot{Functions: []Function{stuck}, Now: now},
			"2026-11-26T12:00:03Z orders:live v4 InProgress 10% hooks pre=InProgress — hook orders-pre could not report its status: User: r is not authorized" +
				" — to give up now: sluice rollback orders --alias live\n"},
		{"Brief", Snapshot{Functions: []Function{brief}, Now: now},
			"2026-11-26T12:00:03Z orders:live v4 InProgress 10% canary at 10% (next shift 12:05:03) alarms OK hooks pre=Succeeded\n"},
		{"StampedInUTC", Snapshot{Functions: []Function{brief}, Now: now.In(time.FixedZone("CET", 3600))},
			"2026-11-26T12:00:03Z orders:live v4 InProgress 10% canary at 10% (next shift 12:05:03) alarms OK hooks pre=Succeeded\n"},
		{"WithStackAndCounters", Snapshot{Stack: "orders-app", Functions: []Function{canary()}, Now: t0},
			"2026-11-26T12:01:51Z stack orders-app\n" +
				"2026-11-26T12:01:51Z orders:live v4 InProgress 10% canary at 10% (next shift 12:05:03) alarms OK hooks pre=Succeeded post=Pending blast radius 1,204 req, 0 errors\n"},
		{"Stopped", Snapshot{Functions: []Function{stopped}, Now: t0},
			"2026-11-26T12:01:51Z orders:live v4 Stopped 0% rolled back alarms OrdersErrorsAlarm=ALARM,X=INSUFFICIENT_DATA hooks pre=Succeeded post=Pending blast radius 1,204 req, 1 error — Activated alarms: <OrdersErrorsAlarm>\n"},
		{"Minimal", Snapshot{Functions: []Function{{Name: "fn"}}, Now: t0},
			"2026-11-26T12:01:51Z fn 0%\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := NewPlain(&buf).Render(tt.s); err != nil {
				t.Fatal(err)
			}
			if got := buf.String(); got != tt.want {
				t.Errorf("got\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

// Ensure a sequence of polls prints a line only when a function's state changed.
func TestPlainChangesOnly(t *testing.T) {
	at := func(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }
	base := canary()
	base.Alarms, base.Hooks, base.NextShiftAt = nil, nil, time.Time{}
	with := func(edit func(*Function)) Function {
		f := base
		edit(&f)
		return f
	}
	other := Function{Name: "billing", Alias: "live", ToVersion: "2", Status: "Created"}

	steps := []struct {
		name  string
		s     Snapshot
		close bool
		want  string // "" means nothing printed
	}{
		{"First", Snapshot{Functions: []Function{base, other}, Now: at(0)}, false,
			"2026-11-26T12:01:51Z orders:live v4 InProgress 10% canary at 10% blast radius 1,204 req, 0 errors\n" +
				"2026-11-26T12:01:51Z billing:live v2 Created 0%\n"},
		{"SamePoll", Snapshot{Functions: []Function{base, other}, Now: at(1)}, false, ""},
		{"TrafficGrows", Snapshot{Functions: []Function{with(func(f *Function) { f.NewInvocations = 5000 }), other}, Now: at(2)}, false, ""},
		{"FirstError", Snapshot{Functions: []Function{with(func(f *Function) { f.NewInvocations, f.NewErrors = 6000, 1 }), other}, Now: at(3)}, false,
			"2026-11-26T12:01:54Z orders:live v4 InProgress 10% canary at 10% blast radius 6,000 req, 1 error\n"},
		{"MoreErrors", Snapshot{Functions: []Function{with(func(f *Function) { f.NewInvocations, f.NewErrors = 7000, 9 }), other}, Now: at(4)}, false, ""},
		{"OtherMoves", Snapshot{Functions: []Function{with(func(f *Function) { f.NewInvocations, f.NewErrors = 7000, 9 }), with(func(f *Function) { *f = other; f.Status = "InProgress" })}, Now: at(5)}, false,
			"2026-11-26T12:01:56Z billing:live v2 InProgress 0%\n"},
		{"Shift", Snapshot{Functions: []Function{with(func(f *Function) { f.NewWeight, f.Step, f.NewInvocations, f.NewErrors = 1, "all traffic", 8000, 9 })}, Now: at(6)}, false,
			"2026-11-26T12:01:57Z orders:live v4 InProgress 100% all traffic blast radius 8,000 req, 9 errors\n"},
		{"CloseWithNewCounts", Snapshot{Functions: []Function{with(func(f *Function) { f.NewWeight, f.Step, f.NewInvocations, f.NewErrors = 1, "all traffic", 8100, 9 })}, Now: at(7)}, true,
			"2026-11-26T12:01:58Z orders:live v4 InProgress 100% all traffic blast radius 8,100 req, 9 errors\n"},
		{"RenderAfterClose", Snapshot{Functions: []Function{with(func(f *Function) { f.Status = "Succeeded" })}, Now: at(8)}, false, ""},
	}
	var buf bytes.Buffer
	r := NewPlain(&buf)
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
		if got := buf.String(); got != st.want {
			t.Errorf("%s: got\n%q\nwant\n%q", st.name, got, st.want)
		}
	}
}

// Ensure Close does not repeat a final state that was already printed, counters included.
func TestPlainCloseNoRepeat(t *testing.T) {
	done := canary()
	done.Status, done.NewWeight, done.Step, done.NextShiftAt = "Succeeded", 1, "", time.Time{}
	var buf bytes.Buffer
	r := NewPlain(&buf)
	if err := r.Render(Snapshot{Functions: []Function{done}, Now: t0}); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(Snapshot{Functions: []Function{done}, Now: t0.Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), "\n"); n != 1 {
		t.Errorf("printed %d lines, want 1:\n%s", n, buf.String())
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteErrors(t *testing.T) {
	s := Snapshot{Functions: []Function{canary()}, Now: t0}
	for name, r := range map[string]Renderer{"Plain": NewPlain(failingWriter{}), "Terminal": NewTerminal(failingWriter{}, 80, false)} {
		if err := r.Render(s); err == nil || err.Error() != "disk full" {
			t.Errorf("%s: Render error = %v, want the writer's", name, err)
		}
	}
}
