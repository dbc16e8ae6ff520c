package metrics

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/store"
	"github.com/sluice-dev/sluice/internal/store/bolt"
	"github.com/sluice-dev/sluice/internal/store/etcd"
	"github.com/sluice-dev/sluice/internal/store/etcd/etcdtest"
	"github.com/sluice-dev/sluice/internal/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(etcdtest.Main(m)) }

// backend opens the durable store the archive tests run on.
type backend struct {
	name string
	open func(t *testing.T) store.Store
}

var backends = []backend{
	{"bolt", func(t *testing.T) store.Store {
		s, err := bolt.Open(filepath.Join(t.TempDir(), "sluice.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return storetest.RerunUpdates(s) // every closure runs twice: they must be re-runnable
	}},
	{"etcd", func(t *testing.T) store.Store {
		// etcd's default --max-txn-ops: every transaction of the archive must fit it.
		s, err := etcd.Open(context.Background(), etcd.Config{Endpoints: []string{etcdtest.Endpoint(t)},
			Prefix: fmt.Sprintf("metrics-%s-%d", t.Name(), time.Now().UnixNano()), MaxTxnOps: 128})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}},
}

func eachBackend(t *testing.T, fn func(t *testing.T, st store.Store)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { fn(t, b.open(t)) })
	}
}

// process is one run of Sluice's metric store on st: a new boot, as after a restart, on the shared clock.
func process(st store.Store, c *clock, mod ...func(*Options)) *Store {
	o := Options{Now: c.Now, Durable: st, Retention: time.Hour}
	for _, m := range mod {
		m(&o)
	}
	return NewStore(o)
}

var (
	latencyID = NewMetricID("AWS/Lambda", "Duration", Dimension{"FunctionName", "orders"})
	countID   = NewMetricID("AWS/Lambda", "Invocations", Dimension{"FunctionName", "orders"})
	spreadID  = NewMetricID("Custom", "Batch")
)

// fill records two closed minutes (0 and 1 after t0) and the open minute 2 of three series: varying latencies
// (sketches), constant counts (exact without a sketch), and statistic sets whose values are unknown (no
// percentiles), in two units.
func fill(s *Store) {
	r := rand.New(rand.NewPCG(1, 2))
	for sec := 0; sec < 125; sec++ {
		for k := 0; k < 20; k++ {
			s.Record(latencyID, Sample{Value: 1 + r.ExpFloat64()*80, Unit: "Milliseconds", At: at(float64(sec) + float64(k)/20)})
		}
		s.Record(countID, Sample{Value: 1, Unit: "Count", At: at(float64(sec))})
		if sec%7 == 0 {
			s.Record(latencyID, Sample{Value: 0.25, Unit: "Seconds", At: at(float64(sec))})
			s.Record(spreadID, Sample{Stats: &StatisticSet{SampleCount: 4, Sum: 10, Minimum: 1, Maximum: 4}, At: at(float64(sec))})
		}
	}
}

// queries are what the restart tests ask before and after: periods of whole minutes, one unit or all, with
// percentiles.
func queries() []Query {
	pcts := []string{"p0", "p50", "p90", "p99", "p100"}
	var qs []Query
	for _, id := range []MetricID{latencyID, countID, spreadID} {
		qs = append(qs,
			Query{Metric: id, Start: at(0), End: at(180), Period: time.Minute, Percentiles: pcts},
			Query{Metric: id, Start: at(-600), End: at(600), Period: 5 * time.Minute, Percentiles: pcts},
			Query{Metric: id, Start: at(30), End: at(150), Period: 2 * time.Minute, Percentiles: pcts},
		)
	}
	qs = append(qs,
		Query{Metric: latencyID, Start: at(0), End: at(180), Period: time.Minute, Unit: "Milliseconds", Percentiles: pcts},
		Query{Metric: latencyID, Start: at(0), End: at(180), Period: time.Minute, Unit: "Seconds"},
		Query{Metric: latencyID, Start: at(0), End: at(180), Period: time.Minute, Unit: "Bytes"},
	)
	return qs
}

