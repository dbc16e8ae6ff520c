package e2e

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // SignatureVersion 1 is SHA1withRSA
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
)

// SNS returns an SNS client signed with root credentials.
func (s *server) SNS() *sns.Client {
	return sns.NewFromConfig(aws.Config{Region: region, BaseEndpoint: aws.String(s.URL),
		Credentials: credentials.NewStaticCredentialsProvider(s.AccessKeyID, s.SecretAccessKey, ""), RetryMaxAttempts: 1})
}

// received is one POST an endpoint received.
type received struct {
	Header http.Header
	Body   []byte
}

// endpoint is a subscriber's HTTP(S) endpoint: it records every POST and answers with status() (200 unless set).
type endpoint struct {
	*httptest.Server
	got    chan received
	mu     sync.Mutex
	status int
}

func newEndpoint(t *testing.T, tls bool) *endpoint {
	e := &endpoint{got: make(chan received, 64), status: http.StatusOK}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || len(b) == 0 {
			// Not a delivery: a stray request to a port the OS gave this endpoint after another test let it go.
			http.Error(w, "not a delivery", http.StatusBadRequest)
			return
		}
		e.mu.Lock()
		status := e.status
		e.mu.Unlock()
		if status == http.StatusOK {
			e.got <- received{Header: r.Header.Clone(), Body: b}
		}
		w.WriteHeader(status)
		io.WriteString(w, "ok")
	})
	if tls {
		e.Server = httptest.NewTLSServer(h)
	} else {
		e.Server = httptest.NewServer(h)
	}
	t.Cleanup(e.Close)
	return e
}

func (e *endpoint) setStatus(s int) {
	e.mu.Lock()
	e.status = s
	e.mu.Unlock()
}

// next is the next POST the endpoint received (the test fails after a minute without one).
func (e *endpoint) next(t *testing.T, what string) received {
	t.Helper()
	select {
	case r := <-e.got:
		return r
	case <-time.After(time.Minute):
		t.Fatalf("%s: nothing delivered within a minute", what)
	}
	return received{}
}

// snsDocument is an HTTP/S delivery's body.
type snsDocument struct {
	Type, MessageId, Token, TopicArn, Subject, Message, SubscribeURL, Timestamp string
	SignatureVersion, Signature, SigningCertURL, UnsubscribeURL                 string
	MessageAttributes                                                           map[string]struct{ Type, Value string }
}

