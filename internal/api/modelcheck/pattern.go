package modelcheck

import (
	"fmt"
	"regexp"
	"strings"
	"sync/atomic"
)

// CompilePattern turns a model pattern (Java syntax; AWS matches it against the whole value) into a Go matcher.
// Go's regexp has no lookaround, so the two forms the models use are taken apart: a negative lookahead at the
// start — `(?!^[0-9]+$)([a-zA-Z0-9-_]+)` — becomes "does not match the lookahead", and a negative lookbehind at
// the end — `[0-9A-Za-z\.\-_]*(?<!\.)` — becomes "does not end with it". Lookaround anywhere else is an error.
func CompilePattern(pattern string) (func(string) bool, error) {
	rest, ahead, err := cutLookahead(pattern)
	if err != nil {
		return nil, err
	}
	rest, behind, err := cutLookbehind(rest)
	if err != nil {
		return nil, err
	}
	if strings.Contains(rest, "(?!") || strings.Contains(rest, "(?<") || strings.Contains(rest, "(?=") {
		return nil, fmt.Errorf("pattern %q: lookaround Go cannot run", pattern)
	}
	whole, err := regexp.Compile(`^(?:` + rest + `)$`)
	if err != nil {
		return nil, fmt.Errorf("pattern %q: %w", pattern, err)
	}
	var notAhead, notBehind *regexp.Regexp
	if ahead != "" {
		if notAhead, err = regexp.Compile(`^(?:` + ahead + `)`); err != nil {
			return nil, fmt.Errorf("pattern %q: lookahead: %w", pattern, err)
		}
	}
	if behind != "" {
		if notBehind, err = regexp.Compile(`(?:` + behind + `)$`); err != nil {
			return nil, fmt.Errorf("pattern %q: lookbehind: %w", pattern, err)
		}
	}
	// The value that matched last is remembered: a busy caller sends the same function name, qualifier or ARN
	// over and over, and one string comparison is far cheaper than running the regular expressions again.
	var last atomic.Pointer[string]
	return func(s string) bool {
		if p := last.Load(); p != nil && *p == s {
			return true
		}
		ok := whole.MatchString(s) &&
			(notAhead == nil || !notAhead.MatchString(s)) &&
			(notBehind == nil || !notBehind.MatchString(s))
		if ok && len(s) <= maxRemembered {
			v := s
			last.Store(&v)
		}
		return ok
	}, nil
}

// maxRemembered bounds the value a pattern remembers (patterns check names, ARNs and qualifiers; a long
// document is not worth keeping).
const maxRemembered = 2048

// cutLookahead removes a negative lookahead that only "(" and "^" precede, returning what it looked for.
func cutLookahead(p string) (rest, ahead string, err error) {
	i := strings.Index(p, "(?!")
	if i < 0 || strings.Trim(p[:i], "(^") != "" {
		return p, "", nil
	}
	end, err := closing(p, i)
	if err != nil {
		return "", "", err
	}
	return p[:i] + p[end+1:], p[i+3 : end], nil
}

// cutLookbehind removes a negative lookbehind that ends the pattern, returning what it looked for.
func cutLookbehind(p string) (rest, behind string, err error) {
	i := strings.LastIndex(p, "(?<!")
	if i < 0 {
		return p, "", nil
	}
	end, err := closing(p, i)
	if err != nil {
		return "", "", err
	}
	if end != len(p)-1 {
		return p, "", nil
	}
	return p[:i], p[i+4 : end], nil
}

// closing finds the parenthesis closing the group opened at p[open], skipping escapes and character classes.
func closing(p string, open int) (int, error) {
	depth, inClass := 0, false
	for i := open; i < len(p); i++ {
		switch c := p[i]; {
		case c == '\\':
			i++
		case inClass:
			inClass = c != ']'
		case c == '[':
			inClass = true
		case c == '(':
			depth++
		case c == ')':
			depth--
			if depth == 0 {
				return i, nil
			}
		}
	}
	return 0, fmt.Errorf("pattern %q: unbalanced group at %d", p, open)
}
