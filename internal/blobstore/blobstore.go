// Package blobstore keeps large byte streams (S3 object bodies and parts) durable on the local disk, named by the
// SHA-256 of their bytes. A body is streamed into a temporary file while it is hashed, fsynced, then renamed into
// place (and the directory fsynced) only when the caller commits it, so a name always holds a whole, durable body
// and nothing half-written is ever visible under one; memory stays one copy buffer whatever the size.
//
// # Layout
//
//	root/tmp/<random>            bodies being written; removed on abort, and all of them when the store opens
//	root/blobs/<hh>/<hex sha256>  committed bodies, 0400
//
// # Deletion
//
// Blobs are shared: two objects with the same bytes (a copy, the same file uploaded twice) name one blob, so
// nothing deletes a blob when a record stops naming it. Sweep removes the blobs no record names, but only those
// untouched for a grace period: a writer that finds its blob already there, or a caller about to name an existing
// blob in a new record (a copy), calls Touch first, under the same per-blob lock Sweep holds while it re-checks
// and removes. So a blob that is about to be named is either seen fresh by Sweep, or already gone and Touch says
// so (ErrNotFound) before anything names it.
package blobstore

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/sluice-dev/sluice/internal/durable"
)

// ErrNotFound is returned for a blob the store does not hold.
var ErrNotFound = errors.New("blobstore: no such blob")

// ErrTooLarge is returned by Write past the writer's limit.
var ErrTooLarge = errors.New("blobstore: body larger than allowed")

// Store is the blob directory of one node.
type Store struct {
	root, tmp, blobs string

	mu    sync.Mutex
	locks map[string]*blobLock
}

type blobLock struct {
	mu   sync.Mutex
	refs int
}

// Open opens (creating) the store rooted at root and removes what crashed writers left in tmp/.
func Open(root string) (*Store, error) {
	s := &Store{root: root, tmp: filepath.Join(root, "tmp"), blobs: filepath.Join(root, "blobs"), locks: map[string]*blobLock{}}
	for _, d := range []string{root, s.tmp, s.blobs} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	entries, err := os.ReadDir(s.tmp)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		_ = os.RemoveAll(filepath.Join(s.tmp, e.Name()))
	}
	return s, nil
}

// Blob names a committed body.
type Blob struct {
	SHA256 string // lower-case hex
	Size   int64
}

// Writer streams one body to a temporary file. Exactly one of Commit and Abort must be called.
type Writer struct {
	s     *Store
	f     *os.File
	h     hash.Hash
	n     int64
	limit int64
	err   error
}

