package e2e

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// IAM returns an IAM client signed with root credentials.
func (s *server) IAM() *iam.Client {
	return iam.NewFromConfig(aws.Config{Region: region, BaseEndpoint: aws.String(s.URL), HTTPClient: s.sdkHTTP(),
		Credentials: credentials.NewStaticCredentialsProvider(s.AccessKeyID, s.SecretAccessKey, "")})
}

// STS returns an STS client signed with the given credentials (anonymous calls need none).
func (s *server) STS(creds aws.CredentialsProvider) *sts.Client {
	return sts.NewFromConfig(aws.Config{Region: region, BaseEndpoint: aws.String(s.URL), HTTPClient: s.sdkHTTP(), Credentials: creds})
}

const (
	lambdaTrust     = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	codeDeployTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"codedeploy.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	// testFunctionPolicy lets the suite's functions do what the tests have them do: call Lambda and report hook
	// results to CodeDeploy.
	testFunctionPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["lambda:*","codedeploy:PutLifecycleEventHookExecutionStatus","cloudwatch:*","logs:*"],"Resource":"*"}]}`
)

// grantTestRoles creates the roles the suite's functions and deployment groups name: "orders" (execution role),
// "other" (a second execution role, without policies) and "codedeploy" (service role with AWS's managed
// CodeDeploy policy, which may invoke CodeDeployHook_* hooks).
func grantTestRoles(t *testing.T, s *server) {
	t.Helper()
	ctx := context.Background()
	c := s.IAM()
	create := func(name, trust string) bool {
		_, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trust)})
		var exists *iamtypes.EntityAlreadyExistsException
		if errors.As(err, &exists) {
			return false
		}
		if err != nil {
			t.Fatalf("create role %s: %v", name, err)
		}
		return true
	}
	if create("orders", lambdaTrust) {
		if _, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("orders"), PolicyName: aws.String("suite"),
			PolicyDocument: aws.String(testFunctionPolicy)}); err != nil {
			t.Fatalf("put role policy: %v", err)
		}
	}
	create("other", lambdaTrust)
	if create("codedeploy", codeDeployTrust) {
		if _, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("codedeploy"),
			PolicyArn: aws.String("arn:aws:iam::aws:policy/service-role/AWSCodeDeployRoleForLambda")}); err != nil {
			t.Fatalf("attach role policy: %v", err)
		}
	}
}
