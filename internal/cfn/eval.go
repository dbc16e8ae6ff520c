package cfn

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// noValue is what Ref AWS::NoValue evaluates to: the enclosing map entry or list item is dropped.
type noValue struct{}

func isNoValue(v any) bool {
	_, ok := v.(noValue)
	return ok
}

// Eval returns a deep copy of v with every intrinsic function resolved. Map entries and list items that evaluate
// to AWS::NoValue are removed; if v itself does, Eval returns nil. path names v in errors, e.g.
// "Resources.Fn.Properties"; errors inside a function's arguments extend it ("…TABLE.Fn::Join[1][0]").
//
// A single-key map whose key is Ref or starts with "Fn::" is a function call; any other map is data, so an IAM
// policy's "Condition" key is left alone. Fn::Equals, Fn::And, Fn::Or and Fn::Not belong to Conditions and are
// errors here; so are Fn::ImportValue, Fn::Cidr and Fn::Transform (ErrUnsupported) and unknown functions.
func (e *Evaluator) Eval(v any, refs Refs, path string) (any, error) {
	x := evaluation{e: e, refs: refs}
	r, err := x.eval(v, path)
	if err != nil || isNoValue(r) {
		return nil, err
	}
	return r, nil
}

// evaluation is one Eval call, or the arguments of a Fn::Equals when inCond is set: there, resources cannot be
// referenced and Fn::If cannot be used.
type evaluation struct {
	e      *Evaluator
	refs   Refs
	inCond bool
}

func (x *evaluation) eval(v any, path string) (any, error) {
	switch v := v.(type) {
	case map[string]any:
		if len(v) == 1 {
			if fn, arg := onlyKey(v); isFunction(fn) {
				return x.call(fn, arg, path)
			}
		}
		out := make(map[string]any, len(v))
		for _, k := range slices.Sorted(maps.Keys(v)) {
			r, err := x.eval(v[k], child(path, k))
			if err != nil {
				return nil, err
			}
			if !isNoValue(r) {
				out[k] = r
			}
		}
		return out, nil
	case []any:
		out := make([]any, 0, len(v))
		for i, item := range v {
			r, err := x.eval(item, index(path, i))
			if err != nil {
				return nil, err
			}
			if !isNoValue(r) {
				out = append(out, r)
			}
		}
		return out, nil
	case nil, string, int, float64, bool, noValue:
		return v, nil
	}
	return normalize(v, path)
}

func onlyKey(m map[string]any) (string, any) {
	for k, v := range m {
		return k, v
	}
	return "", nil
}

func isFunction(key string) bool { return key == "Ref" || strings.HasPrefix(key, "Fn::") }

func (x *evaluation) call(fn string, arg any, path string) (any, error) {
	at := child(path, fn)
	switch fn {
	case "Ref":
		name, ok := arg.(string)
		if !ok {
			return nil, errAt(path, "Template format error: Every Ref object must have a single String value.")
		}
		return x.ref(name, path)
	case "Fn::GetAtt":
		return x.getAtt(arg, path, at)
	case "Fn::Sub":
		return x.sub(arg, path, at)
	case "Fn::Join":
		return x.join(arg, path, at)
	case "Fn::Select":
		return x.selectItem(arg, path, at)
	case "Fn::Split":
		return x.split(arg, path, at)
	case "Fn::If":
		return x.ifValue(arg, path, at)
	case "Fn::FindInMap":
		return x.findInMap(arg, path, at)
	case "Fn::Base64":
		s, err := x.str(arg, path, at, "Fn::Base64 argument")
		if err != nil {
			return nil, err
		}
		return base64.StdEncoding.EncodeToString([]byte(s)), nil
	case "Fn::GetAZs":
		region, err := x.str(arg, path, at, "Fn::GetAZs region")
		if err != nil {
			return nil, err
		}
		if region == "" {
			region = x.e.pseudo.Region
		}
		return []any{region + "a", region + "b", region + "c"}, nil
	case "Fn::Length":
		list, err := x.list(arg, path, at, "Fn::Length argument")
		if err != nil {
			return nil, err
		}
		return len(list), nil
	case "Fn::ToJsonString":
		return x.toJSON(arg, path, at)
	case "Fn::Equals", "Fn::And", "Fn::Or", "Fn::Not":
		return nil, errAt(path, "%s can only be used in the Conditions section", fn)
	case "Fn::ImportValue", "Fn::Cidr", "Fn::Transform":
		return nil, errAt(path, "%s is %w", fn, ErrUnsupported)
	}
	return nil, errAt(path, "Template format error: Encountered unsupported function: %s", fn)
}

