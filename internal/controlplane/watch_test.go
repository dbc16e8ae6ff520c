package controlplane

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/lambda"
	"github.com/sluice-dev/sluice/internal/store"
)

// Ensure WatchFunctions names the function each commit changed — whatever part of its Snapshot — and steps past
// commits that changed no function, so a cache following it keeps up with the store's revision.
func TestWatchFunctionsNamesChangedFunctions(t *testing.T) {
	f := newFixture(t)
	f.start()
	f.create("a", "v1")
	f.create("b", "v1")
	f.settle()
	_, from, err := f.svc.FunctionNames(ctx())
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithCancel(ctx())
	defer cancel()
	steps, err := f.svc.WatchFunctions(wctx, from+1)
	if err != nil {
		t.Fatal(err)
	}

	if _, err := f.svc.PublishVersion(ctx(), lambda.Ref{Name: "a"}, "", "", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.CreateAlias(ctx(), lambda.Ref{Name: "a"}, CreateAliasInput{Name: "live", FunctionVersion: "1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.PutProvisionedConcurrencyConfig(ctx(), lambda.Ref{Name: "a", Qualifier: "1"}, 1); err != nil {
		t.Fatal(err)
	}
	if err := f.db.Update(ctx(), func(tx store.Tx) error { return tx.Put("elsewhere/x", []byte("{}")) }); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.DeleteFunction(ctx(), lambda.Ref{Name: "b"}); err != nil {
		t.Fatal(err)
	}

	want := [][]string{{"a"}, {"a"}, {"a"}, nil, {"b"}}
	last := from
	for i, w := range want {
		step := <-steps
		if step.Err != nil {
			t.Fatal(step.Err)
		}
		if step.Revision <= last {
			t.Errorf("step %d at revision %d, not after %d", i, step.Revision, last)
		}
		last = step.Revision
		if !slices.Equal(step.Names, w) {
			t.Errorf("step %d names %v, want %v", i, step.Names, w)
		}
	}
}

// gatedStore holds write transactions open, once armed, until the test releases them: a slow commit.
type gatedStore struct {
	store.Store
	armed   chan struct{} // closed: hold every write
	holding chan struct{} // receives when a write is being held
	release chan struct{}
}

func (g *gatedStore) UpdateRev(ctx context.Context, fn func(store.Tx) error) (int64, error) {
	return g.Store.UpdateRev(ctx, func(tx store.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		select {
		case <-g.armed:
			g.holding <- struct{}{}
			<-g.release
		default:
		}
		return nil
	})
}

// Ensure read-your-writes without a lock across commits: a write returns only once the process's caches have
// applied its commit, a read that saw a commit waits for it likewise, and a read does not wait behind a write
// that has not committed yet (the control plane used to hold a lock across every commit and its propagation).
func TestCallsWaitForCachesNotForCommits(t *testing.T) {
	f := newFixture(t)
	gate := &gatedStore{Store: f.db, armed: make(chan struct{}), holding: make(chan struct{}), release: make(chan struct{})}
	progress := store.NewProgress()
	cache := progress.Register("test cache") // applies a commit only once the test has seen it
	f.svc = New(Options{Store: gate, Code: f.svc.code, Account: f.svc.acct, Progress: progress})
	wctx, cancel := context.WithCancel(ctx())
	defer cancel()
	commits, err := f.db.Watch(wctx, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	nextCommit := func() int64 {
		for resp := range commits {
			if len(resp.Events) > 0 {
				return resp.Revision
			}
		}
		t.Fatal("watch ended")
		return 0
	}
	// call runs a call in the background; its result is the caches' revision when the call returned.
	call := func(fn func() error) <-chan int64 {
		out := make(chan int64, 1)
		go func() {
			if err := fn(); err != nil {
				t.Error(err)
			}
			out <- progress.Revision()
		}()
		return out
	}

	created := call(func() error { f.create("fn", "v1"); return nil })
	rev := nextCommit()
	cache.Advance(rev)
	if got := <-created; got < rev {
		t.Errorf("CreateFunction returned with the caches at revision %d, before its commit %d", got, rev)
	}

	if err := f.db.Update(ctx(), func(tx store.Tx) error { return tx.Put("elsewhere/x", []byte("{}")) }); err != nil {
		t.Fatal(err)
	}
	read := call(func() error { _, err := f.svc.GetFunction(ctx(), lambda.Ref{Name: "fn"}); return err })
	rev = nextCommit()
	cache.Advance(rev)
	if got := <-read; got < rev {
		t.Errorf("GetFunction returned with the caches at revision %d, before the revision %d it read", got, rev)
	}

	close(gate.armed)
	updated := call(func() error {
		_, err := f.svc.PutFunctionConcurrency(ctx(), lambda.Ref{Name: "fn"}, 5)
		return err
	})
	select {
	case <-gate.holding: // the update's transaction is open
	case <-updated:
		t.Fatal("the update returned without committing")
	}
	read = call(func() error { _, err := f.svc.GetFunction(ctx(), lambda.Ref{Name: "fn"}); return err })
	select {
	case <-read:
	case <-time.After(30 * time.Second): // only stops a failing test from hanging
		t.Fatal("GetFunction waited behind a write that had not committed")
	}
	close(gate.release)
	rev = nextCommit()
	cache.Advance(rev)
	if got := <-updated; got < rev {
		t.Errorf("UpdateFunctionConfiguration returned with the caches at revision %d, before its commit %d", got, rev)
	}
}

// Ensure a provisioned-concurrency request's status follows Lambda's rules from the execution layer's report.
func TestProvisionedState(t *testing.T) {
	for _, tc := range []struct {
		name      string
		requested int
		report    ProvisionedReport
		want      ProvisionedState
	}{
		{"nothing reported yet", 2, ProvisionedReport{}, ProvisionedState{Status: "IN_PROGRESS"}},
		{"starting", 2, ProvisionedReport{Ready: 1}, ProvisionedState{Allocated: 1, Available: 1, Status: "IN_PROGRESS"}},
		{"ready", 2, ProvisionedReport{Ready: 2}, ProvisionedState{Allocated: 2, Available: 2, Status: "READY"}},
		{"lowered request", 1, ProvisionedReport{Ready: 2}, ProvisionedState{Allocated: 1, Available: 1, Status: "READY"}},
		{"failed", 2, ProvisionedReport{Ready: 1, Failure: "FUNCTION_ERROR_INIT_FAILURE: boom"},
			ProvisionedState{Allocated: 1, Available: 1, Status: "FAILED", Reason: "FUNCTION_ERROR_INIT_FAILURE: boom"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := provisionedState(tc.requested, tc.report); got != tc.want {
				t.Errorf("provisionedState(%d, %+v) = %+v, want %+v", tc.requested, tc.report, got, tc.want)
			}
		})
	}
}

// Ensure reports are kept for existing configurations only, and Get shows them.
func TestReportProvisioned(t *testing.T) {
	f := newFixture(t)
	f.start()
	f.create("fn", "v1")
	f.settle()
	if _, err := f.svc.PublishVersion(ctx(), lambda.Ref{Name: "fn"}, "", "", ""); err != nil {
		t.Fatal(err)
	}
	one := lambda.Ref{Name: "fn", Qualifier: "1"}
	if _, err := f.svc.PutProvisionedConcurrencyConfig(ctx(), one, 2); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.ReportProvisioned(ctx(), "fn", map[string]ProvisionedReport{"1": {Ready: 2}, "9": {Ready: 1}}); err != nil {
		t.Fatal(err)
	}
	v, err := f.svc.GetProvisionedConcurrencyConfig(ctx(), one)
	if err != nil || v.State.Status != "READY" || v.State.Allocated != 2 {
		t.Fatalf("Get = %+v, %v; want READY with 2 allocated", v.State, err)
	}
	var keys []string
	err = f.db.View(ctx(), func(tx store.Tx) error {
		return tx.Scan(provisionedReportPrefix("fn"), "", func(k string, _ []byte) (bool, error) {
			keys = append(keys, k)
			return true, nil
		})
	})
	if err != nil || !slices.Equal(keys, []string{provisionedReportKey("fn", "1")}) {
		t.Fatalf("stored reports %v (%v), want only the existing configuration's", keys, err)
	}
	if err := f.svc.DeleteProvisionedConcurrencyConfig(ctx(), one); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.PutProvisionedConcurrencyConfig(ctx(), one, 2); err != nil {
		t.Fatal(err)
	}
	if v, err := f.svc.GetProvisionedConcurrencyConfig(ctx(), one); err != nil || v.State.Status != "IN_PROGRESS" {
		t.Fatalf("after delete and put again: %+v, %v; want IN_PROGRESS (the old report went with the old request)", v.State, err)
	}
}
