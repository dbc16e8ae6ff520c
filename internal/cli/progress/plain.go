package progress

import (
	"io"
	"strings"
	"sync"
	"time"
)

// plain prints a line per change.
type plain struct {
	mu     sync.Mutex
	w      io.Writer
	stack  string
	last   map[string]printed // by name:alias
	closed bool
}

// printed is what was last printed for a function.
type printed struct {
	state string // the line without counters: what counts as a change
	line  string // the line as printed, counters included
}

// NewPlain returns a Renderer for logs: one timestamped line per change of a function's state, nothing for a
// poll that found nothing new.
func NewPlain(w io.Writer) Renderer {
	return &plain{w: w, last: map[string]printed{}}
}

func (p *plain) Render(s Snapshot) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	return p.print(s, false)
}

func (p *plain) Close(final Snapshot) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	return p.print(final, true)
}

// print writes the lines of s that changed. final compares whole lines, counters included, so the last
// counts are always on record.
func (p *plain) print(s Snapshot, final bool) error {
	ts := now(s).UTC().Format(time.RFC3339)
	var b strings.Builder
	if s.Stack != "" && s.Stack != p.stack {
		p.stack = s.Stack
		b.WriteString(ts + " stack " + clean(s.Stack) + "\n")
	}
	for _, f := range s.Functions {
		key := label(f)
		line := plainLine(f, true)
		state := plainLine(f, false)
		if f.NewErrors > 0 {
			state += " (errors)"
		}
		last, seen := p.last[key]
		if seen && (state == last.state && !final || line == last.line) {
			continue
		}
		p.last[key] = printed{state: state, line: line}
		b.WriteString(ts + " " + line + "\n")
	}
	if b.Len() == 0 {
		return nil
	}
	_, err := io.WriteString(p.w, b.String())
	return err
}

// plainLine is one function's state on one line; counters only when asked for.
func plainLine(f Function, counters bool) string {
	parts := []string{label(f)}
	if v := version(f.ToVersion); v != "" {
		parts = append(parts, v)
	}
	if f.Status != "" {
		parts = append(parts, clean(f.Status))
	}
	parts = append(parts, percent(f.NewWeight))
	if f.Step != "" {
		parts = append(parts, clean(f.Step))
	}
	if !f.NextShiftAt.IsZero() && !done(f.Status) {
		parts = append(parts, "(next shift "+f.NextShiftAt.UTC().Format(time.TimeOnly)+")")
	}
	if a := plainAlarms(f.Alarms); a != "" {
		parts = append(parts, a)
	}
	if len(f.Hooks) > 0 {
		hooks := []string{"hooks"}
		for _, h := range f.Hooks {
			hooks = append(hooks, hookLabel(h.Event)+"="+clean(h.Status))
		}
		parts = append(parts, strings.Join(hooks, " "))
	}
	for _, p := range hookProblems(f) {
		parts = append(parts, "— "+p)
	}
	// Unlike the terminal, no "0 req, 0 errors" after the first shift: a log wants facts, not placeholders.
	if counters && (f.NewInvocations > 0 || f.NewErrors > 0) {
		parts = append(parts, "blast radius "+blastRadius(f))
	}
	if f.Message != "" {
		parts = append(parts, "— "+clean(f.Message))
	}
	return strings.Join(parts, " ")
}

// plainAlarms is "alarms OK" while all are, else the ones that are not: a log reader wants the exception.
func plainAlarms(alarms []Alarm) string {
	if len(alarms) == 0 {
		return ""
	}
	var bad []string
	for _, a := range alarms {
		if a.State != "OK" {
			bad = append(bad, clean(a.Name)+"="+clean(a.State))
		}
	}
	if len(bad) == 0 {
		return "alarms OK"
	}
	return "alarms " + strings.Join(bad, ",")
}
