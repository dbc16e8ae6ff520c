// Package benchiam creates the IAM roles the bench harnesses' scenarios need, as a person would with the AWS CLI:
// Sluice enforces them as AWS does.
package benchiam

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
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

// FunctionRole is the execution role the harnesses' functions name; CreateFunctionRole makes it.
const FunctionRole = "arn:aws:iam::000000000000:role/bench"

// CreateFunctionRole creates the functions' execution role, assumable by Lambda, on the server the Lambda client
// talks to (a role that already exists is kept). Sluice, as AWS, refuses a function whose role Lambda cannot assume.
func CreateFunctionRole(ctx context.Context, lc *lambda.Client) error {
	o := lc.Options()
	c := iam.New(iam.Options{Region: o.Region, BaseEndpoint: o.BaseEndpoint, Credentials: o.Credentials, HTTPClient: o.HTTPClient})
	_, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("bench"), AssumeRolePolicyDocument: aws.String(
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
	var exists *iamtypes.EntityAlreadyExistsException
	if errors.As(err, &exists) {
		return nil
	}
	return err
}
