package e2e

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// SSM returns a Parameter Store client signed with root credentials (or creds).
func (s *server) SSM(creds ...aws.CredentialsProvider) *ssm.Client {
	var c aws.CredentialsProvider = credentials.NewStaticCredentialsProvider(s.AccessKeyID, s.SecretAccessKey, "")
	if len(creds) > 0 {
		c = creds[0]
	}
	return ssm.NewFromConfig(aws.Config{Region: region, BaseEndpoint: aws.String(s.URL), Credentials: c, RetryMaxAttempts: 1})
}

func putParam(t *testing.T, c *ssm.Client, in *ssm.PutParameterInput) *ssm.PutParameterOutput {
	t.Helper()
	out, err := c.PutParameter(t.Context(), in)
	if err != nil {
		t.Fatalf("PutParameter %s: %v", aws.ToString(in.Name), err)
	}
	return out
}

// TestSSMGoSDK: Parameter Store through aws-sdk-go-v2 and its paginators — versions, selectors, labels,
// hierarchies, SecureString values (the ciphertext without WithDecryption), history, tags, AWS's errors — and the
// values after a kill -9.
func TestSSMGoSDK(t *testing.T) {
	parallel(t)
	s := startServer(t)
	c, ctx := s.SSM(), t.Context()

	out := putParam(t, c, &ssm.PutParameterInput{Name: aws.String("/app/db/url"), Value: aws.String("postgres://a"), Type: ssmtypes.ParameterTypeString,
		Description: aws.String("the database"), Tags: []ssmtypes.Tag{{Key: aws.String("team"), Value: aws.String("core")}}})
	if out.Version != 1 || out.Tier != ssmtypes.ParameterTierStandard {
		t.Errorf("put: %+v", out)
	}
	putParam(t, c, &ssm.PutParameterInput{Name: aws.String("/app/db/url"), Value: aws.String("postgres://b"), Overwrite: aws.Bool(true)})
	putParam(t, c, &ssm.PutParameterInput{Name: aws.String("/app/db/password"), Value: aws.String("s3cret"), Type: ssmtypes.ParameterTypeSecureString})
	putParam(t, c, &ssm.PutParameterInput{Name: aws.String("/app/zones"), Value: aws.String("a,b,c"), Type: ssmtypes.ParameterTypeStringList})
	for i := range 12 {
		putParam(t, c, &ssm.PutParameterInput{Name: aws.String(fmt.Sprintf("/app/flags/f%02d", i)), Value: aws.String("on"), Type: ssmtypes.ParameterTypeString})
	}

	got, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/app/db/url")})
	if err != nil {
		t.Fatal(err)
	}
	if p := got.Parameter; aws.ToString(p.Value) != "postgres://b" || p.Version != 2 || aws.ToString(p.ARN) != "arn:aws:ssm:us-east-1:000000000000:parameter/app/db/url" ||
		p.LastModifiedDate == nil || time.Since(*p.LastModifiedDate) > time.Minute || aws.ToString(p.DataType) != "text" {
		t.Errorf("GetParameter: %+v", p)
	}
	if _, err := c.LabelParameterVersion(ctx, &ssm.LabelParameterVersionInput{Name: aws.String("/app/db/url"), ParameterVersion: aws.Int64(1),
		Labels: []string{"stable", "9lives"}}); err != nil {
		t.Fatal(err)
	}
	for sel, want := range map[string]string{":1": "postgres://a", ":stable": "postgres://a", ":2": "postgres://b"} {
		got, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/app/db/url" + sel)})
		if err != nil || aws.ToString(got.Parameter.Value) != want || aws.ToString(got.Parameter.Selector) != sel || aws.ToString(got.Parameter.Name) != "/app/db/url" {
			t.Errorf("selector %s: %+v %v", sel, got, err)
		}
	}

	sealed, _ := c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/app/db/password")})
	plain, _ := c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/app/db/password"), WithDecryption: aws.Bool(true)})
	if v := aws.ToString(sealed.Parameter.Value); v == "s3cret" || v == "" {
		t.Errorf("a SecureString answered in clear without WithDecryption: %q", v)
	}
	if aws.ToString(plain.Parameter.Value) != "s3cret" {
		t.Errorf("WithDecryption: %q", aws.ToString(plain.Parameter.Value))
	}
	raw, err := os.ReadFile(filepath.Join(s.DataDir, "sluice.db"))
	if err != nil || bytes.Contains(raw, []byte("s3cret")) {
		t.Errorf("the SecureString value is in the data file in clear (or unreadable: %v)", err)
	}

	many, err := c.GetParameters(ctx, &ssm.GetParametersInput{Names: []string{"/app/db/url", "/app/nope", "/app/db/url:7", "/app/db/password"}, WithDecryption: aws.Bool(true)})
	if err != nil || len(many.Parameters) != 2 || !slices.Equal(many.InvalidParameters, []string{"/app/nope", "/app/db/url:7"}) {
		t.Errorf("GetParameters: %+v %v", many, err)
	}

	// GetParametersByPath pages of at most 10, through the SDK's paginator.
	var names []string
	pages := ssm.NewGetParametersByPathPaginator(c, &ssm.GetParametersByPathInput{Path: aws.String("/app"), Recursive: aws.Bool(true)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Parameters) > 10 {
			t.Errorf("a page of %d", len(page.Parameters))
		}
		for _, p := range page.Parameters {
			names = append(names, aws.ToString(p.Name))
		}
	}
	if len(names) != 15 || names[0] != "/app/db/password" {
		t.Errorf("by path: %v", names)
	}
	oneLevel, err := c.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("/app/db")})
	if err != nil || len(oneLevel.Parameters) != 2 {
		t.Errorf("one level: %+v %v", oneLevel, err)
	}

	var described []ssmtypes.ParameterMetadata
	dpages := ssm.NewDescribeParametersPaginator(c, &ssm.DescribeParametersInput{MaxResults: aws.Int32(5),
		ParameterFilters: []ssmtypes.ParameterStringFilter{{Key: aws.String("Path"), Option: aws.String("Recursive"), Values: []string{"/app"}}}})
	for dpages.HasMorePages() {
		page, err := dpages.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		described = append(described, page.Parameters...)
	}
	if len(described) != 15 || aws.ToString(described[0].KeyId) != "alias/aws/ssm" || aws.ToString(described[0].LastModifiedUser) != "arn:aws:iam::000000000000:root" {
		t.Errorf("described %d, first %+v", len(described), described[0])
	}

	hist, err := c.GetParameterHistory(ctx, &ssm.GetParameterHistoryInput{Name: aws.String("/app/db/url")})
	if err != nil || len(hist.Parameters) != 2 || !slices.Equal(hist.Parameters[0].Labels, []string{"stable"}) || aws.ToString(hist.Parameters[1].Description) != "the database" {
		t.Errorf("history: %+v %v", hist, err)
	}
	tags, err := c.ListTagsForResource(ctx, &ssm.ListTagsForResourceInput{ResourceType: ssmtypes.ResourceTypeForTaggingParameter, ResourceId: aws.String("/app/db/url")})
	if err != nil || len(tags.TagList) != 1 || aws.ToString(tags.TagList[0].Value) != "core" {
		t.Errorf("tags: %+v %v", tags, err)
	}

	// AWS's errors.
	_, err = c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/app/missing")})
	checkAPIError(t, "missing", err, wantErr{Status: 400, Code: "ParameterNotFound", Message: ""})
	var notFound *ssmtypes.ParameterNotFound
	if !errors.As(err, &notFound) {
		t.Errorf("the SDK did not type ParameterNotFound: %T", err)
	}
	_, err = c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/app/db/url"), Value: aws.String("x"), Type: ssmtypes.ParameterTypeString})
	checkAPIError(t, "exists", err, wantErr{Status: 400, Code: "ParameterAlreadyExists",
		Message: "The parameter already exists. To overwrite this value, set the overwrite option in the request to true."})
	_, err = c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/app/db/url"), Value: aws.String("x"), Overwrite: aws.Bool(true),
		Tags: []ssmtypes.Tag{{Key: aws.String("a"), Value: aws.String("b")}}})
	checkAPIError(t, "tags with overwrite", err, wantErr{Status: 400, Code: "ValidationException", Prefix: "Invalid request: tags and overwrite can't be used together."})
	_, err = c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/aws/mine"), Value: aws.String("x"), Type: ssmtypes.ParameterTypeString})
	checkAPIError(t, "reserved prefix", err, wantErr{Status: 400, Code: "ValidationException", Prefix: `Parameter name: can't be prefixed with "ssm" (case-insensitive).`})
	_, err = c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/" + strings.Repeat("l/", 15) + "x"), Value: aws.String("x"), Type: ssmtypes.ParameterTypeString})
	checkAPIError(t, "16 levels", err, wantErr{Status: 400, Code: "HierarchyLevelLimitExceededException", Prefix: "A hierarchy can have a maximum of 15 levels."})
	_, err = c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/app/big"), Value: aws.String(strings.Repeat("x", 4097)), Type: ssmtypes.ParameterTypeString})
	checkAPIError(t, "4 KB", err, wantErr{Status: 400, Code: "ValidationException", Prefix: "Standard tier parameters support a maximum parameter value of 4096 characters."})
	if out := putParam(t, c, &ssm.PutParameterInput{Name: aws.String("/app/big"), Value: aws.String(strings.Repeat("x", 4097)), Type: ssmtypes.ParameterTypeString,
		Tier: ssmtypes.ParameterTierIntelligentTiering}); out.Tier != ssmtypes.ParameterTierAdvanced {
		t.Errorf("intelligent tiering chose %s", out.Tier)
	}
	_, err = c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/app/db/url"), Value: aws.String("x"), Overwrite: aws.Bool(true), Type: ssmtypes.ParameterTypeSecureString})
	checkAPIError(t, "type change", err, wantErr{Status: 400, Code: "HierarchyTypeMismatchException", Prefix: "Parameter Store doesn't support changing a parameter type"})
	_, err = c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/app/pin"), Value: aws.String("12a"), Type: ssmtypes.ParameterTypeString, AllowedPattern: aws.String(`^\d+$`)})
	checkAPIError(t, "pattern", err, wantErr{Status: 400, Code: "ParameterPatternMismatchException", Message: `Parameter value, cannot be validated against allowedPattern: ^\d+$`})
	_, err = c.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("app"), MaxResults: aws.Int32(11)})
	checkAPIError(t, "model", err, wantErr{Status: 400, Code: "ValidationException",
		Message: "1 validation error detected: Value '11' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 10"})
	_, err = c.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("app")})
	checkAPIError(t, "relative path", err, wantErr{Status: 400, Code: "ValidationException", Prefix: "The parameter doesn't meet the parameter name requirements."})
	_, err = c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/app/db/url:9")})
	checkAPIError(t, "version", err, wantErr{Status: 400, Code: "ParameterVersionNotFound",
		Message: "Systems Manager could not find version 9 of /app/db/url. Verify the version and try again."})

	deleted, err := c.DeleteParameters(ctx, &ssm.DeleteParametersInput{Names: []string{"/app/flags/f00", "/app/flags/none"}})
	if err != nil || !slices.Equal(deleted.DeletedParameters, []string{"/app/flags/f00"}) || !slices.Equal(deleted.InvalidParameters, []string{"/app/flags/none"}) {
		t.Errorf("DeleteParameters: %+v %v", deleted, err)
	}

	// kill -9 loses nothing, and the SecureString still decrypts with the key the data dir keeps.
	s.Kill(t)
	s.Restart(t)
	c = s.SSM()
	plain, err = c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/app/db/password"), WithDecryption: aws.Bool(true)})
	if err != nil || aws.ToString(plain.Parameter.Value) != "s3cret" {
		t.Errorf("after kill -9: %+v %v", plain, err)
	}
	if fi, err := os.Stat(filepath.Join(s.DataDir, "parameter-store.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the key file: %v %v", fi, err)
	}
}

