package controlplane

import (
	"context"
	"errors"
	"sort"
	"strings"

	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/lambda"
	"github.com/sluice-dev/sluice/internal/store"
)

// newVersion snapshots f's $LATEST into the next version number (never reused) and saves it. Publishing changes
// $LATEST's RevisionId too (recorded AWS behaviour); the caller saves f.
func (s *Service) newVersion(tx store.Tx, f *lambda.Function, description string, status lambda.Status) (*lambda.Version, error) {
	var seq int
	if err := store.GetJSON(tx, seqKey(f.Name), &seq); err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	seq++
	if err := store.PutJSON(tx, seqKey(f.Name), seq); err != nil {
		return nil, err
	}
	cfg := f.Config
	if description != "" {
		cfg.Description = description
	}
	v := &lambda.Version{Function: f.Name, Number: seq, Config: cfg, Status: status, RevisionID: newRevision(), LastModified: s.now()}
	if err := store.PutJSON(tx, versionKey(f.Name, seq), v); err != nil {
		return nil, err
	}
	f.RevisionID = newRevision()
	return v, nil
}

// PublishVersion publishes $LATEST, or returns the latest version unchanged when nothing changed since it.
func (s *Service) PublishVersion(ctx context.Context, ref lambda.Ref, codeSha256, description, revisionID string) (FunctionView, error) {
	var out FunctionView
	err := s.mutate(ctx, func(tx store.Tx) error {
		f, err := s.loadFunction(tx, ref.Name)
		if err != nil {
			return err
		}
		if err := f.CheckMutable(s.acct); err != nil {
			return err
		}
		if err := lambda.CheckRevision(revisionID, f.RevisionID); err != nil {
			return err
		}
		if err := lambda.CheckPublishCodeSha(codeSha256, f.Config.CodeSha256); err != nil {
			return err
		}
		last, err := lastVersion(tx, f.Name)
		if err != nil {
			return err
		}
		if !lambda.NeedsNewVersion(f.Config, last) {
			out = s.versionView(last, itoa(last.Number))
			return nil
		}
		v, err := s.newVersion(tx, f, description, lambda.Settled())
		if err != nil {
			return err
		}
		if err := store.PutJSON(tx, functionKey(f.Name), f); err != nil {
			return err
		}
		out = s.versionView(v, itoa(v.Number))
		return addUsage(tx, func(u *usage) { u.TotalCodeSize += v.Config.CodeSize })
	})
	return out, err
}

// deleteVersion deletes one published version unless an alias references it.
func (s *Service) deleteVersion(ctx context.Context, name, q string) error {
	return s.mutate(ctx, func(tx store.Tx) error {
		if _, err := s.loadFunction(tx, name); err != nil {
			return err
		}
		n := atoi(q)
		v, err := loadVersion(tx, name, n)
		if err != nil || v == nil {
			// AWS answers 204 for a missing version of an existing function.
			return err
		}
		var refs []string
		err = tx.Scan(aliasPrefix(name), "", func(_ string, b []byte) (bool, error) {
			var a lambda.Alias
			if err := jsonUnmarshal(b, &a); err != nil {
				return false, err
			}
			if a.ReferencesVersion(itoa(n)) {
				refs = append(refs, a.Name)
			}
			return true, nil
		})
		if err != nil {
			return err
		}
		if len(refs) > 0 {
			sort.Strings(refs)
			return fault.Conflict("Unable to delete version because the following aliases reference it: [%s]", strings.Join(refs, ", "))
		}
		if err := tx.Delete(versionKey(name, n)); err != nil {
			return err
		}
		if err := tx.Delete(policyKey(name, itoa(n))); err != nil {
			return err
		}
		return addUsage(tx, func(u *usage) { u.TotalCodeSize -= v.Config.CodeSize })
	})
}

// ListVersionsByFunction pages through $LATEST then the versions in ascending order.
func (s *Service) ListVersionsByFunction(ctx context.Context, ref lambda.Ref, marker string, maxItems int) ([]FunctionView, string, error) {
	if maxItems <= 0 || maxItems > 50 {
		maxItems = 50
	}
	after, err := decodeMarker(marker)
	if err != nil {
		return nil, "", err
	}
	page := newPager[FunctionView](maxItems)
	err = s.view(ctx, func(tx store.Tx) error {
		f, err := s.loadFunction(tx, ref.Name)
		if err != nil {
			return err
		}
		if after == "" {
			page.add(functionKey(f.Name), s.latestView(f, true))
		}
		if after == functionKey(f.Name) {
			after = ""
		}
		return s.pageVersions(tx, f.Name, after, page)
	})
	return page.items, page.next(), err
}
