package progress

import (
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	defaultWidth = 80
	barCells     = 28 // the bar's width when there is room
	minBarCells  = 5
	indent       = "  "
	liveMessage  = 2     // message lines while live; the final frame shows all of it
	sep          = "  "  // between the parts of a line
	wideSep      = "   " // between alarms, hooks and blast radius
)

// terminal redraws the block it drew last time.
type terminal struct {
	mu     sync.Mutex
	w      io.Writer
	width  int
	colour bool
	drawn  int    // lines in the block on screen, to move back over
	last   string // the block on screen, to skip identical redraws
	closed bool
}

// NewTerminal returns a Renderer that redraws a compact block in place on w, a terminal width columns wide
// (80 when width <= 0). colour asks for ANSI colours; NO_COLOR in the environment overrides it.
func NewTerminal(w io.Writer, width int, colour bool) Renderer {
	if width <= 0 {
		width = defaultWidth
	}
	return &terminal{w: w, width: width, colour: colour && os.Getenv("NO_COLOR") == ""}
}

func (t *terminal) Render(s Snapshot) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil
	}
	return t.draw(t.frame(s, false))
}

func (t *terminal) Close(final Snapshot) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil
	}
	t.closed = true
	return t.draw(t.frame(final, true))
}

// draw replaces the block on screen with lines.
func (t *terminal) draw(lines []string) error {
	block := strings.Join(lines, "\n")
	if block == t.last && t.drawn == len(lines) {
		return nil
	}
	var b strings.Builder
	if t.drawn > 0 {
		fmt.Fprintf(&b, "\r\x1b[%dA", t.drawn) // CSI 0 A would still move one line
	}
	for _, l := range lines {
		b.WriteString("\x1b[2K")
		b.WriteString(l)
		b.WriteByte('\n')
	}
	b.WriteString("\x1b[J") // a shorter block leaves the old tail below
	if _, err := io.WriteString(t.w, b.String()); err != nil {
		return err
	}
	t.drawn, t.last = len(lines), block
	return nil
}

// frame lays out s as rendered lines.
func (t *terminal) frame(s Snapshot, final bool) []string {
	limit := max(t.width-1, 1)
	var lines []line
	if s.Stack != "" {
		lines = append(lines, fit([]segment{{line{{"stack", dim}}, 0}, {line{{clean(s.Stack), bold}}, 0}}, " ", limit))
	}
	at := now(s)
	for _, f := range s.Functions {
		lines = append(lines, functionLines(f, at, final, limit)...)
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = l.render(t.colour)
	}
	return out
}

// functionLines lays out one function's block: a heading, the traffic bar, the alarms, hooks and blast
// radius, and the message.
func functionLines(f Function, at time.Time, final bool, limit int) []line {
	head := []segment{{line{{label(f), bold}}, 0}}
	if v := versions(f); v != "" {
		head = append(head, segment{line{{v, ""}}, 1})
	}
	if c := shortConfig(f.Config); c != "" {
		head = append(head, segment{line{{c, dim}}, 2})
	}
	if f.Status != "" {
		head = append(head, segment{line{{clean(f.Status), statusStyle(f.Status)}}, 0})
	}
	out := []line{fit(head, sep, limit)}
	out = append(out, trafficLine(f, at, final, limit))
	out = append(out, detailLines(f, limit)...)
	out = append(out, hookProblemLines(f, limit)...)
	if f.Message != "" {
		out = append(out, messageLines(f, final, limit)...)
	}
	return out
}

// trafficLine is the bar, the weight, the step and the countdown. The countdown is worth more than a long
// bar, so the bar narrows (down to ten cells) to keep it before it is dropped.
func trafficLine(f Function, at time.Time, final bool, limit int) line {
	pct := percent(f.NewWeight)
	if v := version(f.ToVersion); v != "" {
		pct += " → " + v
	}
	rest := []segment{{line{{pct, ""}}, 0}}
	if f.Step != "" {
		rest = append(rest, segment{line{{clean(f.Step), ""}}, 2})
	}
	countdownWidth := 0
	if !final && !done(f.Status) && !f.NextShiftAt.IsZero() {
		cd := line{{"next shift in " + countdown(f.NextShiftAt.Sub(at)), dim}}
		rest = append(rest, segment{cd, 1})
		countdownWidth = len(sep) + cd.width()
	}
	fixed := len(indent) + len("[]") + len(sep) + rest[0].l.width()
	cells := barCells
	if room := limit - fixed - countdownWidth; room < cells {
		cells = room
		if room < 10 {
			cells = max(limit-fixed, minBarCells)
		}
	}
	b := append(line{{indent, ""}}, bar(f.NewWeight, min(cells, barCells), statusStyle(f.Status))...)
	return fit(append([]segment{{b, 0}}, rest...), sep, limit)
}

