package certfile

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// authority is a test CA that issues server certificates.
type authority struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newAuthority(t *testing.T) *authority {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &authority{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue returns a server certificate for 127.0.0.1 and localhost with the given serial, and its key, in PEM.
func (a *authority) issue(t *testing.T, serial int64) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.cert, &key.PublicKey, a.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
}

func write(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func serial(k *KeyPair) int64 {
	c, _ := k.GetCertificate(nil)
	return c.Leaf.SerialNumber.Int64()
}

func TestLoad(t *testing.T) {
	ca := newAuthority(t)
	cert, key := ca.issue(t, 7)
	_, otherKey := ca.issue(t, 8)
	for _, tc := range []struct {
		name      string
		cert, key []byte
		missing   bool
		wantErr   string
	}{
		{name: "pair", cert: cert, key: key},
		{name: "chain after the leaf", cert: append(append([]byte{}, cert...), ca.pem...), key: key},
		{name: "key of another certificate", cert: cert, key: otherKey, wantErr: "private key does not match"},
		{name: "not PEM", cert: []byte("hello"), key: key, wantErr: "TLS key pair"},
		{name: "missing file", missing: true, wantErr: "TLS certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
			if !tc.missing {
				write(t, certFile, tc.cert)
				write(t, keyFile, tc.key)
			}
			k, err := Load(certFile, keyFile)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Load: %v, want an error with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := serial(k); got != 7 {
				t.Errorf("serial %d, want 7", got)
			}
		})
	}
}

// TestReload: a renewal is served from the next handshake on; a broken pair keeps the one being served and is
// reported once.
func TestReload(t *testing.T) {
	ca := newAuthority(t)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	cert1, key1 := ca.issue(t, 1)
	write(t, certFile, cert1)
	write(t, keyFile, key1)
	k, err := Load(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	cert2, key2 := ca.issue(t, 2)
	steps := []struct {
		name        string
		cert, key   []byte
		wantChanged bool
		wantErr     bool
		wantSerial  int64
	}{
		{name: "unchanged", cert: cert1, key: key1, wantSerial: 1},
		{name: "new certificate, old key", cert: cert2, key: key1, wantErr: true, wantSerial: 1},
		{name: "the same broken pair again", cert: cert2, key: key1, wantSerial: 1},
		{name: "renewed", cert: cert2, key: key2, wantChanged: true, wantSerial: 2},
		{name: "renewed, checked again", cert: cert2, key: key2, wantSerial: 2},
	}
	for _, s := range steps {
		write(t, certFile, s.cert)
		write(t, keyFile, s.key)
		changed, err := k.Reload()
		if changed != s.wantChanged || (err != nil) != s.wantErr {
			t.Errorf("%s: Reload = %v, %v; want changed %v, error %v", s.name, changed, err, s.wantChanged, s.wantErr)
		}
		if got := serial(k); got != s.wantSerial {
			t.Errorf("%s: serving serial %d, want %d", s.name, got, s.wantSerial)
		}
	}
	if err := os.Remove(keyFile); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Reload(); err == nil || serial(k) != 2 {
		t.Errorf("a missing key file: Reload error %v, serving %d; want an error and serial 2 kept", err, serial(k))
	}
}

// TestServeAndTrust handshakes for real: a client given the CA bundle trusts the listener, one without refuses it,
// and the server's own client trusts exactly the certificate served, across a renewal.
func TestServeAndTrust(t *testing.T) {
	ca := newAuthority(t)
	dir := t.TempDir()
	certFile, keyFile, bundle := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"), filepath.Join(dir, "ca.pem")
	cert, key := ca.issue(t, 1)
	write(t, certFile, cert)
	write(t, keyFile, key)
	write(t, bundle, ca.pem)
	k, err := Load(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", k.ServerConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				c.(*tls.Conn).Handshake()
				c.Close()
			}()
		}
	}()
	dial := func(cfg *tls.Config) (int64, error) {
		c, err := tls.Dial("tcp", ln.Addr().String(), cfg)
		if err != nil {
			return 0, err
		}
		defer c.Close()
		if p := c.ConnectionState().NegotiatedProtocol; p != "" && p != "http/1.1" {
			t.Errorf("negotiated %q", p)
		}
		return c.ConnectionState().PeerCertificates[0].SerialNumber.Int64(), nil
	}

	plain, err := ClientConfig("")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dial(plain); err == nil {
		t.Error("a client without the CA bundle trusted the test CA")
	}
	trusting, err := ClientConfig(bundle)
	if err != nil {
		t.Fatal(err)
	}
	trusting.ServerName = "localhost"
	if got, err := dial(trusting); err != nil || got != 1 {
		t.Errorf("with AWS_CA_BUNDLE: serial %d, %v", got, err)
	}
	if got, err := dial(k.SelfClientConfig()); err != nil || got != 1 {
		t.Errorf("the server's own client: serial %d, %v", got, err)
	}

	// Another certificate from the same CA, presented by some other listener, is not the server's own.
	other, otherKey := ca.issue(t, 9)
	otherPair, err := tls.X509KeyPair(other, otherKey)
	if err != nil {
		t.Fatal(err)
	}
	impostor, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{otherPair}})
	if err != nil {
		t.Fatal(err)
	}
	defer impostor.Close()
	go func() {
		if c, err := impostor.Accept(); err == nil {
			c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	if c, err := tls.Dial("tcp", impostor.Addr().String(), k.SelfClientConfig()); err == nil {
		c.Close()
		t.Error("the server's own client trusted another certificate")
	}

	cert2, key2 := ca.issue(t, 2)
	write(t, certFile, cert2)
	write(t, keyFile, key2)
	if changed, err := k.Reload(); !changed || err != nil {
		t.Fatalf("Reload: %v %v", changed, err)
	}
	if got, err := dial(k.SelfClientConfig()); err != nil || got != 2 {
		t.Errorf("after the renewal, the server's own client: serial %d, %v", got, err)
	}

	if _, err := ClientConfig(filepath.Join(dir, "missing.pem")); err == nil {
		t.Error("a missing AWS_CA_BUNDLE file is no error")
	}
	write(t, filepath.Join(dir, "empty.pem"), []byte("no certificates"))
	if _, err := ClientConfig(filepath.Join(dir, "empty.pem")); err == nil {
		t.Error("an AWS_CA_BUNDLE file without certificates is no error")
	}
}
