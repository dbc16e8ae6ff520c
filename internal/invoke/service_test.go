package invoke

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/asyncq"
	"github.com/sluice-dev/sluice/internal/controlplane"
	"github.com/sluice-dev/sluice/internal/fault"
)

// Ensure a second invocation reuses the warm environment: one process, one cold start.
func TestInvokeWarmReuse(t *testing.T) {
	h := newHarness(t, nil, activeSnapshot("fn", testConfig(3, nil)))
	first, second := h.pid("fn"), h.pid("fn")
	if first != second {
		t.Errorf("second invocation ran in pid %d, want the warm %d", second, first)
	}
	if got := h.sbx.launched(); got != 1 {
		t.Errorf("launched %d processes, want 1", got)
	}
	if got := h.cold.count(); got != 1 {
		t.Errorf("cold starts = %d, want 1", got)
	}
	if idle, busy, _ := h.stats("fn"); idle != 1 || busy != 0 {
		t.Errorf("pool idle=%d busy=%d, want 1 and 0", idle, busy)
	}
}

// Ensure concurrent invocations each get an environment, and all of them stay warm afterwards.
func TestInvokePoolGrowsUnderConcurrency(t *testing.T) {
	const n = 3
	h := newHarness(t, nil, activeSnapshot("fn", testConfig(10, nil)))
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			res, err := h.invoke("fn", "block")
			if err == nil && res.FunctionError != "" {
				err = errors.New(string(res.Payload))
			}
			errs <- err
		})
	}
	pids := map[int]bool{}
	for range n {
		pids[<-h.sbx.blocked] = true
	}
	if len(pids) != n {
		t.Errorf("%d invocations in flight ran in %d processes, want %d", n, len(pids), n)
	}
	if _, busy, _ := h.stats("fn"); busy != n {
		t.Errorf("busy = %d, want %d", busy, n)
	}
	close(h.sbx.gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if idle, busy, _ := h.stats("fn"); idle != n || busy != 0 {
		t.Errorf("after: idle=%d busy=%d, want %d and 0", idle, busy, n)
	}
	for range n {
		h.pid("fn")
	}
	if got := h.sbx.launched(); got != n {
		t.Errorf("launched %d processes, want %d (sequential invocations reuse)", got, n)
	}
}

// Ensure invocations beyond a reservation, or beyond what reservations leave of the account limit, are throttled
// with Lambda's reasons, and admitted again once the slot is free.
func TestInvokeThrottles(t *testing.T) {
	one := 1
	reserved := activeSnapshot("reserved", testConfig(10, nil))
	reserved.Function.ReservedConcurrency = &one
	for _, tc := range []struct {
		name, function, reason string
	}{
		{"Reserved", "reserved", "ReservedFunctionConcurrentInvocationLimitExceeded"},
		// Account limit 2, of which "reserved" holds 1: the others share 1.
		{"Account", "shared", "ConcurrentInvocationLimitExceeded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, func(o *Options) { o.ConcurrencyLimit = 2 }, reserved, activeSnapshot("shared", testConfig(10, nil)))
			done := make(chan error, 1)
			go func() { _, err := h.invoke(tc.function, "block"); done <- err }()
			<-h.sbx.blocked
			_, err := h.invoke(tc.function, "hello")
			var fe *fault.Error
			if !errors.As(err, &fe) || fe.Code != fault.TooManyRequests || fe.Reason != tc.reason {
				t.Fatalf("second invocation: %v, want a 429 with reason %s", err, tc.reason)
			}
			close(h.sbx.gate)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			h.pid(tc.function) // the slot is free again
		})
	}
}