// detailLines packs alarms, hooks and blast radius onto as few lines as fit.
func detailLines(f Function, limit int) []line {
	var items []line
	if len(f.Alarms) > 0 {
		a := alarmsFull(f.Alarms)
		if len(indent)+a.width() > limit {
			a = alarmsCompact(f.Alarms)
		}
		items = append(items, a)
	}
	if len(f.Hooks) > 0 {
		h := line{{"hooks:", ""}}
		for _, hk := range f.Hooks {
			sym, sgr := hookSymbol(hk.Status)
			h = append(h, span{" " + hookLabel(hk.Event) + " ", ""}, span{sym, sgr})
		}
		items = append(items, h)
	}
	if showBlast(f) {
		sgr := ""
		if f.NewErrors > 0 {
			sgr = red
		}
		items = append(items, line{{"blast radius: ", ""}, {blastRadius(f), sgr}})
	}
	var out []line
	var cur line
	for _, it := range items {
		switch {
		case cur == nil:
			cur = append(line{{indent, ""}}, it...)
		case cur.width()+len(wideSep)+it.width() <= limit:
			cur = append(append(cur, span{wideSep, ""}), it...)
		default:
			out = append(out, cur.truncate(limit))
			cur = append(line{{indent, ""}}, it...)
		}
	}
	if cur != nil {
		out = append(out, cur.truncate(limit))
	}
	return out
}

// alarmsFull names every alarm with its state.
func alarmsFull(alarms []Alarm) line {
	l := line{{"alarms: ", ""}}
	for i, a := range alarms {
		if i > 0 {
			l = append(l, span{" · ", dim})
		}
		l = append(l, span{clean(a.Name) + " ", ""}, span{clean(a.State), alarmStyle(a.State)})
	}
	return l
}

// alarmsCompact names only the alarms that are not OK, and counts the rest.
func alarmsCompact(alarms []Alarm) line {
	l := line{{"alarms: ", ""}}
	ok := 0
	for _, a := range alarms {
		if a.State == "OK" {
			ok++
			continue
		}
		if len(l) > 1 {
			l = append(l, span{" · ", dim})
		}
		l = append(l, span{clean(a.Name) + " ", ""}, span{clean(a.State), alarmStyle(a.State)})
	}
	if ok > 0 {
		if len(l) > 1 {
			l = append(l, span{" · ", dim})
		}
		l = append(l, span{strconv.Itoa(ok) + " OK", green})
	}
	return l
}

func alarmStyle(state string) string {
	switch state {
	case "OK":
		return green
	case "ALARM":
		return red
	}
	return yellow
}

func hookSymbol(status string) (text, sgr string) {
	switch status {
	case "Succeeded":
		return "✓", green
	case "Failed":
		return "✗", red
	case "InProgress":
		return "↻", cyan
	case "Pending":
		return "…", dim
	case "Skipped":
		return "–", dim
	}
	return clean(status), ""
}

// messageLines word-wraps the message under the block. While live it is capped so the block stays compact;
// the final frame shows all of it, since it is usually why the deployment failed.
func messageLines(f Function, final bool, limit int) []line {
	sgr := ""
	if failed(f.Status) {
		sgr = red
	}
	texts := wrap(clean(f.Message), limit-len(indent))
	cut := !final && len(texts) > liveMessage
	if cut {
		texts = texts[:liveMessage]
	}
	out := make([]line, len(texts))
	for i, txt := range texts {
		if cut && i == len(texts)-1 {
			txt += " …"
		}
		out[i] = line{{indent, ""}, {txt, sgr}}.truncate(limit)
	}
	return out
}

// hookProblemLines shows each problem of a hook's run on its own lines, in red (and the way out in plain), word-
// wrapped under the block: they say why the deployment will fail, so they are not cut.
func hookProblemLines(f Function, limit int) []line {
	var out []line
	problems := hookProblems(f)
	for i, p := range problems {
		sgr := red
		if i == len(problems)-1 && !done(f.Status) {
			sgr = "" // the way out
		}
		for _, txt := range wrap(p, limit-len(indent)) {
			out = append(out, line{{indent, ""}, {txt, sgr}}.truncate(limit))
		}
	}
	return out
}

// statusStyle colours a CodeDeploy status by how it is going.
func statusStyle(status string) string {
	switch {
	case status == "Succeeded":
		return green
	case failed(status):
		return red
	case status == "InProgress" || status == "Baking":
		return cyan
	}
	return yellow
}

// bar draws weight as cells filled cells out of n. Only a complete shift fills the bar and only no traffic
// leaves it empty, so 99.5% never looks done and 0.5% never looks untouched.
func bar(weight float64, n int, fill string) line {
	w := clamp01(weight)
	filled := int(math.Round(w * float64(n)))
	if w > 0 && filled == 0 {
		filled = 1
	}
	if w < 1 && filled == n {
		filled = n - 1
	}
	return line{{"[", ""}, {strings.Repeat("█", filled), fill}, {strings.Repeat("░", n-filled), dim}, {"]", ""}}
}
