package oidc_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/oidc"
	"github.com/sluice-dev/sluice/internal/oidc/oidctest"
)

// clock is a settable time source shared by concurrent verifications.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func startIssuer(t *testing.T) *oidctest.Issuer {
	t.Helper()
	iss, err := oidctest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(iss.Close)
	return iss
}

func providerFor(iss *oidctest.Issuer) oidc.Provider {
	return oidc.Provider{Issuer: iss.URL, ClientIDs: []string{oidctest.Audience}}
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// checkErr asserts err is an *oidc.Error with the given code and a message
// containing msg, and that nothing of the token leaks into it.
func checkErr(t *testing.T, err error, code, msg, raw string) {
	t.Helper()
	e, ok := errors.AsType[*oidc.Error](err)
	if !ok {
		t.Fatalf("err = %v (%T), want *oidc.Error %s", err, err, code)
	}
	if e.Code != code || e.Status != http.StatusBadRequest {
		t.Fatalf("err = %d %s (%s), want 400 %s", e.Status, e.Code, e.Message, code)
	}
	if !strings.Contains(e.Message, msg) {
		t.Errorf("message = %q, want it to contain %q", e.Message, msg)
	}
	for _, part := range append(strings.Split(raw, "."), raw) {
		if len(part) >= 16 && strings.Contains(err.Error(), part) {
			t.Errorf("error %q leaks part of the token", err)
		}
	}
}

// Ensure every tamper variant is refused with the right STS error, and
// genuine tokens pass.
func TestVerify(t *testing.T) {
	iss := startIssuer(t)
	now := time.Now().Unix()

	// claims returns fresh GitHub claims edited by fn.
	claims := func(fn func(map[string]any)) map[string]any {
		c := iss.GitHubClaims("octo-org/octo-repo", "refs/heads/main")
		if fn != nil {
			fn(c)
		}
		return c
	}
	signed := func(fn func(map[string]any), opts ...oidctest.SignOption) func() string {
		return func() string { return iss.Sign(claims(fn), opts...) }
	}
	valid := signed(nil)()
	parts := strings.Split(valid, ".")

	tests := []struct {
		name     string
		token    func() string
		provider oidc.Provider // zero means providerFor(iss)
		leeway   time.Duration
		wantCode string // "" means success
		wantMsg  string
	}{
		{name: "RS256", token: signed(nil)},
		{name: "ES256", token: signed(nil, oidctest.WithES256())},
		{name: "RS256WithoutKid", token: signed(nil, oidctest.WithoutKid())},
		{name: "ES256WithoutKid", token: signed(nil, oidctest.WithES256(), oidctest.WithoutKid())},
		{name: "AudienceList", token: signed(func(c map[string]any) { c["aud"] = []string{"other", oidctest.Audience} })},
		{
			name:     "SecondClientID",
			token:    signed(func(c map[string]any) { c["aud"] = "https://github.com/octo-org" }),
			provider: oidc.Provider{Issuer: iss.URL, ClientIDs: []string{oidctest.Audience, "https://github.com/octo-org"}},
		},
		{name: "ExpiredWithinLeeway", token: signed(func(c map[string]any) { c["exp"] = now - 30 })},
		{name: "NotBeforeWithinLeeway", token: signed(func(c map[string]any) { c["nbf"] = now + 30 })},
		{name: "NoNotBeforeOrIssuedAt", token: signed(func(c map[string]any) { delete(c, "nbf"); delete(c, "iat") })},
		{name: "FractionalExp", token: signed(func(c map[string]any) { c["exp"] = float64(now) + 300.5 })},

		{name: "WrongAudience", token: signed(func(c map[string]any) { c["aud"] = "https://github.com/octo-org" }),
			wantCode: oidc.CodeInvalidIdentityToken, wantMsg: "Incorrect token audience"},
		{name: "NoAudience", token: signed(func(c map[string]any) { delete(c, "aud") }),
			wantCode: oidc.CodeInvalidIdentityToken, wantMsg: "Incorrect token audience"},
		{name: "AudienceListWithoutClientID", token: signed(func(c map[string]any) { c["aud"] = []any{"a", 1, nil} }),
			wantCode: oidc.CodeInvalidIdentityToken, wantMsg: "Incorrect token audience"},
		{name: "NoClientIDs", token: signed(nil), provider: oidc.Provider{Issuer: iss.URL},
			wantCode: oidc.CodeInvalidIdentityToken, wantMsg: "Incorrect token audience"},
		{name: "WrongIssuer", token: signed(func(c map[string]any) { c["iss"] = "https://token.actions.githubusercontent.com" }),
			wantCode: oidc.CodeInvalidIdentityToken, wantMsg: "does not match the provider URL"},
		{name: "IssuerTrailingSlash", token: signed(func(c map[string]any) { c["iss"] = iss.URL + "/" }),
			wantCode: oidc.CodeInvalidIdentityToken, wantMsg: "does not match the provider URL"},
		{name: "ProviderTrailingSlash", token: signed(nil), provider: oidc.Provider{Issuer: iss.URL + "/", ClientIDs: []string{oidctest.Audience}},
			wantCode: oidc.CodeInvalidIdentityToken, wantMsg: "does not match the provider URL"},
		{name: "NoIssuer", token: signed(func(c map[string]any) { delete(c, "iss") }),
			wantCode: oidc.CodeInvalidIdentityToken, wantMsg: "no issuer"},
		{name: "IssuerNotString", token: signed(func(c map[string]any) { c["iss"] = []string{iss.URL} }),
			wantCode: oidc.CodeInvalidIdentityToken, wantMsg: "no issuer"},
		{
			name:     "NonLoopbackHTTPIssuer",
			token:    signed(func(c map[string]any) { c["iss"] = "http://idp.example.com" }),
			provider: oidc.Provider{Issuer: "http://idp.example.com", ClientIDs: []string{oidctest.Audience}},
			wantCode: oidc.CodeInvalidIdentityToken, wantMsg: "http is only allowed for loopback hosts",
		},
		{name: "Expired", token: signed(func(c map[string]any) { c["exp"] = now - 120 }),
			wantCode: oidc.CodeExpiredToken, wantMsg: "Token expired: current date/time "},
		{name: "ExpiredWithoutLeeway", token: signed(func(c map[string]any) { c["exp"] = now - 30 }),
			leeway:   -1,
			wantCode: oidc.CodeExpiredToken, wantMsg: "Token expired"},
		{name: "NoExpiry", token: signed(func(c map[string]any) { delete(c, "exp") }),
			wantCode: oidc.CodeInvalidIdentityToken, wantMsg: "no expiration"},
		{name: "ExpiryNotNumber", token: signed(func(c map[string]any) { c["exp"] = fmt.Sprint(now + 300) }),
			wantCode: oidc.CodeInvalidIdentityToken, wantMsg: "exp claim is not a valid NumericDate"},
		{name: "ExpiryOutOfRange", token: signed(func(c map[string]any) { c["exp"] = 1e300 }),
			wantCode: oidc.CodeInvalidIdentityToken, wantMsg: "exp claim is not a valid NumericDate"},
		{name: "NotBeforeFuture", token: signed(func(c map[string]any) { c["nbf"] = now + 300 }),
			wantCode: oidc.CodeInvalidIdentityToken, wantMsg: "Token is not yet valid"},
		{name: "IssuedAtFuture", token: signed(func(c map[string]any) { c["iat"] = now + 300 }),
			wantCode: oidc.CodeInvalidIdentityToken, wantMsg: "Token issued in the future"},
		{name: "IssuedAtNotNumber", token: signed(func(c map[string]any) { c["iat"] = true }),
			wantCode: oidc.CodeInvalidIdentityToken, wantMsg: "iat claim is not a valid NumericDate"},

		{name: "AlgNone", token: signed(nil, oidctest.WithAlgNone()),
			wantCode: oidc.CodeInvalidIdentityToken, wantMsg: `Unsupported token signing algorithm "none"`},
		{name: "HS256WithPublicKeyPEM", token: signed(nil, oidctest.WithHS256PublicKey()),
			wantCode: oidc.CodeInvalidIdentityToken, wantMsg: `Unsupported token signing algorithm "HS256"`},
		{name: "HS256WithPublicKeyDER", token: signed(nil, oidctest.WithHS256PublicKeyDER()),
			wantCode: oidc.CodeInvalidIdentityToken, wantMsg: `Unsupported token signing algorithm "HS256"`},
		{name: "PS256", token: func() string { return b64(`{"alg":"PS256","typ":"JWT"}`) + "." + parts[1] + "." + parts[2] },
			wantCode: oidc.CodeInvalidIdentityToken, wantMsg: `Unsupported token signing algorithm "PS256"`},
		{name: "LongAlgIsCut", token: func() string { return b64(`{"alg":"`+strings.Repeat("X", 500)+`"}`) + "." + parts[1] + "." + parts[2] },
			wantCode: oidc.CodeInvalidIdentityToken, wantMsg: `XXX..."`},
		{name: "UnknownKid", token: signed(nil, oidctest.WithUnknownKid()),
			wantCode: oidc.CodeInvalidIdentityToken, wantMsg: "publishes no RS256 key with the token's key id"},
		{name: "ES256HeaderWithRSAKid", token: func() string { return iss.Sign(claims(nil), oidctest.WithES256(), oidctest.WithKid(iss.KeyID())) },
			wantCode: oidc.CodeInvalidIdentityToken, wantMsg: "publishes no ES256 key"},
		{name: "ForeignRSAKey", token: signed(nil, oidctest.WithForeignKey()),
			wantCode: oidc.CodeInvalidIdentityToken, wantMsg: "The token signature is invalid"},
		{name: "ForeignECKey", token: signed(nil, oidctest.WithES256(), oidctest.WithForeignKey()),
			wantCode: oidc.CodeInvalidIdentityToken, wantMsg: "The token signature is invalid"},
		{name: "ForeignKeyWithoutKid", token: signed(nil, oidctest.WithForeignKey(), oidctest.WithoutKid()),
			wantCode: oidc.CodeInvalidIdentityToken, wantMsg: "The token signature is invalid"},
		{
			name: "PayloadSwapped",
			token: func() string {
				forged := signed(func(c map[string]any) { c["sub"] = "repo:evil/repo:ref:refs/heads/main" })()
				return parts[0] + "." + strings.Split(forged, ".")[1] + "." + parts[2]
			},
			wantCode: oidc.CodeInvalidIdentityToken, wantMsg: "The token signature is invalid",
		},
		{name: "SignatureStripped", token: func() string { return parts[0] + "." + parts[1] + "." },
			wantCode: oidc.CodeInvalidIdentityToken, wantMsg: "The token signature is invalid"},

		{name: "Empty", token: func() string { return "" },
			wantCode: oidc.CodeInvalidIdentityToken, wantMsg: "not a well-formed JWT"},
		{name: "NotJWT", token: func() string { return "not-a-jwt" },
			wantCode: oidc.CodeInvalidIdentityToken, wantMsg: "not a well-formed JWT"},
		{name: "TwoParts", token: func() string { return parts[0] + "." + parts[1] },
			wantCode: oidc.CodeInvalidIdentityToken, wantMsg: "not a well-formed JWT"},
		{name: "FourParts", token: func() string { return valid + "." + parts[2] },
			wantCode: oidc.CodeInvalidIdentityToken, wantMsg: "not a well-formed JWT"},
		{name: "BadBase64", token: func() string { return parts[0] + ".!!!." + parts[2] },
			wantCode: oidc.CodeInvalidIdentityToken, wantMsg: "not a well-formed JWT"},
		{name: "HeaderNotJSON", token: func() string { return b64("RS256") + "." + parts[1] + "." + parts[2] },
			wantCode: oidc.CodeInvalidIdentityToken, wantMsg: "not a well-formed JWT"},
		{name: "PayloadNotObject", token: func() string { return parts[0] + "." + b64(`["iss"]`) + "." + parts[2] },
			wantCode: oidc.CodeInvalidIdentityToken, wantMsg: "not a JSON object"},
		{name: "PayloadTrailingData", token: func() string { return parts[0] + "." + b64(`{"iss":"x"} {}`) + "." + parts[2] },
			wantCode: oidc.CodeInvalidIdentityToken, wantMsg: "not"},
		{
			name: "JSONSerialization",
			token: func() string {
				return fmt.Sprintf(`{"protected":%q,"payload":%q,"signature":%q}`, parts[0], parts[1], parts[2])
			},
			wantCode: oidc.CodeInvalidIdentityToken, wantMsg: "not a well-formed JWT",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.provider
			if p.Issuer == "" && p.ClientIDs == nil {
				p = providerFor(iss)
			}
			raw := tt.token()
			v := oidc.Verifier{Leeway: tt.leeway}
			got, err := v.Verify(t.Context(), raw, p)
			if tt.wantCode != "" {
				checkErr(t, err, tt.wantCode, tt.wantMsg, raw)
				if got != nil {
					t.Errorf("claims = %v, want nil", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got, want := got.Subject(), "repo:octo-org/octo-repo:ref:refs/heads/main"; got != want {
				t.Errorf("Subject() = %q, want %q", got, want)
			}
		})
	}
}

// Ensure Verify returns every claim of the payload, numbers intact.
func TestVerifyReturnsAllClaims(t *testing.T) {
	iss := startIssuer(t)
	want := iss.GitHubClaims("octo-org/octo-repo", "refs/tags/v1.2.3")
	want["environment"] = "production"
	want["big"] = int64(1) << 60
	want["nested"] = map[string]any{"a": []any{"b"}}

	var v oidc.Verifier
	got, err := v.Verify(t.Context(), iss.Sign(want), providerFor(iss))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Errorf("got %d claims, want %d", len(got), len(want))
	}
	for name, w := range want {
		if _, ok := w.(map[string]any); ok {
			continue
		}
		if g, w := fmt.Sprint(got.StringValues(name)), fmt.Sprint([]string{fmt.Sprint(w)}); g != w {
			t.Errorf("claim %s = %s, want %s", name, g, w)
		}
	}
	if got, want := got.StringValues("big"), "1152921504606846976"; len(got) != 1 || got[0] != want {
		t.Errorf("big = %v, want [%s]", got, want)
	}
	if got, want := got.Issuer(), iss.URL; got != want {
		t.Errorf("Issuer() = %q, want %q", got, want)
	}
	if got := got.StringValues("ref_type"); len(got) != 1 || got[0] != "tag" {
		t.Errorf("ref_type = %v, want [tag]", got)
	}
}

// Ensure the expiry message has the shape STS uses.
func TestVerifyExpiredMessage(t *testing.T) {
	iss := startIssuer(t)
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	exp := time.Date(2026, 11, 26, 11, 55, 0, 0, time.UTC)
	c := iss.GitHubClaims("octo-org/octo-repo", "refs/heads/main")
	c["exp"], c["iat"], c["nbf"] = exp.Unix(), exp.Add(-5*time.Minute).Unix(), exp.Add(-5*time.Minute).Unix()

	v := oidc.Verifier{Now: func() time.Time { return now }}
	_, err := v.Verify(t.Context(), iss.Sign(c), providerFor(iss))
	want := "Token expired: current date/time 2026-11-26T12:00:00Z must be before the expiration date/time 2026-11-26T11:55:00Z"
	if e, ok := errors.AsType[*oidc.Error](err); !ok || e.Code != oidc.CodeExpiredToken || e.Message != want {
		t.Fatalf("err = %v, want ExpiredTokenException: %s", err, want)
	}
}

// Ensure key sets are fetched once and reused until KeyTTL passes.
func TestVerifyCache(t *testing.T) {
	iss := startIssuer(t)
	clk := newClock()
	v := oidc.Verifier{Now: clk.Now, KeyTTL: 10 * time.Minute}
	verify := func() {
		t.Helper()
		c := iss.GitHubClaims("o/r", "refs/heads/main")
		now := clk.Now().Unix()
		c["iat"], c["nbf"], c["exp"] = now, now, now+300
		if _, err := v.Verify(t.Context(), iss.Sign(c), providerFor(iss)); err != nil {
			t.Fatal(err)
		}
	}

	for range 5 {
		verify()
	}
	if got, want := iss.Requests(), 2; got != want {
		t.Fatalf("requests after 5 verifications = %d, want %d (discovery + JWKS once)", got, want)
	}
	clk.Advance(9 * time.Minute)
	verify()
	if got, want := iss.Requests(), 2; got != want {
		t.Fatalf("requests within KeyTTL = %d, want %d", got, want)
	}
	clk.Advance(2 * time.Minute)
	verify()
	verify()
	if got, want := iss.Requests(), 4; got != want {
		t.Fatalf("requests after KeyTTL = %d, want %d", got, want)
	}
}

// Ensure a key rotation is picked up by a refetch on the unknown kid, but
// no sooner than MinRefetchInterval after the previous fetch.
func TestVerifyRotation(t *testing.T) {
	iss := startIssuer(t)
	clk := newClock()
	v := oidc.Verifier{Now: clk.Now}
	p := providerFor(iss)
	claims := iss.GitHubClaims("o/r", "refs/heads/main")

	oldToken := iss.Sign(claims)
	if _, err := v.Verify(t.Context(), oldToken, p); err != nil {
		t.Fatal(err)
	}
	iss.Rotate()
	newToken := iss.Sign(claims)

	// Too soon after the first fetch: the new kid is unknown and stays so.
	_, err := v.Verify(t.Context(), newToken, p)
	checkErr(t, err, oidc.CodeInvalidIdentityToken, "key id", newToken)
	if got, want := iss.Requests(), 2; got != want {
		t.Fatalf("requests = %d, want %d (refetch rate-limited)", got, want)
	}

	clk.Advance(oidc.MinRefetchInterval + time.Second)
	if _, err := v.Verify(t.Context(), newToken, p); err != nil {
		t.Fatalf("Verify after rotation: %v", err)
	}
	if got, want := iss.Requests(), 4; got != want {
		t.Fatalf("requests = %d, want %d (one refetch)", got, want)
	}
	// The old key is gone from the refetched set.
	_, err = v.Verify(t.Context(), oldToken, p)
	checkErr(t, err, oidc.CodeInvalidIdentityToken, "key id", oldToken)
}

// Ensure a flood of made-up kids causes at most one refetch per
// MinRefetchInterval, sequentially or concurrently.
func TestVerifyRefetchRateLimited(t *testing.T) {
	iss := startIssuer(t)
	clk := newClock()
	v := oidc.Verifier{Now: clk.Now}
	p := providerFor(iss)
	claims := iss.GitHubClaims("o/r", "refs/heads/main")
	if _, err := v.Verify(t.Context(), iss.Sign(claims), p); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name       string
		concurrent bool
	}{
		{name: "Sequential"},
		{name: "Concurrent", concurrent: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := iss.Requests()
			clk.Advance(oidc.MinRefetchInterval + time.Second)
			var wg sync.WaitGroup
			for range 20 {
				run := func() {
					raw := iss.Sign(claims, oidctest.WithUnknownKid())
					_, err := v.Verify(context.Background(), raw, p)
					if e, ok := errors.AsType[*oidc.Error](err); !ok || e.Code != oidc.CodeInvalidIdentityToken {
						t.Errorf("err = %v, want InvalidIdentityToken", err)
					}
				}
				if tt.concurrent {
					wg.Go(run)
				} else {
					run()
				}
			}
			wg.Wait()
			if got, want := iss.Requests()-before, 2; got != want {
				t.Errorf("requests for 20 unknown kids = %d, want %d (one refetch)", got, want)
			}
		})
	}
}

