package controlplane

import (
	"context"

	"github.com/sluice-dev/sluice/internal/codestore"

	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/lambda"
	"github.com/sluice-dev/sluice/internal/store"
)

// minUnreserved is the account concurrency AWS always keeps unreserved.
const minUnreserved = 100

func (s *Service) checkFunctionLevel(ref lambda.Ref) error {
	if ref.Qualifier != "" {
		return fault.InvalidParameter("This operation is permitted on Lambda functions only. Aliases and versions do not support this operation. Please specify either a function name or an unqualified function ARN.")
	}
	return nil
}

// PutFunctionConcurrency reserves concurrency for a function (0 = fully throttled).
func (s *Service) PutFunctionConcurrency(ctx context.Context, ref lambda.Ref, n int) (int, error) {
	if err := s.checkFunctionLevel(ref); err != nil {
		return 0, err
	}
	if n < 0 {
		return 0, lambda.ValidationError(itoa(n), "reservedConcurrentExecutions", "Member must have value greater than or equal to 0")
	}
	err := s.mutate(ctx, func(tx store.Tx) error {
		f, err := s.loadFunctionAs(tx, ref.Name, lambda.Latest)
		if err != nil {
			return err
		}
		u, err := loadUsage(tx)
		if err != nil {
			return err
		}
		reservedElsewhere := u.ReservedConcurrency
		if f.ReservedConcurrency != nil {
			reservedElsewhere -= *f.ReservedConcurrency
		}
		if s.opts.ConcurrencyLimit-reservedElsewhere-n < minUnreserved {
			return fault.InvalidParameter("Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [%d].", minUnreserved)
		}
		f.ReservedConcurrency = &n
		u.ReservedConcurrency = reservedElsewhere + n
		if err := store.PutJSON(tx, usageKey, u); err != nil {
			return err
		}
		return store.PutJSON(tx, functionKey(f.Name), f)
	})
	return n, err
}

// GetFunctionConcurrency returns the reserved concurrency, nil when none is set.
func (s *Service) GetFunctionConcurrency(ctx context.Context, ref lambda.Ref) (*int, error) {
	if err := s.checkFunctionLevel(ref); err != nil {
		return nil, err
	}
	var out *int
	err := s.view(ctx, func(tx store.Tx) error {
		f, err := s.loadFunction(tx, ref.Name)
		if err == nil {
			out = f.ReservedConcurrency
		}
		return err
	})
	return out, err
}

// DeleteFunctionConcurrency removes a function's reservation.
func (s *Service) DeleteFunctionConcurrency(ctx context.Context, ref lambda.Ref) error {
	if err := s.checkFunctionLevel(ref); err != nil {
		return err
	}
	return s.mutate(ctx, func(tx store.Tx) error {
		f, err := s.loadFunction(tx, ref.Name)
		if err != nil || f.ReservedConcurrency == nil {
			return err
		}
		n := *f.ReservedConcurrency
		f.ReservedConcurrency = nil
		if err := addUsage(tx, func(u *usage) { u.ReservedConcurrency -= n }); err != nil {
			return err
		}
		return store.PutJSON(tx, functionKey(f.Name), f)
	})
}

// AccountSettings is GetAccountSettings' answer.
type AccountSettings struct {
	TotalCodeSizeLimit, CodeSizeUnzipped, CodeSizeZipped int64
	ConcurrentExecutions, UnreservedConcurrentExecutions int
	TotalCodeSize, FunctionCount                         int64
}

// TotalCodeSizeLimit is the account's code storage quota (AWS's default, 75 GB).
const TotalCodeSizeLimit = 80530636800

// GetAccountSettings reports limits and usage.
func (s *Service) GetAccountSettings(ctx context.Context) (AccountSettings, error) {
	var u usage
	err := s.view(ctx, func(tx store.Tx) error {
		var err error
		u, err = loadUsage(tx)
		return err
	})
	lim := s.opts.CodeLimits
	if lim.MaxZipped <= 0 {
		lim.MaxZipped = codestore.DefaultMaxZipped
	}
	if lim.MaxUnzipped <= 0 {
		lim.MaxUnzipped = codestore.DefaultMaxUnzipped
	}
	return AccountSettings{
		TotalCodeSizeLimit: TotalCodeSizeLimit, CodeSizeUnzipped: lim.MaxUnzipped, CodeSizeZipped: lim.MaxZipped,
		ConcurrentExecutions: s.opts.ConcurrencyLimit, UnreservedConcurrentExecutions: s.opts.ConcurrencyLimit - u.ReservedConcurrency,
		TotalCodeSize: u.TotalCodeSize, FunctionCount: u.FunctionCount,
	}, err
}
