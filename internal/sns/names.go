package sns

import (
	"net/url"
	"strings"

	"github.com/sluice-dev/sluice/internal/fault"
)

// Account is the region and account topics live in.
type Account struct{ Region, ID string }

// TopicARN is the ARN of topic name.
func (a Account) TopicARN(name string) string {
	return "arn:aws:sns:" + a.Region + ":" + a.ID + ":" + name
}

// TopicName is the name in a topic ARN of this account, or an InvalidParameter / NotFound fault: a malformed ARN
// is invalid, one of another region or account names no topic here.
func (a Account) TopicName(arn, param string) (string, error) {
	parts := strings.Split(arn, ":")
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "sns" || ValidTopicName(parts[5]) != nil {
		return "", invalid("%s", param)
	}
	if parts[3] != a.Region || parts[4] != a.ID {
		return "", ErrTopicNotFound()
	}
	return parts[5], nil
}

// SubscriptionRef is what a subscription ARN names: its topic and its ID.
type SubscriptionRef struct{ Topic, ID string }

// Subscription parses a subscription ARN (<topic ARN>:<ID>) of this account.
func (a Account) Subscription(arn string) (SubscriptionRef, error) {
	i := strings.LastIndexByte(arn, ':')
	if i < 0 || !validID(arn[i+1:]) {
		return SubscriptionRef{}, invalid("SubscriptionArn")
	}
	topic, err := a.TopicName(arn[:i], "SubscriptionArn")
	if err != nil {
		if fault.Is(err, CodeNotFound) {
			return SubscriptionRef{}, ErrSubscriptionNotFound()
		}
		return SubscriptionRef{}, err
	}
	return SubscriptionRef{Topic: topic, ID: arn[i+1:]}, nil
}

func validID(id string) bool {
	if len(id) != 36 {
		return false
	}
	for _, c := range id {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c == '-') {
			return false
		}
	}
	return true
}

// ValidTopicName checks a topic name: 1 to 256 letters, digits, hyphens and underscores; a FIFO topic's ends in
// ".fifo".
func ValidTopicName(name string) error {
	base := strings.TrimSuffix(name, ".fifo")
	if name == "" || len(name) > 256 || base == "" {
		return invalid("Topic Name")
	}
	for _, c := range base {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return invalid("Topic Name")
		}
	}
	return nil
}

// IsFIFO reports whether a topic name is a FIFO topic's.
func IsFIFO(name string) bool { return strings.HasSuffix(name, ".fifo") }

// The protocols Sluice delivers to.
const (
	ProtocolHTTP   = "http"
	ProtocolHTTPS  = "https"
	ProtocolLambda = "lambda"
)

// knownProtocols are SNS's protocols; those Sluice does not deliver to are refused as unsupported rather than
// accepted and never delivered.
var knownProtocols = map[string]bool{"http": true, "https": true, "email": true, "email-json": true, "sms": true, "sqs": true,
	"application": true, "lambda": true, "firehose": true}

// CheckEndpoint checks a subscription's protocol and endpoint, and answers the protocol as SNS keeps it (lower
// case). A lambda endpoint is a function ARN of lambdaAccount.
func CheckEndpoint(protocol, endpoint string, lambdaAccount Account) (string, error) {
	p := strings.ToLower(protocol)
	if !knownProtocols[p] {
		return "", invalid("Amazon SNS does not support this protocol string: %s", protocol)
	}
	switch p {
	case ProtocolHTTP, ProtocolHTTPS:
		u, err := url.Parse(endpoint)
		if err != nil || u.Scheme != p || u.Host == "" {
			return "", invalid("Endpoint must match the specified protocol")
		}
	case ProtocolLambda:
		parts := strings.Split(endpoint, ":")
		if (len(parts) != 7 && len(parts) != 8) || parts[0] != "arn" || parts[2] != "lambda" || parts[5] != "function" || parts[6] == "" {
			return "", invalid("Lambda endpoint ARN")
		}
		if parts[3] != lambdaAccount.Region || parts[4] != lambdaAccount.ID {
			return "", invalid("Lambda endpoint ARN: Sluice delivers only to functions of account %s in %s", lambdaAccount.ID, lambdaAccount.Region)
		}
	default:
		return "", invalid("Sluice does not deliver to the %s protocol (it delivers to http, https and lambda)", p)
	}
	return p, nil
}

// FunctionOf splits a lambda endpoint into the function's name and qualifier.
func FunctionOf(endpoint string) (name, qualifier string) {
	parts := strings.Split(endpoint, ":")
	if len(parts) < 7 {
		return "", ""
	}
	if len(parts) == 8 {
		qualifier = parts[7]
	}
	return parts[6], qualifier
}

// FunctionARN is a lambda endpoint without its qualifier: the function a resource policy is looked up on.
func FunctionARN(endpoint string) string {
	parts := strings.Split(endpoint, ":")
	if len(parts) > 7 {
		parts = parts[:7]
	}
	return strings.Join(parts, ":")
}
