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
		props = h.normalize(r, id, props)
		prev, existed := r.state[id]
		c := Change{LogicalID: id, Type: res.Type, PhysicalID: prev.PhysicalID}
		switch {
		case !existed || prev.Type != res.Type:
			c.Action = ActionCreate
			r.state[id] = stack.ResourceState{Type: res.Type}
		default:
			c.Properties = changedKeys(prev.Properties, props)
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
		r.note(Change{LogicalID: id, Type: prev.Type, Action: action, PhysicalID: prev.PhysicalID})
	}
	r.result.Status = r.st.Status
	return nil
}

// planRefs resolves references to existing resources and names the ones a deploy would create.
type planRefs struct{ r *run }

func (p planRefs) Ref(id string) (any, error) {
	if st, ok := p.r.st.Resources[id]; ok {
		return st.PhysicalID, nil
	}
	return "(new " + id + ")", nil
}

func (p planRefs) GetAtt(id, attr string) (any, error) {
	if st, ok := p.r.st.Resources[id]; ok {
		if v, ok := st.Attributes[attr]; ok {
			return v, nil
		}
	}
	return "(new " + strings.Join([]string{id, attr}, ".") + ")", nil
}
