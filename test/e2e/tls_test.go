package e2e

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/sluice-dev/sluice/internal/api/ui"
	"github.com/sluice-dev/sluice/internal/store/etcd/etcdtest"
)

// testCA is a certificate authority made by a test, with the files `sluice serve --tls-cert/--tls-key` and its
// clients are given.
type testCA struct {
	cert  *x509.Certificate
	key   *ecdsa.PrivateKey
	roots *x509.CertPool
	dir   string // holds ca.pem, cert.pem and key.pem
}

// newTestCA makes a CA and its files in a directory functions can read too (their sandbox hides the host's /tmp).
func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Sluice e2e test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	dir, err := os.MkdirTemp("/var/tmp", "sluice-tls-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ca := &testCA{cert: cert, key: key, roots: x509.NewCertPool(), dir: dir}
	ca.roots.AddCert(cert)
	if err := os.WriteFile(ca.file("ca.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	return ca
}

func (ca *testCA) file(name string) string { return filepath.Join(ca.dir, name) }

// issue writes cert.pem and key.pem: a server certificate for the given IPs, localhost and the function URL and S3
// hosts under it.
func (ca *testCA) issue(t *testing.T, serial int64, ips ...net.IP) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames:    []string{"localhost", "*.lambda-url." + region + ".localhost", "s3." + region + ".localhost"},
		IPAddresses: ips, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	// The key first and the certificate last, so that a reload between the two writes sees a mismatch, never a
	// certificate for a key it does not have.
	if err := os.WriteFile(ca.file("key.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ca.file("cert.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
}

// nonLoopbackIPv4 is an IPv4 address of this machine that is not loopback, if it has one.
func nonLoopbackIPv4() net.IP {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
			return n.IP.To4()
		}
	}
	return nil
}

// servedSerial is the serial number of the certificate the listener at addr presents.
func servedSerial(t *testing.T, addr string, roots *x509.CertPool) int64 {
	t.Helper()
	host, _, _ := net.SplitHostPort(addr)
	c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots, ServerName: host})
	if err != nil {
		t.Fatalf("TLS handshake with %s: %v", addr, err)
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
}

