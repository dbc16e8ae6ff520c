package invoke

import (
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/metrics"
)

type recorded struct {
	mu   sync.Mutex
	seen []string
}

func (r *recorded) Record(id metrics.MetricID, s metrics.Sample) {
	var dims []string
	for _, d := range id.Dimensions {
		dims = append(dims, d.Name+"="+d.Value)
	}
	r.mu.Lock()
	r.seen = append(r.seen, id.Namespace+" "+id.Name+" {"+strings.Join(dims, ",")+"} "+s.Unit)
	r.mu.Unlock()
}

func TestInvocationMetricsDimensionSets(t *testing.T) {
	fn := &functionView{name: "orders"}
	cases := []struct {
		name string
		r    resolved
		want []string
	}{
		{"unqualified", resolved{fn: fn, target: &target{version: "$LATEST"}}, []string{
			"AWS/Lambda Errors {FunctionName=orders} Count", "AWS/Lambda Errors {} Count",
		}},
		{"version", resolved{fn: fn, target: &target{version: "3"}, resource: "orders:3"}, []string{
			"AWS/Lambda Errors {FunctionName=orders,Resource=orders:3} Count",
			"AWS/Lambda Errors {FunctionName=orders} Count", "AWS/Lambda Errors {} Count",
		}},
		{"alias", resolved{fn: fn, target: &target{version: "4"}, resource: "orders:live", viaAlias: true}, []string{
			"AWS/Lambda Errors {ExecutedVersion=4,FunctionName=orders,Resource=orders:live} Count",
			"AWS/Lambda Errors {FunctionName=orders,Resource=orders:live} Count",
			"AWS/Lambda Errors {FunctionName=orders} Count", "AWS/Lambda Errors {} Count",
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := &recorded{}
			m := &lambdaMetrics{rec: rec}
			m.invocation(c.r, invocationOutcome{started: time.Now(), duration: time.Millisecond, failed: true, concurrent: 1})
			var errs []string
			names := map[string]bool{}
			for _, s := range rec.seen {
				names[strings.Fields(s)[1]] = true
				if strings.Contains(s, " Errors ") {
					errs = append(errs, s)
				}
			}
			sort.Strings(errs)
			sort.Strings(c.want)
			if strings.Join(errs, "\n") != strings.Join(c.want, "\n") {
				t.Fatalf("Errors series:\n%s\nwant:\n%s", strings.Join(errs, "\n"), strings.Join(c.want, "\n"))
			}
			for _, n := range []string{"Invocations", "Errors", "Duration", "ConcurrentExecutions"} {
				if !names[n] {
					t.Errorf("no %s recorded", n)
				}
			}
		})
	}
}
