package topics

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/iam/policy"
	"github.com/sluice-dev/sluice/internal/sns"
	"github.com/sluice-dev/sluice/internal/store"
)

const (
	topicPrefix = "sns/topic/"
	subPrefix   = "sns/sub/"
	duePrefix   = "sns/due/"
	queueKey    = "sns/queue"
	sentPrefix  = "sns/sent/"
)

// Limits Sluice keeps (AWS's are larger; these bound one server's store and memory).
const (
	MaxTopics                = 100000
	MaxSubscriptionsPerTopic = 10000
	// DefaultMaxQueued and DefaultMaxQueuedBytes bound the deliveries waiting, across all topics.
	DefaultMaxQueued      = 100000
	DefaultMaxQueuedBytes = 256 << 20
	// ConfirmationTTL is how long a confirmation token is good for (SNS's three days).
	ConfirmationTTL = 72 * time.Hour
	pageSize        = 100
)

// Functions is what lambda subscriptions need of Lambda: whether a function's resource policy lets SNS invoke it
// for a topic, and an asynchronous (Event) invocation. The server wires the control plane and invoke service in.
type Functions interface {
	AllowsSNS(ctx context.Context, functionARN, topicARN string) (bool, error)
	InvokeAsync(ctx context.Context, name, qualifier string, payload []byte) error
}

// Options configure a Service.
type Options struct {
	Store   store.Store
	Account sns.Account
	// Endpoint is the URL clients reach this server at: SubscribeURL, UnsubscribeURL and SigningCertURL are under it.
	Endpoint string
	// CertPath is the path SigningCertURL names the certificate under (the server serves Signer.CertPEM there).
	CertPath  string
	Signer    *Signer
	Functions Functions
	// Client makes HTTP/S deliveries (default: a client with SNS's 15-second timeout that follows no redirect).
	Client                    *http.Client
	MaxQueued, MaxQueuedBytes int64
	// Workers bounds the deliveries attempted at once (default 16).
	Workers int
	// TimeScale divides delivery-policy delays (tests; default 1).
	TimeScale float64
	Now       func() time.Time
	Logger    *slog.Logger
}

// Service is Amazon SNS over the store.
type Service struct {
	o    Options
	wake chan struct{}
	// inFlight are the due keys being attempted, so a pass does not start one twice.
	mu       sync.Mutex
	inFlight map[string]bool
	wg       sync.WaitGroup
}

