package logsapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/sluice-dev/sluice/internal/lambda"
	"github.com/sluice-dev/sluice/internal/logstore"
	"github.com/sluice-dev/sluice/internal/sdkhttp"
)

const (
	group   = "/aws/lambda/orders"
	streamA = "2024/01/02/[$LATEST]aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	streamB = "2024/01/02/[1]bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	streamC = "2024/01/03/[2]cccccccccccccccccccccccccccccccc"
)

var acct = lambda.Account{Region: "us-east-1", ID: "000000000000"}

// seed is the fixture: three streams, interleaved in time, including two identical lines at the same millisecond.
var seed = []logstore.Event{
	{Timestamp: 1000, IngestionTime: 1010, Stream: streamA, Message: "START RequestId: r1 Version: $LATEST"},
	{Timestamp: 1001, IngestionTime: 1010, Stream: streamA, Message: "hello world"},
	{Timestamp: 1002, IngestionTime: 1010, Stream: streamA, Message: "ERROR timeout talking to db"},
	{Timestamp: 1003, IngestionTime: 1010, Stream: streamA, Message: "END RequestId: r1"},
	{Timestamp: 2000, IngestionTime: 2010, Stream: streamB, Message: "START RequestId: r2 Version: 1"},
	{Timestamp: 2001, IngestionTime: 2010, Stream: streamB, Message: "WARN slow response"},
	{Timestamp: 2001, IngestionTime: 2010, Stream: streamB, Message: "WARN slow response"},
	{Timestamp: 2002, IngestionTime: 2010, Stream: streamB, Message: "ERROR retrying"},
	{Timestamp: 2003, IngestionTime: 2010, Stream: streamB, Message: "END RequestId: r2"},
	{Timestamp: 3000, IngestionTime: 3010, Stream: streamC, Message: "START RequestId: r3 Version: 2"},
	{Timestamp: 3001, IngestionTime: 3010, Stream: streamC, Message: "hello, world"},
	{Timestamp: 3002, IngestionTime: 3010, Stream: streamC, Message: "END RequestId: r3"},
}

