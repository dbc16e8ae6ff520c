package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/sluice-dev/sluice/internal/cluster"
	"github.com/sluice-dev/sluice/internal/logstore"
	"github.com/sluice-dev/sluice/internal/metrics"
)

// Cluster-wide reads of node-local data (issue 14, items 5 and 8). Metrics and logs stay where they are produced;
// a read on any node asks every live peer over these signed internal endpoints and merges (metrics.Cluster,
// logstore.Cluster). Each endpoint answers from this node's own store only, so a read never fans out twice.
const (
	pathClusterMetrics     = "/_sluice/cluster/metrics/"
	pathClusterMetricsAggs = pathClusterMetrics + "aggregates"
	pathClusterMetricsList = pathClusterMetrics + "list"
	pathClusterLogs        = "/_sluice/cluster/logs/"
	pathClusterLogsFind    = pathClusterLogs + "find"
	pathClusterLogsStreams = pathClusterLogs + "streams"
	pathClusterLogsGroups  = pathClusterLogs + "groups"

	maxClusterReadBody = 1 << 20
)

// clusterCaller is what the cluster reads need of the membership: *cluster.Cluster.
type clusterCaller interface {
	Self() cluster.Node
	Peers() []cluster.Node
	Call(ctx context.Context, node cluster.Node, method, path string, body io.Reader) (*http.Response, error)
}

var _ clusterCaller = (*cluster.Cluster)(nil)

// clusterReads are this node's cluster-wide readers and the endpoints its peers' readers call.
type clusterReads struct {
	Metrics *metrics.Cluster
	Logs    *logstore.Cluster
	// Handler serves pathClusterMetrics and pathClusterLogs (subtrees) from the local stores; mount it behind
	// cluster.PeersOnly.
	Handler http.Handler
}

// newClusterReads makes the cluster-wide metric and log readers over the local stores and c's live peers.
func newClusterReads(c clusterCaller, ms *metrics.Store, ls *logstore.Store, log *slog.Logger) *clusterReads {
	log = log.With("component", "cluster-reads")
	r := &clusterReads{
		Metrics: metrics.NewCluster(metrics.ClusterOptions{Local: ms, Logger: log, Peers: func() []metrics.Peer {
			var out []metrics.Peer
			for _, n := range c.Peers() {
				out = append(out, metricsPeer{c, n})
			}
			return out
		}}),
		Logs: logstore.NewCluster(logstore.ClusterOptions{Local: ls, Self: c.Self().Name, Logger: log, Peers: func() []logstore.Peer {
			var out []logstore.Peer
			for _, n := range c.Peers() {
				out = append(out, logsPeer{c, n})
			}
			return out
		}}),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+pathClusterMetricsAggs, serveJSON(func(in []metrics.PeerQuery) ([][]metrics.Aggregate, error) {
		out := make([][]metrics.Aggregate, len(in))
		for i, q := range in {
			a, err := ms.Aggregates(q.Query, q.Align)
			if err != nil {
				return nil, err
			}
			out[i] = a
		}
		return out, nil
	}))
	mux.HandleFunc("POST "+pathClusterMetricsList, serveJSON(func(in metricsListRequest) ([]metrics.MetricID, error) {
		return ms.Matching(in.Namespace, in.Name, in.Filters), nil
	}))
	mux.HandleFunc("POST "+pathClusterLogsFind, serveJSON(func(in logsFindRequest) (logsFindResponse, error) {
		events, next, err := ls.Find(in.Group, in.Query)
		return logsFindResponse{Events: events, Next: next}, err
	}))
	mux.HandleFunc("POST "+pathClusterLogsStreams, serveJSON(func(in logsFindRequest) ([]logstore.StreamInfo, error) {
		return ls.Streams(in.Group)
	}))
	mux.HandleFunc("POST "+pathClusterLogsGroups, serveJSON(func(in logsFindRequest) ([]logstore.GroupInfo, error) {
		if in.Group == "" {
			return ls.Groups()
		}
		g, ok, err := ls.Group(in.Group)
		if !ok {
			return []logstore.GroupInfo{}, err
		}
		return []logstore.GroupInfo{g}, err
	}))
	r.Handler = mux
	return r
}

type metricsListRequest struct {
	Namespace, Name string
	Filters         []metrics.DimensionFilter
}

type logsFindRequest struct {
	Group string
	Query logstore.Query
}

type logsFindResponse struct {
	Events []logstore.Event
	Next   int64
}

// serveJSON decodes a request body into In, runs fn and encodes its answer; an error is a 500 with its text.
func serveJSON[In, Out any](fn func(In) (Out, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in In
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxClusterReadBody)).Decode(&in); err != nil {
			http.Error(w, "decode: "+err.Error(), http.StatusBadRequest)
			return
		}
		out, err := fn(in)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(out)
	}
}

// callJSON posts in to node's path and decodes the answer into out.
func callJSON(ctx context.Context, c clusterCaller, node cluster.Node, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	resp, err := c.Call(ctx, node, http.MethodPost, path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("node %s: %s: %w", node.Name, path, err)
	}
	return nil
}

// metricsPeer is a peer's metric store over its internal endpoints.
type metricsPeer struct {
	c    clusterCaller
	node cluster.Node
}

func (p metricsPeer) Name() string { return p.node.Name }

func (p metricsPeer) Aggregates(ctx context.Context, qs []metrics.PeerQuery) ([][]metrics.Aggregate, error) {
	var out [][]metrics.Aggregate
	return out, callJSON(ctx, p.c, p.node, pathClusterMetricsAggs, qs, &out)
}

func (p metricsPeer) Matching(ctx context.Context, namespace, name string, f []metrics.DimensionFilter) ([]metrics.MetricID, error) {
	var out []metrics.MetricID
	return out, callJSON(ctx, p.c, p.node, pathClusterMetricsList, metricsListRequest{namespace, name, f}, &out)
}

// logsPeer is a peer's log store over its internal endpoints.
type logsPeer struct {
	c    clusterCaller
	node cluster.Node
}

func (p logsPeer) Name() string { return p.node.Name }

func (p logsPeer) Find(ctx context.Context, group string, q logstore.Query) ([]logstore.Event, int64, error) {
	var out logsFindResponse
	err := callJSON(ctx, p.c, p.node, pathClusterLogsFind, logsFindRequest{Group: group, Query: q}, &out)
	return out.Events, out.Next, err
}

func (p logsPeer) Streams(ctx context.Context, group string) ([]logstore.StreamInfo, error) {
	var out []logstore.StreamInfo
	return out, callJSON(ctx, p.c, p.node, pathClusterLogsStreams, logsFindRequest{Group: group}, &out)
}

func (p logsPeer) Groups(ctx context.Context, only string) ([]logstore.GroupInfo, error) {
	var out []logstore.GroupInfo
	return out, callJSON(ctx, p.c, p.node, pathClusterLogsGroups, logsFindRequest{Group: only}, &out)
}
