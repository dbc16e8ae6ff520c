package stackdeploy

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

const managedTemplate = `Resources:
  Reader:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}]
      ManagedPolicyArns: [!Ref Assets]
  Writer:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}]
  Assets:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      Path: /cdk/
      Description: what the asset roles may do
      Roles: ROLES
      PolicyDocument:
        Statement: [{Effect: Allow, Action: ACTION, Resource: "*"}]
Outputs:
  Arn: {Value: !Ref Assets}
`

func managedApp(roles, action string) string {
	return strings.NewReplacer("ROLES", roles, "ACTION", action).Replace(managedTemplate)
}

// TestManagedPolicyResource: AWS::IAM::ManagedPolicy makes a customer managed policy in the real IAM edge,
// attached to the roles it names and to those whose ManagedPolicyArns refer to it; a new document becomes the
// default version (IAM's five kept by deleting the oldest), a role that leaves its Roles is detached, and the
// stack's deletion deletes it.
func TestManagedPolicyResource(t *testing.T) {
	w := newRealWorld(t)
	ctx := w.ctx()
	res, err := w.deploy(managedApp("[!Ref Writer]", "s3:GetObject"))
	if err != nil {
		t.Fatal(err)
	}
	arn := res.Outputs["Arn"]
	if !strings.HasPrefix(arn, "arn:aws:iam::000000000000:policy/cdk/orders-Assets-") {
		t.Fatalf("Ref = %q, want the generated policy's ARN", arn)
	}
	attachedTo := func() []string {
		var out []string
		for _, id := range []string{"Reader", "Writer"} {
			role := w.stacks.stacks["orders"].Resources[id].PhysicalID
			a, err := w.iam.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(role)})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range a.AttachedPolicies {
				if aws.ToString(p.PolicyArn) == arn {
					out = append(out, id)
				}
			}
		}
		return out
	}
	if got := attachedTo(); fmt.Sprint(got) != "[Reader Writer]" {
		t.Errorf("attached to %v, want both roles", got)
	}
	p, err := w.iam.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
	if err != nil || aws.ToInt32(p.Policy.AttachmentCount) != 2 || aws.ToString(p.Policy.Description) != "what the asset roles may do" {
		t.Fatalf("GetPolicy: %+v, %v", p, err)
	}
	for i := 1; i <= 5; i++ {
		if _, err := w.deploy(managedApp("[]", fmt.Sprintf("s3:GetObjectV%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	vs, err := w.iam.ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: aws.String(arn)})
	if err != nil || len(vs.Versions) != 5 || aws.ToString(vs.Versions[0].VersionId) != "v6" || !vs.Versions[0].IsDefaultVersion {
		t.Fatalf("versions after five updates: %+v, %v", vs, err)
	}
	v, err := w.iam.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v6")})
	if err != nil || !strings.Contains(unescape(aws.ToString(v.PolicyVersion.Document)), "s3:GetObjectV5") {
		t.Errorf("v6: %+v, %v", v, err)
	}
	if got := attachedTo(); fmt.Sprint(got) != "[Reader]" {
		t.Errorf("attached to %v after Writer left Roles", got)
	}
	if _, err := w.delete(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.iam.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)}); apiCode(err) != "NoSuchEntity" {
		t.Errorf("after the stack's deletion: %v", err)
	}
}
