package alarms

import (
	"context"
	"path/filepath"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/metrics"
	"github.com/sluice-dev/sluice/internal/store"
	"github.com/sluice-dev/sluice/internal/store/bolt"
	"github.com/sluice-dev/sluice/internal/store/storetest"
)

// These tests run two services on one store, as two processes of a cluster do: what one commits must reach the
// other's memory and subscribers through the store's watch.

// peer is a second service on an env's store, with its own Progress and subscriber.
type peer struct {
	t        *testing.T
	db       store.Store
	svc      *Service
	progress *store.Progress
	changes  *recorder
}

func (e *env) peer() *peer {
	e.t.Helper()
	p := &peer{t: e.t, db: e.db, progress: store.NewProgress(), changes: &recorder{}}
	svc, err := New(Options{Store: storetest.RerunUpdates(e.db), Metrics: e.metrics, Region: "us-east-1",
		AccountID: "000000000000", Now: e.clock.Now, Logger: quiet, Progress: p.progress})
	if err != nil {
		e.t.Fatal(err)
	}
	p.svc = svc
	svc.Subscribe(p.changes.add)
	return p
}

func (p *peer) catchUp() { p.t.Helper(); catchUp(p.t, p.db, p.progress, p.svc) }

// catchUp waits until a service's cache (reporting to progress) has applied everything the store committed, and
// its subscribers have received what that queued.
func catchUp(t *testing.T, db store.Store, progress *store.Progress, svc *Service) {
	t.Helper()
	rev, err := store.CurrentRevision(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	if err := progress.Wait(ctx, rev); err != nil {
		t.Fatalf("the cache did not apply revision %d: %v (lagging: %v)", rev, err, progress.Lagging(rev))
	}
	svc.waitDelivered(t)
}

// describe is every alarm the peer has in memory.
func (p *peer) describe() []Alarm {
	p.t.Helper()
	l, _, err := p.svc.Describe(context.Background(), DescribeFilter{})
	if err != nil {
		p.t.Fatal(err)
	}
	return l
}

// TestPeerSeesDefinitions: alarms created, updated, switched and deleted on one service are in the other's
// DescribeAlarms once its cache caught up with the store.
func TestPeerSeesDefinitions(t *testing.T) {
	e := newEnv(t)
	b := e.peer()
	ctx := context.Background()
	d := seedAlarm()
	steps := []struct {
		name   string
		change func() error
	}{
		{"create", func() error { return e.svc.Put(ctx, d) }},
		{"create another", func() error { x := seedAlarm(); x.Name = "other"; return e.svc.Put(ctx, x) }},
		{"update", func() error { d.Threshold, d.Description = 5, "raised"; return e.svc.Put(ctx, d) }},
		{"disable actions", func() error { return e.svc.SetActionsEnabled(ctx, []string{d.Name}, false) }},
		{"set state", func() error { return e.svc.SetState(ctx, d.Name, StateAlarm, "forced", `{"by":"a"}`) }},
		{"delete", func() error { return e.svc.Delete(ctx, []string{"other"}) }},
		{"delete the last", func() error { return e.svc.Delete(ctx, []string{d.Name}) }},
	}
	for _, step := range steps {
		if err := step.change(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		b.catchUp()
		want, _, err := e.svc.Describe(ctx, DescribeFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if got := b.describe(); !slices.EqualFunc(got, want, func(x, y Alarm) bool { return alarmsEqual(&x, &y) }) {
			t.Fatalf("after %s, the peer describes\n%+v\nwant\n%+v", step.name, got, want)
		}
	}
	if got := b.describe(); len(got) != 0 {
		t.Errorf("the peer still has %d alarms after they were deleted", len(got))
	}
}

func alarmsEqual(a, b *Alarm) bool {
	return reflect.DeepEqual(a.Definition, b.Definition) && a.ARN == b.ARN && a.StateValue == b.StateValue &&
		a.StateReason == b.StateReason && a.StateReasonData == b.StateReasonData &&
		a.StateUpdated.Equal(b.StateUpdated) && a.StateTransitioned.Equal(b.StateTransitioned) &&
		a.ConfigurationUpdated.Equal(b.ConfigurationUpdated)
}

// TestPeersNotifyEachTransitionOnce: every service's subscribers hear of every state change once, in order,
// whichever service committed it — an evaluation both run at the same instant, or a SetAlarmState.
func TestPeersNotifyEachTransitionOnce(t *testing.T) {
	e := newEnv(t)
	b := e.peer()
	ctx := context.Background()
	d := seedAlarm()
	e.put(d)
	e.record(errorsLive, 5, at(10))
	e.clock.Set(at(60))
	var wg sync.WaitGroup
	for _, svc := range []*Service{e.svc, b.svc} { // both evaluate: one commits, the other's pass is outdated
		wg.Add(1)
		go func() { defer wg.Done(); svc.EvaluateAll(ctx) }()
	}
	wg.Wait()
	e.clock.Set(at(61))
	if err := e.svc.SetState(ctx, d.Name, StateOK, "forced by A", ""); err != nil {
		t.Fatal(err)
	}
	e.clock.Set(at(62))
	if err := b.svc.SetState(ctx, d.Name, StateAlarm, "forced by B", ""); err != nil {
		t.Fatal(err)
	}
	b.catchUp()
	catchUp(t, e.db, e.svc.progress, e.svc)

	want := []string{d.Name + ":INSUFFICIENT_DATA>ALARM", d.Name + ":ALARM>OK", d.Name + ":OK>ALARM"}
	b.changes.mu.Lock()
	seen := slices.Clone(b.changes.l)
	b.changes.mu.Unlock()
	for name, got := range map[string][]string{"A": e.changes.take(), "B": b.changes.take()} {
		if !slices.Equal(got, want) {
			t.Errorf("%s's subscriber got %v, want %v", name, got, want)
		}
	}
	// The change carries the record's reason and time, wherever it was committed.
	if len(seen) == 3 && (seen[1].Reason != "forced by A" || !seen[1].At.Equal(at(61)) || seen[2].Reason != "forced by B") {
		t.Errorf("B's subscriber got %+v", seen)
	}
	if h, _, err := b.svc.History(ctx, HistoryFilter{Name: d.Name, Type: "StateUpdate"}); err != nil || len(h) != 3 {
		t.Errorf("history has %d state updates (%v), want 3: the concurrent evaluations committed once", len(h), err)
	}
}

// TestPeerEvaluatesWhatAnotherDefined: the evaluator of one service uses the definition another committed, and
// reads its datapoints again when a definition arrives that changes them.
func TestPeerEvaluatesWhatAnotherDefined(t *testing.T) {
	e := newEnv(t)
	b := e.peer()
	ctx := context.Background()
	d := seedAlarm()
	d.Period, d.Threshold = 10*time.Second, 3
	e.put(d)
	e.record(errorsLive, 2, at(1))
	e.record(errorsLive, 2, at(2))
	b.catchUp()
	e.clock.Set(at(10))
	b.svc.EvaluateAll(ctx) // Sum 4 ≥ 3
	if got := b.describe(); len(got) != 1 || got[0].StateValue != StateAlarm {
		t.Fatalf("the peer evaluated %+v, want ALARM", got)
	}
	d.Unit = "Milliseconds" // no sample has that unit: the cached datapoints no longer apply
	e.put(d)
	b.catchUp()
	e.clock.Set(at(11))
	b.svc.EvaluateAll(ctx)
	catchUp(t, e.db, e.svc.progress, e.svc)
	if got := e.get(d.Name).StateValue; got != StateInsufficientData {
		t.Errorf("after A changed the unit, B's evaluation left %s, want INSUFFICIENT_DATA", got)
	}
	if got, want := e.take(), []string{d.Name + ":INSUFFICIENT_DATA>ALARM", d.Name + ":ALARM>INSUFFICIENT_DATA"}; !slices.Equal(got, want) {
		t.Errorf("A's subscriber got %v, want %v", got, want)
	}
}

// TestDefinitionIdentity: the evaluator's cached datapoints are kept (entry.def unchanged) across writes that do
// not change the definition, and dropped when one does.
func TestDefinitionIdentity(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	d := seedAlarm()
	e.put(d)
	def := func() uint64 {
		e.svc.mu.RLock()
		defer e.svc.mu.RUnlock()
		return e.svc.alarms[d.Name].def
	}
	tests := []struct {
		name    string
		write   func() error
		changes bool
	}{
		{"state change", func() error { return e.svc.SetState(ctx, d.Name, StateAlarm, "forced", "") }, false},
		{"actions disabled", func() error { return e.svc.SetActionsEnabled(ctx, []string{d.Name}, false) }, false},
		{"the same definition again", func() error { return e.svc.Put(ctx, d) }, false},
		{"a new description", func() error { d.Description = "pages the team"; return e.svc.Put(ctx, d) }, false},
		{"a new threshold", func() error { d.Threshold = 9; return e.svc.Put(ctx, d) }, true},
		{"a new period", func() error { d.Period = 10 * time.Second; return e.svc.Put(ctx, d) }, true},
	}
	for _, tt := range tests {
		before := def()
		if err := tt.write(); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if changed := def() != before; changed != tt.changes {
			t.Errorf("%s: definition identity changed = %v, want %v", tt.name, changed, tt.changes)
		}
	}
}

// TestPeerRelistsAfterLagging: a service whose watch fell behind (its cache held up while the other commits more
// than the store buffers for it) lists the alarms again, ends up with the store's state, and notifies its
// subscribers of transitions that chain from the state it had to the state it found.
func TestPeerRelistsAfterLagging(t *testing.T) {
	e := &env{t: t, clock: &clock{}, changes: &recorder{}}
	e.clock.Set(t0)
	e.metrics = metrics.NewStore(metrics.Options{Now: e.clock.Now})
	db, err := bolt.OpenWith(filepath.Join(t.TempDir(), "lagging.db"), bolt.Options{WatchBufferResponses: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e.db = db
	a, err := New(Options{Store: db, Metrics: e.metrics, Now: e.clock.Now, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	b := e.peer()
	ctx := context.Background()
	d := seedAlarm()
	if err := a.Put(ctx, d); err != nil {
		t.Fatal(err)
	}
	b.catchUp()

	b.svc.mu.Lock() // B's watch cannot apply anything: its buffer overflows
	for i, state := range []string{StateAlarm, StateOK, StateAlarm, StateOK, StateAlarm} {
		e.clock.Set(at(float64(i + 1)))
		if err := a.SetState(ctx, d.Name, state, "step", ""); err != nil {
			b.svc.mu.Unlock()
			t.Fatal(err)
		}
	}
	b.svc.mu.Unlock()
	b.catchUp()

	if got := b.describe(); len(got) != 1 || got[0].StateValue != StateAlarm || !got[0].StateUpdated.Equal(at(5)) {
		t.Fatalf("after re-listing, the peer has %+v", got)
	}
	b.changes.mu.Lock()
	defer b.changes.mu.Unlock()
	from := StateInsufficientData
	for _, c := range b.changes.l {
		if c.From != from || c.To == c.From {
			t.Fatalf("notifications do not chain: %+v", b.changes.l)
		}
		from = c.To
	}
	if from != StateAlarm {
		t.Errorf("notifications end in %s, want ALARM: %+v", from, b.changes.l)
	}
}
