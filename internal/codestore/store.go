package codestore

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/sluice-dev/sluice/internal/durable"
)

const (
	modeRoot     = 0o711
	modeBlobsDir = 0o700
	modeCodeDir  = 0o711
	modeBlob     = 0o400
	modeFile     = 0o444
	modeExec     = 0o555
	modeTreeDir  = 0o555
	tmpPrefix    = ".tmp-"
)

// Store is a content-addressed store of code packages below one root
// directory. It is safe for concurrent use.
type Store struct {
	root  string // absolute
	blobs string // root/blobs
	code  string // root/code

	mu    sync.Mutex
	locks map[string]*keyLock // per hex digest
}

type keyLock struct {
	mu   sync.Mutex
	refs int
}

// Open opens the store rooted at root, creating root (0711), root/blobs
// (0700) and root/code (0711) if needed and enforcing the modes of blobs/ and
// code/. It removes temporaries left behind by an interrupted PutZip, Extract
// or Remove, so a root must not be shared by two live Stores.
func Open(root string) (*Store, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("codestore: %w", err)
	}
	_, statErr := os.Stat(abs)
	if err := os.MkdirAll(abs, modeRoot); err != nil {
		return nil, fmt.Errorf("codestore: %w", err)
	}
	if errors.Is(statErr, fs.ErrNotExist) {
		if err := os.Chmod(abs, modeRoot); err != nil { // umask may have narrowed it
			return nil, fmt.Errorf("codestore: %w", err)
		}
	}
	s := &Store{
		root:  abs,
		blobs: filepath.Join(abs, "blobs"),
		code:  filepath.Join(abs, "code"),
		locks: make(map[string]*keyLock),
	}
	for _, d := range []struct {
		path string
		mode fs.FileMode
	}{{s.blobs, modeBlobsDir}, {s.code, modeCodeDir}} {
		if err := os.Mkdir(d.path, d.mode); err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("codestore: %w", err)
		}
		fi, err := os.Lstat(d.path)
		if err != nil {
			return nil, fmt.Errorf("codestore: %w", err)
		}
		if !fi.IsDir() {
			return nil, fmt.Errorf("codestore: %s is not a directory", d.path)
		}
		if err := os.Chmod(d.path, d.mode); err != nil {
			return nil, fmt.Errorf("codestore: %w", err)
		}
		s.sweep(d.path)
	}
	if err := durable.SyncDir(abs); err != nil {
		return nil, fmt.Errorf("codestore: %w", err)
	}
	return s, nil
}

// sweep removes leftover temporaries in dir (best effort).
func (s *Store) sweep(dir string) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), tmpPrefix) {
			_ = removeTree(filepath.Join(dir, e.Name()))
		}
	}
}

// Root returns the store's absolute root directory.
func (s *Store) Root() string { return s.root }

