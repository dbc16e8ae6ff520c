package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/store"
)

// wait bounds every receive from a watch: a missing event fails the test instead of hanging it.
const wait = 10 * time.Second

func runRevisions(t *testing.T, b Backend) {
	ctx := context.Background()
	// Ensure each transaction that changes something takes exactly the next revision, and one that changes
	// nothing takes none.
	t.Run("RevisionPerChangingCommit", func(t *testing.T) {
		s := open(t, b)
		r0 := currentRev(t, s)
		steps := []struct {
			name  string
			fn    func(tx store.Tx) error
			delta int64
		}{
			{"put", func(tx store.Tx) error { return tx.Put("r/a", []byte("1")) }, 1},
			{"two puts", func(tx store.Tx) error {
				if err := tx.Put("r/b", []byte("2")); err != nil {
					return err
				}
				return tx.Put("r/c", []byte("3"))
			}, 1},
			{"put of the same value", func(tx store.Tx) error { return tx.Put("r/a", []byte("1")) }, 1},
			{"read only", func(tx store.Tx) error { _, err := tx.Get("r/a"); return err }, 0},
			{"delete of a missing key", func(tx store.Tx) error { return tx.Delete("r/missing") }, 0},
			{"put then delete of a new key", func(tx store.Tx) error {
				if err := tx.Put("r/tmp", []byte("x")); err != nil {
					return err
				}
				return tx.Delete("r/tmp")
			}, 0},
			{"delete", func(tx store.Tx) error { return tx.Delete("r/b") }, 1},
		}
		want := r0
		for _, st := range steps {
			var read int64
			rev, err := s.UpdateRev(ctx, func(tx store.Tx) error {
				read = tx.Revision()
				return st.fn(tx)
			})
			if err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			if read != want {
				t.Errorf("%s: Tx.Revision inside Update = %d, want %d (the last commit)", st.name, read, want)
			}
			want += st.delta
			if rev != want {
				t.Errorf("%s: UpdateRev = %d, want %d", st.name, rev, want)
			}
			if got := currentRev(t, s); got != want {
				t.Errorf("%s: CurrentRevision = %d, want %d", st.name, got, want)
			}
		}
		boom := errors.New("boom")
		rev, err := s.UpdateRev(ctx, func(tx store.Tx) error { _ = tx.Put("r/z", []byte("z")); return boom })
		if !errors.Is(err, boom) || rev != 0 {
			t.Errorf("failed UpdateRev = %d, %v; want 0, boom", rev, err)
		}
		if got := currentRev(t, s); got != want {
			t.Errorf("after a failed transaction CurrentRevision = %d, want %d", got, want)
		}
	})
	// Ensure the revision is as durable as the data: a reopened store carries on from it.
	t.Run("RevisionSurvivesReopen", func(t *testing.T) {
		if b.Reopen == nil {
			t.Skip("backend has no Reopen")
		}
		s := b.Open(t)
		for i := range 3 {
			mustUpdate(t, s, func(tx store.Tx) error { return tx.Put(fmt.Sprint("k", i), []byte("v")) })
		}
		r := currentRev(t, s)
		s = b.Reopen(t, s)
		defer s.Close()
		if got := currentRev(t, s); got != r {
			t.Fatalf("after reopen CurrentRevision = %d, want %d", got, r)
		}
		ch := watch(t, s, "", r+1)
		rev, err := s.UpdateRev(ctx, func(tx store.Tx) error { return tx.Put("k9", []byte("v")) })
		if err != nil || rev != r+1 {
			t.Fatalf("first commit after reopen: UpdateRev = %d, %v; want %d", rev, err, r+1)
		}
		expect(t, ch, []string{fmt.Sprintf("%d PUT k9=v", r+1)})
	})
}

