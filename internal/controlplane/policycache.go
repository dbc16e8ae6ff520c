package controlplane

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/sluice-dev/sluice/internal/iam/policy"
	"github.com/sluice-dev/sluice/internal/store"
)

// The resource-policy cache: every policy/ record, parsed, kept by the store's watch so that ResourcePolicyAllows
// (asked per function URL request and by the Lambda API's authorization) reads no store. It is one more cache
// registered with Options.Progress, so AddPermission and RemovePermission return once it has applied them, on this
// process: the next request sees the change. Another process sharing the store (a cluster node) applies it as its
// own watch delivers it.

// policyCache holds the parsed policies by "<name>/<qualifier>".
type policyCache struct {
	mu   sync.RWMutex
	docs map[string]*policy.Document
	log  *slog.Logger
}

func (c *policyCache) get(name, qualifier string) *policy.Document {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.docs[name+"/"+qualifier]
}

// StartPolicyCache loads every resource-based policy and keeps them current from the store's watch until ctx ends
// or the store closes; from then on ResourcePolicyAllows answers from memory. Call it once, before serving.
func (s *Service) StartPolicyCache(ctx context.Context) error {
	c := &policyCache{log: s.log}
	rev, err := c.load(ctx, s.store)
	if err != nil {
		return err
	}
	var applied *store.Applied
	if s.opts.Progress != nil {
		applied = s.opts.Progress.Register("resource policies")
		applied.Advance(rev)
	}
	s.policies.Store(c)
	go c.follow(ctx, s.store, rev, applied)
	return nil
}

// load replaces the cache with every stored policy and returns the revision it read them at.
func (c *policyCache) load(ctx context.Context, db store.Store) (int64, error) {
	docs := map[string]*policy.Document{}
	var rev int64
	err := db.View(ctx, func(tx store.Tx) error {
		rev = tx.Revision()
		return tx.Scan(policyRoot, "", func(k string, v []byte) (bool, error) {
			if doc := c.parse(k, v); doc != nil {
				docs[strings.TrimPrefix(k, policyRoot)] = doc
			}
			return true, nil
		})
	})
	if err != nil {
		return 0, err
	}
	c.mu.Lock()
	c.docs = docs
	c.mu.Unlock()
	return rev, nil
}

// follow applies the watch of policy/ from revision rev + 1, listing again when it falls behind.
func (c *policyCache) follow(ctx context.Context, db store.Store, rev int64, applied *store.Applied) {
	for ctx.Err() == nil {
		events, err := db.Watch(ctx, policyRoot, rev+1)
		if err == nil {
			for resp := range events {
				if err = resp.Err; err != nil {
					break
				}
				c.apply(resp.Events)
				rev = resp.Revision
				if applied != nil {
					applied.Advance(rev)
				}
			}
		}
		if ctx.Err() != nil || errors.Is(err, store.ErrClosed) {
			return
		}
		if !errors.Is(err, store.ErrCompacted) {
			c.log.Warn("resource policies: watch ended; listing again", "err", err)
			select {
			case <-time.After(100 * time.Millisecond):
			case <-ctx.Done():
				return
			}
		}
		if listed, err := c.load(ctx, db); err == nil {
			rev = listed
			if applied != nil {
				applied.Advance(rev)
			}
		}
	}
}

func (c *policyCache) apply(events []store.Event) {
	if len(events) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ev := range events {
		k := strings.TrimPrefix(ev.Key, policyRoot)
		if ev.Type == store.EventDelete {
			delete(c.docs, k)
			continue
		}
		if doc := c.parse(ev.Key, ev.Value); doc != nil {
			c.docs[k] = doc
		} else {
			delete(c.docs, k)
		}
	}
}

// parse reads a stored policy; one that does not parse (it cannot: Sluice wrote it) allows nothing.
func (c *policyCache) parse(key string, v []byte) *policy.Document {
	var p resourcePolicy
	if err := jsonUnmarshal(v, &p); err != nil {
		c.log.Error("resource policy: unreadable record", "key", key, "err", err)
		return nil
	}
	if len(p.Statements) == 0 {
		return nil
	}
	doc, err := parsePolicy(p)
	if err != nil {
		c.log.Error("resource policy: does not parse", "key", key, "err", err)
		return nil
	}
	return doc
}

// parsePolicy parses a stored policy in the resource-based grammar.
func parsePolicy(p resourcePolicy) (*policy.Document, error) {
	return policy.Parse(p.document(), policy.Resource)
}
