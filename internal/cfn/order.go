package cfn

import (
	"maps"
	"slices"
	"strings"
)

// walkRefs calls fn for every name v refers to: Ref targets, Fn::GetAtt logical IDs (getAtt set) and Fn::Sub
// variables (${X.Attr} as a GetAtt of X), except list-form Sub variables and ${!Literal}. With an evaluator, it
// follows only the Fn::If branches their conditions select, as CloudFormation does when it orders resources.
func walkRefs(v any, e *Evaluator, fn func(name string, getAtt bool)) {
	switch v := v.(type) {
	case []any:
		for _, item := range v {
			walkRefs(item, e, fn)
		}
	case map[string]any:
		if len(v) != 1 {
			for _, item := range v {
				walkRefs(item, e, fn)
			}
			return
		}
		key, arg := onlyKey(v)
		switch key {
		case "Ref":
			if name, ok := arg.(string); ok {
				fn(name, false)
			}
			return
		case "Fn::GetAtt":
			switch a := arg.(type) {
			case string:
				id, _, _ := strings.Cut(a, ".")
				fn(id, true)
			case []any:
				if len(a) > 0 {
					if id, ok := a[0].(string); ok {
						fn(id, true)
					}
					walkRefs(a[1:], e, fn)
				}
			}
			return
		case "Fn::Sub":
			walkSub(arg, e, fn)
			return
		case "Fn::If":
			if a, ok := arg.([]any); ok && len(a) == 3 && e != nil {
				if name, ok := a[0].(string); ok {
					if holds, ok := e.conds[name]; ok {
						branch := a[2]
						if holds {
							branch = a[1]
						}
						walkRefs(branch, e, fn)
						return
					}
				}
			}
		}
		walkRefs(arg, e, fn)
	}
}

func walkSub(arg any, e *Evaluator, fn func(string, bool)) {
	var tmpl string
	var vars map[string]any
	switch a := arg.(type) {
	case string:
		tmpl = a
	case []any:
		if len(a) != 2 {
			return
		}
		tmpl, _ = a[0].(string)
		vars, _ = a[1].(map[string]any)
		walkRefs(a[1], e, fn)
	}
	for _, p := range subParts(tmpl) {
		if _, isVar := vars[p.text]; !p.isVar || isVar {
			continue
		}
		if id, _, dotted := strings.Cut(p.text, "."); dotted {
			fn(id, true)
		} else {
			fn(p.text, false)
		}
	}
}

// References lists, sorted and without duplicates, the logical IDs v refers to through Ref, Fn::GetAtt and Fn::Sub
// (parameters, pseudo parameters and Sub variables excluded). Names the template does not declare are included,
// so that callers can report them.
func (t *Template) References(v any) []string {
	return t.references(v, nil)
}

func (t *Template) references(v any, e *Evaluator) []string {
	seen := map[string]bool{}
	walkRefs(v, e, func(name string, getAtt bool) {
		if _, isParam := t.Parameters[name]; getAtt || !isParam && !isPseudo(name) {
			seen[name] = true
		}
	})
	return slices.Sorted(maps.Keys(seen))
}

// Order returns the included resources in creation order: each after the resources it refers to (from Properties,
// Metadata, UpdatePolicy and CreationPolicy, following only the Fn::If branches that apply) and those in its
// DependsOn; ties go by declaration order. Deletion is the reverse.
func (e *Evaluator) Order() ([]string, error) {
	t := e.t
	var ids []string
	for _, id := range t.ResourceOrder {
		if e.included(id) {
			ids = append(ids, id)
		}
	}
	deps := make(map[string][]string, len(ids))
	unresolved := map[string]bool{}
	for _, id := range ids {
		r := t.Resources[id]
		names := e.t.references([]any{r.Properties, r.Metadata, r.UpdatePolicy, r.CreationPolicy}, e)
		for _, d := range r.DependsOn {
			if !slices.Contains(names, d) {
				names = append(names, d)
			}
		}
		for _, name := range names {
			if !e.included(name) {
				unresolved[name] = true
				continue
			}
			deps[id] = append(deps[id], name)
		}
	}
	if len(unresolved) > 0 {
		return nil, errorf("Template format error: Unresolved resource dependencies [%s] in the Resources block of the template",
			strings.Join(slices.Sorted(maps.Keys(unresolved)), ", "))
	}

	// Kahn's algorithm, always taking the earliest declared resource that is ready.
	pending := make(map[string]int, len(ids))
	dependents := map[string][]string{}
	for _, id := range ids {
		pending[id] = len(deps[id])
		for _, d := range deps[id] {
			dependents[d] = append(dependents[d], id)
		}
	}
	order := make([]string, 0, len(ids))
	done := map[string]bool{}
	for len(order) < len(ids) {
		next := ""
		for _, id := range ids {
			if !done[id] && pending[id] == 0 {
				next = id
				break
			}
		}
		if next == "" {
			return nil, errorf("Circular dependency between resources: [%s]", strings.Join(cycles(ids, deps, done), ", "))
		}
		done[next] = true
		order = append(order, next)
		for _, d := range dependents[next] {
			pending[d]--
		}
	}
	return order, nil
}

