package server

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sluice-dev/sluice/internal/api/awshttp"
	"github.com/sluice-dev/sluice/internal/api/awsproxy"
	"github.com/sluice-dev/sluice/internal/auth"
	"github.com/sluice-dev/sluice/internal/certfile"
	"github.com/sluice-dev/sluice/internal/cluster"
	"github.com/sluice-dev/sluice/internal/controlplane"
	"github.com/sluice-dev/sluice/internal/invoke"
	"github.com/sluice-dev/sluice/internal/store"
	"github.com/sluice-dev/sluice/internal/store/bolt"
	"github.com/sluice-dev/sluice/internal/store/etcd"
)

// ClusterConfig joins a cluster on etcd; nil in Config means one node on the embedded store.
type ClusterConfig struct {
	Endpoints []string
	Prefix    string // etcd key prefix (default /sluice)
	// NodeName names this node (default: the host name); AdvertiseURL is where the other nodes reach it
	// (default: the listen address, which must then not be a wildcard).
	NodeName, AdvertiseURL string
	TLS                    *tls.Config
	Username, Password     string
	// MaxTxnOps states etcd's --max-txn-ops (default 128, etcd's own default).
	MaxTxnOps int
	// LeaseTTL is the membership lease in seconds: how long a dead node keeps its leaderships (default 5).
	LeaseTTL int
}

// ErrDataDirInUse: another node's process holds the data dir.
var ErrDataDirInUse = errors.New("data dir in use")

// openStore opens the embedded store in the data dir (whose file lock keeps a second server out), or the
// cluster's etcd, locking the data dir (code, logs, scratch space) for this node alone.
func openStore(ctx context.Context, cfg Config) (store.Store, error) {
	if cfg.Cluster == nil {
		return bolt.Open(filepath.Join(cfg.DataDir, "sluice.db"))
	}
	lock, err := os.OpenFile(filepath.Join(cfg.DataDir, "node.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		return nil, fmt.Errorf("%w: %v", ErrDataDirInUse, err)
	}
	c := cfg.Cluster
	s, err := etcd.Open(ctx, etcd.Config{Endpoints: c.Endpoints, Prefix: c.Prefix, TLS: c.TLS, Username: c.Username,
		Password: c.Password, MaxTxnOps: c.MaxTxnOps})
	if err != nil {
		lock.Close()
		return nil, err
	}
	return lockedStore{s, lock}, nil
}

// lockedStore releases the data dir's lock when the store closes.
type lockedStore struct {
	*etcd.Store
	lock *os.File
}

func (l lockedStore) Close() error {
	err := l.Store.Close()
	l.lock.Close()
	return err
}

// joinCluster registers this node; nil in embedded mode.
func joinCluster(ctx context.Context, cfg Config, db store.Store, endpoint string, started time.Time) (*cluster.Cluster, error) {
	if cfg.Cluster == nil {
		return nil, nil
	}
	name := cfg.Cluster.NodeName
	if name == "" {
		host, err := os.Hostname()
		if err != nil {
			return nil, fmt.Errorf("name this node with --node-name: %w", err)
		}
		name = host
	}
	url := cfg.Cluster.AdvertiseURL
	if url == "" {
		url = endpoint
	}
	id, err := nodeID(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	// Peers are called at their advertised URLs: https ones when the nodes serve TLS, trusted through the system's
	// roots and the CA bundle.
	peerTLS, err := certfile.ClientConfig(cfg.CABundle)
	if err != nil {
		return nil, err
	}
	return cluster.Join(ctx, cluster.Config{Client: db.(lockedStore).Client(), Prefix: cfg.Cluster.Prefix, TTL: cfg.Cluster.LeaseTTL, PeerTLS: peerTLS,
		Logger: cfg.Logger, Self: cluster.Node{Name: name, ID: id, URL: url, Version: cfg.Version, Started: started}})
}

// nodeID is the data dir's identity in the cluster, made on its first start: a node restarted on it takes over
// its previous registration at once (cluster.Node.ID).
func nodeID(dataDir string) (string, error) {
	path := filepath.Join(dataDir, "node-id")
	if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
		return string(b), nil
	}
	raw := make([]byte, 16)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	id := hex.EncodeToString(raw)
	// Written whole or not at all: a torn ID would be another node's.
	if err := os.WriteFile(path+".tmp", []byte(id), 0o600); err != nil {
		return "", fmt.Errorf("record this node's identity: %w", err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		return "", fmt.Errorf("record this node's identity: %w", err)
	}
	return id, nil
}

// sharedRoot returns the root credentials: from the environment, else the data dir (embedded), else the cluster's
// store, where the first node to start puts the ones it generated. Every node of a cluster then accepts the same
// root keys; each also writes them to its data dir, where `sluice env` reads them.
func sharedRoot(ctx context.Context, cfg Config, db store.Store) (auth.RootCredentials, error) {
	if cfg.Cluster == nil {
		return auth.LoadRoot(cfg.DataDir)
	}
	if root, ok, err := auth.RootFromEnv(); ok || err != nil {
		return root, err
	}
	const key = "auth/root"
	fresh, err := auth.GenerateRoot()
	if err != nil {
		return fresh, err
	}
	var root auth.RootCredentials
	err = db.Update(ctx, func(tx store.Tx) error {
		err := store.GetJSON(tx, key, &root)
		if errors.Is(err, store.ErrNotFound) {
			root = fresh
			return store.PutJSON(tx, key, fresh)
		}
		return err
	})
	if err != nil {
		return root, fmt.Errorf("read the cluster's root credentials: %w", err)
	}
	return root, auth.SaveRoot(cfg.DataDir, root)
}

// linkKeyFor is the key that signs code download links: random per process on one node; in a cluster derived from
// the cluster's secret, so a link made by one node is honoured by all.
func linkKeyFor(c *cluster.Cluster, random []byte) []byte {
	if c == nil {
		return random
	}
	m := hmac.New(sha256.New, c.Secret())
	m.Write([]byte("sluice code links"))
	return m.Sum(nil)
}

// lifecycle is the node's phase as /_sluice/health reports it: a load balancer sends requests only to a node that
// answers 200, so a node says 503 while it starts and from the moment it starts draining.
type lifecycle struct{ phase atomic.Int32 }

const (
	phaseStarting int32 = iota
	phaseServing
	phaseDraining
)

func (l *lifecycle) set(p int32) { l.phase.Store(p) }

func (l *lifecycle) health(w http.ResponseWriter, _ *http.Request) {
	switch l.phase.Load() {
	case phaseServing:
		awshttp.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	case phaseStarting:
		awshttp.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "starting"})
	default:
		awshttp.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "draining"})
	}
}

