package logsapi

import (
	"encoding/base64"
	"fmt"
	"hash/fnv"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/sluice-dev/sluice/internal/logstore"
)

// pageToken is the opaque nextToken of FilterLogEvents, DescribeLogStreams and DescribeLogGroups: a position in
// the operation's result set plus a fingerprint of the request it belongs to, so that a token is never applied to
// a different query. The position is a logstore.Cursor: one offset (key "") for a single store and the Describe
// operations ("1:<offset>:<fingerprint>"), or, in a cluster, each node's offset into its own matching events
// ("2:<fingerprint>:<node>=<offset>,…", node names query-escaped, sorted).
type pageToken struct {
	at          logstore.Cursor
	fingerprint uint64
}

// offsetToken is the token of a single offset.
func offsetToken(offset int64, fingerprint uint64) pageToken {
	return pageToken{at: logstore.Cursor{"": offset}, fingerprint: fingerprint}
}

func (t pageToken) String() string {
	if off, ok := t.at[""]; ok && len(t.at) == 1 {
		return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "1:%d:%x", off, t.fingerprint))
	}
	parts := make([]string, 0, len(t.at))
	for _, node := range slices.Sorted(maps.Keys(t.at)) {
		parts = append(parts, url.QueryEscape(node)+"="+strconv.FormatInt(t.at[node], 10))
	}
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "2:%x:%s", t.fingerprint, strings.Join(parts, ",")))
}

// parsePageToken decodes a nextToken and checks that it was issued for a request with this fingerprint; no token
// is the start (an empty cursor).
func parsePageToken(s *string, fingerprint uint64) (logstore.Cursor, error) {
	if s == nil {
		return logstore.Cursor{}, nil
	}
	bad := invalid("The specified nextToken is invalid.")
	b, err := base64.RawURLEncoding.DecodeString(*s)
	if err != nil {
		return nil, bad
	}
	parts := strings.SplitN(string(b), ":", 3)
	if len(parts) != 3 {
		return nil, bad
	}
	switch parts[0] {
	case "1":
		offset, err1 := strconv.ParseInt(parts[1], 10, 64)
		fp, err2 := strconv.ParseUint(parts[2], 16, 64)
		if err1 != nil || err2 != nil || offset < 0 || fp != fingerprint {
			return nil, bad
		}
		return logstore.Cursor{"": offset}, nil
	case "2":
		fp, err := strconv.ParseUint(parts[1], 16, 64)
		if err != nil || fp != fingerprint {
			return nil, bad
		}
		at := logstore.Cursor{}
		for _, kv := range strings.Split(parts[2], ",") {
			k, v, ok := strings.Cut(kv, "=")
			node, err1 := url.QueryUnescape(k)
			off, err2 := strconv.ParseInt(v, 10, 64)
			if !ok || node == "" || err1 != nil || err2 != nil || off < 0 {
				return nil, bad
			}
			at[node] = off
		}
		return at, nil
	}
	return nil, bad
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
