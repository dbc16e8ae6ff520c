package cfn

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// SAMTransform is the Transform that marks a SAM template; it alone allows Globals and SAM's resource attributes.
const SAMTransform = "AWS::Serverless-2016-10-31"

// Template is a parsed template. Its sections share their maps with Raw: treat them as read-only, and copy Raw
// before transforming it.
type Template struct {
	FormatVersion string
	Description   string
	// Transform lists the transforms in order; a {Name, Parameters} entry (AWS::Include) contributes its Name.
	Transform  []string
	Metadata   map[string]any
	Parameters map[string]Parameter
	Mappings   map[string]any
	Conditions map[string]any
	Resources  map[string]*Resource
	// ResourceOrder is the declaration order, which breaks ties in Order. FromMap has none to keep and sorts the
	// logical IDs; a caller that knows better may replace it with a permutation.
	ResourceOrder []string
	// ParameterOrder is the parameters' declaration order as Parse read it (nil from FromMap: use the sorted names).
	ParameterOrder []string
	Outputs        map[string]Output
	Globals        map[string]any // SAM's section, left to the transform
	Rules          map[string]any // kept, never evaluated
	Raw            map[string]any // the whole document in long form
}

// Parameter is a declared parameter. Numbers given as strings in the template are converted.
type Parameter struct {
	Type                  string
	Default               any // a scalar; nil when absent
	AllowedValues         []any
	AllowedPattern        string
	MinLength, MaxLength  *int
	MinValue, MaxValue    *float64
	NoEcho                bool
	Description           string
	ConstraintDescription string
}

// Resource is a declared resource with its attributes.
type Resource struct {
	Type                string
	Properties          map[string]any
	DependsOn           []string
	Condition           string
	Metadata            map[string]any
	UpdatePolicy        map[string]any
	CreationPolicy      map[string]any
	DeletionPolicy      string
	UpdateReplacePolicy string
}

// Output is a declared output; Value and Export are unevaluated.
type Output struct {
	Value       any
	Description string
	Condition   string
	Export      map[string]any
}

// HasTransform reports whether the template declares the named transform.
func (t *Template) HasTransform(name string) bool { return slices.Contains(t.Transform, name) }

// FromMap builds a Template from a long-form document, such as the output of a transform. raw is deep-copied, and
// values of other Go types than the ones Parse produces (map[string]string, []string, json.Number, int64, …) are
// converted to them.
func FromMap(raw map[string]any) (*Template, error) {
	v, err := normalize(raw, "")
	if err != nil {
		return nil, err
	}
	m := v.(map[string]any)
	var order []string
	if res, ok := m["Resources"].(map[string]any); ok {
		order = slices.Sorted(maps.Keys(res))
	}
	return build(m, nil, order)
}

// builder turns the long-form document into a Template, checking what CloudFormation checks before it creates
// anything. lines, when known, let errors point at the source.
type builder struct {
	lines map[string]int
	t     *Template
}

func (b *builder) line(path string) int {
	if b.lines == nil {
		return 0
	}
	for p := path; ; p = parent(p) {
		if l, ok := b.lines[p]; ok {
			return l
		}
		if p == "" {
			return 0
		}
	}
}

// fail reports a problem at path, naming it.
func (b *builder) fail(path, format string, args ...any) error {
	return &Error{Line: b.line(path), Path: path, Err: fmt.Errorf(format, args...)}
}

// failAt reports a problem whose message already names the place (CloudFormation's wording).
func (b *builder) failAt(path, format string, args ...any) error {
	return &Error{Line: b.line(path), Err: fmt.Errorf(format, args...)}
}

var sections = []string{"AWSTemplateFormatVersion", "Description", "Metadata", "Transform", "Parameters", "Mappings",
	"Conditions", "Resources", "Outputs", "Globals", "Rules"}

