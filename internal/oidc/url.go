package oidc

import (
	"fmt"
	"net/netip"
	"net/url"
	"strings"
)

// CheckIssuerURL reports whether u may be an OIDC issuer: an absolute https
// URL with a host and without user info, query or fragment (OpenID Connect
// Discovery 1.0, section 2). Plain http is accepted only when the host is a
// loopback address (127.0.0.0/8, ::1 or "localhost"), so tests and local
// set-ups can run their own issuer without TLS while nothing off the machine
// can be trusted over an unauthenticated channel.
func CheckIssuerURL(u string) error {
	return checkURL("issuer", u, false)
}

// checkURL validates a URL this package will fetch from or trust.
// allowQuery is for jwks_uri, which discovery allows to carry a query.
func checkURL(what, raw string, allowQuery bool) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%s URL %q is not a valid URL", what, raw)
	}
	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		return fmt.Errorf("%s URL %q must use https", what, raw)
	case u.Opaque != "" || u.Host == "" || u.Hostname() == "":
		return fmt.Errorf("%s URL %q has no host", what, raw)
	case u.User != nil:
		return fmt.Errorf("%s URL %q must not contain user info", what, raw)
	case !allowQuery && (u.RawQuery != "" || u.ForceQuery):
		return fmt.Errorf("%s URL %q must not contain a query", what, raw)
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return fmt.Errorf("%s URL %q must not contain a fragment", what, raw)
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		return fmt.Errorf("%s URL %q must use https (http is only allowed for loopback hosts)", what, raw)
	}
	return nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	addr, err := netip.ParseAddr(host)
	return err == nil && addr.Zone() == "" && addr.Unmap().IsLoopback()
}

// PeekIssuer returns the "iss" claim of a compact JWS without verifying
// anything, so the caller can find the registered provider to verify
// against. Tokens that cannot be parsed, or use an algorithm Verify would
// refuse, or carry no string "iss", yield an InvalidIdentityToken [*Error].
func PeekIssuer(raw string) (string, error) {
	_, payload, err := parse(raw)
	if err != nil {
		return "", err
	}
	claims, err := decodeClaims(payload)
	if err != nil {
		return "", err
	}
	iss := claims.Issuer()
	if iss == "" {
		return "", errInvalid("The token has no issuer (iss) claim")
	}
	return iss, nil
}
