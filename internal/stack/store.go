package stack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/sluice-dev/sluice/internal/store"
)

// Store layout (values are JSON):
//
//	stack/<name>       Stack
//	stackrev/<name>    the revision a deleted stack had: a stack created again under its name continues from it, so
//	                   revisions are never reused and a deploy still holding a revision of the deleted stack cannot
//	                   write over the new one (removed when the name is used again)
const (
	keyPrefix     = "stack/"
	deletedPrefix = "stackrev/"
)

func key(name string) string { return keyPrefix + name }

// StoreOption configures the Store NewStore returns.
type StoreOption func(*kvStore)

// WithClock sets the clock that stamps Created and Updated (default time.Now).
func WithClock(now func() time.Time) StoreOption {
	return func(s *kvStore) { s.now = now }
}

// NewStore returns the server-side Store: one record per stack in db, each Put and Delete checking the revision
// inside the transaction that writes, so the check and the write are atomic and durable together.
func NewStore(db store.Store, opts ...StoreOption) Store {
	s := &kvStore{db: db, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s
}

type kvStore struct {
	db  store.Store
	now func() time.Time
}

var _ Store = (*kvStore)(nil)

func (s *kvStore) Get(ctx context.Context, name string) (Stack, error) {
	var st Stack
	err := s.db.View(ctx, func(tx store.Tx) error { return store.GetJSON(tx, key(name), &st) })
	if errors.Is(err, store.ErrNotFound) {
		return Stack{}, notFound(name)
	}
	if err != nil {
		return Stack{}, fmt.Errorf("get stack %s: %w", name, err)
	}
	return st, nil
}

// Put stamps Updated (and Created, on the first write; later writes keep the stored one) with the clock, sets
// Revision to the stored revision + 1, and returns the record decoded from what was written, so the caller sees
// exactly what a later Get will return. A stack created under the name of a deleted one continues from the deleted
// one's revision: callers must take the revision from the returned record, not assume 1.
func (s *kvStore) Put(ctx context.Context, in Stack) (Stack, error) {
	if in.Name == "" {
		return Stack{}, errors.New("put stack: empty name")
	}
	var stored Stack
	err := s.db.Update(ctx, func(tx store.Tx) error {
		st := in // the closure may run again (store.Update): change a copy, never the caller's record
		now := s.now().UTC()
		var cur Stack
		switch err := store.GetJSON(tx, key(st.Name), &cur); {
		case errors.Is(err, store.ErrNotFound):
			var last int64
			if err := store.GetJSON(tx, deletedPrefix+st.Name, &last); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			if st.Revision != 0 && last != 0 {
				return conflict("Stack %s was deleted by another deploy (expected revision %d)", st.Name, st.Revision)
			}
			if st.Revision != 0 {
				return conflict("Stack %s does not exist (expected revision %d)", st.Name, st.Revision)
			}
			if err := tx.Delete(deletedPrefix + st.Name); err != nil {
				return err
			}
			st.Revision, st.Created = last, now
		case err != nil:
			return err
		case st.Revision == 0:
			return conflict("Stack %s was created by another deploy (revision %d, expected none)", st.Name, cur.Revision)
		case cur.Revision != st.Revision:
			return revisionConflict(st.Name, cur.Revision, st.Revision)
		default:
			st.Created = cur.Created
		}
		st.Revision++
		st.Updated = now
		b, err := json.Marshal(st)
		if err != nil {
			return err
		}
		if err := tx.Put(key(st.Name), b); err != nil {
			return err
		}
		return json.Unmarshal(b, &stored)
	})
	if err != nil {
		return Stack{}, wrapInternal("put stack "+in.Name, err)
	}
	return stored, nil
}

func (s *kvStore) Delete(ctx context.Context, name string, revision int64) error {
	err := s.db.Update(ctx, func(tx store.Tx) error {
		var cur Stack
		if err := store.GetJSON(tx, key(name), &cur); errors.Is(err, store.ErrNotFound) {
			return notFound(name)
		} else if err != nil {
			return err
		}
		if cur.Revision != revision {
			return revisionConflict(name, cur.Revision, revision)
		}
		if err := store.PutJSON(tx, deletedPrefix+name, cur.Revision); err != nil {
			return err
		}
		return tx.Delete(key(name))
	})
	return wrapInternal("delete stack "+name, err)
}

// List decodes every record to summarise it; stacks are few and their records small enough for that.
func (s *kvStore) List(ctx context.Context) ([]Summary, error) {
	out := []Summary{}
	err := s.db.View(ctx, func(tx store.Tx) error {
		return tx.Scan(keyPrefix, "", func(k string, v []byte) (bool, error) {
			var st Stack
			if err := json.Unmarshal(v, &st); err != nil {
				return false, fmt.Errorf("decode %s: %w", k, err)
			}
			out = append(out, Summary{Name: st.Name, Status: st.Status, Reason: st.Reason, Updated: st.Updated, Resources: len(st.Resources)})
			return true, nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list stacks: %w", err)
	}
	return out, nil
}

// wrapInternal adds context to a store failure and passes ErrNotFound and ErrConflict through unchanged, so their
// messages stay the ones meant for people.
func wrapInternal(what string, err error) error {
	if err == nil || errors.Is(err, ErrNotFound) || errors.Is(err, ErrConflict) {
		return err
	}
	return fmt.Errorf("%s: %w", what, err)
}

// Error is an ErrNotFound or ErrConflict with the message for people (errors.Is matches its Kind). The server
// store and the HTTP client return the same messages.
type Error struct {
	Kind    error // ErrNotFound or ErrConflict
	Message string
}

func (e *Error) Error() string { return e.Message }

// Is makes errors.Is(err, ErrNotFound) and errors.Is(err, ErrConflict) hold.
func (e *Error) Is(target error) bool { return target == e.Kind }

// notFound is CloudFormation's message for a missing stack.
func notFound(name string) error {
	return &Error{Kind: ErrNotFound, Message: "Stack with id " + name + " does not exist"}
}

func conflict(format string, args ...any) error {
	return &Error{Kind: ErrConflict, Message: fmt.Sprintf(format, args...)}
}

func revisionConflict(name string, stored, expected int64) error {
	return conflict("Stack %s was changed by another deploy (revision %d, expected %d)", name, stored, expected)
}
