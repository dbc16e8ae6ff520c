package oidc_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/sluice-dev/sluice/internal/oidc"
)

// Ensure claim accessors accept every shape a payload may use.
func TestClaims(t *testing.T) {
	tests := []struct {
		name     string
		claims   oidc.Claims
		claim    string
		want     []string // StringValues(claim)
		wantAud  []string
		wantIss  string
		wantSubj string
	}{
		{name: "Empty", claims: oidc.Claims{}, claim: "sub"},
		{
			name:   "Strings",
			claims: oidc.Claims{"iss": "https://idp", "sub": "repo:o/r:ref:refs/heads/main", "aud": "sts.amazonaws.com"},
			claim:  "sub", want: []string{"repo:o/r:ref:refs/heads/main"},
			wantAud: []string{"sts.amazonaws.com"}, wantIss: "https://idp", wantSubj: "repo:o/r:ref:refs/heads/main",
		},
		{name: "AudienceList", claims: oidc.Claims{"aud": []any{"a", 7, "b"}}, claim: "aud", want: []string{"a", "7", "b"}, wantAud: []string{"a", "b"}},
		{name: "AudienceStrings", claims: oidc.Claims{"aud": []string{"a", "b"}}, claim: "aud", want: []string{"a", "b"}, wantAud: []string{"a", "b"}},
		{name: "AudienceNumber", claims: oidc.Claims{"aud": json.Number("1")}, claim: "aud", want: []string{"1"}},
		{name: "IssuerNotString", claims: oidc.Claims{"iss": 1, "sub": true}, claim: "iss", want: []string{"1"}},
		{name: "JSONNumber", claims: oidc.Claims{"repository_id": json.Number("1152921504606846976")}, claim: "repository_id", want: []string{"1152921504606846976"}},
		{name: "Float", claims: oidc.Claims{"n": 1.5e6}, claim: "n", want: []string{"1500000"}},
		{name: "Int64", claims: oidc.Claims{"n": int64(-42)}, claim: "n", want: []string{"-42"}},
		{name: "Bool", claims: oidc.Claims{"b": false}, claim: "b", want: []string{"false"}},
		{name: "MixedList", claims: oidc.Claims{"l": []any{"x", true, json.Number("3"), nil, map[string]any{}}}, claim: "l", want: []string{"x", "true", "3"}},
		{name: "EmptyList", claims: oidc.Claims{"l": []any{}}, claim: "l"},
		{name: "Object", claims: oidc.Claims{"o": map[string]any{"a": "b"}}, claim: "o"},
		{name: "Null", claims: oidc.Claims{"z": nil}, claim: "z"},
		{name: "Absent", claims: oidc.Claims{"a": "b"}, claim: "missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.claims.StringValues(tt.claim); !slices.Equal(got, tt.want) || (got == nil) != (tt.want == nil) {
				t.Errorf("StringValues(%q) = %#v, want %#v", tt.claim, got, tt.want)
			}
			if got := tt.claims.Audience(); !slices.Equal(got, tt.wantAud) {
				t.Errorf("Audience() = %q, want %q", got, tt.wantAud)
			}
			if got := tt.claims.Issuer(); got != tt.wantIss {
				t.Errorf("Issuer() = %q, want %q", got, tt.wantIss)
			}
			if got := tt.claims.Subject(); got != tt.wantSubj {
				t.Errorf("Subject() = %q, want %q", got, tt.wantSubj)
			}
		})
	}
}
