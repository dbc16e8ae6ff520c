// Package modelcheck checks a request's members against the constraints of its AWS service model — required,
// length, range, pattern, enum, and the same for list items and map keys and values — and reports every violation
// in one message, AWS's way:
//
//	2 validation errors detected: Value 'x' at 'functionName' failed to satisfy constraint: Member must …; Value …
//
// The shapes come from the models shipped with the AWS SDKs, turned into Go by the generator in ./gen (one
// generated file per service, beside its edge), never copied by hand. Constraints of a member are checked in the
// order AWS checks them: presence, then length, then pattern or enum (a value too long and of the wrong form gets
// both messages), members in the model's order.
package modelcheck

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Kind is a model shape's type.
type Kind string

// The model's shape types.
const (
	String    Kind = "string"
	Integer   Kind = "integer"
	Long      Kind = "long"
	Float     Kind = "float"
	Double    Kind = "double"
	Boolean   Kind = "boolean"
	Blob      Kind = "blob"
	Timestamp Kind = "timestamp"
	List      Kind = "list"
	Map       Kind = "map"
	Structure Kind = "structure"
)

// ShapeDef is a shape as the generator writes it: references to other shapes by name.
type ShapeDef struct {
	Kind             Kind
	Min, Max         float64
	HasMin, HasMax   bool
	Pattern          string // as the model (and AWS's messages) write it: Java syntax, implicitly anchored
	Enum             []string
	Members          []MemberDef // structures, in the model's order
	Item, Key, Value string      // lists and maps
}

// MemberDef is a structure member as the generator writes it.
type MemberDef struct {
	Name         string
	Shape        string
	Required     bool
	Location     string // "", "uri", "querystring", "header", "headers"
	LocationName string
}

// Shape is a resolved model shape.
type Shape struct {
	Name             string
	Kind             Kind
	Min, Max         float64
	HasMin, HasMax   bool
	Pattern          string
	Enum             []string
	Members          []Member
	Item, Key, Value *Shape

	match func(string) bool
}

// Member is a resolved structure member.
type Member struct {
	Name         string
	Shape        *Shape
	Required     bool
	Location     string
	LocationName string

	pathName string // Name with its first letter lowered, as violations name the member
}

// Model is a service's resolved shapes.
type Model struct{ shapes map[string]*Shape }

// Build resolves a generated shape table. It panics on a dangling reference or a pattern Go cannot run: both are
// generator bugs, caught by any test that builds the model.
func Build(defs map[string]ShapeDef) *Model {
	m := &Model{shapes: make(map[string]*Shape, len(defs))}
	for name, d := range defs {
		m.shapes[name] = &Shape{Name: name, Kind: d.Kind, Min: d.Min, Max: d.Max, HasMin: d.HasMin, HasMax: d.HasMax,
			Pattern: d.Pattern, Enum: d.Enum}
	}
	ref := func(name string) *Shape {
		if name == "" {
			return nil
		}
		s, ok := m.shapes[name]
		if !ok {
			panic("modelcheck: unknown shape " + name)
		}
		return s
	}
	for name, d := range defs {
		s := m.shapes[name]
		s.Item, s.Key, s.Value = ref(d.Item), ref(d.Key), ref(d.Value)
		for _, md := range d.Members {
			s.Members = append(s.Members, Member{Name: md.Name, Shape: ref(md.Shape), Required: md.Required,
				Location: md.Location, LocationName: md.LocationName, pathName: lowerFirst(md.Name)})
		}
		if d.Pattern != "" {
			match, err := CompilePattern(d.Pattern)
			if err != nil {
				panic(fmt.Sprintf("modelcheck: shape %s: %v", name, err))
			}
			s.match = match
		}
	}
	return m
}

// Shape returns the named shape, or nil.
func (m *Model) Shape(name string) *Shape { return m.shapes[name] }

// Violation is one failed constraint.
type Violation struct {
	Path       string // 'functionName', 'routingConfig.additionalVersionWeights'
	Value      any    // the value as decoded; nil prints as null
	Constraint string // "Member must have length less than or equal to 140"
}

