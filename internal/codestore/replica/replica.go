package replica

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluice-dev/sluice/internal/cluster"
	"github.com/sluice-dev/sluice/internal/codestore"
)

// PathPrefix is where a node serves its blobs to its peers: PathPrefix + "<hex sha256>".
const PathPrefix = "/_sluice/cluster/code/"

// Peers is the part of the cluster membership a Replica uses; *cluster.Cluster has it.
type Peers interface {
	// Peers lists the live nodes other than this one.
	Peers() []cluster.Node
	// Call sends a request authenticated as this node to node.URL + path and returns the response when its
	// status is 2xx; any other status is an error.
	Call(ctx context.Context, node cluster.Node, method, path string, body io.Reader) (*http.Response, error)
}

var _ Peers = (*cluster.Cluster)(nil)

// Options configures a Replica. Zero optional fields take the documented defaults.
type Options struct {
	Local *codestore.Store
	Peers Peers
	// Limits bounds the packages received from peers and fetched from them (zero fields: codestore's defaults);
	// use the control plane's CodeLimits.
	Limits codestore.Limits
	// Timeout bounds one transfer with one peer, a push or a fetch (default 2 minutes).
	Timeout time.Duration
	// Transfers is how many packages may be coming into this node at once, fetched or received (default 2); each
	// holds up to Limits.MaxZipped bytes in memory.
	Transfers int
	Logger    *slog.Logger
}

// Replica is a node's code store in cluster mode. It is safe for concurrent use.
type Replica struct {
	local     *codestore.Store
	peers     Peers
	lim       codestore.Limits
	maxZipped int64
	timeout   time.Duration
	log       *slog.Logger
	transfers chan struct{} // a token per package being brought into this node

	alone atomic.Bool // the last upload found no peer to push to (logged once until a push succeeds)

	mu      sync.Mutex
	flights map[string]*flight // fetches in progress, by hex digest
}

// flight is one fetch that every concurrent need of the same package waits for.
type flight struct {
	done    chan struct{}
	err     error
	waiters int // callers waiting for it (guarded by Replica.mu)
}

// New returns a Replica over o.Local.
func New(o Options) *Replica {
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Minute
	}
	if o.Transfers <= 0 {
		o.Transfers = 2
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	maxZipped := o.Limits.MaxZipped
	if maxZipped <= 0 {
		maxZipped = codestore.DefaultMaxZipped
	}
	return &Replica{local: o.Local, peers: o.Peers, lim: o.Limits, maxZipped: maxZipped, timeout: o.Timeout,
		log: o.Logger.With("component", "codereplica"), transfers: make(chan struct{}, o.Transfers),
		flights: map[string]*flight{}}
}

// PutZip stores a package locally (codestore.Store.PutZip: validated, durable) and pushes it to one other live
// node before it returns, so a nil error means two nodes hold it — or one, when this node has no live peer (logged).
// It fails when live peers exist and none took the package; the local copy stays (it is content-addressed).
func (r *Replica) PutZip(zip []byte, lim codestore.Limits) (codestore.Info, error) {
	info, err := r.local.PutZip(zip, lim)
	if err != nil {
		return info, err
	}
	h, _ := hexOf(info.Sha256)
	peers := r.ordered(h)
	if len(peers) == 0 {
		if !r.alone.Swap(true) {
			r.log.Warn("no other live node: code packages are acknowledged with one copy until another node joins", "sha256", info.Sha256)
		}
		return info, nil
	}
	var errs []error
	for _, p := range peers {
		err := r.push(p, h, zip)
		if err == nil {
			r.alone.Store(false)
			return info, nil
		}
		r.log.Warn("push code package to peer", "peer", p.Name, "sha256", info.Sha256, "err", err)
		errs = append(errs, err)
	}
	return info, fmt.Errorf("replicate code package %s: no live peer took it: %w", info.Sha256, errors.Join(errs...))
}

