package sam

import (
	"regexp"
	"strings"
)

// clone deep-copies a JSON-shaped value. []string (a list parameter value) becomes []any so that every output is
// what encoding/json would decode.
func clone(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = clone(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = clone(e)
		}
		return out
	case []string:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = e
		}
		return out
	default:
		return v
	}
}

// isIntrinsic reports whether v is an intrinsic function: a map with one key, Ref, Condition or Fn::*. SAM treats
// such a map as a scalar (when merging Globals, classifying Policies entries, …).
func isIntrinsic(v any) bool {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return false
	}
	for k := range m {
		return k == "Ref" || k == "Condition" || strings.HasPrefix(k, "Fn::")
	}
	return false
}

// isIf reports whether v is {"Fn::If": [...]}.
func isIf(v any) bool {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return false
	}
	_, ok = m["Fn::If"]
	return ok
}

// isNoValue reports whether v is {"Ref": "AWS::NoValue"}.
func isNoValue(v any) bool {
	m, ok := v.(map[string]any)
	return ok && len(m) == 1 && m["Ref"] == "AWS::NoValue"
}

// ifHasNoValue reports whether v is an Fn::If with AWS::NoValue as one of its branches.
func ifHasNoValue(v any) bool {
	if !isIf(v) {
		return false
	}
	args, _ := v.(map[string]any)["Fn::If"].([]any)
	for _, a := range args {
		if isNoValue(a) {
			return true
		}
	}
	return false
}

func ref(id string) map[string]any { return map[string]any{"Ref": id} }

func getAtt(id, attr string) map[string]any {
	return map[string]any{"Fn::GetAtt": []any{id, attr}}
}

// resolver replaces Refs to template parameters by their values, as the translator does before it looks at
// AutoPublishAlias, DeploymentPreference.Type/Enabled, CodeUri, EventInvokeConfig and the version hash inputs.
type resolver struct {
	values   map[string]any // parameter name → value (Options.Parameters over the template's Defaults)
	mappings map[string]any // the template's Mappings
}

func newResolver(tpl map[string]any, given map[string]any) *resolver {
	r := &resolver{values: map[string]any{}}
	if params, ok := tpl["Parameters"].(map[string]any); ok {
		for name, p := range params {
			if pm, ok := p.(map[string]any); ok {
				if d, ok := pm["Default"]; ok {
					r.values[name] = clone(d)
				}
			}
		}
	}
	for name, v := range given {
		r.values[name] = clone(v)
	}
	r.mappings, _ = tpl["Mappings"].(map[string]any)
	return r
}

// params returns a copy of v with every Ref to a known parameter replaced by its value and every ${Param} of a
// string-valued parameter substituted inside Fn::Sub strings.
func (r *resolver) params(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 1 {
			if name, ok := x["Ref"].(string); ok {
				if val, ok := r.values[name]; ok {
					return clone(val)
				}
				return clone(x)
			}
			if s, ok := x["Fn::Sub"]; ok {
				return map[string]any{"Fn::Sub": r.sub(s)}
			}
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = r.params(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = r.params(e)
		}
		return out
	default:
		return clone(v)
	}
}

var subVar = regexp.MustCompile(`\$\{([^}]*)\}`)

// sub substitutes string parameters into an Fn::Sub argument, leaving variables the Sub defines itself alone.
func (r *resolver) sub(arg any) any {
	subst := func(s string, own map[string]any) string {
		return subVar.ReplaceAllStringFunc(s, func(m string) string {
			name := m[2 : len(m)-1]
			if strings.HasPrefix(name, "!") {
				return m
			}
			if _, ok := own[name]; ok {
				return m
			}
			if val, ok := r.values[name].(string); ok {
				return val
			}
			return m
		})
	}
	switch x := arg.(type) {
	case string:
		return subst(x, nil)
	case []any:
		if len(x) == 2 {
			s, ok1 := x[0].(string)
			vars, ok2 := x[1].(map[string]any)
			if ok1 && ok2 {
				return []any{subst(s, vars), r.params(vars)}
			}
		}
		return r.params(x)
	default:
		return r.params(x)
	}
}

// maps resolves parameters and then an Fn::FindInMap whose arguments are all plain strings, as the translator
// does for DeploymentPreference.Enabled, Type and PassthroughCondition.
func (r *resolver) maps(v any) any {
	v = r.params(v)
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return v
	}
	args, ok := m["Fn::FindInMap"].([]any)
	if !ok || len(args) != 3 {
		return v
	}
	var keys [3]string
	for i, a := range args {
		s, ok := a.(string)
		if !ok {
			return v
		}
		keys[i] = s
	}
	top, ok := r.mappings[keys[0]].(map[string]any)
	if !ok {
		return v
	}
	second, ok := top[keys[1]].(map[string]any)
	if !ok {
		return v
	}
	if val, ok := second[keys[2]]; ok {
		return clone(val)
	}
	return v
}