// verifySNS checks a delivery's signature the way AWS's documentation tells subscribers to: fetch the
// certificate at SigningCertURL (here: one the server under test serves), build the string to sign from the
// document's fields in order (Notification: Message, MessageId, Subject if any, Timestamp, TopicArn, Type;
// SubscriptionConfirmation: Message, MessageId, SubscribeURL, Timestamp, Token, TopicArn, Type), and verify the
// base64 signature with the certificate's public key — SHA1withRSA for SignatureVersion 1, SHA256withRSA for 2.
func verifySNS(t *testing.T, s *server, r received, wantVersion string) snsDocument {
	t.Helper()
	var d snsDocument
	if err := json.Unmarshal(r.Body, &d); err != nil {
		t.Fatalf("delivery is not JSON: %v: %s", err, r.Body)
	}
	if got := r.Header.Get("x-amz-sns-message-type"); got != d.Type {
		t.Errorf("x-amz-sns-message-type %q, document Type %q", got, d.Type)
	}
	if r.Header.Get("x-amz-sns-message-id") != d.MessageId || r.Header.Get("x-amz-sns-topic-arn") != d.TopicArn {
		t.Errorf("headers %v do not match the document %+v", r.Header, d)
	}
	if d.SignatureVersion != wantVersion {
		t.Errorf("SignatureVersion %q, want %q", d.SignatureVersion, wantVersion)
	}
	if !strings.HasPrefix(d.SigningCertURL, s.URL+"/") {
		t.Fatalf("SigningCertURL %q is not the server's", d.SigningCertURL)
	}
	resp, err := http.Get(d.SigningCertURL)
	if err != nil {
		t.Fatal(err)
	}
	certPEM, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	block, _ := pem.Decode(certPEM)
	if block == nil {
		t.Fatalf("SigningCertURL answered %d %q, not a PEM certificate", resp.StatusCode, certPEM)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	field := func(k, v string) { b.WriteString(k + "\n" + v + "\n") }
	field("Message", d.Message)
	field("MessageId", d.MessageId)
	if d.Type == "Notification" {
		if d.Subject != "" {
			field("Subject", d.Subject)
		}
		field("Timestamp", d.Timestamp)
	} else {
		field("SubscribeURL", d.SubscribeURL)
		field("Timestamp", d.Timestamp)
		field("Token", d.Token)
	}
	field("TopicArn", d.TopicArn)
	field("Type", d.Type)
	sig, err := base64.StdEncoding.DecodeString(d.Signature)
	if err != nil {
		t.Fatalf("signature is not base64: %v", err)
	}
	var h crypto.Hash
	var digest []byte
	if d.SignatureVersion == "2" {
		sum := sha256.Sum256([]byte(b.String()))
		h, digest = crypto.SHA256, sum[:]
	} else {
		sum := sha1.Sum([]byte(b.String())) //nolint:gosec
		h, digest = crypto.SHA1, sum[:]
	}
	if err := rsa.VerifyPKCS1v15(cert.PublicKey.(*rsa.PublicKey), h, digest, sig); err != nil {
		t.Fatalf("%s signature does not verify: %v", d.Type, err)
	}
	return d
}

// confirm visits a SubscriptionConfirmation's SubscribeURL, unsigned, as a subscriber does, and returns the
// subscription ARN the answer names.
func confirm(t *testing.T, d snsDocument) string {
	t.Helper()
	if d.Type != "SubscriptionConfirmation" || !strings.Contains(d.SubscribeURL, "Action=ConfirmSubscription") {
		t.Fatalf("not a confirmation request: %+v", d)
	}
	resp, err := http.Get(d.SubscribeURL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	_, rest, ok := strings.Cut(string(b), "<SubscriptionArn>")
	arn, _, _ := strings.Cut(rest, "</SubscriptionArn>")
	if resp.StatusCode != 200 || !ok || !strings.HasPrefix(arn, d.TopicArn+":") {
		t.Fatalf("SubscribeURL answered %d: %s", resp.StatusCode, b)
	}
	return arn
}

// trustEndpoint writes the TLS endpoint's certificate where the server's SSL_CERT_FILE points, so that it
// accepts the endpoint as AWS accepts a certificate from a public CA.
func trustEndpoint(t *testing.T, e *endpoint) []string {
	path := filepath.Join(t.TempDir(), "endpoint-ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: e.Certificate().Raw})
	if err := os.WriteFile(path, pemBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	return []string{"SSL_CERT_FILE=" + path}
}

// TestSNSHTTPSSubscription: an https subscription (aws-sdk-go-v2) is pending until its endpoint visits the
// SubscribeURL of the signed SubscriptionConfirmation; a message published with boto3, with message attributes,
// arrives signed with SignatureVersion 2; an alarm whose action is the topic (AWS CLI v1) publishes CloudWatch's
// notification when it enters ALARM; the topic and its subscriptions read back in both CLIs.
func TestSNSHTTPSSubscription(t *testing.T) {
	parallel(t)
	requireBoto3(t)
	hook := newEndpoint(t, true)
	s := startServerEnv(t, trustEndpoint(t, hook))
	c, ctx := s.SNS(), t.Context()

	topic, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("alerts"), Attributes: map[string]string{"SignatureVersion": "2", "DisplayName": "Alerts"}})
	if err != nil {
		t.Fatal(err)
	}
	topicARN := aws.ToString(topic.TopicArn)
	if topicARN != "arn:aws:sns:us-east-1:000000000000:alerts" {
		t.Fatalf("TopicArn %s", topicARN)
	}
	sub, err := c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("https"), Endpoint: aws.String(hook.URL + "/hook")})
	if err != nil || aws.ToString(sub.SubscriptionArn) != "pending confirmation" {
		t.Fatalf("Subscribe: %v %v", sub, err)
	}
	conf := verifySNS(t, s, hook.next(t, "confirmation"), "2")
	attrs, err := c.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: topic.TopicArn})
	if err != nil || attrs.Attributes["SubscriptionsPending"] != "1" || attrs.Attributes["DisplayName"] != "Alerts" {
		t.Fatalf("GetTopicAttributes while pending: %v %v", attrs, err)
	}
	subARN := confirm(t, conf)
	list, err := c.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: topic.TopicArn})
	if err != nil || len(list.Subscriptions) != 1 || aws.ToString(list.Subscriptions[0].SubscriptionArn) != subARN ||
		aws.ToString(list.Subscriptions[0].Protocol) != "https" {
		t.Fatalf("ListSubscriptionsByTopic: %+v %v", list, err)
	}
	sa, err := c.GetSubscriptionAttributes(ctx, &sns.GetSubscriptionAttributesInput{SubscriptionArn: aws.String(subARN)})
	if err != nil || sa.Attributes["PendingConfirmation"] != "false" || !strings.Contains(sa.Attributes["EffectiveDeliveryPolicy"], `"numRetries":3`) {
		t.Fatalf("GetSubscriptionAttributes: %v %v", sa, err)
	}

	script := fmt.Sprintf(`
import boto3, sys
c = boto3.client("sns")
r = c.publish(TopicArn=%q, Subject="deploy", Message="hello from boto3",
              MessageAttributes={"team": {"DataType": "String", "StringValue": "core"}, "n": {"DataType": "Number", "StringValue": "42"},
                                 "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"}})
print(r["MessageId"])
try:
    c.publish(TopicArn=%q, Message="")
    sys.exit("an empty message was accepted")
except c.exceptions.InvalidParameterException as e:
    assert "Empty message" in str(e), e
try:
    c.publish(TopicArn=%q, Message="x")
    sys.exit("a missing topic was accepted")
except c.exceptions.NotFoundException as e:
    pass
`, topicARN, topicARN, "arn:aws:sns:us-east-1:000000000000:missing")
	stdout, stderr, code := run(t, s.Env(), "", "python3", "-c", script)
	if code != 0 {
		t.Fatalf("boto3: %s %s", stdout, stderr)
	}
	msgID := strings.TrimSpace(stdout)
	n := verifySNS(t, s, hook.next(t, "boto3's message"), "2")
	if n.Type != "Notification" || n.MessageId != msgID || n.Message != "hello from boto3" || n.Subject != "deploy" ||
		n.MessageAttributes["team"].Value != "core" || n.MessageAttributes["n"].Type != "Number" || n.MessageAttributes["blob"].Value != "AAE=" ||
		!strings.HasPrefix(n.UnsubscribeURL, s.URL+"/?Action=Unsubscribe") {
		t.Fatalf("notification: %+v", n)
	}

	// CloudWatch alarm actions, through the AWS CLI v1.
	if _, stderr, code := awsCLI(t, s, false, "cloudwatch", "put-metric-alarm", "--alarm-name", "orders-errors", "--namespace", "Orders",
		"--metric-name", "Errors", "--statistic", "Sum", "--period", "60", "--evaluation-periods", "1", "--threshold", "1",
		"--comparison-operator", "GreaterThanOrEqualToThreshold", "--alarm-actions", topicARN, "--ok-actions", topicARN); code != 0 {
		t.Fatalf("put-metric-alarm: %s", stderr)
	}
	if _, stderr, code := awsCLI(t, s, false, "cloudwatch", "set-alarm-state", "--alarm-name", "orders-errors", "--state-value", "ALARM",
		"--state-reason", "errors seen"); code != 0 {
		t.Fatalf("set-alarm-state: %s", stderr)
	}
	var alarm map[string]any
	for alarm == nil || alarm["NewStateValue"] != "ALARM" { // an evaluation may report INSUFFICIENT_DATA first
		a := verifySNS(t, s, hook.next(t, "the alarm's notification"), "2")
		alarm = nil
		if err := json.Unmarshal([]byte(a.Message), &alarm); err != nil {
			t.Fatalf("alarm notification: %v %q", err, a.Message)
		}
		if alarm["NewStateValue"] == "ALARM" && a.Subject != `ALARM: "orders-errors" in US East (N. Virginia)` {
			t.Errorf("alarm Subject %q", a.Subject)
		}
	}
	trigger, _ := alarm["Trigger"].(map[string]any)
	if alarm["AlarmName"] != "orders-errors" || alarm["NewStateReason"] != "errors seen" || alarm["AlarmArn"] != "arn:aws:cloudwatch:us-east-1:000000000000:alarm:orders-errors" ||
		trigger["MetricName"] != "Errors" || trigger["Statistic"] != "SUM" || trigger["Threshold"] != 1.0 {
		t.Fatalf("alarm notification: %v", alarm)
	}

	for _, v2 := range []bool{false, true} {
		out, stderr, code := awsCLI(t, s, v2, "sns", "list-subscriptions")
		if code != 0 || !strings.Contains(out, subARN) {
			t.Errorf("CLI %s list-subscriptions: %s %s", cliName(v2), out, stderr)
		}
		out, stderr, code = awsCLI(t, s, v2, "sns", "get-topic-attributes", "--topic-arn", topicARN)
		if code != 0 || !strings.Contains(out, `"SubscriptionsConfirmed": "1"`) || !strings.Contains(out, "__default_policy_ID") {
			t.Errorf("CLI %s get-topic-attributes: %s %s", cliName(v2), out, stderr)
		}
	}

	// The UnsubscribeURL works unsigned, as on AWS, for a subscription confirmed without authentication.
	resp, err := http.Get(n.UnsubscribeURL)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("UnsubscribeURL: %v %v", resp, err)
	}
	resp.Body.Close()
	if _, err := c.GetSubscriptionAttributes(ctx, &sns.GetSubscriptionAttributesInput{SubscriptionArn: aws.String(subARN)}); !isCode(err, "NotFound") {
		t.Fatalf("after Unsubscribe: %v", err)
	}
}

