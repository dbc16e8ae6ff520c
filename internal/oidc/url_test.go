package oidc_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/internal/oidc"
	"github.com/sluice-dev/sluice/internal/oidc/oidctest"
)

func TestCheckIssuerURL(t *testing.T) {
	tests := []struct {
		url     string
		wantErr string // "" means accepted
	}{
		{url: "https://token.actions.githubusercontent.com"},
		{url: "https://token.actions.githubusercontent.com/"},
		{url: "https://idp.example.com:8443/tenant/v2"},
		{url: "http://127.0.0.1:8080"},
		{url: "http://127.9.9.9"},
		{url: "http://localhost:5556/dex"},
		{url: "http://LOCALHOST"},
		{url: "http://[::1]:8080"},
		{url: "http://[::ffff:127.0.0.1]:8080"},

		{url: "", wantErr: "must use https"},
		{url: "token.actions.githubusercontent.com", wantErr: "must use https"},
		{url: "ftp://idp.example.com", wantErr: "must use https"},
		{url: "http://idp.example.com", wantErr: "loopback"},
		{url: "http://10.0.0.1", wantErr: "loopback"},
		{url: "http://[::2]", wantErr: "loopback"},
		{url: "http://localhost.example.com", wantErr: "loopback"},
		{url: "http://127.0.0.1.nip.io", wantErr: "loopback"},
		{url: "https://", wantErr: "no host"},
		{url: "https:idp.example.com", wantErr: "no host"},
		{url: "https://:443", wantErr: "no host"},
		{url: "https://user:pw@idp.example.com", wantErr: "user info"},
		{url: "https://idp.example.com?tenant=1", wantErr: "query"},
		{url: "https://idp.example.com?", wantErr: "query"},
		{url: "https://idp.example.com#x", wantErr: "fragment"},
		{url: "https://idp.example.com#", wantErr: "fragment"},
		{url: "https://idp.example.com/%zz", wantErr: "not a valid URL"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			err := oidc.CheckIssuerURL(tt.url)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("CheckIssuerURL(%q) = %v, want nil", tt.url, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("CheckIssuerURL(%q) = %v, want error containing %q", tt.url, err, tt.wantErr)
			}
		})
	}
}

func TestPeekIssuer(t *testing.T) {
	iss, err := oidctest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer iss.Close()
	c := iss.GitHubClaims("o/r", "refs/heads/main")
	valid := iss.Sign(c)
	parts := strings.Split(valid, ".")
	with := func(edit func(map[string]any)) string {
		c := iss.GitHubClaims("o/r", "refs/heads/main")
		edit(c)
		return iss.Sign(c)
	}

	tests := []struct {
		name    string
		raw     string
		want    string
		wantMsg string // "" means success
	}{
		{name: "RS256", raw: valid, want: iss.URL},
		{name: "ES256", raw: iss.Sign(c, oidctest.WithES256()), want: iss.URL},
		{name: "ForeignKey", raw: iss.Sign(c, oidctest.WithForeignKey()), want: iss.URL}, // nothing is verified
		{name: "OtherIssuer", raw: with(func(c map[string]any) { c["iss"] = "https://token.actions.githubusercontent.com" }), want: "https://token.actions.githubusercontent.com"},

		{name: "AlgNone", raw: iss.Sign(c, oidctest.WithAlgNone()), wantMsg: "Unsupported token signing algorithm"},
		{name: "HS256", raw: iss.Sign(c, oidctest.WithHS256PublicKey()), wantMsg: "Unsupported token signing algorithm"},
		{name: "NoIssuer", raw: with(func(c map[string]any) { delete(c, "iss") }), wantMsg: "no issuer"},
		{name: "EmptyIssuer", raw: with(func(c map[string]any) { c["iss"] = "" }), wantMsg: "no issuer"},
		{name: "IssuerNumber", raw: with(func(c map[string]any) { c["iss"] = 42 }), wantMsg: "no issuer"},
		{name: "Empty", raw: "", wantMsg: "not a well-formed JWT"},
		{name: "Garbage", raw: "garbage", wantMsg: "not a well-formed JWT"},
		{name: "PayloadNotJSON", raw: parts[0] + "." + b64("iss") + "." + parts[2], wantMsg: "not valid JSON"},
		{name: "PayloadNull", raw: parts[0] + "." + b64("null") + "." + parts[2], wantMsg: "not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := oidc.PeekIssuer(tt.raw)
			if tt.wantMsg == "" {
				if err != nil || got != tt.want {
					t.Fatalf("PeekIssuer = %q, %v; want %q", got, err, tt.want)
				}
				return
			}
			e, ok := errors.AsType[*oidc.Error](err)
			if !ok || e.Code != oidc.CodeInvalidIdentityToken || !strings.Contains(e.Message, tt.wantMsg) {
				t.Fatalf("PeekIssuer err = %v, want InvalidIdentityToken containing %q", err, tt.wantMsg)
			}
		})
	}
}