// TestSSMAuthorization: IAM decides every call on the parameter's ARN (GetParametersByPath on the path's), a
// refusal is AWS's AccessDeniedException, and a tampered request never reaches the service.
func TestSSMAuthorization(t *testing.T) {
	parallel(t)
	s := startServer(t)
	ctx, root := t.Context(), s.SSM()
	for _, n := range []string{"/app/a", "/app/b", "/ops/secret"} {
		putParam(t, root, &ssm.PutParameterInput{Name: aws.String(n), Value: aws.String("v"), Type: ssmtypes.ParameterTypeString})
	}
	admin := s.IAM()
	if _, err := admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("reader")}); err != nil {
		t.Fatal(err)
	}
	policy := `{"Version":"2012-10-17","Statement":[
	 {"Effect":"Allow","Action":["ssm:GetParameter","ssm:GetParameters"],"Resource":"arn:aws:ssm:us-east-1:000000000000:parameter/app/*"},
	 {"Effect":"Allow","Action":"ssm:GetParametersByPath","Resource":"arn:aws:ssm:us-east-1:000000000000:parameter/app"}]}`
	if _, err := admin.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("reader"), PolicyName: aws.String("app"), PolicyDocument: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}
	key, err := admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("reader")})
	if err != nil {
		t.Fatal(err)
	}
	reader := s.SSM(credentials.NewStaticCredentialsProvider(aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey), ""))

	if _, err := reader.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/app/a:1")}); err != nil {
		t.Errorf("allowed read: %v", err)
	}
	_, err = reader.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/ops/secret")})
	checkAPIError(t, "read outside the policy", err, wantErr{Status: 400, Code: "AccessDeniedException",
		Message: "User: arn:aws:iam::000000000000:user/reader is not authorized to perform: ssm:GetParameter on resource: arn:aws:ssm:us-east-1:000000000000:parameter/ops/secret because no identity-based policy allows the ssm:GetParameter action"})
	_, err = reader.GetParameters(ctx, &ssm.GetParametersInput{Names: []string{"/app/a", "/ops/secret"}})
	checkAPIError(t, "one of several outside the policy", err, wantErr{Status: 400, Code: "AccessDeniedException", Contains: "parameter/ops/secret"})
	if out, err := reader.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("/app")}); err != nil || len(out.Parameters) != 2 {
		t.Errorf("allowed path: %+v %v", out, err)
	}
	_, err = reader.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("/ops")})
	checkAPIError(t, "path outside the policy", err, wantErr{Status: 400, Code: "AccessDeniedException", Contains: "ssm:GetParametersByPath on resource: arn:aws:ssm:us-east-1:000000000000:parameter/ops "})
	_, err = reader.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/app/a"), Value: aws.String("x"), Overwrite: aws.Bool(true)})
	checkAPIError(t, "write", err, wantErr{Status: 400, Code: "AccessDeniedException", Contains: "ssm:PutParameter"})
	_, err = reader.DescribeParameters(ctx, &ssm.DescribeParametersInput{})
	checkAPIError(t, "describe", err, wantErr{Status: 400, Code: "AccessDeniedException", Contains: "ssm:DescribeParameters on resource: *"})

	// A body changed after signing.
	body := []byte(`{"Name":"/ops/secret"}`)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AmazonSSM.GetParameter")
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(ctx, s.creds(), req, fmt.Sprintf("%x", sum), "ssm", region, time.Now()); err != nil {
		t.Fatal(err)
	}
	tampered := []byte(`{"Name":"/app/a"}`)
	req.Body, req.ContentLength = readCloser(tampered), int64(len(tampered))
	checkRawError(t, "tampered", doRaw(t, req), wantErr{Status: 403, Code: "InvalidSignatureException"})

	// Hostile sizes: a value far past 8 KB, a body past what any request needs.
	_, err = root.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/app/huge"), Value: aws.String(strings.Repeat("x", 600<<10)),
		Type: ssmtypes.ParameterTypeString, Tier: ssmtypes.ParameterTierAdvanced})
	checkAPIError(t, "600 KB value", err, wantErr{Status: 400, Code: "ValidationException", Prefix: "Advanced tier parameters support a maximum parameter value of 8192 characters."})
	_, err = root.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/app/huge"), Value: aws.String(strings.Repeat("x", 2<<20)), Type: ssmtypes.ParameterTypeString})
	checkAPIError(t, "2 MB body", err, wantErr{Status: 400, Code: "ValidationException", Message: "Request must be smaller than 1048576 bytes for the PutParameter operation"})
	if _, err := root.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/app/huge")}); !errors.As(err, new(*ssmtypes.ParameterNotFound)) {
		t.Errorf("a refused value was stored: %v", err)
	}
}

