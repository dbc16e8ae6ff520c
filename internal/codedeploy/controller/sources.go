package controller

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/iam"
	"github.com/sluice-dev/sluice/internal/iam/policy"
	"github.com/sluice-dev/sluice/internal/lambda"
	"github.com/sluice-dev/sluice/internal/metrics"
)

// This file holds the controller's own rules about what it asks of the rest of Sluice: whether a hook may be
// invoked, how big a pre-warm is, and where a blast radius is read. The server only hands it the services.

// Roles answers whether a role's own policies allow an action on a resource, and looks roles up by ARN
// (iam.Service does both).
type Roles interface {
	RoleAllows(ctx context.Context, roleARN, action, resource string) (bool, error)
	RoleByARN(ctx context.Context, arn string) (iam.Role, bool, error)
}

// codeDeployPrincipal is the service principal a service role's trust policy must let assume it.
const codeDeployPrincipal = "codedeploy.amazonaws.com"

// CheckServiceRole refuses, as CreateDeploymentGroup and UpdateDeploymentGroup do in AWS, a service role that
// does not exist or whose trust policy does not let CodeDeploy assume it — up front, rather than when the first
// hook of the first deployment fails. The answer is AWS's: InvalidRoleException, "AWS CodeDeploy does not have the
// permissions required to assume the role <ARN>." for either cause (AWS cannot tell them apart either: the
// assumption fails). Older reports show "Cannot assume role provided." (aws/aws-sdk-ruby#772, 2015); deployments
// of Lambda deployment groups recorded against AWS in 2026 show the current text.
func (h AuthorizedHooks) CheckServiceRole(ctx context.Context, roleARN string) error {
	role, ok, err := h.Roles.RoleByARN(ctx, roleARN)
	if err != nil {
		return err
	}
	if !ok {
		return invalidRole(roleARN)
	}
	trust, err := policy.Parse(role.TrustPolicy, policy.Trust)
	if err != nil {
		return invalidRole(roleARN)
	}
	req := policy.Request{Action: "sts:AssumeRole", Resource: role.ARN, Principal: policy.Principal{Service: []string{codeDeployPrincipal}}}
	if policy.Evaluate(req, trust) != policy.Allow {
		return invalidRole(roleARN)
	}
	return nil
}

func invalidRole(roleARN string) error {
	return fault.New("InvalidRoleException", "AWS CodeDeploy does not have the permissions required to assume the role %s.", roleARN)
}

// AuthorizedHooks invokes hook functions the way CodeDeploy does: asynchronously, as the deployment group's
// service role, which must be allowed lambda:InvokeFunction on the hook (AWSCodeDeployRoleForLambda allows it on
// functions named CodeDeployHook_*).
type AuthorizedHooks struct {
	Roles   Roles
	Account lambda.Account
	// Invoke queues one Event invocation of function's $LATEST.
	Invoke func(ctx context.Context, function string, payload []byte) error
}

// InvokeAsync checks the service role, then invokes; a refusal wraps ErrHookNotAuthorized.
func (h AuthorizedHooks) InvokeAsync(ctx context.Context, serviceRole, function string, payload []byte) error {
	resource := h.Account.FunctionARN(function)
	if ok, err := h.Roles.RoleAllows(ctx, serviceRole, "lambda:InvokeFunction", resource); err != nil {
		return err
	} else if !ok {
		return fmt.Errorf("%w: role %q may not perform lambda:InvokeFunction on %s", ErrHookNotAuthorized, serviceRole, resource)
	}
	return h.Invoke(ctx, function, payload)
}

// Warmer is what pre-warming needs from the execution layer (invoke.Service has it).
type Warmer interface {
	// Environments is how many environments a version has now.
	Environments(function, version string) int
	// InFlight is how many invocations of a function run now.
	InFlight(function string) int
	// Prewarm starts n environments of a version, waits until they are ready and returns how many started.
	Prewarm(function, version string, n int) int
}

// PrewarmWith sizes a target version's warm-up to the traffic it is about to get and starts it with w.
func PrewarmWith(w Warmer) Prewarm {
	return func(_ context.Context, function, current, target string, weight float64) int {
		need := max(w.Environments(function, current), w.InFlight(function))
		return w.Prewarm(function, target, PrewarmSize(need, weight))
	}
}

// PrewarmSize is how many environments of the target version to start: the environments the current version
// needs now (its pool's size, or the invocations in flight if larger) times the first step's weight, at least
// one.
func PrewarmSize(need int, weight float64) int {
	return max(int(math.Ceil(float64(need)*weight)), 1)
}

// MetricsExposure reads a deployment's blast radius from the AWS/Lambda metrics: what the target version served
// through the alias since the deployment started.
func MetricsExposure(store interface {
	StatisticsUnaligned(metrics.Query) ([]metrics.Datapoint, error)
}) Exposure {
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