// ref resolves a name as Ref and ${Name} do: parameters, then pseudo parameters, then resources.
func (x *evaluation) ref(name, path string) (any, error) {
	e := x.e
	if p, ok := e.params[name]; ok {
		return copyValue(p.ref), nil
	}
	if p, ok := e.t.Parameters[name]; ok { // skipped, so of an SSM type
		return nil, errAt(path, "parameter %s of type %s has no value: the SSM parameter it names was not read (%w)", name, p.Type, ErrUnsupported)
	}
	switch name {
	case pseudoAccountID:
		return e.pseudo.AccountID, nil
	case pseudoNotificationARNs:
		return []any{}, nil
	case pseudoNoValue:
		return noValue{}, nil
	case pseudoPartition:
		return e.pseudo.Partition, nil
	case pseudoRegion:
		return e.pseudo.Region, nil
	case pseudoStackID:
		return e.pseudo.StackID, nil
	case pseudoStackName:
		return e.pseudo.StackName, nil
	case pseudoURLSuffix:
		return e.pseudo.URLSuffix, nil
	}
	if err := x.resource(name, path); err != nil {
		return nil, err
	}
	v, err := x.refs.Ref(name)
	if err != nil {
		return nil, &Error{Path: path, Err: err}
	}
	return normalize(v, path)
}

// resource checks that name is a resource the evaluation may refer to.
func (x *evaluation) resource(name, path string) error {
	if x.inCond {
		return errAt(path, "Template format error: Unresolved dependencies [%s]. Cannot reference resources in the Conditions block of the template", name)
	}
	if !x.e.included(name) {
		return errAt(path, "Template format error: Unresolved resource dependencies [%s] in the Resources block of the template", name)
	}
	if x.refs == nil {
		return errAt(path, "reference to resource %s, but no resource values are available", name)
	}
	return nil
}

func (x *evaluation) getAtt(arg any, path, at string) (any, error) {
	var id string
	var attrArg any
	switch a := arg.(type) {
	case string:
		id, attrArg, _ = strings.Cut(a, ".")
	case []any:
		if len(a) == 2 {
			id, _ = a[0].(string)
			attrArg = a[1]
		}
	}
	if id == "" || attrArg == nil || attrArg == "" {
		return nil, errAt(path, "Template error: every Fn::GetAtt object requires two non-empty parameters")
	}
	attr, err := x.str(attrArg, path, index(at, 1), "Fn::GetAtt attribute name")
	if err != nil {
		return nil, err
	}
	return x.attribute(id, attr, path)
}

func (x *evaluation) attribute(id, attr, path string) (any, error) {
	if _, ok := x.e.t.Resources[id]; !ok && !x.inCond {
		return nil, errAt(path, "Template error: instance of Fn::GetAtt references undefined resource %s", id)
	}
	if err := x.resource(id, path); err != nil {
		return nil, err
	}
	v, err := x.refs.GetAtt(id, attr)
	if err != nil {
		return nil, &Error{Path: path, Err: err}
	}
	return normalize(v, path)
}

