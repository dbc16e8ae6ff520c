package iam

import (
	"context"
	"sort"
	"strings"

	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/store"
)

// keyAttached holds a role's attached managed policies: iam/attached/<role>/<policy ARN> → "".
const keyAttached = "iam/attached/"

// managedPolicies are the AWS managed policies Sluice knows, with the statements that matter for the services it
// serves (the real documents also grant services Sluice does not have). Templates reference them by ARN
// (SAM's generated roles attach AWSLambdaBasicExecutionRole and AWSCodeDeployRoleForLambda).
var managedPolicies = map[string]string{
	"arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole": `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["logs:CreateLogGroup","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]}`,
	"arn:aws:iam::aws:policy/service-role/AWSLambdaRole": `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["lambda:InvokeFunction"],"Resource":["*"]}]}`,
	"arn:aws:iam::aws:policy/service-role/AWSCodeDeployRoleForLambda": `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["cloudwatch:DescribeAlarms","lambda:UpdateAlias","lambda:GetAlias","lambda:GetProvisionedConcurrencyConfig","sns:Publish"],"Resource":"*"},
		{"Effect":"Allow","Action":["s3:GetObject","s3:GetObjectVersion"],"Resource":"arn:aws:s3:::*/CodeDeploy/*"},
		{"Effect":"Allow","Action":["lambda:InvokeFunction"],"Resource":"arn:aws:lambda:*:*:function:CodeDeployHook_*"}]}`,
	"arn:aws:iam::aws:policy/service-role/AWSCodeDeployRoleForLambdaLimited": `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["cloudwatch:DescribeAlarms","lambda:UpdateAlias","lambda:GetAlias","lambda:GetProvisionedConcurrencyConfig"],"Resource":"*"},
		{"Effect":"Allow","Action":["lambda:InvokeFunction"],"Resource":"arn:aws:lambda:*:*:function:CodeDeployHook_*"},
		{"Effect":"Allow","Action":["sns:Publish"],"Resource":"arn:aws:sns:*:*:CodeDeployTopic_*"}]}`,
	"arn:aws:iam::aws:policy/AWSLambda_FullAccess": `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["lambda:*","cloudwatch:GetMetricData","cloudwatch:GetMetricStatistics","cloudwatch:ListMetrics","logs:DescribeLogGroups","logs:DescribeLogStreams","logs:FilterLogEvents","logs:GetLogEvents","iam:GetRole","iam:ListRoles","iam:ListRolePolicies","iam:GetRolePolicy"],"Resource":"*"}]}`,
	"arn:aws:iam::aws:policy/AWSLambda_ReadOnlyAccess": `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["lambda:Get*","lambda:List*","cloudwatch:GetMetricData","cloudwatch:ListMetrics","logs:DescribeLogStreams","logs:GetLogEvents","logs:FilterLogEvents"],"Resource":"*"}]}`,
	"arn:aws:iam::aws:policy/AWSCodeDeployFullAccess": `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["codedeploy:*"],"Resource":"*"}]}`,
	"arn:aws:iam::aws:policy/CloudWatchFullAccess": `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["cloudwatch:*","logs:*"],"Resource":"*"}]}`,
	"arn:aws:iam::aws:policy/ReadOnlyAccess": `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["lambda:Get*","lambda:List*","codedeploy:Get*","codedeploy:List*","codedeploy:BatchGet*","cloudwatch:Describe*","cloudwatch:Get*","cloudwatch:List*","logs:Describe*","logs:Get*","logs:FilterLogEvents","iam:Get*","iam:List*","ssm:Describe*","ssm:Get*","ssm:List*"],"Resource":"*"}]}`,
	"arn:aws:iam::aws:policy/AmazonSSMReadOnlyAccess": `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["ssm:Describe*","ssm:Get*","ssm:List*"],"Resource":"*"}]}`,
	"arn:aws:iam::aws:policy/PowerUserAccess": `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","NotAction":["iam:*","organizations:*","account:*"],"Resource":"*"}]}`,
	"arn:aws:iam::aws:policy/AdministratorAccess": `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"*","Resource":"*"}]}`,
}

// ManagedPolicyARNs lists the AWS managed policies Sluice knows.
func ManagedPolicyARNs() []string {
	out := make([]string, 0, len(managedPolicies))
	for arn := range managedPolicies {
		out = append(out, arn)
	}
	sort.Strings(out)
	return out
}

// ManagedPolicy returns the document of an AWS managed policy Sluice knows.
func ManagedPolicy(arn string) (string, bool) {
	doc, ok := managedPolicies[arn]
	return doc, ok
}

// AttachRolePolicy attaches a managed policy to a role: an AWS managed one Sluice knows, or one of the account's.
func (s *Service) AttachRolePolicy(ctx context.Context, role, policyARN string) error {
	return s.update(ctx, func(tx store.Tx) error {
		if _, ok := managedPolicies[policyARN]; !ok {
			if r, err := s.customer(tx, policyARN); err != nil {
				return err
			} else if r == nil {
				return policyMissing(policyARN)
			}
		}
		if _, err := s.mustRole(tx, role); err != nil {
			return err
		}
		key := keyAttached + strings.ToLower(role) + "/" + policyARN
		if ok, err := store.Exists(tx, key); err != nil || ok {
			return err
		}
		if err := s.countAttachment(tx, policyARN, 1); err != nil {
			return err
		}
		return tx.Put(key, nil)
	})
}

// DetachRolePolicy detaches a managed policy from a role.
func (s *Service) DetachRolePolicy(ctx context.Context, role, policyARN string) error {
	key := keyAttached + strings.ToLower(role) + "/" + policyARN
	return s.update(ctx, func(tx store.Tx) error {
		if _, err := s.mustRole(tx, role); err != nil {
			return err
		}
		if ok, err := store.Exists(tx, key); err != nil {
			return err
		} else if !ok {
			return notFound("Policy %s was not found.", policyARN)
		}
		if err := s.countAttachment(tx, policyARN, -1); err != nil {
			return err
		}
		return tx.Delete(key)
	})
}

// ListAttachedRolePolicies lists the ARNs of a role's managed policies.
func (s *Service) ListAttachedRolePolicies(ctx context.Context, role string) ([]string, error) {
	var out []string
	err := s.db.View(ctx, func(tx store.Tx) error {
		if _, err := s.mustRole(tx, role); err != nil {
			return err
		}
		var err error
		out, err = attached(tx, role)
		return err
	})
	return out, err
}

func attached(tx store.Tx, role string) ([]string, error) {
	prefix := keyAttached + strings.ToLower(role) + "/"
	var out []string
	err := tx.Scan(prefix, "", func(key string, _ []byte) (bool, error) {
		out = append(out, strings.TrimPrefix(key, prefix))
		return true, nil
	})
	sort.Strings(out)
	return out, err
}

func attachedConflict() error {
	return fault.New(CodeDeleteConflict, "Cannot delete entity, must detach all policies first.")
}
