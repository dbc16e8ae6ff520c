// Package oidctest owns a real OpenID Connect issuer for tests: an HTTP
// server on a loopback port that publishes GitHub Actions' discovery and
// JWKS documents and signs GitHub-shaped ID tokens, including deliberately
// broken ones for tamper tests.
//
// It serves real HTTP, so it works for in-process tests and for end-to-end
// suites where the AWS CLI or boto3 talk to a separate server process that
// must fetch the keys itself. It does not import package testing, so a
// helper binary can use it too; it panics on programmer errors and on
// failures of crypto/rand.
//
// The issuer URL is "http://127.0.0.1:<port>", which oidc.CheckIssuerURL
// accepts because the host is a loopback address.
package oidctest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Paths GitHub's issuer (https://token.actions.githubusercontent.com) uses.
const (
	DiscoveryPath = "/.well-known/openid-configuration"
	JWKSPath      = "/.well-known/jwks"
)

// Audience is the audience aws-actions/configure-aws-credentials requests
// and GitHubClaims puts in "aud".
const Audience = "sts.amazonaws.com"

// Issuer is a running OIDC issuer. Its methods are safe for concurrent use.
type Issuer struct {
	// URL is the issuer URL, "http://127.0.0.1:<port>", without a trailing
	// slash. Tokens carry it as "iss"; register it as the provider URL.
	URL string

	srv      *http.Server
	requests atomic.Int64

	mu         sync.Mutex
	rsaKey     signingKey // current RS256 key; replaced by Rotate
	ecKey      signingKey // ES256 key; published alongside
	foreignRSA crypto.Signer
	foreignEC  crypto.Signer
}

type signingKey struct {
	kid  string
	priv crypto.Signer
}

// Start generates an RSA-2048 key and a P-256 key, publishes both, and
// starts serving on 127.0.0.1 with an OS-chosen port.
func Start() (*Issuer, error) { return StartOn("127.0.0.1:0") }

// StartOn is Start on a given loopback address ("127.0.0.1:9500"): an issuer
// whose URL stays the same across runs. Addresses that are not loopback are
// refused — this issuer signs whatever it is asked to.
func StartOn(addr string) (*Issuer, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("oidctest: listen address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("oidctest: %q is not a loopback address: a development issuer serves this machine only", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("oidctest: listen: %w", err)
	}
	i := &Issuer{
		URL:    "http://" + ln.Addr().String(),
		rsaKey: newRSAKey(),
		ecKey:  newECKey(),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+DiscoveryPath, i.serveDiscovery)
	mux.HandleFunc("GET "+JWKSPath, i.serveJWKS)
	i.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go i.srv.Serve(ln) // returns ErrServerClosed once Close is called
	return i, nil
}

// Close stops the server, dropping open connections. Verifiers that still
// need keys from it then see connection errors, as with an IdP outage.
func (i *Issuer) Close() { i.srv.Close() }

// Requests returns how many discovery and JWKS requests have been served.
func (i *Issuer) Requests() int { return int(i.requests.Load()) }

// Rotate replaces the RS256 signing key with a new one under a new kid; the
// old key is no longer published, so tokens it signed stop verifying once
// a verifier refetches. The ES256 key is unchanged.
func (i *Issuer) Rotate() {
	k := newRSAKey()
	i.mu.Lock()
	i.rsaKey = k
	i.mu.Unlock()
}

// KeyID returns the kid of the current RS256 key.
func (i *Issuer) KeyID() string {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.rsaKey.kid
}

// ES256KeyID returns the kid of the ES256 key.
func (i *Issuer) ES256KeyID() string {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.ecKey.kid
}

func (i *Issuer) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	i.requests.Add(1)
	// The shape of GitHub's document, trimmed to what verifiers read.
	writeJSON(w, map[string]any{
		"issuer":                                i.URL,
		"jwks_uri":                              i.URL + JWKSPath,
		"subject_types_supported":               []string{"public", "pairwise"},
		"response_types_supported":              []string{"id_token"},
		"claims_supported":                      []string{"sub", "aud", "exp", "iat", "iss", "jti", "nbf", "ref", "repository", "repository_id", "repository_owner", "repository_owner_id", "run_id", "run_number", "run_attempt", "actor", "actor_id", "workflow", "workflow_ref", "workflow_sha", "head_ref", "base_ref", "event_name", "ref_type", "environment", "job_workflow_ref", "job_workflow_sha", "repository_visibility", "runner_environment"},
		"id_token_signing_alg_values_supported": []string{"RS256", "ES256"},
		"scopes_supported":                      []string{"openid"},
	})
}

