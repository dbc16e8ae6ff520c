package metrics

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"testing"
	"time"
)

// storePeer is a peer answering from another in-process store; block makes it hang until its context ends, err
// makes it fail.
type storePeer struct {
	name  string
	st    *Store
	block bool
	err   error
	calls int
}

func (p *storePeer) Name() string { return p.name }

func (p *storePeer) wait(ctx context.Context) error {
	p.calls++
	if p.block {
		<-ctx.Done()
		return ctx.Err()
	}
	return p.err
}

func (p *storePeer) Aggregates(ctx context.Context, qs []PeerQuery) ([][]Aggregate, error) {
	if err := p.wait(ctx); err != nil {
		return nil, err
	}
	out := make([][]Aggregate, len(qs))
	for i, q := range qs {
		a, err := p.st.Aggregates(q.Query, q.Align)
		if err != nil {
			return nil, err
		}
		out[i] = a
	}
	return out, nil
}

func (p *storePeer) Matching(ctx context.Context, namespace, name string, f []DimensionFilter) ([]MetricID, error) {
	if err := p.wait(ctx); err != nil {
		return nil, err
	}
	return p.st.Matching(namespace, name, f), nil
}

var clusterT0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// spread records the same samples into all and, split among nodes, into the node stores.
func spread(all *Store, nodes []*Store) {
	errs := NewMetricID("AWS/Lambda", "Errors", Dimension{"FunctionName", "fn"}, Dimension{"Resource", "fn:live"})
	dur := NewMetricID("AWS/Lambda", "Duration", Dimension{"FunctionName", "fn"})
	mixed := NewMetricID("Custom", "Mixed")
	rec := func(i int, id MetricID, s Sample) {
		all.Record(id, s)
		nodes[i%len(nodes)].Record(id, s)
	}
	for i := range 6000 {
		at := clusterT0.Add(time.Duration(i%180) * time.Second).Add(time.Duration(i%7) * time.Millisecond)
		rec(i, errs, Sample{Value: float64(i % 2), Unit: "Count", At: at})
		rec(i/3, dur, Sample{Value: float64((i*37)%1000 + 1), Unit: "Milliseconds", At: at}) // uneven split
		if i%50 == 0 {
			rec(i/50, mixed, Sample{Value: 4, Unit: []string{"Count", "Seconds"}[i/50%2], At: at})
		}
	}
	// A statistic set whose values are known (exact in percentiles) and one whose are not (no percentiles in its
	// period), on different nodes.
	st := Sample{Stats: &StatisticSet{SampleCount: 10, Sum: 70, Minimum: 7, Maximum: 7}, Unit: "Milliseconds", At: clusterT0.Add(5 * time.Second)}
	all.Record(dur, st)
	nodes[1%len(nodes)].Record(dur, st)
	st = Sample{Stats: &StatisticSet{SampleCount: 4, Sum: 10, Minimum: 1, Maximum: 4}, Unit: "Milliseconds", At: clusterT0.Add(125 * time.Second)}
	all.Record(dur, st)
	nodes[2%len(nodes)].Record(dur, st)
}

func newClusterStores(n int) (*Store, []*Store) {
	now := func() time.Time { return clusterT0.Add(time.Hour) }
	all := NewStore(Options{Now: now})
	nodes := make([]*Store, n)
	for i := range nodes {
		nodes[i] = NewStore(Options{Now: now})
	}
	spread(all, nodes)
	return all, nodes
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestClusterMergeIsExact: a query over three nodes answers exactly what one store holding every sample answers —
// counts, sums, extremes, units and percentiles (the sketches merge bin by bin, so even the estimates are equal).
func TestClusterMergeIsExact(t *testing.T) {
	all, nodes := newClusterStores(3)
	peers := []Peer{&storePeer{name: "b", st: nodes[1]}, &storePeer{name: "c", st: nodes[2]}}
	c := NewCluster(ClusterOptions{Local: nodes[0], Peers: func() []Peer { return peers }, Logger: quietLog()})
	pcts := []string{"p0", "p50", "p90", "p99", "p99.9", "p100"}
	dur := NewMetricID("AWS/Lambda", "Duration", Dimension{"FunctionName", "fn"})
	errs := NewMetricID("AWS/Lambda", "Errors", Dimension{"Resource", "fn:live"}, Dimension{"FunctionName", "fn"})
	for _, tc := range []struct {
		name  string
		q     Query
		align bool
	}{
		{"errors per minute", Query{Metric: errs, Start: clusterT0, End: clusterT0.Add(3 * time.Minute), Period: time.Minute}, true},
		{"errors per second", Query{Metric: errs, Start: clusterT0, End: clusterT0.Add(30 * time.Second), Period: time.Second}, true},
		{"duration percentiles, one period", Query{Metric: dur, Start: clusterT0, End: clusterT0.Add(3 * time.Minute), Period: 3 * time.Minute, Percentiles: pcts}, true},
		{"duration percentiles per 10 s", Query{Metric: dur, Start: clusterT0, End: clusterT0.Add(3 * time.Minute), Period: 10 * time.Second, Percentiles: pcts}, true},
		{"unaligned", Query{Metric: dur, Start: clusterT0.Add(7 * time.Second), End: clusterT0.Add(100 * time.Second), Period: 20 * time.Second, Percentiles: pcts}, false},
		{"one unit", Query{Metric: dur, Start: clusterT0, End: clusterT0.Add(time.Minute), Period: time.Minute, Unit: "Milliseconds", Percentiles: []string{"p99"}}, true},
		{"mixed units", Query{Metric: NewMetricID("Custom", "Mixed"), Start: clusterT0, End: clusterT0.Add(3 * time.Minute), Period: time.Minute, Percentiles: []string{"p50"}}, true},
		{"no such series", Query{Metric: NewMetricID("Custom", "None"), Start: clusterT0, End: clusterT0.Add(time.Minute), Period: time.Minute}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, err := all.statistics(tc.q, tc.align)
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.Gather(tc.q, tc.align)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Missing) > 0 {
				t.Errorf("missing %v", got.Missing)
			}
			if !reflect.DeepEqual(got.Datapoints, want) {
				t.Errorf("cluster:\n%+v\none store:\n%+v", got.Datapoints, want)
			}
		})
	}
	t.Run("errors are the sum of every node's", func(t *testing.T) {
		dps, _ := c.Statistics(Query{Metric: errs, Start: clusterT0, End: clusterT0.Add(3 * time.Minute), Period: 3 * time.Minute})
		if len(dps) != 1 || dps[0].Sum != 3000 || dps[0].SampleCount != 6000 {
			t.Fatalf("got %+v, want Sum 3000 of 6000 samples", dps)
		}
	})
	t.Run("invalid query refused before any peer is asked", func(t *testing.T) {
		_, err := c.Statistics(Query{Metric: errs, Start: clusterT0, End: clusterT0.Add(time.Minute), Period: time.Minute, Percentiles: []string{"tm90"}})
		if err == nil {
			t.Fatal("no error")
		}
	})
}

