package cloudformation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/sluice-dev/sluice/internal/stack"
	"github.com/sluice-dev/sluice/internal/store"
)

const (
	prefixOp        = "cfn/op/"
	prefixEvent     = "cfn/ev/"
	prefixEventSeq  = "cfn/evseq/"
	prefixDeleted   = "cfn/deleted/"
	prefixDeletedAt = "cfn/deletedat/"
)

// storedEvent is a stack event as kept.
type storedEvent struct {
	StackID            string `json:"stackId"`
	StackName          string `json:"stackName"`
	EventID            string `json:"eventId"`
	OperationID        string `json:"operationId,omitempty"`
	LogicalID          string `json:"logicalId"`
	PhysicalID         string `json:"physicalId,omitempty"`
	Type               string `json:"type"`
	Timestamp          int64  `json:"timestamp"` // Unix milliseconds
	Status             string `json:"status"`
	Reason             string `json:"reason,omitempty"`
	Properties         string `json:"properties,omitempty"`
	ClientRequestToken string `json:"clientRequestToken,omitempty"`
}

// eventSeq is a stack's event counter: the next sequence number and the oldest kept.
type eventSeq struct {
	Next  int64 `json:"next"`
	First int64 `json:"first"`
}

func eventKey(stackUUID string, seq int64) string {
	return fmt.Sprintf("%s%s/%016d", prefixEvent, stackUUID, seq)
}

// appendEvent records one event of st in tx, dropping the oldest beyond MaxEventsPerStack. Event IDs are as
// CloudFormation makes them: a UUID for the stack's own events, <LogicalId>-<status>-<timestamp> for a
// resource's.
func (s *Service) appendEvent(tx store.Tx, st stack.Stack, token string, e Event) error {
	id := st.StackID()
	if id == "" {
		return nil // a stack `sluice deploy` made before stacks had IDs: it has no events
	}
	u := stackUUID(id)
	var seq eventSeq
	if err := store.GetJSON(tx, prefixEventSeq+u, &seq); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	now := s.now()
	ev := storedEvent{StackID: id, StackName: st.Name, LogicalID: e.LogicalID, PhysicalID: e.PhysicalID, Type: e.Type,
		Timestamp: now.UnixMilli(), Status: e.Status, Reason: e.Reason, ClientRequestToken: token}
	if st.Operation != nil {
		ev.OperationID = st.Operation.ID
	}
	if e.Type == stackType {
		ev.EventID = uuid.NewString()
	} else {
		ev.EventID = e.LogicalID + "-" + e.Status + "-" + now.Format("2006-01-02T15:04:05.000Z")
	}
	if e.Properties != nil {
		if b, err := json.Marshal(e.Properties); err == nil && len(b) <= maxEventProperties {
			ev.Properties = maskNoEcho(string(b), st.Operation)
		}
	}
	if err := store.PutJSON(tx, eventKey(u, seq.Next), ev); err != nil {
		return err
	}
	seq.Next++
	for seq.Next-seq.First > MaxEventsPerStack {
		if err := tx.Delete(eventKey(u, seq.First)); err != nil {
			return err
		}
		seq.First++
	}
	return store.PutJSON(tx, prefixEventSeq+u, seq)
}

// maskNoEcho hides, in a resource's properties as JSON, the values of the operation's NoEcho parameters that a
// property took, as describes hide the parameters themselves.
func maskNoEcho(props string, op *stack.Operation) string {
	if op == nil || op.Settings == nil {
		return props
	}
	for _, name := range op.Settings.NoEcho {
		v := op.Parameters[name]
		if v == "" {
			for _, p := range op.Settings.Parameters {
				if p.Key == name {
					v = p.Value
				}
			}
		}
		if v == "" {
			continue
		}
		quoted, _ := json.Marshal(v)
		props = strings.ReplaceAll(props, string(quoted[1:len(quoted)-1]), maskedValue)
	}
	return props
}

// recordEvent records an event the engine reported while it runs an operation on a stack.
func (s *Service) recordEvent(ctx context.Context, name string, e Event) {
	err := s.o.Store.Update(ctx, func(tx store.Tx) error {
		st, err := stack.GetIn(tx, name)
		if err != nil {
			return err
		}
		token := ""
		if st.Operation != nil {
			token = st.Operation.Token
		}
		return s.appendEvent(tx, st, token, e)
	})
	if err != nil && ctx.Err() == nil {
		s.log.Warn("record a stack event", "stack", name, "logical_id", e.LogicalID, "status", e.Status, "err", err)
	}
}

// StackEvent is an event as DescribeStackEvents shows it.
type StackEvent struct {
	StackID, StackName, EventID, OperationID, LogicalID, PhysicalID, Type, Status, Reason, Properties, ClientRequestToken string
	Timestamp                                                                                                             int64
}

// eventsPage is how many events DescribeStackEvents answers at once.
const eventsPage = 100

// DescribeStackEvents lists a stack's events, newest first, a page at a time: nextToken continues.
func (s *Service) DescribeStackEvents(ctx context.Context, nameOrID, nextToken string) ([]StackEvent, string, error) {
	var out []StackEvent
	var next string
	err := s.o.Store.View(ctx, func(tx store.Tx) error {
		out, next = nil, ""
		f, err := findIn(tx, nameOrID)
		if err != nil {
			return err
		}
		u := stackUUID(s.viewOf(f).ID)
		var seq eventSeq
		if err := store.GetJSON(tx, prefixEventSeq+u, &seq); errors.Is(err, store.ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		from := seq.Next - 1
		if nextToken != "" {
			n, err := strconv.ParseInt(nextToken, 10, 64)
			if err != nil || n < 0 {
				return validation("Invalid NextToken")
			}
			from = n
		}
		for i := from; i >= seq.First && len(out) < eventsPage; i-- {
			var ev storedEvent
			if err := store.GetJSON(tx, eventKey(u, i), &ev); errors.Is(err, store.ErrNotFound) {
				continue
			} else if err != nil {
				return err
			}
			out = append(out, StackEvent{StackID: ev.StackID, StackName: ev.StackName, EventID: ev.EventID, OperationID: ev.OperationID,
				LogicalID: ev.LogicalID, PhysicalID: ev.PhysicalID, Type: ev.Type, Status: ev.Status, Reason: ev.Reason,
				Properties: ev.Properties, ClientRequestToken: ev.ClientRequestToken, Timestamp: ev.Timestamp})
			if len(out) == eventsPage && i > seq.First {
				next = strconv.FormatInt(i-1, 10)
			}
		}
		return nil
	})
	return out, next, err
}

// deleteEvents forgets a stack's events.
func deleteEvents(tx store.Tx, stackUUID string) error {
	var keys []string
	if err := tx.Scan(prefixEvent+stackUUID+"/", "", func(k string, _ []byte) (bool, error) {
		keys = append(keys, k)
		return true, nil
	}); err != nil {
		return err
	}
	for _, k := range keys {
		if err := tx.Delete(k); err != nil {
			return err
		}
	}
	return tx.Delete(prefixEventSeq + stackUUID)
}