func newStore(t *testing.T) (*logstore.Store, string) {
	t.Helper()
	dir := t.TempDir()
	st, err := logstore.Open(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	// Append per invocation, as the execution layer does.
	for _, s := range []string{streamA, streamB, streamC} {
		var batch []logstore.Event
		for _, e := range seed {
			if e.Stream == s {
				batch = append(batch, e)
			}
		}
		if err := st.Append(group, batch); err != nil {
			t.Fatal(err)
		}
	}
	return st, dir
}

func newHandler(t *testing.T) (*Handler, *logstore.Store) {
	t.Helper()
	st, _ := newStore(t)
	return New(st, acct, slog.New(slog.NewTextHandler(io.Discard, nil))), st
}

type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

// call sends one JSON 1.1 request to h.
func call(t *testing.T, h http.Handler, op string, in any) response {
	t.Helper()
	var body []byte
	switch v := in.(type) {
	case string:
		body = []byte(v)
	default:
		var err error
		if body, err = json.Marshal(v); err != nil {
			t.Fatal(err)
		}
	}
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	if op != "" {
		req.Header.Set("X-Amz-Target", targetPrefix+op)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	r := response{status: rec.Code, header: rec.Header(), raw: rec.Body.Bytes()}
	if err := json.Unmarshal(r.raw, &r.body); err != nil {
		t.Fatalf("%s: response is not JSON: %s", op, r.raw)
	}
	return r
}

// errCode returns the __type of an error response ("" for success).
func (r response) errCode() string {
	s, _ := r.body["__type"].(string)
	return s
}

type event struct {
	LogStreamName string `json:"logStreamName"`
	Timestamp     int64  `json:"timestamp"`
	Message       string `json:"message"`
	IngestionTime int64  `json:"ingestionTime"`
	EventID       string `json:"eventId"`
}

type filterOut struct {
	Events             []event          `json:"events"`
	SearchedLogStreams []map[string]any `json:"searchedLogStreams"`
	NextToken          string           `json:"nextToken"`
}

func decode[T any](t *testing.T, r response) T {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.raw)
	}
	var v T
	if err := json.Unmarshal(r.raw, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// filterAll pages through FilterLogEvents with req (a map, to which nextToken is added) and returns every event.
func filterAll(t *testing.T, h http.Handler, req map[string]any) ([]event, int) {
	t.Helper()
	var all []event
	pages := 0
	for {
		out := decode[filterOut](t, call(t, h, "FilterLogEvents", req))
		pages++
		if out.Events == nil || out.SearchedLogStreams == nil {
			t.Fatalf("events and searchedLogStreams must be present (as []): %+v", out)
		}
		all = append(all, out.Events...)
		if out.NextToken == "" {
			return all, pages
		}
		if pages > 100 {
			t.Fatal("pagination does not end")
		}
		req["nextToken"] = out.NextToken
	}
}

func messages(events []event) []string {
	var m []string
	for _, e := range events {
		m = append(m, e.Message)
	}
	return m
}

func seedMessages(keep func(logstore.Event) bool) []string {
	var m []string
	for _, e := range seed {
		if keep(e) {
			m = append(m, e.Message)
		}
	}
	return m
}

func TestLogsFilterLogEvents(t *testing.T) {
	h, _ := newHandler(t)
	all := func(logstore.Event) bool { return true }
	cases := []struct {
		name string
		req  map[string]any
		want func(logstore.Event) bool
	}{
		{"everything", map[string]any{}, all},
		{"by identifier", map[string]any{"logGroupIdentifier": group}, all},
		{"by ARN", map[string]any{"logGroupIdentifier": "arn:aws:logs:us-east-1:000000000000:log-group:" + group + ":*"}, all},
		{"interleaved is accepted", map[string]any{"interleaved": true}, all},
		{"stream prefix", map[string]any{"logStreamNamePrefix": "2024/01/02/"},
			func(e logstore.Event) bool { return e.Stream != streamC }},
		{"stream names", map[string]any{"logStreamNames": []string{streamA, streamC}},
			func(e logstore.Event) bool { return e.Stream != streamB }},
		{"time range is inclusive at both ends", map[string]any{"startTime": 1002, "endTime": 2001},
			func(e logstore.Event) bool { return e.Timestamp >= 1002 && e.Timestamp <= 2001 }},
		{"start only", map[string]any{"startTime": 3000}, func(e logstore.Event) bool { return e.Timestamp >= 3000 }},
		{"term", map[string]any{"filterPattern": "ERROR"},
			func(e logstore.Event) bool { return strings.Contains(e.Message, "ERROR") }},
		{"terms are case-sensitive", map[string]any{"filterPattern": "error"}, func(logstore.Event) bool { return false }},
		{"all terms must appear", map[string]any{"filterPattern": "ERROR db"},
			func(e logstore.Event) bool { return e.Message == "ERROR timeout talking to db" }},
		{"quoted phrase", map[string]any{"filterPattern": `"hello world"`},
			func(e logstore.Event) bool { return e.Message == "hello world" }},
		{"unquoted terms are not a phrase", map[string]any{"filterPattern": `world hello`},
			func(e logstore.Event) bool { return strings.HasPrefix(e.Message, "hello") }},
		{"any of", map[string]any{"filterPattern": "?ERROR ?WARN"},
			func(e logstore.Event) bool {
				return strings.Contains(e.Message, "ERROR") || strings.Contains(e.Message, "WARN")
			}},
		{"exclusion", map[string]any{"filterPattern": "ERROR -retrying"},
			func(e logstore.Event) bool { return e.Message == "ERROR timeout talking to db" }},
		{"regular expression", map[string]any{"filterPattern": `%RequestId: r[12]$%`},
			func(e logstore.Event) bool {
				return e.Message == "END RequestId: r1" || e.Message == "END RequestId: r2"
			}},
		{"pattern and stream and time", map[string]any{"filterPattern": "START", "logStreamNamePrefix": "2024/01/0", "startTime": 1500},
			func(e logstore.Event) bool { return strings.HasPrefix(e.Message, "START") && e.Timestamp >= 1500 }},
		{"blank pattern", map[string]any{"filterPattern": "  "}, all},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := tc.req
			if _, ok := req["logGroupIdentifier"]; !ok {
				req["logGroupName"] = group
			}
			got, _ := filterAll(t, h, req)
			if want := seedMessages(tc.want); !slices.Equal(messages(got), want) {
				t.Errorf("got %q\nwant %q", messages(got), want)
			}
			for i, e := range got {
				if i > 0 && e.Timestamp < got[i-1].Timestamp {
					t.Errorf("events out of time order: %v", got)
				}
				if e.LogStreamName == "" || e.IngestionTime == 0 || e.EventID == "" {
					t.Errorf("incomplete event %+v", e)
				}
			}
		})
	}
}

