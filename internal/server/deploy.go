package server

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/sluice-dev/sluice/internal/alarms"
	"github.com/sluice-dev/sluice/internal/controlplane"
	"github.com/sluice-dev/sluice/internal/deploy"
	"github.com/sluice-dev/sluice/internal/deployctl"
	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/iam"
	"github.com/sluice-dev/sluice/internal/invoke"
	"github.com/sluice-dev/sluice/internal/lambda"
	"github.com/sluice-dev/sluice/internal/metrics"
)

// deployLambda gives the deployment controller the Lambda control plane: the same operations a client has.
type deployLambda struct{ cp *controlplane.Service }

func (l deployLambda) Alias(ctx context.Context, function, alias string) (deploy.AliasState, bool, bool, error) {
	v, err := l.cp.GetAlias(ctx, lambda.Ref{Name: function}, alias)
	switch {
	case fault.Is(err, fault.ResourceNotFound):
		if _, ferr := l.cp.GetFunctionConfiguration(ctx, lambda.Ref{Name: function}); fault.Is(ferr, fault.ResourceNotFound) {
			return deploy.AliasState{}, true, true, nil
		}
		return deploy.AliasState{}, false, true, nil
	case err != nil:
		return deploy.AliasState{}, false, false, err
	}
	s := deploy.AliasState{FunctionVersion: v.Alias.FunctionVersion}
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

func (l deployLambda) SetAlias(ctx context.Context, function, alias string, s deploy.AliasState) error {
	weights := s.AdditionalVersionWeights
	if weights == nil {
		weights = map[string]float64{}
	}
	_, err := l.cp.UpdateAlias(ctx, lambda.Ref{Name: function}, alias, controlplane.UpdateAliasInput{
		FunctionVersion: &s.FunctionVersion, Routing: &lambda.Routing{AdditionalVersionWeights: weights}})
	return err
}

// deployHooks invokes hook functions the way CodeDeploy does: asynchronously, as the deployment group's service
// role, which must be allowed lambda:InvokeFunction on the hook (AWSCodeDeployRoleForLambda allows it on
// functions named CodeDeployHook_*).
type deployHooks struct {
	inv  *invoke.Service
	iam  *iam.Service
	acct lambda.Account
}

func (h deployHooks) InvokeAsync(ctx context.Context, serviceRole, function string, payload []byte) error {
	resource := h.acct.FunctionARN(function)
	if ok, err := h.iam.RoleAllows(ctx, serviceRole, "lambda:InvokeFunction", resource); err != nil {
		return err
	} else if !ok {
		return fmt.Errorf("%w: role %q may not perform lambda:InvokeFunction on %s", deployctl.ErrHookNotAuthorized, serviceRole, resource)
	}
	_, err := h.inv.Invoke(ctx, invoke.Request{Ref: lambda.Ref{Name: function}, Type: invoke.Event, Payload: payload})
	return err
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

// deployExposure reads a deployment's blast radius from the AWS/Lambda metrics: what the target version served
// through the alias since the deployment started.
func deployExposure(store *metrics.Store) deployctl.Exposure {
	return func(_ context.Context, function, alias, version string, since, until time.Time) (int64, int64, error) {
		dims := []metrics.Dimension{{Name: "ExecutedVersion", Value: version}, {Name: "FunctionName", Value: function},
			{Name: "Resource", Value: function + ":" + alias}}
		end := time.Now().Add(time.Second)
		if !until.IsZero() {
			end = until
		}
		sum := func(name string) (int64, error) {
			points, err := store.StatisticsUnaligned(metrics.Query{Metric: metrics.MetricID{Namespace: "AWS/Lambda", Name: name, Dimensions: dims},
				Start: since.Truncate(time.Second), End: end, Period: end.Sub(since.Truncate(time.Second)).Round(time.Second) + time.Second})
			var total float64
			for _, p := range points {
				total += p.Sum
			}
			return int64(total), err
		}
		inv, err := sum("Invocations")
		if err != nil {
			return 0, 0, err
		}
		errs, err := sum("Errors")
		return inv, errs, err
	}
}

// deployPrewarm sizes a target version's warm-up to the traffic it is about to get: the environments the current
// version needs now (its pool's size, or the invocations in flight if larger) times the first step's weight, at
// least one.
func deployPrewarm(inv *invoke.Service, off bool) deployctl.Prewarm {
	if off {
		return nil
	}
	return func(_ context.Context, function, current, target string, weight float64) int {
		need := max(inv.Environments(function, current), inv.InFlight(function))
		n := int(math.Ceil(float64(need) * weight))
		return inv.Prewarm(function, target, max(n, 1))
	}
}
