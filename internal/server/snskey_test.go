package server

import (
	"path/filepath"
	"testing"

	"github.com/sluice-dev/sluice/internal/store/bolt"
)

// In a cluster every node signs SNS deliveries with the one key the first node made (its certificate, hence its
// SigningCertURL, is the same everywhere); alone, a node keeps its own in its data dir.
func TestSNSSigningKeyIsTheClusters(t *testing.T) {
	ctx := t.Context()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	secret := []byte("cluster secret")
	first, err := openSNSSigner(ctx, secret, db, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	second, err := openSNSSigner(ctx, secret, db, t.TempDir()) // another node: another data dir, the same store
	if err != nil {
		t.Fatal(err)
	}
	if first.CertName != second.CertName {
		t.Fatalf("nodes sign with different certificates: %s, %s", first.CertName, second.CertName)
	}
	sig1, err1 := first.Sign("2", "message")
	sig2, err2 := second.Sign("2", "message")
	if err1 != nil || err2 != nil || sig1 != sig2 { // PKCS#1 v1.5 is deterministic: one key, one signature
		t.Fatalf("signatures differ: %v %v", err1, err2)
	}
	if _, err := openSNSSigner(ctx, []byte("another secret"), db, t.TempDir()); err == nil {
		t.Fatal("a node with another cluster secret opened the signing key")
	}
	dir := t.TempDir()
	alone, err := openSNSSigner(ctx, nil, db, dir)
	if err != nil {
		t.Fatal(err)
	}
	again, err := openSNSSigner(ctx, nil, db, dir)
	if err != nil || alone.CertName != again.CertName || alone.CertName == first.CertName {
		t.Fatalf("alone: %v, certificates %s then %s (cluster's %s)", err, alone.CertName, again.CertName, first.CertName)
	}
}