func (v Violation) String() string {
	if v.Value == nil {
		return fmt.Sprintf("Value null at '%s' failed to satisfy constraint: %s", v.Path, v.Constraint)
	}
	return fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: %s", Format(v.Value), v.Path, v.Constraint)
}

// Message is AWS's one message for all of a request's violations ("" when there are none).
func Message(vs []Violation) string {
	switch len(vs) {
	case 0:
		return ""
	case 1:
		return "1 validation error detected: " + vs[0].String()
	}
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = v.String()
	}
	return fmt.Sprintf("%d validation errors detected: %s", len(vs), strings.Join(parts, "; "))
}

// Check validates a decoded input document (members by name: string, json.Number, bool, []any, map[string]any)
// against a structure shape. Values of the wrong JSON type are left to the decoder, which reports them its way.
func Check(s *Shape, doc map[string]any) []Violation {
	var out []Violation
	checkStruct(s, doc, "", &out)
	return out
}

func checkStruct(s *Shape, doc map[string]any, prefix string, out *[]Violation) {
	for _, m := range s.Members {
		v, present := doc[m.Name]
		path := m.pathName // no concatenation (and no allocation) at the top level, where most checks stop
		if path == "" {
			path = lowerFirst(m.Name) // a Member not made by Build
		}
		if prefix != "" {
			path = prefix + path
		}
		if !present || v == nil {
			if m.Required {
				*out = append(*out, Violation{Path: path, Constraint: "Member must not be null"})
			}
			continue
		}
		checkValue(m.Shape, v, path, out)
	}
}