func TestLogsFilterLogEventsPagination(t *testing.T) {
	h, st := newHandler(t)
	full, _ := filterAll(t, h, map[string]any{"logGroupName": group})
	for _, tc := range []struct {
		name      string
		req       map[string]any
		wantPages int
	}{
		{"limit 1", map[string]any{"limit": 1}, len(seed)},
		{"limit 5", map[string]any{"limit": 5}, 3},
		{"limit = size", map[string]any{"limit": len(seed)}, 1},
		// The store pre-filters on "RequestId:" only; the other term rejects candidates, so pages can run short.
		{"post-filtered pattern", map[string]any{"limit": 1, "filterPattern": "RequestId: START"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.req["logGroupName"] = group
			got, pages := filterAll(t, h, tc.req)
			want := full
			if p, ok := tc.req["filterPattern"].(string); ok {
				pat, _ := parsePattern(p)
				want = slices.DeleteFunc(slices.Clone(full), func(e event) bool { return !pat.match(e.Message) })
			}
			if !slices.Equal(messages(got), messages(want)) {
				t.Errorf("paged result %q, want %q", messages(got), messages(want))
			}
			if tc.wantPages != 0 && pages != tc.wantPages {
				t.Errorf("%d pages, want %d", pages, tc.wantPages)
			}
			ids := map[string]bool{}
			for i, e := range got {
				if ids[e.EventID] {
					t.Errorf("duplicate eventId %s", e.EventID)
				}
				ids[e.EventID] = true
				if e.EventID != want[i].EventID {
					t.Errorf("event %d has ID %s when paged, %s otherwise", i, e.EventID, want[i].EventID)
				}
			}
		})
	}

	// Events appended between pages are found on later pages.
	first := decode[filterOut](t, call(t, h, "FilterLogEvents", map[string]any{"logGroupName": group, "limit": 10}))
	if err := st.Append(group, []logstore.Event{{Timestamp: 4000, IngestionTime: 4000, Stream: streamC, Message: "late"}}); err != nil {
		t.Fatal(err)
	}
	rest, _ := filterAll(t, h, map[string]any{"logGroupName": group, "limit": 10, "nextToken": first.NextToken})
	if got := messages(append(first.Events, rest...)); len(got) != len(seed)+1 || got[len(got)-1] != "late" {
		t.Errorf("with an append between pages: %q", got)
	}

	// A token only continues the query it came from.
	r := call(t, h, "FilterLogEvents", map[string]any{"logGroupName": group, "limit": 10, "nextToken": first.NextToken, "filterPattern": "ERROR"})
	if r.status != 400 || r.errCode() != codeInvalidParameter {
		t.Errorf("token reused with another pattern: %d %s", r.status, r.raw)
	}
}

func TestLogsFilterLogEventsIDsAreStable(t *testing.T) {
	h, _ := newHandler(t)
	a, _ := filterAll(t, h, map[string]any{"logGroupName": group})
	b, _ := filterAll(t, h, map[string]any{"logGroupName": group, "startTime": 2001})
	ids := map[string]string{} // eventId → message
	for _, e := range a {
		ids[e.EventID] = e.Message
	}
	if len(b) == 0 {
		t.Fatal("nothing from startTime 2001")
	}
	for _, e := range b {
		if ids[e.EventID] != e.Message {
			t.Errorf("event %q has ID %s from startTime 2001 and another from the start", e.Message, e.EventID)
		}
	}
	// The two identical WARN lines keep distinct IDs.
	var warn []string
	for _, e := range a {
		if strings.HasPrefix(e.Message, "WARN") {
			warn = append(warn, e.EventID)
		}
	}
	if len(warn) != 2 || warn[0] == warn[1] {
		t.Errorf("identical lines got IDs %v", warn)
	}
}

type getOut struct {
	Events            []event `json:"events"`
	NextForwardToken  string  `json:"nextForwardToken"`
	NextBackwardToken string  `json:"nextBackwardToken"`
}