func sameDatapoints(t *testing.T, what string, got, want []Datapoint) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d datapoints %+v, want %d %+v", what, len(got), got, len(want), want)
	}
	for i := range want {
		g, w := got[i], want[i]
		if !g.Timestamp.Equal(w.Timestamp) || g.SampleCount != w.SampleCount || g.Sum != w.Sum ||
			g.Minimum != w.Minimum || g.Maximum != w.Maximum || g.Unit != w.Unit || len(g.Percentiles) != len(w.Percentiles) {
			t.Fatalf("%s: datapoint %d = %+v, want %+v", what, i, g, w)
		}
		for name, v := range w.Percentiles {
			if gv, ok := g.Percentiles[name]; !ok || math.Abs(gv-v) > 1e-9*math.Abs(v) {
				t.Fatalf("%s: datapoint %d %s = %v (%v), want %v", what, i, name, gv, ok, v)
			}
		}
	}
}

func TestArchiveSurvivesRestart(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store) {
		c := newClock(at(-10))
		first := process(st, c)
		c.Set(at(125))
		fill(first)
		before := make([][]Datapoint, len(queries()))
		for i, q := range queries() {
			before[i] = mustStats(t, first, q)
		}
		c.Set(at(121)) // the flush a second after minute 1 closed; minute 2 is open
		if n, err := first.Flush(context.Background()); err != nil || n != 6 {
			t.Fatalf("Flush = %d, %v; want 6 records (2 closed minutes of 3 series)", n, err)
		}
		c.Set(at(125))
		for i, q := range queries() { // the writer answers as before: no double counting of its own minutes
			sameDatapoints(t, fmt.Sprintf("writer, query %d", i), mustStats(t, first, q), before[i])
		}
		// kill -9: nothing more is written. The next process reads the closed minutes from the store.
		c.Set(at(150))
		second := process(st, c)
		for i, q := range queries() {
			// The open minute is lost: the answer is the first process's over the closed minutes.
			closed := q
			closed.End = at(120)
			want := mustStats(t, first, closed)
			sameDatapoints(t, fmt.Sprintf("after restart, query %d (%+v)", i, q), mustStats(t, second, q), want)
		}
		// 1-second data does not survive: periods under a minute see only what the new process recorded.
		if got := mustStats(t, second, Query{Metric: latencyID, Start: at(0), End: at(150), Period: 10 * time.Second}); len(got) != 0 {
			t.Errorf("10 s periods after a restart = %+v, want none", got)
		}
	})
}

func TestArchivePercentilesKeepTheirAccuracy(t *testing.T) {
	st := backends[0].open(t)
	c := newClock(at(-1))
	first := process(st, c)
	c.Set(at(61))
	var values []float64
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 5000; i++ {
		v := math.Exp(r.NormFloat64()*2) * 10
		values = append(values, v)
		first.Record(latencyID, Sample{Value: v, Unit: "Milliseconds", At: at(float64(i) / 100)})
	}
	if _, err := first.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	second := process(st, c)
	dps := mustStats(t, second, Query{Metric: latencyID, Start: at(0), End: at(60), Period: time.Minute, Percentiles: []string{"p50", "p99"}})
	if len(dps) != 1 {
		t.Fatalf("got %+v", dps)
	}
	sort.Float64s(values)
	for name, q := range map[string]float64{"p50": 0.5, "p99": 0.99} {
		x := values[int(q*float64(len(values)-1))]
		if v := dps[0].Percentiles[name]; math.Abs(v-x) > RelativeAccuracy*x {
			t.Errorf("%s = %v, exact %v: beyond %v relative", name, v, x, RelativeAccuracy)
		}
	}
}

func TestArchiveLateSamples(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store) {
		q := Query{Metric: countID, Start: at(0), End: at(300), Period: time.Minute, Percentiles: []string{"p50"}}
		c := newClock(at(-1))
		first := process(st, c)
		c.Set(at(61))
		for sec := 0; sec < 60; sec++ {
			first.Record(countID, Sample{Value: 1, Unit: "Count", At: at(float64(sec))})
		}
		if _, err := first.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		// A late sample for the minute already written: answered at once, and written again, whole, next minute.
		first.Record(countID, Sample{Value: 5, Unit: "Count", At: at(30)})
		checkDatapoints(t, mustStats(t, first, q), []want{exact(at(0), append(slices.Repeat([]float64{1}, 60), 5)...)})
		c.Set(at(121))
		if n, err := first.Flush(context.Background()); err != nil || n != 1 {
			t.Fatalf("Flush = %d, %v; want the late minute again", n, err)
		}
		if n, err := first.Flush(context.Background()); err != nil || n != 0 {
			t.Fatalf("second Flush = %d, %v; want nothing due", n, err)
		}
		// After a restart, a late sample for a minute an earlier run wrote adds to that run's record.
		second := process(st, c)
		second.Record(countID, Sample{Value: 7, Unit: "Count", At: at(45)})
		wantMerged := []want{exact(at(0), append(slices.Repeat([]float64{1}, 60), 5, 7)...)}
		checkDatapoints(t, mustStats(t, second, q), wantMerged)
		c.Set(at(181))
		if _, err := second.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		checkDatapoints(t, mustStats(t, second, q), wantMerged) // its own record is not counted twice
		third := process(st, c)
		checkDatapoints(t, mustStats(t, third, q), wantMerged)
		if got := mustStats(t, third, q)[0].Percentiles["p50"]; math.Abs(got-1) > RelativeAccuracy+1e-12 {
			t.Errorf("p50 across two runs' records = %v, want 1", got)
		}
	})
}

