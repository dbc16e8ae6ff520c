// Package etcd implements store.Store on an etcd cluster (go.etcd.io/etcd/client/v3): the backend of cluster mode,
// where every Sluice process shares one store. It owns the mapping of store keys to etcd keys, the optimistic
// transactions, and the watch; it owns no cluster membership or leadership (those are separate etcd patterns).
//
// Every store key lives at Prefix + "/" + key. The etcd key Prefix + "/" itself (store key "", which is reserved)
// is the commit marker: every committing transaction puts it, so every commit — by any Sluice process — shows up
// as an event on a watch of Prefix + "/".
//
// # Revisions
//
// The store's revision is etcd's cluster revision: one etcd Txn per committing transaction, so each commit takes
// the next revision, and writes by other Sluice processes (or other users of the cluster) also advance it —
// callers may rely only on revisions increasing. A transaction that changes nothing sends no Txn. Tx.Revision is
// the last Sluice commit's revision at the snapshot (the commit marker's mod revision), not etcd's, which writes
// outside the store (package cluster's) also advance and which no store watch would ever deliver.
//
// # Transactions
//
// View is a consistent read at one revision R: the first read is a linearizable read at the current revision and
// fixes R (Tx.Revision fixes it if called first); every later read asks for WithRev(R).
//
// Update is optimistic concurrency control. The closure runs against the snapshot at R; its writes are buffered
// (its reads, Scan included, see them), and on success the buffer is committed by one etcd Txn whose If-compares
// prove that nothing the closure read changed after R. If a compare fails the closure runs again on a fresh
// snapshot (which is why store.Update closures must be re-runnable); after the first retries it backs off with
// jitter so that contending writers spread out. Optimistic concurrency has no fairness: a transaction that scans
// a range other processes keep writing to may retry until they pause. The compares are:
//
//   - a key read by Get (or Delete, which must know whether the key exists to know whether the transaction changes
//     anything): ModRevision(key) = the mod revision seen at R, 0 when it was missing. This catches a change, a
//     delete and a creation.
//   - a range visited by Scan, from its start up to the last key the callback saw (or the end of the prefix):
//     ModRevision < R+1 over the whole range, which catches a key created or changed in it after R, and, for each
//     key seen, ModRevision(key) = the mod revision seen at R, which catches a key deleted from it (a deleted key
//     is invisible to the range compare).
//
// etcd bounds the compares of one Txn by --max-txn-ops (Config.MaxTxnOps must state the server's value). A
// transaction whose compares would exceed it — a scan over many keys — falls back to one compare on the commit
// marker, ModRevision(marker) < R+1: it commits only if no Sluice transaction at all committed after R. That is
// sound because every commit puts the marker, and costly only in that such a transaction conflicts with every
// concurrent writer, so under a steady write load it may retry several times; transactions that stay under the
// limit conflict only with writers of what they read.
//
// A Txn also carries at most MaxTxnOps writes (the marker is one of them), and etcd refuses requests over
// --max-request-bytes (1.5 MiB by default). A transaction that exceeds either fails with ErrTxnTooLarge or etcd's
// error instead of being split, which would break its atomicity: run Sluice's etcd with --max-txn-ops at least
// the largest transaction Sluice writes (1024 is ample; the tests use it) and set Config.MaxTxnOps to match.
// A Txn whose outcome is unknown (the connection dropped after it was sent) returns its error: re-running it
// could apply a non-idempotent closure twice.
//
// # Watch
//
// Each Watch opens one etcd watch over the whole of Prefix + "/" from the requested revision and filters it in
// process to the requested prefix. Because every commit puts the commit marker, every Sluice commit reaches every
// watch: the events under the prefix as one store.WatchResponse per revision (sorted by key), a commit that
// touches nothing under it as a progress notification (coalesced while the reader is behind). The trade-off is
// that each watch receives every commit's events, not just its prefix's — fine for the handful of watch-fed
// caches a process runs; one shared etcd watch fanned out in process is the upgrade path if that changes.
// Commits by other users of the etcd cluster outside Prefix advance the revision without an event; a watch learns
// of them only from etcd's periodic progress notifications (--experimental-watch-progress-notify-interval,
// 10 minutes by default), so give Sluice a cluster of its own or lower that interval. (Client-requested progress,
// RequestProgress, is not used: etcd before 3.4.25/3.5.8 could answer it ahead of undelivered events.)
//
// Watch returns store.ErrCompacted when the start revision was compacted; a watch that etcd compacts under it, or
// cancels (no leader), ends with an error that errors.Is store.ErrCompacted, so the caller re-lists. A reader
// that falls Config.WatchBufferResponses responses (or WatchBufferBytes) behind ends with store.ErrLagged.
// Close ends every watch with store.ErrClosed.
//
// # Fencing
//
// A transaction whose context carries a store.Fence (a leader's write) also compares the fence key's create
// revision; when the commit fails and the fence key is gone or was re-created, Update returns store.ErrFenced
// instead of running the closure again. Fence keys live outside Prefix + "/" (package cluster keeps its keys
// under Prefix + ".cluster/").
//
// Only Sluice stores may write under Prefix: a foreign write there would not put the commit marker, so a
// transaction on the fallback path would miss it.
package etcd

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/sluice-dev/sluice/internal/store"
)

