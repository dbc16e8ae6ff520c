package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/cluster"
	"github.com/sluice-dev/sluice/internal/logstore"
	"github.com/sluice-dev/sluice/internal/metrics"
)

// loopbackMembers is a membership of in-process nodes reached over real HTTP on loopback; requests are not signed
// (the wiring puts the endpoints behind cluster.PeersOnly, tested in package cluster).
type loopbackMembers struct {
	self  cluster.Node
	nodes *[]cluster.Node
}

func (m loopbackMembers) Self() cluster.Node { return m.self }

func (m loopbackMembers) Peers() []cluster.Node {
	return slices.DeleteFunc(slices.Clone(*m.nodes), func(n cluster.Node) bool { return n.Name == m.self.Name })
}

func (m loopbackMembers) Call(ctx context.Context, node cluster.Node, method, path string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, node.URL+path, body)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return nil, fmt.Errorf("node %s answered %d: %s", node.Name, resp.StatusCode, msg)
	}
	return resp, nil
}

type testNode struct {
	metrics *metrics.Store
	logs    *logstore.Store
	reads   *clusterReads
}

var readsT0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// startNodes starts n nodes serving their cluster endpoints on loopback; hang, if set, makes that node's endpoints
// wait until the test ends.
func startNodes(t *testing.T, n int, hang string) []*testNode {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	var members []cluster.Node
	var out []*testNode
	release := make(chan struct{})
	for i := range n {
		name := string(rune('a' + i))
		ls, err := logstore.Open(t.TempDir(), 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ls.Close() })
		tn := &testNode{metrics: metrics.NewStore(metrics.Options{Now: func() time.Time { return readsT0.Add(time.Hour) }}), logs: ls}
		var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { tn.reads.Handler.ServeHTTP(w, r) })
		if name == hang {
			inner := h
			h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-release:
				case <-r.Context().Done():
				}
				inner.ServeHTTP(w, r)
			})
		}
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		members = append(members, cluster.Node{Name: name, URL: srv.URL})
		tn.reads = newClusterReads(loopbackMembers{self: members[i], nodes: &members}, tn.metrics, ls, quiet)
		out = append(out, tn)
	}
	t.Cleanup(func() { close(release) }) // runs before the servers close
	return out
}

// TestClusterMetricsOverHTTP: statistics asked of any node cover every node's samples, exactly as one store holding
// them all answers (sums, counts, extremes, percentiles), and an alarm's Errors sum counts errors wherever they
// happened.
func TestClusterMetricsOverHTTP(t *testing.T) {
	nodes := startNodes(t, 3, "")
	all := metrics.NewStore(metrics.Options{Now: func() time.Time { return readsT0.Add(time.Hour) }})
	errs := metrics.NewMetricID("AWS/Lambda", "Errors", metrics.Dimension{Name: "FunctionName", Value: "fn"}, metrics.Dimension{Name: "Resource", Value: "fn:live"})
	dur := metrics.NewMetricID("AWS/Lambda", "Duration", metrics.Dimension{Name: "FunctionName", Value: "fn"})
	for i := range 3000 {
		at := readsT0.Add(time.Duration(i%120) * time.Second)
		e := metrics.Sample{Value: float64(i % 3 / 2), Unit: "Count", At: at}
		d := metrics.Sample{Value: float64((i*53)%2000 + 1), Unit: "Milliseconds", At: at}
		all.Record(errs, e)
		all.Record(dur, d)
		nodes[i%3].metrics.Record(errs, e)
		nodes[(i/7)%3].metrics.Record(dur, d)
	}
	for _, tc := range []struct {
		name string
		q    metrics.Query
	}{
		{"errors per minute", metrics.Query{Metric: errs, Start: readsT0, End: readsT0.Add(2 * time.Minute), Period: time.Minute}},
		{"duration p50/p99/p99.9 per 10 s", metrics.Query{Metric: dur, Start: readsT0, End: readsT0.Add(2 * time.Minute), Period: 10 * time.Second, Percentiles: []string{"p50", "p99", "p99.9"}}},
		{"duration p99 over everything", metrics.Query{Metric: dur, Start: readsT0, End: readsT0.Add(2 * time.Minute), Period: 2 * time.Minute, Percentiles: []string{"p99"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, err := all.Statistics(tc.q)
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range nodes {
				got, err := n.reads.Metrics.Gather(tc.q, true)
				if err != nil {
					t.Fatal(err)
				}
				if len(got.Missing) > 0 || !reflect.DeepEqual(got.Datapoints, want) {
					t.Fatalf("missing %v; cluster:\n%+v\none store:\n%+v", got.Missing, got.Datapoints, want)
				}
			}
		})
	}
	total, _ := nodes[1].reads.Metrics.StatisticsUnaligned(metrics.Query{Metric: errs, Start: readsT0, End: readsT0.Add(2 * time.Minute), Period: 2 * time.Minute})
	if len(total) != 1 || total[0].Sum != 1000 || total[0].SampleCount != 3000 {
		t.Errorf("Errors over the cluster = %+v, want Sum 1000 of 3000", total)
	}
	ids, _, err := nodes[2].reads.Metrics.List("AWS/Lambda", "", nil, "")
	if err != nil || len(ids) != 2 {
		t.Errorf("List = %v, %v; want Duration and Errors", ids, err)
	}
}

// TestClusterReadsSlowPeer: a peer that does not answer leaves the answer partial after the timeout; metrics and
// logs are still served from the others.
func TestClusterReadsSlowPeer(t *testing.T) {
	nodes := startNodes(t, 3, "c")
	id := metrics.NewMetricID("AWS/Lambda", "Errors")
	for i, n := range nodes {
		n.metrics.Record(id, metrics.Sample{Value: 1, Count: float64(i + 1), At: readsT0})
		n.logs.Append("/aws/lambda/fn", []logstore.Event{{Timestamp: readsT0.UnixMilli() + int64(i), Stream: "s-" + string(rune('a'+i)), Message: "hi"}})
	}
	r, err := nodes[0].reads.Metrics.Gather(metrics.Query{Metric: id, Start: readsT0, End: readsT0.Add(time.Minute), Period: time.Minute}, true)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r.Missing, []string{"c"}) || len(r.Datapoints) != 1 || r.Datapoints[0].Sum != 3 {
		t.Errorf("got %+v, want the sum of a and b (3), c missing", r)
	}
	events, next, err := nodes[1].reads.Logs.Page("/aws/lambda/fn", logstore.Query{}, logstore.Cursor{})
	if err != nil || len(events) != 2 || next != nil {
		t.Errorf("logs: %v, %v, %v; want a's and b's events", events, next, err)
	}
}

