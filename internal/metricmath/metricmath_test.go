package metricmath

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/internal/fault"
)

// missing marks a period without a datapoint in the tests' series.
var missing = math.NaN()

// grid is the tests' grid: four or five 60-second periods from 0.
var grid = Grid{Start: 0, End: 300, Period: 60}

// series builds a series on grid, one value per period from 0 (missing: no datapoint).
func series(label string, values ...float64) Series {
	s := Series{Label: label, Grid: grid}
	for i, v := range values {
		if !math.IsNaN(v) {
			s.Times = append(s.Times, int64(i)*60)
			s.Values = append(s.Values, v)
		}
	}
	return s
}

// dense renders a series back as one value per period of grid (missing where it has none).
func dense(s Series) []float64 {
	out := make([]float64, (grid.End-grid.Start)/grid.Period)
	for i := range out {
		out[i] = missing
	}
	for i, t := range s.Times {
		out[(t-grid.Start)/grid.Period] = s.Values[i]
	}
	return out
}

func sameValues(a, b []float64) bool {
	return slices.EqualFunc(a, b, func(x, y float64) bool {
		return math.IsNaN(x) && math.IsNaN(y) || math.Abs(x-y) <= 1e-9*math.Max(1, math.Abs(y))
	})
}

// request is the tests' metric queries: m1 and m2 of the docs' comparison example, errors and invocations of
// an error rate, and a 4xx/5xx pair for METRICS("…").
func request(exprs ...Query) []Query {
	return append([]Query{
		{ID: "metric1", Label: "M1", Period: 60}, {ID: "metric2", Label: "M2", Period: 60},
		{ID: "errors", Label: "Errors", Period: 60}, {ID: "invocations", Label: "Invocations", Period: 60},
		{ID: "http4xx", Label: "4xx", Period: 60}, {ID: "http5xx", Label: "5xx", Period: 300},
	}, exprs...)
}

