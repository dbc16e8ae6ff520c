package replica

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/sluice-dev/sluice/internal/blobstore"
	"github.com/sluice-dev/sluice/internal/cluster/replicate/replicatetest"
)

// mesh is a few nodes over real loopback HTTP (replicatetest), each a Replica with its own local store.
type mesh struct {
	*replicatetest.Mesh
	t *testing.T
}

type node struct {
	*replicatetest.Node
	name string
	local *blobstore.Store
	rep  *Replica
}

func newMesh(t *testing.T) *mesh { return &mesh{replicatetest.New(t), t} }

// add starts a node; its server answers with handler (nil: its Replica's Handler).
func (m *mesh) add(name string, handler http.Handler) *node {
	m.t.Helper()
	local, err := blobstore.Open(m.t.TempDir())
	if err != nil {
		m.t.Fatal(err)
	}
	n := &node{name: name, local: local}
	n.rep = New(Options{Local: local, Peers: m.Peers(name), Logger: slog.New(slog.DiscardHandler)})
	if handler == nil {
		handler = n.rep.Handler()
	}
	n.Node = m.Serve(name, handler)
	return n
}

// kill stops a node's server and drops it from the member list, as its lease expiring would.
func (m *mesh) kill(n *node) { m.Kill(n.Node) }

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
	if gets := b.GETs() + c.GETs(); gets != 1 {
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
	req, _ := http.NewRequest(http.MethodPut, me.Server.URL+PathPrefix+hex.EncodeToString(sum[:]), strings.NewReader("tampered"))
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
