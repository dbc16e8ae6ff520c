package e2e

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/sluice-dev/sluice/internal/oidc/oidctest"
	"github.com/sluice-dev/sluice/internal/sdkhttp"
)

const (
	deployRole = "arn:aws:iam::000000000000:role/gha-deploy"
	repo       = "octo-org/octo-repo"
)

// deployPolicy is least privilege for deploying the orders function: Lambda on orders* only, CodeDeploy and
// CloudWatch for its deployments and alarms, nothing in IAM.
const deployPolicy = `{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Action":["lambda:*"],"Resource":["arn:aws:lambda:*:*:function:orders","arn:aws:lambda:*:*:function:orders:*"]},
 {"Effect":"Allow","Action":["lambda:ListFunctions","lambda:GetAccountSettings"],"Resource":"*"},
 {"Effect":"Allow","Action":["codedeploy:*","cloudwatch:*"],"Resource":"*"},
 {"Effect":"Deny","Action":["lambda:DeleteFunction"],"Resource":"*"}]}`

// keyless sets up what the seed's §5 asks for: a test OIDC issuer (GitHub-shaped tokens), an IAM OIDC provider
// for it with audience sts.amazonaws.com, and a deploy role trusting main of one repository only.
func keyless(t *testing.T, s *server) *oidctest.Issuer {
	t.Helper()
	issuer, err := oidctest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(issuer.Close)
	trustIssuer(t, s, issuer.URL)
	return issuer
}

// trustIssuer registers issuerURL as an OIDC provider with audience sts.amazonaws.com and creates the deploy role,
// trusting main of one repository only.
func trustIssuer(t *testing.T, s *server, issuerURL string) {
	t.Helper()
	ctx := context.Background()
	c := s.IAM()
	p, err := c.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String(issuerURL),
		ClientIDList: []string{"sts.amazonaws.com"}})
	if err != nil {
		t.Fatalf("create provider: %v", err)
	}
	host := strings.TrimPrefix(issuerURL, "http://")
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
	 "Principal":{"Federated":"` + aws.ToString(p.OpenIDConnectProviderArn) + `"},
	 "Action":"sts:AssumeRoleWithWebIdentity",
	 "Condition":{"StringEquals":{"` + host + `:aud":"sts.amazonaws.com"},
	              "StringLike":{"` + host + `:sub":"repo:` + repo + `:ref:refs/heads/main"}}}]}`
	if _, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("gha-deploy"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		t.Fatalf("create role: %v", err)
	}
	if _, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("gha-deploy"), PolicyName: aws.String("deploy"),
		PolicyDocument: aws.String(deployPolicy)}); err != nil {
		t.Fatalf("put role policy: %v", err)
	}
}

// TestDevOIDCKeylessLocally: `sluice dev-oidc` lets the keyless flow run on one machine — the AWS CLI exchanges the
// token it keeps for the deploy role's credentials through Sluice's STS.
func TestDevOIDCKeylessLocally(t *testing.T) {
	parallel(t)
	s := startServer(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	tokenPath := filepath.Join(t.TempDir(), "token")
	issuer := exec.Command(sluiceBin, "dev-oidc", "--repo", repo, "--listen", addr, "--token-file", tokenPath)
	var out bytes.Buffer
	issuer.Stdout, issuer.Stderr = &out, &out
	if err := issuer.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { issuer.Process.Signal(os.Interrupt); issuer.Wait() })
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) { // bound: a failing start
		if _, err := os.Stat(tokenPath); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sluice dev-oidc wrote no token:\n%s", out.String())
		}
	}
	trustIssuer(t, s, "http://"+addr)
	stdout, stderr, code := run(t, webIdentityEnv(s, tokenPath), "", cliV1(t), "sts", "get-caller-identity", "--output", "json")
	if code != 0 || !strings.Contains(stdout, "assumed-role/gha-deploy/") {
		t.Fatalf("aws sts get-caller-identity with the dev issuer's token: exit %d\n%s%s", code, stdout, stderr)
	}
}

// tokenFile writes a token where AWS_WEB_IDENTITY_TOKEN_FILE will point.
func tokenFile(t *testing.T, token string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(path, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// webIdentityEnv is the environment of a keyless CI job: no keys, a role and a token file.
func webIdentityEnv(s *server, tokenPath string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	// A fresh HOME: the AWS CLI caches assumed-role credentials under ~/.aws/cli/cache, keyed by role and
	// session name, and would reuse those of another test's server.
	env = append(env, "HOME="+filepath.Dir(tokenPath))
	return append(env, "AWS_ROLE_ARN="+deployRole, "AWS_WEB_IDENTITY_TOKEN_FILE="+tokenPath, "AWS_ROLE_SESSION_NAME=gha-run-1",
		// aws-sdk-go-v2 resolves web identity credentials before AWS_ENDPOINT_URL; the service-specific variable
		// reaches its STS client (botocore needs only the first).
		"AWS_ENDPOINT_URL="+s.URL, "AWS_ENDPOINT_URL_STS="+s.URL, "AWS_REGION="+region, "AWS_DEFAULT_REGION="+region, "AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null")
}

func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// TestKeylessSDKs: the Go SDK, boto3 and the AWS CLI obtain credentials from a web identity token file through
// Sluice's STS, with no stored keys, and the session can do exactly what the role's policy allows. Not parallel:
// the Go SDK's subtest sets the process's AWS_* environment, which the SDK's default chain reads.
func TestKeylessSDKs(t *testing.T) {
	s := startServer(t)
	issuer := keyless(t, s)
	path := tokenFile(t, issuer.Sign(issuer.GitHubClaims(repo, "refs/heads/main")))
	env := webIdentityEnv(s, path)

	t.Run("aws-sdk-go-v2", func(t *testing.T) {
		for _, kv := range env {
			k, v, _ := strings.Cut(kv, "=")
			if strings.HasPrefix(k, "AWS_") {
				t.Setenv(k, v)
			}
		}
		for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"} {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
		ctx := context.Background()
		cfg, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			t.Fatal(err)
		}
		id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatalf("GetCallerIdentity: %v", err)
		}
		if got := aws.ToString(id.Arn); got != "arn:aws:sts::000000000000:assumed-role/gha-deploy/gha-run-1" {
			t.Fatalf("caller %s", got)
		}
		creds, _ := cfg.Credentials.Retrieve(ctx)
		if !strings.HasPrefix(creds.AccessKeyID, "ASIA") || creds.SessionToken == "" || !creds.CanExpire {
			t.Fatalf("credentials %s session=%t", creds.AccessKeyID, creds.SessionToken != "")
		}
		lc := lambda.NewFromConfig(cfg)
		_, err = lc.CreateFunction(ctx, echoInput(t, "orders"))
		if err != nil {
			t.Fatalf("create orders as the deploy role: %v", err)
		}
		waitActive(t, lc, "orders")
		_, err = lc.CreateFunction(ctx, echoInput(t, "payments"))
		if code := errorCode(err); code != "AccessDeniedException" || !strings.Contains(err.Error(), "lambda:CreateFunction on resource: arn:aws:lambda:us-east-1:000000000000:function:payments") {
			t.Fatalf("create payments: %v", err)
		}
		if _, err := lc.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("orders")}); errorCode(err) != "AccessDeniedException" || !strings.Contains(err.Error(), "explicit deny") {
			t.Fatalf("explicit deny: %v", err)
		}
		if _, err := iam.NewFromConfig(cfg).ListRoles(ctx, &iam.ListRolesInput{}); errorCode(err) != "AccessDenied" {
			t.Fatalf("iam as the deploy role: %v", err)
		}
		if _, err := codedeploy.NewFromConfig(cfg).ListApplications(ctx, &codedeploy.ListApplicationsInput{}); err != nil {
			t.Fatalf("codedeploy as the deploy role: %v", err)
		}
		if _, err := cloudwatch.NewFromConfig(cfg).DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{}); err != nil {
			t.Fatalf("cloudwatch as the deploy role: %v", err)
		}
	})

	t.Run("boto3", func(t *testing.T) {
		requireBoto3(t)
		script := `import boto3
