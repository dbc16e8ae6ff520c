package codestore

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"hash/crc32"
	"io/fs"
	"path/filepath"
	"testing"
)

// zent describes one entry for mkzip.
type zent struct {
	name string
	body string
	mode fs.FileMode // 0: no Unix mode (MS-DOS style entry, reads as 0666)
}

func file(name, body string) zent                    { return zent{name: name, body: body} }
func fileMode(name, body string, m fs.FileMode) zent { return zent{name, body, m} }
func dir(name string) zent                           { return zent{name: name, mode: fs.ModeDir | 0o755} }
func link(name, target string) zent                  { return zent{name, target, fs.ModeSymlink | 0o777} }

// mkzip builds a zip with archive/zip, which writes whatever names it is given.
func mkzip(t testing.TB, ents ...zent) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range ents {
		fh := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		if e.mode != 0 {
			fh.SetMode(e.mode)
		}
		w, err := zw.CreateHeader(fh)
		if err != nil {
			t.Fatalf("create %q: %v", e.name, err)
		}
		if e.body != "" {
			if _, err := w.Write([]byte(e.body)); err != nil {
				t.Fatalf("write %q: %v", e.name, err)
			}
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// rawEnt is an entry written with CreateRaw: the header says what we want,
// whatever the data is.
type rawEnt struct {
	fh   zip.FileHeader
	data []byte
}

func mkrawzip(t testing.TB, ents ...rawEnt) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range ents {
		fh := e.fh
		w, err := zw.CreateRaw(&fh)
		if err != nil {
			t.Fatalf("create raw %q: %v", fh.Name, err)
		}
		if _, err := w.Write(e.data); err != nil {
			t.Fatalf("write raw %q: %v", fh.Name, err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// zerosDeflate returns a raw deflate stream that inflates to total zero bytes
// (a multiple of 1 MiB), plus the CRC-32 of those bytes. Only 3 MiB are
// actually compressed: after a sync flush the compressor's output for each
// further MiB of zeros is identical, so that segment is repeated.
func zerosDeflate(t testing.TB, total int64) ([]byte, uint32) {
	t.Helper()
	const mib = 1 << 20
	if total%mib != 0 || total < 3*mib {
		t.Fatalf("zerosDeflate: bad total %d", total)
	}
	zeros := make([]byte, mib)
	var out bytes.Buffer
	fw, err := flate.NewWriter(&out, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	var segs [][]byte
	for range 3 {
		fw.Write(zeros)
		fw.Flush()
		segs = append(segs, bytes.Clone(out.Bytes()))
		out.Reset()
	}
	fw.Close()
	tail := bytes.Clone(out.Bytes())
	if !bytes.Equal(segs[1], segs[2]) {
		t.Fatal("zerosDeflate: flate output for repeated zeros is not periodic")
	}
	var stream bytes.Buffer
	stream.Write(segs[0])
	for i := int64(1); i < total/mib; i++ {
		stream.Write(segs[1])
	}
	stream.Write(tail)

	var crc uint32
	for i := int64(0); i < total/mib; i++ {
		crc = crc32.Update(crc, crc32.IEEETable, zeros)
	}
	return stream.Bytes(), crc
}

func b64sum(b []byte) string {
	s := sha256.Sum256(b)
	return base64.StdEncoding.EncodeToString(s[:])
}

func reasonOf(err error) Reason {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return 0
}

// newStore opens a store in a temp dir whose read-only trees are made
// removable before t.TempDir's cleanup runs (matters when not root).
func newStore(t *testing.T) *Store {
	t.Helper()
	root := filepath.Join(t.TempDir(), "store") // created by Open, so it gets Open's mode
	t.Cleanup(func() { _ = removeTree(root) })
	s, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
