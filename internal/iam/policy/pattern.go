package policy

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// A pattern is an IAM wildcard pattern: '*' matches any run of characters
// (possibly empty), '?' exactly one, everything else itself.
type pattern []patternElem

type patternElem struct {
	kind byte // patLiteral, patOne or patAny
	r    rune
}

const (
	patLiteral byte = iota
	patOne
	patAny
)

// compilePattern compiles s. With vars set (Version 2012-10-17 documents) the
// policy-variable escapes ${*}, ${?} and ${$} stand for a literal '*', '?'
// and '$'; any other ${...} is kept as literal text, since variables are not
// substituted.
func compilePattern(s string, vars bool) pattern {
	p := make(pattern, 0, len(s))
	for i := 0; i < len(s); {
		if vars {
			if lit, ok := escapeAt(s, i); ok {
				p = append(p, patternElem{kind: patLiteral, r: rune(lit)})
				i += 4
				continue
			}
			if strings.HasPrefix(s[i:], "${") {
				if end := strings.IndexByte(s[i:], '}'); end >= 0 {
					for _, r := range s[i : i+end+1] {
						p = append(p, patternElem{kind: patLiteral, r: r})
					}
					i += end + 1
					continue
				}
			}
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch r {
		case '*':
			// Consecutive stars match the same as one.
			if n := len(p); n == 0 || p[n-1].kind != patAny {
				p = append(p, patternElem{kind: patAny})
			}
		case '?':
			p = append(p, patternElem{kind: patOne})
		default:
			p = append(p, patternElem{kind: patLiteral, r: r})
		}
		i += size
	}
	return p
}

// escapeAt reports whether s has one of the escapes ${*}, ${?}, ${$} at i,
// and which character it stands for.
func escapeAt(s string, i int) (byte, bool) {
	if len(s)-i < 4 || s[i] != '$' || s[i+1] != '{' || s[i+3] != '}' {
		return 0, false
	}
	switch c := s[i+2]; c {
	case '*', '?', '$':
		return c, true
	}
	return 0, false
}

// unescape resolves the ${*}, ${?} and ${$} escapes in a value compared
// without wildcards (StringEquals and friends).
func unescape(s string, vars bool) string {
	if !vars || !strings.Contains(s, "${") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if c, ok := escapeAt(s, i); ok {
			b.WriteByte(c)
			i += 4
			continue
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}

// match reports whether the whole of s matches p. fold compares letters
// case-insensitively (actions); everything else compares exactly.
func (p pattern) match(s string, fold bool) bool {
	rs := []rune(s)
	pi, si := 0, 0
	star, mark := -1, 0 // the last '*' seen and where its run currently ends
	for si < len(rs) {
		if pi < len(p) {
			switch e := p[pi]; e.kind {
			case patAny:
				star, mark = pi, si
				pi++
				continue
			case patOne:
				pi++
				si++
				continue
			default:
				if e.r == rs[si] || fold && foldEqual(e.r, rs[si]) {
					pi++
					si++
					continue
				}
			}
		}
		if star < 0 {
			return false
		}
		// Let the last '*' swallow one more character and retry from there.
		mark++
		pi, si = star+1, mark
	}
	for pi < len(p) && p[pi].kind == patAny {
		pi++
	}
	return pi == len(p)
}

func foldEqual(a, b rune) bool {
	for r := unicode.SimpleFold(a); r != a; r = unicode.SimpleFold(r) {
		if r == b {
			return true
		}
	}
	return false
}

// globMatch compiles pat and matches s against it.
func globMatch(pat, s string, fold, vars bool) bool {
	return compilePattern(pat, vars).match(s, fold)
}
