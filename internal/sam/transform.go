package sam

import (
	"errors"
	"sort"
	"strings"
)

// TransformName is the Transform that marks a SAM template.
const TransformName = "AWS::Serverless-2016-10-31"

// Options are the inputs of Transform besides the template.
type Options struct {
	// Parameters are the resolved template parameter values (string, or []string for lists), used where SAM
	// itself resolves Refs to parameters: AutoPublishAlias, DeploymentPreference.Type/Enabled, CodeUri,
	// AutoPublishCodeSha256, EventInvokeConfig and the version hash inputs. A parameter missing here takes its
	// Default from the template. Pseudo parameters are resolved only when present here: the translator takes
	// AWS::Region and AWS::Partition from its session, so pass them to get its output.
	Parameters map[string]any
}

// IsServerless reports whether the template's Transform is (or, as a list, contains) AWS::Serverless-2016-10-31.
func IsServerless(tpl map[string]any) bool {
	switch x := tpl["Transform"].(type) {
	case string:
		return x == TransformName
	case []any:
		for _, e := range x {
			if e == TransformName {
				return true
			}
		}
	case []string:
		for _, e := range x {
			if e == TransformName {
				return true
			}
		}
	}
	return false
}

// Transform returns a new template without the Transform and Globals sections, every AWS::Serverless::Function
// replaced by what SAM generates. Resources of other types pass through unchanged. The input is not modified.
//
// A template without the SAM transform comes back as a copy, unless it uses Globals or AWS::Serverless types.
// Every problem found is reported: the error joins one *Error per faulty resource (errors.As finds the first;
// errors.Is(err, ErrUnsupported) tells a refusal), and no template is returned with it.
func Transform(tpl map[string]any, opts Options) (map[string]any, error) {
	if tpl == nil {
		return nil, invalid("Transform", "the template is nil")
	}
	in := clone(tpl).(map[string]any)
	resources, ok := in["Resources"].(map[string]any)
	if !ok && in["Resources"] != nil {
		return nil, invalid("Resources", "must be a map")
	}
	if !IsServerless(in) {
		var errs []error
		if _, ok := in["Globals"]; ok {
			errs = append(errs, invalid("Globals", "needs Transform %s", TransformName))
		}
		for _, id := range sortedKeys(resources) {
			if typ := resourceType(resources[id]); strings.HasPrefix(typ, "AWS::Serverless::") {
				errs = append(errs, invalid(id, "type %s needs Transform %s", typ, TransformName))
			}
		}
		if len(errs) > 0 {
			return nil, errors.Join(errs...)
		}
		return in, nil
	}
	if list, ok := in["Transform"].([]any); ok {
		for _, e := range list {
			if e != TransformName {
				return nil, unsupported("Transform", "transform %v", e)
			}
		}
	}
	globals, err := parseGlobals(in)
	if err != nil {
		return nil, err
	}

	t := &transformer{
		opts:    opts,
		r:       newResolver(in, opts.Parameters),
		globals: globals,
		out:     map[string]any{},
		origin:  map[string]string{},
		refs:    &samRefs{targets: map[string]map[string]string{}, errs: map[string]error{}},
	}
	ids := sortedKeys(resources)
	var functions []string
	for _, id := range ids {
		res, ok := resources[id].(map[string]any)
		if !ok {
			t.errs = append(t.errs, invalid(id, "a resource must be a map"))
			continue
		}
		t.origin[id] = id
		switch typ := resourceType(res); {
		case typ == "AWS::Serverless::Function":
			functions = append(functions, id)
		case strings.HasPrefix(typ, "AWS::Serverless::"):
			t.errs = append(t.errs, unsupported(id, "type %s", typ))
		default:
			t.out[id] = res
		}
	}
	var prefs []*preference
	for _, id := range functions {
		r, err := t.function(id, resources[id].(map[string]any))
		if err == nil {
			err = t.add(id, r.resources)
		}
		if err != nil {
			t.errs = append(t.errs, err)
			continue
		}
		t.refs.targets[id] = r.refs
		if r.pref != nil {
			prefs = append(prefs, r.pref)
		}
	}
	shared, conditions := deploymentResources(prefs)
	for _, n := range shared {
		if _, ok := t.origin[n.id]; ok {
			t.errs = append(t.errs, invalid(n.id, "the logical ID SAM generates for CodeDeploy is taken by a resource of the template"))
			continue
		}
		t.origin[n.id], t.out[n.id] = n.id, n.res
	}

	out := map[string]any{}
	for k, v := range in {
		if k != "Transform" && k != "Globals" {
			out[k] = v
		}
	}
	out["Resources"] = t.out
	if len(conditions) > 0 {
		existing, _ := out["Conditions"].(map[string]any)
		if existing == nil {
			existing = map[string]any{}
			out["Conditions"] = existing
		}
		for _, name := range sortedKeys(conditions) {
			if _, ok := existing[name]; ok {
				t.errs = append(t.errs, invalid("Conditions", "generated condition %s collides with a condition of the template", name))
			}
			existing[name] = conditions[name]
		}
	}
	t.refs.walk(out)
	for _, key := range sortedErrKeys(t.refs.errs) {
		t.errs = append(t.errs, t.refs.errs[key])
	}
	if len(t.errs) > 0 {
		sort.SliceStable(t.errs, func(i, j int) bool { return errID(t.errs[i]) < errID(t.errs[j]) })
		return nil, errors.Join(t.errs...)
	}
	return out, nil
}

// transformer holds the state of one Transform call.
type transformer struct {
	opts    Options
	r       *resolver
	globals map[string]any    // Globals.Function
	out     map[string]any    // the output's Resources
	origin  map[string]string // logical ID → the template resource it comes from
	refs    *samRefs
	errs    []error
}

// add puts the resources generated from the function from into the output (the function keeps its logical ID),
// unless a logical ID is already taken by a resource of the template or one generated from another function.
func (t *transformer) add(from string, resources []named) error {
	for _, n := range resources {
		if prev, ok := t.origin[n.id]; ok && n.id != from {
			if prev == n.id {
				return invalid(from, "generated resource %s collides with resource %s of the template", n.id, n.id)
			}
			return invalid(from, "generated resource %s collides with one generated from %s", n.id, prev)
		}
	}
	for _, n := range resources {
		t.origin[n.id] = from
		t.out[n.id] = n.res
	}
	return nil
}

func resourceType(v any) string {
	m, _ := v.(map[string]any)
	s, _ := m["Type"].(string)
	return s
}

func errID(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.LogicalID
	}
	return ""
}

func sortedErrKeys(m map[string]error) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
