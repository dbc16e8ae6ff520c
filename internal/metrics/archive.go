package metrics

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/internal/store"
)

const (
	// DefaultMinuteRetention is how long persisted 1-minute aggregates are kept when Options.MinuteRetention is
	// zero: 15 days, as CloudWatch keeps 1-minute data.
	DefaultMinuteRetention = 15 * 24 * time.Hour
	// FlushDelay is how long after a minute closes Run writes it: Lambda stamps its metrics at the invocation's
	// start, so the samples of invocations that end just after the minute are in.
	FlushDelay = time.Second
	// ExpireInterval is how often Run deletes the persisted minutes older than the minute retention.
	ExpireInterval = 10 * time.Minute
	// DefaultWriteBatch is the most records one store transaction of a flush or an expiry writes: under etcd's
	// default --max-txn-ops (128, one of which is the store's commit marker).
	DefaultWriteBatch = 100

	// keepSlack is how much longer than the retention a store with an archive keeps its 1-second buckets: a late
	// sample can land in a minute until the minute leaves the retention, and that minute's record is rewritten by
	// the next flush; memory answers for a minute until well after that flush, so a minute is read from its record
	// only once the record is final.
	keepSlack = 5 * time.Minute

	// maxBatchBytes bounds the values of one flush transaction, well under etcd's request limit (1.5 MiB by
	// default): a record is about 0.5 KB, but a minute of values spread over many orders of magnitude has a larger
	// sketch.
	maxBatchBytes = 512 << 10

	keyMinutes = "metrics/min/" // metrics/min/<node>/<series id>/<minute>/<boot> → []Aggregate (JSON), one per unit
	keySeries  = "metrics/ser/" // metrics/ser/<node>/<series id> → MetricID (JSON): which series have minutes
)

// archive is the durable half of a Store: this node's per-minute aggregates in the store.
type archive struct {
	st        store.Store
	node      string // escaped for keys
	boot      string // this process's records among its node's
	bootSec   int64  // when this process started: no other process's minute of this node is as recent
	retention int64  // seconds of minutes kept
	batch     int
	log       *slog.Logger
	// catalogued holds the series ids whose catalog record this process has written (and not expired since). Only
	// the flushing goroutine touches it.
	catalogued map[string]bool
}

func newArchive(o Options, now time.Time) *archive {
	ret := o.MinuteRetention
	if ret <= 0 {
		ret = DefaultMinuteRetention
	}
	node := o.Node
	if node == "" {
		node = "local"
	}
	batch := o.WriteBatch
	if batch <= 0 {
		batch = DefaultWriteBatch
	}
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	return &archive{st: o.Durable, node: url.PathEscape(node), boot: fmt.Sprintf("%016x", now.UnixNano()),
		bootSec: now.Unix(), retention: int64((ret + time.Minute - 1) / time.Minute * 60), batch: batch, log: log,
		catalogued: map[string]bool{}}
}

// seriesID is a series' name in keys: stable across processes and nodes (unlike the in-memory hash), and short.
func seriesID(id *MetricID) string {
	sum := sha256.Sum256([]byte(seriesKey(id)))
	return hex.EncodeToString(sum[:16])
}

func (a *archive) minutesPrefix(sid string) string { return keyMinutes + a.node + "/" + sid + "/" }

func minuteKey(minute int64) string { return fmt.Sprintf("%011d", minute) }

// parseMinuteKey splits the part of a minute key after its series prefix: "<minute>/<boot>".
func parseMinuteKey(rest string) (minute int64, boot string, ok bool) {
	m, boot, ok := strings.Cut(rest, "/")
	if !ok {
		return 0, "", false
	}
	v, err := strconv.ParseInt(m, 10, 64)
	return v, boot, err == nil
}

func floor60(sec int64) int64 { return floorDiv(sec, 60) * 60 }

func ceil60(sec int64) int64 { return -floorDiv(-sec, 60) * 60 }

