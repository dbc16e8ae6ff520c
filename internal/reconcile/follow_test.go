package reconcile

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/store"
	"github.com/sluice-dev/sluice/internal/store/bolt"
)

// manualClock is an AfterFunc whose timers fire only when the test fires them.
type manualClock struct {
	mu     sync.Mutex
	timers map[int]timerEntry
	next   int
	armed  chan time.Duration // each AfterFunc call's d
}

type timerEntry struct {
	d time.Duration
	f func()
}

func newManualClock() *manualClock {
	return &manualClock{timers: map[int]timerEntry{}, armed: make(chan time.Duration, 100)}
}

func (c *manualClock) AfterFunc(d time.Duration, f func()) func() bool {
	c.mu.Lock()
	id := c.next
	c.next++
	c.timers[id] = timerEntry{d, f}
	c.mu.Unlock()
	c.armed <- d
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		_, ok := c.timers[id]
		delete(c.timers, id)
		return ok
	}
}

// fire runs every armed timer of duration d.
func (c *manualClock) fire(d time.Duration) {
	c.mu.Lock()
	var fs []func()
	for id, t := range c.timers {
		if t.d == d {
			fs = append(fs, t.f)
			delete(c.timers, id)
		}
	}
	c.mu.Unlock()
	for _, f := range fs {
		f()
	}
}

// scriptedWatch is a store whose watches are answered from a channel the test feeds.
type scriptedWatch struct {
	store.Store
	watches chan chan store.WatchResponse
	from    chan int64
}

func (s scriptedWatch) Watch(ctx context.Context, prefix string, from int64) (<-chan store.WatchResponse, error) {
	ch := make(chan store.WatchResponse, 1)
	s.from <- from
	s.watches <- ch
	return ch, nil
}

type harness struct {
	t       *testing.T
	db      store.Store
	s       scriptedWatch
	clock   *manualClock
	lists   chan int64 // the revision each listing read at
	applied chan string
	cancel  context.CancelFunc
	done    chan struct{}
}

func start(t *testing.T) *harness {
	db, err := bolt.Open(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	h := &harness{t: t, db: db, clock: newManualClock(), lists: make(chan int64, 10), applied: make(chan string, 10), done: make(chan struct{})}
	h.s = scriptedWatch{Store: db, watches: make(chan chan store.WatchResponse, 10), from: make(chan int64, 10)}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	f := Follower{Store: h.s, Prefix: "x/", ResyncEvery: time.Minute, RetryAfter: time.Second, AfterFunc: h.clock.AfterFunc,
		Logger: slog.New(slog.DiscardHandler),
		List: func(ctx context.Context) (int64, error) {
			var rev int64
			err := db.View(ctx, func(tx store.Tx) error { rev = tx.Revision(); return nil })
			h.lists <- rev
			return rev, err
		},
		Apply: func(ev store.Event) { h.applied <- ev.Key },
	}
	go func() { f.Run(ctx); close(h.done) }()
	t.Cleanup(func() { cancel(); <-h.done })
	return h
}

func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second): // only to fail instead of hanging
		t.Fatalf("no %s", what)
		panic("unreachable")
	}
}

// watching waits for the follower's next watch and returns the channel that answers it and the revision it asked
// from.
func (h *harness) watching() (chan store.WatchResponse, int64) {
	from := recv(h.t, h.s.from, "watch")
	return recv(h.t, h.s.watches, "watch channel"), from
}

func TestFollowerListsThenWatchesFromTheListingsRevision(t *testing.T) {
	h := start(t)
	rev := recv(t, h.lists, "listing")
	ch, from := h.watching()
	if from != rev+1 {
		t.Fatalf("watch from %d, want the listing's revision + 1 = %d", from, rev+1)
	}
	ch <- store.WatchResponse{Events: []store.Event{{Type: store.EventPut, Key: "x/a"}, {Type: store.EventDelete, Key: "x/b"}}}
	for _, want := range []string{"x/a", "x/b"} {
		if got := recv(t, h.applied, "applied event"); got != want {
			t.Fatalf("applied %q, want %q", got, want)
		}
	}
}

func TestFollowerListsAgain(t *testing.T) {
	tests := []struct {
		name   string
		end    func(h *harness, ch chan store.WatchResponse)
		closed bool // the follower stops following
	}{
		{"the watch fell behind", func(h *harness, ch chan store.WatchResponse) {
			ch <- store.WatchResponse{Err: store.ErrLagged}
		}, false},
		{"compacted", func(h *harness, ch chan store.WatchResponse) {
			ch <- store.WatchResponse{Err: store.ErrCompacted}
		}, false},
		{"the resync backstop", func(h *harness, ch chan store.WatchResponse) {
			for recv(h.t, h.clock.armed, "timer") != time.Minute {
			}
			h.clock.fire(time.Minute)
		}, false},
		{"another error, after RetryAfter", func(h *harness, ch chan store.WatchResponse) {
			ch <- store.WatchResponse{Err: errors.New("network")}
			for recv(h.t, h.clock.armed, "timer") != time.Second {
			}
			select {
			case <-h.lists:
				h.t.Fatal("listed again before RetryAfter passed")
			default:
			}
			h.clock.fire(time.Second)
		}, false},
		{"the store closed", func(h *harness, ch chan store.WatchResponse) {
			ch <- store.WatchResponse{Err: store.ErrClosed}
		}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := start(t)
			recv(t, h.lists, "first listing")
			ch, _ := h.watching()
			tc.end(h, ch)
			if tc.closed {
				select {
				case <-h.done:
					t.Fatal("Run returned before its context ended")
				default:
				}
				h.cancel()
				recv(t, h.done, "Run's return")
				if len(h.lists) != 0 {
					t.Fatal("listed again after the store closed")
				}
				return
			}
			recv(t, h.lists, "second listing")
		})
	}
}

func TestWorkersPassEachKeyAndStop(t *testing.T) {
	q := NewQueue[int]()
	var mu sync.Mutex
	seen := map[int]int{}
	all := make(chan struct{})
	stop := Workers(3, q, func(k int) {
		mu.Lock()
		seen[k]++
		if len(seen) == 10 {
			close(all)
		}
		mu.Unlock()
	})
	for k := range 10 {
		q.Add(k)
	}
	recv(t, all, "ten passes")
	stop()
	q.Add(99) // ignored: shut down
	mu.Lock()
	defer mu.Unlock()
	for k, n := range seen {
		if n != 1 {
			t.Errorf("key %d passed %d times", k, n)
		}
	}
	if seen[99] != 0 {
		t.Error("a key added after stop was passed")
	}
}
