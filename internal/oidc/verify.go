package oidc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Defaults for the zero values of [Verifier] fields.
const (
	// DefaultLeeway is the clock skew allowed between the IdP and this host
	// when checking exp, nbf and iat. One minute (go-jose's own default)
	// absorbs ordinary NTP drift while staying small next to the five-minute
	// lifetime of a GitHub Actions token.
	DefaultLeeway = time.Minute

	// DefaultKeyTTL is how long a fetched key set is trusted.
	DefaultKeyTTL = time.Hour

	// MinRefetchInterval is the least time between two fetches of one
	// issuer's keys triggered by unknown key ids.
	MinRefetchInterval = 10 * time.Second
)

// Provider is an IAM OIDC provider as registered.
type Provider struct {
	// Issuer is the provider URL, e.g.
	// "https://token.actions.githubusercontent.com". Tokens must carry
	// exactly this string as "iss".
	Issuer string
	// ClientIDs are the accepted audiences ("sts.amazonaws.com" for
	// GitHub Actions).
	ClientIDs []string
}

// Verifier verifies ID tokens and caches issuers' signing keys. The zero
// value is ready to use. A Verifier is safe for concurrent use; set its
// fields before the first call and do not copy it afterwards.
type Verifier struct {
	// Client fetches discovery documents and key sets. nil means a client
	// with a 10-second timeout that refuses redirects to URLs an issuer
	// could not use itself (see CheckIssuerURL).
	Client *http.Client
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Leeway is the clock skew allowed for exp, nbf and iat. Zero means
	// DefaultLeeway; a negative value means none.
	Leeway time.Duration
	// KeyTTL is how long a fetched key set is trusted before it is fetched
	// again. Zero or negative means DefaultKeyTTL.
	KeyTTL time.Duration

	mu      sync.Mutex
	issuers map[string]*issuerKeys
}

// allowedAlgs are the signature algorithms Verify accepts. Restricting them
// at parse time is what keeps "none" and HMAC tokens from ever reaching a
// key.
var allowedAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.ES256}

// Verify checks raw (a compact JWS) against the registered provider p and
// returns its claims. Every failure is an [*Error]: InvalidIdentityToken for
// a token that is malformed, badly signed, for another issuer or audience,
// or not yet valid; ExpiredTokenException for an expired token; and
// IDPCommunicationError when the issuer's keys cannot be fetched.
func (v *Verifier) Verify(ctx context.Context, raw string, p Provider) (Claims, error) {
	tok, unverified, err := parse(raw)
	if err != nil {
		return nil, err
	}
	claims, err := decodeClaims(unverified)
	if err != nil {
		return nil, err
	}
	// The issuer is checked before any key is fetched, so the only URLs
	// this package ever connects to are registered providers.
	if err := checkIssuer(claims, p); err != nil {
		return nil, err
	}

	hdr := tok.Headers[0]
	alg := jose.SignatureAlgorithm(hdr.Algorithm)
	keys, err := v.keys(ctx, p.Issuer, false)
	if err != nil {
		return nil, err
	}
	candidates, err := pickKeys(keys, hdr.KeyID, alg)
	if err != nil {
		return nil, err
	}
	if len(candidates) == 0 {
		// Probably a rotation we have not seen yet.
		if keys, err = v.keys(ctx, p.Issuer, true); err != nil {
			return nil, err
		}
		if candidates, err = pickKeys(keys, hdr.KeyID, alg); err != nil {
			return nil, err
		}
		if len(candidates) == 0 {
			if hdr.KeyID == "" {
				return nil, errInvalid("The token has no key id (kid) and the identity provider publishes no %s key", alg)
			}
			return nil, errInvalid("The identity provider publishes no %s key with the token's key id %s", alg, quote(hdr.KeyID))
		}
	}

	var payload rawJSON
	verified := false
	for _, k := range candidates {
		if tok.Claims(k, &payload) == nil {
			verified = true
			break
		}
	}
	if !verified {
		return nil, errInvalid("The token signature is invalid")
	}
	// The verified payload is the same bytes as the unverified one (one
	// signature, one payload), but decode what was verified regardless.
	if claims, err = decodeClaims(payload); err != nil {
		return nil, err
	}
	if err := checkIssuer(claims, p); err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(claims.Audience(), func(aud string) bool { return slices.Contains(p.ClientIDs, aud) }) {
		return nil, errInvalid("Incorrect token audience")
	}
	if err := v.checkTimes(claims); err != nil {
		return nil, err
	}
	return claims, nil
}

