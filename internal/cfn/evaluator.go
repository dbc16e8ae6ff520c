package cfn

import (
	"maps"
	"reflect"
	"slices"
	"strings"
)

// Pseudo holds the values of the pseudo parameters.
type Pseudo struct {
	Region    string
	AccountID string
	StackName string
	StackID   string
	Partition string // "aws" when empty
	URLSuffix string // "amazonaws.com" when empty
}

// Refs resolves references to resources. The deploy engine answers with created resources; a dry run may answer
// with placeholders.
type Refs interface {
	Ref(logicalID string) (any, error)
	GetAtt(logicalID, attribute string) (any, error)
}

// Evaluator holds a template's resolved parameters and conditions. It is immutable, so safe for concurrent use.
type Evaluator struct {
	t       *Template
	pseudo  Pseudo
	params  map[string]param
	skipped []string
	conds   map[string]bool
}

// NewEvaluator resolves and validates the parameters (overrides by name, else Default) and evaluates every
// condition. Parameters of type AWS::SSM::Parameter::Value<…> are accepted only when nothing in Resources,
// Outputs or Conditions refers to them (CDK's BootstrapVersion is only checked by Rules); they are listed by
// SkippedParameters. NewEvaluatorWith takes their values.
func NewEvaluator(t *Template, pseudo Pseudo, overrides map[string]string) (*Evaluator, error) {
	return NewEvaluatorWith(t, pseudo, overrides, nil)
}

// NewEvaluatorWith is NewEvaluator given the values of SSM-typed parameters, by parameter name: the values of the
// SSM parameters they name (SSMParameters lists them), as CloudFormation resolves them before it creates anything.
// Ref of such a parameter is that value (a list for the list types). An SSM-typed parameter without a value is
// skipped when nothing refers to it, and an error otherwise.
func NewEvaluatorWith(t *Template, pseudo Pseudo, overrides, ssmValues map[string]string) (*Evaluator, error) {
	if pseudo.Partition == "" {
		pseudo.Partition = "aws"
	}
	if pseudo.URLSuffix == "" {
		pseudo.URLSuffix = "amazonaws.com"
	}
	e := &Evaluator{t: t, pseudo: pseudo, params: map[string]param{}, conds: map[string]bool{}}

	var undeclared []string
	for _, name := range slices.Sorted(maps.Keys(overrides)) {
		if _, ok := t.Parameters[name]; !ok {
			undeclared = append(undeclared, name)
		}
	}
	if len(undeclared) > 0 {
		return nil, errorf("Parameters: [%s] do not exist in the template", strings.Join(undeclared, ", "))
	}

	used := referencedParameters(t)
	names := slices.Sorted(maps.Keys(t.Parameters))
	var missing []string
	texts := map[string]string{}
	for _, name := range names {
		p := t.Parameters[name]
		if kind, _ := kindOf(p.Type); kind == kindSSM {
			if value, ok := ssmValues[name]; ok {
				// The constraints of the declaration apply to the SSM parameter's name, not to its value.
				v, err := resolveParam(name, Parameter{}, ssmValueKind(p.Type), value)
				if err != nil {
					return nil, err
				}
				e.params[name] = v
				continue
			}
			if used[name] {
				return nil, errAt(child("Parameters", name), "parameter %s of type %s is referenced, but the SSM parameter it names was not read (%w)",
					name, p.Type, ErrUnsupported)
			}
			e.skipped = append(e.skipped, name)
			continue
		}
		text, ok := overrides[name]
		if !ok && p.Default != nil {
			text, ok = scalarString(p.Default)
		}
		if !ok {
			missing = append(missing, name)
			continue
		}
		texts[name] = text
	}
	if len(missing) > 0 {
		return nil, errorf("Parameters: [%s] must have values", strings.Join(missing, ", "))
	}
	for _, name := range names {
		text, ok := texts[name]
		if !ok {
			continue
		}
		p := t.Parameters[name]
		kind, _ := kindOf(p.Type)
		v, err := resolveParam(name, p, kind, text)
		if err != nil {
			return nil, err
		}
		e.params[name] = v
	}
	if err := e.evalConditions(); err != nil {
		return nil, err
	}
	return e, nil
}

// referencedParameters names what Resources, Outputs and Conditions refer to with Ref (or ${…}).
func referencedParameters(t *Template) map[string]bool {
	used := map[string]bool{}
	mark := func(name string, getAtt bool) {
		if !getAtt {
			used[name] = true
		}
	}
	for _, r := range t.Resources {
		for _, v := range []any{r.Properties, r.Metadata, r.UpdatePolicy, r.CreationPolicy} {
			walkRefs(v, nil, mark)
		}
	}
	for _, o := range t.Outputs {
		walkRefs(o.Value, nil, mark)
		walkRefs(o.Export, nil, mark)
	}
	for _, c := range t.Conditions {
		walkRefs(c, nil, mark)
	}
	return used
}

