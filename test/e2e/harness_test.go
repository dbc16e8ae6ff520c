// Package e2e drives a real `sluice serve` process with the clients people actually use: the AWS CLI v1 and v2,
// boto3, aws-sdk-go-v2 and the AWS SDK for JavaScript v3. Every test starts its own server on its own data dir, so
// tests run in parallel.
package e2e

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/sluice-dev/sluice/internal/sdkhttp"
)

const (
	region    = "us-east-1"
	accountID = "000000000000"
	roleARN   = "arn:aws:iam::000000000000:role/orders"
	arnPrefix = "arn:aws:lambda:us-east-1:000000000000:function:"
)

var (
	sluiceBin  string // the binary under test, built once by TestMain
	moduleRoot string
)

// TestMain builds `sluice` once (with -race when the tests run with -race, so server data races fail the suite).
func TestMain(m *testing.M) {
	flag.Parse()
	// The tests spend most of their time waiting on other processes (servers, CLIs, Python); unless the caller chose a
	// -parallel value, allow more of them to run at once than GOMAXPROCS. The suite's queue (schedule_test.go) holds
	// that limit, longest tests first; Go's own is lifted so that it never holds back a test the queue admitted.
	suite.limit = 6
	flag.Visit(func(f *flag.Flag) {
		if f.Name == "test.parallel" {
			suite.limit, _ = strconv.Atoi(f.Value.String())
		}
	})
	suite.limit = max(suite.limit, 1)
	_ = flag.Set("test.parallel", "1000")
	// The suite runs for longer than go test's default -timeout of 10 minutes on a 2-core machine (three-node clusters,
	// the chaos run, the README's sections, the JS SDK's install): the README's test command gives it 30. Raising the
	// binary's own deadline here would not help — go test kills a package a minute past its -timeout regardless.
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	var err error
	moduleRoot, err = findModuleRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "sluice-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	sluiceBin = filepath.Join(dir, "sluice")
	args := []string{"build", "-o", sluiceBin}
	if raceEnabled {
		args = append(args, "-race")
	}
	args = append(args, "./cmd/sluice")
	defer func() { stopEtcd() }() // if a cluster test started one
	cmd := exec.Command("go", args...)
	cmd.Dir = moduleRoot
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: go build ./cmd/sluice: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

func findModuleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err == nil {
		if gomod := strings.TrimSpace(string(out)); gomod != "" && gomod != os.DevNull {
			return filepath.Dir(gomod), nil
		}
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		return "", fmt.Errorf("cannot find the module root: %w", err)
	}
	return root, nil
}

// syncBuffer collects a process's output from several goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// server is one `sluice serve` process (and its restarts) on one data dir.
type server struct {
	URL             string
	DataDir         string
	AccessKeyID     string
	SecretAccessKey string

	args    []string
	bin     string   // the binary to run ("" means sluiceBin); a rolling upgrade changes it
	env     []string // extra environment for the server process
	log     *syncBuffer
	roots   *x509.CertPool // what a client trusts of an https server (nil: the system's roots)
	cmd     *exec.Cmd
	done    chan struct{}
	waitErr error
	runs    int
}

// startServer starts `sluice serve` on a fresh data dir and waits until it is healthy.
func startServer(t *testing.T, args ...string) *server {
	t.Helper()
	return startServerEnv(t, nil, args...)
}

// startServerEnv is startServer with extra environment variables for the server process.
func startServerEnv(t *testing.T, env []string, args ...string) *server {
	t.Helper()
	return startServerTrusting(t, nil, env, args...)
}

// startServerTrusting is startServerEnv for a server serving TLS whose certificate the test's clients verify with
// roots.
func startServerTrusting(t *testing.T, roots *x509.CertPool, env []string, args ...string) *server {
	t.Helper()
	s := &server{DataDir: t.TempDir(), args: args, env: env, roots: roots, log: &syncBuffer{}}
	t.Cleanup(func() {
		s.Stop(t)
		if strings.Contains(s.log.String(), "WARNING: DATA RACE") {
			t.Errorf("the server reported a data race")
		}
		if t.Failed() {
			t.Logf("server output (%s):\n%s", s.DataDir, s.log.String())
		}
	})
	s.start(t)
	grantTestRoles(t, s)
	return s
}

