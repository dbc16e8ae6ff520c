package codestore

import (
	"archive/zip"
	"errors"
	"io/fs"
	"testing"
)

// FuzzInspect checks that no input makes Inspect panic and that every
// rejection is an *Error. Seeds run as part of go test; fuzz with
// go test -fuzz=FuzzInspect ./internal/codestore/.
func FuzzInspect(f *testing.F) {
	f.Add(mkzip(f, file("bootstrap", "#!/bin/sh\n"), dir("lib/"), file("lib/a", "a"), link("l", "lib/a")))
	f.Add(mkzip(f, link("s1", "."), link("s2", "s1/..")))
	f.Add(mkzip(f, file("../x", "x")))
	f.Add(mkzip(f, fileMode("p", "", fs.ModeNamedPipe|0o644)))
	f.Add(mkzip(f))
	f.Add(mkrawzip(f, rawEnt{zip.FileHeader{Name: "x", Method: zip.Store, CompressedSize64: 5, UncompressedSize64: 5}, []byte("hello")}))
	f.Add([]byte("PK\x05\x06\x00\x00\x00\x00\x01\x00\x01\x00\x2e\x00\x00\x00\x00\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := Inspect(b, Limits{MaxEntries: 1000, MaxUnzipped: 1 << 20})
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Error() == "" {
				t.Fatalf("rejection is not an *Error: %v", err)
			}
			return
		}
		if info.SizeZipped != int64(len(b)) || info.SizeUnzipped > 1<<20 || len(info.Files) > 1000 {
			t.Fatalf("inconsistent info %+v", info)
		}
	})
}
