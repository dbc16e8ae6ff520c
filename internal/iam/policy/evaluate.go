package policy

import (
	"slices"
	"strconv"
	"strings"
)

// Principal is who is making a request, by every identifier IAM would match
// a policy's Principal element against.
type Principal struct {
	// AWS holds IAM identities: the user or role ARN (and, for a role
	// session, the assumed-role ARN) plus the account root ARN
	// "arn:aws:iam::123456789012:root" or the bare account ID.
	AWS []string
	// Federated holds the identity provider: the IAM oidc-provider or
	// saml-provider ARN, or a provider name such as
	// "cognito-identity.amazonaws.com".
	Federated []string
	// Service holds a service principal such as "lambda.amazonaws.com".
	Service []string
}

// Context maps condition keys to the request's values for them. Keys match
// case-insensitively; a key with no values counts as absent.
type Context map[string][]string

// Request is what Evaluate decides on.
type Request struct {
	Action    string // e.g. "lambda:InvokeFunction" or "sts:AssumeRoleWithWebIdentity"
	Resource  string // the resource ARN; ignored by trust statements
	Principal Principal
	Context   Context
}

// Decision is the outcome of Evaluate.
type Decision int

const (
	// ImplicitDeny: no statement allowed the request (the default).
	ImplicitDeny Decision = iota
	// Allow: a statement allowed the request and none denied it.
	Allow
	// ExplicitDeny: a Deny statement matched; no Allow can override it.
	ExplicitDeny
)

// String returns "ImplicitDeny", "Allow" or "ExplicitDeny".
func (d Decision) String() string {
	switch d {
	case ImplicitDeny:
		return "ImplicitDeny"
	case Allow:
		return "Allow"
	case ExplicitDeny:
		return "ExplicitDeny"
	}
	return "Decision(" + strconv.Itoa(int(d)) + ")"
}

// Evaluate decides req against every statement of docs: any matching Deny
// statement gives ExplicitDeny, otherwise any matching Allow statement gives
// Allow, otherwise ImplicitDeny. Nil documents are skipped.
//
// Documents are expected to come from Parse. For hand-built ones: a
// statement without Action or NotAction matches no action, one without
// Resource or NotResource matches every resource, one without Principal or
// NotPrincipal matches every caller, and an unknown Effect or condition
// operator never applies.
func Evaluate(req Request, docs ...*Document) Decision {
	ctx := foldContext(req.Context)
	allowed := false
	for _, d := range docs {
		if d == nil {
			continue
		}
		vars := d.Version == Version2012
		delegate := d.Kind == Resource
		for i := range d.Statements {
			st := &d.Statements[i]
			if !st.applies(&req, ctx, vars, delegate) {
				continue
			}
			switch st.Effect {
			case EffectDeny:
				return ExplicitDeny
			case EffectAllow:
				allowed = true
			}
		}
	}
	if allowed {
		return Allow
	}
	return ImplicitDeny
}

// applies reports whether the statement covers req. With delegate (a
// resource-based policy) an account principal names only the account itself,
// not each identity in it (see principalMatches).
func (st *Statement) applies(req *Request, ctx foldedContext, vars, delegate bool) bool {
	return st.matchesAction(req.Action) &&
		st.matchesResource(req.Resource, vars) &&
		st.matchesPrincipal(req.Principal, delegate) &&
		st.conditionsHold(ctx, vars)
}

func (st *Statement) matchesAction(action string) bool {
	switch {
	case len(st.Action) > 0:
		return anyPattern(st.Action, action, true, false)
	case len(st.NotAction) > 0:
		return !anyPattern(st.NotAction, action, true, false)
	}
	return false
}

func (st *Statement) matchesResource(resource string, vars bool) bool {
	switch {
	case len(st.Resource) > 0:
		return anyPattern(st.Resource, resource, false, vars)
	case len(st.NotResource) > 0:
		return !anyPattern(st.NotResource, resource, false, vars)
	}
	return true
}

