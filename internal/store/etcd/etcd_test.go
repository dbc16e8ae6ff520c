package etcd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/sluice-dev/sluice/internal/store"
	"github.com/sluice-dev/sluice/internal/store/etcd/etcdtest"
	"github.com/sluice-dev/sluice/internal/store/storetest"
)

// testMaxTxnOps is the --max-txn-ops the test etcd runs with, and what the stores are told.
const testMaxTxnOps = etcdtest.MaxTxnOps

var prefixes atomic.Int64

// TestMain runs one etcd for the whole test binary (see etcdtest).
func TestMain(m *testing.M) { os.Exit(etcdtest.Main(m)) }

// newPrefix returns a prefix no other store of this test binary uses, so each store starts empty.
func newPrefix() string { return fmt.Sprintf("/sluice-test/%d", prefixes.Add(1)) }

// openAt opens a store on the test etcd; maxTxnOps 0 means the server's limit.
func openAt(t *testing.T, prefix string, maxTxnOps int) *Store {
	t.Helper()
	endpoint := etcdtest.Endpoint(t)
	if maxTxnOps == 0 {
		maxTxnOps = testMaxTxnOps
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := Open(ctx, Config{Endpoints: []string{endpoint}, Prefix: prefix, MaxTxnOps: maxTxnOps})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The suite's checks that each commit takes exactly the next revision hold because the tests run one at a time on
// an etcd nobody else writes to; running them in parallel would break those checks, not the store.
func TestConformance(t *testing.T) {
	storetest.Run(t, backend(false))
}

// Ensure the suite's closures, and the wrapper services use to test theirs, survive being run twice.
func TestConformanceRerunUpdates(t *testing.T) {
	storetest.Run(t, backend(true))
}

func backend(rerun bool) storetest.Backend {
	var mu sync.Mutex
	prefixOf := map[store.Store]string{}
	open := func(t *testing.T, prefix string) store.Store {
		s := openAt(t, prefix, 0)
		mu.Lock()
		prefixOf[s] = prefix
		mu.Unlock()
		if rerun {
			return storetest.RerunUpdates(s)
		}
		return s
	}
	return storetest.Backend{
		Open: func(t *testing.T) store.Store { return open(t, newPrefix()) },
		Reopen: func(t *testing.T, s store.Store) store.Store {
			s = storetest.Unwrap(s)
			mu.Lock()
			prefix := prefixOf[s]
			mu.Unlock()
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			return open(t, prefix)
		},
		Compact: func(t *testing.T, s store.Store, rev int64) {
			if err := storetest.Unwrap(s).(*Store).Compact(context.Background(), rev); err != nil {
				t.Fatal(err)
			}
		},
	}
}

func mustPut(t *testing.T, s store.Store, kvs ...string) {
	t.Helper()
	err := s.Update(context.Background(), func(tx store.Tx) error {
		for i := 0; i < len(kvs); i += 2 {
			if err := tx.Put(kvs[i], []byte(kvs[i+1])); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Ensure an Update whose reads another store's commit invalidated between its snapshot and its commit runs again
// — and one whose reads stayed valid does not. The other store commits during the first run of the closure.
func TestConflictingCommitReruns(t *testing.T) {
	scan := func(prefix, after string, limit int) func(tx store.Tx) error {
		return func(tx store.Tx) error {
			n := 0
			return tx.Scan(prefix, after, func(string, []byte) (bool, error) {
				n++
				return limit == 0 || n < limit, nil
			})
		}
	}
	get := func(key string) func(tx store.Tx) error {
		return func(tx store.Tx) error {
			if _, err := tx.Get(key); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			return nil
		}
	}
	put := func(key string) func(tx store.Tx) error {
		return func(tx store.Tx) error { return tx.Put(key, []byte("changed")) }
	}
	del := func(key string) func(tx store.Tx) error {
		return func(tx store.Tx) error { return tx.Delete(key) }
	}
	nothing := func(store.Tx) error { return nil }
	cases := []struct {
		name      string
		maxTxnOps int // of the store that reruns; 0: the server's
		read      func(tx store.Tx) error
		interfere func(tx store.Tx) error
		runs      int
	}{
		{"get, then that key changes", 0, get("k/1"), put("k/1"), 2},
		{"get, then that key is deleted", 0, get("k/1"), del("k/1"), 2},
		{"get of a missing key, then it is created", 0, get("k/9"), put("k/9"), 2},
		{"get, then another key changes", 0, get("k/1"), put("k/2"), 1},
		{"scan, then a key is created in the range", 0, scan("k/", "", 0), put("k/9"), 2},
		{"scan, then a scanned key is deleted", 0, scan("k/", "", 0), del("k/2"), 2},
		{"scan, then a scanned key changes", 0, scan("k/", "", 0), put("k/2"), 2},
		{"scan, then a key outside the prefix changes", 0, scan("k/", "", 0), put("other"), 1},
		{"scan of every key, then a key is created", 0, scan("", "", 0), put("k/9"), 2},
		{"scan of every key stopped at k/1, then k/5 is created", 0, scan("", "", 1), put("k/5"), 1},
		{"scan stopped at k/1, then k/5 is created", 0, scan("k/", "", 1), put("k/5"), 1},
		{"scan stopped at k/1, then k/0 is created", 0, scan("k/", "", 1), put("k/0"), 2},
		{"scan after k/1, then k/1 changes", 0, scan("k/", "k/1", 0), put("k/1"), 1},
		{"delete, then the key is deleted", 0, del("k/1"), del("k/1"), 2},
		{"no read, then the written key changes", 0, nothing, put("out"), 1},
		// Four compares (the range and its three keys) are over a limit of three: the commit marker decides, and
		// any commit conflicts.
		{"scan over the compare limit, then a key outside the prefix changes", 3, scan("k/", "", 0), put("other"), 2},
		{"scan over the compare limit, then a key is created in the range", 3, scan("k/", "", 0), put("k/9"), 2},
		{"get under the compare limit, then another key changes", 3, get("k/1"), put("k/2"), 1},
	}
	ctx := context.Background()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			prefix := newPrefix()
			a, b := openAt(t, prefix, c.maxTxnOps), openAt(t, prefix, 0)
			defer a.Close()
			defer b.Close()
			mustPut(t, b, "k/1", "1", "k/2", "2", "k/3", "3", "other", "o")
			runs := 0
			err := a.Update(ctx, func(tx store.Tx) error {
				runs++
				if err := c.read(tx); err != nil {
					return err
				}
				if runs == 1 {
					if err := b.Update(ctx, c.interfere); err != nil {
						return err
					}
				}
				return tx.Put("out", []byte(fmt.Sprint(runs)))
			})
			if err != nil {
				t.Fatal(err)
			}
			if runs != c.runs {
				t.Errorf("closure ran %d times, want %d", runs, c.runs)
			}
			var out []byte
			if err := b.View(ctx, func(tx store.Tx) error { var err error; out, err = tx.Get("out"); return err }); err != nil {
				t.Fatal(err)
			}
			if string(out) != fmt.Sprint(runs) {
				t.Errorf("out = %s, want the last run's %d", out, runs)
			}
		})
	}
}

// Ensure two processes (two clients) incrementing one key lose no update.
func TestNoLostUpdateAcrossStores(t *testing.T) {
	const each = 50
	prefix := newPrefix()
	stores := []*Store{openAt(t, prefix, 0), openAt(t, prefix, 0)}
	ctx := context.Background()
	for _, s := range stores {
		defer s.Close()
	}
	if err := storetest.IncrementConcurrently(ctx, []store.Store{stores[0], stores[1]}, "counter", each); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := stores[0].View(ctx, func(tx store.Tx) error { return store.GetJSON(tx, "counter", &n) }); err != nil {
		t.Fatal(err)
	}
	if n != len(stores)*each {
		t.Fatalf("counter = %d, want %d (lost updates)", n, len(stores)*each)
	}
	t.Logf("%d closures re-run on conflicts", stores[0].reruns.Load()+stores[1].reruns.Load())
}

// Ensure a transaction that counts the keys under a prefix and writes the count stays exact while another process
// creates and deletes keys under it: at the revision each count committed at, etcd holds exactly that many keys.
func TestScanCountExactUnderConcurrentWrites(t *testing.T) {
	for _, c := range []struct {
		name      string
		maxTxnOps int
	}{
		{"per-key compares", 0},
		{"commit marker fallback", 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			prefix := newPrefix()
			counter, writer := openAt(t, prefix, c.maxTxnOps), openAt(t, prefix, 0)
			defer counter.Close()
			defer writer.Close()
			for i := range 10 {
				mustPut(t, writer, fmt.Sprintf("set/%03d", i), "v")
			}
			ctx := context.Background()
			// The writer makes a bounded number of changes, pausing between them so that counts commit in
			// between: optimistic concurrency has no fairness, and a writer that never stopped changing the range
			// could starve the counter. The counter keeps counting until the writer is done.
			writerDone := make(chan error, 1)
			go func() {
				for i := 10; i < 70; i++ {
					time.Sleep(time.Millisecond)
					err := writer.Update(ctx, func(tx store.Tx) error {
						if i%3 == 0 {
							return tx.Delete(fmt.Sprintf("set/%03d", i/3))
						}
						return tx.Put(fmt.Sprintf("set/%03d", i), []byte("v"))
					})
					if err != nil {
						writerDone <- err
						return
					}
				}
				writerDone <- nil
			}()
			type counted struct{ rev, n int64 }
			var commits []counted
			for writing := true; writing || len(commits) < 10; {
				select {
				case err := <-writerDone:
					if err != nil {
						t.Fatal(err)
					}
					writing = false
				default:
				}
				var n int64
				rev, err := counter.UpdateRev(ctx, func(tx store.Tx) error {
					n = 0
					if err := tx.Scan("set/", "", func(string, []byte) (bool, error) { n++; return true, nil }); err != nil {
						return err
					}
					return store.PutJSON(tx, "count", n)
				})
				if err != nil {
					t.Fatal(err)
				}
				commits = append(commits, counted{rev, n})
			}
			for _, cm := range commits {
				resp, err := counter.client.Get(ctx, counter.root+"set/", clientv3.WithPrefix(), clientv3.WithCountOnly(),
					clientv3.WithRev(cm.rev))
				if err != nil {
					t.Fatal(err)
				}
				if resp.Count != cm.n {
					t.Fatalf("count committed at revision %d is %d, but etcd holds %d keys there", cm.rev, cm.n, resp.Count)
				}
			}
			t.Logf("%d closures re-run on conflicts", counter.reruns.Load())
		})
	}
}

// Ensure a transaction with more writes than etcd's default of 128 operations commits whole on a server that
// allows them, and one over the configured limit fails with ErrTxnTooLarge and writes nothing.
func TestLargeTransactions(t *testing.T) {
	cases := []struct {
		name      string
		maxTxnOps int
		writes    int
		wantErr   error
	}{
		{"500 writes under a limit of 1024", testMaxTxnOps, 500, nil},
		{"1024 writes and the commit marker over a limit of 1024", testMaxTxnOps, testMaxTxnOps, ErrTxnTooLarge},
		{"200 writes over a limit of 128", 128, 200, ErrTxnTooLarge},
	}
	ctx := context.Background()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := openAt(t, newPrefix(), c.maxTxnOps)
			defer s.Close()
			err := s.Update(ctx, func(tx store.Tx) error {
				for i := range c.writes {
					if err := tx.Put(fmt.Sprintf("big/%04d", i), []byte("v")); err != nil {
						return err
					}
				}
				return nil
			})
			if !errors.Is(err, c.wantErr) {
				t.Fatalf("Update = %v, want %v", err, c.wantErr)
			}
			want := c.writes
			if c.wantErr != nil {
				want = 0
			}
			n := 0
			if err := s.View(ctx, func(tx store.Tx) error {
				return tx.Scan("big/", "", func(string, []byte) (bool, error) { n++; return true, nil })
			}); err != nil {
				t.Fatal(err)
			}
			if n != want {
				t.Fatalf("%d keys stored, want %d", n, want)
			}
		})
	}
}

