package alarms

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/sluice-dev/sluice/internal/fault"
)

// A composite alarm's AlarmRule, as CloudWatch defines it: ALARM(name), OK(name) and INSUFFICIENT_DATA(name) are
// true when the named alarm is in that state, TRUE and FALSE are constants, and NOT, AND and OR combine them, with
// parentheses to group (NOT binds tightest, then AND, then OR). A name is an alarm name or ARN, in double quotes
// or bare (a bare name ends at white space or a parenthesis). Errors read as CloudWatch's recorded ones: "Error in
// AlarmRule [Unsupported token 'Oldest' at char 67, must be: ')']", the position counted in characters from 0.

// Limits of a rule (PutCompositeAlarm's documentation).
const (
	MaxRuleChildren = 100 // alarms a rule may name
	MaxRuleElements = 500 // child alarms, TRUE and FALSE, and parentheses
	MaxRuleLength   = 10240
)

// alarmRule is a parsed AlarmRule.
type alarmRule interface {
	eval(state func(name string) string) bool
}

type (
	ruleConst bool
	ruleState struct {
		state string // StateAlarm, StateOK or StateInsufficientData
		name  string // as written (a name or an ARN)
	}
	ruleNot struct{ x alarmRule }
	ruleAnd struct{ l, r alarmRule }
	ruleOr  struct{ l, r alarmRule }
)

func (c ruleConst) eval(func(string) string) bool        { return bool(c) }
func (s *ruleState) eval(state func(string) string) bool { return state(s.name) == s.state }
func (n *ruleNot) eval(state func(string) string) bool   { return !n.x.eval(state) }
func (a *ruleAnd) eval(state func(string) string) bool   { return a.l.eval(state) && a.r.eval(state) }
func (o *ruleOr) eval(state func(string) string) bool    { return o.l.eval(state) || o.r.eval(state) }

type ruleToken struct {
	text   string
	pos    int
	quoted bool // a name in double quotes (its text unquoted)
	eof    bool
}

// ruleError is CloudWatch's message for a rule it cannot parse.
func ruleError(format string, args ...any) *fault.Error {
	return fault.New(CodeValidationError, "Error in AlarmRule [%s]", fmt.Sprintf(format, args...))
}

func unsupportedToken(t ruleToken, want string) *fault.Error {
	text := t.text
	switch {
	case t.eof:
		text = "<EOF>"
	case t.quoted:
		text = `"` + t.text + `"`
	}
	if want != "" {
		return ruleError("Unsupported token '%s' at char %d, must be: '%s'", text, t.pos, want)
	}
	return ruleError("Unsupported token '%s' at char %d", text, t.pos)
}

func lexRule(src string) ([]ruleToken, error) {
	var out []ruleToken
	pos := 0
	for i := 0; i < len(src); {
		r, size := utf8.DecodeRuneInString(src[i:])
		switch {
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
			i += size
			pos++
		case r == '(' || r == ')':
			out = append(out, ruleToken{text: string(r), pos: pos})
			i++
			pos++
		case r == '"':
			j, n := i+1, 1
			for j < len(src) && src[j] != '"' {
				_, cs := utf8.DecodeRuneInString(src[j:])
				j += cs
				n++
			}
			if j >= len(src) {
				return nil, unsupportedToken(ruleToken{text: src[i:], pos: pos}, "")
			}
			out = append(out, ruleToken{text: src[i+1 : j], pos: pos, quoted: true})
			pos += n + 1
			i = j + 1
		default:
			j, n := i, 0
			for j < len(src) {
				c, cs := utf8.DecodeRuneInString(src[j:])
				if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '(' || c == ')' || c == '"' {
					break
				}
				j += cs
				n++
			}
			out = append(out, ruleToken{text: src[i:j], pos: pos})
			pos += n
			i = j
		}
	}
	return append(out, ruleToken{pos: pos, eof: true}), nil
}

