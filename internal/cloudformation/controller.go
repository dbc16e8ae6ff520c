package cloudformation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/internal/reconcile"
	"github.com/sluice-dev/sluice/internal/sigv4"
	"github.com/sluice-dev/sluice/internal/stack"
	"github.com/sluice-dev/sluice/internal/store"
)

const (
	// retryAfter is how long a pass that failed waits before it is tried again, and Run before it lists again
	// after the store refused a listing or a watch.
	retryAfter = 2 * time.Second
	// resyncEvery is how often Run lists the work again, a backstop for what the watch cannot show.
	resyncEvery = 30 * time.Second
	// task kinds in the queue: "s/<stack name>" an operation, "c/<stack name>/<change set uuid>" a change set.
	taskStack     = "s/"
	taskChangeSet = "c/"
)

// Run carries out the stacks' operations and computes the change sets until ctx ends (in a cluster, one node
// runs it: ctx is its leadership's, whose fence guards every write). It lists the work keys, then follows the
// store's watch of cfn/ so that work committed by any process sharing the store starts at once; Workers
// operations run at the same time, each stack's one at a time.
func (s *Service) Run(ctx context.Context) {
	s.queue.Reopen()
	defer reconcile.Workers(s.o.Workers, s.queue, func(k string) {
		if err := s.pass(ctx, k); err != nil && ctx.Err() == nil {
			s.log.Error("stack operation", "work", k, "err", err)
			s.o.AfterFunc(retryAfter, func() { s.queue.Add(k) }) // a queue shut down meanwhile ignores it
		}
	})()
	reconcile.Follower{Store: s.o.Store, Prefix: "cfn/", List: s.relist, Apply: s.apply,
		ResyncEvery: resyncEvery, RetryAfter: retryAfter, AfterFunc: s.o.AfterFunc, Logger: s.log}.Run(ctx)
}

// relist queues all the work there is and returns the revision it read it at.
func (s *Service) relist(ctx context.Context) (int64, error) {
	var rev int64
	var work []string
	err := s.o.Store.View(ctx, func(tx store.Tx) error {
		rev, work = tx.Revision(), nil
		if err := tx.Scan(prefixOp, "", func(k string, _ []byte) (bool, error) {
			work = append(work, taskStack+strings.TrimPrefix(k, prefixOp))
			return true, nil
		}); err != nil {
			return err
		}
		return tx.Scan(prefixChangeSetOp, "", func(k string, _ []byte) (bool, error) {
			work = append(work, taskChangeSet+strings.TrimPrefix(k, prefixChangeSetOp))
			return true, nil
		})
	})
	for _, w := range work {
		s.queue.Add(w)
	}
	return rev, err
}

// apply queues the work a commit adds.
func (s *Service) apply(ev store.Event) {
	if ev.Type != store.EventPut {
		return
	}
	if name, ok := strings.CutPrefix(ev.Key, prefixOp); ok {
		s.queue.Add(taskStack + name)
	} else if rest, ok := strings.CutPrefix(ev.Key, prefixChangeSetOp); ok {
		s.queue.Add(taskChangeSet + rest)
	}
}

// pass does one piece of work.
func (s *Service) pass(ctx context.Context, k string) error {
	if name, ok := strings.CutPrefix(k, taskStack); ok {
		return s.operate(ctx, name)
	}
	if rest, ok := strings.CutPrefix(k, taskChangeSet); ok {
		name, csUUID, _ := strings.Cut(rest, "/")
		return s.compute(ctx, name, csUUID)
	}
	return nil
}

// operate carries a stack's operation out: the engine runs it (resuming whatever an earlier run did), then the
// operation ends in one transaction.
func (s *Service) operate(ctx context.Context, name string) error {
	var st stack.Stack
	var body []byte
	err := s.o.Store.View(ctx, func(tx store.Tx) error {
		var err error
		if st, err = stack.GetIn(tx, name); err != nil {
			return err
		}
		if st.Operation != nil && st.Operation.TemplateKey != "" {
			t, err := getTemplate(tx, st.Operation.TemplateKey)
			if err != nil {
				return err
			}
			body = []byte(t.Original)
		}
		return nil
	})
	if errors.Is(err, stack.ErrNotFound) || err == nil && st.Operation == nil {
		return s.o.Store.Update(ctx, func(tx store.Tx) error { return tx.Delete(prefixOp + name) })
	}
	if err != nil {
		return err
	}
	op := st.Operation
	if !st.Status.InProgress() {
		// The engine ended the operation, but this process stopped before it ended it for the API.
		return s.finish(ctx, name, op.ID, RunResult{Status: st.Status}, nil)
	}
	cred, err := s.liveSession(ctx, &st)
	if err != nil {
		return s.fail(ctx, name, op.ID, fmt.Errorf("the operation's session: %w", err))
	}
	run := Run{Kind: op.Kind, Stack: name, Owner: owner, Body: body, Parameters: op.Parameters, OnFailure: op.OnFailure,
		DisableRollback: op.DisableRollback, RetainResources: op.RetainResources, Credentials: cred, Resuming: st.Operation.Runs > 1,
		Events: func(e Event) { s.recordEvent(ctx, name, e) }}
	res, runErr := s.o.Engine.Run(ctx, run)
	if ctx.Err() != nil {
		return nil // the next leader, or this process after a restart, resumes it
	}
	return s.finish(ctx, name, op.ID, res, runErr)
}

