package topics

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/sns"
	"github.com/sluice-dev/sluice/internal/store"
	"github.com/sluice-dev/sluice/internal/store/bolt"
	"github.com/sluice-dev/sluice/internal/store/storetest"
)

// fixture serves the service over a real bbolt file whose Update closures all run twice, with a clock the test
// steps, a recording HTTP endpoint and fake functions.
type fixture struct {
	svc     *Service
	db      store.Store
	closer  func() error
	path    string
	dataDir string
	now     time.Time
	opts    func(*Options)

	hook   *httptest.Server
	mu     sync.Mutex
	got    []delivered
	status int

	fns *fakeFunctions
}

type delivered struct {
	header http.Header
	body   string
}

type fakeFunctions struct {
	mu      sync.Mutex
	allow   bool
	invoked []string
}

func (f *fakeFunctions) AllowsSNS(_ context.Context, functionARN, topicARN string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.allow, nil
}

func (f *fakeFunctions) InvokeAsync(_ context.Context, name, qualifier string, payload []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.invoked = append(f.invoked, name+":"+qualifier+" "+string(payload))
	return nil
}

func newFixture(t *testing.T, opts func(*Options)) *fixture {
	t.Helper()
	f := &fixture{path: filepath.Join(t.TempDir(), "db"), dataDir: t.TempDir(), now: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC),
		status: http.StatusOK, fns: &fakeFunctions{}, opts: opts}
	f.hook = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.got = append(f.got, delivered{r.Header.Clone(), string(b)})
		status := f.status
		f.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(f.hook.Close)
	f.open(t)
	return f
}

func (f *fixture) open(t *testing.T) {
	t.Helper()
	if f.closer != nil {
		f.closer()
	}
	db, err := bolt.Open(f.path)
	if err != nil {
		t.Fatal(err)
	}
	f.closer = db.Close
	t.Cleanup(func() { db.Close() })
	f.db = storetest.RerunUpdates(db)
	signer, err := OpenSigner(f.dataDir)
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Store: f.db, Account: sns.Account{Region: "us-east-1", ID: "000000000000"}, Endpoint: "http://sluice.test",
		CertPath: "/_sluice/sns/", Signer: signer, Functions: f.fns, Now: func() time.Time { return f.now }}
	if f.opts != nil {
		f.opts(&o)
	}
	f.svc = New(o)
}

func (f *fixture) deliveries() []delivered {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]delivered(nil), f.got...)
}

func (f *fixture) setStatus(s int) {
	f.mu.Lock()
	f.status = s
	f.mu.Unlock()
}

func codeOf(err error) string {
	if err == nil {
		return ""
	}
	if f, ok := fault.As(err); ok {
		return f.Code
	}
	return "not a fault: " + err.Error()
}

func (f *fixture) topic(t *testing.T, name string, attrs map[string]string) string {
	t.Helper()
	arn, err := f.svc.CreateTopic(t.Context(), name, attrs, nil)
	if err != nil {
		t.Fatal(err)
	}
	return arn
}

// verify checks a delivered document's signature with the signer's certificate, as a subscriber does.
func (f *fixture) verify(t *testing.T, d delivered) sns.Document {
	t.Helper()
	var doc sns.Document
	if err := json.Unmarshal([]byte(d.body), &doc); err != nil {
		t.Fatalf("%v: %s", err, d.body)
	}
	block, _ := pem.Decode(f.svc.o.Signer.CertPEM())
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	sig, _ := base64.StdEncoding.DecodeString(doc.Signature)
	sum := sha256.Sum256([]byte(doc.StringToSign()))
	if doc.SignatureVersion != "2" {
		t.Fatalf("SignatureVersion %s", doc.SignatureVersion)
	}
	if err := rsa.VerifyPKCS1v15(cert.PublicKey.(*rsa.PublicKey), crypto.SHA256, sum[:], sig); err != nil {
		t.Fatalf("signature: %v", err)
	}
	if doc.SigningCertURL != "http://sluice.test/_sluice/sns/"+f.svc.o.Signer.CertName {
		t.Errorf("SigningCertURL %s", doc.SigningCertURL)
	}
	return doc
}