// cycles returns, in declaration order, the resources not yet ordered that lie on a cycle (rather than merely
// depending on one), found as the strongly connected components of more than one resource or with a self-reference.
func cycles(ids []string, deps map[string][]string, done map[string]bool) []string {
	var (
		counter  int
		num      = map[string]int{}
		low      = map[string]int{}
		onStack  = map[string]bool{}
		stack    []string
		inCycle  = map[string]bool{}
		strongly func(string)
	)
	strongly = func(v string) {
		counter++
		num[v], low[v] = counter, counter
		stack = append(stack, v)
		onStack[v] = true
		for _, w := range deps[v] {
			if done[w] {
				continue
			}
			if num[w] == 0 {
				strongly(w)
				low[v] = min(low[v], low[w])
			} else if onStack[w] {
				low[v] = min(low[v], num[w])
			}
		}
		if low[v] != num[v] {
			return
		}
		var comp []string
		for {
			w := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			onStack[w] = false
			comp = append(comp, w)
			if w == v {
				break
			}
		}
		if len(comp) > 1 || slices.Contains(deps[v], v) {
			for _, w := range comp {
				inCycle[w] = true
			}
		}
	}
	var out []string
	for _, id := range ids {
		if !done[id] && num[id] == 0 {
			strongly(id)
		}
	}
	for _, id := range ids {
		if inCycle[id] {
			out = append(out, id)
		}
	}
	return out
}

// Outputs evaluates the outputs whose condition holds, as text: lists are joined with commas.
func (e *Evaluator) Outputs(refs Refs) (map[string]string, error) {
	out := make(map[string]string, len(e.t.Outputs))
	for _, name := range slices.Sorted(maps.Keys(e.t.Outputs)) {
		o := e.t.Outputs[name]
		if o.Condition != "" && !e.conds[o.Condition] {
			continue
		}
		path := child(child("Outputs", name), "Value")
		v, err := e.Eval(o.Value, refs, path)
		if err != nil {
			return nil, err
		}
		s, ok := outputText(v)
		if !ok {
			return nil, errAt(path, "an output value must be a string or a list of strings")
		}
		out[name] = s
	}
	return out, nil
}

// Exports evaluates the export names of the outputs that have one (Export: {Name: …}), by output.
func (e *Evaluator) Exports(refs Refs) (map[string]string, error) {
	out := map[string]string{}
	for _, name := range slices.Sorted(maps.Keys(e.t.Outputs)) {
		o := e.t.Outputs[name]
		if o.Export == nil || o.Condition != "" && !e.conds[o.Condition] {
			continue
		}
		path := child(child(child("Outputs", name), "Export"), "Name")
		v, err := e.Eval(o.Export["Name"], refs, path)
		if err != nil {
			return nil, err
		}
		s, ok := scalarString(v)
		if !ok || s == "" {
			return nil, errAt(path, "an export name must be a non-empty string")
		}
		out[name] = s
	}
	return out, nil
}

func outputText(v any) (string, bool) {
	if list, ok := v.([]any); ok {
		items := make([]string, len(list))
		for i, item := range list {
			s, ok := scalarString(item)
			if !ok {
				return "", false
			}
			items[i] = s
		}
		return strings.Join(items, ","), true
	}
	return scalarString(v)
}