// PutZip validates zip with Inspect (writing nothing if that fails) and stores
// it durably as blobs/<hex sha256>.zip: temp file, fsync, rename, fsync dir.
// It is idempotent: if an intact blob with the same digest exists, nothing is
// rewritten.
func (s *Store) PutZip(zip []byte, lim Limits) (Info, error) {
	p, err := inspect(zip, lim)
	if err != nil {
		return Info{}, err
	}
	h := hex.EncodeToString(p.sum[:])
	unlock := s.lock(h)
	defer unlock()

	dst := s.blobPath(h)
	if ok, err := blobIntact(dst, p.sum, int64(len(zip))); err != nil {
		return Info{}, err
	} else if ok {
		return p.info, nil
	}

	f, err := os.CreateTemp(s.blobs, tmpPrefix+h[:16]+"-*")
	if err != nil {
		return Info{}, fmt.Errorf("codestore: %w", err)
	}
	tmp := f.Name()
	done := false
	defer func() {
		if !done {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err := f.Write(zip); err != nil {
		return Info{}, fmt.Errorf("codestore: writing blob: %w", err)
	}
	if err := f.Chmod(modeBlob); err != nil {
		return Info{}, fmt.Errorf("codestore: %w", err)
	}
	if err := f.Sync(); err != nil {
		return Info{}, fmt.Errorf("codestore: syncing blob: %w", err)
	}
	if err := f.Close(); err != nil {
		return Info{}, fmt.Errorf("codestore: writing blob: %w", err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		return Info{}, fmt.Errorf("codestore: %w", err)
	}
	done = true
	if err := durable.SyncDir(s.blobs); err != nil {
		return Info{}, fmt.Errorf("codestore: %w", err)
	}
	return p.info, nil
}

// blobIntact reports whether a regular file at p has the given size and digest.
func blobIntact(p string, sum [sha256.Size]byte, size int64) (bool, error) {
	fi, err := os.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("codestore: %w", err)
	}
	if !fi.Mode().IsRegular() || fi.Size() != size {
		return false, nil
	}
	f, err := os.Open(p)
	if err != nil {
		return false, fmt.Errorf("codestore: %w", err)
	}
	defer f.Close()
	hh := sha256.New()
	if _, err := io.Copy(hh, f); err != nil {
		return false, fmt.Errorf("codestore: reading blob: %w", err)
	}
	return bytes.Equal(hh.Sum(nil), sum[:]), nil
}

// Extract validates the stored blob fully and extracts it into code/<hex>,
// returning that directory's absolute path. If the directory already exists
// it is returned at once.
//
// Validation is Inspect's, plus: the blob must still hash to its name, and
// every entry is decompressed with the limits enforced on bytes really
// produced (an entry may not yield more or fewer bytes than declared, and the
// total may not exceed lim.MaxUnzipped) and with its CRC-32 verified.
// Extraction happens in a temp dir under code/ that is renamed into place
// once complete and synced, so the final name only ever holds a complete tree.
// Files are 0444 (0555 if executable in the zip or named "bootstrap"), dirs
// 0555; symlinks are recreated as they are (relative and inside the tree).
//
// A missing blob yields ErrNotFound; a malformed digest ErrInvalidSha256;
// a rejected package an *Error.
func (s *Store) Extract(sha256b64 string, lim Limits) (dir string, err error) {
	h, err := shaHex(sha256b64)
	if err != nil {
		return "", err
	}
	final := filepath.Join(s.code, h)
	if isDir(final) {
		return final, nil
	}
	unlock := s.lock(h)
	defer unlock()
	if isDir(final) { // extracted while we waited
		return final, nil
	}

	lim = lim.norm()
	data, err := s.readBlob(h, lim)
	if err != nil {
		return "", err
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != h {
		return "", newErr(ReasonCorrupt, "stored blob %s.zip does not match its SHA-256", h)
	}
	p, err := inspect(data, lim)
	if err != nil {
		return "", err
	}

	tmp, err := os.MkdirTemp(s.code, tmpPrefix+h[:16]+"-*")
	if err != nil {
		return "", fmt.Errorf("codestore: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			_ = removeTree(tmp)
		}
	}()
	if err := os.Chmod(tmp, 0o700); err != nil {
		return "", fmt.Errorf("codestore: %w", err)
	}
	if err := p.extractTo(tmp, lim); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, final); err != nil {
		return "", fmt.Errorf("codestore: %w", err)
	}
	ok = true
	if err := durable.SyncDir(s.code); err != nil {
		return "", fmt.Errorf("codestore: %w", err)
	}
	return final, nil
}

func (s *Store) readBlob(h string, lim Limits) ([]byte, error) {
	p := s.blobPath(h)
	fi, err := os.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, hexToB64(h))
	}
	if err != nil {
		return nil, fmt.Errorf("codestore: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("codestore: %s is not a regular file", p)
	}
	if fi.Size() > lim.MaxZipped {
		return nil, &Error{Reason: ReasonTooLargeZipped, Limit: lim.MaxZipped,
			Detail: "zip is " + itoa(fi.Size()) + " bytes"}
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("codestore: reading blob: %w", err)
	}
	return data, nil
}

// extractTo unpacks the validated entries into dir (an empty, private
// directory) and applies the final modes, fsyncing everything.
func (p *parsed) extractTo(dir string, lim Limits) error {
	made := map[string]bool{".": true}
	var mkdirs func(rel string) error
	mkdirs = func(rel string) error {
		if made[rel] {
			return nil
		}
		if err := mkdirs(path.Dir(rel)); err != nil {
			return err
		}
		if err := os.Mkdir(filepath.Join(dir, filepath.FromSlash(rel)), 0o700); err != nil {
			return fmt.Errorf("codestore: %w", err)
		}
		made[rel] = true
		return nil
	}

	buf := make([]byte, 64*1024)
	var total int64
	// Directories and files first; symlinks last, so that nothing is ever
	// created through a link (entries below links were rejected anyway).
	for _, e := range p.entries {
		switch e.kind {
		case kindDir:
			if err := mkdirs(e.name); err != nil {
				return err
			}
		case kindFile:
			if err := mkdirs(path.Dir(e.name)); err != nil {
				return err
			}
			n, err := extractFile(e, filepath.Join(dir, filepath.FromSlash(e.name)), lim.MaxUnzipped-total, lim.MaxUnzipped, buf)
			if err != nil {
				return err
			}
			total += n
		}
	}
	for _, e := range p.entries {
		if e.kind != kindSymlink {
			continue
		}
		if err := mkdirs(path.Dir(e.name)); err != nil {
			return err
		}
		if err := os.Symlink(e.target, filepath.Join(dir, filepath.FromSlash(e.name))); err != nil {
			return fmt.Errorf("codestore: %w", err)
		}
	}

	// Seal directories bottom-up: chmod, then fsync (which also persists the
	// entries created in them).
	dirs := make([]string, 0, len(made))
	for d := range made {
		dirs = append(dirs, d)
	}
	sort.Slice(dirs, func(i, j int) bool {
		di, dj := strings.Count(dirs[i], "/"), strings.Count(dirs[j], "/")
		if dirs[i] == "." {
			di = -1
		}
		if dirs[j] == "." {
			dj = -1
		}
		if di != dj {
			return di > dj
		}
		return dirs[i] < dirs[j]
	})
	for _, d := range dirs {
		full := filepath.Join(dir, filepath.FromSlash(d))
		if err := os.Chmod(full, modeTreeDir); err != nil {
			return fmt.Errorf("codestore: %w", err)
		}
		if err := durable.SyncDir(full); err != nil {
			return fmt.Errorf("codestore: %w", err)
		}
	}
	return nil
}

// extractFile decompresses one regular file to dst, refusing to produce more
// than the declared size or more than budget bytes (what is left of limit),
// verifying size and CRC-32 itself, then sets its final mode and fsyncs it.
func extractFile(e entry, dst string, budget, limit int64, buf []byte) (int64, error) {
	f := e.f
	declared := int64(f.UncompressedSize64) // <= MaxUnzipped, checked by inspect
	rc, err := f.Open()
	if err != nil {
		return 0, newErr(ReasonUnreadable, "entry %s: %v", qname(f.Name), err)
	}
	defer rc.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, fmt.Errorf("codestore: %w", err)
	}
	defer out.Close()

	var n int64
	var crc uint32
	for {
		// Never ask for more than one byte past what may legitimately come.
		want := int64(len(buf))
		if room := declared - n + 1; room < want {
			want = room
		}
		m, rerr := rc.Read(buf[:want])
		if m > 0 {
			n += int64(m)
			if n > declared {
				return n, newErr(ReasonCorrupt, "entry %s decompresses to more than its declared %d bytes", qname(f.Name), declared)
			}
			if n > budget {
				return n, &Error{Reason: ReasonTooLargeUnzipped, Limit: limit,
					Detail: "actual uncompressed size exceeds the limit at entry " + qname(f.Name)}
			}
			crc = crc32.Update(crc, crc32.IEEETable, buf[:m])
			if _, err := out.Write(buf[:m]); err != nil {
				return n, fmt.Errorf("codestore: writing %s: %w", dst, err)
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return n, newErr(ReasonCorrupt, "entry %s: %v", qname(f.Name), rerr)
		}
	}
	if n != declared {
		return n, newErr(ReasonCorrupt, "entry %s decompresses to %d bytes but declares %d", qname(f.Name), n, declared)
	}
	if crc != f.CRC32 {
		return n, newErr(ReasonCorrupt, "entry %s fails its CRC-32 check", qname(f.Name))
	}
	mode := fs.FileMode(modeFile)
	if e.exec {
		mode = modeExec
	}
	if err := out.Chmod(mode); err != nil {
		return n, fmt.Errorf("codestore: %w", err)
	}
	if err := out.Sync(); err != nil {
		return n, fmt.Errorf("codestore: syncing %s: %w", dst, err)
	}
	if err := out.Close(); err != nil {
		return n, fmt.Errorf("codestore: writing %s: %w", dst, err)
	}
	return n, nil
}

// CodeDir returns the absolute path Extract returns for sha256b64, and
// whether that directory exists. A malformed digest yields "", false.
func (s *Store) CodeDir(sha256b64 string) (string, bool) {
	h, err := shaHex(sha256b64)
	if err != nil {
		return "", false
	}
	p := filepath.Join(s.code, h)
	return p, isDir(p)
}

// ZipPath returns the absolute path of the stored zip for sha256b64 (for
// serving GetFunction's Code.Location download), and whether it exists.
// A malformed digest yields "", false.
func (s *Store) ZipPath(sha256b64 string) (string, bool) {
	h, err := shaHex(sha256b64)
	if err != nil {
		return "", false
	}
	p := s.blobPath(h)
	fi, err := os.Lstat(p)
	return p, err == nil && fi.Mode().IsRegular()
}

// Remove deletes a blob and its extracted directory, if present; removing
// something absent is not an error. The caller decides what is garbage.
// The directory is first renamed away, so it disappears atomically.
// Processes still running from it keep their open files but lose the path.
func (s *Store) Remove(sha256b64 string) error {
	h, err := shaHex(sha256b64)
	if err != nil {
		return err
	}
	unlock := s.lock(h)
	defer unlock()

	final := filepath.Join(s.code, h)
	if _, err := os.Lstat(final); err == nil {
		grave := filepath.Join(s.code, tmpPrefix+"rm-"+h[:16]+"-"+rand.Text())
		if err := os.Rename(final, grave); err != nil {
			return fmt.Errorf("codestore: %w", err)
		}
		if err := durable.SyncDir(s.code); err != nil {
			return fmt.Errorf("codestore: %w", err)
		}
		if err := removeTree(grave); err != nil {
			return fmt.Errorf("codestore: %w", err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("codestore: %w", err)
	}
	if err := os.Remove(s.blobPath(h)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("codestore: %w", err)
	}
	if err := durable.SyncDir(s.blobs); err != nil {
		return fmt.Errorf("codestore: %w", err)
	}
	return nil
}

func (s *Store) blobPath(h string) string { return filepath.Join(s.blobs, h+".zip") }

// lock serializes operations on one digest within this Store.
func (s *Store) lock(h string) (unlock func()) {
	s.mu.Lock()
	l := s.locks[h]
	if l == nil {
		l = &keyLock{}
		s.locks[h] = l
	}
	l.refs++
	s.mu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		s.mu.Lock()
		if l.refs--; l.refs == 0 {
			delete(s.locks, h)
		}
		s.mu.Unlock()
	}
}

// shaHex converts a canonical base64 SHA-256 (CodeSha256) to lowercase hex.
func shaHex(b64 string) (string, error) {
	raw, err := base64.StdEncoding.Strict().DecodeString(b64)
	if err != nil || len(raw) != sha256.Size || base64.StdEncoding.EncodeToString(raw) != b64 {
		return "", fmt.Errorf("%w: %q", ErrInvalidSha256, b64)
	}
	return hex.EncodeToString(raw), nil
}

func hexToB64(h string) string {
	raw, _ := hex.DecodeString(h)
	return base64.StdEncoding.EncodeToString(raw)
}

func isDir(p string) bool {
	fi, err := os.Lstat(p)
	return err == nil && fi.IsDir()
}

// removeTree deletes p recursively, first making its directories writable
// (extracted trees are read-only, which stops unlink for non-root users).
// Symlinks are never followed.
func removeTree(p string) error {
	_ = filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(q, 0o700) // before WalkDir reads it
		}
		return nil
	})
	return os.RemoveAll(p)
}