type ruleParser struct {
	toks     []ruleToken
	i        int
	depth    int
	children []string // the names as written, in order, once each
	elements int
}

// parseRule parses an AlarmRule and returns it with the alarms it names (as written, each once).
func parseRule(src string) (alarmRule, []string, error) {
	if n := utf8.RuneCountInString(src); n < 1 || n > MaxRuleLength {
		return nil, nil, constraint(src, "alarmRule", fmt.Sprintf("Member must have length between 1 and %d", MaxRuleLength))
	}
	toks, err := lexRule(src)
	if err != nil {
		return nil, nil, err
	}
	p := &ruleParser{toks: toks}
	r, err := p.or()
	if err != nil {
		return nil, nil, err
	}
	if t := p.toks[p.i]; !t.eof {
		return nil, nil, unsupportedToken(t, "")
	}
	if len(p.children) > MaxRuleChildren {
		return nil, nil, ruleError("The rule names %d alarms; a composite alarm may have at most %d children", len(p.children), MaxRuleChildren)
	}
	if p.elements > MaxRuleElements {
		return nil, nil, ruleError("The rule has %d elements; at most %d are allowed", p.elements, MaxRuleElements)
	}
	return r, p.children, nil
}

func (p *ruleParser) peekWord(w string) bool {
	t := p.toks[p.i]
	return !t.eof && !t.quoted && t.text == w
}

func (p *ruleParser) next() ruleToken {
	t := p.toks[p.i]
	if !t.eof {
		p.i++
	}
	return t
}

func (p *ruleParser) or() (alarmRule, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.peekWord("OR") {
		p.next()
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = &ruleOr{l, r}
	}
	return l, nil
}

func (p *ruleParser) and() (alarmRule, error) {
	l, err := p.not()
	if err != nil {
		return nil, err
	}
	for p.peekWord("AND") {
		p.next()
		r, err := p.not()
		if err != nil {
			return nil, err
		}
		l = &ruleAnd{l, r}
	}
	return l, nil
}

// maxRuleDepth bounds nesting, so a hostile rule cannot exhaust the stack.
const maxRuleDepth = 200

func (p *ruleParser) not() (alarmRule, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxRuleDepth {
		return nil, unsupportedToken(p.toks[p.i], "")
	}
	t := p.next()
	if t.quoted || t.eof {
		return nil, unsupportedToken(t, "")
	}
	switch t.text {
	case "NOT":
		x, err := p.not()
		if err != nil {
			return nil, err
		}
		return &ruleNot{x}, nil
	case "TRUE", "FALSE":
		p.elements++
		return ruleConst(t.text == "TRUE"), nil
	case "(":
		p.elements += 2
		x, err := p.or()
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.quoted || c.text != ")" {
			return nil, unsupportedToken(c, ")")
		}
		return x, nil
	case "ALARM", "OK", "INSUFFICIENT_DATA":
		if c := p.next(); c.quoted || c.text != "(" {
			return nil, unsupportedToken(c, "(")
		}
		name := p.next()
		if name.eof || !name.quoted && (name.text == "(" || name.text == ")") || name.text == "" {
			return nil, unsupportedToken(name, "")
		}
		if c := p.next(); c.quoted || c.text != ")" {
			return nil, unsupportedToken(c, ")")
		}
		p.elements++
		if !containsString(p.children, name.text) {
			p.children = append(p.children, name.text)
		}
		return &ruleState{state: t.text, name: name.text}, nil
	}
	return nil, unsupportedToken(t, "")
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// childName is the alarm a rule's reference names: the name itself, or the name inside this account's and
// region's alarm ARN. Another account's or region's ARN names no alarm here ("").
func childName(ref, region, account string) string {
	prefix := "arn:aws:cloudwatch:" + region + ":" + account + ":alarm:"
	if name, ok := strings.CutPrefix(ref, prefix); ok {
		return name
	}
	if strings.HasPrefix(ref, "arn:") {
		return ""
	}
	return ref
}
