package awsproxy

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/internal/s3"
	"github.com/sluice-dev/sluice/internal/tlsca"
)

var hosts = Hosts{Regional: []string{"lambda", "logs", "s3"}, Global: []string{"iam", "sts"}, S3: s3.AWSHost}

func TestHostsAllows(t *testing.T) {
	for _, tc := range []struct {
		host string
		ok   bool
	}{
		{"lambda.us-east-1.amazonaws.com", true},
		{"LAMBDA.EU-WEST-3.AMAZONAWS.COM.", true},
		{"logs.us-gov-west-1.amazonaws.com", true},
		{"iam.amazonaws.com", true},
		{"sts.amazonaws.com", true},
		{"s3.amazonaws.com", true},
		{"bucket.s3.us-east-1.amazonaws.com", true},
		{"lambda.amazonaws.com", false}, // not a global endpoint
		{"iam.us-east-1.amazonaws.com", false},
		{"ec2.us-east-1.amazonaws.com", false},
		{"lambda.us-east-1.amazonaws.com.evil.example", false},
		{"lambda.notaregion.amazonaws.com", false},
		{"x.lambda.us-east-1.amazonaws.com", false},
		{"example.com", false},
		{"169.254.169.254", false},
		{"", false},
	} {
		if got := hosts.Allows(tc.host); got != tc.ok {
			t.Errorf("Allows(%q) = %v, want %v", tc.host, got, tc.ok)
		}
	}
}

// start runs a proxy in front of a handler that echoes what it was given, behind a real listener.
func start(t *testing.T, maxTunnels int) (proxyURL *url.URL, roots *x509.CertPool, p *Proxy) {
	t.Helper()
	ca, err := tlsca.Open(t.TempDir(), tlsca.Options{Domains: []string{"amazonaws.com"}})
	if err != nil {
		t.Fatal(err)
	}
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %s host=%s tls=%v body=%s", r.Method, r.URL.RequestURI(), r.Host, r.TLS != nil, body)
	})
	p = New(Options{Next: echo, Hosts: hosts, Certificate: ca.Leaf, MaxTunnels: maxTunnels})
	srv := httptest.NewServer(p)
	t.Cleanup(func() {
		srv.Close()
		p.Shutdown(context.Background())
	})
	roots = x509.NewCertPool()
	roots.AddCert(ca.Certificate())
	u, _ := url.Parse(srv.URL)
	return u, roots, p
}

func client(proxyURL *url.URL, roots *x509.CertPool) *http.Client {
	return &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(proxyURL), TLSClientConfig: &tls.Config{RootCAs: roots}}}
}

// TestThroughProxy: a stock HTTP client with the proxy and the CA reaches the next handler with the endpoint's
// Host over TLS, for every form the endpoints take; anything else is refused without being reached.
func TestThroughProxy(t *testing.T) {
	proxyURL, roots, _ := start(t, 0)
	c := client(proxyURL, roots)
	for _, tc := range []struct {
		method, url, body string
		status            int
		want              string
	}{
		{"GET", "https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/", "", 200,
			"GET /2015-03-31/functions/ host=lambda.us-east-1.amazonaws.com tls=true body="},
		{"POST", "https://sts.amazonaws.com/", "Action=GetCallerIdentity", 200,
			"POST / host=sts.amazonaws.com tls=true body=Action=GetCallerIdentity"},
		{"PUT", "https://my.bucket.s3.us-east-1.amazonaws.com/a//b?x=1", "data", 200,
			"PUT /a//b?x=1 host=my.bucket.s3.us-east-1.amazonaws.com tls=true body=data"},
		{"GET", "http://lambda.us-east-1.amazonaws.com/2015-03-31/functions/", "", 200,
			"GET /2015-03-31/functions/ host=lambda.us-east-1.amazonaws.com tls=false body="},
		{"GET", "http://example.com/", "", 403, "Sluice proxies only the AWS endpoints it serves"},
		{"GET", "http://lambda.us-east-1.amazonaws.com:8080/", "", 403, "Sluice proxies only"},
	} {
		req, _ := http.NewRequest(tc.method, tc.url, strings.NewReader(tc.body))
		resp, err := c.Do(req)
		if err != nil {
			t.Errorf("%s %s: %v", tc.method, tc.url, err)
			continue
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || !strings.Contains(string(got), tc.want) {
			t.Errorf("%s %s: %d %q, want %d %q", tc.method, tc.url, resp.StatusCode, got, tc.status, tc.want)
		}
	}
	// Refused CONNECTs never become tunnels: the client sees the proxy's refusal.
	for _, target := range []string{"https://example.com/", "https://lambda.us-east-1.amazonaws.com:8443/", "https://ec2.us-east-1.amazonaws.com/"} {
		if _, err := c.Get(target); err == nil || !strings.Contains(err.Error(), "Forbidden") {
			t.Errorf("GET %s through the proxy: %v, want a Forbidden CONNECT", target, err)
		}
	}
	// A client that does not trust the CA refuses the certificate.
	if _, err := client(proxyURL, x509.NewCertPool()).Get("https://lambda.us-east-1.amazonaws.com/"); err == nil ||
		!strings.Contains(err.Error(), "certificate") {
		t.Errorf("an untrusting client: %v", err)
	}
}

// tunnel opens a raw tunnel to target and its TLS.
func tunnel(t *testing.T, proxyURL *url.URL, roots *x509.CertPool, target string) (*tls.Conn, *bufio.Reader, string) {
	t.Helper()
	conn, err := net.Dial("tcp", proxyURL.Host)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "CONNECT %s:443 HTTP/1.1\r\nHost: %s:443\r\n\r\n", target, target)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		conn.Close()
		return nil, nil, resp.Status
	}
	tc := tls.Client(conn, &tls.Config{RootCAs: roots, ServerName: target})
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	return tc, bufio.NewReader(tc), resp.Status
}

