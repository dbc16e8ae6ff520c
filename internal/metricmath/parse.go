package metricmath

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// tokenKind classifies a token of an expression.
type tokenKind int

const (
	tokEOF    tokenKind = iota
	tokNumber           // 12, 0.5, 1e-3
	tokID               // an id: lower-case letter, then letters, digits, underscores
	tokName             // a function or keyword: upper-case letter, then letters, digits, underscores
	tokString           // "text"
	tokOp               // + - * / ^ == != < > <= >= && || ( ) [ ] ,
)

type token struct {
	kind tokenKind
	text string // as written (a string token: its contents, unquoted)
	pos  int    // 0-based character offset in the expression
}

// parseError is a syntax error: CloudWatch's "Unsupported token 'x' at char N[, must be: 'y']".
type parseError struct {
	token string
	pos   int
	want  string // what the grammar needed there, if one thing
}

func (e *parseError) Error() string {
	msg := fmt.Sprintf("Unsupported token '%s' at char %d", e.token, e.pos)
	if e.want != "" {
		msg += ", must be: '" + e.want + "'"
	}
	return msg
}

// lex splits an expression into tokens; an unknown character is a parseError.
func lex(src string) ([]token, error) {
	var out []token
	pos := 0 // in characters, as CloudWatch counts them
	for i := 0; i < len(src); {
		r, size := utf8.DecodeRuneInString(src[i:])
		start, startPos := i, pos
		switch {
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
			i += size
			pos++
			continue
		case r >= '0' && r <= '9' || r == '.':
			j := i
			for j < len(src) && (isDigit(src[j]) || src[j] == '.') {
				j++
			}
			if j < len(src) && (src[j] == 'e' || src[j] == 'E') {
				k := j + 1
				if k < len(src) && (src[k] == '+' || src[k] == '-') {
					k++
				}
				if k < len(src) && isDigit(src[k]) {
					for k < len(src) && isDigit(src[k]) {
						k++
					}
					j = k
				}
			}
			text := src[i:j]
			if _, err := strconv.ParseFloat(text, 64); err != nil {
				return nil, &parseError{token: text, pos: startPos}
			}
			out = append(out, token{tokNumber, text, startPos})
			pos += j - i
			i = j
			continue
		case r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z':
			j := i
			for j < len(src) && isWordByte(src[j]) {
				j++
			}
			kind := tokID
			if r >= 'A' && r <= 'Z' {
				kind = tokName
			}
			out = append(out, token{kind, src[i:j], startPos})
			pos += j - i
			i = j
			continue
		case r == '"' || r == '“' || r == '”':
			// Straight quotes, and the typographic ones CloudWatch's own documentation prints in its examples.
			j := i + size
			n := 1
			var b strings.Builder
			closed := false
			for j < len(src) {
				c, cs := utf8.DecodeRuneInString(src[j:])
				j += cs
				n++
				if c == '"' || c == '“' || c == '”' {
					closed = true
					break
				}
				b.WriteRune(c)
			}
			if !closed {
				return nil, &parseError{token: src[start:], pos: startPos}
			}
			out = append(out, token{tokString, b.String(), startPos})
			pos += n
			i = j
			continue
		}
		if op := operatorAt(src[i:]); op != "" {
			out = append(out, token{tokOp, op, startPos})
			i += len(op)
			pos += len(op)
			continue
		}
		return nil, &parseError{token: string(r), pos: startPos}
	}
	return append(out, token{tokEOF, "", pos}), nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || isDigit(c) || c == '_'
}

var operators = []string{"==", "!=", "<=", ">=", "&&", "||", "+", "-", "*", "/", "^", "<", ">", "(", ")", "[", "]", ","}

func operatorAt(s string) string {
	for _, op := range operators {
		if strings.HasPrefix(s, op) {
			return op
		}
	}
	return ""
}

// node is a parsed expression.
type node interface{ position() int }

type (
	numberNode struct {
		pos   int
		value float64
	}
	refNode struct { // an id: a metric query or another expression
		pos int
		id  string
	}
	stringNode struct {
		pos  int
		text string
	}
	keywordNode struct { // REPEAT, LINEAR: FILL's fillers
		pos  int
		word string
	}
	arrayNode struct {
		pos   int
		elems []node
	}
	unaryNode struct { // unary minus
		pos int
		x   node
	}
	binaryNode struct {
		pos  int // of the operator
		op   string
		l, r node
	}
	callNode struct {
		pos  int
		name string
		args []node
	}
)

func (n *numberNode) position() int  { return n.pos }
func (n *refNode) position() int     { return n.pos }
func (n *stringNode) position() int  { return n.pos }
func (n *keywordNode) position() int { return n.pos }
func (n *arrayNode) position() int   { return n.pos }
func (n *unaryNode) position() int   { return n.pos }
func (n *binaryNode) position() int  { return n.pos }
func (n *callNode) position() int    { return n.pos }

// keywords are the upper-case words that are not functions.
var keywords = map[string]bool{"REPEAT": true, "LINEAR": true}

// maxDepth bounds the nesting of an expression (parentheses, calls, arrays, unary minus), so a hostile
// expression cannot exhaust the stack; 2,048 characters cannot nest much deeper anyway.
const maxDepth = 200

type parser struct {
	toks  []token
	i     int
	depth int
}

// parse parses one expression.
func parse(src string) (node, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		return nil, p.unexpected(t, "")
	}
	return n, nil
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

// unexpected reports t where the grammar needed want (or anything else when want is empty).
func (p *parser) unexpected(t token, want string) error {
	text := t.text
	if t.kind == tokString {
		text = `"` + t.text + `"`
	}
	if t.kind == tokEOF {
		text = "<EOF>"
	}
	return &parseError{token: text, pos: t.pos, want: want}
}

