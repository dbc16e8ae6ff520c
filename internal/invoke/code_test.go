package invoke

import (
	"errors"
	"testing"

	"github.com/sluice-dev/sluice/internal/controlplane"
	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/lambda"
)

// lacking makes the harness's node lack the packages named: they were extracted on another node of the cluster.
func lacking(shas ...string) func(*Options) {
	return func(o *Options) {
		src := o.Source.(*fakeSource)
		src.absent = map[string]bool{}
		for _, sha := range shas {
			src.absent[sha] = true
		}
	}
}

const wantCodeDir = "/nonexistent/code/code" // testConfig's package, as the fake source extracts it

// A node that has a function Active but not its package brings the package at the first cold start (or before, in
// the background) instead of answering 409; warm invocations do not ask for it again.
func TestCodeBroughtOnDemand(t *testing.T) {
	tests := []struct {
		name string
		ref  string
		snap controlplane.Snapshot
	}{
		{"$LATEST", "fn", activeSnapshot("fn", testConfig(3, nil))},
		{"a version", "fn:1", activeSnapshot("fn", testConfig(3, nil), 1)},
		{"an alias", "fn:live", withAlias(activeSnapshot("fn", testConfig(3, nil), 1), "live", "1")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, lacking("code"), tc.snap)
			first := h.pid(tc.ref)
			if got := h.sbx.proc(first).codeDir; got != wantCodeDir {
				t.Fatalf("the environment runs code from %q, want %q", got, wantCodeDir)
			}
			h.svc.catalog.fetches.Wait() // the background prefetch, if any, is done
			asked := h.src.ensures("code")
			if asked == 0 {
				t.Fatal("EnsureCode was never asked")
			}
			if second := h.pid(tc.ref); second != first {
				t.Fatalf("second invocation ran in pid %d, want the warm %d", second, first)
			}
			if got := h.src.ensures("code"); got != asked {
				t.Fatalf("a warm invocation asked EnsureCode again (%d → %d)", asked, got)
			}
		})
	}
}

// The catalog brings the packages of $LATEST and of the versions aliases route to as soon as it sees them Active,
// before any invocation; not those of other versions, nor of functions that are not Active.
func TestCodePrefetchedInBackground(t *testing.T) {
	cfg := func(sha string) lambda.Config { c := testConfig(3, nil); c.CodeSha256 = sha; return c }
	active := lambda.Status{State: lambda.StateActive}
	snap := controlplane.Snapshot{
		Function:  lambda.Function{Name: "fn", Config: cfg("latest"), Status: active},
		Effective: cfg("latest"),
		Versions: []lambda.Version{
			{Function: "fn", Number: 1, Config: cfg("v1"), Status: active},
			{Function: "fn", Number: 2, Config: cfg("v2"), Status: active},
			{Function: "fn", Number: 3, Config: cfg("v3"), Status: active},
		},
		Aliases: []lambda.Alias{aliasTo("live", "2", "3", 0.1)},
	}
	idle := activeSnapshot("idle", cfg("idle"))
	idle.Function.Status = lambda.Status{State: lambda.StateInactive}
	h := newHarness(t, lacking("latest", "v1", "v2", "v3", "idle"), snap, idle)
	h.svc.catalog.fetches.Wait()
	for sha, want := range map[string]int{"latest": 1, "v1": 0, "v2": 1, "v3": 1, "idle": 0} {
		if got := h.src.ensures(sha); got != want {
			t.Errorf("package %s: EnsureCode asked %d times, want %d", sha, got, want)
		}
	}
	if got := h.sbx.launched(); got != 0 {
		t.Errorf("launched %d environments, want none", got)
	}
}

// When the package cannot be brought (no live node holds it), the invocation fails as not ready, not 409, and the
// next one tries again.
func TestCodeUnavailable(t *testing.T) {
	h := newHarness(t, lacking("code"), activeSnapshot("fn", testConfig(3, nil)))
	h.svc.catalog.fetches.Wait()
	h.src.mu.Lock()
	h.src.absent["code"], h.src.ensureErr = true, errors.New("no live peer has it")
	h.src.mu.Unlock()
	_, err := h.invoke("fn", "hello")
	var f *fault.Error
	if !errors.As(err, &f) || f.Code != "ResourceNotReadyException" {
		t.Fatalf("invoke: %v, want ResourceNotReadyException", err)
	}
	if got := h.sbx.launched(); got != 0 {
		t.Fatalf("launched %d environments without code", got)
	}
	h.src.mu.Lock()
	h.src.ensureErr = nil
	h.src.mu.Unlock()
	if pid := h.pid("fn"); h.sbx.proc(pid).codeDir != wantCodeDir {
		t.Fatalf("code dir %q", h.sbx.proc(pid).codeDir)
	}
}

// Provisioned concurrency and Prewarm start environments of a version whose package this node lacks.
func TestCodeBroughtForProvisionedAndPrewarm(t *testing.T) {
	t.Run("provisioned", func(t *testing.T) {
		snap := activeSnapshot("fn", testConfig(3, nil), 1)
		snap.Provisioned = []controlplane.ProvisionedConfig{{Qualifier: "1", Requested: 2}}
		h := newHarness(t, lacking("code"), snap)
		h.eventually("provisioned concurrency READY", func() bool { return h.life.report("fn", "1").Ready == 2 })
		for pid := 1000; pid < 1002; pid++ {
			if got := h.sbx.proc(pid).codeDir; got != wantCodeDir {
				t.Errorf("pid %d runs code from %q", pid, got)
			}
		}
	})
	t.Run("prewarm", func(t *testing.T) {
		h := newHarness(t, lacking("code"), activeSnapshot("fn", testConfig(3, nil), 1))
		if got := h.svc.Prewarm("fn", "1", 2); got != 2 {
			t.Fatalf("Prewarm started %d, want 2", got)
		}
		h.eventually("two environments parked", func() bool { idle, _, _ := h.stats("fn"); return idle == 2 })
		if pid := h.pid("fn:1"); h.sbx.proc(pid).codeDir != wantCodeDir || h.cold.count() != 0 {
			t.Fatalf("invocation after Prewarm: pid %d, code %q, %d cold starts", pid, h.sbx.proc(pid).codeDir, h.cold.count())
		}
	})
}

func aliasTo(name, primary, extra string, weight float64) lambda.Alias {
	a := lambda.Alias{Name: name, FunctionVersion: primary, RevisionID: name + "-rev"}
	if extra != "" {
		a.Routing = &lambda.Routing{AdditionalVersionWeights: map[string]float64{extra: weight}}
	}
	return a
}

func withAlias(s controlplane.Snapshot, name, version string) controlplane.Snapshot {
	s.Aliases = append(s.Aliases, aliasTo(name, version, "", 0))
	return s
}
