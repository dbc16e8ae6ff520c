package sns

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/internal/iam/policy"
)

// Topic attributes a caller may set (CreateTopic's Attributes, SetTopicAttributes).
const (
	AttrDisplayName      = "DisplayName"
	AttrPolicy           = "Policy"
	AttrDeliveryPolicy   = "DeliveryPolicy"
	AttrSignatureVersion = "SignatureVersion"
	AttrTracingConfig    = "TracingConfig"
	// AttrRawMessageDelivery is a subscription's: deliver the message alone, not the Notification document.
	AttrRawMessageDelivery = "RawMessageDelivery"
)

// unsupportedTopicAttrs are SNS topic attributes whose behaviour Sluice does not have: refused by name rather
// than stored and ignored.
var unsupportedTopicAttrs = map[string]string{
	"KmsMasterKeyId":            "server-side encryption (Sluice has no KMS)",
	"FifoTopic":                 "FIFO topics",
	"ContentBasedDeduplication": "FIFO topics",
	"FifoThroughputScope":       "FIFO topics",
	"ArchivePolicy":             "message archiving",
	"DataProtectionPolicy":      "data protection policies",
}

// unsupportedSubscriptionAttrs likewise, for subscriptions.
var unsupportedSubscriptionAttrs = map[string]string{
	"FilterPolicy":        "filter policies",
	"FilterPolicyScope":   "filter policies",
	"RedrivePolicy":       "dead-letter queues (Sluice has no SQS)",
	"SubscriptionRoleArn": "Firehose subscriptions",
	"ReplayPolicy":        "message replay",
}

// CheckTopicAttribute checks one attribute a caller sets on a topic, and answers the value as it is kept.
func CheckTopicAttribute(name, value string) (string, error) {
	if what, ok := unsupportedTopicAttrs[name]; ok {
		return "", invalid("Attributes Reason: %s: Sluice does not support %s", name, what)
	}
	switch name {
	case AttrDisplayName:
		if len(value) > 100 {
			return "", invalid("DisplayName")
		}
	case AttrPolicy:
		if value == "" {
			return "", nil // back to the default policy
		}
		if _, err := policy.Parse(value, policy.Resource); err != nil {
			return "", invalid("Policy Error: %s", err.Error())
		}
	case AttrDeliveryPolicy:
		if value == "" {
			return "", nil
		}
		if _, err := ParseTopicDeliveryPolicy(value); err != nil {
			return "", invalid("Attributes Reason: DeliveryPolicy: %s", err.Error())
		}
	case AttrSignatureVersion:
		if value != "1" && value != "2" {
			return "", invalid("Attributes Reason: SignatureVersion: Invalid value [%s]. Valid values: [1, 2]", value)
		}
	case AttrTracingConfig:
		if value != "PassThrough" && value != "Active" {
			return "", invalid("Attributes Reason: TracingConfig: Invalid value [%s]. Valid values: [PassThrough, Active]", value)
		}
	default:
		return "", invalid("AttributeName")
	}
	return value, nil
}

// CheckSubscriptionAttribute checks one attribute a caller sets on a subscription of protocol.
func CheckSubscriptionAttribute(protocol, name, value string) (string, error) {
	if what, ok := unsupportedSubscriptionAttrs[name]; ok {
		return "", invalid("Attributes Reason: %s: Sluice does not support %s", name, what)
	}
	switch name {
	case AttrRawMessageDelivery:
		switch strings.ToLower(value) {
		case "true", "false":
			return strings.ToLower(value), nil
		}
		return "", invalid("Attributes Reason: RawMessageDelivery: Invalid value [%s]. Must be true or false.", value)
	case AttrDeliveryPolicy:
		if protocol != ProtocolHTTP && protocol != ProtocolHTTPS {
			return "", invalid("Attributes Reason: DeliveryPolicy: delivery policies apply to http and https subscriptions only")
		}
		if value == "" {
			return "", nil
		}
		if _, err := ParseSubscriptionDeliveryPolicy(value); err != nil {
			return "", invalid("Attributes Reason: DeliveryPolicy: %s", err.Error())
		}
		return value, nil
	}
	return "", invalid("AttributeName")
}

// DefaultTopicPolicy is the policy SNS gives a topic that has none: the owner account's principals may manage,
// subscribe to and publish to it (through AWS:SourceOwner, which only services acting for the account carry).
func DefaultTopicPolicy(topicARN, account string) string {
	doc := map[string]any{
		"Version": "2008-10-17",
		"Id":      "__default_policy_ID",
		"Statement": []any{map[string]any{
			"Sid":       "__default_statement_ID",
			"Effect":    "Allow",
			"Principal": map[string]any{"AWS": "*"},
			"Action": []string{"SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission", "SNS:RemovePermission",
				"SNS:DeleteTopic", "SNS:Subscribe", "SNS:ListSubscriptionsByTopic", "SNS:Publish"},
			"Resource":  topicARN,
			"Condition": map[string]any{"StringEquals": map[string]any{"AWS:SourceOwner": account}},
		}},
	}
	b, _ := json.Marshal(doc)
	return string(b)
}