// Ensure concurrent verifications share one fetch and race with nothing
// (run with -race).
func TestVerifyConcurrent(t *testing.T) {
	iss := startIssuer(t)
	var v oidc.Verifier
	p := providerFor(iss)
	claims := iss.GitHubClaims("o/r", "refs/heads/main")
	rs := iss.Sign(claims)
	es := iss.Sign(claims, oidctest.WithES256())

	var wg sync.WaitGroup
	for i := range 64 {
		raw := rs
		if i%2 == 1 {
			raw = es
		}
		wg.Go(func() {
			got, err := v.Verify(context.Background(), raw, p)
			if err != nil {
				t.Errorf("Verify: %v", err)
				return
			}
			if got.Subject() == "" {
				t.Error("no subject")
			}
		})
	}
	wg.Wait()
	if got, want := iss.Requests(), 2; got != want {
		t.Errorf("requests = %d, want %d (one shared fetch)", got, want)
	}
}

// Ensure a caller that gives up does not fail the fetch for others, and
// that waiting callers share the one fetch.
func TestVerifyContextCanceled(t *testing.T) {
	iss := startIssuer(t)
	release := make(chan struct{})
	hits := make(chan struct{}, 10)
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/.well-known/openid-configuration" {
			hits <- struct{}{}
			<-release
			fmt.Fprintf(w, `{"issuer":%q,"jwks_uri":%q}`, srv.URL, iss.URL+oidctest.JWKSPath)
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	c := iss.GitHubClaims("o/r", "refs/heads/main")
	c["iss"] = srv.URL
	raw := iss.Sign(c)
	p := oidc.Provider{Issuer: srv.URL, ClientIDs: []string{oidctest.Audience}}
	var v oidc.Verifier

	ctx, cancel := context.WithCancel(t.Context())
	first := make(chan error, 1)
	go func() { _, err := v.Verify(ctx, raw, p); first <- err }()
	<-hits // the fetch is in flight
	second := make(chan error, 1)
	go func() { _, err := v.Verify(t.Context(), raw, p); second <- err }()

	cancel()
	err := <-first
	checkErr(t, err, oidc.CodeIDPCommunicationError, "", raw)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want it to wrap context.Canceled", err)
	}
	close(release)
	if err := <-second; err != nil {
		t.Fatalf("second Verify: %v", err)
	}
	if got := len(hits); got != 0 {
		t.Errorf("%d extra discovery requests, want 0", got)
	}
}