func isCode(err error, code string) bool {
	return err != nil && strings.Contains(err.Error(), code)
}

// TestSNSWebhookAndDurability: a Slack-style incoming webhook — it takes any JSON POST and shows it — subscribed
// over plain http with raw message delivery: its owner reads the SubscribeURL in the confirmation request it
// showed and visits it, then a message structured per protocol arrives as exactly the JSON the webhook wants. A
// message published while the endpoint fails, with the server killed (-9) before the retry, is delivered after
// the restart, on the topic's delivery policy.
func TestSNSWebhookAndDurability(t *testing.T) {
	parallel(t)
	hook := newEndpoint(t, false)
	s := startServer(t)
	c, ctx := s.SNS(), t.Context()
	topic, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("chat"), Attributes: map[string]string{
		"DeliveryPolicy": `{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":2,"numRetries":20,"backoffFunction":"linear"}}}`}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("http"), Endpoint: aws.String(hook.URL + "/services/T000/B000/XXXX"),
		Attributes: map[string]string{"RawMessageDelivery": "true"}}); err != nil {
		t.Fatal(err)
	}
	shown := hook.next(t, "the confirmation request")
	var req map[string]any
	if err := json.Unmarshal(shown.Body, &req); err != nil || req["SubscribeURL"] == nil {
		t.Fatalf("the webhook showed %s", shown.Body)
	}
	confirm(t, verifySNS(t, s, shown, "1"))

	msg := `{"default":"deploy failed","http":"{\"text\":\"deploy d-123 failed: rolled back\"}"}`
	if _, err := c.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, MessageStructure: aws.String("json"), Message: aws.String(msg)}); err != nil {
		t.Fatal(err)
	}
	got := hook.next(t, "the webhook message")
	if string(got.Body) != `{"text":"deploy d-123 failed: rolled back"}` || got.Header.Get("x-amz-sns-rawdelivery") != "true" {
		t.Fatalf("webhook got %s %v", got.Body, got.Header)
	}

	hook.setStatus(http.StatusBadGateway)
	out, err := c.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, Message: aws.String(`{"text":"survives"}`)})
	if err != nil {
		t.Fatal(err)
	}
	waitLogged(t, s, "delivery failed; retrying", aws.ToString(out.MessageId))
	s.Kill(t)
	hook.setStatus(http.StatusOK)
	s.Restart(t)
	got = hook.next(t, "the message queued before kill -9")
	if string(got.Body) != `{"text":"survives"}` || got.Header.Get("x-amz-sns-message-id") != aws.ToString(out.MessageId) {
		t.Fatalf("after the restart the webhook got %s %v", got.Body, got.Header)
	}
}

