package invoke

import (
	"context"
	"encoding/json"
	"errors"
	"hash/fnv"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/sluice-dev/sluice/internal/controlplane"
	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/lambda"
	"github.com/sluice-dev/sluice/internal/store"
)

// Source is what the catalog reads: the control plane. The catalog lists the functions, then follows their
// changes from the revision it listed at, and lists again when it falls behind (a watch-fed cache).
type Source interface {
	Snapshot(ctx context.Context, name string) (controlplane.Snapshot, bool, error)
	FunctionNames(ctx context.Context) (names []string, rev int64, err error)
	WatchFunctions(ctx context.Context, from int64) (<-chan controlplane.FunctionChanges, error)
	// CodeDir is where the package is extracted on this node, if it is; it is local and cheap.
	CodeDir(codeSha256 string) (string, bool)
	// EnsureCode extracts the package on this node if it is not yet, fetching it from a peer in a cluster (a
	// function another node settled), and returns its directory. Only cold starts and the catalog's background
	// prefetch call it, never a warm invocation.
	EnsureCode(ctx context.Context, codeSha256 string) (string, error)
}

// target is one runnable configuration: $LATEST (as in effect) or a published version.
type target struct {
	function string
	version  string // "$LATEST" or "N"
	config   lambda.Config
	codeDir  string // "" when the package was not extracted on this node when the target was made: launch gets it
	status   lambda.Status
	key      poolKey
}

// poolKey names the environments that may serve a target: same function, version and effective configuration.
// A $LATEST code or configuration change yields a new key, hence a new pool; the old one drains.
type poolKey struct {
	function, version string
	generation        uint64
}

type aliasEntry struct {
	revision string
	split    *split
}

// functionView is the invoke path's read-only picture of one function, replaced whole on every change.
type functionView struct {
	name     string
	status   lambda.Status
	latest   *target
	versions map[string]*target
	aliases  map[string]*aliasEntry
	reserved *int
	// eventInvoke holds the asynchronous invocation configs by qualifier ("$LATEST" for the function).
	eventInvoke map[string]controlplane.EventInvokeConfig
	provisioned []controlplane.ProvisionedConfig
	// urls holds the function's URLs by qualifier ("" for $LATEST's).
	urls map[string]controlplane.URLConfig
	tags map[string]string
}

// catalog keeps a functionView per function in memory, so the invoke path never reads the store. It is fed by the
// Source's watch (follow) and reports how far it got to the process's store.Progress, which is what API calls
// wait on for read-your-writes.
type catalog struct {
	src     Source
	acct    lambda.Account
	applied *store.Applied
	log     *slog.Logger

	mu       sync.RWMutex
	fns      map[string]*functionView
	reserved int               // sum of all reservations, kept current by refresh
	urls     map[string]string // function URL ID → function name, kept current by refresh

	refreshMu sync.Mutex // refreshes are serialised so a newer read is never overwritten by an older one

	// Packages being fetched in the background (prefetch), by CodeSha256, and the goroutines doing it.
	fetchMu  sync.Mutex
	fetching map[string]bool
	fetches  sync.WaitGroup
	slots    chan struct{} // bounds concurrent prefetches
}

// prefetchSlots is how many packages the catalog brings to this node at once.
const prefetchSlots = 2

func newCatalog(src Source, acct lambda.Account, progress *store.Progress, log *slog.Logger) *catalog {
	return &catalog{src: src, acct: acct, applied: progress.Register("invoke catalog"), log: log, fns: map[string]*functionView{}, urls: map[string]string{},
		fetching: map[string]bool{}, slots: make(chan struct{}, prefetchSlots)}
}

// load reads every function (at startup, and again when the watch fell behind), drops the ones that are gone, and
// returns the revision the list was read at and every function it refreshed or dropped.
func (c *catalog) load(ctx context.Context) (rev int64, changed []string, err error) {
	names, rev, err := c.src.FunctionNames(ctx)
	if err != nil {
		return 0, nil, err
	}
	listed := map[string]bool{}
	for _, n := range names {
		listed[n] = true
	}
	for _, n := range c.names() {
		if !listed[n] {
			names = append(names, n) // refresh finds it gone and drops it
		}
	}
	for _, n := range names {
		if err := c.refresh(ctx, n); err != nil {
			return 0, nil, err
		}
	}
	return rev, names, nil
}

