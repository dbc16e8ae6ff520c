// Package replicate spreads content-addressed blobs over the nodes of a cluster: the one mechanism behind both code
// packages (codestore/replica) and S3 object bodies (blobstore/replica). A blob is named by the lowercase hex of
// its SHA-256, so any copy is as good as any other and every copy can be checked against its name; the bytes never
// go through etcd (it refuses values over ~1.5 MB), only the records naming them do.
//
//   - Replicate: once a blob is durable on this node, it is pushed (PUT prefix + name, streamed from its file) to
//     one other live node, trying the peers in turn, before the caller acknowledges the write that names it, so an
//     acknowledged blob has two durable copies. Alone in the cluster there is nobody to push to: the write is
//     acknowledged with one copy and a warning is logged once (again only after a push has succeeded since). When
//     live peers exist and none takes the blob, Replicate fails (the caller answers 500 and the client retries).
//   - Fetch: a node lacking a blob asks the live peers in turn (GET), and keeps an answer only if its SHA-256 is the
//     name (a wrong answer is refused and the next peer asked). Concurrent needs of one blob share one fetch; a
//     node that fetched a blob is one more copy.
//   - Handler: serves the local blob (GET, streamed from its file; never fetches on behalf of a peer, so requests
//     cannot loop) and takes a pushed one (PUT: 400 unless its SHA-256 is the name or when the local store rejects
//     it, 413 past its size limit, 204 once durable). Mount it behind cluster.PeersOnly: only requests signed with
//     the cluster's secret reach it. Bodies are not signed; the content address is what makes them trustworthy.
//
// Peers are tried starting at one picked by the name, so transfers of different blobs spread over the nodes while
// every node tries the same order for one blob. A transfer that moves no byte for the idle timeout is cut.
package replicate

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

	"github.com/sluice-dev/sluice/internal/cluster"
)

// Why a received or fetched blob is refused; a Local's Receive wraps one of these.
var (
	// ErrTooLarge: the body is larger than the local store takes.
	ErrTooLarge = errors.New("blob larger than the limit")
	// ErrMismatch: the body's SHA-256 is not its name.
	ErrMismatch = errors.New("blob does not match its SHA-256")
	// ErrRejected: the local store refuses the content (for example, a code package that is not a valid zip).
	ErrRejected = errors.New("blob rejected")
	// ErrNotFound: no live peer holds the blob.
	ErrNotFound = errors.New("blob on no live peer")
)

// Local is one node's store of content-addressed blobs.
type Local interface {
	// Has reports whether this node holds the blob.
	Has(name string) bool
	// Open opens the local blob for reading.
	Open(name string) (*os.File, error)
	// Receive stores body as the blob named name, durably, checking that its SHA-256 is name: an error wrapping
	// ErrMismatch when it is not, ErrTooLarge past the store's limit (length is the declared size, -1 unknown),
	// ErrRejected when the content is refused; nothing is kept then.
	Receive(name string, body io.Reader, length int64) error
}

// Peers is the part of the cluster membership a Replicator uses; *cluster.Cluster has it.
type Peers interface {
	// Peers lists the live nodes other than this one.
	Peers() []cluster.Node
	// Call sends a request authenticated as this node to node.URL + path and returns the response when its status
	// is 2xx; any other status is a *cluster.PeerError.
	Call(ctx context.Context, node cluster.Node, method, path string, body io.Reader) (*http.Response, error)
}

var _ Peers = (*cluster.Cluster)(nil)

// Options configures a Replicator. Zero optional fields take the documented defaults.
type Options struct {
	Local Local
	Peers Peers
	// Prefix is where nodes serve these blobs to each other: Prefix + name (for example "/_sluice/cluster/code/").
	Prefix string
	// What names the blobs in logs ("code package", "S3 object").
	What string
	// IdleTimeout cuts a transfer that moves no byte for this long (default 1 minute).
	IdleTimeout time.Duration
	// Transfers bounds the blobs coming into this node at once, fetched or received (0: unbounded); a Local that
	// holds a blob in memory while receiving it needs a bound.
	Transfers int
	Logger    *slog.Logger
}

// Replicator spreads one kind of blob over the cluster. It is safe for concurrent use.
type Replicator struct {
	o         Options
	log       *slog.Logger
	transfers chan struct{} // a token per blob coming into this node; nil when unbounded

	alone atomic.Bool // the last Replicate found no peer to push to (logged once until a push succeeds)

	mu      sync.Mutex
	flights map[string]*flight // fetches in progress, by name
}

// flight is one fetch that every concurrent need of the same blob waits for.
type flight struct {
	done    chan struct{}
	err     error
	waiters int // callers waiting for it (guarded by Replicator.mu)
}

// New returns a Replicator.
func New(o Options) *Replicator {
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	r := &Replicator{o: o, log: o.Logger.With("component", "replicate", "blobs", o.What), flights: map[string]*flight{}}
	if o.Transfers > 0 {
		r.transfers = make(chan struct{}, o.Transfers)
	}
	return r
}

// Replicate pushes the local blob to one other live node (see the package doc).
func (r *Replicator) Replicate(ctx context.Context, name string) error {
	peers := r.ordered(name)
	if len(peers) == 0 {
		if !r.alone.Swap(true) {
			r.log.Warn("no other live node: writes are acknowledged with one copy until another node joins", "sha256", name)
		}
		return nil
	}
	var errs []error
	for _, p := range peers {
		err := r.push(ctx, p, name)
		if err == nil {
			r.alone.Store(false)
			return nil
		}
		r.log.Warn("push to peer", "peer", p.Name, "sha256", name, "err", err)
		errs = append(errs, err)
	}
	return fmt.Errorf("replicate %s %s: no live peer took it: %w", r.o.What, name, errors.Join(errs...))
}

