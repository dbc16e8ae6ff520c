// Package store owns Sluice's durable state contract: a transactional, ordered key-value store. Every backend
// (bbolt embedded, etcd for clusters) implements Store, and storetest holds the one conformance suite they all pass.
//
// Keys are slash-separated strings laid out by the services (see keys.go); values are opaque bytes (JSON records).
// Update commits durably — for bbolt that means fsync — before it returns nil, so an acknowledged write survives
// kill -9.
package store

import (
	"context"
	"encoding/json"
	"errors"
)

// ErrNotFound is returned by Tx.Get for a missing key.
var ErrNotFound = errors.New("store: key not found")

// ErrReadOnly is returned by writes inside View.
var ErrReadOnly = errors.New("store: write in a read-only transaction")

// Store is a transactional ordered key-value store.
type Store interface {
	// View runs fn in a read-only, consistent snapshot.
	View(ctx context.Context, fn func(Tx) error) error
	// Update runs fn in a serializable read-write transaction. If fn returns an error nothing is written and the
	// error is returned unchanged; otherwise the writes are durable when Update returns nil.
	Update(ctx context.Context, fn func(Tx) error) error
	// Close releases the store. Transactions must not be running.
	Close() error
}

// Tx is a transaction. Byte slices it returns are valid only until the transaction ends.
type Tx interface {
	// Get returns the value of key or ErrNotFound.
	Get(key string) ([]byte, error)
	// Put sets key to value.
	Put(key string, value []byte) error
	// Delete removes key; deleting a missing key is not an error.
	Delete(key string) error
	// Scan visits the keys that start with prefix in ascending byte order, beginning strictly after `after` when it
	// is non-empty, until fn returns false or an error (which Scan returns). Seeks, so the cost is O(log n + visited).
	Scan(prefix, after string, fn func(key string, value []byte) (more bool, err error)) error
}

// GetJSON decodes the JSON record at key into v.
func GetJSON(tx Tx, key string, v any) error {
	b, err := tx.Get(key)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// PutJSON encodes v as JSON at key.
func PutJSON(tx Tx, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return tx.Put(key, b)
}

// Exists reports whether key is present.
func Exists(tx Tx, key string) (bool, error) {
	_, err := tx.Get(key)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}
