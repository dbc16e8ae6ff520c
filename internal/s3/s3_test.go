package s3

import (
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/fault"
)

func code(err error) string {
	if f, ok := fault.As(err); ok {
		return f.Code
	}
	if err != nil {
		return "error: " + err.Error()
	}
	return ""
}

func TestCheckBucketName(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"abc", true}, {"my-bucket.logs", true}, {"123", true}, {strings.Repeat("a", 63), true},
		{"ab", false}, {strings.Repeat("a", 64), false}, {"My-Bucket", false}, {"under_score", false},
		{"-start", false}, {"end-", false}, {".start", false}, {"two..dots", false}, {"10.0.0.1", false},
		{"xn--idn", false}, {"sthree-x", false}, {"amzn-s3-demo-x", false}, {"x-s3alias", false}, {"x--ol-s3", false},
		{"x.mrap", false}, {"x--x-s3", false}, {"x--table-s3", false}, {"sp ace", false}, {"slash/", false},
	} {
		err := CheckBucketName(tc.name)
		if (err == nil) != tc.ok || err != nil && code(err) != CodeInvalidBucketName {
			t.Errorf("CheckBucketName(%q) = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

func TestCheckKey(t *testing.T) {
	for _, tc := range []struct {
		key, code string
	}{
		{"a", ""}, {"../../etc/passwd", ""}, {"a//b/./c", ""}, {strings.Repeat("é", 512), ""},
		{"", CodeInvalidArgument}, {strings.Repeat("k", 1025), CodeKeyTooLong}, {"nul\x00", CodeInvalidArgument},
		{"bad\xffutf8", CodeInvalidArgument},
	} {
		if got := code(CheckKey(tc.key)); got != tc.code {
			t.Errorf("CheckKey(%.20q) = %q, want %q", tc.key, got, tc.code)
		}
	}
}

func TestCheckLocationConstraint(t *testing.T) {
	for _, tc := range []struct {
		constraint, region, code string
	}{
		{"", "us-east-1", ""},
		{"us-east-1", "us-east-1", CodeInvalidLocationConstraint},
		{"eu-west-1", "eu-west-1", ""},
		{"", "eu-west-1", CodeIllegalLocationConstraint},
		{"eu-west-1", "us-east-1", CodeIllegalLocationConstraint},
	} {
		if got := code(CheckLocationConstraint(tc.constraint, tc.region)); got != tc.code {
			t.Errorf("CheckLocationConstraint(%q, %q) = %q, want %q", tc.constraint, tc.region, got, tc.code)
		}
	}
}

func TestConditions(t *testing.T) {
	lm := time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC)
	const etag = `"abc"`
	for _, tc := range []struct {
		name string
		c    Conditions
		read bool
		code string
	}{
		{"none", Conditions{}, true, ""},
		{"If-Match matches", Conditions{IfMatch: `"abc"`}, true, ""},
		{"If-Match unquoted in a list", Conditions{IfMatch: `"x", abc`}, true, ""},
		{"If-Match *", Conditions{IfMatch: "*"}, true, ""},
		{"If-Match differs", Conditions{IfMatch: `"x"`}, true, CodePreconditionFailed},
		{"If-Unmodified-Since before", Conditions{IfUnmodifiedSince: lm.Add(-time.Hour)}, true, CodePreconditionFailed},
		{"If-Unmodified-Since the same second", Conditions{IfUnmodifiedSince: lm.Truncate(time.Second)}, true, ""},
		{"If-Match wins over If-Unmodified-Since", Conditions{IfMatch: etag, IfUnmodifiedSince: lm.Add(-time.Hour)}, true, ""},
		{"If-None-Match matches", Conditions{IfNoneMatch: etag}, true, CodeNotModified},
		{"If-None-Match differs", Conditions{IfNoneMatch: `"x"`}, true, ""},
		{"If-Modified-Since after", Conditions{IfModifiedSince: lm.Add(time.Hour)}, true, CodeNotModified},
		{"If-Modified-Since before", Conditions{IfModifiedSince: lm.Add(-time.Hour)}, true, ""},
		{"If-None-Match wins over If-Modified-Since", Conditions{IfNoneMatch: `"x"`, IfModifiedSince: lm.Add(time.Hour)}, true, ""},
		{"a copy's If-None-Match", Conditions{IfNoneMatch: etag}, false, CodePreconditionFailed},
	} {
		if got := code(tc.c.Check(etag, lm, tc.read)); got != tc.code {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.code)
		}
	}
}

func TestParseRange(t *testing.T) {
	for _, tc := range []struct {
		header      string
		size        int64
		start, n    int64
		ok          bool
		unsatisfied bool
	}{
		{"", 10, 0, 0, false, false},
		{"bytes=0-4", 10, 0, 5, true, false},
		{"bytes=5-", 10, 5, 5, true, false},
		{"bytes=-3", 10, 7, 3, true, false},
		{"bytes=-30", 10, 0, 10, true, false},
		{"bytes=8-100", 10, 8, 2, true, false},
		{"bytes=10-", 10, 0, 0, false, true},
		{"bytes=-0", 10, 0, 0, false, true},
		{"bytes=0-1,3-4", 10, 0, 0, false, false},
		{"bytes=4-2", 10, 0, 0, false, false},
		{"items=0-1", 10, 0, 0, false, false},
		{"bytes=0-0", 0, 0, 0, false, true},
	} {
		r, ok, err := ParseRange(tc.header, tc.size)
		if ok != tc.ok || (err != nil) != tc.unsatisfied || ok && (r.Start != tc.start || r.Length != tc.n) {
			t.Errorf("ParseRange(%q, %d) = %+v, %v, %v", tc.header, tc.size, r, ok, err)
		}
	}
	if got := (Range{Start: 2, Length: 3}).ContentRange(10); got != "bytes 2-4/10" {
		t.Errorf("ContentRange: %s", got)
	}
}

func TestCheckCompletion(t *testing.T) {
	big, small := int64(MinPartSize), int64(10)
	uploaded := map[int]UploadedPart{
		1: {1, `"aa"`, big}, 2: {2, `"bb"`, small}, 3: {3, `"cc"`, small},
	}
	for _, tc := range []struct {
		name  string
		named []CompletedPart
		code  string
	}{
		{"in order", []CompletedPart{{1, "aa"}, {2, `"bb"`}}, ""},
		{"a subset", []CompletedPart{{1, "aa"}, {3, "cc"}}, ""},
		{"none", nil, CodeMalformedXML},
		{"descending", []CompletedPart{{2, "bb"}, {1, "aa"}}, CodeInvalidPartOrder},
		{"repeated", []CompletedPart{{1, "aa"}, {1, "aa"}}, CodeInvalidPartOrder},
		{"missing", []CompletedPart{{1, "aa"}, {4, "dd"}}, CodeInvalidPart},
		{"another ETag", []CompletedPart{{1, "bb"}}, CodeInvalidPart},
		{"a small part before the last", []CompletedPart{{2, "bb"}, {3, "cc"}}, CodeEntityTooSmall},
	} {
		if _, err := CheckCompletion(tc.named, uploaded); code(err) != tc.code {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.code)
		}
	}
}