// jobs starts the cluster-wide jobs: directly on one node, under leaderships in a cluster.
type jobs struct {
	cluster *cluster.Cluster
	ctx     context.Context
	wg      sync.WaitGroup
}

func (j *jobs) start(name string, run func(ctx context.Context)) {
	if j.cluster == nil {
		j.wg.Go(func() { run(j.ctx) })
		return
	}
	j.wg.Go(func() { j.cluster.Lead(j.ctx, name, run) })
}

// nodeStatus reports this node for `sluice cluster status`.
func nodeStatus(c *cluster.Cluster, self cluster.Node, l *lifecycle, pools func() (envs, busy int)) func() cluster.NodeStatus {
	return func() cluster.NodeStatus {
		envs, busy := pools()
		st := cluster.NodeStatus{Node: self, Environments: envs, InFlight: busy, Draining: l.phase.Load() == phaseDraining}
		if c != nil {
			st.Leading = c.Leading()
		} else {
			st.Leading = cluster.Jobs
		}
		return st
	}
}

// describeCluster answers DescribeCluster.
func describeCluster(c *cluster.Cluster, local func() cluster.NodeStatus) func(context.Context) (cluster.Status, error) {
	return func(ctx context.Context) (cluster.Status, error) {
		if c == nil {
			self := local()
			leaders := map[string]string{}
			for _, j := range self.Leading {
				leaders[j] = self.Name
			}
			return cluster.Status{Mode: "embedded", Nodes: []cluster.NodeStatus{self}, Leaders: leaders}, nil
		}
		return c.Describe(ctx, local)
	}
}

// drain stops the node without failing a request: /_sluice/health turns 503 at once; after DrainDelay (the load
// balancer has noticed) the listener closes and in-flight requests — invocations included, up to DrainTimeout —
// finish; the cluster-wide jobs stop at the start, so their leaderships pass to other nodes meanwhile.
func drain(log *slog.Logger, srv *http.Server, proxy *awsproxy.Proxy, phase *lifecycle, cfg Config, stopJobs context.CancelFunc, jobs *sync.WaitGroup) error {
	phase.set(phaseDraining)
	log.Info("draining", "delay", cfg.DrainDelay.String(), "timeout", cfg.DrainTimeout.String())
	stopJobs()
	handedOver := make(chan struct{})
	go func() { jobs.Wait(); close(handedOver) }()
	time.Sleep(cfg.DrainDelay)
	ctx, cancel := context.WithTimeout(context.Background(), cfg.DrainTimeout)
	defer cancel()
	// The proxy's tunnels are no longer the listener's connections: they drain beside them.
	proxyDone := make(chan struct{})
	go func() { proxy.Shutdown(ctx); close(proxyDone) }()
	err := srv.Shutdown(ctx)
	<-proxyDone
	if errors.Is(err, context.DeadlineExceeded) {
		log.Warn("drain timeout: requests still in flight are cut", "timeout", cfg.DrainTimeout.String())
	}
	<-handedOver
	log.Info("drained")
	return err
}

// followShares keeps the execution layer's share of the cluster-wide limits in line with the member list, and
// drops the provisioned-concurrency reports of nodes that left. It closes first once the first share is set,
// which must happen before the execution layer starts.
func followShares(ctx context.Context, c *cluster.Cluster, inv *invoke.Service, cp *controlplane.Service, log *slog.Logger, first chan<- struct{}) {
	var last []string
	for pass := 0; ; pass++ {
		changed := c.Changed()
		var now []string
		for _, n := range c.Nodes() {
			now = append(now, n.Name)
		}
		if pass == 0 || !slices.Equal(now, last) {
			inv.SetShare(invoke.ShareOf(c.Self().Name, now))
			var gone []string
			for _, n := range last {
				if !slices.Contains(now, n) {
					gone = append(gone, n)
				}
			}
			if len(gone) > 0 {
				if err := cp.DropProvisionedReports(ctx, gone...); err != nil {
					log.Warn("drop the provisioned reports of nodes that left", "nodes", gone, "err", err)
				}
			}
			if pass == 0 {
				close(first)
			}
			last = now
		}
		select {
		case <-ctx.Done():
			return
		case <-changed:
		}
	}
}
