package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/alarms"
	"github.com/sluice-dev/sluice/internal/metrics"
	"github.com/sluice-dev/sluice/internal/sns"
	"github.com/sluice-dev/sluice/internal/sns/topics"
	"github.com/sluice-dev/sluice/internal/store/bolt"
)

// TestAlarmActionsCatchUp: a transition no subscriber heard (the process died between the evaluation's commit and
// its notification) is published by the catch-up of the next start, once; a catch-up after it sends nothing more.
func TestAlarmActionsCatchUp(t *testing.T) {
	ctx := t.Context()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := bolt.Open(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	al, err := alarms.New(alarms.Options{Store: db, Metrics: metrics.NewStore(metrics.Options{}), Region: "us-east-1", AccountID: "000000000000", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	signer, err := topics.OpenSigner(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu  sync.Mutex
		got []string
	)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, string(b))
		mu.Unlock()
	}))
	defer hook.Close()
	notes := topics.New(topics.Options{Store: db, Account: sns.Account{Region: "us-east-1", ID: "000000000000"}, Endpoint: "http://sluice.test",
		CertPath: snsCertPath, Signer: signer, Logger: quiet})
	topic, err := notes.CreateTopic(ctx, "alerts", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := notes.Subscribe(ctx, topics.SubscribeInput{TopicARN: topic, Protocol: "http", Endpoint: hook.URL})
	if err != nil {
		t.Fatal(err)
	}
	notes.ProcessDue(ctx)
	mu.Lock()
	token := got[0][strings.Index(got[0], `"Token":"`)+9:]
	token = token[:strings.IndexByte(token, '"')]
	mu.Unlock()
	if _, err := notes.ConfirmSubscription(ctx, topic, token, false); err != nil {
		t.Fatal(err, sub)
	}

	if err := al.Put(ctx, alarms.Definition{Name: "errors", ActionsEnabled: true, AlarmActions: []string{topic},
		Metric: metrics.MetricID{Namespace: "App", Name: "Errors"}, Statistic: "Sum", Period: time.Minute, EvaluationPeriods: 1,
		Threshold: 1, ComparisonOperator: "GreaterThanOrEqualToThreshold"}); err != nil {
		t.Fatal(err)
	}
	if err := al.SetState(ctx, "errors", alarms.StateAlarm, "seen while no one listened", ""); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the start after the crash, then another
		catchUpAlarmActions(al, notes, "us-east-1", "000000000000", quiet)
		notes.ProcessDue(context.Background())
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 || !strings.Contains(got[1], `\"NewStateValue\":\"ALARM\"`) || !strings.Contains(got[1], `\"OldStateValue\":\"INSUFFICIENT_DATA\"`) {
		t.Fatalf("deliveries after two catch-ups: %q", got)
	}
}
