package iam

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/internal/auth"
	"github.com/sluice-dev/sluice/internal/iam/policy"
	"github.com/sluice-dev/sluice/internal/sigv4"
	"github.com/sluice-dev/sluice/internal/store"
)

// What this package keeps in memory — the credentials registered with the keyring (access keys, sessions), the
// session policies, the parsed identity policies of each principal — is a cache of the iam/ records, fed by the
// store's watch: a record written by any process sharing the store (another cluster node) takes effect here too.
// Writes go through update, which returns once the watch has applied them, so a caller that created an access
// key or assumed a role can sign with it at once.

// keyPrefix is everything this package stores.
const keyPrefix = "iam/"

// cacheWaitLimit bounds how long a write waits for the watch to apply it: the write is committed either way.
const cacheWaitLimit = 10 * time.Second

// update runs fn in a write transaction and returns once the caches have applied the commit.
func (s *Service) update(ctx context.Context, fn func(store.Tx) error) error {
	rev, err := s.db.UpdateRev(ctx, fn)
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, cacheWaitLimit)
	defer cancel()
	if err := s.progress.Wait(wctx, rev); err != nil && ctx.Err() == nil {
		s.log.Warn("identity caches did not apply a change in time; answering anyway", "revision", rev)
	}
	return nil
}

// load registers every stored access key and live session (replacing whatever was registered before) and returns
// the revision it read them at.
func (s *Service) load(ctx context.Context) (int64, error) {
	var rev int64
	var creds []sigv4.Credential
	sessionPolicies := map[string]*policy.Document{}
	err := s.db.View(ctx, func(tx store.Tx) error {
		rev = tx.Revision()
		if err := tx.Scan(keyAccessKey, "", func(_ string, v []byte) (bool, error) {
			c, ok, err := s.accessKeyCredential(v)
			if ok {
				creds = append(creds, c)
			}
			return err == nil, err
		}); err != nil {
			return err
		}
		return tx.Scan(keySession, "", func(_ string, v []byte) (bool, error) {
			var r sessionRecord
			if err := unmarshal(v, &r); err != nil {
				return false, err
			}
			creds = append(creds, r.credential())
			if d := parseSessionPolicy(r); d != nil {
				sessionPolicies[r.ID] = d
			}
			return true, nil
		})
	})
	if err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	current := map[string]bool{}
	for _, c := range creds {
		current[c.AccessKeyID] = true
		s.keys.Add(c)
	}
	for id := range s.registered {
		if !current[id] {
			s.keys.Remove(id)
		}
	}
	s.registered = current
	s.sessionPolicies = sessionPolicies
	clear(s.policies)
	s.generation++
	return rev, nil
}

// follow applies the watch of iam/ from revision rev + 1 until ctx ends or the store closes, listing again when it
// falls behind.
func (s *Service) follow(ctx context.Context, rev int64) {
	for ctx.Err() == nil {
		events, err := s.db.Watch(ctx, keyPrefix, rev+1)
		if err == nil {
			for resp := range events {
				if err = resp.Err; err != nil {
					break
				}
				for _, ev := range resp.Events {
					s.apply(ev)
				}
				rev = resp.Revision
				s.applied.Advance(rev)
			}
		}
		if ctx.Err() != nil || errors.Is(err, store.ErrClosed) {
			return
		}
		if !errors.Is(err, store.ErrCompacted) {
			s.log.Warn("identity caches: watch ended; listing again", "err", err)
			select {
			case <-time.After(100 * time.Millisecond):
			case <-ctx.Done():
				return
			}
		}
		if listed, err := s.load(ctx); err == nil {
			rev = listed
			s.applied.Advance(rev)
		}
	}
}

// apply brings the caches in line with one changed record.
func (s *Service) apply(ev store.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := ev.Key
	switch {
	case strings.HasPrefix(key, keyAccessKey):
		id := strings.TrimPrefix(key, keyAccessKey)
		c, ok, err := s.accessKeyCredential(ev.Value)
		if ev.Type == store.EventDelete || err != nil || !ok {
			s.keys.Remove(id)
			delete(s.registered, id)
			return
		}
		s.keys.Add(c)
		s.registered[id] = true
	case strings.HasPrefix(key, keySession):
		id := strings.TrimPrefix(key, keySession)
		var r sessionRecord
		if ev.Type == store.EventDelete || unmarshal(ev.Value, &r) != nil {
			s.keys.Remove(id)
			delete(s.registered, id)
			delete(s.sessionPolicies, id)
			return
		}
		s.keys.Add(r.credential())
		s.registered[id] = true
		if d := parseSessionPolicy(r); d != nil {
			s.sessionPolicies[id] = d
		} else {
			delete(s.sessionPolicies, id)
		}
	case strings.HasPrefix(key, keyPolicy):
		// A customer managed policy changed (its default version, or it went): any role may have it attached.
		clear(s.policies)
		s.generation++
	default:
		// A role, a user, their inline policies or attachments: drop the owner's parsed policies.
		for _, owner := range []struct{ prefix, kind string }{
			{keyRole, "role"}, {keyRolePolicy, "role"}, {keyAttached, "role"}, {keyUser, "user"}, {keyUserPolicy, "user"},
		} {
			if rest, ok := strings.CutPrefix(key, owner.prefix); ok {
				name, _, _ := strings.Cut(rest, "/")
				delete(s.policies, owner.kind+"/"+name)
				s.generation++
				return
			}
		}
	}
}

// accessKeyCredential is the credential of a stored access key; ok is false for an inactive key.
func (s *Service) accessKeyCredential(v []byte) (c sigv4.Credential, ok bool, err error) {
	var k accessKeyRecord
	if err := unmarshal(v, &k); err != nil {
		return c, false, err
	}
	if k.Status != statusActive {
		return c, false, nil
	}
	return sigv4.Credential{AccessKeyID: k.ID, SecretAccessKey: k.Secret, Principal: s.userARN(k.UserPath, k.User)}, true, nil
}

func parseSessionPolicy(r sessionRecord) *policy.Document {
	if r.Policy == "" {
		return nil
	}
	d, err := policy.Parse(r.Policy, policy.Identity)
	if err != nil {
		return nil
	}
	return d
}

// SweepSessions deletes session records past their grace period (the watch then unregisters them); New runs it,
// run it now and then.
func (s *Service) SweepSessions(ctx context.Context) error {
	var stale []string
	now := s.now()
	err := s.db.View(ctx, func(tx store.Tx) error {
		return tx.Scan(keySession, "", func(key string, v []byte) (bool, error) {
			var r sessionRecord
			if err := unmarshal(v, &r); err == nil && now.Sub(r.Expires) > auth.ExpiredGrace {
				stale = append(stale, key)
			}
			return true, nil
		})
	})
	if err != nil || len(stale) == 0 {
		return err
	}
	return s.update(ctx, func(tx store.Tx) error {
		for _, k := range stale {
			if err := tx.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}
