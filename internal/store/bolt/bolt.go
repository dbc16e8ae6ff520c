// Package bolt implements store.Store on an embedded bbolt file: the default, single-node backend. bbolt fsyncs
// on every commit, which is what makes an acknowledged API write survive kill -9.
//
// The revision lives in its own bucket and is written by the transaction that bumps it, so it is exactly as durable
// as the data. Writers are serialized (bbolt allows one at a time anyway) and each commit is published to the
// watchers before the next writer starts, which is what keeps events in revision order. The events of recent
// commits are kept in memory (Options.HistoryRevisions, HistoryBytes) for watches that resume from a recent
// revision; after a restart the history is empty, so a watch from before it gets store.ErrCompacted.
package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/sluice-dev/sluice/internal/store"
)

var (
	bucket     = []byte("sluice")
	metaBucket = []byte("sluice.meta")
	revKey     = []byte("revision")
)

// Options tunes the in-memory watch history. The zero value is a valid configuration.
type Options struct {
	// HistoryRevisions is how many recent commits a watch can resume from; 0 means 4096.
	HistoryRevisions int
	// HistoryBytes caps the keys and values those commits hold; 0 means 16 MiB.
	HistoryBytes int
	// WatchBufferResponses is how many undelivered responses a watch may hold before it ends with
	// store.ErrLagged; 0 means HistoryRevisions (so a watch can always replay the whole history).
	WatchBufferResponses int
	// WatchBufferBytes caps the keys and values those responses hold; 0 means HistoryBytes.
	WatchBufferBytes int
}

func (o Options) withDefaults() Options {
	if o.HistoryRevisions <= 0 {
		o.HistoryRevisions = 4096
	}
	if o.HistoryBytes <= 0 {
		o.HistoryBytes = 16 << 20
	}
	if o.WatchBufferResponses <= 0 {
		o.WatchBufferResponses = o.HistoryRevisions
	}
	if o.WatchBufferBytes <= 0 {
		o.WatchBufferBytes = o.HistoryBytes
	}
	return o
}

// Store is a bbolt-backed store.Store.
type Store struct {
	db   *bbolt.DB
	opts Options

	// wmu serializes writers from before bbolt's transaction until its commit is published.
	wmu sync.Mutex

	mu        sync.Mutex // guards what follows
	rev       int64      // the last committed revision
	compacted int64      // the newest revision whose events are no longer retained
	history   []*commit  // revisions compacted+1 .. rev, oldest first
	histBytes int
	watchers  map[*watcher]struct{}
	closed    bool
}

var _ store.Store = (*Store)(nil)

// commit is the events of one revision, sorted by key. It is shared, read-only, by the history and the watchers.
type commit struct {
	rev    int64
	events []store.Event
	size   int
}

// Open opens (creating if needed) the database file at path with default Options. It fails fast if another
// process holds the file.
func Open(path string) (*Store, error) { return OpenWith(path, Options{}) }

// OpenWith is Open with options.
func OpenWith(path string, opts Options) (*Store, error) {
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	var rev int64
	if err := db.Update(func(tx *bbolt.Tx) error {
		if _, err := tx.CreateBucketIfNotExists(bucket); err != nil {
			return err
		}
		m, err := tx.CreateBucketIfNotExists(metaBucket)
		if err != nil {
			return err
		}
		rev = readRev(m)
		return nil
	}); err != nil {
		db.Close()
		return nil, fmt.Errorf("init store: %w", err)
	}
	return &Store{
		db:        db,
		opts:      opts.withDefaults(),
		rev:       rev,
		compacted: rev,
		watchers:  map[*watcher]struct{}{},
	}, nil
}

func readRev(m *bbolt.Bucket) int64 {
	v := m.Get(revKey)
	if len(v) != 8 {
		return 0
	}
	return int64(binary.BigEndian.Uint64(v))
}

func (s *Store) View(ctx context.Context, fn func(store.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.View(func(tx *bbolt.Tx) error {
		return fn(&boltTx{b: tx.Bucket(bucket), rev: readRev(tx.Bucket(metaBucket))})
	})
}

func (s *Store) Update(ctx context.Context, fn func(store.Tx) error) error {
	_, err := s.UpdateRev(ctx, fn)
	return err
}

func (s *Store) UpdateRev(ctx context.Context, fn func(store.Tx) error) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	var (
		rev int64
		c   *commit
	)
	err := s.db.Update(func(tx *bbolt.Tx) error {
		m := tx.Bucket(metaBucket)
		t := &boltTx{b: tx.Bucket(bucket), rev: readRev(m), writable: true, changes: map[string]*change{}}
		if err := fn(t); err != nil {
			return err
		}
		rev = t.rev
		c = t.commit(t.rev + 1)
		if c == nil {
			return nil
		}
		rev = c.rev
		var buf [8]byte
		binary.BigEndian.PutUint64(buf[:], uint64(rev))
		return m.Put(revKey, buf[:])
	})
	if err != nil {
		return 0, err
	}
	if c != nil {
		s.publish(c)
	}
	return rev, nil
}

