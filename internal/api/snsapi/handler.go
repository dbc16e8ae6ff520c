// Package snsapi is the Amazon SNS 2010-03-31 edge (signing service `sns`): the AWS query protocol with XML
// responses, the only protocol botocore's model gives SNS. Every request is checked against its operation's input
// shape in the model (model_gen.go) before it is authorized as sns:<Operation> on the topic it names, then handed
// to internal/sns/topics; the wire shapes here are the model's members. ConfirmSubscription and Unsubscribe are
// also served unsigned, as SNS serves the SubscribeURL and UnsubscribeURL it sends subscribers (IsAnonymous).
package snsapi

import (
	"context"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/sluice-dev/sluice/internal/api/edge"
	"github.com/sluice-dev/sluice/internal/api/gateway"
	"github.com/sluice-dev/sluice/internal/api/wire"
	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/sns"
	"github.com/sluice-dev/sluice/internal/sns/topics"
)

var service = &wire.Service{Version: "2010-03-31", XMLNamespace: "http://sns.amazonaws.com/doc/2010-03-31/"}

// maxBody bounds a request body: a 256 KiB message, form-encoded (up to three times longer), with its attributes.
const maxBody = 1 << 20

// Handler serves the SNS API.
type Handler struct {
	*edge.Handler
	svc *topics.Service
}

// New returns the SNS API handler over svc.
func New(svc *topics.Service, log *slog.Logger) *Handler {
	h := &Handler{svc: svc}
	h.Handler = edge.New(edge.Service{
		IAMPrefix: "sns",
		Protocol:  service.Detect,
		Body:      edge.MaxBody(maxBody),
		Admit:     edge.CheckQueryModel(snsModel, snsModelInputs, sns.CodeValidation),
		Resource:  h.resource,
		Unsigned:  fault.New("MissingAuthenticationToken", "Request is missing Authentication Token"),
		Error: edge.ByStatus(sns.Statuses, map[string]int{
			"AccessDenied": 403, "InvalidAction": 400, "MissingAction": 400, "MalformedQueryString": 404,
			"MissingAuthenticationToken": 403, "RequestEntityTooLarge": 413,
		}),
		AccessDenied: sns.CodeAuthorizationError,
		InternalCode: sns.CodeInternalError,
		AuthCodes:    edge.QueryAuthCodes,
		Log:          log.With("component", "snsapi"),
	},
		edge.Op("CreateTopic", h.createTopic),
		edge.OpNoOutput("DeleteTopic", h.deleteTopic),
		edge.Op("ListTopics", h.listTopics),
		edge.Op("GetTopicAttributes", h.getTopicAttributes),
		edge.OpNoOutput("SetTopicAttributes", h.setTopicAttributes),
		edge.Op("Subscribe", h.subscribe),
		edge.Op("ConfirmSubscription", h.confirmSubscription).AllowUnsigned(),
		edge.OpNoOutput("Unsubscribe", h.unsubscribe).AllowUnsigned(),
		edge.Op("ListSubscriptions", h.listSubscriptions),
		edge.Op("ListSubscriptionsByTopic", h.listSubscriptionsByTopic),
		edge.Op("GetSubscriptionAttributes", h.getSubscriptionAttributes),
		edge.OpNoOutput("SetSubscriptionAttributes", h.setSubscriptionAttributes),
		edge.Op("Publish", h.publish),
	)
	return h
}

// IsAnonymous reports whether an unsigned request is one SNS serves unsigned: a subscriber following the
// SubscribeURL (ConfirmSubscription) or UnsubscribeURL (Unsubscribe) it was sent.
func IsAnonymous(r *http.Request, body []byte) bool {
	switch paramsOf(r, body).Get("Action") {
	case "ConfirmSubscription", "Unsubscribe":
		return r.URL.Path == "/"
	}
	return false
}

// paramsOf are a request's parameters (none when they do not parse: the edge then answers MalformedQueryString).
func paramsOf(r *http.Request, body []byte) url.Values {
	q, _ := wire.QueryParams(r, body)
	return q
}

