// Package replica spreads S3 object bodies (blobstore blobs) over the nodes of a cluster, as codestore/replica does
// for code packages, but streaming: a blob may be gigabytes, so nothing holds one in memory.
//
//   - Replicate: once a blob is durable here, it is pushed (PUT PathPrefix + "<hex sha256>", streamed from its file)
//     to one other live node, trying the peers in turn, before the caller commits the record naming it, so an
//     acknowledged object has two copies; alone in the cluster, one (logged once). When live peers exist and none
//     takes it, Replicate fails and the upload is answered 500 (the client retries).
//   - Open and Touch: a node lacking a blob fetches it from the live peers in turn (GET, streamed into a
//     blobstore writer and kept only if its SHA-256 is the name), one fetch per blob however many need it.
//   - Handler: serves the local blob (GET; never fetches for a peer, so requests cannot loop) and takes a pushed
//     one (PUT; refused unless its SHA-256 is the name). Mount it behind cluster.PeersOnly.
//
// Each node sweeps its own blobs against the records (blobstore.Sweep), so copies no record names go everywhere.
package replica

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluice-dev/sluice/internal/blobstore"
	"github.com/sluice-dev/sluice/internal/cluster"
)

// PathPrefix is where a node serves its blobs to its peers.
const PathPrefix = "/_sluice/cluster/blob/"

// Peers is the part of the cluster membership a Replica uses; *cluster.Cluster has it.
type Peers interface {
	Peers() []cluster.Node
	Call(ctx context.Context, node cluster.Node, method, path string, body io.Reader) (*http.Response, error)
}

var _ Peers = (*cluster.Cluster)(nil)

// Options configures a Replica.
type Options struct {
	Local *blobstore.Store
	Peers Peers
	// MaxBlob bounds a blob received or fetched (the largest object: 5 TiB by default).
	MaxBlob int64
	// IdleTimeout cuts a transfer that moves no byte for this long (default 1 minute).
	IdleTimeout time.Duration
	Logger      *slog.Logger
}

// Replica is a node's blob store in cluster mode.
type Replica struct {
	local   *blobstore.Store
	peers   Peers
	max     int64
	idle    time.Duration
	log     *slog.Logger
	alone   atomic.Bool
	mu      sync.Mutex
	flights map[string]*flight
}

type flight struct {
	done chan struct{}
	err  error
}

