package logsapi

import (
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/logstore"
	"github.com/sluice-dev/sluice/internal/store/bolt"
)

// newGroupsHandler is the handler over the fixture's store with a registry on bbolt whose clock the test sets.
func newGroupsHandler(t *testing.T, now *time.Time) (*Handler, *logstore.Store) {
	t.Helper()
	st, _ := newStore(t)
	db, err := bolt.Open(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	reg := logstore.NewRegistry(db, func() time.Time { return *now })
	return New(st, acct, slog.New(slog.NewTextHandler(io.Discard, nil)), WithRegistry(reg)), st
}

func describeGroups(t *testing.T, h *Handler) map[string]map[string]any {
	t.Helper()
	r := call(t, h, "DescribeLogGroups", map[string]any{})
	out := map[string]map[string]any{}
	list, _ := r.body["logGroups"].([]any)
	for _, g := range list {
		m := g.(map[string]any)
		out[m["logGroupName"].(string)] = m
	}
	return out
}

// TestLogGroupLifecycle: a group made through the API exists before it holds events, with its creation time and
// retention; a function's group (it holds events) cannot be created again; its retention hides the events it let
// go and a deletion every event logged before it, while a later event brings the function's group back.
func TestLogGroupLifecycle(t *testing.T) {
	now := time.UnixMilli(10_000)
	h, st := newGroupsHandler(t, &now)
	const made = "/orders/app"

	for _, tc := range []struct {
		op   string
		in   any
		code string
		msg  string
	}{
		{"CreateLogGroup", map[string]any{"logGroupName": made, "tags": map[string]string{"team": "orders"}}, "", ""},
		{"CreateLogGroup", map[string]any{"logGroupName": made}, "ResourceAlreadyExistsException", "The specified log group already exists"},
		{"CreateLogGroup", map[string]any{"logGroupName": group}, "ResourceAlreadyExistsException", "The specified log group already exists"},
		{"CreateLogGroup", map[string]any{}, "InvalidParameterException", "Value null at 'logGroupName'"},
		{"CreateLogGroup", map[string]any{"logGroupName": "bad name"}, "InvalidParameterException", "Member must satisfy regular expression pattern"},
		{"CreateLogGroup", map[string]any{"logGroupName": "/k", "kmsKeyId": "arn:aws:kms:us-east-1:000000000000:key/1"}, "InvalidParameterException", "no KMS"},
		{"PutRetentionPolicy", map[string]any{"logGroupName": made, "retentionInDays": 2}, "InvalidParameterException",
			"Value '2' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: [1, 3, 5, 7, 14,"},
		{"PutRetentionPolicy", map[string]any{"logGroupName": "/nobody", "retentionInDays": 1}, "ResourceNotFoundException", "The specified log group does not exist."},
		{"PutRetentionPolicy", map[string]any{"logGroupName": made, "retentionInDays": 14}, "", ""},
		{"DeleteLogGroup", map[string]any{"logGroupName": "/nobody"}, "ResourceNotFoundException", "The specified log group does not exist."},
	} {
		r := call(t, h, tc.op, tc.in)
		msg, _ := r.body["message"].(string)
		if r.errCode() != tc.code || !strings.Contains(msg, tc.msg) {
			t.Errorf("%s %v: %d %s %q, want %q %q", tc.op, tc.in, r.status, r.errCode(), msg, tc.code, tc.msg)
		}
	}
	groups := describeGroups(t, h)
	if g := groups[made]; g == nil || g["retentionInDays"] != float64(14) || g["creationTime"] != float64(10_000) ||
		g["arn"] != "arn:aws:logs:us-east-1:000000000000:log-group:/orders/app:*" {
		t.Errorf("described %s = %v", made, g)
	}
	if g := groups[group]; g == nil || g["retentionInDays"] != nil {
		t.Errorf("described %s = %v (no retention)", group, g)
	}
	if r := call(t, h, "DescribeLogStreams", map[string]any{"logGroupName": made}); r.errCode() != "" {
		t.Errorf("an empty recorded group's streams: %s", r.raw)
	}

	// One day of retention on the function's group, two days and 2.5 s after its first event: what came before
	// 1 day + 2.5 s is gone, the streams of those events too.
	now = time.UnixMilli(2*24*3600*1000 + 2500)
	if r := call(t, h, "PutRetentionPolicy", map[string]any{"logGroupName": group, "retentionInDays": 1}); r.errCode() != "" {
		t.Fatalf("retention on a function's group: %s", r.raw)
	}
	now = time.UnixMilli(24*3600*1000 + 2500)
	if events, _ := filterAll(t, h, map[string]any{"logGroupName": group}); len(events) != 3 || events[0].Timestamp != 3000 {
		t.Errorf("events kept by a one-day retention: %+v, want the three from 3000 on", events)
	}
	streams := call(t, h, "DescribeLogStreams", map[string]any{"logGroupName": group}).body["logStreams"].([]any)
	if len(streams) != 1 {
		t.Errorf("streams with kept events: %v", streams)
	}
	if r := call(t, h, "DeleteRetentionPolicy", map[string]any{"logGroupName": group}); r.errCode() != "" {
		t.Fatal(string(r.raw))
	}
	if events, _ := filterAll(t, h, map[string]any{"logGroupName": group}); len(events) != len(seed) {
		t.Errorf("events after the retention was removed: %d, want %d", len(events), len(seed))
	}

	for _, name := range []string{made, group} {
		if r := call(t, h, "DeleteLogGroup", map[string]any{"logGroupName": name}); r.errCode() != "" {
			t.Fatalf("delete %s: %s", name, r.raw)
		}
		if r := call(t, h, "FilterLogEvents", map[string]any{"logGroupName": name}); r.errCode() != "ResourceNotFoundException" {
			t.Errorf("%s after its deletion: %s", name, r.raw)
		}
	}
	if groups := describeGroups(t, h); len(groups) != 0 {
		t.Errorf("groups after the deletions: %v", groups)
	}
	// The function logs again: its group is back, with the new event only.
	now = now.Add(time.Second)
	if err := st.Append(group, []logstore.Event{{Timestamp: now.UnixMilli(), IngestionTime: now.UnixMilli(), Stream: streamA, Message: "again"}}); err != nil {
		t.Fatal(err)
	}
	if events, _ := filterAll(t, h, map[string]any{"logGroupName": group}); len(events) != 1 || events[0].Message != "again" {
		t.Errorf("events after the deletion and a new one: %+v", events)
	}
}
