package progress

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// SGR parameters used for colour.
const (
	bold   = "1"
	dim    = "2"
	red    = "31"
	green  = "32"
	yellow = "33"
	cyan   = "36"
)

// span is text in one style. Layout measures spans without their styles, so colour never affects widths.
type span struct {
	text, sgr string
}

// line is one output line, as styled spans.
type line []span

func (l line) width() int {
	n := 0
	for _, s := range l {
		n += utf8.RuneCountInString(s.text)
	}
	return n
}

// truncate cuts l to at most n columns, ending in "…" when something was cut.
func (l line) truncate(n int) line {
	if l.width() <= n {
		return l
	}
	if n <= 0 {
		return nil
	}
	var out line
	left := n - 1 // room for the ellipsis
	for _, s := range l {
		if left == 0 {
			break
		}
		r := []rune(s.text)
		if len(r) > left {
			r = r[:left]
		}
		out = append(out, span{string(r), s.sgr})
		left -= len(r)
	}
	return append(out, span{"…", ""})
}

func (l line) render(colour bool) string {
	var b strings.Builder
	for _, s := range l {
		if colour && s.sgr != "" && s.text != "" {
			b.WriteString("\x1b[" + s.sgr + "m" + s.text + "\x1b[0m")
		} else {
			b.WriteString(s.text)
		}
	}
	return b.String()
}

// segment is a part of a line that can be left out when space is short; drop 0 never is, and higher values
// go first.
type segment struct {
	l    line
	drop int
}

// fit joins segments with sep, leaving out droppable ones until the result fits in limit columns, and then
// truncates.
func fit(segs []segment, sep string, limit int) line {
	segs = slices.Clone(segs)
	for {
		l := join(segs, sep)
		if l.width() <= limit {
			return l
		}
		i := -1
		for j, s := range segs {
			if s.drop > 0 && (i < 0 || s.drop > segs[i].drop) {
				i = j
			}
		}
		if i < 0 {
			return l.truncate(limit)
		}
		segs = slices.Delete(segs, i, i+1)
	}
}

func join(segs []segment, sep string) line {
	var l line
	for i, s := range segs {
		if i > 0 {
			l = append(l, span{sep, ""})
		}
		l = append(l, s.l...)
	}
	return l
}

// wrap splits text into lines of at most limit columns at spaces, cutting words longer than a line.
func wrap(text string, limit int) []string {
	if limit <= 0 {
		return nil
	}
	var out []string
	cur := ""
	for _, w := range strings.Fields(text) {
		for utf8.RuneCountInString(w) > limit {
			if cur != "" {
				out, cur = append(out, cur), ""
			}
			r := []rune(w)
			out, w = append(out, string(r[:limit])), string(r[limit:])
		}
		switch {
		case cur == "":
			cur = w
		case utf8.RuneCountInString(cur)+1+utf8.RuneCountInString(w) <= limit:
			cur += " " + w
		default:
			out, cur = append(out, cur), w
		}
	}
	if cur != "" {
		out = append(out, cur)
	}
	return out
}
