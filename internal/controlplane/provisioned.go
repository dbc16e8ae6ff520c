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

func provisionedPrefix(name string) string    { return "pc/" + name + "/" }
func provisionedKey(name, qual string) string { return provisionedPrefix(name) + qual }

// ProvisionedState is what the execution layer reports about a configuration.
type ProvisionedState struct {
	Allocated, Available int
	Status, Reason       string // IN_PROGRESS, READY or FAILED
}

// ProvisionedView is a configuration with its live state.
type ProvisionedView struct {
	FunctionARN string
	Config      ProvisionedConfig
	State       ProvisionedState
}

func (s *Service) provisionedView(name string, c ProvisionedConfig) ProvisionedView {
	v := ProvisionedView{FunctionARN: s.acct.QualifiedARN(name, c.Qualifier), Config: c, State: ProvisionedState{Status: "IN_PROGRESS"}}
	if s.opts.ProvisionedState != nil {
		v.State = s.opts.ProvisionedState(name, c.Qualifier, c.Requested)
	}
	return v
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
	err := s.mutate(ctx, ref.Name, func(tx store.Tx) error {
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
	var c ProvisionedConfig
	err := s.view(ctx, func(tx store.Tx) error {
		if _, err := s.loadFunction(tx, ref.Name); err != nil {
			return err
		}
		if _, err := s.provisionedTarget(tx, ref, false); err != nil {
			return err
		}
		err := store.GetJSON(tx, provisionedKey(ref.Name, ref.Qualifier), &c)
		if errors.Is(err, store.ErrNotFound) {
			return s.noProvisioned()
		}
		return err
	})
	if err != nil {
		return ProvisionedView{}, err
	}
	return s.provisionedView(ref.Name, c), nil
}

// DeleteProvisionedConcurrencyConfig removes a configuration (204 even when there was none, as on AWS).
func (s *Service) DeleteProvisionedConcurrencyConfig(ctx context.Context, ref lambda.Ref) error {
	return s.mutate(ctx, ref.Name, func(tx store.Tx) error {
		if _, err := s.loadFunction(tx, ref.Name); err != nil {
			return err
		}
		if _, err := s.provisionedTarget(tx, ref, false); err != nil {
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
	var configs []ProvisionedConfig
	page := newPager[ProvisionedConfig](maxItems)
	err = s.view(ctx, func(tx store.Tx) error {
		if _, err := s.loadFunction(tx, ref.Name); err != nil {
			return err
		}
		return tx.Scan(provisionedPrefix(ref.Name), after, func(k string, b []byte) (bool, error) {
			var c ProvisionedConfig
			if err := jsonUnmarshal(b, &c); err != nil {
				return false, err
			}
			return page.add(k, c), nil
		})
	})
	configs = page.items
	out := make([]ProvisionedView, len(configs))
	for i, c := range configs {
		out[i] = s.provisionedView(ref.Name, c)
	}
	return out, page.next(), err
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
