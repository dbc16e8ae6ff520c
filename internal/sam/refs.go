package sam

import (
	"slices"
	"strings"
)

// referable are the "<Fn>.<Property>" references SAM lets a template make to resources it generates for a
// function: {"Ref": "OrdersFunction.Alias"}, {"Fn::GetAtt": ["OrdersFunction.Alias", "Name"]},
// {"Fn::Sub": "${OrdersFunction.Version}"}.
var referable = []string{"Alias", "Version", "DestinationQueue", "DestinationTopic"}

// samRefs rewrites those references to the generated logical IDs.
type samRefs struct {
	targets map[string]map[string]string // function ID → property → generated logical ID
	errs    map[string]error             // by reference, so that each is reported once
}

// lookup resolves "Fn.Property"; ok is false when the string is no such reference. A reference to a property
// the function did not generate (an Alias without AutoPublishAlias) is recorded as an error.
func (s *samRefs) lookup(id, property string) (string, bool) {
	props, ok := s.targets[id]
	if !ok || !slices.Contains(referable, property) {
		return "", false
	}
	target, ok := props[property]
	if !ok {
		key := id + "." + property
		if _, seen := s.errs[key]; !seen {
			s.errs[key] = invalid(id, "%s is referenced but %s generates no %s", key, id, property)
		}
		return "", false
	}
	return target, true
}

func (s *samRefs) walk(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 1 {
			if r, ok := x["Ref"].(string); ok {
				if id, prop, ok := strings.Cut(r, "."); ok {
					if target, ok := s.lookup(id, prop); ok {
						return ref(target)
					}
				}
				return x
			}
			if args, ok := x["Fn::GetAtt"]; ok {
				return map[string]any{"Fn::GetAtt": s.getAtt(args)}
			}
			if args, ok := x["Fn::Sub"]; ok {
				return map[string]any{"Fn::Sub": s.sub(args)}
			}
		}
		for k, e := range x {
			x[k] = s.walk(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = s.walk(e)
		}
		return x
	default:
		return v
	}
}

// getAtt handles ["Fn.Alias", "Name"] and the ["Fn", "Alias.Name"] some tools produce from !GetAtt Fn.Alias.Name.
func (s *samRefs) getAtt(args any) any {
	list, ok := args.([]any)
	if !ok {
		return s.walk(args)
	}
	parts := make([]string, len(list))
	for i, e := range list {
		str, ok := e.(string)
		if !ok {
			return s.walk(args)
		}
		parts[i] = str
	}
	split := strings.Split(strings.Join(parts, "."), ".")
	if len(split) < 2 {
		return list
	}
	target, ok := s.lookup(split[0], split[1])
	if !ok {
		return list
	}
	out := []any{target}
	for _, p := range split[2:] {
		out = append(out, p)
	}
	return out
}

// sub rewrites ${Fn.Alias} and ${Fn.Alias.Name} inside an Fn::Sub string.
func (s *samRefs) sub(args any) any {
	replace := func(str string) string {
		return subVar.ReplaceAllStringFunc(str, func(m string) string {
			name := m[2 : len(m)-1]
			if strings.HasPrefix(name, "!") {
				return m
			}
			split := strings.SplitN(name, ".", 3)
			if len(split) < 2 {
				return m
			}
			target, ok := s.lookup(split[0], split[1])
			if !ok {
				return m
			}
			return "${" + strings.Replace(name, split[0]+"."+split[1], target, 1) + "}"
		})
	}
	switch x := args.(type) {
	case string:
		return replace(x)
	case []any:
		if len(x) == 2 {
			if str, ok := x[0].(string); ok {
				return []any{replace(str), s.walk(x[1])}
			}
		}
		return s.walk(x)
	default:
		return s.walk(x)
	}
}
