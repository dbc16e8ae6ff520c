package stackdeploy

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/sluice-dev/sluice/internal/stack"
)

const bucketsV1 = `Resources:
  Assets:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: orders-assets
      AccessControl: Private
      VersioningConfiguration: {Status: Enabled}
      BucketEncryption:
        ServerSideEncryptionConfiguration:
          - ServerSideEncryptionByDefault: {SSEAlgorithm: "aws:kms", KMSMasterKeyID: alias/orders}
            BucketKeyEnabled: true
      PublicAccessBlockConfiguration: {BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true}
      LifecycleConfiguration:
        Rules:
          - {Id: CleanupOldVersions, Status: Enabled, NoncurrentVersionExpiration: {NoncurrentDays: 30}}
          - {Id: AbortUploads, Status: Enabled, AbortIncompleteMultipartUpload: {DaysAfterInitiation: 1}}
          - {Id: Logs, Status: Enabled, Prefix: logs/, ExpirationInDays: "7"}
      Tags: [{Key: team, Value: orders}]
  AssetsPolicy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref Assets
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Sid: AllowSSLRequestsOnly
            Effect: Deny
            Principal: "*"
            Action: s3:*
            Resource: [!GetAtt Assets.Arn, !Sub "${Assets.Arn}/*"]
            Condition: {Bool: {"aws:SecureTransport": "false"}}
  Scratch:
    Type: AWS::S3::Bucket
  Kept:
    Type: AWS::S3::Bucket
    DeletionPolicy: Retain
  Publisher:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}]
  PublisherPolicy:
    Type: AWS::IAM::Policy
    Properties:
      PolicyName: POLICY
      Roles: [!Ref Publisher]
      PolicyDocument:
        Statement: [{Effect: Allow, Action: ACTION, Resource: !Sub "${Assets.Arn}/*"}]
Outputs:
  Arn: {Value: !GetAtt Assets.Arn}
  Regional: {Value: !GetAtt Assets.RegionalDomainName}
  Domain: {Value: !GetAtt Assets.DomainName}
  Website: {Value: !GetAtt Assets.WebsiteURL}
  Scratch: {Value: !Ref Scratch}
  Kept: {Value: !Ref Kept}
  PolicyRef: {Value: !Ref AssetsPolicy}
`

// bucketsV2 drops the encryption, public access block and tags, suspends versioning, keeps one lifecycle rule and
// renames the role's policy, changing what it allows.
var bucketsV2 = strings.NewReplacer(
	"      VersioningConfiguration: {Status: Enabled}\n", "      VersioningConfiguration: {Status: Suspended}\n",
	"      BucketEncryption:\n        ServerSideEncryptionConfiguration:\n          - ServerSideEncryptionByDefault: {SSEAlgorithm: \"aws:kms\", KMSMasterKeyID: alias/orders}\n            BucketKeyEnabled: true\n", "",
	"      PublicAccessBlockConfiguration: {BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true}\n", "",
	"          - {Id: CleanupOldVersions, Status: Enabled, NoncurrentVersionExpiration: {NoncurrentDays: 30}}\n", "",
	"          - {Id: Logs, Status: Enabled, Prefix: logs/, ExpirationInDays: \"7\"}\n", "",
	"      Tags: [{Key: team, Value: orders}]\n", "",
	"POLICY", "publish-v2", "ACTION", "s3:GetObject",
).Replace(bucketsV1)

