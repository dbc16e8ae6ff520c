// Package cluster owns what makes several Sluice nodes one service on a shared etcd: membership (each node's
// record under a lease, watched by every node), leadership (one etcd election per background job, its writes
// fenced so a deposed leader cannot land one after its successor), and the shared secret that authenticates the
// nodes' internal calls to each other. The shared state itself is the store (package store/etcd); this package
// keeps its own keys beside it, under Prefix + ".cluster/":
//
//	<prefix>.cluster/nodes/<name>         a live node's Node record, under its session lease
//	<prefix>.cluster/leader/<job>/<lease> an election candidate (concurrency.Election); the oldest leads
//	<prefix>.cluster/secret               the peer-authentication secret, written once by the first node
//
// A node whose lease expires (killed, partitioned, paused past the TTL) vanishes from the member list, and its
// leaderships pass to the next candidates. The node notices when its session ends, stops the jobs it led (their
// fenced writes fail from that moment anyway), opens a new session and registers again.
package cluster

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"

	"github.com/sluice-dev/sluice/internal/store"
)

// Node is a member as it announces itself.
type Node struct {
	Name string `json:"name"`
	// ID identifies the node's data dir (random, kept there): a process starting on the same data dir is the same
	// node, and takes over the record a previous process of it left (killed, or its session lapsed) at once.
	ID      string    `json:"id,omitempty"`
	URL     string    `json:"url"` // where the other nodes reach its API and internal endpoints
	Version string    `json:"version"`
	Started time.Time `json:"started"`
}

// Config says how a node joins.
type Config struct {
	Client *clientv3.Client
	// Prefix is the store's etcd prefix ("/sluice"); the cluster's keys live under Prefix + ".cluster/".
	Prefix string
	Self   Node
	// TTL is the session lease in seconds: how long a dead node keeps its leaderships (default 5).
	TTL int
	// PeerTLS configures the calls to other nodes whose URLs are https (nil: the system's roots). Nodes serving TLS
	// advertise https URLs, so what they send each other is encrypted as the API is.
	PeerTLS *tls.Config
	Logger  *slog.Logger
}

// Cluster is this node's membership.
type Cluster struct {
	client *clientv3.Client
	root   string
	self   Node
	ttl    int
	log    *slog.Logger
	secret []byte
	peers  *http.Client // calls to other nodes

	mu      sync.Mutex
	session *concurrency.Session
	renewed chan struct{} // closed and replaced when a new session replaces an ended one
	nodes   map[string]Node
	changed chan struct{} // closed and replaced when the member list changes
	leading map[string]bool

	stop  context.CancelFunc
	loops sync.WaitGroup
	// life is the sessions' keep-alive context, ended by Leave once the lease is revoked.
	life context.Context
	end  context.CancelFunc
}

// ErrNameInUse is returned by Join when a live node already holds the name.
var ErrNameInUse = errors.New("cluster: node name in use by a live node")

// Join registers this node and starts following the member list. It fails when the name is held by a live node.
func Join(ctx context.Context, cfg Config) (*Cluster, error) {
	if cfg.TTL <= 0 {
		cfg.TTL = 5
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Self.Name == "" || strings.Contains(cfg.Self.Name, "/") {
		return nil, fmt.Errorf("cluster: node name %q must be non-empty and have no '/'", cfg.Self.Name)
	}
	c := &Cluster{
		client: cfg.Client, root: strings.TrimSuffix(cfg.Prefix, "/") + ".cluster/", self: cfg.Self, ttl: cfg.TTL,
		log: cfg.Logger, peers: newPeerClient(cfg.PeerTLS), renewed: make(chan struct{}), changed: make(chan struct{}), nodes: map[string]Node{}, leading: map[string]bool{},
	}
	secret, err := c.loadSecret(ctx)
	if err != nil {
		return nil, err
	}
	c.life, c.end = context.WithCancel(context.WithoutCancel(ctx))
	c.secret = secret
	session, err := c.register(ctx)
	if err != nil {
		c.end()
		return nil, err
	}
	c.session = session
	rev, err := c.listNodes(ctx)
	if err != nil {
		c.drop(session)
		c.end()
		return nil, err
	}
	runCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	c.stop = stop
	c.loops.Go(func() { c.followNodes(runCtx, rev) })
	c.loops.Go(func() { c.keepSession(runCtx) })
	return c, nil
}

// Self is this node.
func (c *Cluster) Self() Node { return c.self }

// Secret is the cluster's shared secret (see Sign and Verify).
func (c *Cluster) Secret() []byte { return c.secret }

// Nodes lists the live members, this one included, by name.
func (c *Cluster) Nodes() []Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Node, 0, len(c.nodes))
	for _, n := range c.nodes {
		out = append(out, n)
	}
	slices.SortFunc(out, func(a, b Node) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Changed returns a channel that is closed when the member list next changes (then call Nodes, and Changed again).
func (c *Cluster) Changed() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.changed
}