// fakeIdP serves a discovery document and key set built by the test.
type fakeIdP struct {
	*httptest.Server
	discovery func(url string) string
	jwks      func() string
}

func startFakeIdP(t *testing.T, discovery func(url string) string, jwks func() string) *fakeIdP {
	t.Helper()
	f := &fakeIdP{discovery: discovery, jwks: jwks}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			fmt.Fprint(w, f.discovery(f.URL))
		case "/jwks":
			fmt.Fprint(w, f.jwks())
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(f.Close)
	return f
}

func goodDiscovery(url string) string {
	return fmt.Sprintf(`{"issuer":%q,"jwks_uri":%q}`, url, url+"/jwks")
}

// publishedKeys returns iss's JWKS entries as JSON objects to edit.
func publishedKeys(t *testing.T, iss *oidctest.Issuer) []map[string]any {
	t.Helper()
	resp, err := http.Get(iss.URL + oidctest.JWKSPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set struct{ Keys []map[string]any }
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	return set.Keys
}

func keySet(keys ...map[string]any) string {
	b, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		panic(err)
	}
	return string(b)
}

// Ensure failures reaching the IdP are IDPCommunicationError, and unusable
// keys in a set are skipped.
func TestVerifyKeyFetch(t *testing.T) {
	iss := startIssuer(t)
	keys := publishedKeys(t, iss)
	rsaKey, ecKey := keys[0], keys[1]
	if rsaKey["kty"] != "RSA" || ecKey["kty"] != "EC" {
		t.Fatalf("unexpected published keys %v", keys)
	}
	edit := func(k map[string]any, name string, v any) map[string]any {
		out := make(map[string]any, len(k)+1)
		for n, v := range k {
			out[n] = v
		}
		if v == nil {
			delete(out, name)
		} else {
			out[name] = v
		}
		return out
	}
	fixed := func(s string) func() string { return func() string { return s } }

	tests := []struct {
		name      string
		discovery func(url string) string
		jwks      func() string
		opts      []oidctest.SignOption
		wantCode  string
		wantMsg   string
	}{
		{name: "OK", discovery: goodDiscovery, jwks: fixed(keySet(rsaKey, ecKey))},
		{name: "UnusableKeysSkipped", discovery: goodDiscovery, jwks: fixed(keySet(
			map[string]any{"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
			map[string]any{"kty": "RSA", "n": "!!", "e": "AQAB"},
			map[string]any{"kty": "oct", "k": "c2VjcmV0"},
			edit(rsaKey, "kid", "duplicate"),
			rsaKey,
		))},
		{name: "JWKWithoutAlgOrUse", discovery: goodDiscovery, jwks: fixed(keySet(edit(edit(rsaKey, "alg", nil), "use", nil)))},
		{name: "JWKSURIWithQuery", discovery: func(url string) string {
			return fmt.Sprintf(`{"issuer":%q,"jwks_uri":%q}`, url, url+"/jwks?x=1")
		}, jwks: fixed(keySet(rsaKey))},

		{name: "EncryptionKeyIgnored", discovery: goodDiscovery, jwks: fixed(keySet(edit(rsaKey, "use", "enc"))),
			wantCode: oidc.CodeInvalidIdentityToken, wantMsg: "publishes no RS256 key"},
		{name: "KeyAlgMismatchIgnored", discovery: goodDiscovery, jwks: fixed(keySet(edit(rsaKey, "alg", "RS512"))),
			wantCode: oidc.CodeInvalidIdentityToken, wantMsg: "publishes no RS256 key"},
		{name: "PrivateKeyEntryIgnored", discovery: goodDiscovery, jwks: fixed(keySet(edit(rsaKey, "d", "AQAB"))),
			wantCode: oidc.CodeInvalidIdentityToken, wantMsg: "publishes no RS256 key"},
		{name: "ECKeyForRS256Kid", discovery: goodDiscovery, jwks: fixed(keySet(edit(ecKey, "kid", rsaKey["kid"]))),
			wantCode: oidc.CodeInvalidIdentityToken, wantMsg: "publishes no RS256 key"},
		{name: "NoKidTwoRSAKeys", discovery: goodDiscovery, jwks: fixed(keySet(rsaKey, edit(rsaKey, "kid", "other"))),
			opts: []oidctest.SignOption{oidctest.WithoutKid()}, wantCode: oidc.CodeInvalidIdentityToken, wantMsg: "publishes 2 RS256 keys"},

		{name: "DiscoveryIssuerMismatch", discovery: func(url string) string {
			return fmt.Sprintf(`{"issuer":%q,"jwks_uri":%q}`, url+"/", url+"/jwks")
		}, jwks: fixed(keySet(rsaKey)), wantCode: oidc.CodeIDPCommunicationError, wantMsg: "discovery document names issuer"},
		{name: "NoJWKSURI", discovery: func(url string) string { return fmt.Sprintf(`{"issuer":%q}`, url) },
			wantCode: oidc.CodeIDPCommunicationError, wantMsg: "no jwks_uri"},
		{name: "JWKSURIPlainHTTP", discovery: func(url string) string {
			return fmt.Sprintf(`{"issuer":%q,"jwks_uri":"http://idp.example.com/jwks"}`, url)
		}, wantCode: oidc.CodeIDPCommunicationError, wantMsg: "must use https"},
		{name: "DiscoveryNotJSON", discovery: func(string) string { return "<html>" },
			wantCode: oidc.CodeIDPCommunicationError, wantMsg: "openid-configuration"},
		{name: "DiscoveryTooLarge", discovery: func(url string) string {
			return fmt.Sprintf(`{"issuer":%q,"jwks_uri":%q,"pad":"%s"}`, url, url+"/jwks", strings.Repeat("x", 1<<20))
		}, wantCode: oidc.CodeIDPCommunicationError, wantMsg: "larger than"},
		{name: "JWKSNotJSON", discovery: goodDiscovery, jwks: fixed("nope"),
			wantCode: oidc.CodeIDPCommunicationError, wantMsg: "/jwks"},
		{name: "JWKSWithoutKeys", discovery: goodDiscovery, jwks: fixed(`{}`),
			wantCode: oidc.CodeIDPCommunicationError, wantMsg: "no keys member"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			idp := startFakeIdP(t, tt.discovery, tt.jwks)
			c := iss.GitHubClaims("o/r", "refs/heads/main")
			c["iss"] = idp.URL
			raw := iss.Sign(c, tt.opts...)
			var v oidc.Verifier
			_, err := v.Verify(t.Context(), raw, oidc.Provider{Issuer: idp.URL, ClientIDs: []string{oidctest.Audience}})
			if tt.wantCode == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			checkErr(t, err, tt.wantCode, tt.wantMsg, raw)
		})
	}
}

