package sigv4

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

const (
	algorithm         = "AWS4-HMAC-SHA256"
	amzDateFormat     = "20060102T150405Z"
	scopeDateFormat   = "20060102"
	scopeTerminator   = "aws4_request"
	unsignedPayload   = "UNSIGNED-PAYLOAD"
	maxPresignExpires = 7 * 24 * 60 * 60 // seconds; SigV4 presigned URLs live at most a week

	headerAuthorization = "Authorization"
	headerAmzDate       = "X-Amz-Date"
	headerDate          = "Date"
	headerSecurityToken = "X-Amz-Security-Token"
	headerContentSHA256 = "X-Amz-Content-Sha256"

	queryAlgorithm     = "X-Amz-Algorithm"
	queryCredential    = "X-Amz-Credential"
	queryDate          = "X-Amz-Date"
	queryExpires       = "X-Amz-Expires"
	querySignedHeaders = "X-Amz-SignedHeaders"
	querySignature     = "X-Amz-Signature"
	querySecurityToken = "X-Amz-Security-Token"
)

// authInfo is everything the request says about its own signature.
type authInfo struct {
	presigned bool

	accessKeyID string
	scopeDate   string // yyyymmdd from the credential scope
	region      string
	service     string

	signedHeaders string // exactly as sent: "host;x-amz-date"
	signature     string // hex, as sent

	amzDate string    // yyyymmddThhmmssZ used in the string to sign
	time    time.Time // amzDate parsed

	expires int64 // presigned X-Amz-Expires in seconds; -1 if absent

	token string // X-Amz-Security-Token, "" if absent
}

// queryParam is one decoded query-string parameter.
type queryParam struct {
	key, value string
}

// parseRawQuery splits a raw query string on '&' and decodes each name and
// value the way Go's server does for r.URL.Query() ('+' is a space), so the
// signature covers exactly what handlers will read. A piece whose escapes are
// invalid is kept verbatim.
func parseRawQuery(raw string) []queryParam {
	if raw == "" {
		return nil
	}
	params := make([]queryParam, 0, strings.Count(raw, "&")+1)
	for raw != "" {
		var piece string
		piece, raw, _ = strings.Cut(raw, "&")
		if piece == "" {
			continue
		}
		k, v, _ := strings.Cut(piece, "=")
		params = append(params, queryParam{key: unescapeQuery(k), value: unescapeQuery(v)})
	}
	return params
}

func unescapeQuery(s string) string {
	if !strings.ContainsAny(s, "%+") {
		return s
	}
	u, err := url.QueryUnescape(s)
	if err != nil {
		return s
	}
	return u
}

// lookupQuery returns the first value of key and whether it was present.
func lookupQuery(params []queryParam, key string) (string, bool) {
	for _, p := range params {
		if p.key == key {
			return p.value, true
		}
	}
	return "", false
}

// hasQueryAuth reports whether the query string attempts presigned auth.
func hasQueryAuth(params []queryParam) bool {
	for _, p := range params {
		switch p.key {
		case queryAlgorithm, queryCredential, querySignature:
			return true
		}
	}
	return false
}