// TestClusterPeerFailures: a peer that hangs or fails leaves the answer partial — served from the others by the
// timeout, the peer named in Missing — and is then skipped for the cool-down, then asked again.
func TestClusterPeerFailures(t *testing.T) {
	_, nodes := newClusterStores(3)
	errs := NewMetricID("AWS/Lambda", "Errors", Dimension{"FunctionName", "fn"}, Dimension{"Resource", "fn:live"})
	q := Query{Metric: errs, Start: clusterT0, End: clusterT0.Add(3 * time.Minute), Period: 3 * time.Minute}
	for _, tc := range []struct {
		name string
		bad  *storePeer
	}{
		{"hangs", &storePeer{name: "c", st: nodes[2], block: true}},
		{"fails", &storePeer{name: "c", st: nodes[2], err: errors.New("connection refused")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := clusterT0.Add(time.Hour)
			good := &storePeer{name: "b", st: nodes[1]}
			peers := []Peer{good, tc.bad}
			c := NewCluster(ClusterOptions{Local: nodes[0], Peers: func() []Peer { return peers }, Logger: quietLog(),
				Timeout: 20 * time.Millisecond, Cooldown: 5 * time.Second, Now: func() time.Time { return now }})
			partial := func() {
				t.Helper()
				r, err := c.Gather(q, true)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(r.Missing, []string{"c"}) {
					t.Errorf("Missing = %v, want [c]", r.Missing)
				}
				if len(r.Datapoints) != 1 || r.Datapoints[0].SampleCount != 4000 {
					t.Errorf("datapoints %+v, want the 4000 samples of a and b", r.Datapoints)
				}
			}
			partial()
			partial() // cooling down: not asked
			if tc.bad.calls != 1 {
				t.Errorf("the failed peer was asked %d times within its cool-down, want 1", tc.bad.calls)
			}
			now = now.Add(5 * time.Second)
			tc.bad.block, tc.bad.err = false, nil
			r, err := c.Gather(q, true)
			if err != nil || len(r.Missing) != 0 || r.Datapoints[0].SampleCount != 6000 {
				t.Errorf("after the cool-down: %+v, %v; want all 6000 samples", r, err)
			}
		})
	}
}

func TestClusterList(t *testing.T) {
	now := func() time.Time { return clusterT0.Add(time.Hour) }
	a, b := NewStore(Options{Now: now}), NewStore(Options{Now: now})
	all := NewStore(Options{Now: now})
	for i := range 1200 {
		id := NewMetricID("NS", "M", Dimension{"K", fmt.Sprintf("%04d", i)})
		s := Sample{Value: 1, At: clusterT0}
		all.Record(id, s)
		if i%3 != 0 {
			a.Record(id, s)
		}
		if i%3 == 0 || i%2 == 0 { // some series on both nodes
			b.Record(id, s)
		}
	}
	c := NewCluster(ClusterOptions{Local: a, Peers: func() []Peer { return []Peer{&storePeer{name: "b", st: b}} }, Logger: quietLog()})
	for _, filter := range [][]DimensionFilter{nil, {{Name: "K", Value: "0007"}}} {
		var got, want []MetricID
		for tok := ""; ; {
			page, next, err := c.List("NS", "", filter, tok)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, page...)
			if tok = next; tok == "" {
				break
			}
		}
		for tok := ""; ; {
			page, next, _ := all.List("NS", "", filter, tok)
			want = append(want, page...)
			if tok = next; tok == "" {
				break
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("filter %v: cluster listed %d series, one store %d", filter, len(got), len(want))
		}
	}
}

// TestClusterAlone: with no peers the cluster reader is the local store.
func TestClusterAlone(t *testing.T) {
	_, nodes := newClusterStores(1)
	c := NewCluster(ClusterOptions{Local: nodes[0]})
	dur := NewMetricID("AWS/Lambda", "Duration", Dimension{"FunctionName", "fn"})
	q := Query{Metric: dur, Start: clusterT0, End: clusterT0.Add(time.Minute), Period: 10 * time.Second, Percentiles: []string{"p99"}}
	got, _ := c.Statistics(q)
	want, _ := nodes[0].Statistics(q)
	if !reflect.DeepEqual(got, want) {
		t.Error("differs from the local store")
	}
	v := c.Version(dur)
	if c.ChangedSince(dur, v, clusterT0, clusterT0.Add(time.Minute)) {
		t.Error("ChangedSince without a write")
	}
}
