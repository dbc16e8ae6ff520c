package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// echoHandler answers a function URL request with what it received, a cookie, a chosen status, and — for
// /binary — the request body back as binary.
const echoHandler = `export const handler = async (event) => {
  if (event.rawPath === "/binary") {
    return { statusCode: 200, headers: { "content-type": "application/octet-stream" },
      body: event.isBase64Encoded ? event.body : Buffer.from(event.body || "").toString("base64"), isBase64Encoded: true };
  }
  if (event.rawPath === "/plain") return { hello: "world" };
  if (event.rawPath === "/redirect") return { statusCode: 302, headers: { location: "/elsewhere" } };
  if (event.rawPath === "/throw") throw new Error("boom");
  return {
    statusCode: Number(event.queryStringParameters?.status || 200),
    headers: { "content-type": "application/json", "x-served-by": process.env.AWS_LAMBDA_FUNCTION_VERSION },
    cookies: ["session=abc; Path=/", "theme=dark"],
    body: JSON.stringify(event),
  };
};
`

// urlClient talks to function URLs on the test server: the *.localhost host is sent to the server's address,
// as a resolver that knows .localhost is loopback would.
func urlClient(s *server) *http.Client {
	addr := strings.TrimPrefix(s.URL, "http://")
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: time.Minute, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		}}}
}

func createURL(t *testing.T, c *lambda.Client, fn, qualifier string, auth types.FunctionUrlAuthType, cors *types.Cors) string {
	t.Helper()
	in := &lambda.CreateFunctionUrlConfigInput{FunctionName: aws.String(fn), AuthType: auth, Cors: cors}
	if qualifier != "" {
		in.Qualifier = aws.String(qualifier)
	}
	out, err := c.CreateFunctionUrlConfig(t.Context(), in)
	if err != nil {
		t.Fatalf("CreateFunctionUrlConfig: %v", err)
	}
	return aws.ToString(out.FunctionUrl)
}

type urlAnswer struct {
	status int
	header http.Header
	body   []byte
}

func urlDo(t *testing.T, hc *http.Client, req *http.Request) urlAnswer {
	t.Helper()
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return urlAnswer{status: resp.StatusCode, header: resp.Header, body: b}
}

// signURL signs a function URL request with aws-sdk-go-v2's signer (service lambda), as awscurl does.
func signURL(t *testing.T, s *server, req *http.Request, body []byte) {
	t.Helper()
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	req.Header.Set("X-Amz-Content-Sha256", hash)
	if err := v4.NewSigner().SignHTTP(t.Context(), s.creds(), req, hash, "lambda", region, time.Now()); err != nil {
		t.Fatal(err)
	}
}

