package snsapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/sluice-dev/sluice/internal/api/gateway"
	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/sigv4"
	"github.com/sluice-dev/sluice/internal/sns"
	"github.com/sluice-dev/sluice/internal/sns/topics"
	"github.com/sluice-dev/sluice/internal/store/bolt"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

type credentialSource map[string]sigv4.Credential

func (c credentialSource) LookupCredential(_ context.Context, id string) (sigv4.Credential, error) {
	if cred, ok := c[id]; ok {
		return cred, nil
	}
	return sigv4.Credential{}, sigv4.ErrUnknownAccessKey
}

// authorizer records what it is asked and refuses the topic named "secret".
type authorizer struct {
	mu    sync.Mutex
	asked []string
}

func (a *authorizer) Authorize(_ context.Context, principal, _, action, resource string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.asked = append(a.asked, action+" "+resource)
	if strings.HasSuffix(resource, ":secret") {
		return fault.New("AccessDenied", "User: %s is not authorized to perform: %s on resource: %s", principal, action, resource)
	}
	return nil
}

func (a *authorizer) Unrestricted(string) bool { return false }

func (a *authorizer) take() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := a.asked
	a.asked = nil
	return out
}

// server serves the edge behind the real gateway; call signs each form with SigV4 for sns.
type server struct {
	*httptest.Server
	az *authorizer
}

func newServer(t *testing.T) *server {
	t.Helper()
	az := &authorizer{}
	h := newHandler(t)
	gw := &gateway.Gateway{
		Verifier:   &sigv4.Verifier{Credentials: credentialSource{"AKID": {AccessKeyID: "AKID", SecretAccessKey: "secret", Principal: "arn:aws:iam::000000000000:user/app"}}},
		Services:   map[string]http.Handler{"sns": h},
		Authorizer: az,
		Anonymous: func(r *http.Request, body []byte) http.Handler {
			if IsAnonymous(r, body) {
				return h
			}
			return nil
		},
		Region: "us-east-1",
		Log:    quiet,
	}
	srv := httptest.NewServer(gw)
	t.Cleanup(srv.Close)
	return &server{srv, az}
}

