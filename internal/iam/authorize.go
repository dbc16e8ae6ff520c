package iam

import (
	"context"
	"strings"

	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/iam/policy"
	"github.com/sluice-dev/sluice/internal/store"
)

// Authorize decides whether principal (as the SigV4 verifier reported it), calling with accessKeyID, may perform
// action (e.g. "lambda:InvokeFunction") on resource (an ARN, or "*" for actions without one). The account root
// may do anything; a user or a role session may do what its inline policies allow and no statement denies, or —
// when no identity-based statement decides — what the resource's own policy allows it (a Lambda function's, through
// UseResourcePolicies), as IAM decides for a caller of the resource's account; either way intersected, for a
// session issued with a session policy, with that policy. A refusal is a fault with code AccessDenied and IAM's
// message; each API edge puts it on the wire in its own protocol.
func (s *Service) Authorize(ctx context.Context, principal, accessKeyID, action, resource string) error {
	return s.AuthorizeWith(ctx, principal, accessKeyID, action, resource, nil)
}

// AuthorizeWith is Authorize for a request that brings condition keys of its own (a function URL request:
// "lambda:FunctionUrlAuthType": "AWS_IAM"): the identity-based, resource-based and session policies are all
// evaluated with them. Keys compare case-insensitively; an empty value counts as absent.
func (s *Service) AuthorizeWith(ctx context.Context, principal, accessKeyID, action, resource string, conditions map[string]string) error {
	if principal == s.RootARN() {
		return nil
	}
	docs, err := s.principalPolicies(ctx, principal)
	if err != nil {
		return err
	}
	req := policy.Request{Action: action, Resource: resource, Context: conditionContext(conditions)}
	switch policy.Evaluate(req, docs...) {
	case policy.ExplicitDeny:
		return denied(principal, action, resource, "with an explicit deny in an identity-based policy")
	case policy.Allow:
		// A resource-based policy's explicit deny (an S3 bucket policy's) overrides what identity policies allow.
		deny, err := s.resourcePolicyDenies(ctx, principal, action, resource, conditions)
		if err != nil {
			return err
		}
		if deny {
			return denied(principal, action, resource, "with an explicit deny in a resource-based policy")
		}
	case policy.ImplicitDeny:
		// Within the account, the resource's own policy may allow what no identity-based policy does.
		allowed, err := s.resourcePolicyAllows(ctx, principal, action, resource, conditions)
		if err != nil {
			return err
		}
		if !allowed {
			return denied(principal, action, resource, "because no identity-based policy allows the "+action+" action")
		}
	}
	s.mu.RLock()
	session := s.sessionPolicies[accessKeyID]
	s.mu.RUnlock()
	if session != nil && policy.Evaluate(req, session) != policy.Allow {
		return denied(principal, action, resource, "because no session policy allows the "+action+" action")
	}
	return nil
}

// conditionContext is a request's condition keys as the policy language takes them.
func conditionContext(conditions map[string]string) policy.Context {
	var c policy.Context
	for k, v := range conditions {
		if v == "" {
			continue
		}
		if c == nil {
			c = make(policy.Context, len(conditions))
		}
		c[k] = []string{v}
	}
	return c
}

// ResourcePolicies answers for resources that carry a resource-based policy (Lambda functions, versions and
// aliases): whether that policy allows principal to perform action on resource (an ARN), given the request's
// condition keys (nil for a plain API call). A resource it does not know, or one without a policy, allows nothing.
// The server wires the control plane in; iam does not import it.
type ResourcePolicies interface {
	ResourcePolicyAllows(ctx context.Context, principal, action, resource string, conditions map[string]string) (bool, error)
}

// ResourcePolicyDenials is implemented by ResourcePolicies whose policies may deny a call that identity-based
// policies allow (S3 bucket policies): Authorize asks it before allowing such a call.
type ResourcePolicyDenials interface {
	ResourcePolicyDenies(ctx context.Context, principal, action, resource string, conditions map[string]string) (bool, error)
}

