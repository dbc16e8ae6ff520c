package metrics

import (
	"context"
	"hash/maphash"
	"log/slog"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/DataDog/sketches-go/ddsketch"
	"github.com/DataDog/sketches-go/ddsketch/mapping"
	skstore "github.com/DataDog/sketches-go/ddsketch/store"

	"github.com/sluice-dev/sluice/internal/store"
)

const (
	// DefaultRetention is how long samples are kept when Options.Retention is zero (CloudWatch keeps 1-second data
	// for 3 hours too).
	DefaultRetention = 3 * time.Hour
	// RelativeAccuracy is the relative accuracy of every percentile the store returns: for a percentile whose exact
	// value (see the package documentation for the rank definition) is v, the returned value lies in
	// [v·(1−0.01), v·(1+0.01)] (for negative v, mirrored).
	RelativeAccuracy = 0.01
	// ListPageSize is the largest page List returns (ListMetrics' page size).
	ListPageSize = 500
	// PruneInterval is how often Run calls Prune.
	PruneInterval = time.Minute

	// maxFuture bounds how far ahead of the clock a sample may be stamped (PutMetricData accepts two hours).
	maxFuture = 2 * time.Hour
	numShards = 64
)

// Options configures a Store. The zero value is ready to use.
type Options struct {
	// Retention is how long a sample stays queryable; zero means DefaultRetention. It is rounded up to whole
	// seconds.
	Retention time.Duration
	// Now is the clock; nil means time.Now. Tests pass a fake clock.
	Now func() time.Time

	// Durable, when set, is where the store persists the 1-minute aggregates of its series as each minute closes
	// (Flush), so that periods of whole minutes outlive the process; nil keeps everything in memory only.
	Durable store.Store
	// Node names this node's records among those of the processes sharing Durable ("" means "local"): each node
	// reads and writes only its own, a cluster read merges the nodes' answers (Cluster).
	Node string
	// MinuteRetention is how long persisted minutes are kept; zero means DefaultMinuteRetention.
	MinuteRetention time.Duration
	// WriteBatch bounds the records of one store transaction of Flush and Expire; zero means DefaultWriteBatch.
	WriteBatch int
	// Logger receives unreadable persisted records; nil means slog.Default().
	Logger *slog.Logger
}

// Store holds every series in memory. It is safe for concurrent use.
type Store struct {
	retention int64 // seconds
	now       func() time.Time
	seed      maphash.Seed
	mapping   mapping.IndexMapping
	sketches  sync.Pool // *ddsketch.DDSketch for buckets (paginated stores: small for few values), cleared
	scratch   sync.Pool // *ddsketch.DDSketch for merging at query time (dense stores: O(1) adds), cleared
	units     unitTable
	seq       atomic.Uint64 // series creation sequence (Version)
	shards    [numShards]shard
	keep      int64    // seconds of 1-second buckets Prune keeps: the retention, and keepSlack more with an archive
	arch      *archive // nil: memory only
}

type shard struct {
	mu sync.RWMutex
	m  map[uint64]*series // hash → collision chain
	_  [32]byte           // keeps two shards' locks off one cache line
}

// series is one metric's buckets, sorted by (sec, unit). The lock guards everything below it.
type series struct {
	id   MetricID // private copy, dimensions sorted
	key  string   // canonical sort key (List order and page tokens)
	hash uint64
	seq  uint64
	next *series // hash collision chain, guarded by the shard lock
	last atomic.Int64

	mu            sync.Mutex
	dead          bool // removed from its shard by Prune: Record must look it up again
	writes        uint64
	lastUnit      string // the unit of the previous sample and its index, to skip the unit table
	lastUnitIndex uint16
	buckets       []bucket
	// dirtyFrom is the earliest second written since its minute was last persisted (math.MaxInt64: none).
	dirtyFrom int64
	// changes logs, for ChangedSince, each write that went to another second than the write before it: the
	// write's sequence number (writes after it) and its second. changeN counts every entry ever logged.
	changes [changeLogLen]change
	changeN int
	curSec  int64
}

// changeLogLen bounds the change log of a series: in the steady state a series switches seconds once a second, so
// this covers about a minute, far more than the one second between two alarm evaluations.
const changeLogLen = 64

type change struct {
	seq uint64
	sec int64
}

