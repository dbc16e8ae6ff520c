package codestore

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Default limits, matching AWS Lambda's quotas where Lambda has one.
const (
	DefaultMaxZipped   int64 = 52428800  // 50 MiB, Lambda's direct-upload limit
	DefaultMaxUnzipped int64 = 262144000 // 250 MiB, Lambda's unzipped limit
	DefaultMaxEntries        = 100000    // Sluice's own cap on entries (files, dirs, symlinks)
	DefaultMaxRatio    int64 = 1000      // Sluice's own per-entry uncompressed/compressed cap
)

// Limits bounds what a package may contain. A zero (or negative) field means
// its default.
type Limits struct {
	MaxZipped   int64 // 0 => DefaultMaxZipped (52428800)
	MaxUnzipped int64 // 0 => DefaultMaxUnzipped (262144000); declared and actual bytes
	MaxEntries  int   // 0 => DefaultMaxEntries (100000); all entries, including directories
	MaxRatio    int64 // 0 => DefaultMaxRatio (1000); per entry, uncompressed/compressed
}

func (l Limits) norm() Limits {
	if l.MaxZipped <= 0 {
		l.MaxZipped = DefaultMaxZipped
	}
	if l.MaxUnzipped <= 0 {
		l.MaxUnzipped = DefaultMaxUnzipped
	}
	if l.MaxEntries <= 0 {
		l.MaxEntries = DefaultMaxEntries
	}
	if l.MaxRatio <= 0 {
		l.MaxRatio = DefaultMaxRatio
	}
	return l
}

// Info describes a validated package.
type Info struct {
	Sha256       string   // base64 (std, padded) of the SHA-256 of the zip bytes: Lambda's CodeSha256
	SizeZipped   int64    // len(zip): Lambda's CodeSize
	SizeUnzipped int64    // sum of the declared uncompressed sizes of all entries
	Files        []string // regular-file entry names (slash-separated, cleaned), sorted
}

const (
	maxNameLen    = 4095 // PATH_MAX - 1
	maxElemLen    = 255  // NAME_MAX
	maxLinkTarget = 4095
	maxLinkHops   = 40 // Linux MAXSYMLINKS
)

type entryKind int

const (
	kindFile entryKind = iota
	kindDir
	kindSymlink
)

type entry struct {
	f      *zip.File
	name   string // cleaned, slash-separated, relative
	kind   entryKind
	exec   bool   // regular files: extract as 0555
	target string // symlinks
}

type parsed struct {
	info    Info
	sum     [sha256.Size]byte
	entries []entry // in central-directory order; the root entry "./" is dropped
}

// Inspect does the cheap, synchronous checks on a zip held in memory:
// readable central directory, size limits, declared-size limits, entry name
// safety (no absolute path, no ".." element, no backslash, no NUL, no drive
// letter), symlink entries only if their target stays inside the tree, no
// duplicate names, entry count, compression ratio, no overlapping entries.
//
// It decompresses no file data; the only bytes it inflates are symlink
// targets, each capped at 4 KiB, because a symlink's target is its content.
// Failures are returned as *Error.
func Inspect(zip []byte, lim Limits) (Info, error) {
	p, err := inspect(zip, lim)
	if err != nil {
		return Info{}, err
	}
	return p.info, nil
}

var centralSig = []byte("PK\x01\x02")