func TestLogsGetLogEvents(t *testing.T) {
	h, st := newHandler(t)
	streamMsgs := seedMessages(func(e logstore.Event) bool { return e.Stream == streamB })

	// Forward from the head, one event per page, until the token repeats.
	var got []string
	req := map[string]any{"logGroupName": group, "logStreamName": streamB, "startFromHead": true, "limit": 1}
	var last getOut
	for i := 0; ; i++ {
		out := decode[getOut](t, call(t, h, "GetLogEvents", req))
		if !strings.HasPrefix(out.NextForwardToken, "f/") || !strings.HasPrefix(out.NextBackwardToken, "b/") {
			t.Fatalf("tokens %q %q", out.NextForwardToken, out.NextBackwardToken)
		}
		got = append(got, messages(out.Events)...)
		if tok, _ := req["nextToken"].(string); tok == out.NextForwardToken {
			if len(out.Events) != 0 {
				t.Fatalf("the forward token repeated on a page with events")
			}
			last = out
			break
		}
		if i > 20 {
			t.Fatal("forward pagination does not end")
		}
		req["nextToken"] = out.NextForwardToken
	}
	if !slices.Equal(got, streamMsgs) {
		t.Errorf("forward pages %q, want %q", got, streamMsgs)
	}

	// New events in the stream show up behind the final forward token.
	if err := st.Append(group, []logstore.Event{{Timestamp: 2003, IngestionTime: 2100, Stream: streamB, Message: "same ms as END"},
		{Timestamp: 2500, IngestionTime: 2600, Stream: streamB, Message: "later"}}); err != nil {
		t.Fatal(err)
	}
	out := decode[getOut](t, call(t, h, "GetLogEvents", map[string]any{"logGroupName": group, "logStreamName": streamB, "nextToken": last.NextForwardToken}))
	if m := messages(out.Events); !slices.Equal(m, []string{"same ms as END", "later"}) {
		t.Errorf("after new events the forward token yields %q", m)
	}
	streamMsgs = append(streamMsgs, "same ms as END", "later")

	// Default: the newest events; then backward until the token repeats.
	req = map[string]any{"logGroupName": group, "logStreamName": streamB, "limit": 2}
	out = decode[getOut](t, call(t, h, "GetLogEvents", req))
	if m := messages(out.Events); !slices.Equal(m, streamMsgs[len(streamMsgs)-2:]) {
		t.Errorf("default page %q, want the newest two", m)
	}
	back := messages(out.Events)
	for i := 0; ; i++ {
		req["nextToken"] = out.NextBackwardToken
		out = decode[getOut](t, call(t, h, "GetLogEvents", req))
		if out.NextBackwardToken == req["nextToken"] {
			if len(out.Events) != 0 {
				t.Fatalf("the backward token repeated on a page with events")
			}
			break
		}
		if i > 20 {
			t.Fatal("backward pagination does not end")
		}
		back = append(messages(out.Events), back...)
	}
	if !slices.Equal(back, streamMsgs) {
		t.Errorf("backward pages %q, want %q", back, streamMsgs)
	}

	// Time range: startTime inclusive, endTime exclusive.
	out = decode[getOut](t, call(t, h, "GetLogEvents", map[string]any{"logGroupName": group, "logStreamName": streamB,
		"startTime": 2001, "endTime": 2003, "startFromHead": true}))
	if m := messages(out.Events); !slices.Equal(m, []string{"WARN slow response", "WARN slow response", "ERROR retrying"}) {
		t.Errorf("time range gave %q", m)
	}
	// An empty range still answers with tokens, and they repeat.
	req = map[string]any{"logGroupName": group, "logStreamName": streamB, "startTime": 9000}
	out = decode[getOut](t, call(t, h, "GetLogEvents", req))
	req["nextToken"] = out.NextForwardToken
	out2 := decode[getOut](t, call(t, h, "GetLogEvents", req))
	if len(out.Events)+len(out2.Events) != 0 || out2.NextForwardToken != out.NextForwardToken {
		t.Errorf("empty range: %+v then %+v", out, out2)
	}
}