func (s *server) call(t *testing.T, form string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+"/", strings.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256([]byte(form))
	if err := v4.NewSigner().SignHTTP(t.Context(), aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "secret"}, req,
		hex.EncodeToString(sum[:]), "sns", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// newHandler serves the edge over a real service and store.
func newHandler(t *testing.T) *Handler {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	signer, err := topics.OpenSigner(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	svc := topics.New(topics.Options{Store: db, Account: sns.Account{Region: "us-east-1", ID: "000000000000"}, Endpoint: "http://sluice.test",
		CertPath: "/_sluice/sns/", Signer: signer, Now: func() time.Time { return time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC) }})
	return New(svc, quiet)
}

// TestQueryWire: signed requests as botocore and the Go SDK form them, each authorized as sns:<Operation> on the
// topic it names, and SNS's XML answers and errors.
func TestQueryWire(t *testing.T) {
	s := newServer(t)
	topic := url.QueryEscape("arn:aws:sns:us-east-1:000000000000:orders")
	for _, tc := range []struct {
		name, form string
		status     int
		want       []string
		asked      string // the authorization asked, when the request reaches it
	}{
		{"CreateTopic", "Action=CreateTopic&Version=2010-03-31&Name=orders&Attributes.entry.1.key=DisplayName&Attributes.entry.1.value=Orders", 200,
			[]string{`<CreateTopicResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><CreateTopicResult><TopicArn>arn:aws:sns:us-east-1:000000000000:orders</TopicArn></CreateTopicResult><ResponseMetadata><RequestId>`},
			"sns:CreateTopic arn:aws:sns:us-east-1:000000000000:orders"},
		{"GetTopicAttributes", "Action=GetTopicAttributes&Version=2010-03-31&TopicArn=" + topic, 200,
			[]string{`<Attributes><entry><key>DisplayName</key><value>Orders</value></entry>`, `<entry><key>SubscriptionsPending</key><value>0</value></entry>`},
			"sns:GetTopicAttributes arn:aws:sns:us-east-1:000000000000:orders"},
		{"missing Name", "Action=CreateTopic&Version=2010-03-31", 400,
			[]string{`<Code>ValidationError</Code><Message>1 validation error detected: Value null at &#39;name&#39; failed to satisfy constraint: Member must not be null</Message>`}, ""},
		{"bad topic name", "Action=CreateTopic&Version=2010-03-31&Name=a%20b", 400, []string{`<Type>Sender</Type><Code>InvalidParameter</Code><Message>Invalid parameter: Topic Name</Message>`}, ""},
		{"missing topic", "Action=GetTopicAttributes&Version=2010-03-31&TopicArn=" + url.QueryEscape("arn:aws:sns:us-east-1:000000000000:nope"), 404,
			[]string{`<Code>NotFound</Code><Message>Topic does not exist</Message>`}, ""},
		{"Publish with attributes", "Action=Publish&Version=2010-03-31&TopicArn=" + topic + "&Message=hi" +
			"&MessageAttributes.entry.1.Name=n&MessageAttributes.entry.1.Value.DataType=Number&MessageAttributes.entry.1.Value.StringValue=42" +
			"&MessageAttributes.entry.2.Name=b&MessageAttributes.entry.2.Value.DataType=Binary&MessageAttributes.entry.2.Value.BinaryValue=AAE%3D", 200,
			[]string{`<PublishResult><MessageId>`}, "sns:Publish arn:aws:sns:us-east-1:000000000000:orders"},
		{"Publish a bad attribute", "Action=Publish&Version=2010-03-31&TopicArn=" + topic + "&Message=hi" +
			"&MessageAttributes.entry.1.Name=n&MessageAttributes.entry.1.Value.DataType=Number&MessageAttributes.entry.1.Value.StringValue=ten", 400,
			[]string{`<Code>ParameterValueInvalid</Code><Message>The message attribute &#39;n&#39; with type &#39;Number&#39; must use field &#39;String&#39;.</Message>`}, ""},
		{"Publish without a target", "Action=Publish&Version=2010-03-31&Message=hi", 400,
			[]string{`Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter`}, ""},
		{"Publish an SMS", "Action=Publish&Version=2010-03-31&PhoneNumber=%2B15555550100&Message=hi", 400, []string{`Sluice does not send SMS`}, ""},
		{"Subscribe https", "Action=Subscribe&Version=2010-03-31&TopicArn=" + topic + "&Protocol=https&Endpoint=" + url.QueryEscape("https://hooks.example.com/x"), 200,
			[]string{`<SubscribeResult><SubscriptionArn>pending confirmation</SubscriptionArn></SubscribeResult>`}, ""},
		{"ListSubscriptionsByTopic", "Action=ListSubscriptionsByTopic&Version=2010-03-31&TopicArn=" + topic, 200,
			[]string{`<Subscriptions><member><SubscriptionArn>PendingConfirmation</SubscriptionArn><Owner>000000000000</Owner><Protocol>https</Protocol><Endpoint>https://hooks.example.com/x</Endpoint>`}, ""},
		{"Subscribe sqs", "Action=Subscribe&Version=2010-03-31&TopicArn=" + topic + "&Protocol=sqs&Endpoint=q", 400, []string{`Sluice does not deliver to the sqs protocol`}, ""},
		{"ListTopics", "Action=ListTopics&Version=2010-03-31", 200, []string{`<Topics><member><TopicArn>arn:aws:sns:us-east-1:000000000000:orders</TopicArn></member></Topics>`},
			"sns:ListTopics arn:aws:sns:us-east-1:000000000000:*"},
		{"refused", "Action=Publish&Version=2010-03-31&TopicArn=" + url.QueryEscape("arn:aws:sns:us-east-1:000000000000:secret") + "&Message=m", 403,
			[]string{`<Code>AuthorizationError</Code><Message>User: arn:aws:iam::000000000000:user/app is not authorized to perform: sns:Publish`}, ""},
		{"Unsubscribe names the subscription's topic", "Action=Unsubscribe&Version=2010-03-31&SubscriptionArn=" +
			url.QueryEscape("arn:aws:sns:us-east-1:000000000000:orders:0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"), 404,
			[]string{`<Code>NotFound</Code><Message>Subscription does not exist</Message>`}, "sns:Unsubscribe arn:aws:sns:us-east-1:000000000000:orders"},
		{"unknown operation", "Action=CreatePlatformApplication&Version=2010-03-31", 400, []string{`<Code>InvalidAction</Code>`}, ""},
		{"DeleteTopic", "Action=DeleteTopic&Version=2010-03-31&TopicArn=" + topic, 200, []string{`<DeleteTopicResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><ResponseMetadata>`}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := s.call(t, tc.form)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, body)
			}
			if asked := strings.Join(s.az.take(), ", "); tc.asked != "" && asked != tc.asked {
				t.Errorf("authorization asked %q, want %q", asked, tc.asked)
			}
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("body does not hold %s:\n%s", w, body)
				}
			}
		})
	}
}

// TestUnsigned: only ConfirmSubscription and Unsubscribe are served unsigned (a subscriber's SubscribeURL and
// UnsubscribeURL), and neither is authorized as a caller's.
func TestUnsigned(t *testing.T) {
	s := newServer(t)
	get := func(target string) (int, string) {
		resp, err := http.Get(s.URL + target)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if status, body := get("/?Action=ConfirmSubscription&TopicArn=" + url.QueryEscape("arn:aws:sns:us-east-1:000000000000:orders") + "&Token=x"); status != 404 ||
		!strings.Contains(body, "<Code>NotFound</Code>") {
		t.Errorf("unsigned ConfirmSubscription of a missing topic: %d %s", status, body)
	}
	if status, _ := get("/?Action=ListTopics"); status != 403 {
		t.Errorf("unsigned ListTopics: %d", status)
	}
	if asked := s.az.take(); len(asked) != 0 {
		t.Errorf("unsigned calls were authorized: %v", asked)
	}
}

func TestIsAnonymous(t *testing.T) {
	for target, want := range map[string]bool{
		"/?Action=ConfirmSubscription&TopicArn=a&Token=b": true,
		"/?Action=Unsubscribe&SubscriptionArn=a":          true,
		"/?Action=Publish&TopicArn=a&Message=m":           false,
		"/x?Action=Unsubscribe":                           false,
	} {
		if got := IsAnonymous(httptest.NewRequest(http.MethodGet, target, nil), nil); got != want {
			t.Errorf("IsAnonymous(%s) = %v, want %v", target, got, want)
		}
	}
}