// publish records a committed revision and hands its events to the watchers. Callers hold wmu, so commits are
// published one at a time, in revision order; nothing here blocks on a watcher.
func (s *Store) publish(c *commit) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rev = c.rev
	s.history = append(s.history, c)
	s.histBytes += c.size
	n := 0
	for len(s.history)-n > s.opts.HistoryRevisions || (s.histBytes > s.opts.HistoryBytes && n < len(s.history)) {
		s.compacted = s.history[n].rev
		s.histBytes -= s.history[n].size
		s.history[n] = nil
		n++
	}
	s.history = s.history[n:] // append drops the cleared head when it next grows the array
	for w := range s.watchers {
		if !w.offer(c) {
			delete(s.watchers, w)
		}
	}
}

// Compact drops the retained events of revisions up to and including rev, as etcd's Compact does: a later Watch
// from rev or before returns store.ErrCompacted.
func (s *Store) Compact(rev int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rev = min(rev, s.rev)
	if rev <= s.compacted {
		return
	}
	n := 0
	for n < len(s.history) && s.history[n].rev <= rev {
		s.histBytes -= s.history[n].size
		s.history[n] = nil
		n++
	}
	s.history = s.history[n:]
	s.compacted = rev
}

func (s *Store) Watch(ctx context.Context, prefix string, from int64) (<-chan store.WatchResponse, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, store.ErrClosed
	}
	if from <= 0 {
		from = s.rev + 1
	}
	if from <= s.compacted {
		return nil, fmt.Errorf("watch %q from revision %d (oldest retained %d): %w", prefix, from, s.compacted+1,
			store.ErrCompacted)
	}
	w := &watcher{
		prefix:   prefix,
		from:     from,
		maxResps: s.opts.WatchBufferResponses,
		maxBytes: s.opts.WatchBufferBytes,
		wake:     make(chan struct{}, 1),
		ch:       make(chan store.WatchResponse),
	}
	live := true
	for _, c := range s.history {
		if live = w.offer(c); !live {
			break
		}
	}
	if live {
		s.watchers[w] = struct{}{}
	}
	go w.run(ctx, s)
	return w.ch, nil
}

func (s *Store) forget(w *watcher) {
	s.mu.Lock()
	delete(s.watchers, w)
	s.mu.Unlock()
}

// Close ends every watch with store.ErrClosed and closes the file.
func (s *Store) Close() error {
	s.mu.Lock()
	s.closed = true
	for w := range s.watchers {
		w.end(store.ErrClosed)
		delete(s.watchers, w)
	}
	s.history = nil
	s.mu.Unlock()
	return s.db.Close()
}

// watcher buffers the responses of one watch between the publisher, which never waits, and its reader.
type watcher struct {
	prefix   string
	from     int64
	maxResps int
	maxBytes int
	wake     chan struct{}
	ch       chan store.WatchResponse

	mu     sync.Mutex
	queue  []store.WatchResponse
	qBytes int
	err    error // ends the watch once the queue is delivered
}

// offer queues c's events under the watcher's prefix, or a progress notification when there are none. It reports
// false when the watcher has ended (it fell behind, or was already ended), so the store stops offering.
func (w *watcher) offer(c *commit) bool {
	if c.rev < w.from {
		return true
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return false
	}
	evs, size := c.events, c.size
	if w.prefix != "" {
		lo, _ := slices.BinarySearchFunc(c.events, w.prefix, func(e store.Event, p string) int {
			return strings.Compare(e.Key, p)
		})
		hi := lo
		size = 0
		for hi < len(c.events) && strings.HasPrefix(c.events[hi].Key, w.prefix) {
			size += eventSize(c.events[hi])
			hi++
		}
		evs = c.events[lo:hi:hi]
	}
	if len(evs) == 0 {
		if n := len(w.queue); n > 0 && len(w.queue[n-1].Events) == 0 {
			w.queue[n-1].Revision = c.rev // coalesce progress
			return true
		}
		evs = nil
	}
	w.queue = append(w.queue, store.WatchResponse{Revision: c.rev, Events: evs})
	w.qBytes += size
	if len(w.queue) > w.maxResps || w.qBytes > w.maxBytes {
		w.queue, w.qBytes, w.err = nil, 0, store.ErrLagged
		w.signal()
		return false
	}
	w.signal()
	return true
}

