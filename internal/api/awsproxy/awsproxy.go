// Package awsproxy makes Sluice an HTTPS proxy for the AWS endpoints it serves, for clients that cannot be given an
// endpoint URL but honour HTTPS_PROXY (the AWS SDK for JavaScript v2 and the tools built on it, such as the
// Serverless Framework v3). A CONNECT to "<service>.<region>.amazonaws.com:443" (or IAM's, STS's or S3's global
// and bucket hosts) is answered by Sluice itself: the tunnel's TLS is terminated with a certificate for that host
// minted by Sluice's local CA, and each request inside is served by the next handler (the gateway) exactly as if it
// had arrived at the endpoint, Host and signature as sent. A CONNECT to any other host or port is refused, so the
// proxy never relays anything anywhere. Plain-HTTP requests in absolute form for the same hosts are served too.
package awsproxy

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// DefaultMaxTunnels is Options.MaxTunnels's default.
const DefaultMaxTunnels = 256

// awsRegion matches a region in an endpoint host (us-east-1, us-gov-west-1, cn-north-1).
var awsRegion = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]+$`)

// Hosts names the AWS endpoints the proxy serves.
type Hosts struct {
	// Regional are endpoint prefixes served as "<prefix>.<region>.amazonaws.com" (lambda, monitoring, logs, …).
	Regional []string
	// Global are endpoint prefixes also served as "<prefix>.amazonaws.com" (iam, sts).
	Global []string
	// S3 recognises S3's hosts (s3.AWSHost): path-style, virtual-hosted, legacy and dual-stack forms.
	S3 func(host string) (bucket string, ok bool)
}

// Allows reports whether host (any case, no port) is one of the endpoints.
func (h Hosts) Allows(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	rest, ok := strings.CutSuffix(host, ".amazonaws.com")
	if !ok {
		return false
	}
	if slices.Contains(h.Global, rest) {
		return true
	}
	if prefix, region, ok := strings.Cut(rest, "."); ok && awsRegion.MatchString(region) && slices.Contains(h.Regional, prefix) {
		return true
	}
	if h.S3 != nil {
		_, ok := h.S3(host)
		return ok
	}
	return false
}

// Options configure a Proxy.
type Options struct {
	// Next serves the requests for the endpoints (the gateway).
	Next http.Handler
	// Hosts are the endpoints served; every other host is refused.
	Hosts Hosts
	// Certificate returns the certificate to present for a host (tlsca.CA.Leaf).
	Certificate func(host string) (*tls.Certificate, error)
	// MaxTunnels bounds the tunnels open at once (0: DefaultMaxTunnels); a CONNECT past it is answered 503.
	MaxTunnels int
	// ConnContext, if set, gives the context of a tunnel's requests from the client's own connection (as the
	// listener's server does for direct requests).
	ConnContext func(ctx context.Context, c net.Conn) context.Context
	Log         *slog.Logger
}

// Proxy handles CONNECT and absolute-form requests for the endpoints and hands every other request to Next.
type Proxy struct {
	opts    Options
	tunnels chan struct{} // a token per open tunnel
	ln      *tunnelListener
	inner   *http.Server // serves the requests inside tunnels
	served  chan struct{}
}

// New starts the server of tunnelled connections; Shutdown stops it.
func New(opts Options) *Proxy {
	if opts.MaxTunnels <= 0 {
		opts.MaxTunnels = DefaultMaxTunnels
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	p := &Proxy{opts: opts, tunnels: make(chan struct{}, opts.MaxTunnels), served: make(chan struct{}),
		ln: &tunnelListener{conns: make(chan net.Conn), done: make(chan struct{})}}
	p.inner = &http.Server{
		Handler:           http.HandlerFunc(p.serveTunnelled),
		ReadHeaderTimeout: 10 * time.Second, // also the TLS handshake's
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(opts.Log.Handler(), slog.LevelDebug),
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			t := c.(*tls.Conn).NetConn().(*tunnelConn)
			ctx = context.WithValue(ctx, tunnelKey{}, t)
			if opts.ConnContext != nil {
				ctx = opts.ConnContext(ctx, t.Conn)
			}
			return ctx
		},
	}
	go func() {
		defer close(p.served)
		p.inner.Serve(p.ln)
	}()
	return p
}

// Shutdown stops accepting tunnels and waits, until ctx ends, for the requests in open ones to finish (the
// listener's server no longer tracks a connection once it has become a tunnel).
func (p *Proxy) Shutdown(ctx context.Context) error {
	err := p.inner.Shutdown(ctx)
	<-p.served
	return err
}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodConnect:
		p.connect(w, r)
	case r.URL.IsAbs():
		p.absolute(w, r)
	default:
		p.opts.Next.ServeHTTP(w, r)
	}
}

// connect opens a tunnel to an endpoint: the client's connection becomes a TLS server connection of the inner
// server, with the endpoint's certificate.
func (p *Proxy) connect(w http.ResponseWriter, r *http.Request) {
	host, port, err := net.SplitHostPort(r.Host)
	if err != nil || port != "443" || !p.opts.Hosts.Allows(host) {
		p.opts.Log.Info("aws proxy: refused a CONNECT", "target", r.Host, "remote", r.RemoteAddr)
		refuse(w, http.StatusForbidden, "Sluice proxies only the AWS endpoints it serves, on port 443: "+r.Host+" is not one of them.")
		return
	}
	select {
	case p.tunnels <- struct{}{}:
	default:
		p.opts.Log.Warn("aws proxy: too many tunnels", "max", p.opts.MaxTunnels, "target", r.Host)
		refuse(w, http.StatusServiceUnavailable, "Too many tunnels are open; try again.")
		return
	}
	release := sync.OnceFunc(func() { <-p.tunnels })
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	cert, err := p.opts.Certificate(host)
	if err != nil {
		release()
		p.opts.Log.Error("aws proxy: no certificate", "host", host, "err", err)
		refuse(w, http.StatusBadGateway, "No certificate for "+host+".")
		return
	}
	raw, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		release()
		refuse(w, http.StatusInternalServerError, "The connection cannot become a tunnel.")
		return
	}
	raw.SetDeadline(time.Time{}) // the listener's server may have set some; the inner server sets its own
	if _, err := io.WriteString(raw, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		raw.Close()
		release()
		return
	}
	t := &tunnelConn{Conn: raw, host: host, release: release}
	if rw.Reader.Buffered() > 0 { // a client that sent its ClientHello without waiting for the 200
		t.pending = rw.Reader
	}
	tc := tls.Server(t, &tls.Config{
		Certificates: []tls.Certificate{*cert},
		NextProtos:   []string{"http/1.1"},
		MinVersion:   tls.VersionTLS12,
	})
	if !p.ln.push(tc) {
		t.Close()
	}
	p.opts.Log.Debug("aws proxy: tunnel", "target", r.Host, "remote", r.RemoteAddr)
}

// absolute serves a plain-HTTP request in absolute form ("GET http://host/path") for an endpoint as the
// endpoint would; for any other host it is refused.
func (p *Proxy) absolute(w http.ResponseWriter, r *http.Request) {
	host, port := r.URL.Hostname(), r.URL.Port()
	if r.URL.Scheme != "http" || (port != "" && port != "80") || !p.opts.Hosts.Allows(host) {
		refuse(w, http.StatusForbidden, "Sluice proxies only the AWS endpoints it serves: "+r.URL.Host+" is not one of them.")
		return
	}
	r.Header.Del("Proxy-Connection")
	r.Header.Del("Proxy-Authorization")
	u := *r.URL
	u.Scheme, u.Host = "", ""
	r.URL = &u
	r.RequestURI = u.RequestURI()
	p.opts.Next.ServeHTTP(w, r)
}

// serveTunnelled serves a request from inside a tunnel: it must name the host the tunnel was opened to.
func (p *Proxy) serveTunnelled(w http.ResponseWriter, r *http.Request) {
	t, _ := r.Context().Value(tunnelKey{}).(*tunnelConn)
	host := r.Host
	if h, port, err := net.SplitHostPort(host); err == nil && port == "443" {
		host = h
	}
	if t == nil || !strings.EqualFold(strings.TrimSuffix(host, "."), t.host) {
		refuse(w, http.StatusMisdirectedRequest, "This connection was opened to "+t.hostOrNone()+", not "+r.Host+".")
		return
	}
	if r.Method == http.MethodConnect || r.URL.IsAbs() {
		refuse(w, http.StatusBadRequest, "No proxy requests inside a tunnel.")
		return
	}
	// What an AWS client behind the proxy calls, for finding out what a tool needs (the gateway logs outcomes).
	p.opts.Log.Debug("aws proxy: request", "host", r.Host, "method", r.Method, "path", r.URL.Path,
		"target", r.Header.Get("X-Amz-Target"))
	p.opts.Next.ServeHTTP(w, r)
}

func refuse(w http.ResponseWriter, status int, message string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Connection", "close")
	w.WriteHeader(status)
	io.WriteString(w, message+"\n")
}

type tunnelKey struct{}

// tunnelConn is a client's connection once it is a tunnel to host: it gives back its token when closed.
type tunnelConn struct {
	net.Conn
	host    string
	pending *bufio.Reader // bytes the client sent before the 200, read first
	release func()
}

func (t *tunnelConn) Read(b []byte) (int, error) {
	if t.pending != nil {
		if t.pending.Buffered() > 0 {
			return t.pending.Read(b)
		}
		t.pending = nil
	}
	return t.Conn.Read(b)
}

func (t *tunnelConn) Close() error {
	err := t.Conn.Close()
	t.release()
	return err
}

func (t *tunnelConn) hostOrNone() string {
	if t == nil {
		return "no host"
	}
	return t.host
}

// tunnelListener hands tunnels to the inner server as accepted connections.
type tunnelListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func (l *tunnelListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// push hands c to the inner server; false once it is shut down.
func (l *tunnelListener) push(c net.Conn) bool {
	select {
	case l.conns <- c:
		return true
	case <-l.done:
		return false
	}
}

func (l *tunnelListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *tunnelListener) Addr() net.Addr { return tunnelAddr{} }

type tunnelAddr struct{}

func (tunnelAddr) Network() string { return "tunnel" }
func (tunnelAddr) String() string  { return "aws-proxy" }
