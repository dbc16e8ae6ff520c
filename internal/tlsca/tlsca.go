// Package tlsca is a local certificate authority for Sluice's proxy for AWS endpoints: it keeps an ECDSA CA
// certificate and key in a directory (the key readable by its owner alone) and mints, on demand, a short-lived
// server certificate for each host a client connects to, so that a client trusting the CA's file talks TLS to
// Sluice as if it were the host it asked for. The CA is name-constrained to the domains it is opened for
// (amazonaws.com), so trusting it cannot vouch for any other site, whoever holds the key; it is replaced, in place,
// once two thirds of its validity have passed, so the path clients are given stays right.
package tlsca

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/sluice-dev/sluice/internal/durable"
)

// The CA's files in its directory.
const (
	CertFile = "ca.pem"
	KeyFile  = "ca-key.pem"
)

// Defaults of Options.
const (
	DefaultValidity     = 90 * 24 * time.Hour
	DefaultLeafValidity = 24 * time.Hour
	DefaultMaxLeaves    = 1024
)

// clockSkew is how far before their minting certificates are valid from, so that a client whose clock is a
// little behind accepts them.
const clockSkew = time.Hour

// Options configure a CA.
type Options struct {
	// Domains are the DNS domains the CA may vouch for (the name constraint): a host it mints for must be one of
	// them or below one. Required.
	Domains []string
	// Validity of the CA certificate (0: DefaultValidity) and of each host's (0: DefaultLeafValidity).
	Validity, LeafValidity time.Duration
	// MaxLeaves bounds the host certificates kept in memory (0: DefaultMaxLeaves); past it the oldest is dropped
	// and minted again when asked for.
	MaxLeaves int
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// CA is a certificate authority whose certificate and key live in a directory.
type CA struct {
	dir  string
	opts Options

	mu      sync.Mutex
	cert    *x509.Certificate
	certPEM []byte
	key     *ecdsa.PrivateKey
	leaves  map[string]*tls.Certificate
	order   []string // hosts of leaves, oldest first
}

// Open loads the CA kept in dir, creating the directory (0700) and a new CA when there is none, when its files do
// not match or no longer parse, or when it is due for replacement.
func Open(dir string, opts Options) (*CA, error) {
	if len(opts.Domains) == 0 {
		return nil, errors.New("tlsca: no domain to vouch for")
	}
	if opts.Validity <= 0 {
		opts.Validity = DefaultValidity
	}
	if opts.LeafValidity <= 0 {
		opts.LeafValidity = DefaultLeafValidity
	}
	if opts.MaxLeaves <= 0 {
		opts.MaxLeaves = DefaultMaxLeaves
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("tlsca: %w", err)
	}
	c := &CA{dir: dir, opts: opts, leaves: map[string]*tls.Certificate{}}
	c.load()
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.renewLocked(); err != nil {
		return nil, err
	}
	return c, nil
}

// Install writes a CA's certificate and key (PEM, as Files returns them) into dir, replacing what is there, for
// Open to load: how the nodes of a cluster come to present one CA.
func Install(dir string, certPEM, keyPEM []byte) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("tlsca: %w", err)
	}
	if err := writeFile(filepath.Join(dir, KeyFile), keyPEM, 0o600); err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, CertFile), certPEM, 0o644)
}

// Files returns the CA's certificate and key in PEM, as Install takes them.
func (c *CA) Files() (certPEM, keyPEM []byte, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	der, err := x509.MarshalECPrivateKey(c.key)
	if err != nil {
		return nil, nil, fmt.Errorf("tlsca: %w", err)
	}
	return bytes.Clone(c.certPEM), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), nil
}

// CertPath is the file holding the CA certificate in PEM: what clients are told to trust (AWS_CA_BUNDLE,
// NODE_EXTRA_CA_CERTS, HTTPS_CAFILE).
func (c *CA) CertPath() string { return filepath.Join(c.dir, CertFile) }

// PEM is the CA certificate in PEM.
func (c *CA) PEM() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.certPEM)
}

// Certificate is the CA certificate.
func (c *CA) Certificate() *x509.Certificate {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cert
}