// liveSession returns the operation's session for a run of the engine, minting a new one when it is gone or about
// to expire (an operation resumed after a long time outlives no session), and counts the run in the record.
func (s *Service) liveSession(ctx context.Context, st *stack.Stack) (sigv4.Credential, error) {
	op := st.Operation
	c, err := s.o.Sessions.SessionCredential(ctx, op.SessionKey)
	fresh := false
	if err != nil || !c.Expires.IsZero() && c.Expires.Sub(s.now()) <= sessionRenewBefore {
		if c, err = s.session(ctx, op.Principal, "", op.RoleARN); err != nil {
			return c, err
		}
		fresh = true
	}
	err = s.o.Store.Update(ctx, func(tx store.Tx) error {
		cur, err := stack.GetIn(tx, st.Name)
		if err != nil {
			return err
		}
		if cur.Operation == nil || cur.Operation.ID != op.ID {
			return errors.New("the operation ended meanwhile")
		}
		next := *cur.Operation
		next.SessionKey = c.AccessKeyID
		next.Runs++
		cur.Operation = &next
		*st, err = s.o.Stacks.PutIn(tx, cur)
		return err
	})
	if err != nil {
		if fresh {
			s.revoke(c.AccessKeyID)
		}
		return sigv4.Credential{}, err
	}
	if fresh {
		s.revoke(op.SessionKey)
	}
	return c, nil
}

// finish ends an operation once the engine has returned: the stack takes its new settings and template (or keeps
// its old ones), a deleted stack leaves its record for listings, the change set executed says how it went, the
// work key goes and the session is revoked. An operation the engine could not carry to an end (it failed before
// touching the stack) fails as CloudFormation's would.
func (s *Service) finish(ctx context.Context, name, opID string, res RunResult, runErr error) error {
	var session string
	err := s.o.Store.Update(ctx, func(tx store.Tx) error {
		session = ""
		st, err := stack.GetIn(tx, name)
		if errors.Is(err, stack.ErrNotFound) {
			return tx.Delete(prefixOp + name)
		}
		if err != nil {
			return err
		}
		op := st.Operation
		if op == nil || op.ID != opID {
			return tx.Delete(prefixOp + name)
		}
		session = op.SessionKey
		if st.Status.InProgress() {
			// The engine stopped before it ended the operation: it never held the stack, or could not record
			// the end. Nothing it did is lost: the record has it.
			if runErr == nil {
				runErr = errors.New("the operation ended without an outcome")
			}
			st, err = s.failIn(tx, st, runErr)
			if err != nil {
				return err
			}
		}
		return s.endIn(tx, st)
	})
	if err == nil {
		s.revoke(session)
	}
	return err
}

// fail ends an operation that could not start (its session could not be minted).
func (s *Service) fail(ctx context.Context, name, opID string, cause error) error {
	return s.finish(ctx, name, opID, RunResult{}, cause)
}

