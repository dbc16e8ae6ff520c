package cluster

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Nodes call each other's /_sluice/cluster/ endpoints with requests signed by the shared secret: an HMAC-SHA256 of
// the method, the path and query, the time and the calling node's name. Bodies are not covered: what travels
// between nodes is content-addressed (code packages, checked against their SHA-256) or read-only. A signature is
// accepted within maxSkew of the receiver's clock.
const (
	headerDate = "X-Sluice-Cluster-Date"
	headerNode = "X-Sluice-Cluster-Node"
	headerSig  = "X-Sluice-Cluster-Signature"
	maxSkew    = 5 * time.Minute
)

func signature(secret []byte, method, uri, date, node string) string {
	m := hmac.New(sha256.New, secret)
	fmt.Fprintf(m, "%s\n%s\n%s\n%s", method, uri, date, node)
	return hex.EncodeToString(m.Sum(nil))
}

// Sign marks req as coming from this node.
func (c *Cluster) Sign(req *http.Request) {
	date := strconv.FormatInt(time.Now().Unix(), 10)
	req.Header.Set(headerDate, date)
	req.Header.Set(headerNode, c.self.Name)
	req.Header.Set(headerSig, signature(c.secret, req.Method, req.URL.RequestURI(), date, c.self.Name))
}

// Verify reports whether r was signed by a node of this cluster, and which.
func (c *Cluster) Verify(r *http.Request) (node string, ok bool) {
	date, node, sig := r.Header.Get(headerDate), r.Header.Get(headerNode), r.Header.Get(headerSig)
	secs, err := strconv.ParseInt(date, 10, 64)
	if err != nil || sig == "" {
		return "", false
	}
	if skew := time.Since(time.Unix(secs, 0)); skew > maxSkew || skew < -maxSkew {
		return "", false
	}
	want := signature(c.secret, r.Method, r.URL.RequestURI(), date, node)
	return node, hmac.Equal([]byte(sig), []byte(want))
}

// PeersOnly serves h only to requests signed by a node of the cluster; others get 403.
func (c *Cluster) PeersOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := c.Verify(r); !ok {
			http.Error(w, "not a cluster peer", http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// newPeerClient is the HTTP client for calls between nodes; each call's context bounds it.
func newPeerClient(tlsConfig *tls.Config) *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16, IdleConnTimeout: time.Minute, TLSClientConfig: tlsConfig,
		TLSHandshakeTimeout: 10 * time.Second}}
}

// Call sends a signed request to node's internal endpoint path (which starts with /_sluice/cluster/) and returns
// the response when its status is 2xx; otherwise the body's first line is the error.
func (c *Cluster) Call(ctx context.Context, node Node, method, path string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, node.URL+path, body)
	if err != nil {
		return nil, err
	}
	c.Sign(req)
	resp, err := c.peers.Do(req)
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", node.Name, err)
	}
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		return nil, &PeerError{Node: node.Name, Status: resp.StatusCode, Message: string(msg)}
	}
	return resp, nil
}

// PeerError is a peer's non-2xx answer.
type PeerError struct {
	Node    string
	Status  int
	Message string
}

func (e *PeerError) Error() string {
	return fmt.Sprintf("node %s answered %d: %s", e.Node, e.Status, e.Message)
}
