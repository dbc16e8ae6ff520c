package logsapi

import (
	"encoding/base64"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
)

// pageToken is the opaque nextToken of FilterLogEvents, DescribeLogStreams and DescribeLogGroups: an offset into
// the operation's result set plus a fingerprint of the request it belongs to, so that a token is never applied to
// a different query.
type pageToken struct {
	offset      int64
	fingerprint uint64
}

func (t pageToken) String() string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "1:%d:%x", t.offset, t.fingerprint))
}

// parsePageToken decodes a nextToken and checks that it was issued for a request with this fingerprint.
func parsePageToken(s *string, fingerprint uint64) (int64, error) {
	if s == nil {
		return 0, nil
	}
	bad := invalid("The specified nextToken is invalid.")
	b, err := base64.RawURLEncoding.DecodeString(*s)
	if err != nil {
		return 0, bad
	}
	parts := strings.Split(string(b), ":")
	if len(parts) != 3 || parts[0] != "1" {
		return 0, bad
	}
	offset, err1 := strconv.ParseInt(parts[1], 10, 64)
	fp, err2 := strconv.ParseUint(parts[2], 16, 64)
	if err1 != nil || err2 != nil || offset < 0 || fp != fingerprint {
		return 0, bad
	}
	return offset, nil
}

// fingerprint hashes the members that define a result set.
func fingerprint(parts ...any) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		fmt.Fprintf(h, "%v\x00", p)
	}
	return h.Sum64()
}

// position is a place in a log stream's time-ordered events: before the n-th (0-based) event with timestamp ts.
// GetLogEvents' forward and backward tokens carry one, which stays valid as new events are appended.
type position struct {
	ts int64
	n  int
}

func (p position) less(q position) bool { return p.ts < q.ts || p.ts == q.ts && p.n < q.n }

// token renders a position in AWS's form: "f/" or "b/", digits, "/s".
func (p position) token(dir byte) string {
	return fmt.Sprintf("%c/%019d%06d/s", dir, p.ts, p.n)
}

// parsePosition decodes a GetLogEvents token into its direction ('f' or 'b') and position.
func parsePosition(s string) (byte, position, error) {
	bad := invalid("The specified nextToken is invalid.")
	if len(s) < 2 || (s[0] != 'f' && s[0] != 'b') || s[1] != '/' {
		return 0, position{}, bad
	}
	digits := strings.TrimSuffix(s[2:], "/s")
	if len(digits) < 20 {
		return 0, position{}, bad
	}
	ts, err1 := strconv.ParseInt(digits[:19], 10, 64)
	n, err2 := strconv.Atoi(digits[19:])
	if err1 != nil || err2 != nil || ts < 0 || n < 0 {
		return 0, position{}, bad
	}
	return s[0], position{ts: ts, n: n}, nil
}