// TestSSMAWSCLI: `aws ssm …` as people type it, with AWS CLI v1 (and v2 when installed): the CLI's own paginating
// of get-parameters-by-path and describe-parameters, --with-decryption, and errors as the CLI prints them.
func TestSSMAWSCLI(t *testing.T) {
	parallelLong(t)
	s := startServer(t)
	for _, v2 := range []bool{false, true} {
		t.Run(cliName(v2), func(t *testing.T) {
			if v2 {
				requireCLIv2(t)
			} else {
				cliV1(t)
			}
			prefix := "/cli" + cliName(v2)
			cli := func(args ...string) string {
				t.Helper()
				stdout, stderr, code := awsCLI(t, s, v2, args...)
				if code != 0 {
					t.Fatalf("aws %s: exit %d\n%s", strings.Join(args, " "), code, stderr)
				}
				return stdout
			}
			var put struct {
				Version int64
				Tier    string
			}
			mustJSON(t, "put-parameter", cli("ssm", "put-parameter", "--name", prefix+"/db/password", "--value", "hunter2", "--type", "SecureString"), &put)
			if put.Version != 1 || put.Tier != "Standard" {
				t.Errorf("put-parameter: %+v", put)
			}
			// Enough for the CLI to page through (SSM answers 10 by path at most), put faster than 12 CLI runs.
			for i := range 12 {
				putParam(t, s.SSM(), &ssm.PutParameterInput{Name: aws.String(fmt.Sprintf("%s/app/p%02d", prefix, i)), Value: aws.String("v"), Type: ssmtypes.ParameterTypeString})
			}
			if got := strings.TrimSpace(cli("ssm", "get-parameter", "--name", prefix+"/db/password", "--with-decryption", "--query", "Parameter.Value", "--output", "text")); got != "hunter2" {
				t.Errorf("--with-decryption: %q", got)
			}
			var byPath struct{ Parameters []struct{ Name string } }
			mustJSON(t, "get-parameters-by-path", cli("ssm", "get-parameters-by-path", "--path", prefix, "--recursive"), &byPath)
			if len(byPath.Parameters) != 13 {
				t.Errorf("get-parameters-by-path gathered %d parameters, want 13", len(byPath.Parameters))
			}
			var described struct{ Parameters []struct{ Name string } }
			mustJSON(t, "describe-parameters", cli("ssm", "describe-parameters", "--parameter-filters", "Key=Name,Option=BeginsWith,Values="+prefix+"/app"), &described)
			if len(described.Parameters) != 12 {
				t.Errorf("describe-parameters gathered %d parameters, want 12", len(described.Parameters))
			}
			cli("ssm", "add-tags-to-resource", "--resource-type", "Parameter", "--resource-id", prefix+"/app/p00", "--tags", "Key=env,Value=prod")
			if got := strings.TrimSpace(cli("ssm", "list-tags-for-resource", "--resource-type", "Parameter", "--resource-id", prefix+"/app/p00", "--query", "TagList[0].Value", "--output", "text")); got != "prod" {
				t.Errorf("list-tags-for-resource: %q", got)
			}
			_, stderr, code := awsCLI(t, s, v2, "ssm", "get-parameter", "--name", prefix+"/nope")
			checkCLIError(t, "missing", stderr, code, wantErr{Code: "ParameterNotFound"}, false)
			_, stderr, code = awsCLI(t, s, v2, "ssm", "put-parameter", "--name", prefix+"/db/password", "--value", "x", "--type", "SecureString")
			checkCLIError(t, "exists", stderr, code, wantErr{Code: "ParameterAlreadyExists",
				Message: "The parameter already exists. To overwrite this value, set the overwrite option in the request to true."}, false)
			_, stderr, code = awsCLI(t, s, v2, "ssm", "put-parameter", "--name", "ssm-param", "--value", "x", "--type", "String")
			checkCLIError(t, "reserved", stderr, code, wantErr{Code: "ValidationException", Prefix: `Parameter name: can't be prefixed with "ssm"`}, false)
			cli("ssm", "delete-parameter", "--name", prefix+"/db/password")
		})
	}
}

