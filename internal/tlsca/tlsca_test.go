package tlsca

import (
	"bytes"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func open(t *testing.T, dir string, clk *clock) *CA {
	t.Helper()
	ca, err := Open(dir, Options{Domains: []string{"amazonaws.com"}, Now: clk.now, MaxLeaves: 2})
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func verify(ca *CA, host string, leaf *x509.Certificate, at time.Time) error {
	roots := x509.NewCertPool()
	roots.AddCert(ca.Certificate())
	_, err := leaf.Verify(x509.VerifyOptions{DNSName: host, Roots: roots, CurrentTime: at})
	return err
}

// TestFilesAndReopen: the CA is written with its key readable by the owner alone and read back unchanged.
func TestFilesAndReopen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	clk := &clock{time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)}
	ca := open(t, dir, clk)
	for name, want := range map[string]os.FileMode{"": 0o700 | os.ModeDir, KeyFile: 0o600, CertFile: 0o644} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.Mode() != want {
			t.Errorf("%q: mode %v, %v; want %v", name, fi.Mode(), err, want)
		}
	}
	onDisk, _ := os.ReadFile(ca.CertPath())
	if !bytes.Equal(onDisk, ca.PEM()) {
		t.Error("CertPath's file is not PEM()")
	}
	c := ca.Certificate()
	if !c.IsCA || !c.MaxPathLenZero || len(c.PermittedDNSDomains) != 1 || !c.PermittedDNSDomainsCritical {
		t.Errorf("CA constraints: IsCA %v MaxPathLenZero %v permitted %v", c.IsCA, c.MaxPathLenZero, c.PermittedDNSDomains)
	}
	clk.t = clk.t.Add(24 * time.Hour)
	again := open(t, dir, clk)
	if !bytes.Equal(again.PEM(), ca.PEM()) {
		t.Error("reopening made a new CA")
	}
}

// TestLeaves: a host's certificate verifies against the CA for that host only, is reused while fresh, minted again
// when three quarters of its life are gone, and a host outside the CA's domains gets none.
func TestLeaves(t *testing.T) {
	clk := &clock{time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)}
	ca := open(t, t.TempDir(), clk)
	for _, tc := range []struct {
		host string
		ok   bool
	}{
		{"lambda.us-east-1.amazonaws.com", true},
		{"my.bucket.s3.amazonaws.com", true},
		{"LAMBDA.US-EAST-1.AMAZONAWS.COM.", true},
		{"amazonaws.com.evil.example", false},
		{"example.com", false},
		{"evilamazonaws.com", false},
		{"*.amazonaws.com", false},
		{"", false},
	} {
		l, err := ca.Leaf(tc.host)
		if (err == nil) != tc.ok {
			t.Errorf("Leaf(%q): %v, want ok %v", tc.host, err, tc.ok)
			continue
		}
		if err != nil {
			continue
		}
		if err := verify(ca, tc.host, l.Leaf, clk.t); err != nil {
			t.Errorf("Leaf(%q) does not verify: %v", tc.host, err)
		}
		if err := verify(ca, "iam.amazonaws.com", l.Leaf, clk.t); err == nil && tc.host != "iam.amazonaws.com" {
			t.Errorf("Leaf(%q) verifies for another host", tc.host)
		}
		if d := l.Leaf.NotAfter.Sub(clk.t); d > DefaultLeafValidity {
			t.Errorf("Leaf(%q) valid for %v", tc.host, d)
		}
	}
	first, _ := ca.Leaf("lambda.us-east-1.amazonaws.com")
	clk.t = clk.t.Add(17 * time.Hour)
	if l, _ := ca.Leaf("lambda.us-east-1.amazonaws.com"); l != first {
		t.Error("a fresh leaf was minted again")
	}
	clk.t = clk.t.Add(2 * time.Hour) // 19 h of 24: less than a quarter left
	l, _ := ca.Leaf("lambda.us-east-1.amazonaws.com")
	if l == first || verify(ca, "lambda.us-east-1.amazonaws.com", l.Leaf, clk.t.Add(20*time.Hour)) != nil {
		t.Error("an ageing leaf was not replaced by one valid for another day")
	}
}

// TestNameConstraint: whatever the key signs, clients that trust the CA accept it for its domains only.
func TestNameConstraint(t *testing.T) {
	clk := &clock{time.Now()}
	ca := open(t, t.TempDir(), clk)
	ca.mu.Lock()
	forged, err := ca.mintLocked("www.example.com", clk.t)
	ca.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if err := verify(ca, "www.example.com", forged.Leaf, clk.t); err == nil {
		t.Error("a certificate for www.example.com verifies against the CA")
	}
}

// TestRenewal: two thirds into its validity the CA is replaced in the same file; a leaf never outlives its CA.
func TestRenewal(t *testing.T) {
	dir := t.TempDir()
	clk := &clock{time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)}
	ca := open(t, dir, clk)
	old := ca.PEM()
	clk.t = clk.t.Add(DefaultValidity - 24*time.Hour - 30*time.Minute) // 23.5 h before the CA expires
	if _, err := ca.Leaf("sts.amazonaws.com"); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(ca.PEM(), old) {
		t.Fatal("the CA was not renewed")
	}
	onDisk, _ := os.ReadFile(ca.CertPath())
	if !bytes.Equal(onDisk, ca.PEM()) {
		t.Error("the renewed CA is not in CertPath")
	}

	// A leaf minted just before a CA's end ends with it.
	clk2 := &clock{time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)}
	short, err := Open(t.TempDir(), Options{Domains: []string{"amazonaws.com"}, Now: clk2.now, Validity: 30 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	clk2.t = clk2.t.Add(15 * time.Hour) // 15 h left of 30: not yet due
	l, _ := short.Leaf("sts.amazonaws.com")
	if !l.Leaf.NotAfter.Equal(short.Certificate().NotAfter) {
		t.Errorf("leaf ends %v, CA %v", l.Leaf.NotAfter, short.Certificate().NotAfter)
	}
}

// TestMismatchedFiles: a key that is not the certificate's (a crash between the two writes) makes a new pair.
func TestMismatchedFiles(t *testing.T) {
	dir := t.TempDir()
	clk := &clock{time.Now()}
	a := open(t, dir, clk)
	other := open(t, t.TempDir(), clk)
	if err := os.WriteFile(filepath.Join(dir, CertFile), other.PEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	b := open(t, dir, clk)
	if bytes.Equal(b.PEM(), a.PEM()) || bytes.Equal(b.PEM(), other.PEM()) {
		t.Error("a mismatched pair was kept")
	}
	l, err := b.Leaf("iam.amazonaws.com")
	if err != nil || verify(b, "iam.amazonaws.com", l.Leaf, clk.t) != nil {
		t.Errorf("the new pair does not sign: %v", err)
	}
}

// TestLeafBound: at most MaxLeaves are kept; an evicted host gets a new certificate.
func TestLeafBound(t *testing.T) {
	clk := &clock{time.Now()}
	ca := open(t, t.TempDir(), clk)
	first, _ := ca.Leaf("a1.s3.amazonaws.com")
	for _, host := range []string{"b1.s3.amazonaws.com", "b2.s3.amazonaws.com", "b3.s3.amazonaws.com"} {
		if _, err := ca.Leaf(host); err != nil {
			t.Fatal(err)
		}
	}
	if len(ca.leaves) != 2 || len(ca.order) != 2 {
		t.Errorf("%d leaves kept (%d in order), want 2", len(ca.leaves), len(ca.order))
	}
	if again, _ := ca.Leaf("a1.s3.amazonaws.com"); again == first {
		t.Error("an evicted leaf came back")
	}
}