// Create starts a body of at most limit bytes (limit < 0: no limit).
func (s *Store) Create(limit int64) (*Writer, error) {
	var r [12]byte
	_, _ = rand.Read(r[:])
	f, err := os.OpenFile(filepath.Join(s.tmp, hex.EncodeToString(r[:])), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	return &Writer{s: s, f: f, h: sha256.New(), limit: limit}, nil
}

// Write appends to the body.
func (w *Writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if w.limit >= 0 && w.n+int64(len(p)) > w.limit {
		w.err = ErrTooLarge
		return 0, w.err
	}
	n, err := w.f.Write(p)
	w.h.Write(p[:n])
	w.n += int64(n)
	if err != nil {
		w.err = err
	}
	return n, err
}

// Size is how many bytes were written so far.
func (w *Writer) Size() int64 { return w.n }

// Commit makes the body durable under its SHA-256 and returns its name. When the store already holds that blob it
// is touched (its grace period starts again) and the new copy is dropped.
func (w *Writer) Commit() (Blob, error) {
	if w.err != nil {
		w.Abort()
		return Blob{}, w.err
	}
	if err := w.f.Sync(); err != nil {
		w.Abort()
		return Blob{}, err
	}
	if err := w.f.Close(); err != nil {
		_ = os.Remove(w.f.Name())
		return Blob{}, err
	}
	b := Blob{SHA256: hex.EncodeToString(w.h.Sum(nil)), Size: w.n}
	unlock := w.s.lock(b.SHA256)
	defer unlock()
	final := w.s.path(b.SHA256)
	if _, err := os.Stat(final); err == nil {
		_ = os.Remove(w.f.Name())
		now := time.Now()
		return b, os.Chtimes(final, now, now)
	}
	if _, err := os.Stat(filepath.Dir(final)); errors.Is(err, fs.ErrNotExist) {
		// A new shard directory: its entry in blobs/ must be durable too.
		if err := os.Mkdir(filepath.Dir(final), 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			_ = os.Remove(w.f.Name())
			return Blob{}, err
		}
		if err := durable.SyncDir(w.s.blobs); err != nil {
			_ = os.Remove(w.f.Name())
			return Blob{}, err
		}
	}
	if err := os.Chmod(w.f.Name(), 0o400); err != nil {
		_ = os.Remove(w.f.Name())
		return Blob{}, err
	}
	if err := os.Rename(w.f.Name(), final); err != nil {
		_ = os.Remove(w.f.Name())
		return Blob{}, err
	}
	if err := durable.SyncDir(filepath.Dir(final)); err != nil {
		return Blob{}, err
	}
	return b, nil
}

// CommitAs is Commit for a body that must hash to want (a copy received from a peer): one that does not is dropped
// and ErrMismatch returned.
func (w *Writer) CommitAs(want string) (Blob, error) {
	if w.err == nil {
		if got := hex.EncodeToString(w.h.Sum(nil)); got != want {
			w.Abort()
			return Blob{}, fmt.Errorf("%w: got %s", ErrMismatch, got)
		}
	}
	return w.Commit()
}

// ErrMismatch is returned by CommitAs for a body that is not the blob it was meant to be.
var ErrMismatch = errors.New("blobstore: body does not match its SHA-256")

// Abort drops the body.
func (w *Writer) Abort() {
	_ = w.f.Close()
	_ = os.Remove(w.f.Name())
}

// Open opens a committed blob for reading.
func (s *Store) Open(sha string) (*os.File, error) {
	if !validName(sha) {
		return nil, ErrNotFound
	}
	f, err := os.Open(s.path(sha))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	return f, err
}

// Has reports whether the store holds a blob.
func (s *Store) Has(sha string) bool {
	if !validName(sha) {
		return false
	}
	_, err := os.Stat(s.path(sha))
	return err == nil
}

// Touch restarts a blob's grace period before a caller names it in a new record; ErrNotFound if it is gone.
func (s *Store) Touch(sha string) error {
	if !validName(sha) {
		return ErrNotFound
	}
	unlock := s.lock(sha)
	defer unlock()
	now := time.Now()
	err := os.Chtimes(s.path(sha), now, now)
	if errors.Is(err, fs.ErrNotExist) {
		return ErrNotFound
	}
	return err
}

// Sweep removes the blobs untouched for grace that live does not name. live is asked once, after the candidates
// are known, for every blob the records name; each candidate is then checked again under its lock (a Touch since
// spares it).
func (s *Store) Sweep(grace time.Duration, live func() (map[string]bool, error)) (removed int, err error) {
	cutoff := time.Now().Add(-grace)
	var candidates []string
	err = filepath.WalkDir(s.blobs, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if info, err := d.Info(); err == nil && info.ModTime().Before(cutoff) && validName(d.Name()) {
			candidates = append(candidates, d.Name())
		}
		return nil
	})
	if err != nil || len(candidates) == 0 {
		return 0, err
	}
	named, err := live()
	if err != nil {
		return 0, err
	}
	for _, sha := range candidates {
		if named[sha] {
			continue
		}
		unlock := s.lock(sha)
		info, err := os.Stat(s.path(sha))
		if err == nil && info.ModTime().Before(cutoff) && os.Remove(s.path(sha)) == nil {
			removed++
		}
		unlock()
	}
	return removed, nil
}

func (s *Store) path(sha string) string { return filepath.Join(s.blobs, sha[:2], sha) }

func (s *Store) lock(sha string) func() {
	s.mu.Lock()
	l := s.locks[sha]
	if l == nil {
		l = &blobLock{}
		s.locks[sha] = l
	}
	l.refs++
	s.mu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		s.mu.Lock()
		if l.refs--; l.refs == 0 {
			delete(s.locks, sha)
		}
		s.mu.Unlock()
	}
}

// ValidName reports whether sha is a blob name: 64 lower-case hex digits.
func ValidName(sha string) bool { return validName(sha) }

func validName(sha string) bool {
	if len(sha) != 2*sha256.Size {
		return false
	}
	b, err := hex.DecodeString(sha)
	return err == nil && sha == hex.EncodeToString(b)
}

// Single is a Store used by one node alone: Open and Touch never fetch, and Replicate has nobody to push to. (In a
// cluster, package replica has the same methods.)
type Single struct{ *Store }

// Open opens a committed blob.
func (s Single) Open(_ context.Context, sha string) (*os.File, error) { return s.Store.Open(sha) }

// Touch restarts a blob's grace period.
func (s Single) Touch(_ context.Context, sha string) error { return s.Store.Touch(sha) }

// Replicate has no other node to copy to.
func (s Single) Replicate(context.Context, string) error { return nil }