func TestFunctionURLs(t *testing.T) {
	parallel(t)
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed")
	}
	s := startServer(t)
	c := s.Lambda()
	fn := "web"
	createFunction(t, c, fn, func(in *lambda.CreateFunctionInput) {
		in.Runtime, in.Handler = types.RuntimeNodejs20x, aws.String("index.handler")
		in.Code = &types.FunctionCode{ZipFile: makeZip(t, zipFile{Name: "index.mjs", Body: echoHandler})}
	})
	v1 := publishNew(t, c, fn, "v1")
	if _, err := c.CreateAlias(t.Context(), &lambda.CreateAliasInput{FunctionName: aws.String(fn), Name: aws.String("live"), FunctionVersion: aws.String(v1)}); err != nil {
		t.Fatal(err)
	}
	hc := urlClient(s)

	// AWS_IAM on the alias: SigV4-signed requests by a caller allowed lambda:InvokeFunctionUrl (the root) get in.
	iamURL := createURL(t, c, fn, "live", types.FunctionUrlAuthTypeAwsIam, &types.Cors{
		AllowOrigins: []string{"https://app.example"}, AllowMethods: []string{"GET", "POST"}, AllowHeaders: []string{"x-custom"},
		ExposeHeaders: []string{"x-served-by"}, MaxAge: aws.Int32(300), AllowCredentials: aws.Bool(true)})
	if !strings.HasSuffix(iamURL, "/") || !strings.Contains(iamURL, ".lambda-url.us-east-1.localhost:") {
		t.Fatalf("FunctionUrl %q", iamURL)
	}
	body := []byte(`{"order":42}`)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, iamURL+"orders/7?x=1&x=2&y=%20z", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Add("Cookie", "a=1; b=2")
	req.Header.Add("X-Multi", "one")
	req.Header.Add("X-Multi", "two")
	signURL(t, s, req, body)
	a := urlDo(t, hc, req)
	if a.status != http.StatusOK {
		t.Fatalf("signed POST: %d %s", a.status, a.body)
	}
	var ev struct {
		Version, RawPath, RawQueryString string
		Cookies                          []string
		Headers, QueryStringParameters   map[string]string
		Body                             string
		IsBase64Encoded                  bool
		RequestContext                   struct {
			AccountID  string
			HTTP       struct{ Method, Path string }
			Authorizer struct {
				IAM struct{ AccessKey, UserArn string }
			}
		}
	}
	if err := json.Unmarshal(a.body, &ev); err != nil {
		t.Fatalf("event echoed back: %v\n%s", err, a.body)
	}
	if ev.Version != "2.0" || ev.RawPath != "/orders/7" || ev.RawQueryString != "x=1&x=2&y=%20z" || ev.Body != `{"order":42}` || ev.IsBase64Encoded ||
		strings.Join(ev.Cookies, ";") != "a=1;b=2" || ev.Headers["x-multi"] != "one,two" || ev.Headers["cookie"] != "" ||
		ev.QueryStringParameters["x"] != "1,2" || ev.QueryStringParameters["y"] != " z" || ev.RequestContext.HTTP.Method != "POST" ||
		ev.RequestContext.Authorizer.IAM.AccessKey != s.AccessKeyID {
		t.Errorf("payload 2.0 event: %s", a.body)
	}
	if got := a.header.Values("Set-Cookie"); strings.Join(got, "|") != "session=abc; Path=/|theme=dark" {
		t.Errorf("Set-Cookie %q", got)
	}
	if a.header.Get("X-Served-By") != v1 || a.header.Get("X-Sluice-Executed-Version") != v1 {
		t.Errorf("served by %q / executed %q, want version %s", a.header.Get("X-Served-By"), a.header.Get("X-Sluice-Executed-Version"), v1)
	}

	// Signed by botocore's signer, as awscurl and boto3-based tools do.
	if out, errOut, code := run(t, s.Env(), t.TempDir(), "python3", filepath.Join(moduleRoot, "test", "e2e", "testdata", "url_botocore.py"),
		iamURL, strings.TrimPrefix(s.URL, "http://")); code != 0 || !strings.HasPrefix(out, "200\n") || !strings.Contains(out, `"rawPath":"/signed"`) ||
		!strings.Contains(out, `\"from\":\"botocore\"`) {
		t.Errorf("botocore-signed request: exit %d\n%s\n%s", code, out, errOut)
	}

	// Unsigned, or signed by nobody Sluice knows: 403.
	req, _ = http.NewRequestWithContext(t.Context(), http.MethodGet, iamURL, nil)
	if a := urlDo(t, hc, req); a.status != http.StatusForbidden || string(a.body) != `{"Message":"Forbidden"}` {
		t.Errorf("unsigned request to an AWS_IAM URL: %d %s", a.status, a.body)
	}

	// CORS: a preflight is answered without the function; an allowed origin gets its headers.
	req, _ = http.NewRequestWithContext(t.Context(), http.MethodOptions, iamURL, nil)
	req.Header.Set("Origin", "https://app.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	signURL(t, s, req, nil)
	if a := urlDo(t, hc, req); a.status != http.StatusOK || a.header.Get("Access-Control-Allow-Origin") != "https://app.example" ||
		a.header.Get("Access-Control-Allow-Methods") != "GET,POST" || a.header.Get("Access-Control-Max-Age") != "300" ||
		a.header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Errorf("preflight: %d %v", a.status, a.header)
	}

	// Binary in, binary out; a plain JSON answer is a 200 application/json body; redirects and statuses pass.
	bin := []byte{0, 1, 2, 0xff, 0xfe}
	req, _ = http.NewRequestWithContext(t.Context(), http.MethodPost, iamURL+"binary", bytes.NewReader(bin))
	req.Header.Set("Content-Type", "application/octet-stream")
	signURL(t, s, req, bin)
	if a := urlDo(t, hc, req); a.status != http.StatusOK || !bytes.Equal(a.body, bin) || a.header.Get("Content-Type") != "application/octet-stream" {
		t.Errorf("binary round trip: %d %q %v", a.status, a.body, a.header)
	}
	for path, want := range map[string]urlAnswer{
		"plain":       {status: 200, body: []byte(`{"hello":"world"}`)},
		"redirect":    {status: 302},
		"?status=418": {status: 418},
		"throw":       {status: 502, body: []byte(`{"Message":"Internal Server Error"}`)},
	} {
		req, _ = http.NewRequestWithContext(t.Context(), http.MethodGet, iamURL+path, nil)
		signURL(t, s, req, nil)
		a := urlDo(t, hc, req)
		if a.status != want.status || want.body != nil && !bytes.Equal(a.body, want.body) {
			t.Errorf("GET /%s: %d %s, want %d %s", path, a.status, a.body, want.status, want.body)
		}
	}

	// NONE on $LATEST: without a resource policy letting the public invoke it, 403 with Lambda's pointer.
	noneURL := createURL(t, c, fn, "", types.FunctionUrlAuthTypeNone, nil)
	req, _ = http.NewRequestWithContext(t.Context(), http.MethodGet, noneURL, nil)
	if a := urlDo(t, hc, req); a.status != http.StatusForbidden || !strings.Contains(string(a.body), "Function URL authorization issues") {
		t.Errorf("NONE URL without permission: %d %s", a.status, a.body)
	}
	// The public may invoke it once the function's policy says so — both statements, as AWS asks since October 2025.
	grants := []*lambda.AddPermissionInput{
		{FunctionName: aws.String(fn), StatementId: aws.String("url"), Action: aws.String("lambda:InvokeFunctionUrl"),
			Principal: aws.String("*"), FunctionUrlAuthType: types.FunctionUrlAuthTypeNone},
		{FunctionName: aws.String(fn), StatementId: aws.String("invoke"), Action: aws.String("lambda:InvokeFunction"),
			Principal: aws.String("*"), InvokedViaFunctionUrl: aws.Bool(true)},
	}
	for i, grant := range grants {
		if _, err := c.AddPermission(t.Context(), grant); err != nil {
			t.Fatal(err)
		}
		req, _ = http.NewRequestWithContext(t.Context(), http.MethodGet, noneURL+"plain", nil)
		a := urlDo(t, hc, req)
		if last := i == len(grants)-1; last && a.status != http.StatusOK || !last && a.status != http.StatusForbidden {
			t.Errorf("NONE URL after %d of %d statements: %d %s", i+1, len(grants), a.status, a.body)
		}
	}

	// The configuration API.
	got, err := c.GetFunctionUrlConfig(t.Context(), &lambda.GetFunctionUrlConfigInput{FunctionName: aws.String(fn), Qualifier: aws.String("live")})
	if err != nil || aws.ToString(got.FunctionUrl) != iamURL || got.AuthType != types.FunctionUrlAuthTypeAwsIam ||
		aws.ToString(got.FunctionArn) != arnPrefix+fn+":live" || got.InvokeMode != types.InvokeModeBuffered || got.Cors == nil {
		t.Errorf("GetFunctionUrlConfig: %+v %v", got, err)
	}
	list, err := c.ListFunctionUrlConfigs(t.Context(), &lambda.ListFunctionUrlConfigsInput{FunctionName: aws.String(fn)})
	if err != nil || len(list.FunctionUrlConfigs) != 2 {
		t.Errorf("ListFunctionUrlConfigs: %+v %v", list, err)
	}
	if _, err := c.CreateFunctionUrlConfig(t.Context(), &lambda.CreateFunctionUrlConfigInput{FunctionName: aws.String(fn), AuthType: types.FunctionUrlAuthTypeNone}); err == nil {
		t.Error("a second URL for $LATEST was created")
	}
	if _, err := c.DeleteFunctionUrlConfig(t.Context(), &lambda.DeleteFunctionUrlConfigInput{FunctionName: aws.String(fn)}); err != nil {
		t.Fatal(err)
	}
	req, _ = http.NewRequestWithContext(t.Context(), http.MethodGet, noneURL, nil)
	if a := urlDo(t, hc, req); a.status != http.StatusForbidden {
		t.Errorf("a deleted URL answered %d %s", a.status, a.body)
	}
}