func (r *Replica) push(p cluster.Node, h string, zip []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	defer cancel()
	resp, err := r.peers.Call(ctx, p, http.MethodPut, PathPrefix+h, bytes.NewReader(zip))
	if err != nil {
		return err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	return nil
}

// Extract is codestore.Store.Extract, fetching the package from a peer first when this node lacks it.
func (r *Replica) Extract(sha256b64 string, lim codestore.Limits) (string, error) {
	return r.ExtractContext(context.Background(), sha256b64, lim)
}

// ExtractContext is Extract, giving up waiting for a fetch when ctx ends (the fetch itself goes on for others).
func (r *Replica) ExtractContext(ctx context.Context, sha256b64 string, lim codestore.Limits) (string, error) {
	if dir, ok := r.local.CodeDir(sha256b64); ok {
		return dir, nil
	}
	if err := r.Fetch(ctx, sha256b64); err != nil {
		return "", err
	}
	return r.local.Extract(sha256b64, lim)
}

// CodeDir is the local store's: whether this node has extracted the package. It never fetches (callers on the
// invoke path use it to avoid any network call).
func (r *Replica) CodeDir(sha256b64 string) (string, bool) { return r.local.CodeDir(sha256b64) }

// ZipPath is codestore.Store.ZipPath, fetching the package from a peer first when this node lacks it (for
// GetFunction's download link, on a node that never ran the function).
func (r *Replica) ZipPath(sha256b64 string) (string, bool) {
	if p, ok := r.local.ZipPath(sha256b64); ok {
		return p, true
	}
	if err := r.Fetch(context.Background(), sha256b64); err != nil {
		if !errors.Is(err, codestore.ErrInvalidSha256) {
			r.log.Warn("fetch code package for download", "sha256", sha256b64, "err", err)
		}
		return "", false
	}
	return r.local.ZipPath(sha256b64)
}

// Remove removes the local copy only; what is garbage cluster-wide is the caller's decision on every node.
func (r *Replica) Remove(sha256b64 string) error { return r.local.Remove(sha256b64) }

// Fetch makes sure this node holds the blob of sha256b64, fetching it from the live peers in turn when it does not.
// Concurrent calls for one package share one fetch; a caller whose ctx ends stops waiting, the fetch goes on. It
// returns codestore.ErrNotFound (wrapped) when no live peer has the package.
func (r *Replica) Fetch(ctx context.Context, sha256b64 string) error {
	h, err := hexOf(sha256b64)
	if err != nil {
		return err
	}
	if _, ok := r.local.ZipPath(sha256b64); ok {
		return nil
	}
	r.mu.Lock()
	f, ok := r.flights[h]
	if !ok {
		f = &flight{done: make(chan struct{})}
		r.flights[h] = f
		go func() {
			f.err = r.fetch(h, sha256b64)
			r.mu.Lock()
			delete(r.flights, h)
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

// fetch asks the live peers in turn for the blob and stores the first answer whose SHA-256 is h.
func (r *Replica) fetch(h, b64 string) error {
	if _, ok := r.local.ZipPath(b64); ok { // arrived (pushed, fetched) while this flight was being set up
		return nil
	}
	r.transfers <- struct{}{}
	defer func() { <-r.transfers }()
	var errs []error
	for _, p := range r.ordered(h) {
		data, err := r.fetchFrom(p, h)
		if err == nil {
			info, perr := r.local.PutZip(data, r.lim)
			if perr == nil && info.Sha256 != b64 {
				perr = fmt.Errorf("stored as %s", info.Sha256) // cannot happen: the digest was checked
			}
			if perr == nil {
				r.log.Info("code package fetched from peer", "peer", p.Name, "sha256", b64, "bytes", len(data))
				return nil
			}
			err = perr
		}
		if !isNotFound(err) {
			r.log.Warn("fetch code package from peer", "peer", p.Name, "sha256", b64, "err", err)
		}
		errs = append(errs, err)
	}
	return fmt.Errorf("%w: %s on no live peer (%d asked): %w", codestore.ErrNotFound, b64, len(errs), errors.Join(errs...))
}

// fetchFrom reads one peer's copy of the blob h, refusing it when it is larger than the limit or its SHA-256 is
// not h.
func (r *Replica) fetchFrom(p cluster.Node, h string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	defer cancel()
	resp, err := r.peers.Call(ctx, p, http.MethodGet, PathPrefix+h, nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := readBlob(resp.Body, resp.ContentLength, r.maxZipped, h)
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", p.Name, err)
	}
	return data, nil
}

// errTooLarge and errMismatch are why a transferred blob is refused.
var (
	errTooLarge = errors.New("code package larger than the limit")
	errMismatch = errors.New("code package does not match its SHA-256")
)

// readBlob reads at most limit bytes from body, refusing more, and checks that their SHA-256 is h.
func readBlob(body io.Reader, length, limit int64, h string) ([]byte, error) {
	if length > limit {
		return nil, fmt.Errorf("%w (%d > %d bytes)", errTooLarge, length, limit)
	}
	var buf bytes.Buffer
	if length > 0 {
		buf.Grow(int(length))
	}
	sum := sha256.New()
	n, err := io.Copy(io.MultiWriter(&buf, sum), io.LimitReader(body, limit+1))
	if err != nil {
		return nil, err
	}
	if n > limit {
		return nil, fmt.Errorf("%w (over %d bytes)", errTooLarge, limit)
	}
	if got := hex.EncodeToString(sum.Sum(nil)); got != h {
		return nil, fmt.Errorf("%w: got %s", errMismatch, got)
	}
	return buf.Bytes(), nil
}

// ordered lists the live peers, starting at one picked by the digest, so transfers of different packages spread
// over the nodes while every node tries the same order for one package.
func (r *Replica) ordered(h string) []cluster.Node {
	peers := r.peers.Peers()
	if len(peers) < 2 {
		return peers
	}
	f := fnv.New32a()
	f.Write([]byte(h))
	i := int(f.Sum32() % uint32(len(peers)))
	return append(peers[i:len(peers):len(peers)], peers[:i]...)
}

func isNotFound(err error) bool {
	var pe *cluster.PeerError
	return errors.As(err, &pe) && pe.Status == http.StatusNotFound
}

// hexOf converts a CodeSha256 (canonical base64) to the lowercase hex of the blob's name.
func hexOf(b64 string) (string, error) {
	raw, err := base64.StdEncoding.Strict().DecodeString(b64)
	if err != nil || len(raw) != sha256.Size || base64.StdEncoding.EncodeToString(raw) != b64 {
		return "", fmt.Errorf("%w: %q", codestore.ErrInvalidSha256, b64)
	}
	return hex.EncodeToString(raw), nil
}

// b64Of converts a blob's name (64 lowercase hex digits) to its CodeSha256.
func b64Of(h string) (string, bool) {
	raw, err := hex.DecodeString(h)
	if err != nil || len(raw) != sha256.Size || hex.EncodeToString(raw) != h {
		return "", false
	}
	return base64.StdEncoding.EncodeToString(raw), true
}
