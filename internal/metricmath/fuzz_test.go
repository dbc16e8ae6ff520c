package metricmath

import (
	"math"
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/internal/fault"
)

// FuzzCompile feeds arbitrary expressions to Compile and runs whatever compiles: neither may panic, every error
// is a ValidationError in CloudWatch's form, and every series a run produces has strictly ascending timestamps and
// finite values.
func FuzzCompile(f *testing.F) {
	for _, seed := range []string{
		"100*errors/invocations", "IF(m1 > 2, m1, m2)", "FILL(METRICS(), LINEAR)", "SUM([m1, m2])/AVG(m2)",
		`SUM(METRICS("m"))`, "-2^-m1^2", "RATE(m1) + DIFF(m2) + RUNNING_SUM(m1)", "PERIOD(m1)/60 * m2",
		"(m1 >= 1 AND m2 < 3) || m1 != m2", "FILL(m1, REPEAT) - FILL(m2, m1)", "STDDEV(METRICS()) + MIN(m1)",
		"TIME_SERIES(1/0)", "IF(1, m1)", "((((m1))))", "[m1, m2] * 2", "LOG(m1) + LOG10(m2) + ABS(CEIL(FLOOR(m1)))",
		"REMOVE_EMPTY(METRICS()) / METRIC_COUNT(METRICS())", "DATAPOINT_COUNT(m1) + DIFF_TIME(m2)", "1e308*1e308*m1",
	} {
		f.Add(seed)
	}
	data := map[string]Series{
		"m1":          series("a", 1, missing, 0, -3, 4),
		"m2":          series("b", missing, 2, 0, missing, 1e-300),
		"errors":      series("", 1, missing, 0, 3, missing),
		"invocations": series("", 100, 50, 0, missing, missing),
	}
	f.Fuzz(func(t *testing.T, expr string) {
		if len(expr) > 2048 {
			return // MetricExpression's model limit: the edge refuses longer ones
		}
		p, err := Compile([]Query{
			{ID: "m1", Period: 60}, {ID: "m2", Period: 60}, {ID: "errors", Period: 60}, {ID: "invocations", Period: 60},
			{ID: "e1", Expression: expr},
		})
		if err != nil {
			if f, ok := fault.As(err); !ok || f.Code != CodeValidationError || !strings.HasPrefix(f.Message, "Error in expression e1 [") {
				t.Fatalf("%q: %v, want a ValidationError naming e1", expr, err)
			}
			return
		}
		v := p.Run(data, grid)["e1"]
		for _, s := range v.Series {
			if len(s.Times) != len(s.Values) {
				t.Fatalf("%q: %d timestamps, %d values", expr, len(s.Times), len(s.Values))
			}
			for i := range s.Times {
				if i > 0 && s.Times[i] <= s.Times[i-1] {
					t.Fatalf("%q: timestamps not strictly ascending: %v", expr, s.Times)
				}
				if math.IsNaN(s.Values[i]) || math.IsInf(s.Values[i], 0) {
					t.Fatalf("%q: non-finite datapoint %v", expr, s.Values[i])
				}
			}
		}
	})
}