// New returns a Replica over o.Local.
func New(o Options) *Replica {
	if o.MaxBlob <= 0 {
		o.MaxBlob = 5 << 40
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Replica{local: o.Local, peers: o.Peers, max: o.MaxBlob, idle: o.IdleTimeout,
		log: o.Logger.With("component", "blobreplica"), flights: map[string]*flight{}}
}

// Create starts a blob on this node.
func (r *Replica) Create(limit int64) (*blobstore.Writer, error) { return r.local.Create(limit) }

// Replicate pushes a local blob to one other live node (see the package doc).
func (r *Replica) Replicate(ctx context.Context, sha string) error {
	peers := r.ordered(sha)
	if len(peers) == 0 {
		if !r.alone.Swap(true) {
			r.log.Warn("no other live node: S3 objects are acknowledged with one copy until another node joins")
		}
		return nil
	}
	var errs []error
	for _, p := range peers {
		err := r.push(ctx, p, sha)
		if err == nil {
			r.alone.Store(false)
			return nil
		}
		r.log.Warn("push blob to peer", "peer", p.Name, "sha256", sha, "err", err)
		errs = append(errs, err)
	}
	return fmt.Errorf("replicate blob %s: no live peer took it: %w", sha, errors.Join(errs...))
}

func (r *Replica) push(ctx context.Context, p cluster.Node, sha string) error {
	f, err := r.local.Open(sha)
	if err != nil {
		return err
	}
	defer f.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	resp, err := r.peers.Call(ctx, p, http.MethodPut, PathPrefix+sha, r.watchdog(ctx, cancel, f))
	if err != nil {
		return err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	return nil
}

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

// Fetch makes sure this node holds a blob; concurrent calls share one fetch. blobstore.ErrNotFound (wrapped) when
// no live peer has it.
func (r *Replica) Fetch(ctx context.Context, sha string) error {
	if !blobstore.ValidName(sha) {
		return blobstore.ErrNotFound
	}
	if r.local.Has(sha) {
		return nil
	}
	r.mu.Lock()
	f, ok := r.flights[sha]
	if !ok {
		f = &flight{done: make(chan struct{})}
		r.flights[sha] = f
		go func() {
			f.err = r.fetch(sha)
			r.mu.Lock()
			delete(r.flights, sha)
			r.mu.Unlock()
			close(f.done)
		}()
	}
	r.mu.Unlock()
	select {
	case <-f.done:
		return f.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (r *Replica) fetch(sha string) error {
	var errs []error
	for _, p := range r.ordered(sha) {
		err := r.fetchFrom(p, sha)
		if err == nil {
			r.log.Info("blob fetched from peer", "peer", p.Name, "sha256", sha)
			return nil
		}
		errs = append(errs, err)
	}
	return fmt.Errorf("%w: %s on no live peer (%d asked): %w", blobstore.ErrNotFound, sha, len(errs), errors.Join(errs...))
}

func (r *Replica) fetchFrom(p cluster.Node, sha string) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	resp, err := r.peers.Call(ctx, p, http.MethodGet, PathPrefix+sha, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return r.store(r.watchdog(ctx, cancel, resp.Body), resp.ContentLength, sha)
}

// store streams a transferred body into a blob kept only when its SHA-256 is sha.
func (r *Replica) store(body io.Reader, length int64, sha string) error {
	if length > r.max {
		return fmt.Errorf("blob of %d bytes is larger than %d", length, r.max)
	}
	w, err := r.local.Create(r.max)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, body); err != nil {
		w.Abort()
		return err
	}
	_, err = w.CommitAs(sha)
	return err
}

// Handler serves this node's blobs to its peers (GET) and takes the ones they push (PUT) at PathPrefix + "<hex>".
func (r *Replica) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		sha := strings.TrimPrefix(req.URL.Path, PathPrefix)
		if !blobstore.ValidName(sha) {
			http.Error(w, "not a blob name", http.StatusNotFound)
			return
		}
		switch req.Method {
		case http.MethodGet, http.MethodHead:
			f, err := r.local.Open(sha)
			if err != nil {
				http.Error(w, "blob not on this node", http.StatusNotFound)
				return
			}
			defer f.Close()
			fi, err := f.Stat()
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			http.ServeContent(w, req, "", fi.ModTime(), f)
		case http.MethodPut:
			if err := r.store(req.Body, req.ContentLength, sha); err != nil {
				status := http.StatusInternalServerError
				if errors.Is(err, blobstore.ErrMismatch) || errors.Is(err, blobstore.ErrTooLarge) {
					status = http.StatusBadRequest
				}
				http.Error(w, err.Error(), status)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		default:
			w.Header().Set("Allow", "GET, HEAD, PUT")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		}
	})
}

// ordered lists the live peers starting at one picked by the blob's name, so transfers spread over the nodes.
func (r *Replica) ordered(sha string) []cluster.Node {
	peers := r.peers.Peers()
	if len(peers) < 2 {
		return peers
	}
	f := fnv.New32a()
	f.Write([]byte(sha))
	i := int(f.Sum32() % uint32(len(peers)))
	return append(peers[i:len(peers):len(peers)], peers[:i]...)
}

// watchdog passes a transfer's bytes through and cancels it when none moved for the idle timeout.
func (r *Replica) watchdog(ctx context.Context, cancel context.CancelFunc, src io.Reader) io.Reader {
	t := time.AfterFunc(r.idle, cancel)
	go func() { <-ctx.Done(); t.Stop() }()
	return &idleReader{r: src, t: t, d: r.idle}
}

type idleReader struct {
	r io.Reader
	t *time.Timer
	d time.Duration
}

func (i *idleReader) Read(b []byte) (int, error) {
	n, err := i.r.Read(b)
	if n > 0 {
		i.t.Reset(i.d)
	}
	return n, err
}
