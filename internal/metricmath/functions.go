package metricmath

import (
	"math"
	"strings"
)

// The functions, with the argument types CloudWatch's table lists (S scalar, TS time series, TS[] array):
//
//	ABS CEIL FLOOR LOG LOG10        TS → TS, TS[] → TS[]       each datapoint
//	DIFF RATE DIFF_TIME RUNNING_SUM TS → TS, TS[] → TS[]       each datapoint against the one before
//	SUM AVG MIN MAX STDDEV          TS → S,  TS[] → TS         over the datapoints / across the members
//	DATAPOINT_COUNT                 TS → S,  TS[] → TS
//	METRIC_COUNT                    TS[] → S
//	REMOVE_EMPTY                    TS[] → TS[]
//	METRICS                         () or (string) → TS[]
//	PERIOD                          a metric query's id → S
//	TIME_SERIES                     S → TS
//	FILL                            (TS | TS[], S | TS | REPEAT | LINEAR) → the first argument's type
//	IF                              (S, TS[, TS]) or (TS, S | TS[, S | TS]) → TS
type function struct {
	min, max int // number of arguments
}

var functions = map[string]function{
	"ABS": {1, 1}, "CEIL": {1, 1}, "FLOOR": {1, 1}, "LOG": {1, 1}, "LOG10": {1, 1},
	"DIFF": {1, 1}, "RATE": {1, 1}, "DIFF_TIME": {1, 1}, "RUNNING_SUM": {1, 1},
	"SUM": {1, 1}, "AVG": {1, 1}, "MIN": {1, 1}, "MAX": {1, 1}, "STDDEV": {1, 1}, "DATAPOINT_COUNT": {1, 1},
	"METRIC_COUNT": {1, 1}, "REMOVE_EMPTY": {1, 1},
	"METRICS": {0, 1}, "PERIOD": {1, 1}, "TIME_SERIES": {1, 1},
	"FILL": {2, 2}, "IF": {2, 3},
}

// unsupported are CloudWatch functions Sluice does not implement: refused by name rather than as unknown.
var unsupported = map[string]bool{
	"SEARCH": true, "ANOMALY_DETECTION_BAND": true, "SORT": true, "SLICE": true, "FIRST": true, "LAST": true,
	"MINUTE": true, "HOUR": true, "DAY": true, "DATE": true, "MONTH": true, "YEAR": true, "EPOCH": true,
	"INSIGHT_RULE_METRIC": true, "SERVICE_QUOTA": true, "LAMBDA": true, "SELECT": true, "AVG_OVER_TIME": true,
}

func (p *Program) checkCall(id string, n *callNode) (Kind, error) {
	f, ok := functions[n.name]
	switch {
	case !ok && unsupported[n.name]:
		return 0, exprError(id, "Function %s at char %d is not supported by Sluice", n.name, n.pos)
	case !ok:
		return 0, exprError(id, "Unknown function %s at char %d", n.name, n.pos)
	case len(n.args) < f.min || len(n.args) > f.max:
		return 0, exprError(id, "Function %s at char %d takes %s, not %d", n.name, n.pos, argCount(f), len(n.args))
	}
	switch n.name {
	case "METRICS":
		if len(n.args) == 1 {
			if _, ok := n.args[0].(*stringNode); !ok {
				return 0, exprError(id, "Function METRICS at char %d takes a string in double quotes", n.pos)
			}
		}
		return Array, nil
	case "PERIOD":
		r, ok := n.args[0].(*refNode)
		if !ok || p.queries[p.index[r.id]].Expression != "" {
			return 0, exprError(id, "Function PERIOD at char %d takes the id of a metric, not an expression", n.pos)
		}
		return Scalar, nil
	case "FILL":
		return p.checkFill(id, n)
	case "IF":
		return p.checkIf(id, n)
	}
	k, err := p.check(id, n.args[0])
	if err != nil {
		return 0, err
	}
	bad := func(want string) (Kind, error) {
		return 0, exprError(id, "Function %s at char %d takes %s, not %s", n.name, n.pos, want, k)
	}
	switch n.name {
	case "ABS", "CEIL", "FLOOR", "LOG", "LOG10", "DIFF", "RATE", "DIFF_TIME", "RUNNING_SUM":
		if k == Scalar {
			return bad("a time series or an array of time series")
		}
		return k, nil
	case "SUM", "AVG", "MIN", "MAX", "STDDEV", "DATAPOINT_COUNT":
		switch k {
		case TimeSeries:
			return Scalar, nil
		case Array:
			return TimeSeries, nil
		}
		return bad("a time series or an array of time series")
	case "METRIC_COUNT":
		if k != Array {
			return bad("an array of time series")
		}
		return Scalar, nil
	case "REMOVE_EMPTY":
		if k != Array {
			return bad("an array of time series")
		}
		return Array, nil
	case "TIME_SERIES":
		if k != Scalar {
			return bad("a scalar")
		}
		return TimeSeries, nil
	}
	return 0, exprError(id, "Unknown function %s at char %d", n.name, n.pos)
}

