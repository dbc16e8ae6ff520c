package sns

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/fault"
)

var acct = Account{Region: "us-east-1", ID: "000000000000"}

func codeOf(err error) string {
	if err == nil {
		return ""
	}
	if f, ok := fault.As(err); ok {
		return f.Code + ": " + f.Message
	}
	return "not a fault: " + err.Error()
}

func TestNamesAndARNs(t *testing.T) {
	for _, tc := range []struct {
		name, arn, want string
		wantErr         string
	}{
		{name: "ok", arn: "arn:aws:sns:us-east-1:000000000000:alerts", want: "alerts"},
		{name: "underscores and hyphens", arn: "arn:aws:sns:us-east-1:000000000000:a_b-C9", want: "a_b-C9"},
		{name: "other account", arn: "arn:aws:sns:us-east-1:111111111111:alerts", wantErr: "NotFound: Topic does not exist"},
		{name: "other region", arn: "arn:aws:sns:eu-west-1:000000000000:alerts", wantErr: "NotFound: Topic does not exist"},
		{name: "not sns", arn: "arn:aws:sqs:us-east-1:000000000000:alerts", wantErr: "InvalidParameter: Invalid parameter: TopicArn"},
		{name: "bad name", arn: "arn:aws:sns:us-east-1:000000000000:a b", wantErr: "InvalidParameter: Invalid parameter: TopicArn"},
		{name: "not an ARN", arn: "alerts", wantErr: "InvalidParameter: Invalid parameter: TopicArn"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := acct.TopicName(tc.arn, "TopicArn")
			if codeOf(err) != tc.wantErr || got != tc.want {
				t.Fatalf("TopicName(%q) = %q, %v; want %q, %q", tc.arn, got, codeOf(err), tc.want, tc.wantErr)
			}
		})
	}
	for name, want := range map[string]string{"": "Invalid parameter: Topic Name", strings.Repeat("a", 257): "Invalid parameter: Topic Name",
		"a.b": "Invalid parameter: Topic Name", strings.Repeat("a", 256): "", "x.fifo": "", ".fifo": "Invalid parameter: Topic Name"} {
		if err := ValidTopicName(name); (err == nil) != (want == "") || err != nil && !strings.Contains(err.Error(), want) {
			t.Errorf("ValidTopicName(%.20q) = %v, want %q", name, err, want)
		}
	}
	ref, err := acct.Subscription("arn:aws:sns:us-east-1:000000000000:alerts:0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9")
	if err != nil || ref != (SubscriptionRef{Topic: "alerts", ID: "0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"}) {
		t.Errorf("Subscription: %+v %v", ref, err)
	}
	for _, bad := range []string{"arn:aws:sns:us-east-1:000000000000:alerts", "arn:aws:sns:us-east-1:000000000000:alerts:xyz", "pending confirmation"} {
		if _, err := acct.Subscription(bad); !fault.Is(err, CodeInvalidParameter) {
			t.Errorf("Subscription(%q) = %v, want InvalidParameter", bad, err)
		}
	}
	if _, err := acct.Subscription("arn:aws:sns:us-east-1:111111111111:alerts:0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"); !fault.Is(err, CodeNotFound) {
		t.Errorf("another account's subscription: %v", err)
	}
}

func TestCheckEndpoint(t *testing.T) {
	for _, tc := range []struct {
		protocol, endpoint, want, wantErr string
	}{
		{"HTTPS", "https://hooks.example.com/x", "https", ""},
		{"http", "http://127.0.0.1:8080/", "http", ""},
		{"https", "http://hooks.example.com/x", "", "Endpoint must match the specified protocol"},
		{"http", "not a url", "", "Endpoint must match the specified protocol"},
		{"lambda", "arn:aws:lambda:us-east-1:000000000000:function:f", "lambda", ""},
		{"lambda", "arn:aws:lambda:us-east-1:000000000000:function:f:live", "lambda", ""},
		{"lambda", "arn:aws:lambda:us-east-1:111111111111:function:f", "", "Sluice delivers only to functions of account 000000000000"},
		{"lambda", "f", "", "Lambda endpoint ARN"},
		{"sqs", "arn:aws:sqs:us-east-1:000000000000:q", "", "Sluice does not deliver to the sqs protocol"},
		{"carrier-pigeon", "x", "", "Amazon SNS does not support this protocol string: carrier-pigeon"},
	} {
		got, err := CheckEndpoint(tc.protocol, tc.endpoint, acct)
		if got != tc.want || (err == nil) != (tc.wantErr == "") || err != nil && !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("CheckEndpoint(%s, %s) = %q, %v; want %q, %q", tc.protocol, tc.endpoint, got, err, tc.want, tc.wantErr)
		}
	}
	if n, q := FunctionOf("arn:aws:lambda:us-east-1:000000000000:function:f:live"); n != "f" || q != "live" {
		t.Errorf("FunctionOf: %s %s", n, q)
	}
	if got := FunctionARN("arn:aws:lambda:us-east-1:000000000000:function:f:live"); got != "arn:aws:lambda:us-east-1:000000000000:function:f" {
		t.Errorf("FunctionARN: %s", got)
	}
}

