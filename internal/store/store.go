// Package store owns Sluice's durable state contract: a transactional, ordered key-value store with revisions and
// a watch. Every backend (bbolt embedded, etcd for clusters) implements Store, and storetest holds the one
// conformance suite they all pass.
//
// Keys are slash-separated strings laid out by the services (see keys.go); values are opaque bytes (JSON records).
// Update commits durably — for bbolt that means fsync — before it returns nil, so an acknowledged write survives
// kill -9.
//
// # Transactions
//
// View runs a closure in a consistent read-only snapshot; Update and UpdateRev run one in a serializable read-write
// transaction that commits when the closure returns nil and writes nothing when it returns an error.
//
// Update closures may be run more than once: a backend with optimistic transactions (etcd: read, then a
// compare-and-swap commit) re-runs the closure when its reads were invalidated by a concurrent commit. A closure
// must therefore have no effect outside the transaction — no channel sends, no counters, no appends to slices
// declared outside it that survive a re-run, no calls to other services. Assigning results to outer variables is
// fine (a re-run overwrites them); act on them only after Update returned nil. Nor may a closure change values
// it captured and read again (a record passed in, then bumped inside: the re-run sees the bumped copy). bbolt
// runs each closure once today; do not depend on that: storetest.RerunUpdates runs every closure twice, for a
// service's tests to prove theirs are re-runnable.
//
// # Revisions
//
// The store has one revision counter. Every committed write transaction that changed something gets the next
// revision: exactly one more than the previous commit's on a store nobody else writes to (an etcd backend shares
// its counter with every writer of the cluster, so callers may rely only on revisions increasing). A transaction
// changes something when it puts a key (even to the value it already had) or deletes a key that existed; a
// transaction with no such write (only reads, or deletes of missing keys) commits nothing and takes no revision.
// The revision is durable with the data: it survives a restart and kill -9. A fresh store is at revision 0.
//
// Tx.Revision is the revision of the state a transaction reads (its own uncommitted writes aside). UpdateRev
// returns the revision the transaction committed at; for a transaction that changed nothing it returns the
// revision the transaction read. These are the same numbers watch events carry, so a cache that has applied every
// event up to revision R reflects at least the commit UpdateRev reported as R.
//
// # Watch
//
// Watch(ctx, prefix, from) delivers, in revision order, every change to keys under prefix committed at revision
// from or later: first the retained history (replay), then changes as they commit, with no gap and no duplicate.
// from <= 0 means "changes committed after Watch returns". Each WatchResponse holds the events of one commit,
// sorted by key, one per key (its final state in that transaction; a key created and removed within it yields
// none). A response with no events is a progress notification: every change under prefix up to its Revision has
// been delivered. Backends send them for commits that touch nothing under prefix (coalesced when the reader is
// behind), so a watch that has caught up reaches the store's current revision even when nothing under its prefix
// changed — which is what lets a cache wait until it has applied revision R. (bbolt fans each commit out in
// process; an etcd backend would watch its whole key space once and fan out the same way.)
//
// Backends keep a bounded history. Watch returns ErrCompacted when from is older than what the backend retains,
// and a watch whose reader falls too far behind ends with a final response whose Err is ErrLagged (which
// errors.Is ErrCompacted). Either way the caller re-lists and watches again, the way an etcd client does:
//
//	var rev int64
//	err := s.View(ctx, func(tx store.Tx) error {
//		rev = tx.Revision()
//		return tx.Scan(prefix, "", load) // rebuild the cache from scratch
//	})
//	ch, err := s.Watch(ctx, prefix, rev+1)
//	for resp := range ch {
//		if resp.Err != nil { /* errors.Is(resp.Err, store.ErrCompacted): re-list */ }
//		apply(resp.Events); applied = resp.Revision
//	}
//
// Cancelling ctx ends a watch: its channel is closed without an error response. Closing the store ends every
// watch with an ErrClosed response.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// ErrNotFound is returned by Tx.Get for a missing key.
var ErrNotFound = errors.New("store: key not found")

// ErrReadOnly is returned by writes inside View.
var ErrReadOnly = errors.New("store: write in a read-only transaction")

// ErrCompacted is returned by Watch when the requested revision is older than the history the backend retains
// (etcd's ErrCompacted). The caller re-lists: it reads the state and its Tx.Revision in one View, then watches
// from that revision + 1.
var ErrCompacted = errors.New("store: required revision has been compacted")

// ErrLagged ends a watch whose reader fell so far behind that the backend stopped buffering for it. It wraps
// ErrCompacted: the caller recovers the same way, by re-listing.
var ErrLagged = fmt.Errorf("store: watcher fell behind: %w", ErrCompacted)

// ErrClosed is returned by Watch on a closed store, and ends every watch when the store closes.
var ErrClosed = errors.New("store: closed")