func TestArchiveAnswersBeyondMemory(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store) {
		c := newClock(at(-1))
		s := process(st, c) // 1-second retention: one hour
		c.Set(at(125))
		fill(s)
		want := mustStats(t, s, Query{Metric: latencyID, Start: at(0), End: at(120), Period: time.Minute, Percentiles: []string{"p99"}})
		for _, step := range []float64{121, 181, 3600 + 300, 3600 + 400, 6 * 3600} {
			c.Set(at(step))
			if _, err := s.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			s.Prune()
			got := mustStats(t, s, Query{Metric: latencyID, Start: at(0), End: at(120), Period: time.Minute, Percentiles: []string{"p99"}})
			sameDatapoints(t, fmt.Sprintf("at +%vs", step), got, want)
		}
		if s.Len() != 0 {
			t.Errorf("%d series left in memory after its retention", s.Len())
		}
		if got := mustStats(t, s, Query{Metric: latencyID, Start: at(0), End: at(120), Period: time.Second}); len(got) != 0 {
			t.Errorf("1 s periods beyond the 1-second retention = %d datapoints, want none", len(got))
		}
	})
}

// countingStore counts the writes of each transaction, and fails the next transactions when told.
type countingStore struct {
	store.Store
	maxWrites atomic.Int64
	maxBytes  atomic.Int64
	updates   atomic.Int64
	fail      atomic.Int64
}

type countingTx struct {
	store.Tx
	writes, bytes *int64
}

func (tx countingTx) Put(k string, v []byte) error {
	*tx.writes++
	*tx.bytes += int64(len(v))
	return tx.Tx.Put(k, v)
}
func (tx countingTx) Delete(k string) error { *tx.writes++; return tx.Tx.Delete(k) }

var errInjected = errors.New("injected store failure")

func (s *countingStore) Update(ctx context.Context, fn func(store.Tx) error) error {
	if s.fail.Load() > 0 {
		s.fail.Add(-1)
		return errInjected
	}
	return s.Store.Update(ctx, func(tx store.Tx) error {
		var n, b int64
		err := fn(countingTx{tx, &n, &b})
		s.updates.Add(1)
		if n > s.maxWrites.Load() {
			s.maxWrites.Store(n)
		}
		if b > s.maxBytes.Load() {
			s.maxBytes.Store(b)
		}
		return err
	})
}