func TestEvaluate(t *testing.T) {
	data := map[string]Series{
		// The docs' comparison example: metric1 [30, 20, 0, 0], metric2 [20, -, 20, -].
		"metric1":     series("", 30, 20, 0, 0),
		"metric2":     series("", 20, missing, 20, missing),
		"errors":      series("", 1, missing, 0, 3, missing),
		"invocations": series("", 100, 50, 0, missing, missing),
		"http4xx":     series("", 1, 2, missing, 4, missing),
		"http5xx":     series("", missing, 1, missing, missing, missing),
	}
	for _, tc := range []struct {
		name, expr string
		want       []float64 // the period values of a TS result
		scalar     float64   // a scalar result, when want is nil
		array      [][]float64
		labels     []string
		dropped    bool
	}{
		// Comparison and logical operators: CloudWatch's table.
		{name: "docs: metric1 < metric2", expr: "metric1 < metric2", want: []float64{0, 0, 1, 0, missing}},
		{name: "docs: metric1 >= 30", expr: "metric1 >= 30", want: []float64{1, 0, 0, 0, missing}},
		{name: "docs: AND", expr: "metric1 > 15 AND metric2 > 15", want: []float64{1, 0, 0, 0, missing}},
		{name: "&& and || spellings", expr: "(metric1 > 15 && metric2 > 15) || metric1 == 0", want: []float64{1, 0, 1, 1, missing}},
		{name: "OR", expr: "metric1 > 25 OR metric2 > 15", want: []float64{1, 0, 1, 0, missing}},
		{name: "!= and <=", expr: "(metric1 != 20) + (metric1 <= 0)", want: []float64{1, 0, 2, 2, missing}},

		// Arithmetic: two series on the union of timestamps, missing as 0; with a scalar on the series' own.
		{name: "series + series, missing as 0", expr: "metric1 + metric2", want: []float64{50, 20, 20, 0, missing}},
		{name: "series - series", expr: "metric2 - metric1", want: []float64{-10, -20, 20, 0, missing}},
		{name: "series * scalar", expr: "5 * metric2", want: []float64{100, missing, 100, missing, missing}},
		{name: "scalar ^ and /", expr: "metric1 / 2^2", want: []float64{7.5, 5, 0, 0, missing}},
		{name: "unary minus", expr: "-metric2", want: []float64{-20, missing, -20, missing, missing}},
		{name: "precedence: -2^2 is -4", expr: "TIME_SERIES(-2^2)", want: []float64{-4, -4, -4, -4, -4}},
		{name: "precedence: ^ is right-associative", expr: "TIME_SERIES(2^3^2)", want: []float64{512, 512, 512, 512, 512}},
		{name: "precedence: * before +", expr: "TIME_SERIES(1 + 2 * 3 - 4 / 2)", want: []float64{5, 5, 5, 5, 5}},
		{name: "exponent notation", expr: "TIME_SERIES(1.5e2 + 2E-1)", want: []float64{150.2, 150.2, 150.2, 150.2, 150.2}},

		// The error rate a canary needs: no datapoint without invocations; a division by zero is dropped.
		{name: "error rate", expr: "100*errors/invocations", want: []float64{1, 0, missing, missing, missing}, dropped: true},
		{name: "0/0 is dropped", expr: "metric1 / metric1", want: []float64{1, 1, missing, missing, missing}, dropped: true},
		{name: "negative base to a fraction is dropped", expr: "(metric2 - 30) ^ 0.5", want: []float64{missing, missing, missing, missing, missing}, dropped: true},
		{name: "a scalar division by zero drops every datapoint", expr: "metric1 + 1/0", want: []float64{missing, missing, missing, missing, missing}, dropped: true},

		// IF: the docs' four tables.
		{name: "docs: IF(metric1, metric2, metric3)", expr: "IF(c, metric2 ,metric3)"},
		{name: "IF with a comparison, no false branch", expr: "IF(metric1 < 25, metric1)", want: []float64{missing, 20, 0, 0, missing}},
		{name: "IF with scalars", expr: "IF(metric1 < 25, 10, 2)", want: []float64{2, 10, 10, 10, missing}},
		{name: "IF with a true scalar condition", expr: "IF(1, metric1, metric2)", want: []float64{30, 20, 0, 0, missing}},
		{name: "IF with a false scalar condition", expr: "IF(0, metric1, metric2)", want: []float64{20, missing, 20, missing, missing}},
		{name: "IF with a false scalar condition and no false branch", expr: "IF(2 < 1, metric1)", want: []float64{missing, missing, missing, missing, missing}},

		// FILL.
		{name: "FILL with a value", expr: "FILL(metric2, 0)", want: []float64{20, 0, 20, 0, 0}},
		{name: "FILL with REPEAT", expr: "FILL(errors, REPEAT)", want: []float64{1, 1, 0, 3, 3}},
		{name: "FILL with REPEAT has nothing before the first datapoint", expr: "FILL(http5xx, REPEAT)", want: []float64{missing, 1, 1, 1, 1}},
		{name: "FILL with LINEAR", expr: "FILL(http4xx, LINEAR)", want: []float64{1, 2, 3, 4, missing}},
		{name: "FILL with a series", expr: "FILL(metric2, metric1)", want: []float64{20, 20, 20, 0, missing}},
		{name: "FILL with a scalar expression", expr: "FILL(metric2, MIN(metric1))", want: []float64{20, 0, 20, 0, 0}},
		{name: "FILL of an array", expr: "FILL([metric2, http5xx], 0)", array: [][]float64{{20, 0, 20, 0, 0}, {0, 1, 0, 0, 0}}, labels: []string{"M2", "5xx"}},
		{name: "the alarm's filled error rate", expr: "100*FILL(errors,0)/FILL(invocations,1)", want: []float64{1, 0, missing, 300, 0}, dropped: true},

		// Statistics.
		{name: "SUM of a series is a scalar", expr: "metric1 - SUM(metric1)/4", want: []float64{17.5, 7.5, -12.5, -12.5, missing}},
		{name: "AVG, MIN, MAX of a series", expr: "TIME_SERIES(AVG(metric2) + MIN(metric1) + MAX(metric1))", want: []float64{50, 50, 50, 50, 50}},
		{name: "STDDEV of a series", expr: "TIME_SERIES(STDDEV(metric2))", want: []float64{0, 0, 0, 0, 0}},
		{name: "STDDEV of a series (population)", expr: "TIME_SERIES(STDDEV(metric1))", want: []float64{math.Sqrt(168.75), math.Sqrt(168.75), math.Sqrt(168.75), math.Sqrt(168.75), math.Sqrt(168.75)}},
		{name: "SUM of an array: missing as 0", expr: "SUM([metric1, metric2])", want: []float64{50, 20, 20, 0, missing}},
		{name: "AVG of an array: missing as 0", expr: "AVG([metric1, metric2])", want: []float64{25, 10, 10, 0, missing}},
		{name: "MIN and MAX of an array: the values present", expr: "MAX([metric1, metric2]) - MIN([metric1, metric2])", want: []float64{10, 0, 20, 0, missing}},
		{name: "STDDEV of an array", expr: "STDDEV([metric1, metric2])", want: []float64{5, 0, 10, 0, missing}},
		{name: "DATAPOINT_COUNT", expr: "DATAPOINT_COUNT([metric1, metric2]) + DATAPOINT_COUNT(metric2)", want: []float64{4, 3, 4, 3, missing}},
		{name: "SUM of an empty series is 0", expr: "metric1 + SUM(IF(0, metric1))", want: []float64{30, 20, 0, 0, missing}},

		// Functions of each datapoint.
		{name: "ABS", expr: "ABS(metric2 - metric1)", want: []float64{10, 20, 20, 0, missing}},
		{name: "CEIL and FLOOR", expr: "CEIL(metric1 / 7) * 10 + FLOOR(metric1 / 7)", want: []float64{54, 32, 0, 0, missing}},
		{name: "LOG10", expr: "LOG10(metric2 * 5)", want: []float64{2, missing, 2, missing, missing}},
		{name: "LOG of 0 is dropped", expr: "LOG(metric1)", want: []float64{math.Log(30), math.Log(20), missing, missing, missing}, dropped: true},
		{name: "DIFF", expr: "DIFF(errors)", want: []float64{missing, missing, -1, 3, missing}},
		{name: "RATE is per second", expr: "RATE(errors)", want: []float64{missing, missing, -1.0 / 120, 3.0 / 60, missing}},
		{name: "DIFF_TIME", expr: "DIFF_TIME(errors)", want: []float64{missing, missing, 120, 60, missing}},
		{name: "RUNNING_SUM", expr: "RUNNING_SUM(metric1)", want: []float64{30, 50, 50, 50, missing}},
		{name: "PERIOD", expr: "metric1 / PERIOD(metric1) + PERIOD(http5xx) - 300", want: []float64{0.5, 1.0 / 3, 0, 0, missing}},

		// Arrays.
		{name: "METRICS()", expr: "METRICS()", array: [][]float64{
			{30, 20, 0, 0, missing}, {20, missing, 20, missing, missing}, {1, missing, 0, 3, missing},
			{100, 50, 0, missing, missing}, {1, 2, missing, 4, missing}, {missing, 1, missing, missing, missing}},
			labels: []string{"M1", "M2", "Errors", "Invocations", "4xx", "5xx"}},
		{name: "METRICS(\"xx\") / 100", expr: `METRICS("xx") * 100`, array: [][]float64{{100, 200, missing, 400, missing}, {missing, 100, missing, missing, missing}}, labels: []string{"4xx", "5xx"}},
		{name: "SUM of two METRICS", expr: `SUM([METRICS("4xx"), METRICS("5xx")])`, want: []float64{1, 3, missing, 4, missing}},
		{name: "typographic quotes as in the docs", expr: "SUM(METRICS(“xx”))", want: []float64{1, 3, missing, 4, missing}},
		{name: "METRICS() excludes expressions", expr: "METRIC_COUNT(METRICS())", scalar: 6},
		{name: "REMOVE_EMPTY", expr: `METRIC_COUNT(REMOVE_EMPTY([METRICS("xx"), IF(0, metric1)]))`, scalar: 2},
		{name: "array op series", expr: "[metric1, metric2] - metric1", array: [][]float64{{0, 0, 0, 0, missing}, {-10, -20, 20, 0, missing}}, labels: []string{"M1", "M2"}},
		{name: "scalar op array", expr: "SUM(100/[metric1, metric2])", want: []float64{100.0/30 + 5, 5, 5, missing, missing}, dropped: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			qs := request(Query{ID: "e1", Expression: tc.expr})
			d := data
			if strings.HasPrefix(tc.name, "docs: IF(") {
				// metric1 [1, 1, 0, 0, -], metric2 [30, -, 0, 0, 30], metric3 [0, 0, 20, -, 20] → [30, 0, 20, -, -].
				qs = []Query{{ID: "c", Period: 60}, {ID: "metric2", Period: 60}, {ID: "metric3", Period: 60}, {ID: "e1", Expression: tc.expr}}
				d = map[string]Series{"c": series("", 1, 1, 0, 0, missing), "metric2": series("", 30, missing, 0, 0, 30), "metric3": series("", 0, 0, 20, missing, 20)}
				tc.want = []float64{30, 0, 20, missing, missing}
			}
			p, err := Compile(qs)
			if err != nil {
				t.Fatal(err)
			}
			got := p.Run(d, grid)["e1"]
			if got.Dropped != tc.dropped {
				t.Errorf("Dropped = %v, want %v", got.Dropped, tc.dropped)
			}
			switch {
			case tc.array != nil:
				if got.Kind != Array || len(got.Series) != len(tc.array) {
					t.Fatalf("got %+v, want %d series", got, len(tc.array))
				}
				for i, s := range got.Series {
					if !sameValues(dense(s), tc.array[i]) || s.Label != tc.labels[i] {
						t.Errorf("member %d: %v %q, want %v %q", i, dense(s), s.Label, tc.array[i], tc.labels[i])
					}
				}
			case tc.want != nil:
				if got.Kind != TimeSeries {
					t.Fatalf("got %v, want a time series", got.Kind)
				}
				if !sameValues(dense(got.Series[0]), tc.want) {
					t.Errorf("%s = %v, want %v", tc.expr, dense(got.Series[0]), tc.want)
				}
				if !slices.IsSorted(got.Series[0].Times) {
					t.Errorf("timestamps out of order: %v", got.Series[0].Times)
				}
			default:
				if got.Kind != Scalar || got.Scalar != tc.scalar {
					t.Errorf("%s = %+v, want the scalar %v", tc.expr, got, tc.scalar)
				}
			}
		})
	}
}