func TestMultipartETag(t *testing.T) {
	// The ETag of an object of two parts whose MD5s are those of "a" and "b".
	got := MultipartETag([]UploadedPart{{ETag: `"0cc175b9c0f1b6a831c399e269772661"`}, {ETag: `"92eb5ffee6ae2fec3ad71c777531578f"`}})
	b1, _ := hex.DecodeString("0cc175b9c0f1b6a831c399e269772661")
	b2, _ := hex.DecodeString("92eb5ffee6ae2fec3ad71c777531578f")
	want := `"` + md5hex(append(b1, b2...)) + `-2"`
	if got != want {
		t.Errorf("MultipartETag = %s, want %s", got, want)
	}
}

// TestChecksums checks each algorithm on "123456789" against its catalogued check value (CRC-32/ISO-HDLC,
// CRC-32C/ISCSI, CRC-64/NVME) or its known digest.
func TestChecksums(t *testing.T) {
	for _, tc := range []struct {
		alg  Algorithm
		want string // hex
	}{
		{CRC32, "cbf43926"},
		{CRC32C, "e3069283"},
		{CRC64NVME, "ae8b14860a799888"},
		{SHA1, "f7c3bc1d808e04732adf679965ccc34ca7ae3441"},
		{SHA256, "15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225"},
	} {
		h := tc.alg.New()
		h.Write([]byte("123456789"))
		if got := hex.EncodeToString(h.Sum(nil)); got != tc.want {
			t.Errorf("%s(123456789) = %s, want %s", tc.alg, got, tc.want)
		}
		if err := tc.alg.CheckValue(Encode(h.Sum(nil))); err != nil {
			t.Errorf("%s: its own value refused: %v", tc.alg, err)
		}
		if code(tc.alg.CheckValue("AAAA")) != CodeInvalidRequest {
			t.Errorf("%s: a value of the wrong size accepted", tc.alg)
		}
	}
	if a, ok := ParseAlgorithm("crc64nvme"); !ok || a != CRC64NVME || a.Header() != "x-amz-checksum-crc64nvme" {
		t.Errorf("ParseAlgorithm: %s %v", a, ok)
	}
	if _, ok := ParseAlgorithm("md5"); ok {
		t.Error("md5 is not a flexible checksum")
	}
	// A composite checksum is the checksum of the parts' checksums, with the number of parts.
	h1, h2 := CRC32.New(), CRC32.New()
	h1.Write([]byte("a"))
	h2.Write([]byte("b"))
	c := CRC32.New()
	c.Write(append(h1.Sum(nil), h2.Sum(nil)...))
	if got, want := CompositeChecksum(CRC32, []string{Encode(h1.Sum(nil)), Encode(h2.Sum(nil))}), Encode(c.Sum(nil))+"-2"; got != want {
		t.Errorf("CompositeChecksum = %s, want %s", got, want)
	}
	var buf [8]byte
	binary.BigEndian.PutUint64(buf[:], 0xae8b14860a799888)
	if Encode(buf[:]) != "rosUhgp5mIg=" {
		t.Errorf("base64 of the CRC64NVME check value: %s", Encode(buf[:]))
	}
}

func md5hex(b []byte) string {
	sum := md5.Sum(b)
	return hex.EncodeToString(sum[:])
}
