package controlplane

import (
	"context"
	"slices"

	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/lambda"
	"github.com/sluice-dev/sluice/internal/store"
)

// Snapshot is everything the invoke path needs to know about one function, read in one transaction.
type Snapshot struct {
	Function lambda.Function
	// Effective is the $LATEST configuration invokes run: during an update still InProgress it is the previous one.
	Effective lambda.Config
	Versions  []lambda.Version
	Aliases   []lambda.Alias
	// EventInvoke holds the asynchronous invocation configs by qualifier ("$LATEST" for the function).
	EventInvoke map[string]EventInvokeConfig
	// Provisioned lists the provisioned-concurrency configurations.
	Provisioned []ProvisionedConfig
	// URLs holds the function URLs by qualifier ("" for $LATEST's).
	URLs map[string]URLConfig
}

// Snapshot reads one function whole; ok is false when it does not exist.
func (s *Service) Snapshot(ctx context.Context, name string) (snap Snapshot, ok bool, err error) {
	err = s.store.View(ctx, func(tx store.Tx) error {
		f, err := s.loadFunction(tx, name)
		if fault.Is(err, fault.ResourceNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		ok = true
		snap.Function = *f
		snap.Effective = f.Config
		if f.Status.LastUpdateStatus == lambda.UpdateInProgress && f.Previous != nil {
			snap.Effective = *f.Previous
		}
		if err := tx.Scan(versionPrefix(name), "", func(_ string, b []byte) (bool, error) {
			var v lambda.Version
			err := jsonUnmarshal(b, &v)
			snap.Versions = append(snap.Versions, v)
			return err == nil, err
		}); err != nil {
			return err
		}
		if err := tx.Scan(aliasPrefix(name), "", func(_ string, b []byte) (bool, error) {
			var a lambda.Alias
			err := jsonUnmarshal(b, &a)
			snap.Aliases = append(snap.Aliases, a)
			return err == nil, err
		}); err != nil {
			return err
		}
		if snap.EventInvoke, err = eventInvokeConfigs(tx, name); err != nil {
			return err
		}
		if snap.Provisioned, err = provisionedConfigs(tx, name); err != nil {
			return err
		}
		snap.URLs, err = urlConfigs(tx, name)
		return err
	})
	return snap, ok, err
}

// FunctionNames lists every function's name and the revision the list was read at: a cache that then loads each
// Snapshot and applies WatchFunctions from that revision + 1 misses nothing.
func (s *Service) FunctionNames(ctx context.Context) (names []string, rev int64, err error) {
	err = s.store.View(ctx, func(tx store.Tx) error {
		rev = tx.Revision()
		return tx.Scan(functionPrefix, "", func(k string, _ []byte) (bool, error) {
			names = append(names, k[len(functionPrefix):])
			return true, nil
		})
	})
	return names, rev, err
}

// FunctionChanges is one step of WatchFunctions.
type FunctionChanges struct {
	// Revision: every change up to it is included in this step or an earlier one.
	Revision int64
	// Names are the functions whose Snapshot changed in the commit at Revision, sorted; empty when the commit (or
	// a progress notification) changed no function.
	Names []string
	// Err ends the stream: errors.Is(Err, store.ErrCompacted) means the reader fell behind and lists again.
	Err error
}

// WatchFunctions streams, for every commit at revision from or later, which functions' Snapshots it changed —
// including commits that changed none, so a reader keeps up with the store's revision (store.Progress). The
// channel closes when ctx ends, or after a step whose Err says why the stream ended.
func (s *Service) WatchFunctions(ctx context.Context, from int64) (<-chan FunctionChanges, error) {
	// One watch over the whole key space: a commit anywhere must advance the reader, not only ones under the
	// function prefixes (a progress notification would do that too, but later and coalesced).
	events, err := s.store.Watch(ctx, "", from)
	if err != nil {
		return nil, err
	}
	out := make(chan FunctionChanges)
	go func() {
		defer close(out)
		for resp := range events {
			step := FunctionChanges{Revision: resp.Revision, Err: resp.Err}
			for _, ev := range resp.Events {
				if name, ok := snapshotFunction(ev.Key); ok {
					step.Names = append(step.Names, name)
				}
			}
			slices.Sort(step.Names)
			step.Names = slices.Compact(step.Names)
			select {
			case out <- step:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

// CodeDir returns the extracted package directory of a CodeSha256, if extracted on this node.
func (s *Service) CodeDir(sha string) (string, bool) { return s.code.CodeDir(sha) }

// EnsureCode returns the extracted package directory of a CodeSha256, extracting the package first when this node
// has not — fetching it from a peer when the code store is a cluster's. The invoke path calls it when it starts an
// environment whose code this node lacks (a function settled by another node). When ctx ends EnsureCode stops
// waiting; the extraction goes on, for the next caller.
func (s *Service) EnsureCode(ctx context.Context, sha string) (string, error) {
	if dir, ok := s.code.CodeDir(sha); ok {
		return dir, nil
	}
	type result struct {
		dir string
		err error
	}
	done := make(chan result, 1)
	go func() {
		dir, err := s.code.Extract(sha, s.opts.CodeLimits)
		done <- result{dir, err}
	}()
	select {
	case r := <-done:
		return r.dir, r.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}
