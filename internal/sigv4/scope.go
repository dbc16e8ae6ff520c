package sigv4

import (
	"net/http"
	"net/url"
	"strings"
)

// ClaimedService returns the service a request says it is signed for (the credential scope's fourth element),
// without verifying anything. The gateway uses it to answer a request that fails verification in the protocol of
// the service it was meant for.
func ClaimedService(r *http.Request) string {
	cred := ""
	if h := r.Header.Get(headerAuthorization); h != "" {
		if i := strings.Index(h, "Credential="); i >= 0 {
			cred = h[i+len("Credential="):]
			if j := strings.IndexAny(cred, ", "); j >= 0 {
				cred = cred[:j]
			}
		}
	} else if v, err := url.ParseQuery(r.URL.RawQuery); err == nil {
		cred = v.Get("X-Amz-Credential")
	}
	parts := strings.Split(cred, "/")
	if len(parts) != 5 {
		return ""
	}
	return parts[3]
}

// Signed reports whether a request carries a signature in either form (it may still be invalid). The gateway
// lets a few unsigned requests through (STS's AssumeRoleWithWebIdentity); a request that tries to sign is always
// verified.
func Signed(r *http.Request) bool {
	if r.Header.Get(headerAuthorization) != "" {
		return true
	}
	q := r.URL.Query()
	return q.Get("X-Amz-Algorithm") != "" || q.Get("X-Amz-Credential") != "" || q.Get("X-Amz-Signature") != ""
}
