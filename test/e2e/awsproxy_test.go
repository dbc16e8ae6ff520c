package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// proxyEnv is the environment of a client that reaches s only as its HTTPS proxy, as a tool without an endpoint
// setting does: no AWS_ENDPOINT_URL, the CA from `sluice env --proxy`.
func proxyEnv(t *testing.T, s *server) []string {
	t.Helper()
	out, stderr, code := run(t, append(isolationEnv(), "SLUICE_DATA_DIR="+s.DataDir), "", sluiceBin, "env", "--proxy")
	if code != 0 {
		t.Fatalf("sluice env --proxy: %d %s", code, stderr)
	}
	env := isolationEnv()
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		kv, ok := strings.CutPrefix(line, "export ")
		if !ok || strings.HasPrefix(kv, "AWS_ENDPOINT_URL=") {
			t.Fatalf("sluice env --proxy printed %q", line)
		}
		env = append(env, kv)
	}
	if envValue(env, "HTTPS_PROXY") != s.URL || envValue(env, "AWS_CA_BUNDLE") == "" {
		t.Fatalf("sluice env --proxy: %s", out)
	}
	return env
}

// TestAWSProxy: the AWS CLI v1 and boto3, given only HTTPS_PROXY and the CA bundle, call Sluice at AWS's own hosts
// — regional, global (IAM, STS) and S3's path-style and virtual-hosted ones — with signatures over those hosts; a
// host Sluice does not serve is refused by the proxy, and a client not trusting the CA refuses Sluice.
func TestAWSProxy(t *testing.T) {
	cli := cliV1(t)
	requireBoto3(t)
	parallelLong(t)
	srv := startServer(t)
	env := proxyEnv(t, srv)
	caPath, _, _ := run(t, env, "", sluiceBin, "ca", "--data-dir", srv.DataDir)
	if strings.TrimSpace(caPath) != envValue(env, "AWS_CA_BUNDLE") {
		t.Errorf("sluice ca = %q, sluice env --proxy's AWS_CA_BUNDLE = %q", caPath, envValue(env, "AWS_CA_BUNDLE"))
	}
	if fi, err := os.Stat(filepath.Join(filepath.Dir(strings.TrimSpace(caPath)), "ca-key.pem")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the CA key: %v %v", fi.Mode(), err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "fn.zip"), makeZip(t, zipFile{Name: "index.mjs", Body: "export const handler = async () => 'ok';"}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("through the proxy\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	aws := func(args ...string) (string, string, int) {
		t.Helper()
		return run(t, env, dir, cli, append(args, "--output", "json")...)
	}
	for _, step := range [][]string{
		{"sts", "get-caller-identity"}, // sts.amazonaws.com
		{"iam", "create-role", "--role-name", "proxied", "--assume-role-policy-document",
			`{"Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`}, // iam.amazonaws.com
		{"lambda", "create-function", "--function-name", "proxied", "--runtime", "nodejs20.x", "--handler", "index.handler",
			"--role", "arn:aws:iam::000000000000:role/proxied", "--zip-file", "fileb://fn.zip"},
		{"lambda", "wait", "function-active-v2", "--function-name", "proxied"},
		{"cloudformation", "list-stacks"},
		{"logs", "describe-log-groups"},
		{"s3", "mb", "s3://proxied-bucket"},
		{"s3", "cp", "hello.txt", "s3://proxied-bucket/dir/hello.txt"}, // proxied-bucket.s3.amazonaws.com
		{"s3", "cp", "s3://proxied-bucket/dir/hello.txt", "back.txt"},
	} {
		if out, stderr, code := aws(step...); code != 0 {
			t.Fatalf("aws %s: %d\n%s%s", strings.Join(step, " "), code, out, stderr)
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "back.txt")); err != nil || string(b) != "through the proxy\n" {
		t.Errorf("the object came back as %q, %v", b, err)
	}
	_, stderr, _ := aws("s3", "cp", "hello.txt", "s3://proxied-bucket/x", "--debug")
	if !strings.Contains(stderr, "proxied-bucket.s3.amazonaws.com") {
		t.Errorf("the CLI did not address the bucket virtual-hosted; its log:\n%s", tail(stderr, 3000))
	}

	// The AWS CLI v2 too, even a release too old to read AWS_ENDPOINT_URL: no --endpoint-url needed.
	t.Run("cli v2", func(t *testing.T) {
		requireCLIv2(t)
		for _, step := range [][]string{
			{"sts", "get-caller-identity"},
			{"lambda", "get-function", "--function-name", "proxied"},
			{"s3", "cp", "s3://proxied-bucket/dir/hello.txt", "-"},
		} {
			if out, stderr, code := run(t, env, dir, cliV2Path, step...); code != 0 {
				t.Errorf("aws (v2) %s: %d\n%s%s", strings.Join(step, " "), code, out, stderr)
			}
		}
	})

	// A service Sluice does not serve: the proxy refuses the tunnel; nothing is relayed.
	_, stderr, code := aws("ec2", "describe-vpcs")
	if code == 0 || !strings.Contains(stderr, "proxy") {
		t.Errorf("aws ec2 describe-vpcs through Sluice: %d %s", code, stderr)
	}
	// A client that does not trust Sluice's CA refuses its certificate.
	untrusting := append(append([]string{}, env...), "AWS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt")
	_, stderr, code = run(t, untrusting, dir, cli, "sts", "get-caller-identity")
	if code == 0 || !strings.Contains(stderr, "SSL") {
		t.Errorf("a client without the CA: %d %s", code, stderr)
	}
	// A signature over another host than the one the request reached is refused.
	_, stderr, code = run(t, env, dir, "python3", "-c", `
import boto3, botocore
lam = boto3.client("lambda")
def rehost(request, **kw):
    request.headers["Host"] = "lambda.us-west-2.amazonaws.com"
lam.meta.events.register("before-sign.lambda.*", rehost)
try:
    lam.list_functions()
except botocore.exceptions.ClientError as e:
    print(e.response["Error"]["Code"]); raise SystemExit(3)
`)
	if code == 0 {
		t.Errorf("a request signed for another host was accepted: %s", stderr)
	}

	// boto3: both S3 addressing styles, Lambda, STS's regional endpoint.
	script := `
import boto3
from botocore.config import Config
for style in ("virtual", "path"):
    s3 = boto3.client("s3", config=Config(s3={"addressing_style": style}))
    s3.put_object(Bucket="proxied-bucket", Key=style + "/k", Body=b"b-" + style.encode())
    got = s3.get_object(Bucket="proxied-bucket", Key=style + "/k")["Body"].read()
    assert got == b"b-" + style.encode(), got
    print(style, s3.meta.endpoint_url)
print([f["FunctionName"] for f in boto3.client("lambda").list_functions()["Functions"]])
print(boto3.client("sts", endpoint_url=None, config=Config(region_name="us-east-1")).get_caller_identity()["Account"])
print(boto3.client("sts").meta.endpoint_url)
`
	out, stderr, code := run(t, env, dir, "python3", "-c", script)
	if code != 0 {
		t.Fatalf("boto3 through the proxy: %d\n%s%s", code, out, stderr)
	}
	for _, want := range []string{"virtual https://s3.amazonaws.com", "path https://s3.amazonaws.com", "['proxied']", "000000000000", "amazonaws.com"} {
		if !strings.Contains(out, want) {
			t.Errorf("boto3's output lacks %q:\n%s", want, out)
		}
	}
}

// TestClusterProxyCA: the nodes of a cluster present one proxy CA, so a client trusting the file of one node goes
// through any other's proxy.
func TestClusterProxyCA(t *testing.T) {
	cli := cliV1(t)
	parallel(t)
	nodes := startCluster(t, 2)
	first, err := os.ReadFile(filepath.Join(nodes[0].DataDir, "proxy-ca", "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	second, err := os.ReadFile(filepath.Join(nodes[1].DataDir, "proxy-ca", "ca.pem"))
	if err != nil || string(first) != string(second) {
		t.Fatalf("the nodes present different CAs (%v)", err)
	}
	env := append(proxyEnv(t, nodes[1]), "AWS_CA_BUNDLE="+filepath.Join(nodes[0].DataDir, "proxy-ca", "ca.pem"))
	if out, stderr, code := run(t, env, "", cli, "lambda", "list-functions"); code != 0 {
		t.Errorf("through node 1 with node 0's CA: %d %s%s", code, out, stderr)
	}
}