// TestSSMDeploy: `sluice deploy` of a template that reads an SSM parameter (AWS::SSM::Parameter::Value<String>)
// and creates one (AWS::SSM::Parameter): the value is read at deploy time, recorded as the stack's resolved value,
// followed by the next deploy when it changes, and the parameter the stack made goes with the stack.
func TestSSMDeploy(t *testing.T) {
	parallel(t)
	s := startServer(t)
	c, ctx := s.SSM(), t.Context()
	putParam(t, c, &ssm.PutParameterInput{Name: aws.String("/shared/db-host"), Value: aws.String("db1.internal"), Type: ssmtypes.ParameterTypeString})
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "template.yaml"), []byte(`AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  DbHost:
    Type: AWS::SSM::Parameter::Value<String>
    Default: /shared/db-host
Resources:
  Endpoint:
    Type: AWS::SSM::Parameter
    Properties:
      Name: /orders/db-url
      Type: String
      Value: !Sub "postgres://${DbHost}:5432/orders"
      Tags:
        app: orders
Outputs:
  Name:
    Value: !Ref Endpoint
  Url:
    Value: !GetAtt Endpoint.Value
`))
	r, stderr, code := deployStack(t, s.Env(), dir, "-t", "template.yaml", "--stack-name", "ssm-app")
	if code != 0 || r.Status != "CREATE_COMPLETE" {
		t.Fatalf("deploy: exit %d %s %s\n%s", code, r.Status, r.Reason, stderr)
	}
	if r.Outputs["Name"] != "/orders/db-url" || r.Outputs["Url"] != "postgres://db1.internal:5432/orders" {
		t.Errorf("outputs %v", r.Outputs)
	}
	got, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/orders/db-url")})
	if err != nil || aws.ToString(got.Parameter.Value) != "postgres://db1.internal:5432/orders" {
		t.Fatalf("the parameter the stack made: %+v %v", got, err)
	}
	stdout, _, _ := sluice(t, s.Env(), "stack", "status", "ssm-app")
	if !strings.Contains(stdout, "DbHost = db1.internal") {
		t.Errorf("stack status does not show the resolved value:\n%s", stdout)
	}

	putParam(t, c, &ssm.PutParameterInput{Name: aws.String("/shared/db-host"), Value: aws.String("db2.internal"), Overwrite: aws.Bool(true)})
	r, stderr, code = deployStack(t, s.Env(), dir, "-t", "template.yaml", "--stack-name", "ssm-app")
	if code != 0 || r.actions()["update"] != 1 {
		t.Fatalf("second deploy: exit %d %+v\n%s", code, r.Changes, stderr)
	}
	got, _ = c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/orders/db-url")})
	if aws.ToString(got.Parameter.Value) != "postgres://db2.internal:5432/orders" || got.Parameter.Version != 2 {
		t.Errorf("after the SSM value changed: %+v", got.Parameter)
	}

	// CDK's BootstrapVersion (read only by the Rules): as on AWS, a deploy before `cdk bootstrap` fails naming it; after
	// it the parameter is read like the others.
	writeFile(t, filepath.Join(dir, "cdk.yaml"), []byte(`Parameters:
  BootstrapVersion:
    Type: AWS::SSM::Parameter::Value<String>
    Default: /cdk-bootstrap/hnb659fds/version
    Description: Version of the CDK Bootstrap resources in this environment, automatically retrieved from SSM Parameter Store.
Rules:
  CheckBootstrapVersion:
    Assertions:
      - Assert: !Not [!Contains [["1", "2", "3", "4", "5"], !Ref BootstrapVersion]]
        AssertDescription: CDK bootstrap stack version 6 required.
Resources:
  Flag:
    Type: AWS::SSM::Parameter
    Properties: {Type: String, Value: "on"}
`))
	_, stderr, code = deployStack(t, s.Env(), dir, "-t", "cdk.yaml", "--stack-name", "cdk-like", "--dry-run")
	if code == 0 || !strings.Contains(stderr, "Unable to fetch parameters [/cdk-bootstrap/hnb659fds/version] from parameter store for this account.") {
		t.Errorf("before bootstrap: exit %d, want a failure naming the missing parameter\n%s", code, stderr)
	}
	putParam(t, c, &ssm.PutParameterInput{Name: aws.String("/cdk-bootstrap/hnb659fds/version"), Value: aws.String("21"), Type: ssmtypes.ParameterTypeString})
	r, stderr, code = deployStack(t, s.Env(), dir, "-t", "cdk.yaml", "--stack-name", "cdk-like")
	if code != 0 || r.Resolved["BootstrapVersion"] != "21" {
		t.Errorf("after bootstrap: exit %d resolved %v notes %v\n%s", code, r.Resolved, r.Notes, stderr)
	}

	if _, stderr, code := sluice(t, s.Env(), "stack", "delete", "ssm-app"); code != 0 {
		t.Fatalf("stack delete: exit %d\n%s", code, stderr)
	}
	if _, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/orders/db-url")}); !errors.As(err, new(*ssmtypes.ParameterNotFound)) {
		t.Errorf("the stack's parameter outlived it: %v", err)
	}
}

