package topics

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/sns"
	"github.com/sluice-dev/sluice/internal/store"
)

type deliveryKind string

const (
	kindConfirmation deliveryKind = "confirmation"
	kindNotification deliveryKind = "notification"
)

// delivery is one queued attempt to reach one subscription.
type delivery struct {
	ID           string       `json:"id"`
	Topic        string       `json:"topic"`
	Subscription string       `json:"subscription"`
	Kind         deliveryKind `json:"kind"`
	Message      sns.Message  `json:"message"`
	// Attempts is how many attempts failed so far.
	Attempts  int       `json:"attempts,omitempty"`
	First     time.Time `json:"first"`
	LastError string    `json:"lastError,omitempty"`
}

func dueKey(nanos int64, id string) string { return fmt.Sprintf("%s%020d-%s", duePrefix, nanos, id) }

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

// lambdaRetryPolicy is SNS's retry policy for Lambda endpoints: 3 immediate retries, 2 one second apart, 10
// backing off from 1 to 20 seconds, then every 20 seconds (AWS keeps trying for 23 days; Sluice for as many retries).
var lambdaRetryPolicy = sns.RetryPolicy{MinDelayTarget: 1, MaxDelayTarget: 20, NumRetries: 100015, NumNoDelayRetries: 3,
	NumMinDelayRetries: 2, NumMaxDelayRetries: 100000, BackoffFunction: "exponential"}

func (s *Service) kick() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends: each pass starts every due delivery not already under way (at most Workers at
// once) and sleeps until the next is due, a local Publish or Subscribe kicks it, or the store's watch shows a
// delivery queued by another node.
func (s *Service) Run(ctx context.Context) {
	defer s.wg.Wait()
	go s.follow(ctx)
	sem := make(chan struct{}, s.o.Workers)
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	var pruned time.Time
	for {
		if now := s.o.Now(); now.Sub(pruned) > time.Hour {
			if err := s.pruneSent(ctx); err != nil && ctx.Err() == nil {
				s.o.Logger.Warn("prune sent markers", "err", err)
			}
			pruned = now
		}
		next := s.dispatchDue(ctx, sem)
		var fired <-chan time.Time
		if !next.IsZero() {
			t.Reset(max(next.Sub(s.o.Now()), time.Millisecond))
			fired = t.C
		}
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-fired:
		}
		t.Stop()
	}
}

