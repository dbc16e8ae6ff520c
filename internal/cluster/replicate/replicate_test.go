package replicate

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/cluster/replicate/replicatetest"
)

// dirLocal is a Local in a directory: a file per blob, written whole and renamed into place. It refuses a body
// whose first byte is '!' (standing in for content the real stores reject) and anything over max bytes.
type dirLocal struct {
	dir string
	max int64
}

func (d dirLocal) Has(name string) bool {
	_, err := os.Stat(filepath.Join(d.dir, name))
	return err == nil
}

func (d dirLocal) Open(name string) (*os.File, error) { return os.Open(filepath.Join(d.dir, name)) }

func (d dirLocal) Receive(name string, body io.Reader, length int64) error {
	if d.max > 0 && length > d.max {
		return ErrTooLarge
	}
	limit := d.max
	if limit <= 0 {
		limit = 1 << 20
	}
	b, err := io.ReadAll(io.LimitReader(body, limit+1))
	switch {
	case err != nil:
		return err
	case int64(len(b)) > limit:
		return ErrTooLarge
	case nameOf(b) != name:
		return fmt.Errorf("%w: got %s", ErrMismatch, nameOf(b))
	case len(b) > 0 && b[0] == '!':
		return ErrRejected
	}
	tmp := filepath.Join(d.dir, name+".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(d.dir, name))
}

func (d dirLocal) put(t *testing.T, body []byte) string {
	t.Helper()
	name := nameOf(body)
	if err := d.Receive(name, bytes.NewReader(body), int64(len(body))); err != nil {
		t.Fatal(err)
	}
	return name
}

func nameOf(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// mesh is a few nodes over real loopback HTTP (replicatetest), each a Replicator over its own directory.
type mesh struct {
	*replicatetest.Mesh
	t *testing.T
}

type node struct {
	*replicatetest.Node
	local dirLocal
	r     *Replicator
}

const prefix = "/_sluice/cluster/test/"

func newMesh(t *testing.T) *mesh { return &mesh{replicatetest.New(t), t} }

// add starts a node; handler, when not nil, answers in place of the node's own Handler.
func (m *mesh) add(name string, handler http.Handler, o Options) *node {
	n := &node{local: dirLocal{dir: m.t.TempDir()}}
	o.Local, o.Peers, o.Prefix, o.What = n.local, m.Peers(name), prefix, "test blob"
	o.Logger = slog.New(slog.DiscardHandler)
	n.r = New(o)
	if handler == nil {
		handler = n.r.Handler()
	}
	n.Node = m.Serve(name, handler)
	return n
}

func holders(name string, nodes ...*node) (n int) {
	for _, x := range nodes {
		if x.local.Has(name) {
			n++
		}
	}
	return n
}

func TestReplicateMakesASecondCopy(t *testing.T) {
	m := newMesh(t)
	a, b, c := m.add("a", nil, Options{}), m.add("b", nil, Options{}), m.add("c", nil, Options{})
	name := a.local.put(t, []byte("hello"))
	if err := a.r.Replicate(context.Background(), name); err != nil {
		t.Fatal(err)
	}
	if got := holders(name, a, b, c); got != 2 {
		t.Fatalf("%d nodes hold the blob, want 2", got)
	}
}

func TestReplicateAloneOrRefused(t *testing.T) {
	m := newMesh(t)
	a := m.add("a", nil, Options{})
	name := a.local.put(t, []byte("alone"))
	if err := a.r.Replicate(context.Background(), name); err != nil {
		t.Fatalf("alone: %v, want an acknowledgement with one copy", err)
	}
	m.add("refuser", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "disk full", http.StatusInternalServerError)
	}), Options{})
	if err := a.r.Replicate(context.Background(), name); err == nil {
		t.Fatal("Replicate succeeded though the only peer refused")
	}
}