func (i *Issuer) serveJWKS(w http.ResponseWriter, r *http.Request) {
	i.requests.Add(1)
	i.mu.Lock()
	keys := []jose.JSONWebKey{
		{Key: i.rsaKey.priv.Public(), KeyID: i.rsaKey.kid, Algorithm: string(jose.RS256), Use: "sig"},
		{Key: i.ecKey.priv.Public(), KeyID: i.ecKey.kid, Algorithm: string(jose.ES256), Use: "sig"},
	}
	i.mu.Unlock()
	writeJSON(w, jose.JSONWebKeySet{Keys: keys})
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Write(b)
}

// GitHubClaims returns the claims GitHub Actions puts in a token for a push
// to ref (e.g. "refs/heads/main") in repo ("owner/name"), with the audience
// configure-aws-credentials asks for. The token is valid from now for five
// minutes. Ids and the commit sha are random; ref_type is "tag" for
// refs/tags/ refs and "branch" otherwise. Callers may edit the map freely
// before passing it to Sign.
func (i *Issuer) GitHubClaims(repo, ref string) map[string]any {
	owner, _, _ := strings.Cut(repo, "/")
	refType := "branch"
	if strings.HasPrefix(ref, "refs/tags/") {
		refType = "tag"
	}
	now := time.Now().Unix()
	sha := randomHex(20)
	workflowRef := repo + "/.github/workflows/deploy.yml@" + ref
	return map[string]any{
		"jti":                   randomUUID(),
		"sub":                   "repo:" + repo + ":ref:" + ref,
		"aud":                   Audience,
		"iss":                   i.URL,
		"nbf":                   now,
		"iat":                   now,
		"exp":                   now + 300,
		"ref":                   ref,
		"sha":                   sha,
		"repository":            repo,
		"repository_owner":      owner,
		"repository_id":         randomID(),
		"repository_owner_id":   randomID(),
		"repository_visibility": "private",
		"actor":                 owner,
		"actor_id":              randomID(),
		"workflow":              "deploy",
		"workflow_ref":          workflowRef,
		"workflow_sha":          sha,
		"job_workflow_ref":      workflowRef,
		"job_workflow_sha":      sha,
		"event_name":            "push",
		"ref_type":              refType,
		"run_id":                randomID(),
		"run_number":            "1",
		"run_attempt":           "1",
		"runner_environment":    "github-hosted",
	}
}

// A SignOption changes how Sign builds a token, mostly to produce the
// variants a verifier must refuse.
type SignOption func(*signConfig)

type signConfig struct {
	alg     jose.SignatureAlgorithm // RS256, ES256, HS256 or "none"
	hmacDER bool                    // HS256 keyed with DER instead of PEM
	kid     *string                 // overrides the key's kid; "" omits it
	foreign bool                    // sign with an unpublished key
}

// WithES256 signs with the published P-256 key (alg ES256) instead of the
// RSA key.
func WithES256() SignOption { return func(c *signConfig) { c.alg = jose.ES256 } }

// WithAlgNone produces an unsigned token: header alg "none" and an empty
// signature.
func WithAlgNone() SignOption { return func(c *signConfig) { c.alg = "none" } }

// WithHS256PublicKey produces the classic key-confusion token: alg HS256,
// the RSA key's kid, and an HMAC keyed with the RSA public key's PEM
// ("-----BEGIN PUBLIC KEY-----", PKIX), which an attacker can download.
func WithHS256PublicKey() SignOption {
	return func(c *signConfig) { c.alg = jose.HS256; c.hmacDER = false }
}

// WithHS256PublicKeyDER is WithHS256PublicKey with the HMAC keyed with the
// public key's PKIX DER bytes instead of its PEM.
func WithHS256PublicKeyDER() SignOption {
	return func(c *signConfig) { c.alg = jose.HS256; c.hmacDER = true }
}

// WithUnknownKid signs with the published key but puts a kid in the header
// that the issuer has never published.
func WithUnknownKid() SignOption {
	return func(c *signConfig) { kid := "unknown-" + randomHex(8); c.kid = &kid }
}

// WithKid sets the header's kid to kid ("" omits it), signing with the key
// Sign would otherwise use.
func WithKid(kid string) SignOption { return func(c *signConfig) { c.kid = &kid } }

// WithForeignKey signs with a key the issuer does not publish (of the
// same type as the one Sign would use), under the published key's kid: a
// forgery that only the signature check can catch.
func WithForeignKey() SignOption { return func(c *signConfig) { c.foreign = true } }