// TestTLSListener: `sluice serve --tls-cert/--tls-key` on an address other than loopback serves HTTPS only — the AWS
// CLI v1 (--ca-bundle, AWS_CA_BUNDLE), boto3, Sluice's own CLI, a function's boto3, function URLs and the proxy
// for AWS hosts all work through it — and the console signs in over it with a Secure cookie, while the same
// listener without TLS refuses the console; SIGHUP makes it present a renewed certificate.
func TestTLSListener(t *testing.T) {
	cli := cliV1(t)
	requireBoto3(t)
	parallel(t)
	ip := nonLoopbackIPv4()
	if ip == nil {
		// The console's rule is about non-loopback listeners; internal/api/ui's unit tests cover it without one.
		t.Skip("this machine has no non-loopback IPv4 address to listen on")
	}
	ca := newTestCA(t)
	ca.issue(t, 1, ip, net.IPv4(127, 0, 0, 1))
	bundle := ca.file("ca.pem")
	s := startServerTrusting(t, ca.roots, []string{"AWS_CA_BUNDLE=" + bundle},
		"--listen", net.JoinHostPort(ip.String(), "0"), "--tls-cert", ca.file("cert.pem"), "--tls-key", ca.file("key.pem"))
	if !strings.HasPrefix(s.URL, "https://"+ip.String()+":") {
		t.Fatalf("endpoint %q, want https on %s", s.URL, ip)
	}
	u, _ := url.Parse(s.URL)
	addr := u.Host

	// Plain HTTP on the port is not served.
	if resp, err := http.Get("http://" + addr + "/_sluice/health"); err == nil {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "HTTPS") {
			t.Errorf("plain HTTP on the TLS port: %d %q", resp.StatusCode, body)
		}
	}
	// A client not given the CA refuses the server.
	env := s.Env() // no AWS_CA_BUNDLE (an empty one turns the AWS CLI's verification off)
	if _, stderr, code := run(t, env, "", cli, "lambda", "list-functions"); code == 0 || !strings.Contains(stderr, "SSL") {
		t.Errorf("AWS CLI without the CA: exit %d, %s", code, stderr)
	}

	// AWS CLI v1 with --ca-bundle, then with AWS_CA_BUNDLE.
	if out, stderr, code := run(t, env, "", cli, "lambda", "list-functions", "--endpoint-url", s.URL, "--ca-bundle", bundle, "--output", "json"); code != 0 || !strings.Contains(out, `"Functions"`) {
		t.Fatalf("aws lambda list-functions --ca-bundle: exit %d: %s %s", code, out, stderr)
	}
	env = append(s.Env(), "AWS_CA_BUNDLE="+bundle)
	if out, stderr, code := run(t, env, "", cli, "sts", "get-caller-identity", "--output", "json"); code != 0 || !strings.Contains(out, accountID) {
		t.Fatalf("aws sts get-caller-identity with AWS_CA_BUNDLE: exit %d: %s %s", code, out, stderr)
	}

	// A Python function calls Sluice back with boto3 over TLS: the server handed it the CA bundle.
	requireBoto3ForFunctions(t)
	c := s.Lambda()
	createFunction(t, c, "caller", func(in *lambda.CreateFunctionInput) {
		in.Runtime, in.Handler = types.RuntimePython311, aws.String("app.handler")
		in.Code.ZipFile = makeZip(t, zipFile{Name: "app.py", Body: `import os
import boto3


def handler(event, context):
    names = [f["FunctionName"] for f in boto3.client("lambda").list_functions()["Functions"]]
    return {"endpoint": os.environ["AWS_ENDPOINT_URL"], "names": names,
            "proto": (event.get("headers") or {}).get("x-forwarded-proto")}
`})
	})
	waitActive(t, c, "caller")
	out := invokeJSON(t, c, "caller", "", `{}`)
	var got struct {
		Endpoint string
		Names    []string
	}
	if out.FunctionError != nil || json.Unmarshal(out.Payload, &got) != nil || got.Endpoint != s.URL || len(got.Names) != 1 || got.Names[0] != "caller" {
		t.Fatalf("python function over TLS: %v %s", aws.ToString(out.FunctionError), out.Payload)
	}

	// boto3.
	script := `import boto3
fns = boto3.client("lambda").list_functions()["Functions"]
url = boto3.client("lambda").create_function_url_config(FunctionName="caller", AuthType="NONE")["FunctionUrl"]
print(len(fns), url)
`
	stdout, stderr, code := run(t, env, "", "python3", "-c", script)
	fields := strings.Fields(stdout)
	if code != 0 || len(fields) != 2 || fields[0] != "1" {
		t.Fatalf("boto3 over TLS: exit %d: %s %s", code, stdout, stderr)
	}
	// The function URL is https on the listener's port, and answers over TLS.
	fnURL, err := url.Parse(fields[1])
	if err != nil || fnURL.Scheme != "https" || fnURL.Port() != u.Port() {
		t.Fatalf("FunctionUrl %q: want https on port %s", fields[1], u.Port())
	}
	for _, grant := range []*lambda.AddPermissionInput{
		{FunctionName: aws.String("caller"), StatementId: aws.String("url"), Action: aws.String("lambda:InvokeFunctionUrl"),
			Principal: aws.String("*"), FunctionUrlAuthType: types.FunctionUrlAuthTypeNone},
		{FunctionName: aws.String("caller"), StatementId: aws.String("invoke"), Action: aws.String("lambda:InvokeFunction"),
			Principal: aws.String("*"), InvokedViaFunctionUrl: aws.Bool(true)},
	} {
		if _, err := c.AddPermission(t.Context(), grant); err != nil {
			t.Fatal(err)
		}
	}
	urlClient := s.HTTPClient()
	urlClient.Transport.(*http.Transport).DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr) // <id>.lambda-url.<region>.localhost is this listener
	}
	resp, err := urlClient.Get(fnURL.String())
	if err != nil {
		t.Fatalf("GET the function URL: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var answer struct{ Proto string }
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &answer) != nil || answer.Proto != "https" {
		t.Errorf("function URL over TLS: %d %s (want the event's x-forwarded-proto https)", resp.StatusCode, body)
	}

	// Sluice's own CLI: `sluice env` checks the server through AWS_CA_BUNDLE; `sluice ui` links to https.
	if out, stderr, code := sluice(t, append(env, "SLUICE_DATA_DIR="+s.DataDir), "env"); code != 0 || !strings.Contains(out, "AWS_ENDPOINT_URL="+s.URL+"\n") {
		t.Errorf("sluice env: exit %d: %s %s", code, out, stderr)
	}
	if _, stderr, code := sluice(t, append(isolationEnv(), "SLUICE_DATA_DIR="+s.DataDir), "env"); code == 0 || !strings.Contains(stderr, "certificate") {
		t.Errorf("sluice env without the CA: exit %d, %s", code, stderr)
	}
	link := signInLink(t, env)
	if !strings.HasPrefix(link, s.URL+ui.SignInPath) {
		t.Fatalf("sluice ui printed %q", link)
	}

	// The console over TLS on a non-loopback address: the link's page, then its button's POST, sign in with a Secure
	// cookie.
	resp, err = s.HTTPClient().Get(link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the sign-in page over TLS: %d", resp.StatusCode)
	}
	linkURL, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	post, _ := http.NewRequest(http.MethodPost, s.URL+ui.SignInPath, strings.NewReader(url.Values{"token": {linkURL.Query().Get("token")}}.Encode()))
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	post.Header.Set("Origin", s.URL)
	resp, err = s.HTTPClient().Do(post)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var session *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == ui.CookieName {
			session = ck
		}
	}
	if resp.StatusCode != http.StatusOK || session == nil || !session.Secure || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode {
		t.Fatalf("sign-in over TLS: %d, cookie %+v", resp.StatusCode, session)
	}
	req, _ := http.NewRequest(http.MethodGet, s.URL+ui.Prefix, nil)
	req.AddCookie(session)
	resp, err = s.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "caller") {
		t.Errorf("the functions page over TLS: %d", resp.StatusCode)
	}

	// The proxy for AWS hosts, itself reached over TLS: the client trusts the listener's CA and the proxy's.
	proxyCA, err := os.ReadFile(filepath.Join(s.DataDir, "proxy-ca", "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	both := ca.roots.Clone()
	both.AppendCertsFromPEM(proxyCA)
	proxied := lambda.NewFromConfig(aws.Config{Region: region, Credentials: credentials.NewStaticCredentialsProvider(s.AccessKeyID, s.SecretAccessKey, ""),
		Retryer: func() aws.Retryer { return aws.NopRetryer{} },
		HTTPClient: awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
			tr.Proxy = http.ProxyURL(u)
			tr.TLSClientConfig = &tls.Config{RootCAs: both}
		})})
	if fns, err := proxied.ListFunctions(t.Context(), &lambda.ListFunctionsInput{}); err != nil || len(fns.Functions) != 1 {
		t.Errorf("ListFunctions at lambda.%s.amazonaws.com through the TLS proxy: %v", region, err)
	}

	// A renewed certificate is presented after SIGHUP, without a restart.
	if got := servedSerial(t, addr, ca.roots); got != 1 {
		t.Fatalf("serving serial %d, want 1", got)
	}
	ca.issue(t, 2, ip, net.IPv4(127, 0, 0, 1))
	if err := s.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	// The reload swaps the pair, then logs it: wait for both.
	deadline := time.Now().Add(30 * time.Second)
	for servedSerial(t, addr, ca.roots) != 2 || !strings.Contains(s.log.String(), "TLS key pair reloaded") {
		if time.Now().After(deadline) {
			t.Fatal("the renewed certificate was not presented after SIGHUP")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !s.running() || !strings.Contains(s.log.String(), "TLS key pair reloaded") {
		t.Errorf("after SIGHUP: running %v", s.running())
	}

	// The same address without TLS: the console refuses to serve there.
	plain := startServer(t, "--listen", net.JoinHostPort(ip.String(), "0"))
	resp, err = http.Get(plain.URL + ui.Prefix)
	if err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(resp.Body).ReadString('\n')
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("the console on a plain non-loopback listener: %d %q", resp.StatusCode, line)
	}
}

