package cloudwatchapi_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/sluice-dev/sluice/internal/alarms"
	"github.com/sluice-dev/sluice/internal/api/cloudwatchapi"
	"github.com/sluice-dev/sluice/internal/metrics"
)

// call is one backend call as the fake recorded it.
type call struct {
	Op   string
	Args any
}

// Argument records of the calls whose methods take several arguments.
type (
	setStateArgs struct{ Name, State, Reason, ReasonData string }
	actionsArgs  struct {
		Names   []string
		Enabled bool
	}
)

// fake is an in-memory Backend at the true edge: it records every call and answers what the test configured.
type fake struct {
	mu    sync.Mutex
	calls []call

	alarms     []alarms.Alarm
	history    []alarms.HistoryItem
	datapoints []metrics.Datapoint
	metricIDs  []metrics.MetricID
	nextToken  string
	// errs answers the named operation with an error.
	errs map[string]error
	// fail, when set, decides the error of a call from its arguments.
	fail func(op string, args any) error
	// requests are the indexes in calls where each request's calls start.
	requests []int
}

func (f *fake) record(op string, args any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call{op, args})
	if f.fail != nil {
		if err := f.fail(op, args); err != nil {
			return err
		}
	}
	return f.errs[op]
}

// startRequest notes that the calls that follow belong to a new request.
func (f *fake) startRequest() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, len(f.calls))
}

// callsByRequest returns the calls each request caused, in request order.
func (f *fake) callsByRequest() [][]call {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([][]call, len(f.requests))
	for i, start := range f.requests {
		end := len(f.calls)
		if i+1 < len(f.requests) {
			end = f.requests[i+1]
		}
		out[i] = f.calls[start:end]
	}
	return out
}

// takeCalls returns the calls recorded so far and forgets them.
func (f *fake) takeCalls() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.calls
	f.calls = nil
	return c
}

func (f *fake) PutMetricAlarm(_ context.Context, d alarms.Definition) error {
	return f.record("PutMetricAlarm", d)
}

func (f *fake) DescribeAlarms(_ context.Context, flt cloudwatchapi.AlarmFilter) ([]alarms.Alarm, string, error) {
	if err := f.record("DescribeAlarms", flt); err != nil {
		return nil, "", err
	}
	return f.alarms, f.nextToken, nil
}

func (f *fake) PutCompositeAlarm(_ context.Context, d alarms.Definition) error {
	return f.record("PutCompositeAlarm", d)
}

func (f *fake) AlarmChildren(_ context.Context, name string) ([]alarms.Alarm, error) {
	if err := f.record("AlarmChildren", name); err != nil {
		return nil, err
	}
	return f.alarms, nil
}

func (f *fake) AlarmParents(_ context.Context, name string) ([]alarms.Alarm, error) {
	if err := f.record("AlarmParents", name); err != nil {
		return nil, err
	}
	return f.alarms, nil
}

func (f *fake) DescribeAlarmsForMetric(_ context.Context, flt cloudwatchapi.MetricAlarmFilter) ([]alarms.Alarm, error) {
	if err := f.record("DescribeAlarmsForMetric", flt); err != nil {
		return nil, err
	}
	return f.alarms, nil
}

func (f *fake) DeleteAlarms(_ context.Context, names []string) error {
	return f.record("DeleteAlarms", names)
}

func (f *fake) SetAlarmState(_ context.Context, name, state, reason, reasonData string) error {
	return f.record("SetAlarmState", setStateArgs{name, state, reason, reasonData})
}

func (f *fake) DescribeAlarmHistory(_ context.Context, flt cloudwatchapi.HistoryFilter) ([]alarms.HistoryItem, string, error) {
	if err := f.record("DescribeAlarmHistory", flt); err != nil {
		return nil, "", err
	}
	return f.history, f.nextToken, nil
}

func (f *fake) SetAlarmActions(_ context.Context, names []string, enabled bool) error {
	return f.record("SetAlarmActions", actionsArgs{names, enabled})
}

func (f *fake) PutMetricData(_ context.Context, data []cloudwatchapi.Datum) error {
	return f.record("PutMetricData", data)
}

func (f *fake) Statistics(_ context.Context, q metrics.Query) ([]metrics.Datapoint, error) {
	if err := f.record("Statistics", q); err != nil {
		return nil, err
	}
	return f.datapoints, nil
}

func (f *fake) ListMetrics(_ context.Context, flt cloudwatchapi.ListMetricsFilter) ([]metrics.MetricID, string, error) {
	if err := f.record("ListMetrics", flt); err != nil {
		return nil, "", err
	}
	return f.metricIDs, f.nextToken, nil
}

// server is the handler over a fake, behind an httptest server that notes the protocol of every request.
type server struct {
	*httptest.Server
	fake *fake
	mu   sync.Mutex
	seen []string // protocol of each request: rpcv2Cbor, awsJson1_0 or awsQuery
	// encodings are the Content-Encoding headers of the requests.
	encodings []string
}

func newServer(t *testing.T) *server {
	t.Helper()
	s := &server{fake: &fake{}}
	h := cloudwatchapi.New(s.fake, slog.New(slog.NewTextHandler(io.Discard, nil)))
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.seen = append(s.seen, protocolOf(r))
		s.encodings = append(s.encodings, r.Header.Get("Content-Encoding"))
		s.mu.Unlock()
		s.fake.startRequest()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// protocolOf says which protocol a request is in, judging by what its client sent.
func protocolOf(r *http.Request) string {
	switch {
	case strings.HasPrefix(r.URL.Path, "/service/") && r.Header.Get("Smithy-Protocol") == "rpc-v2-cbor":
		return "rpcv2Cbor"
	case r.Header.Get("X-Amz-Target") != "" && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-amz-json-1.0"):
		return "awsJson1_0"
	case strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded"):
		return "awsQuery"
	}
	return "unknown"
}

// protocols returns the protocols seen since the last call, and forgets them.
func (s *server) protocols() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.seen
	s.seen = nil
	return p
}