// Ensure a reader that stops reading ends with ErrLagged once its buffer is full, and never blocks commits.
func TestSlowWatcherLags(t *testing.T) {
	prefix := newPrefix()
	endpoint := etcdtest.Endpoint(t)
	s, err := Open(context.Background(), Config{Endpoints: []string{endpoint}, Prefix: prefix,
		MaxTxnOps: testMaxTxnOps, WatchBufferResponses: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := s.Watch(ctx, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	// A second watch, read all along, tells when every commit has reached this process.
	eager, err := s.Watch(ctx, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	eagerSeen := make(chan int64, 64)
	go func() {
		for r := range eager {
			eagerSeen <- r.Revision
		}
	}()
	var last int64
	for i := range 20 {
		last, err = s.UpdateRev(ctx, func(tx store.Tx) error { return tx.Put(fmt.Sprint("k", i), []byte("v")) })
		if err != nil {
			t.Fatal(err)
		}
	}
	timeout := time.After(10 * time.Second)
	for seen := int64(0); seen < last; {
		select {
		case seen = <-eagerSeen:
		case <-timeout:
			t.Fatal("the watch that is read did not reach the last commit within 10s")
		}
	}
	// The unread watch has received them too by now (give it a moment to queue them): it must have lagged.
	time.Sleep(100 * time.Millisecond)
	n := 0
	for {
		select {
		case r, ok := <-ch:
			if !ok {
				t.Fatal("channel closed without ErrLagged")
			}
			if r.Err != nil {
				if !errors.Is(r.Err, store.ErrLagged) {
					t.Fatalf("watch ended with %v, want ErrLagged", r.Err)
				}
				if n > 5 {
					t.Fatalf("%d responses delivered before lagging, the buffer holds 4", n)
				}
				return
			}
			n++
		case <-timeout:
			t.Fatal("no ErrLagged within 10s")
		}
	}
}

// Ensure a fenced write lands while its leadership key is held and is refused with ErrFenced, writing nothing,
// once the key is gone or was created again by a successor; a plain conflict under a held fence still re-runs.
func TestFencedWrites(t *testing.T) {
	ctx := context.Background()
	s := openAt(t, newPrefix(), 0)
	defer s.Close()
	fenceKey := newPrefix() + ".cluster/leader/job"
	grant := func() store.Fence {
		t.Helper()
		resp, err := s.Client().Put(ctx, fenceKey, "me")
		if err != nil {
			t.Fatal(err)
		}
		return store.Fence{Key: fenceKey, Revision: resp.Header.Revision}
	}
	write := func(f store.Fence, v string) error {
		return s.Update(store.WithFence(ctx, f), func(tx store.Tx) error {
			if _, err := tx.Get("k"); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			return tx.Put("k", []byte(v))
		})
	}
	first := grant()
	if err := write(first, "one"); err != nil {
		t.Fatalf("write under a held fence: %v", err)
	}
	// A conflicting commit between the read and the commit re-runs the closure instead of failing it.
	runs := 0
	err := s.Update(store.WithFence(ctx, first), func(tx store.Tx) error {
		if _, err := tx.Get("k"); err != nil {
			return err
		}
		if runs++; runs == 1 {
			mustPut(t, openAt(t, s.cfg.Prefix, 0), "k", "other")
		}
		return tx.Put("k", []byte("two"))
	})
	if err != nil || runs != 2 {
		t.Fatalf("conflict under a held fence: err %v after %d runs, want nil after 2", err, runs)
	}

	for _, tc := range []struct {
		name string
		lose func()
	}{
		{"key deleted", func() { s.Client().Delete(ctx, fenceKey) }},
		{"key re-created by a successor", func() { s.Client().Delete(ctx, fenceKey); grant() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			held := grant()
			tc.lose()
			if err := write(held, "stale"); !errors.Is(err, store.ErrFenced) {
				t.Fatalf("write after losing the fence: %v, want ErrFenced", err)
			}
			var got string
			s.View(ctx, func(tx store.Tx) error { b, _ := tx.Get("k"); got = string(b); return nil })
			if got == "stale" {
				t.Fatal("a fenced write landed after the leadership was lost")
			}
		})
	}
}

// Ensure the sweep deletes the chunks of a large value once it was replaced (or its transaction never committed)
// and its write is older than the grace, never the chunks of a current value; and that a read at a snapshot whose
// chunks were swept fails as a compacted read does.
func TestLargeValueChunksSwept(t *testing.T) {
	ctx := context.Background()
	s := openAt(t, newPrefix(), 0)
	defer s.Close()
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return clock }
	big := func(b byte) []byte { return bytes.Repeat([]byte{b}, 3*s.cfg.MaxValueBytes+1) }
	chunkSets := func() int {
		resp, err := s.Client().Get(ctx, s.valuesRoot(), clientv3.WithPrefix(), clientv3.WithKeysOnly())
		if err != nil {
			t.Fatal(err)
		}
		sets := map[string]bool{}
		for _, kv := range resp.Kvs {
			k := string(kv.Key)
			sets[k[:strings.LastIndexByte(k, '/')]] = true
		}
		return len(sets)
	}
	mustPut(t, s, "k", string(big('a')))
	var oldRev int64
	s.View(ctx, func(tx store.Tx) error { oldRev = tx.Revision(); return nil })
	clock = clock.Add(time.Hour)
	mustPut(t, s, "k", string(big('b')))
	mustPut(t, s, "k2", string(big('d')))
	orphan := func() { // what a transaction whose commit lost a conflict leaves: chunks nothing refers to
		if _, err := s.encodeValue(ctx, s.root+"k", big('e')); err != nil {
			t.Fatal(err)
		}
	}

	for _, tc := range []struct {
		name        string
		before      func()
		advance     time.Duration
		swept, left int
	}{
		{"a replaced value's chunks, its write past the grace", nil, 0, 1, 2},
		{"current values' chunks, however old", nil, s.cfg.ValueGrace + time.Minute, 0, 2},
		{"an uncommitted write's chunks within the grace", orphan, 0, 0, 3},
		{"an uncommitted write's chunks past the grace", nil, s.cfg.ValueGrace + time.Minute, 1, 2},
	} {
		if tc.before != nil {
			tc.before()
		}
		clock = clock.Add(tc.advance)
		swept, err := s.sweepValues(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if swept != tc.swept || chunkSets() != tc.left {
			t.Errorf("%s: swept %d, %d chunk sets left; want %d and %d", tc.name, swept, chunkSets(), tc.swept, tc.left)
		}
	}
	var got []byte
	if err := s.View(ctx, func(tx store.Tx) error { v, err := tx.Get("k"); got = v; return err }); err != nil || !bytes.Equal(got, big('b')) {
		t.Errorf("the current large value after the sweep: %d bytes, %v", len(got), err)
	}
	// A read at the snapshot from before the overwrite finds a's chunks gone.
	tx := s.newTx(ctx, true)
	tx.rev = oldRev
	if _, err := tx.Get("k"); !errors.Is(err, store.ErrCompacted) {
		t.Errorf("read of a swept value at an old snapshot: %v, want ErrCompacted", err)
	}
}

// Ensure a transaction's Revision is the last Sluice commit's even when etcd's revision moved on through writes
// outside the store (the cluster's elections and node records): a cache waiting for it is fed only by the store's
// watch, which never delivers those writes, so it waited for the next Sluice commit.
func TestRevisionIgnoresWritesOutsideTheStore(t *testing.T) {
	ctx := context.Background()
	prefix := newPrefix()
	s := openAt(t, prefix, 0)
	defer s.Close()
	committed, err := s.UpdateRev(ctx, func(tx store.Tx) error { return tx.Put("k", []byte("v")) })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Client().Put(ctx, prefix+".cluster/leader/job/1", "n0"); err != nil {
		t.Fatal(err)
	}
	if got, err := store.CurrentRevision(ctx, s); err != nil || got != committed {
		t.Errorf("Revision after a write outside the store = %d (%v), want the last commit's %d", got, err, committed)
	}
}
