// Package certfile owns the TLS certificate files Sluice is given: the key pair `sluice serve --tls-cert/--tls-key`
// presents on its listener, re-read when the files change (a renewal) without a restart, and the CA bundle a client
// of Sluice trusts besides the system's roots, named as AWS clients name it (AWS_CA_BUNDLE).
//
// A reload that fails (a renewal tool that has written the new certificate but not yet its key, a typo) keeps the
// pair being served; the files are tried again on the next check.
package certfile

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// EnvCABundle names the environment variable holding the path of a PEM file of extra CAs to trust: the AWS CLI,
// boto3 and the AWS SDKs read it.
const EnvCABundle = "AWS_CA_BUNDLE"

// KeyPair is a certificate and its key read from two PEM files, re-read when they change.
type KeyPair struct {
	certFile, keyFile string
	current           atomic.Pointer[loadedPair]

	mu         sync.Mutex // serialises reloads
	lastFailed [sha256.Size]byte
}

type loadedPair struct {
	cert   *tls.Certificate
	digest [sha256.Size]byte // of the two files' contents, to tell a change
}

// Load reads the pair; the certificate file may hold the chain after the leaf.
func Load(certFile, keyFile string) (*KeyPair, error) {
	k := &KeyPair{certFile: certFile, keyFile: keyFile}
	certPEM, keyPEM, digest, err := k.read()
	if err != nil {
		return nil, err
	}
	p, err := parse(certPEM, keyPEM, digest)
	if err != nil {
		return nil, err
	}
	k.current.Store(p)
	return k, nil
}

func (k *KeyPair) read() (certPEM, keyPEM []byte, digest [sha256.Size]byte, err error) {
	if certPEM, err = os.ReadFile(k.certFile); err != nil {
		return nil, nil, digest, fmt.Errorf("TLS certificate: %w", err)
	}
	if keyPEM, err = os.ReadFile(k.keyFile); err != nil {
		return nil, nil, digest, fmt.Errorf("TLS key: %w", err)
	}
	h := sha256.New()
	h.Write(certPEM)
	h.Write([]byte{0})
	h.Write(keyPEM)
	copy(digest[:], h.Sum(nil))
	return certPEM, keyPEM, digest, nil
}

func parse(certPEM, keyPEM []byte, digest [sha256.Size]byte) (*loadedPair, error) {
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("TLS key pair: %w", err)
	}
	// X509KeyPair has parsed the leaf (cert.Leaf) since Go 1.23.
	if cert.Leaf == nil {
		return nil, errors.New("TLS key pair: the certificate file holds no certificate")
	}
	return &loadedPair{cert: &cert, digest: digest}, nil
}

// Certificate is the pair being served.
func (k *KeyPair) Certificate() *tls.Certificate { return k.current.Load().cert }

// GetCertificate is tls.Config.GetCertificate: every handshake gets the pair current at that moment.
func (k *KeyPair) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return k.current.Load().cert, nil
}

// Reload re-reads the files and reports whether they changed. On an error the pair being served stays; the same
// broken contents are reported once (changed false, err nil afterwards), so a periodic check does not repeat it.
func (k *KeyPair) Reload() (changed bool, err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	certPEM, keyPEM, digest, err := k.read()
	if err != nil {
		return false, err
	}
	if digest == k.current.Load().digest {
		return false, nil
	}
	p, err := parse(certPEM, keyPEM, digest)
	if err != nil {
		if digest == k.lastFailed {
			return false, nil
		}
		k.lastFailed = digest
		return false, err
	}
	k.current.Store(p)
	return true, nil
}

// ServerConfig is the listener's TLS configuration: the current pair, TLS 1.2 and later, and HTTP/1.1 only — a
// CONNECT to the proxy for AWS endpoints, the hijacked connections it needs, and Go's request-body deadlines
// work on HTTP/1.1 as they do on the plain listener.
func (k *KeyPair) ServerConfig() *tls.Config {
	return &tls.Config{GetCertificate: k.GetCertificate, NextProtos: []string{"http/1.1"}, MinVersion: tls.VersionTLS12}
}

// SelfClientConfig is the TLS configuration of the server's calls to its own listener (the CloudFormation engine's):
// it trusts exactly the certificate being served, whatever names it holds and whoever issued it, so that those
// calls need no CA bundle and survive a renewal.
func (k *KeyPair) SelfClientConfig() *tls.Config {
	return &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: true, // replaced by VerifyConnection's comparison with the served certificate
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("certfile: the server presented no certificate")
			}
			if !bytes.Equal(cs.PeerCertificates[0].Raw, k.current.Load().cert.Leaf.Raw) {
				return errors.New("certfile: the server presented a certificate other than the one this server serves")
			}
			return nil
		},
	}
}

// ClientRoots is the system's roots plus the certificates in the PEM file bundle, if it is named (a client's
// AWS_CA_BUNDLE).
func ClientRoots(bundle string) (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	path := bundle
	if path == "" {
		return pool, nil
	}
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", EnvCABundle, err)
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: %s holds no PEM certificate", EnvCABundle, path)
	}
	return pool, nil
}

// ClientConfig is the TLS configuration of a client of Sluice: ClientRoots(bundle) as its roots.
func ClientConfig(bundle string) (*tls.Config, error) {
	roots, err := ClientRoots(bundle)
	if err != nil {
		return nil, err
	}
	return &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}, nil
}

// HTTPClient is a client of Sluice with ClientConfig(bundle)'s roots and the given overall timeout (0: none).
func HTTPClient(bundle string, timeout time.Duration) (*http.Client, error) {
	cfg, err := ClientConfig(bundle)
	if err != nil {
		return nil, err
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = cfg
	return &http.Client{Transport: t, Timeout: timeout}, nil
}
