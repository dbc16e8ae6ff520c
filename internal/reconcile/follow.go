// Package reconcile is the machinery Sluice's level-triggered controllers share (controller-runtime's model): a work
// queue of keys ([Queue]), workers that take keys from it ([Workers]), and a [Follower] that keeps a controller in
// step with the store — every key under a prefix listed at one revision, then the store's watch from the next, listed
// again when the watch falls behind and periodically as a backstop. What a key means and what a pass over it does is
// the controller's (internal/codedeploy/controller, internal/cloudformation); the controllers write with
// compare-and-swap, so a pass may run twice or race another process's without harm.
package reconcile

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/sluice-dev/sluice/internal/store"
)

// AfterFunc calls f on its own goroutine once d has passed on a controller's clock and returns a function that
// cancels the call (time.AfterFunc's Stop by default; tests pass a fake clock's).
type AfterFunc func(d time.Duration, f func()) (stop func() bool)

// RealAfterFunc is AfterFunc on the wall clock.
func RealAfterFunc(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }

// Follower keeps a controller in step with the keys under Prefix.
type Follower struct {
	Store  store.Store
	Prefix string
	// List queues all the work there is and returns the revision it read it at (one read transaction).
	List func(ctx context.Context) (rev int64, err error)
	// Apply queues what one committed change calls for.
	Apply func(store.Event)
	// ResyncEvery is how often the work is listed again, a backstop for what the watch cannot show (the world
	// outside the store); RetryAfter how long to wait before listing again after the store refused a listing or a
	// watch for a reason other than falling behind.
	ResyncEvery, RetryAfter time.Duration
	AfterFunc               AfterFunc
	Logger                  *slog.Logger
}

// Run lists and watches until ctx ends. A watch that fell behind the store's retained history (store.ErrCompacted,
// store.ErrLagged) is followed by a new listing at once; a closed store ends following (Run waits for ctx).
func (f Follower) Run(ctx context.Context) {
	for ctx.Err() == nil {
		rev, err := f.List(ctx)
		if err == nil {
			err = f.watch(ctx, rev+1)
		}
		switch {
		case ctx.Err() != nil:
			return
		case errors.Is(err, store.ErrClosed):
			f.Logger.Error("store closed; "+f.Prefix+" is no longer followed", "err", err)
			<-ctx.Done()
			return
		case errors.Is(err, store.ErrCompacted):
			f.Logger.Info("watch of "+f.Prefix+" fell behind the store's history; listing again", "err", err)
		case err != nil:
			f.Logger.Error("watch "+f.Prefix, "err", err)
			Sleep(ctx, f.AfterFunc, f.RetryAfter)
		}
	}
}

// watch applies the changes under Prefix committed from revision from on, until ctx ends, the watch ends (its
// error returned), or ResyncEvery has passed (nil).
func (f Follower) watch(ctx context.Context, from int64) error {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch, err := f.Store.Watch(wctx, f.Prefix, from)
	if err != nil {
		return err
	}
	resync := make(chan struct{})
	stop := f.AfterFunc(f.ResyncEvery, func() { close(resync) })
	defer stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-resync:
			return nil
		case resp, ok := <-ch:
			if !ok {
				return ctx.Err()
			}
			if resp.Err != nil {
				return resp.Err
			}
			for _, ev := range resp.Events {
				f.Apply(ev)
			}
		}
	}
}

// Sleep waits d on the clock of afterFunc, or until ctx ends.
func Sleep(ctx context.Context, afterFunc AfterFunc, d time.Duration) {
	done := make(chan struct{})
	stop := afterFunc(d, func() { close(done) })
	defer stop()
	select {
	case <-ctx.Done():
	case <-done:
	}
}

// Workers starts n goroutines that take keys from q and call pass with each, until q is shut down; the returned
// function shuts q down and waits for them.
func Workers[K comparable](n int, q *Queue[K], pass func(K)) (stop func()) {
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for {
				k, ok := q.Get()
				if !ok {
					return
				}
				pass(k)
				q.Done(k)
			}
		})
	}
	return func() {
		q.ShutDown()
		wg.Wait()
	}
}