func (s *server) start(t *testing.T) {
	t.Helper()
	// A killed server leaves its endpoint file behind; the new process writes a fresh one once it listens.
	_ = os.Remove(filepath.Join(s.DataDir, "endpoint"))
	s.runs++
	fmt.Fprintf(s.log, "----- start #%d: sluice serve %s\n", s.runs, strings.Join(s.args, " "))
	args := append([]string{"serve", "--listen", "127.0.0.1:0", "--data-dir", s.DataDir, "--log-level", "debug"}, s.args...)
	bin := sluiceBin
	if s.bin != "" {
		bin = s.bin
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(baseEnv(), s.env...)
	cmd.Stdout = s.log
	cmd.Stderr = s.log
	if err := cmd.Start(); err != nil {
		t.Fatalf("start sluice: %v", err)
	}
	s.cmd = cmd
	done := make(chan struct{})
	s.done = done
	go func() {
		s.waitErr = cmd.Wait()
		close(done)
	}()

	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-done:
			t.Fatalf("sluice serve exited during startup: %v\n%s", s.waitErr, s.log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("sluice serve did not become healthy within 60s\n%s", s.log.String())
		}
		if b, err := os.ReadFile(filepath.Join(s.DataDir, "endpoint")); err == nil && strings.HasSuffix(string(b), "\n") {
			url := strings.TrimSpace(string(b))
			if resp, err := s.HTTPClient().Get(url + "/_sluice/health"); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					s.URL = url
					break
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}

	if id := envValue(s.env, "SLUICE_ROOT_ACCESS_KEY_ID"); id != "" {
		s.AccessKeyID, s.SecretAccessKey = id, envValue(s.env, "SLUICE_ROOT_SECRET_ACCESS_KEY")
		return
	}
	b, err := os.ReadFile(filepath.Join(s.DataDir, "root-credentials.json"))
	if err != nil {
		t.Fatalf("read root credentials: %v", err)
	}
	var c struct{ AccessKeyId, SecretAccessKey string }
	if err := json.Unmarshal(b, &c); err != nil || c.AccessKeyId == "" || c.SecretAccessKey == "" {
		t.Fatalf("malformed root-credentials.json (%v): %s", err, b)
	}
	s.AccessKeyID, s.SecretAccessKey = c.AccessKeyId, c.SecretAccessKey
}

func (s *server) running() bool {
	if s.cmd == nil {
		return false
	}
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// Stop sends SIGTERM and waits for a graceful exit (status 0).
func (s *server) Stop(t *testing.T) {
	t.Helper()
	if !s.running() {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
		t.Errorf("sluice serve did not exit within 30s of SIGTERM")
		return
	}
	if s.waitErr != nil {
		t.Errorf("sluice serve exited with %v after SIGTERM, want a clean exit", s.waitErr)
	}
}

// Kill sends SIGKILL and waits for the process to be gone: no graceful shutdown at all.
func (s *server) Kill(t *testing.T) {
	t.Helper()
	if !s.running() {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.done
}

// Restart starts a new process on the same data dir (after Stop or Kill) with the same arguments.
func (s *server) Restart(t *testing.T) {
	t.Helper()
	if s.running() {
		t.Fatalf("Restart: the server is still running")
	}
	s.start(t)
}

// baseEnv is this process's environment without anything that could point a client or the server elsewhere.
func baseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "AWS_") || strings.HasPrefix(k, "SLUICE_") || strings.HasPrefix(k, "BOTO_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// isolationEnv keeps the machine's own AWS configuration out of the clients.
func isolationEnv() []string {
	return append(baseEnv(),
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_PAGER=",
		"AWS_EC2_METADATA_DISABLED=true",
		"PYTHONDONTWRITEBYTECODE=1",
		"PYTHONUNBUFFERED=1",
	)
}

// Env is the environment for a client of this server.
func (s *server) Env() []string {
	return append(isolationEnv(),
		"AWS_ENDPOINT_URL="+s.URL,
		"AWS_ACCESS_KEY_ID="+s.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY="+s.SecretAccessKey,
		"AWS_REGION="+region,
		"AWS_DEFAULT_REGION="+region,
	)
}

func envValue(env []string, key string) string {
	v := ""
	for _, kv := range env {
		if k, val, ok := strings.Cut(kv, "="); ok && k == key {
			v = val
		}
	}
	return v
}

// ---- Go SDK ----

// HTTPClient is a plain HTTP client of this server, trusting its certificate when it serves TLS.
func (s *server) HTTPClient() *http.Client {
	if s.roots == nil {
		return http.DefaultClient
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = &tls.Config{RootCAs: s.roots}
	return &http.Client{Transport: t}
}

// sdkHTTP is the HTTP client of the SDK clients of this server (nil: the SDK's default).
func (s *server) sdkHTTP() aws.HTTPClient {
	if s.roots == nil {
		return nil
	}
	return awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) { t.TLSClientConfig = &tls.Config{RootCAs: s.roots} })
}

// Lambda returns an aws-sdk-go-v2 client for this server. Retries are off so that every call is exactly one request.
func (s *server) Lambda(optFns ...func(*lambda.Options)) *lambda.Client {
	cfg := aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider(s.AccessKeyID, s.SecretAccessKey, ""),
		BaseEndpoint: aws.String(s.URL),
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
		HTTPClient:   sdkhttp.Wrap(s.sdkHTTP()),
	}
	return lambda.NewFromConfig(cfg, optFns...)
}

// httpStatus is the HTTP status of a successful SDK call.
func httpStatus(md middleware.Metadata) int {
	if r, ok := awsmiddleware.GetRawResponse(md).(*smithyhttp.Response); ok {
		return r.StatusCode
	}
	return 0
}

// wantErr describes an expected API error. Message is exact; Prefix and Contains are used where AWS's text varies.
type wantErr struct {
	Status   int
	Code     string
	Message  string
	Prefix   string
	Contains string
}

func (w wantErr) String() string {
	s := fmt.Sprintf("%d %s", w.Status, w.Code)
	switch {
	case w.Message != "":
		s += fmt.Sprintf(" %q", w.Message)
	case w.Prefix != "":
		s += fmt.Sprintf(" %q…", w.Prefix)
	case w.Contains != "":
		s += fmt.Sprintf(" …%q…", w.Contains)
	}
	return s
}

// checkMessage compares a message with the expectation; it returns a description of the mismatch or "".
func (w wantErr) checkMessage(msg string) string {
	switch {
	case w.Message != "" && msg != w.Message:
		return fmt.Sprintf("message %q, want %q", msg, w.Message)
	case w.Prefix != "" && !strings.HasPrefix(msg, w.Prefix):
		return fmt.Sprintf("message %q, want prefix %q", msg, w.Prefix)
	case w.Contains != "" && !strings.Contains(msg, w.Contains):
		return fmt.Sprintf("message %q, want it to contain %q", msg, w.Contains)
	}
	return ""
}

// checkAPIError reports (with t.Errorf) how err differs from want; it returns whether it matched.
func checkAPIError(t *testing.T, what string, err error, want wantErr) bool {
	t.Helper()
	if err == nil {
		t.Errorf("%s: succeeded, want error %v", what, want)
		return false
	}
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		t.Errorf("%s: error %v is not an API error, want %v", what, err, want)
		return false
	}
	status := 0
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	var problems []string
	if status != want.Status {
		problems = append(problems, fmt.Sprintf("HTTP %d, want %d", status, want.Status))
	}
	if apiErr.ErrorCode() != want.Code {
		problems = append(problems, fmt.Sprintf("code %s, want %s", apiErr.ErrorCode(), want.Code))
	}
	if p := want.checkMessage(apiErr.ErrorMessage()); p != "" {
		problems = append(problems, p)
	}
	if len(problems) > 0 {
		t.Errorf("%s: got %d %s %q: %s", what, status, apiErr.ErrorCode(), apiErr.ErrorMessage(), strings.Join(problems, "; "))
		return false
	}
	return true
}

