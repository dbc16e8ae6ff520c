package controlplane

import (
	"context"
	"errors"
	"time"

	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/lambda"
	"github.com/sluice-dev/sluice/internal/store"
)

// ProvisionedConfig is a provisioned-concurrency request on a version or alias.
type ProvisionedConfig struct {
	Qualifier    string    `json:"qualifier"`
	Requested    int       `json:"requested"`
	LastModified time.Time `json:"lastModified"`
}

// ProvisionedState is a configuration's live state as the API shows it.
type ProvisionedState struct {
	Allocated, Available int
	Status, Reason       string // IN_PROGRESS, READY or FAILED
}

// ProvisionedReport is what the execution layer reports about the environments of one configuration.
type ProvisionedReport struct {
	// Ready counts the initialised environments kept for the configuration.
	Ready int `json:"ready"`
	// Failure is why the last start failed, set only while no start is pending.
	Failure string `json:"failure,omitempty"`
}

// ProvisionedView is a configuration with its live state.
type ProvisionedView struct {
	FunctionARN string
	Config      ProvisionedConfig
	State       ProvisionedState
}

// provisionedState is Lambda's status for a request given the last report: READY once enough environments are
// initialised, FAILED when starting them failed and no start is pending, IN_PROGRESS otherwise (and before the
// execution layer reported anything).
func provisionedState(requested int, r ProvisionedReport) ProvisionedState {
	ready := min(r.Ready, requested)
	st := ProvisionedState{Allocated: ready, Available: ready, Status: "IN_PROGRESS"}
	switch {
	case ready >= requested:
		st.Status = "READY"
	case r.Failure != "":
		st.Status, st.Reason = "FAILED", r.Failure
	}
	return st
}

func (s *Service) provisionedView(tx store.Tx, name string, c ProvisionedConfig) (ProvisionedView, error) {
	var r ProvisionedReport
	if err := store.GetJSON(tx, provisionedReportKey(name, c.Qualifier), &r); err != nil && !errors.Is(err, store.ErrNotFound) {
		return ProvisionedView{}, err
	}
	return ProvisionedView{FunctionARN: s.acct.QualifiedARN(name, c.Qualifier), Config: c, State: provisionedState(c.Requested, r)}, nil
}

