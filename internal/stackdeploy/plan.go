package stackdeploy

import (
	"fmt"
	"strings"

	"github.com/sluice-dev/sluice/internal/stack"
)

// plan works out what a deploy would change without changing anything: each resource's properties are resolved
// against what exists (new resources' references become placeholders) and compared with the record.
func (r *run) plan(order []string) error {
	refs := planRefs{r}
	for _, id := range order {
		res := r.l.tpl.Resources[id]
		h := handlers[res.Type]
		props, err := r.resolved(id, refs)
		if err != nil {
			return err
		}
		prev, existed := r.state[id]
		c := Change{LogicalID: id, Type: res.Type, PhysicalID: prev.PhysicalID}
		switch {
		case !existed || prev.Type != res.Type:
			c.Action = ActionCreate
			r.state[id] = stack.ResourceState{Type: res.Type}
		default:
			c.Properties = changedKeys(prev.Properties, props)
			for _, k := range c.Properties {
				pc := PropertyChange{Name: k, Replaces: h.replaces([]string{k})}
				pc.CausedBy, pc.ByAttribute = placeholderIn(props[k])
				c.Details = append(c.Details, pc)
			}
			switch {
			case len(c.Properties) == 0:
				c.Action = ActionNone
			case h.replaces(c.Properties):
				c.Action = ActionReplace
			case res.Type == "AWS::Lambda::Alias" && has(c.Properties, "FunctionVersion") && res.UpdatePolicy["CodeDeployLambdaAliasUpdate"] != nil:
				c.Action = ActionShift
				c.Detail = fmt.Sprintf("traffic moves from version %s to %s through CodeDeploy", str(prev.Properties, "FunctionVersion"), str(props, "FunctionVersion"))
			default:
				c.Action = ActionUpdate
			}
		}
		if c.Action == ActionCreate || c.Action == ActionReplace {
			if r.renewed == nil {
				r.renewed = map[string]bool{}
			}
			r.renewed[id] = true
		}
		r.note(c)
	}
	for _, id := range sortedKeys(r.st.Resources) {
		if _, ok := r.l.tpl.Resources[id]; ok {
			if inc, _ := r.l.eval.Included(id); inc {
				continue
			}
		}
		prev := r.st.Resources[id]
		action := ActionDelete
		if prev.Retain {
			action = ActionRetain
		}
		r.note(Change{LogicalID: id, Type: prev.Type, Action: action, PhysicalID: prev.PhysicalID, Retained: prev.Retain})
	}
	r.result.Status = r.st.Status
	return nil
}

// placeholderIn finds, in a property's planned value, the first placeholder planRefs gave for a resource not
// made yet: the resource (Ref) or attribute (Fn::GetAtt) whose value the property will take.
func placeholderIn(v any) (entity string, attribute bool) {
	switch x := v.(type) {
	case string:
		i := strings.Index(x, "(new ")
		if i < 0 {
			return "", false
		}
		rest := x[i+len("(new "):]
		j := strings.Index(rest, ")")
		if j < 0 {
			return "", false
		}
		entity = rest[:j]
		return entity, strings.Contains(entity, ".")
	case map[string]any:
		for _, k := range sortedKeys(x) {
			if e, a := placeholderIn(x[k]); e != "" {
				return e, a
			}
		}
	case []any:
		for _, item := range x {
			if e, a := placeholderIn(item); e != "" {
				return e, a
			}
		}
	}
	return "", false
}

// planRefs resolves references to existing resources and names the ones a deploy would create.
type planRefs struct{ r *run }

func (p planRefs) Ref(id string) (any, error) {
	if st, ok := p.r.st.Resources[id]; ok && !p.r.renewed[id] {
		return st.PhysicalID, nil
	}
	return "(new " + id + ")", nil
}

func (p planRefs) GetAtt(id, attr string) (any, error) {
	if st, ok := p.r.st.Resources[id]; ok && !p.r.renewed[id] {
		if v, ok := st.Attributes[attr]; ok {
			return v, nil
		}
	}
	return "(new " + strings.Join([]string{id, attr}, ".") + ")", nil
}
