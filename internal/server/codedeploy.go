package server

import (
	"context"

	"github.com/sluice-dev/sluice/internal/alarms"
	"github.com/sluice-dev/sluice/internal/codedeploy"
	"github.com/sluice-dev/sluice/internal/controlplane"
	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/invoke"
	"github.com/sluice-dev/sluice/internal/lambda"
)

// deployLambda gives the deployment controller the Lambda control plane: the same operations a client has.
type deployLambda struct{ cp *controlplane.Service }

func (l deployLambda) Alias(ctx context.Context, function, alias string) (codedeploy.AliasState, bool, bool, error) {
	v, err := l.cp.GetAlias(ctx, lambda.Ref{Name: function}, alias)
	switch {
	case fault.Is(err, fault.ResourceNotFound):
		if _, ferr := l.cp.GetFunctionConfiguration(ctx, lambda.Ref{Name: function}); fault.Is(ferr, fault.ResourceNotFound) {
			return codedeploy.AliasState{}, true, true, nil
		}
		return codedeploy.AliasState{}, false, true, nil
	case err != nil:
		return codedeploy.AliasState{}, false, false, err
	}
	s := codedeploy.AliasState{FunctionVersion: v.Alias.FunctionVersion}
	if extra, w, ok := v.Alias.AdditionalVersion(); ok {
		s.AdditionalVersionWeights = map[string]float64{extra: w}
	}
	return s, false, false, nil
}

func (l deployLambda) VersionExists(ctx context.Context, function, version string) (bool, error) {
	_, err := l.cp.GetFunctionConfiguration(ctx, lambda.Ref{Name: function, Qualifier: version})
	if fault.Is(err, fault.ResourceNotFound) {
		return false, nil
	}
	return err == nil, err
}

func (l deployLambda) SetAlias(ctx context.Context, function, alias string, s codedeploy.AliasState) error {
	weights := s.AdditionalVersionWeights
	if weights == nil {
		weights = map[string]float64{}
	}
	_, err := l.cp.UpdateAlias(ctx, lambda.Ref{Name: function}, alias, controlplane.UpdateAliasInput{
		FunctionVersion: &s.FunctionVersion, Routing: &lambda.Routing{AdditionalVersionWeights: weights}})
	return err
}

// deployInvokeAsync queues a hook's Event invocation; controller.AuthorizedHooks decides whether it may run.
func deployInvokeAsync(inv *invoke.Service) func(ctx context.Context, function string, payload []byte) error {
	return func(ctx context.Context, function string, payload []byte) error {
		_, err := inv.Invoke(ctx, invoke.Request{Ref: lambda.Ref{Name: function}, Type: invoke.Event, Payload: payload})
		return err
	}
}

// deployAlarms gives the controller alarm states and wakes it on every change.
type deployAlarms struct{ svc *alarms.Service }

func (a deployAlarms) InAlarm(ctx context.Context, names []string) ([]string, error) {
	list, _, err := a.svc.Describe(ctx, alarms.DescribeFilter{Names: names, MaxRecords: 100})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, al := range list {
		if al.StateValue == alarms.StateAlarm {
			out = append(out, al.Name)
		}
	}
	return out, nil
}

func (a deployAlarms) Subscribe(fn func()) func() {
	return a.svc.Subscribe(func(alarms.Change) { fn() })
}