// notifyLocked wakes those waiting on Changed; c.mu is held.
func (c *Cluster) notifyLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// Peers lists the live members other than this one.
func (c *Cluster) Peers() []Node {
	return slices.DeleteFunc(c.Nodes(), func(n Node) bool { return n.Name == c.self.Name })
}

// Leading lists the jobs this node leads now.
func (c *Cluster) Leading() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for j, ok := range c.leading {
		if ok {
			out = append(out, j)
		}
	}
	slices.Sort(out)
	return out
}

// Leaders maps each job that has a leader to its leader's node name, as etcd has it now.
func (c *Cluster) Leaders(ctx context.Context) (map[string]string, error) {
	pfx := c.root + "leader/"
	resp, err := c.client.Get(ctx, pfx, clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByCreateRevision, clientv3.SortAscend))
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, kv := range resp.Kvs {
		job, _, _ := strings.Cut(strings.TrimPrefix(string(kv.Key), pfx), "/")
		if _, ok := out[job]; !ok {
			out[job] = string(kv.Value) // the oldest candidate leads
		}
	}
	return out, nil
}

// Lead runs job's function on this node whenever this node holds the job's leadership, until ctx ends. The
// function's context carries the leadership's store.Fence and ends when the leadership is lost; the function
// returns promptly then, and Lead campaigns again. When ctx ends, Lead resigns, so a successor takes over at once
// rather than after the lease expires.
func (c *Cluster) Lead(ctx context.Context, job string, run func(ctx context.Context)) {
	for ctx.Err() == nil {
		c.mu.Lock()
		session, renewed := c.session, c.renewed
		c.mu.Unlock()
		election := concurrency.NewElection(session, c.root+"leader/"+job+"/")
		won := make(chan error, 1)
		go func() { won <- election.Campaign(ctx, c.self.Name) }()
		var err error
		select {
		case err = <-won:
		case <-ctx.Done():
			// A cancelled Campaign withdraws its candidacy under the client's own context, which never ends while
			// etcd is unreachable: do not wait for it (it ends when the client closes; the lease goes with Leave).
			return
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			c.log.Warn("campaign for leadership", "job", job, "err", err)
			select { // a session that ended is replaced; then campaign again
			case <-renewed:
			case <-time.After(time.Second):
			case <-ctx.Done():
			}
			continue
		}
		fence := store.Fence{Key: election.Key(), Revision: election.Rev()}
		jobCtx, cancel := context.WithCancel(store.WithFence(ctx, fence))
		go func() { // the leadership ends with the session, or when its key goes (deleted by hand, compacted lease)
			defer cancel()
			watch := c.client.Watch(clientv3.WithRequireLeader(jobCtx), fence.Key, clientv3.WithRev(fence.Revision))
			for {
				select {
				case <-session.Done():
					return
				case <-jobCtx.Done():
					return
				case resp, ok := <-watch:
					if !ok || resp.Err() != nil {
						return
					}
					for _, ev := range resp.Events {
						if ev.Type == clientv3.EventTypeDelete {
							return
						}
					}
				}
			}
		}()
		c.setLeading(job, true)
		c.log.Info("leadership taken", "job", job)
		run(jobCtx)
		cancel()
		c.setLeading(job, false)
		resignCtx, done := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		if err := election.Resign(resignCtx); err != nil {
			c.log.Warn("resign leadership", "job", job, "err", err)
		}
		done()
		c.log.Info("leadership released", "job", job)
	}
}

func (c *Cluster) setLeading(job string, on bool) {
	c.mu.Lock()
	c.leading[job] = on
	c.mu.Unlock()
}

// Leave deregisters the node and revokes its lease, which releases every leadership it still holds. Call it
// after the jobs passed to Lead have returned.
func (c *Cluster) Leave(ctx context.Context) error {
	c.mu.Lock()
	session := c.session
	c.mu.Unlock()
	c.stop()
	c.loops.Wait()
	_, err := c.client.Delete(ctx, c.nodeKey(c.self.Name))
	session.Orphan()
	if _, rerr := c.client.Revoke(ctx, session.Lease()); err == nil && !errors.Is(rerr, rpctypes.ErrLeaseNotFound) {
		err = rerr
	}
	c.end()
	return err
}

func (c *Cluster) nodeKey(name string) string { return c.root + "nodes/" + name }

// loadSecret reads the cluster's secret, creating it if this is the first node.
func (c *Cluster) loadSecret(ctx context.Context) ([]byte, error) {
	key := c.root + "secret"
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, err
	}
	resp, err := c.client.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
		Then(clientv3.OpPut(key, string(fresh))).
		Else(clientv3.OpGet(key)).Commit()
	if err != nil {
		return nil, fmt.Errorf("cluster: read the shared secret: %w", err)
	}
	if resp.Succeeded {
		return fresh, nil
	}
	return resp.Responses[0].GetResponseRange().Kvs[0].Value, nil
}

// drop gives up a session that is no use: its keep-alives stop and its lease is revoked if etcd answers within a
// second (otherwise it expires by itself).
func (c *Cluster) drop(session *concurrency.Session) {
	session.Orphan()
	ctx, cancel := context.WithTimeout(c.life, time.Second)
	defer cancel()
	c.client.Revoke(ctx, session.Lease())
}