// follow kicks a pass for every delivery another node queues.
func (s *Service) follow(ctx context.Context) {
	for ctx.Err() == nil {
		ch, err := s.o.Store.Watch(ctx, duePrefix, 0)
		if err == nil {
			for resp := range ch {
				if resp.Err != nil {
					break
				}
				for _, ev := range resp.Events {
					if ev.Type == store.EventPut {
						s.kick()
						break
					}
				}
			}
		}
		s.kick() // the watch ended: a pass reads what it may have missed
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// ProcessDue attempts every delivery due now and waits for the attempts (tests).
func (s *Service) ProcessDue(ctx context.Context) {
	s.dispatchDue(ctx, make(chan struct{}, s.o.Workers))
	s.wg.Wait()
}

// dispatchDue starts the due deliveries not under way and answers when the next one is due (zero: none).
func (s *Service) dispatchDue(ctx context.Context, sem chan struct{}) time.Time {
	now := s.o.Now()
	type due struct {
		key string
		d   delivery
	}
	var ready []due
	var next time.Time
	err := s.o.Store.View(ctx, func(tx store.Tx) error {
		ready, next = nil, time.Time{}
		return tx.Scan(duePrefix, "", func(k string, v []byte) (bool, error) {
			at, ok := dueAt(k)
			if !ok {
				return true, nil
			}
			if at.After(now) {
				next = at
				return false, nil
			}
			s.mu.Lock()
			busy := s.inFlight[k]
			s.mu.Unlock()
			if busy {
				return true, nil
			}
			var d delivery
			if err := json.Unmarshal(v, &d); err != nil {
				return false, err
			}
			ready = append(ready, due{k, d})
			return len(ready) < 4*s.o.Workers, nil
		})
	})
	if err != nil {
		if ctx.Err() == nil {
			s.o.Logger.Error("read the delivery queue", "err", err)
		}
		return now.Add(time.Second)
	}
	if len(ready) == 4*s.o.Workers {
		next = now // more are due: another pass once these are under way
	}
	for _, r := range ready {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return time.Time{}
		}
		s.mu.Lock()
		s.inFlight[r.key] = true
		s.mu.Unlock()
		s.wg.Go(func() {
			defer func() { <-sem }()
			s.attempt(ctx, r.key, r.d)
			s.mu.Lock()
			delete(s.inFlight, r.key)
			s.mu.Unlock()
			s.kick()
		})
	}
	return next
}

func dueAt(key string) (time.Time, bool) {
	rest := strings.TrimPrefix(key, duePrefix)
	if len(rest) < 21 {
		return time.Time{}, false
	}
	var n int64
	if _, err := fmt.Sscanf(rest[:20], "%d", &n); err != nil {
		return time.Time{}, false
	}
	return time.Unix(0, n), true
}

// attempt makes one attempt of a delivery and records its outcome: done (removed), or due again later.
func (s *Service) attempt(ctx context.Context, key string, d delivery) {
	var (
		sub   Subscription
		topic Topic
	)
	err := s.o.Store.View(ctx, func(tx store.Tx) error {
		var err error
		if sub, err = getSubscription(tx, sns.SubscriptionRef{Topic: d.Topic, ID: d.Subscription}); err != nil {
			return err
		}
		topic, err = getTopic(tx, d.Topic)
		return err
	})
	if err != nil {
		if !isMissing(err) {
			s.o.Logger.Error("read a delivery's subscription", "err", err)
			return // due again at once: a pass retries it
		}
		s.settle(ctx, key, d, nil) // the subscription (or its topic) is gone: nothing to deliver to
		return
	}
	if d.Kind == kindConfirmation && !sub.Pending {
		s.settle(ctx, key, d, nil)
		return
	}
	var policy sns.RetryPolicy
	switch sub.Protocol {
	case sns.ProtocolLambda:
		policy = lambdaRetryPolicy
		err = s.deliverLambda(ctx, sub, d)
	default:
		policy = sns.EffectiveRetryPolicy(topic.Attributes[sns.AttrDeliveryPolicy], sub.Attributes[sns.AttrDeliveryPolicy])
		err = s.deliverHTTP(ctx, topic, sub, d)
	}
	if err == nil {
		s.settle(ctx, key, d, nil)
		return
	}
	if ctx.Err() != nil {
		return // stopping: the delivery stays due and runs after the restart
	}
	d.Attempts++
	d.LastError = err.Error()
	delay, again := policy.Delay(d.Attempts)
	if !again {
		s.o.Logger.Warn("delivery given up", "subscription", sub.ARN, "message_id", d.Message.ID, "attempts", d.Attempts, "err", err)
		s.settle(ctx, key, d, nil)
		return
	}
	s.o.Logger.Info("delivery failed; retrying", "subscription", sub.ARN, "message_id", d.Message.ID, "attempt", d.Attempts, "retry_in", delay, "err", err)
	at := s.o.Now().Add(time.Duration(float64(delay) / s.o.TimeScale))
	s.settle(ctx, key, d, &at)
}

// isMissing reports a subscription or topic deleted since its delivery was queued.
func isMissing(err error) bool { return fault.Is(err, sns.CodeNotFound) }

// settle removes the delivery at key, or moves it to its next due time, if it is still there.
func (s *Service) settle(ctx context.Context, key string, d delivery, again *time.Time) {
	err := s.o.Store.Update(ctx, func(tx store.Tx) error {
		if ok, err := store.Exists(tx, key); err != nil || !ok {
			return err
		}
		if err := tx.Delete(key); err != nil {
			return err
		}
		if again != nil {
			return store.PutJSON(tx, dueKey(again.UnixNano(), d.ID), d)
		}
		q, err := readQueue(tx)
		if err != nil {
			return err
		}
		q.Count = max(q.Count-1, 0)
		q.Bytes = max(q.Bytes-d.size(), 0)
		return store.PutJSON(tx, queueKey, q)
	})
	if err != nil && ctx.Err() == nil {
		s.o.Logger.Error("record a delivery's outcome", "err", err)
	}
}

// maxResponseBytes bounds what is read of an endpoint's answer (it is discarded).
const maxResponseBytes = 64 << 10

// deliverHTTP POSTs the signed document (or, for a raw-delivery subscription, the message alone) to an HTTP/S
// endpoint. As for SNS, a status from 200 to 499 is delivered; 500 and above, any other status, a timeout or a
// connection error is a failure to retry.
func (s *Service) deliverHTTP(ctx context.Context, topic Topic, sub Subscription, d delivery) error {
	version := topic.Attributes[sns.AttrSignatureVersion]
	if version == "" {
		version = "1"
	}
	var doc sns.Document
	msgType := sns.TypeNotification
	if d.Kind == kindConfirmation {
		msgType = sns.TypeSubscriptionConfirmation
		doc = sns.ConfirmationDocument(d.Message.ID, sub.TopicARN, sub.Token, s.SubscribeURL(sub.TopicARN, sub.Token), version, d.Message.Timestamp)
	} else {
		doc = sns.NotificationDocument(d.Message, sub.Protocol, s.UnsubscribeURL(sub.ARN), version)
	}
	sig, err := s.o.Signer.Sign(version, doc.StringToSign())
	if err != nil {
		return err
	}
	doc.Signature, doc.SigningCertURL = sig, s.SigningCertURL()
	raw := d.Kind == kindNotification && sub.Attributes[sns.AttrRawMessageDelivery] == "true"
	var body []byte
	if raw {
		body = []byte(d.Message.BodyFor(sub.Protocol))
	} else if body, err = json.Marshal(doc); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.Endpoint, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", sns.EffectiveContentType(topic.Attributes[sns.AttrDeliveryPolicy], sub.Attributes[sns.AttrDeliveryPolicy]))
	req.Header.Set("User-Agent", "Amazon Simple Notification Service Agent")
	req.Header.Set("x-amz-sns-message-type", msgType)
	req.Header.Set("x-amz-sns-message-id", doc.MessageID)
	req.Header.Set("x-amz-sns-topic-arn", sub.TopicARN)
	if d.Kind == kindNotification {
		req.Header.Set("x-amz-sns-subscription-arn", sub.ARN)
	}
	if raw {
		req.Header.Set("x-amz-sns-rawdelivery", "true")
	}
	resp, err := s.o.Client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBytes))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 499 {
		return fmt.Errorf("endpoint answered %s", resp.Status)
	}
	return nil
}

// deliverLambda queues an asynchronous invocation of the subscribed function with SNS's event, once the
// function's resource policy lets SNS invoke it for this topic.
func (s *Service) deliverLambda(ctx context.Context, sub Subscription, d delivery) error {
	if s.o.Functions == nil {
		return errors.New("lambda delivery is not wired")
	}
	ok, err := s.o.Functions.AllowsSNS(ctx, sns.FunctionARN(sub.Endpoint), sub.TopicARN)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("the resource policy of %s does not allow sns.amazonaws.com to invoke it for %s", sub.Endpoint, sub.TopicARN)
	}
	version := "1"
	doc := sns.NotificationDocument(d.Message, sns.ProtocolLambda, s.UnsubscribeURL(sub.ARN), version)
	sig, err := s.o.Signer.Sign(version, doc.StringToSign())
	if err != nil {
		return err
	}
	name, qualifier := sns.FunctionOf(sub.Endpoint)
	return s.o.Functions.InvokeAsync(ctx, name, qualifier, sns.LambdaEvent(d.Message, sub.ARN, version, sig, s.SigningCertURL(), s.UnsubscribeURL(sub.ARN)))
}