// end drops what is queued and ends the watch with err.
func (w *watcher) end(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		w.queue, w.qBytes, w.err = nil, 0, err
	}
	w.signal()
}

func (w *watcher) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *watcher) run(ctx context.Context, s *Store) {
	defer close(w.ch)
	defer s.forget(w)
	for {
		w.mu.Lock()
		if len(w.queue) == 0 {
			err := w.err
			w.mu.Unlock()
			if err != nil {
				select {
				case w.ch <- store.WatchResponse{Err: err}:
				case <-ctx.Done():
				}
				return
			}
			select {
			case <-w.wake:
			case <-ctx.Done():
				return
			}
			continue
		}
		r := w.queue[0]
		w.queue[0] = store.WatchResponse{}
		w.queue = w.queue[1:]
		for _, e := range r.Events {
			w.qBytes -= eventSize(e)
		}
		w.mu.Unlock()
		select {
		case w.ch <- r:
		case <-ctx.Done():
			return
		}
	}
}

func eventSize(e store.Event) int { return len(e.Key) + len(e.Value) + 48 }

type boltTx struct {
	b        *bbolt.Bucket
	rev      int64
	writable bool
	changes  map[string]*change // writes of an Update, by key
}

// change is the net effect of a transaction on one key.
type change struct {
	existed bool // the key existed when the transaction began
	deleted bool
	value   []byte
}

// commit returns the transaction's net changes as revision rev, or nil when it changed nothing.
func (t *boltTx) commit(rev int64) *commit {
	c := &commit{rev: rev}
	for k, ch := range t.changes {
		switch {
		case ch.deleted && !ch.existed: // created and removed within the transaction
		case ch.deleted:
			c.events = append(c.events, store.Event{Type: store.EventDelete, Key: k, Revision: rev})
		default:
			c.events = append(c.events, store.Event{Type: store.EventPut, Key: k, Value: ch.value, Revision: rev})
		}
	}
	if len(c.events) == 0 {
		return nil
	}
	slices.SortFunc(c.events, func(a, b store.Event) int { return strings.Compare(a.Key, b.Key) })
	for _, e := range c.events {
		c.size += eventSize(e)
	}
	return c
}

func (t *boltTx) Revision() int64 { return t.rev }

func (t *boltTx) Get(key string) ([]byte, error) {
	v := t.b.Get([]byte(key))
	if v == nil {
		return nil, store.ErrNotFound
	}
	return v, nil
}

// record notes the net effect of a successful write on key; existed is whether the key existed before the
// transaction's first write to it.
func (t *boltTx) record(key string, existed, deleted bool, value []byte) {
	ch := t.changes[key]
	if ch == nil {
		ch = &change{existed: existed}
		t.changes[key] = ch
	}
	ch.deleted, ch.value = deleted, value
}

// existedBefore reports whether key existed before the transaction's first write to it. Call it before writing.
func (t *boltTx) existedBefore(key []byte) bool {
	if ch := t.changes[string(key)]; ch != nil {
		return ch.existed
	}
	return t.b.Get(key) != nil
}

func (t *boltTx) Put(key string, value []byte) error {
	if !t.writable {
		return store.ErrReadOnly
	}
	k, v := []byte(key), bytes.Clone(value)
	existed := t.existedBefore(k)
	if err := t.b.Put(k, v); err != nil {
		return err
	}
	t.record(key, existed, false, v)
	return nil
}

func (t *boltTx) Delete(key string) error {
	if !t.writable {
		return store.ErrReadOnly
	}
	k := []byte(key)
	if t.b.Get(k) == nil {
		return nil // nothing to delete: no change, no event
	}
	existed := t.existedBefore(k)
	if err := t.b.Delete(k); err != nil {
		return err
	}
	t.record(key, existed, true, nil)
	return nil
}

func (t *boltTx) Scan(prefix, after string, fn func(string, []byte) (bool, error)) error {
	c := t.b.Cursor()
	p := []byte(prefix)
	var k, v []byte
	if after != "" && after >= prefix {
		k, v = c.Seek([]byte(after))
		if k != nil && string(k) == after {
			k, v = c.Next()
		}
	} else {
		k, v = c.Seek(p)
	}
	for ; k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
		more, err := fn(string(k), v)
		if err != nil || !more {
			return err
		}
	}
	return nil
}
