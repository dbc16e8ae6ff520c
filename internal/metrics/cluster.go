package metrics

import (
	"context"
	"encoding/base64"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// Cluster reads the metrics of every live node of a cluster as if they were one store: each query goes to this
// node's Store and, concurrently, to every peer, which answers with its raw per-period aggregates (Aggregates);
// the parts are merged exactly (MergeAggregates) before any statistic is computed. Samples are recorded where
// invocations run (Record goes to the local store); nothing is copied between nodes.
//
// A peer that does not answer within Timeout (or answers with an error) is left out: the answer is served from the
// others, marked partial (Result.Missing), and the failure is logged. The peer is then skipped, without being
// asked, for Cooldown, so that a dead node costs one Timeout rather than one per query until its membership lease
// expires; it is asked again after that. So a query never waits longer than Timeout for the peers.
//
// With no peers, every method is exactly the local Store's. Cluster is safe for concurrent use.
type Cluster struct {
	local    *Store
	peers    func() []Peer
	timeout  time.Duration
	cooldown time.Duration
	now      func() time.Time
	log      *slog.Logger

	mu   sync.Mutex
	down map[string]time.Time // peer name → until when it is skipped
}

// Peer is another node's metric store as a Cluster reaches it (in Sluice, an adapter over the cluster's signed
// internal calls, in internal/server). Calls are bounded by ctx.
type Peer interface {
	// Name identifies the node (in logs and Result.Missing).
	Name() string
	// Aggregates answers each query with the node's Store.Aggregates, in order.
	Aggregates(ctx context.Context, qs []PeerQuery) ([][]Aggregate, error)
	// Matching returns the node's Store.Matching.
	Matching(ctx context.Context, namespace, name string, filters []DimensionFilter) ([]MetricID, error)
}

// PeerQuery is one query a Peer answers: Statistics' periods when Align, StatisticsUnaligned's otherwise.
type PeerQuery struct {
	Query Query `json:"q"`
	Align bool  `json:"a"`
}

// ClusterOptions configures a Cluster. Local is required.
type ClusterOptions struct {
	Local *Store
	// Peers lists the live peers now (not this node); nil means none.
	Peers func() []Peer
	// Timeout bounds the wait for the peers' answers to one query; zero means DefaultPeerTimeout.
	Timeout time.Duration
	// Cooldown is how long a peer that failed to answer is skipped; zero means DefaultPeerCooldown.
	Cooldown time.Duration
	// Now is the clock of the cool-downs; nil means time.Now.
	Now func() time.Time
	// Logger receives the peers that fail to answer; nil means slog.Default().
	Logger *slog.Logger
}

const (
	// DefaultPeerTimeout bounds the wait for peers: well under the alarm evaluator's one-second pass.
	DefaultPeerTimeout = 500 * time.Millisecond
	// DefaultPeerCooldown is how long a silent peer is skipped: about a membership lease, after which a dead node
	// has left the member list.
	DefaultPeerCooldown = 5 * time.Second
)

// NewCluster returns a reader over o.Local and o.Peers.
func NewCluster(o ClusterOptions) *Cluster {
	c := &Cluster{local: o.Local, peers: o.Peers, timeout: o.Timeout, cooldown: o.Cooldown, now: o.Now, log: o.Logger,
		down: map[string]time.Time{}}
	if c.peers == nil {
		c.peers = func() []Peer { return nil }
	}
	if c.timeout <= 0 {
		c.timeout = DefaultPeerTimeout
	}
	if c.cooldown <= 0 {
		c.cooldown = DefaultPeerCooldown
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	return c
}

// Local is this node's store.
func (c *Cluster) Local() *Store { return c.local }

// Record records into this node's store.
func (c *Cluster) Record(id MetricID, sm Sample) { c.local.Record(id, sm) }

// Retention is the local store's (every node runs with the same flags).
func (c *Cluster) Retention() time.Duration { return c.local.Retention() }

// Version is the local series' Version: it cannot see the peers' writes, which is why ChangedSince answers true
// while there are peers.
func (c *Cluster) Version(id MetricID) Version { return c.local.Version(id) }

// ChangedSince is the local store's answer when this node is alone, and true otherwise: a peer's late samples are
// not visible in a local Version, so a reader caching completed periods (the alarm evaluator) re-reads them.
func (c *Cluster) ChangedSince(id MetricID, v Version, from, to time.Time) bool {
	if len(c.peers()) > 0 {
		return true
	}
	return c.local.ChangedSince(id, v, from, to)
}

// Result is a cluster-wide answer.
type Result struct {
	Datapoints []Datapoint
	// Missing names the peers whose samples are not in Datapoints (they did not answer in time, failed, or are
	// cooling down after a failure): the answer is partial when it is not empty.
	Missing []string
}

// Statistics is Store.Statistics over the whole cluster (see Gather).
func (c *Cluster) Statistics(q Query) ([]Datapoint, error) {
	r, err := c.Gather(q, true)
	return r.Datapoints, err
}

// StatisticsUnaligned is Store.StatisticsUnaligned over the whole cluster (see Gather).
func (c *Cluster) StatisticsUnaligned(q Query) ([]Datapoint, error) {
	r, err := c.Gather(q, false)
	return r.Datapoints, err
}

// Gather answers q over this node and every peer that answers within the timeout: aligned periods as Statistics,
// or unaligned as StatisticsUnaligned. The merge is exact (see MergeAggregates). Errors are Statistics' (q is
// validated here, before any peer is asked); a peer's failure is not an error but a name in Result.Missing.
func (c *Cluster) Gather(q Query, align bool) (Result, error) {
	peers := c.peers()
	if len(peers) == 0 {
		dps, err := c.local.statistics(q, align)
		return Result{Datapoints: dps}, err
	}
	local, err := c.local.Aggregates(q, align)
	if err != nil {
		return Result{}, err
	}
	parts := [][]Aggregate{local}
	answers, missing := fanOut(c, peers, func(ctx context.Context, p Peer) ([]Aggregate, error) {
		got, err := p.Aggregates(ctx, []PeerQuery{{Query: q, Align: align}})
		if err != nil {
			return nil, err
		}
		if len(got) != 1 {
			return nil, errBadAnswer
		}
		return got[0], nil
	})
	parts = append(parts, answers...)
	dps, err := c.local.MergeAggregates(q, parts)
	return Result{Datapoints: dps, Missing: missing}, err
}

// List is Store.List over the whole cluster: the union of every answering node's matching series, in the same
// order and with the same page tokens as one store's.
func (c *Cluster) List(namespace, name string, filters []DimensionFilter, token string) ([]MetricID, string, error) {
	peers := c.peers()
	if len(peers) == 0 {
		return c.local.List(namespace, name, filters, token)
	}
	after, err := parseListToken(token)
	if err != nil {
		return nil, "", err
	}
	lists, _ := fanOut(c, peers, func(ctx context.Context, p Peer) ([]MetricID, error) {
		return p.Matching(ctx, namespace, name, filters)
	})
	byKey := map[string]MetricID{}
	for _, l := range append(lists, c.local.Matching(namespace, name, filters)) {
		for _, id := range l {
			id = NewMetricID(id.Namespace, id.Name, id.Dimensions...)
			if k := seriesKey(&id); after == "" || k > after {
				byKey[k] = id
			}
		}
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	next := ""
	if len(keys) > ListPageSize {
		keys = keys[:ListPageSize]
		next = base64.RawURLEncoding.EncodeToString([]byte(keys[len(keys)-1]))
	}
	out := make([]MetricID, len(keys))
	for i, k := range keys {
		out[i] = byKey[k]
	}
	return out, next, nil
}

type answerError string

func (e answerError) Error() string { return string(e) }

const errBadAnswer = answerError("metrics: a peer's answer does not match its question")

// fanOut asks every peer not cooling down, concurrently, and waits at most c.timeout; it returns the answers it
// got and the names of the peers it has none from.
func fanOut[T any](c *Cluster, peers []Peer, ask func(context.Context, Peer) (T, error)) ([]T, []string) {
	type answer struct {
		peer string
		v    T
		err  error
	}
	now := c.now()
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	ch := make(chan answer, len(peers))
	var missing []string
	asked := 0
	c.mu.Lock()
	for _, p := range peers {
		if until, ok := c.down[p.Name()]; ok && now.Before(until) {
			missing = append(missing, p.Name())
			continue
		}
		asked++
		go func() {
			v, err := ask(ctx, p)
			ch <- answer{p.Name(), v, err}
		}()
	}
	c.mu.Unlock()
	var out []T
	for range asked {
		a := <-ch // every ask returns by the deadline: ctx bounds it
		c.mu.Lock()
		_, wasDown := c.down[a.peer]
		if a.err != nil {
			c.down[a.peer] = now.Add(c.cooldown)
		} else {
			delete(c.down, a.peer)
		}
		c.mu.Unlock()
		if a.err != nil {
			missing = append(missing, a.peer)
			if !wasDown {
				c.log.Warn("metrics peer did not answer; cluster-wide answers are partial without it",
					"peer", a.peer, "err", a.err, "skipped_for", c.cooldown)
			}
			continue
		}
		if wasDown {
			c.log.Info("metrics peer answers again", "peer", a.peer)
		}
		out = append(out, a.v)
	}
	slices.Sort(missing)
	return out, missing
}

// Matching returns every series that matches as List does (namespace and name, empty = any, and every filter)
// and has data within retention, sorted as List sorts them, without paging: what a peer contributes to a cluster's
// List.
func (s *Store) Matching(namespace, name string, filters []DimensionFilter) []MetricID {
	var out []MetricID
	for token := ""; ; {
		page, next, _ := s.List(namespace, name, filters, token) // its own tokens are always valid
		out = append(out, page...)
		if next == "" {
			return out
		}
		token = next
	}
}

func parseListToken(token string) (string, error) {
	if token == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) == 0 {
		return "", invalidValue("The value for parameter NextToken is not valid.")
	}
	return string(b), nil
}