// RetryPolicy is a delivery policy's healthyRetryPolicy: how often and how far apart an HTTP/S delivery is retried.
type RetryPolicy struct {
	MinDelayTarget     int    `json:"minDelayTarget"`
	MaxDelayTarget     int    `json:"maxDelayTarget"`
	NumRetries         int    `json:"numRetries"`
	NumMaxDelayRetries int    `json:"numMaxDelayRetries"`
	NumNoDelayRetries  int    `json:"numNoDelayRetries"`
	NumMinDelayRetries int    `json:"numMinDelayRetries"`
	BackoffFunction    string `json:"backoffFunction"`
}

// DefaultRetryPolicy is SNS's default for HTTP/S: three retries 20 seconds apart.
var DefaultRetryPolicy = RetryPolicy{MinDelayTarget: 20, MaxDelayTarget: 20, NumRetries: 3, BackoffFunction: "linear"}

// TopicDeliveryPolicy is a topic's DeliveryPolicy (its "http" member).
type TopicDeliveryPolicy struct {
	HTTP struct {
		DefaultHealthyRetryPolicy    *RetryPolicy    `json:"defaultHealthyRetryPolicy,omitempty"`
		DisableSubscriptionOverrides bool            `json:"disableSubscriptionOverrides"`
		DefaultThrottlePolicy        json.RawMessage `json:"defaultThrottlePolicy,omitempty"`
		DefaultRequestPolicy         *RequestPolicy  `json:"defaultRequestPolicy,omitempty"`
	} `json:"http"`
}

// SubscriptionDeliveryPolicy is an HTTP/S subscription's DeliveryPolicy.
type SubscriptionDeliveryPolicy struct {
	HealthyRetryPolicy *RetryPolicy    `json:"healthyRetryPolicy,omitempty"`
	ThrottlePolicy     json.RawMessage `json:"throttlePolicy,omitempty"`
	RequestPolicy      *RequestPolicy  `json:"requestPolicy,omitempty"`
}

// RequestPolicy sets the Content-Type of deliveries.
type RequestPolicy struct {
	HeaderContentType string `json:"headerContentType,omitempty"`
}

// ParseTopicDeliveryPolicy parses and checks a topic's DeliveryPolicy.
func ParseTopicDeliveryPolicy(doc string) (TopicDeliveryPolicy, error) {
	var p TopicDeliveryPolicy
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		return p, fmt.Errorf("not a JSON object: %v", err)
	}
	if r := p.HTTP.DefaultHealthyRetryPolicy; r != nil {
		if err := r.check("defaultHealthyRetryPolicy"); err != nil {
			return p, err
		}
	}
	return p, nil
}

// ParseSubscriptionDeliveryPolicy parses and checks a subscription's DeliveryPolicy.
func ParseSubscriptionDeliveryPolicy(doc string) (SubscriptionDeliveryPolicy, error) {
	var p SubscriptionDeliveryPolicy
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		return p, fmt.Errorf("not a JSON object: %v", err)
	}
	if r := p.HealthyRetryPolicy; r != nil {
		if err := r.check("healthyRetryPolicy"); err != nil {
			return p, err
		}
	}
	return p, nil
}

var backoffFunctions = map[string]bool{"arithmetic": true, "exponential": true, "geometric": true, "linear": true}

func (r *RetryPolicy) check(where string) error {
	if r.BackoffFunction == "" {
		r.BackoffFunction = "linear"
	}
	switch {
	case r.MinDelayTarget < 1:
		return fmt.Errorf("%s.minDelayTarget must be greater than or equal to 1", where)
	case r.MaxDelayTarget < r.MinDelayTarget:
		return fmt.Errorf("%s.maxDelayTarget must be greater than or equal to minDelayTarget", where)
	case r.MaxDelayTarget > 3600:
		return fmt.Errorf("%s.maxDelayTarget must be less than or equal to 3600", where)
	case r.NumRetries < 0 || r.NumRetries > 100:
		return fmt.Errorf("%s.numRetries must be between 0 and 100", where)
	case r.NumNoDelayRetries < 0 || r.NumMinDelayRetries < 0 || r.NumMaxDelayRetries < 0:
		return fmt.Errorf("%s: retry counts must not be negative", where)
	case r.NumNoDelayRetries+r.NumMinDelayRetries+r.NumMaxDelayRetries > r.NumRetries:
		return fmt.Errorf("%s.numRetries must be greater than or equal to numNoDelayRetries + numMinDelayRetries + numMaxDelayRetries", where)
	case !backoffFunctions[r.BackoffFunction]:
		return fmt.Errorf("%s.backoffFunction must be one of arithmetic, exponential, geometric, linear", where)
	}
	return nil
}

