package controlplane

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/iam/policy"
	"github.com/sluice-dev/sluice/internal/lambda"
	"github.com/sluice-dev/sluice/internal/store"
)

// Resource-based policies (AddPermission, RemovePermission, GetPolicy). A policy belongs to one record: $LATEST's
// function (what unqualified references and the $LATEST qualifier name), a version, or an alias; it is kept at
// policy/<name>/<qualifier> ("$LATEST" for the function's) and goes with its record (DeleteFunction, deleting a
// version, DeleteAlias). It has a RevisionId of its own, renewed by each change, as AWS's answers of 2025 show (a
// function's policy keeps its RevisionId when a version is published, and AddPermission accepts it while the
// function's has moved on); a record without a policy yet takes its record's RevisionId as the precondition. What
// the rest of Sluice asks of a policy — does it allow this caller? — is ResourcePolicyAllows, answered from the
// watch-fed cache in policycache.go.

// resourcePolicy is the record at policy/<name>/<qualifier>.
type resourcePolicy struct {
	RevisionID string `json:"revisionId"`
	// Statements are in the order they were added, each the JSON lambda.Account.Statement rendered.
	Statements []string `json:"statements"`
}

func (p *resourcePolicy) document() string { return lambda.PolicyDocument(p.Statements) }

// index is the position of the statement with ID sid, or -1.
func (p *resourcePolicy) index(sid string) int {
	return slices.IndexFunc(p.Statements, func(st string) bool { return lambda.StatementSid(st) == sid })
}

// loadPolicy reads a policy; a missing one has no statements.
func loadPolicy(tx store.Tx, name, qualifier string) (resourcePolicy, error) {
	var p resourcePolicy
	err := store.GetJSON(tx, policyKey(name, qualifier), &p)
	if errors.Is(err, store.ErrNotFound) {
		err = nil
	}
	return p, err
}

// policyOwner is the record a policy belongs to, read in the transaction that changes or reads the policy.
type policyOwner struct {
	qualifier string // lambda.Latest, a version number or an alias name
	fn        *lambda.Function
	version   *lambda.Version
	alias     *lambda.Alias
}

func (o *policyOwner) revision() string {
	switch {
	case o.version != nil:
		return o.version.RevisionID
	case o.alias != nil:
		return o.alias.RevisionID
	}
	return o.fn.RevisionID
}

// policyOwner finds the record ref's policy belongs to, in function f. A missing version, or a qualifier that
// cannot name an alias, answers "Function not found"; a missing alias "Cannot find alias arn" (AWS's answers to
// AddPermission and RemovePermission).
func (s *Service) policyOwner(tx store.Tx, f *lambda.Function, ref lambda.Ref) (*policyOwner, error) {
	q := ref.Qualifier
	switch {
	case q == "" || q == lambda.Latest:
		return &policyOwner{qualifier: lambda.Latest, fn: f}, nil
	case lambda.IsVersionNumber(q):
		v, err := loadVersion(tx, ref.Name, atoi(q))
		if err != nil || v == nil {
			return nil, errors.Join(err, fault.NotFound("Function not found: %s", s.acct.QualifiedARN(ref.Name, q)))
		}
		return &policyOwner{qualifier: itoa(v.Number), fn: f, version: v}, nil
	case lambda.ValidAliasName(q) == nil:
		a, err := loadAlias(tx, ref.Name, q)
		if err != nil || a == nil {
			return nil, errors.Join(err, fault.NotFound("Cannot find alias arn: %s", s.acct.QualifiedARN(ref.Name, q)))
		}
		return &policyOwner{qualifier: q, fn: f, alias: a}, nil
	}
	return nil, fault.NotFound("Function not found: %s", s.acct.QualifiedARN(ref.Name, q))
}

// AddPermissionInput is AddPermission's request, decoded.
type AddPermissionInput struct {
	Permission lambda.Permission
	// RevisionID, if set, must be the policy's RevisionId, or — for a record without a policy yet — the RevisionId of
	// the function, version or alias.
	RevisionID string
}

