package controlplane

import (
	"context"

	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/lambda"
	"github.com/sluice-dev/sluice/internal/store"
)

// AliasView is an alias as the API shows it.
type AliasView struct {
	ARN   string
	Alias lambda.Alias
}

func (s *Service) aliasView(a *lambda.Alias) AliasView {
	return AliasView{ARN: s.acct.QualifiedARN(a.Function, a.Name), Alias: *a}
}

// versionLookup returns a lambda.VersionLookup reading inside tx; store errors are remembered in *errp.
func versionLookup(tx store.Tx, name string, errp *error) lambda.VersionLookup {
	return func(n string) *lambda.Version {
		v, err := loadVersion(tx, name, atoi(n))
		if err != nil && *errp == nil {
			*errp = err
		}
		return v
	}
}

// checkUnqualified rejects alias operations addressed to a qualified function name.
func (s *Service) checkUnqualified(ref lambda.Ref) error {
	if ref.Qualifier != "" {
		return fault.InvalidParameter("Alias operations are not supported on a qualified function name: %s. Please specify an unqualified function name.", s.acct.QualifiedARN(ref.Name, ref.Qualifier))
	}
	return nil
}

// CreateAliasInput is CreateAlias's request, decoded.
type CreateAliasInput struct {
	Name, FunctionVersion, Description string
	Routing                            *lambda.Routing
}

// CreateAlias creates a new alias.
func (s *Service) CreateAlias(ctx context.Context, ref lambda.Ref, in CreateAliasInput) (AliasView, error) {
	if err := s.checkUnqualified(ref); err != nil {
		return AliasView{}, err
	}
	if err := lambda.ValidAliasName(in.Name); err != nil {
		return AliasView{}, err
	}
	var out AliasView
	err := s.mutate(ctx, func(tx store.Tx) error {
		if _, err := s.loadFunctionAs(tx, ref.Name, in.FunctionVersion); err != nil {
			return err
		}
		existing, err := loadAlias(tx, ref.Name, in.Name)
		if err != nil {
			return err
		}
		if existing != nil {
			return fault.Conflict("Alias already exists: %s", s.acct.QualifiedARN(ref.Name, in.Name))
		}
		var lookupErr error
		if err := lambda.CheckRouting(s.acct, ref.Name, in.FunctionVersion, in.Routing, versionLookup(tx, ref.Name, &lookupErr)); err != nil {
			return err
		}
		if lookupErr != nil {
			return lookupErr
		}
		a := &lambda.Alias{Function: ref.Name, Name: in.Name, FunctionVersion: in.FunctionVersion,
			Description: in.Description, Routing: lambda.CanonicalRouting(in.Routing), RevisionID: newRevision()}
		out = s.aliasView(a)
		return store.PutJSON(tx, aliasKey(ref.Name, in.Name), a)
	})
	return out, err
}

// GetAlias returns one alias.
func (s *Service) GetAlias(ctx context.Context, ref lambda.Ref, name string) (AliasView, error) {
	if err := s.checkUnqualified(ref); err != nil {
		return AliasView{}, err
	}
	var out AliasView
	err := s.view(ctx, func(tx store.Tx) error {
		if _, err := s.loadFunction(tx, ref.Name); err != nil {
			return err
		}
		a, err := loadAlias(tx, ref.Name, name)
		if err != nil {
			return err
		}
		if a == nil {
			return fault.NotFound("Cannot find alias arn: %s", s.acct.QualifiedARN(ref.Name, name))
		}
		out = s.aliasView(a)
		return nil
	})
	return out, err
}

// UpdateAliasInput is UpdateAlias's request, decoded: nil fields stay unchanged.
type UpdateAliasInput struct {
	FunctionVersion, Description *string
	Routing                      *lambda.Routing
	RevisionID                   string
}

// UpdateAlias moves an alias and/or changes its weights, under an optional RevisionId compare-and-swap.
func (s *Service) UpdateAlias(ctx context.Context, ref lambda.Ref, name string, in UpdateAliasInput) (AliasView, error) {
	if err := s.checkUnqualified(ref); err != nil {
		return AliasView{}, err
	}
	var out AliasView
	err := s.mutate(ctx, func(tx store.Tx) error {
		if _, err := s.loadFunction(tx, ref.Name); err != nil {
			return err
		}
		a, err := loadAlias(tx, ref.Name, name)
		if err != nil {
			return err
		}
		if a == nil {
			return fault.NotFound("Alias not found: %s", s.acct.QualifiedARN(ref.Name, name))
		}
		if err := lambda.CheckRevision(in.RevisionID, a.RevisionID); err != nil {
			return err
		}
		next := *a
		if in.FunctionVersion != nil {
			next.FunctionVersion = *in.FunctionVersion
		}
		if in.Description != nil {
			next.Description = *in.Description
		}
		if in.Routing != nil {
			next.Routing = lambda.CanonicalRouting(in.Routing)
		}
		var lookupErr error
		if err := lambda.CheckRouting(s.acct, ref.Name, next.FunctionVersion, next.Routing, versionLookup(tx, ref.Name, &lookupErr)); err != nil {
			return err
		}
		if lookupErr != nil {
			return lookupErr
		}
		next.RevisionID = newRevision()
		out = s.aliasView(&next)
		return store.PutJSON(tx, aliasKey(ref.Name, name), &next)
	})
	return out, err
}

// DeleteAlias deletes an alias; deleting one that does not exist succeeds, as on AWS.
func (s *Service) DeleteAlias(ctx context.Context, ref lambda.Ref, name string) error {
	if err := s.checkUnqualified(ref); err != nil {
		return err
	}
	return s.mutate(ctx, func(tx store.Tx) error {
		if _, err := s.loadFunction(tx, ref.Name); err != nil {
			return err
		}
		if err := tx.Delete(policyKey(ref.Name, name)); err != nil {
			return err
		}
		return tx.Delete(aliasKey(ref.Name, name))
	})
}

// ListAliases pages through a function's aliases in name order, optionally only those referencing a version.
func (s *Service) ListAliases(ctx context.Context, ref lambda.Ref, functionVersion, marker string, maxItems int) ([]AliasView, string, error) {
	if err := s.checkUnqualified(ref); err != nil {
		return nil, "", err
	}
	if maxItems <= 0 || maxItems > 50 {
		maxItems = 50
	}
	after, err := decodeMarker(marker)
	if err != nil {
		return nil, "", err
	}
	page := newPager[AliasView](maxItems)
	err = s.view(ctx, func(tx store.Tx) error {
		if _, err := s.loadFunction(tx, ref.Name); err != nil {
			return err
		}
		return tx.Scan(aliasPrefix(ref.Name), after, func(k string, v []byte) (bool, error) {
			var a lambda.Alias
			if err := jsonUnmarshal(v, &a); err != nil {
				return false, err
			}
			if functionVersion != "" && !a.ReferencesVersion(functionVersion) {
				return true, nil
			}
			return page.add(k, s.aliasView(&a)), nil
		})
	})
	return page.items, page.next(), err
}