// Ensure a failing invocation is answered with Lambda's error document, and what happens to its environment:
// a function error keeps it; a timeout, a crash or a failed init destroys it and the next invocation starts afresh.
func TestInvokeFailures(t *testing.T) {
	for _, tc := range []struct {
		name      string
		env       map[string]string
		event     string
		want      string // in the payload
		replaced  bool   // the environment is destroyed
		killedBy  string // how the process ended when replaced: "killed" (by the service) or an exit
		coldAfter bool
	}{
		{name: "FunctionError", event: "fail", want: `"errorType":"Boom"`},
		{name: "Timeout", event: "hang", want: "Sandbox.Timedout", replaced: true, killedBy: "killed"},
		{name: "Crash", event: "crash", want: "Runtime.ExitError", replaced: true, killedBy: "exit status 1"},
		{name: "OutOfMemory", event: "oom", want: "Runtime.OutOfMemory", replaced: true, killedBy: "signal: killed"},
		{name: "InitError", env: map[string]string{"FAKE_INIT": "error"}, event: "hello", want: "bad config", replaced: true, killedBy: "killed"},
		{name: "InitTimeout", env: map[string]string{"FAKE_INIT": "hang"}, event: "hello", want: "Task timed out after 0.20 seconds", replaced: true, killedBy: "killed"},
		{name: "InitExit", env: map[string]string{"FAKE_INIT": "exit"}, event: "hello", want: "Runtime exited with error: exit status 2", replaced: true, killedBy: "exit status 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, func(o *Options) { o.initTimeout = 200 * time.Millisecond }, activeSnapshot("fn", testConfig(1, tc.env)))
			res, err := h.invoke("fn", tc.event)
			if err != nil {
				t.Fatal(err)
			}
			if res.FunctionError != "Unhandled" || !strings.Contains(string(res.Payload), tc.want) {
				t.Fatalf("result %q %s, want Unhandled with %s", res.FunctionError, res.Payload, tc.want)
			}
			h.svc.destroying.Wait()
			first := h.sbx.proc(1000)
			if got := first.killed(); got != tc.replaced {
				t.Fatalf("process ended = %v, want %v", got, tc.replaced)
			}
			if tc.replaced {
				if got := exitDescription(first.Wait()); !strings.HasSuffix(got, tc.killedBy) {
					t.Errorf("process ended with %q, want %q", got, tc.killedBy)
				}
			}
			if tc.env != nil {
				return // every environment fails the same way
			}
			next := h.pid("fn")
			if fresh := next != first.pid; fresh != tc.replaced {
				t.Errorf("next invocation in a fresh environment = %v, want %v", fresh, tc.replaced)
			}
		})
	}
}

// Ensure a slow init still serves its first invocation.
func TestInvokeSlowInit(t *testing.T) {
	h := newHarness(t, nil, activeSnapshot("fn", testConfig(3, map[string]string{"FAKE_INIT": "slow"})))
	if a, b := h.pid("fn"), h.pid("fn"); a != b {
		t.Errorf("pids %d and %d, want one warm environment", a, b)
	}
}

// Ensure a configuration change retires the old pool: its idle environments go at once, a busy one finishes its
// invocation and is destroyed rather than kept, and new invocations start on the new configuration.
func TestInvokeRetirementAfterConfigChange(t *testing.T) {
	h := newHarness(t, nil, activeSnapshot("fn", testConfig(10, map[string]string{"V": "1"})))
	done := make(chan Result, 1)
	go func() { res, _ := h.invoke("fn", "block"); done <- res }()
	busyPID := <-h.sbx.blocked
	idlePID := h.pid("fn") // a second environment, since the first is busy
	if busyPID == idlePID {
		t.Fatal("an invocation ran in the busy environment")
	}

	h.change(activeSnapshot("fn", testConfig(10, map[string]string{"V": "2"})))
	h.svc.destroying.Wait()
	if !h.sbx.proc(idlePID).killed() {
		t.Error("the old pool's idle environment survived the configuration change")
	}
	newPID := h.pid("fn")
	if newPID == idlePID || newPID == busyPID {
		t.Errorf("invocation after the change ran in old environment %d", newPID)
	}
	if got := h.sbx.proc(newPID).env["V"]; got != "2" {
		t.Errorf("new environment has V=%q, want 2", got)
	}

	close(h.sbx.gate)
	if res := <-done; res.FunctionError != "" {
		t.Errorf("in-flight invocation on the old pool: %s", res.Payload)
	}
	h.svc.destroying.Wait()
	if !h.sbx.proc(busyPID).killed() {
		t.Error("the old pool's busy environment was kept after its invocation")
	}
	h.svc.reap(context.Background())
	if n := len(h.svc.Pools()); n != 1 {
		t.Errorf("%d pools after the drained one was reaped, want 1", n)
	}
}

