package controlplane

import (
	"context"

	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/lambda"
	"github.com/sluice-dev/sluice/internal/store"
)

// Snapshot is everything the invoke path needs to know about one function, read in one transaction.
type Snapshot struct {
	Function lambda.Function
	// Effective is the $LATEST configuration invokes run: during an update still InProgress it is the previous one.
	Effective lambda.Config
	Versions  []lambda.Version
	Aliases   []lambda.Alias
	// EventInvoke holds the asynchronous invocation configs by qualifier ("$LATEST" for the function).
	EventInvoke map[string]EventInvokeConfig
	// Provisioned lists the provisioned-concurrency configurations.
	Provisioned []ProvisionedConfig
}

// Snapshot reads one function whole; ok is false when it does not exist.
func (s *Service) Snapshot(ctx context.Context, name string) (snap Snapshot, ok bool, err error) {
	err = s.store.View(ctx, func(tx store.Tx) error {
		f, err := s.loadFunction(tx, name)
		if fault.Is(err, fault.ResourceNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		ok = true
		snap.Function = *f
		snap.Effective = f.Config
		if f.Status.LastUpdateStatus == lambda.UpdateInProgress && f.Previous != nil {
			snap.Effective = *f.Previous
		}
		if err := tx.Scan(versionPrefix(name), "", func(_ string, b []byte) (bool, error) {
			var v lambda.Version
			err := jsonUnmarshal(b, &v)
			snap.Versions = append(snap.Versions, v)
			return err == nil, err
		}); err != nil {
			return err
		}
		if err := tx.Scan(aliasPrefix(name), "", func(_ string, b []byte) (bool, error) {
			var a lambda.Alias
			err := jsonUnmarshal(b, &a)
			snap.Aliases = append(snap.Aliases, a)
			return err == nil, err
		}); err != nil {
			return err
		}
		if snap.EventInvoke, err = eventInvokeConfigs(tx, name); err != nil {
			return err
		}
		snap.Provisioned, err = provisionedConfigs(tx, name)
		return err
	})
	return snap, ok, err
}

// FunctionNames lists every function's name (for loading in-memory views at startup).
func (s *Service) FunctionNames(ctx context.Context) ([]string, error) {
	var names []string
	err := s.store.View(ctx, func(tx store.Tx) error {
		return tx.Scan(functionPrefix, "", func(k string, _ []byte) (bool, error) {
			names = append(names, k[len(functionPrefix):])
			return true, nil
		})
	})
	return names, err
}

// CodeDir returns the extracted package directory of a CodeSha256, if extracted.
func (s *Service) CodeDir(sha string) (string, bool) { return s.code.CodeDir(sha) }