func runWatch(t *testing.T, b Backend) {
	ctx := context.Background()
	// Ensure a watch from the current revision sees the commits that follow, one response per commit, in order,
	// each key once with its final state, deletes included.
	t.Run("WatchFromNow", func(t *testing.T) {
		s := open(t, b)
		mustUpdate(t, s, func(tx store.Tx) error { return tx.Put("w/old", []byte("before")) })
		ch := watch(t, s, "w/", 0)
		r := currentRev(t, s)
		mustUpdate(t, s, func(tx store.Tx) error {
			for _, kv := range [][2]string{{"w/b", "1"}, {"w/a", "1"}, {"w/b", "2"}} {
				if err := tx.Put(kv[0], []byte(kv[1])); err != nil {
					return err
				}
			}
			return nil
		})
		mustUpdate(t, s, func(tx store.Tx) error { return tx.Delete("w/old") })
		mustUpdate(t, s, func(tx store.Tx) error {
			if err := tx.Delete("w/a"); err != nil {
				return err
			}
			return tx.Put("w/c", nil)
		})
		expect(t, ch, []string{
			fmt.Sprintf("%d PUT w/a=1 PUT w/b=2", r+1),
			fmt.Sprintf("%d DELETE w/old", r+2),
			fmt.Sprintf("%d DELETE w/a PUT w/c=", r+3),
		})
	})
	// Ensure a watch sees only keys under its prefix, and learns through progress notifications that commits
	// elsewhere happened (what lets a cache wait until it has applied a revision).
	t.Run("WatchPrefixAndProgress", func(t *testing.T) {
		s := open(t, b)
		ch := watch(t, s, "p/", 0)
		r := currentRev(t, s)
		for _, k := range []string{"p", "p/1", "pp/1", "o/1", "p/2", "q/1"} {
			mustUpdate(t, s, func(tx store.Tx) error { return tx.Put(k, []byte("v")) })
		}
		var got []string
		deadline := time.After(wait)
		for progress := int64(0); progress < r+6; {
			select {
			case resp, ok := <-ch:
				if !ok || resp.Err != nil {
					t.Fatalf("watch ended: %v", resp.Err)
				}
				if len(resp.Events) == 0 {
					progress = resp.Revision
					continue
				}
				if resp.Revision <= progress {
					t.Fatalf("response at %d after progress up to %d", resp.Revision, progress)
				}
				progress = resp.Revision
				got = append(got, format(resp))
			case <-deadline:
				t.Fatalf("no progress to revision %d within %v (got %q)", r+6, wait, got)
			}
		}
		want := []string{fmt.Sprintf("%d PUT p/1=v", r+2), fmt.Sprintf("%d PUT p/2=v", r+5)}
		if !slices.Equal(got, want) {
			t.Fatalf("events = %q, want %q", got, want)
		}
	})
	// Ensure a watch from an older, retained revision replays from exactly that revision, then streams, with no
	// gap and no duplicate.
	t.Run("WatchReplayThenStream", func(t *testing.T) {
		s := open(t, b)
		revs := make([]int64, 6)
		for i := range revs {
			revs[i] = updateRev(t, s, func(tx store.Tx) error { return tx.Put(fmt.Sprint("h/", i), []byte("v")) })
		}
		ch := watch(t, s, "h/", revs[2])
		revs = append(revs, updateRev(t, s, func(tx store.Tx) error { return tx.Put("h/6", []byte("v")) }))
		var want []string
		for i, r := range revs[2:] {
			want = append(want, fmt.Sprintf("%d PUT h/%d=v", r, i+2))
		}
		expect(t, ch, want)
	})
	// Ensure concurrent committers lose nothing: a watcher started before them sees every event exactly once in
	// revision order, and one started mid-way from an earlier revision sees exactly the events from it on.
	t.Run("WatchConcurrentCommitters", func(t *testing.T) {
		s := open(t, b)
		const workers, each = 8, 40
		first := watch(t, s, "c/", 0)
		start := currentRev(t, s)
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			revOf   = map[string]int64{}
			errs    = make(chan error, workers)
			midRev  = make(chan int64, 1)
			halfway = workers * each / 2
		)
		for g := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					k := fmt.Sprintf("c/%d/%03d", g, i)
					rev, err := s.UpdateRev(ctx, func(tx store.Tx) error { return tx.Put(k, []byte(k)) })
					if err != nil {
						errs <- err
						return
					}
					mu.Lock()
					revOf[k] = rev
					if len(revOf) == halfway {
						midRev <- rev
					}
					mu.Unlock()
				}
			}()
		}
		mid := <-midRev
		second := watch(t, s, "c/", mid-10)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		check := func(name string, ch <-chan store.WatchResponse, from int64) {
			t.Helper()
			n := int(start + workers*each - from + 1)
			seen := map[string]bool{}
			next := from
			for range n {
				resp := nextEvents(t, ch)
				if resp.Revision != next || len(resp.Events) != 1 {
					t.Fatalf("%s: response %s, want one event at revision %d", name, format(resp), next)
				}
				e := resp.Events[0]
				if seen[e.Key] || revOf[e.Key] != e.Revision || string(e.Value) != e.Key {
					t.Fatalf("%s: event %s: duplicate, or UpdateRev said %d", name, format(resp), revOf[e.Key])
				}
				seen[e.Key] = true
				next++
			}
		}
		check("watch from the start", first, start+1)
		check("watch from mid-way", second, mid-10)
	})
	// Ensure a watch from a revision the backend no longer retains fails with ErrCompacted, and one from just after
	// it works.
	t.Run("WatchCompacted", func(t *testing.T) {
		if b.Compact == nil {
			t.Skip("backend has no Compact")
		}
		s := open(t, b)
		var revs []int64
		for i := range 4 {
			revs = append(revs, updateRev(t, s, func(tx store.Tx) error { return tx.Put(fmt.Sprint("x/", i), nil) }))
		}
		b.Compact(t, s, revs[1])
		for _, from := range []int64{revs[0], revs[1]} {
			if ch, err := s.Watch(ctx, "x/", from); !errors.Is(err, store.ErrCompacted) || ch != nil {
				t.Errorf("Watch from compacted revision %d = %v, %v; want ErrCompacted", from, ch, err)
			}
		}
		ch := watch(t, s, "x/", revs[2])
		expect(t, ch, []string{fmt.Sprintf("%d PUT x/2=", revs[2]), fmt.Sprintf("%d PUT x/3=", revs[3])})
	})
	// Ensure cancelling the context ends a watch by closing its channel.
	t.Run("WatchCancel", func(t *testing.T) {
		s := open(t, b)
		wctx, cancel := context.WithCancel(ctx)
		ch, err := s.Watch(wctx, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		mustUpdate(t, s, func(tx store.Tx) error { return tx.Put("k", []byte("v")) })
		cancel()
		mustUpdate(t, s, func(tx store.Tx) error { return tx.Put("k", []byte("w")) })
		timeout := time.After(wait)
		for {
			select {
			case resp, ok := <-ch:
				if !ok {
					return
				}
				if resp.Err != nil {
					t.Fatalf("cancelled watch ended with %v, want the channel closed", resp.Err)
				}
			case <-timeout:
				t.Fatal("channel still open after cancel")
			}
		}
	})
	// Ensure closing the store ends its watches with ErrClosed, and Watch on a closed store fails.
	t.Run("WatchClose", func(t *testing.T) {
		s := b.Open(t)
		ch := watch(t, s, "", 0)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		resp := next(t, ch)
		if !errors.Is(resp.Err, store.ErrClosed) {
			t.Fatalf("after Close the watch got %s, want ErrClosed", format(resp))
		}
		if _, ok := <-ch; ok {
			t.Fatal("channel still open after the ErrClosed response")
		}
		if _, err := s.Watch(ctx, "", 0); !errors.Is(err, store.ErrClosed) {
			t.Fatalf("Watch on a closed store = %v, want ErrClosed", err)
		}
	})
}

