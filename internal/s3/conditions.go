package s3

import (
	"strconv"
	"strings"
	"time"
)

// Conditions are a request's preconditions on the object it reads (GetObject, HeadObject) or copies from
// (CopyObject's x-amz-copy-source-if-* headers).
type Conditions struct {
	IfMatch, IfNoneMatch               string
	IfModifiedSince, IfUnmodifiedSince time.Time // zero: absent
}

// Check evaluates the conditions against an object's ETag (quoted) and last modification, in HTTP's order:
// If-Match, then If-Unmodified-Since only without If-Match (412 PreconditionFailed), then If-None-Match, then
// If-Modified-Since only without If-None-Match (304 NotModified for a read; for a copy, notModified is false and
// those fail with 412 as S3 answers).
func (c Conditions) Check(etag string, lastModified time.Time, read bool) error {
	lm := lastModified.Truncate(time.Second)
	switch {
	case c.IfMatch != "":
		if !etagListMatches(c.IfMatch, etag) {
			return ErrPreconditionFailed()
		}
	case !c.IfUnmodifiedSince.IsZero() && lm.After(c.IfUnmodifiedSince):
		return ErrPreconditionFailed()
	}
	failed := false
	switch {
	case c.IfNoneMatch != "":
		failed = etagListMatches(c.IfNoneMatch, etag)
	case !c.IfModifiedSince.IsZero():
		failed = !lm.After(c.IfModifiedSince)
	}
	if failed {
		if read {
			return ErrNotModified()
		}
		return ErrPreconditionFailed()
	}
	return nil
}

// etagListMatches reports whether a comma-separated list of entity tags (or "*") names etag; quotes and weak
// prefixes are ignored, as S3 does.
func etagListMatches(list, etag string) bool {
	want := strings.Trim(etag, `"`)
	for _, t := range strings.Split(list, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || strings.Trim(t, `"`) == want {
			return true
		}
	}
	return false
}

// Range is the byte range a GetObject asked for, resolved against the object's size.
type Range struct {
	Start, Length int64
}

// ContentRange is the Content-Range header of a partial answer.
func (r Range) ContentRange(size int64) string {
	return "bytes " + strconv.FormatInt(r.Start, 10) + "-" + strconv.FormatInt(r.Start+r.Length-1, 10) + "/" + strconv.FormatInt(size, 10)
}

// ParseRange resolves a Range header ("bytes=a-b", "bytes=a-", "bytes=-n") against an object of size bytes. ok is
// false when the whole object is to be sent (no header, a header S3 ignores: another unit, several ranges or a
// malformed one); a range that starts past the end is InvalidRange (416).
func ParseRange(header string, size int64) (Range, bool, error) {
	spec, found := strings.CutPrefix(strings.TrimSpace(header), "bytes=")
	if !found || strings.Contains(spec, ",") {
		return Range{}, false, nil
	}
	first, last, found := strings.Cut(strings.TrimSpace(spec), "-")
	if !found {
		return Range{}, false, nil
	}
	if first == "" { // suffix: the last n bytes
		n, err := strconv.ParseInt(last, 10, 64)
		if err != nil || n < 0 {
			return Range{}, false, nil
		}
		if n == 0 || size == 0 {
			return Range{}, false, ErrInvalidRange()
		}
		n = min(n, size)
		return Range{Start: size - n, Length: n}, true, nil
	}
	start, err := strconv.ParseInt(first, 10, 64)
	if err != nil || start < 0 {
		return Range{}, false, nil
	}
	end := size - 1
	if last != "" {
		if end, err = strconv.ParseInt(last, 10, 64); err != nil || end < start {
			return Range{}, false, nil
		}
		end = min(end, size-1)
	}
	if start >= size {
		return Range{}, false, ErrInvalidRange()
	}
	return Range{Start: start, Length: end - start + 1}, true, nil
}
