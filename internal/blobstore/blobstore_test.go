package blobstore

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func put(t *testing.T, s *Store, body string) Blob {
	t.Helper()
	w, err := s.Create(-1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, body); err != nil {
		t.Fatal(err)
	}
	b, err := w.Commit()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func read(t *testing.T, s *Store, sha string) string {
	t.Helper()
	f, err := s.Open(sha)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, _ := io.ReadAll(f)
	return string(b)
}

func entries(t *testing.T, dir string) int {
	t.Helper()
	e, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return len(e)
}

func TestCommitNamesTheBytes(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	b := put(t, s, "hello")
	sum := sha256.Sum256([]byte("hello"))
	if b.SHA256 != hex.EncodeToString(sum[:]) || b.Size != 5 {
		t.Fatalf("blob %+v", b)
	}
	if read(t, s, b.SHA256) != "hello" {
		t.Fatal("read back differs")
	}
	// The same bytes again: one blob, the second copy dropped, nothing left in tmp/.
	if again := put(t, s, "hello"); again != b {
		t.Fatalf("second commit %+v", again)
	}
	if n := entries(t, s.tmp); n != 0 {
		t.Errorf("%d files left in tmp/", n)
	}
	for _, name := range []string{"", "../x", "zz", b.SHA256[:63] + "G"} {
		if _, err := s.Open(name); !errors.Is(err, ErrNotFound) {
			t.Errorf("Open(%q): %v", name, err)
		}
	}
}

func TestAbortAndLimitLeaveNothing(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w, _ := s.Create(-1)
	io.WriteString(w, "half")
	w.Abort()
	w, _ = s.Create(3)
	if _, err := io.WriteString(w, "four"); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("write past the limit: %v", err)
	}
	if _, err := w.Commit(); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("commit past the limit: %v", err)
	}
	if entries(t, s.tmp) != 0 || entries(t, s.blobs) != 0 {
		t.Error("an aborted or refused body left files")
	}
}

func TestOpenSweepsCrashedWriters(t *testing.T) {
	root := t.TempDir()
	s, _ := Open(root)
	w, _ := s.Create(-1)
	io.WriteString(w, "crash before commit") // the process dies here
	if _, err := Open(root); err != nil {
		t.Fatal(err)
	}
	if n := entries(t, filepath.Join(root, "tmp")); n != 0 {
		t.Errorf("%d leftovers after reopening", n)
	}
}

func TestSweep(t *testing.T) {
	s, _ := Open(t.TempDir())
	live, dead, fresh, touched := put(t, s, "live"), put(t, s, "dead"), put(t, s, "fresh"), put(t, s, "touched")
	old := time.Now().Add(-2 * time.Hour)
	for _, b := range []Blob{live, dead, touched} {
		os.Chtimes(s.path(b.SHA256), old, old)
	}
	removed, err := s.Sweep(time.Hour, func() (map[string]bool, error) {
		// A copy names "touched" while the sweep is under way: Touch restarts its grace period.
		if err := s.Touch(touched.SHA256); err != nil {
			t.Fatal(err)
		}
		return map[string]bool{live.SHA256: true}, nil
	})
	if err != nil || removed != 1 {
		t.Fatalf("Sweep removed %d (%v), want 1", removed, err)
	}
	if s.Has(dead.SHA256) || !s.Has(live.SHA256) || !s.Has(fresh.SHA256) || !s.Has(touched.SHA256) {
		t.Errorf("after the sweep: dead %v live %v fresh %v touched %v", s.Has(dead.SHA256), s.Has(live.SHA256), s.Has(fresh.SHA256), s.Has(touched.SHA256))
	}
	if err := s.Touch(dead.SHA256); !errors.Is(err, ErrNotFound) {
		t.Errorf("Touch of a swept blob: %v", err)
	}
}
