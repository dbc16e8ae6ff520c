package controlplane

import (
	"sync"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/lambda"
)

// fakeClock is a clock the test sets by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

const minSettle = 5 * time.Second

var commitTime = time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)

// newHeldFixture is a fixture whose processor keeps settles for minSettle; with createOrders, "orders" was
// created an hour before commitTime and settled since.
func newHeldFixture(t *testing.T, clock *fakeClock, createOrders bool) *fixture {
	t.Helper()
	clock.Set(commitTime.Add(-time.Hour))
	f := &fixture{t: t, dir: t.TempDir(), opts: Options{Now: clock.Now, MinSettleTime: minSettle}}
	f.open()
	t.Cleanup(f.close)
	if createOrders {
		f.create("orders", "v1")
		clock.Set(commitTime.Add(-time.Minute))
		if progressed, due := f.svc.processPass(ctx()); !progressed || !due.IsZero() {
			t.Fatalf("settling the function created an hour earlier: progressed %v, held until %v", progressed, due)
		}
	}
	return f
}

// TestMinSettleTimeHoldsFromTheCommit: under a minimum settle time a create stays Pending and an update (even one
// re-uploading the same package) stays InProgress — with a version it publishes Pending — until that long after
// the call committed, and settles as soon as it has passed.
func TestMinSettleTimeHoldsFromTheCommit(t *testing.T) {
	orders := lambda.Ref{Name: "orders"}
	for _, mutation := range []struct {
		name   string
		exists bool // "orders" exists and is settled before the mutation
		do     func(f *fixture) (publishedVersion string)
	}{
		{"create", false, func(f *fixture) string { f.create("orders", "v1"); return "" }},
		{"update code with the same package", true, func(f *fixture) string {
			if _, err := f.svc.UpdateFunctionCode(ctx(), orders, UpdateFunctionCodeInput{ZipFile: makeZip(f.t, "v1")}); err != nil {
				f.t.Fatal(err)
			}
			return ""
		}},
		{"update configuration", true, func(f *fixture) string {
			if _, err := f.svc.UpdateFunctionConfiguration(ctx(), orders, lambda.ConfigPatch{Description: ptr("x")}, ""); err != nil {
				f.t.Fatal(err)
			}
			return ""
		}},
		{"update code and publish", true, func(f *fixture) string {
			v, err := f.svc.UpdateFunctionCode(ctx(), orders, UpdateFunctionCodeInput{ZipFile: makeZip(f.t, "v2"), Publish: true})
			if err != nil {
				f.t.Fatal(err)
			}
			return v.Version
		}},
	} {
		for _, tc := range []struct {
			elapsed time.Duration // from the commit to the processor's pass
			held    bool
		}{
			{0, true},
			{time.Second, true},
			{minSettle - time.Millisecond, true},
			{minSettle, false},
			{time.Hour, false},
		} {
			t.Run(mutation.name+"/after "+tc.elapsed.String(), func(t *testing.T) {
				clock := &fakeClock{}
				f := newHeldFixture(t, clock, mutation.exists)
				clock.Set(commitTime)
				version := mutation.do(f)

				clock.Set(commitTime.Add(tc.elapsed))
				progressed, due := f.svc.processPass(ctx())
				if tc.held {
					if progressed || !due.Equal(commitTime.Add(minSettle)) {
						t.Fatalf("pass %s after the commit: progressed %v, held until %v; want held until %v (the commit + %s)",
							tc.elapsed, progressed, due, commitTime.Add(minSettle), minSettle)
					}
				} else if !progressed || !due.IsZero() {
					t.Fatalf("pass %s after the commit: progressed %v, held until %v; want settled", tc.elapsed, progressed, due)
				}

				got, err := f.svc.GetFunctionConfiguration(ctx(), orders)
				if err != nil {
					t.Fatal(err)
				}
				busy := got.Status.State == lambda.StatePending || got.Status.LastUpdateStatus == lambda.UpdateInProgress
				if busy != tc.held {
					t.Fatalf("status %+v, want busy=%v", got.Status, tc.held)
				}
				if tc.held {
					_, err := f.svc.PublishVersion(ctx(), orders, "", "", "")
					wantFault(t, err, fault.ResourceConflict)
				} else if got.Status.State != lambda.StateActive || got.Status.LastUpdateStatus != lambda.UpdateSuccessful {
					t.Fatalf("settled status %+v, want Active/Successful", got.Status)
				}
				if version != "" {
					v, err := f.svc.GetFunctionConfiguration(ctx(), lambda.Ref{Name: "orders", Qualifier: version})
					if err != nil {
						t.Fatal(err)
					}
					if want := map[bool]string{true: lambda.StatePending, false: lambda.StateActive}[tc.held]; v.Status.State != want {
						t.Fatalf("version %s is %s, want %s", version, v.Status.State, want)
					}
				}
			})
		}
	}
}

// TestMinSettleTimeAcrossNodes: in a cluster the node that settles is not the one that committed, and may see the
// work late (it took the settle job over, or its watch lagged). The minimum is still counted from the commit: a
// node that notices a create 3 s after it holds it 2 s more, not 5.
func TestMinSettleTimeAcrossNodes(t *testing.T) {
	for _, tc := range []struct {
		name     string
		noticed  time.Duration // when the settling node first looks, after the commit
		held     bool
		heldTill time.Time
	}{
		{"at once", 0, true, commitTime.Add(minSettle)},
		{"3 s late", 3 * time.Second, true, commitTime.Add(minSettle)},
		{"as it is due", minSettle, false, time.Time{}},
		{"after a takeover a minute later", time.Minute, false, time.Time{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			committing := &fakeClock{}
			f := newHeldFixture(t, committing, false)
			committing.Set(commitTime)
			f.create("orders", "v1")

			// Another node: the same store and code store, its own clock and processor.
			settling := &fakeClock{}
			settling.Set(commitTime.Add(tc.noticed))
			o := f.svc.opts
			o.Now = settling.Now
			other := New(o)
			progressed, due := other.processPass(ctx())
			if progressed == tc.held || !due.Equal(tc.heldTill) {
				t.Fatalf("the other node's pass %s after the commit: progressed %v, held until %v; want held=%v until %v",
					tc.noticed, progressed, due, tc.held, tc.heldTill)
			}
			got, err := f.svc.GetFunctionConfiguration(ctx(), lambda.Ref{Name: "orders"})
			if err != nil {
				t.Fatal(err)
			}
			if pending := got.Status.State == lambda.StatePending; pending != tc.held {
				t.Fatalf("State %s, want Pending=%v", got.Status.State, tc.held)
			}
		})
	}
}

// TestNoMinSettleTimeSettlesAtOnce: the default keeps today's behaviour, whatever the clock says.
func TestNoMinSettleTimeSettlesAtOnce(t *testing.T) {
	clock := &fakeClock{}
	clock.Set(commitTime)
	f := &fixture{t: t, dir: t.TempDir(), opts: Options{Now: clock.Now}}
	f.open()
	t.Cleanup(f.close)
	f.create("orders", "v1")
	if progressed, due := f.svc.processPass(ctx()); !progressed || !due.IsZero() {
		t.Fatalf("pass at the commit: progressed %v, held until %v; want settled", progressed, due)
	}
}