// failIn puts a stack whose operation failed before the engine held it in the status CloudFormation would end it
// in, with the failure as its reason and its events.
func (s *Service) failIn(tx store.Tx, st stack.Stack, cause error) (stack.Stack, error) {
	op := st.Operation
	var steps []stack.Status
	switch {
	case op.Kind == stack.OpDelete:
		steps = []stack.Status{stack.StatusDeleteFailed}
	case op.Kind == stack.OpCreate && op.OnFailure == "DO_NOTHING":
		steps = []stack.Status{stack.StatusCreateFailed}
	case op.Kind == stack.OpCreate && len(st.Resources) == 0 && op.OnFailure == "DELETE":
		steps = []stack.Status{stack.StatusDeleteInProgress, stack.StatusDeleteComplete}
	case op.Kind == stack.OpCreate && len(st.Resources) == 0:
		steps = []stack.Status{stack.StatusRollbackInProgress, stack.StatusRollbackComplete}
	case op.Kind == stack.OpCreate:
		steps = []stack.Status{stack.StatusCreateFailed}
	case len(st.Applied) == 0:
		steps = []stack.Status{stack.StatusUpdateRollbackInProgress, stack.StatusUpdateRollbackComplete}
	default:
		steps = []stack.Status{stack.StatusUpdateFailed}
	}
	reason := cause.Error()
	for i, status := range steps {
		st.Status, st.Owner = status, ""
		r := ""
		if i == 0 {
			r = reason
		}
		if err := s.appendEvent(tx, st, op.Token, Event{LogicalID: st.Name, Type: stackType, PhysicalID: st.StackID(), Status: string(status), Reason: r}); err != nil {
			return st, err
		}
	}
	st.Reason = reason
	return st, nil
}

// endIn ends st's operation in tx: the record without it, the stack's settings and template as the outcome says,
// a deleted stack forgotten but for what listings show, the change set executed marked.
func (s *Service) endIn(tx store.Tx, st stack.Stack) error {
	op := st.Operation
	st.Operation, st.Owner, st.Applied = nil, "", nil
	succeeded := st.Status == stack.StatusCreateComplete || st.Status == stack.StatusUpdateComplete
	if succeeded && op.Settings != nil {
		api := *op.Settings
		if st.API != nil {
			api.Outputs = st.API.Outputs // the engine's
			api.LastToken, api.LastTokenKind = st.API.LastToken, st.API.LastTokenKind
		}
		if err := deleteTemplate(tx, api.TemplateKey); err != nil {
			return err
		}
		api.TemplateKey, api.LastOperationID = op.TemplateKey, op.ID
		st.API = &api
	} else if op.Kind == stack.OpCreate && op.Settings != nil {
		// A creation that failed keeps its template, for GetTemplate on what it tried.
		api := *op.Settings
		if st.API != nil {
			api.ID, api.Outputs = st.API.ID, st.API.Outputs
			api.LastToken, api.LastTokenKind = st.API.LastToken, st.API.LastTokenKind
		}
		api.TemplateKey, api.LastOperationID = op.TemplateKey, op.ID
		st.API = &api
	} else if err := deleteTemplate(tx, op.TemplateKey); err != nil {
		return err
	}
	if op.ChangeSetID != "" {
		if err := s.markExecutedIn(tx, st.Name, op.ChangeSetID, succeeded); err != nil {
			return err
		}
	}
	if err := tx.Delete(prefixOp + st.Name); err != nil {
		return err
	}
	if st.Status == stack.StatusDeleteComplete {
		return s.forgetIn(tx, st)
	}
	_, err := s.o.Stacks.PutIn(tx, st)
	return err
}

// forgetIn deletes a stack's record, keeping what ListStacks and a describe by ID show of a deleted stack (at
// most MaxDeletedStacks; the oldest and their events go).
func (s *Service) forgetIn(tx store.Tx, st stack.Stack) error {
	if err := stack.DeleteIn(tx, st.Name, st.Revision); err != nil {
		return err
	}
	if err := s.deleteChangeSetsIn(tx, st.Name); err != nil {
		return err
	}
	if st.API == nil || st.API.ID == "" {
		return nil
	}
	api := *st.API
	if err := deleteTemplate(tx, api.TemplateKey); err != nil {
		return err
	}
	api.TemplateKey, api.DeletionTime = "", s.now()
	kept := stack.Stack{Name: st.Name, Status: stack.StatusDeleteComplete, Created: st.Created, Updated: s.now(), API: &api}
	u := stackUUID(api.ID)
	if err := store.PutJSON(tx, prefixDeleted+u, kept); err != nil {
		return err
	}
	if err := tx.Put(fmt.Sprintf("%s%020d/%s", prefixDeletedAt, api.DeletionTime.UnixNano(), u), []byte(u)); err != nil {
		return err
	}
	var order []string
	if err := tx.Scan(prefixDeletedAt, "", func(k string, _ []byte) (bool, error) {
		order = append(order, k)
		return true, nil
	}); err != nil {
		return err
	}
	for len(order) > MaxDeletedStacks {
		k := order[0]
		order = order[1:]
		old := k[strings.LastIndex(k, "/")+1:]
		for _, del := range []func() error{
			func() error { return tx.Delete(k) },
			func() error { return tx.Delete(prefixDeleted + old) },
			func() error { return deleteEvents(tx, old) },
		} {
			if err := del(); err != nil {
				return err
			}
		}
	}
	return nil
}
