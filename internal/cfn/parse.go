package cfn

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Parse reads a template in YAML or JSON and converts YAML's short-form tags (!Ref, !GetAtt, !Sub, …) to the long
// form. Errors are *Error values with the line, to be prefixed with the file name: "template.yaml line 12: …".
//
// A document starting with "{" is read as JSON first (encoding/json accepts what YAML rejects, such as tab
// indentation) and as YAML only if that fails. As in CloudFormation, YAML aliases and merge keys are rejected;
// duplicate keys are rejected in both syntaxes rather than silently resolved.
func Parse(src []byte) (*Template, error) {
	src = bytes.TrimPrefix(src, []byte("\uFEFF"))
	trimmed := bytes.TrimSpace(src)
	if len(trimmed) == 0 {
		return nil, errorf("Template format error: the template is empty")
	}
	var root *yaml.Node
	var err error
	if trimmed[0] == '{' {
		root, err = parseJSON(src)
		if err != nil {
			if y, yerr := parseYAML(src); yerr == nil {
				root, err = y, nil
			}
		}
	} else {
		root, err = parseYAML(src)
	}
	if err != nil {
		return nil, err
	}
	c := &converter{lines: map[string]int{"": root.Line}}
	v, err := c.value(root, "")
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, &Error{Line: root.Line, Err: errors.New("Template format error: a template must be a map of sections")}
	}
	t, err := build(m, c.lines, c.resourceOrder)
	if err != nil {
		return nil, err
	}
	if len(c.parameterOrder) == len(t.Parameters) {
		t.ParameterOrder = c.parameterOrder
	}
	return t, nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func parseYAML(src []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if err == io.EOF {
			return nil, errorf("Template format error: the template is empty")
		}
		return nil, yamlError(src, err)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		return nil, &Error{Line: extra.Line, Err: errors.New("Template format error: a template is a single YAML document")}
	case err != io.EOF:
		return nil, yamlError(src, err)
	}
	root := &doc
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			return nil, errorf("Template format error: the template is empty")
		}
		root = doc.Content[0]
	}
	return root, nil
}

func yamlError(src []byte, err error) error {
	msg := err.Error()
	m := yamlLine.FindStringSubmatch(msg)
	if m == nil {
		return errorf("Template format error: YAML not well-formed: %s", strings.TrimPrefix(msg, "yaml: "))
	}
	line, _ := strconv.Atoi(m[1])
	return &Error{Line: errorLine(src, m[2], line), Err: fmt.Errorf("Template format error: YAML not well-formed: %s", m[2])}
}

// errorLine finds the line of a YAML syntax error. yaml.v3 reports the start of the enclosing construct, 0-based
// for parser errors, rather than the offending line; the offending line is the first from there on at which the
// document's prefix fails with the same message. Prefixes of YAML are mostly YAML, so a binary search finds it.
func errorLine(src []byte, msg string, reported int) int {
	ends := lineIndex(src)
	fails := func(lines int) bool {
		end := int64(len(src))
		if lines <= len(ends) {
			end = ends[lines-1]
		}
		dec := yaml.NewDecoder(bytes.NewReader(src[:end]))
		for {
			var n yaml.Node
			err := dec.Decode(&n)
			if err == io.EOF {
				return false
			}
			if err != nil {
				return strings.HasSuffix(err.Error(), msg)
			}
		}
	}
	lo, hi := max(reported, 1), len(ends)+1
	if lo > hi || !fails(hi) {
		return reported
	}
	for lo < hi {
		mid := (lo + hi) / 2
		if fails(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// parseJSON reads JSON into the yaml.Node tree the YAML path produces, so both share the conversion and its line
// index.
func parseJSON(src []byte) (*yaml.Node, error) {
	lines := lineIndex(src)
	dec := json.NewDecoder(bytes.NewReader(src))
	dec.UseNumber()
	n, err := jsonNode(dec, lines)
	if err != nil {
		return nil, jsonError(err, lines)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &Error{Line: lines.at(dec.InputOffset()), Err: errors.New("Template format error: JSON not well-formed: data after the template")}
	}
	return n, nil
}

func jsonNode(dec *json.Decoder, lines newlines) (*yaml.Node, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	// The offset just past a token is on the token's line: JSON tokens never span lines.
	n := &yaml.Node{Line: lines.at(dec.InputOffset())}
	switch tok := tok.(type) {
	case json.Delim:
		n.Kind, n.Tag = yaml.SequenceNode, "!!seq"
		if tok == '{' {
			n.Kind, n.Tag = yaml.MappingNode, "!!map"
		}
		for dec.More() {
			if n.Kind == yaml.MappingNode {
				key, err := dec.Token()
				if err != nil {
					return nil, err
				}
				n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key.(string),
					Line: lines.at(dec.InputOffset())})
			}
			item, err := jsonNode(dec, lines)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, item)
		}
		if _, err := dec.Token(); err != nil {
			return nil, err
		}
		return n, nil
	case string:
		n.Tag, n.Value = "!!str", tok
	case json.Number:
		n.Tag, n.Value = "!!float", tok.String()
		if _, err := tok.Int64(); err == nil {
			n.Tag = "!!int"
		} else if _, err := tok.Float64(); err != nil {
			n.Tag = "!!str" // beyond float64: keep the digits
		}
	case bool:
		n.Tag, n.Value = "!!bool", strconv.FormatBool(tok)
	case nil:
		n.Tag, n.Value = "!!null", "null"
	}
	n.Kind = yaml.ScalarNode
	return n, nil
}