func inspect(b []byte, lim Limits) (*parsed, error) {
	lim = lim.norm()
	if int64(len(b)) > lim.MaxZipped {
		return nil, &Error{Reason: ReasonTooLargeZipped, Limit: lim.MaxZipped,
			Detail: "zip is " + itoa(int64(len(b))) + " bytes"}
	}
	p := &parsed{sum: sha256.Sum256(b)}
	p.info.Sha256 = base64.StdEncoding.EncodeToString(p.sum[:])
	p.info.SizeZipped = int64(len(b))

	// archive/zip allocates a File (~200 bytes) for each central directory
	// record before we can count them; a 50 MiB zip of minimal records would
	// cost hundreds of MiB. Every record starts with centralSig, so counting
	// signatures bounds the count cheaply; only if that bound is too high do
	// we walk the directory the way archive/zip will.
	if bytes.Count(b, centralSig) > lim.MaxEntries {
		if n := countCentralRecords(b, lim.MaxEntries+1); n > lim.MaxEntries {
			return nil, newErr(ReasonTooManyEntries,
				"package has more than %d entries", lim.MaxEntries)
		}
	}

	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) { // names are checked below
		return nil, newErr(ReasonUnreadable, "reading zip: %v", err)
	}
	if len(zr.File) > lim.MaxEntries {
		return nil, newErr(ReasonTooManyEntries,
			"package has %d entries; the limit is %d", len(zr.File), lim.MaxEntries)
	}

	kinds := make(map[string]entryKind, len(zr.File))
	var total int64
	for _, f := range zr.File {
		e, skip, err := classify(f, lim)
		if err != nil {
			return nil, err
		}
		if skip {
			continue
		}
		if _, dup := kinds[e.name]; dup {
			return nil, newErr(ReasonDuplicateEntry, "entry %s is a duplicate of another entry", qname(f.Name))
		}
		kinds[e.name] = e.kind
		// Each size is <= MaxUnzipped here, so the sum cannot overflow.
		total += int64(f.UncompressedSize64)
		if total > lim.MaxUnzipped {
			return nil, &Error{Reason: ReasonTooLargeUnzipped, Limit: lim.MaxUnzipped,
				Detail: "declared uncompressed size exceeds " + itoa(lim.MaxUnzipped) + " bytes"}
		}
		p.entries = append(p.entries, e)
		if e.kind == kindFile {
			p.info.Files = append(p.info.Files, e.name)
		}
	}
	p.info.SizeUnzipped = total

	// Nothing may live below a file or a symlink: extraction would fail, or
	// write through the link.
	for _, e := range p.entries {
		for d := path.Dir(e.name); d != "."; d = path.Dir(d) {
			if k, ok := kinds[d]; ok && k != kindDir {
				return nil, newErr(ReasonUnsafePath, "entry %s is below %s, which is not a directory",
					qname(e.f.Name), qname(d))
			}
		}
	}

	if err := checkOverlap(zr.File, int64(len(b))); err != nil {
		return nil, err
	}

	// Only now, with every cheap check passed, inflate symlink targets.
	links := make(map[string]string)
	for i := range p.entries {
		e := &p.entries[i]
		if e.kind != kindSymlink {
			continue
		}
		t, err := readLinkTarget(e.f)
		if err != nil {
			return nil, err
		}
		e.target = t
		links[e.name] = t
	}
	for _, e := range p.entries {
		if e.kind == kindSymlink {
			if err := checkLink(e.name, e.target, links); err != nil {
				return nil, err
			}
		}
	}

	sort.Strings(p.info.Files)
	if p.info.Files == nil {
		p.info.Files = []string{}
	}
	return p, nil
}

// classify validates one central-directory record and turns it into an entry.
// skip reports a record that names the package root itself ("./").
func classify(f *zip.File, lim Limits) (e entry, skip bool, err error) {
	name, err := cleanName(f.Name)
	if err != nil {
		return e, false, err
	}
	mode := f.Mode()
	typ := mode.Type()
	switch {
	case strings.HasSuffix(f.Name, "/") || typ&fs.ModeDir != 0:
		if typ&^fs.ModeDir != 0 {
			return e, false, newErr(ReasonSpecialFile, "entry %s is not a regular file, directory or symlink", qname(f.Name))
		}
		if f.UncompressedSize64 != 0 {
			return e, false, newErr(ReasonCorrupt, "directory entry %s has content", qname(f.Name))
		}
		e.kind = kindDir
	case typ == fs.ModeSymlink:
		e.kind = kindSymlink
		if f.UncompressedSize64 > maxLinkTarget {
			return e, false, newErr(ReasonSymlinkEscape, "symlink %s has a target longer than %d bytes", qname(f.Name), maxLinkTarget)
		}
	case typ == 0:
		e.kind = kindFile
		e.exec = mode.Perm()&0o111 != 0 || path.Base(name) == "bootstrap"
	default:
		return e, false, newErr(ReasonSpecialFile, "entry %s is not a regular file, directory or symlink", qname(f.Name))
	}
	if name == "." {
		if e.kind != kindDir {
			return e, false, newErr(ReasonUnsafePath, "entry %s names the package root", qname(f.Name))
		}
		return e, true, nil
	}
	e.name, e.f = name, f

	if f.Flags&0x1 != 0 {
		return e, false, newErr(ReasonUnreadable, "entry %s is encrypted", qname(f.Name))
	}
	switch f.Method {
	case zip.Store:
		if f.CompressedSize64 != f.UncompressedSize64 {
			return e, false, newErr(ReasonCorrupt, "stored entry %s has compressed size %d but uncompressed size %d",
				qname(f.Name), f.CompressedSize64, f.UncompressedSize64)
		}
	case zip.Deflate:
	default:
		return e, false, newErr(ReasonUnreadable, "entry %s uses unsupported compression method %d", qname(f.Name), f.Method)
	}
	if f.UncompressedSize64 > uint64(lim.MaxUnzipped) {
		return e, false, &Error{Reason: ReasonTooLargeUnzipped, Limit: lim.MaxUnzipped,
			Detail: "entry " + qname(f.Name) + " declares " + utoa(f.UncompressedSize64) + " bytes"}
	}
	if ratio := f.UncompressedSize64 / max(f.CompressedSize64, 1); ratio > uint64(lim.MaxRatio) {
		return e, false, newErr(ReasonSuspiciousRatio, "entry %s has a compression ratio of %d:1; the limit is %d:1",
			qname(f.Name), ratio, lim.MaxRatio)
	}
	return e, false, nil
}

