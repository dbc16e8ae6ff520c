package iam

import (
	"context"
	"time"

	"github.com/sluice-dev/sluice/internal/auth"
	"github.com/sluice-dev/sluice/internal/sigv4"
	"github.com/sluice-dev/sluice/internal/store"
)

// Sessions a service mints to act for a caller, as AWS services do: CloudFormation's engine calls Sluice's APIs
// with one, so that every call it makes is authorized as AWS would authorize it — never as the account root
// behind the caller's back. Both kinds are persisted sessions (iam/session/), accepted by every node, revoked by
// RevokeSession when the work is done, swept once expired.

// ForwardSession mints a session that acts as principal, with principal's permissions and — when accessKeyID,
// the key the caller signed with, is a session with a session policy — that policy too: CloudFormation's forward
// access session. ttl bounds it, and so does the caller's own session: access a caller lent never outlives the
// caller's, so an operation still running when the caller's session expires fails its calls as expired.
func (s *Service) ForwardSession(ctx context.Context, principal, accessKeyID string, ttl time.Duration) (sigv4.Credential, error) {
	policyText := ""
	if accessKeyID != "" {
		var rec sessionRecord
		err := s.db.View(ctx, func(tx store.Tx) error { return store.GetJSON(tx, keySession+accessKeyID, &rec) })
		if err == nil {
			policyText = rec.Policy
			if left := rec.Expires.Sub(s.now()); !rec.Expires.IsZero() && left < ttl {
				if left <= 0 {
					return sigv4.Credential{}, sigv4.ErrUnknownAccessKey
				}
				ttl = left
			}
		}
	}
	return s.persistSession(ctx, principal, policyText, ttl)
}

// ServiceRoleSession mints a session of a role for an AWS service acting with it (CloudFormation given a stack's
// RoleARN): ok is false when the role does not exist or its trust policy does not let servicePrincipal assume it.
func (s *Service) ServiceRoleSession(ctx context.Context, roleARN, servicePrincipal, sessionName string, ttl time.Duration) (sigv4.Credential, bool, error) {
	ok, err := s.ServiceCanAssume(ctx, roleARN, servicePrincipal)
	if err != nil || !ok {
		return sigv4.Credential{}, false, err
	}
	c, err := s.persistSession(ctx, auth.AssumedRolePrincipal(roleARN, sessionName), "", ttl)
	return c, err == nil, err
}

// SessionCredential returns the credential of a live session (an expired or revoked one is not found).
func (s *Service) SessionCredential(ctx context.Context, accessKeyID string) (sigv4.Credential, error) {
	c, err := s.keys.LookupCredential(ctx, accessKeyID)
	if err == nil && !c.Expires.IsZero() && !c.Expires.After(s.now()) {
		return sigv4.Credential{}, sigv4.ErrUnknownAccessKey
	}
	return c, err
}

// persistSession mints, persists and registers a session of principal.
func (s *Service) persistSession(ctx context.Context, principal, sessionPolicy string, ttl time.Duration) (sigv4.Credential, error) {
	c, err := auth.NewSession(principal, ttl, s.now())
	if err != nil {
		return sigv4.Credential{}, err
	}
	c.Expires = c.Expires.UTC().Truncate(time.Second)
	rec := sessionRecord{ID: c.AccessKeyID, Secret: c.SecretAccessKey, Token: c.SessionToken, Principal: principal, Expires: c.Expires, Policy: sessionPolicy}
	if err := s.update(ctx, func(tx store.Tx) error { return store.PutJSON(tx, keySession+c.AccessKeyID, rec) }); err != nil {
		return sigv4.Credential{}, err
	}
	return c, nil
}
