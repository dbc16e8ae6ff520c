package invoke

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/store"
	"github.com/sluice-dev/sluice/internal/store/bolt"
)

// Ensure the inactivity sweep, which one node runs for the cluster, counts invocations made on any node: a
// function invoked only on another node stays Active, one invoked nowhere turns Inactive.
func TestInactivitySweepSeesOtherNodesInvocations(t *testing.T) {
	const after = 14 * 24 * time.Hour
	db, err := bolt.Open(filepath.Join(t.TempDir(), "shared.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	edit := func(o *Options) { o.InactiveAfter, o.KeepAlive, o.MaxLifetime, o.Store = after, 2*after, 2*after, db }
	sweeper := newHarness(t, edit, activeSnapshot("idle", testConfig(3, nil)), activeSnapshot("elsewhere", testConfig(3, nil)))
	other := newHarness(t, edit, activeSnapshot("idle", testConfig(3, nil)), activeSnapshot("elsewhere", testConfig(3, nil)))
	sweeper.svc.deactivateIdle(context.Background()) // first sight of both functions starts their clocks

	for _, h := range []*harness{sweeper, other} {
		h.clock.Add(after / 2)
	}
	other.pid("elsewhere")
	other.svc.reap(context.Background()) // publishes the invocation
	for _, h := range []*harness{sweeper, other} {
		h.clock.Add(after/2 + time.Second)
	}
	sweeper.svc.deactivateIdle(context.Background())
	sweeper.life.mu.Lock()
	got := slices.Clone(sweeper.life.deactivated)
	sweeper.life.mu.Unlock()
	if !slices.Equal(got, []string{"idle"}) {
		t.Errorf("deactivated %q, want only idle (elsewhere was invoked on another node)", got)
	}
}

// Ensure a node publishes an invocation only when it moved on by more than the granularity, so a busy function
// costs one small write per granularity, not one per invocation.
func TestActivityPublishedCoarsely(t *testing.T) {
	const after = 100 * time.Hour // granularity: one hour
	db, err := bolt.Open(filepath.Join(t.TempDir(), "shared.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	h := newHarness(t, func(o *Options) { o.InactiveAfter, o.KeepAlive, o.MaxLifetime, o.Store = after, 2*after, 2*after, db },
		activeSnapshot("fn", testConfig(3, nil)))
	revision := func() int64 {
		rev, err := store.CurrentRevision(context.Background(), db)
		if err != nil {
			t.Fatal(err)
		}
		return rev
	}
	for _, tc := range []struct {
		advance time.Duration
		writes  bool
	}{
		{time.Minute, true}, // first publication
		{10 * time.Minute, false},
		{55 * time.Minute, true},
	} {
		h.clock.Add(tc.advance)
		h.pid("fn")
		before := revision()
		h.svc.reap(context.Background())
		if wrote := revision() != before; wrote != tc.writes {
			t.Errorf("after %v: wrote %v, want %v", tc.advance, wrote, tc.writes)
		}
	}
}
