package iam

import (
	"context"
	"sync"
	"time"

	"github.com/sluice-dev/sluice/internal/auth"
	"github.com/sluice-dev/sluice/internal/sigv4"
	"github.com/sluice-dev/sluice/internal/store"
)

// Function sessions: the credentials an execution environment gets for its function's role (AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), principal arn:aws:sts::<account>:assumed-role/<role>/<function>.
// They are sessions like STS's, persisted under iam/session/, so the watch-fed cache of every node sharing the
// store registers them (cache.go): an environment on node A may call Sluice through node B.
//
// A store write per cold start would put the store on the cold-start path of every environment; instead each node
// keeps one live session per (role, function) and hands it to every environment it starts, minting a new one only
// when the current one has less than FunctionSessionReuse left (or is gone from the keyring: revoked, swept). The
// cost is one store write (and this node's wait for its own watch to apply it) per (role, function) per node every
// FunctionSessionTTL - FunctionSessionReuse (5 hours), and one session record per such write, deleted by
// SweepSessions once expired.

// FunctionSessionTTL is how long a function session lasts.
const FunctionSessionTTL = 12 * time.Hour

// FunctionSessionReuse is the least validity a session must have left to be handed to another environment: an
// environment lives at most invoke's MaxLifetime (6 hours by default), so its credentials never expire under it.
const FunctionSessionReuse = 7 * time.Hour

type functionSessionKey struct{ role, function string }

// functionSession is one (role, function)'s current session on this node; mu serialises its renewal, so
// concurrent cold starts of one function share one store write.
type functionSession struct {
	mu   sync.Mutex
	cred sigv4.Credential
}

// FunctionCredentials returns session credentials of role (a role ARN) for function's environments: this node's
// current session for the pair while it has at least FunctionSessionReuse left and is still registered, else a
// new one, persisted (so every node accepts it) and registered here before it is returned.
func (s *Service) FunctionCredentials(ctx context.Context, role, function string) (sigv4.Credential, error) {
	k := functionSessionKey{role, function}
	s.functionMu.Lock()
	fs := s.functionSessions[k]
	if fs == nil {
		fs = &functionSession{}
		s.functionSessions[k] = fs
	}
	s.functionMu.Unlock()

	fs.mu.Lock()
	defer fs.mu.Unlock()
	now := s.now()
	if c := fs.cred; c.AccessKeyID != "" && c.Expires.Sub(now) >= FunctionSessionReuse {
		if _, err := s.keys.LookupCredential(ctx, c.AccessKeyID); err == nil {
			return c, nil
		}
	}
	principal := auth.AssumedRolePrincipal(role, function)
	c, err := auth.NewSession(principal, FunctionSessionTTL, now)
	if err != nil {
		return sigv4.Credential{}, err
	}
	c.Expires = c.Expires.UTC().Truncate(time.Second)
	rec := sessionRecord{ID: c.AccessKeyID, Secret: c.SecretAccessKey, Token: c.SessionToken, Principal: principal, Expires: c.Expires}
	if err := s.update(ctx, func(tx store.Tx) error { return store.PutJSON(tx, keySession+c.AccessKeyID, rec) }); err != nil {
		return sigv4.Credential{}, err
	}
	fs.cred = c
	return c, nil
}

// RevokeSession deletes a session (an STS or a function session): it stops being accepted on every node as their
// caches apply the deletion. Revoking an unknown session does nothing.
func (s *Service) RevokeSession(ctx context.Context, accessKeyID string) error {
	return s.update(ctx, func(tx store.Tx) error { return tx.Delete(keySession + accessKeyID) })
}