func TestAttributes(t *testing.T) {
	for _, tc := range []struct {
		name, value, wantErr string
	}{
		{"DisplayName", "Alerts", ""},
		{"DisplayName", strings.Repeat("x", 101), "Invalid parameter: DisplayName"},
		{"SignatureVersion", "2", ""},
		{"SignatureVersion", "3", "SignatureVersion: Invalid value [3]"},
		{"TracingConfig", "Active", ""},
		{"Policy", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:role/r"},"Action":"sns:Publish","Resource":"*"}]}`, ""},
		{"Policy", `{"Statement":`, "Invalid parameter: Policy Error"},
		{"DeliveryPolicy", `{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":0,"maxDelayTarget":1,"numRetries":1}}}`, "minDelayTarget must be greater than or equal to 1"},
		{"DeliveryPolicy", `{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":5,"maxDelayTarget":1,"numRetries":1}}}`, "maxDelayTarget must be greater than or equal to minDelayTarget"},
		{"DeliveryPolicy", `{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":5,"numRetries":1,"numNoDelayRetries":2}}}`, "numRetries must be greater than or equal to"},
		{"KmsMasterKeyId", "alias/aws/sns", "Sluice does not support server-side encryption"},
		{"FifoTopic", "true", "Sluice does not support FIFO topics"},
		{"Nonsense", "x", "Invalid parameter: AttributeName"},
	} {
		_, err := CheckTopicAttribute(tc.name, tc.value)
		if (err == nil) != (tc.wantErr == "") || err != nil && (!strings.Contains(err.Error(), tc.wantErr) || !fault.Is(err, CodeInvalidParameter)) {
			t.Errorf("CheckTopicAttribute(%s, %.30q) = %v, want %q", tc.name, tc.value, err, tc.wantErr)
		}
	}
	for _, tc := range []struct {
		protocol, name, value, want, wantErr string
	}{
		{"https", "RawMessageDelivery", "TRUE", "true", ""},
		{"https", "RawMessageDelivery", "yes", "", "RawMessageDelivery: Invalid value [yes]"},
		{"lambda", "DeliveryPolicy", `{"healthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":1,"numRetries":1}}`, "", "apply to http and https subscriptions only"},
		{"http", "DeliveryPolicy", `{"healthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":1,"numRetries":1}}`, `{"healthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":1,"numRetries":1}}`, ""},
		{"http", "FilterPolicy", `{"a":["b"]}`, "", "Sluice does not support filter policies"},
		{"http", "Owner", "x", "", "Invalid parameter: AttributeName"},
	} {
		got, err := CheckSubscriptionAttribute(tc.protocol, tc.name, tc.value)
		if got != tc.want || (err == nil) != (tc.wantErr == "") || err != nil && !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("CheckSubscriptionAttribute(%s, %s) = %q, %v; want %q, %q", tc.protocol, tc.name, got, err, tc.want, tc.wantErr)
		}
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(DefaultTopicPolicy("arn:aws:sns:us-east-1:000000000000:t", "000000000000")), &doc); err != nil || doc["Id"] != "__default_policy_ID" {
		t.Errorf("DefaultTopicPolicy: %v %v", doc, err)
	}
	if got := EffectiveTopicDeliveryPolicy(""); !strings.Contains(got, `"defaultHealthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,"numRetries":3`) ||
		!strings.Contains(got, `"headerContentType":"text/plain; charset=UTF-8"`) {
		t.Errorf("EffectiveTopicDeliveryPolicy: %s", got)
	}
}