func checkIssuer(claims Claims, p Provider) error {
	iss := claims.Issuer()
	if iss == "" {
		return errInvalid("The token has no issuer (iss) claim")
	}
	if iss != p.Issuer {
		return errInvalid("The token issuer %s does not match the provider URL %s", quote(iss), quote(p.Issuer))
	}
	if err := CheckIssuerURL(p.Issuer); err != nil {
		return errInvalid("The provider URL is not acceptable: %v", err)
	}
	return nil
}

func (v *Verifier) checkTimes(claims Claims) error {
	now := v.now().UTC()
	leeway := v.Leeway
	switch {
	case leeway == 0:
		leeway = DefaultLeeway
	case leeway < 0:
		leeway = 0
	}

	exp, ok, err := claims.numericDate("exp")
	if err != nil {
		return err
	}
	if !ok {
		return errInvalid("The token has no expiration (exp) claim")
	}
	if now.After(exp.Add(leeway)) {
		return errExpired("Token expired: current date/time " + now.Format(time.RFC3339) +
			" must be before the expiration date/time " + exp.Format(time.RFC3339))
	}
	if nbf, ok, err := claims.numericDate("nbf"); err != nil {
		return err
	} else if ok && nbf.After(now.Add(leeway)) {
		return errInvalid("Token is not yet valid: current date/time %s is before the not-before date/time %s",
			now.Format(time.RFC3339), nbf.Format(time.RFC3339))
	}
	if iat, ok, err := claims.numericDate("iat"); err != nil {
		return err
	} else if ok && iat.After(now.Add(leeway)) {
		return errInvalid("Token issued in the future: current date/time %s is before the issued-at date/time %s",
			now.Format(time.RFC3339), iat.Format(time.RFC3339))
	}
	return nil
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

// parse parses a compact JWS, refusing algorithms outside allowedAlgs, and
// returns it with its (unverified) payload.
func parse(raw string) (*jwt.JSONWebToken, []byte, error) {
	tok, err := jwt.ParseSigned(raw, allowedAlgs)
	if err != nil {
		// go-jose's messages can quote decoded token bytes, so they are
		// not passed on.
		if algErr, ok := errors.AsType[*jose.ErrUnexpectedSignatureAlgorithm](err); ok {
			return nil, nil, errInvalid("Unsupported token signing algorithm %s: only RS256 and ES256 are accepted", quote(string(algErr.Got)))
		}
		return nil, nil, errInvalid("The token is not a well-formed JWT")
	}
	if len(tok.Headers) != 1 {
		return nil, nil, errInvalid("The token must carry exactly one signature")
	}
	var payload rawJSON
	if err := tok.UnsafeClaimsWithoutVerification(&payload); err != nil {
		return nil, nil, errInvalid("The token payload is not valid JSON")
	}
	return tok, payload, nil
}

// rawJSON captures a JWS payload as bytes. go-jose decodes claims with its
// own JSON package, which turns every number into a float64; taking the raw
// bytes lets decodeClaims keep numbers exact.
type rawJSON []byte

func (r *rawJSON) UnmarshalJSON(b []byte) error {
	*r = append((*r)[:0], b...)
	return nil
}

// decodeClaims decodes a payload that must be a single JSON object.
func decodeClaims(payload []byte) (Claims, error) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var claims Claims
	if err := dec.Decode(&claims); err != nil || claims == nil {
		return nil, errInvalid("The token payload is not a JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errInvalid("The token payload is not a JSON object")
	}
	return claims, nil
}