// waitLogged waits until the server's log has a line holding every one of parts.
func waitLogged(t *testing.T, s *server, parts ...string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(s.log.String(), "\n") {
			all := true
			for _, p := range parts {
				all = all && strings.Contains(line, p)
			}
			if all {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the server never logged %q", parts)
}

// TestSNSLambdaSubscription: a lambda subscription invokes its function asynchronously with SNS's event once the
// function's resource policy lets sns.amazonaws.com invoke it for the topic (AddPermission with SourceArn), as
// Lambda requires; before that, the delivery is refused and retried.
func TestSNSLambdaSubscription(t *testing.T) {
	parallel(t)
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed")
	}
	sink := newEndpoint(t, false)
	s := startServer(t)
	lc, c, ctx := s.Lambda(), s.SNS(), t.Context()
	createFunction(t, lc, "on-alert", func(in *lambda.CreateFunctionInput) {
		in.Runtime, in.Handler = lambdatypes.RuntimeNodejs20x, aws.String("index.handler")
		in.Environment = &lambdatypes.Environment{Variables: map[string]string{"SINK": sink.URL}}
		in.Code.ZipFile = makeZip(t, zipFile{Name: "index.js", Body: `exports.handler = async (event) => {
  await fetch(process.env.SINK, { method: "POST", body: JSON.stringify(event) });
  return "ok";
};
`})
	})
	waitActive(t, lc, "on-alert")
	topic, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("to-lambda")})
	if err != nil {
		t.Fatal(err)
	}
	fnARN := "arn:aws:lambda:us-east-1:000000000000:function:on-alert"
	sub, err := c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("lambda"), Endpoint: aws.String(fnARN)})
	if err != nil || !strings.HasPrefix(aws.ToString(sub.SubscriptionArn), aws.ToString(topic.TopicArn)+":") {
		t.Fatalf("Subscribe lambda: %v %v", sub, err)
	}
	pub, err := c.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, Message: aws.String("wake up"), Subject: aws.String("ping"),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{"severity": {DataType: aws.String("String"), StringValue: aws.String("high")}}})
	if err != nil {
		t.Fatal(err)
	}
	waitLogged(t, s, "delivery failed; retrying", "does not allow sns.amazonaws.com")
	if _, err := lc.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("on-alert"), StatementId: aws.String("sns"),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("sns.amazonaws.com"), SourceArn: topic.TopicArn}); err != nil {
		t.Fatal(err)
	}
	got := sink.next(t, "the function's report")
	var ev struct {
		Records []struct {
			EventSource, EventVersion, EventSubscriptionArn string
			Sns                                             struct {
				Type, MessageId, TopicArn, Subject, Message, SignatureVersion, Signature, SigningCertUrl, UnsubscribeUrl string
				MessageAttributes                                                                                        map[string]struct{ Type, Value string }
			}
		}
	}
	if err := json.Unmarshal(got.Body, &ev); err != nil || len(ev.Records) != 1 {
		t.Fatalf("event: %v %s", err, got.Body)
	}
	r := ev.Records[0]
	if r.EventSource != "aws:sns" || r.EventVersion != "1.0" || r.EventSubscriptionArn != aws.ToString(sub.SubscriptionArn) ||
		r.Sns.Type != "Notification" || r.Sns.MessageId != aws.ToString(pub.MessageId) || r.Sns.Message != "wake up" || r.Sns.Subject != "ping" ||
		r.Sns.MessageAttributes["severity"].Value != "high" || r.Sns.Signature == "" || !strings.HasPrefix(r.Sns.SigningCertUrl, s.URL) {
		t.Fatalf("SNS event: %s", got.Body)
	}
}