func TestRetryPolicy(t *testing.T) {
	secs := func(p RetryPolicy) []float64 {
		var out []float64
		for attempt := 1; ; attempt++ {
			d, ok := p.Delay(attempt)
			if !ok {
				return out
			}
			out = append(out, d.Seconds())
		}
	}
	for _, tc := range []struct {
		name   string
		policy RetryPolicy
		want   []float64
	}{
		{"SNS's default: three retries 20 s apart", DefaultRetryPolicy, []float64{20, 20, 20}},
		{"no retries", RetryPolicy{MinDelayTarget: 1, MaxDelayTarget: 1}, nil},
		{"the four phases, linear", RetryPolicy{MinDelayTarget: 2, MaxDelayTarget: 10, NumRetries: 8, NumNoDelayRetries: 1, NumMinDelayRetries: 2,
			NumMaxDelayRetries: 1, BackoffFunction: "linear"}, []float64{0, 2, 2, 4, 6, 8, 10, 10}},
		{"geometric", RetryPolicy{MinDelayTarget: 1, MaxDelayTarget: 5, NumRetries: 2, BackoffFunction: "geometric"}, []float64{2, 5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := secs(tc.policy)
			if len(got) != len(tc.want) {
				t.Fatalf("delays %v, want %v", got, tc.want)
			}
			for i := range got {
				if d := got[i] - tc.want[i]; d > 0.001 || d < -0.001 {
					t.Fatalf("delays %v, want %v", got, tc.want)
				}
			}
		})
	}
	sub := `{"healthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":1,"numRetries":7}}`
	if got := EffectiveRetryPolicy("", sub); got.NumRetries != 7 {
		t.Errorf("the subscription's policy: %+v", got)
	}
	locked := `{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":3,"maxDelayTarget":3,"numRetries":2},"disableSubscriptionOverrides":true}}`
	if got := EffectiveRetryPolicy(locked, sub); got.NumRetries != 2 {
		t.Errorf("disableSubscriptionOverrides: %+v", got)
	}
}

func TestCheckMessage(t *testing.T) {
	attr := func(typ, v string) map[string]MessageAttribute {
		return map[string]MessageAttribute{"a": {DataType: typ, StringValue: v}}
	}
	for _, tc := range []struct {
		name    string
		m       Message
		wantErr string
	}{
		{"ok", Message{Body: "hi", Subject: "s", Attributes: attr("String", "v")}, ""},
		{"empty", Message{}, "InvalidParameter: Invalid parameter: Empty message"},
		{"long subject", Message{Body: "x", Subject: strings.Repeat("s", 101)}, "InvalidParameter: Invalid parameter: Subject"},
		{"subject with a newline", Message{Body: "x", Subject: "a\nb"}, "InvalidParameter: Invalid parameter: Subject"},
		{"too long", Message{Body: strings.Repeat("x", MaxMessageBytes+1)}, "InvalidParameter: Invalid parameter: Message too long"},
		{"attributes count toward the size", Message{Body: strings.Repeat("x", MaxMessageBytes-4), Attributes: attr("String", "v")}, "InvalidParameter: Invalid parameter: Message too long"},
		{"bad type", Message{Body: "x", Attributes: attr("Date", "v")},
			"ParameterValueInvalid: The message attribute 'a' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String."},
		{"empty value", Message{Body: "x", Attributes: attr("String", "")},
			"ParameterValueInvalid: The message attribute 'a' must contain non-empty message attribute value for message attribute type 'String'."},
		{"not a number", Message{Body: "x", Attributes: attr("Number", "ten")}, "ParameterValueInvalid: The message attribute 'a' with type 'Number' must use field 'String'."},
		{"custom type", Message{Body: "x", Attributes: attr("Number.float", "1.5")}, ""},
		{"string array", Message{Body: "x", Attributes: attr("String.Array", `["a",1]`)}, ""},
		{"bad array", Message{Body: "x", Attributes: attr("String.Array", `a`)}, "ParameterValueInvalid: The message attribute 'a' with type 'String.Array' has an invalid value: a JSON array is expected."},
		{"reserved name", Message{Body: "x", Attributes: map[string]MessageAttribute{"AWS.x": {DataType: "String", StringValue: "v"}}}, "ParameterValueInvalid: The message attribute name 'AWS.x' is invalid."},
		{"json", Message{Body: `{"default":"d","http":"h"}`, Structure: "json"}, ""},
		{"json without default", Message{Body: `{"http":"h"}`, Structure: "json"}, "InvalidParameter: Invalid parameter: Message Structure - No default entry in JSON message body"},
		{"json that is not", Message{Body: `x`, Structure: "json"}, "InvalidParameter: Invalid parameter: Message Structure - JSON message body failed to parse"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := codeOf(CheckMessage(tc.m)); got != tc.wantErr {
				t.Fatalf("CheckMessage = %q, want %q", got, tc.wantErr)
			}
		})
	}
	m := Message{Body: `{"default":"d","http":"h"}`, Structure: "json"}
	if m.BodyFor("http") != "h" || m.BodyFor("lambda") != "d" {
		t.Errorf("BodyFor: %q %q", m.BodyFor("http"), m.BodyFor("lambda"))
	}
	if got := SubjectFrom("ALARM: \"x\"\n" + strings.Repeat("y", 200)); len(got) != 100 || strings.Contains(got, "\n") {
		t.Errorf("SubjectFrom: %q", got)
	}
}

