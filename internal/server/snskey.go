package server

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/sluice-dev/sluice/internal/sns/topics"
	"github.com/sluice-dev/sluice/internal/store"
)

// snsSigningKey is where a cluster keeps the key SNS deliveries are signed with: the private key sealed with a key
// derived from the cluster's secret, and its certificate.
const snsSigningKey = "sns/signing-key"

type sealedSigningPair struct {
	SealedKey []byte // nonce, then AES-256-GCM of the key's PEM
	CertPEM   []byte
}

// openSNSSigner opens what SNS deliveries are signed with. On one node (no cluster secret), the data dir's key. In a cluster, one key for
// every node, made by whichever node starts first and kept in the store: a subscriber then verifies any message,
// whichever node delivered it, with the one certificate every node serves — also after that node is gone.
func openSNSSigner(ctx context.Context, clusterSecret []byte, db store.Store, dataDir string) (*topics.Signer, error) {
	if clusterSecret == nil {
		return topics.OpenSigner(dataDir)
	}
	m := hmac.New(sha256.New, clusterSecret)
	m.Write([]byte("sluice sns signing key"))
	block, err := aes.NewCipher(m.Sum(nil))
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	var rec sealedSigningPair
	err = db.Update(ctx, func(tx store.Tx) error {
		err := store.GetJSON(tx, snsSigningKey, &rec)
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		keyPEM, certPEM, err := topics.NewSigningPair()
		if err != nil {
			return err
		}
		nonce := make([]byte, aead.NonceSize())
		if _, err := rand.Read(nonce); err != nil {
			return err
		}
		rec = sealedSigningPair{SealedKey: aead.Seal(nonce, nonce, keyPEM, []byte(snsSigningKey)), CertPEM: certPEM}
		return store.PutJSON(tx, snsSigningKey, rec)
	})
	if err != nil {
		return nil, fmt.Errorf("SNS signing key: %w", err)
	}
	n := aead.NonceSize()
	if len(rec.SealedKey) < n {
		return nil, errors.New("SNS signing key: sealed key too short")
	}
	keyPEM, err := aead.Open(nil, rec.SealedKey[:n], rec.SealedKey[n:], []byte(snsSigningKey))
	if err != nil {
		return nil, fmt.Errorf("SNS signing key: not sealed with this cluster's secret: %w", err)
	}
	return topics.NewSigner(keyPEM, rec.CertPEM)
}
