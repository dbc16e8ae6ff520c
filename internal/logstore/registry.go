package logstore

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"time"

	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/store"
)

// The registry's keys: logs/group/<name> → Definition; logs/deleted/<name> → the Unix ms of the group's last
// deletion.
const (
	keyGroup   = "logs/group/"
	keyDeleted = "logs/deleted/"
)

// CloudWatch Logs' answers for a group that is missing or already there.
const (
	CodeResourceNotFound      = "ResourceNotFoundException"
	CodeResourceAlreadyExists = "ResourceAlreadyExistsException"
	msgNoGroup                = "The specified log group does not exist."
	msgGroupExists            = "The specified log group already exists"
)

// Definition is a log group made through the API (CreateLogGroup, or CloudFormation's AWS::Logs::LogGroup).
type Definition struct {
	Name    string `json:"name"`
	Created int64  `json:"created"` // Unix ms
	// RetentionInDays is how long its events are kept (0: for ever).
	RetentionInDays int               `json:"retentionInDays,omitempty"`
	Tags            map[string]string `json:"tags,omitempty"`
}

// Registry keeps the log groups made through the API, with their retention and tags, in the store, so that
// every node of a cluster sees the same ones, and the time each group was last deleted. Events live in the files
// of the Store (or the nodes' stores) as before: the registry decides which of them a reader sees (Retained).
type Registry struct {
	db  store.Store
	now func() time.Time
}

// NewRegistry returns the registry over db (now: nil for the real clock).
func NewRegistry(db store.Store, now func() time.Time) *Registry {
	if now == nil {
		now = time.Now
	}
	return &Registry{db: db, now: now}
}

// Create records a new log group. held reports whether events of the group are already readable (a function's
// group exists once it has logged, as on AWS where Lambda creates it): then, as for a recorded one, the group
// already exists.
func (r *Registry) Create(ctx context.Context, name string, tags map[string]string, held func(floor int64) (bool, error)) (Definition, error) {
	d := Definition{Name: name, Created: r.now().UnixMilli(), Tags: maps.Clone(tags)}
	err := r.db.Update(ctx, func(tx store.Tx) error {
		if ok, err := store.Exists(tx, keyGroup+name); err != nil {
			return err
		} else if ok {
			return fault.New(CodeResourceAlreadyExists, msgGroupExists)
		}
		floor, err := deletedAt(tx, name)
		if err != nil {
			return err
		}
		if ok, err := held(floor); err != nil {
			return err
		} else if ok {
			return fault.New(CodeResourceAlreadyExists, msgGroupExists)
		}
		return store.PutJSON(tx, keyGroup+name, d)
	})
	return d, err
}

func deletedAt(tx store.Tx, name string) (int64, error) {
	var at int64
	err := store.GetJSON(tx, keyDeleted+name, &at)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	return at, err
}

// Get returns a recorded group.
func (r *Registry) Get(ctx context.Context, name string) (Definition, bool, error) {
	var d Definition
	var ok bool
	err := r.db.View(ctx, func(tx store.Tx) error {
		err := store.GetJSON(tx, keyGroup+name, &d)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		ok = err == nil
		return err
	})
	return d, ok, err
}

// List returns the recorded groups, sorted by name.
func (r *Registry) List(ctx context.Context) ([]Definition, error) {
	var out []Definition
	err := r.db.View(ctx, func(tx store.Tx) error {
		out = nil
		return tx.Scan(keyGroup, "", func(_ string, v []byte) (bool, error) {
			var d Definition
			if err := json.Unmarshal(v, &d); err != nil {
				return false, err
			}
			out = append(out, d)
			return true, nil
		})
	})
	return out, err
}

// Delete deletes a group: its record, and every event logged until now, which no reader sees any more. A group
// that is not recorded but holds events (a function's) is deleted too; held says whether it does.
func (r *Registry) Delete(ctx context.Context, name string, held func(floor int64) (bool, error)) error {
	now := r.now().UnixMilli()
	return r.db.Update(ctx, func(tx store.Tx) error {
		recorded, err := store.Exists(tx, keyGroup+name)
		if err != nil {
			return err
		}
		if !recorded {
			floor, err := deletedAt(tx, name)
			if err != nil {
				return err
			}
			if ok, err := held(floor); err != nil {
				return err
			} else if !ok {
				return fault.New(CodeResourceNotFound, msgNoGroup)
			}
		}
		if err := tx.Delete(keyGroup + name); err != nil {
			return err
		}
		return store.PutJSON(tx, keyDeleted+name, now)
	})
}