func jsonError(err error, lines newlines) error {
	var syntax *json.SyntaxError
	switch {
	case errors.As(err, &syntax):
		return &Error{Line: lines.at(max(syntax.Offset-1, 0)), Err: fmt.Errorf("Template format error: JSON not well-formed: %s", syntax.Error())}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return &Error{Line: len(lines) + 1, Err: errors.New("Template format error: JSON not well-formed: unexpected end of input")}
	}
	return errorf("Template format error: JSON not well-formed: %v", err)
}

// newlines holds the offsets of the line breaks of a source.
type newlines []int64

func lineIndex(src []byte) newlines {
	var nl newlines
	for i, c := range src {
		if c == '\n' {
			nl = append(nl, int64(i))
		}
	}
	return nl
}

// at returns the 1-based line of a byte offset.
func (nl newlines) at(off int64) int {
	return sort.Search(len(nl), func(i int) bool { return nl[i] >= off }) + 1
}

// shortForms are the YAML tags CloudFormation understands; each becomes "Fn::<tag>" except Ref and Condition. The
// rule functions are kept so that Rules sections parse.
var shortForms = []string{"Ref", "Condition", "GetAtt", "Base64", "Cidr", "FindInMap", "GetAZs", "ImportValue",
	"Join", "Select", "Split", "Sub", "Transform", "And", "Equals", "If", "Not", "Or", "Length", "ToJsonString",
	"Contains", "EachMemberEquals", "EachMemberIn", "RefAll", "ValueOf", "ValueOfAll"}

// converter turns a yaml.Node tree into a long-form document, recording the line of every path.
type converter struct {
	lines          map[string]int
	resourceOrder  []string
	parameterOrder []string
}

func (c *converter) fail(n *yaml.Node, format string, args ...any) error {
	return &Error{Line: n.Line, Err: fmt.Errorf(format, args...)}
}

func (c *converter) value(n *yaml.Node, path string) (any, error) {
	tag := ""
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		tag = n.Tag[1:]
	}
	var v any
	switch n.Kind {
	case yaml.AliasNode:
		return nil, c.fail(n, "Template format error: YAML aliases are not allowed in CloudFormation templates")
	case yaml.ScalarNode:
		var err error
		if v, err = scalar(n, tag); err != nil {
			return nil, c.fail(n, "Template format error: YAML not well-formed: %v", err)
		}
	case yaml.SequenceNode:
		list := make([]any, 0, len(n.Content))
		for i, item := range n.Content {
			p := index(path, i)
			c.lines[p] = item.Line
			x, err := c.value(item, p)
			if err != nil {
				return nil, err
			}
			list = append(list, x)
		}
		v = list
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		keyLines := make(map[string]int, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, item := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode || (k.Tag != "" && !strings.HasPrefix(k.Tag, "!!")) {
				return nil, c.fail(k, "Template format error: a map key must be a plain string")
			}
			if k.Tag == "!!merge" {
				return nil, c.fail(k, "Template format error: YAML merge keys (<<) are not allowed in CloudFormation templates")
			}
			if first, dup := keyLines[k.Value]; dup {
				return nil, c.fail(k, "Template format error: duplicate key %q (first at line %d)", k.Value, first)
			}
			keyLines[k.Value] = k.Line
			p := child(path, k.Value)
			c.lines[p] = k.Line
			x, err := c.value(item, p)
			if err != nil {
				return nil, err
			}
			m[k.Value] = x
			switch path {
			case "Resources":
				c.resourceOrder = append(c.resourceOrder, k.Value)
			case "Parameters":
				c.parameterOrder = append(c.parameterOrder, k.Value)
			}
		}
		v = m
	default:
		return nil, c.fail(n, "Template format error: unexpected YAML node")
	}
	if tag == "" {
		return v, nil
	}
	return c.shortForm(n, tag, v)
}

// scalar keeps YAML's types for numbers, booleans and null. Timestamps stay text: CloudFormation has no such type
// (think of an unquoted AWSTemplateFormatVersion).
func scalar(n *yaml.Node, tag string) (any, error) {
	if tag != "" {
		return n.Value, nil
	}
	switch n.ShortTag() {
	case "!!null":
		return nil, nil
	case "!!bool", "!!int", "!!float", "!!binary":
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, err
		}
		if u, ok := v.(uint64); ok { // beyond int64
			return float64(u), nil
		}
		return v, nil
	}
	return n.Value, nil
}

func (c *converter) shortForm(n *yaml.Node, tag string, arg any) (any, error) {
	if !slices.Contains(shortForms, tag) {
		return nil, c.fail(n, "Template format error: unknown tag !%s", tag)
	}
	switch tag {
	case "Ref", "Condition":
		if n.Kind != yaml.ScalarNode {
			return nil, c.fail(n, "Template format error: !%s takes a name", tag)
		}
		return map[string]any{tag: arg}, nil
	case "GetAtt":
		if s, ok := arg.(string); ok {
			id, attr, _ := strings.Cut(s, ".")
			if id == "" || attr == "" {
				return nil, c.fail(n, "Template format error: !GetAtt %q is not LogicalId.AttributeName", s)
			}
			arg = []any{id, attr}
		}
	}
	return map[string]any{"Fn::" + tag: arg}, nil
}