func argCount(f function) string {
	switch {
	case f.min == f.max && f.min == 1:
		return "1 argument"
	case f.min == f.max:
		return itoa(f.min) + " arguments"
	}
	return itoa(f.min) + " to " + itoa(f.max) + " arguments"
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	s := ""
	for ; n > 0; n /= 10 {
		s = string(rune('0'+n%10)) + s
	}
	return s
}

func (p *Program) checkFill(id string, n *callNode) (Kind, error) {
	k, err := p.check(id, n.args[0])
	if err != nil {
		return 0, err
	}
	if k == Scalar {
		return 0, exprError(id, "Function FILL at char %d fills a time series or an array of time series, not %s", n.pos, k)
	}
	if _, ok := n.args[1].(*keywordNode); ok {
		return k, nil
	}
	fk, err := p.check(id, n.args[1])
	if err != nil {
		return 0, err
	}
	if fk == Array {
		return 0, exprError(id, "Function FILL at char %d fills with a scalar, a time series, REPEAT or LINEAR, not %s", n.pos, fk)
	}
	return k, nil
}

func (p *Program) checkIf(id string, n *callNode) (Kind, error) {
	kinds := make([]Kind, len(n.args))
	for i, a := range n.args {
		k, err := p.check(id, a)
		if err != nil {
			return 0, err
		}
		if k == Array {
			return 0, exprError(id, "Function IF at char %d takes scalars and time series, not %s at char %d", n.pos, k, a.position())
		}
		kinds[i] = k
	}
	if kinds[0] == Scalar {
		for i, k := range kinds[1:] {
			if k != TimeSeries {
				return 0, exprError(id, "Function IF at char %d with a scalar condition takes time series, not %s at char %d", n.pos, k, n.args[i+1].position())
			}
		}
	}
	return TimeSeries, nil
}

// ---- evaluation of calls ----

func (e *env) call(n *callNode) Value {
	switch n.name {
	case "METRICS":
		sub := ""
		if len(n.args) == 1 {
			sub = n.args[0].(*stringNode).text
		}
		out := Value{Kind: Array, Series: []Series{}}
		for _, q := range e.p.queries {
			if q.Expression == "" && strings.Contains(q.ID, sub) {
				out.Series = append(out.Series, e.values[q.ID].Series[0])
			}
		}
		return out
	case "PERIOD":
		return Value{Kind: Scalar, Scalar: float64(e.p.queries[e.p.index[n.args[0].(*refNode).id]].Period)}
	case "FILL":
		return e.fill(n)
	case "IF":
		return e.ifFunc(n)
	}
	x := e.eval(n.args[0])
	switch n.name {
	case "ABS":
		return e.each(x, math.Abs)
	case "CEIL":
		return e.each(x, math.Ceil)
	case "FLOOR":
		return e.each(x, math.Floor)
	case "LOG":
		return e.each(x, math.Log)
	case "LOG10":
		return e.each(x, math.Log10)
	case "DIFF":
		return e.consecutive(x, func(_, _ int64, prev, cur float64) float64 { return cur - prev })
	case "RATE":
		return e.consecutive(x, func(tp, tc int64, prev, cur float64) float64 { return (cur - prev) / float64(tc-tp) })
	case "DIFF_TIME":
		return e.consecutive(x, func(tp, tc int64, _, _ float64) float64 { return float64(tc - tp) })
	case "RUNNING_SUM":
		return e.mapSeries(x, runningSum)
	case "SUM", "AVG", "MIN", "MAX", "STDDEV", "DATAPOINT_COUNT":
		if x.Kind == TimeSeries {
			return Value{Kind: Scalar, Scalar: reduce(n.name, x.Series[0].Values)}
		}
		return e.across(n.name, x.Series)
	case "METRIC_COUNT":
		return Value{Kind: Scalar, Scalar: float64(len(x.Series))}
	case "REMOVE_EMPTY":
		out := Value{Kind: Array, Series: []Series{}}
		for _, s := range x.Series {
			if s.Len() > 0 {
				out.Series = append(out.Series, s)
			}
		}
		return out
	case "TIME_SERIES":
		s := Series{Grid: e.grid}
		e.gridEach(e.grid, func(t int64) {
			if finite(x.Scalar) {
				s.Times, s.Values = append(s.Times, t), append(s.Values, x.Scalar)
			} else {
				e.dropped = true
			}
		})
		return Value{Kind: TimeSeries, Series: []Series{s}}
	}
	return Value{Kind: TimeSeries, Series: []Series{{Grid: e.grid}}}
}