// Store is a transactional ordered key-value store.
type Store interface {
	// View runs fn in a read-only, consistent snapshot.
	View(ctx context.Context, fn func(Tx) error) error
	// Update runs fn in a serializable read-write transaction. If fn returns an error nothing is written and the
	// error is returned unchanged; otherwise the writes are durable when Update returns nil.
	// fn may be run more than once (see the package doc), so it must have no effect outside the transaction.
	Update(ctx context.Context, fn func(Tx) error) error
	// UpdateRev is Update that also reports the revision the transaction committed at, or, when fn changed
	// nothing, the revision it read. rev is 0 when err is not nil.
	UpdateRev(ctx context.Context, fn func(Tx) error) (rev int64, err error)
	// Watch streams the changes to keys under prefix committed at revision fromRevision or later (fromRevision
	// <= 0: from the next commit on), one WatchResponse per commit, in revision order. It returns ErrCompacted
	// when fromRevision is older than the retained history. The channel is closed when ctx is done, or after a
	// final response whose Err says why the backend ended the watch (ErrLagged, ErrClosed). The caller must
	// cancel ctx once it stops reading.
	Watch(ctx context.Context, prefix string, fromRevision int64) (<-chan WatchResponse, error)
	// Close releases the store and ends every watch. Transactions must not be running.
	Close() error
}

// EventType says whether an Event set or removed its key.
type EventType int

const (
	// EventPut: the key was created or set (to Event.Value).
	EventPut EventType = iota + 1
	// EventDelete: the key was removed.
	EventDelete
)

func (t EventType) String() string {
	switch t {
	case EventPut:
		return "PUT"
	case EventDelete:
		return "DELETE"
	}
	return fmt.Sprintf("EventType(%d)", int(t))
}

// Event is one key's change in one commit.
type Event struct {
	Type EventType
	Key  string
	// Value is the new value of a Put (nil for a Delete). It is shared with other watchers: read it, never modify it.
	Value []byte
	// Revision is the revision of the commit that made the change (etcd's mod revision).
	Revision int64
}

// WatchResponse is what a watch delivers: the events of one commit, or a progress notification, or the error that
// ends the watch.
type WatchResponse struct {
	// Revision is the commit's revision; for a progress notification, the revision up to which every change under
	// the prefix has been delivered.
	Revision int64
	// Events are the commit's changes under the watched prefix, sorted by key, one per key; empty for a progress
	// notification or an error.
	Events []Event
	// Err, when set, is the reason the watch ended (ErrLagged, ErrClosed); it is the last response on the channel.
	Err error
}

// Tx is a transaction. Byte slices it returns are valid only until the transaction ends.
type Tx interface {
	// Revision is the revision of the committed state the transaction reads (its own writes aside).
	Revision() int64
	// Get returns the value of key or ErrNotFound.
	Get(key string) ([]byte, error)
	// Put sets key to value.
	Put(key string, value []byte) error
	// Delete removes key; deleting a missing key is not an error.
	Delete(key string) error
	// Scan visits the keys that start with prefix in ascending byte order, beginning strictly after `after` when it
	// is non-empty, until fn returns false or an error (which Scan returns). Seeks, so the cost is O(log n + visited).
	Scan(prefix, after string, fn func(key string, value []byte) (more bool, err error)) error
}

// GetJSON decodes the JSON record at key into v.
func GetJSON(tx Tx, key string, v any) error {
	b, err := tx.Get(key)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// PutJSON encodes v as JSON at key.
func PutJSON(tx Tx, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return tx.Put(key, b)
}

// Exists reports whether key is present.
func Exists(tx Tx, key string) (bool, error) {
	_, err := tx.Get(key)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// CurrentRevision returns the store's latest committed revision.
func CurrentRevision(ctx context.Context, s Store) (int64, error) {
	var rev int64
	err := s.View(ctx, func(tx Tx) error { rev = tx.Revision(); return nil })
	return rev, err
}

// Fence makes a context's writes conditional on a leadership still being held, so that a deposed leader cannot
// overwrite what its successor wrote (cluster mode; see package cluster). Key and Revision name the leader's
// election key and the revision that created it: a backend commits a fenced transaction only while that key
// still exists with that create revision, and otherwise fails it with ErrFenced. A backend whose process is the
// only writer (bbolt) has no one to be fenced from and ignores fences.
type Fence struct {
	Key      string
	Revision int64
}

// ErrFenced fails a fenced transaction whose leadership was lost; nothing was written.
var ErrFenced = errors.New("store: leadership lost; write refused")

type fenceKey struct{}

// WithFence returns a context whose Update and UpdateRev calls are fenced by f.
func WithFence(ctx context.Context, f Fence) context.Context {
	return context.WithValue(ctx, fenceKey{}, f)
}

// FenceOf returns the fence of ctx, if any.
func FenceOf(ctx context.Context) (Fence, bool) {
	f, ok := ctx.Value(fenceKey{}).(Fence)
	return f, ok
}
