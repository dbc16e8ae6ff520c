package e2e

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// browser starts headless Chromium (Debian's chromium, which .ci/run installs) for a test, at 1280×800. Without
// chromium the test skips, unless SLUICE_REQUIRE_CHROMIUM says it must run.
func browser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("SLUICE_REQUIRE_CHROMIUM") != "" {
			t.Fatal("chromium is required (SLUICE_REQUIRE_CHROMIUM): apt-get install chromium")
		}
		t.Skip("no chromium on PATH (Debian's chromium package)")
	}
	opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]), chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.WindowSize(1280, 800), chromedp.Flag("disable-dev-shm-usage", true), chromedp.UserDataDir(t.TempDir()))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// browse runs browser actions, bounded, failing the test on error.
func browse(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// read runs one browser action that returns a value.
func read[T any](t *testing.T, ctx context.Context, what string, action chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, action)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// signInLink runs `sluice ui` with env's credentials.
func signInLink(t *testing.T, env []string) string {
	t.Helper()
	out, stderr, code := sluice(t, env, "ui")
	link := strings.TrimSpace(out)
	if code != 0 || !strings.Contains(link, "/_sluice/ui/sign-in?token=") {
		t.Fatalf("sluice ui: exit %d: %q %s", code, out, stderr)
	}
	return link
}

// sample evaluates expr in the page until done says the sequence of distinct values it saw is complete, and returns
// that sequence. It reads the page the server keeps current; it never reloads it.
func sample(t *testing.T, ctx context.Context, expr string, limit time.Duration, done func([]string) bool) []string {
	t.Helper()
	var seen []string
	deadline := time.Now().Add(limit)
	for {
		v := read(t, ctx, "evaluate "+expr, chromedp.Evaluate[string](expr))
		if len(seen) == 0 || seen[len(seen)-1] != v {
			seen = append(seen, v)
		}
		if done(seen) {
			return seen
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: saw %q, never what the test waits for", expr, seen)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// waitFor polls the page until the JavaScript expression cond is true; it survives the navigations in between
// (a page that moves itself on), whose moments an evaluation may fail in.
func waitFor(t *testing.T, ctx context.Context, cond string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		ok, err := chromedp.Run(cctx, chromedp.Evaluate[bool](cond))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + "\n" + document.body.innerText`))
			t.Fatalf("waited for %s (last error %v); the page:\n%s", cond, err, body)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

const signedIn = `!!document.getElementById("principal")`

// screenshot saves the browser's viewport as a PNG: into docs/ when SLUICE_UPDATE_SCREENSHOTS is set (the README
// links them), else into the test's temporary directory.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png := read(t, ctx, "screenshot "+name, chromedp.FullScreenshot(100)) // the whole page, as a PNG
	if len(png) < 8 || string(png[1:4]) != "PNG" {
		t.Fatalf("screenshot %s is not a PNG", name)
	}
	dir := t.TempDir()
	if os.Getenv("SLUICE_UPDATE_SCREENSHOTS") != "" {
		dir = filepath.Join(moduleRoot, "docs")
	}
	writeFile(t, filepath.Join(dir, name), png)
}

// createViewer makes the IAM user "viewer", who may read functions, deployments and alarms and sign in to the
// console, but not act; it returns the user's environment for the CLI.
func createViewer(t *testing.T, s *server) []string {
	t.Helper()
	ctx := t.Context()
	c := s.IAM()
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("viewer")}); err != nil {
		t.Fatal(err)
	}
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["lambda:List*","lambda:Get*","codedeploy:Get*","codedeploy:List*","cloudwatch:Describe*","sluice:CreateSignInLink"],"Resource":"*"}]}`
	if _, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("viewer"), PolicyName: aws.String("read"), PolicyDocument: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}
	key, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("viewer")})
	if err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, kv := range s.Env() {
		if !strings.HasPrefix(kv, "AWS_ACCESS_KEY_ID=") && !strings.HasPrefix(kv, "AWS_SECRET_ACCESS_KEY=") {
			env = append(env, kv)
		}
	}
	return append(env, "AWS_ACCESS_KEY_ID="+aws.ToString(key.AccessKey.AccessKeyId), "AWS_SECRET_ACCESS_KEY="+aws.ToString(key.AccessKey.SecretAccessKey))
}

func TestUIConsole(t *testing.T) {
	parallel(t)
	ctx := browser(t)
	s := startServer(t, "--deploy-time-scale", "30") // a configured minute lasts 2 s: the 10% canary lasts 10 s
	c, cw, cd := s.Lambda(), s.CloudWatch(), s.CodeDeploy()
	createEcho(t, c, "orders")
	v1 := publishNew(t, c, "orders", "one")
	v2 := publishNew(t, c, "orders", "two")
	if _, err := c.UpdateFunctionConfiguration(t.Context(), &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("orders"),
		Environment: &types.Environment{Variables: map[string]string{"FAIL_ALL": "defect in v3"}}}); err != nil {
		t.Fatal(err)
	}
	waitUpdated(t, c, "orders")
	v3 := publishNew(t, c, "orders", "three (defective)")
	if _, err := c.CreateAlias(t.Context(), &lambda.CreateAliasInput{FunctionName: aws.String("orders"), Name: aws.String("live"), FunctionVersion: aws.String(v1)}); err != nil {
		t.Fatal(err)
	}
	putLiveAlarm(t, cw, "orders-errors", "Errors", "orders")
	createCanaryGroupWithRollback(t, cd, "orders-errors")
	viewerEnv := createViewer(t, s)

	// Sign in through the link; the link signs in once, and the page leaves the URL that held it.
	link := signInLink(t, s.Env())
	browse(t, ctx, "sign in", chromedp.Navigate(link))
	waitFor(t, ctx, signedIn)
	principal := read(t, ctx, "principal", chromedp.Text(chromedp.ID("principal")))
	location := read(t, ctx, "location", chromedp.Location())
	if principal != "arn:aws:iam::000000000000:root" || strings.Contains(location, "token") {
		t.Fatalf("signed in as %q at %s", principal, location)
	}
	if r := get(t, link, nil); r.Status != http.StatusUnauthorized {
		t.Fatalf("a used link answered %d", r.Status)
	}
	cookie := sessionCookie(t, ctx)
	if !cookie.HTTPOnly || cookie.SameSite != network.CookieSameSiteStrict || cookie.Expires <= float64(time.Now().Unix()) {
		t.Fatalf("session cookie %+v", cookie)
	}

	// The functions page: state, last update, versions, the alias's split as text.
	browse(t, ctx, "functions page", chromedp.WaitVisible(chromedp.ID("fn-orders")))
	fnText := read(t, ctx, "functions page", chromedp.Evaluate[string](`document.getElementById("fn-orders").innerText`))
	for _, want := range []string{"Active", "Successful", v1, v2, v3, "live", "version " + v1 + " 100%"} {
		if !strings.Contains(fnText, want) {
			t.Fatalf("functions page lacks %q:\n%s", want, fnText)
		}
	}

	// Traffic through the alias for the rest of the test, so the defective canary drives the alarm.
	var stop atomic.Bool
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			for !stop.Load() {
				_, _ = c.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("orders"), Qualifier: aws.String("live"), Payload: []byte(`{}`)})
			}
		})
	}
	defer func() { stop.Store(true); wg.Wait() }()

	// 1. A healthy canary: the chart moves 0 → 10% → 100% on the open page, which is never reloaded.
	id := createDeployment(t, cd, appSpecFor("orders", "live", v1, v2))
	browse(t, ctx, "deployment page", chromedp.Navigate(s.URL+"/_sluice/ui/deployments/"+id), chromedp.WaitVisible(chromedp.ID("chart")))
	read(t, ctx, "mark the page", chromedp.Evaluate[bool](`window.notReloaded = true`))
	shot := false
	weights := sample(t, ctx, `document.getElementById("state").dataset.weight`, 60*time.Second, func(seen []string) bool {
		if !shot && seen[len(seen)-1] == "10" {
			// The functions page's split at 10% as well, in a second tab of the same session.
			screenshot(t, ctx, "ui-deployment-canary.png")
			shot = true
		}
		return seen[len(seen)-1] == "100"
	})
	if i := slices.Index(weights, "10"); i < 0 || !slices.Contains(weights[i:], "100") {
		t.Fatalf("the page showed weights %q, want 10 then 100", weights)
	}
	notReloaded := read(t, ctx, "chart after the canary", chromedp.Evaluate[bool](`window.notReloaded === true`))
	sample(t, ctx, `document.getElementById("status").textContent`, 30*time.Second, func(seen []string) bool { return seen[len(seen)-1] == "Succeeded" })
	// (read in one evaluation each: the live region may be swapped between two queries of the protocol)
	actual := read(t, ctx, "chart", chromedp.Evaluate[string](`document.getElementById("actual").dataset.weights`))
	status := read(t, ctx, "status", chromedp.Evaluate[string](`document.getElementById("status").textContent`))
	if !notReloaded || actual != "0,10,100" || status != "Succeeded" {
		t.Fatalf("after the canary: not reloaded %v, actual weights %q, status %q", notReloaded, actual, status)
	}
	screenshot(t, ctx, "ui-deployment.png")

	// 2. A defective canary: its alarm turns red and the weight drops to 0 at the rollback, live.
	id = createDeployment(t, cd, appSpecFor("orders", "live", v2, v3))
	browse(t, ctx, "defective deployment page", chromedp.Navigate(s.URL+"/_sluice/ui/deployments/"+id), chromedp.WaitVisible(chromedp.ID("chart")))
	alarmExpr := `(() => { const b = document.querySelector('[data-alarm="orders-errors"] .badge'); return b ? b.dataset.state + "|" + b.className + "|" + document.getElementById("state").dataset.weight : "" })()`
	var alarmAt string
	seen := sample(t, ctx, alarmExpr, 60*time.Second, func(seen []string) bool {
		last := seen[len(seen)-1]
		if strings.HasPrefix(last, "ALARM|") && alarmAt == "" {
			alarmAt = last
			// The alarm is back to OK a period after the rollback: hold the page still for the screenshot (stopping
			// its loads ends the event stream), then load it again.
			read(t, ctx, "hold the page", chromedp.Evaluate[bool](`window.stop(), true`))
			screenshot(t, ctx, "ui-rollback.png")
			browse(t, ctx, "reload", chromedp.Navigate(s.URL+"/_sluice/ui/deployments/"+id), chromedp.WaitVisible(chromedp.ID("chart")))
		}
		return alarmAt != "" && strings.HasSuffix(last, "|0")
	})
	if !strings.Contains(alarmAt, "alarm-alarm") {
		t.Fatalf("the alarm's badge in ALARM is %q (want the red alarm-alarm class); saw %q", alarmAt, seen)
	}
	sample(t, ctx, `document.getElementById("status").textContent`, 30*time.Second, func(seen []string) bool { return seen[len(seen)-1] == "Stopped" })
	actual = read(t, ctx, "rollback chart", chromedp.Evaluate[string](`document.getElementById("actual").dataset.weights`))
	markers := read(t, ctx, "markers", chromedp.Evaluate[int](`document.querySelectorAll(".marker-rollback").length + document.querySelectorAll(".marker-alarm").length`))
	if !strings.HasPrefix(actual, "0,10") || !strings.HasSuffix(actual, ",0") || markers < 2 {
		t.Fatalf("rolled-back chart: actual weights %q, %d alarm/rollback markers", actual, markers)
	}

	// 3. Requests without the session, and forged actions, are refused; nothing is stopped by them.
	// (once the alarm is OK again, or it would stop the deployment at once; on a canary long enough to still be
	// running when the test stops it: 30 configured minutes last 60 s here)
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		out, err := cw.DescribeAlarms(t.Context(), &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"orders-errors"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.MetricAlarms) == 1 && out.MetricAlarms[0].StateValue == cwtypes.StateValueOk {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the alarm stays %+v", out.MetricAlarms)
		}
	}
	out, err := cd.CreateDeployment(t.Context(), &codedeploy.CreateDeploymentInput{ApplicationName: aws.String("app"), DeploymentGroupName: aws.String("dg"),
		DeploymentConfigName: aws.String("CodeDeployDefault.LambdaCanary10Percent30Minutes"),
		Revision: &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeAppSpecContent,
			AppSpecContent: &cdtypes.AppSpecContent{Content: aws.String(appSpecFor("orders", "live", v2, v1))}}})
	if err != nil {
		t.Fatal(err)
	}
	id = aws.ToString(out.DeploymentId)
	stopURL := s.URL + "/_sluice/ui/deployments/" + id + "/stop"
	for _, path := range []string{"/_sluice/ui/", "/_sluice/ui/deployments/" + id, "/_sluice/ui/deployments/" + id + "/live"} {
		if r := get(t, s.URL+path, nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("GET %s without the cookie: %d", path, r.Status)
		}
	}
	if r := postForm(t, stopURL, nil, url.Values{"rollback": {"yes"}}); r.Status != http.StatusUnauthorized {
		t.Fatalf("POST stop without the cookie: %d", r.Status)
	}
	withCookie := map[string]string{"Cookie": "sluice_console=" + cookie.Value}
	browse(t, ctx, "stop confirmation", chromedp.Navigate(stopURL), chromedp.WaitVisible(chromedp.ID("confirm-rollback")))
	csrf := viewerCSRF(t, ctx)
	forged := []struct {
		name   string
		header map[string]string
		form   url.Values
	}{
		{"no token", withCookie, url.Values{"rollback": {"yes"}}},
		{"wrong token", withCookie, url.Values{"rollback": {"yes"}, "csrf": {"AAAA" + csrf[4:]}}},
		{"other origin", merge(withCookie, map[string]string{"Origin": "http://evil.example"}), url.Values{"rollback": {"yes"}, "csrf": {csrf}}},
		{"cross-site fetch", merge(withCookie, map[string]string{"Sec-Fetch-Site": "cross-site"}), url.Values{"rollback": {"yes"}, "csrf": {csrf}}},
	}
	for _, f := range forged {
		if r := postForm(t, stopURL, f.header, f.form); r.Status != http.StatusForbidden {
			t.Fatalf("forged stop (%s): %d %s", f.name, r.Status, r.Body)
		}
	}

	// A read-only identity sees the pages and gets 403 on the action.
	browse(t, ctx, "sign in as viewer", chromedp.Navigate(signInLink(t, viewerEnv)))
	waitFor(t, ctx, signedIn+` && document.getElementById("principal").textContent.includes("viewer")`)
	principal = read(t, ctx, "principal", chromedp.Text(chromedp.ID("principal")))
	if principal != "arn:aws:iam::000000000000:user/viewer" {
		t.Fatalf("signed in as %q", principal)
	}
	browse(t, ctx, "viewer stops", chromedp.Navigate(stopURL), chromedp.WaitVisible(chromedp.ID("confirm-rollback")),
		chromedp.Click(chromedp.ID("confirm-rollback")))
	waitFor(t, ctx, `!!document.getElementById("message")`)
	message := read(t, ctx, "message", chromedp.Text(chromedp.ID("message")))
	if !strings.Contains(message, "AccessDenied") || !strings.Contains(message, "codedeploy:StopDeployment") {
		t.Fatalf("viewer's stop answered %q", message)
	}
	if r := get(t, stopURL, map[string]string{"Cookie": "sluice_console=" + sessionCookie(t, ctx).Value}); r.Status != http.StatusOK {
		t.Fatalf("viewer's confirmation page: %d", r.Status)
	}
	checkStatus := func(r rawResponse, want int) {
		t.Helper()
		if r.Status != want {
			t.Fatalf("status %d, want %d: %s", r.Status, want, r.Body)
		}
	}
	checkStatus(postForm(t, stopURL, map[string]string{"Cookie": "sluice_console=" + sessionCookie(t, ctx).Value},
		url.Values{"rollback": {"yes"}, "csrf": {viewerCSRF(t, ctx)}}), http.StatusForbidden)

	// The root acts on it, with confirmation; the timeline says who did.
	browse(t, ctx, "sign in again", chromedp.Navigate(signInLink(t, s.Env())))
	waitFor(t, ctx, signedIn+` && document.getElementById("principal").textContent.endsWith(":root")`)
	// It pauses it first (a traffic control), then stops it.
	browse(t, ctx, "pause", chromedp.Navigate(s.URL+"/_sluice/ui/deployments/"+id+"/control/pause"), chromedp.WaitVisible(chromedp.ID("confirm-control")),
		chromedp.Click(chromedp.ID("confirm-control")))
	waitFor(t, ctx, `location.pathname.endsWith("/deployments/`+id+`") && !!document.getElementById("timeline") && document.getElementById("timeline").innerText.includes("paused by arn:aws:iam::000000000000:root")`)
	browse(t, ctx, "stop", chromedp.Navigate(stopURL), chromedp.WaitVisible(chromedp.ID("confirm-rollback")),
		chromedp.Click(chromedp.ID("confirm-rollback")))
	waitFor(t, ctx, `location.pathname.endsWith("/deployments/`+id+`") && !!document.getElementById("timeline")`)
	sample(t, ctx, `document.getElementById("status").textContent`, 30*time.Second, func(seen []string) bool { return seen[len(seen)-1] == "Stopped" })
	waitFor(t, ctx, `document.getElementById("timeline").innerText.includes("stop requested by arn:aws:iam::000000000000:root with rollback")`)

	// The pages at a phone's width.
	browse(t, ctx, "phone width", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile), chromedp.Navigate(s.URL+"/_sluice/ui/"),
		chromedp.WaitVisible(chromedp.ID("fn-orders")))
	overflow := read(t, ctx, "no sideways scrolling", chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
	if overflow {
		t.Fatal("the functions page scrolls sideways at 390 px")
	}
	screenshot(t, ctx, "ui-functions-phone.png")
	browse(t, ctx, "desktop width", chromedp.ResetViewport(), chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("fn-orders")))
	screenshot(t, ctx, "ui-functions.png")
}

// viewerCSRF reads the anti-forgery token of the browser's current session from a page it renders.
func viewerCSRF(t *testing.T, ctx context.Context) string {
	t.Helper()
	return read(t, ctx, "read the CSRF token", chromedp.Value(chromedp.CSS(`input[name="csrf"]`)))
}

// sessionCookie reads the console's cookie from the browser (CDP sees HttpOnly cookies; pages cannot).
func sessionCookie(t *testing.T, ctx context.Context) *network.Cookie {
	t.Helper()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{})
	if err != nil {
		t.Fatalf("cookies: %v", err)
	}
	for _, c := range res.Cookies {
		if c.Name == "sluice_console" {
			return c
		}
	}
	t.Fatal("no sluice_console cookie")
	return nil
}

func merge(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func get(t *testing.T, u string, header map[string]string) rawResponse {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return doRaw(t, req)
}

func postForm(t *testing.T, u string, header map[string]string, form url.Values) rawResponse {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return doRaw(t, req)
}