func TestExpressionsReferToExpressions(t *testing.T) {
	p, err := Compile([]Query{
		{ID: "rate", Expression: "100 * errors / total"},
		{ID: "total", Expression: "FILL(invocations, 0)"},
		{ID: "errors", Period: 60}, {ID: "invocations", Period: 60},
		{ID: "breached", Expression: "IF(rate > 1, 1, 0)"},
	})
	if err != nil {
		t.Fatal(err)
	}
	out := p.Run(map[string]Series{"errors": series("", 1, 0, 5), "invocations": series("", 50, 100, 100)}, grid)
	if got := dense(out["breached"].Series[0]); !sameValues(got, []float64{1, 0, 1, missing, missing}) {
		t.Errorf("breached = %v", got)
	}
	if !out["rate"].Dropped || out["breached"].Dropped { // FILL(invocations, 0) makes the last two periods 0/0
		t.Errorf("dropped: rate %v, breached %v", out["rate"].Dropped, out["breached"].Dropped)
	}
}

func TestCompileErrors(t *testing.T) {
	metrics := []Query{{ID: "m1", Period: 60}, {ID: "m2", Period: 60}}
	for _, tc := range []struct {
		name    string
		queries []Query
		want    string
	}{
		{"id starts upper case", []Query{{ID: "M1"}}, "Invalid metric_id: M1. The Id must start with a lowercase letter and contain only letters, numbers and underscores."},
		{"id with a dash", []Query{{ID: "m-1"}}, "Invalid metric_id: m-1."},
		{"duplicate ids", append(metrics, Query{ID: "m1", Expression: "m2"}), "The values for parameter id in MetricDataQueries are not unique."},
		{"unclosed parenthesis", []Query{{ID: "e1", Expression: "(m1 + 1"}}, "Error in expression e1 [Unsupported token '<EOF>' at char 7, must be: ')']"},
		{"empty parentheses", []Query{{ID: "e1", Expression: "()"}}, "Error in expression e1 [Unsupported token ')' at char 1]"},
		{"two operators", []Query{{ID: "e1", Expression: "m1 * / m2"}}, "Error in expression e1 [Unsupported token '/' at char 5]"},
		{"trailing token", []Query{{ID: "e1", Expression: "m1 m2"}}, "Error in expression e1 [Unsupported token 'm2' at char 3]"},
		{"unknown character", []Query{{ID: "e1", Expression: "m1 % 2"}}, "Error in expression e1 [Unsupported token '%' at char 3]"},
		{"unclosed string", []Query{{ID: "e1", Expression: `METRICS("abc`}}, `Error in expression e1 [Unsupported token '"abc' at char 8]`},
		{"unclosed array", []Query{{ID: "e1", Expression: "SUM([m1, m2)"}}, "Error in expression e1 [Unsupported token ')' at char 11, must be: ']']"},
		{"bad number", []Query{{ID: "e1", Expression: "1.2.3 * m1"}}, "Error in expression e1 [Unsupported token '1.2.3' at char 0]"},
		{"unknown id", []Query{{ID: "m1"}, {ID: "e1", Expression: "m1 + m3"}}, "Error in expression e1 [Unrecognized metric or expression id 'm3' at char 5]"},
		{"itself", []Query{{ID: "e1", Expression: "e1 + 1"}}, "Error in expression e1 [The expression refers to itself at char 0]"},
		{"cycle", append(metrics, Query{ID: "e1", Expression: "e2 + m1"}, Query{ID: "e2", Expression: "e3 * 2"}, Query{ID: "e3", Expression: "e1"}),
			"Error in expression e1 [Circular reference: e1 -> e2 -> e3 -> e1]"},
		{"lower-case function", []Query{{ID: "m1"}, {ID: "e1", Expression: "sum(m1)"}}, "Error in expression e1 [Unsupported token '(' at char 3]"},
		{"unknown function", []Query{{ID: "m1"}, {ID: "e1", Expression: "1 + MEDIAN(m1)"}}, "Error in expression e1 [Unknown function MEDIAN at char 4]"},
		{"unsupported function", []Query{{ID: "e1", Expression: `SEARCH('{AWS/Lambda} Errors', 'Sum', 60)`}}, "Error in expression e1 [Unsupported token ''' at char 7]"},
		{"unsupported function by name", []Query{{ID: "m1"}, {ID: "e1", Expression: "ANOMALY_DETECTION_BAND(m1, 2)"}}, "Error in expression e1 [Function ANOMALY_DETECTION_BAND at char 0 is not supported by Sluice]"},
		{"bare upper-case word", []Query{{ID: "e1", Expression: "REPEATS"}}, "Error in expression e1 [Unsupported token 'REPEATS' at char 0]"},
		{"argument count", append(metrics, Query{ID: "e1", Expression: "FILL(m1)"}), "Error in expression e1 [Function FILL at char 0 takes 2 arguments, not 1]"},
		{"argument count of IF", append(metrics, Query{ID: "e1", Expression: "IF(m1)"}), "Error in expression e1 [Function IF at char 0 takes 2 to 3 arguments, not 1]"},
		{"scalar to ABS", []Query{{ID: "e1", Expression: "ABS(-1)"}}, "Error in expression e1 [Function ABS at char 0 takes a time series or an array of time series, not a scalar]"},
		{"scalar to SUM", []Query{{ID: "e1", Expression: "SUM(2)"}}, "Error in expression e1 [Function SUM at char 0 takes a time series or an array of time series, not a scalar]"},
		{"series to METRIC_COUNT", append(metrics, Query{ID: "e1", Expression: "METRIC_COUNT(m1)"}), "Error in expression e1 [Function METRIC_COUNT at char 0 takes an array of time series, not a time series]"},
		{"two arrays", append(metrics, Query{ID: "e1", Expression: "METRICS() + [m1]"}), "Error in expression e1 [Operator + at char 10 cannot combine two arrays of time series]"},
		{"scalar in an array", append(metrics, Query{ID: "e1", Expression: "SUM([m1, 2])"}), "Error in expression e1 [An array at char 4 holds a scalar at char 9; its members must be time series]"},
		{"PERIOD of an expression", append(metrics, Query{ID: "e1", Expression: "m1 * 2"}, Query{ID: "e2", Expression: "PERIOD(e1)"}), "Error in expression e2 [Function PERIOD at char 0 takes the id of a metric, not an expression]"},
		{"METRICS with a number", []Query{{ID: "e1", Expression: "METRICS(5)"}}, "Error in expression e1 [Function METRICS at char 0 takes a string in double quotes]"},
		{"a string elsewhere", append(metrics, Query{ID: "e1", Expression: `m1 + "x"`}), `Error in expression e1 [Unexpected string "x" at char 5: only METRICS takes a string]`},
		{"REPEAT elsewhere", append(metrics, Query{ID: "e1", Expression: "m1 + REPEAT"}), "Error in expression e1 [Unexpected REPEAT at char 5: only FILL takes it, as its second argument]"},
		{"FILL of a scalar", []Query{{ID: "e1", Expression: "FILL(1, 0)"}}, "Error in expression e1 [Function FILL at char 0 fills a time series or an array of time series, not a scalar]"},
		{"FILL with an array", append(metrics, Query{ID: "e1", Expression: "FILL(m1, METRICS())"}), "Error in expression e1 [Function FILL at char 0 fills with a scalar, a time series, REPEAT or LINEAR, not an array of time series]"},
		{"IF with an array", append(metrics, Query{ID: "e1", Expression: "IF(m1, METRICS())"}), "Error in expression e1 [Function IF at char 0 takes scalars and time series, not an array of time series at char 7]"},
		{"IF(S, S, S)", []Query{{ID: "e1", Expression: "IF(1, 2, 3)"}}, "Error in expression e1 [Function IF at char 0 with a scalar condition takes time series, not a scalar at char 6]"},
		{"too deep", []Query{{ID: "e1", Expression: strings.Repeat("(", 300) + "1" + strings.Repeat(")", 300)}}, "Error in expression e1 [Unsupported token '(' at char 200]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compile(tc.queries)
			f, ok := fault.As(err)
			if !ok || f.Code != CodeValidationError || !strings.HasPrefix(f.Message, tc.want) {
				t.Fatalf("Compile: %v\nwant ValidationError: %s", err, tc.want)
			}
		})
	}
}