// Ensure idle environments are reaped after KeepAlive, and every environment after MaxLifetime even if in use.
func TestInvokeReaping(t *testing.T) {
	const keepAlive, lifetime = 10 * time.Minute, time.Hour
	edit := func(o *Options) { o.KeepAlive, o.MaxLifetime = keepAlive, lifetime }
	t.Run("KeepAlive", func(t *testing.T) {
		h := newHarness(t, edit, activeSnapshot("fn", testConfig(3, nil)))
		pid := h.pid("fn")
		h.clock.Add(keepAlive - time.Second)
		h.svc.reap(context.Background())
		if h.pid("fn") != pid {
			t.Fatal("environment reaped before KeepAlive")
		}
		h.clock.Add(keepAlive + time.Second)
		h.svc.reap(context.Background())
		if !h.sbx.proc(pid).killed() {
			t.Fatal("environment idle beyond KeepAlive was not reaped")
		}
		if idle, _, _ := h.stats("fn"); idle != 0 {
			t.Errorf("idle = %d after reaping, want 0", idle)
		}
		if h.pid("fn") == pid {
			t.Error("invocation after reaping reused the reaped environment")
		}
	})
	t.Run("MaxLifetime", func(t *testing.T) {
		h := newHarness(t, edit, activeSnapshot("fn", testConfig(3, nil)))
		pid := h.pid("fn")
		for elapsed := time.Duration(0); elapsed <= lifetime; elapsed += keepAlive / 2 {
			h.clock.Add(keepAlive / 2)
			h.svc.reap(context.Background())
			if h.sbx.proc(pid).killed() {
				if elapsed+keepAlive/2 <= lifetime {
					t.Fatalf("reaped after %v, before MaxLifetime", elapsed+keepAlive/2)
				}
				return
			}
			if got := h.pid("fn"); got != pid {
				t.Fatalf("invocation after %v in pid %d, want the warm %d", elapsed, got, pid)
			}
		}
		t.Fatal("environment outlived MaxLifetime")
	})
}

// Ensure a function not invoked for InactiveAfter is deactivated and its environments released, and one invoked
// recently is not.
func TestInvokeInactivity(t *testing.T) {
	const after = 14 * 24 * time.Hour
	h := newHarness(t, func(o *Options) { o.InactiveAfter, o.KeepAlive, o.MaxLifetime = after, 2*after, 2*after },
		activeSnapshot("idle", testConfig(3, nil)), activeSnapshot("busy", testConfig(3, nil)))
	pid := h.pid("idle")
	h.clock.Add(after / 2)
	h.pid("busy")
	h.clock.Add(after/2 + time.Second)
	h.svc.reap(context.Background())
	h.svc.deactivateIdle(context.Background())
	h.svc.destroying.Wait()
	h.life.mu.Lock()
	got := strings.Join(h.life.deactivated, ",")
	h.life.mu.Unlock()
	if got != "idle" {
		t.Errorf("deactivated %q, want idle", got)
	}
	if !h.sbx.proc(pid).killed() {
		t.Error("the inactive function's environment was kept")
	}
	if idle, _, _ := h.stats("busy"); idle != 1 {
		t.Errorf("the active function has %d idle environments, want 1", idle)
	}
}

