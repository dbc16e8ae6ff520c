package topics

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // SignatureVersion 1 is SHA1withRSA, as SNS signs it
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/sluice-dev/sluice/internal/durable"
)

// SigningKeyFile holds, in the data dir, the RSA key deliveries are signed with, and SigningCertFile the
// certificate SigningCertURL serves (made on the first start, mode 0600 for the key).
const (
	SigningKeyFile  = "sns-signing-key.pem"
	SigningCertFile = "sns-signing-cert.pem"
)

// Signer signs delivery documents with a node's key and names the certificate that verifies them.
type Signer struct {
	key     *rsa.PrivateKey
	certPEM []byte
	// CertName is the certificate's file name in SigningCertURL: SimpleNotificationService-<hash>.pem, the hash of
	// the certificate, so a new key is a new URL.
	CertName string
}

// OpenSigner reads the data dir's signing key and certificate, making them on the first start.
func OpenSigner(dataDir string) (*Signer, error) {
	keyPath, certPath := filepath.Join(dataDir, SigningKeyFile), filepath.Join(dataDir, SigningCertFile)
	keyPEM, kerr := os.ReadFile(keyPath)
	certPEM, cerr := os.ReadFile(certPath)
	if errors.Is(kerr, os.ErrNotExist) || errors.Is(cerr, os.ErrNotExist) {
		var err error
		if keyPEM, certPEM, err = NewSigningPair(); err != nil {
			return nil, err
		}
		if err := writeDurable(keyPath, keyPEM, 0o600); err != nil {
			return nil, err
		}
		if err := writeDurable(certPath, certPEM, 0o644); err != nil {
			return nil, err
		}
	} else if kerr != nil || cerr != nil {
		return nil, errors.Join(kerr, cerr)
	}
	s, err := NewSigner(keyPEM, certPEM)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", keyPath, err)
	}
	return s, nil
}

// NewSigner is a Signer of a key and its certificate, PEM-encoded (what NewSigningPair makes).
func NewSigner(keyPEM, certPEM []byte) (*Signer, error) {
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		return nil, errors.New("no PEM key")
	}
	key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(certPEM)
	return &Signer{key: key, certPEM: certPEM, CertName: "SimpleNotificationService-" + hex.EncodeToString(sum[:8]) + ".pem"}, nil
}

// NewSigningPair makes a signing key (RSA 2048) and a self-signed certificate for it, PEM-encoded.
func NewSigningPair() (keyPEM, certPEM []byte, err error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: "sns.amazonaws.com", Organization: []string{"Sluice"}},
		DNSNames: []string{"sns.amazonaws.com"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(10, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

func writeDurable(path string, data []byte, mode os.FileMode) error {
	if err := durable.WriteFile(path, data, mode); err != nil {
		return fmt.Errorf("record %s: %w", filepath.Base(path), err)
	}
	return nil
}

// CertPEM is the certificate SigningCertURL serves.
func (s *Signer) CertPEM() []byte { return s.certPEM }

// Sign signs stringToSign as SignatureVersion version does ("1": SHA1withRSA, "2": SHA256withRSA), base64.
func (s *Signer) Sign(version, stringToSign string) (string, error) {
	var (
		h      crypto.Hash
		digest []byte
	)
	if version == "2" {
		sum := sha256.Sum256([]byte(stringToSign))
		h, digest = crypto.SHA256, sum[:]
	} else {
		sum := sha1.Sum([]byte(stringToSign)) //nolint:gosec // SignatureVersion 1
		h, digest = crypto.SHA1, sum[:]
	}
	sig, err := rsa.SignPKCS1v15(nil, s.key, h, digest)
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}