// parseAuthorizationHeader parses the header form. The timestamp comes from
// X-Amz-Date or, failing that, the Date header.
func parseAuthorizationHeader(value string, h http.Header) (authInfo, *Error) {
	a := authInfo{expires: -1}
	value = strings.TrimSpace(value)

	alg, rest := value, ""
	if i := strings.IndexAny(value, " \t,"); i >= 0 {
		alg, rest = value[:i], value[i+1:]
	}

	var credential, signedHeaders, signature string
	if strings.HasPrefix(alg, "AWS4-") {
		// SDKs emit "k=v, k=v, k=v"; tolerate missing spaces, extra spaces
		// and space-only separators. No value contains ',' or whitespace.
		for rest != "" {
			// Skip separators, then take one field.
			i := 0
			for i < len(rest) && isAuthSep(rest[i]) {
				i++
			}
			rest = rest[i:]
			j := 0
			for j < len(rest) && !isAuthSep(rest[j]) {
				j++
			}
			f := rest[:j]
			rest = rest[j:]
			if f == "" {
				continue
			}
			k, v, ok := strings.Cut(f, "=")
			if !ok {
				return a, errIncomplete("'%s' not a valid key=value pair (missing equal-sign) in Authorization header.", echo(f))
			}
			switch k {
			case "Credential":
				if credential == "" {
					credential = v
				}
			case "SignedHeaders":
				if signedHeaders == "" {
					signedHeaders = v
				}
			case "Signature":
				if signature == "" {
					signature = v
				}
			}
		}
	}

	amzDate := h.Get(headerAmzDate)
	httpDate := h.Get(headerDate)

	var missing []string
	if credential == "" {
		missing = append(missing, "Authorization header requires 'Credential' parameter.")
	}
	if signature == "" {
		missing = append(missing, "Authorization header requires 'Signature' parameter.")
	}
	if signedHeaders == "" {
		missing = append(missing, "Authorization header requires 'SignedHeaders' parameter.")
	}
	if amzDate == "" && httpDate == "" {
		missing = append(missing, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
	}
	if len(missing) > 0 {
		return a, errIncomplete("%s", joinSentences(missing))
	}
	if alg != algorithm {
		// Another AWS4-* algorithm (SigV4a) with all its parts present;
		// any other scheme has no parsable parts above.
		return a, errUnsupportedAlgorithm(alg)
	}

	if err := a.setCredential(credential); err != nil {
		return a, err
	}
	a.signedHeaders = signedHeaders
	a.signature = signature

	if amzDate != "" {
		if err := a.setAmzDate(amzDate); err != nil {
			return a, err
		}
	} else {
		t, err := http.ParseTime(httpDate)
		if err != nil {
			return a, errIncomplete("Date header must be an RFC 1123 date. Got '%s'.", echo(httpDate))
		}
		a.time = t.UTC()
		a.amzDate = a.time.Format(amzDateFormat)
	}
	a.token = h.Get(headerSecurityToken)
	return a, nil
}

// parseQueryAuth parses the presigned (query-string) form.
func parseQueryAuth(params []queryParam, h http.Header) (authInfo, *Error) {
	a := authInfo{presigned: true, expires: -1}

	alg, _ := lookupQuery(params, queryAlgorithm)
	credential, _ := lookupQuery(params, queryCredential)
	signature, _ := lookupQuery(params, querySignature)
	signedHeaders, _ := lookupQuery(params, querySignedHeaders)
	amzDate, _ := lookupQuery(params, queryDate)

	var missing []string
	for _, p := range [...]struct{ name, value string }{
		{queryAlgorithm, alg},
		{queryCredential, credential},
		{querySignature, signature},
		{querySignedHeaders, signedHeaders},
		{queryDate, amzDate},
	} {
		if p.value == "" {
			missing = append(missing, "AWS query-string parameters must include '"+p.name+"'.")
		}
	}
	if len(missing) > 0 {
		missing = append(missing, "Re-examine the query-string parameters.")
		return a, errIncomplete("%s", joinSentences(missing))
	}
	if alg != algorithm {
		return a, errUnsupportedAlgorithm(alg)
	}
	if err := a.setCredential(credential); err != nil {
		return a, err
	}
	a.signedHeaders = signedHeaders
	a.signature = signature
	if err := a.setAmzDate(amzDate); err != nil {
		return a, err
	}

	if exp, ok := lookupQuery(params, queryExpires); ok {
		n, err := strconv.ParseInt(exp, 10, 64)
		switch {
		case err != nil:
			return a, errIncomplete("X-Amz-Expires should be a number")
		case n < 0:
			return a, errIncomplete("X-Amz-Expires must be non-negative")
		case n > maxPresignExpires:
			return a, errIncomplete("X-Amz-Expires must be less than a week (in seconds) that is 604800")
		}
		a.expires = n
	}

	if tok, ok := lookupQuery(params, querySecurityToken); ok {
		a.token = tok
	} else {
		a.token = h.Get(headerSecurityToken)
	}
	return a, nil
}

// isAuthSep reports the bytes that separate Authorization header fields.
func isAuthSep(c byte) bool { return c == ',' || c == ' ' || c == '\t' }

func errUnsupportedAlgorithm(alg string) *Error {
	return errIncomplete("Unsupported AWS 'algorithm': '%s'. The only supported algorithm is '%s'.", echo(alg), algorithm)
}

// setCredential parses "AKID/yyyymmdd/region/service/aws4_request".
func (a *authInfo) setCredential(credential string) *Error {
	var parts [5]string
	rest, n := credential, 0
	for ; n < len(parts)-1; n++ {
		var found bool
		if parts[n], rest, found = strings.Cut(rest, "/"); !found {
			break
		}
	}
	if n != len(parts)-1 || strings.Contains(rest, "/") {
		return errIncomplete("Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '%s'", echo(credential))
	}
	parts[4] = rest
	if parts[4] != scopeTerminator {
		return errIncomplete("Credential should be scoped with a valid terminator: '%s', not '%s'.", scopeTerminator, echo(parts[4]))
	}
	if parts[0] == "" {
		return errIncomplete("Credential must name an access key id, got '%s'", echo(credential))
	}
	if len(parts[1]) != len(scopeDateFormat) {
		return errIncomplete("Credential date must be in the yyyyMMdd format, got '%s'.", echo(parts[1]))
	}
	if _, err := time.Parse(scopeDateFormat, parts[1]); err != nil {
		return errIncomplete("Credential date must be in the yyyyMMdd format, got '%s'.", echo(parts[1]))
	}
	if parts[2] == "" {
		return errIncomplete("Credential should be scoped to a valid region, not ''.")
	}
	if parts[3] == "" {
		return errIncomplete("Credential should be scoped to a valid service, not ''.")
	}
	a.accessKeyID, a.scopeDate, a.region, a.service = parts[0], parts[1], parts[2], parts[3]
	return nil
}

func (a *authInfo) setAmzDate(v string) *Error {
	t, err := time.Parse(amzDateFormat, v)
	if err != nil || len(v) != len(amzDateFormat) {
		return errIncomplete("Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601", echo(v))
	}
	a.time = t
	a.amzDate = v
	return nil
}