func TestRequireSeries(t *testing.T) {
	p, err := Compile([]Query{{ID: "m1", Period: 60}, {ID: "s", Expression: "AVG(m1)"}, {ID: "ts", Expression: "m1 - s"}, {ID: "arr", Expression: "METRICS()"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		id    string
		kinds []Kind
		want  string
	}{
		{"ts", []Kind{TimeSeries}, ""},
		{"m1", []Kind{TimeSeries}, ""},
		{"arr", []Kind{TimeSeries, Array}, ""},
		{"s", []Kind{TimeSeries, Array}, "Error in expression s [The expression returns a scalar; its result must be a time series or an array of time series]"},
		{"arr", []Kind{TimeSeries}, "Error in expression arr [The expression returns an array of time series; its result must be a time series]"},
	} {
		err := p.RequireSeries(tc.id, tc.kinds...)
		if got := ""; err != nil {
			got = err.(*fault.Error).Message
			if got != tc.want {
				t.Errorf("RequireSeries(%s) = %q, want %q", tc.id, got, tc.want)
			}
		} else if tc.want != "" {
			t.Errorf("RequireSeries(%s) accepted, want %q", tc.id, tc.want)
		}
	}
}

func TestFillIsBounded(t *testing.T) {
	p, err := Compile([]Query{{ID: "m1", Period: 1}, {ID: "e1", Expression: "FILL(m1, 0)"}})
	if err != nil {
		t.Fatal(err)
	}
	huge := Grid{Start: 0, End: 1 << 40, Period: 1}
	v := p.Run(map[string]Series{"m1": {Grid: huge}}, huge)["e1"]
	if n := v.Series[0].Len(); n != MaxGridPoints || !v.Truncated {
		t.Fatalf("FILL over a huge grid made %d datapoints (truncated %v), want the bound %d", n, v.Truncated, MaxGridPoints)
	}
	// The bound is the Run's, over every FILL together.
	p, err = Compile([]Query{{ID: "m1", Period: 1}, {ID: "e1", Expression: "FILL(m1, 0)"}, {ID: "e2", Expression: "FILL(m1, 1)"}})
	if err != nil {
		t.Fatal(err)
	}
	out := p.Run(map[string]Series{"m1": {Grid: huge}}, huge)
	if n := out["e1"].Series[0].Len() + out["e2"].Series[0].Len(); n != MaxGridPoints || !out["e2"].Truncated {
		t.Fatalf("two FILLs made %d datapoints together, want the bound %d", n, MaxGridPoints)
	}
}

func TestRunIsBounded(t *testing.T) {
	qs := []Query{{ID: "m1", Period: 1}}
	for i := range 20 {
		qs = append(qs, Query{ID: "e" + itoa(i), Expression: "[m1, m1, m1, m1] * " + itoa(i)})
	}
	p, err := Compile(qs)
	if err != nil {
		t.Fatal(err)
	}
	big := Series{}
	for i := range int64(1 << 18) {
		big.Times, big.Values = append(big.Times, i), append(big.Values, 1)
	}
	out := p.Run(map[string]Series{"m1": big}, Grid{Start: 0, End: 1 << 18, Period: 1})
	// Each expression holds 4 × 2^18 = 2^20 datapoints: four fit under the bound, the fifth passes it.
	for i := range 20 {
		v := out["e"+itoa(i)]
		if want := i >= 5; v.Truncated != want || (want && len(v.Series) != 0) || (!want && len(v.Series) != 4) {
			t.Fatalf("e%d: truncated %v with %d series", i, v.Truncated, len(v.Series))
		}
	}
}