func countKeys(t *testing.T, st store.Store, prefix string) int {
	t.Helper()
	n := 0
	err := st.View(context.Background(), func(tx store.Tx) error {
		n = 0
		return tx.Scan(prefix, "", func(string, []byte) (bool, error) { n++; return true, nil })
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestArchiveBatchesAndRetries(t *testing.T) {
	st := &countingStore{Store: backends[0].open(t)}
	c := newClock(at(-1))
	s := process(st, c, func(o *Options) { o.WriteBatch = 7 })
	c.Set(at(181))
	for i := 0; i < 30; i++ {
		id := NewMetricID("Custom", "Load", Dimension{"Host", fmt.Sprint(i)})
		for sec := 0; sec < 180; sec += 10 {
			s.Record(id, Sample{Value: float64(sec), At: at(float64(sec))})
		}
	}
	st.fail.Store(1)
	if n, err := s.Flush(context.Background()); !errors.Is(err, errInjected) || n != 0 {
		t.Fatalf("Flush over a failing store = %d, %v", n, err)
	}
	if n, err := s.Flush(context.Background()); err != nil || n != 90 {
		t.Fatalf("Flush after the failure = %d, %v; want all 90 minutes", n, err)
	}
	if m := st.maxWrites.Load(); m > 7 {
		t.Errorf("a transaction wrote %d records, over the batch of 7", m)
	}
	if got := countKeys(t, st, keyMinutes); got != 90 {
		t.Errorf("%d minute records, want 90", got)
	}
	if got := countKeys(t, st, keySeries); got != 30 {
		t.Errorf("%d catalogued series, want 30", got)
	}
	// A flush with nothing due writes nothing.
	before := st.updates.Load()
	if n, err := s.Flush(context.Background()); err != nil || n != 0 || st.updates.Load() != before {
		t.Errorf("idle Flush = %d, %v, %d transactions", n, err, st.updates.Load()-before)
	}
}

func TestArchiveExpiry(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store) {
		c := newClock(at(-1))
		s := process(st, c, func(o *Options) { o.MinuteRetention = 2 * time.Hour; o.WriteBatch = 5 })
		old := NewMetricID("Custom", "Old")
		c.Set(at(1200))
		for sec := 0; sec < 1200; sec += 30 { // 20 minutes
			s.Record(old, Sample{Value: 1, At: at(float64(sec))})
			s.Record(latencyID, Sample{Value: 1, At: at(float64(sec))})
		}
		c.Set(at(3600))
		for sec := 3600; sec < 3900; sec += 30 { // 5 more minutes of latencies only
			c.Set(at(float64(sec)))
			s.Record(latencyID, Sample{Value: 2, At: at(float64(sec))})
		}
		c.Set(at(3901))
		if n, err := s.Flush(context.Background()); err != nil || n != 45 {
			t.Fatalf("Flush = %d, %v", n, err)
		}
		tests := []struct {
			now                  float64 // seconds after t0
			deleted, left, cat   int
			oldCount, latenciesN float64 // SampleCount over everything still kept
		}{
			{now: 7200, deleted: 0, left: 45, cat: 2, oldCount: 40, latenciesN: 50},
			{now: 7200 + 600, deleted: 20, left: 25, cat: 2, oldCount: 20, latenciesN: 30}, // minutes 0–9 of both expire
			{now: 7200 + 1200, deleted: 20, left: 5, cat: 1, oldCount: 0, latenciesN: 10},  // the rest of the first 20
			{now: 7200 + 3900, deleted: 5, left: 0, cat: 0, oldCount: 0, latenciesN: 0},    // all
		}
		for _, tt := range tests {
			c.Set(at(tt.now))
			n, err := s.Expire(context.Background())
			if err != nil || n != tt.deleted {
				t.Fatalf("at +%vs: Expire = %d, %v; want %d", tt.now, n, err, tt.deleted)
			}
			if got := countKeys(t, st, keyMinutes); got != tt.left {
				t.Errorf("at +%vs: %d minutes left, want %d", tt.now, got, tt.left)
			}
			if got := countKeys(t, st, keySeries); got != tt.cat {
				t.Errorf("at +%vs: %d series catalogued, want %d", tt.now, got, tt.cat)
			}
			fresh := process(st, c)
			for id, wantN := range map[*MetricID]float64{&old: tt.oldCount, &latencyID: tt.latenciesN} {
				var n float64
				for _, d := range mustStats(t, fresh, Query{Metric: *id, Start: at(0), End: at(4000), Period: time.Hour}) {
					n += d.SampleCount
				}
				if n != wantN {
					t.Errorf("at +%vs: %s SampleCount %v, want %v", tt.now, id.Name, n, wantN)
				}
			}
		}
		// A series that comes back after its catalog record expired is catalogued again.
		c.Set(at(7200 + 3960))
		s.Record(old, Sample{Value: 1, At: at(7200 + 3950)})
		c.Set(at(7200 + 4021))
		if _, err := s.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := countKeys(t, st, keySeries); got != 1 {
			t.Errorf("%d series catalogued after the series came back, want 1", got)
		}
	})
}

func TestArchiveNodesKeepTheirOwn(t *testing.T) {
	st := backends[0].open(t)
	c := newClock(at(-1))
	a := process(st, c, func(o *Options) { o.Node = "node-a" })
	b := process(st, c, func(o *Options) { o.Node = "node/b" })
	c.Set(at(61))
	a.Record(countID, Sample{Value: 1, Unit: "Count", At: at(10)})
	b.Record(countID, Sample{Value: 1, Unit: "Count", At: at(20)})
	b.Record(countID, Sample{Value: 1, Unit: "Count", At: at(30)})
	for _, s := range []*Store{a, b} {
		if _, err := s.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	q := Query{Metric: countID, Start: at(0), End: at(60), Period: time.Minute}
	for _, tt := range []struct {
		node string
		n    float64
	}{{"node-a", 1}, {"node/b", 2}, {"node-c", 0}} {
		s := process(st, c, func(o *Options) { o.Node = tt.node })
		var n float64
		for _, d := range mustStats(t, s, q) {
			n += d.SampleCount
		}
		if n != tt.n {
			t.Errorf("node %s after a restart sees %v samples, want its own %v", tt.node, n, tt.n)
		}
	}
	if got := countKeys(t, st, keyMinutes+"node%2Fb/"); got != 1 {
		t.Errorf("node/b's records = %d under its escaped name, want 1", got)
	}
}

func TestArchiveWritesEachMinuteOnceClosed(t *testing.T) {
	st := backends[0].open(t)
	c := newClock(at(-1))
	s := process(st, c)
	c.Set(at(65))
	s.Record(countID, Sample{Value: 1, At: at(50)})
	s.Record(countID, Sample{Value: 2, At: at(62)})  // the open minute
	s.Record(countID, Sample{Value: 3, At: at(600)}) // stamped ahead, as PutMetricData allows
	q := Query{Metric: countID, Start: at(0), End: at(900), Period: time.Minute}
	steps := []struct {
		now     float64
		written int
		seen    []want // by a process started then
	}{
		{61, 1, []want{exact(at(0), 1)}},
		{65, 0, []want{exact(at(0), 1)}},
		{121, 1, []want{exact(at(0), 1), exact(at(60), 2)}},
		{181, 0, []want{exact(at(0), 1), exact(at(60), 2)}},
		{661, 1, []want{exact(at(0), 1), exact(at(60), 2), exact(at(600), 3)}},
		{721, 0, []want{exact(at(0), 1), exact(at(60), 2), exact(at(600), 3)}},
	}
	for _, st2 := range steps {
		c.Set(at(st2.now))
		if n, err := s.Flush(context.Background()); err != nil || n != st2.written {
			t.Fatalf("at +%vs: Flush = %d, %v; want %d", st2.now, n, err, st2.written)
		}
		checkDatapoints(t, mustStats(t, process(st, c), q), st2.seen)
	}
}

func TestArchiveListsPersistedSeries(t *testing.T) {
	st := backends[0].open(t)
	c := newClock(at(-1))
	first := process(st, c, func(o *Options) { o.MinuteRetention = time.Hour })
	c.Set(at(61))
	fill(first)
	if _, err := first.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	second := process(st, c, func(o *Options) { o.MinuteRetention = time.Hour })
	second.Record(NewMetricID("AWS/Lambda", "Errors", Dimension{"FunctionName", "orders"}), Sample{Value: 0, At: at(61)})
	second.Record(countID, Sample{Value: 1, At: at(61)}) // in memory and persisted: listed once
	names := func(ids []MetricID) []string {
		var out []string
		for _, id := range ids {
			out = append(out, id.Namespace+"/"+id.Name)
		}
		return out
	}
	tests := []struct {
		namespace, name string
		filters         []DimensionFilter
		want            []string
	}{
		{"", "", nil, []string{"AWS/Lambda/Duration", "AWS/Lambda/Errors", "AWS/Lambda/Invocations", "Custom/Batch"}},
		{"AWS/Lambda", "", []DimensionFilter{{Name: "FunctionName", Value: "orders"}}, []string{"AWS/Lambda/Duration", "AWS/Lambda/Errors", "AWS/Lambda/Invocations"}},
		{"Custom", "Batch", nil, []string{"Custom/Batch"}},
		{"", "", []DimensionFilter{{Name: "Resource"}}, nil},
	}
	for _, tt := range tests {
		ids, next, err := second.List(tt.namespace, tt.name, tt.filters, "")
		if err != nil || next != "" || !slices.Equal(names(ids), tt.want) {
			t.Errorf("List(%q, %q, %v) = %v, %q, %v; want %v", tt.namespace, tt.name, tt.filters, names(ids), next, err, tt.want)
		}
	}
	// Once expired, the persisted series are no longer listed; those in memory still are.
	c.Set(at(2 * 3600))
	if _, err := second.Expire(context.Background()); err != nil {
		t.Fatal(err)
	}
	fresh := process(st, c)
	if ids, _, err := fresh.List("", "", nil, ""); err != nil || len(ids) != 0 {
		t.Errorf("after expiry a new process lists %v, %v", names(ids), err)
	}
}

// TestArchiveClusterRestart: three nodes share one store; after all restart, a cluster read of the closed minutes
// equals one store that held every sample before — each node answers for its own minutes.
func TestArchiveClusterRestart(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store) {
		c := newClock(clusterT0.Add(-time.Second))
		node := func(i int) func(*Options) { return func(o *Options) { o.Node = fmt.Sprintf("node-%d", i) } }
		all := NewStore(Options{Now: c.Now})
		nodes := []*Store{process(st, c, node(0)), process(st, c, node(1)), process(st, c, node(2))}
		c.Set(clusterT0.Add(181 * time.Second))
		spread(all, nodes)
		for _, n := range nodes {
			if _, err := n.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		c.Set(clusterT0.Add(200 * time.Second))
		restarted := []*Store{process(st, c, node(0)), process(st, c, node(1)), process(st, c, node(2))}
		cl := NewCluster(ClusterOptions{Local: restarted[0], Peers: func() []Peer {
			return []Peer{&storePeer{name: "node-1", st: restarted[1]}, &storePeer{name: "node-2", st: restarted[2]}}
		}})
		for _, id := range []MetricID{
			NewMetricID("AWS/Lambda", "Errors", Dimension{"FunctionName", "fn"}, Dimension{"Resource", "fn:live"}),
			NewMetricID("AWS/Lambda", "Duration", Dimension{"FunctionName", "fn"}),
			NewMetricID("Custom", "Mixed"),
		} {
			for _, period := range []time.Duration{time.Minute, 3 * time.Minute} {
				q := Query{Metric: id, Start: clusterT0, End: clusterT0.Add(180 * time.Second), Period: period, Percentiles: []string{"p50", "p99"}}
				want := mustStats(t, all, q)
				got, err := cl.Statistics(q)
				if err != nil {
					t.Fatal(err)
				}
				sameDatapoints(t, fmt.Sprintf("%s every %v", id.Name, period), got, want)
			}
		}
	})
}

// TestArchiveGracefulStopKeepsTheOpenMinute: Run, stopped, writes the closed minutes and the open one; the next
// process, started later in that minute, adds its own samples of the minute to the record, and so does the one
// after it.
func TestArchiveGracefulStopKeepsTheOpenMinute(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store) {
		c := newClock(at(-1))
		s := process(st, c)
		c.Set(at(90))
		s.Record(countID, Sample{Value: 1, At: at(30)})
		s.Record(countID, Sample{Value: 2, At: at(70)})   // the open minute
		s.Record(countID, Sample{Value: 9, At: at(3000)}) // stamped ahead: not written
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		s.Run(ctx) // returns at once, the context being done, after writing
		q := Query{Metric: countID, Start: at(0), End: at(180), Period: time.Minute}
		c.Set(at(100))
		next := process(st, c)
		checkDatapoints(t, mustStats(t, next, q), []want{exact(at(0), 1), exact(at(60), 2)})
		next.Record(countID, Sample{Value: 3, At: at(110)})
		checkDatapoints(t, mustStats(t, next, q), []want{exact(at(0), 1), exact(at(60), 2, 3)})
		c.Set(at(121))
		if n, err := next.Flush(context.Background()); err != nil || n != 1 {
			t.Fatalf("Flush = %d, %v", n, err)
		}
		checkDatapoints(t, mustStats(t, next, q), []want{exact(at(0), 1), exact(at(60), 2, 3)})
		checkDatapoints(t, mustStats(t, process(st, c), q), []want{exact(at(0), 1), exact(at(60), 2, 3)})
	})
}

func TestArchiveBatchesStayUnderTheRequestLimit(t *testing.T) {
	st := &countingStore{Store: backends[0].open(t)}
	c := newClock(at(-1))
	s := process(st, c, func(o *Options) { o.WriteBatch = 1000 })
	c.Set(at(61))
	for i := 0; i < 300; i++ {
		id := NewMetricID("Custom", "Wide", Dimension{"Host", fmt.Sprint(i)})
		for k := 0; k < 600; k++ { // values over twelve orders of magnitude: a large sketch
			s.Record(id, Sample{Value: math.Pow(10, float64(k%600)/50-6), At: at(float64(k) / 10)})
		}
	}
	n, err := s.Flush(context.Background())
	if err != nil || n != 300 {
		t.Fatalf("Flush = %d, %v", n, err)
	}
	if st.updates.Load() < 2 || st.maxBytes.Load() > maxBatchBytes+64<<10 {
		t.Errorf("%d transactions, the largest with %d bytes of values: want several, each about %d at most",
			st.updates.Load(), st.maxBytes.Load(), maxBatchBytes)
	}
	t.Logf("%d transactions, largest %d bytes", st.updates.Load(), st.maxBytes.Load())
}