// TestClusterTLS: nodes serving TLS, advertising https URLs, call each other over TLS with the CA bundle they were
// given: each node's status reaches the others, and code uploaded to one node runs on another.
func TestClusterTLS(t *testing.T) {
	parallel(t)
	endpoint := testEtcd(t)
	takeClusterSlot(t)
	ca := newTestCA(t)
	ca.issue(t, 1, net.IPv4(127, 0, 0, 1))
	prefix := fmt.Sprintf("/e2e-tls-%d", os.Getpid())
	nodes := make([]*server, 2)
	for i := range nodes {
		addr := etcdtest.FreeAddr()
		nodes[i] = startServerTrusting(t, ca.roots, []string{"AWS_CA_BUNDLE=" + ca.file("ca.pem")},
			"--listen", addr, "--advertise-url", "https://"+addr, "--tls-cert", ca.file("cert.pem"), "--tls-key", ca.file("key.pem"),
			"--etcd-endpoints", endpoint, "--etcd-prefix", prefix, "--etcd-max-txn-ops", fmt.Sprint(etcdtest.MaxTxnOps),
			"--node-name", fmt.Sprintf("n%d", i), "--lease-ttl", "4", "--drain-delay", "500ms")
	}
	st := nodes[1].clusterStatus(t)
	if len(st.Nodes) != 2 {
		t.Fatalf("cluster status: %+v", st)
	}
	for _, n := range st.Nodes {
		if !strings.HasPrefix(n.URL, "https://") || n.Error != "" {
			t.Errorf("node %s as n1 sees it: URL %s, error %q", n.Name, n.URL, n.Error)
		}
	}
	createEcho(t, nodes[0].Lambda(), "orders")
	waitActive(t, nodes[0].Lambda(), "orders")
	awaitInvocable(t, nodes, "orders", "")
	if v := echoVersion(t, nodes[1].Lambda(), ""); v != "$LATEST" {
		t.Errorf("invoked on n1: version %q", v)
	}
	for i, n := range nodes {
		if log := n.log.String(); strings.Contains(log, "x509") || strings.Contains(log, "tls: ") {
			t.Errorf("node %d logged a TLS failure:\n%s", i, log)
		}
	}
}