// reduce is a statistic over one series' datapoints: SUM of none is 0, the others NaN.
func reduce(name string, vs []float64) float64 {
	if name == "DATAPOINT_COUNT" {
		return float64(len(vs))
	}
	if name == "SUM" {
		sum := 0.0
		for _, v := range vs {
			sum += v
		}
		return sum
	}
	if len(vs) == 0 {
		return math.NaN()
	}
	switch name {
	case "AVG":
		return reduce("SUM", vs) / float64(len(vs))
	case "MIN":
		m := vs[0]
		for _, v := range vs[1:] {
			m = min(m, v)
		}
		return m
	case "MAX":
		m := vs[0]
		for _, v := range vs[1:] {
			m = max(m, v)
		}
		return m
	case "STDDEV":
		mean := reduce("AVG", vs)
		ss := 0.0
		for _, v := range vs {
			ss += (v - mean) * (v - mean)
		}
		return math.Sqrt(ss / float64(len(vs)))
	}
	return math.NaN()
}

// across computes a statistic across an array's members at each timestamp of any member: SUM and AVG count a
// missing value as 0 (AVG divides by the number of members), MIN, MAX and STDDEV use the values present,
// DATAPOINT_COUNT counts them.
func (e *env) across(name string, members []Series) Value {
	grid := e.grid
	if len(members) > 0 {
		grid = members[0].Grid
	}
	out := Series{Grid: grid}
	idx := make([]int, len(members))
	present := make([]float64, 0, len(members))
	for {
		t, any := int64(math.MaxInt64), false
		for m, s := range members {
			if idx[m] < s.Len() && s.Times[idx[m]] < t {
				t, any = s.Times[idx[m]], true
			}
		}
		if !any {
			break
		}
		present = present[:0]
		for m, s := range members {
			if idx[m] < s.Len() && s.Times[idx[m]] == t {
				present = append(present, s.Values[idx[m]])
				idx[m]++
			}
		}
		var v float64
		switch name {
		case "AVG":
			v = reduce("SUM", present) / float64(len(members))
		default:
			v = reduce(name, present)
		}
		if finite(v) {
			out.Times, out.Values = append(out.Times, t), append(out.Values, v)
		} else {
			e.dropped = true
		}
	}
	return Value{Kind: TimeSeries, Series: []Series{out}}
}

func runningSum(s Series) Series {
	out := Series{Label: s.Label, Grid: s.Grid, Times: append([]int64(nil), s.Times...), Values: make([]float64, s.Len())}
	sum := 0.0
	for i, v := range s.Values {
		sum += v
		out.Values[i] = sum
	}
	return out
}

// consecutive applies f to each datapoint and the one before it; the first datapoint has none and is dropped.
func (e *env) consecutive(x Value, f func(tp, tc int64, prev, cur float64) float64) Value {
	return e.mapSeries(x, func(s Series) Series {
		out := Series{Label: s.Label, Grid: s.Grid}
		for i := 1; i < s.Len(); i++ {
			v := f(s.Times[i-1], s.Times[i], s.Values[i-1], s.Values[i])
			if finite(v) {
				out.Times, out.Values = append(out.Times, s.Times[i]), append(out.Values, v)
			} else {
				e.dropped = true
			}
		}
		return out
	})
}

// MaxGridPoints bounds the periods FILL and TIME_SERIES walk in one Run, over all their series together, so that
// a request over a long range at a short period cannot make a hostile amount of data: past it they stop, and the
// values they were making say so (Value.Truncated).
const MaxGridPoints = 1 << 20

