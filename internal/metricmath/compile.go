package metricmath

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/sluice-dev/sluice/internal/fault"
)

// CodeValidationError is the code of every error Compile returns (CloudWatch's ValidationError).
const CodeValidationError = "ValidationError"

// Query is one MetricDataQuery as metric math sees it: a metric query (Expression empty), whose series the
// caller fetches, or an expression over the others.
type Query struct {
	ID         string
	Expression string
	// Label labels a metric query's series inside arrays (METRICS()).
	Label string
	// Period is a metric query's period in seconds (what PERIOD(id) answers).
	Period int64
}

// Program is a checked set of queries, ready to run.
type Program struct {
	queries []Query
	index   map[string]int
	trees   map[int]node // parsed expressions by query index
	kinds   []Kind       // static type of each query
	order   []int        // expressions, each after every expression it refers to
}

var idPattern = regexp.MustCompile(`^[a-z][a-zA-Z0-9_]*$`)

// CheckID applies CloudWatch's rule for a query id: a lower-case letter, then letters, digits and underscores.
func CheckID(id string) error {
	if !idPattern.MatchString(id) {
		return fault.New(CodeValidationError, "Invalid metric_id: %s. The Id must start with a lowercase letter and contain only letters, numbers and underscores.", id)
	}
	return nil
}

// exprError is an error inside one expression: "Error in expression e1 [what]".
func exprError(id, format string, args ...any) *fault.Error {
	return fault.New(CodeValidationError, "Error in expression %s [%s]", id, fmt.Sprintf(format, args...))
}

// Compile checks a request's queries (ids, parsing, references, cycles, types) and returns the program that
// evaluates them. Errors are *fault.Error with code ValidationError, naming the expression and, for syntax and type
// errors, the character position.
func Compile(qs []Query) (*Program, error) {
	p := &Program{queries: qs, index: make(map[string]int, len(qs)), trees: map[int]node{}, kinds: make([]Kind, len(qs))}
	for i, q := range qs {
		if err := CheckID(q.ID); err != nil {
			return nil, err
		}
		if _, dup := p.index[q.ID]; dup {
			return nil, fault.New(CodeValidationError, "The values for parameter id in MetricDataQueries are not unique.")
		}
		p.index[q.ID] = i
	}
	for i, q := range qs {
		if q.Expression == "" {
			p.kinds[i] = TimeSeries
			continue
		}
		n, err := parse(q.Expression)
		if err != nil {
			var pe *parseError
			if errors.As(err, &pe) {
				return nil, exprError(q.ID, "%s", pe.Error())
			}
			return nil, exprError(q.ID, "%s", err.Error())
		}
		for _, r := range refs(n) {
			if _, ok := p.index[r.id]; !ok {
				return nil, exprError(q.ID, "Unrecognized metric or expression id '%s' at char %d", r.id, r.pos)
			}
			if r.id == q.ID {
				return nil, exprError(q.ID, "The expression refers to itself at char %d", r.pos)
			}
		}
		p.trees[i] = n
	}
	if err := p.sort(); err != nil {
		return nil, err
	}
	for _, i := range p.order {
		k, err := p.check(p.queries[i].ID, p.trees[i])
		if err != nil {
			return nil, err
		}
		p.kinds[i] = k
	}
	return p, nil
}

// sort orders the expressions so that each comes after those it refers to, and refuses a cycle.
func (p *Program) sort() error {
	const (
		unvisited = iota
		visiting
		done
	)
	state := make([]int, len(p.queries))
	var visit func(i int, path []string) error
	visit = func(i int, path []string) error {
		switch state[i] {
		case done:
			return nil
		case visiting:
			return exprError(path[0], "Circular reference: %s", joinPath(append(path, p.queries[i].ID)))
		}
		state[i] = visiting
		for _, r := range refs(p.trees[i]) {
			j := p.index[r.id]
			if p.queries[j].Expression == "" {
				continue
			}
			if err := visit(j, append(path, p.queries[i].ID)); err != nil {
				return err
			}
		}
		state[i] = done
		p.order = append(p.order, i)
		return nil
	}
	for i := range p.queries {
		if p.queries[i].Expression != "" {
			if err := visit(i, nil); err != nil {
				return err
			}
		}
	}
	return nil
}

func joinPath(ids []string) string {
	s := ""
	for i, id := range ids {
		if i > 0 {
			s += " -> "
		}
		s += id
	}
	return s
}

// Kind is the static type of query id's result (0 for an unknown id).
func (p *Program) Kind(id string) Kind {
	i, ok := p.index[id]
	if !ok {
		return 0
	}
	return p.kinds[i]
}

// Used reports whether an expression uses the query id: refers to it, or calls METRICS in a way that includes it.
// A caller need not fetch a metric that is neither used nor returned.
func (p *Program) Used(id string) bool {
	i, ok := p.index[id]
	if !ok {
		return false
	}
	for _, n := range p.trees {
		for _, r := range refs(n) {
			if r.id == id {
				return true
			}
		}
		if p.queries[i].Expression == "" {
			for _, sub := range metricsFilters(n) {
				if strings.Contains(id, sub) {
					return true
				}
			}
		}
	}
	return false
}

// Queries returns the queries the program was compiled from.
func (p *Program) Queries() []Query { return p.queries }

// RequireSeries refuses a query whose result is not a time series (kinds lists what is acceptable): an expression
// whose data is returned must not be a scalar; an alarm's must be a single series.
func (p *Program) RequireSeries(id string, kinds ...Kind) error {
	k := p.Kind(id)
	for _, ok := range kinds {
		if k == ok {
			return nil
		}
	}
	want := ""
	for i, ok := range kinds {
		if i > 0 {
			want += " or "
		}
		want += ok.String()
	}
	return exprError(id, "The expression returns %s; its result must be %s", k, want)
}

// check infers the type of an expression tree, refusing a combination CloudWatch does not define.
func (p *Program) check(id string, n node) (Kind, error) {
	switch n := n.(type) {
	case *numberNode:
		return Scalar, nil
	case *refNode:
		return p.kinds[p.index[n.id]], nil
	case *stringNode:
		return 0, exprError(id, "Unexpected string \"%s\" at char %d: only METRICS takes a string", n.text, n.pos)
	case *keywordNode:
		return 0, exprError(id, "Unexpected %s at char %d: only FILL takes it, as its second argument", n.word, n.pos)
	case *arrayNode:
		for _, e := range n.elems {
			k, err := p.check(id, e)
			if err != nil {
				return 0, err
			}
			if k == Scalar {
				return 0, exprError(id, "An array at char %d holds %s at char %d; its members must be time series", n.pos, k, e.position())
			}
		}
		return Array, nil
	case *unaryNode:
		return p.check(id, n.x)
	case *binaryNode:
		l, err := p.check(id, n.l)
		if err != nil {
			return 0, err
		}
		r, err := p.check(id, n.r)
		if err != nil {
			return 0, err
		}
		switch {
		case l == Array && r == Array:
			return 0, exprError(id, "Operator %s at char %d cannot combine two arrays of time series", n.op, n.pos)
		case l == Array || r == Array:
			return Array, nil
		case l == TimeSeries || r == TimeSeries:
			return TimeSeries, nil
		}
		return Scalar, nil
	case *callNode:
		return p.checkCall(id, n)
	}
	return 0, exprError(id, "Unsupported expression")
}
