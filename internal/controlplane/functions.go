package controlplane

import (
	"context"
	"errors"
	"maps"
	"strings"

	"github.com/sluice-dev/sluice/internal/codestore"
	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/lambda"
	"github.com/sluice-dev/sluice/internal/store"
)

// CreateFunctionInput is CreateFunction's request, decoded.
type CreateFunctionInput struct {
	Name    string
	Config  lambda.ConfigPatch
	ZipFile []byte
	Publish bool
	Tags    map[string]string
}

// storeCode durably stores a package and returns its info; invalid packages are 400s.
func (s *Service) storeCode(zip []byte) (codestore.Info, error) {
	if len(zip) == 0 {
		return codestore.Info{}, fault.InvalidParameter("Please provide a source for function code.")
	}
	info, err := s.code.PutZip(zip, s.opts.CodeLimits)
	if err != nil {
		var ce *codestore.Error
		if errors.As(err, &ce) {
			return info, fault.InvalidParameter("%s", ce.Error())
		}
		return info, err
	}
	return info, nil
}

// lambdaPrincipal is the service principal an execution role's trust policy must let assume it.
const lambdaPrincipal = "lambda.amazonaws.com"

// checkExecutionRole refuses a role Lambda cannot assume, with AWS's message.
func (s *Service) checkExecutionRole(ctx context.Context, roleARN string) error {
	if s.opts.ExecutionRoles == nil {
		return nil
	}
	ok, err := s.opts.ExecutionRoles.ServiceCanAssume(ctx, roleARN, lambdaPrincipal)
	if err != nil {
		return err
	}
	if !ok {
		return fault.InvalidParameter("The role defined for the function cannot be assumed by Lambda.")
	}
	return nil
}

// CreateFunction creates a function in state Pending and schedules its package for processing.
func (s *Service) CreateFunction(ctx context.Context, in CreateFunctionInput) (FunctionView, error) {
	if err := lambda.ValidNewFunctionName(in.Name); err != nil {
		return FunctionView{}, err
	}
	cfg, err := lambda.NewConfig(in.Name).Apply(in.Config)
	if err != nil {
		return FunctionView{}, err
	}
	if cfg.Role == "" {
		return FunctionView{}, lambda.ValidationError("null", "role", "Member must not be null")
	}
	if err := s.checkExecutionRole(ctx, cfg.Role); err != nil {
		return FunctionView{}, err
	}
	if len(in.Tags) > MaxTags {
		return FunctionView{}, errTooManyTags
	}
	if err := cfg.CheckZipPackage(); err != nil {
		return FunctionView{}, err
	}
	info, err := s.storeCode(in.ZipFile)
	if err != nil {
		return FunctionView{}, err
	}
	cfg.CodeSha256, cfg.CodeSize = info.Sha256, info.SizeZipped

	var out FunctionView
	err = s.mutate(ctx, func(tx store.Tx) error {
		exists, err := store.Exists(tx, functionKey(in.Name))
		if err != nil {
			return err
		}
		if exists {
			return fault.Conflict("Function already exist: %s", in.Name)
		}
		now := s.now()
		f := &lambda.Function{
			Name: in.Name, Config: cfg, Status: lambda.Creating(), RevisionID: newRevision(), LastModified: now,
			Tags:    in.Tags,
			Pending: &lambda.PendingWork{ExtractCode: info.Sha256, Token: newRevision()},
		}
		if in.Publish {
			v, err := s.newVersion(tx, f, "", lambda.Creating())
			if err != nil {
				return err
			}
			f.Pending.PublishVersion = v.Number
		}
		if err := s.saveFunctionWork(tx, f); err != nil {
			return err
		}
		out = s.latestView(f, false)
		if in.Publish {
			out.Version = itoa(f.Pending.PublishVersion)
		}
		return addUsage(tx, func(u *usage) { u.FunctionCount++; u.TotalCodeSize += cfg.CodeSize })
	})
	if err != nil {
		return FunctionView{}, err
	}
	s.kick()
	return out, nil
}