// bucket aggregates the samples of one unit in one second. Percentiles: while sk is nil and noPct is false,
// every value recorded in the bucket equals min (== max), which is exact and costs no sketch; the sketch is made
// the moment a second distinct value arrives. noPct marks a bucket that holds a statistic set whose values are
// unknown (Minimum != Maximum): CloudWatch does not compute percentiles over such data either.
type bucket struct {
	sec                  int64
	count, sum, min, max float64
	sk                   *ddsketch.DDSketch
	unit                 uint16
	noPct                bool
}

// NewStore returns an empty store.
func NewStore(o Options) *Store {
	ret := o.Retention
	if ret <= 0 {
		ret = DefaultRetention
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	m, err := mapping.NewCubicallyInterpolatedMapping(RelativeAccuracy)
	if err != nil {
		panic("metrics: " + err.Error()) // a constant, valid accuracy
	}
	s := &Store{
		retention: int64((ret + time.Second - 1) / time.Second),
		now:       now,
		seed:      maphash.MakeSeed(),
		mapping:   m,
	}
	s.sketches.New = func() any {
		return ddsketch.NewDDSketch(s.mapping, skstore.NewBufferedPaginatedStore(), skstore.NewBufferedPaginatedStore())
	}
	s.scratch.New = func() any {
		return ddsketch.NewDDSketch(s.mapping, skstore.NewBufferedPaginatedStore(), skstore.NewBufferedPaginatedStore())
	}
	s.keep = s.retention
	if o.Durable != nil {
		s.arch = newArchive(o, now())
		s.keep += int64(keepSlack / time.Second)
	}
	s.units.init()
	for i := range s.shards {
		s.shards[i].m = make(map[uint64]*series)
	}
	return s
}

// Retention is how long samples are kept.
func (s *Store) Retention() time.Duration { return time.Duration(s.retention) * time.Second }

// NewMetricID returns the identity of a series with its dimensions sorted by name (then value). The dimensions
// are copied.
func NewMetricID(namespace, name string, dims ...Dimension) MetricID {
	id := MetricID{Namespace: namespace, Name: name}
	if len(dims) > 0 {
		id.Dimensions = slices.Clone(dims)
		sortDims(id.Dimensions)
	}
	return id
}

func sortDims(d []Dimension) {
	slices.SortFunc(d, func(a, b Dimension) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.Value, b.Value)
	})
}

func dimsSorted(d []Dimension) bool {
	for i := 1; i < len(d); i++ {
		if d[i-1].Name > d[i].Name || (d[i-1].Name == d[i].Name && d[i-1].Value > d[i].Value) {
			return false
		}
	}
	return true
}

// normalize returns id with sorted dimensions, copying them only when they are not sorted already.
func normalize(id MetricID) MetricID {
	if !dimsSorted(id.Dimensions) {
		id.Dimensions = slices.Clone(id.Dimensions)
		sortDims(id.Dimensions)
	}
	return id
}

func sameID(a *MetricID, b *MetricID) bool {
	if a.Namespace != b.Namespace || a.Name != b.Name || len(a.Dimensions) != len(b.Dimensions) {
		return false
	}
	for i := range a.Dimensions {
		if a.Dimensions[i] != b.Dimensions[i] {
			return false
		}
	}
	return true
}

func (s *Store) hash(id *MetricID) uint64 {
	// One hash over a stack copy of the identity is cheaper than hashing field by field.
	var buf [320]byte
	b := buf[:0]
	b = append(b, id.Namespace...)
	b = append(b, 0)
	b = append(b, id.Name...)
	for i := range id.Dimensions {
		b = append(b, 0)
		b = append(b, id.Dimensions[i].Name...)
		b = append(b, 1)
		b = append(b, id.Dimensions[i].Value...)
	}
	if len(b) <= len(buf) {
		return maphash.Bytes(s.seed, b)
	}
	var h maphash.Hash // rare: long identities spilled to the heap in append above
	h.SetSeed(s.seed)
	h.Write(b)
	return h.Sum64()
}

// seriesKey is the canonical order of series: namespace, name, then dimensions.
func seriesKey(id *MetricID) string {
	var b strings.Builder
	b.WriteString(id.Namespace)
	b.WriteByte(0)
	b.WriteString(id.Name)
	for _, d := range id.Dimensions {
		b.WriteByte(0)
		b.WriteString(d.Name)
		b.WriteByte(1)
		b.WriteString(d.Value)
	}
	return b.String()
}