// ---- function helpers (Go SDK) ----

// zipFile is one entry of a deployment package.
type zipFile struct {
	Name string
	Body string
	Mode os.FileMode
}

// makeZip builds a zip archive from entries.
func makeZip(t testing.TB, files ...zipFile) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		h := &zip.FileHeader{Name: f.Name, Method: zip.Deflate}
		mode := f.Mode
		if mode == 0 {
			mode = 0o644
		}
		h.SetMode(mode)
		h.Modified = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, f.Body); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// bootstrapZip is a deployment package with an executable bootstrap whose content is made unique by tag.
func bootstrapZip(t testing.TB, tag string) []byte {
	t.Helper()
	return makeZip(t, zipFile{Name: "bootstrap", Mode: 0o755, Body: "#!/bin/sh\n# " + tag + "\necho '" + tag + "'\n"})
}

// codeSha256 is Lambda's CodeSha256 of a package: base64 of its SHA-256.
func codeSha256(b []byte) string {
	sum := sha256.Sum256(b)
	return base64.StdEncoding.EncodeToString(sum[:])
}

func writeFile(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// createInput is the seed's CreateFunction request for name.
func createInput(name string, zip []byte) *lambda.CreateFunctionInput {
	return &lambda.CreateFunctionInput{
		FunctionName: aws.String(name),
		Runtime:      types.RuntimeProvidedal2023,
		Handler:      aws.String("bootstrap"),
		Role:         aws.String(roleARN),
		Code:         &types.FunctionCode{ZipFile: zip},
	}
}

// createFunction creates name and waits until it is Active.
func createFunction(t *testing.T, c *lambda.Client, name string, mods ...func(*lambda.CreateFunctionInput)) *lambda.CreateFunctionOutput {
	t.Helper()
	in := createInput(name, bootstrapZip(t, name+" v0"))
	for _, m := range mods {
		m(in)
	}
	out, err := c.CreateFunction(t.Context(), in)
	if err != nil {
		t.Fatalf("CreateFunction %s: %v", name, err)
	}
	waitActive(t, c, name)
	return out
}

const waitLimit = 90 * time.Second

func waitActive(t *testing.T, c *lambda.Client, name string) {
	t.Helper()
	w := lambda.NewFunctionActiveV2Waiter(c, func(o *lambda.FunctionActiveV2WaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, 250*time.Millisecond
	})
	if err := w.Wait(t.Context(), &lambda.GetFunctionInput{FunctionName: aws.String(name)}, waitLimit); err != nil {
		t.Fatalf("wait for %s to be Active: %v", name, err)
	}
}

func waitUpdated(t *testing.T, c *lambda.Client, name string) {
	t.Helper()
	w := lambda.NewFunctionUpdatedV2Waiter(c, func(o *lambda.FunctionUpdatedV2WaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, 250*time.Millisecond
	})
	if err := w.Wait(t.Context(), &lambda.GetFunctionInput{FunctionName: aws.String(name)}, waitLimit); err != nil {
		t.Fatalf("wait for %s's update: %v", name, err)
	}
}

// setDescription changes $LATEST's description and waits for the update to settle.
func setDescription(t *testing.T, c *lambda.Client, name, desc string) {
	t.Helper()
	updateConfig(t, c, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String(name), Description: aws.String(desc)})
}

