package logstore

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Cursor is where a paged read of a group's matching events resumes: for each node, how many of the events the
// query matches on that node (in the order they were appended there) were returned already. A missing node counts
// 0, so nodes that join later are read from their start. A Store read alone keys itself "". The zero Cursor is the
// start.
type Cursor map[string]int64

// Reader is what the CloudWatch Logs API reads: one node's Store, or a Cluster of them.
type Reader interface {
	// Group describes one log group; ok is false when no node holds events of it.
	Group(logGroup string) (info GroupInfo, ok bool, err error)
	// Groups lists the groups that hold events, sorted by name.
	Groups() ([]GroupInfo, error)
	// Streams lists the streams of a group, newest last event first.
	Streams(logGroup string) ([]StreamInfo, error)
	// Page returns at most q.Limit (0 = 10000) of the events q matches, after at, sorted by time, and the cursor of
	// the next page (nil when there is none). q.After and q.FileOrder are ignored.
	Page(logGroup string, q Query, at Cursor) ([]Event, Cursor, error)
	// Before returns, for each node, up to n of the events q matches just before at (those a page starting at at
	// follows), in the order they were appended.
	Before(logGroup string, q Query, at Cursor, n int) ([]Event, error)
}

var (
	_ Reader = (*Store)(nil)
	_ Reader = (*Cluster)(nil)
)

// Page is Reader.Page over this store alone (cursor key "").
func (s *Store) Page(logGroup string, q Query, at Cursor) ([]Event, Cursor, error) {
	q.After, q.FileOrder = at[""], false
	events, next, err := s.Find(logGroup, q)
	if err != nil || next == 0 {
		return events, nil, err
	}
	return events, Cursor{"": next}, nil
}

// Before is Reader.Before over this store alone.
func (s *Store) Before(logGroup string, q Query, at Cursor, n int) ([]Event, error) {
	end := at[""]
	q.After, q.Limit, q.FileOrder = max(end-int64(n), 0), int(min(end, int64(n))), true
	if q.Limit == 0 {
		return nil, nil
	}
	events, _, err := s.Find(logGroup, q)
	return events, err
}

// Peer is another node's log store as a Cluster reaches it (in Sluice, an adapter over the cluster's signed
// internal calls, in internal/server). Calls are bounded by ctx.
type Peer interface {
	// Name identifies the node: its key in a Cursor, and in logs.
	Name() string
	// Find is the node's Store.Find.
	Find(ctx context.Context, logGroup string, q Query) ([]Event, int64, error)
	// Streams is the node's Store.Streams.
	Streams(ctx context.Context, logGroup string) ([]StreamInfo, error)
	// Groups is the node's Store.Groups, or only the group named, if any.
	Groups(ctx context.Context, only string) ([]GroupInfo, error)
}

// Cluster reads the logs of every live node as one store. Each node keeps the logs of the invocations it ran
// (stream names are per environment, so no two nodes write the same stream); a read asks this node's Store and,
// concurrently, every peer, and merges: groups and streams by name, events by time. Paging is exact: a Cursor
// holds each node's own offset, and a page is made by merging the nodes' next events (each node's in the order
// they were appended) by timestamp and taking at most the limit, so each node's share of a page is a prefix of
// what it holds after its offset and no event is skipped or repeated.
//
// A peer that does not answer within Timeout is left out of the answer (its offset in the cursor stays where it
// was, so a later page can still bring its events), logged, and skipped for Cooldown. With no peers, every read
// is the local Store's with the local node's name as cursor key.
type Cluster struct {
	local    *Store
	self     string
	peers    func() []Peer
	timeout  time.Duration
	cooldown time.Duration
	now      func() time.Time
	log      *slog.Logger

	mu   sync.Mutex
	down map[string]time.Time
}