func (s *Store) shardOf(h uint64) *shard { return &s.shards[h>>58] } // numShards == 64

func (s *Store) lookup(h uint64, id *MetricID) *series {
	sh := s.shardOf(h)
	sh.mu.RLock()
	for se := sh.m[h]; se != nil; se = se.next {
		if sameID(&se.id, id) {
			sh.mu.RUnlock()
			return se
		}
	}
	sh.mu.RUnlock()
	return nil
}

func (s *Store) lookupOrCreate(h uint64, id *MetricID) *series {
	if se := s.lookup(h, id); se != nil {
		return se
	}
	sh := s.shardOf(h)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	head := sh.m[h]
	for se := head; se != nil; se = se.next {
		if sameID(&se.id, id) {
			return se
		}
	}
	own := MetricID{Namespace: id.Namespace, Name: id.Name, Dimensions: slices.Clone(id.Dimensions)}
	se := &series{id: own, key: seriesKey(&own), hash: h, seq: s.seq.Add(1), next: head, dirtyFrom: math.MaxInt64}
	se.last.Store(math.MinInt64)
	sh.m[h] = se
	return se
}

// cutoff is the first second still within retention.
func (s *Store) cutoff(now time.Time) int64 { return now.Unix() - s.retention }

// Record adds a sample to the series id, creating the series on first use. It is the hot path: safe for
// concurrent use, lock-striped (a shard read lock to find the series, then the series' own mutex), and free of
// allocations in the steady state (a new second of a series appends to a slice whose capacity Prune keeps, and a
// bucket needs a sketch from the pool only once it has seen two distinct values).
//
// A zero Sample.At means now; a zero (or negative) Count means 1; an empty Unit means "None". Samples stamped
// before the retention window or more than two hours ahead of the clock, non-finite values and statistic sets
// with a non-positive or non-finite SampleCount are dropped silently: validation with CloudWatch's errors is the
// API edge's job.
func (s *Store) Record(id MetricID, sm Sample) {
	n := sm.Count
	if !(n > 0) || math.IsInf(n, 0) {
		n = 1
	}
	if st := sm.Stats; st != nil {
		if !(st.SampleCount > 0) || !finite(st.SampleCount) || !finite(st.Sum) || !finite(st.Minimum) || !finite(st.Maximum) {
			return
		}
	} else if !finite(sm.Value) {
		return
	}
	at, checked := sm.At, false
	if at.IsZero() {
		at, checked = s.now(), true // now is always within bounds
	}
	sec := at.Unix()
	unit := sm.Unit
	if unit == "" {
		unit = "None"
	}
	id = normalize(id)
	h := s.hash(&id)
	for {
		se := s.lookupOrCreate(h, &id)
		se.mu.Lock()
		if se.dead {
			se.mu.Unlock()
			continue
		}
		var u uint16
		if unit == se.lastUnit {
			u = se.lastUnitIndex
		} else {
			u = s.units.index(unit)
			se.lastUnit, se.lastUnitIndex = unit, u
		}
		// The clock is read only when the sample does not belong to the newest bucket (once a second per series
		// in the steady state): a sample for the newest second is within bounds if that bucket was.
		if nb := len(se.buckets); !checked && (nb == 0 || se.buckets[nb-1].sec != sec) {
			now := s.now()
			if sec < s.cutoff(now) || at.Sub(now) > maxFuture {
				se.mu.Unlock()
				return
			}
		}
		b := se.bucketFor(sec, u)
		if st := sm.Stats; st != nil {
			if st.Minimum == st.Maximum {
				b.addValues(s, st.Minimum, st.SampleCount, st.Sum)
			} else {
				b.addSpread(s, st)
			}
		} else {
			b.addValues(s, sm.Value, n, sm.Value*n)
		}
		se.writes++
		if sec < se.dirtyFrom {
			se.dirtyFrom = sec
		}
		if se.writes == 1 || sec != se.curSec {
			se.changes[se.changeN%changeLogLen] = change{se.writes, sec}
			se.changeN++
			se.curSec = sec
		}
		if sec > se.last.Load() {
			se.last.Store(sec)
		}
		se.mu.Unlock()
		return
	}
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// bucketFor returns the bucket of (sec, unit), inserting it in order. Samples almost always land in the newest
// second, which is the fast path.
func (se *series) bucketFor(sec int64, unit uint16) *bucket {
	n := len(se.buckets)
	if n > 0 {
		b := &se.buckets[n-1]
		if b.sec == sec && b.unit == unit {
			return b
		}
		if b.sec < sec {
			se.buckets = append(se.buckets, bucket{sec: sec, unit: unit})
			return &se.buckets[n]
		}
	} else {
		se.buckets = append(se.buckets, bucket{sec: sec, unit: unit})
		return &se.buckets[0]
	}
	i := sort.Search(n, func(i int) bool { return se.buckets[i].sec >= sec })
	j := i
	for ; j < n && se.buckets[j].sec == sec; j++ {
		if se.buckets[j].unit == unit {
			return &se.buckets[j]
		}
	}
	se.buckets = slices.Insert(se.buckets, j, bucket{sec: sec, unit: unit})
	return &se.buckets[j]
}

// addValues records count observations whose values are all v (their sum is given, so that a statistic set with
// Minimum == Maximum keeps its exact Sum).
func (b *bucket) addValues(s *Store, v, count, sum float64) {
	if b.count == 0 {
		b.count, b.sum, b.min, b.max = count, sum, v, v
		return
	}
	if !b.noPct {
		switch {
		case b.sk != nil:
			if b.sk.AddWithCount(v, count) != nil {
				b.dropPercentiles(s)
			}
		case v != b.min || b.min != b.max:
			sk := s.getSketch()
			if sk.AddWithCount(b.min, b.count) != nil || sk.AddWithCount(v, count) != nil {
				s.putSketch(sk)
				b.noPct = true
			} else {
				b.sk = sk
			}
		}
	}
	b.count += count
	b.sum += sum
	b.min = min(b.min, v)
	b.max = max(b.max, v)
}

// addSpread records a statistic set whose individual values are unknown.
func (b *bucket) addSpread(s *Store, st *StatisticSet) {
	if b.count == 0 {
		b.count, b.sum, b.min, b.max = st.SampleCount, st.Sum, st.Minimum, st.Maximum
	} else {
		b.count += st.SampleCount
		b.sum += st.Sum
		b.min = min(b.min, st.Minimum)
		b.max = max(b.max, st.Maximum)
	}
	b.dropPercentiles(s)
}

func (b *bucket) dropPercentiles(s *Store) {
	b.noPct = true
	if b.sk != nil {
		s.putSketch(b.sk)
		b.sk = nil
	}
}

func (s *Store) getSketch() *ddsketch.DDSketch { return s.sketches.Get().(*ddsketch.DDSketch) }

func (s *Store) putSketch(sk *ddsketch.DDSketch) {
	sk.Clear()
	s.sketches.Put(sk)
}

// Version identifies the content of a series: it changes whenever a sample is recorded into the series or the
// series is dropped and created again. The zero Version means the series does not exist. Readers that cache
// aggregates (the alarm evaluator) compare Versions to know whether to recompute.
type Version struct{ series, writes uint64 }

// Version returns the current Version of the series id.
func (s *Store) Version(id MetricID) Version {
	id = normalize(id)
	se := s.lookup(s.hash(&id), &id)
	if se == nil {
		return Version{}
	}
	se.mu.Lock()
	defer se.mu.Unlock()
	if se.dead {
		return Version{}
	}
	return Version{se.seq, se.writes}
}

// ChangedSince reports whether a sample stamped within [from, to) may have been recorded into the series id after
// v was taken (v from Version). It is conservative: it answers true when it cannot tell (the series was dropped
// or created since, or so many seconds were written since v that the series' change log no longer reaches back).
// Readers that cache aggregates of completed periods use it to recompute only when late data arrived.
func (s *Store) ChangedSince(id MetricID, v Version, from, to time.Time) bool {
	id = normalize(id)
	se := s.lookup(s.hash(&id), &id)
	if se == nil {
		return v != Version{}
	}
	se.mu.Lock()
	defer se.mu.Unlock()
	if se.dead || v.series != se.seq {
		return true
	}
	if se.writes == v.writes {
		return false
	}
	lo, hi := from.Unix(), to.Unix()
	if to.Nanosecond() != 0 {
		hi++
	}
	in := func(sec int64) bool { return sec >= lo && sec < hi }
	// Walk back from the newest entry to the one that was current when v was taken. Entry i covers the writes
	// from its seq up to the next entry's seq (excluded).
	next := se.writes + 1
	for i := se.changeN - 1; i >= max(0, se.changeN-changeLogLen); i-- {
		c := se.changes[i%changeLogLen]
		if c.seq <= v.writes { // current at v: did writes after v continue its second?
			return next > v.writes+1 && in(c.sec)
		}
		if in(c.sec) {
			return true
		}
		next = c.seq
	}
	return true // the log does not reach back to v
}

// Len is the number of series held (including those whose data has expired but that Prune has not dropped yet).
func (s *Store) Len() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.RLock()
		for _, se := range sh.m {
			for ; se != nil; se = se.next {
				n++
			}
		}
		sh.mu.RUnlock()
	}
	return n
}

