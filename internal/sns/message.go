package sns

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sluice-dev/sluice/internal/fault"
)

// MaxMessageBytes bounds a message with its attributes (256 KiB).
const MaxMessageBytes = 262144

// MaxMessageAttributes is how many message attributes one message may carry.
const MaxMessageAttributes = 10

// MessageAttribute is one message attribute as Publish receives it.
type MessageAttribute struct {
	DataType    string `json:"DataType"`
	StringValue string `json:"StringValue,omitempty"`
	BinaryValue []byte `json:"BinaryValue,omitempty"`
}

// Message is a published message, as every subscription's delivery is made from it.
type Message struct {
	ID         string                      `json:"id"`
	TopicARN   string                      `json:"topicArn"`
	Subject    string                      `json:"subject,omitempty"`
	Body       string                      `json:"body"`
	Structure  string                      `json:"structure,omitempty"` // "json": Body holds a message per protocol
	Attributes map[string]MessageAttribute `json:"attributes,omitempty"`
	Timestamp  time.Time                   `json:"timestamp"`
}

// CheckMessage checks Publish's message, Subject, MessageStructure and attributes.
func CheckMessage(m Message) error {
	if m.Body == "" {
		return invalid("Empty message")
	}
	if m.Subject != "" {
		if len(m.Subject) > 100 || !printableASCII(m.Subject) {
			return invalid("Subject")
		}
	}
	size := len(m.Body)
	if len(m.Attributes) > MaxMessageAttributes {
		return invalid("MessageAttributes: a message may carry at most %d message attributes", MaxMessageAttributes)
	}
	for name, a := range m.Attributes {
		if err := checkAttribute(name, a); err != nil {
			return err
		}
		size += len(name) + len(a.DataType) + len(a.StringValue) + len(a.BinaryValue)
	}
	if size > MaxMessageBytes {
		return invalid("Message too long")
	}
	switch m.Structure {
	case "":
	case "json":
		var per map[string]any
		if err := json.Unmarshal([]byte(m.Body), &per); err != nil {
			return invalid("Message Structure - JSON message body failed to parse")
		}
		v, ok := per["default"].(string)
		if !ok || v == "" {
			return invalid("Message Structure - No default entry in JSON message body")
		}
		for k, v := range per {
			if _, ok := v.(string); !ok {
				return invalid("Message Structure - the entry for %s is not a string", k)
			}
		}
	default:
		return invalid("MessageStructure")
	}
	return nil
}

// SubjectFrom makes a valid Subject of a subject Sluice writes itself (an alarm's, a deployment's): its
// printable ASCII, cut to 100 characters, as CloudWatch shortens long alarm names in its subjects.
func SubjectFrom(s string) string {
	b := make([]byte, 0, min(len(s), 100))
	for i := 0; i < len(s) && len(b) < 100; i++ {
		if s[i] >= 0x20 && s[i] <= 0x7e {
			b = append(b, s[i])
		}
	}
	return string(b)
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// invalidValue is a message attribute's fault: SNS's InvalidParameterValue, code ParameterValueInvalid.
func invalidValue(format string, args ...any) error {
	return fault.New(CodeInvalidParameterValue, format, args...)
}

// checkAttribute checks a message attribute's name, type and value.
func checkAttribute(name string, a MessageAttribute) error {
	if name == "" || len(name) > 256 || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") || strings.Contains(name, "..") ||
		strings.HasPrefix(strings.ToLower(name), "aws.") || strings.HasPrefix(strings.ToLower(name), "amazon.") {
		return invalidValue("The message attribute name '%s' is invalid.", name)
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return invalidValue("The message attribute name '%s' is invalid.", name)
		}
	}
	base, _, _ := strings.Cut(a.DataType, ".")
	switch base {
	case "String", "Number":
		if a.StringValue == "" {
			return invalidValue("The message attribute '%s' must contain non-empty message attribute value for message attribute type '%s'.", name, a.DataType)
		}
		if base == "Number" {
			if _, err := strconv.ParseFloat(a.StringValue, 64); err != nil {
				return invalidValue("The message attribute '%s' with type 'Number' must use field 'String'.", name)
			}
		}
		if a.DataType == "String.Array" {
			var arr []any
			if err := json.Unmarshal([]byte(a.StringValue), &arr); err != nil {
				return invalidValue("The message attribute '%s' with type 'String.Array' has an invalid value: a JSON array is expected.", name)
			}
		}
		if !utf8.ValidString(a.StringValue) {
			return invalidValue("The message attribute '%s' has an invalid value.", name)
		}
	case "Binary":
		if len(a.BinaryValue) == 0 {
			return invalidValue("The message attribute '%s' must contain non-empty message attribute value for message attribute type '%s'.", name, a.DataType)
		}
	default:
		return invalidValue("The message attribute '%s' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.", name)
	}
	return nil
}

// BodyFor is the message a subscription of protocol receives: the protocol's entry of a json-structured message,
// or its default.
func (m Message) BodyFor(protocol string) string {
	if m.Structure != "json" {
		return m.Body
	}
	var per map[string]string
	_ = json.Unmarshal([]byte(m.Body), &per) // checked by CheckMessage
	if v, ok := per[protocol]; ok {
		return v
	}
	return per["default"]
}