// Leaf returns a certificate for host (a DNS name within the CA's domains), minted now or earlier and valid for at
// least another quarter of its validity.
func (c *CA) Leaf(host string) (*tls.Certificate, error) {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if !c.permits(host) {
		return nil, fmt.Errorf("tlsca: %q is outside the domains this CA vouches for", host)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.renewLocked(); err != nil {
		return nil, err
	}
	now := c.opts.Now()
	if l, ok := c.leaves[host]; ok && l.Leaf.NotAfter.Sub(now) > c.opts.LeafValidity/4 {
		return l, nil
	}
	l, err := c.mintLocked(host, now)
	if err != nil {
		return nil, err
	}
	if _, ok := c.leaves[host]; !ok {
		c.order = append(c.order, host)
	}
	c.leaves[host] = l
	for len(c.order) > c.opts.MaxLeaves {
		delete(c.leaves, c.order[0])
		c.order = c.order[1:]
	}
	return l, nil
}

// permits reports whether host is one of the CA's domains or below one.
func (c *CA) permits(host string) bool {
	if host == "" || strings.ContainsAny(host, " /:*") {
		return false
	}
	for _, d := range c.opts.Domains {
		if host == d || strings.HasSuffix(host, "."+d) {
			return true
		}
	}
	return false
}

// load reads the CA from its files, leaving it unset when they are missing, unreadable or do not belong together.
func (c *CA) load() {
	certPEM, err := os.ReadFile(filepath.Join(c.dir, CertFile))
	if err != nil {
		return
	}
	keyPEM, err := os.ReadFile(filepath.Join(c.dir, KeyFile))
	if err != nil {
		return
	}
	cb, _ := pem.Decode(certPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || kb == nil || cb.Type != "CERTIFICATE" || kb.Type != "EC PRIVATE KEY" {
		return
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return
	}
	key, err := x509.ParseECPrivateKey(kb.Bytes)
	if err != nil {
		return
	}
	if pub, ok := cert.PublicKey.(*ecdsa.PublicKey); !ok || !pub.Equal(&key.PublicKey) || !cert.IsCA {
		return // a crash between writing the key and the certificate: make a new pair
	}
	c.cert, c.certPEM, c.key = cert, certPEM, key
}

// renewLocked makes a new CA when there is none or when two thirds of its validity have passed (or it is not
// valid yet: the clock went back), and drops the leaves the old one signed.
func (c *CA) renewLocked() error {
	now := c.opts.Now()
	if c.cert != nil && !now.Before(c.cert.NotBefore) && c.cert.NotAfter.Sub(now) > c.opts.Validity/3 {
		return nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("tlsca: %w", err)
	}
	serial, err := serialNumber()
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber:                serial,
		Subject:                     pkix.Name{CommonName: "Sluice local CA for AWS endpoints " + serial.Text(16)[:8], Organization: []string{"Sluice"}},
		NotBefore:                   now.Add(-clockSkew),
		NotAfter:                    now.Add(c.opts.Validity),
		KeyUsage:                    x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid:       true,
		IsCA:                        true,
		MaxPathLenZero:              true,
		PermittedDNSDomainsCritical: true,
		PermittedDNSDomains:         c.opts.Domains,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return fmt.Errorf("tlsca: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return fmt.Errorf("tlsca: %w", err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return fmt.Errorf("tlsca: %w", err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	// The key first: a crash before the certificate is written leaves a pair that does not match, which load
	// replaces, never a certificate whose key is lost.
	if err := writeFile(filepath.Join(c.dir, KeyFile), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(c.dir, CertFile), certPEM, 0o644); err != nil {
		return err
	}
	c.cert, c.certPEM, c.key = cert, certPEM, key
	c.leaves, c.order = map[string]*tls.Certificate{}, nil
	return nil
}

// mintLocked signs a certificate for host with a key of its own.
func (c *CA) mintLocked(host string, now time.Time) (*tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("tlsca: %w", err)
	}
	serial, err := serialNumber()
	if err != nil {
		return nil, err
	}
	notBefore, notAfter := now.Add(-clockSkew), now.Add(c.opts.LeafValidity)
	if notBefore.Before(c.cert.NotBefore) {
		notBefore = c.cert.NotBefore
	}
	if notAfter.After(c.cert.NotAfter) {
		notAfter = c.cert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: host},
		DNSNames:     []string{host},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.cert, &key.PublicKey, c.key)
	if err != nil {
		return nil, fmt.Errorf("tlsca: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("tlsca: %w", err)
	}
	// The chain carries the CA too, for clients that want it sent (it is the anchor they were given anyway).
	return &tls.Certificate{Certificate: [][]byte{der, c.cert.Raw}, PrivateKey: key, Leaf: leaf}, nil
}

func serialNumber() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("tlsca: %w", err)
	}
	return n.Add(n, big.NewInt(1)), nil
}

// writeFile replaces path with data durably (durable.WriteFile).
func writeFile(path string, data []byte, perm os.FileMode) error {
	if err := durable.WriteFile(path, data, perm); err != nil {
		return fmt.Errorf("tlsca: %w", err)
	}
	return nil
}
