// Package bolt implements store.Store on an embedded bbolt file: the default, single-node backend. bbolt fsyncs
// on every commit, which is what makes an acknowledged API write survive kill -9.
package bolt

import (
	"bytes"
	"context"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/sluice-dev/sluice/internal/store"
)

var bucket = []byte("sluice")

// Store is a bbolt-backed store.Store.
type Store struct{ db *bbolt.DB }

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the database file at path. It fails fast if another process holds the file.
func Open(path string) (*Store, error) {
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if err := db.Update(func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucket)
		return err
	}); err != nil {
		db.Close()
		return nil, fmt.Errorf("init store: %w", err)
	}
	return &Store{db: db}, nil
}

func (s *Store) View(ctx context.Context, fn func(store.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.View(func(tx *bbolt.Tx) error { return fn(&boltTx{b: tx.Bucket(bucket), writable: false}) })
}

func (s *Store) Update(ctx context.Context, fn func(store.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Update(func(tx *bbolt.Tx) error { return fn(&boltTx{b: tx.Bucket(bucket), writable: true}) })
}

func (s *Store) Close() error { return s.db.Close() }

type boltTx struct {
	b        *bbolt.Bucket
	writable bool
}

func (t *boltTx) Get(key string) ([]byte, error) {
	v := t.b.Get([]byte(key))
	if v == nil {
		return nil, store.ErrNotFound
	}
	return v, nil
}

func (t *boltTx) Put(key string, value []byte) error {
	if !t.writable {
		return store.ErrReadOnly
	}
	return t.b.Put([]byte(key), value)
}

func (t *boltTx) Delete(key string) error {
	if !t.writable {
		return store.ErrReadOnly
	}
	return t.b.Delete([]byte(key))
}

func (t *boltTx) Scan(prefix, after string, fn func(string, []byte) (bool, error)) error {
	c := t.b.Cursor()
	p := []byte(prefix)
	var k, v []byte
	if after != "" && after >= prefix {
		k, v = c.Seek([]byte(after))
		if k != nil && string(k) == after {
			k, v = c.Next()
		}
	} else {
		k, v = c.Seek(p)
	}
	for ; k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
		more, err := fn(string(k), v)
		if err != nil || !more {
			return err
		}
	}
	return nil
}
