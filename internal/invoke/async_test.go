package invoke

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/internal/asyncq"
)

// Ensure OnAsyncFailure subscribers get the failed attempt's log tail (START to REPORT), so that the deployment
// controller can show a hook's last log lines beside its error.
func TestAsyncFailureCarriesTheLogTail(t *testing.T) {
	h := newHarness(t, nil, activeSnapshot("fn", testConfig(3, nil)))
	failures := make(chan AsyncFailure, 1)
	defer h.svc.OnAsyncFailure(func(f AsyncFailure) { failures <- f })()
	payload, _ := json.Marshal("fail")
	if out := h.svc.runEvent(context.Background(), asyncq.Event{Function: "fn", Payload: payload}); out.FunctionError == "" {
		t.Fatalf("the attempt did not fail: %+v", out)
	}
	f := <-failures
	for _, want := range []string{"START RequestId: ", "END RequestId: ", "REPORT RequestId: "} {
		if !strings.Contains(string(f.LogTail), want) {
			t.Errorf("log tail %q has no %q", f.LogTail, want)
		}
	}
	if f.Function != "fn" || string(f.Payload) != string(payload) || !strings.Contains(string(f.Response), `"errorType":"Boom"`) {
		t.Errorf("reported %+v, want fn, the event and its error document", f)
	}
}