// FlushAll is Flush including the minute still open, for a process that stops: what it recorded in that minute is
// written as its own record, which the next process (started later in that minute, or after) adds to its own
// samples of the minute. Samples stamped ahead of the open minute are not written. Run calls it when its context
// ends.
func (s *Store) FlushAll(ctx context.Context) (int, error) {
	return s.flush(ctx, floor60(s.now().Unix())+60)
}

// memFrom is the first minute whose samples of this process the 1-second buckets still hold completely (and
// whose record may still be rewritten): minutes before it are read from the records.
func (s *Store) memFrom(now time.Time) int64 {
	return ceil60(now.Unix() - s.retention - int64(keepSlack/time.Second))
}

// minuteRecord is one series' closed minute, ready to write.
type minuteRecord struct {
	sid   string
	id    *MetricID // for the catalog
	start int64
	value []byte
}

// Flush writes every closed minute that received samples since the last flush — in batches of at most
// Options.WriteBatch records per store transaction — and returns how many records it wrote. A minute is closed
// once the clock has passed its end; the open minute is written when it closes. A minute that receives a late
// sample after being written is written again, whole (its record is rewritten from the 1-second buckets). If a
// batch fails, its minutes stay due and the next Flush writes them. Run calls Flush a FlushDelay after each
// minute; it must not run concurrently with itself or Expire.
func (s *Store) Flush(ctx context.Context) (int, error) {
	return s.flush(ctx, floor60(s.now().Unix()))
}

// flush writes the due minutes that start before closed.
func (s *Store) flush(ctx context.Context, closed int64) (int, error) {
	a := s.arch
	if a == nil {
		return 0, nil
	}
	var recs []minuteRecord
	var due []*series
	for i := range s.shards {
		sh := &s.shards[i]
		due = due[:0]
		sh.mu.RLock()
		for _, se := range sh.m {
			for ; se != nil; se = se.next {
				due = append(due, se)
			}
		}
		sh.mu.RUnlock()
		for _, se := range due {
			recs = s.closedMinutes(se, closed, recs)
		}
	}
	written := 0
	for len(recs) > 0 {
		// A batch's writes: its records, and a catalog record for each series not catalogued yet.
		n, size, newSeries := 0, 0, map[string]bool{}
		var batch []minuteRecord
		for n < a.batch && len(recs) > 0 {
			r := recs[0]
			cost := 1
			if !a.catalogued[r.sid] && !newSeries[r.sid] {
				cost = 2
			}
			if n > 0 && (n+cost > a.batch || size+len(r.value) > maxBatchBytes) {
				break
			}
			if cost == 2 {
				newSeries[r.sid] = true
			}
			batch, recs, n, size = append(batch, r), recs[1:], n+cost, size+len(r.value)
		}
		if err := a.write(ctx, batch); err != nil {
			s.redo(batch)
			s.redo(recs)
			return written, err
		}
		written += len(batch)
	}
	return written, nil
}

