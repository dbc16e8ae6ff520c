package metricmath

import "math"

// Run evaluates every expression over the series of the metric queries (by id; a metric query without an entry
// has no datapoints) and returns the value of every query, metric queries included. grid is where a series that
// belongs to no metric lives (TIME_SERIES, an aggregate of an empty array): the request's time range cut into its
// period.
func (p *Program) Run(metrics map[string]Series, grid Grid) map[string]Value {
	e := &env{p: p, grid: grid, values: make(map[string]Value, len(p.queries))}
	for _, q := range p.queries {
		if q.Expression != "" {
			continue
		}
		s, ok := metrics[q.ID]
		if !ok {
			s = Series{Grid: grid}
		}
		if s.Label == "" {
			s.Label = q.Label
		}
		e.values[q.ID] = Value{Kind: TimeSeries, Series: []Series{s}}
	}
	held := 0 // datapoints of the expressions' values so far
	for _, i := range p.order {
		q := p.queries[i]
		if held > MaxRunPoints {
			// The values so far hold too much already: the rest are not computed.
			v := Value{Kind: p.kinds[i], Truncated: true, Scalar: math.NaN()}
			if v.Kind == TimeSeries {
				v.Series = []Series{{Grid: grid}}
			}
			e.values[q.ID] = v
			continue
		}
		e.dropped, e.truncated = false, false
		v := e.eval(p.trees[i])
		v.Dropped, v.Truncated = e.dropped, e.truncated
		e.values[q.ID] = v
		for _, s := range v.Series {
			held += s.Len()
		}
	}
	return e.values
}

// MaxRunPoints bounds the datapoints the expressions of one Run hold: once their values exceed it, the
// expressions after them are not evaluated and come back empty and Truncated. With at most 500 queries of metrics
// kept for hours, arrays of every metric in every expression could otherwise hold billions of datapoints.
const MaxRunPoints = 1 << 22

// env is one Run: the values computed so far.
type env struct {
	p       *Program
	grid    Grid
	values  map[string]Value
	dropped bool // a datapoint of the expression being evaluated had no finite value
	// gridPoints counts the periods FILL and TIME_SERIES walked in this Run; truncated tells that the expression
	// being evaluated met MaxGridPoints.
	gridPoints int
	truncated  bool
}

func (e *env) eval(n node) Value {
	switch n := n.(type) {
	case *numberNode:
		return Value{Kind: Scalar, Scalar: n.value}
	case *refNode:
		return e.values[n.id]
	case *arrayNode:
		out := Value{Kind: Array, Series: []Series{}}
		for _, el := range n.elems {
			out.Series = append(out.Series, e.eval(el).Series...)
		}
		return out
	case *unaryNode:
		x := e.eval(n.x)
		if x.Kind == Scalar {
			return Value{Kind: Scalar, Scalar: -x.Scalar}
		}
		return e.each(x, func(v float64) float64 { return -v })
	case *binaryNode:
		return e.binary(n.op, e.eval(n.l), e.eval(n.r))
	case *callNode:
		return e.call(n)
	}
	return Value{Kind: TimeSeries, Series: []Series{{Grid: e.grid}}} // unreachable: Compile checked the tree
}

// operate applies a binary operator to two numbers; comparisons and logical operators give 1 or 0.
func operate(op string, a, b float64) float64 {
	truth := func(ok bool) float64 {
		if ok {
			return 1
		}
		return 0
	}
	switch op {
	case "+":
		return a + b
	case "-":
		return a - b
	case "*":
		return a * b
	case "/":
		return a / b
	case "^":
		return math.Pow(a, b)
	case "==":
		return truth(a == b)
	case "!=":
		return truth(a != b)
	case "<":
		return truth(a < b)
	case ">":
		return truth(a > b)
	case "<=":
		return truth(a <= b)
	case ">=":
		return truth(a >= b)
	case "AND":
		return truth(a != 0 && b != 0)
	case "OR":
		return truth(a != 0 || b != 0)
	}
	return math.NaN()
}

// binary combines two values: scalars give a scalar; a series with a scalar works on the series' datapoints; two
// series on the union of their timestamps, a missing value counting as 0; an array, member by member.
func (e *env) binary(op string, l, r Value) Value {
	switch {
	case l.Kind == Scalar && r.Kind == Scalar:
		return Value{Kind: Scalar, Scalar: operate(op, l.Scalar, r.Scalar)}
	case l.Kind == Array:
		out := Value{Kind: Array, Series: make([]Series, 0, len(l.Series))}
		for _, s := range l.Series {
			out.Series = append(out.Series, e.binary(op, Value{Kind: TimeSeries, Series: []Series{s}}, r).Series[0])
		}
		return out
	case r.Kind == Array:
		out := Value{Kind: Array, Series: make([]Series, 0, len(r.Series))}
		for _, s := range r.Series {
			out.Series = append(out.Series, e.binary(op, l, Value{Kind: TimeSeries, Series: []Series{s}}).Series[0])
		}
		return out
	case r.Kind == Scalar:
		return e.each(l, func(v float64) float64 { return operate(op, v, r.Scalar) })
	case l.Kind == Scalar:
		return e.each(r, func(v float64) float64 { return operate(op, l.Scalar, v) })
	}
	return Value{Kind: TimeSeries, Series: []Series{e.union(l.Series[0], r.Series[0], op)}}
}

// union combines two series at every timestamp of either, a missing value counting as 0; the result keeps the
// left series' label and grid.
func (e *env) union(a, b Series, op string) Series {
	out := Series{Label: a.Label, Grid: a.Grid}
	if out.Grid.Period == 0 {
		out.Grid = b.Grid
	}
	emit := func(t int64, v float64) {
		if finite(v) {
			out.Times, out.Values = append(out.Times, t), append(out.Values, v)
		} else {
			e.dropped = true
		}
	}
	i, j := 0, 0
	for i < a.Len() || j < b.Len() {
		switch {
		case j >= b.Len() || i < a.Len() && a.Times[i] < b.Times[j]:
			emit(a.Times[i], operate(op, a.Values[i], 0))
			i++
		case i >= a.Len() || b.Times[j] < a.Times[i]:
			emit(b.Times[j], operate(op, 0, b.Values[j]))
			j++
		default:
			emit(a.Times[i], operate(op, a.Values[i], b.Values[j]))
			i++
			j++
		}
	}
	return out
}

// each applies f to every datapoint of a series or of each member of an array, dropping non-finite results.
func (e *env) each(x Value, f func(float64) float64) Value {
	return e.mapSeries(x, func(s Series) Series {
		out := Series{Label: s.Label, Grid: s.Grid, Times: make([]int64, 0, s.Len()), Values: make([]float64, 0, s.Len())}
		for i, v := range s.Values {
			if r := f(v); finite(r) {
				out.Times, out.Values = append(out.Times, s.Times[i]), append(out.Values, r)
			} else {
				e.dropped = true
			}
		}
		return out
	})
}

// mapSeries applies f to a series, or to each member of an array.
func (e *env) mapSeries(x Value, f func(Series) Series) Value {
	out := Value{Kind: x.Kind, Series: make([]Series, 0, len(x.Series))}
	for _, s := range x.Series {
		out.Series = append(out.Series, f(s))
	}
	return out
}