func (x *evaluation) sub(arg any, path, at string) (any, error) {
	var tmpl string
	var vars map[string]any
	switch a := arg.(type) {
	case string:
		tmpl = a
	case []any:
		var ok bool
		if len(a) == 2 {
			tmpl, ok = a[0].(string)
			vars, _ = a[1].(map[string]any)
		}
		if !ok || vars == nil {
			return nil, errAt(path, "Template error: One or more Fn::Sub intrinsic functions don't specify expected arguments. Specify a string as first argument, and an optional second argument to specify a mapping of values to replace in the string")
		}
		evaluated := make(map[string]any, len(vars))
		for _, k := range slices.Sorted(maps.Keys(vars)) {
			v, err := x.eval(vars[k], child(index(at, 1), k))
			if err != nil {
				return nil, err
			}
			evaluated[k] = v
		}
		vars = evaluated
	default:
		return nil, errAt(path, "Template error: One or more Fn::Sub intrinsic functions don't specify expected arguments. Specify a string as first argument, and an optional second argument to specify a mapping of values to replace in the string")
	}
	var b strings.Builder
	for _, p := range subParts(tmpl) {
		if !p.isVar {
			b.WriteString(p.text)
			continue
		}
		v, ok := vars[p.text]
		if !ok {
			var err error
			if id, attr, dotted := strings.Cut(p.text, "."); dotted {
				v, err = x.attribute(id, attr, path)
			} else {
				v, err = x.ref(p.text, path)
			}
			if err != nil {
				return nil, err
			}
		}
		s, ok := scalarString(v)
		if !ok {
			return nil, errAt(path, "Fn::Sub: ${%s} does not resolve to a string", p.text)
		}
		b.WriteString(s)
	}
	return b.String(), nil
}

type subPart struct {
	text  string
	isVar bool
}

// subParts splits a Fn::Sub string into literal text and ${Name} variables. "${!X}" is the literal "${X}"; a "${"
// that is unterminated, empty or followed by another "${" is literal text.
func subParts(s string) []subPart {
	var parts []subPart
	var lit strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			break
		}
		lit.WriteString(s[:i])
		rest := s[i+2:]
		if strings.HasPrefix(rest, "!") {
			lit.WriteString("${")
			s = rest[1:]
			continue
		}
		j := strings.IndexByte(rest, '}')
		if j <= 0 || strings.Contains(rest[:j], "${") {
			lit.WriteString("${")
			s = rest
			continue
		}
		if lit.Len() > 0 {
			parts = append(parts, subPart{text: lit.String()})
			lit.Reset()
		}
		parts = append(parts, subPart{text: rest[:j], isVar: true})
		s = rest[j+1:]
	}
	lit.WriteString(s)
	if lit.Len() > 0 {
		parts = append(parts, subPart{text: lit.String()})
	}
	return parts
}

// args checks a function's argument list and evaluates it.
func (x *evaluation) args(arg any, path string, n int, usage string) ([]any, error) {
	list, ok := arg.([]any)
	if !ok || len(list) != n {
		return nil, errAt(path, "%s", usage)
	}
	return list, nil
}

func (x *evaluation) join(arg any, path, at string) (any, error) {
	a, err := x.args(arg, path, 2, "Template error: every Fn::Join object requires two parameters, (1) a string delimiter and (2) a list of strings to be joined or a function that returns a list of strings (such as Fn::GetAZs) to be joined.")
	if err != nil {
		return nil, err
	}
	delim, err := x.str(a[0], path, index(at, 0), "Fn::Join delimiter")
	if err != nil {
		return nil, err
	}
	list, err := x.list(a[1], path, index(at, 1), "Fn::Join values")
	if err != nil {
		return nil, err
	}
	items := make([]string, len(list))
	for i, item := range list {
		s, ok := scalarString(item)
		if !ok {
			return nil, errAt(path, "Fn::Join: item %d is not a string", i)
		}
		items[i] = s
	}
	return strings.Join(items, delim), nil
}

func (x *evaluation) selectItem(arg any, path, at string) (any, error) {
	a, err := x.args(arg, path, 2, "Template error: Fn::Select requires a list argument with two elements: an integer index and a list")
	if err != nil {
		return nil, err
	}
	iv, err := x.eval(a[0], index(at, 0))
	if err != nil {
		return nil, err
	}
	s, _ := scalarString(iv)
	i, err := strconv.Atoi(s)
	if err != nil {
		return nil, errAt(path, "Fn::Select index %v is not an integer", iv)
	}
	list, err := x.list(a[1], path, index(at, 1), "Fn::Select list")
	if err != nil {
		return nil, err
	}
	if i < 0 || i >= len(list) {
		return nil, errAt(path, "Fn::Select index %d out of range", i)
	}
	return list[i], nil
}