// TestSNSDeploymentTriggers: a deployment group's triggerConfigurations (aws-sdk-go-v2) are validated, returned
// by GetDeploymentGroup, and publish CodeDeploy's deployment notifications for the events they name — a
// deployment whose hook fails sends DeploymentStart, then DeploymentFailure with its error, each once, signed, to
// an https subscriber; the events the trigger does not name are not sent.
func TestSNSDeploymentTriggers(t *testing.T) {
	parallel(t)
	hook := newEndpoint(t, true)
	s := startServerEnv(t, trustEndpoint(t, hook), "--deploy-time-scale", "600")
	c, cd, sc, ctx := s.Lambda(), s.CodeDeploy(), s.SNS(), t.Context()
	topic, err := sc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("deploys")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sc.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("https"), Endpoint: aws.String(hook.URL)}); err != nil {
		t.Fatal(err)
	}
	confirm(t, verifySNS(t, s, hook.next(t, "confirmation"), "1"))

	createEcho(t, c, "orders")
	createEcho(t, c, "smoke") // not CodeDeployHook_*: the service role may not invoke it, so the deployment fails
	v1 := publishNew(t, c, "orders", "one")
	v2 := publishNew(t, c, "orders", "two")
	if _, err := c.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String("orders"), Name: aws.String("live"), FunctionVersion: aws.String(v1)}); err != nil {
		t.Fatal(err)
	}
	_, err = cd.CreateApplication(ctx, &codedeploy.CreateApplicationInput{ApplicationName: aws.String("app"), ComputePlatform: cdtypes.ComputePlatformLambda})
	if err != nil {
		t.Fatal(err)
	}
	group := func(target string) *codedeploy.CreateDeploymentGroupInput {
		return &codedeploy.CreateDeploymentGroupInput{ApplicationName: aws.String("app"), DeploymentGroupName: aws.String("dg"),
			ServiceRoleArn: aws.String("arn:aws:iam::000000000000:role/codedeploy"),
			TriggerConfigurations: []cdtypes.TriggerConfig{{TriggerName: aws.String("to-chat"), TriggerTargetArn: aws.String(target),
				TriggerEvents: []cdtypes.TriggerEventType{cdtypes.TriggerEventTypeDeploymentStart, cdtypes.TriggerEventTypeDeploymentFailure}}}}
	}
	_, err = cd.CreateDeploymentGroup(ctx, group("arn:aws:sqs:us-east-1:000000000000:q"))
	checkAPIError(t, "a trigger aimed at a queue", err, wantErr{Status: 400, Code: "InvalidTriggerConfigException"})
	if _, err := cd.CreateDeploymentGroup(ctx, group(aws.ToString(topic.TopicArn))); err != nil {
		t.Fatal(err)
	}
	g, err := cd.GetDeploymentGroup(ctx, &codedeploy.GetDeploymentGroupInput{ApplicationName: aws.String("app"), DeploymentGroupName: aws.String("dg")})
	if err != nil || len(g.DeploymentGroupInfo.TriggerConfigurations) != 1 ||
		aws.ToString(g.DeploymentGroupInfo.TriggerConfigurations[0].TriggerTargetArn) != aws.ToString(topic.TopicArn) ||
		len(g.DeploymentGroupInfo.TriggerConfigurations[0].TriggerEvents) != 2 {
		t.Fatalf("GetDeploymentGroup: %+v %v", g, err)
	}

	id := createDeployment(t, cd, appSpecFor("orders", "live", v1, v2)+"Hooks:\n  - BeforeAllowTraffic: smoke\n")
	waitDeployment(t, cd, id, cdtypes.DeploymentStatusFailed)
	seen := map[string]map[string]any{}
	for len(seen) < 2 {
		n := verifySNS(t, s, hook.next(t, "the deployment's notifications"), "1")
		var msg map[string]any
		if err := json.Unmarshal([]byte(n.Message), &msg); err != nil {
			t.Fatalf("trigger message: %v %q", err, n.Message)
		}
		if msg["deploymentId"] != id || msg["eventTriggerName"] != "to-chat" || msg["applicationName"] != "app" || msg["deploymentGroupName"] != "dg" {
			t.Fatalf("trigger message: %s", n.Message)
		}
		status, _ := msg["status"].(string)
		if seen[status] != nil {
			t.Fatalf("%s sent twice", status)
		}
		seen[status] = msg
		if !strings.HasSuffix(n.Subject, "AWS CodeDeploy "+id+" in us-east-1 to app") {
			t.Errorf("Subject %q", n.Subject)
		}
	}
	failed := seen["Failed"]
	errInfo, _ := failed["errorInformation"].(map[string]any)
	if failed == nil || errInfo["ErrorCode"] != "HOOK_EXECUTION_FAILURE" || failed["completeTime"] == "" {
		t.Fatalf("no DeploymentFailure notification with its error: %v", seen)
	}
	// The events the trigger does not name (DeploymentRollback, DeploymentSuccess, …) are not sent: the next
	// delivery is a message published after the deployment ended.
	if _, err := sc.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, Message: aws.String("sentinel")}); err != nil {
		t.Fatal(err)
	}
	if n := verifySNS(t, s, hook.next(t, "the sentinel"), "1"); n.Message != "sentinel" {
		t.Fatalf("after the deployment's two notifications: %s", n.Message)
	}
}