// saveFunctionWork writes f and, when it owes processing, its work marker.
func (s *Service) saveFunctionWork(tx store.Tx, f *lambda.Function) error {
	if err := store.PutJSON(tx, functionKey(f.Name), f); err != nil {
		return err
	}
	if f.Pending != nil {
		return tx.Put(workKey(f.Name), []byte(f.Pending.Token))
	}
	return nil
}

// UpdateFunctionCodeInput is UpdateFunctionCode's request, decoded.
type UpdateFunctionCodeInput struct {
	ZipFile       []byte
	Architectures *[]string
	Publish       bool
	DryRun        bool
	RevisionID    string
}

// beginUpdate loads $LATEST for an update: only unqualified or $LATEST references, not while busy, RevisionId CAS.
func (s *Service) beginUpdate(tx store.Tx, ref lambda.Ref, revisionID string) (*lambda.Function, error) {
	if ref.Qualifier != "" && ref.Qualifier != lambda.Latest {
		return nil, fault.InvalidParameter("Current operation does not support versions other than $LATEST. Please set the qualifier to $LATEST or remove it: %s", s.acct.QualifiedARN(ref.Name, ref.Qualifier))
	}
	f, err := s.loadFunction(tx, ref.Name)
	if err != nil {
		return nil, err
	}
	if err := f.CheckMutable(s.acct); err != nil {
		return nil, err
	}
	if err := lambda.CheckRevision(revisionID, f.RevisionID); err != nil {
		return nil, err
	}
	return f, nil
}

// UpdateFunctionCode replaces $LATEST's package; the update settles in the background.
func (s *Service) UpdateFunctionCode(ctx context.Context, ref lambda.Ref, in UpdateFunctionCodeInput) (FunctionView, error) {
	var info codestore.Info
	var err error
	if in.DryRun {
		info, err = codestore.Inspect(in.ZipFile, s.opts.CodeLimits)
		if err != nil {
			var ce *codestore.Error
			if errors.As(err, &ce) {
				err = fault.InvalidParameter("%s", ce.Error())
			}
			return FunctionView{}, err
		}
	} else if info, err = s.storeCode(in.ZipFile); err != nil {
		return FunctionView{}, err
	}
	var out FunctionView
	err = s.mutate(ctx, func(tx store.Tx) error {
		f, err := s.beginUpdate(tx, ref, in.RevisionID)
		if err != nil {
			return err
		}
		cfg, err := f.Config.Apply(lambda.ConfigPatch{Architectures: in.Architectures})
		if err != nil {
			return err
		}
		cfg.CodeSha256, cfg.CodeSize = info.Sha256, info.SizeZipped
		if in.DryRun {
			f.Config = cfg
			out = s.latestView(f, false)
			return errDryRun
		}
		sizeDelta := cfg.CodeSize - f.Config.CodeSize
		s.startUpdate(f, cfg, info.Sha256)
		out = s.latestView(f, false)
		if in.Publish {
			last, err := lastVersion(tx, f.Name)
			if err != nil {
				return err
			}
			if lambda.NeedsNewVersion(f.Config, last) {
				v, err := s.newVersion(tx, f, "", lambda.Creating())
				if err != nil {
					return err
				}
				f.Pending.PublishVersion = v.Number
				out = s.versionView(v, itoa(v.Number))
				sizeDelta += v.Config.CodeSize
			}
		}
		if err := s.saveFunctionWork(tx, f); err != nil {
			return err
		}
		return addUsage(tx, func(u *usage) { u.TotalCodeSize += sizeDelta })
	})
	if errors.Is(err, errDryRun) {
		return out, nil
	}
	if err != nil {
		return FunctionView{}, err
	}
	s.kick()
	return out, nil
}

var errDryRun = errors.New("dry run: roll back")

