package oidc

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

const (
	// maxDocumentSize bounds discovery documents and key sets; real ones
	// are a few kilobytes.
	maxDocumentSize = 1 << 20
	// fetchTimeout bounds one discovery+JWKS fetch even when the caller's
	// context has no deadline and Client has no timeout.
	fetchTimeout = 30 * time.Second
	// RSA key sizes accepted for RS256: RFC 7518 section 3.3 requires at
	// least 2048 bits; the upper bound keeps verification cheap.
	minRSABits = 2048
	maxRSABits = 8192
)

// defaultClient is used when Verifier.Client is nil. It is never modified.
var defaultClient = &http.Client{
	Timeout: 10 * time.Second,
	CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("too many redirects")
		}
		// A redirect must not lead from https to plain http off the host.
		return checkURL("redirect", req.URL.String(), true)
	},
}

// issuerKeys is the cached key set of one issuer. All fields are guarded by
// Verifier.mu.
type issuerKeys struct {
	keys      []jose.JSONWebKey
	fetchedAt time.Time  // start of the fetch that produced keys; zero if none
	lastFetch time.Time  // start of the latest fetch, successful or not
	call      *fetchCall // the fetch in flight, if any
}

// fetchCall is one fetch shared by every verification that needs it.
type fetchCall struct {
	done chan struct{}
	keys []jose.JSONWebKey
	err  error
}

// keys returns issuer's key set, fetching it if there is none or it is
// older than KeyTTL. With refresh set it also refetches a fresh set, unless
// the previous fetch started less than MinRefetchInterval ago, in which case
// the cached set is returned as is.
func (v *Verifier) keys(ctx context.Context, issuer string, refresh bool) ([]jose.JSONWebKey, error) {
	ttl := v.KeyTTL
	if ttl <= 0 {
		ttl = DefaultKeyTTL
	}

	v.mu.Lock()
	if v.issuers == nil {
		v.issuers = make(map[string]*issuerKeys)
	}
	st := v.issuers[issuer]
	if st == nil {
		st = &issuerKeys{}
		v.issuers[issuer] = st
	}
	call := st.call
	if call == nil {
		now := v.now()
		fresh := !st.fetchedAt.IsZero() && now.Sub(st.fetchedAt) < ttl
		if fresh && (!refresh || now.Sub(st.lastFetch) < MinRefetchInterval) {
			keys := st.keys
			v.mu.Unlock()
			return keys, nil
		}
		call = &fetchCall{done: make(chan struct{})}
		st.call = call
		st.lastFetch = now
		// The fetch runs on its own so that one caller giving up does not
		// fail the others waiting for it; it keeps ctx's values but not
		// its cancellation.
		go v.fetch(context.WithoutCancel(ctx), issuer, st, call, now)
	}
	v.mu.Unlock()

	select {
	case <-call.done:
		if call.err != nil {
			return nil, errIDP(issuer, call.err)
		}
		return call.keys, nil
	case <-ctx.Done():
		return nil, errIDP(issuer, ctx.Err())
	}
}

func (v *Verifier) fetch(ctx context.Context, issuer string, st *issuerKeys, call *fetchCall, started time.Time) {
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	call.keys, call.err = v.fetchKeys(ctx, issuer)

	v.mu.Lock()
	defer v.mu.Unlock()
	// On failure the old set stays, but it is not made fresher: an expired
	// set is fetched again by the next verification.
	if call.err == nil {
		st.keys, st.fetchedAt = call.keys, started
	}
	st.call = nil
	close(call.done)
}

// fetchKeys performs OpenID discovery for issuer and fetches its key set.
func (v *Verifier) fetchKeys(ctx context.Context, issuer string) ([]jose.JSONWebKey, error) {
	var disc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	discURL := strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
	if err := v.getJSON(ctx, discURL, &disc); err != nil {
		return nil, err
	}
	if disc.Issuer != issuer {
		return nil, fmt.Errorf("discovery document names issuer %q, want %q", disc.Issuer, issuer)
	}
	if disc.JWKSURI == "" {
		return nil, errors.New("discovery document has no jwks_uri")
	}
	if err := checkURL("jwks_uri", disc.JWKSURI, true); err != nil {
		return nil, err
	}

	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := v.getJSON(ctx, disc.JWKSURI, &set); err != nil {
		return nil, err
	}
	if set.Keys == nil {
		return nil, errors.New("key set has no keys member")
	}
	keys := make([]jose.JSONWebKey, 0, len(set.Keys))
	for _, raw := range set.Keys {
		// Keys this package cannot use (other types, encryption keys,
		// malformed entries) are skipped rather than failing the set, as
		// RFC 7517 section 5 asks.
		if k, ok := parseKey(raw); ok {
			keys = append(keys, k)
		}
	}
	return keys, nil
}

// parseKey parses one JWK, keeping only public RSA and EC signing keys.
func parseKey(raw json.RawMessage) (jose.JSONWebKey, bool) {
	// go-jose parses private members too, which is not safe for untrusted
	// input; a published key has none, so such entries are dropped first.
	var members map[string]json.RawMessage
	if json.Unmarshal(raw, &members) != nil {
		return jose.JSONWebKey{}, false
	}
	for _, m := range []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k", "priv"} {
		if _, ok := members[m]; ok {
			return jose.JSONWebKey{}, false
		}
	}
	var kty string
	if json.Unmarshal(members["kty"], &kty) != nil || (kty != "RSA" && kty != "EC") {
		return jose.JSONWebKey{}, false
	}
	var k jose.JSONWebKey
	if k.UnmarshalJSON(raw) != nil || !k.Valid() || (k.Use != "" && k.Use != "sig") {
		return jose.JSONWebKey{}, false
	}
	return k, true
}

// pickKeys returns the keys in set that could have signed a token with
// this kid and alg. A token without kid may use the issuer's only suitable
// key; with several to choose from it is refused outright.
func pickKeys(set []jose.JSONWebKey, kid string, alg jose.SignatureAlgorithm) ([]any, error) {
	var out []any
	for _, k := range set {
		if kid != "" && k.KeyID != kid {
			continue
		}
		if pub, ok := keyFor(k, alg); ok {
			out = append(out, pub)
		}
	}
	if kid == "" && len(out) > 1 {
		return nil, errInvalid("The token has no key id (kid) and the identity provider publishes %d %s keys", len(out), alg)
	}
	return out, nil
}

// keyFor returns k's public key if it fits alg.
func keyFor(k jose.JSONWebKey, alg jose.SignatureAlgorithm) (any, bool) {
	if k.Algorithm != "" && k.Algorithm != string(alg) {
		return nil, false
	}
	switch pub := k.Key.(type) {
	case *rsa.PublicKey:
		bits := pub.N.BitLen()
		return pub, alg == jose.RS256 && bits >= minRSABits && bits <= maxRSABits
	case *ecdsa.PublicKey:
		return pub, alg == jose.ES256 && pub.Curve == elliptic.P256()
	}
	return nil, false
}

// getJSON fetches u and decodes its JSON body into dst.
func (v *Verifier) getJSON(ctx context.Context, u string, dst any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	client := v.Client
	if client == nil {
		client = defaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocumentSize+1))
	if err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	if len(body) > maxDocumentSize {
		return fmt.Errorf("GET %s: response larger than %d bytes", u, maxDocumentSize)
	}
	if err := json.Unmarshal(body, dst); err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	return nil
}