// New returns the service; Run delivers.
func New(o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Client == nil {
		// SNS's 15-second timeout; redirects are not followed, so an endpoint cannot send a delivery elsewhere.
		o.Client = &http.Client{Timeout: 15 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if o.MaxQueued <= 0 {
		o.MaxQueued = DefaultMaxQueued
	}
	if o.MaxQueuedBytes <= 0 {
		o.MaxQueuedBytes = DefaultMaxQueuedBytes
	}
	if o.Workers <= 0 {
		o.Workers = 16
	}
	if o.TimeScale <= 0 {
		o.TimeScale = 1
	}
	o.Logger = o.Logger.With("component", "sns")
	return &Service{o: o, wake: make(chan struct{}, 1), inFlight: map[string]bool{}}
}

// Account is the region and account of the service's topics.
func (s *Service) Account() sns.Account { return s.o.Account }

// Topic is a topic's record.
type Topic struct {
	Name       string            `json:"name"`
	ARN        string            `json:"arn"`
	Attributes map[string]string `json:"attributes,omitempty"`
	Tags       map[string]string `json:"tags,omitempty"`
	Created    time.Time         `json:"created"`
}

// Subscription is a subscription's record.
type Subscription struct {
	ID       string `json:"id"`
	ARN      string `json:"arn"`
	Topic    string `json:"topic"`
	TopicARN string `json:"topicArn"`
	Protocol string `json:"protocol"`
	Endpoint string `json:"endpoint"`
	Owner    string `json:"owner"`
	Pending  bool   `json:"pending,omitempty"`
	// Token confirms a pending subscription until TokenExpires.
	Token                string            `json:"token,omitempty"`
	TokenExpires         time.Time         `json:"tokenExpires,omitzero"`
	AuthenticatedConfirm bool              `json:"authenticatedConfirm,omitempty"`
	Attributes           map[string]string `json:"attributes,omitempty"`
	Created              time.Time         `json:"created"`
}

func topicKey(name string) string    { return topicPrefix + name }
func subsOf(topic string) string     { return subPrefix + topic + "/" }
func subKey(topic, id string) string { return subsOf(topic) + id }

func getTopic(tx store.Tx, name string) (Topic, error) {
	var t Topic
	err := store.GetJSON(tx, topicKey(name), &t)
	if errors.Is(err, store.ErrNotFound) {
		return t, sns.ErrTopicNotFound()
	}
	return t, err
}

func getSubscription(tx store.Tx, ref sns.SubscriptionRef) (Subscription, error) {
	var sub Subscription
	err := store.GetJSON(tx, subKey(ref.Topic, ref.ID), &sub)
	if errors.Is(err, store.ErrNotFound) {
		return sub, sns.ErrSubscriptionNotFound()
	}
	return sub, err
}

// CreateTopic creates a topic, or answers the ARN of the topic of that name when its attributes are the same
// (CreateTopic is idempotent).
func (s *Service) CreateTopic(ctx context.Context, name string, attrs, tags map[string]string) (string, error) {
	if err := sns.ValidTopicName(name); err != nil {
		return "", err
	}
	if sns.IsFIFO(name) {
		return "", fault.New(sns.CodeInvalidParameter, "Invalid parameter: Topic Name: Sluice does not support FIFO topics")
	}
	kept := map[string]string{}
	for k, v := range attrs {
		v, err := sns.CheckTopicAttribute(k, v)
		if err != nil {
			return "", err
		}
		if v != "" {
			kept[k] = v
		}
	}
	arn := s.o.Account.TopicARN(name)
	err := s.o.Store.Update(ctx, func(tx store.Tx) error {
		existing, err := getTopic(tx, name)
		if err == nil {
			if len(attrs) > 0 && !maps.Equal(existing.Attributes, kept) && !(len(existing.Attributes) == 0 && len(kept) == 0) {
				return fault.New(sns.CodeInvalidParameter, "Invalid parameter: Attributes Reason: Topic already exists with different attributes")
			}
			return nil
		}
		if !fault.Is(err, sns.CodeNotFound) {
			return err
		}
		n := 0
		if err := tx.Scan(topicPrefix, "", func(string, []byte) (bool, error) { n++; return n < MaxTopics, nil }); err != nil {
			return err
		}
		if n >= MaxTopics {
			return fault.New(sns.CodeTopicLimitExceeded, "Topic limit exceeded")
		}
		t := Topic{Name: name, ARN: arn, Attributes: kept, Tags: tags, Created: s.o.Now().UTC()}
		if len(t.Attributes) == 0 {
			t.Attributes = nil
		}
		return store.PutJSON(tx, topicKey(name), t)
	})
	if err != nil {
		return "", err
	}
	return arn, nil
}

// DeleteTopic deletes a topic and its subscriptions; deleting a topic that does not exist is not an error.
// Deliveries queued for its subscriptions are dropped when they come due.
func (s *Service) DeleteTopic(ctx context.Context, topicARN string) error {
	name, err := s.o.Account.TopicName(topicARN, "TopicArn")
	if fault.Is(err, sns.CodeNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return s.o.Store.Update(ctx, func(tx store.Tx) error {
		var keys []string
		if err := tx.Scan(subsOf(name), "", func(k string, _ []byte) (bool, error) { keys = append(keys, k); return true, nil }); err != nil {
			return err
		}
		for _, k := range append(keys, topicKey(name)) {
			if err := tx.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}

// ListTopics answers a page of topic ARNs, in name order, and the token of the next.
func (s *Service) ListTopics(ctx context.Context, token string) ([]string, string, error) {
	after, err := decodeToken(token)
	if err != nil {
		return nil, "", err
	}
	var out []string
	next := ""
	err = s.o.Store.View(ctx, func(tx store.Tx) error {
		out, next = nil, ""
		last := ""
		return tx.Scan(topicPrefix, after, func(k string, _ []byte) (bool, error) {
			if len(out) == pageSize {
				next = encodeToken(last)
				return false, nil
			}
			out, last = append(out, s.o.Account.TopicARN(strings.TrimPrefix(k, topicPrefix))), k
			return true, nil
		})
	})
	return out, next, err
}

// tokens are opaque to clients: the key a page ended at, base64.
func encodeToken(key string) string { return base64.RawURLEncoding.EncodeToString([]byte(key)) }

func decodeToken(token string) (string, error) {
	if token == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || !strings.HasPrefix(string(b), "sns/") {
		return "", fault.New(sns.CodeInvalidParameter, "Invalid parameter: NextToken")
	}
	return string(b), nil
}

// TopicAttributes answers GetTopicAttributes: what was set, and what SNS works out.
func (s *Service) TopicAttributes(ctx context.Context, topicARN string) (map[string]string, error) {
	name, err := s.o.Account.TopicName(topicARN, "TopicArn")
	if err != nil {
		return nil, err
	}
	var t Topic
	confirmed, pending := 0, 0
	err = s.o.Store.View(ctx, func(tx store.Tx) error {
		confirmed, pending = 0, 0
		var err error
		if t, err = getTopic(tx, name); err != nil {
			return err
		}
		return tx.Scan(subsOf(name), "", func(_ string, v []byte) (bool, error) {
			var sub Subscription
			if err := jsonUnmarshal(v, &sub); err != nil {
				return false, err
			}
			if sub.Pending {
				pending++
			} else {
				confirmed++
			}
			return true, nil
		})
	})
	if err != nil {
		return nil, err
	}
	out := map[string]string{
		"TopicArn": t.ARN, "Owner": s.o.Account.ID, "DisplayName": "", "SubscriptionsConfirmed": itoa(confirmed),
		"SubscriptionsPending": itoa(pending), "SubscriptionsDeleted": "0",
		"Policy":                  sns.DefaultTopicPolicy(t.ARN, s.o.Account.ID),
		"EffectiveDeliveryPolicy": sns.EffectiveTopicDeliveryPolicy(t.Attributes[sns.AttrDeliveryPolicy]),
	}
	maps.Copy(out, t.Attributes)
	return out, nil
}

// SetTopicAttribute sets one attribute of a topic ("" clears it).
func (s *Service) SetTopicAttribute(ctx context.Context, topicARN, name, value string) error {
	topic, err := s.o.Account.TopicName(topicARN, "TopicArn")
	if err != nil {
		return err
	}
	v, err := sns.CheckTopicAttribute(name, value)
	if err != nil {
		return err
	}
	return s.o.Store.Update(ctx, func(tx store.Tx) error {
		t, err := getTopic(tx, topic)
		if err != nil {
			return err
		}
		t.Attributes = withAttribute(t.Attributes, name, v)
		return store.PutJSON(tx, topicKey(topic), t)
	})
}

// TopicPolicy is a topic's own policy, parsed, or nil when it has none (the default policy grants nothing to a
// caller that is not a service acting for the account). topicARN is any ARN; one that names no topic here has none.
func (s *Service) TopicPolicy(ctx context.Context, topicARN string) (*policy.Document, error) {
	name, err := s.o.Account.TopicName(topicARN, "TopicArn")
	if err != nil {
		return nil, nil
	}
	var doc string
	err = s.o.Store.View(ctx, func(tx store.Tx) error {
		t, err := getTopic(tx, name)
		if err == nil {
			doc = t.Attributes[sns.AttrPolicy]
		}
		if fault.Is(err, sns.CodeNotFound) {
			return nil
		}
		return err
	})
	if err != nil || doc == "" {
		return nil, err
	}
	return policy.Parse(doc, policy.Resource)
}

// SubscribeInput is Subscribe's.
type SubscribeInput struct {
	TopicARN, Protocol, Endpoint string
	Attributes                   map[string]string
	// Owner is the subscribing caller's account.
	Owner string
}

// Subscribe subscribes an endpoint to a topic. A lambda subscription is confirmed at once; an HTTP/S one is
// pending until its endpoint confirms the SubscriptionConfirmation it is sent. Subscribing the same endpoint
// again answers the existing subscription.
func (s *Service) Subscribe(ctx context.Context, in SubscribeInput) (Subscription, error) {
	topic, err := s.o.Account.TopicName(in.TopicARN, "TopicArn")
	if err != nil {
		return Subscription{}, err
	}
	protocol, err := sns.CheckEndpoint(in.Protocol, in.Endpoint, s.o.Account)
	if err != nil {
		return Subscription{}, err
	}
	attrs := map[string]string{}
	for k, v := range in.Attributes {
		v, err := sns.CheckSubscriptionAttribute(protocol, k, v)
		if err != nil {
			return Subscription{}, err
		}
		if v != "" {
			attrs[k] = v
		}
	}
	if len(attrs) == 0 {
		attrs = nil
	}
	now := s.o.Now().UTC()
	id := uuid.NewString()
	sub := Subscription{ID: id, ARN: in.TopicARN + ":" + id, Topic: topic, TopicARN: s.o.Account.TopicARN(topic), Protocol: protocol,
		Endpoint: in.Endpoint, Owner: in.Owner, Attributes: attrs, Created: now}
	web := protocol == sns.ProtocolHTTP || protocol == sns.ProtocolHTTPS
	if web {
		sub.Pending, sub.Token, sub.TokenExpires = true, newToken(), now.Add(ConfirmationTTL)
	}
	var out Subscription
	err = s.o.Store.Update(ctx, func(tx store.Tx) error {
		if _, err := getTopic(tx, topic); err != nil {
			return err
		}
		var existing *Subscription
		n := 0
		if err := tx.Scan(subsOf(topic), "", func(_ string, v []byte) (bool, error) {
			n++
			var other Subscription
			if err := jsonUnmarshal(v, &other); err != nil {
				return false, err
			}
			if other.Protocol == protocol && other.Endpoint == in.Endpoint {
				existing = &other
				return false, nil
			}
			return true, nil
		}); err != nil {
			return err
		}
		if existing != nil {
			if !maps.Equal(existing.Attributes, attrs) {
				return fault.New(sns.CodeInvalidParameter, "Invalid parameter: Attributes Reason: Subscription already exists with different attributes")
			}
			if !existing.Pending || !web {
				out = *existing
				return nil
			}
			sub.ID, sub.ARN, sub.Created = existing.ID, existing.ARN, existing.Created // a new confirmation request
		} else if n >= MaxSubscriptionsPerTopic {
			return fault.New(sns.CodeSubscriptionLimit, "Subscription limit exceeded")
		}
		out = sub
		if err := store.PutJSON(tx, subKey(topic, sub.ID), sub); err != nil {
			return err
		}
		if web {
			return s.enqueueIn(tx, []delivery{{ID: uuid.NewString(), Topic: topic, Subscription: sub.ID, Kind: kindConfirmation,
				Message: sns.Message{ID: uuid.NewString(), TopicARN: sub.TopicARN, Timestamp: now}, First: now}}, now)
		}
		return nil
	})
	if err != nil {
		return Subscription{}, err
	}
	s.kick()
	return out, nil
}

func newToken() string {
	b := make([]byte, 64)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// ConfirmSubscription confirms the pending subscription token was sent to, and answers its ARN; a subscription
// already confirmed with that token answers its ARN again. authenticated records whether a signed caller
// confirmed it (AuthenticateOnUnsubscribe) — then only a signed caller may unsubscribe it.
func (s *Service) ConfirmSubscription(ctx context.Context, topicARN, token string, authenticated bool) (string, error) {
	topic, err := s.o.Account.TopicName(topicARN, "TopicArn")
	if err != nil {
		return "", err
	}
	if token == "" {
		return "", sns.ErrInvalidToken()
	}
	now := s.o.Now()
	var arn string
	err = s.o.Store.Update(ctx, func(tx store.Tx) error {
		if _, err := getTopic(tx, topic); err != nil {
			return err
		}
		var found *Subscription
		if err := tx.Scan(subsOf(topic), "", func(_ string, v []byte) (bool, error) {
			var sub Subscription
			if err := jsonUnmarshal(v, &sub); err != nil {
				return false, err
			}
			if sub.Token == token {
				found = &sub
				return false, nil
			}
			return true, nil
		}); err != nil {
			return err
		}
		if found == nil || found.Pending && now.After(found.TokenExpires) {
			return sns.ErrInvalidToken()
		}
		arn = found.ARN
		if !found.Pending {
			return nil
		}
		found.Pending, found.AuthenticatedConfirm = false, authenticated
		return store.PutJSON(tx, subKey(topic, found.ID), *found)
	})
	return arn, err
}

// Unsubscribe deletes a subscription. authenticated says whether the caller signed the request: an unsigned
// one (the UnsubscribeURL) may not delete a subscription confirmed with AuthenticateOnUnsubscribe.
func (s *Service) Unsubscribe(ctx context.Context, subscriptionARN string, authenticated bool) error {
	ref, err := s.o.Account.Subscription(subscriptionARN)
	if err != nil {
		return err
	}
	return s.o.Store.Update(ctx, func(tx store.Tx) error {
		sub, err := getSubscription(tx, ref)
		if err != nil {
			return err
		}
		if !authenticated && sub.AuthenticatedConfirm {
			return fault.New(sns.CodeAuthorizationError, "Unsubscribe requires authentication for this subscription")
		}
		return tx.Delete(subKey(ref.Topic, ref.ID))
	})
}

// Subscription reads a subscription by ARN.
func (s *Service) Subscription(ctx context.Context, subscriptionARN string) (Subscription, map[string]string, error) {
	ref, err := s.o.Account.Subscription(subscriptionARN)
	if err != nil {
		return Subscription{}, nil, err
	}
	var sub Subscription
	var topic Topic
	err = s.o.Store.View(ctx, func(tx store.Tx) error {
		var err error
		if sub, err = getSubscription(tx, ref); err != nil {
			return err
		}
		topic, err = getTopic(tx, ref.Topic)
		return err
	})
	if err != nil {
		return Subscription{}, nil, err
	}
	attrs := map[string]string{
		"SubscriptionArn": sub.ARN, "TopicArn": sub.TopicARN, "Owner": sub.Owner, "Protocol": sub.Protocol, "Endpoint": sub.Endpoint,
		"PendingConfirmation": boolString(sub.Pending), "ConfirmationWasAuthenticated": boolString(sub.AuthenticatedConfirm),
		"RawMessageDelivery": "false", "SubscriptionPrincipal": "arn:aws:iam::" + sub.Owner + ":root",
	}
	if sub.Protocol == sns.ProtocolHTTP || sub.Protocol == sns.ProtocolHTTPS {
		attrs["EffectiveDeliveryPolicy"] = sns.EffectiveSubscriptionDeliveryPolicy(topic.Attributes[sns.AttrDeliveryPolicy], sub.Attributes[sns.AttrDeliveryPolicy])
	}
	maps.Copy(attrs, sub.Attributes)
	return sub, attrs, nil
}

// SetSubscriptionAttribute sets one attribute of a subscription ("" clears it).
func (s *Service) SetSubscriptionAttribute(ctx context.Context, subscriptionARN, name, value string) error {
	ref, err := s.o.Account.Subscription(subscriptionARN)
	if err != nil {
		return err
	}
	return s.o.Store.Update(ctx, func(tx store.Tx) error {
		sub, err := getSubscription(tx, ref)
		if err != nil {
			return err
		}
		v, err := sns.CheckSubscriptionAttribute(sub.Protocol, name, value)
		if err != nil {
			return err
		}
		sub.Attributes = withAttribute(sub.Attributes, name, v)
		return store.PutJSON(tx, subKey(ref.Topic, ref.ID), sub)
	})
}

// ListSubscriptions answers a page of subscriptions — of one topic when topicARN is set, else of all — and the
// token of the next.
func (s *Service) ListSubscriptions(ctx context.Context, topicARN, token string) ([]Subscription, string, error) {
	prefix := subPrefix
	if topicARN != "" {
		topic, err := s.o.Account.TopicName(topicARN, "TopicArn")
		if err != nil {
			return nil, "", err
		}
		prefix = subsOf(topic)
	}
	after, err := decodeToken(token)
	if err != nil {
		return nil, "", err
	}
	if after != "" && !strings.HasPrefix(after, prefix) {
		return nil, "", fault.New(sns.CodeInvalidParameter, "Invalid parameter: NextToken")
	}
	var out []Subscription
	next := ""
	err = s.o.Store.View(ctx, func(tx store.Tx) error {
		out, next = nil, ""
		if topicARN != "" {
			if _, err := getTopic(tx, strings.TrimSuffix(strings.TrimPrefix(prefix, subPrefix), "/")); err != nil {
				return err
			}
		}
		last := ""
		return tx.Scan(prefix, after, func(k string, v []byte) (bool, error) {
			if len(out) == pageSize {
				next = encodeToken(last)
				return false, nil
			}
			var sub Subscription
			if err := jsonUnmarshal(v, &sub); err != nil {
				return false, err
			}
			out, last = append(out, sub), k
			return true, nil
		})
	})
	return out, next, err
}

// SubscribeURL is where an HTTP/S endpoint confirms its subscription: ConfirmSubscription on this server, unsigned.
func (s *Service) SubscribeURL(topicARN, token string) string {
	return s.o.Endpoint + "/?Action=ConfirmSubscription&TopicArn=" + url.QueryEscape(topicARN) + "&Token=" + token
}

// UnsubscribeURL is where a subscriber unsubscribes, unsigned.
func (s *Service) UnsubscribeURL(subscriptionARN string) string {
	return s.o.Endpoint + "/?Action=Unsubscribe&SubscriptionArn=" + url.QueryEscape(subscriptionARN)
}

// SigningCertURL is the URL of the certificate that verifies this node's signatures.
func (s *Service) SigningCertURL() string { return s.o.Endpoint + s.o.CertPath + s.o.Signer.CertName }

// withAttribute is a copy of attrs with name set to v, or removed when v is empty (the value that resets an
// attribute); the stored map is never changed in place, as a transaction may run again.
func withAttribute(attrs map[string]string, name, v string) map[string]string {
	out := maps.Clone(attrs)
	if out == nil {
		out = map[string]string{}
	}
	if v == "" {
		delete(out, name)
	} else {
		out[name] = v
	}
	return out
}