// SetRetention sets a group's retention (0: for ever). A group that holds events but is not recorded (a
// function's) is recorded by it, created at its first event (first).
func (r *Registry) SetRetention(ctx context.Context, name string, days int, held func(floor int64) (first int64, ok bool, err error)) error {
	return r.db.Update(ctx, func(tx store.Tx) error {
		var d Definition
		err := store.GetJSON(tx, keyGroup+name, &d)
		switch {
		case errors.Is(err, store.ErrNotFound):
			floor, err := deletedAt(tx, name)
			if err != nil {
				return err
			}
			first, ok, err := held(floor)
			if err != nil {
				return err
			}
			if !ok {
				return fault.New(CodeResourceNotFound, msgNoGroup)
			}
			d = Definition{Name: name, Created: first}
		case err != nil:
			return err
		}
		d.RetentionInDays = days
		return store.PutJSON(tx, keyGroup+name, d)
	})
}

// Floor is the Unix ms before which a group's events are not seen: those its retention let go, and those logged
// before its last deletion (0: all are seen).
func (r *Registry) Floor(ctx context.Context, name string) (int64, error) {
	var floor int64
	err := r.db.View(ctx, func(tx store.Tx) error {
		var err error
		if floor, err = deletedAt(tx, name); err != nil {
			return err
		}
		var d Definition
		err = store.GetJSON(tx, keyGroup+name, &d)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if d.RetentionInDays > 0 {
			floor = max(floor, r.now().Add(-time.Duration(d.RetentionInDays)*24*time.Hour).UnixMilli())
		}
		return nil
	})
	return floor, err
}

// Retained is a Reader that shows of each group only what the registry lets readers see: no event older than the
// group's retention or logged before its last deletion, and no group (or stream) left with none.
type Retained struct {
	Reader
	Registry *Registry
}

func (r Retained) floor(group string) (int64, error) {
	return r.Registry.Floor(context.Background(), group)
}

// Group describes a group that holds events a reader may see.
func (r Retained) Group(group string) (GroupInfo, bool, error) {
	info, ok, err := r.Reader.Group(group)
	if err != nil || !ok {
		return info, ok, err
	}
	floor, err := r.floor(group)
	if err != nil || floor == 0 || info.FirstEvent >= floor {
		return info, ok, err
	}
	events, _, err := r.Reader.Page(group, Query{Start: floor, Limit: 1}, nil)
	if err != nil || len(events) == 0 {
		return info, false, err
	}
	info.FirstEvent = events[0].Timestamp
	return info, true, nil
}

// Groups lists the groups that hold events a reader may see.
func (r Retained) Groups() ([]GroupInfo, error) {
	all, err := r.Reader.Groups()
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, g := range all {
		info, ok, err := r.Group(g.Name)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, info)
		}
	}
	return out, nil
}

// Streams lists the streams with an event a reader may see.
func (r Retained) Streams(group string) ([]StreamInfo, error) {
	all, err := r.Reader.Streams(group)
	if err != nil {
		return nil, err
	}
	floor, err := r.floor(group)
	if err != nil || floor == 0 {
		return all, err
	}
	out := all[:0]
	for _, s := range all {
		if s.LastEvent >= floor {
			out = append(out, s)
		}
	}
	return out, nil
}

// Page reads events from the floor on.
func (r Retained) Page(group string, q Query, at Cursor) ([]Event, Cursor, error) {
	floor, err := r.floor(group)
	if err != nil {
		return nil, nil, err
	}
	q.Start = max(q.Start, floor)
	return r.Reader.Page(group, q, at)
}

// Before reads events from the floor on.
func (r Retained) Before(group string, q Query, at Cursor, n int) ([]Event, error) {
	floor, err := r.floor(group)
	if err != nil {
		return nil, err
	}
	q.Start = max(q.Start, floor)
	return r.Reader.Before(group, q, at, n)
}