func build(raw map[string]any, lines map[string]int, order []string) (*Template, error) {
	b := &builder{lines: lines, t: &Template{Raw: raw}}
	t := b.t
	var unknown []string
	for _, k := range slices.Sorted(maps.Keys(raw)) {
		if !slices.Contains(sections, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		return nil, b.failAt(unknown[0], "Template format error: Invalid template property or properties [%s]",
			strings.Join(unknown, ", "))
	}
	if v, ok := raw["AWSTemplateFormatVersion"]; ok {
		s, _ := scalarString(v)
		if s != "2010-09-09" {
			return nil, b.fail("AWSTemplateFormatVersion", "Template format error: unsupported version %v; the only one is 2010-09-09", v)
		}
		t.FormatVersion = s
	}
	if v, ok := raw["Description"]; ok {
		s, ok := scalarString(v)
		if !ok {
			return nil, b.fail("Description", "Template format error: Every Description member must be a string.")
		}
		t.Description = s
	}
	if err := b.transform(raw["Transform"]); err != nil {
		return nil, err
	}
	var err error
	if t.Metadata, err = b.mapSection(raw, "Metadata"); err != nil {
		return nil, err
	}
	if t.Mappings, err = b.mapSection(raw, "Mappings"); err != nil {
		return nil, err
	}
	if t.Conditions, err = b.mapSection(raw, "Conditions"); err != nil {
		return nil, err
	}
	if t.Globals, err = b.mapSection(raw, "Globals"); err != nil {
		return nil, err
	}
	if t.Globals != nil && !t.HasTransform(SAMTransform) {
		return nil, b.fail("Globals", "Template format error: Globals needs Transform %s", SAMTransform)
	}
	if t.Rules, err = b.mapSection(raw, "Rules"); err != nil {
		return nil, err
	}
	if err := b.mappings(); err != nil {
		return nil, err
	}
	if err := b.parameters(raw["Parameters"]); err != nil {
		return nil, err
	}
	if err := b.resources(raw["Resources"], order); err != nil {
		return nil, err
	}
	if err := b.outputs(raw["Outputs"]); err != nil {
		return nil, err
	}
	// CloudFormation rejects an unknown condition in any Fn::If before it creates anything, not when it gets there.
	for _, section := range []string{"Resources", "Outputs"} {
		if err := b.checkIfs(raw[section], section); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// checkIfs reports a Fn::If whose condition is not declared.
func (b *builder) checkIfs(v any, path string) error {
	switch v := v.(type) {
	case []any:
		for i, item := range v {
			if err := b.checkIfs(item, index(path, i)); err != nil {
				return err
			}
		}
	case map[string]any:
		if args, ok := v["Fn::If"].([]any); ok && len(v) == 1 && len(args) > 0 {
			if name, ok := args[0].(string); ok {
				if _, ok := b.t.Conditions[name]; !ok {
					return b.fail(path, "Template format error: Unresolved condition dependency %s in Fn::If", name)
				}
			}
		}
		for _, k := range slices.Sorted(maps.Keys(v)) {
			if err := b.checkIfs(v[k], child(path, k)); err != nil {
				return err
			}
		}
	}
	return nil
}

func (b *builder) mapSection(raw map[string]any, name string) (map[string]any, error) {
	v, ok := raw[name]
	if !ok || v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, b.fail(name, "Template format error: %s must be a map", name)
	}
	return m, nil
}

func (b *builder) transform(v any) error {
	var items []any
	switch v := v.(type) {
	case nil:
		return nil
	case string:
		items = []any{v}
	case []any:
		items = v
	default:
		return b.fail("Transform", "Template format error: Transform must be a string or a list")
	}
	for i, item := range items {
		name, ok := item.(string)
		if m, isMap := item.(map[string]any); isMap {
			name, ok = m["Name"].(string)
		}
		if !ok || name == "" {
			return b.fail(index("Transform", i), "Template format error: a transform is a name or a map with a Name")
		}
		b.t.Transform = append(b.t.Transform, name)
	}
	return nil
}

func (b *builder) mappings() error {
	for _, name := range slices.Sorted(maps.Keys(b.t.Mappings)) {
		path := child("Mappings", name)
		if !alphanumeric(name) {
			return b.failAt(path, "Template format error: Mapping name %s is non alphanumeric.", name)
		}
		m, ok := b.t.Mappings[name].(map[string]any)
		if !ok || len(m) == 0 {
			return b.failAt(path, "Template format error: Every Mappings member %s must be a map", name)
		}
		for _, key := range slices.Sorted(maps.Keys(m)) {
			if _, ok := m[key].(map[string]any); !ok {
				return b.failAt(child(path, key), "Template format error: Every Mappings attribute must be a map: %s::%s", name, key)
			}
		}
	}
	return nil
}

func (b *builder) parameters(v any) error {
	if v == nil {
		return nil
	}
	params, ok := v.(map[string]any)
	if !ok {
		return b.fail("Parameters", "Template format error: Parameters must be a map")
	}
	b.t.Parameters = make(map[string]Parameter, len(params))
	for _, name := range slices.Sorted(maps.Keys(params)) {
		path := child("Parameters", name)
		if !alphanumeric(name) {
			return b.failAt(path, "Template format error: Parameter name %s is non alphanumeric.", name)
		}
		m, ok := params[name].(map[string]any)
		if !ok {
			return b.fail(path, "Template format error: Every Parameters object must be a map")
		}
		p, err := b.parameter(path, m)
		if err != nil {
			return err
		}
		b.t.Parameters[name] = p
	}
	return nil
}

func (b *builder) parameter(path string, m map[string]any) (Parameter, error) {
	var p Parameter
	for _, attr := range slices.Sorted(maps.Keys(m)) {
		v, at := m[attr], child(path, attr)
		var ok bool
		var err error
		switch attr {
		case "Type":
			p.Type, ok = v.(string)
			if ok {
				_, ok = kindOf(p.Type)
			}
			if !ok {
				return p, b.failAt(at, "Template format error: Unrecognized parameter type: %v", v)
			}
		case "Default":
			_, ok = scalarString(v)
			if !ok {
				return p, b.fail(at, "Template format error: Every Default member must be a string.")
			}
			p.Default = v
		case "AllowedValues":
			p.AllowedValues, ok = v.([]any)
			for _, a := range p.AllowedValues {
				if _, isScalar := scalarString(a); !isScalar {
					ok = false
				}
			}
			if !ok {
				return p, b.fail(at, "Template format error: Every AllowedValues member must be a list of strings.")
			}
		case "AllowedPattern":
			if p.AllowedPattern, ok = v.(string); !ok {
				return p, b.fail(at, "Template format error: AllowedPattern must be a string")
			}
		case "MinLength", "MaxLength":
			var n int
			if n, err = integer(v); err != nil {
				return p, b.fail(at, "Template format error: %s must be an integer", attr)
			}
			if attr == "MinLength" {
				p.MinLength = &n
			} else {
				p.MaxLength = &n
			}
		case "MinValue", "MaxValue":
			s, _ := scalarString(v)
			f, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return p, b.fail(at, "Template format error: %s must be a number", attr)
			}
			if attr == "MinValue" {
				p.MinValue = &f
			} else {
				p.MaxValue = &f
			}
		case "NoEcho":
			s, _ := scalarString(v)
			if p.NoEcho, err = strconv.ParseBool(s); err != nil || (s != "true" && s != "false") {
				return p, b.fail(at, "Template format error: NoEcho must be true or false")
			}
		case "Description", "ConstraintDescription":
			s, ok := scalarString(v)
			if !ok {
				return p, b.fail(at, "Template format error: %s must be a string", attr)
			}
			if attr == "Description" {
				p.Description = s
			} else {
				p.ConstraintDescription = s
			}
		default:
			return p, b.failAt(at, "Template format error: Invalid template parameter property '%s'", attr)
		}
	}
	if p.Type == "" {
		return p, b.failAt(path, "Template format error: Every Parameters object must contain a Type member.")
	}
	return p, nil
}

// resourceAttributes are CloudFormation's; samAttributes are accepted only while the SAM transform is pending.
var (
	resourceAttributes = []string{"Type", "Properties", "DependsOn", "Condition", "Metadata", "UpdatePolicy",
		"CreationPolicy", "DeletionPolicy", "UpdateReplacePolicy"}
	samAttributes = []string{"Connectors", "IgnoreGlobals"}
)

func (b *builder) resources(v any, order []string) error {
	res, ok := v.(map[string]any)
	if !ok && v != nil {
		return b.fail("Resources", "Template format error: Resources must be a map")
	}
	if len(res) == 0 {
		return b.failAt("Resources", "Template format error: At least one Resources member must be defined.")
	}
	t := b.t
	t.Resources = make(map[string]*Resource, len(res))
	if len(order) != len(res) {
		order = slices.Sorted(maps.Keys(res))
	}
	t.ResourceOrder = order
	for _, id := range order {
		path := child("Resources", id)
		if !alphanumeric(id) {
			return b.failAt(path, "Template format error: Resource name %s is non alphanumeric.", id)
		}
		m, ok := res[id].(map[string]any)
		if !ok {
			return b.failAt(path, "Template format error: [/Resources/%s] Every Resources object must be a map.", id)
		}
		r, err := b.resource(id, path, m)
		if err != nil {
			return err
		}
		t.Resources[id] = r
	}
	return nil
}

func (b *builder) resource(id, path string, m map[string]any) (*Resource, error) {
	r := &Resource{}
	sam := b.t.HasTransform(SAMTransform)
	for _, attr := range slices.Sorted(maps.Keys(m)) {
		v, at := m[attr], child(path, attr)
		var ok bool
		switch attr {
		case "Type":
			if r.Type, ok = v.(string); !ok || r.Type == "" {
				return nil, b.fail(at, "Template format error: Type must be a resource type name")
			}
		case "Properties", "Metadata", "UpdatePolicy", "CreationPolicy":
			mv, ok := v.(map[string]any)
			if !ok && v != nil {
				return nil, b.fail(at, "Template format error: %s must be a map", attr)
			}
			switch attr {
			case "Properties":
				r.Properties = mv
			case "Metadata":
				r.Metadata = mv
			case "UpdatePolicy":
				r.UpdatePolicy = mv
			default:
				r.CreationPolicy = mv
			}
		case "DependsOn":
			deps, err := b.dependsOn(at, v)
			if err != nil {
				return nil, err
			}
			r.DependsOn = deps
		case "Condition":
			if r.Condition, ok = v.(string); !ok {
				return nil, b.fail(at, "Template format error: Condition must be the name of a condition")
			}
			if _, ok := b.t.Conditions[r.Condition]; !ok {
				return nil, b.fail(at, "Template format error: Unresolved condition dependency %s", r.Condition)
			}
		case "DeletionPolicy", "UpdateReplacePolicy":
			s, _ := v.(string)
			allowed := []string{"Delete", "Retain", "Snapshot"}
			if attr == "DeletionPolicy" {
				allowed = append(allowed, "RetainExceptOnCreate")
			}
			if !slices.Contains(allowed, s) {
				return nil, b.fail(at, "Template format error: Unrecognized %s %v for resource %s", attr, v, id)
			}
			if attr == "DeletionPolicy" {
				r.DeletionPolicy = s
			} else {
				r.UpdateReplacePolicy = s
			}
		default:
			if !(sam && slices.Contains(samAttributes, attr)) {
				return nil, b.fail(at, "Template format error: Invalid resource attribute %s (the attributes are %s)",
					attr, strings.Join(resourceAttributes, ", "))
			}
		}
	}
	if r.Type == "" {
		return nil, b.failAt(path, "Template format error: [/Resources/%s] Every Resources object must contain a Type member.", id)
	}
	return r, nil
}

func (b *builder) dependsOn(path string, v any) ([]string, error) {
	if s, ok := v.(string); ok {
		return []string{s}, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, b.fail(path, "Template format error: DependsOn must be a string or a list of strings")
	}
	deps := make([]string, 0, len(list))
	for i, item := range list {
		s, ok := item.(string)
		if !ok {
			return nil, b.fail(index(path, i), "Template format error: DependsOn must be a string or a list of strings")
		}
		deps = append(deps, s)
	}
	return deps, nil
}

func (b *builder) outputs(v any) error {
	if v == nil {
		return nil
	}
	outs, ok := v.(map[string]any)
	if !ok {
		return b.fail("Outputs", "Template format error: Outputs must be a map")
	}
	b.t.Outputs = make(map[string]Output, len(outs))
	for _, name := range slices.Sorted(maps.Keys(outs)) {
		path := child("Outputs", name)
		if !alphanumeric(name) {
			return b.failAt(path, "Template format error: Output name %s is non alphanumeric.", name)
		}
		m, ok := outs[name].(map[string]any)
		if !ok {
			return b.failAt(path, "Template format error: Every Outputs member must be a map")
		}
		var o Output
		for _, attr := range slices.Sorted(maps.Keys(m)) {
			v, at := m[attr], child(path, attr)
			switch attr {
			case "Value":
				o.Value = v
			case "Description":
				if o.Description, ok = scalarString(v); !ok {
					return b.fail(at, "Template format error: Every Description member must be a string.")
				}
			case "Condition":
				if o.Condition, ok = v.(string); !ok {
					return b.fail(at, "Template format error: Condition must be the name of a condition")
				}
				if _, ok := b.t.Conditions[o.Condition]; !ok {
					return b.fail(at, "Template format error: Unresolved condition dependency %s", o.Condition)
				}
			case "Export":
				if o.Export, ok = v.(map[string]any); !ok || o.Export["Name"] == nil {
					return b.fail(at, "Template format error: Export must be a map with a Name")
				}
			default:
				return b.failAt(at, "Template format error: Invalid outputs property '%s'", attr)
			}
		}
		if o.Value == nil {
			return b.failAt(path, "Template format error: Every Outputs member must contain a Value object")
		}
		b.t.Outputs[name] = o
	}
	return nil
}

func alphanumeric(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// integer accepts a whole number given as a number or a string, as CloudFormation does for lengths.
func integer(v any) (int, error) {
	switch v := v.(type) {
	case int:
		return v, nil
	case float64:
		if v == float64(int(v)) {
			return int(v), nil
		}
	case string:
		return strconv.Atoi(v)
	}
	return 0, fmt.Errorf("not an integer: %v", v)
}
