package sigv4

import (
	"net/http"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
)

// wirePath returns the request path exactly as the client sent it, still
// percent-encoded. On the server r.RequestURI is the raw request target; Go's
// r.URL.Path is decoded and r.URL.RawPath is only set when the encoding is
// not Go's default, so neither is used when RequestURI is available.
func wirePath(r *http.Request) string {
	if uri := r.RequestURI; uri != "" && uri != "*" {
		if i := strings.IndexByte(uri, '?'); i >= 0 {
			uri = uri[:i]
		}
		if !strings.HasPrefix(uri, "/") {
			// absolute-form: scheme://authority/path
			if i := strings.Index(uri, "://"); i >= 0 {
				rest := uri[i+3:]
				if j := strings.IndexByte(rest, '/'); j >= 0 {
					return rest[j:]
				}
				return "/"
			}
		}
		return uri
	}
	// A client-side request (no RequestURI): mirror what Go's client sends.
	if r.URL.Opaque != "" {
		op := r.URL.Opaque
		if i := strings.IndexByte(op, '?'); i >= 0 {
			op = op[:i]
		}
		op = strings.TrimPrefix(op, "//")
		if i := strings.IndexByte(op, '/'); i >= 0 {
			return op[i:]
		}
		return "/"
	}
	return r.URL.EscapedPath()
}

// canonicalURIs returns the canonical URI candidates for a raw wire path.
//
// The first follows the SigV4 specification for every service but S3 (and
// botocore): remove '.' and '..' segments and empty segments, then URI-encode
// the already-encoded path once more ("%3A" becomes "%253A"). aws-sdk-go-v2
// does not normalise the path before encoding, so when normalising changed
// the path the second candidate is the un-normalised encoding. Both are
// encodings of the very path that was sent; ordinary paths have one candidate.
func canonicalURIs(raw string) (first, second string) {
	norm := normalizePath(raw)
	first = escapePath(norm)
	if norm != raw {
		if raw == "" {
			raw = "/"
		}
		second = escapePath(raw)
		if second == first {
			second = ""
		}
	}
	return first, second
}

// normalizePath removes dot segments and empty segments the way botocore
// does (RFC 3986 5.2.4 plus collapsing "//"); the result starts with '/' and
// keeps a trailing '/' when the input had one.
func normalizePath(p string) string {
	if p == "" {
		return "/"
	}
	if p[0] == '/' && !strings.Contains(p, "//") && !strings.Contains(p, "/./") &&
		!strings.Contains(p, "/../") && !strings.HasSuffix(p, "/.") && !strings.HasSuffix(p, "/..") {
		return p
	}
	segs := strings.Split(p, "/")
	out := segs[:0]
	for _, s := range segs {
		switch s {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, s)
		}
	}
	res := "/" + strings.Join(out, "/")
	if len(out) > 0 && strings.HasSuffix(p, "/") {
		res += "/"
	}
	return res
}

// unreserved reports RFC 3986 unreserved characters: A-Z a-z 0-9 - _ . ~
func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

const upperHex = "0123456789ABCDEF"

// escapePath percent-encodes every byte of p except unreserved characters and
// '/'. Applied to a wire path it yields the double encoding non-S3 services
// expect.
func escapePath(p string) string { return escape(p, true) }

// escapeQuery percent-encodes every byte except unreserved characters (a
// space becomes %20).
func escapeQuery(s string) string { return escape(s, false) }

func escape(s string, keepSlash bool) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if c := s[i]; !unreserved(c) && !(keepSlash && c == '/') {
			n++
		}
	}
	if n == 0 {
		return s
	}
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) || keepSlash && c == '/' {
			b = append(b, c)
			continue
		}
		b = append(b, '%', upperHex[c>>4], upperHex[c&15])
	}
	return string(b)
}