// closedMinutes appends the records of se's closed minutes that are due and marks them written.
func (s *Store) closedMinutes(se *series, closed int64, recs []minuteRecord) []minuteRecord {
	se.mu.Lock()
	defer se.mu.Unlock()
	if se.dirtyFrom >= closed {
		return recs
	}
	from := floor60(se.dirtyFrom)
	bs := se.buckets
	i, _ := slices.BinarySearchFunc(bs, from, func(b bucket, sec int64) int { return cmpInt(b.sec, sec) })
	sid := ""
	for i < len(bs) && bs[i].sec < closed {
		minute := floor60(bs[i].sec)
		j := i
		for j < len(bs) && bs[j].sec < minute+60 {
			j++
		}
		if sid == "" {
			sid = seriesID(&se.id)
		}
		recs = append(recs, minuteRecord{sid: sid, id: &se.id, start: minute, value: s.encodeMinute(minute, bs[i:j])})
		i = j
	}
	// Samples of the open minute (or stamped ahead) stay due.
	se.dirtyFrom = math.MaxInt64
	if se.last.Load() >= closed {
		se.dirtyFrom = closed
	}
	return recs
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// redo marks the minutes of records that could not be written as due again.
func (s *Store) redo(recs []minuteRecord) {
	for _, r := range recs {
		id := *r.id
		se := s.lookup(s.hash(&id), &id)
		if se == nil {
			continue
		}
		se.mu.Lock()
		se.dirtyFrom = min(se.dirtyFrom, r.start)
		se.mu.Unlock()
	}
}

// encodeMinute is the record of one minute of a series: one Aggregate per unit, each with its sketch unless its
// values are all equal (then Min == Max is the exact distribution) or unknown (NoPct).
func (s *Store) encodeMinute(minute int64, bs []bucket) []byte {
	var units []uint16
	for k := range bs {
		if !slices.Contains(units, bs[k].unit) {
			units = append(units, bs[k].unit)
		}
	}
	slices.Sort(units)
	out := make([]Aggregate, 0, len(units))
	for _, u := range units {
		agg := aggregator{s: s, pcts: []percentile{{}}}
		agg.reset(minute)
		for k := range bs {
			if bs[k].unit == u {
				agg.add(&bs[k])
			}
		}
		g := agg.aggregate()
		if g.Min == g.Max {
			g.Sketch = nil
		}
		out = append(out, g)
	}
	b, err := json.Marshal(out)
	if err != nil {
		panic("metrics: " + err.Error()) // finite floats and strings only
	}
	return b
}

func (a *archive) write(ctx context.Context, batch []minuteRecord) error {
	err := a.st.Update(ctx, func(tx store.Tx) error {
		seen := map[string]bool{}
		for _, r := range batch {
			if !a.catalogued[r.sid] && !seen[r.sid] {
				seen[r.sid] = true
				if err := store.PutJSON(tx, keySeries+a.node+"/"+r.sid, r.id); err != nil {
					return err
				}
			}
			if err := tx.Put(a.minutesPrefix(r.sid)+minuteKey(r.start)+"/"+a.boot, r.value); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("persist metric minutes: %w", err)
	}
	for _, r := range batch {
		a.catalogued[r.sid] = true
	}
	return nil
}

// archived returns the persisted minutes of id in [lo, hi) as buckets stamped at their minute's start (sorted by
// minute, then unit), with sketches from the pool that the caller returns (releaseBuckets): every other process's
// (this node's earlier runs, which wrote no minute after the one this process started in), and this process's
// only before memFrom, where the 1-second buckets no longer answer.
func (s *Store) archived(ctx context.Context, id *MetricID, lo, hi, memFrom int64, unit string) ([]bucket, error) {
	a := s.arch
	prefix := a.minutesPrefix(seriesID(id))
	var raw [][]byte
	err := a.st.View(ctx, func(tx store.Tx) error {
		raw = raw[:0]
		return tx.Scan(prefix, prefix+minuteKey(lo), func(key string, v []byte) (bool, error) {
			minute, boot, ok := parseMinuteKey(key[len(prefix):])
			if !ok || minute < lo {
				return true, nil
			}
			if minute >= hi {
				return false, nil
			}
			if boot != a.boot || minute < memFrom {
				raw = append(raw, slices.Clone(v))
			}
			return true, nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read metric minutes: %w", err)
	}
	var out []bucket
	for _, v := range raw {
		var aggs []Aggregate
		if json.Unmarshal(v, &aggs) != nil {
			a.log.Warn("a persisted metric minute is unreadable; left out", "metric", id.Name, "namespace", id.Namespace)
			continue
		}
		for _, g := range aggs {
			if unit != "" && g.Unit != unit || !(g.Count > 0) {
				continue
			}
			b := bucket{sec: g.Start, count: g.Count, sum: g.Sum, min: g.Min, max: g.Max, unit: s.units.index(g.Unit),
				noPct: g.NoPct}
			if !b.noPct && len(g.Sketch) > 0 {
				sk := s.getSketch()
				if sk.DecodeAndMergeWith(g.Sketch) != nil {
					s.putSketch(sk)
					b.noPct = true
				} else {
					b.sk = sk
				}
			} else if b.min != b.max {
				b.noPct = true // a spread without a sketch: its values are unknown
			}
			out = append(out, b)
		}
	}
	slices.SortStableFunc(out, func(x, y bucket) int { return cmpInt(x.sec, y.sec) })
	return out, nil
}

func (s *Store) releaseBuckets(bs []bucket) {
	for i := range bs {
		if bs[i].sk != nil {
			s.putSketch(bs[i].sk)
			bs[i].sk = nil
		}
	}
}

// Expire deletes this node's persisted minutes older than the minute retention, at most Options.WriteBatch
// deletions per store transaction, and the catalog record of each series left without minutes. It returns how
// many minutes it deleted. Run calls it every ExpireInterval; it must not run concurrently with Flush.
func (s *Store) Expire(ctx context.Context) (int, error) {
	a := s.arch
	if a == nil {
		return 0, nil
	}
	cutoff := floor60(s.now().Unix() - a.retention)
	catPrefix := keySeries + a.node + "/"
	deleted := 0
	after := ""
	for {
		var sids []string
		err := a.st.View(ctx, func(tx store.Tx) error {
			sids = sids[:0]
			return tx.Scan(catPrefix, after, func(key string, _ []byte) (bool, error) {
				sids = append(sids, key[len(catPrefix):])
				return len(sids) < a.batch, nil
			})
		})
		if err != nil {
			return deleted, fmt.Errorf("list metric series: %w", err)
		}
		for _, sid := range sids {
			n, err := s.expireSeries(ctx, sid, cutoff)
			deleted += n
			if err != nil {
				return deleted, err
			}
		}
		if len(sids) < a.batch {
			return deleted, nil
		}
		after = catPrefix + sids[len(sids)-1]
	}
}

func (s *Store) expireSeries(ctx context.Context, sid string, cutoff int64) (int, error) {
	a := s.arch
	prefix := a.minutesPrefix(sid)
	deleted := 0
	for {
		var n int
		var empty bool
		err := a.st.Update(ctx, func(tx store.Tx) error {
			var keys []string
			live := false
			err := tx.Scan(prefix, "", func(key string, _ []byte) (bool, error) {
				minute, _, ok := parseMinuteKey(key[len(prefix):])
				if ok && minute >= cutoff {
					live = true
					return false, nil
				}
				keys = append(keys, key)
				return len(keys) < a.batch-1, nil
			})
			if err != nil {
				return err
			}
			for _, k := range keys {
				if err := tx.Delete(k); err != nil {
					return err
				}
			}
			n = len(keys)
			// Nothing left under the prefix: the series leaves the catalog in the same transaction.
			empty = !live && len(keys) < a.batch-1
			if empty {
				return tx.Delete(keySeries + a.node + "/" + sid)
			}
			return nil
		})
		if err != nil {
			return deleted, fmt.Errorf("delete expired metric minutes: %w", err)
		}
		deleted += n
		if empty {
			delete(a.catalogued, sid)
			return deleted, nil
		}
		if n < a.batch-1 {
			return deleted, nil
		}
	}
}

// catalog returns the series this node has persisted minutes of (and, until Expire runs, had).
func (a *archive) catalog() ([]MetricID, error) {
	ctx, cancel := context.WithTimeout(context.Background(), archiveReadTimeout)
	defer cancel()
	prefix := keySeries + a.node + "/"
	var out []MetricID
	err := a.st.View(ctx, func(tx store.Tx) error {
		out = out[:0]
		return tx.Scan(prefix, "", func(_ string, v []byte) (bool, error) {
			var id MetricID
			if json.Unmarshal(v, &id) == nil && id.Name != "" {
				out = append(out, id)
			}
			return true, nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list persisted metrics: %w", err)
	}
	return out, nil
}

// nextFlush is when Run next flushes: FlushDelay after the next minute boundary.
func nextFlush(now time.Time) time.Time {
	return time.Unix(floor60(now.Unix())+60, 0).Add(FlushDelay)
}
