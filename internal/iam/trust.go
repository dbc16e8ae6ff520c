package iam

import (
	"context"

	"github.com/sluice-dev/sluice/internal/iam/policy"
)

// ServiceCanAssume reports whether the role an ARN names exists and its trust policy lets an AWS service
// principal ("lambda.amazonaws.com", "codedeploy.amazonaws.com") call sts:AssumeRole on it: what Lambda checks of
// an execution role and CodeDeploy of a service role before accepting them.
func (s *Service) ServiceCanAssume(ctx context.Context, roleARN, servicePrincipal string) (bool, error) {
	role, ok, err := s.RoleByARN(ctx, roleARN)
	if err != nil || !ok {
		return false, err
	}
	trust, err := policy.Parse(role.TrustPolicy, policy.Trust)
	if err != nil {
		return false, nil
	}
	req := policy.Request{Action: "sts:AssumeRole", Resource: role.ARN, Principal: policy.Principal{Service: []string{servicePrincipal}}}
	return policy.Evaluate(req, trust) == policy.Allow, nil
}
