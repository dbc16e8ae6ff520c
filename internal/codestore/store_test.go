package codestore

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func mode(t *testing.T, p string) fs.FileMode {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode()
}

func hexOf(z []byte) string {
	s := sha256.Sum256(z)
	return hex.EncodeToString(s[:])
}

// listCode returns the names in code/, to check that no temporaries remain.
func listCode(t *testing.T, s *Store) []string {
	t.Helper()
	ents, err := os.ReadDir(s.code)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestOpenLayout(t *testing.T) {
	s := newStore(t)
	for _, c := range []struct {
		path string
		want fs.FileMode
	}{
		{s.Root(), fs.ModeDir | 0o711},
		{filepath.Join(s.Root(), "blobs"), fs.ModeDir | 0o700},
		{filepath.Join(s.Root(), "code"), fs.ModeDir | 0o711},
	} {
		if got := mode(t, c.path); got != c.want {
			t.Errorf("%s: mode %v, want %v", c.path, got, c.want)
		}
	}
	// Reopening an existing store is fine, and a fresh root below a missing parent is created.
	if _, err := Open(s.Root()); err != nil {
		t.Fatal(err)
	}
	nested := filepath.Join(t.TempDir(), "x", "y")
	s2, err := Open(nested)
	if err != nil {
		t.Fatal(err)
	}
	if got := mode(t, s2.Root()); got != fs.ModeDir|0o711 {
		t.Errorf("nested root mode %v", got)
	}
	if !filepath.IsAbs(s2.Root()) {
		t.Errorf("root %q not absolute", s2.Root())
	}
}

func TestPutZipAndExtract(t *testing.T) {
	s := newStore(t)
	z := mkzip(t,
		fileMode("bootstrap", "#!/bin/sh\necho hi\n", 0o644), // forced executable by name
		dir("lib/"),
		file("lib/a.txt", "alpha"), // no Unix mode (MS-DOS style)
		fileMode("lib/deep/er/b.txt", "beta", 0o666),
		fileMode("bin/tool", "\x7fELF", 0o755),
		fileMode("bin/setuid", "s", fs.ModeSetuid|0o4755),
		link("lib/link", "../bootstrap"),
		link("lib/deep/here", "er"),
	)
	info, err := s.PutZip(z, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if info.Sha256 != b64sum(z) {
		t.Fatalf("Sha256 %q, want %q", info.Sha256, b64sum(z))
	}
	blob, ok := s.ZipPath(info.Sha256)
	if !ok || blob != filepath.Join(s.Root(), "blobs", hexOf(z)+".zip") {
		t.Fatalf("ZipPath = %q, %v", blob, ok)
	}
	if got, _ := os.ReadFile(blob); !bytes.Equal(got, z) {
		t.Fatal("blob content differs")
	}
	if m := mode(t, blob); m != 0o400 {
		t.Errorf("blob mode %v", m)
	}
	if _, ok := s.CodeDir(info.Sha256); ok {
		t.Fatal("CodeDir exists before Extract")
	}

	d, err := s.Extract(info.Sha256, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(s.Root(), "code", hexOf(z)); d != want || !filepath.IsAbs(d) {
		t.Fatalf("Extract dir %q, want %q", d, want)
	}
	if cd, ok := s.CodeDir(info.Sha256); !ok || cd != d {
		t.Fatalf("CodeDir = %q, %v", cd, ok)
	}

	wantModes := map[string]fs.FileMode{
		".":                 fs.ModeDir | 0o555,
		"bootstrap":         0o555,
		"lib":               fs.ModeDir | 0o555,
		"lib/a.txt":         0o444,
		"lib/deep":          fs.ModeDir | 0o555,
		"lib/deep/er":       fs.ModeDir | 0o555,
		"lib/deep/er/b.txt": 0o444,
		"bin":               fs.ModeDir | 0o555,
		"bin/tool":          0o555,
		"bin/setuid":        0o555,
	}
	for rel, want := range wantModes {
		if got := mode(t, filepath.Join(d, rel)); got != want {
			t.Errorf("%s: mode %v, want %v", rel, got, want)
		}
	}
	wantContent := map[string]string{
		"bootstrap":           "#!/bin/sh\necho hi\n",
		"lib/a.txt":           "alpha",
		"lib/deep/er/b.txt":   "beta",
		"bin/tool":            "\x7fELF",
		"lib/link":            "#!/bin/sh\necho hi\n", // through the symlink
		"lib/deep/here/b.txt": "beta",
	}
	for rel, want := range wantContent {
		got, err := os.ReadFile(filepath.Join(d, rel))
		if err != nil || string(got) != want {
			t.Errorf("%s: content %q, %v; want %q", rel, got, err, want)
		}
	}
	if tgt, err := os.Readlink(filepath.Join(d, "lib/link")); err != nil || tgt != "../bootstrap" {
		t.Errorf("lib/link -> %q, %v", tgt, err)
	}
	if names := listCode(t, s); len(names) != 1 || names[0] != hexOf(z) {
		t.Errorf("code/ holds %v", names)
	}
}

func TestEmptyPackage(t *testing.T) {
	s := newStore(t)
	z := mkzip(t)
	info, err := s.PutZip(z, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Files) != 0 || info.SizeUnzipped != 0 {
		t.Fatalf("info %+v", info)
	}
	d, err := s.Extract(info.Sha256, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(d)
	if err != nil || len(ents) != 0 {
		t.Fatalf("empty package dir: %v, %v", ents, err)
	}
	if m := mode(t, d); m != fs.ModeDir|0o555 {
		t.Fatalf("mode %v", m)
	}
}

func TestPutZipRejectsWithoutWriting(t *testing.T) {
	s := newStore(t)
	z := mkzip(t, file("../evil", "x"))
	if _, err := s.PutZip(z, Limits{}); reasonOf(err) != ReasonUnsafePath {
		t.Fatalf("PutZip: %v", err)
	}
	ents, _ := os.ReadDir(s.blobs)
	if len(ents) != 0 {
		t.Fatalf("blobs/ not empty: %v", ents)
	}
}

func TestIdempotent(t *testing.T) {
	s := newStore(t)
	z := mkzip(t, file("index.js", "exports.handler = async () => 1"))
	i1, err := s.PutZip(z, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	blob, _ := s.ZipPath(i1.Sha256)
	fi1, _ := os.Stat(blob)
	i2, err := s.PutZip(bytes.Clone(z), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	fi2, _ := os.Stat(blob)
	if i1.Sha256 != i2.Sha256 || !os.SameFile(fi1, fi2) {
		t.Fatal("second PutZip rewrote the blob")
	}

	d1, err := s.Extract(i1.Sha256, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	st1, _ := os.Stat(d1)
	d2, err := s.Extract(i1.Sha256, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	st2, _ := os.Stat(d2)
	if d1 != d2 || !os.SameFile(st1, st2) {
		t.Fatal("second Extract re-extracted")
	}
	if names := listCode(t, s); len(names) != 1 {
		t.Fatalf("code/ holds %v", names)
	}
}

func TestPutZipRepairsDamagedBlob(t *testing.T) {
	s := newStore(t)
	z := mkzip(t, file("a.txt", strings.Repeat("a", 100)))
	info, err := s.PutZip(z, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	blob, _ := s.ZipPath(info.Sha256)
	damaged := bytes.Clone(z)
	damaged[40] ^= 0xff
	os.Chmod(blob, 0o600)
	if err := os.WriteFile(blob, damaged, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Extract(info.Sha256, Limits{}); reasonOf(err) != ReasonCorrupt || err.Error() != MsgCouldNotUnzip {
		t.Fatalf("Extract of damaged blob: %v", err)
	}
	if _, err := s.PutZip(z, Limits{}); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(blob); !bytes.Equal(got, z) {
		t.Fatal("PutZip did not repair the blob")
	}
	if _, err := s.Extract(info.Sha256, Limits{}); err != nil {
		t.Fatal(err)
	}
}

// TestExtractHostile covers what only decompression can reveal. Every case
// must pass PutZip (cheap checks) and fail Extract without leaving anything
// in code/.
func TestExtractHostile(t *testing.T) {
	const mib = 1 << 20
	bomb, bombCRC := zerosDeflate(t, 300*mib)
	small4, small4CRC := zerosDeflate(t, 4*mib)
	hello := []byte("hello")

	tests := []struct {
		name   string
		zip    []byte
		put    Limits
		lim    Limits
		reason Reason
	}{
		{
			// The central directory says 1000 bytes; the stream inflates to 300 MiB.
			name: "lying small declared size",
			zip: mkrawzip(t, rawEnt{zip.FileHeader{Name: "bomb", Method: zip.Deflate, CRC32: bombCRC,
				CompressedSize64: uint64(len(bomb)), UncompressedSize64: 1000}, bomb}),
			reason: ReasonCorrupt,
		},
		{
			name: "lying declared size near the limit",
			zip: mkrawzip(t,
				rawEnt{zip.FileHeader{Name: "ok", Method: zip.Store, CRC32: crc32.ChecksumIEEE(hello), CompressedSize64: 5, UncompressedSize64: 5}, hello},
				rawEnt{zip.FileHeader{Name: "bomb", Method: zip.Deflate, CRC32: bombCRC,
					CompressedSize64: uint64(len(bomb)), UncompressedSize64: 4 * mib}, bomb}),
			lim:    Limits{MaxUnzipped: 5 * mib},
			reason: ReasonCorrupt,
		},
		{
			// Accurate sizes, allowed at upload time, but Extract's own limits are lower.
			name: "bomb over Extract's limits",
			zip: mkrawzip(t, rawEnt{zip.FileHeader{Name: "zeros", Method: zip.Deflate, CRC32: bombCRC,
				CompressedSize64: uint64(len(bomb)), UncompressedSize64: 300 * mib}, bomb}),
			put:    Limits{MaxUnzipped: 1 << 30, MaxRatio: 2000},
			reason: ReasonTooLargeUnzipped,
		},
		{
			name:   "stream shorter than declared",
			zip:    mkrawzip(t, rawEnt{zip.FileHeader{Name: "short", Method: zip.Deflate, CRC32: small4CRC, CompressedSize64: uint64(len(small4)), UncompressedSize64: 5 * mib}, small4}),
			put:    Limits{MaxRatio: 2000},
			lim:    Limits{MaxRatio: 2000},
			reason: ReasonCorrupt,
		},
		{
			name:   "wrong CRC",
			zip:    mkrawzip(t, rawEnt{zip.FileHeader{Name: "x", Method: zip.Store, CRC32: 12345, CompressedSize64: 5, UncompressedSize64: 5}, hello}),
			reason: ReasonCorrupt,
		},
		{
			// archive/zip skips the check when the CRC field is zero; we do not.
			name:   "zero CRC",
			zip:    mkrawzip(t, rawEnt{zip.FileHeader{Name: "x", Method: zip.Store, CRC32: 0, CompressedSize64: 5, UncompressedSize64: 5}, hello}),
			reason: ReasonCorrupt,
		},
		{
			name:   "garbage deflate stream",
			zip:    mkrawzip(t, rawEnt{zip.FileHeader{Name: "x", Method: zip.Deflate, CRC32: 1, CompressedSize64: 8, UncompressedSize64: 8}, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}),
			reason: ReasonCorrupt,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			info, err := s.PutZip(tc.zip, tc.put)
			if err != nil {
				t.Fatalf("PutZip: %v (%s)", err, detail(err))
			}
			d, err := s.Extract(info.Sha256, tc.lim)
			if err == nil {
				t.Fatalf("Extract succeeded: %s", d)
			}
			if got := reasonOf(err); got != tc.reason {
				t.Fatalf("reason %v (%v: %s), want %v", got, err, detail(err), tc.reason)
			}
			if names := listCode(t, s); len(names) != 0 {
				t.Fatalf("code/ holds %v after failed Extract", names)
			}
			if _, ok := s.CodeDir(info.Sha256); ok {
				t.Fatal("CodeDir reports a failed extraction")
			}
		})
	}
}

func TestExtractAddressErrors(t *testing.T) {
	s := newStore(t)
	unknown := b64sum([]byte("never stored"))
	if _, err := s.Extract(unknown, Limits{}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown sha: %v", err)
	}
	for _, bad := range []string{"", "nope", hexOf([]byte("x")), unknown[:40], unknown + "\n", strings.ToLower(unknown),
		base64.URLEncoding.EncodeToString(make([]byte, 32)) + "x"} {
		if bad == unknown {
			continue
		}
		if _, err := s.Extract(bad, Limits{}); !errors.Is(err, ErrInvalidSha256) {
			t.Errorf("Extract(%q): %v", bad, err)
		}
		if p, ok := s.CodeDir(bad); ok || p != "" {
			t.Errorf("CodeDir(%q) = %q, %v", bad, p, ok)
		}
		if p, ok := s.ZipPath(bad); ok || p != "" {
			t.Errorf("ZipPath(%q) = %q, %v", bad, p, ok)
		}
		if err := s.Remove(bad); !errors.Is(err, ErrInvalidSha256) {
			t.Errorf("Remove(%q): %v", bad, err)
		}
	}
	// Missing blob: ZipPath still names where it would be.
	if p, ok := s.ZipPath(unknown); ok || !strings.HasSuffix(p, ".zip") {
		t.Errorf("ZipPath(unknown) = %q, %v", p, ok)
	}
}

func TestExtractCrashLeftovers(t *testing.T) {
	s := newStore(t)
	z := mkzip(t, file("bootstrap", "#!/bin/sh\n"), file("lib/x", "x"))
	info, err := s.PutZip(z, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	h := hexOf(z)

	// Simulate a process killed mid-Extract and mid-PutZip: a half-written,
	// partly sealed temp tree named like the ones Extract makes, and a temp blob.
	left := filepath.Join(s.code, tmpPrefix+h[:16]+"-123456")
	if err := os.MkdirAll(filepath.Join(left, "lib"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(left, "lib", "x"), []byte("partial"), 0o444); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Join(left, "lib"), 0o555)
	leftBlob := filepath.Join(s.blobs, tmpPrefix+h[:16]+"-999")
	if err := os.WriteFile(leftBlob, z[:10], 0o600); err != nil {
		t.Fatal(err)
	}

	d, err := s.Extract(info.Sha256, Limits{})
	if err != nil {
		t.Fatalf("Extract with leftovers: %v", err)
	}
	if got, _ := os.ReadFile(filepath.Join(d, "lib", "x")); string(got) != "x" {
		t.Fatalf("content %q", got)
	}

	// The next Open sweeps the leftovers, and leaves real content alone.
	s2, err := Open(s.Root())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{left, leftBlob} {
		if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("leftover %s survived Open: %v", p, err)
		}
	}
	if d2, ok := s2.CodeDir(info.Sha256); !ok || d2 != d {
		t.Fatalf("CodeDir after reopen = %q, %v", d2, ok)
	}
	if _, ok := s2.ZipPath(info.Sha256); !ok {
		t.Fatal("blob lost by reopen")
	}
}

func TestConcurrentExtract(t *testing.T) {
	s := newStore(t)
	var ents []zent
	for i := range 50 {
		ents = append(ents, file("f/"+strings.Repeat("n", i%7+1)+string(rune('a'+i%26))+string(rune('a'+i/26)), strings.Repeat("data", i)))
	}
	z := mkzip(t, ents...)
	info, err := s.PutZip(z, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	const n = 8
	dirs := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			dirs[i], errs[i] = s.Extract(info.Sha256, Limits{})
		}()
	}
	close(start)
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("goroutine %d: %v", i, errs[i])
		}
		if dirs[i] != dirs[0] {
			t.Fatalf("goroutine %d got %q, goroutine 0 got %q", i, dirs[i], dirs[0])
		}
	}
	if names := listCode(t, s); len(names) != 1 || names[0] != hexOf(z) {
		t.Fatalf("code/ holds %v", names)
	}
	got, err := os.ReadDir(filepath.Join(dirs[0], "f"))
	if err != nil || len(got) != 50 {
		t.Fatalf("extracted %d files, %v", len(got), err)
	}
}

func TestConcurrentDistinctPackages(t *testing.T) {
	s := newStore(t)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			z := mkzip(t, file("bootstrap", strings.Repeat("x", i+1)))
			info, err := s.PutZip(z, Limits{})
			if err == nil {
				_, err = s.Extract(info.Sha256, Limits{})
			}
			if err == nil && i%2 == 0 {
				err = s.Remove(info.Sha256)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if names := listCode(t, s); len(names) != 8 {
		t.Fatalf("code/ holds %d entries, want 8: %v", len(names), names)
	}
}

func TestRemove(t *testing.T) {
	s := newStore(t)
	z := mkzip(t, dir("d/"), file("d/f", "x"), link("l", "d/f"))
	info, err := s.PutZip(z, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Extract(info.Sha256, Limits{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(info.Sha256); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.CodeDir(info.Sha256); ok {
		t.Fatal("code dir survived Remove")
	}
	if _, ok := s.ZipPath(info.Sha256); ok {
		t.Fatal("blob survived Remove")
	}
	if names := listCode(t, s); len(names) != 0 {
		t.Fatalf("code/ holds %v", names)
	}
	if err := s.Remove(info.Sha256); err != nil {
		t.Fatalf("second Remove: %v", err)
	}
	if _, err := s.Extract(info.Sha256, Limits{}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Extract after Remove: %v", err)
	}
	// Store again after removal.
	if _, err := s.PutZip(z, Limits{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Extract(info.Sha256, Limits{}); err != nil {
		t.Fatal(err)
	}
}
