package server

import (
	"context"
	"strings"

	"github.com/sluice-dev/sluice/internal/controlplane"
	"github.com/sluice-dev/sluice/internal/lambda"
)

// functionPolicies answers iam's question about resource-based policies for Lambda: a Lambda action on a function,
// version or alias ARN of this account is allowed when that function's, version's or alias's policy allows the
// caller (controlplane.ResourcePolicyAllows, from its watch-fed cache). Nothing else has such a policy.
type functionPolicies struct{ cp *controlplane.Service }

func (p functionPolicies) ResourcePolicyAllows(ctx context.Context, principal, action, resource string, conditions map[string]string) (bool, error) {
	if !strings.HasPrefix(action, "lambda:") {
		return false, nil
	}
	acct := p.cp.Account()
	rest, ok := strings.CutPrefix(resource, "arn:aws:lambda:"+acct.Region+":"+acct.ID+":function:")
	if !ok || rest == "" {
		return false, nil
	}
	name, qualifier, _ := strings.Cut(rest, ":")
	return p.cp.ResourcePolicyAllows(ctx, lambda.Ref{Name: name, Qualifier: qualifier}, action, principal, conditions)
}