// AddPermission adds a statement to the resource-based policy of the function, version or alias ref names and
// returns the statement, as AWS does.
func (s *Service) AddPermission(ctx context.Context, ref lambda.Ref, in AddPermissionInput) (string, error) {
	if ref.Qualifier == lambda.Latest {
		return "", lambda.ErrLatestPolicy
	}
	statement, err := s.acct.Statement(in.Permission, s.acct.QualifiedARN(ref.Name, ref.Qualifier))
	if err != nil {
		return "", err
	}
	err = s.mutate(ctx, func(tx store.Tx) error {
		f, err := s.loadFunctionAs(tx, ref.Name, ref.Qualifier)
		if err != nil {
			return err
		}
		owner, err := s.policyOwner(tx, f, ref)
		if err != nil {
			return err
		}
		p, err := loadPolicy(tx, ref.Name, owner.qualifier)
		if err != nil {
			return err
		}
		current := p.RevisionID
		if len(p.Statements) == 0 {
			current = owner.revision()
		}
		if err := lambda.CheckPolicyRevision(in.RevisionID, current, owner.alias != nil); err != nil {
			return err
		}
		if p.index(in.Permission.StatementID) >= 0 {
			return lambda.StatementExists(in.Permission.StatementID)
		}
		p.Statements = append(p.Statements, statement)
		if err := lambda.CheckPolicySize(p.document()); err != nil {
			return err
		}
		p.RevisionID = newRevision()
		return store.PutJSON(tx, policyKey(ref.Name, owner.qualifier), p)
	})
	if err != nil {
		return "", err
	}
	return statement, nil
}

// RemovePermission removes the statement sid from the policy of the function, version or alias ref names; the
// policy goes when its last statement does.
func (s *Service) RemovePermission(ctx context.Context, ref lambda.Ref, sid, revisionID string) error {
	return s.mutate(ctx, func(tx store.Tx) error {
		f, err := s.loadFunction(tx, ref.Name)
		if fault.Is(err, fault.ResourceNotFound) {
			return fault.NotFound("No policy found for: %s", s.acct.QualifiedARN(ref.Name, ref.Qualifier))
		}
		if err != nil {
			return err
		}
		owner, err := s.policyOwner(tx, f, ref)
		if err != nil {
			return err
		}
		p, err := loadPolicy(tx, ref.Name, owner.qualifier)
		if err != nil {
			return err
		}
		if len(p.Statements) == 0 {
			return lambda.ErrNoPolicyToRemove
		}
		i := p.index(sid)
		if i < 0 {
			return lambda.StatementNotFound(sid)
		}
		if err := lambda.CheckPolicyRevision(revisionID, p.RevisionID, owner.alias != nil); err != nil {
			return err
		}
		p.Statements = slices.Delete(p.Statements, i, i+1)
		p.RevisionID = newRevision()
		if len(p.Statements) == 0 {
			return tx.Delete(policyKey(ref.Name, owner.qualifier))
		}
		return store.PutJSON(tx, policyKey(ref.Name, owner.qualifier), p)
	})
}

// PolicyView is GetPolicy's answer.
type PolicyView struct {
	Policy     string // the policy document, JSON
	RevisionID string
}

// GetPolicy returns the resource-based policy of the function, version or alias ref names. A missing function,
// version, alias or policy all answer "The resource you requested does not exist.", as on AWS.
func (s *Service) GetPolicy(ctx context.Context, ref lambda.Ref) (PolicyView, error) {
	var out PolicyView
	err := s.view(ctx, func(tx store.Tx) error {
		f, err := s.loadFunction(tx, ref.Name)
		if fault.Is(err, fault.ResourceNotFound) {
			return lambda.ErrNoPolicy
		}
		if err != nil {
			return err
		}
		owner, err := s.policyOwner(tx, f, ref)
		if fault.Is(err, fault.ResourceNotFound) {
			return lambda.ErrNoPolicy
		}
		if err != nil {
			return err
		}
		p, err := loadPolicy(tx, ref.Name, owner.qualifier)
		if err != nil {
			return err
		}
		if len(p.Statements) == 0 {
			return lambda.ErrNoPolicy
		}
		out = PolicyView{Policy: p.document(), RevisionID: p.RevisionID}
		return nil
	})
	return out, err
}