// canaryHandler serves a page; a version whose DEFECT variable is set answers every request with a 500.
const canaryHandler = `export const handler = async (event) => {
  if (process.env.DEFECT) return { statusCode: 500, body: "defect: " + process.env.DEFECT };
  return { statusCode: 200, headers: { "content-type": "text/plain" }, body: "page from " + process.env.AWS_LAMBDA_FUNCTION_VERSION };
};
`

// TestFunctionURLCanary: web traffic through a URL on alias live rides CodeDeploy's canary — sticky per user — and
// an alarm on the URL's 5xx count rolls a defective version back.
func TestFunctionURLCanary(t *testing.T) {
	parallel(t)
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed")
	}
	s := startServer(t, "--deploy-time-scale", "30") // a configured minute lasts 2 s: the canary's 5 minutes, 10 s
	c, cw, cd := s.Lambda(), s.CloudWatch(), s.CodeDeploy()
	fn := "shop"
	createFunction(t, c, fn, func(in *lambda.CreateFunctionInput) {
		in.Runtime, in.Handler = types.RuntimeNodejs20x, aws.String("index.handler")
		in.Code = &types.FunctionCode{ZipFile: makeZip(t, zipFile{Name: "index.mjs", Body: canaryHandler})}
		in.Tags = map[string]string{"sluice:sticky-canary": "cookie:user"}
	})
	v1 := publishNew(t, c, fn, "one")
	v2 := publishNew(t, c, fn, "two")
	updateConfig(t, c, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String(fn),
		Environment: &types.Environment{Variables: map[string]string{"DEFECT": "v3"}}})
	v3 := publishNew(t, c, fn, "three (defective)")
	if _, err := c.CreateAlias(t.Context(), &lambda.CreateAliasInput{FunctionName: aws.String(fn), Name: aws.String("live"), FunctionVersion: aws.String(v1)}); err != nil {
		t.Fatal(err)
	}
	liveURL := createURL(t, c, fn, "live", types.FunctionUrlAuthTypeAwsIam, nil)
	putLiveAlarm(t, cw, "shop-5xx", "Url5xxCount", fn)
	createCanaryGroupWithRollback(t, cd, "shop-5xx")

	// Steady traffic: 40 users, each with its own cookie, one request after another per worker.
	hc := urlClient(s)
	var stop atomic.Bool
	var mu sync.Mutex
	seen := map[string][]string{} // user → the versions that served it, in order
	healthyErrors, total := 0, 0
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for n := 0; !stop.Load(); n++ {
				user := fmt.Sprintf("u%d", w*10+n%10)
				req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, liveURL+"cart", nil)
				req.AddCookie(&http.Cookie{Name: "user", Value: user})
				signURL(t, s, req, nil)
				resp, err := hc.Do(req)
				if err != nil {
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				v := resp.Header.Get("X-Sluice-Executed-Version")
				mu.Lock()
				total++
				if v != v3 && resp.StatusCode != http.StatusOK {
					healthyErrors++
				}
				if l := seen[user]; v != "" && (len(l) == 0 || l[len(l)-1] != v) {
					seen[user] = append(l, v)
				}
				mu.Unlock()
			}
		})
	}
	stopTraffic := func() { stop.Store(true); wg.Wait() }
	defer stopTraffic()

	// A healthy canary (v1 → v2): each user moves at most once, never back.
	waitDeployment(t, cd, createDeployment(t, cd, appSpecFor(fn, "live", v1, v2)), cdtypes.DeploymentStatusSucceeded)
	mu.Lock()
	for user, versions := range seen {
		if len(versions) > 2 || len(versions) == 2 && (versions[0] != v1 || versions[1] != v2) {
			t.Errorf("user %s was served %v during a healthy canary: a sticky user moves once, from %s to %s", user, versions, v1, v2)
		}
	}
	clear(seen)
	mu.Unlock()
	// Every user is seen on v2 before the next canary starts, so each one's history begins there.
	eventually(t, 30*time.Second, "all 40 users served by "+v2, func() (bool, string) {
		mu.Lock()
		defer mu.Unlock()
		return len(seen) == 40, fmt.Sprintf("%d users seen", len(seen))
	})

	// A defective canary (v2 → v3): the 5xx alarm rolls it back; users on the canary go there once and come back.
	id := createDeployment(t, cd, appSpecFor(fn, "live", v2, v3))
	info := waitDeployment(t, cd, id, cdtypes.DeploymentStatusStopped)
	if info.RollbackInfo == nil {
		t.Errorf("deployment %s stopped without a rollback: %+v", id, info)
	}
	eventually(t, 30*time.Second, "live back on "+v2, func() (bool, string) {
		a, err := c.GetAlias(t.Context(), &lambda.GetAliasInput{FunctionName: aws.String(fn), Name: aws.String("live")})
		return err == nil && aws.ToString(a.FunctionVersion) == v2 && a.RoutingConfig == nil, fmt.Sprint(a, err)
	})
	eventually(t, 30*time.Second, "every user served by "+v2+" again", func() (bool, string) {
		mu.Lock()
		defer mu.Unlock()
		for user, versions := range seen {
			if versions[len(versions)-1] != v2 {
				return false, user + " last served by " + versions[len(versions)-1]
			}
		}
		return true, ""
	})
	stopTraffic()
	onCanary := 0
	for user, versions := range seen {
		switch {
		case len(versions) == 1 && versions[0] == v2:
		case len(versions) == 3 && versions[0] == v2 && versions[1] == v3 && versions[2] == v2:
			onCanary++
		default:
			t.Errorf("user %s was served %v during the rolled-back canary", user, versions)
		}
	}
	if onCanary == 0 || onCanary > 8 {
		t.Errorf("%d of 40 users were on the 10%% canary", onCanary)
	}
	if healthyErrors != 0 {
		t.Errorf("%d of %d requests served by healthy versions failed", healthyErrors, total)
	}
	t.Logf("%d requests; %d of 40 users rode the defective canary and came back", total, onCanary)
}