// ClusterOptions configures a Cluster. Local and Self are required.
type ClusterOptions struct {
	Local *Store
	// Self is this node's name, its key in cursors.
	Self string
	// Peers lists the live peers now; nil means none.
	Peers func() []Peer
	// Timeout bounds the wait for the peers' answers to one read; zero means 500 ms.
	Timeout time.Duration
	// Cooldown is how long a peer that failed to answer is skipped; zero means 5 s.
	Cooldown time.Duration
	// Now is the clock of the cool-downs; nil means time.Now.
	Now func() time.Time
	// Logger receives the peers that fail to answer; nil means slog.Default().
	Logger *slog.Logger
}

// NewCluster returns a reader over o.Local and o.Peers.
func NewCluster(o ClusterOptions) *Cluster {
	c := &Cluster{local: o.Local, self: o.Self, peers: o.Peers, timeout: o.Timeout, cooldown: o.Cooldown, now: o.Now,
		log: o.Logger, down: map[string]time.Time{}}
	if c.peers == nil {
		c.peers = func() []Peer { return nil }
	}
	if c.timeout <= 0 {
		c.timeout = 500 * time.Millisecond
	}
	if c.cooldown <= 0 {
		c.cooldown = 5 * time.Second
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	return c
}

// nodeAnswer is one node's answer to a read, or its failure.
type nodeAnswer[T any] struct {
	node string
	v    T
	err  error
}

// fanOut runs local and asks every peer not cooling down, concurrently; it waits at most c.timeout for the peers.
// Answers come back ordered by node name; failed peers are left out (and logged once as they fail).
func fanOut[T any](c *Cluster, local func() (T, error), ask func(context.Context, Peer) (T, error)) ([]nodeAnswer[T], error) {
	now := c.now()
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	peers := c.peers()
	ch := make(chan nodeAnswer[T], len(peers))
	asked := 0
	c.mu.Lock()
	for _, p := range peers {
		if until, ok := c.down[p.Name()]; ok && now.Before(until) {
			continue
		}
		asked++
		go func() {
			v, err := ask(ctx, p)
			ch <- nodeAnswer[T]{p.Name(), v, err}
		}()
	}
	c.mu.Unlock()
	v, err := local()
	if err != nil {
		return nil, err
	}
	out := []nodeAnswer[T]{{node: c.self, v: v}}
	for range asked {
		a := <-ch
		c.mu.Lock()
		_, wasDown := c.down[a.node]
		if a.err != nil {
			c.down[a.node] = now.Add(c.cooldown)
		} else {
			delete(c.down, a.node)
		}
		c.mu.Unlock()
		if a.err != nil {
			if !wasDown {
				c.log.Warn("logs peer did not answer; cluster-wide reads are partial without it", "peer", a.node,
					"err", a.err, "skipped_for", c.cooldown)
			}
			continue
		}
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b nodeAnswer[T]) int { return strings.Compare(a.node, b.node) })
	return out, nil
}

// Groups lists the groups any node holds events of: the oldest first event, the stored bytes of every node.
func (c *Cluster) Groups() ([]GroupInfo, error) { return c.groups("") }

// Group describes one group over every node.
func (c *Cluster) Group(logGroup string) (GroupInfo, bool, error) {
	gs, err := c.groups(logGroup)
	if err != nil || len(gs) == 0 {
		return GroupInfo{Name: logGroup}, false, err
	}
	return gs[0], true, nil
}

func (c *Cluster) groups(only string) ([]GroupInfo, error) {
	answers, err := fanOut(c, func() ([]GroupInfo, error) {
		if only == "" {
			return c.local.Groups()
		}
		g, ok, err := c.local.Group(only)
		if !ok {
			return nil, err
		}
		return []GroupInfo{g}, err
	}, func(ctx context.Context, p Peer) ([]GroupInfo, error) { return p.Groups(ctx, only) })
	if err != nil {
		return nil, err
	}
	byName := map[string]*GroupInfo{}
	for _, a := range answers {
		for _, g := range a.v {
			if only != "" && g.Name != only {
				continue
			}
			m, ok := byName[g.Name]
			if !ok {
				byName[g.Name] = &g
				continue
			}
			m.FirstEvent = min(m.FirstEvent, g.FirstEvent)
			m.StoredBytes += g.StoredBytes
		}
	}
	out := make([]GroupInfo, 0, len(byName))
	for _, name := range slices.Sorted(maps.Keys(byName)) {
		out = append(out, *byName[name])
	}
	return out, nil
}