// follow applies the Source's changes from revision rev + 1 until ctx ends, calling changed after each function
// it refreshed, and advancing its Progress past every step. When the watch falls behind or fails it lists again.
func (c *catalog) follow(ctx context.Context, rev int64, changed func(name string)) {
	defer c.fetches.Wait()
	for retry := time.Duration(0); ctx.Err() == nil; {
		steps, err := c.src.WatchFunctions(ctx, rev+1)
		if err == nil {
			rev, err = c.apply(ctx, steps, rev, changed)
			retry = 0
		}
		if ctx.Err() != nil {
			return
		}
		if !errors.Is(err, store.ErrCompacted) {
			c.log.Warn("function catalog: watch ended; listing again", "err", err)
			retry = min(max(2*retry, 10*time.Millisecond), time.Second)
			select {
			case <-time.After(retry):
			case <-ctx.Done():
				return
			}
		}
		listed, names, err := c.load(ctx)
		if err != nil {
			continue // the next round lists again
		}
		for _, n := range names {
			changed(n)
		}
		rev = listed
		c.applied.Advance(rev)
	}
}

// apply refreshes the functions each step names, until the steps end; it returns the last revision applied and
// why the steps ended (nil when ctx ended).
func (c *catalog) apply(ctx context.Context, steps <-chan controlplane.FunctionChanges, rev int64, changed func(string)) (int64, error) {
	for step := range steps {
		if step.Err != nil {
			return rev, step.Err
		}
		for _, n := range step.Names {
			if err := c.refresh(ctx, n); err != nil {
				return rev, err
			}
			changed(n)
		}
		rev = step.Revision
		c.applied.Advance(rev)
	}
	return rev, nil
}

// refresh re-reads one function after a change (or drops it, when it is gone).
func (c *catalog) refresh(ctx context.Context, name string) error {
	c.refreshMu.Lock()
	defer c.refreshMu.Unlock()
	snap, ok, err := c.src.Snapshot(ctx, name)
	if err != nil {
		return err
	}
	if !ok {
		c.mu.Lock()
		c.reserved -= reservationOf(c.fns[name])
		c.indexURLs(c.fns[name], nil)
		delete(c.fns, name)
		c.mu.Unlock()
		return nil
	}
	c.mu.RLock()
	old := c.fns[name]
	c.mu.RUnlock()

	f := snap.Function
	v := &functionView{name: name, status: f.Status, reserved: f.ReservedConcurrency,
		versions: map[string]*target{}, aliases: map[string]*aliasEntry{}, eventInvoke: snap.EventInvoke,
		provisioned: snap.Provisioned, urls: snap.URLs, tags: f.Tags}
	v.latest = c.newTarget(name, lambda.Latest, snap.Effective, f.Status)
	for _, ver := range snap.Versions {
		n := strconv.Itoa(ver.Number)
		v.versions[n] = c.newTarget(name, n, ver.Config, ver.Status)
	}
	for _, a := range snap.Aliases {
		// Keep the split's counter while the alias is unchanged, so its exposure stays exact across refreshes.
		if old != nil {
			if prev, ok := old.aliases[a.Name]; ok && prev.revision == a.RevisionID {
				v.aliases[a.Name] = prev
				continue
			}
		}
		s := &split{primary: a.FunctionVersion}
		if extra, w, ok := a.AdditionalVersion(); ok {
			s.extra, s.weight = extra, w
		}
		var prev *split
		if old != nil && old.aliases[a.Name] != nil {
			prev = old.aliases[a.Name].split
		}
		s.inherit(prev)
		v.aliases[a.Name] = &aliasEntry{revision: a.RevisionID, split: s}
	}
	c.mu.Lock()
	c.reserved += reservationOf(v) - reservationOf(c.fns[name])
	c.indexURLs(c.fns[name], v)
	c.fns[name] = v
	c.mu.Unlock()
	c.prefetchCode(ctx, v)
	return nil
}

// prefetchCode brings to this node, in the background, the packages a function's invocations will need that are
// not extracted here (in a cluster, a function created or updated through another node): $LATEST's and those of
// the versions its aliases route to, once Active. Other versions get theirs at their first cold start. A failed
// prefetch is only logged: the launch that needs the package tries again.
func (c *catalog) prefetchCode(ctx context.Context, v *functionView) {
	want := func(t *target, st lambda.Status) {
		if t != nil && t.codeDir == "" && st.State == lambda.StateActive && t.config.CodeSha256 != "" {
			c.prefetch(ctx, t.function, t.config.CodeSha256)
		}
	}
	want(v.latest, v.status)
	for _, a := range v.aliases {
		for _, ver := range []string{a.split.primary, a.split.extra} {
			if t := v.versions[ver]; t != nil {
				want(t, t.status)
			}
		}
	}
}