// Prune drops the buckets that fell out of retention, returns their sketches to the pool, releases slack
// capacity, and removes the series left without data. Queries already ignore expired buckets, so Prune only
// bounds memory: the owner calls it periodically (Run does, every PruneInterval). It holds each series' lock only
// while that series is pruned, and a shard's write lock only to unlink empty series.
func (s *Store) Prune() {
	cutoff := s.now().Unix() - s.keep
	var all, empty []*series
	for i := range s.shards {
		sh := &s.shards[i]
		all = all[:0]
		sh.mu.RLock()
		for _, se := range sh.m {
			for ; se != nil; se = se.next {
				all = append(all, se)
			}
		}
		sh.mu.RUnlock()
		empty = empty[:0]
		for _, se := range all {
			se.mu.Lock()
			se.prune(s, cutoff)
			if len(se.buckets) == 0 {
				empty = append(empty, se)
			}
			se.mu.Unlock()
		}
		if len(empty) == 0 {
			continue
		}
		sh.mu.Lock()
		for _, se := range empty {
			se.mu.Lock()
			if len(se.buckets) == 0 && !se.dead {
				se.dead = true
				sh.unlink(se)
			}
			se.mu.Unlock()
		}
		sh.mu.Unlock()
	}
}

func (se *series) prune(s *Store, cutoff int64) {
	k := sort.Search(len(se.buckets), func(i int) bool { return se.buckets[i].sec >= cutoff })
	if k == 0 {
		return
	}
	for i := range k {
		if sk := se.buckets[i].sk; sk != nil {
			s.putSketch(sk)
		}
	}
	n := copy(se.buckets, se.buckets[k:])
	clear(se.buckets[n:])
	se.buckets = se.buckets[:n]
	switch c := cap(se.buckets); {
	case n == 0:
		se.buckets = nil
	case c > 64 && c > 4*n:
		se.buckets = slices.Clone(se.buckets) // release the slack a burst left behind
	}
}