// Timestamp is SNS's spelling of a time: ISO 8601 in UTC with milliseconds.
func Timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// deliveredAttribute is a message attribute in a delivered document: {"Type": …, "Value": …}, a binary value in
// base64.
type deliveredAttribute struct {
	Type  string `json:"Type"`
	Value string `json:"Value"`
}

func deliveredAttributes(in map[string]MessageAttribute) map[string]deliveredAttribute {
	out := make(map[string]deliveredAttribute, len(in))
	for k, a := range in {
		v := a.StringValue
		if strings.HasPrefix(a.DataType, "Binary") {
			v = base64.StdEncoding.EncodeToString(a.BinaryValue)
		}
		out[k] = deliveredAttribute{Type: a.DataType, Value: v}
	}
	return out
}

// The message types of HTTP/S deliveries (the x-amz-sns-message-type header and the document's Type).
const (
	TypeNotification             = "Notification"
	TypeSubscriptionConfirmation = "SubscriptionConfirmation"
)

// Document is an HTTP/S delivery's JSON body, members in SNS's order; Sign fills in its signature.
type Document struct {
	Type              string                        `json:"Type"`
	MessageID         string                        `json:"MessageId"`
	Token             string                        `json:"Token,omitempty"`
	TopicARN          string                        `json:"TopicArn"`
	Subject           string                        `json:"Subject,omitempty"`
	Message           string                        `json:"Message"`
	SubscribeURL      string                        `json:"SubscribeURL,omitempty"`
	Timestamp         string                        `json:"Timestamp"`
	SignatureVersion  string                        `json:"SignatureVersion"`
	Signature         string                        `json:"Signature"`
	SigningCertURL    string                        `json:"SigningCertURL"`
	UnsubscribeURL    string                        `json:"UnsubscribeURL,omitempty"`
	MessageAttributes map[string]deliveredAttribute `json:"MessageAttributes,omitempty"`
}

// NotificationDocument is the Notification a subscription receives for m (unsigned).
func NotificationDocument(m Message, protocol, unsubscribeURL, signatureVersion string) Document {
	d := Document{Type: TypeNotification, MessageID: m.ID, TopicARN: m.TopicARN, Subject: m.Subject, Message: m.BodyFor(protocol),
		Timestamp: Timestamp(m.Timestamp), SignatureVersion: signatureVersion, UnsubscribeURL: unsubscribeURL}
	if len(m.Attributes) > 0 {
		d.MessageAttributes = deliveredAttributes(m.Attributes)
	}
	return d
}

// ConfirmationDocument is the SubscriptionConfirmation a new HTTP/S subscription receives (unsigned).
func ConfirmationDocument(messageID, topicARN, token, subscribeURL, signatureVersion string, at time.Time) Document {
	return Document{Type: TypeSubscriptionConfirmation, MessageID: messageID, Token: token, TopicARN: topicARN,
		Message:      "You have chosen to subscribe to the topic " + topicARN + ".\nTo confirm the subscription, visit the SubscribeURL included in this message.",
		SubscribeURL: subscribeURL, Timestamp: Timestamp(at), SignatureVersion: signatureVersion}
}

// StringToSign is what a document's signature covers, as SNS documents it: for a Notification the Message,
// MessageId, Subject (when there is one), Timestamp, TopicArn and Type; for a SubscriptionConfirmation the
// Message, MessageId, SubscribeURL, Timestamp, Token, TopicArn and Type — each name and value on a line of its own.
func (d Document) StringToSign() string {
	var b strings.Builder
	add := func(k, v string) { b.WriteString(k + "\n" + v + "\n") }
	add("Message", d.Message)
	add("MessageId", d.MessageID)
	if d.Type == TypeNotification {
		if d.Subject != "" {
			add("Subject", d.Subject)
		}
	} else {
		add("SubscribeURL", d.SubscribeURL)
	}
	add("Timestamp", d.Timestamp)
	if d.Type != TypeNotification {
		add("Token", d.Token)
	}
	add("TopicArn", d.TopicARN)
	add("Type", d.Type)
	return b.String()
}

// LambdaEvent is the event a lambda subscription's function receives for m.
func LambdaEvent(m Message, subscriptionARN, signatureVersion, signature, certURL, unsubscribeURL string) []byte {
	var subject any // null when the message has none, as SNS sends it
	if m.Subject != "" {
		subject = m.Subject
	}
	attrs := deliveredAttributes(m.Attributes)
	ev := map[string]any{"Records": []any{map[string]any{
		"EventSource":          "aws:sns",
		"EventVersion":         "1.0",
		"EventSubscriptionArn": subscriptionARN,
		"Sns": map[string]any{
			"Type": TypeNotification, "MessageId": m.ID, "TopicArn": m.TopicARN, "Subject": subject,
			"Message": m.BodyFor(ProtocolLambda), "Timestamp": Timestamp(m.Timestamp), "SignatureVersion": signatureVersion,
			"Signature": signature, "SigningCertUrl": certURL, "UnsubscribeUrl": unsubscribeURL, "MessageAttributes": attrs,
		},
	}}}
	b, _ := json.Marshal(ev)
	return b
}
