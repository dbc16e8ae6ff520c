package oidctest_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/sluice-dev/sluice/internal/oidc/oidctest"
)

func start(t *testing.T) *oidctest.Issuer {
	t.Helper()
	iss, err := oidctest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(iss.Close)
	return iss
}

func getJSON(t *testing.T, url string, dst any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(dst); err != nil {
		t.Fatal(err)
	}
}

type jwk struct {
	Kty, Kid, Alg, Use, Crv string
}

func jwks(t *testing.T, iss *oidctest.Issuer) []jwk {
	t.Helper()
	var set struct{ Keys []jwk }
	getJSON(t, iss.URL+oidctest.JWKSPath, &set)
	return set.Keys
}

// decode splits a compact JWS into its decoded header, payload and
// signature.
func decode(t *testing.T, raw string) (header, claims map[string]any, sig []byte) {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	for i, dst := range []*map[string]any{&header, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, dst); err != nil {
			t.Fatal(err)
		}
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		t.Fatal(err)
	}
	return header, claims, sig
}

// Ensure the issuer serves GitHub's documents on a loopback URL.
func TestIssuerDocuments(t *testing.T) {
	iss := start(t)
	if !strings.HasPrefix(iss.URL, "http://127.0.0.1:") {
		t.Errorf("URL = %q, want http://127.0.0.1:<port>", iss.URL)
	}
	var disc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	getJSON(t, iss.URL+oidctest.DiscoveryPath, &disc)
	if disc.Issuer != iss.URL || disc.JWKSURI != iss.URL+"/.well-known/jwks" {
		t.Errorf("discovery = %+v", disc)
	}
	keys := jwks(t, iss)
	want := []jwk{
		{Kty: "RSA", Kid: iss.KeyID(), Alg: "RS256", Use: "sig"},
		{Kty: "EC", Kid: iss.ES256KeyID(), Alg: "ES256", Use: "sig", Crv: "P-256"},
	}
	if len(keys) != len(want) || keys[0] != want[0] || keys[1] != want[1] {
		t.Errorf("JWKS = %+v, want %+v", keys, want)
	}
	if got, want := iss.Requests(), 2; got != want {
		t.Errorf("Requests() = %d, want %d", got, want)
	}
	resp, err := http.Get(iss.URL + "/other")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || iss.Requests() != 2 {
		t.Errorf("GET /other = %s, requests %d; want 404 and uncounted", resp.Status, iss.Requests())
	}
}

// Ensure Rotate publishes a new kid and drops the old one.
func TestIssuerRotate(t *testing.T) {
	iss := start(t)
	old, ec := iss.KeyID(), iss.ES256KeyID()
	iss.Rotate()
	if iss.KeyID() == old {
		t.Fatal("Rotate kept the kid")
	}
	keys := jwks(t, iss)
	if len(keys) != 2 || keys[0].Kid != iss.KeyID() || keys[1].Kid != ec {
		t.Errorf("JWKS after Rotate = %+v, want kids %s, %s", keys, iss.KeyID(), ec)
	}
}

func TestGitHubClaims(t *testing.T) {
	iss := start(t)
	tests := []struct {
		repo, ref   string
		wantSub     string
		wantRefType string
	}{
		{"octo-org/octo-repo", "refs/heads/main", "repo:octo-org/octo-repo:ref:refs/heads/main", "branch"},
		{"octo-org/octo-repo", "refs/tags/v1", "repo:octo-org/octo-repo:ref:refs/tags/v1", "tag"},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			c := iss.GitHubClaims(tt.repo, tt.ref)
			for name, want := range map[string]any{
				"sub": tt.wantSub, "aud": "sts.amazonaws.com", "iss": iss.URL, "ref": tt.ref, "ref_type": tt.wantRefType,
				"repository": tt.repo, "repository_owner": "octo-org", "event_name": "push", "runner_environment": "github-hosted",
			} {
				if c[name] != want {
					t.Errorf("%s = %v, want %v", name, c[name], want)
				}
			}
			for _, name := range []string{"jti", "sha", "repository_id", "repository_owner_id", "repository_visibility", "actor",
				"actor_id", "workflow", "workflow_ref", "job_workflow_ref", "run_id", "run_number", "run_attempt"} {
				if s, _ := c[name].(string); s == "" {
					t.Errorf("%s = %v, want a non-empty string", name, c[name])
				}
			}
			iat, nbf, exp := c["iat"].(int64), c["nbf"].(int64), c["exp"].(int64)
			if nbf != iat || exp != iat+300 {
				t.Errorf("iat %d nbf %d exp %d, want nbf = iat and exp = iat+300", iat, nbf, exp)
			}
		})
	}
}

