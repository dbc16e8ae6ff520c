package e2e

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestS3LambdaCode: a package uploaded with `aws s3 cp` becomes a function that runs (CreateFunction with
// Code.S3Bucket/S3Key), UpdateFunctionCode takes an S3ObjectVersion, what S3 answers is reported in Lambda's words,
// and the caller must be allowed to read the object (by its identity policy or the bucket policy).
func TestS3LambdaCode(t *testing.T) {
	parallel(t)
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed")
	}
	srv := startServer(t)
	ctx := t.Context()
	dir := t.TempDir()
	pkg := func(greeting string) []byte {
		return makeZip(t, zipFile{Name: "index.mjs", Body: "export const handler = async (event) => ({ greeting: '" + greeting + "', name: event.name });\n"})
	}
	first, second := pkg("hello"), pkg("bonjour")
	writeFile(t, filepath.Join(dir, "fn.zip"), first)
	s3cli(t, srv, false, dir, "s3", "mb", "s3://code")
	s3cli(t, srv, false, dir, "s3api", "put-bucket-versioning", "--bucket", "code", "--versioning-configuration", "Status=Enabled")
	s3cli(t, srv, false, dir, "s3", "cp", "fn.zip", "s3://code/builds/fn.zip")

	c := srv.Lambda()
	create := func(c *lambda.Client, name string, code *types.FunctionCode) (*lambda.CreateFunctionOutput, error) {
		return c.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String(name), Runtime: types.RuntimeNodejs20x,
			Handler: aws.String("index.handler"), Role: aws.String(roleARN), Code: code})
	}
	out, err := create(c, "from-s3", &types.FunctionCode{S3Bucket: aws.String("code"), S3Key: aws.String("builds/fn.zip")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.CodeSha256) != codeSha256(first) {
		t.Errorf("CodeSha256 %s, want the uploaded package's %s", aws.ToString(out.CodeSha256), codeSha256(first))
	}
	waitActive(t, c, "from-s3")
	inv, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("from-s3"), Payload: []byte(`{"name":"s3"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if inv.FunctionError != nil || string(inv.Payload) != `{"greeting":"hello","name":"s3"}` {
		t.Fatalf("invoke: %s %s", aws.ToString(inv.FunctionError), inv.Payload)
	}

	// A second version of the object; the update names the first one by its version ID, then the latest.
	sc := srv.S3(false)
	versions, err := sc.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("code"), Prefix: aws.String("builds/fn.zip")})
	if err != nil || len(versions.Versions) != 1 {
		t.Fatalf("versions: %v %v", versions, err)
	}
	firstVersion := versions.Versions[0].VersionId
	if _, err := sc.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("code"), Key: aws.String("builds/fn.zip"), Body: bytes.NewReader(second)}); err != nil {
		t.Fatal(err)
	}
	up, err := c.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String("from-s3"), S3Bucket: aws.String("code"),
		S3Key: aws.String("builds/fn.zip"), S3ObjectVersion: firstVersion})
	if err != nil || aws.ToString(up.CodeSha256) != codeSha256(first) {
		t.Fatalf("update to the first version: %v, %v", up, err)
	}
	waitUpdated(t, c, "from-s3")
	up, err = c.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String("from-s3"), S3Bucket: aws.String("code"), S3Key: aws.String("builds/fn.zip")})
	if err != nil || aws.ToString(up.CodeSha256) != codeSha256(second) {
		t.Fatalf("update to the latest: %v, %v", up, err)
	}
	waitUpdated(t, c, "from-s3")
	inv, err = c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("from-s3"), Payload: []byte(`{"name":"s3"}`)})
	if err != nil || string(inv.Payload) != `{"greeting":"bonjour","name":"s3"}` {
		t.Fatalf("invoke after the update: %s %v", inv.Payload, err)
	}

	// What S3 answers, in Lambda's words.
	_, err = create(c, "missing-key", &types.FunctionCode{S3Bucket: aws.String("code"), S3Key: aws.String("nope.zip")})
	checkAPIError(t, "a missing key", err, wantErr{Status: 400, Code: "InvalidParameterValueException",
		Message: "Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: The specified key does not exist."})
	_, err = create(c, "missing-bucket", &types.FunctionCode{S3Bucket: aws.String("no-such-bucket"), S3Key: aws.String("fn.zip")})
	checkAPIError(t, "a missing bucket", err, wantErr{Status: 400, Code: "InvalidParameterValueException",
		Message: "Error occurred while GetObject. S3 Error Code: NoSuchBucket. S3 Error Message: The specified bucket does not exist"})
	_, err = create(c, "missing-version", &types.FunctionCode{S3Bucket: aws.String("code"), S3Key: aws.String("builds/fn.zip"), S3ObjectVersion: aws.String(strings.Repeat("0", 32))})
	checkAPIError(t, "a missing version", err, wantErr{Status: 400, Code: "InvalidParameterValueException",
		Message: "Error occurred while GetObject. S3 Error Code: NoSuchVersion. S3 Error Message: The specified version does not exist."})
	if _, err := sc.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("code"), Key: aws.String("not-a-zip"), Body: strings.NewReader("plain text")}); err != nil {
		t.Fatal(err)
	}
	_, err = create(c, "not-a-zip", &types.FunctionCode{S3Bucket: aws.String("code"), S3Key: aws.String("not-a-zip")})
	checkAPIError(t, "an object that is not a zip", err, wantErr{Status: 400, Code: "InvalidParameterValueException", Prefix: "Could not unzip uploaded file."})

	// A user allowed Lambda but not S3 cannot make a function from the object, until the bucket policy lets them.
	ic := srv.IAM()
	if _, err := ic.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("deployer")}); err != nil {
		t.Fatal(err)
	}
	if _, err := ic.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("deployer"), PolicyName: aws.String("lambda"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["lambda:*","iam:PassRole"],"Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	key, err := ic.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("deployer")})
	if err != nil {
		t.Fatal(err)
	}
	deployer := lambda.NewFromConfig(aws.Config{Region: region, BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider(aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey), ""),
		Retryer:     func() aws.Retryer { return aws.NopRetryer{} }})
	_, err = create(deployer, "by-deployer", &types.FunctionCode{S3Bucket: aws.String("code"), S3Key: aws.String("builds/fn.zip")})
	checkAPIError(t, "a caller without s3:GetObject", err, wantErr{Status: 403, Code: "AccessDeniedException",
		Message: "Your access has been denied by S3, please make sure your request credentials have permission to GetObject for code/builds/fn.zip. S3 Error Code: AccessDenied. S3 Error Message: Access Denied"})
	if _, err := sc.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("code"), Policy: aws.String(
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:user/deployer"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::code/builds/*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := create(deployer, "by-deployer", &types.FunctionCode{S3Bucket: aws.String("code"), S3Key: aws.String("builds/fn.zip")}); err != nil {
		t.Fatalf("CreateFunction once the bucket policy allows the deployer: %v", err)
	}
	// An explicit deny in the bucket policy wins over the root-less caller's allow.
	if _, err := sc.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("code"), Policy: aws.String(
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:user/deployer"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::code/*"},` +
			`{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::code/builds/*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	_, err = deployer.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String("by-deployer"), S3Bucket: aws.String("code"), S3Key: aws.String("builds/fn.zip")})
	checkAPIError(t, "a caller the bucket policy denies", err, wantErr{Status: 403, Code: "AccessDeniedException", Prefix: "Your access has been denied by S3"})
}