// startUpdate puts f into LastUpdateStatus=InProgress with cfg as its new configuration.
func (s *Service) startUpdate(f *lambda.Function, cfg lambda.Config, extract string) {
	prev := f.Config
	f.Previous = &prev
	f.Config = cfg
	f.Status = lambda.Updating()
	f.RevisionID = newRevision()
	f.LastModified = s.now()
	f.Pending = &lambda.PendingWork{ExtractCode: extract, Token: newRevision()}
}

// UpdateFunctionConfiguration applies a partial configuration to $LATEST; the update settles in the background.
func (s *Service) UpdateFunctionConfiguration(ctx context.Context, ref lambda.Ref, patch lambda.ConfigPatch, revisionID string) (FunctionView, error) {
	if patch.Role != nil {
		if _, err := lambda.NewConfig(ref.Name).Apply(lambda.ConfigPatch{Role: patch.Role}); err != nil {
			return FunctionView{}, err
		}
		if err := s.checkExecutionRole(ctx, *patch.Role); err != nil {
			return FunctionView{}, err
		}
	}
	var out FunctionView
	err := s.mutate(ctx, func(tx store.Tx) error {
		f, err := s.beginUpdate(tx, ref, revisionID)
		if err != nil {
			return err
		}
		cfg, err := f.Config.Apply(patch)
		if err != nil {
			return err
		}
		if err := cfg.CheckZipPackage(); err != nil {
			return err
		}
		s.startUpdate(f, cfg, "")
		out = s.latestView(f, false)
		return s.saveFunctionWork(tx, f)
	})
	if err != nil {
		return FunctionView{}, err
	}
	s.kick()
	return out, nil
}

// DeleteFunction deletes a whole function (unqualified) or one version (numeric qualifier).
func (s *Service) DeleteFunction(ctx context.Context, ref lambda.Ref) error {
	switch q := ref.Qualifier; {
	case q == lambda.Latest:
		return fault.InvalidParameter("$LATEST version cannot be deleted without deleting the function.")
	case q != "" && lambda.ValidAliasName(q) == nil:
		return fault.InvalidParameter("Deletion of aliases is not currently supported.")
	case q != "":
		return s.deleteVersion(ctx, ref.Name, q)
	}
	return s.mutate(ctx, func(tx store.Tx) error {
		f, err := s.loadFunction(tx, ref.Name)
		if err != nil {
			return err
		}
		freed := f.Config.CodeSize
		var keys []string
		for _, prefix := range []string{versionPrefix(ref.Name), aliasPrefix(ref.Name), eventInvokePrefix(ref.Name), provisionedPrefix(ref.Name), provisionedReportPrefix(ref.Name), urlPrefix(ref.Name), policyPrefix(ref.Name)} {
			err := tx.Scan(prefix, "", func(k string, v []byte) (bool, error) {
				if prefix == versionPrefix(ref.Name) {
					var ver lambda.Version
					if err := jsonUnmarshal(v, &ver); err != nil {
						return false, err
					}
					freed += ver.Config.CodeSize
				}
				keys = append(keys, k)
				return true, nil
			})
			if err != nil {
				return err
			}
		}
		keys = append(keys, functionKey(ref.Name), workKey(ref.Name))
		for _, k := range keys {
			if err := tx.Delete(k); err != nil {
				return err
			}
		}
		return addUsage(tx, func(u *usage) {
			u.FunctionCount--
			u.TotalCodeSize -= freed
			if f.ReservedConcurrency != nil {
				u.ReservedConcurrency -= *f.ReservedConcurrency
			}
		})
	})
}