// Ensure each SignOption shapes the header and signature as documented.
func TestSignOptions(t *testing.T) {
	iss := start(t)
	claims := iss.GitHubClaims("o/r", "refs/heads/main")
	der := func() []byte {
		b, _ := pem.Decode(iss.PublicKeyPEM())
		if _, err := x509.ParsePKIXPublicKey(b.Bytes); err != nil {
			t.Fatal(err)
		}
		return b.Bytes
	}()
	hmacOf := func(key []byte, raw string) []byte {
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(raw[:strings.LastIndex(raw, ".")]))
		return mac.Sum(nil)
	}

	tests := []struct {
		name     string
		opts     []oidctest.SignOption
		wantAlg  string
		wantKid  string // "-" means absent; "?" means any other
		checkSig func(t *testing.T, raw string, sig []byte)
	}{
		{name: "Default", wantAlg: "RS256", wantKid: iss.KeyID(),
			checkSig: func(t *testing.T, _ string, sig []byte) {
				if len(sig) != 256 {
					t.Errorf("RS256 signature is %d bytes, want 256", len(sig))
				}
			}},
		{name: "ES256", opts: []oidctest.SignOption{oidctest.WithES256()}, wantAlg: "ES256", wantKid: iss.ES256KeyID(),
			checkSig: func(t *testing.T, _ string, sig []byte) {
				if len(sig) != 64 {
					t.Errorf("ES256 signature is %d bytes, want 64", len(sig))
				}
			}},
		{name: "AlgNone", opts: []oidctest.SignOption{oidctest.WithAlgNone()}, wantAlg: "none", wantKid: iss.KeyID(),
			checkSig: func(t *testing.T, _ string, sig []byte) {
				if len(sig) != 0 {
					t.Errorf("signature is %d bytes, want none", len(sig))
				}
			}},
		{name: "HS256PublicKeyPEM", opts: []oidctest.SignOption{oidctest.WithHS256PublicKey()}, wantAlg: "HS256", wantKid: iss.KeyID(),
			checkSig: func(t *testing.T, raw string, sig []byte) {
				if !hmac.Equal(sig, hmacOf(iss.PublicKeyPEM(), raw)) {
					t.Error("signature is not an HMAC keyed with the public key PEM")
				}
			}},
		{name: "HS256PublicKeyDER", opts: []oidctest.SignOption{oidctest.WithHS256PublicKeyDER()}, wantAlg: "HS256", wantKid: iss.KeyID(),
			checkSig: func(t *testing.T, raw string, sig []byte) {
				if !hmac.Equal(sig, hmacOf(der, raw)) {
					t.Error("signature is not an HMAC keyed with the public key DER")
				}
			}},
		{name: "UnknownKid", opts: []oidctest.SignOption{oidctest.WithUnknownKid()}, wantAlg: "RS256", wantKid: "?"},
		{name: "ForeignKey", opts: []oidctest.SignOption{oidctest.WithForeignKey()}, wantAlg: "RS256", wantKid: iss.KeyID()},
		{name: "WithoutKid", opts: []oidctest.SignOption{oidctest.WithoutKid()}, wantAlg: "RS256", wantKid: "-"},
		{name: "WithKid", opts: []oidctest.SignOption{oidctest.WithKid("k1")}, wantAlg: "RS256", wantKid: "k1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := iss.Sign(claims, tt.opts...)
			header, got, sig := decode(t, raw)
			if header["typ"] != "JWT" || header["alg"] != tt.wantAlg {
				t.Errorf("header = %v, want typ JWT, alg %s", header, tt.wantAlg)
			}
			kid, hasKid := header["kid"].(string)
			switch tt.wantKid {
			case "-":
				if hasKid {
					t.Errorf("kid = %q, want none", kid)
				}
			case "?":
				if kid == "" || kid == iss.KeyID() || kid == iss.ES256KeyID() {
					t.Errorf("kid = %q, want an unpublished one", kid)
				}
			default:
				if kid != tt.wantKid {
					t.Errorf("kid = %q, want %q", kid, tt.wantKid)
				}
			}
			if got["sub"] != claims["sub"] {
				t.Errorf("payload sub = %v, want %v", got["sub"], claims["sub"])
			}
			if tt.checkSig != nil {
				tt.checkSig(t, raw, sig)
			}
		})
	}
}

// Ensure the issuer is safe for concurrent use (run with -race).
func TestIssuerConcurrent(t *testing.T) {
	iss := start(t)
	claims := iss.GitHubClaims("o/r", "refs/heads/main")
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { iss.Sign(claims, oidctest.WithForeignKey()) })
		wg.Go(func() { iss.Sign(claims, oidctest.WithES256()) })
		wg.Go(func() {
			// Not jwks: t.Fatal must not be called off the test goroutine.
			resp, err := http.Get(iss.URL + oidctest.JWKSPath)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
		})
	}
	wg.Go(iss.Rotate)
	wg.Wait()
	if got, want := iss.Requests(), 8; got != want {
		t.Errorf("Requests() = %d, want %d", got, want)
	}
}