// ReportProvisioned records what the execution layer knows about a function's provisioned environments, by
// qualifier. Reports for configurations that no longer exist are dropped, and so are stored reports the new set
// does not mention.
func (s *Service) ReportProvisioned(ctx context.Context, name string, reports map[string]ProvisionedReport) error {
	return s.store.Update(ctx, func(tx store.Tx) error {
		var stale []string
		if err := tx.Scan(provisionedReportPrefix(name), "", func(k string, _ []byte) (bool, error) {
			if _, ok := reports[k[len(provisionedReportPrefix(name)):]]; !ok {
				stale = append(stale, k)
			}
			return true, nil
		}); err != nil {
			return err
		}
		for _, k := range stale {
			if err := tx.Delete(k); err != nil {
				return err
			}
		}
		for q, r := range reports {
			exists, err := store.Exists(tx, provisionedKey(name, q))
			if err != nil {
				return err
			}
			if !exists {
				err = tx.Delete(provisionedReportKey(name, q))
			} else {
				err = store.PutJSON(tx, provisionedReportKey(name, q), r)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// provisionedTarget resolves the version a qualifier provisions and checks it may carry a configuration.
func (s *Service) provisionedTarget(tx store.Tx, ref lambda.Ref, forPut bool) (string, error) {
	q := ref.Qualifier
	if q == "" {
		return "", lambda.ValidationError("null", "qualifier", "Member must not be null")
	}
	if q == lambda.Latest {
		if forPut {
			return "", fault.InvalidParameter("Provisioned Concurrency Configs cannot be applied to unpublished function versions.")
		}
		return "", fault.InvalidParameter("The function resource provided must be an alias or a published version.")
	}
	if lambda.IsVersionNumber(q) {
		v, err := loadVersion(tx, ref.Name, atoi(q))
		if err != nil || v == nil {
			return "", errors.Join(err, fault.NotFound("Function not found: %s", s.acct.QualifiedARN(ref.Name, q)))
		}
		return q, nil
	}
	a, err := loadAlias(tx, ref.Name, q)
	if err != nil || a == nil {
		return "", errors.Join(err, fault.NotFound("Cannot find alias arn: %s", s.acct.QualifiedARN(ref.Name, q)))
	}
	if forPut && a.FunctionVersion == lambda.Latest {
		return "", fault.InvalidParameter("Provisioned Concurrency Configs cannot be applied to unpublished function versions.")
	}
	if _, _, weighted := a.AdditionalVersion(); forPut && weighted {
		return "", fault.InvalidParameter("Provisioned Concurrency Configs cannot be applied to an alias with a routing configuration.")
	}
	return a.FunctionVersion, nil
}

// PutProvisionedConcurrencyConfig requests n warm environments for a version or alias.
func (s *Service) PutProvisionedConcurrencyConfig(ctx context.Context, ref lambda.Ref, n int) (ProvisionedView, error) {
	if n < 1 {
		return ProvisionedView{}, lambda.ValidationError(itoa(n), "provisionedConcurrentExecutions", "Member must have value greater than or equal to 1")
	}
	var out ProvisionedView
	err := s.mutate(ctx, func(tx store.Tx) error {
		f, err := s.loadFunction(tx, ref.Name)
		if err != nil {
			return err
		}
		version, err := s.provisionedTarget(tx, ref, true)
		if err != nil {
			return err
		}
		// One configuration per version: directly on it, or through one alias pointing at it.
		total := n
		err = tx.Scan(provisionedPrefix(ref.Name), "", func(_ string, b []byte) (bool, error) {
			var c ProvisionedConfig
			if err := jsonUnmarshal(b, &c); err != nil {
				return false, err
			}
			if c.Qualifier == ref.Qualifier {
				return true, nil
			}
			total += c.Requested
			other, err := s.provisionedTarget(tx, lambda.Ref{Name: ref.Name, Qualifier: c.Qualifier}, false)
			if err != nil || other != version {
				return err == nil, nil
			}
			if lambda.IsVersionNumber(ref.Qualifier) {
				return false, fault.Conflict("Version is pointed by a Provisioned Concurrency alias")
			}
			return false, fault.Conflict("Alias can't be used for Provisioned Concurrency configuration on an already Provisioned version")
		})
		if err != nil {
			return err
		}
		if f.ReservedConcurrency != nil && total > *f.ReservedConcurrency {
			return fault.InvalidParameter("Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function")
		}
		c := ProvisionedConfig{Qualifier: ref.Qualifier, Requested: n, LastModified: s.now()}
		out = ProvisionedView{FunctionARN: s.acct.QualifiedARN(ref.Name, ref.Qualifier), Config: c, State: ProvisionedState{Status: "IN_PROGRESS"}}
		return store.PutJSON(tx, provisionedKey(ref.Name, ref.Qualifier), c)
	})
	return out, err
}

func (s *Service) noProvisioned() error {
	return fault.New("ProvisionedConcurrencyConfigNotFoundException", "No Provisioned Concurrency Config found for this function")
}

// GetProvisionedConcurrencyConfig returns a configuration with its live state.
func (s *Service) GetProvisionedConcurrencyConfig(ctx context.Context, ref lambda.Ref) (ProvisionedView, error) {
	var out ProvisionedView
	err := s.view(ctx, func(tx store.Tx) error {
		if _, err := s.loadFunction(tx, ref.Name); err != nil {
			return err
		}
		if _, err := s.provisionedTarget(tx, ref, false); err != nil {
			return err
		}
		var c ProvisionedConfig
		err := store.GetJSON(tx, provisionedKey(ref.Name, ref.Qualifier), &c)
		if errors.Is(err, store.ErrNotFound) {
			return s.noProvisioned()
		}
		if err != nil {
			return err
		}
		out, err = s.provisionedView(tx, ref.Name, c)
		return err
	})
	return out, err
}

// DeleteProvisionedConcurrencyConfig removes a configuration (204 even when there was none, as on AWS).
func (s *Service) DeleteProvisionedConcurrencyConfig(ctx context.Context, ref lambda.Ref) error {
	return s.mutate(ctx, func(tx store.Tx) error {
		if _, err := s.loadFunction(tx, ref.Name); err != nil {
			return err
		}
		if _, err := s.provisionedTarget(tx, ref, false); err != nil {
			return err
		}
		if err := tx.Delete(provisionedReportKey(ref.Name, ref.Qualifier)); err != nil {
			return err
		}
		return tx.Delete(provisionedKey(ref.Name, ref.Qualifier))
	})
}

// ListProvisionedConcurrencyConfigs lists a function's configurations.
func (s *Service) ListProvisionedConcurrencyConfigs(ctx context.Context, ref lambda.Ref, marker string, maxItems int) ([]ProvisionedView, string, error) {
	if maxItems <= 0 || maxItems > 50 {
		maxItems = 50
	}
	after, err := decodeMarker(marker)
	if err != nil {
		return nil, "", err
	}
	var page *pager[ProvisionedView]
	err = s.view(ctx, func(tx store.Tx) error {
		page = newPager[ProvisionedView](maxItems)
		if _, err := s.loadFunction(tx, ref.Name); err != nil {
			return err
		}
		return tx.Scan(provisionedPrefix(ref.Name), after, func(k string, b []byte) (bool, error) {
			var c ProvisionedConfig
			if err := jsonUnmarshal(b, &c); err != nil {
				return false, err
			}
			v, err := s.provisionedView(tx, ref.Name, c)
			if err != nil {
				return false, err
			}
			return page.add(k, v), nil
		})
	})
	if err != nil {
		return nil, "", err
	}
	return page.items, page.next(), nil
}

// provisionedConfigs reads a function's configurations (for snapshots).
func provisionedConfigs(tx store.Tx, name string) ([]ProvisionedConfig, error) {
	var out []ProvisionedConfig
	err := tx.Scan(provisionedPrefix(name), "", func(_ string, b []byte) (bool, error) {
		var c ProvisionedConfig
		err := jsonUnmarshal(b, &c)
		out = append(out, c)
		return err == nil, err
	})
	return out, err
}