// TestSubscribeConfirmPublish: an HTTP subscription is pending until confirmed with the token its signed
// SubscriptionConfirmation carries; a message published meanwhile is not delivered to it, one published after is.
func TestSubscribeConfirmPublish(t *testing.T) {
	f := newFixture(t, nil)
	ctx := t.Context()
	topicARN := f.topic(t, "alerts", map[string]string{"SignatureVersion": "2"})
	sub, err := f.svc.Subscribe(ctx, SubscribeInput{TopicARN: topicARN, Protocol: "http", Endpoint: f.hook.URL + "/in", Owner: "000000000000"})
	if err != nil || !sub.Pending {
		t.Fatalf("Subscribe: %+v %v", sub, err)
	}
	again, err := f.svc.Subscribe(ctx, SubscribeInput{TopicARN: topicARN, Protocol: "http", Endpoint: f.hook.URL + "/in"})
	if err != nil || again.ARN != sub.ARN {
		t.Fatalf("subscribing again: %+v %v", again, err)
	}
	if _, err := f.svc.Publish(ctx, topicARN, sns.Message{Body: "early"}); err != nil {
		t.Fatal(err)
	}
	f.svc.ProcessDue(ctx)
	got := f.deliveries()
	if len(got) != 2 { // one confirmation request per Subscribe of a pending subscription; no message
		t.Fatalf("delivered %d, want the 2 confirmation requests: %+v", len(got), got)
	}
	conf := f.verify(t, got[1])
	if conf.Type != sns.TypeSubscriptionConfirmation || got[1].header.Get("x-amz-sns-message-type") != "SubscriptionConfirmation" ||
		!strings.HasPrefix(conf.SubscribeURL, "http://sluice.test/?Action=ConfirmSubscription&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A000000000000%3Aalerts&Token=") {
		t.Fatalf("confirmation: %+v", conf)
	}
	if _, err := f.svc.ConfirmSubscription(ctx, topicARN, "wrong", false); codeOf(err) != sns.CodeInvalidParameter {
		t.Fatalf("a wrong token: %v", err)
	}
	arn, err := f.svc.ConfirmSubscription(ctx, topicARN, conf.Token, false)
	if err != nil || arn != sub.ARN {
		t.Fatalf("ConfirmSubscription: %s %v", arn, err)
	}
	if again, err := f.svc.ConfirmSubscription(ctx, topicARN, conf.Token, false); err != nil || again != arn {
		t.Fatalf("confirming twice: %s %v", again, err)
	}
	id, err := f.svc.Publish(ctx, topicARN, sns.Message{Body: "hello", Subject: "s", Attributes: map[string]sns.MessageAttribute{"k": {DataType: "String", StringValue: "v"}}})
	if err != nil {
		t.Fatal(err)
	}
	f.svc.ProcessDue(ctx)
	got = f.deliveries()
	if len(got) != 3 {
		t.Fatalf("delivered %d, want 3", len(got))
	}
	n := f.verify(t, got[2])
	if n.Type != sns.TypeNotification || n.MessageID != id || n.Message != "hello" || n.MessageAttributes["k"].Value != "v" ||
		got[2].header.Get("x-amz-sns-subscription-arn") != sub.ARN || got[2].header.Get("Content-Type") != "text/plain; charset=UTF-8" {
		t.Fatalf("notification %+v %v", n, got[2].header)
	}
	attrs, err := f.svc.TopicAttributes(ctx, topicARN)
	if err != nil || attrs["SubscriptionsConfirmed"] != "1" || attrs["SubscriptionsPending"] != "0" || attrs["SignatureVersion"] != "2" {
		t.Fatalf("TopicAttributes: %v %v", attrs, err)
	}
	if depth, _ := f.svc.QueueDepth(ctx); depth != 0 {
		t.Errorf("queue depth %d after every delivery", depth)
	}
}

