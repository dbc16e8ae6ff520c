package replica

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/internal/cluster/replicate/replicatetest"
	"github.com/sluice-dev/sluice/internal/cluster/replicate"
	"github.com/sluice-dev/sluice/internal/codestore"
	"github.com/sluice-dev/sluice/internal/controlplane"
)

// A Replica is what the control plane's Code option takes.
var _ controlplane.CodeStore = (*Replica)(nil)

// mesh is a few nodes over real loopback HTTP (replicatetest), each a Replica with its own local store.
type mesh struct {
	*replicatetest.Mesh
	t *testing.T
}

type node struct {
	*replicatetest.Node
	name string
	rep  *Replica
}

func newMesh(t *testing.T) *mesh { return &mesh{replicatetest.New(t), t} }

// add starts a node; its server answers with handler (nil: its Replica's Handler).
func (m *mesh) add(name string, handler http.Handler) *node {
	m.t.Helper()
	local, err := codestore.Open(m.t.TempDir())
	if err != nil {
		m.t.Fatal(err)
	}
	n := &node{name: name}
	n.rep = New(Options{Local: local, Peers: m.Peers(name), Logger: slog.New(slog.DiscardHandler)})
	if handler == nil {
		handler = n.rep.Handler()
	}
	n.Node = m.Serve(name, handler)
	return n
}

// kill stops a node's server and drops it from the member list, as its lease expiring would.
func (m *mesh) kill(n *node) { m.Kill(n.Node) }

// pkg is a package holding an executable bootstrap that prints word.
func pkg(t *testing.T, word string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(w, "#!/bin/sh\necho %s\n", word)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// holds reports whether n has the blob locally (without fetching).
func (n *node) holds(sha string) bool {
	_, ok := n.rep.local.ZipPath(sha)
	return ok
}

// runs extracts the package on n (fetching it if need be) and runs its bootstrap, which must print want.
func (n *node) runs(t *testing.T, sha, want string) {
	t.Helper()
	dir, err := n.rep.Extract(sha, codestore.Limits{})
	if err != nil {
		t.Fatalf("node %s: extract: %v", n.name, err)
	}
	out, err := exec.Command(filepath.Join(dir, "bootstrap")).Output()
	if err != nil {
		t.Fatalf("node %s: run bootstrap: %v", n.name, err)
	}
	if got := strings.TrimSpace(string(out)); got != want {
		t.Fatalf("node %s: bootstrap printed %q, want %q", n.name, got, want)
	}
}

func copies(sha string, nodes ...*node) int {
	c := 0
	for _, n := range nodes {
		if n.holds(sha) {
			c++
		}
	}
	return c
}

// An upload is acknowledged with two copies; every node runs the package, and it survives the node that took it.
func TestUploadRunsEverywhereAndSurvivesItsNode(t *testing.T) {
	tests := []struct {
		name string
		// extractBeforeKill: B and C extract the package while A still lives.
		extractBeforeKill bool
	}{
		{"every node ran it before A died", true},
		{"A dies right after acknowledging", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newMesh(t)
			a, b, c := m.add("a", nil), m.add("b", nil), m.add("c", nil)
			info, err := a.rep.PutZip(pkg(t, "hello"), codestore.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if got := copies(info.Sha256, a, b, c); got != 2 {
				t.Fatalf("after the acknowledgement %d nodes hold the package, want 2", got)
			}
			if tc.extractBeforeKill {
				b.runs(t, info.Sha256, "hello")
				c.runs(t, info.Sha256, "hello")
			}
			m.kill(a)
			d := m.add("d", nil)
			for _, n := range []*node{b, c, d} {
				n.runs(t, info.Sha256, "hello")
			}
			if got := copies(info.Sha256, b, c, d); got != 3 {
				t.Fatalf("%d of the surviving nodes hold the package, want 3", got)
			}
		})
	}
}

// A node alone acknowledges with one copy; with live peers none of which takes the package, the upload fails.
func TestUploadWithoutASecondCopy(t *testing.T) {
	refuse := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "disk full", http.StatusInternalServerError)
	})
	tests := []struct {
		name    string
		peers   []http.Handler
		wantErr bool
	}{
		{"alone", nil, false},
		{"every peer refuses", []http.Handler{refuse, refuse}, true},
		{"one peer refuses, the next takes it", []http.Handler{refuse, nil}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newMesh(t)
			a := m.add("a", nil)
			for i, h := range tc.peers {
				m.add(fmt.Sprintf("p%d", i), h)
			}
			info, err := a.rep.PutZip(pkg(t, "x"), codestore.Limits{})
			if gotErr := err != nil; gotErr != tc.wantErr {
				t.Fatalf("PutZip: err = %v, want error: %v", err, tc.wantErr)
			}
			if !a.holds(info.Sha256) {
				t.Fatal("the receiving node does not hold the package")
			}
		})
	}
}