// Streams lists the streams of a group on every node, newest last event first.
func (c *Cluster) Streams(logGroup string) ([]StreamInfo, error) {
	answers, err := fanOut(c, func() ([]StreamInfo, error) { return c.local.Streams(logGroup) },
		func(ctx context.Context, p Peer) ([]StreamInfo, error) { return p.Streams(ctx, logGroup) })
	if err != nil {
		return nil, err
	}
	byName := map[string]*StreamInfo{}
	for _, a := range answers {
		for _, s := range a.v {
			m, ok := byName[s.Name]
			if !ok {
				byName[s.Name] = &s
				continue
			}
			m.FirstEvent = min(m.FirstEvent, s.FirstEvent)
			m.LastEvent = max(m.LastEvent, s.LastEvent)
			m.StoredBytes += s.StoredBytes
		}
	}
	out := make([]StreamInfo, 0, len(byName))
	for _, s := range byName {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].LastEvent != out[j].LastEvent {
			return out[i].LastEvent > out[j].LastEvent
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

type findAnswer struct {
	events []Event
	next   int64
}

// Page merges the nodes' next events after at by time (see Cluster).
func (c *Cluster) Page(logGroup string, q Query, at Cursor) ([]Event, Cursor, error) {
	if q.Limit <= 0 || q.Limit > 10000 {
		q.Limit = 10000
	}
	q.FileOrder = true
	find := func(node string) Query { nq := q; nq.After = at[node]; return nq }
	answers, err := fanOut(c, func() (findAnswer, error) {
		events, next, err := c.local.Find(logGroup, find(c.self))
		return findAnswer{events, next}, err
	}, func(ctx context.Context, p Peer) (findAnswer, error) {
		events, next, err := p.Find(ctx, logGroup, find(p.Name()))
		return findAnswer{events, next}, err
	})
	if err != nil {
		return nil, nil, err
	}
	// Merge the nodes' pages as queues, each in its append order, always taking the earliest head (the first node
	// by name on a tie), so that what is taken from each node is a prefix of its page.
	taken := make([]int, len(answers))
	var out []Event
	for len(out) < q.Limit {
		best := -1
		for i, a := range answers {
			if taken[i] < len(a.v.events) && (best < 0 || a.v.events[taken[i]].Timestamp < answers[best].v.events[taken[best]].Timestamp) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		out = append(out, answers[best].v.events[taken[best]])
		taken[best]++
	}
	next := Cursor{}
	maps.Copy(next, at)
	more := false
	for i, a := range answers {
		k := a.node
		next[k] = at[k] + int64(taken[i])
		more = more || taken[i] < len(a.v.events) || a.v.next != 0
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Timestamp < out[j].Timestamp })
	if !more {
		return out, nil, nil
	}
	return out, next, nil
}

// Before gathers, from every node, up to n of the events q matches just before its offset in at.
func (c *Cluster) Before(logGroup string, q Query, at Cursor, n int) ([]Event, error) {
	window := func(node string) (Query, bool) {
		end := at[node]
		nq := q
		nq.After, nq.Limit, nq.FileOrder = max(end-int64(n), 0), int(min(end, int64(n))), true
		return nq, nq.Limit > 0
	}
	answers, err := fanOut(c, func() ([]Event, error) {
		wq, ok := window(c.self)
		if !ok {
			return nil, nil
		}
		events, _, err := c.local.Find(logGroup, wq)
		return events, err
	}, func(ctx context.Context, p Peer) ([]Event, error) {
		wq, ok := window(p.Name())
		if !ok {
			return nil, nil
		}
		events, _, err := p.Find(ctx, logGroup, wq)
		return events, err
	})
	if err != nil {
		return nil, err
	}
	var out []Event
	for _, a := range answers {
		out = append(out, a.v...)
	}
	return out, nil
}