func currentRev(t *testing.T, s store.Store) int64 {
	t.Helper()
	r, err := store.CurrentRevision(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func updateRev(t *testing.T, s store.Store, fn func(store.Tx) error) int64 {
	t.Helper()
	r, err := s.UpdateRev(context.Background(), fn)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// watch starts a watch that ends with the test.
func watch(t *testing.T, s store.Store, prefix string, from int64) <-chan store.WatchResponse {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ch, err := s.Watch(ctx, prefix, from)
	if err != nil {
		t.Fatalf("Watch(%q, %d): %v", prefix, from, err)
	}
	return ch
}

// next receives one response, failing the test if none arrives in time or the channel is closed.
func next(t *testing.T, ch <-chan store.WatchResponse) store.WatchResponse {
	t.Helper()
	select {
	case resp, ok := <-ch:
		if !ok {
			t.Fatal("watch channel closed")
		}
		return resp
	case <-time.After(wait):
		t.Fatalf("no watch response within %v", wait)
	}
	panic("unreachable")
}

// nextEvents receives the next response with events, skipping progress notifications; an error ends the test.
func nextEvents(t *testing.T, ch <-chan store.WatchResponse) store.WatchResponse {
	t.Helper()
	for {
		resp := next(t, ch)
		if resp.Err != nil {
			t.Fatalf("watch ended: %v", resp.Err)
		}
		if len(resp.Events) > 0 {
			return resp
		}
	}
}

// expect receives len(want) responses with events and compares them, formatted, with want.
func expect(t *testing.T, ch <-chan store.WatchResponse, want []string) {
	t.Helper()
	var got []string
	for range want {
		got = append(got, format(nextEvents(t, ch)))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("watch delivered\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// format renders a response as "REV TYPE key=value ...", checking each event carries the response's revision.
func format(r store.WatchResponse) string {
	if r.Err != nil {
		return fmt.Sprintf("%d error %v", r.Revision, r.Err)
	}
	var b strings.Builder
	fmt.Fprint(&b, r.Revision)
	for _, e := range r.Events {
		fmt.Fprintf(&b, " %s %s", e.Type, e.Key)
		if e.Type == store.EventPut {
			fmt.Fprintf(&b, "=%s", e.Value)
		}
		if e.Revision != r.Revision {
			fmt.Fprintf(&b, "@%d", e.Revision)
		}
	}
	return b.String()
}