// cleanName validates a raw entry name and returns its cleaned, relative form
// ("." for the root). Directory names lose their trailing slash.
func cleanName(raw string) (string, error) {
	bad := func(why string) error {
		return newErr(ReasonUnsafePath, "entry %s %s", qname(raw), why)
	}
	switch {
	case raw == "":
		return "", newErr(ReasonUnsafePath, "an entry has an empty name")
	case strings.IndexByte(raw, 0) >= 0:
		return "", bad("contains a NUL byte")
	case raw[0] == '/':
		return "", bad("is an absolute path")
	case len(raw) >= 2 && raw[1] == ':' && isLetter(raw[0]):
		return "", bad("starts with a drive letter")
	case strings.IndexByte(raw, '\\') >= 0:
		return "", bad("contains a backslash")
	case len(raw) > maxNameLen:
		return "", bad("is too long")
	}
	dotdot := false
	for _, el := range strings.Split(raw, "/") {
		if len(el) > maxElemLen {
			return "", bad("has a path element longer than 255 bytes")
		}
		if el == ".." {
			dotdot = true
		}
	}
	clean := path.Clean(raw)
	if clean == ".." || strings.HasPrefix(clean, "../") {
		return "", bad("escapes the package root")
	}
	if dotdot {
		return "", bad(`contains a ".." path element`)
	}
	return clean, nil
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// checkOverlap rejects archives in which two entries share bytes (the
// "overlapping files" zip bomb) or whose data runs past the end of the zip.
// It reads local headers but decompresses nothing.
func checkOverlap(files []*zip.File, size int64) error {
	type span struct {
		name       string
		start, end int64
	}
	spans := make([]span, 0, len(files))
	for _, f := range files {
		off, err := f.DataOffset()
		if err != nil {
			return newErr(ReasonUnreadable, "entry %s: bad local header: %v", qname(f.Name), err)
		}
		if off < 0 || off > size || f.CompressedSize64 > uint64(size-off) {
			return newErr(ReasonCorrupt, "entry %s extends past the end of the zip", qname(f.Name))
		}
		spans = append(spans, span{f.Name, off, off + int64(f.CompressedSize64)})
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].start < spans[j].start })
	const localHeaderLen = 30
	for i := 1; i < len(spans); i++ {
		if spans[i].start-localHeaderLen < spans[i-1].end {
			return newErr(ReasonCorrupt, "entries %s and %s overlap", qname(spans[i-1].name), qname(spans[i].name))
		}
	}
	return nil
}

func readLinkTarget(f *zip.File) (string, error) {
	rc, err := f.Open()
	if err != nil {
		return "", newErr(ReasonUnreadable, "symlink %s: %v", qname(f.Name), err)
	}
	defer rc.Close()
	t, err := io.ReadAll(io.LimitReader(rc, maxLinkTarget+1))
	if err != nil {
		return "", newErr(ReasonCorrupt, "symlink %s: %v", qname(f.Name), err)
	}
	if uint64(len(t)) != f.UncompressedSize64 {
		return "", newErr(ReasonCorrupt, "symlink %s: target length does not match its declared size", qname(f.Name))
	}
	return string(t), nil
}

