package e2e

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
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

// signInBrowser opens a sign-in link and presses its button: the one click a person makes.
func signInBrowser(t *testing.T, ctx context.Context, link string) {
	t.Helper()
	browse(t, ctx, "open the sign-in link", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.ID("sign-in")))
	browse(t, ctx, "press Sign in", chromedp.Click(chromedp.ID("sign-in")))
}

// axeFiles are the files of testdata/axe: the lock file pins the axe-core npm ci installs.
var axeFiles = []string{"package.json", "package-lock.json"}

// installAxe installs axe-core (the accessibility rules engine; a test tool, never shipped with Sluice) into a
// temporary directory with npm ci, and returns its script.
func installAxe(t *testing.T) string {
	t.Helper()
	_, npm := requireNode(t)
	dir := t.TempDir()
	for _, name := range axeFiles {
		b, err := os.ReadFile(filepath.Join("testdata", "axe", name))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, name), b)
	}
	npmEnv := append(baseEnv(), "npm_config_update_notifier=false", "npm_config_fund=false", "npm_config_audit=false")
	if stdout, stderr, code := run(t, npmEnv, dir, npm, "ci", "--no-audit", "--no-fund"); code != 0 {
		t.Fatalf("npm ci (axe-core): exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	b, err := os.ReadFile(filepath.Join(dir, "node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkAccessibility runs axe-core on the browser's current page and fails the test on every violation of impact
// serious or critical, naming the rule and the elements. The script is evaluated through the DevTools protocol,
// not added to the page, whose Content-Security-Policy allows only its own script.
func checkAccessibility(t *testing.T, ctx context.Context, axe, page string) {
	t.Helper()
	if found := axeViolations(t, ctx, axe, page); found != "" {
		t.Errorf("accessibility violations on the %s page:\n%s", page, found)
	}
}

// axeViolations lists the serious and critical violations axe-core finds on the browser's current page.
func axeViolations(t *testing.T, ctx context.Context, axe, page string) string {
	t.Helper()
	read(t, ctx, "load axe-core on "+page, chromedp.Evaluate[bool](`(() => { if (typeof window.axe === "undefined") { `+axe+`
	} return true })()`))
	found := read(t, ctx, "axe-core on "+page, chromedp.Evaluate[string](`axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations
		.filter(v => v.impact === "serious" || v.impact === "critical")
		.map(v => v.impact + " " + v.id + " (" + v.help + "): " + v.nodes.map(n => n.target.join(" ") + " — " + n.failureSummary).join("; "))
		.join("\n"))`, chromedp.EvalAwaitPromise))
	return found
}

// checkKeyboard presses Tab through the browser's current page and fails the test on a visible link, button or
// form control that never receives the focus. The page is held still first (window.stop() ends its event stream),
// so that the elements the Tabs visit are the ones checked.
func checkKeyboard(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	const controls = `[...document.querySelectorAll("a[href], button, input:not([type=hidden]), select, textarea, summary")].filter(e => e.getClientRects().length > 0)`
	n := read(t, ctx, "hold "+page, chromedp.Evaluate[int](`window.stop(), document.activeElement && document.activeElement.blur(), `+controls+`.length`))
	for range n + 3 {
		browse(t, ctx, "Tab on "+page, chromedp.KeyEvent("\t"))
		read(t, ctx, "mark the focus", chromedp.Evaluate[bool](`document.activeElement ? (document.activeElement.dataset.tabbed = "yes", true) : false`))
	}
	missed := read(t, ctx, "unreached on "+page, chromedp.Evaluate[string](controls+`.filter(e => e.dataset.tabbed !== "yes").map(e => e.outerHTML.slice(0, 120)).join("\n")`))
	if missed != "" {
		t.Errorf("on the %s page, Tab never reaches:\n%s", page, missed)
	}
}

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
	axe := installAxe(t)
	// The check finds what it is there to find: an image without a text alternative, a button without a name.
	browse(t, ctx, "a page with faults", chromedp.Navigate(`data:text/html,<!doctype html><html lang="en"><title>x</title><main><img src="x.png"><button></button></main></html>`))
	if found := axeViolations(t, ctx, axe, "faulty"); !strings.Contains(found, "image-alt") || !strings.Contains(found, "button-name") {
		t.Fatalf("axe-core on a faulty page found %q", found)
	}
	s := startServer(t, "--deploy-time-scale", "30") // a configured minute lasts 2 s: the 10% canary lasts 10 s
	c, cw, cd := s.Lambda(), s.CloudWatch(), s.CodeDeploy()
	createEcho(t, c, "orders")
	createEcho(t, c, "audit") // no background traffic: its logs page shows the test's own lines
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

	// A link preview's GET of the link shows the sign-in button and uses nothing up.
	link := signInLink(t, s.Env())
	for range 2 {
		if r := get(t, link, nil); r.Status != http.StatusOK || !strings.Contains(string(r.Body), `id="sign-in"`) || r.Header.Get("Set-Cookie") != "" {
			t.Fatalf("GET of the sign-in link: %d %s", r.Status, r.Body)
		}
	}
	// Sign in through the link (one click); the link signs in once, and the page leaves the URL that held it.
	browse(t, ctx, "open the sign-in link", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.ID("sign-in")))
	checkAccessibility(t, ctx, axe, "sign-in")
	browse(t, ctx, "press Sign in", chromedp.Click(chromedp.ID("sign-in")))
	waitFor(t, ctx, signedIn)
	principal := read(t, ctx, "principal", chromedp.Text(chromedp.ID("principal")))
	location := read(t, ctx, "location", chromedp.Location())
	if principal != "arn:aws:iam::000000000000:root" || strings.Contains(location, "token") {
		t.Fatalf("signed in as %q at %s", principal, location)
	}
	linkURL, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	if r := postForm(t, s.URL+"/_sluice/ui/sign-in", nil, url.Values{"token": {linkURL.Query().Get("token")}}); r.Status != http.StatusUnauthorized {
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
	checkAccessibility(t, ctx, axe, "functions")

	// The logs page of a function follows it: a line the function prints appears without a reload, as text.
	browse(t, ctx, "logs page", chromedp.Click(chromedp.ID("logs-audit")), chromedp.WaitVisible(chromedp.ID("log-lines")))
	read(t, ctx, "mark the logs page", chromedp.Evaluate[bool](`window.notReloaded = true`))
	marker := "<b>printed by the test</b> " + time.Now().Format(time.RFC3339Nano)
	invokeJSON(t, c, "audit", "", `{"log":`+strconv.Quote(marker)+`}`)
	waitFor(t, ctx, `document.getElementById("log-lines").textContent.includes(`+strconv.Quote(marker)+`)`)
	logOK := read(t, ctx, "the line is text", chromedp.Evaluate[bool](`window.notReloaded === true && !document.querySelector("#log-lines b")`))
	if !logOK {
		t.Fatal("the logs page reloaded, or interpreted the line's markup")
	}
	screenshot(t, ctx, "ui-logs.png")
	checkAccessibility(t, ctx, axe, "logs")

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
	checkAccessibility(t, ctx, axe, "deployment")

	// The alias's metrics, from the deployment's link: the invocation count grows as the traffic goes on, live; the
	// alarm's threshold is drawn, and its state written.
	browse(t, ctx, "metrics page", chromedp.Click(chromedp.ID("alias-metrics")), chromedp.WaitVisible(chromedp.ID("chart-invocations")))
	read(t, ctx, "mark the metrics page", chromedp.Evaluate[bool](`window.notReloaded = true`))
	first := read(t, ctx, "invocations", chromedp.Evaluate[string](`document.getElementById("totals").dataset.invocations`))
	n0, err := strconv.Atoi(first)
	if err != nil {
		t.Fatalf("invocations %q", first)
	}
	sample(t, ctx, `document.getElementById("totals").dataset.invocations`, 30*time.Second, func(seen []string) bool {
		n, err := strconv.Atoi(seen[len(seen)-1])
		return err == nil && n > n0
	})
	metricsState := read(t, ctx, "metrics page", chromedp.Evaluate[string](`(() => {
		const line = document.querySelector('#chart-errors [data-alarm-threshold="orders-errors"]');
		const badge = document.querySelector('[data-alarm="orders-errors"] .badge');
		const v2 = document.querySelector('#versions [data-version="`+v2+`"]');
		return [window.notReloaded === true, !!line && line.dataset.state, !!badge && badge.textContent, !!v2, line ? line.textContent : ""].join("|") })()`))
	if parts := strings.Split(metricsState, "|"); len(parts) != 5 || parts[0] != "true" || parts[1] == "false" || parts[1] != parts[2] || parts[3] != "true" ||
		!strings.Contains(parts[4], "orders-errors Sum of Errors per 1s ≥ 1") {
		t.Fatalf("metrics page: not reloaded | threshold line's state | alarm's state | version %s row | line label: %q", v2, metricsState)
	}
	screenshot(t, ctx, "ui-metrics.png")
	checkAccessibility(t, ctx, axe, "metrics")
	checkKeyboard(t, ctx, "metrics")

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
	checkAccessibility(t, ctx, axe, "stop confirmation")
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
	signInBrowser(t, ctx, signInLink(t, viewerEnv))
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
	checkAccessibility(t, ctx, axe, "error")
	if r := get(t, stopURL, map[string]string{"Cookie": "sluice_console=" + sessionCookie(t, ctx).Value}); r.Status != http.StatusOK {
		t.Fatalf("viewer's confirmation page: %d", r.Status)
	}
	// It may not read logs: the logs page is a 403 that says which permission is missing.
	logsURL := s.URL + "/_sluice/ui/functions/audit/logs"
	if r := get(t, logsURL, map[string]string{"Cookie": "sluice_console=" + sessionCookie(t, ctx).Value}); r.Status != http.StatusForbidden ||
		!strings.Contains(string(r.Body), "logs:FilterLogEvents") || strings.Contains(string(r.Body), "printed by the test") {
		t.Fatalf("viewer's logs page: %d %s", r.Status, r.Body)
	}
	if r := get(t, logsURL+"/live", map[string]string{"Cookie": "sluice_console=" + sessionCookie(t, ctx).Value}); strings.Contains(string(r.Body), "printed by the test") {
		t.Fatalf("viewer's logs stream: %d %s", r.Status, r.Body)
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
	signInBrowser(t, ctx, signInLink(t, s.Env()))
	waitFor(t, ctx, signedIn+` && document.getElementById("principal").textContent.endsWith(":root")`)
	// It pauses it first (a traffic control), then stops it.
	browse(t, ctx, "pause", chromedp.Navigate(s.URL+"/_sluice/ui/deployments/"+id+"/control/pause"), chromedp.WaitVisible(chromedp.ID("confirm-control")))
	checkAccessibility(t, ctx, axe, "pause confirmation")
	browse(t, ctx, "confirm the pause", chromedp.Click(chromedp.ID("confirm-control")))
	waitFor(t, ctx, `location.pathname.endsWith("/deployments/`+id+`") && !!document.getElementById("timeline") && document.getElementById("timeline").innerText.includes("paused by arn:aws:iam::000000000000:root")`)
	// Every action of a running deployment is reachable by the keyboard.
	checkAccessibility(t, ctx, axe, "paused deployment")
	checkKeyboard(t, ctx, "paused deployment")
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
	browse(t, ctx, "desktop width", chromedp.EmulateViewport(1280, 800), chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("fn-orders")))
	screenshot(t, ctx, "ui-functions.png")
	checkKeyboard(t, ctx, "functions")
	browse(t, ctx, "deployments", chromedp.Navigate(s.URL+"/_sluice/ui/deployments"), chromedp.WaitVisible(chromedp.CSS("table.list")))
	checkAccessibility(t, ctx, axe, "deployments")

	// Signing out ends the session.
	browse(t, ctx, "sign out", chromedp.Click(chromedp.CSS(`.who button`)))
	waitFor(t, ctx, `document.querySelector("h1") && document.querySelector("h1").textContent === "Signed out"`)
	checkAccessibility(t, ctx, axe, "signed out")
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
