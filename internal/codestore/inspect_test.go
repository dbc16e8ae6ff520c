package codestore

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"io/fs"
	"reflect"
	"strings"
	"testing"
)

func TestInspect(t *testing.T) {
	const mib = 1 << 20
	bomb, bombCRC := zerosDeflate(t, 300*mib)
	bombZip := mkrawzip(t, rawEnt{zip.FileHeader{Name: "zeros", Method: zip.Deflate, CRC32: bombCRC,
		CompressedSize64: uint64(len(bomb)), UncompressedSize64: 300 * mib}, bomb})

	valid := func(t *testing.T) []byte {
		return mkzip(t,
			fileMode("bootstrap", "#!/bin/sh\necho hi\n", 0o644),
			dir("lib/"),
			file("lib/a.txt", "alpha"),
			fileMode("lib/deep/er/b.txt", "beta", 0o600),
			link("lib/link", "../bootstrap"),
		)
	}
	emptyZip := func(t *testing.T) []byte { return mkzip(t) }

	tests := []struct {
		name   string
		zip    func(t *testing.T) []byte
		lim    Limits
		reason Reason // 0: valid
		msg    string // exact Error() if set
	}{
		{name: "valid nested", zip: valid},
		{name: "empty zip is accepted", zip: emptyZip},
		{name: "root dir entry ignored", zip: func(t *testing.T) []byte { return mkzip(t, dir("./"), file("a", "x")) }},
		{name: "dot-slash names are cleaned", zip: func(t *testing.T) []byte { return mkzip(t, file("./a//b", "x")) }},
		{name: "symlink inside tree", zip: func(t *testing.T) []byte {
			return mkzip(t, file("a", "x"), link("cur", "."), dir("d/"), link("d/up", ".."), link("d/a", "../a"), link("d/c", "../cur/d/a"))
		}},
		{name: "dangling symlink inside tree", zip: func(t *testing.T) []byte { return mkzip(t, link("l", "missing/x")) }},
		{name: "signatures in data but few entries", lim: Limits{MaxEntries: 5}, zip: func(t *testing.T) []byte {
			var buf bytes.Buffer
			zw := zip.NewWriter(&buf)
			w, _ := zw.CreateHeader(&zip.FileHeader{Name: "sigs.bin", Method: zip.Store})
			w.Write([]byte(strings.Repeat("PK\x01\x02", 50)))
			zw.Close()
			return buf.Bytes()
		}},
		{name: "bomb passes when limits allow (nothing inflated)", zip: func(*testing.T) []byte { return bombZip },
			lim: Limits{MaxUnzipped: 1 << 30, MaxRatio: 2000}},

		{name: "not a zip", zip: func(*testing.T) []byte { return []byte("this is not a zip file, just some text") },
			reason: ReasonUnreadable, msg: MsgCouldNotUnzip},
		{name: "zero bytes", zip: func(*testing.T) []byte { return nil }, reason: ReasonUnreadable, msg: MsgCouldNotUnzip},
		{name: "truncated", zip: func(t *testing.T) []byte { z := valid(t); return z[:len(z)/2] }, reason: ReasonUnreadable},
		{name: "truncated by one byte", zip: func(t *testing.T) []byte { z := valid(t); return z[:len(z)-1] }, reason: ReasonUnreadable},
		{name: "dotdot", zip: func(t *testing.T) []byte { return mkzip(t, file("../x", "x")) },
			reason: ReasonUnsafePath, msg: MsgCouldNotUnzip + ` (entry "../x" escapes the package root)`},
		{name: "absolute", zip: func(t *testing.T) []byte { return mkzip(t, file("/abs", "x")) },
			reason: ReasonUnsafePath, msg: MsgCouldNotUnzip + ` (entry "/abs" is an absolute path)`},
		{name: "nested escape", zip: func(t *testing.T) []byte { return mkzip(t, file("a/../../x", "x")) },
			reason: ReasonUnsafePath, msg: MsgCouldNotUnzip + ` (entry "a/../../x" escapes the package root)`},
		{name: "dotdot that stays inside", zip: func(t *testing.T) []byte { return mkzip(t, file("a/../b", "x")) }, reason: ReasonUnsafePath},
		{name: "drive letter backslash", zip: func(t *testing.T) []byte { return mkzip(t, file(`C:\x`, "x")) },
			reason: ReasonUnsafePath, msg: MsgCouldNotUnzip + ` (entry "C:\\x" starts with a drive letter)`},
		{name: "drive letter slash", zip: func(t *testing.T) []byte { return mkzip(t, file("c:/x", "x")) }, reason: ReasonUnsafePath},
		{name: "backslash dotdot", zip: func(t *testing.T) []byte { return mkzip(t, file(`..\x`, "x")) },
			reason: ReasonUnsafePath, msg: MsgCouldNotUnzip + ` (entry "..\\x" contains a backslash)`},
		{name: "NUL in name", zip: func(t *testing.T) []byte { return mkzip(t, file("a\x00b", "x")) },
			reason: ReasonUnsafePath, msg: MsgCouldNotUnzip + ` (entry "a\x00b" contains a NUL byte)`},
		{name: "empty name", zip: func(t *testing.T) []byte { return mkzip(t, file("", "x")) }, reason: ReasonUnsafePath},
		{name: "file named dot", zip: func(t *testing.T) []byte { return mkzip(t, file(".", "x")) }, reason: ReasonUnsafePath},
		{name: "element too long", zip: func(t *testing.T) []byte { return mkzip(t, file(strings.Repeat("a", 256), "x")) }, reason: ReasonUnsafePath},
		{name: "file below file", zip: func(t *testing.T) []byte { return mkzip(t, file("a", "x"), file("a/b", "y")) }, reason: ReasonUnsafePath},
		{name: "file below symlink", zip: func(t *testing.T) []byte { return mkzip(t, dir("d/"), link("s", "d"), file("s/x", "y")) },
			reason: ReasonUnsafePath, msg: MsgCouldNotUnzip + ` (entry "s/x" is below "s", which is not a directory)`},

		{name: "symlink to etc passwd", zip: func(t *testing.T) []byte { return mkzip(t, link("evil", "../../etc/passwd")) },
			reason: ReasonSymlinkEscape, msg: MsgCouldNotUnzip + ` (symlink "evil" -> "../../etc/passwd" escapes the package root)`},
		{name: "symlink absolute", zip: func(t *testing.T) []byte { return mkzip(t, link("abs", "/etc/passwd")) }, reason: ReasonSymlinkEscape},
		{name: "symlink nested escape", zip: func(t *testing.T) []byte { return mkzip(t, dir("d/"), link("d/l", "../../x")) }, reason: ReasonSymlinkEscape},
		{name: "symlink chain escape", zip: func(t *testing.T) []byte { return mkzip(t, link("s1", "."), link("s2", "s1/..")) }, reason: ReasonSymlinkEscape},
		{name: "symlink chain via dir escape", zip: func(t *testing.T) []byte {
			return mkzip(t, dir("a/b/"), link("a/b/up", "../.."), link("x", "a/b/up/.."))
		}, reason: ReasonSymlinkEscape},
		{name: "symlink loop", zip: func(t *testing.T) []byte { return mkzip(t, link("a", "b"), link("b", "a")) }, reason: ReasonSymlinkEscape},
		{name: "symlink empty target", zip: func(t *testing.T) []byte {
			return mkrawzip(t, rawEnt{symlinkHeader("l", 0, 0), nil})
		}, reason: ReasonSymlinkEscape},

		{name: "duplicate", zip: func(t *testing.T) []byte { return mkzip(t, file("a", "1"), file("a", "2")) },
			reason: ReasonDuplicateEntry, msg: MsgCouldNotUnzip + ` (entry "a" is a duplicate of another entry)`},
		{name: "duplicate after cleaning", zip: func(t *testing.T) []byte { return mkzip(t, file("a", "1"), file("./a", "2")) }, reason: ReasonDuplicateEntry},
		{name: "dir and file same name", zip: func(t *testing.T) []byte { return mkzip(t, dir("d/"), file("d", "2")) }, reason: ReasonDuplicateEntry},
		{name: "duplicate dir", zip: func(t *testing.T) []byte { return mkzip(t, dir("d/"), dir("d/")) }, reason: ReasonDuplicateEntry},

		{name: "block device", zip: func(t *testing.T) []byte { return mkzip(t, fileMode("dev", "", fs.ModeDevice|0o644)) }, reason: ReasonSpecialFile},
		{name: "char device", zip: func(t *testing.T) []byte {
			return mkzip(t, fileMode("tty", "", fs.ModeDevice|fs.ModeCharDevice|0o644))
		}, reason: ReasonSpecialFile},
		{name: "fifo", zip: func(t *testing.T) []byte { return mkzip(t, fileMode("p", "", fs.ModeNamedPipe|0o644)) }, reason: ReasonSpecialFile},
		{name: "socket", zip: func(t *testing.T) []byte { return mkzip(t, fileMode("s", "", fs.ModeSocket|0o644)) }, reason: ReasonSpecialFile},

		{name: "too many entries", lim: Limits{MaxEntries: 5}, zip: func(t *testing.T) []byte {
			return mkzip(t, file("1", "x"), file("2", "x"), file("3", "x"), file("4", "x"), file("5", "x"), file("6", "x"))
		}, reason: ReasonTooManyEntries, msg: MsgCouldNotUnzip + ` (package has more than 5 entries)`},
		{name: "exactly max entries", lim: Limits{MaxEntries: 5}, zip: func(t *testing.T) []byte {
			return mkzip(t, file("1", "x"), file("2", "x"), file("3", "x"), file("4", "x"), file("5", "x"))
		}},
		{name: "zipped too large", lim: Limits{MaxZipped: 100}, zip: valid,
			reason: ReasonTooLargeZipped, msg: "Zipped size must be smaller than 100 bytes"},
		{name: "zipped too large default", zip: func(*testing.T) []byte { return make([]byte, DefaultMaxZipped+1) },
			reason: ReasonTooLargeZipped, msg: "Zipped size must be smaller than 52428800 bytes"},
		{name: "declared unzipped too large", lim: Limits{MaxUnzipped: 1000}, zip: func(t *testing.T) []byte {
			return mkzip(t, file("big", strings.Repeat("x", 1001)))
		}, reason: ReasonTooLargeUnzipped, msg: "Unzipped size must be smaller than 1000 bytes"},
		{name: "declared unzipped sum too large", lim: Limits{MaxUnzipped: 1000}, zip: func(t *testing.T) []byte {
			return mkzip(t, file("a", strings.Repeat("x", 600)), file("b", strings.Repeat("y", 600)))
		}, reason: ReasonTooLargeUnzipped},
		{name: "lying declared size beyond limit", zip: func(t *testing.T) []byte {
			return mkrawzip(t, rawEnt{zip.FileHeader{Name: "x", Method: zip.Store, CompressedSize64: 1 << 40, UncompressedSize64: 1 << 40}, []byte("tiny")})
		}, reason: ReasonTooLargeUnzipped, msg: "Unzipped size must be smaller than 262144000 bytes"},
		{name: "300MiB zeros bomb, default limits", zip: func(*testing.T) []byte { return bombZip },
			reason: ReasonTooLargeUnzipped, msg: "Unzipped size must be smaller than 262144000 bytes"},
		{name: "300MiB zeros bomb, ratio", zip: func(*testing.T) []byte { return bombZip }, lim: Limits{MaxUnzipped: 1 << 30},
			reason: ReasonSuspiciousRatio},

		{name: "unsupported method", zip: func(t *testing.T) []byte {
			return mkrawzip(t, rawEnt{zip.FileHeader{Name: "x", Method: 12, CompressedSize64: 5, UncompressedSize64: 5}, []byte("hello")})
		}, reason: ReasonUnreadable, msg: MsgCouldNotUnzip},
		{name: "encrypted", zip: func(t *testing.T) []byte {
			return mkrawzip(t, rawEnt{zip.FileHeader{Name: "x", Method: zip.Store, Flags: 1, CompressedSize64: 5, UncompressedSize64: 5}, []byte("hello")})
		}, reason: ReasonUnreadable},
		{name: "stored sizes differ", zip: func(t *testing.T) []byte {
			return mkrawzip(t, rawEnt{zip.FileHeader{Name: "x", Method: zip.Store, CompressedSize64: 5, UncompressedSize64: 10}, []byte("hello")})
		}, reason: ReasonCorrupt, msg: MsgCouldNotUnzip},
		{name: "data past end", zip: func(t *testing.T) []byte {
			return mkrawzip(t, rawEnt{zip.FileHeader{Name: "x", Method: zip.Deflate, CompressedSize64: 1 << 20, UncompressedSize64: 1 << 20}, []byte("hello")})
		}, reason: ReasonCorrupt},
		{name: "overlapping entries", zip: func(t *testing.T) []byte {
			z := mkrawzip(t,
				rawEnt{zip.FileHeader{Name: "a", Method: zip.Store, CRC32: crc32.ChecksumIEEE([]byte("aaaa")), CompressedSize64: 4, UncompressedSize64: 4}, []byte("aaaa")},
				rawEnt{zip.FileHeader{Name: "b", Method: zip.Store, CRC32: crc32.ChecksumIEEE([]byte("bbbb")), CompressedSize64: 4, UncompressedSize64: 4}, []byte("bbbb")},
			)
			// Point b's central record at a's local header.
			first := bytes.Index(z, centralSig)
			second := first + 1 + bytes.Index(z[first+1:], centralSig)
			binary.LittleEndian.PutUint32(z[second+42:], 0)
			return z
		}, reason: ReasonCorrupt},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			z := tc.zip(t)
			info, err := Inspect(z, tc.lim)
			if tc.reason == 0 {
				if err != nil {
					t.Fatalf("Inspect: unexpected error %v (%v)", err, detail(err))
				}
				if info.Sha256 != b64sum(z) || info.SizeZipped != int64(len(z)) || info.Files == nil {
					t.Fatalf("bad info %+v", info)
				}
				return
			}
			if err == nil {
				t.Fatalf("Inspect accepted %s; want %v", tc.name, tc.reason)
			}
			if got := reasonOf(err); got != tc.reason {
				t.Fatalf("reason = %v (%v), want %v", got, detail(err), tc.reason)
			}
			if tc.msg != "" && err.Error() != tc.msg {
				t.Fatalf("message\n got %q\nwant %q", err.Error(), tc.msg)
			}
			if !strings.HasPrefix(err.Error(), MsgCouldNotUnzip) && !strings.Contains(err.Error(), "size must be smaller than") {
				t.Fatalf("message %q is not AWS-shaped", err.Error())
			}
		})
	}
}

