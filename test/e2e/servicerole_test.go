package e2e

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// TestDeploymentGroupServiceRole: CreateDeploymentGroup, and UpdateDeploymentGroup when it changes the role, refuse
// a service role that does not exist or that codedeploy.amazonaws.com may not assume, with AWS's
// InvalidRoleException, from the Go SDK and the AWS CLI v1 — up front, not when a deployment's first hook fails.
// The trust policy is read when the group is written: fixing it makes the same role acceptable.
func TestDeploymentGroupServiceRole(t *testing.T) {
	parallel(t)
	s := startServer(t) // with the suite's roles: "codedeploy" (trusts CodeDeploy) and "orders" (trusts Lambda)
	cd := s.CodeDeploy()
	const (
		good    = "arn:aws:iam::000000000000:role/codedeploy"
		lambda  = "arn:aws:iam::000000000000:role/orders"
		missing = "arn:aws:iam::000000000000:role/nobody"
		later   = "arn:aws:iam::000000000000:role/later"
	)
	refused := func(role string) wantErr {
		return wantErr{Status: 400, Code: "InvalidRoleException",
			Message: "AWS CodeDeploy does not have the permissions required to assume the role " + role + "."}
	}
	if _, err := cd.CreateApplication(t.Context(), &codedeploy.CreateApplicationInput{ApplicationName: aws.String("app"), ComputePlatform: cdtypes.ComputePlatformLambda}); err != nil {
		t.Fatal(err)
	}
	create := func(group, role string) error {
		_, err := cd.CreateDeploymentGroup(t.Context(), &codedeploy.CreateDeploymentGroupInput{ApplicationName: aws.String("app"),
			DeploymentGroupName: aws.String(group), ServiceRoleArn: aws.String(role)})
		return err
	}
	for _, tc := range []struct{ name, role string }{{"a role that does not exist", missing}, {"a role only Lambda may assume", lambda}} {
		checkAPIError(t, "CreateDeploymentGroup with "+tc.name, create("dg", tc.role), refused(tc.role))
	}
	_, errOut, code := awsCLI(t, s, false, "deploy", "create-deployment-group", "--application-name", "app",
		"--deployment-group-name", "dg", "--service-role-arn", missing)
	checkCLIError(t, "aws deploy create-deployment-group with a role that does not exist", errOut, code, refused(missing), false)
	if _, err := cd.GetDeploymentGroup(t.Context(), &codedeploy.GetDeploymentGroupInput{ApplicationName: aws.String("app"), DeploymentGroupName: aws.String("dg")}); err == nil {
		t.Fatal("a refused CreateDeploymentGroup left a group behind")
	}

	if err := create("dg", good); err != nil {
		t.Fatalf("CreateDeploymentGroup with a role CodeDeploy may assume: %v", err)
	}
	update := func(role *string, config string) error {
		_, err := cd.UpdateDeploymentGroup(t.Context(), &codedeploy.UpdateDeploymentGroupInput{ApplicationName: aws.String("app"),
			CurrentDeploymentGroupName: aws.String("dg"), ServiceRoleArn: role, DeploymentConfigName: aws.String(config)})
		return err
	}
	checkAPIError(t, "UpdateDeploymentGroup to a role only Lambda may assume", update(aws.String(lambda), "CodeDeployDefault.LambdaAllAtOnce"), refused(lambda))
	if err := update(nil, "CodeDeployDefault.LambdaLinear10PercentEvery1Minute"); err != nil {
		t.Fatalf("UpdateDeploymentGroup of another setting: %v", err)
	}
	g, err := cd.GetDeploymentGroup(t.Context(), &codedeploy.GetDeploymentGroupInput{ApplicationName: aws.String("app"), DeploymentGroupName: aws.String("dg")})
	if err != nil {
		t.Fatal(err)
	}
	if info := g.DeploymentGroupInfo; aws.ToString(info.ServiceRoleArn) != good ||
		aws.ToString(info.DeploymentConfigName) != "CodeDeployDefault.LambdaLinear10PercentEvery1Minute" {
		t.Fatalf("group after the updates: role %s, config %s; want %s and the linear config", aws.ToString(info.ServiceRoleArn),
			aws.ToString(info.DeploymentConfigName), good)
	}

	// A role whose trust policy is fixed after a refusal is accepted.
	c := s.IAM()
	if _, err := c.CreateRole(t.Context(), &iam.CreateRoleInput{RoleName: aws.String("later"), AssumeRolePolicyDocument: aws.String(lambdaTrust)}); err != nil {
		t.Fatal(err)
	}
	checkAPIError(t, "UpdateDeploymentGroup to a role that trusts Lambda", update(aws.String(later), "CodeDeployDefault.LambdaAllAtOnce"), refused(later))
	if _, err := c.UpdateAssumeRolePolicy(t.Context(), &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("later"), PolicyDocument: aws.String(codeDeployTrust)}); err != nil {
		t.Fatal(err)
	}
	if err := update(aws.String(later), "CodeDeployDefault.LambdaAllAtOnce"); err != nil {
		t.Fatalf("UpdateDeploymentGroup to the role once it trusts CodeDeploy: %v", err)
	}
}
