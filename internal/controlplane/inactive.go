package controlplane

import (
	"context"

	"github.com/sluice-dev/sluice/internal/lambda"
	"github.com/sluice-dev/sluice/internal/store"
)

// Deactivate marks an idle, settled function Inactive (its environments are reclaimed by the execution layer).
// It does nothing to a function that is not Active and settled, and reports whether it changed the state.
func (s *Service) Deactivate(ctx context.Context, name string) (bool, error) {
	changed := false
	err := s.mutate(ctx, func(tx store.Tx) error {
		f, err := s.loadFunction(tx, name)
		if err != nil {
			return err
		}
		if f.Status.State != lambda.StateActive || f.Status.LastUpdateStatus == lambda.UpdateInProgress || f.Pending != nil {
			return nil
		}
		f.Status = lambda.Status{State: lambda.StateInactive, StateReason: "The function is inactive because it has not been invoked recently.",
			StateReasonCode: "Idle", LastUpdateStatus: f.Status.LastUpdateStatus}
		f.RevisionID = newRevision()
		changed = true
		return store.PutJSON(tx, functionKey(name), f)
	})
	return changed, err
}

// Reactivate moves an Inactive function to Pending and schedules its restoration; the processor turns it Active.
func (s *Service) Reactivate(ctx context.Context, name string) error {
	err := s.mutate(ctx, func(tx store.Tx) error {
		f, err := s.loadFunction(tx, name)
		if err != nil || f.Status.State != lambda.StateInactive {
			return err
		}
		f.Status = lambda.Status{State: lambda.StatePending, StateReason: "The function is being restored.", StateReasonCode: "Restoring",
			LastUpdateStatus: f.Status.LastUpdateStatus}
		f.RevisionID = newRevision()
		f.Pending = &lambda.PendingWork{ExtractCode: f.Config.CodeSha256, Token: newRevision()}
		return s.saveFunctionWork(tx, f)
	})
	if err == nil {
		s.kick()
	}
	return err
}