// checkLink verifies that the symlink at name (cleaned, relative) with the
// given target resolves inside the package, following other symlinks of the
// package as the kernel would. Lexical cleaning alone is not enough:
// with s1 -> ".", the target "s1/.." is lexically "." but really the parent of
// the package root.
func checkLink(name, target string, links map[string]string) error {
	esc := func(why string) error {
		return newErr(ReasonSymlinkEscape, "symlink %s -> %s %s", qname(name), qname(target), why)
	}
	if target == "" {
		return esc("has an empty target")
	}
	if strings.IndexByte(target, 0) >= 0 || strings.IndexByte(target, '\\') >= 0 {
		return esc("has a NUL or backslash in its target")
	}
	if target[0] == '/' || len(target) >= 2 && target[1] == ':' && isLetter(target[0]) {
		return esc("is absolute")
	}
	var cur []string // resolved, real (non-symlink) directories below the root
	if d := path.Dir(name); d != "." {
		cur = strings.Split(d, "/") // parents of an entry are never symlinks (checked earlier)
	}
	todo := strings.Split(target, "/")
	hops := 0
	for len(todo) > 0 {
		el := todo[0]
		todo = todo[1:]
		switch el {
		case "", ".":
			continue
		case "..":
			if len(cur) == 0 {
				return esc("escapes the package root")
			}
			cur = cur[:len(cur)-1]
			continue
		}
		p := path.Join(append(append([]string{}, cur...), el)...)
		t, isLink := links[p]
		if !isLink {
			cur = append(cur, el)
			continue
		}
		if hops++; hops > maxLinkHops {
			return esc("is part of a symlink loop")
		}
		if t == "" || t[0] == '/' {
			return esc("resolves through an absolute or empty symlink")
		}
		todo = append(strings.Split(t, "/"), todo...)
	}
	return nil
}

// countCentralRecords counts central directory records the way archive/zip
// will find them, stopping once stop have been seen. It mirrors
// archive/zip's readDirectoryEnd; where archive/zip might start at either of
// two offsets, it returns the larger count. A result it cannot compute is 0
// (archive/zip will then fail or find few records, and the exact count is
// checked again after parsing).
func countCentralRecords(b []byte, stop int) int {
	size := int64(len(b))
	const eocdLen = 22
	eocd := int64(-1)
	for i := size - eocdLen; i >= 0 && i >= size-65*1024; i-- {
		if b[i] == 'P' && b[i+1] == 'K' && b[i+2] == 5 && b[i+3] == 6 {
			n := int64(binary.LittleEndian.Uint16(b[i+20:]))
			if i+eocdLen+n > size {
				return 0
			}
			eocd = i
			break
		}
	}
	if eocd < 0 {
		return 0
	}
	records := uint64(binary.LittleEndian.Uint16(b[eocd+10:]))
	dirSize := uint64(binary.LittleEndian.Uint32(b[eocd+12:]))
	dirOff := uint64(binary.LittleEndian.Uint32(b[eocd+16:]))
	if records == 0xffff || dirSize == 0xffff || dirOff == 0xffffffff {
		// zip64 locator: sig, disk, offset of zip64 EOCD, total disks.
		if loc := eocd - 20; loc >= 0 &&
			binary.LittleEndian.Uint32(b[loc:]) == 0x07064b50 &&
			binary.LittleEndian.Uint32(b[loc+4:]) == 0 &&
			binary.LittleEndian.Uint32(b[loc+16:]) == 1 {
			p := binary.LittleEndian.Uint64(b[loc+8:])
			if p > uint64(size) || uint64(size)-p < 56 || binary.LittleEndian.Uint32(b[p:]) != 0x06064b50 {
				return 0
			}
			eocd = int64(p)
			dirSize = binary.LittleEndian.Uint64(b[p+40:])
			dirOff = binary.LittleEndian.Uint64(b[p+48:])
		}
	}
	if dirSize > 1<<62 || dirOff > 1<<62 {
		return 0
	}
	base := eocd - int64(dirSize) - int64(dirOff)
	n := walkCentral(b, base+int64(dirOff), stop)
	if base > 0 {
		n = max(n, walkCentral(b, int64(dirOff), stop))
	}
	return n
}

func walkCentral(b []byte, off int64, stop int) int {
	const hdrLen = 46
	size := int64(len(b))
	n := 0
	for n < stop && off >= 0 && off+hdrLen <= size && bytes.Equal(b[off:off+4], centralSig) {
		next := off + hdrLen +
			int64(binary.LittleEndian.Uint16(b[off+28:])) +
			int64(binary.LittleEndian.Uint16(b[off+30:])) +
			int64(binary.LittleEndian.Uint16(b[off+32:]))
		if next > size {
			break
		}
		n++
		off = next
	}
	return n
}

func itoa(n int64) string  { return strconv.FormatInt(n, 10) }
func utoa(n uint64) string { return strconv.FormatUint(n, 10) }