// TestBucketResources: AWS::S3::Bucket makes a real bucket with the template's versioning, encryption, public access
// block, lifecycle rules and tags (a generated lowercase name when it names none), AWS::S3::BucketPolicy its policy
// and AWS::IAM::Policy an inline policy on a role, all read back through S3's and IAM's APIs; an update takes away
// what left the template; deleting the stack fails on a bucket that holds objects (as CloudFormation's does) and,
// once it is empty, deletes all but the retained bucket.
func TestBucketResources(t *testing.T) {
	w := newRealWorld(t)
	ctx := w.ctx()
	v1 := strings.NewReplacer("POLICY", "publish", "ACTION", "s3:PutObject").Replace(bucketsV1)
	res, err := w.deploy(v1)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"Arn": "arn:aws:s3:::orders-assets", "Regional": "orders-assets.s3.us-east-1.amazonaws.com",
		"Domain": "orders-assets.s3.amazonaws.com", "Website": "http://orders-assets.s3-website-us-east-1.amazonaws.com",
		"PolicyRef": "orders-assets",
	}
	for k, v := range want {
		if res.Outputs[k] != v {
			t.Errorf("output %s = %q, want %q", k, res.Outputs[k], v)
		}
	}
	generated := regexp.MustCompile(`^orders-scratch-[a-z0-9]{13}$`)
	if !generated.MatchString(res.Outputs["Scratch"]) {
		t.Errorf("generated bucket name %q, want orders-scratch-<13 lowercase characters>", res.Outputs["Scratch"])
	}
	bucket := aws.String("orders-assets")
	if v, err := w.s3.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: bucket}); err != nil || v.Status != s3types.BucketVersioningStatusEnabled {
		t.Errorf("versioning = %+v, %v; want Enabled", v, err)
	}
	if e, err := w.s3.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: bucket}); err != nil ||
		e.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm != s3types.ServerSideEncryptionAwsKms ||
		aws.ToString(e.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.KMSMasterKeyID) != "alias/orders" ||
		!aws.ToBool(e.ServerSideEncryptionConfiguration.Rules[0].BucketKeyEnabled) {
		t.Errorf("encryption: %v", err)
	}
	if p, err := w.s3.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: bucket}); err != nil ||
		!aws.ToBool(p.PublicAccessBlockConfiguration.RestrictPublicBuckets) || !aws.ToBool(p.PublicAccessBlockConfiguration.BlockPublicAcls) {
		t.Errorf("public access block: %+v, %v", p, err)
	}
	lc, err := w.s3.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: bucket})
	if err != nil || len(lc.Rules) != 3 {
		t.Fatalf("lifecycle: %+v, %v", lc, err)
	}
	if r := lc.Rules[0]; aws.ToString(r.ID) != "CleanupOldVersions" || aws.ToInt32(r.NoncurrentVersionExpiration.NoncurrentDays) != 30 {
		t.Errorf("rule 0 = %+v", r)
	}
	if r := lc.Rules[2]; aws.ToInt32(r.Expiration.Days) != 7 || r.Filter == nil || aws.ToString(r.Filter.Prefix) != "logs/" {
		t.Errorf("rule 2 = %+v", r)
	}
	if tags, err := w.s3.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: bucket}); err != nil || len(tags.TagSet) != 1 || aws.ToString(tags.TagSet[0].Value) != "orders" {
		t.Errorf("tags: %+v, %v", tags, err)
	}
	if p, err := w.s3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: bucket}); err != nil || !strings.Contains(aws.ToString(p.Policy), "AllowSSLRequestsOnly") {
		t.Errorf("bucket policy: %v", err)
	}
	role := w.stacks.stacks["orders"].Resources["Publisher"].PhysicalID
	if p, err := w.iam.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String("publish")}); err != nil ||
		!strings.Contains(unescape(aws.ToString(p.PolicyDocument)), "s3:PutObject") {
		t.Errorf("role policy: %+v, %v", p, err)
	}

	if _, err := w.deploy(bucketsV2); err != nil {
		t.Fatal(err)
	}
	if v, err := w.s3.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: bucket}); err != nil || v.Status != s3types.BucketVersioningStatusSuspended {
		t.Errorf("versioning after v2 = %+v, %v; want Suspended", v, err)
	}
	// A bucket without a configuration of its own encrypts with S3's default, SSE-S3, as on AWS.
	if e, err := w.s3.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: bucket}); err != nil ||
		e.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm != s3types.ServerSideEncryptionAes256 {
		t.Errorf("encryption after v2: %v, want S3's default", err)
	}
	for name, call := range map[string]func() error{
		"public access block": func() error {
			_, err := w.s3.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: bucket})
			return err
		},
		"tags": func() error {
			_, err := w.s3.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: bucket})
			return err
		},
	} {
		if err := call(); err == nil {
			t.Errorf("%s still set after it left the template", name)
		}
	}
	if lc, err := w.s3.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: bucket}); err != nil || len(lc.Rules) != 1 {
		t.Errorf("lifecycle after v2: %+v, %v", lc, err)
	}
	if _, err := w.iam.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String("publish")}); apiCode(err) != "NoSuchEntity" {
		t.Errorf("the renamed policy's old name: %v, want NoSuchEntity", err)
	}
	if p, err := w.iam.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String("publish-v2")}); err != nil ||
		!strings.Contains(unescape(aws.ToString(p.PolicyDocument)), "s3:GetObject") {
		t.Errorf("renamed role policy: %+v, %v", p, err)
	}

	if _, err := w.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String("a.txt"), Body: strings.NewReader("a")}); err != nil {
		t.Fatal(err)
	}
	kept := res.Outputs["Kept"]
	res, err = w.delete()
	if err == nil || res.Status != stack.StatusDeleteFailed || !strings.Contains(err.Error(), "The bucket you tried to delete is not empty") {
		t.Fatalf("deleting a stack whose bucket holds an object: %v (%s), want DELETE_FAILED on BucketNotEmpty", err, res.Status)
	}
	// Versioning was on: the object and its delete marker are both versions to remove.
	vs, err := w.s3.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: bucket})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs.Versions {
		if _, err := w.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: bucket, Key: v.Key, VersionId: v.VersionId}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.delete(); err != nil {
		t.Fatal(err)
	}
	for name, gone := range map[string]bool{"orders-assets": true, kept: false} {
		_, err := w.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(name)})
		if gone != (err != nil) {
			t.Errorf("bucket %s after the stack's deletion: %v (want gone: %v)", name, err, gone)
		}
	}
	if _, err := w.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(role)}); apiCode(err) != "NoSuchEntity" {
		t.Errorf("role after the stack's deletion: %v", err)
	}
}