// Ensure an unreachable or failing IdP is IDPCommunicationError, and that
// the failure is not cached.
func TestVerifyIdPDown(t *testing.T) {
	iss := startIssuer(t)
	raw := iss.Sign(iss.GitHubClaims("o/r", "refs/heads/main"))
	p := providerFor(iss)

	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	}))
	defer failing.Close()
	redirecting := httptest.NewServer(http.RedirectHandler("http://idp.example.com/.well-known/openid-configuration", http.StatusFound))
	defer redirecting.Close()

	tests := []struct {
		name    string
		issuer  string
		wantMsg string
	}{
		{name: "ServerError", issuer: failing.URL, wantMsg: "500 Internal Server Error"},
		{name: "RedirectOffLoopback", issuer: redirecting.URL, wantMsg: "must use https"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := iss.GitHubClaims("o/r", "refs/heads/main")
			c["iss"] = tt.issuer
			raw := iss.Sign(c)
			var v oidc.Verifier
			_, err := v.Verify(t.Context(), raw, oidc.Provider{Issuer: tt.issuer, ClientIDs: []string{oidctest.Audience}})
			checkErr(t, err, oidc.CodeIDPCommunicationError, tt.wantMsg, raw)
		})
	}

	t.Run("Closed", func(t *testing.T) {
		var v oidc.Verifier
		iss.Close()
		_, err := v.Verify(t.Context(), raw, p)
		checkErr(t, err, oidc.CodeIDPCommunicationError, "identity provider "+iss.URL, raw)
		_, err = v.Verify(t.Context(), raw, p)
		checkErr(t, err, oidc.CodeIDPCommunicationError, "", raw)
	})
}

// Ensure the issuer in the discovery document must be the registered one,
// byte for byte: the same server reached as "localhost" announces itself
// as 127.0.0.1.
func TestVerifyDiscoveryIssuerMismatch(t *testing.T) {
	iss := startIssuer(t)
	alias := strings.Replace(iss.URL, "127.0.0.1", "localhost", 1)
	c := iss.GitHubClaims("o/r", "refs/heads/main")
	c["iss"] = alias
	raw := iss.Sign(c)
	var v oidc.Verifier
	_, err := v.Verify(t.Context(), raw, oidc.Provider{Issuer: alias, ClientIDs: []string{oidctest.Audience}})
	checkErr(t, err, oidc.CodeIDPCommunicationError, "discovery document names issuer", raw)
}