// gridEach calls f for each timestamp of g, in order, within the Run's budget of MaxGridPoints.
func (e *env) gridEach(g Grid, f func(t int64)) {
	if g.Period <= 0 {
		return
	}
	for t := g.Start; t < g.End; t += g.Period {
		if e.gridPoints >= MaxGridPoints {
			e.truncated = true
			return
		}
		e.gridPoints++
		f(t)
	}
}

func (e *env) fill(n *callNode) Value {
	x := e.eval(n.args[0])
	var filler Value
	mode := ""
	if kw, ok := n.args[1].(*keywordNode); ok {
		mode = kw.word
	} else {
		filler = e.eval(n.args[1])
	}
	return e.mapSeries(x, func(s Series) Series {
		out := Series{Label: s.Label, Grid: s.Grid}
		i := 0
		emit := func(t int64, v float64) {
			if finite(v) {
				out.Times, out.Values = append(out.Times, t), append(out.Values, v)
			} else {
				e.dropped = true
			}
		}
		var fillerAt func(t int64) (float64, bool)
		if filler.Kind == TimeSeries {
			fs, j := filler.Series[0], 0
			fillerAt = func(t int64) (float64, bool) { // t ascends
				for j < fs.Len() && fs.Times[j] < t {
					j++
				}
				if j < fs.Len() && fs.Times[j] == t {
					return fs.Values[j], true
				}
				return 0, false
			}
		}
		e.gridEach(s.Grid, func(t int64) {
			for i < s.Len() && s.Times[i] < t { // datapoints off the grid are kept as they are
				emit(s.Times[i], s.Values[i])
				i++
			}
			if i < s.Len() && s.Times[i] == t {
				emit(t, s.Values[i])
				i++
				return
			}
			switch {
			case mode == "REPEAT":
				if i > 0 {
					emit(t, s.Values[i-1])
				}
			case mode == "LINEAR":
				if i > 0 && i < s.Len() {
					t0, t1, v0, v1 := s.Times[i-1], s.Times[i], s.Values[i-1], s.Values[i]
					emit(t, v0+(v1-v0)*float64(t-t0)/float64(t1-t0))
				}
			case filler.Kind == Scalar:
				emit(t, filler.Scalar)
			case fillerAt != nil:
				if v, ok := fillerAt(t); ok {
					emit(t, v)
				}
			}
		})
		for ; i < s.Len(); i++ {
			emit(s.Times[i], s.Values[i])
		}
		return out
	})
}

// ifFunc evaluates IF as CloudWatch's "Using IF expressions" lays out its forms.
func (e *env) ifFunc(n *callNode) Value {
	cond := e.eval(n.args[0])
	a := e.eval(n.args[1])
	var b Value
	if len(n.args) == 3 {
		b = e.eval(n.args[2])
	}
	if cond.Kind == Scalar {
		switch {
		case cond.Scalar != 0:
			return a
		case len(n.args) == 3:
			return b
		}
		return Value{Kind: TimeSeries, Series: []Series{{Grid: a.Series[0].Grid}}}
	}
	c := cond.Series[0]
	out := Series{Grid: c.Grid}
	lookup := func(v Value) func(t int64) (float64, bool) {
		if v.Kind != TimeSeries {
			return nil
		}
		s, j := v.Series[0], 0
		return func(t int64) (float64, bool) {
			for j < s.Len() && s.Times[j] < t {
				j++
			}
			if j < s.Len() && s.Times[j] == t {
				return s.Values[j], true
			}
			return 0, false
		}
	}
	aAt, bAt := lookup(a), lookup(b)
	for i, t := range c.Times {
		var v float64
		if c.Values[i] != 0 {
			switch {
			case aAt != nil:
				v, _ = aAt(t) // a true condition where a has no datapoint gives 0
			default:
				v = a.Scalar
			}
		} else {
			switch {
			case bAt != nil:
				var ok bool
				if v, ok = bAt(t); !ok {
					continue
				}
			case len(n.args) == 3:
				v = b.Scalar
			default:
				continue
			}
		}
		if finite(v) {
			out.Times, out.Values = append(out.Times, t), append(out.Values, v)
		} else {
			e.dropped = true
		}
	}
	return Value{Kind: TimeSeries, Series: []Series{out}}
}
