package server

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/store/bolt"
	"github.com/sluice-dev/sluice/internal/tlsca"
)

// TestProxyCAShared: the nodes of a cluster (one store, data dirs of their own) present one CA; a node finding it
// due for renewal replaces it for all; a single node keeps its own.
func TestProxyCAShared(t *testing.T) {
	ctx := context.Background()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "store.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	opts := tlsca.Options{Domains: []string{"amazonaws.com"}, Now: func() time.Time { return now }}
	node := func() Config { return Config{DataDir: t.TempDir(), Cluster: &ClusterConfig{}} }

	a, err := openProxyCA(ctx, node(), db, opts)
	if err != nil {
		t.Fatal(err)
	}
	bCfg := node()
	b, err := openProxyCA(ctx, bCfg, db, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.PEM(), b.PEM()) {
		t.Fatal("two nodes present different CAs")
	}
	if fi, err := os.Stat(filepath.Join(bCfg.DataDir, ProxyCADir, tlsca.KeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the installed key: %v %v", fi.Mode(), err)
	}
	leaf, err := b.Leaf("lambda.us-east-1.amazonaws.com")
	if err != nil {
		t.Fatal(err)
	}
	if err := leaf.Leaf.CheckSignatureFrom(a.Certificate()); err != nil {
		t.Errorf("a certificate of one node does not verify against the other's CA: %v", err)
	}

	now = now.Add(tlsca.DefaultValidity * 3 / 4) // due for renewal
	c, err := openProxyCA(ctx, node(), db, opts)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(c.PEM(), a.PEM()) {
		t.Fatal("a CA due for renewal was kept")
	}
	d, err := openProxyCA(ctx, node(), db, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(c.PEM(), d.PEM()) {
		t.Error("a node started after the renewal presents another CA")
	}

	single, err := openProxyCA(ctx, Config{DataDir: t.TempDir()}, db, opts)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(single.PEM(), d.PEM()) {
		t.Error("a single node took the cluster's CA")
	}
}
