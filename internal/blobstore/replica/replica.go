// Package replica spreads S3 object bodies (blobstore blobs) over the nodes of a cluster with the cluster's one
// blob replication mechanism (internal/cluster/replicate: two durable copies before a record names a blob, fetch
// from a peer on need, one fetch per blob). Transfers stream: a blob may be gigabytes, so nothing holds one in
// memory. Each node sweeps its own blobs against the records (blobstore.Sweep), so copies no record names go
// everywhere.
package replica

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/sluice-dev/sluice/internal/blobstore"
	"github.com/sluice-dev/sluice/internal/cluster/replicate"
)

// PathPrefix is where a node serves its blobs to its peers.
const PathPrefix = "/_sluice/cluster/blob/"

// Options configures a Replica.
type Options struct {
	Local *blobstore.Store
	Peers replicate.Peers
	// MaxBlob bounds a blob received or fetched (the largest object: 5 TiB by default).
	MaxBlob int64
	// IdleTimeout cuts a transfer that moves no byte for this long (default 1 minute).
	IdleTimeout time.Duration
	Logger      *slog.Logger
}

// Replica is a node's blob store in cluster mode.
type Replica struct {
	local *blobstore.Store
	repl  *replicate.Replicator
}

// New returns a Replica over o.Local.
func New(o Options) *Replica {
	if o.MaxBlob <= 0 {
		o.MaxBlob = 5 << 40
	}
	l := local{Store: o.Local, max: o.MaxBlob}
	return &Replica{local: o.Local, repl: replicate.New(replicate.Options{Local: l, Peers: o.Peers,
		Prefix: PathPrefix, What: "S3 object", IdleTimeout: o.IdleTimeout, Logger: o.Logger})}
}

// Create starts a blob on this node.
func (r *Replica) Create(limit int64) (*blobstore.Writer, error) { return r.local.Create(limit) }

// Replicate pushes a local blob to one other live node before the record naming it is committed.
func (r *Replica) Replicate(ctx context.Context, sha string) error { return r.repl.Replicate(ctx, sha) }

// Open opens a blob, fetching it from a peer first when this node lacks it.
func (r *Replica) Open(ctx context.Context, sha string) (*os.File, error) {
	if f, err := r.local.Open(sha); !errors.Is(err, blobstore.ErrNotFound) {
		return f, err
	}
	if err := r.Fetch(ctx, sha); err != nil {
		return nil, err
	}
	return r.local.Open(sha)
}

// Touch restarts a blob's grace period here, fetching it first when this node lacks it.
func (r *Replica) Touch(ctx context.Context, sha string) error {
	if err := r.local.Touch(sha); !errors.Is(err, blobstore.ErrNotFound) {
		return err
	}
	if err := r.Fetch(ctx, sha); err != nil {
		return err
	}
	return r.local.Touch(sha)
}

// Fetch makes sure this node holds a blob; blobstore.ErrNotFound (wrapped) when no live peer has it.
func (r *Replica) Fetch(ctx context.Context, sha string) error {
	if !blobstore.ValidName(sha) {
		return blobstore.ErrNotFound
	}
	err := r.repl.Fetch(ctx, sha)
	if errors.Is(err, replicate.ErrNotFound) {
		return fmt.Errorf("%w: %w", blobstore.ErrNotFound, err)
	}
	return err
}

// Handler serves this node's blobs to its peers and takes the ones they push; mount it behind cluster.PeersOnly.
func (r *Replica) Handler() http.Handler { return r.repl.Handler() }

// local is the blob store as the replicator sees it: a received body streams into a writer kept only when its
// SHA-256 is its name.
type local struct {
	*blobstore.Store
	max int64
}

func (l local) Receive(sha string, body io.Reader, length int64) error {
	if length > l.max {
		return fmt.Errorf("%w: %d bytes, at most %d", replicate.ErrTooLarge, length, l.max)
	}
	w, err := l.Create(l.max)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, body); err != nil {
		w.Abort()
		if errors.Is(err, blobstore.ErrTooLarge) {
			return fmt.Errorf("%w: %w", replicate.ErrTooLarge, err)
		}
		return err
	}
	if _, err := w.CommitAs(sha); err != nil {
		if errors.Is(err, blobstore.ErrMismatch) {
			return fmt.Errorf("%w: %w", replicate.ErrMismatch, err)
		}
		return err
	}
	return nil
}