// checkValue adds v's violations of s at path: each failing constraint of a scalar its own message; a list's or
// map's items, keys and values one message each, listing every constraint of the item shape, as AWS does.
func checkValue(s *Shape, v any, path string, out *[]Violation) {
	add := func(constraint string) {
		*out = append(*out, Violation{Path: path, Value: typed(s, v), Constraint: constraint})
	}
	switch s.Kind {
	case Structure:
		if doc, ok := v.(map[string]any); ok {
			checkStruct(s, doc, path+".", out)
		}
	case List:
		items, ok := v.([]any)
		if !ok {
			return
		}
		for _, c := range s.lengthFailures(len(items)) {
			add(c)
		}
		if s.Item == nil {
			return
		}
		for i, item := range items {
			if item == nil || len(scalarFailures(s.Item, item)) > 0 {
				add("Member must satisfy constraint: [" + strings.Join(append(s.Item.allConstraints(), "Member must not be null"), ", ") + "]")
				break
			}
			if s.Item.Kind == Structure {
				if doc, ok := item.(map[string]any); ok {
					checkStruct(s.Item, doc, fmt.Sprintf("%s.%d.member.", path, i+1), out)
				}
			}
		}
	case Map:
		entries, ok := v.(map[string]any)
		if !ok {
			return
		}
		for _, c := range s.lengthFailures(len(entries)) {
			add(c)
		}
		keys := make([]string, 0, len(entries))
		for k := range entries {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if s.Key != nil && slices.ContainsFunc(keys, func(k string) bool { return len(scalarFailures(s.Key, k)) > 0 }) {
			add("Map keys must satisfy constraint: [" + strings.Join(s.Key.allConstraints(), ", ") + "]")
		}
		if s.Value != nil && slices.ContainsFunc(keys, func(k string) bool {
			return entries[k] == nil || len(scalarFailures(s.Value, entries[k])) > 0
		}) {
			add("Map value must satisfy constraint: [" + strings.Join(append(s.Value.allConstraints(), "Member must not be null"), ", ") + "]")
		}
	default:
		for _, c := range scalarFailures(s, v) {
			add(c)
		}
	}
}

// scalarFailures lists the constraints of a string or number shape that v fails, in AWS's order.
func scalarFailures(s *Shape, v any) []string {
	switch s.Kind {
	case String:
		str, ok := v.(string)
		if !ok {
			return nil
		}
		fails := s.lengthFailures(utf8.RuneCountInString(str))
		if s.match != nil && !s.match(str) {
			fails = append(fails, "Member must satisfy regular expression pattern: "+s.Pattern)
		}
		if len(s.Enum) > 0 && !slices.Contains(s.Enum, str) {
			fails = append(fails, "Member must satisfy enum value set: ["+strings.Join(s.Enum, ", ")+"]")
		}
		return fails
	case Integer, Long, Float, Double:
		n, ok := number(v)
		if !ok {
			return nil
		}
		var fails []string
		if s.HasMin && n < s.Min {
			fails = append(fails, "Member must have value greater than or equal to "+s.bound(s.Min))
		}
		if s.HasMax && n > s.Max {
			fails = append(fails, "Member must have value less than or equal to "+s.bound(s.Max))
		}
		return fails
	}
	return nil
}

func (s *Shape) lengthFailures(n int) []string {
	var fails []string
	if s.HasMin && float64(n) < s.Min {
		fails = append(fails, "Member must have length greater than or equal to "+s.bound(s.Min))
	}
	if s.HasMax && float64(n) > s.Max {
		fails = append(fails, "Member must have length less than or equal to "+s.bound(s.Max))
	}
	return fails
}

// allConstraints lists every constraint of an item shape as AWS prints them inside "[…]": the upper bound first.
func (s *Shape) allConstraints() []string {
	var cs []string
	noun := "length"
	if s.Kind != String && s.Kind != List && s.Kind != Map && s.Kind != Blob {
		noun = "value"
	}
	if s.HasMax {
		cs = append(cs, "Member must have "+noun+" less than or equal to "+s.bound(s.Max))
	}
	if s.HasMin {
		cs = append(cs, "Member must have "+noun+" greater than or equal to "+s.bound(s.Min))
	}
	if s.Pattern != "" {
		cs = append(cs, "Member must satisfy regular expression pattern: "+s.Pattern)
	}
	if len(s.Enum) > 0 {
		cs = append(cs, "Member must satisfy enum value set: ["+strings.Join(s.Enum, ", ")+"]")
	}
	return cs
}

// bound prints a constraint's number as AWS (Java) does: 1.0 for floating-point shapes, 1 for the others.
func (s *Shape) bound(f float64) string {
	if s.Kind == Float || s.Kind == Double {
		return javaDouble(f)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

func javaDouble(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e7 {
		return strconv.FormatFloat(f, 'f', 1, 64)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// typed converts the numbers a floating-point shape holds (at any depth of a list or map) to float64, so that
// they print as AWS prints them: 2.0, not 2.
func typed(s *Shape, v any) any {
	switch s.Kind {
	case Float, Double:
		if f, ok := number(v); ok {
			return f
		}
	case List:
		if items, ok := v.([]any); ok && s.Item != nil {
			out := make([]any, len(items))
			for i, item := range items {
				out[i] = typed(s.Item, item)
			}
			return out
		}
	case Map:
		if entries, ok := v.(map[string]any); ok && s.Value != nil {
			out := make(map[string]any, len(entries))
			for k, e := range entries {
				out[k] = typed(s.Value, e)
			}
			return out
		}
	}
	return v
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case float64:
		return n, true
	case int:
		return float64(n), true
	}
	return 0, false
}

// Format prints a value as AWS's messages do (Java's toString): lists as [a, b], maps as {k=v}, whole numbers of
// floating-point members as 2.0.
func Format(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return x
	case json.Number:
		if strings.ContainsAny(string(x), ".eE") {
			if f, err := x.Float64(); err == nil {
				return javaDouble(f)
			}
		}
		return string(x)
	case float64:
		return javaDouble(x)
	case bool:
		return strconv.FormatBool(x)
	case []any:
		parts := make([]string, len(x))
		for i, item := range x {
			parts[i] = Format(item)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + "=" + Format(x[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return fmt.Sprint(v)
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