// Parameter returns a resolved parameter: a string, a float64 for Number, a []string for list types. Ref yields
// the text as given instead of the float64, as in CloudFormation.
func (e *Evaluator) Parameter(name string) (any, bool) {
	p, ok := e.params[name]
	if !ok {
		return nil, false
	}
	if list, ok := p.value.([]string); ok {
		return slices.Clone(list), true
	}
	return p.value, true
}

// NoEcho reports whether the parameter's value must be masked wherever it is shown.
func (e *Evaluator) NoEcho(name string) bool { return e.t.Parameters[name].NoEcho }

// SkippedParameters lists, sorted, the unreferenced SSM parameters that were left unresolved.
func (e *Evaluator) SkippedParameters() []string { return slices.Clone(e.skipped) }

// Condition returns the value of a declared condition.
func (e *Evaluator) Condition(name string) (bool, error) {
	v, ok := e.conds[name]
	if !ok {
		return false, errorf("Template format error: Unresolved condition dependency %s", name)
	}
	return v, nil
}

// Included reports whether a resource is created: its Condition holds, or it has none.
func (e *Evaluator) Included(logicalID string) (bool, error) {
	r, ok := e.t.Resources[logicalID]
	if !ok {
		return false, errorf("resource %s is not in the template", logicalID)
	}
	if r.Condition == "" {
		return true, nil
	}
	return e.Condition(r.Condition)
}

func (e *Evaluator) included(logicalID string) bool {
	ok, err := e.Included(logicalID)
	return err == nil && ok
}

// evalConditions evaluates every condition once, in name order so that errors are stable.
func (e *Evaluator) evalConditions() error {
	c := condEval{e: e, state: map[string]int{}}
	for _, name := range slices.Sorted(maps.Keys(e.t.Conditions)) {
		if _, err := c.condition(name, "Conditions"); err != nil {
			return err
		}
	}
	return nil
}

type condEval struct {
	e     *Evaluator
	state map[string]int // 1 while being evaluated, 2 once done
	stack []string
}

func (c *condEval) condition(name, path string) (bool, error) {
	def, ok := c.e.t.Conditions[name]
	if !ok {
		return false, errAt(path, "Template format error: Unresolved condition dependency %s", name)
	}
	switch c.state[name] {
	case 2:
		return c.e.conds[name], nil
	case 1:
		cycle := c.stack[slices.Index(c.stack, name):]
		return false, errorf("Template format error: Circular dependency between conditions: [%s]", strings.Join(cycle, ", "))
	}
	c.state[name] = 1
	c.stack = append(c.stack, name)
	v, err := c.value(def, child("Conditions", name))
	if err != nil {
		return false, err
	}
	c.stack = c.stack[:len(c.stack)-1]
	c.state[name] = 2
	c.e.conds[name] = v
	return v, nil
}

// value evaluates a condition function: Fn::Equals, Fn::And, Fn::Or, Fn::Not, or a Condition reference.
func (c *condEval) value(v any, path string) (bool, error) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return false, errAt(path, "Template format error: a condition must be Fn::Equals, Fn::And, Fn::Or, Fn::Not or Condition")
	}
	fn, arg := onlyKey(m)
	at := child(path, fn)
	if fn == "Condition" {
		name, ok := arg.(string)
		if !ok {
			return false, errAt(path, "Template format error: Condition takes the name of a condition")
		}
		return c.condition(name, path)
	}
	list, ok := arg.([]any)
	switch fn {
	case "Fn::Equals":
		if !ok || len(list) != 2 {
			return false, errAt(path, "Template format error: Fn::Equals takes a list of two values")
		}
		x := evaluation{e: c.e, inCond: true}
		a, err := x.eval(list[0], index(at, 0))
		if err != nil {
			return false, err
		}
		b, err := x.eval(list[1], index(at, 1))
		if err != nil {
			return false, err
		}
		return equal(a, b), nil
	case "Fn::And", "Fn::Or":
		if !ok || len(list) < 2 || len(list) > 10 {
			return false, errAt(path, "Template format error: %s takes a list of 2 to 10 conditions", fn)
		}
		result := fn == "Fn::And"
		for i, item := range list {
			b, err := c.value(item, index(at, i))
			if err != nil {
				return false, err
			}
			if fn == "Fn::And" {
				result = result && b
			} else {
				result = result || b
			}
		}
		return result, nil
	case "Fn::Not":
		if !ok || len(list) != 1 {
			return false, errAt(path, "Template format error: Fn::Not takes a list of one condition")
		}
		b, err := c.value(list[0], index(at, 0))
		return !b, err
	}
	return false, errAt(path, "Template format error: %s is not a condition function; a condition must be Fn::Equals, Fn::And, Fn::Or, Fn::Not or Condition", fn)
}

// equal compares as CloudFormation does: scalars by their text, so that a Number parameter equals 3 and "3".
func equal(a, b any) bool {
	as, aok := scalarString(a)
	bs, bok := scalarString(b)
	if aok && bok {
		return as == bs
	}
	return reflect.DeepEqual(a, b)
}