func anyPattern(patterns []string, s string, fold, vars bool) bool {
	for _, p := range patterns {
		if globMatch(p, s, fold, vars) {
			return true
		}
	}
	return false
}

func (st *Statement) conditionsHold(ctx foldedContext, vars bool) bool {
	for i := range st.Condition {
		if !st.Condition[i].holds(ctx, vars) {
			return false
		}
	}
	return true
}

func (st *Statement) matchesPrincipal(caller Principal, delegate bool) bool {
	switch {
	case len(st.Principal) > 0:
		return principalMatches(st.Principal, caller, delegate)
	case len(st.NotPrincipal) > 0:
		return notPrincipalApplies(st.NotPrincipal, caller, delegate)
	}
	return true
}

// principalMatches reports whether any of the caller's identifiers is named
// by the policy principal p. "*" (bare or as {"AWS": "*"}) names every
// caller, anonymous ones included.
//
// An account principal (a bare account ID or the account's root ARN) names
// every identity of that account in trust and identity documents. With
// delegate it names only the account root itself: in a resource-based
// policy, an account principal delegates to the account, whose identities
// still need their own identity-based permission (IAM's rule for a
// same-account resource policy naming the account).
func principalMatches(p map[string][]string, caller Principal, delegate bool) bool {
	for typ, values := range p {
		for _, v := range values {
			switch typ {
			case PrincipalAll:
				if v == "*" {
					return true
				}
			case PrincipalAWS:
				if v == "*" || awsPrincipalMatches(v, caller.AWS, delegate) {
					return true
				}
			case PrincipalFederated:
				if slices.Contains(caller.Federated, v) {
					return true
				}
			case PrincipalService:
				if slices.Contains(caller.Service, v) {
					return true
				}
			}
		}
	}
	return false
}

// awsPrincipalMatches matches one AWS principal value: an account (bare ID
// or root ARN) names every identity of that account — only the account root
// with delegate — and anything else names exactly one identity.
func awsPrincipalMatches(v string, identities []string, delegate bool) bool {
	if account, ok := principalAccount(v); ok {
		for _, id := range identities {
			if delegate {
				if a, root := principalAccount(id); root && a == account {
					return true
				}
			} else if identityAccount(id) == account {
				return true
			}
		}
		return false
	}
	return slices.Contains(identities, v)
}

// principalAccount returns the account a policy value names as a whole: a
// bare account ID or "arn:<partition>:iam::<account>:root".
func principalAccount(v string) (string, bool) {
	if isAccountID(v) {
		return v, true
	}
	parts := strings.SplitN(v, ":", 6)
	if len(parts) == 6 && parts[0] == "arn" && parts[2] == "iam" && parts[3] == "" &&
		isAccountID(parts[4]) && parts[5] == "root" {
		return parts[4], true
	}
	return "", false
}

// identityAccount returns the account of a caller identity (an ARN or a
// bare account ID), or "" when it has none.
func identityAccount(id string) string {
	if isAccountID(id) {
		return id
	}
	parts := strings.SplitN(id, ":", 6)
	if len(parts) == 6 && parts[0] == "arn" && isAccountID(parts[4]) {
		return parts[4]
	}
	return ""
}

// notPrincipalApplies reports whether a NotPrincipal statement applies to
// the caller. As IAM documents, each of the caller's identities is checked
// on its own (account, role, session, ...), and the statement applies if
// any one of them is not excluded. An anonymous caller is excluded only by
// "*".
func notPrincipalApplies(np map[string][]string, caller Principal, delegate bool) bool {
	var single []Principal
	for _, v := range caller.AWS {
		single = append(single, Principal{AWS: []string{v}})
	}
	for _, v := range caller.Federated {
		single = append(single, Principal{Federated: []string{v}})
	}
	for _, v := range caller.Service {
		single = append(single, Principal{Service: []string{v}})
	}
	if len(single) == 0 {
		return !principalMatches(np, Principal{}, delegate)
	}
	for _, id := range single {
		if !principalMatches(np, id, delegate) {
			return true
		}
	}
	return false
}