// TestBucketRefusals: what Sluice cannot make is refused before anything is created, naming the resource.
func TestBucketRefusals(t *testing.T) {
	for _, tc := range []struct{ name, resource, want string }{
		{"acl", "{Type: AWS::S3::Bucket, Properties: {AccessControl: PublicRead}}", "AccessControl PublicRead is not supported"},
		{"unknown property", "{Type: AWS::S3::Bucket, Properties: {WebsiteConfiguration: {IndexDocument: index.html}}}", "WebsiteConfiguration: unsupported property"},
		{"rule without action", "{Type: AWS::S3::Bucket, Properties: {LifecycleConfiguration: {Rules: [{Status: Enabled, Prefix: x/}]}}}", "a rule needs at least one action"},
		{"rule status", "{Type: AWS::S3::Bucket, Properties: {LifecycleConfiguration: {Rules: [{Status: On, ExpirationInDays: 1}]}}}", `Status must be Enabled or Disabled, not "On"`},
		{"bad date", "{Type: AWS::S3::Bucket, Properties: {LifecycleConfiguration: {Rules: [{Status: Enabled, ExpirationDate: tomorrow}]}}}", `"tomorrow" is not an ISO 8601 date`},
		{"policy without bucket", "{Type: AWS::S3::BucketPolicy, Properties: {PolicyDocument: {}}}", "Bucket is required"},
		{"groups", "{Type: AWS::IAM::Policy, Properties: {PolicyName: p, Groups: [g], PolicyDocument: {}}}", "Sluice's IAM has no groups"},
		{"policy on nobody", "{Type: AWS::IAM::Policy, Properties: {PolicyName: p, PolicyDocument: {}}}", "at least one of Roles, Users or Groups is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newRealWorld(t)
			_, err := w.deploy("Resources:\n  It: " + tc.resource + "\n")
			if err == nil || !strings.Contains(err.Error(), "It (") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one naming It and saying %q", err, tc.want)
			}
			out, err := w.s3.ListBuckets(w.ctx(), &s3.ListBucketsInput{})
			if err != nil || len(out.Buckets) != 0 {
				t.Errorf("buckets after a refusal: %+v, %v", out, err)
			}
		})
	}
}

func TestBucketNameAndAttributes(t *testing.T) {
	for _, tc := range []struct{ stack, id, prefix string }{
		{"orders", "Assets", "orders-assets-"},
		{"CDKToolkit", "StagingBucket", "cdktoolkit-stagingbucket-"},
		{strings.Repeat("s", 60), "Assets", strings.Repeat("s", 49) + "-"},
		{strings.Repeat("s", 48) + "-x", "Assets", strings.Repeat("s", 48) + "-"},
	} {
		got := bucketName(tc.stack, tc.id)
		if !strings.HasPrefix(got, tc.prefix) || len(got) > 63 || len(got) != len(tc.prefix)+13 || strings.ToLower(got) != got || strings.Contains(got, "--") {
			t.Errorf("bucketName(%q, %q) = %q, want %s<13 characters>, at most 63 in all", tc.stack, tc.id, got, tc.prefix)
		}
	}
	for region, website := range map[string]string{
		"us-east-1":    "http://b.s3-website-us-east-1.amazonaws.com",
		"eu-west-1":    "http://b.s3-website-eu-west-1.amazonaws.com",
		"eu-central-1": "http://b.s3-website.eu-central-1.amazonaws.com",
	} {
		if got := bucketAttrs("b", region)["WebsiteURL"]; got != website {
			t.Errorf("WebsiteURL in %s = %q, want %q", region, got, website)
		}
	}
}

// unescape decodes a policy document as IAM returns it (URL-encoded, RFC 3986).
func unescape(doc string) string {
	s, err := url.QueryUnescape(doc)
	if err != nil {
		return doc
	}
	return s
}