func (r *Replicator) push(ctx context.Context, p cluster.Node, name string) error {
	f, err := r.o.Local.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	resp, err := r.o.Peers.Call(ctx, p, http.MethodPut, r.o.Prefix+name, r.watchdog(ctx, cancel, f))
	if err != nil {
		return err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	return nil
}

// Fetch makes sure this node holds the blob, fetching it from the live peers in turn when it does not. Concurrent
// calls for one blob share one fetch; a caller whose ctx ends stops waiting while the fetch goes on for others. It
// returns an error wrapping ErrNotFound when no live peer has the blob.
func (r *Replicator) Fetch(ctx context.Context, name string) error {
	if r.o.Local.Has(name) {
		return nil
	}
	r.mu.Lock()
	f, ok := r.flights[name]
	if !ok {
		f = &flight{done: make(chan struct{})}
		r.flights[name] = f
		go func() {
			f.err = r.fetch(name)
			r.mu.Lock()
			delete(r.flights, name)
			r.mu.Unlock()
			close(f.done)
		}()
	}
	f.waiters++
	r.mu.Unlock()
	select {
	case <-f.done:
		return f.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (r *Replicator) fetch(name string) error {
	if r.o.Local.Has(name) { // arrived (pushed, fetched) while this flight was being set up
		return nil
	}
	release := r.acquire(context.Background())
	defer release()
	var errs []error
	for _, p := range r.ordered(name) {
		err := r.fetchFrom(p, name)
		if err == nil {
			r.log.Info("fetched from peer", "peer", p.Name, "sha256", name)
			return nil
		}
		if !isNotFound(err) {
			r.log.Warn("fetch from peer", "peer", p.Name, "sha256", name, "err", err)
		}
		errs = append(errs, err)
	}
	return fmt.Errorf("%w: %s %s (%d asked): %w", ErrNotFound, r.o.What, name, len(errs), errors.Join(errs...))
}

func (r *Replicator) fetchFrom(p cluster.Node, name string) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	resp, err := r.o.Peers.Call(ctx, p, http.MethodGet, r.o.Prefix+name, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := r.o.Local.Receive(name, r.watchdog(ctx, cancel, resp.Body), resp.ContentLength); err != nil {
		return fmt.Errorf("node %s: %w", p.Name, err)
	}
	return nil
}

// acquire takes a transfer token (when transfers are bounded) and returns its release; with ctx ended it returns
// nil.
func (r *Replicator) acquire(ctx context.Context) (release func()) {
	if r.transfers == nil {
		return func() {}
	}
	select {
	case r.transfers <- struct{}{}:
		return func() { <-r.transfers }
	case <-ctx.Done():
		return nil
	}
}

// Handler serves this node's blobs to its peers (GET, HEAD) and takes the ones they push (PUT) at Prefix + name.
func (r *Replicator) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		name, ok := strings.CutPrefix(req.URL.Path, r.o.Prefix)
		if !ok || !ValidName(name) {
			http.Error(w, "not a blob name", http.StatusNotFound)
			return
		}
		switch req.Method {
		case http.MethodGet, http.MethodHead:
			r.serve(w, req, name)
		case http.MethodPut:
			r.receive(w, req, name)
		default:
			w.Header().Set("Allow", "GET, HEAD, PUT")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		}
	})
}

func (r *Replicator) serve(w http.ResponseWriter, req *http.Request, name string) {
	f, err := r.o.Local.Open(name)
	if err != nil {
		http.Error(w, r.o.What+" not on this node", http.StatusNotFound)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	http.ServeContent(w, req, "", fi.ModTime(), f)
}

func (r *Replicator) receive(w http.ResponseWriter, req *http.Request, name string) {
	release := r.acquire(req.Context())
	if release == nil {
		return
	}
	defer release()
	err := r.o.Local.Receive(name, req.Body, req.ContentLength)
	switch {
	case err == nil:
		w.WriteHeader(http.StatusNoContent)
	case errors.Is(err, ErrTooLarge):
		http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
	case errors.Is(err, ErrMismatch), errors.Is(err, ErrRejected):
		http.Error(w, err.Error(), http.StatusBadRequest)
	default:
		r.log.Error("store pushed blob", "sha256", name, "err", err)
		http.Error(w, "store "+r.o.What+": "+err.Error(), http.StatusInternalServerError)
	}
}

// ordered lists the live peers starting at one picked by the name.
func (r *Replicator) ordered(name string) []cluster.Node {
	peers := r.o.Peers.Peers()
	if len(peers) < 2 {
		return peers
	}
	f := fnv.New32a()
	f.Write([]byte(name))
	i := int(f.Sum32() % uint32(len(peers)))
	return append(peers[i:len(peers):len(peers)], peers[:i]...)
}

// watchdog passes a transfer's bytes through and cancels it when none moved for the idle timeout.
func (r *Replicator) watchdog(ctx context.Context, cancel context.CancelFunc, src io.Reader) io.Reader {
	t := time.AfterFunc(r.o.IdleTimeout, cancel)
	go func() { <-ctx.Done(); t.Stop() }()
	return &idleReader{r: src, t: t, d: r.o.IdleTimeout}
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

// ValidName reports whether s is a blob name: 64 lowercase hex digits.
func ValidName(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func isNotFound(err error) bool {
	var pe *cluster.PeerError
	return errors.As(err, &pe) && pe.Status == http.StatusNotFound
}
