package replica

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/sluice-dev/sluice/internal/cluster/replicate"
	"github.com/sluice-dev/sluice/internal/codestore"
)

// PathPrefix is where a node serves its blobs to its peers: PathPrefix + "<hex sha256>".
const PathPrefix = "/_sluice/cluster/code/"

// Options configures a Replica. Zero optional fields take the documented defaults.
type Options struct {
	Local *codestore.Store
	Peers replicate.Peers
	// Limits bounds the packages received from peers and fetched from them (zero fields: codestore's defaults);
	// use the control plane's CodeLimits.
	Limits codestore.Limits
	// IdleTimeout cuts a transfer with a peer that moves no byte for this long (default 1 minute).
	IdleTimeout time.Duration
	// Transfers is how many packages may be coming into this node at once, fetched or received (default 2); each
	// holds up to Limits.MaxZipped bytes in memory.
	Transfers int
	Logger    *slog.Logger
}

// Replica is a node's code store in cluster mode. It is safe for concurrent use.
type Replica struct {
	local *codestore.Store
	repl  *replicate.Replicator
	log   *slog.Logger
}

// New returns a Replica over o.Local.
func New(o Options) *Replica {
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
	l := local{store: o.Local, lim: o.Limits, maxZipped: maxZipped}
	return &Replica{local: o.Local, log: o.Logger.With("component", "codereplica"),
		repl: replicate.New(replicate.Options{Local: l, Peers: o.Peers, Prefix: PathPrefix, What: "code package",
			IdleTimeout: o.IdleTimeout, Transfers: o.Transfers, Logger: o.Logger})}
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
	return info, r.repl.Replicate(context.Background(), h)
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

// Fetch makes sure this node holds the package of sha256b64, fetching it from the live peers in turn when it does
// not; concurrent calls share one fetch. It returns codestore.ErrNotFound (wrapped) when no live peer has it.
func (r *Replica) Fetch(ctx context.Context, sha256b64 string) error {
	h, err := hexOf(sha256b64)
	if err != nil {
		return err
	}
	err = r.repl.Fetch(ctx, h)
	if errors.Is(err, replicate.ErrNotFound) {
		return fmt.Errorf("%w: %w", codestore.ErrNotFound, err)
	}
	return err
}

// Handler serves this node's packages to its peers (GET) and takes the ones they push (PUT) at PathPrefix +
// "<hex sha256>"; mount it behind cluster.PeersOnly.
func (r *Replica) Handler() http.Handler { return r.repl.Handler() }

// local is the code store as the replicator sees it, by hex name. A received package is read into memory (at
// most MaxZipped bytes), checked against its name, then stored with PutZip, which validates it as an upload.
type local struct {
	store     *codestore.Store
	lim       codestore.Limits
	maxZipped int64
}

func (l local) Has(h string) bool {
	b64, ok := b64Of(h)
	if !ok {
		return false
	}
	_, ok = l.store.ZipPath(b64)
	return ok
}

func (l local) Open(h string) (*os.File, error) {
	b64, ok := b64Of(h)
	if !ok {
		return nil, codestore.ErrNotFound
	}
	p, ok := l.store.ZipPath(b64)
	if !ok {
		return nil, codestore.ErrNotFound
	}
	return os.Open(p)
}

func (l local) Receive(h string, body io.Reader, length int64) error {
	data, err := readBlob(body, length, l.maxZipped, h)
	if err != nil {
		return err
	}
	info, err := l.store.PutZip(data, l.lim)
	var ce *codestore.Error
	switch {
	case errors.As(err, &ce):
		return fmt.Errorf("%w: code package: %s", replicate.ErrRejected, ce.Detail)
	case err != nil:
		return err
	case hexMustOf(info.Sha256) != h:
		return fmt.Errorf("stored as %s", info.Sha256) // cannot happen: the digest was checked
	}
	return nil
}

// readBlob reads at most limit bytes from body, refusing more, and checks that their SHA-256 is h.
func readBlob(body io.Reader, length, limit int64, h string) ([]byte, error) {
	if length > limit {
		return nil, fmt.Errorf("%w (%d > %d bytes)", replicate.ErrTooLarge, length, limit)
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
		return nil, fmt.Errorf("%w (over %d bytes)", replicate.ErrTooLarge, limit)
	}
	if got := hex.EncodeToString(sum.Sum(nil)); got != h {
		return nil, fmt.Errorf("%w: got %s", replicate.ErrMismatch, got)
	}
	return buf.Bytes(), nil
}

// hexOf converts a CodeSha256 (canonical base64) to the lowercase hex of the blob's name.
func hexOf(b64 string) (string, error) {
	raw, err := base64.StdEncoding.Strict().DecodeString(b64)
	if err != nil || len(raw) != sha256.Size || base64.StdEncoding.EncodeToString(raw) != b64 {
		return "", fmt.Errorf("%w: %q", codestore.ErrInvalidSha256, b64)
	}
	return hex.EncodeToString(raw), nil
}

func hexMustOf(b64 string) string { h, _ := hexOf(b64); return h }

// b64Of converts a blob's name (64 lowercase hex digits) to its CodeSha256.
func b64Of(h string) (string, bool) {
	raw, err := hex.DecodeString(h)
	if err != nil || len(raw) != sha256.Size || hex.EncodeToString(raw) != h {
		return "", false
	}
	return base64.StdEncoding.EncodeToString(raw), true
}
