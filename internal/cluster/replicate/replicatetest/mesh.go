// Package replicatetest runs a few cluster nodes over real loopback HTTP for the tests of blob replication
// (cluster/replicate and the stores built on it): each node is an httptest.Server, and Peers gives a node its view of
// the others as *cluster.Cluster would.
package replicatetest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sluice-dev/sluice/internal/cluster"
)

// Mesh is a set of live nodes.
type Mesh struct {
	t     testing.TB
	mu    sync.Mutex
	nodes map[string]*Node
}

// Node is one node's server.
type Node struct {
	Name   string
	Server *httptest.Server
	gets   atomic.Int64
}

// GETs is how many GET requests the node has served.
func (n *Node) GETs() int64 { return n.gets.Load() }

// New returns an empty mesh; its servers close when the test ends.
func New(t testing.TB) *Mesh { return &Mesh{t: t, nodes: map[string]*Node{}} }

// Serve starts a live node answering with h.
func (m *Mesh) Serve(name string, h http.Handler) *Node {
	n := &Node{Name: name}
	n.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			n.gets.Add(1)
		}
		h.ServeHTTP(w, r)
	}))
	m.t.Cleanup(n.Server.Close)
	m.Adopt(name, n)
	return n
}

// Adopt makes a node of another mesh live in this one too, under name.
func (m *Mesh) Adopt(name string, n *Node) {
	m.mu.Lock()
	m.nodes[name] = n
	m.mu.Unlock()
}

// Kill takes a node out of the mesh and stops its server.
func (m *Mesh) Kill(n *Node) {
	m.mu.Lock()
	delete(m.nodes, n.Name)
	m.mu.Unlock()
	n.Server.Close()
}

// Peers is the membership as the node named self sees it: the other live nodes, sorted by name.
func (m *Mesh) Peers(self string) Peers { return Peers{m, self} }

// Peers implements replicate.Peers over a Mesh.
type Peers struct {
	m    *Mesh
	self string
}

// Peers lists the live nodes other than this one, sorted by name.
func (p Peers) Peers() []cluster.Node {
	p.m.mu.Lock()
	defer p.m.mu.Unlock()
	var out []cluster.Node
	for name, n := range p.m.nodes {
		if name != p.self {
			out = append(out, cluster.Node{Name: name, URL: n.Server.URL})
		}
	}
	slices.SortFunc(out, func(a, b cluster.Node) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Call sends a request to a node; a non-2xx answer is a *cluster.PeerError, as cluster.Cluster.Call returns.
func (p Peers) Call(ctx context.Context, n cluster.Node, method, path string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, n.URL+path, body)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		return nil, &cluster.PeerError{Node: n.Name, Status: resp.StatusCode, Message: string(msg)}
	}
	return resp, nil
}