func detail(err error) string {
	if e, ok := err.(*Error); ok {
		return e.Detail
	}
	return ""
}

func symlinkHeader(name string, crc uint32, size uint64) zip.FileHeader {
	fh := zip.FileHeader{Name: name, Method: zip.Store, CRC32: crc, CompressedSize64: size, UncompressedSize64: size}
	fh.SetMode(fs.ModeSymlink | 0o777)
	return fh
}

func TestInspectInfo(t *testing.T) {
	z := mkzip(t,
		file("z.txt", "zz"),
		dir("lib/"),
		file("lib/a.txt", "alpha"),
		file("./b.txt", "b"),
		link("lib/l", "a.txt"),
	)
	info, err := Inspect(z, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := Info{
		Sha256:       b64sum(z),
		SizeZipped:   int64(len(z)),
		SizeUnzipped: 2 + 5 + 1 + int64(len("a.txt")),
		Files:        []string{"b.txt", "lib/a.txt", "z.txt"},
	}
	if !reflect.DeepEqual(info, want) {
		t.Fatalf("info\n got %+v\nwant %+v", info, want)
	}
}

func TestErrorMessages(t *testing.T) {
	tests := []struct {
		err  *Error
		want string
	}{
		{&Error{Reason: ReasonUnreadable, Detail: "zip: not a valid zip file"}, MsgCouldNotUnzip},
		{&Error{Reason: ReasonCorrupt, Detail: "crc"}, MsgCouldNotUnzip},
		{&Error{Reason: ReasonTooLargeZipped, Limit: DefaultMaxZipped}, "Zipped size must be smaller than 52428800 bytes"},
		{&Error{Reason: ReasonTooLargeUnzipped, Limit: DefaultMaxUnzipped}, "Unzipped size must be smaller than 262144000 bytes"},
		{&Error{Reason: ReasonUnsafePath, Detail: `entry "../evil" escapes the package root`},
			`Could not unzip uploaded file. Please check your file, then try to upload again. (entry "../evil" escapes the package root)`},
		{&Error{Reason: ReasonTooManyEntries, Detail: "package has more than 3 entries"},
			MsgCouldNotUnzip + " (package has more than 3 entries)"},
	}
	for _, tc := range tests {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("%v: got %q, want %q", tc.err.Reason, got, tc.want)
		}
	}
	if s := qname(strings.Repeat("x", 1000)); len(s) > 210 {
		t.Errorf("qname did not shorten: %d bytes", len(s))
	}
}

func TestCountCentralRecords(t *testing.T) {
	z := mkzip(t, file("a", "1"), file("b", "2"), file("c", "3"))
	if n := countCentralRecords(z, 100); n != 3 {
		t.Fatalf("count = %d, want 3", n)
	}
	if n := countCentralRecords(z, 2); n != 2 {
		t.Fatalf("count with stop = %d, want 2", n)
	}
	// Prepended data (self-extracting archives): archive/zip adjusts the base offset.
	pre := append([]byte(strings.Repeat("#", 1000)), z...)
	if n := countCentralRecords(pre, 100); n != 3 {
		t.Fatalf("count with prefix = %d, want 3", n)
	}
	if _, err := Inspect(pre, Limits{}); err != nil {
		t.Fatalf("prefixed zip: %v", err)
	}
	if n := countCentralRecords([]byte("garbage"), 100); n != 0 {
		t.Fatalf("count of garbage = %d", n)
	}
}