func TestFetchRefusesALyingPeer(t *testing.T) {
	good, evil := []byte("good"), []byte("evil")
	liar := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(evil) })

	t.Run("a liar and an honest peer", func(t *testing.T) {
		m := newMesh(t)
		a := m.add("a", nil, Options{})
		l1, l2 := m.add("b-liar", liar, Options{}), m.add("d-liar", liar, Options{})
		honest := m.add("c-honest", nil, Options{})
		name := honest.local.put(t, good)
		if err := a.r.Fetch(context.Background(), name); err != nil {
			t.Fatal(err)
		}
		if !a.local.Has(name) {
			t.Fatal("not stored")
		}
		if l1.GETs()+l2.GETs() != 1 { // whichever liar the order puts first, then the honest peer
			t.Fatalf("liars asked %d times, want 1", l1.GETs()+l2.GETs())
		}
	})
	t.Run("only a liar", func(t *testing.T) {
		m := newMesh(t)
		a := m.add("a", nil, Options{})
		m.add("b-liar", liar, Options{})
		err := a.r.Fetch(context.Background(), nameOf(good))
		if !errors.Is(err, ErrNotFound) || !errors.Is(err, ErrMismatch) {
			t.Fatalf("Fetch: %v, want ErrNotFound caused by a mismatch", err)
		}
		if ents, _ := os.ReadDir(a.local.dir); len(ents) != 0 {
			t.Fatalf("stored from a liar: %v", ents)
		}
	})
}

func TestConcurrentNeedsShareOneFetch(t *testing.T) {
	m := newMesh(t)
	gate := make(chan struct{})
	var src *node
	src = m.add("src", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-gate
		src.r.Handler().ServeHTTP(w, r)
	}), Options{})
	name := src.local.put(t, []byte("once"))
	a := m.add("a", nil, Options{})

	const n = 8
	errs := make(chan error, n)
	for range n {
		go func() { errs <- a.r.Fetch(context.Background(), name) }()
	}
	for { // every caller has joined the one flight (it cannot end before the gate opens)
		a.r.mu.Lock()
		f := a.r.flights[name]
		joined := f != nil && f.waiters == n
		a.r.mu.Unlock()
		if joined {
			break
		}
		runtime.Gosched()
	}
	close(gate)
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if got := src.GETs(); got != 1 {
		t.Fatalf("the peer served %d GETs, want 1", got)
	}
}

// A peer that stops sending mid-transfer is cut after the idle timeout and the next peer asked.
func TestStalledTransferIsCut(t *testing.T) {
	m := newMesh(t)
	body := []byte("slowly")
	release := make(chan struct{})
	defer close(release)
	staller := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.Write(body[:2])
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	a := m.add("a", nil, Options{IdleTimeout: 20 * time.Millisecond})
	m.add("b-stall", staller, Options{})
	m.add("c-stall", staller, Options{})
	err := a.r.Fetch(context.Background(), nameOf(body))
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("Fetch: %v, want ErrNotFound after both stalled transfers were cut", err)
	}
}

func TestHandler(t *testing.T) {
	good := []byte("good")
	rejected := []byte("!refused content")
	big := bytes.Repeat([]byte("x"), 100)
	tests := []struct {
		name, method, path string
		body               []byte
		want               int
		stored             string
	}{
		{"push under its name", http.MethodPut, prefix + nameOf(good), good, http.StatusNoContent, nameOf(good)},
		{"push of other bytes", http.MethodPut, prefix + nameOf(good), []byte("evil"), http.StatusBadRequest, ""},
		{"push the store rejects", http.MethodPut, prefix + nameOf(rejected), rejected, http.StatusBadRequest, ""},
		{"push past the limit", http.MethodPut, prefix + nameOf(big), big, http.StatusRequestEntityTooLarge, ""},
		{"not a name", http.MethodPut, prefix + "nothex", good, http.StatusNotFound, ""},
		{"upper-case hex", http.MethodGet, prefix + strings.ToUpper(nameOf(good)), nil, http.StatusNotFound, ""},
		{"get of a blob not here", http.MethodGet, prefix + nameOf(good), nil, http.StatusNotFound, ""},
		{"delete", http.MethodDelete, prefix + nameOf(good), nil, http.StatusMethodNotAllowed, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := dirLocal{dir: t.TempDir(), max: 64}
			r := New(Options{Local: l, Peers: newMesh(t).Peers("x"), Prefix: prefix, Logger: slog.New(slog.DiscardHandler)})
			rec := httptest.NewRecorder()
			r.Handler().ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, bytes.NewReader(tc.body)))
			if rec.Code != tc.want {
				t.Fatalf("status %d, want %d (%s)", rec.Code, tc.want, rec.Body)
			}
			ents, _ := os.ReadDir(l.dir)
			if (tc.stored == "") != (len(ents) == 0) || (tc.stored != "" && !l.Has(tc.stored)) {
				t.Fatalf("stored %v, want %q", ents, tc.stored)
			}
		})
	}
}
