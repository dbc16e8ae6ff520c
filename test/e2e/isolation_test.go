package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// hostileReport is what test/functions/hostile reports of its attack.
type hostileReport struct {
	Ports        int      `json:"ports"`
	Answered     int      `json:"answered"`
	Stolen       []string `json:"stolen"`
	Forged       int      `json:"forged"`
	Errors       []string `json:"errors"`
	WrittenMB    int      `json:"writtenMB"`
	WriteErr     string   `json:"writeErr"`
	WriteErrno   int      `json:"writeErrno"`
	TmpSizeMB    int64    `json:"tmpSizeMB"`
	TmpLeftoverB int64    `json:"tmpLeftoverB"`
	MetricsCode  int      `json:"metricsCode"`
}

func createHostile(t *testing.T, c *lambda.Client, name string, mods ...func(*lambda.CreateFunctionInput)) {
	t.Helper()
	in := &lambda.CreateFunctionInput{FunctionName: aws.String(name), Role: aws.String(roleARN), Runtime: types.RuntimeProvidedal2023,
		Handler: aws.String("bootstrap"), Code: &types.FunctionCode{ZipFile: goFunctionZip(t, "./test/functions/hostile")},
		Timeout: aws.Int32(60)}
	for _, m := range mods {
		m(in)
	}
	if _, err := c.CreateFunction(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	waitActive(t, c, name)
}

func invokeHostile(t *testing.T, c *lambda.Client, name, payload string) hostileReport {
	t.Helper()
	out := invokeJSON(t, c, name, "", payload)
	if out.FunctionError != nil {
		t.Fatalf("the hostile function failed: %s", out.Payload)
	}
	var r hostileReport
	if err := json.Unmarshal(out.Payload, &r); err != nil {
		t.Fatalf("hostile report %s: %v", out.Payload, err)
	}
	return r
}

// TestRuntimeAPIHijackRefused: a function that finds the other environments' Runtime APIs on loopback and asks them
// for events, under concurrent traffic to its victim, gets nothing; every caller of the victim gets the victim's own
// answer, and the server names both environments in its log.
func TestRuntimeAPIHijackRefused(t *testing.T) {
	parallel(t)
	s := startServer(t)
	c := s.Lambda()
	createEcho(t, c, "victim")
	createHostile(t, c, "thief")

	// Traffic to the victim from four callers, so that several of its environments wait for events.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var calls, wrong atomic.Int64
	var firstWrong atomic.Value
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				msg := fmt.Sprintf("victim-%d-%d", w, i)
				out, err := c.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String("victim"),
					Payload: []byte(`{"message":"` + msg + `","sleepMs":20}`)})
				calls.Add(1)
				var r echoResponse
				if err == nil {
					err = json.Unmarshal(out.Payload, &r)
				}
				if err != nil || out.FunctionError != nil || r.Message != msg {
					wrong.Add(1)
					firstWrong.CompareAndSwap(nil, fmt.Sprintf("sent %s, got %v %s", msg, err, out.Payload))
				}
			}
		})
	}
	// Let the victim's environments start and wait on their Runtime APIs before the thief looks.
	for calls.Load() < 20 {
		invokeJSON(t, c, "victim", "", `{"message":"warm"}`)
	}
	r := invokeHostile(t, c, "thief", `{"stealMs":3000}`)
	close(stop)
	wg.Wait()

	if len(r.Stolen) > 0 || r.Forged > 0 {
		t.Errorf("the thief took %d events (%q) and forged %d answers", len(r.Stolen), r.Stolen, r.Forged)
	}
	if r.Ports == 0 {
		t.Fatalf("the thief found no other listening port: the test proves nothing (%+v)", r)
	}
	if n := wrong.Load(); n > 0 {
		t.Errorf("%d of %d victim invocations did not get the victim's own answer; first: %v", n, calls.Load(), firstWrong.Load())
	}
	// The refusal names both environments.
	named := false
	for _, line := range strings.Split(s.log.String(), "\n") {
		if strings.Contains(line, "runtime API connection refused") && strings.Contains(line, " of victim:$LATEST") &&
			strings.Contains(line, " of thief:$LATEST") {
			named = true
			break
		}
	}
	if !named {
		t.Errorf("no log line names both the victim's and the thief's environment")
	}
	// The thief's own Runtime API still works: it can be invoked again. The unsigned Prometheus endpoint, which names
	// every function, is closed to it, and open to the host.
	if r := invokeHostile(t, c, "thief", `{"scrapeMetrics":true}`); r.MetricsCode != http.StatusForbidden {
		t.Errorf("a function read GET /metrics: %d %v", r.MetricsCode, r.Errors)
	}
	resp, err := http.Get(s.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /metrics from the host: %d", resp.StatusCode)
	}
}

// TestTmpBoundedByEphemeralStorage: /tmp holds EphemeralStorage in total, however it is split into files; past it
// writes fail with ENOSPC inside the function, nothing else notices, and a new size applies to new environments,
// which start with an empty /tmp.
func TestTmpBoundedByEphemeralStorage(t *testing.T) {
	parallel(t)
	s := startServer(t)
	c := s.Lambda()
	createHostile(t, c, "filler", func(in *lambda.CreateFunctionInput) { in.MemorySize = aws.Int32(128) })
	createEcho(t, c, "neighbour")

	// fill writes files of 400 MB each, all under the per-file limit: only a total limit stops them.
	check := func(sizeMB int, fill bool) {
		t.Helper()
		event := `{"fillTmpMB":1}` // a megabyte: the function then reports /tmp's size and what it found there
		if fill {
			event = `{"fillTmpMB":1200,"fileMB":400}`
		}
		r := invokeHostile(t, c, "filler", event)
		if r.TmpLeftoverB != 0 {
			t.Errorf("a new environment's /tmp held %d bytes", r.TmpLeftoverB)
		}
		if fill && (r.WriteErrno != 28 || r.WrittenMB < sizeMB-8 || r.WrittenMB > sizeMB+8) {
			t.Errorf("EphemeralStorage %d MB: wrote %d MB, stopped by %q (errno %d); want about %d MB, then ENOSPC",
				sizeMB, r.WrittenMB, r.WriteErr, r.WriteErrno, sizeMB)
		}
		if r.TmpSizeMB < int64(sizeMB)-8 || r.TmpSizeMB > int64(sizeMB)*21/20+8 {
			t.Errorf("statfs(/tmp) says %d MB, want about %d", r.TmpSizeMB, sizeMB)
		}
		if out := invokeJSON(t, c, "neighbour", "", `{"message":"still here","writeTmp":"mine"}`); out.FunctionError != nil {
			t.Fatalf("another function was affected: %s", out.Payload)
		}
	}
	check(512, true)
	// A new size applies to new environments (the old one drains and its volume is released). The new volume's size
	// is read, not filled again: the bound itself was shown at 512 MB, and another GB of writes only costs time.
	updateConfig(t, c, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("filler"),
		EphemeralStorage: &types.EphemeralStorage{Size: aws.Int32(1024)}})
	waitUpdated(t, c, "filler")
	check(1024, false)
}