// TestStringToSign: what a signature covers, per AWS's documentation of verifying SNS message signatures.
func TestStringToSign(t *testing.T) {
	at := time.Date(2026, 12, 7, 10, 0, 0, 123e6, time.UTC)
	n := NotificationDocument(Message{ID: "m-1", TopicARN: "arn:aws:sns:us-east-1:000000000000:t", Subject: "s", Body: "hello", Timestamp: at}, "https", "u", "1")
	if got, want := n.StringToSign(), "Message\nhello\nMessageId\nm-1\nSubject\ns\nTimestamp\n2026-12-07T10:00:00.123Z\nTopicArn\narn:aws:sns:us-east-1:000000000000:t\nType\nNotification\n"; got != want {
		t.Errorf("Notification:\n%q\nwant\n%q", got, want)
	}
	n.Subject = ""
	if got := n.StringToSign(); strings.Contains(got, "Subject") {
		t.Errorf("a Notification without Subject signs one: %q", got)
	}
	c := ConfirmationDocument("m-2", "arn:aws:sns:us-east-1:000000000000:t", "tok", "https://x/?Action=ConfirmSubscription", "2", at)
	if got, want := c.StringToSign(), "Message\n"+c.Message+"\nMessageId\nm-2\nSubscribeURL\nhttps://x/?Action=ConfirmSubscription\nTimestamp\n2026-12-07T10:00:00.123Z\nToken\ntok\nTopicArn\narn:aws:sns:us-east-1:000000000000:t\nType\nSubscriptionConfirmation\n"; got != want {
		t.Errorf("SubscriptionConfirmation:\n%q\nwant\n%q", got, want)
	}
	b, _ := json.Marshal(n)
	if !strings.HasPrefix(string(b), `{"Type":"Notification","MessageId":"m-1","TopicArn":`) || strings.Contains(string(b), "Token") {
		t.Errorf("document: %s", b)
	}
}

func TestLambdaEvent(t *testing.T) {
	ev := LambdaEvent(Message{ID: "m", TopicARN: "arn:aws:sns:us-east-1:000000000000:t", Body: "b",
		Attributes: map[string]MessageAttribute{"bin": {DataType: "Binary", BinaryValue: []byte{0, 1}}}}, "arn:sub", "1", "sig", "cert", "unsub")
	var got struct {
		Records []struct {
			EventSource, EventSubscriptionArn string
			Sns                               map[string]any
		}
	}
	if err := json.Unmarshal(ev, &got); err != nil || len(got.Records) != 1 {
		t.Fatalf("%v %s", err, ev)
	}
	sns := got.Records[0].Sns
	if got.Records[0].EventSource != "aws:sns" || sns["Subject"] != nil || sns["SigningCertUrl"] != "cert" || sns["UnsubscribeUrl"] != "unsub" ||
		sns["MessageAttributes"].(map[string]any)["bin"].(map[string]any)["Value"] != "AAE=" {
		t.Errorf("event: %s", ev)
	}
}