print(boto3.client("sts").get_caller_identity()["Arn"])
print(len(boto3.client("lambda").list_functions()["Functions"]))
try:
    boto3.client("lambda").get_function(FunctionName="payments")
except Exception as e:
    print(e.response["Error"]["Code"])
`
		cmd := exec.Command("python3", "-c", script)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("boto3: %v\n%s", err, out)
		}
		if want := "arn:aws:sts::000000000000:assumed-role/gha-deploy/gha-run-1\n1\nAccessDeniedException\n"; string(out) != want {
			t.Fatalf("boto3 printed:\n%s\nwant:\n%s", out, want)
		}
	})

	t.Run("aws-cli", func(t *testing.T) {
		cmd := exec.Command("aws", "sts", "get-caller-identity", "--query", "Arn", "--output", "text")
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("aws cli: %v\n%s", err, out)
		}
		if got := strings.TrimSpace(string(out)); got != "arn:aws:sts::000000000000:assumed-role/gha-deploy/gha-run-1" {
			t.Fatalf("aws cli: %s", got)
		}
	})
}

func echoInput(t *testing.T, name string) *lambda.CreateFunctionInput {
	return createInput(name, bootstrapZip(t, name+" v0"))
}

// TestKeylessTamperMatrix: every way a token or session can be wrong is refused with AWS's error code.
func TestKeylessTamperMatrix(t *testing.T) {
	parallel(t)
	s := startServer(t, "--session-time-scale", "300") // a 900 s session lasts three seconds (a busy machine's first call may take one)
	issuer := keyless(t, s)
	other, err := oidctest.Start() // an issuer nobody registered
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	ctx := context.Background()
	anon := s.STS(aws.AnonymousCredentials{})
	assume := func(token string, role string) error {
		_, err := anon.AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{RoleArn: aws.String(role),
			RoleSessionName: aws.String("tamper"), WebIdentityToken: aws.String(token)})
		return err
	}
	main := func() map[string]any { return issuer.GitHubClaims(repo, "refs/heads/main") }
	with := func(claims map[string]any, k string, v any) map[string]any { claims[k] = v; return claims }
	now := time.Now()

	// A second role whose trust names another provider: a valid token does not get in.
	if _, err := s.IAM().CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("elsewhere"), AssumeRolePolicyDocument: aws.String(
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::000000000000:oidc-provider/token.actions.githubusercontent.com"},"Action":"sts:AssumeRoleWithWebIdentity"}]}`)}); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name, token, role, code, message string
	}{
		{"valid token", issuer.Sign(main()), deployRole, "", ""},
		{"wrong aud", issuer.Sign(with(main(), "aud", "https://github.com/octo-org")), deployRole, "InvalidIdentityToken", "Incorrect token audience"},
		{"wrong iss", other.Sign(with(main(), "iss", other.URL)), deployRole, "InvalidIdentityToken", "No OpenIDConnect provider found"},
		{"another branch", issuer.Sign(issuer.GitHubClaims(repo, "refs/heads/feature")), deployRole, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity"},
		{"another repository", issuer.Sign(issuer.GitHubClaims("octo-org/other-repo", "refs/heads/main")), deployRole, "AccessDenied", ""},
		{"repository prefix trick", issuer.Sign(issuer.GitHubClaims(repo+"-evil", "refs/heads/main")), deployRole, "AccessDenied", ""},
		{"expired", issuer.Sign(with(with(main(), "exp", now.Add(-10*time.Minute).Unix()), "iat", now.Add(-20*time.Minute).Unix())), deployRole, "ExpiredTokenException", "Token expired"},
		{"not yet valid", issuer.Sign(with(main(), "nbf", now.Add(10*time.Minute).Unix())), deployRole, "InvalidIdentityToken", ""},
		{"alg none", issuer.Sign(main(), oidctest.WithAlgNone()), deployRole, "InvalidIdentityToken", ""},
		{"HS256 keyed with the public key", issuer.Sign(main(), oidctest.WithHS256PublicKey()), deployRole, "InvalidIdentityToken", ""},
		{"unknown kid", issuer.Sign(main(), oidctest.WithUnknownKid()), deployRole, "InvalidIdentityToken", ""},
		{"signed by another key", issuer.Sign(main(), oidctest.WithForeignKey()), deployRole, "InvalidIdentityToken", ""},
		{"trust policy names another provider", issuer.Sign(main()), "arn:aws:iam::000000000000:role/elsewhere", "AccessDenied", ""},
		{"role that does not exist", issuer.Sign(main()), "arn:aws:iam::000000000000:role/nobody", "AccessDenied", ""},
		{"garbage", "not-a-jwt", deployRole, "InvalidIdentityToken", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := assume(tc.token, tc.role)
			if tc.code == "" {
				if err != nil {
					t.Fatalf("want success: %v", err)
				}
				return
			}
			if got := errorCode(err); got != tc.code || !strings.Contains(err.Error(), tc.message) {
				t.Fatalf("got %v, want %s %q", err, tc.code, tc.message)
			}
			if strings.Contains(err.Error(), tc.token) && len(tc.token) > 20 {
				t.Fatalf("the error echoes the token")
			}
		})
	}

	t.Run("expired session reused", func(t *testing.T) {
		out, err := anon.AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{RoleArn: aws.String(deployRole),
			RoleSessionName: aws.String("short"), WebIdentityToken: aws.String(issuer.Sign(main())), DurationSeconds: aws.Int32(900)})
		if err != nil {
			t.Fatal(err)
		}
		c := out.Credentials
		session := lambda.NewFromConfig(aws.Config{Region: region, BaseEndpoint: aws.String(s.URL), Retryer: func() aws.Retryer { return aws.NopRetryer{} },
			HTTPClient:  sdkhttp.Wrap(nil),
			Credentials: credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))})
		if _, err := session.ListFunctions(ctx, &lambda.ListFunctionsInput{}); err != nil {
			t.Fatalf("fresh session: %v", err)
		}
		time.Sleep(time.Until(aws.ToTime(c.Expiration)) + 1500*time.Millisecond)
		if _, err := session.ListFunctions(ctx, &lambda.ListFunctionsInput{}); errorCode(err) != "ExpiredTokenException" {
			t.Fatalf("expired session: %v", err)
		}
	})

	t.Run("duration beyond the role's maximum", func(t *testing.T) {
		_, err := anon.AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{RoleArn: aws.String(deployRole),
			RoleSessionName: aws.String("long"), WebIdentityToken: aws.String(issuer.Sign(main())), DurationSeconds: aws.Int32(7200)})
		if errorCode(err) != "ValidationError" {
			t.Fatalf("7200 s on a 3600 s role: %v", err)
		}
	})
}