func (sh *shard) unlink(se *series) {
	head := sh.m[se.hash]
	if head == se {
		if se.next == nil {
			delete(sh.m, se.hash)
		} else {
			sh.m[se.hash] = se.next
		}
		return
	}
	for p := head; p != nil; p = p.next {
		if p.next == se {
			p.next = se.next
			return
		}
	}
}

// Run prunes the store every PruneInterval until ctx ends; with an archive it also persists each minute a
// FlushDelay after it closes (Flush) and deletes the expired minutes every ExpireInterval (Expire). A failed write
// is logged and retried on the next minute. When ctx ends it writes what is due, the open minute included
// (FlushAll).
func (s *Store) Run(ctx context.Context) {
	if s.arch == nil {
		t := time.NewTicker(PruneInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				s.Prune()
			}
		}
	}
	lastExpire := time.Time{}
	for {
		now := s.now()
		t := time.NewTimer(nextFlush(now).Sub(now))
		select {
		case <-ctx.Done():
			t.Stop()
			// Write the minutes closed since the last flush and the open one's samples before stopping.
			fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if _, err := s.FlushAll(fctx); err != nil {
				s.arch.log.Error("metric minutes not persisted at shutdown", "err", err)
			}
			return
		case <-t.C:
		}
		if _, err := s.Flush(ctx); err != nil && ctx.Err() == nil {
			s.arch.log.Error("metric minutes not persisted; retried next minute", "err", err)
		}
		s.Prune()
		if now := s.now(); now.Sub(lastExpire) >= ExpireInterval {
			lastExpire = now
			if n, err := s.Expire(ctx); err != nil && ctx.Err() == nil {
				s.arch.log.Error("expired metric minutes not deleted; retried later", "err", err)
			} else if n > 0 {
				s.arch.log.Debug("expired metric minutes deleted", "minutes", n)
			}
		}
	}
}