// register opens a session and puts this node's record under its lease, unless a live node holds the name. ctx
// bounds the calls; the session's keep-alives last until Leave.
func (c *Cluster) register(ctx context.Context) (*concurrency.Session, error) {
	lease, err := c.client.Grant(ctx, int64(c.ttl))
	if err != nil {
		return nil, fmt.Errorf("cluster: open a session: %w", err)
	}
	session, err := concurrency.NewSession(c.client, concurrency.WithLease(lease.ID), concurrency.WithTTL(c.ttl), concurrency.WithContext(c.life))
	if err != nil {
		return nil, fmt.Errorf("cluster: open a session: %w", err)
	}
	record, _ := json.Marshal(c.self)
	key := c.nodeKey(c.self.Name)
	for attempt := 0; ; attempt++ {
		resp, err := c.client.Txn(ctx).
			If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
			Then(clientv3.OpPut(key, string(record), clientv3.WithLease(session.Lease()))).
			Else(clientv3.OpGet(key)).Commit()
		if err != nil {
			c.drop(session)
			return nil, fmt.Errorf("cluster: register node: %w", err)
		}
		if resp.Succeeded {
			return session, nil
		}
		kvs := resp.Responses[0].GetResponseRange().Kvs
		if len(kvs) == 0 {
			continue // gone meanwhile
		}
		held := clientv3.LeaseID(kvs[0].Lease)
		if held == session.Lease() {
			return session, nil
		}
		var other Node
		json.Unmarshal(kvs[0].Value, &other)
		if c.self.ID != "" && other.ID == c.self.ID && attempt == 0 {
			// A previous process of this node (its data dir is ours, locked): revoking its lease removes its record
			// and ends its leaderships now, rather than when the lease expires.
			if _, err := c.client.Revoke(ctx, held); err != nil && !errors.Is(err, rpctypes.ErrLeaseNotFound) {
				c.drop(session)
				return nil, fmt.Errorf("cluster: take over this node's previous registration: %w", err)
			}
			continue
		}
		c.drop(session)
		return nil, fmt.Errorf("%w: %s is registered by %s (started %s); its record expires %ds after it stops",
			ErrNameInUse, c.self.Name, other.URL, other.Started.Format(time.RFC3339), c.ttl)
	}
}

// keepSession replaces an ended session (lease expired: the node was unreachable past the TTL) and registers the
// node again; the jobs it led have stopped by then, and Lead campaigns on the new session.
func (c *Cluster) keepSession(ctx context.Context) {
	for {
		c.mu.Lock()
		session := c.session
		c.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-session.Done():
		}
		c.log.Warn("cluster session ended (etcd unreachable past the lease TTL?); registering again", "ttl_s", c.ttl)
		for ctx.Err() == nil {
			attempt, cancel := context.WithTimeout(ctx, 5*time.Second)
			fresh, err := c.register(attempt)
			cancel()
			if err == nil {
				c.mu.Lock()
				c.session = fresh
				close(c.renewed)
				c.renewed = make(chan struct{})
				c.mu.Unlock()
				break
			}
			c.log.Warn("register again", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
}

// listNodes loads the member list and returns the revision it was read at.
func (c *Cluster) listNodes(ctx context.Context) (int64, error) {
	resp, err := c.client.Get(ctx, c.root+"nodes/", clientv3.WithPrefix())
	if err != nil {
		return 0, fmt.Errorf("cluster: list nodes: %w", err)
	}
	nodes := map[string]Node{}
	for _, kv := range resp.Kvs {
		var n Node
		if json.Unmarshal(kv.Value, &n) == nil {
			nodes[n.Name] = n
		}
	}
	c.mu.Lock()
	c.nodes = nodes
	c.notifyLocked()
	c.mu.Unlock()
	return resp.Header.Revision, nil
}

// followNodes keeps the member list current from a watch, re-listing when the watch ends (compaction, no leader).
func (c *Cluster) followNodes(ctx context.Context, rev int64) {
	pfx := c.root + "nodes/"
	for ctx.Err() == nil {
		watch := c.client.Watch(clientv3.WithRequireLeader(ctx), pfx, clientv3.WithPrefix(), clientv3.WithRev(rev+1))
		for resp := range watch {
			if resp.Err() != nil {
				break
			}
			c.mu.Lock()
			for _, ev := range resp.Events {
				name := strings.TrimPrefix(string(ev.Kv.Key), pfx)
				var n Node
				if ev.Type == clientv3.EventTypePut && json.Unmarshal(ev.Kv.Value, &n) == nil {
					c.nodes[name] = n
				} else {
					delete(c.nodes, name)
				}
			}
			c.notifyLocked()
			c.mu.Unlock()
			rev = resp.Header.Revision
		}
		for ctx.Err() == nil {
			var err error
			if rev, err = c.listNodes(ctx); err == nil {
				break
			}
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
}
