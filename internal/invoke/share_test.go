package invoke

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/controlplane"
	"github.com/sluice-dev/sluice/internal/fault"
)

// Ensure the parts of a total over n nodes sum to the total exactly, differ by one at most, and give the
// remainder to the first nodes.
func TestSharePartsSumToTotal(t *testing.T) {
	for n := 1; n <= 9; n++ {
		for _, total := range []int{0, 1, 2, 3, 7, 10, 99, 1000, 1001} {
			sum, lo, hi := 0, total, 0
			for i := range n {
				p := Share{Index: i, Count: n}.Part(total)
				if i > 0 && p > (Share{Index: i - 1, Count: n}).Part(total) {
					t.Fatalf("n=%d total=%d: node %d gets more than node %d", n, total, i, i-1)
				}
				sum, lo, hi = sum+p, min(lo, p), max(hi, p)
			}
			if sum != total || hi-lo > 1 {
				t.Fatalf("n=%d total=%d: parts sum to %d, range %d..%d", n, total, sum, lo, hi)
			}
		}
	}
	for _, c := range []struct {
		name  string
		share Share
		total int
		want  int
	}{
		{"embedded: the whole", Share{Count: 1}, 1000, 1000},
		{"not a member: nothing", Share{Node: "c"}, 1000, 0},
		{"out of range: nothing", Share{Index: 3, Count: 3}, 9, 0},
		{"first of 3 takes the remainder", Share{Index: 0, Count: 3}, 10, 4},
		{"last of 3", Share{Index: 2, Count: 3}, 10, 3},
	} {
		if got := c.share.Part(c.total); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
}

func TestShareOf(t *testing.T) {
	for _, c := range []struct {
		self    string
		members []string
		want    Share
	}{
		{"b", []string{"c", "a", "b"}, Share{Node: "b", Index: 1, Count: 3}},
		{"a", []string{"a"}, Share{Node: "a", Index: 0, Count: 1}},
		{"a", []string{"b", "a", "a"}, Share{Node: "a", Index: 0, Count: 2}},
		{"d", []string{"a", "b"}, Share{Node: "d"}}, // not (or no longer) a member
	} {
		if got := ShareOf(c.self, c.members); got != c.want {
			t.Errorf("ShareOf(%q, %v) = %+v, want %+v", c.self, c.members, got, c.want)
		}
	}
}

// fill admits invocations of fn on c until one is throttled and returns how many it admitted.
func fill(c *concurrency, fn *functionView, cat *catalog) int {
	n := 0
	for ; n < 10000; n++ {
		if _, err := c.admit(fn, cat); err != nil {
			return n
		}
	}
	return n
}

// Ensure nodes holding every share of a cluster admit, together, exactly the account limit and each reservation.
func TestSharesAdmitTheLimitsInTotal(t *testing.T) {
	const limit, reservation = 10, 4
	r := reservation
	reserved := &functionView{name: "reserved", reserved: &r}
	shared := &functionView{name: "shared"}
	cat := &catalog{reserved: reservation}
	for n := 1; n <= 7; n++ {
		t.Run(fmt.Sprintf("%d nodes", n), func(t *testing.T) {
			gotReserved, gotShared := 0, 0
			for i := range n {
				c := newConcurrency(limit)
				c.afterFunc = func(_ time.Duration, settle func()) { settle() }
				c.setShare(Share{Node: fmt.Sprint(i), Index: i, Count: n})
				gotReserved += fill(c, reserved, cat)
				gotShared += fill(c, shared, cat)
			}
			if gotReserved != reservation || gotShared != limit-reservation {
				t.Fatalf("admitted %d reserved and %d unreserved, want %d and %d", gotReserved, gotShared, reservation, limit-reservation)
			}
		})
	}
}

// Ensure a share that grows waits ShareSettle — from nothing when the node joins — while one that shrinks applies
// at once, and a settle overtaken by a newer change does nothing.
func TestShareGrowthSettles(t *testing.T) {
	const limit = 12
	shared := &functionView{name: "shared"}
	cat := &catalog{}
	c := newConcurrency(limit)
	var pending []func()
	c.afterFunc = func(d time.Duration, settle func()) {
		if d != ShareSettle {
			t.Fatalf("settles after %v, want ShareSettle", d)
		}
		pending = append(pending, settle)
	}
	settle := func(i int) { pending[i]() }
	capacity := func() int {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.part(limit - cat.reservedTotal())
	}
	steps := []struct {
		name string
		do   func()
		want int
	}{
		{"embedded: the whole", func() {}, 12},
		{"joins as 1 of 3: nothing yet", func() { c.setShare(Share{Node: "b", Index: 1, Count: 3}) }, 0},
		{"settled", func() { settle(0) }, 4},
		{"a node left (1 of 2): not yet more", func() { c.setShare(Share{Node: "b", Index: 1, Count: 2}) }, 4},
		{"a node joined again (1 of 3) before it settled", func() { c.setShare(Share{Node: "b", Index: 1, Count: 3}) }, 4},
		{"the overtaken settle does nothing", func() { settle(1) }, 4},
		{"the latest settles", func() { settle(2) }, 4},
		{"a fourth node (1 of 4): less at once", func() { c.setShare(Share{Node: "b", Index: 1, Count: 4}) }, 3},
		{"settled", func() { settle(3) }, 3},
		{"no longer a member: nothing at once", func() { c.setShare(Share{Node: "b"}) }, 0},
	}
	for _, st := range steps {
		st.do()
		if got := capacity(); got != st.want {
			t.Fatalf("%s: admits %d, want %d", st.name, got, st.want)
		}
	}
	if got := fill(c, shared, cat); got != 0 {
		t.Fatalf("a node that is not a member admitted %d", got)
	}
}

// nodeLifecycle is a fakeLifecycle that takes reports by node, as the control plane does in a cluster.
type nodeLifecycle struct {
	*fakeLifecycle
	node chan string
}

func (l *nodeLifecycle) ReportProvisionedFrom(ctx context.Context, node, name string, r map[string]controlplane.ProvisionedReport) error {
	select {
	case l.node <- node:
	default:
	}
	return l.ReportProvisioned(ctx, name, r)
}

// clustered starts n services over the same functions, node i holding share i of n, with shares settling at once.
func clustered(t *testing.T, n int, edit func(*Options), snaps ...controlplane.Snapshot) []*harness {
	t.Helper()
	var hs []*harness
	for i := range n {
		h := newHarness(t, edit, snaps...)
		h.svc.conc.afterFunc = func(_ time.Duration, settle func()) { settle() }
		h.svc.SetShare(Share{Node: fmt.Sprint("node-", i), Index: i, Count: n})
		hs = append(hs, h)
	}
	return hs
}

// Ensure two services holding shares 0/2 and 1/2 never admit more than the reservation and the account limit in
// total, however the invocations are spread.
func TestTwoNodesNeverExceedTheLimits(t *testing.T) {
	three := 3
	reserved := activeSnapshot("reserved", testConfig(10, nil))
	reserved.Function.ReservedConcurrency = &three
	// Account limit 5, of which "reserved" holds 3: the others share 2 (one per node).
	hs := clustered(t, 2, func(o *Options) { o.ConcurrencyLimit = 5 }, reserved, activeSnapshot("shared", testConfig(10, nil)))
	for _, c := range []struct {
		function string
		want     []int // admitted per node
		reason   string
	}{
		{"reserved", []int{2, 1}, "ReservedFunctionConcurrentInvocationLimitExceeded"},
		{"shared", []int{1, 1}, "ConcurrentInvocationLimitExceeded"},
	} {
		for i, h := range hs {
			admitted := 0
			for {
				done := make(chan error, 1)
				go func() { _, err := h.invoke(c.function, "block"); done <- err }()
				select {
				case <-h.sbx.blocked:
					admitted++
					continue
				case err := <-done:
					var fe *fault.Error
					if !errors.As(err, &fe) || fe.Code != fault.TooManyRequests || fe.Reason != c.reason {
						t.Fatalf("%s on node %d: %v, want a 429 with reason %s", c.function, i, err, c.reason)
					}
				}
				break
			}
			if admitted != c.want[i] {
				t.Errorf("%s on node %d: admitted %d, want %d", c.function, i, admitted, c.want[i])
			}
		}
	}
}

// Ensure provisioned concurrency N means N environments in the cluster: each node keeps its part, reported under
// its name, and the parts follow a membership change.
func TestProvisionedSplitAcrossNodes(t *testing.T) {
	snap := activeSnapshot("fn", testConfig(3, nil), 1)
	snap.Provisioned = []controlplane.ProvisionedConfig{{Qualifier: "1", Requested: 5}}
	reporters := map[*harness]*nodeLifecycle{}
	hs := clustered(t, 3, func(o *Options) {
		o.Lifecycle = &nodeLifecycle{fakeLifecycle: o.Lifecycle.(*fakeLifecycle), node: make(chan string, 1)}
	}, snap)
	for _, h := range hs {
		reporters[h] = h.svc.opts.Lifecycle.(*nodeLifecycle)
	}
	expect := func(want []int) {
		t.Helper()
		for i, want := range want {
			h := hs[i]
			h.eventually(fmt.Sprintf("node %d keeps %d provisioned environments", i, want), func() bool {
				_, _, prov := h.stats("fn")
				return prov == want && h.life.report("fn", "1").Ready == want
			})
		}
	}
	expect([]int{2, 2, 1})
	for i, h := range hs {
		if got := <-reporters[h].node; got != fmt.Sprint("node-", i) {
			t.Errorf("node %d reported as %q", i, got)
		}
	}
	// node-2 leaves: the other two keep 3 and 2.
	hs[0].svc.SetShare(Share{Node: "node-0", Index: 0, Count: 2})
	hs[1].svc.SetShare(Share{Node: "node-1", Index: 1, Count: 2})
	expect([]int{3, 2})
}