// Config says which etcd cluster to use and where in it Sluice's keys live.
type Config struct {
	// Endpoints are the etcd client URLs, e.g. "http://10.0.0.1:2379".
	Endpoints []string
	// Prefix is the etcd key prefix of every store key; "" means "/sluice". Stores sharing a prefix share state.
	Prefix string
	// TLS, Username and Password are optional credentials for the cluster.
	TLS      *tls.Config
	Username string
	Password string
	// DialTimeout bounds connecting in Open; 0 means 5s.
	DialTimeout time.Duration
	// MaxTxnOps is the cluster's --max-txn-ops: the most compares and the most writes one Txn may carry.
	// 0 means 128, etcd's default.
	MaxTxnOps int
	// WatchBufferResponses is how many undelivered responses a watch may hold before it ends with
	// store.ErrLagged; 0 means 4096.
	WatchBufferResponses int
	// WatchBufferBytes caps the keys and values those responses hold; 0 means 16 MiB.
	WatchBufferBytes int
	// MaxValueBytes is the largest value stored inline; larger ones are kept out of line in chunks of this size
	// (see values.go). 0 means 512 KiB, well under etcd's default --max-request-bytes.
	MaxValueBytes int
	// ValueGrace is how long the chunks of a superseded large value are kept, and how often they are swept;
	// 0 means 10 minutes.
	ValueGrace time.Duration
}

func (c Config) withDefaults() Config {
	if c.Prefix == "" {
		c.Prefix = "/sluice"
	}
	c.Prefix = strings.TrimSuffix(c.Prefix, "/")
	if c.DialTimeout <= 0 {
		c.DialTimeout = 5 * time.Second
	}
	if c.MaxTxnOps <= 0 {
		c.MaxTxnOps = 128
	}
	if c.WatchBufferResponses <= 0 {
		c.WatchBufferResponses = 4096
	}
	if c.WatchBufferBytes <= 0 {
		c.WatchBufferBytes = 16 << 20
	}
	if c.MaxValueBytes <= 0 {
		c.MaxValueBytes = 512 << 10
	}
	if c.ValueGrace <= 0 {
		c.ValueGrace = 10 * time.Minute
	}
	return c
}

// ErrTxnTooLarge is returned by Update when a transaction writes more keys than one etcd Txn may carry
// (Config.MaxTxnOps, the marker included).
var ErrTxnTooLarge = errors.New("etcd store: transaction writes more keys than --max-txn-ops allows")

// errReservedKey is returned for the empty key, whose etcd key is the commit marker.
var errReservedKey = errors.New("etcd store: the empty key is reserved")

// Store is an etcd-backed store.Store.
type Store struct {
	client *clientv3.Client
	cfg    Config
	// root is Prefix + "/": every etcd key of the store starts with it, and root itself is the commit marker.
	root string

	mu     sync.Mutex
	closed bool
	done   chan struct{} // closed by Close, before the client is

	// reruns counts the closures run again because their snapshot went stale (tests check the conflict path).
	reruns atomic.Int64
	// now is the clock large values' chunks are dated by (tests step it).
	now func() time.Time
}

var _ store.Store = (*Store)(nil)

// Open connects to the cluster and checks that it answers.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	cfg = cfg.withDefaults()
	client, err := clientv3.New(clientv3.Config{
		Endpoints:   cfg.Endpoints,
		DialTimeout: cfg.DialTimeout,
		TLS:         cfg.TLS,
		Username:    cfg.Username,
		Password:    cfg.Password,
		Context:     context.WithoutCancel(ctx),
	})
	if err != nil {
		return nil, fmt.Errorf("etcd store: connect to %v: %w", cfg.Endpoints, err)
	}
	s := &Store{client: client, cfg: cfg, root: cfg.Prefix + "/", done: make(chan struct{}), now: time.Now}
	cctx, cancel := context.WithTimeout(ctx, cfg.DialTimeout)
	defer cancel()
	if _, err := client.Get(cctx, s.root, clientv3.WithKeysOnly()); err != nil {
		client.Close()
		return nil, fmt.Errorf("etcd store: read from %v: %w", cfg.Endpoints, err)
	}
	go s.sweepLoop()
	return s, nil
}

// Close ends every watch with store.ErrClosed and disconnects. Transactions must not be running.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.done)
	s.mu.Unlock()
	// done is closed first, so a watch whose etcd channel the closed client ends sees it and reports ErrClosed.
	return s.client.Close()
}

// Client is the store's etcd client, shared with the cluster's membership and elections.
func (s *Store) Client() *clientv3.Client { return s.client }

