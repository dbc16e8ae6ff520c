package logsapi

import (
	"regexp"
	"strings"
)

// pattern is a parsed filter pattern for unstructured log events. Supported (case-sensitive, as on AWS):
//
//	ERROR                 the term appears
//	ERROR timeout         every term appears, in any order
//	"connection reset"    the exact phrase appears (quotes allow spaces and any other character)
//	?ERROR ?WARN          at least one of the ?-terms appears
//	ERROR -retrying       the term appears and "retrying" does not
//	%ERROR|WARN [0-9]+%   the message matches the regular expression (RE2 syntax; the whole pattern)
//
// JSON patterns ({ $.field = … }) and space-delimited patterns ([ip, user, …]) are not supported and are refused
// with InvalidParameterException rather than silently matching the wrong events.
type pattern struct {
	all, any, none []string
	re             *regexp.Regexp
}

// parsePattern parses a filter pattern ("" matches everything).
func parsePattern(s string) (*pattern, error) {
	s = strings.TrimSpace(s)
	p := &pattern{}
	if s == "" {
		return p, nil
	}
	switch s[0] {
	case '{':
		return nil, invalid("Invalid filter pattern: JSON filter patterns ({ $.field … }) are not supported by Sluice; use terms or \"quoted phrases\"")
	case '[':
		return nil, invalid("Invalid filter pattern: space-delimited filter patterns ([field, …]) are not supported by Sluice; use terms or \"quoted phrases\"")
	}
	if len(s) >= 2 && s[0] == '%' && s[len(s)-1] == '%' {
		re, err := regexp.Compile(s[1 : len(s)-1])
		if err != nil {
			return nil, invalid("Invalid filter pattern: %s", err)
		}
		p.re = re
		return p, nil
	}
	for i := 0; i < len(s); {
		if s[i] == ' ' || s[i] == '\t' {
			i++
			continue
		}
		var list *[]string
		switch s[i] {
		case '?':
			list = &p.any
			i++
		case '-':
			list = &p.none
			i++
		default:
			list = &p.all
		}
		var term string
		if i < len(s) && s[i] == '"' {
			end := strings.IndexByte(s[i+1:], '"')
			if end < 0 {
				return nil, invalid("Invalid filter pattern: unterminated quoted phrase")
			}
			term = s[i+1 : i+1+end]
			i += end + 2
		} else {
			end := strings.IndexAny(s[i:], " \t")
			if end < 0 {
				end = len(s) - i
			}
			term = s[i : i+end]
			i += end
		}
		if term != "" {
			*list = append(*list, term)
		}
	}
	return p, nil
}

// match reports whether a message satisfies the pattern.
func (p *pattern) match(msg string) bool {
	if p.re != nil {
		return p.re.MatchString(msg)
	}
	for _, t := range p.all {
		if !strings.Contains(msg, t) {
			return false
		}
	}
	for _, t := range p.none {
		if strings.Contains(msg, t) {
			return false
		}
	}
	if len(p.any) == 0 {
		return true
	}
	for _, t := range p.any {
		if strings.Contains(msg, t) {
			return true
		}
	}
	return false
}

// required is a substring every matching message contains (the longest plain term), for the store to pre-filter
// on; "" when there is none.
func (p *pattern) required() string {
	best := ""
	for _, t := range p.all {
		if len(t) > len(best) {
			best = t
		}
	}
	return best
}