func (p *parser) isOp(ops ...string) (string, bool) {
	t := p.peek()
	if t.kind == tokOp {
		for _, op := range ops {
			if t.text == op {
				return op, true
			}
		}
	}
	if t.kind == tokName {
		for _, op := range ops {
			if t.text == op {
				return op, true
			}
		}
	}
	return "", false
}

func (p *parser) binary(sub func() (node, error), ops ...string) (node, error) {
	l, err := sub()
	if err != nil {
		return nil, err
	}
	for {
		op, ok := p.isOp(ops...)
		if !ok {
			return l, nil
		}
		t := p.next()
		r, err := sub()
		if err != nil {
			return nil, err
		}
		switch op { // one spelling per operator
		case "||":
			op = "OR"
		case "&&":
			op = "AND"
		}
		l = &binaryNode{pos: t.pos, op: op, l: l, r: r}
	}
}

func (p *parser) or() (node, error)  { return p.binary(p.and, "OR", "||") }
func (p *parser) and() (node, error) { return p.binary(p.comparison, "AND", "&&") }
func (p *parser) comparison() (node, error) {
	return p.binary(p.additive, "==", "!=", "<=", ">=", "<", ">")
}
func (p *parser) additive() (node, error)       { return p.binary(p.multiplicative, "+", "-") }
func (p *parser) multiplicative() (node, error) { return p.binary(p.unary, "*", "/") }

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		t := p.peek()
		return &parseError{token: t.text, pos: t.pos}
	}
	return nil
}

func (p *parser) unary() (node, error) {
	if _, ok := p.isOp("-"); ok {
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer func() { p.depth-- }()
		t := p.next()
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &unaryNode{pos: t.pos, x: x}, nil
	}
	return p.power()
}

// power is right-associative and binds tighter than unary minus: -2^2 is -(2^2), 2^-1 is 2^(-1).
func (p *parser) power() (node, error) {
	base, err := p.primary()
	if err != nil {
		return nil, err
	}
	if _, ok := p.isOp("^"); !ok {
		return base, nil
	}
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	t := p.next()
	exp, err := p.unary()
	if err != nil {
		return nil, err
	}
	return &binaryNode{pos: t.pos, op: "^", l: base, r: exp}, nil
}

func (p *parser) primary() (node, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	t := p.next()
	switch t.kind {
	case tokNumber:
		v, _ := strconv.ParseFloat(t.text, 64) // lex checked it
		return &numberNode{pos: t.pos, value: v}, nil
	case tokID:
		return &refNode{pos: t.pos, id: t.text}, nil
	case tokString:
		return &stringNode{pos: t.pos, text: t.text}, nil
	case tokName:
		if _, ok := p.isOp("("); ok {
			return p.call(t)
		}
		if keywords[t.text] {
			return &keywordNode{pos: t.pos, word: t.text}, nil
		}
		return nil, p.unexpected(t, "")
	case tokOp:
		switch t.text {
		case "(":
			n, err := p.or()
			if err != nil {
				return nil, err
			}
			if c := p.next(); c.kind != tokOp || c.text != ")" {
				return nil, p.unexpected(c, ")")
			}
			return n, nil
		case "[":
			arr := &arrayNode{pos: t.pos}
			for {
				e, err := p.or()
				if err != nil {
					return nil, err
				}
				arr.elems = append(arr.elems, e)
				c := p.next()
				if c.kind == tokOp && c.text == "]" {
					return arr, nil
				}
				if c.kind != tokOp || c.text != "," {
					return nil, p.unexpected(c, "]")
				}
			}
		}
	}
	return nil, p.unexpected(t, "")
}

// call parses NAME(args…); the name token has been read and "(" is next.
func (p *parser) call(name token) (node, error) {
	p.next() // (
	c := &callNode{pos: name.pos, name: name.text}
	if _, ok := p.isOp(")"); ok {
		p.next()
		return c, nil
	}
	for {
		a, err := p.or()
		if err != nil {
			return nil, err
		}
		c.args = append(c.args, a)
		t := p.next()
		if t.kind == tokOp && t.text == ")" {
			return c, nil
		}
		if t.kind != tokOp || t.text != "," {
			return nil, p.unexpected(t, ")")
		}
	}
}

// refs lists the ids an expression refers to, in order of appearance.
func refs(n node) []*refNode {
	var out []*refNode
	var walk func(node)
	walk = func(n node) {
		switch n := n.(type) {
		case *refNode:
			out = append(out, n)
		case *arrayNode:
			for _, e := range n.elems {
				walk(e)
			}
		case *unaryNode:
			walk(n.x)
		case *binaryNode:
			walk(n.l)
			walk(n.r)
		case *callNode:
			for _, a := range n.args {
				walk(a)
			}
		}
	}
	walk(n)
	return out
}

// metricsFilters lists the arguments of the METRICS calls of an expression ("" for METRICS()).
func metricsFilters(n node) []string {
	var out []string
	var walk func(node)
	walk = func(n node) {
		switch n := n.(type) {
		case *arrayNode:
			for _, e := range n.elems {
				walk(e)
			}
		case *unaryNode:
			walk(n.x)
		case *binaryNode:
			walk(n.l)
			walk(n.r)
		case *callNode:
			if n.name == "METRICS" {
				sub := ""
				if len(n.args) == 1 {
					if s, ok := n.args[0].(*stringNode); ok {
						sub = s.text
					}
				}
				out = append(out, sub)
			}
			for _, a := range n.args {
				walk(a)
			}
		}
	}
	walk(n)
	return out
}
