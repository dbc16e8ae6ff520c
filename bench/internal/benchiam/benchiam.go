// Package benchiam creates the IAM roles the bench harnesses' scenarios need, as a person would with the AWS CLI:
// Sluice enforces them as AWS does.
package benchiam

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// CodeDeployRole is the service role a deployment group names; CreateCodeDeployRole makes it.
const CodeDeployRole = "arn:aws:iam::000000000000:role/codedeploy"

// CreateCodeDeployRole creates the deployment groups' service role: assumable by CodeDeploy, with AWS's managed
// policy for Lambda deployments (which lets it invoke CodeDeployHook_* hooks).
func CreateCodeDeployRole(ctx context.Context, c *iam.Client) error {
	if _, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("codedeploy"), AssumeRolePolicyDocument: aws.String(
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"codedeploy.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)}); err != nil {
		return err
	}
	_, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("codedeploy"),
		PolicyArn: aws.String("arn:aws:iam::aws:policy/service-role/AWSCodeDeployRoleForLambda")})
	return err
}