// TestClusterLogsOverHTTP: the events of a group logged on three nodes come back interleaved by time, page after
// page, each exactly once, through per-node cursors; streams and groups are the union of every node's.
func TestClusterLogsOverHTTP(t *testing.T) {
	nodes := startNodes(t, 3, "")
	const group = "/aws/lambda/fn"
	var want []logstore.Event
	for i := range 100 {
		n := i % 3
		if i%10 == 0 {
			n = 2 // uneven shares
		}
		e := logstore.Event{Timestamp: readsT0.UnixMilli() + int64(i/2), IngestionTime: readsT0.UnixMilli() + 5000,
			Stream: fmt.Sprintf("2026/03/01/[1]env-%c", 'a'+n), Message: fmt.Sprintf("line %d", i)}
		if err := nodes[n].logs.Append(group, []logstore.Event{e}); err != nil {
			t.Fatal(err)
		}
		want = append(want, e)
	}
	nodes[1].logs.Append("/aws/lambda/other", []logstore.Event{{Timestamp: readsT0.UnixMilli(), Stream: "x", Message: "m"}})

	for _, limit := range []int{1, 7, 50, 0} {
		t.Run(fmt.Sprintf("limit %d", limit), func(t *testing.T) {
			var got []logstore.Event
			at := logstore.Cursor{}
			for pages := 0; at != nil; pages++ {
				if pages > 200 {
					t.Fatal("pagination does not end")
				}
				page, next, err := nodes[pages%3].reads.Logs.Page(group, logstore.Query{Limit: limit}, at) // any node serves any page
				if err != nil {
					t.Fatal(err)
				}
				if limit > 0 && len(page) > limit {
					t.Fatalf("page of %d > limit %d", len(page), limit)
				}
				got = append(got, page...)
				at = next
			}
			if !slices.IsSortedFunc(got, func(a, b logstore.Event) int { return int(a.Timestamp - b.Timestamp) }) {
				t.Error("events not interleaved by time")
			}
			key := func(e logstore.Event) string { return e.Message }
			gotKeys, wantKeys := make([]string, len(got)), make([]string, len(want))
			for i := range got {
				gotKeys[i] = key(got[i])
			}
			for i := range want {
				wantKeys[i] = key(want[i])
			}
			slices.Sort(gotKeys)
			slices.Sort(wantKeys)
			if !slices.Equal(gotKeys, wantKeys) {
				t.Errorf("got %d events, want each of the %d exactly once", len(got), len(want))
			}
		})
	}
	t.Run("before a cursor", func(t *testing.T) {
		_, at, _ := nodes[0].reads.Logs.Page(group, logstore.Query{Limit: 30}, logstore.Cursor{})
		before, err := nodes[0].reads.Logs.Before(group, logstore.Query{}, at, 256)
		if err != nil || len(before) != 30 {
			t.Errorf("Before = %d events, %v; want the 30 of the first page", len(before), err)
		}
	})
	t.Run("streams and groups", func(t *testing.T) {
		streams, err := nodes[1].reads.Logs.Streams(group)
		if err != nil || len(streams) != 3 {
			t.Errorf("streams %v, %v; want one per node", streams, err)
		}
		groups, err := nodes[0].reads.Logs.Groups()
		if err != nil || len(groups) != 2 || groups[0].Name != "/aws/lambda/fn" || groups[1].Name != "/aws/lambda/other" {
			t.Errorf("groups %+v, %v", groups, err)
		}
		g, ok, err := nodes[0].reads.Logs.Group("/aws/lambda/other") // only on node b
		if err != nil || !ok || g.FirstEvent != readsT0.UnixMilli() {
			t.Errorf("group on another node: %+v, %v, %v", g, ok, err)
		}
		if _, ok, _ := nodes[0].reads.Logs.Group("/aws/lambda/none"); ok {
			t.Error("a group no node holds exists")
		}
	})
}
