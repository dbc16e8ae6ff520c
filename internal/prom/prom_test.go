package prom

import (
	"io"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestInvocationCounts checks that concurrent invocations of several label sets are all counted, each under its
// own labels, with the error counter present at 0 for a set that never failed.
func TestInvocationCounts(t *testing.T) {
	e := New()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 100 {
				e.Invocation("fn", "fn:live", "1", time.Millisecond, false)
				e.Invocation("fn", "fn:live", "2", 2*time.Millisecond, i == 0)
			}
		})
	}
	wg.Wait()
	rec := httptest.NewRecorder()
	e.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`sluice_lambda_invocations_total{executed_version="1",function="fn",resource="fn:live"} 800`,
		`sluice_lambda_invocations_total{executed_version="2",function="fn",resource="fn:live"} 800`,
		`sluice_lambda_errors_total{executed_version="1",function="fn",resource="fn:live"} 0`,
		`sluice_lambda_errors_total{executed_version="2",function="fn",resource="fn:live"} 100`,
		`sluice_lambda_duration_seconds_count{executed_version="2",function="fn",resource="fn:live"} 800`,
	} {
		if !strings.Contains(string(body), want+"\n") {
			t.Errorf("missing %s", want)
		}
	}
}
