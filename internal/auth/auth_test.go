package auth

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/internal/sigv4"
)

func TestLoadRootGeneratesOnceWithPrivateMode(t *testing.T) {
	t.Setenv(EnvRootAccessKeyID, "")
	t.Setenv(EnvRootSecretAccessKey, "")
	dir := t.TempDir()
	first, err := LoadRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(first.AccessKeyID, "AKIA") || len(first.AccessKeyID) != 20 || len(first.SecretAccessKey) != 40 {
		t.Fatalf("generated credentials look wrong: %s / %d-char secret", first.AccessKeyID, len(first.SecretAccessKey))
	}
	fi, err := os.Stat(filepath.Join(dir, RootCredentialsFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file mode = %v, want 0600", fi.Mode().Perm())
	}
	again, err := LoadRoot(dir)
	if err != nil || again != first {
		t.Fatalf("second start must reuse the saved credentials: %v %v", again, err)
	}
	if strings.Contains(first.String(), first.SecretAccessKey) {
		t.Fatal("String() leaks the secret")
	}
}

func TestLoadRootFromEnvironment(t *testing.T) {
	t.Setenv(EnvRootAccessKeyID, "AKIAEXAMPLEEXAMPLE00")
	t.Setenv(EnvRootSecretAccessKey, "s3cr3t")
	dir := t.TempDir()
	c, err := LoadRoot(dir)
	if err != nil || c.AccessKeyID != "AKIAEXAMPLEEXAMPLE00" || c.SecretAccessKey != "s3cr3t" {
		t.Fatalf("got %v, %v", c, err)
	}
	if _, err := os.Stat(filepath.Join(dir, RootCredentialsFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("environment credentials must not be written to disk")
	}
	t.Setenv(EnvRootSecretAccessKey, "")
	if _, err := LoadRoot(dir); err == nil {
		t.Fatal("only one of the two variables set must be an error")
	}
}

func TestKeyring(t *testing.T) {
	k := NewKeyring(RootCredentials{AccessKeyID: "AKIAROOT", SecretAccessKey: "x"}, "123456789012")
	c, err := k.LookupCredential(context.Background(), "AKIAROOT")
	if err != nil || c.Principal != "arn:aws:iam::123456789012:root" {
		t.Fatalf("root lookup = %+v, %v", c, err)
	}
	if _, err := k.LookupCredential(context.Background(), "AKIANOPE"); !errors.Is(err, sigv4.ErrUnknownAccessKey) {
		t.Fatalf("unknown key: %v", err)
	}
}
