package server

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sluice-dev/sluice/internal/cluster"
	"github.com/sluice-dev/sluice/internal/durable"
)

// ParameterKeyFile holds, in the data dir of a server that runs alone, the key SecureString parameters are
// encrypted with (32 random bytes, mode 0600, made on the first start).
const ParameterKeyFile = "parameter-store.key"

// parameterKey is the key SecureString parameters are encrypted with: in a cluster derived from the cluster's
// secret, so that every node decrypts what any node encrypted; on one node the data dir's ParameterKeyFile. Losing
// it loses the SecureString values, as losing a KMS key would.
func parameterKey(c *cluster.Cluster, dataDir string) ([]byte, error) {
	if c != nil {
		m := hmac.New(sha256.New, c.Secret())
		m.Write([]byte("sluice parameter store"))
		return m.Sum(nil), nil
	}
	path := filepath.Join(dataDir, ParameterKeyFile)
	key, err := os.ReadFile(path)
	switch {
	case err == nil && len(key) == 32:
		return key, nil
	case err == nil:
		return nil, fmt.Errorf("%s: expected a 32-byte key, found %d bytes", path, len(key))
	case !errors.Is(err, os.ErrNotExist):
		return nil, err
	}
	key = make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	// Written whole and durable before the first SecureString is encrypted with it, or not at all.
	if err := durable.WriteFile(path, key, 0o600); err != nil {
		return nil, fmt.Errorf("record the parameter store's key: %w", err)
	}
	return key, nil
}