// Ensure provisioned environments start ahead of invocations, serve them warm, survive keep-alive reaping, and are
// replaced when one dies.
func TestInvokeProvisioned(t *testing.T) {
	const want = 2
	snap := activeSnapshot("fn", testConfig(3, nil), 1)
	snap.Provisioned = []controlplane.ProvisionedConfig{{Qualifier: "1", Requested: want}}
	h := newHarness(t, func(o *Options) { o.KeepAlive = time.Minute }, snap)
	ready := func() bool { return h.life.report("fn", "1").Ready == want }
	h.eventually("provisioned concurrency READY", ready)
	if got := h.sbx.launched(); got != want {
		t.Fatalf("launched %d, want %d", got, want)
	}
	for pid := 1000; pid < 1000+want; pid++ {
		if got := h.sbx.proc(pid).env["AWS_LAMBDA_INITIALIZATION_TYPE"]; got != "provisioned-concurrency" {
			t.Errorf("pid %d: AWS_LAMBDA_INITIALIZATION_TYPE=%q", pid, got)
		}
	}
	pid := h.pid("fn:1")
	if pid >= 1000+want || h.cold.count() != 0 {
		t.Fatalf("invocation ran in pid %d with %d cold starts, want a provisioned environment", pid, h.cold.count())
	}

	h.clock.Add(time.Hour)
	h.svc.reap(context.Background())
	if _, _, prov := h.stats("fn"); prov != want || h.sbx.launched() != want {
		t.Fatalf("after reaping: %d provisioned, %d launched; want %d and %d", prov, h.sbx.launched(), want, want)
	}

	res, err := h.invoke("fn:1", "crash")
	if err != nil || !strings.Contains(string(res.Payload), "Runtime.ExitError") {
		t.Fatalf("crash: %v %s", err, res.Payload)
	}
	h.eventually("the lost provisioned environment replaced", func() bool {
		_, _, prov := h.stats("fn")
		return prov == want && h.sbx.launched() == want+1
	})
	if got := h.sbx.proc(1000 + want).env["AWS_LAMBDA_INITIALIZATION_TYPE"]; got != "provisioned-concurrency" {
		t.Errorf("replacement AWS_LAMBDA_INITIALIZATION_TYPE=%q", got)
	}
}

// Ensure the Runtime API of an environment refuses connections that are not its own process's.
func TestInvokeRuntimeAPIRefusesForeignConnections(t *testing.T) {
	h := newHarness(t, nil, activeSnapshot("fn", testConfig(3, nil)))
	pid := h.pid("fn")
	// From 127.0.0.1, no environment's address. The refusal is a reset, which may already fail the dial.
	if c, err := net.Dial("tcp", h.sbx.proc(pid).api); err == nil {
		defer c.Close()
		c.Write([]byte("GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n"))
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if n, err := c.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("a foreign connection was not refused: read %d bytes, %v", n, err)
		}
	}
	if h.pid("fn") != pid {
		t.Error("the environment did not survive a foreign connection")
	}
}

// Ensure the catalog lists again when its watch falls behind: a function removed meanwhile is gone, and the
// caches report the revision of the new list.
func TestCatalogRelistsWhenBehind(t *testing.T) {
	h := newHarness(t, nil, activeSnapshot("kept", testConfig(3, nil)), activeSnapshot("dropped", testConfig(3, nil)))
	h.pid("dropped")
	rev := h.src.dropBehindWatch("dropped")
	if err := h.svc.opts.Progress.Wait(context.Background(), rev); err != nil {
		t.Fatal(err)
	}
	if _, err := h.invoke("dropped", "hello"); !fault.Is(err, fault.ResourceNotFound) {
		t.Errorf("invoke of a function removed while the watch was behind: %v, want ResourceNotFoundException", err)
	}
	h.pid("kept")
	h.change(activeSnapshot("kept", testConfig(4, nil))) // and the new watch delivers changes again
}

// Ensure a queued invocation's attempt that ends in a function error is told to OnAsyncFunctionError subscribers,
// with the event and the function's error document, and a successful one is not.
func TestAsyncFunctionErrorIsReported(t *testing.T) {
	h := newHarness(t, nil, activeSnapshot("fn", testConfig(3, nil)))
	type report struct {
		function          string
		payload, response string
	}
	reports := make(chan report, 4)
	defer h.svc.OnAsyncFunctionError(func(function string, payload, response []byte) {
		reports <- report{function, string(payload), string(response)}
	})()
	for _, tc := range []struct {
		event      string
		wantReport bool
	}{
		{"hello", false},
		{"fail", true},
	} {
		payload, _ := json.Marshal(tc.event)
		out := h.svc.runEvent(context.Background(), asyncq.Event{Function: "fn", Payload: payload})
		if got := out.FunctionError != ""; got != tc.wantReport {
			t.Fatalf("event %q: function error %q", tc.event, out.FunctionError)
		}
		if !tc.wantReport {
			continue
		}
		r := <-reports
		if r.function != "fn" || r.payload != string(payload) || !strings.Contains(r.response, `"errorType":"Boom"`) {
			t.Errorf("reported %+v, want fn, the event and its error document", r)
		}
	}
	select {
	case r := <-reports:
		t.Errorf("a successful attempt was reported too: %+v", r)
	default:
	}
}