func (s *Service) resourcePolicyDenies(ctx context.Context, principal, action, resource string, conditions map[string]string) (bool, error) {
	s.mu.RLock()
	d, ok := s.resources.(ResourcePolicyDenials)
	s.mu.RUnlock()
	if !ok || resource == "" || resource == "*" {
		return false, nil
	}
	return d.ResourcePolicyDenies(ctx, principal, action, resource, conditions)
}

// UseResourcePolicies makes Authorize consult r when no identity-based policy allows a call (and none denies it).
// Call it before serving.
func (s *Service) UseResourcePolicies(r ResourcePolicies) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resources = r
}

func (s *Service) resourcePolicyAllows(ctx context.Context, principal, action, resource string, conditions map[string]string) (bool, error) {
	s.mu.RLock()
	r := s.resources
	s.mu.RUnlock()
	if r == nil || resource == "" || resource == "*" {
		return false, nil
	}
	return r.ResourcePolicyAllows(ctx, principal, action, resource, conditions)
}

// Unrestricted reports whether principal is the account root, which may do anything.
func (s *Service) Unrestricted(principal string) bool { return principal == s.RootARN() }

// RoleAllows reports whether a role's own policies allow action on resource: how Sluice checks what it does on a
// role's behalf (the deployment controller invoking hooks as the deployment group's service role).
func (s *Service) RoleAllows(ctx context.Context, roleARN, action, resource string) (bool, error) {
	_, name, ok := s.nameFromARN(roleARN, "role")
	if !ok {
		return false, nil
	}
	docs, err := s.cachedPolicies(ctx, roleKind, name)
	if err != nil {
		return false, err
	}
	return policy.Evaluate(policy.Request{Action: action, Resource: resource}, docs...) == policy.Allow, nil
}

func denied(principal, action, resource, why string) error {
	return fault.New(CodeAccessDenied, "User: %s is not authorized to perform: %s on resource: %s %s", principal, action, resource, why)
}

// principalPolicies returns the identity policies that apply to a user or an assumed-role session; a principal
// Sluice does not know (a deleted role, a role that was never created) has none.
func (s *Service) principalPolicies(ctx context.Context, principal string) ([]*policy.Document, error) {
	parts := strings.SplitN(principal, ":", 6)
	if len(parts) != 6 || parts[4] != s.account {
		return nil, nil
	}
	resource := parts[5]
	switch {
	case parts[2] == "sts" && strings.HasPrefix(resource, "assumed-role/"):
		role := strings.TrimPrefix(resource, "assumed-role/")
		if i := strings.Index(role, "/"); i >= 0 {
			role = role[:i]
		}
		return s.cachedPolicies(ctx, roleKind, role)
	case parts[2] == "iam" && strings.HasPrefix(resource, "user/"):
		name := resource[strings.LastIndex(resource, "/")+1:]
		return s.cachedPolicies(ctx, userKind, name)
	}
	return nil, nil
}

// cachedPolicies returns an entity's parsed inline policies, reading them once until they change.
func (s *Service) cachedPolicies(ctx context.Context, k principalKind, name string) ([]*policy.Document, error) {
	key := k.kind + "/" + strings.ToLower(name)
	s.mu.RLock()
	docs, ok := s.policies[key]
	gen := s.generation
	s.mu.RUnlock()
	if ok {
		return docs, nil
	}
	err := s.db.View(ctx, func(tx store.Tx) error {
		if err := k.exists(s, tx, name); err != nil {
			if fault.Is(err, CodeNoSuchEntity) {
				return nil
			}
			return err
		}
		if err := tx.Scan(k.policyKey+strings.ToLower(name)+"/", "", func(_ string, v []byte) (bool, error) {
			if d, err := policy.Parse(string(v), policy.Identity); err == nil {
				docs = append(docs, d)
			}
			return true, nil
		}); err != nil || k.kind != "role" {
			return err
		}
		arns, err := attached(tx, name)
		if err != nil {
			return err
		}
		for _, arn := range arns {
			doc, ok := managedPolicies[arn]
			if !ok {
				if doc, err = s.customerDocument(tx, arn); err != nil {
					return err
				}
			}
			if d, err := policy.Parse(doc, policy.Identity); err == nil {
				docs = append(docs, d)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.generation == gen {
		s.policies[key] = docs
	}
	s.mu.Unlock()
	return docs, nil
}
