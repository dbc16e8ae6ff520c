package storetest

import (
	"context"
	"errors"

	"github.com/sluice-dev/sluice/internal/store"
)

// RerunUpdates wraps s so that Update and UpdateRev run every closure twice: first in a transaction that is rolled
// back, then for real, the way an optimistic backend (etcd) re-runs a closure whose reads went stale. A service's
// tests run against it to show that their closures have no effect outside the transaction. A closure that fails
// on the first run is not run again.
func RerunUpdates(s store.Store) store.Store { return rerun{s} }

// Unwrap returns the store RerunUpdates wrapped, or s itself.
func Unwrap(s store.Store) store.Store {
	if r, ok := s.(rerun); ok {
		return r.Store
	}
	return s
}

type rerun struct{ store.Store }

var errFirstRun = errors.New("storetest: first run rolled back")

func (r rerun) Update(ctx context.Context, fn func(store.Tx) error) error {
	_, err := r.UpdateRev(ctx, fn)
	return err
}

func (r rerun) UpdateRev(ctx context.Context, fn func(store.Tx) error) (int64, error) {
	err := r.Store.Update(ctx, func(tx store.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return errFirstRun
	})
	if !errors.Is(err, errFirstRun) {
		return 0, err
	}
	return r.Store.UpdateRev(ctx, fn)
}
