package cli

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/oidc"
)

// freeLoopback returns a loopback address nothing listens on.
func freeLoopback(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestDevOIDCKeepsAVerifiableToken: dev-oidc serves a real issuer and keeps, in the token file, a token for the
// repository and ref that verifies against it with the audience AWS clients use; the file is rewritten on refresh.
func TestDevOIDCKeepsAVerifiableToken(t *testing.T) {
	addr := freeLoopback(t)
	tokenFile := filepath.Join(t.TempDir(), "token")
	ctx, cancel := context.WithCancel(t.Context())
	var out bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- runDevOIDC(ctx, &out, addr, "octo-org/octo-repo", "refs/heads/main", tokenFile, time.Millisecond)
	}()
	readToken := func() string { b, _ := os.ReadFile(tokenFile); return string(b) }
	waitUntil := func(what string, ok func() bool) {
		for deadline := time.Now().Add(30 * time.Second); !ok(); time.Sleep(time.Millisecond) { // the bound only stops a failing test from hanging
			if time.Now().After(deadline) {
				t.Fatal(what)
			}
		}
	}
	waitUntil("the token file was never written", func() bool { return readToken() != "" })
	first := readToken()
	waitUntil("the token was never refreshed", func() bool { tok := readToken(); return tok != "" && tok != first })
	token, _ := os.ReadFile(tokenFile)
	claims, err := (&oidc.Verifier{}).Verify(t.Context(), string(token), oidc.Provider{Issuer: "http://" + addr, ClientIDs: []string{"sts.amazonaws.com"}})
	if err != nil {
		t.Fatalf("the token does not verify against the issuer: %v", err)
	}
	if got := claims.Subject(); got != "repo:octo-org/octo-repo:ref:refs/heads/main" {
		t.Errorf("sub = %q", got)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "oidc-provider/"+addr) || !strings.Contains(out.String(), "AWS_WEB_IDENTITY_TOKEN_FILE="+tokenFile) {
		t.Errorf("the instructions do not name the provider and the token file:\n%s", out.String())
	}
}

// TestDevOIDCRefusesNonLoopback: the issuer signs anything, so it never listens beyond this machine.
func TestDevOIDCRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:9500", ":9500", "192.0.2.1:9500", "localhost-ish:9500"} {
		if err := runDevOIDC(t.Context(), &bytes.Buffer{}, addr, "o/r", "refs/heads/main", filepath.Join(t.TempDir(), "t"), time.Minute); err == nil {
			t.Errorf("listen %q: accepted", addr)
		}
	}
}