// canonicalQuery builds the canonical query string: every name and value
// RFC 3986 encoded, pairs sorted by encoded name then encoded value (the
// specification sorts after encoding), joined by '&'. X-Amz-Signature is left
// out for presigned requests.
func canonicalQuery(params []queryParam, presigned bool) string {
	if len(params) == 0 {
		return ""
	}
	enc := make([]queryParam, 0, len(params))
	size := 0
	for _, p := range params {
		if presigned && p.key == querySignature {
			continue
		}
		e := queryParam{key: escapeQuery(p.key), value: escapeQuery(p.value)}
		size += len(e.key) + len(e.value) + 2
		enc = append(enc, e)
	}
	slices.SortFunc(enc, func(a, b queryParam) int {
		if c := strings.Compare(a.key, b.key); c != 0 {
			return c
		}
		return strings.Compare(a.value, b.value)
	})
	var sb strings.Builder
	sb.Grow(size)
	for i, p := range enc {
		if i > 0 {
			sb.WriteByte('&')
		}
		sb.WriteString(p.key)
		sb.WriteByte('=')
		sb.WriteString(p.value)
	}
	return sb.String()
}

// appendCanonicalHeaders appends "name:value\n" for each signed header in the
// order given by the SignedHeaders list, and reports whether host was among
// them.
func appendCanonicalHeaders(b []byte, r *http.Request, signedHeaders string) ([]byte, bool) {
	hostSigned := false
	rest := signedHeaders
	for rest != "" {
		var name string
		name, rest, _ = strings.Cut(rest, ";")
		lname := strings.ToLower(name)
		b = append(b, lname...)
		b = append(b, ':')
		switch lname {
		case "host":
			hostSigned = true
			host := r.Host
			if host == "" {
				host = r.URL.Host
			}
			b = appendTrimmed(b, host)
		default:
			vals := headerValues(r.Header, lname)
			switch {
			case vals != nil:
				for i, v := range vals {
					if i > 0 {
						b = append(b, ',')
					}
					b = appendTrimmed(b, v)
				}
			case lname == "content-length" && r.ContentLength >= 0:
				// Go's server may hold the length only in r.ContentLength.
				b = strconv.AppendInt(b, r.ContentLength, 10)
			case lname == "transfer-encoding" && len(r.TransferEncoding) > 0:
				b = append(b, strings.Join(r.TransferEncoding, ",")...)
			}
		}
		b = append(b, '\n')
	}
	return b, hostSigned
}

// headerValues finds the values of a lower-case header name without
// allocating for the common case of a canonical key in the map.
func headerValues(h http.Header, lname string) []string {
	var buf [64]byte
	if len(lname) <= len(buf) {
		key, ok := canonicalKey(buf[:0], lname)
		if ok {
			if v, found := h[string(key)]; found {
				return v
			}
		} else if v, found := h[lname]; found {
			return v
		}
	} else if v, found := h[textproto.CanonicalMIMEHeaderKey(lname)]; found {
		return v
	}
	// A map filled by hand may hold a non-canonical key.
	for k, v := range h {
		if strings.EqualFold(k, lname) {
			return v
		}
	}
	return nil
}

// canonicalKey writes the textproto canonical form of a header name into b.
// ok is false when the name holds a byte that textproto leaves untouched
// (then the name itself is the key).
func canonicalKey(b []byte, name string) ([]byte, bool) {
	upper := true
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !tokenByte(c) {
			return nil, false
		}
		if upper && 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		} else if !upper && 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
		upper = c == '-'
	}
	return b, true
}

// tokenByte reports RFC 7230 token characters (what textproto canonicalises).
func tokenByte(c byte) bool { return tokenTable[c] }

var tokenTable = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", byte(c)) >= 0
	}
	return t
}()

// appendTrimmed appends v with leading and trailing whitespace removed and
// every run of spaces collapsed to one space, as SigV4 canonical headers
// require.
func appendTrimmed(b []byte, v string) []byte {
	v = strings.TrimSpace(v)
	prevSpace := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == ' ' {
			if prevSpace {
				continue
			}
			prevSpace = true
		} else {
			prevSpace = false
		}
		b = append(b, c)
	}
	return b
}