// TestSNSAuthorization: IAM decides every SNS call on the topic's ARN, a topic's own policy joins the decision as
// S3's bucket policies and Lambda's resource policies do, a refusal is SNS's AuthorizationError (403), and only
// ConfirmSubscription and Unsubscribe are served unsigned.
func TestSNSAuthorization(t *testing.T) {
	parallel(t)
	s := startServer(t)
	ctx, root := t.Context(), s.SNS()
	topic, err := root.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("orders")})
	if err != nil {
		t.Fatal(err)
	}
	admin := s.IAM()
	if _, err := admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("app")}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("app"), PolicyName: aws.String("list"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sns:ListTopics","Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	key, err := admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("app")})
	if err != nil {
		t.Fatal(err)
	}
	app := sns.NewFromConfig(aws.Config{Region: region, BaseEndpoint: aws.String(s.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey), "")})
	if out, err := app.ListTopics(ctx, &sns.ListTopicsInput{}); err != nil || len(out.Topics) != 1 {
		t.Fatalf("allowed ListTopics: %v %v", out, err)
	}
	publish := func() error {
		_, err := app.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, Message: aws.String("m")})
		return err
	}
	checkAPIError(t, "Publish outside the user's policy", publish(), wantErr{Status: 403, Code: "AuthorizationError",
		Contains: "arn:aws:iam::000000000000:user/app is not authorized to perform: sns:Publish on resource: arn:aws:sns:us-east-1:000000000000:orders"})
	topicPolicy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:user/app"},` +
		`"Action":"SNS:Publish","Resource":"arn:aws:sns:us-east-1:000000000000:orders"}]}`
	if _, err := root.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: topic.TopicArn, AttributeName: aws.String("Policy"), AttributeValue: aws.String(topicPolicy)}); err != nil {
		t.Fatal(err)
	}
	if err := publish(); err != nil {
		t.Fatalf("Publish the topic's policy allows: %v", err)
	}
	_, err = app.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("https"), Endpoint: aws.String("https://example.com/")})
	checkAPIError(t, "Subscribe, which neither policy allows", err, wantErr{Status: 403, Code: "AuthorizationError"})
	_, err = root.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: topic.TopicArn, AttributeName: aws.String("Policy"), AttributeValue: aws.String(`{"Statement":`)})
	checkAPIError(t, "a malformed policy", err, wantErr{Status: 400, Code: "InvalidParameter", Contains: "Invalid parameter: Policy Error"})

	resp, err := http.Get(s.URL + "/?Action=CreateTopic&Name=sneaky")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 403 || !strings.Contains(string(b), "Missing Authentication Token") { // the gateway's answer to any unsigned call
		t.Fatalf("an unsigned CreateTopic: %d %s", resp.StatusCode, b)
	}
	resp, err = http.Get(s.URL + "/?Action=ConfirmSubscription&TopicArn=" + aws.ToString(topic.TopicArn) + "&Token=forged")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(b), "<Code>InvalidParameter</Code>") {
		t.Fatalf("an unsigned ConfirmSubscription with a forged token: %d %s", resp.StatusCode, b)
	}
}