// ListFunctions pages through functions in name order. With allVersions, each function's published versions follow
// its $LATEST. The marker is opaque to callers: it encodes the store key of the last item returned.
func (s *Service) ListFunctions(ctx context.Context, marker string, maxItems int, allVersions bool) ([]FunctionView, string, error) {
	if maxItems <= 0 || maxItems > 50 {
		maxItems = 50
	}
	after, err := decodeMarker(marker)
	if err != nil {
		return nil, "", err
	}
	page := newPager[FunctionView](maxItems)
	err = s.view(ctx, func(tx store.Tx) error {
		startFn := after
		if name, ok := versionMarkerFunction(after); ok {
			// The last page ended inside this function's versions: finish them first.
			if err := s.pageVersions(tx, name, after, page); err != nil || page.more {
				return err
			}
			startFn = functionKey(name)
		} else if name, ok := strings.CutPrefix(after, functionPrefix); ok && allVersions {
			// The last page ended on this function's $LATEST: its versions come next.
			if err := s.pageVersions(tx, name, "", page); err != nil || page.more {
				return err
			}
		}
		return tx.Scan(functionPrefix, startFn, func(k string, v []byte) (bool, error) {
			var f lambda.Function
			if err := jsonUnmarshal(v, &f); err != nil {
				return false, err
			}
			if !page.add(k, s.latestView(&f, allVersions)) {
				return false, nil
			}
			if allVersions {
				if err := s.pageVersions(tx, f.Name, "", page); err != nil {
					return false, err
				}
			}
			return !page.more, nil
		})
	})
	return page.items, page.next(), err
}

// pageVersions adds name's versions after the key `after` to page.
func (s *Service) pageVersions(tx store.Tx, name, after string, page *pager[FunctionView]) error {
	return tx.Scan(versionPrefix(name), after, func(k string, v []byte) (bool, error) {
		var ver lambda.Version
		if err := jsonUnmarshal(v, &ver); err != nil {
			return false, err
		}
		return page.add(k, s.versionView(&ver, itoa(ver.Number))), nil
	})
}

// MaxTags is how many tags a function may carry (AWS's resource tag limit).
const MaxTags = 50

var errTooManyTags = fault.InvalidParameter("Number of tags exceeds resource tag limit.")

// TagResource merges tags into a function.
func (s *Service) TagResource(ctx context.Context, ref lambda.Ref, tags map[string]string) error {
	if len(tags) == 0 { // AWS's answer to an empty Tags map
		return fault.InvalidParameter("An error occurred and the request cannot be processed.")
	}
	return s.updateTags(ctx, ref, func(t map[string]string) { maps.Copy(t, tags) })
}

// UntagResource removes tag keys from a function.
func (s *Service) UntagResource(ctx context.Context, ref lambda.Ref, keys []string) error {
	return s.updateTags(ctx, ref, func(t map[string]string) {
		for _, k := range keys {
			delete(t, k)
		}
	})
}

// ListTags returns a function's tags.
func (s *Service) ListTags(ctx context.Context, ref lambda.Ref) (map[string]string, error) {
	if err := s.checkTaggable(ref); err != nil {
		return nil, err
	}
	var tags map[string]string
	err := s.view(ctx, func(tx store.Tx) error {
		f, err := s.loadFunction(tx, ref.Name)
		if err == nil {
			tags = f.Tags
		}
		return err
	})
	return tags, err
}

func (s *Service) checkTaggable(ref lambda.Ref) error {
	if ref.Qualifier != "" {
		return fault.InvalidParameter("Tags on function aliases and versions are not supported. Please specify a function ARN.")
	}
	return nil
}

func (s *Service) updateTags(ctx context.Context, ref lambda.Ref, change func(map[string]string)) error {
	if err := s.checkTaggable(ref); err != nil {
		return err
	}
	return s.mutate(ctx, func(tx store.Tx) error {
		f, err := s.loadFunction(tx, ref.Name)
		if err != nil {
			return err
		}
		if f.Tags == nil {
			f.Tags = map[string]string{}
		}
		change(f.Tags)
		if len(f.Tags) > MaxTags {
			return errTooManyTags
		}
		return store.PutJSON(tx, functionKey(f.Name), f)
	})
}