// A peer's answer whose bytes do not hash to the name asked for is refused, whether fetched or pushed.
func TestCorruptTransfersAreRefused(t *testing.T) {
	good := pkg(t, "good")
	evil := pkg(t, "evil")
	m := newMesh(t)
	src := m.add("src", nil)
	info, err := src.rep.local.PutZip(good, codestore.Limits{}) // one copy, on src only
	if err != nil {
		t.Fatal(err)
	}
	liar := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(evil) })

	t.Run("fetch: a lying peer, then an honest one", func(t *testing.T) {
		m := newMesh(t)
		a := m.add("a", nil)
		m.Adopt("c-src", src.Node)
		// Name the liar so that it comes first in the order a asks its peers for this package.
		name := "b-liar" // before c-src: first when the rotation for this digest starts at the first peer
		f := fnv.New32a()
		f.Write([]byte(hexMust(t, info.Sha256)))
		if f.Sum32()%2 == 1 {
			name = "d-liar"
		}
		l := m.add(name, liar)
		a.runs(t, info.Sha256, "good")
		if l.GETs() != 1 {
			t.Fatalf("the liar was asked %d times, want 1", l.GETs())
		}
	})
	t.Run("fetch: only a lying peer", func(t *testing.T) {
		m := newMesh(t)
		a := m.add("a", nil)
		m.add("b-liar", liar)
		_, err := a.rep.Extract(info.Sha256, codestore.Limits{})
		if !errors.Is(err, codestore.ErrNotFound) || !errors.Is(err, replicate.ErrMismatch) {
			t.Fatalf("Extract: %v, want ErrNotFound caused by a mismatch", err)
		}
		if a.holds(info.Sha256) || copies(info.Sha256, a) != 0 {
			t.Fatal("a lying peer's answer was stored")
		}
		if ents, _ := os.ReadDir(filepath.Join(a.rep.local.Root(), "blobs")); len(ents) != 0 {
			t.Fatalf("blobs stored from a lying peer: %v", ents)
		}
	})

	// Pushes straight to the handler.
	tests := []struct {
		name, path string
		body       []byte
		want       int
	}{
		{"the package under its name", PathPrefix + hexMust(t, info.Sha256), good, http.StatusNoContent},
		{"other bytes under its name", PathPrefix + hexMust(t, info.Sha256), evil, http.StatusBadRequest},
		{"not a digest", PathPrefix + "nothex", good, http.StatusNotFound},
		{"bytes that are no zip, under their own name", PathPrefix + sha256Hex([]byte("not a zip")), []byte("not a zip"), http.StatusBadRequest},
	}
	for _, tc := range tests {
		t.Run("push: "+tc.name, func(t *testing.T) {
			m := newMesh(t)
			b := m.add("b", nil)
			resp, err := http.DefaultClient.Do(mustRequest(t, http.MethodPut, b.Server.URL+tc.path, tc.body))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
			if stored := b.holds(info.Sha256); stored != (tc.want == http.StatusNoContent && bytes.Equal(tc.body, good)) {
				t.Fatalf("stored = %v after status %d", stored, resp.StatusCode)
			}
		})
	}
}

// A body past the MaxZipped limit is refused without being stored.
func TestTooLargeRefused(t *testing.T) {
	body := pkg(t, "big")
	m := newMesh(t)
	local, _ := codestore.Open(t.TempDir())
	small := New(Options{Local: local, Peers: m.Peers("small"), Limits: codestore.Limits{MaxZipped: int64(len(body) - 1)}})
	srv := httptest.NewServer(small.Handler())
	defer srv.Close()
	resp, err := http.DefaultClient.Do(mustRequest(t, http.MethodPut, srv.URL+PathPrefix+sha256Hex(body), body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", resp.StatusCode)
	}
}

func hexMust(t *testing.T, b64 string) string {
	t.Helper()
	h, err := hexOf(b64)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func mustRequest(t *testing.T, method, url string, body []byte) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return req
}