// WithoutKid leaves kid out of the header.
func WithoutKid() SignOption { return WithKid("") }

// Sign returns claims as a compact JWS with header typ "JWT". By default it
// is signed RS256 with the current RSA key and carries its kid; options
// change that. It panics if claims cannot be encoded as JSON.
func (i *Issuer) Sign(claims map[string]any, opts ...SignOption) string {
	cfg := signConfig{alg: jose.RS256}
	for _, o := range opts {
		o(&cfg)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		panic("oidctest: encode claims: " + err.Error())
	}

	i.mu.Lock()
	key := i.rsaKey
	if cfg.alg == jose.ES256 {
		key = i.ecKey
	}
	if cfg.foreign {
		key.priv = i.foreignKey(cfg.alg)
	}
	i.mu.Unlock()
	kid := key.kid
	if cfg.kid != nil {
		kid = *cfg.kid
	}

	header := map[string]any{"typ": "JWT", "alg": string(cfg.alg)}
	if kid != "" {
		header["kid"] = kid
	}
	hdr, err := json.Marshal(header)
	if err != nil {
		panic("oidctest: encode header: " + err.Error())
	}
	input := b64(hdr) + "." + b64(payload)
	return input + "." + b64(sign(cfg, key.priv, []byte(input)))
}

// foreignKey returns the unpublished key for alg, generating it on first
// use. i.mu must be held.
func (i *Issuer) foreignKey(alg jose.SignatureAlgorithm) crypto.Signer {
	if alg == jose.ES256 {
		if i.foreignEC == nil {
			i.foreignEC = newECKey().priv
		}
		return i.foreignEC
	}
	if i.foreignRSA == nil {
		i.foreignRSA = newRSAKey().priv
	}
	return i.foreignRSA
}

// sign signs a JWS signing input by hand, since go-jose (rightly) refuses
// to produce some of the tokens wanted here.
func sign(cfg signConfig, priv crypto.Signer, input []byte) []byte {
	digest := sha256.Sum256(input)
	switch cfg.alg {
	case "none":
		return nil
	case jose.HS256:
		secret := publicKeyDER(priv)
		if !cfg.hmacDER {
			secret = pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: secret})
		}
		mac := hmac.New(sha256.New, secret)
		mac.Write(input)
		return mac.Sum(nil)
	case jose.RS256:
		sig, err := rsa.SignPKCS1v15(rand.Reader, priv.(*rsa.PrivateKey), crypto.SHA256, digest[:])
		if err != nil {
			panic("oidctest: RS256: " + err.Error())
		}
		return sig
	case jose.ES256:
		// JWS wants r||s, each left-padded to 32 bytes (RFC 7518 3.4).
		r, s, err := ecdsa.Sign(rand.Reader, priv.(*ecdsa.PrivateKey), digest[:])
		if err != nil {
			panic("oidctest: ES256: " + err.Error())
		}
		out := make([]byte, 64)
		r.FillBytes(out[:32])
		s.FillBytes(out[32:])
		return out
	}
	panic("oidctest: unsupported alg " + string(cfg.alg))
}

// PublicKeyPEM returns the current RSA public key as PKIX PEM, as an
// attacker would obtain it from the JWKS.
func (i *Issuer) PublicKeyPEM() []byte {
	i.mu.Lock()
	defer i.mu.Unlock()
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: publicKeyDER(i.rsaKey.priv)})
}

func publicKeyDER(priv crypto.Signer) []byte {
	der, err := x509.MarshalPKIXPublicKey(priv.Public())
	if err != nil {
		panic("oidctest: marshal public key: " + err.Error())
	}
	return der
}

func newRSAKey() signingKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic("oidctest: generate RSA key: " + err.Error())
	}
	return signingKey{kid: kidOf(k), priv: k}
}

func newECKey() signingKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic("oidctest: generate ES256 key: " + err.Error())
	}
	return signingKey{kid: kidOf(k), priv: k}
}

// kidOf derives a kid from the key's RFC 7638 thumbprint, so kids are
// stable for a key and distinct across keys.
func kidOf(priv crypto.Signer) string {
	jwk := jose.JSONWebKey{Key: priv.Public()}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		panic("oidctest: thumbprint: " + err.Error())
	}
	return hex.EncodeToString(tp[:16])
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func randomUUID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// randomID returns a numeric id as GitHub sends them: a decimal string.
func randomID() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000_000))
	if err != nil {
		panic("oidctest: " + err.Error())
	}
	return n.Add(n, big.NewInt(1)).String()
}
