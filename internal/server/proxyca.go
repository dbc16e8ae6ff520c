package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/sluice-dev/sluice/internal/store"
	"github.com/sluice-dev/sluice/internal/tlsca"
)

// proxyCAKey holds, in a cluster, the CA every node's proxy for AWS endpoints presents, so that a client behind a
// load balancer trusts one file whichever node answers. (The store holds the root credentials the same way.)
const proxyCAKey = "proxyca/current"

type proxyCAPair struct {
	Cert []byte `json:"cert"`
	Key  []byte `json:"key"`
}

// openProxyCA opens the proxy's CA in the data dir: on one node its own; in a cluster the one in the store, which
// the first node to start puts there (and a node that finds it due for renewal replaces, unless another did first).
func openProxyCA(ctx context.Context, cfg Config, db store.Store, opts tlsca.Options) (*tlsca.CA, error) {
	dir := filepath.Join(cfg.DataDir, ProxyCADir)
	if cfg.Cluster == nil {
		return tlsca.Open(dir, opts)
	}
	for range 3 {
		var shared proxyCAPair
		err := db.View(ctx, func(tx store.Tx) error { return store.GetJSON(tx, proxyCAKey, &shared) })
		switch {
		case err == nil:
			if err := tlsca.Install(dir, shared.Cert, shared.Key); err != nil {
				return nil, err
			}
		case !errors.Is(err, store.ErrNotFound):
			return nil, fmt.Errorf("read the cluster's proxy CA: %w", err)
		}
		ca, err := tlsca.Open(dir, opts) // makes one when there was none, renews one that is due
		if err != nil {
			return nil, err
		}
		if shared.Cert != nil && bytes.Equal(ca.PEM(), shared.Cert) {
			return ca, nil
		}
		certPEM, keyPEM, err := ca.Files()
		if err != nil {
			return nil, err
		}
		published := false
		err = db.Update(ctx, func(tx store.Tx) error {
			published = false
			var now proxyCAPair
			err := store.GetJSON(tx, proxyCAKey, &now)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			if !bytes.Equal(now.Cert, shared.Cert) {
				return nil // another node published first: take its CA on the next pass
			}
			published = true
			return store.PutJSON(tx, proxyCAKey, proxyCAPair{Cert: certPEM, Key: keyPEM})
		})
		if err != nil {
			return nil, fmt.Errorf("publish the cluster's proxy CA: %w", err)
		}
		if published {
			return ca, nil
		}
	}
	return nil, errors.New("the cluster's proxy CA keeps changing under this node")
}