func TestLogsDescribeLogStreams(t *testing.T) {
	h, _ := newHandler(t)
	type streamsOut struct {
		LogStreams []struct {
			LogStreamName       string `json:"logStreamName"`
			CreationTime        int64  `json:"creationTime"`
			FirstEventTimestamp int64  `json:"firstEventTimestamp"`
			LastEventTimestamp  int64  `json:"lastEventTimestamp"`
			LastIngestionTime   int64  `json:"lastIngestionTime"`
			Arn                 string `json:"arn"`
		} `json:"logStreams"`
		NextToken string `json:"nextToken"`
	}
	list := func(req map[string]any) []string {
		req["logGroupName"] = group
		var names []string
		for i := 0; ; i++ {
			out := decode[streamsOut](t, call(t, h, "DescribeLogStreams", req))
			for _, s := range out.LogStreams {
				names = append(names, s.LogStreamName)
				if s.Arn != "arn:aws:logs:us-east-1:000000000000:log-group:"+group+":log-stream:"+s.LogStreamName ||
					s.FirstEventTimestamp == 0 || s.LastEventTimestamp < s.FirstEventTimestamp || s.CreationTime == 0 || s.LastIngestionTime == 0 {
					t.Errorf("stream %+v", s)
				}
			}
			if out.NextToken == "" {
				return names
			}
			if i > 10 {
				t.Fatal("pagination does not end")
			}
			req["nextToken"] = out.NextToken
		}
	}
	for _, tc := range []struct {
		name string
		req  map[string]any
		want []string
	}{
		{"default: by name", map[string]any{}, []string{streamA, streamB, streamC}},
		{"descending", map[string]any{"descending": true}, []string{streamC, streamB, streamA}},
		{"prefix", map[string]any{"logStreamNamePrefix": "2024/01/02/[1"}, []string{streamB}},
		{"by last event, newest first", map[string]any{"orderBy": "LastEventTime", "descending": true}, []string{streamC, streamB, streamA}},
		{"paged", map[string]any{"limit": 1}, []string{streamA, streamB, streamC}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := list(tc.req); !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestLogsDescribeLogGroups(t *testing.T) {
	st, dir := newStore(t)
	if err := st.Append("/aws/lambda/other_fn", []logstore.Event{{Timestamp: 5, IngestionTime: 6, Stream: streamA, Message: "x"}}); err != nil {
		t.Fatal(err)
	}
	type groupsOut struct {
		LogGroups []struct {
			LogGroupName string `json:"logGroupName"`
			CreationTime int64  `json:"creationTime"`
			Arn          string `json:"arn"`
			StoredBytes  int64  `json:"storedBytes"`
		} `json:"logGroups"`
		NextToken string `json:"nextToken"`
	}
	names := func(h http.Handler, req map[string]any) []string {
		out := decode[groupsOut](t, call(t, h, "DescribeLogGroups", req))
		var n []string
		for _, g := range out.LogGroups {
			n = append(n, g.LogGroupName)
			if g.Arn != "arn:aws:logs:us-east-1:000000000000:log-group:"+g.LogGroupName+":*" || g.StoredBytes == 0 || g.CreationTime == 0 {
				t.Errorf("group %+v", g)
			}
		}
		return n
	}
	h := New(st, acct, slog.New(slog.NewTextHandler(io.Discard, nil)))
	// A second store on the same directory has not written anything: it recovers the names from the files.
	st2, err := logstore.Open(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	h2 := New(st2, acct, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for _, hh := range []http.Handler{h, h2} {
		if got := names(hh, map[string]any{}); !slices.Equal(got, []string{group, "/aws/lambda/other_fn"}) {
			t.Errorf("all groups: %q", got)
		}
		if got := names(hh, map[string]any{"logGroupNamePrefix": "/aws/lambda/oth"}); !slices.Equal(got, []string{"/aws/lambda/other_fn"}) {
			t.Errorf("prefix: %q", got)
		}
		if got := names(hh, map[string]any{"logGroupNamePattern": "ORDERS"}); !slices.Equal(got, []string{group}) {
			t.Errorf("pattern: %q", got)
		}
		if got := names(hh, map[string]any{"logGroupNamePrefix": "/nothing"}); len(got) != 0 {
			t.Errorf("no match: %q", got)
		}
	}
	out := decode[groupsOut](t, call(t, h, "DescribeLogGroups", map[string]any{"limit": 1}))
	if len(out.LogGroups) != 1 || out.NextToken == "" {
		t.Fatalf("limit 1: %+v", out)
	}
	if got := names(h, map[string]any{"limit": 1, "nextToken": out.NextToken}); !slices.Equal(got, []string{"/aws/lambda/other_fn"}) {
		t.Errorf("second page: %q", got)
	}
}

func TestLogsErrors(t *testing.T) {
	h, _ := newHandler(t)
	notFoundGroup := map[string]any{"logGroupName": "/aws/lambda/nope"}
	cases := []struct {
		name, op string
		in       any
		status   int
		code     string
		message  string
	}{
		{"filter: missing group", "FilterLogEvents", notFoundGroup, 400, codeResourceNotFound, msgNoGroup},
		{"get: missing group", "GetLogEvents", map[string]any{"logGroupName": "/aws/lambda/nope", "logStreamName": streamA}, 400, codeResourceNotFound, msgNoGroup},
		{"streams: missing group", "DescribeLogStreams", notFoundGroup, 400, codeResourceNotFound, msgNoGroup},
		{"ARN of another account", "FilterLogEvents", map[string]any{"logGroupIdentifier": "arn:aws:logs:us-east-1:111111111111:log-group:" + group}, 400, codeResourceNotFound, msgNoGroup},
		{"get: missing stream", "GetLogEvents", map[string]any{"logGroupName": group, "logStreamName": "2024/01/01/[$LATEST]none"}, 400, codeResourceNotFound, msgNoStream},
		{"get: no stream name", "GetLogEvents", map[string]any{"logGroupName": group}, 400, codeInvalidParameter, ""},
		{"no group", "FilterLogEvents", map[string]any{}, 400, codeInvalidParameter, ""},
		{"name and identifier", "FilterLogEvents", map[string]any{"logGroupName": group, "logGroupIdentifier": group}, 400, codeInvalidParameter, ""},
		{"bad group name", "FilterLogEvents", map[string]any{"logGroupName": "bad name"}, 400, codeInvalidParameter, ""},
		{"limit 0", "FilterLogEvents", map[string]any{"logGroupName": group, "limit": 0}, 400, codeInvalidParameter, ""},
		{"limit too big", "GetLogEvents", map[string]any{"logGroupName": group, "logStreamName": streamA, "limit": 10001}, 400, codeInvalidParameter, ""},
		{"describe limit too big", "DescribeLogStreams", map[string]any{"logGroupName": group, "limit": 51}, 400, codeInvalidParameter, ""},
		{"negative time", "FilterLogEvents", map[string]any{"logGroupName": group, "startTime": -1}, 400, codeInvalidParameter, ""},
		{"names and prefix", "FilterLogEvents", map[string]any{"logGroupName": group, "logStreamNames": []string{streamA}, "logStreamNamePrefix": "2024"}, 400, codeInvalidParameter, ""},
		{"JSON pattern", "FilterLogEvents", map[string]any{"logGroupName": group, "filterPattern": `{ $.level = "error" }`}, 400, codeInvalidParameter, ""},
		{"bad regex", "FilterLogEvents", map[string]any{"logGroupName": group, "filterPattern": `%(%`}, 400, codeInvalidParameter, ""},
		{"unterminated phrase", "FilterLogEvents", map[string]any{"logGroupName": group, "filterPattern": `"abc`}, 400, codeInvalidParameter, ""},
		{"bad token", "FilterLogEvents", map[string]any{"logGroupName": group, "nextToken": "garbage"}, 400, codeInvalidParameter, "The specified nextToken is invalid."},
		{"bad get token", "GetLogEvents", map[string]any{"logGroupName": group, "logStreamName": streamA, "nextToken": "x/123"}, 400, codeInvalidParameter, "The specified nextToken is invalid."},
		{"order by time with prefix", "DescribeLogStreams", map[string]any{"logGroupName": group, "orderBy": "LastEventTime", "logStreamNamePrefix": "2024"}, 400, codeInvalidParameter, "Cannot order by LastEventTime with a logStreamNamePrefix."},
		{"bad orderBy", "DescribeLogStreams", map[string]any{"logGroupName": group, "orderBy": "Size"}, 400, codeInvalidParameter, ""},
		{"unknown operation", "PutLogEvents", map[string]any{}, 400, codeUnknownOperation, ""},
		{"no target", "", map[string]any{}, 400, codeUnknownOperation, ""},
		{"malformed JSON", "FilterLogEvents", `{"logGroupName":`, 400, codeSerialization, ""},
		{"wrong type", "FilterLogEvents", `{"logGroupName": 5}`, 400, codeSerialization, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, h, tc.op, tc.in)
			if r.status != tc.status || r.errCode() != tc.code || r.header.Get("x-amzn-ErrorType") != tc.code {
				t.Errorf("got %d %s (header %q), want %d %s: %s", r.status, r.errCode(), r.header.Get("x-amzn-ErrorType"), tc.status, tc.code, r.raw)
			}
			if ct := r.header.Get("Content-Type"); ct != contentType {
				t.Errorf("Content-Type %q", ct)
			}
			msg, _ := r.body["message"].(string)
			if tc.message != "" && msg != tc.message || msg == "" {
				t.Errorf("message %q, want %q", msg, tc.message)
			}
		})
	}
}

// TestLogsSDK drives the handler with aws-sdk-go-v2's CloudWatch Logs client: its JSON 1.1 encoding, error decoding
// and paginators (which stop when GetLogEvents hands back the token they sent).
func TestLogsSDK(t *testing.T) {
	h, _ := newHandler(t)
	srv := httptest.NewServer(h)
	defer srv.Close()
	c := cloudwatchlogs.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""), Retryer: func() aws.Retryer { return aws.NopRetryer{} }, HTTPClient: sdkhttp.Wrap(nil)})
	ctx := t.Context()

	var got []string
	for p := cloudwatchlogs.NewFilterLogEventsPaginator(c, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group), Limit: aws.Int32(4)}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Events {
			got = append(got, aws.ToString(e.Message))
		}
	}
	if want := seedMessages(func(logstore.Event) bool { return true }); !slices.Equal(got, want) {
		t.Errorf("FilterLogEvents paginator: %q", got)
	}

	got = nil
	pages := 0
	for p := cloudwatchlogs.NewGetLogEventsPaginator(c, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String(group),
		LogStreamName: aws.String(streamA), StartFromHead: aws.Bool(true), Limit: aws.Int32(3)},
		func(o *cloudwatchlogs.GetLogEventsPaginatorOptions) { o.StopOnDuplicateToken = true }); p.HasMorePages(); pages++ {
		if pages > 10 {
			t.Fatal("GetLogEvents paginator does not stop")
		}
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Events {
			got = append(got, aws.ToString(e.Message))
		}
	}
	if want := seedMessages(func(e logstore.Event) bool { return e.Stream == streamA }); !slices.Equal(got, want) {
		t.Errorf("GetLogEvents paginator: %q", got)
	}

	streams, err := c.DescribeLogStreams(ctx, &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String(group),
		OrderBy: types.OrderByLastEventTime, Descending: aws.Bool(true), Limit: aws.Int32(1)})
	if err != nil || len(streams.LogStreams) != 1 || aws.ToString(streams.LogStreams[0].LogStreamName) != streamC || streams.NextToken == nil {
		t.Errorf("DescribeLogStreams: %v %+v", err, streams)
	}
	groups, err := c.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{})
	if err != nil || len(groups.LogGroups) != 1 || aws.ToString(groups.LogGroups[0].LogGroupName) != group {
		t.Errorf("DescribeLogGroups: %v %+v", err, groups)
	}

	_, err = c.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/aws/lambda/nope")})
	var rnf *types.ResourceNotFoundException
	if !errors.As(err, &rnf) || rnf.ErrorMessage() != msgNoGroup {
		t.Errorf("missing group: %v", err)
	}
	_, err = c.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String("nope")})
	if !errors.As(err, &rnf) || rnf.ErrorMessage() != msgNoStream {
		t.Errorf("missing stream: %v", err)
	}
	var ipe *types.InvalidParameterException
	_, err = c.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group), FilterPattern: aws.String("{ $.a = 1 }")})
	if !errors.As(err, &ipe) {
		t.Errorf("JSON pattern: %v", err)
	}
}

// TestPageTokenCursors: a token keeps a cluster cursor (each node's offset) and a single store's offset, and is
// refused for another request.
func TestPageTokenCursors(t *testing.T) {
	for _, at := range []logstore.Cursor{{"": 0}, {"": 12345}, {"node-a": 3, "node b,=x": 0, "c": 99}} {
		s := pageToken{at: at, fingerprint: 42}.String()
		got, err := parsePageToken(&s, 42)
		if err != nil || !reflect.DeepEqual(got, at) {
			t.Errorf("%v: round trip gave %v, %v", at, got, err)
		}
		if _, err := parsePageToken(&s, 43); err == nil {
			t.Errorf("%v: accepted for another request", at)
		}
	}
	if s := offsetToken(7, 1).String(); s != "MTo3OjE" { // "1:7:1", as before cluster cursors
		t.Errorf("single-store token %q changed form", s)
	}
}