// urlStreamIndex is a streaming web handler: it answers 201 with a header and a cookie (the HTTP prelude), writes
// "first\n", waits at the gate ?gate= names, then writes "second\n".
const urlStreamIndex = `const http = require('http');
exports.handler = awslambda.streamifyResponse(async (event, responseStream) => {
  responseStream = awslambda.HttpResponseStream.from(responseStream, {
    statusCode: 201, headers: { "content-type": "text/plain", "x-stream": "yes" }, cookies: ["s=1"] });
  responseStream.write("first\n");
  const gate = event.queryStringParameters && event.queryStringParameters.gate;
  if (gate) await new Promise((resolve, reject) => http.get(gate, (r) => { r.resume(); r.on("end", resolve); }).on("error", reject));
  responseStream.write("second\n");
  responseStream.end();
});
`

// TestFunctionURLStreaming: a RESPONSE_STREAM URL hands the client the function's first bytes — with the status,
// headers and cookies of its prelude — while the function is still running.
func TestFunctionURLStreaming(t *testing.T) {
	parallel(t)
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed")
	}
	s := startServer(t)
	c := s.Lambda()
	createFunction(t, c, "live-feed", func(in *lambda.CreateFunctionInput) {
		in.Runtime, in.Handler = types.RuntimeNodejs20x, aws.String("index.handler")
		in.Code = &types.FunctionCode{ZipFile: makeZip(t, zipFile{Name: "index.js", Body: urlStreamIndex})}
	})
	createFunction(t, c, "buffered-page", func(in *lambda.CreateFunctionInput) {
		in.Runtime, in.Handler = types.RuntimeNodejs20x, aws.String("index.handler")
		in.Code = &types.FunctionCode{ZipFile: makeZip(t, zipFile{Name: "index.mjs", Body: echoHandler})}
	})
	hc := urlClient(s)
	streamURL := createStreamURL(t, c, "live-feed")
	bufferedURL := createStreamURL(t, c, "buffered-page")

	g := newGate(t)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, streamURL+"?gate="+url.QueryEscape(g.srv.URL+"/gate"), nil)
	signURL(t, s, req, nil)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("X-Stream") != "yes" || resp.Header.Get("Set-Cookie") != "s=1" {
		t.Fatalf("streamed answer: %d %v", resp.StatusCode, resp.Header)
	}
	first := make([]byte, len("first\n"))
	if _, err := io.ReadFull(resp.Body, first); err != nil || string(first) != "first\n" {
		t.Fatalf("first bytes %q: %v", first, err)
	}
	// The client has the first bytes while the function is held: it reached the gate only after writing them, and
	// nothing lets it go on until the gate opens.
	select {
	case <-g.arrived:
	case <-time.After(time.Minute):
		t.Fatal("the function never reached its gate")
	}
	g.release()
	rest, err := io.ReadAll(resp.Body)
	if err != nil || string(rest) != "second\n" {
		t.Errorf("after the gate: %q %v", rest, err)
	}

	// A function that does not stream, behind a RESPONSE_STREAM URL, answers as it would through a buffered one.
	req, _ = http.NewRequestWithContext(t.Context(), http.MethodGet, bufferedURL+"plain", nil)
	signURL(t, s, req, nil)
	if a := urlDo(t, hc, req); a.status != http.StatusOK || string(a.body) != `{"hello":"world"}` {
		t.Errorf("buffered function on a streaming URL: %d %s %v", a.status, a.body, a.header)
	}
}

func createStreamURL(t *testing.T, c *lambda.Client, fn string) string {
	t.Helper()
	out, err := c.CreateFunctionUrlConfig(t.Context(), &lambda.CreateFunctionUrlConfigInput{FunctionName: aws.String(fn),
		AuthType: types.FunctionUrlAuthTypeAwsIam, InvokeMode: types.InvokeModeResponseStream})
	if err != nil {
		t.Fatal(err)
	}
	if out.InvokeMode != types.InvokeModeResponseStream {
		t.Errorf("CreateFunctionUrlConfig answered InvokeMode %q", out.InvokeMode)
	}
	return aws.ToString(out.FunctionUrl)
}