// Compact discards etcd's history of revisions up to and including rev (the whole cluster's, not just this
// prefix's): a watch from rev or earlier then fails with store.ErrCompacted.
func (s *Store) Compact(ctx context.Context, rev int64) error {
	_, err := s.client.Compact(ctx, rev+1, clientv3.WithCompactPhysical())
	return err
}

func (s *Store) View(ctx context.Context, fn func(store.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	t := s.newTx(ctx, true)
	err := fn(t)
	if t.err != nil {
		return t.err
	}
	return err
}

func (s *Store) Update(ctx context.Context, fn func(store.Tx) error) error {
	_, err := s.UpdateRev(ctx, fn)
	return err
}

func (s *Store) UpdateRev(ctx context.Context, fn func(store.Tx) error) (int64, error) {
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		if attempt >= 2 {
			// Contending writers that keep invalidating each other spread out.
			backoff := time.Duration(rand.Int64N(int64(min(time.Millisecond<<min(attempt, 7), 100*time.Millisecond))))
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
				return 0, ctx.Err()
			}
		}
		t := s.newTx(ctx, false)
		err := fn(t)
		if t.stale {
			// The snapshot was compacted under the closure: its result means nothing, run it again.
			s.reruns.Add(1)
			continue
		}
		if t.err != nil {
			return 0, t.err
		}
		if err != nil {
			return 0, err
		}
		rev, committed, err := t.commit()
		if err != nil {
			return 0, err
		}
		if committed {
			return rev, nil
		}
		s.reruns.Add(1)
	}
}

// commitOps turns the write buffer into the Txn's writes: puts (a large value's chunks written first, see
// values.go), and deletes of keys that existed at the snapshot. None means the transaction changes nothing.
func (t *tx) commitOps() ([]clientv3.Op, error) {
	keys := make([]string, 0, len(t.writes))
	for k := range t.writes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var ops []clientv3.Op
	for _, k := range keys {
		w := t.writes[k]
		switch {
		case !w.deleted:
			v, err := t.s.encodeValue(t.ctx, k, w.value)
			if err != nil {
				return nil, err
			}
			ops = append(ops, clientv3.OpPut(k, string(v)))
		case t.reads[k].modRev != 0:
			ops = append(ops, clientv3.OpDelete(k))
		}
	}
	return ops, nil
}

// commit sends the transaction's writes conditioned on its reads. committed is false when a compare failed.
func (t *tx) commit() (rev int64, committed bool, err error) {
	ops, err := t.commitOps()
	if err != nil {
		return 0, false, err
	}
	if len(ops) == 0 {
		// Nothing changes: the transaction is serialized at its snapshot and takes no revision.
		rev := t.Revision()
		return rev, true, t.err
	}
	ops = append(ops, clientv3.OpPut(t.s.root, ""))
	if len(ops) > t.s.cfg.MaxTxnOps {
		return 0, false, fmt.Errorf("%w: %d writes, the limit is %d", ErrTxnTooLarge, len(ops), t.s.cfg.MaxTxnOps)
	}
	cmps := t.compares()
	fence, fenced := store.FenceOf(t.ctx)
	if fenced {
		cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(fence.Key), "=", fence.Revision))
	}
	resp, err := t.s.client.Txn(t.ctx).If(cmps...).Then(ops...).Commit()
	if err != nil {
		return 0, false, fmt.Errorf("etcd store: commit: %w", err)
	}
	if !resp.Succeeded && fenced {
		// A failed compare is either a conflict (run the closure again) or the lost leadership (stop).
		held, err := t.s.client.Get(t.ctx, fence.Key, clientv3.WithKeysOnly())
		if err != nil {
			return 0, false, fmt.Errorf("etcd store: check fence: %w", err)
		}
		if len(held.Kvs) == 0 || held.Kvs[0].CreateRevision != fence.Revision {
			return 0, false, store.ErrFenced
		}
	}
	return resp.Header.Revision, resp.Succeeded, nil
}

// compares proves that nothing the transaction read changed after its snapshot (see the package doc).
func (t *tx) compares() []clientv3.Cmp {
	if len(t.reads) == 0 && len(t.ranges) == 0 {
		return nil // blind writes: serializable at the commit, whatever happened since
	}
	cmps := make([]clientv3.Cmp, 0, len(t.reads)+len(t.ranges))
	for k, r := range t.reads {
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(k), "=", r.modRev))
	}
	for _, r := range t.ranges {
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(r.start), "<", t.rev+1).WithRange(r.end))
	}
	if len(cmps) > t.s.cfg.MaxTxnOps-1 { // one compare is kept for a fence
		// Too many to send: commit only if no Sluice transaction committed since the snapshot.
		return []clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(t.s.root), "<", t.rev+1)}
	}
	return cmps
}

// isCompacted reports whether err is etcd refusing a read at a compacted revision.
func isCompacted(err error) bool { return errors.Is(err, rpctypes.ErrCompacted) }