// TestTunnelHostMustMatch: inside a tunnel opened to one endpoint, a request for another host is misdirected.
func TestTunnelHostMustMatch(t *testing.T) {
	proxyURL, roots, _ := start(t, 0)
	tc, br, _ := tunnel(t, proxyURL, roots, "lambda.us-east-1.amazonaws.com")
	defer tc.Close()
	for _, tc2 := range []struct {
		host   string
		status int
	}{
		{"lambda.us-east-1.amazonaws.com", 200},
		{"lambda.us-east-1.amazonaws.com:443", 200},
		{"iam.amazonaws.com", http.StatusMisdirectedRequest},
	} {
		fmt.Fprintf(tc, "GET /x HTTP/1.1\r\nHost: %s\r\n\r\n", tc2.host)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc2.status {
			t.Errorf("Host %s in a tunnel to lambda: %d, want %d", tc2.host, resp.StatusCode, tc2.status)
		}
	}
}

// TestTunnelBound: past MaxTunnels a CONNECT is answered 503; a closed tunnel gives its place back; Shutdown
// closes idle tunnels.
func TestTunnelBound(t *testing.T) {
	proxyURL, roots, p := start(t, 1)
	first, br, _ := tunnel(t, proxyURL, roots, "lambda.us-east-1.amazonaws.com")
	if _, _, status := tunnel(t, proxyURL, roots, "lambda.us-east-1.amazonaws.com"); !strings.HasPrefix(status, "503") {
		t.Errorf("a second tunnel past the bound: %s", status)
	}
	// Closing the tunnel from the server's side (Connection: close) gives the token back once the inner server
	// has closed it; the client sees EOF then.
	fmt.Fprintf(first, "GET /x HTTP/1.1\r\nHost: lambda.us-east-1.amazonaws.com\r\nConnection: close\r\n\r\n")
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("after Connection: close: %v", err)
	}
	first.Close()
	second, br2, status := tunnelWhenFree(t, proxyURL, roots)
	if second == nil {
		t.Fatalf("no tunnel after the first closed: %s", status)
	}
	// One request, so that the tunnel is idle (the server waits five seconds for a connection that never sent one).
	fmt.Fprintf(second, "GET /x HTTP/1.1\r\nHost: lambda.us-east-1.amazonaws.com\r\n\r\n")
	if resp, err := http.ReadResponse(br2, nil); err != nil || resp.StatusCode != 200 {
		t.Fatalf("the second tunnel: %v", err)
	} else {
		io.Copy(io.Discard, resp.Body)
	}
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := br2.ReadByte(); err != io.EOF {
		t.Errorf("an idle tunnel after Shutdown: %v", err)
	}
}

// tunnelWhenFree opens a tunnel, trying again while the proxy still counts a tunnel whose close is on its way
// (the token is given back after the server's side of the connection is closed, which the client can see first).
func tunnelWhenFree(t *testing.T, proxyURL *url.URL, roots *x509.CertPool) (*tls.Conn, *bufio.Reader, string) {
	var status string
	for range 1000 {
		c, br, s := tunnel(t, proxyURL, roots, "lambda.us-east-1.amazonaws.com")
		if c != nil {
			return c, br, s
		}
		status = s
	}
	return nil, nil, status
}
