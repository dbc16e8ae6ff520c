package controlplane

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/sluice-dev/sluice/internal/codestore"
	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/lambda"
	"github.com/sluice-dev/sluice/internal/store"
)

// The processor settles functions. Its queue is the work/ prefix of the store, so work survives restarts: Run
// starts with a full pass, and every mutation that creates work kicks it.
//
// With Options.MinSettleTime, a create or update is not settled before that long after it was committed (the
// function's LastModified, written in the committing transaction), however early the processor sees it: in a
// cluster the node leading the settle job may learn of the work late, or take the job over from a node that
// died, and the window a client sees is still measured from the commit. A pass skips what is not due yet and
// Run sets one timer for the earliest of it.

// kick wakes the processor without blocking.
func (s *Service) kick() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run processes pending work until ctx ends. It returns when the processor has stopped.
func (s *Service) Run(ctx context.Context) {
	var follower sync.WaitGroup
	follower.Go(func() { s.followWork(ctx) })
	defer follower.Wait()
	held := time.NewTimer(time.Hour) // fires when the earliest held settle is due
	held.Stop()
	defer held.Stop()
	s.kick()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-held.C:
		}
		for {
			progressed, due := s.processPass(ctx)
			if ctx.Err() != nil {
				return
			}
			if !progressed {
				if !due.IsZero() {
					held.Reset(max(due.Sub(s.now()), 0))
				}
				break
			}
		}
		s.mu.Lock()
		close(s.settled)
		s.settled = make(chan struct{})
		s.mu.Unlock()
	}
}

// processPass settles every function owing work once; it reports whether it settled anything, and when the
// earliest settle it held back for Options.MinSettleTime is due (zero when it held none).
func (s *Service) processPass(ctx context.Context) (progressed bool, due time.Time) {
	var names []string
	err := s.store.View(ctx, func(tx store.Tx) error {
		return tx.Scan(workPrefix, "", func(k string, _ []byte) (bool, error) {
			names = append(names, k[len(workPrefix):])
			return true, nil
		})
	})
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("scan pending work", "err", err)
		}
		return false, time.Time{}
	}
	for _, name := range names {
		if ctx.Err() != nil {
			return false, time.Time{}
		}
		notBefore, err := s.settle(ctx, name)
		if err != nil {
			if ctx.Err() == nil {
				// Leave the work queued and try again shortly rather than spinning.
				s.log.Error("settle function", "function", name, "err", err)
				time.AfterFunc(time.Second, s.kick)
			}
			continue
		}
		if !notBefore.IsZero() {
			if due.IsZero() || notBefore.Before(due) {
				due = notBefore
			}
			continue
		}
		progressed = true
	}
	return progressed, due
}

// settle performs one function's pending work and records the outcome. When the work was committed less than
// Options.MinSettleTime ago it does nothing and returns when it will be due.
func (s *Service) settle(ctx context.Context, name string) (notBefore time.Time, err error) {
	var work *lambda.PendingWork
	var committed time.Time
	err = s.store.View(ctx, func(tx store.Tx) error {
		var f lambda.Function
		err := store.GetJSON(tx, functionKey(name), &f)
		if err == nil {
			work, committed = f.Pending, f.LastModified
		}
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	})
	if err != nil {
		return time.Time{}, err
	}
	// A create or update commits LastModified with its work; a reactivation keeps the older one, so it is not held.
	if work != nil && s.opts.MinSettleTime > 0 {
		if due := committed.Add(s.opts.MinSettleTime); s.now().Before(due) {
			return due, nil
		}
	}
	var failure error
	if work != nil && work.ExtractCode != "" {
		_, failure = s.code.Extract(work.ExtractCode, s.opts.CodeLimits)
		var ce *codestore.Error
		if failure != nil && !errors.As(failure, &ce) {
			return time.Time{}, failure // an I/O fault, not a bad package: retry on the next pass
		}
	}
	return time.Time{}, s.mutate(ctx, func(tx store.Tx) error {
		f, err := s.loadFunction(tx, name)
		switch {
		case fault.Is(err, fault.ResourceNotFound):
			return tx.Delete(workKey(name)) // deleted meanwhile
		case err != nil:
			return err
		case f.Pending == nil:
			return tx.Delete(workKey(name)) // already settled
		case work == nil || f.Pending.Token != work.Token:
			return nil // superseded by newer work, which the next pass settles
		}
		s.applyOutcome(tx, f, failure)
		if err := tx.Delete(workKey(name)); err != nil {
			return err
		}
		if f.Pending != nil && f.Pending.PublishVersion != 0 {
			if err := s.settleVersion(tx, name, f.Pending.PublishVersion, failure); err != nil {
				return err
			}
		}
		f.Pending = nil
		return store.PutJSON(tx, functionKey(name), f)
	})
}

// applyOutcome moves f to its settled status.
func (s *Service) applyOutcome(_ store.Tx, f *lambda.Function, failure error) {
	f.RevisionID = newRevision()
	switch {
	case failure == nil:
		f.Status = lambda.Settled()
	case f.Status.State == lambda.StatePending:
		f.Status = lambda.CreationFailed("InvalidZipFileException", failure.Error())
	default:
		if f.Previous != nil {
			f.Config = *f.Previous
		}
		f.Status = lambda.UpdateFailedStatus("InvalidZipFileException", failure.Error())
	}
	f.Previous = nil
}

// settleVersion finishes a version published together with a code update.
func (s *Service) settleVersion(tx store.Tx, name string, n int, failure error) error {
	v, err := loadVersion(tx, name, n)
	if err != nil || v == nil {
		return err
	}
	if failure == nil {
		v.Status = lambda.Settled()
	} else {
		v.Status = lambda.CreationFailed("InvalidZipFileException", failure.Error())
	}
	return store.PutJSON(tx, versionKey(name, n), v)
}

// WaitSettled blocks until the processor completes a pass that started after the call, or ctx ends. Tests use it.
func (s *Service) WaitSettled(ctx context.Context) error {
	s.mu.Lock()
	ch := s.settled
	s.mu.Unlock()
	s.kick()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
