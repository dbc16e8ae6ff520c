package topics

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/sluice-dev/sluice/internal/sns"
	"github.com/sluice-dev/sluice/internal/store"
)

// Publish checks a message and queues one delivery of it per confirmed subscription of its topic, durably,
// before it answers the message ID; it never waits on an endpoint. A full queue refuses the message (Throttled).
func (s *Service) Publish(ctx context.Context, topicARN string, m sns.Message) (string, error) {
	return s.publish(ctx, topicARN, m, "")
}

// sentNamespace names the message IDs PublishOnce derives from its keys.
var sentNamespace = uuid.MustParse("5b0c8a4e-7d1c-4f3e-9a52-8f1d6c0b2e17")

// PublishOnce publishes a message Sluice itself sends (an alarm's or a deployment's notification) once per key,
// however many processes sharing the store ask: the message ID is derived from the key, and a marker
// (sns/sent/<id>, kept a day) committed with the deliveries makes a second call answer the same ID and queue
// nothing.
func (s *Service) PublishOnce(ctx context.Context, topicARN string, m sns.Message, key string) (string, error) {
	return s.publish(ctx, topicARN, m, uuid.NewSHA1(sentNamespace, []byte(key)).String())
}

func (s *Service) publish(ctx context.Context, topicARN string, m sns.Message, onceID string) (string, error) {
	topic, err := s.o.Account.TopicName(topicARN, "TopicArn")
	if err != nil {
		return "", err
	}
	if err := sns.CheckMessage(m); err != nil {
		return "", err
	}
	now := s.o.Now().UTC()
	m.ID, m.TopicARN, m.Timestamp = uuid.NewString(), s.o.Account.TopicARN(topic), now
	if onceID != "" {
		m.ID = onceID
		// Callers ask again for what was sent (level-triggered: every resync lists recent deployments): a read
		// answers them without a write transaction.
		var sent bool
		if err := s.o.Store.View(ctx, func(tx store.Tx) error {
			var err error
			sent, err = store.Exists(tx, sentPrefix+onceID)
			return err
		}); err != nil || sent {
			return m.ID, err
		}
	}
	err = s.o.Store.Update(ctx, func(tx store.Tx) error {
		if _, err := getTopic(tx, topic); err != nil {
			return err
		}
		if onceID != "" {
			if sent, err := store.Exists(tx, sentPrefix+onceID); err != nil || sent {
				return err
			}
			if err := store.PutJSON(tx, sentPrefix+onceID, now); err != nil {
				return err
			}
		}
		var ds []delivery
		if err := tx.Scan(subsOf(topic), "", func(_ string, v []byte) (bool, error) {
			var sub Subscription
			if err := jsonUnmarshal(v, &sub); err != nil {
				return false, err
			}
			if !sub.Pending {
				ds = append(ds, delivery{ID: uuid.NewString(), Topic: topic, Subscription: sub.ID, Kind: kindNotification, Message: m, First: now})
			}
			return true, nil
		}); err != nil {
			return err
		}
		return s.enqueueIn(tx, ds, now)
	})
	if err != nil {
		return "", err
	}
	s.kick()
	return m.ID, nil
}

// queueState is the record of what waits in the delivery queue.
type queueState struct {
	Count int64 `json:"count"`
	Bytes int64 `json:"bytes"`
}

func (d delivery) size() int64 {
	n := int64(len(d.Message.Body) + len(d.Message.Subject) + 256)
	for k, a := range d.Message.Attributes {
		n += int64(len(k) + len(a.DataType) + len(a.StringValue) + len(a.BinaryValue))
	}
	return n
}

// enqueueIn commits deliveries, due now, and their share of the queue's bound, in the caller's transaction.
func (s *Service) enqueueIn(tx store.Tx, ds []delivery, now time.Time) error {
	if len(ds) == 0 {
		return nil
	}
	q, err := readQueue(tx)
	if err != nil {
		return err
	}
	for _, d := range ds {
		q.Count++
		q.Bytes += d.size()
	}
	if q.Count > s.o.MaxQueued || q.Bytes > s.o.MaxQueuedBytes {
		return sns.ErrQueueFull()
	}
	for _, d := range ds {
		if err := store.PutJSON(tx, dueKey(now.UnixNano(), d.ID), d); err != nil {
			return err
		}
	}
	return store.PutJSON(tx, queueKey, q)
}

func readQueue(tx store.Tx) (queueState, error) {
	var q queueState
	err := store.GetJSON(tx, queueKey, &q)
	if err != nil && !isNotFound(err) {
		return q, err
	}
	return q, nil
}

// QueueDepth is how many deliveries wait.
func (s *Service) QueueDepth(ctx context.Context) (int64, error) {
	var q queueState
	err := s.o.Store.View(ctx, func(tx store.Tx) error {
		var err error
		q, err = readQueue(tx)
		return err
	})
	return q.Count, err
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func itoa(n int) string { return strconv.Itoa(n) }

func boolString(b bool) string { return strconv.FormatBool(b) }

// sentKeep is how long PublishOnce's markers are kept.
const sentKeep = 24 * time.Hour

// pruneSent deletes PublishOnce's markers older than sentKeep, a batch at a time.
func (s *Service) pruneSent(ctx context.Context) error {
	cutoff := s.o.Now().Add(-sentKeep)
	return s.o.Store.Update(ctx, func(tx store.Tx) error {
		var old []string
		if err := tx.Scan(sentPrefix, "", func(k string, v []byte) (bool, error) {
			var at time.Time
			if json.Unmarshal(v, &at) == nil && at.Before(cutoff) {
				old = append(old, k)
			}
			return len(old) < 1000, nil
		}); err != nil {
			return err
		}
		for _, k := range old {
			if err := tx.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}