func (x *evaluation) split(arg any, path, at string) (any, error) {
	a, err := x.args(arg, path, 2, "Template error: every Fn::Split object requires two parameters, (1) a string delimiter and (2) a string to be split or a function that returns a string to be split.")
	if err != nil {
		return nil, err
	}
	delim, err := x.str(a[0], path, index(at, 0), "Fn::Split delimiter")
	if err != nil {
		return nil, err
	}
	if delim == "" {
		return nil, errAt(path, "Fn::Split delimiter must not be empty")
	}
	s, err := x.str(a[1], path, index(at, 1), "Fn::Split source")
	if err != nil {
		return nil, err
	}
	parts := strings.Split(s, delim)
	out := make([]any, len(parts))
	for i, p := range parts {
		out[i] = p
	}
	return out, nil
}

func (x *evaluation) ifValue(arg any, path, at string) (any, error) {
	a, err := x.args(arg, path, 3, "Template error: Fn::If requires a list argument with three elements: a condition name and two values")
	if err != nil {
		return nil, err
	}
	if x.inCond {
		return nil, errAt(path, "Fn::If cannot be used in the Conditions section")
	}
	name, ok := a[0].(string)
	if !ok {
		return nil, errAt(path, "Template error: Fn::If requires a condition name as its first element")
	}
	holds, ok := x.e.conds[name]
	if !ok {
		return nil, errAt(path, "Template format error: Unresolved condition dependency %s in Fn::If", name)
	}
	if holds {
		return x.eval(a[1], index(at, 1))
	}
	return x.eval(a[2], index(at, 2))
}

func (x *evaluation) findInMap(arg any, path, at string) (any, error) {
	a, ok := arg.([]any)
	if !ok || len(a) != 3 && len(a) != 4 {
		return nil, errAt(path, "Template error: Fn::FindInMap requires a list of a map name, a top-level key and a second-level key")
	}
	var keys [3]string
	for i := range keys {
		s, err := x.str(a[i], path, index(at, i), "Fn::FindInMap key")
		if err != nil {
			return nil, err
		}
		keys[i] = s
	}
	top, _ := x.e.t.Mappings[keys[0]].(map[string]any)
	second, _ := top[keys[1]].(map[string]any)
	if v, ok := second[keys[2]]; ok {
		return copyValue(v), nil
	}
	// AWS::LanguageExtensions' fourth argument, {DefaultValue: …}.
	if len(a) == 4 {
		if opts, ok := a[3].(map[string]any); ok {
			if def, ok := opts["DefaultValue"]; ok {
				return x.eval(def, child(index(at, 3), "DefaultValue"))
			}
		}
	}
	return nil, errAt(path, "Template error: Unable to get mapping for %s::%s::%s", keys[0], keys[1], keys[2])
}

func (x *evaluation) toJSON(arg any, path, at string) (any, error) {
	v, err := x.eval(arg, at)
	if err != nil {
		return nil, err
	}
	switch v.(type) {
	case map[string]any, []any:
	default:
		return nil, errAt(path, "Fn::ToJsonString takes a map or a list")
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // CloudFormation does not escape <, > and &
	if err := enc.Encode(v); err != nil {
		return nil, errAt(path, "Fn::ToJsonString: %v", err)
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// str evaluates a function argument that must be a string; scalars are converted. what names the argument.
func (x *evaluation) str(arg any, path, at, what string) (string, error) {
	v, err := x.eval(arg, at)
	if err != nil {
		return "", err
	}
	s, ok := scalarString(v)
	if !ok {
		return "", errAt(path, "%s must be a string", what)
	}
	return s, nil
}

// list evaluates a function argument that must be a list. what names the argument.
func (x *evaluation) list(arg any, path, at, what string) ([]any, error) {
	v, err := x.eval(arg, at)
	if err != nil {
		return nil, err
	}
	list, ok := v.([]any)
	if !ok {
		return nil, errAt(path, "%s must be a list", what)
	}
	return list, nil
}
