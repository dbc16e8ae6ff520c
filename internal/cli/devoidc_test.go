package cli

import (
	"bytes"
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
// repository and ref that verifies against it with the audience AWS clients use; a refresh replaces it; the
// instructions name the provider and the file.
func TestDevOIDCKeepsAVerifiableToken(t *testing.T) {
	addr := freeLoopback(t)
	tokenFile := filepath.Join(t.TempDir(), "token")
	d, err := startDevOIDC(addr, "octo-org/octo-repo", "refs/heads/main", tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	defer d.issuer.Close()
	first, err := os.ReadFile(tokenFile)
	if err != nil {
		t.Fatalf("no token after start: %v", err)
	}
	if err := d.writeToken(); err != nil {
		t.Fatal(err)
	}
	token, _ := os.ReadFile(tokenFile)
	if string(token) == string(first) {
		t.Error("a refresh left the same token")
	}
	claims, err := (&oidc.Verifier{}).Verify(t.Context(), string(token), oidc.Provider{Issuer: "http://" + addr, ClientIDs: []string{"sts.amazonaws.com"}})
	if err != nil {
		t.Fatalf("the token does not verify against the issuer: %v", err)
	}
	if got := claims.Subject(); got != "repo:octo-org/octo-repo:ref:refs/heads/main" {
		t.Errorf("sub = %q", got)
	}
	var out bytes.Buffer
	d.instructions(&out)
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
