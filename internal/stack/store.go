package stack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

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

// WithStackIDs makes Put give each record it creates CloudFormation's stack ID in region and account (its API
// settings' ID), so that stacks `sluice deploy` makes have one as the API's do.
func WithStackIDs(region, account string) StoreOption {
	return func(s *kvStore) { s.region, s.account = region, account }
}

// NewStore returns the server-side Store: one record per stack in db, each Put and Delete checking the revision
// inside the transaction that writes, so the check and the write are atomic and durable together.
func NewStore(db store.Store, opts ...StoreOption) *KV {
	s := &kvStore{db: db, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	return &KV{s}
}

// KV is the server-side Store. Its *In methods do the same inside a transaction of the caller's, so that a
// service can write a record together with keys of its own (the CloudFormation API's events and work).
type KV struct{ *kvStore }

type kvStore struct {
	db              store.Store
	now             func() time.Time
	region, account string
}

var _ Store = (*KV)(nil)

func (s *kvStore) Get(ctx context.Context, name string) (Stack, error) {
	var st Stack
	err := s.db.View(ctx, func(tx store.Tx) error {
		var err error
		st, err = GetIn(tx, name)
		return err
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Stack{}, fmt.Errorf("get stack %s: %w", name, err)
	}
	return st, err
}

// GetIn reads a record in tx: ErrNotFound (CloudFormation's message) when there is none.
func GetIn(tx store.Tx, name string) (Stack, error) {
	var st Stack
	err := store.GetJSON(tx, key(name), &st)
	if errors.Is(err, store.ErrNotFound) {
		return Stack{}, notFound(name)
	}
	return st, err
}

// NewStackID is CloudFormation's ID for a new stack named name.
func NewStackID(region, account, name string) string {
	return "arn:aws:cloudformation:" + region + ":" + account + ":stack/" + name + "/" + uuid.NewString()
}

// Put stamps Updated (and Created, on the first write; later writes keep the stored one) with the clock, sets
// Revision to the stored revision + 1, and returns the record decoded from what was written, so the caller sees
// exactly what a later Get will return. A stack created under the name of a deleted one continues from the deleted
// one's revision: callers must take the revision from the returned record, not assume 1.
func (s *kvStore) Put(ctx context.Context, in Stack) (Stack, error) {
	var stored Stack
	err := s.db.Update(ctx, func(tx store.Tx) error {
		var err error
		stored, err = s.PutIn(tx, in)
		return err
	})
	if err != nil {
		return Stack{}, wrapInternal("put stack "+in.Name, err)
	}
	return stored, nil
}

// PutIn is Put in tx. It may run again with tx (store.Update re-runs closures): it changes only a copy of in.
func (s *kvStore) PutIn(tx store.Tx, in Stack) (Stack, error) {
	if in.Name == "" {
		return Stack{}, errors.New("put stack: empty name")
	}
	var stored Stack
	err := func() error {
		st := in
		if st.API != nil {
			api := *st.API
			st.API = &api
		}
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
			if st.StackID() == "" && s.account != "" {
				if st.API == nil {
					st.API = &APISettings{}
				}
				st.API.ID = NewStackID(s.region, s.account, st.Name)
			}
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
	}()
	return stored, err
}

func (s *kvStore) Delete(ctx context.Context, name string, revision int64) error {
	err := s.db.Update(ctx, func(tx store.Tx) error { return DeleteIn(tx, name, revision) })
	return wrapInternal("delete stack "+name, err)
}

// DeleteIn is Delete in tx.
func DeleteIn(tx store.Tx, name string, revision int64) error {
	err := func() error {
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
	}()
	return err
}

// ScanIn visits every record in tx, by name, until fn returns an error.
func ScanIn(tx store.Tx, fn func(Stack) error) error {
	return tx.Scan(keyPrefix, "", func(k string, v []byte) (bool, error) {
		var st Stack
		if err := json.Unmarshal(v, &st); err != nil {
			return false, fmt.Errorf("decode %s: %w", k, err)
		}
		return true, fn(st)
	})
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
			out = append(out, Summary{Name: st.Name, ID: st.StackID(), Status: st.Status, Reason: st.Reason, Updated: st.Updated, Resources: len(st.Resources)})
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