func (c *catalog) prefetch(ctx context.Context, function, sha string) {
	c.fetchMu.Lock()
	defer c.fetchMu.Unlock()
	if c.fetching[sha] || ctx.Err() != nil {
		return
	}
	c.fetching[sha] = true
	c.fetches.Go(func() {
		defer func() {
			c.fetchMu.Lock()
			delete(c.fetching, sha)
			c.fetchMu.Unlock()
		}()
		select {
		case c.slots <- struct{}{}:
			defer func() { <-c.slots }()
		case <-ctx.Done():
			return
		}
		if _, err := c.src.EnsureCode(ctx, sha); err != nil && ctx.Err() == nil {
			c.log.Warn("bring function code to this node", "function", function, "codeSha256", sha, "err", err)
		}
	})
}

func reservationOf(f *functionView) int {
	if f == nil || f.reserved == nil {
		return 0
	}
	return *f.reserved
}

func (c *catalog) newTarget(name, version string, cfg lambda.Config, status lambda.Status) *target {
	t := &target{function: name, version: version, config: cfg, status: status}
	if dir, ok := c.src.CodeDir(cfg.CodeSha256); ok {
		t.codeDir = dir
	}
	b, _ := json.Marshal(cfg)
	h := fnv.New64a()
	h.Write(b)
	t.key = poolKey{function: name, version: version, generation: h.Sum64()}
	return t
}

// names lists the functions in the catalog.
// indexURLs replaces a function's URL IDs in the index (c.mu held).
func (c *catalog) indexURLs(old, cur *functionView) {
	if old != nil {
		for _, u := range old.urls {
			if c.urls[u.ID] == old.name {
				delete(c.urls, u.ID)
			}
		}
	}
	if cur != nil {
		for _, u := range cur.urls {
			c.urls[u.ID] = cur.name
		}
	}
}

// functionURL finds the function, URL configuration and function tags a URL ID names.
func (c *catalog) functionURL(id string) (function string, cfg controlplane.URLConfig, tags map[string]string, ok bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	name, ok := c.urls[id]
	if !ok {
		return "", cfg, nil, false
	}
	fn := c.fns[name]
	for _, u := range fn.urls {
		if u.ID == id {
			return name, u, fn.tags, true
		}
	}
	return "", cfg, nil, false
}

func (c *catalog) names() []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]string, 0, len(c.fns))
	for n := range c.fns {
		out = append(out, n)
	}
	return out
}

func (c *catalog) get(name string) *functionView {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.fns[name]
}

// reservedTotal is the sum of all reservations (for the unreserved pool's size).
func (c *catalog) reservedTotal() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.reserved
}

// resolved is where one invocation goes.
type resolved struct {
	fn         *functionView
	target     *target
	invokedARN string // as the caller named it: unqualified, version or alias ARN
	resource   string // the Resource metric dimension ("fn:qualifier"), "" for unqualified invocations
	viaAlias   bool
}

// resolve maps a reference to the target that serves this invocation, picking a version for aliases (for a sticky
// key, the version that key is assigned to).
func (c *catalog) resolve(ref lambda.Ref, stickyKey string) (resolved, error) {
	fn := c.get(ref.Name)
	if fn == nil { // AWS names what was invoked: an unqualified invocation is one of $LATEST
		q := ref.Qualifier
		if q == "" {
			q = lambda.Latest
		}
		return resolved{}, fault.NotFound("Function not found: %s", c.acct.QualifiedARN(ref.Name, q))
	}
	r := resolved{fn: fn, invokedARN: c.acct.QualifiedARN(ref.Name, ref.Qualifier)}
	if ref.Qualifier != "" {
		r.resource = ref.Name + ":" + ref.Qualifier
	}
	switch q := ref.Qualifier; {
	case q == "" || q == lambda.Latest:
		r.target = fn.latest
	case lambda.IsVersionNumber(q):
		r.target = fn.versions[strconv.Itoa(atoiOrZero(q))]
	default:
		a, ok := fn.aliases[q]
		if !ok {
			return resolved{}, fault.NotFound("Function not found: %s", c.acct.QualifiedARN(ref.Name, q))
		}
		r.viaAlias = true
		v := a.split.pick()
		if stickyKey != "" {
			v = a.split.pickFor(stickyKey)
		}
		if v == lambda.Latest {
			r.target = fn.latest
		} else {
			r.target = fn.versions[v]
		}
	}
	if r.target == nil {
		return resolved{}, fault.NotFound("Function not found: %s", r.invokedARN)
	}
	return r, nil
}

func atoiOrZero(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