// ResourcePolicyAllows reports whether the resource-based policy of the function version or alias ref names
// (unqualified: the function's) allows principal to perform action, given the request's condition context
// (e.g. "lambda:FunctionUrlAuthType": "NONE", "aws:SourceArn": …). principal is an IAM ARN
// ("arn:aws:iam::123456789012:root", a role/user/assumed-role ARN), a service principal ("s3.amazonaws.com"),
// or "" for an anonymous caller (which only a "*" principal matches).
//
// The policy evaluated is exactly the one ref names — an alias's for an alias, a version's for a version, the
// function's for an unqualified reference or $LATEST — against the ARN ref names (the unqualified ARN for
// $LATEST), so a grant on the function does not reach its versions and aliases, as on AWS. An assumed-role session
// is matched by its own ARN and by its role's (arn:aws:iam::<account>:role/<name>, without a path); a statement
// naming the account (an account ID as Principal) allows only the account root, since for the account's users
// and roles it delegates to their identity-based policies. Condition keys compare case-insensitively; an empty
// value counts as absent. A function, version or alias that does not exist has no policy: the answer is false.
//
// It costs a map lookup and the evaluation of that one policy's statements once StartPolicyCache runs (every
// server does); without it (unit tests), one store read and a parse.
func (s *Service) ResourcePolicyAllows(ctx context.Context, ref lambda.Ref, action, principal string, conditions map[string]string) (bool, error) {
	q := ref.Qualifier
	if lambda.IsVersionNumber(q) {
		q = itoa(atoi(q)) // as policyOwner keys a version's policy
	}
	resource := s.acct.QualifiedARN(ref.Name, q)
	if q == "" || q == lambda.Latest {
		q, resource = lambda.Latest, s.acct.FunctionARN(ref.Name)
	}
	var doc *policy.Document
	if c := s.policies.Load(); c != nil {
		doc = c.get(ref.Name, q)
	} else {
		err := s.store.View(ctx, func(tx store.Tx) error {
			p, err := loadPolicy(tx, ref.Name, q)
			if err == nil && len(p.Statements) > 0 {
				doc, err = parsePolicy(p)
			}
			return err
		})
		if err != nil {
			return false, err
		}
	}
	if doc == nil {
		return false, nil
	}
	var ctxKeys policy.Context
	for k, v := range conditions {
		if v == "" {
			continue
		}
		if ctxKeys == nil {
			ctxKeys = make(policy.Context, len(conditions))
		}
		ctxKeys[k] = []string{v}
	}
	req := policy.Request{Action: action, Resource: resource, Principal: callerPrincipal(principal), Context: ctxKeys}
	return policy.Evaluate(req, doc) == policy.Allow, nil
}

// callerPrincipal is who a caller is to a policy: an IAM or STS ARN (an assumed-role session also as its role),
// an account ID (its root), a service principal, or nobody ("").
func callerPrincipal(principal string) policy.Principal {
	switch {
	case principal == "":
		return policy.Principal{}
	case strings.HasPrefix(principal, "arn:"):
		ids := []string{principal}
		parts := strings.SplitN(principal, ":", 6)
		if len(parts) == 6 && parts[2] == "sts" {
			if rest, ok := strings.CutPrefix(parts[5], "assumed-role/"); ok {
				role, _, _ := strings.Cut(rest, "/")
				ids = append(ids, "arn:"+parts[1]+":iam::"+parts[4]+":role/"+role)
			}
		}
		return policy.Principal{AWS: ids}
	case len(principal) == 12 && strings.Trim(principal, "0123456789") == "":
		return policy.Principal{AWS: []string{"arn:aws:iam::" + principal + ":root"}}
	}
	return policy.Principal{Service: []string{principal}}
}