func updateConfig(t *testing.T, c *lambda.Client, in *lambda.UpdateFunctionConfigurationInput) *lambda.UpdateFunctionConfigurationOutput {
	t.Helper()
	out, err := c.UpdateFunctionConfiguration(t.Context(), in)
	if err != nil {
		t.Fatalf("UpdateFunctionConfiguration %s: %v", aws.ToString(in.FunctionName), err)
	}
	waitUpdated(t, c, aws.ToString(in.FunctionName))
	return out
}

func updateCode(t *testing.T, c *lambda.Client, name string, zip []byte) *lambda.UpdateFunctionCodeOutput {
	t.Helper()
	out, err := c.UpdateFunctionCode(t.Context(), &lambda.UpdateFunctionCodeInput{FunctionName: aws.String(name), ZipFile: zip})
	if err != nil {
		t.Fatalf("UpdateFunctionCode %s: %v", name, err)
	}
	waitUpdated(t, c, name)
	return out
}

func publish(t *testing.T, c *lambda.Client, name string) *lambda.PublishVersionOutput {
	t.Helper()
	out, err := c.PublishVersion(t.Context(), &lambda.PublishVersionInput{FunctionName: aws.String(name)})
	if err != nil {
		t.Fatalf("PublishVersion %s: %v", name, err)
	}
	return out
}

// publishNew changes the description and publishes, returning the new version number.
func publishNew(t *testing.T, c *lambda.Client, name, desc string) string {
	t.Helper()
	setDescription(t, c, name, desc)
	return aws.ToString(publish(t, c, name).Version)
}

// ---- raw HTTP ----

