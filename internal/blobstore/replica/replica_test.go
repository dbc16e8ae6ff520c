package replica

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sluice-dev/sluice/internal/blobstore"
	"github.com/sluice-dev/sluice/internal/cluster"
)

// mesh is a few nodes over real loopback HTTP, each with its blob directory.
type mesh struct {
	t     *testing.T
	mu    sync.Mutex
	nodes map[string]*node
}

type node struct {
	name  string
	local *blobstore.Store
	rep   *Replica
	srv   *httptest.Server
	gets  atomic.Int64
}

func newMesh(t *testing.T) *mesh { return &mesh{t: t, nodes: map[string]*node{}} }

func (m *mesh) add(name string, handler http.Handler) *node {
	m.t.Helper()
	local, err := blobstore.Open(m.t.TempDir())
	if err != nil {
		m.t.Fatal(err)
	}
	n := &node{name: name, local: local}
	n.rep = New(Options{Local: local, Peers: peersOf{m, name}, Logger: slog.New(slog.DiscardHandler)})
	if handler == nil {
		handler = n.rep.Handler()
	}
	n.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			n.gets.Add(1)
		}
		handler.ServeHTTP(w, r)
	}))
	m.t.Cleanup(n.srv.Close)
	m.mu.Lock()
	m.nodes[name] = n
	m.mu.Unlock()
	return n
}

func (m *mesh) kill(n *node) {
	m.mu.Lock()
	delete(m.nodes, n.name)
	m.mu.Unlock()
	n.srv.Close()
}

type peersOf struct {
	m    *mesh
	self string
}

func (p peersOf) Peers() []cluster.Node {
	p.m.mu.Lock()
	defer p.m.mu.Unlock()
	var out []cluster.Node
	for name, n := range p.m.nodes {
		if name != p.self {
			out = append(out, cluster.Node{Name: name, URL: n.srv.URL})
		}
	}
	slices.SortFunc(out, func(a, b cluster.Node) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func (p peersOf) Call(ctx context.Context, n cluster.Node, method, path string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, n.URL+path, body)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return nil, &cluster.PeerError{Node: n.Name, Status: resp.StatusCode, Message: string(msg)}
	}
	return resp, nil
}

// write stores body on n and replicates it, as an upload does before its record is committed.
func write(t *testing.T, n *node, body []byte) string {
	t.Helper()
	w, err := n.rep.Create(-1)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(body)
	b, err := w.Commit()
	if err != nil {
		t.Fatal(err)
	}
	if err := n.rep.Replicate(t.Context(), b.SHA256); err != nil {
		t.Fatalf("Replicate: %v", err)
	}
	return b.SHA256
}

func read(t *testing.T, n *node, sha string) []byte {
	t.Helper()
	f, err := n.rep.Open(t.Context(), sha)
	if err != nil {
		t.Fatalf("%s: Open: %v", n.name, err)
	}
	defer f.Close()
	b, _ := io.ReadAll(f)
	return b
}

// TestTwoCopiesAndFetch: an acknowledged blob is on two nodes, survives the loss of the one that took it, and
// reaches a node that joins later (one fetch for concurrent needs).
func TestTwoCopiesAndFetch(t *testing.T) {
	m := newMesh(t)
	a, b, c := m.add("a", nil), m.add("b", nil), m.add("c", nil)
	body := bytes.Repeat([]byte("object "), 300_000) // 2.1 MB, streamed both ways
	sha := write(t, a, body)
	holders := 0
	for _, n := range []*node{a, b, c} {
		if n.local.Has(sha) {
			holders++
		}
	}
	if holders != 2 {
		t.Fatalf("%d copies after Replicate, want 2", holders)
	}
	m.kill(a)
	late := m.add("late", nil)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if got := read(t, late, sha); !bytes.Equal(got, body) {
				t.Errorf("late node read %d bytes", len(got))
			}
		})
	}
	wg.Wait()
	if gets := b.gets.Load() + c.gets.Load(); gets != 1 {
		t.Errorf("%d fetches for four concurrent reads, want 1", gets)
	}
	if err := late.rep.Touch(t.Context(), sha); err != nil {
		t.Errorf("Touch of a fetched blob: %v", err)
	}
}

// TestLyingPeerRefused: a peer that answers other bytes than the name says is refused, and the next one asked.
func TestLyingPeerRefused(t *testing.T) {
	m := newMesh(t)
	m.add("a-liar", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		io.WriteString(w, "not the object")
	}))
	honest := m.add("b-honest", nil)
	me := m.add("c", nil)
	body := []byte("the real object")
	w, _ := honest.rep.Create(-1)
	w.Write(body)
	blob, _ := w.Commit()
	if got := read(t, me, blob.SHA256); !bytes.Equal(got, body) {
		t.Fatalf("read %q", got)
	}
	// A pushed body that is not its name is refused.
	sum := sha256.Sum256([]byte("something else"))
	req, _ := http.NewRequest(http.MethodPut, me.srv.URL+PathPrefix+hex.EncodeToString(sum[:]), strings.NewReader("tampered"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || me.local.Has(hex.EncodeToString(sum[:])) {
		t.Errorf("tampered push: %d", resp.StatusCode)
	}
}

// TestAloneAndNowhere: alone, a blob is acknowledged with one copy; a blob no live node has is ErrNotFound.
func TestAloneAndNowhere(t *testing.T) {
	m := newMesh(t)
	a := m.add("a", nil)
	write(t, a, []byte("only copy"))
	sum := sha256.Sum256([]byte("never written"))
	if _, err := a.rep.Open(t.Context(), hex.EncodeToString(sum[:])); !errors.Is(err, blobstore.ErrNotFound) {
		t.Errorf("Open of a blob nobody has: %v", err)
	}
	m.add("b", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "disk full", 500) }))
	w, _ := a.rep.Create(-1)
	w.Write([]byte("nobody takes it"))
	blob, _ := w.Commit()
	if err := a.rep.Replicate(t.Context(), blob.SHA256); err == nil {
		t.Error("Replicate succeeded though the only peer refused")
	}
}