// TestRetriesOnTheDeliveryPolicy: a failing endpoint is retried on the topic's delivery policy, on the clock,
// and the delivery is given up after its last retry; 4xx answers count as delivered, as on SNS.
func TestRetriesOnTheDeliveryPolicy(t *testing.T) {
	f := newFixture(t, nil)
	ctx := t.Context()
	topicARN := f.topic(t, "t", map[string]string{"DeliveryPolicy": `{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":5,"maxDelayTarget":5,"numRetries":2}}}`})
	f.confirmed(t, topicARN)
	f.setStatus(http.StatusInternalServerError)
	if _, err := f.svc.Publish(ctx, topicARN, sns.Message{Body: "m"}); err != nil {
		t.Fatal(err)
	}
	attempts := func() int { return len(f.deliveries()) - 1 } // the first was the confirmation request
	steps := []struct {
		advance time.Duration
		want    int
	}{{0, 1}, {4 * time.Second, 1}, {time.Second, 2}, {5 * time.Second, 3}, {time.Hour, 3}}
	for i, s := range steps {
		f.now = f.now.Add(s.advance)
		f.svc.ProcessDue(ctx)
		if got := attempts(); got != s.want {
			t.Fatalf("step %d (+%s): %d attempts, want %d", i, s.advance, got, s.want)
		}
	}
	if depth, _ := f.svc.QueueDepth(ctx); depth != 0 {
		t.Errorf("queue depth %d after giving up", depth)
	}
	f.setStatus(http.StatusNotFound)
	if _, err := f.svc.Publish(ctx, topicARN, sns.Message{Body: "m2"}); err != nil {
		t.Fatal(err)
	}
	f.svc.ProcessDue(ctx)
	if depth, _ := f.svc.QueueDepth(ctx); depth != 0 || attempts() != 4 {
		t.Errorf("a 404 is retried: depth %d, %d attempts", depth, attempts())
	}
}

// confirmed subscribes the fixture's endpoint to a topic and confirms it.
func (f *fixture) confirmed(t *testing.T, topicARN string) Subscription {
	t.Helper()
	ctx := t.Context()
	before := len(f.deliveries())
	sub, err := f.svc.Subscribe(ctx, SubscribeInput{TopicARN: topicARN, Protocol: "http", Endpoint: f.hook.URL})
	if err != nil {
		t.Fatal(err)
	}
	f.svc.ProcessDue(ctx)
	got := f.deliveries()
	if len(got) != before+1 {
		t.Fatalf("no confirmation request")
	}
	var doc sns.Document
	json.Unmarshal([]byte(got[before].body), &doc)
	if _, err := f.svc.ConfirmSubscription(ctx, topicARN, doc.Token, false); err != nil {
		t.Fatal(err)
	}
	return sub
}

// TestQueuedDeliverySurvivesRestart: a delivery committed by Publish is made by a service opened afterwards on
// the same store (kill -9 loses nothing the publisher was told was accepted).
func TestQueuedDeliverySurvivesRestart(t *testing.T) {
	f := newFixture(t, nil)
	ctx := t.Context()
	topicARN := f.topic(t, "t", nil)
	f.confirmed(t, topicARN)
	id, err := f.svc.Publish(ctx, topicARN, sns.Message{Body: "kept"})
	if err != nil {
		t.Fatal(err)
	}
	f.open(t) // a new process on the same data
	f.svc.ProcessDue(ctx)
	got := f.deliveries()
	if len(got) != 2 || !strings.Contains(got[1].body, id) {
		t.Fatalf("after reopening: %+v", got)
	}
}