// TestSSMCluster: in a cluster every node serves Parameter Store from the one etcd store — a SecureString sealed by
// one node decrypts on another (the key derives from the cluster's secret), and overwrites racing on two nodes
// make distinct versions.
func TestSSMCluster(t *testing.T) {
	parallel(t)
	nodes := startCluster(t, 2)
	a, b, ctx := nodes[0].SSM(), nodes[1].SSM(), t.Context()
	putParam(t, a, &ssm.PutParameterInput{Name: aws.String("/c/secret"), Value: aws.String("shared"), Type: ssmtypes.ParameterTypeSecureString})
	got, err := b.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/c/secret"), WithDecryption: aws.Bool(true)})
	if err != nil || aws.ToString(got.Parameter.Value) != "shared" {
		t.Fatalf("sealed on one node, read on the other: %+v %v", got, err)
	}
	putParam(t, a, &ssm.PutParameterInput{Name: aws.String("/c/counter"), Value: aws.String("0"), Type: ssmtypes.ParameterTypeString})
	versions := make(chan int64, 20)
	done := make(chan struct{})
	for i, c := range []*ssm.Client{a, b} {
		go func() {
			defer func() { done <- struct{}{} }()
			for j := range 10 {
				out, err := c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/c/counter"), Value: aws.String(fmt.Sprint(i*10 + j)), Overwrite: aws.Bool(true)})
				if err != nil {
					t.Errorf("node %d: %v", i, err)
					return
				}
				versions <- out.Version
			}
		}()
	}
	<-done
	<-done
	close(versions)
	var got2 []int64
	for v := range versions {
		got2 = append(got2, v)
	}
	slices.Sort(got2)
	for i, v := range got2 {
		if v != int64(i+2) {
			t.Fatalf("versions made by two nodes: %v", got2)
		}
	}
	if len(got2) != 20 {
		t.Fatalf("%d versions", len(got2))
	}
	if _, err := os.Stat(filepath.Join(nodes[0].DataDir, "parameter-store.key")); err == nil {
		t.Error("a cluster node keeps a key of its own in its data dir")
	}
}
