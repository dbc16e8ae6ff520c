package bolt_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/store"
	"github.com/sluice-dev/sluice/internal/store/bolt"
	"github.com/sluice-dev/sluice/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, backend(false))
}

// Ensure the suite's own closures, and the wrapper services use to test theirs, survive being run twice.
func TestConformanceRerunUpdates(t *testing.T) {
	storetest.Run(t, backend(true))
}

func backend(rerun bool) storetest.Backend {
	paths := map[store.Store]string{}
	wrap := func(s *bolt.Store) store.Store {
		if rerun {
			return storetest.RerunUpdates(s)
		}
		return s
	}
	return storetest.Backend{
		Open: func(t *testing.T) store.Store {
			p := filepath.Join(t.TempDir(), "sluice.db")
			s, err := bolt.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			paths[s] = p
			return wrap(s)
		},
		Reopen: func(t *testing.T, s store.Store) store.Store {
			s = storetest.Unwrap(s)
			p := paths[s]
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s2, err := bolt.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			paths[s2] = p
			return wrap(s2)
		},
		Compact: func(t *testing.T, s store.Store, rev int64) { storetest.Unwrap(s).(*bolt.Store).Compact(rev) },
	}
}

func openWith(t *testing.T, path string, opts bolt.Options) *bolt.Store {
	t.Helper()
	s, err := bolt.OpenWith(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func put(t *testing.T, s store.Store, key, value string) int64 {
	t.Helper()
	rev, err := s.UpdateRev(context.Background(), func(tx store.Tx) error { return tx.Put(key, []byte(value)) })
	if err != nil {
		t.Fatal(err)
	}
	return rev
}

// Ensure the history keeps only the last HistoryRevisions commits: a watch from just inside it replays, one from
// before it gets ErrCompacted.
func TestHistoryBound(t *testing.T) {
	s := openWith(t, filepath.Join(t.TempDir(), "sluice.db"), bolt.Options{HistoryRevisions: 3})
	var revs []int64
	for i := range 5 {
		revs = append(revs, put(t, s, fmt.Sprint("k/", i), "v"))
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := s.Watch(ctx, "k/", revs[1]); !errors.Is(err, store.ErrCompacted) {
		t.Fatalf("Watch from revision %d, outside a 3-commit history: %v, want ErrCompacted", revs[1], err)
	}
	ch, err := s.Watch(ctx, "k/", revs[2])
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range revs[2:] {
		if r := <-ch; r.Revision != want || len(r.Events) != 1 {
			t.Fatalf("replayed %+v, want revision %d", r, want)
		}
	}
}

// Ensure a restart empties the history: a watch from before it must re-list, one from the next revision works.
func TestReopenCompactsHistory(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sluice.db")
	s, err := bolt.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	r := put(t, s, "a", "1")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openWith(t, p, bolt.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := s.Watch(ctx, "", r); !errors.Is(err, store.ErrCompacted) {
		t.Fatalf("Watch from %d after reopen: %v, want ErrCompacted", r, err)
	}
	if _, err := s.Watch(ctx, "", r+1); err != nil {
		t.Fatalf("Watch from %d after reopen: %v", r+1, err)
	}
}

// Ensure a reader that stops reading never blocks commits: its watch ends with ErrLagged (an ErrCompacted) once
// its buffer is full, and the channel closes after that.
func TestSlowWatcherLags(t *testing.T) {
	for _, c := range []struct {
		name string
		opts bolt.Options
	}{
		{"responses", bolt.Options{WatchBufferResponses: 4}},
		{"bytes", bolt.Options{WatchBufferBytes: 4 << 10}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := openWith(t, filepath.Join(t.TempDir(), "sluice.db"), c.opts)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			ch, err := s.Watch(ctx, "", 0)
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			go func() {
				defer close(done)
				for i := range 50 {
					put(t, s, fmt.Sprint("k", i), string(make([]byte, 1024)))
				}
			}()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("commits blocked by a watcher nobody reads")
			}
			var n int
			for r := range ch {
				if r.Err != nil {
					if !errors.Is(r.Err, store.ErrLagged) || !errors.Is(r.Err, store.ErrCompacted) {
						t.Fatalf("watch ended with %v, want ErrLagged", r.Err)
					}
					if _, ok := <-ch; ok {
						t.Fatal("channel open after the error")
					}
					if n > 6 {
						t.Fatalf("%d responses delivered before lagging, buffer is smaller", n)
					}
					return
				}
				n++
			}
			t.Fatal("channel closed without ErrLagged")
		})
	}
}