// Delay is how long after failed attempt number attempt (1: the first delivery) the next one is made, and
// whether there is one: the immediate retries, then those at the minimum delay, then the back-off phase from the
// minimum to the maximum delay along the policy's function, then those at the maximum delay.
func (r RetryPolicy) Delay(attempt int) (time.Duration, bool) {
	retry := attempt // the retry about to be made, 1-based
	if retry > r.NumRetries {
		return 0, false
	}
	minD, maxD := float64(r.MinDelayTarget), float64(r.MaxDelayTarget)
	backoff := r.NumRetries - r.NumNoDelayRetries - r.NumMinDelayRetries - r.NumMaxDelayRetries
	secs := maxD
	switch {
	case retry <= r.NumNoDelayRetries:
		secs = 0
	case retry <= r.NumNoDelayRetries+r.NumMinDelayRetries:
		secs = minD
	case retry <= r.NumNoDelayRetries+r.NumMinDelayRetries+backoff:
		i := float64(retry - r.NumNoDelayRetries - r.NumMinDelayRetries) // 1..backoff
		f := i / float64(backoff)
		switch r.BackoffFunction {
		case "exponential":
			f = (math.Pow(2, 10*f) - 1) / (math.Pow(2, 10) - 1)
		case "geometric":
			f = f * f
		case "arithmetic":
			f = i * (i + 1) / float64(backoff*(backoff+1))
		}
		secs = minD + (maxD-minD)*f
	}
	return time.Duration(secs * float64(time.Second)), true
}

// EffectiveRetryPolicy is the retry policy of an HTTP/S subscription: its own, unless the topic disables
// overrides, else the topic's default, else SNS's.
func EffectiveRetryPolicy(topicPolicy, subscriptionPolicy string) RetryPolicy {
	var topic TopicDeliveryPolicy
	if topicPolicy != "" {
		topic, _ = ParseTopicDeliveryPolicy(topicPolicy)
	}
	if subscriptionPolicy != "" && !topic.HTTP.DisableSubscriptionOverrides {
		if sub, err := ParseSubscriptionDeliveryPolicy(subscriptionPolicy); err == nil && sub.HealthyRetryPolicy != nil {
			return *sub.HealthyRetryPolicy
		}
	}
	if topic.HTTP.DefaultHealthyRetryPolicy != nil {
		return *topic.HTTP.DefaultHealthyRetryPolicy
	}
	return DefaultRetryPolicy
}

// EffectiveContentType is the Content-Type of an HTTP/S delivery: the subscription's request policy's, the
// topic's, or SNS's text/plain.
func EffectiveContentType(topicPolicy, subscriptionPolicy string) string {
	if sub, err := ParseSubscriptionDeliveryPolicy(subscriptionPolicy); subscriptionPolicy != "" && err == nil && sub.RequestPolicy != nil && sub.RequestPolicy.HeaderContentType != "" {
		return sub.RequestPolicy.HeaderContentType
	}
	if topic, err := ParseTopicDeliveryPolicy(topicPolicy); topicPolicy != "" && err == nil && topic.HTTP.DefaultRequestPolicy != nil && topic.HTTP.DefaultRequestPolicy.HeaderContentType != "" {
		return topic.HTTP.DefaultRequestPolicy.HeaderContentType
	}
	return "text/plain; charset=UTF-8"
}

// EffectiveTopicDeliveryPolicy is a topic's EffectiveDeliveryPolicy attribute: its DeliveryPolicy with SNS's
// defaults filled in.
func EffectiveTopicDeliveryPolicy(doc string) string {
	var p TopicDeliveryPolicy
	if doc != "" {
		p, _ = ParseTopicDeliveryPolicy(doc)
	}
	if p.HTTP.DefaultHealthyRetryPolicy == nil {
		d := DefaultRetryPolicy
		p.HTTP.DefaultHealthyRetryPolicy = &d
	}
	if p.HTTP.DefaultRequestPolicy == nil {
		p.HTTP.DefaultRequestPolicy = &RequestPolicy{HeaderContentType: "text/plain; charset=UTF-8"}
	}
	b, _ := json.Marshal(p)
	return string(b)
}

// EffectiveSubscriptionDeliveryPolicy is an HTTP/S subscription's EffectiveDeliveryPolicy attribute.
func EffectiveSubscriptionDeliveryPolicy(topicPolicy, subscriptionPolicy string) string {
	r := EffectiveRetryPolicy(topicPolicy, subscriptionPolicy)
	b, _ := json.Marshal(SubscriptionDeliveryPolicy{HealthyRetryPolicy: &r,
		RequestPolicy: &RequestPolicy{HeaderContentType: EffectiveContentType(topicPolicy, subscriptionPolicy)}})
	return string(b)
}