// resource is the ARN a call is authorized on: the topic it names (a subscription's topic for the subscription
// operations), arn:aws:sns:<region>:<account>:* for the listings.
func (h *Handler) resource(req edge.Request) string {
	p := req.Query()
	acct := h.svc.Account()
	switch {
	case p.Get("TopicArn") != "":
		return p.Get("TopicArn")
	case p.Get("TargetArn") != "":
		return p.Get("TargetArn")
	case p.Get("SubscriptionArn") != "":
		arn := p.Get("SubscriptionArn")
		if i := strings.LastIndexByte(arn, ':'); i > 0 {
			return arn[:i]
		}
		return arn
	case req.Op == "CreateTopic":
		return acct.TopicARN(p.Get("Name"))
	}
	return acct.TopicARN("*")
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func signed(ctx context.Context) bool {
	_, ok := gateway.IdentityFrom(ctx)
	return ok
}

// ---- topics ----

type tagShape struct{ Key, Value *string }

type createTopicInput struct {
	Name                 *string
	Attributes           map[string]string
	Tags                 []tagShape
	DataProtectionPolicy *string
}

type topicArnOutput struct{ TopicArn string }

func (h *Handler) createTopic(ctx context.Context, in *createTopicInput) (*topicArnOutput, error) {
	if in.DataProtectionPolicy != nil {
		return nil, fault.New(sns.CodeInvalidParameter, "Invalid parameter: DataProtectionPolicy: Sluice does not support data protection policies")
	}
	var tags map[string]string
	for _, t := range in.Tags {
		if tags == nil {
			tags = map[string]string{}
		}
		tags[str(t.Key)] = str(t.Value)
	}
	arn, err := h.svc.CreateTopic(ctx, str(in.Name), in.Attributes, tags)
	if err != nil {
		return nil, err
	}
	return &topicArnOutput{TopicArn: arn}, nil
}

type topicArnInput struct{ TopicArn *string }

func (h *Handler) deleteTopic(ctx context.Context, in *topicArnInput) error {
	return h.svc.DeleteTopic(ctx, str(in.TopicArn))
}

type nextTokenInput struct{ NextToken *string }

type topicShape struct{ TopicArn string }

type listTopicsOutput struct {
	Topics    []topicShape
	NextToken *string
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (h *Handler) listTopics(ctx context.Context, in *nextTokenInput) (*listTopicsOutput, error) {
	arns, next, err := h.svc.ListTopics(ctx, str(in.NextToken))
	if err != nil {
		return nil, err
	}
	out := &listTopicsOutput{Topics: []topicShape{}, NextToken: optString(next)}
	for _, a := range arns {
		out.Topics = append(out.Topics, topicShape{TopicArn: a})
	}
	return out, nil
}

type attributesOutput struct{ Attributes map[string]string }

func (h *Handler) getTopicAttributes(ctx context.Context, in *topicArnInput) (*attributesOutput, error) {
	attrs, err := h.svc.TopicAttributes(ctx, str(in.TopicArn))
	if err != nil {
		return nil, err
	}
	return &attributesOutput{Attributes: attrs}, nil
}

type setTopicAttributesInput struct{ TopicArn, AttributeName, AttributeValue *string }

func (h *Handler) setTopicAttributes(ctx context.Context, in *setTopicAttributesInput) error {
	return h.svc.SetTopicAttribute(ctx, str(in.TopicArn), str(in.AttributeName), str(in.AttributeValue))
}

// ---- subscriptions ----

type subscribeInput struct {
	TopicArn, Protocol, Endpoint *string
	Attributes                   map[string]string
	ReturnSubscriptionArn        *bool
}

type subscriptionArnOutput struct{ SubscriptionArn string }

// pendingARN is what SNS shows in place of the ARN of a subscription awaiting confirmation.
const pendingARN = "pending confirmation"

func (h *Handler) subscribe(ctx context.Context, in *subscribeInput) (*subscriptionArnOutput, error) {
	sub, err := h.svc.Subscribe(ctx, topics.SubscribeInput{TopicARN: str(in.TopicArn), Protocol: str(in.Protocol), Endpoint: str(in.Endpoint),
		Attributes: in.Attributes, Owner: h.svc.Account().ID})
	if err != nil {
		return nil, err
	}
	arn := sub.ARN
	if sub.Pending && (in.ReturnSubscriptionArn == nil || !*in.ReturnSubscriptionArn) {
		arn = pendingARN
	}
	return &subscriptionArnOutput{SubscriptionArn: arn}, nil
}

type confirmSubscriptionInput struct{ TopicArn, Token, AuthenticateOnUnsubscribe *string }

func (h *Handler) confirmSubscription(ctx context.Context, in *confirmSubscriptionInput) (*subscriptionArnOutput, error) {
	authenticate := signed(ctx) && strings.EqualFold(str(in.AuthenticateOnUnsubscribe), "true")
	arn, err := h.svc.ConfirmSubscription(ctx, str(in.TopicArn), str(in.Token), authenticate)
	if err != nil {
		return nil, err
	}
	return &subscriptionArnOutput{SubscriptionArn: arn}, nil
}

type subscriptionArnInput struct{ SubscriptionArn *string }

func (h *Handler) unsubscribe(ctx context.Context, in *subscriptionArnInput) error {
	return h.svc.Unsubscribe(ctx, str(in.SubscriptionArn), signed(ctx))
}

type subscriptionShape struct{ SubscriptionArn, Owner, Protocol, Endpoint, TopicArn string }

type listSubscriptionsOutput struct {
	Subscriptions []subscriptionShape
	NextToken     *string
}

func (h *Handler) list(ctx context.Context, topicARN, token string) (*listSubscriptionsOutput, error) {
	subs, next, err := h.svc.ListSubscriptions(ctx, topicARN, token)
	if err != nil {
		return nil, err
	}
	out := &listSubscriptionsOutput{Subscriptions: []subscriptionShape{}, NextToken: optString(next)}
	for _, s := range subs {
		arn := s.ARN
		if s.Pending {
			arn = "PendingConfirmation"
		}
		out.Subscriptions = append(out.Subscriptions, subscriptionShape{SubscriptionArn: arn, Owner: s.Owner, Protocol: s.Protocol, Endpoint: s.Endpoint, TopicArn: s.TopicARN})
	}
	return out, nil
}

func (h *Handler) listSubscriptions(ctx context.Context, in *nextTokenInput) (*listSubscriptionsOutput, error) {
	return h.list(ctx, "", str(in.NextToken))
}

type listByTopicInput struct{ TopicArn, NextToken *string }

func (h *Handler) listSubscriptionsByTopic(ctx context.Context, in *listByTopicInput) (*listSubscriptionsOutput, error) {
	return h.list(ctx, str(in.TopicArn), str(in.NextToken))
}

func (h *Handler) getSubscriptionAttributes(ctx context.Context, in *subscriptionArnInput) (*attributesOutput, error) {
	_, attrs, err := h.svc.Subscription(ctx, str(in.SubscriptionArn))
	if err != nil {
		return nil, err
	}
	return &attributesOutput{Attributes: attrs}, nil
}

type setSubscriptionAttributesInput struct{ SubscriptionArn, AttributeName, AttributeValue *string }

func (h *Handler) setSubscriptionAttributes(ctx context.Context, in *setSubscriptionAttributesInput) error {
	return h.svc.SetSubscriptionAttribute(ctx, str(in.SubscriptionArn), str(in.AttributeName), str(in.AttributeValue))
}

// ---- publish ----

type messageAttributeShape struct {
	DataType, StringValue *string
	// BinaryValue is a blob: base64 in the query protocol.
	BinaryValue *string
}

type publishInput struct {
	TopicArn, TargetArn, PhoneNumber, Message, Subject, MessageStructure *string
	MessageAttributes                                                    map[string]messageAttributeShape
	MessageDeduplicationId, MessageGroupId                               *string
}

type publishOutput struct{ MessageId string }

func (h *Handler) publish(ctx context.Context, in *publishInput) (*publishOutput, error) {
	if in.PhoneNumber != nil {
		return nil, fault.New(sns.CodeInvalidParameter, "Invalid parameter: PhoneNumber: Sluice does not send SMS")
	}
	if in.MessageGroupId != nil || in.MessageDeduplicationId != nil {
		return nil, fault.New(sns.CodeInvalidParameter, "Invalid parameter: MessageGroupId and MessageDeduplicationId are for FIFO topics, which Sluice does not support")
	}
	target := str(in.TopicArn)
	if target == "" {
		target = str(in.TargetArn)
	}
	if target == "" {
		return nil, fault.New(sns.CodeInvalidParameter, "Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter")
	}
	m := sns.Message{Body: str(in.Message), Subject: str(in.Subject), Structure: str(in.MessageStructure)}
	for name, a := range in.MessageAttributes {
		if m.Attributes == nil {
			m.Attributes = map[string]sns.MessageAttribute{}
		}
		attr := sns.MessageAttribute{DataType: str(a.DataType), StringValue: str(a.StringValue)}
		if a.BinaryValue != nil {
			b, err := base64.StdEncoding.DecodeString(*a.BinaryValue)
			if err != nil {
				return nil, fault.New(sns.CodeInvalidParameterValue, "The message attribute '%s' has an invalid binary value.", name)
			}
			attr.BinaryValue = b
		}
		m.Attributes[name] = attr
	}
	id, err := h.svc.Publish(ctx, target, m)
	if err != nil {
		return nil, err
	}
	return &publishOutput{MessageId: id}, nil
}