// emptySHA256 is the hex SHA-256 of an empty payload.
const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

func (s *server) creds() aws.Credentials {
	return aws.Credentials{AccessKeyID: s.AccessKeyID, SecretAccessKey: s.SecretAccessKey}
}

// signedRequest builds a request for path on the server, signed with creds at signTime (header form).
func (s *server) signedRequest(t *testing.T, method, path string, body []byte, creds aws.Credentials, signTime time.Time) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, s.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	sum := sha256.Sum256(body)
	hash := fmt.Sprintf("%x", sum)
	if err := v4.NewSigner().SignHTTP(t.Context(), creds, req, hash, "lambda", region, signTime); err != nil {
		t.Fatal(err)
	}
	return req
}

func readCloser(b []byte) io.ReadCloser { return io.NopCloser(bytes.NewReader(b)) }

type rawResponse struct {
	Status int
	Header http.Header
	Body   []byte
}

func doRaw(t *testing.T, req *http.Request) rawResponse {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return rawResponse{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// errorCode is the error type of a raw response as the SDKs read it: x-amzn-ErrorType up to any ':'.
func (r rawResponse) errorCode() string {
	code, _, _ := strings.Cut(r.Header.Get("X-Amzn-Errortype"), ":")
	return code
}

// message is the error message of a raw response body ("message" or "Message").
func (r rawResponse) message() string {
	var m map[string]any
	if json.Unmarshal(r.Body, &m) != nil {
		return ""
	}
	for _, k := range []string{"message", "Message"} {
		if s, ok := m[k].(string); ok {
			return s
		}
	}
	return ""
}

func checkRawError(t *testing.T, what string, r rawResponse, want wantErr) {
	t.Helper()
	var problems []string
	if r.Status != want.Status {
		problems = append(problems, fmt.Sprintf("HTTP %d, want %d", r.Status, want.Status))
	}
	if want.Code != "" && r.errorCode() != want.Code {
		problems = append(problems, fmt.Sprintf("x-amzn-ErrorType %q, want %s", r.Header.Get("X-Amzn-Errortype"), want.Code))
	}
	if p := want.checkMessage(r.message()); p != "" {
		problems = append(problems, p)
	}
	if len(problems) > 0 {
		t.Errorf("%s: %s (body %s)", what, strings.Join(problems, "; "), r.Body)
	}
}

// ---- external clients ----

var (
	cliV2Once sync.Once
	cliV2Path string
	cliV2Why  string
)

const awsV2Path = "/usr/bin/aws"

// requireCLIv2 skips the test unless /usr/bin/aws is the AWS CLI v2.
func requireCLIv2(t *testing.T) {
	t.Helper()
	cliV2Once.Do(func() {
		out, err := exec.Command(awsV2Path, "--version").CombinedOutput()
		switch {
		case err != nil:
			cliV2Why = fmt.Sprintf("%s unusable: %v", awsV2Path, err)
		case !strings.HasPrefix(strings.TrimSpace(string(out)), "aws-cli/2."):
			cliV2Why = fmt.Sprintf("%s is not the AWS CLI v2: %s", awsV2Path, strings.TrimSpace(string(out)))
		default:
			cliV2Path = awsV2Path
		}
	})
	if cliV2Path == "" {
		t.Skip(cliV2Why)
	}
}

// cliV1 finds the AWS CLI v1 on PATH (skipping when absent).
func cliV1(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("aws (AWS CLI v1) is not on PATH")
	}
	out, err := exec.Command(p, "--version").CombinedOutput()
	if err != nil || !strings.HasPrefix(strings.TrimSpace(string(out)), "aws-cli/1.") {
		t.Skipf("aws on PATH is not the AWS CLI v1: %v %s", err, out)
	}
	return p
}

func cliName(v2 bool) string {
	if v2 {
		return "v2"
	}
	return "v1"
}

// awsCLI runs the AWS CLI (v1 from PATH, or v2 at /usr/bin/aws with --endpoint-url) against s with JSON output.
func awsCLI(t *testing.T, s *server, v2 bool, args ...string) (stdout, stderr string, exitCode int) {
	t.Helper()
	var bin string
	var full []string
	if v2 {
		requireCLIv2(t)
		bin = cliV2Path
		full = append(full, "--endpoint-url", s.URL)
	} else {
		bin = cliV1(t)
	}
	full = append(full, args...)
	if !containsArg(args, "--output") {
		full = append(full, "--output", "json")
	}
	return run(t, s.Env(), "", bin, full...)
}

func containsArg(args []string, a string) bool {
	for _, x := range args {
		if x == a {
			return true
		}
	}
	return false
}

// run runs a program with env in dir (bounded by a generous timeout) and returns its output and exit code.
func run(t *testing.T, env []string, dir, name string, args ...string) (stdout, stderr string, exitCode int) {
	t.Helper()
	return runFor(t, 3*time.Minute, env, dir, name, args...)
}

// runFor is run with a deadline other than three minutes (the README's walkthrough is a whole tutorial).
func runFor(t *testing.T, limit time.Duration, env []string, dir, name string, args ...string) (stdout, stderr string, exitCode int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	cmd.Dir = dir
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		exitCode = ee.ExitCode()
	default:
		t.Fatalf("run %s: %v", name, err)
	}
	if ctx.Err() != nil {
		t.Fatalf("%s %s: timed out\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), o.String(), e.String())
	}
	return o.String(), e.String(), exitCode
}

// bashPreludeV2 makes the seed's literal `aws …` commands use the CLI v2, which is too old to read AWS_ENDPOINT_URL.
const bashPreludeV2 = `aws() { ` + awsV2Path + ` --endpoint-url "$AWS_ENDPOINT_URL" "$@"; }` + "\n"

// runBash runs a shell script in dir with s's client environment; with v2, `aws` is the CLI v2.
func runBash(t *testing.T, s *server, v2 bool, dir, script string) (stdout, stderr string, exitCode int) {
	t.Helper()
	if v2 {
		requireCLIv2(t)
		script = bashPreludeV2 + script
	} else {
		cliV1(t)
	}
	return run(t, s.Env(), dir, "bash", "-c", "set -euo pipefail\n"+script)
}

var cliErrorPattern = regexp.MustCompile(`An error occurred \(([A-Za-z0-9]+)\) when calling the ([A-Za-z0-9]+) operation(?: \(reached max retries: \d+\))?: ([^\n]*)`)

// cliError extracts the error code and message the AWS CLI printed.
func cliError(stderr string) (code, message string) {
	m := cliErrorPattern.FindStringSubmatch(stderr)
	if m == nil {
		return "", ""
	}
	return m[1], strings.TrimSpace(m[3])
}

var cliStatusPattern = regexp.MustCompile(`HTTP/1\.1" (\d{3})`)

// cliHTTPStatus is the status of the last HTTP response in an AWS CLI --debug log.
func cliHTTPStatus(stderr string) int {
	m := cliStatusPattern.FindAllStringSubmatch(stderr, -1)
	if len(m) == 0 {
		return 0
	}
	n, _ := strconv.Atoi(m[len(m)-1][1])
	return n
}

// checkCLIError checks a failed CLI run: non-zero exit, code and message (and status, when the run used --debug).
func checkCLIError(t *testing.T, what string, stderr string, exitCode int, want wantErr, withStatus bool) {
	t.Helper()
	if exitCode == 0 {
		t.Errorf("%s: exit 0, want failure %v", what, want)
		return
	}
	code, msg := cliError(stderr)
	var problems []string
	if code != want.Code {
		problems = append(problems, fmt.Sprintf("code %q, want %s", code, want.Code))
	}
	if p := want.checkMessage(msg); p != "" {
		problems = append(problems, p)
	}
	if withStatus {
		if st := cliHTTPStatus(stderr); st != want.Status {
			problems = append(problems, fmt.Sprintf("HTTP %d, want %d", st, want.Status))
		}
	}
	if len(problems) > 0 {
		tail := stderr
		if len(tail) > 3000 {
			tail = "…" + tail[len(tail)-3000:]
		}
		t.Errorf("%s: %s\nstderr:\n%s", what, strings.Join(problems, "; "), tail)
	}
}

// mustJSON decodes CLI JSON output.
func mustJSON(t *testing.T, what, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("%s: output is not JSON (%v):\n%s", what, err, s)
	}
}

// sluice runs the sluice binary itself (client commands) with env.
func sluice(t *testing.T, env []string, args ...string) (stdout, stderr string, exitCode int) {
	t.Helper()
	return run(t, env, "", sluiceBin, args...)
}