// TestQueueBound: Publish refuses with Throttled while the queue is full, and accepts again once it drained.
func TestQueueBound(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.MaxQueued = 2 })
	ctx := t.Context()
	f.fns.allow = true
	topicARN := f.topic(t, "t", nil)
	for _, fn := range []string{"a", "b"} {
		if _, err := f.svc.Subscribe(ctx, SubscribeInput{TopicARN: topicARN, Protocol: "lambda", Endpoint: "arn:aws:lambda:us-east-1:000000000000:function:" + fn}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.svc.Publish(ctx, topicARN, sns.Message{Body: "1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Publish(ctx, topicARN, sns.Message{Body: "2"}); codeOf(err) != sns.CodeThrottled {
		t.Fatalf("a full queue: %v", err)
	}
	f.svc.ProcessDue(ctx)
	if _, err := f.svc.Publish(ctx, topicARN, sns.Message{Body: "3"}); err != nil {
		t.Fatalf("after draining: %v", err)
	}
	if len(f.fns.invoked) != 2 {
		t.Fatalf("invoked %v", f.fns.invoked)
	}
}

// TestLambdaDelivery: a lambda subscription is confirmed at once; its function is invoked with SNS's event only
// once its resource policy allows SNS (until then the delivery is retried).
func TestLambdaDelivery(t *testing.T) {
	f := newFixture(t, nil)
	ctx := t.Context()
	topicARN := f.topic(t, "t", nil)
	sub, err := f.svc.Subscribe(ctx, SubscribeInput{TopicARN: topicARN, Protocol: "lambda", Endpoint: "arn:aws:lambda:us-east-1:000000000000:function:fn:live"})
	if err != nil || sub.Pending {
		t.Fatalf("Subscribe: %+v %v", sub, err)
	}
	if _, err := f.svc.Publish(ctx, topicARN, sns.Message{Body: "b"}); err != nil {
		t.Fatal(err)
	}
	f.svc.ProcessDue(ctx)
	if len(f.fns.invoked) != 0 {
		t.Fatalf("invoked without permission: %v", f.fns.invoked)
	}
	f.fns.allow = true
	for range 5 { // three immediate retries, then a second apart
		f.now = f.now.Add(time.Second)
		f.svc.ProcessDue(ctx)
	}
	if len(f.fns.invoked) != 1 || !strings.HasPrefix(f.fns.invoked[0], "fn:live ") || !strings.Contains(f.fns.invoked[0], `"EventSubscriptionArn":"`+sub.ARN+`"`) {
		t.Fatalf("invoked %v", f.fns.invoked)
	}
}

// TestDeleteTopicDropsItsDeliveries: deliveries queued for a deleted topic's subscriptions are dropped.
func TestDeleteTopicDropsItsDeliveries(t *testing.T) {
	f := newFixture(t, nil)
	ctx := t.Context()
	topicARN := f.topic(t, "t", nil)
	f.confirmed(t, topicARN)
	if _, err := f.svc.Publish(ctx, topicARN, sns.Message{Body: "gone"}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.DeleteTopic(ctx, topicARN); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.DeleteTopic(ctx, topicARN); err != nil {
		t.Fatalf("deleting again: %v", err)
	}
	f.svc.ProcessDue(ctx)
	if got := f.deliveries(); len(got) != 1 {
		t.Fatalf("delivered after deletion: %+v", got)
	}
	if depth, _ := f.svc.QueueDepth(ctx); depth != 0 {
		t.Errorf("queue depth %d", depth)
	}
	if _, err := f.svc.Publish(ctx, topicARN, sns.Message{Body: "x"}); codeOf(err) != sns.CodeNotFound {
		t.Errorf("publishing to a deleted topic: %v", err)
	}
}

// TestPublishOnce: the same key publishes once, whoever asks.
func TestPublishOnce(t *testing.T) {
	f := newFixture(t, nil)
	ctx := t.Context()
	topicARN := f.topic(t, "t", nil)
	f.confirmed(t, topicARN)
	a, err := f.svc.PublishOnce(ctx, topicARN, sns.Message{Body: "alarm"}, "k")
	b, err2 := f.svc.PublishOnce(ctx, topicARN, sns.Message{Body: "alarm"}, "k")
	if err != nil || err2 != nil || a != b {
		t.Fatalf("PublishOnce twice: %s %v, %s %v", a, err, b, err2)
	}
	f.svc.ProcessDue(ctx)
	if got := f.deliveries(); len(got) != 2 {
		t.Fatalf("delivered %d, want the confirmation and one message", len(got))
	}
	f.now = f.now.Add(25 * time.Hour)
	if err := f.svc.pruneSent(ctx); err != nil {
		t.Fatal(err)
	}
	err = f.db.View(ctx, func(tx store.Tx) error {
		return tx.Scan(sentPrefix, "", func(k string, _ []byte) (bool, error) { return false, fmt.Errorf("marker %s kept", k) })
	})
	if err != nil {
		t.Error(err)
	}
}

// TestTopicsAndSubscriptions: CreateTopic's idempotence, attributes, listings a page at a time, unsubscribing
// (and its authentication rule).
func TestTopicsAndSubscriptions(t *testing.T) {
	f := newFixture(t, nil)
	ctx := t.Context()
	arn := f.topic(t, "t", map[string]string{"DisplayName": "T"})
	if again, err := f.svc.CreateTopic(ctx, "t", map[string]string{"DisplayName": "T"}, nil); err != nil || again != arn {
		t.Fatalf("the same CreateTopic again: %s %v", again, err)
	}
	if _, err := f.svc.CreateTopic(ctx, "t", map[string]string{"DisplayName": "U"}, nil); codeOf(err) != sns.CodeInvalidParameter {
		t.Fatalf("different attributes: %v", err)
	}
	if _, err := f.svc.CreateTopic(ctx, "t.fifo", nil, nil); codeOf(err) != sns.CodeInvalidParameter {
		t.Fatalf("a FIFO topic: %v", err)
	}
	if err := f.svc.SetTopicAttribute(ctx, arn, "DisplayName", ""); err != nil {
		t.Fatal(err)
	}
	if attrs, _ := f.svc.TopicAttributes(ctx, arn); attrs["DisplayName"] != "" || !strings.Contains(attrs["Policy"], "__default_policy_ID") {
		t.Errorf("attributes: %v", attrs)
	}
	for i := range 150 {
		f.topic(t, fmt.Sprintf("n%03d", i), nil)
	}
	var all []string
	for token := ""; ; {
		page, next, err := f.svc.ListTopics(ctx, token)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) > 100 {
			t.Fatalf("a page of %d", len(page))
		}
		all = append(all, page...)
		if next == "" {
			break
		}
		token = next
	}
	if len(all) != 151 || all[0] != "arn:aws:sns:us-east-1:000000000000:n000" {
		t.Fatalf("ListTopics: %d topics, first %s", len(all), all[0])
	}
	if _, _, err := f.svc.ListTopics(ctx, "garbage!"); codeOf(err) != sns.CodeInvalidParameter {
		t.Errorf("a bad token: %v", err)
	}

	sub, err := f.svc.Subscribe(ctx, SubscribeInput{TopicARN: arn, Protocol: "http", Endpoint: f.hook.URL})
	if err != nil {
		t.Fatal(err)
	}
	f.svc.ProcessDue(ctx)
	var doc sns.Document
	json.Unmarshal([]byte(f.deliveries()[0].body), &doc)
	if _, err := f.svc.ConfirmSubscription(ctx, arn, doc.Token, true); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Unsubscribe(ctx, sub.ARN, false); codeOf(err) != sns.CodeAuthorizationError {
		t.Fatalf("an unsigned Unsubscribe of a subscription confirmed with authentication: %v", err)
	}
	if err := f.svc.SetSubscriptionAttribute(ctx, sub.ARN, "RawMessageDelivery", "true"); err != nil {
		t.Fatal(err)
	}
	if _, attrs, err := f.svc.Subscription(ctx, sub.ARN); err != nil || attrs["RawMessageDelivery"] != "true" || attrs["ConfirmationWasAuthenticated"] != "true" {
		t.Fatalf("Subscription: %v %v", attrs, err)
	}
	if err := f.svc.Unsubscribe(ctx, sub.ARN, true); err != nil {
		t.Fatal(err)
	}
	if subs, _, err := f.svc.ListSubscriptions(ctx, arn, ""); err != nil || len(subs) != 0 {
		t.Fatalf("after Unsubscribe: %v %v", subs, err)
	}
}
