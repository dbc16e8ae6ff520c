// Command ui measures the web console in headless Chromium (Debian's chromium, driven over CDP by chromedp), against
// the real `sluice` binary:
//
//  1. Page weight: the first load, with the browser's cache off, of the functions page and of a deployment page —
//     every request the browser makes (HTML, CSS, JS, anything else), from the network domain: the bytes of the
//     bodies (uncompressed) and what crossed the connection (headers and bodies as transferred). The live region's
//     event stream stays open; its first event is counted apart.
//
//  2. Update latency: from an API call that changes what a page shows to the page's DOM showing it — an alias
//     moved with UpdateAlias (the functions page), a linear deployment's next step made with SkipWaitTime (the
//     deployment page) — -changes of each. The browser timestamps the DOM mutation that shows the change
//     (MutationObserver) and the arrival of each server-sent event; the harness timestamps the API call. Both read
//     the same clock, the machine's wall clock (performance.timeOrigin + performance.now() in the page).
//
//     go run ./bench/ui [-changes 30] [-sluice-bin path]
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/sluice-dev/sluice/bench/internal/benchiam"
	"github.com/sluice-dev/sluice/bench/internal/buildkit"
	"github.com/sluice-dev/sluice/bench/internal/hostinfo"
	"github.com/sluice-dev/sluice/bench/internal/sluiceproc"
	"github.com/sluice-dev/sluice/internal/awsraw"
	"github.com/sluice-dev/sluice/internal/sdkhttp"
	"github.com/sluice-dev/sluice/internal/stack"
)

const (
	accessKey = "AKIABENCHCONSOLEUI00"
	secretKey = "bench-ui-secret"
	fnName    = "console"
	alias     = "live"
	appName   = "console-app"
	groupName = "console-group"
	region    = "us-east-1"
)

func main() {
	changes := flag.Int("changes", 30, "alias moves, and deployment steps, measured")
	bin := flag.String("sluice-bin", "", "a prebuilt sluice binary to measure (default: build ./cmd/sluice)")
	flag.Parse()
	log.SetFlags(log.Ltime | log.Lmicroseconds)
	log.SetPrefix("bench/ui: ")
	if *changes < 1 {
		log.Fatal("-changes must be positive")
	}
	if err := run(context.Background(), *changes, *bin); err != nil {
		log.Fatal(err)
	}
}

type clients struct {
	cfg    aws.Config
	lambda *lambda.Client
	cd     *codedeploy.Client
}

func run(ctx context.Context, changes int, bin string) error {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		return errors.New("no chromium on PATH (Debian's chromium package)")
	}
	ws, err := buildkit.NewWorkspace(ctx, "sluice-bench-ui-", bin)
	if err != nil {
		return err
	}
	defer ws.Close()
	pkg, err := ws.Function(ctx, "./bench/deploy/fn", "fn")
	if err != nil {
		return err
	}
	srv, err := sluiceproc.Start(ws.Bin, filepath.Join(ws.Dir, "data"), nil,
		[]string{"SLUICE_ROOT_ACCESS_KEY_ID=" + accessKey, "SLUICE_ROOT_SECRET_ACCESS_KEY=" + secretKey},
		&syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM})
	if err != nil {
		return err
	}
	defer srv.Stop()
	cfg := aws.Config{Region: region, BaseEndpoint: aws.String(srv.Endpoint), Retryer: func() aws.Retryer { return aws.NopRetryer{} },
		HTTPClient: sdkhttp.Wrap(nil), Credentials: credentials.NewStaticCredentialsProvider(accessKey, secretKey, "")}
	c := &clients{cfg: cfg, lambda: lambda.NewFromConfig(cfg), cd: codedeploy.NewFromConfig(cfg)}
	if err := setup(ctx, c, pkg); err != nil {
		return fmt.Errorf("set-up: %w", err)
	}

	b, err := startBrowser(ctx, chromium, filepath.Join(ws.Dir, "chromium"))
	if err != nil {
		return err
	}
	defer b.close()
	link, _, err := stack.NewClient(cfg).CreateSignInLink(ctx)
	if err != nil {
		return err
	}
	if err := b.do(chromedp.Navigate(link)); err != nil {
		return fmt.Errorf("sign in: %w", err)
	}
	if err := b.waitJS(`!!document.getElementById("principal")`, 30*time.Second); err != nil {
		return fmt.Errorf("sign in: %w", err)
	}

	fnWeight, err := b.pageWeight(srv.Endpoint + "/_sluice/ui/")
	if err != nil {
		return fmt.Errorf("functions page: %w", err)
	}
	// Update latency on the functions page: each move of the alias, and the split text it leads to.
	if err := b.open(srv.Endpoint+"/_sluice/ui/", `(document.querySelector('#fn-`+fnName+` tr[data-alias="`+alias+`"] .split-text')||{}).textContent||""`); err != nil {
		return err
	}
	aliasSamples, err := measureAliasMoves(ctx, b, c, changes)
	if err != nil {
		return fmt.Errorf("alias moves: %w", err)
	}
	if changes%2 == 1 { // back on version 1, where the first deployment starts
		if _, err := c.lambda.UpdateAlias(ctx, &lambda.UpdateAliasInput{FunctionName: aws.String(fnName), Name: aws.String(alias),
			FunctionVersion: aws.String("1")}); err != nil {
			return err
		}
	}

	// The deployment the deployment page shows: a linear shift whose 10-minute waits only SkipWaitTime ends.
	deployment, err := createDeployment(ctx, c, "1", "2")
	if err != nil {
		return err
	}
	if err := waitWeight(ctx, c, 0.1); err != nil {
		return err
	}
	depWeight, err := b.pageWeight(srv.Endpoint + "/_sluice/ui/deployments/" + deployment)
	if err != nil {
		return fmt.Errorf("deployment page: %w", err)
	}

	// Update latency on the deployment page: each SkipWaitTime, and the target weight it leads to.
	var stepSamples []sample
	current, target := "1", "2"
	for len(stepSamples) < changes {
		if err := b.open(srv.Endpoint+"/_sluice/ui/deployments/"+deployment, `(document.getElementById("weight")||{}).textContent||""`); err != nil {
			return err
		}
		got, err := measureSteps(ctx, b, c, deployment, changes-len(stepSamples))
		if err != nil {
			return fmt.Errorf("deployment steps: %w", err)
		}
		stepSamples = append(stepSamples, got...)
		if len(stepSamples) >= changes {
			break
		}
		if err := waitDone(ctx, c, deployment); err != nil {
			return err
		}
		current, target = target, current
		if deployment, err = createDeployment(ctx, c, current, target); err != nil {
			return err
		}
		if err := waitWeight(ctx, c, 0.1); err != nil {
			return err
		}
	}

	report(ws.Source, fnWeight, depWeight, aliasSamples, stepSamples)
	return nil
}

// setup creates the function with two published versions, the alias on version 1, the roles, and a CodeDeploy
// application whose group shifts linearly with 10-minute waits.
func setup(ctx context.Context, c *clients, pkg []byte) error {
	if err := benchiam.CreateFunctionRole(ctx, c.lambda); err != nil {
		return err
	}
	if err := benchiam.CreateCodeDeployRole(ctx, iam.NewFromConfig(c.cfg)); err != nil {
		return err
	}
	if _, err := c.lambda.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String(fnName),
		Role: aws.String(benchiam.FunctionRole), Runtime: types.RuntimeProvidedal2023,
		Handler: aws.String("bootstrap"), Code: &types.FunctionCode{ZipFile: pkg}}); err != nil {
		return err
	}
	for v := range 2 {
		if err := waitUpdated(ctx, c.lambda); err != nil {
			return err
		}
		if v > 0 {
			if _, err := c.lambda.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String(fnName),
				Description: aws.String("version 2")}); err != nil {
				return err
			}
			if err := waitUpdated(ctx, c.lambda); err != nil {
				return err
			}
		}
		if _, err := c.lambda.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String(fnName)}); err != nil {
			return err
		}
	}
	if _, err := c.lambda.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String(fnName), Name: aws.String(alias),
		FunctionVersion: aws.String("1")}); err != nil {
		return err
	}
	if _, err := c.cd.CreateApplication(ctx, &codedeploy.CreateApplicationInput{ApplicationName: aws.String(appName),
		ComputePlatform: cdtypes.ComputePlatformLambda}); err != nil {
		return err
	}
	_, err := c.cd.CreateDeploymentGroup(ctx, &codedeploy.CreateDeploymentGroupInput{ApplicationName: aws.String(appName),
		DeploymentGroupName: aws.String(groupName), ServiceRoleArn: aws.String(benchiam.CodeDeployRole),
		DeploymentConfigName: aws.String("CodeDeployDefault.LambdaLinear10PercentEvery10Minutes"),
		DeploymentStyle:      &cdtypes.DeploymentStyle{DeploymentType: cdtypes.DeploymentTypeBlueGreen, DeploymentOption: cdtypes.DeploymentOptionWithTrafficControl}})
	return err
}

func waitUpdated(ctx context.Context, c *lambda.Client) error {
	w := lambda.NewFunctionUpdatedV2Waiter(c, func(o *lambda.FunctionUpdatedV2WaiterOptions) {
		o.MinDelay = 50 * time.Millisecond
		o.MaxDelay = 200 * time.Millisecond
	})
	return w.Wait(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(fnName)}, time.Minute)
}

func createDeployment(ctx context.Context, c *clients, current, target string) (string, error) {
	spec := fmt.Sprintf("version: 0.0\nResources:\n  - %s:\n      Type: AWS::Lambda::Function\n      Properties:\n        Name: %s\n        Alias: %s\n        CurrentVersion: %q\n        TargetVersion: %q\n",
		fnName, fnName, alias, current, target)
	out, err := c.cd.CreateDeployment(ctx, &codedeploy.CreateDeploymentInput{ApplicationName: aws.String(appName),
		DeploymentGroupName: aws.String(groupName),
		Revision: &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeAppSpecContent,
			AppSpecContent: &cdtypes.AppSpecContent{Content: aws.String(spec)}}})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.DeploymentId), nil
}

// waitWeight waits until the alias routes the given share to its additional version (the deployment's first step).
func waitWeight(ctx context.Context, c *clients, weight float64) error {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		a, err := c.lambda.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String(fnName), Name: aws.String(alias)})
		if err != nil {
			return err
		}
		if a.RoutingConfig != nil {
			for _, w := range a.RoutingConfig.AdditionalVersionWeights {
				if w == weight {
					return nil
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("the alias never reached weight %v", weight)
}

func waitDone(ctx context.Context, c *clients, id string) error {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		d, err := c.cd.GetDeployment(ctx, &codedeploy.GetDeploymentInput{DeploymentId: aws.String(id)})
		if err != nil {
			return err
		}
		if d.DeploymentInfo.Status == cdtypes.DeploymentStatusSucceeded {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("deployment %s did not succeed", id)
}

// sample is one change: when the API call began and returned, when the page received the server-sent event that
// carried it and when its DOM showed it (all Unix milliseconds, one clock).
type sample struct {
	begin, end, event, dom float64
}

func measureAliasMoves(ctx context.Context, b *browser, c *clients, n int) ([]sample, error) {
	var out []sample
	for i := range n {
		to := []string{"2", "1"}[i%2]
		begin := nowMs()
		if _, err := c.lambda.UpdateAlias(ctx, &lambda.UpdateAliasInput{FunctionName: aws.String(fnName), Name: aws.String(alias),
			FunctionVersion: aws.String(to)}); err != nil {
			return nil, err
		}
		end := nowMs()
		s, err := b.seen(begin, "version "+to+" 100%", end)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// measureSteps skips the wait of each step of the deployment until it completes or n steps were measured.
func measureSteps(ctx context.Context, b *browser, c *clients, id string, n int) ([]sample, error) {
	var out []sample
	for weight := 20; weight <= 100 && len(out) < n; weight += 10 {
		begin := nowMs()
		body, _ := json.Marshal(map[string]string{"deploymentId": id})
		resp, err := awsraw.Do(ctx, c.cfg, "codedeploy", "POST", "/", map[string]string{
			"X-Amz-Target": "CodeDeploy_20141006.SkipWaitTime", "Content-Type": "application/x-amz-json-1.1"}, body)
		if err != nil {
			return nil, err
		}
		if resp.Status != 200 {
			return nil, fmt.Errorf("SkipWaitTime: %d %s", resp.Status, resp.Body)
		}
		end := nowMs()
		s, err := b.seen(begin, fmt.Sprintf("%d%%", weight), end)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func nowMs() float64 { return float64(time.Now().UnixNano()) / 1e6 }

// browser is one headless Chromium tab.
type browser struct {
	ctx    context.Context
	cancel func()
}

// instrument runs in every page before its own script: it timestamps each server-sent event as it arrives (before
// the page's handler swaps the live region) and, through a MutationObserver, each new value of window.__probe()
// (set per page by open) with the moment the DOM first showed it.
const instrument = `(() => {
  const now = () => performance.timeOrigin + performance.now();
  window.__events = []; window.__values = [];
  const Native = window.EventSource;
  window.EventSource = function (url, opts) {
    const s = new Native(url, opts);
    s.addEventListener("update", () => window.__events.push(now()));
    return s;
  };
  window.EventSource.prototype = Native.prototype;
  let last;
  const record = () => {
    if (!window.__probe) return;
    const v = window.__probe();
    if (v !== last) { last = v; window.__values.push([now(), v]); }
  };
  new MutationObserver(record).observe(document, {subtree: true, childList: true, characterData: true, attributes: true});
  window.__record = record;
})();`

func startBrowser(ctx context.Context, chromium, userDir string) (*browser, error) {
	opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]), chromedp.ExecPath(chromium), chromedp.NoSandbox,
		chromedp.WindowSize(1280, 800), chromedp.Flag("disable-dev-shm-usage", true), chromedp.UserDataDir(userDir))
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancel := chromedp.NewContext(alloc)
	b := &browser{ctx: bctx, cancel: func() { cancel(); cancelAlloc() }}
	if _, err := chromedp.Call(bctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: instrument}); err != nil {
		b.close()
		return nil, fmt.Errorf("start chromium: %w", err)
	}
	return b, nil
}

func (b *browser) close() { b.cancel() }

func (b *browser) do(actions ...chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	return chromedp.Do(ctx, actions...)
}

func (b *browser) waitJS(cond string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](cond))
		cancel()
		if err == nil && ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("waited for %s: %v", cond, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// open navigates to a page, sets the probe whose values the observer records, and waits for its live stream to be
// open.
func (b *browser) open(url, probe string) error {
	if err := b.do(chromedp.Navigate(url)); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](`window.__probe = () => `+probe+`; window.__record(); true`)); err != nil {
		return err
	}
	// The stream's first event is the region as it stands: once it has arrived, later events are changes.
	return b.waitJS(`window.__events.length > 0`, 30*time.Second)
}

// seen waits until the probe showed a value containing want at or after begin, and returns the sample: the DOM's
// moment, and that of the last event to arrive before it.
func (b *browser) seen(begin float64, want string, end float64) (sample, error) {
	js := fmt.Sprintf(`new Promise((resolve) => {
  const find = () => {
    const hit = window.__values.find(([t, v]) => t >= %f && v.includes(%q));
    if (!hit) return false;
    const events = window.__events.filter((t) => t >= %f && t <= hit[0]);
    resolve([hit[0], events.length ? events[events.length - 1] : 0]);
    return true;
  };
  if (find()) return;
  const iv = setInterval(() => { if (find()) clearInterval(iv); }, 5);
})`, begin, want, begin)
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	await := true
	v, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](js, func(p *runtime.EvaluateParams) { p.AwaitPromise = &await }))
	if err != nil {
		return sample{}, fmt.Errorf("waiting for %q: %w", want, err)
	}
	if len(v) != 2 {
		return sample{}, fmt.Errorf("waiting for %q: %v", want, v)
	}
	return sample{begin: begin, end: end, dom: v[0], event: v[1]}, nil
}

// weight is one page's first load.
type weight struct {
	requests []request
	stream   request // the live region's event stream, counted apart
}

type request struct {
	url, mime               string
	body, transferred       int64 // decoded body bytes; bytes on the connection (headers and body)
	finished, isEventStream bool
	failed                  string // the browser's error, for a request that failed
}

// pageWeight loads url with the cache off and sums every request the page made until it was loaded and its live
// stream had delivered its first event.
func (b *browser) pageWeight(url string) (weight, error) {
	// Leave the previous page first, so that none of its late requests (Chromium fetches a favicon after a load)
	// is counted as this page's.
	if err := b.do(chromedp.Navigate("about:blank")); err != nil {
		return weight{}, err
	}
	var mu sync.Mutex
	reqs := map[network.RequestID]*request{}
	var order []network.RequestID
	lctx, stopListening := context.WithCancel(b.ctx)
	defer stopListening()
	if err := chromedp.Listen(lctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			if _, ok := reqs[e.RequestID]; !ok && !strings.HasPrefix(e.Request.URL, "about:") {
				reqs[e.RequestID] = &request{url: e.Request.URL, isEventStream: e.Type == network.ResourceTypeEventSource}
				order = append(order, e.RequestID)
			}
		case *network.EventResponseReceived:
			if r, ok := reqs[e.RequestID]; ok {
				r.mime = e.Response.MimeType
				r.isEventStream = r.isEventStream || e.Response.MimeType == "text/event-stream"
				r.transferred = int64(e.Response.EncodedDataLength) // headers so far
			}
		case *network.EventDataReceived:
			if r, ok := reqs[e.RequestID]; ok {
				r.body += e.DataLength
				r.transferred += e.EncodedDataLength
			}
		case *network.EventLoadingFinished:
			if r, ok := reqs[e.RequestID]; ok {
				r.finished = true
				r.transferred = int64(e.EncodedDataLength)
			}
		case *network.EventLoadingFailed:
			if r, ok := reqs[e.RequestID]; ok {
				r.finished, r.failed = true, e.ErrorText
			}
		}
	}); err != nil {
		return weight{}, err
	}
	if _, err := chromedp.Call(b.ctx, network.Enable, network.EnableParams{}); err != nil {
		return weight{}, err
	}
	if _, err := chromedp.Call(b.ctx, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true}); err != nil {
		return weight{}, err
	}
	defer chromedp.Call(b.ctx, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: false})
	if err := b.do(chromedp.Navigate(url)); err != nil {
		return weight{}, err
	}
	if err := b.waitJS(`document.readyState === "complete" && window.__events.length > 0`, 30*time.Second); err != nil {
		return weight{}, err
	}
	// Every request but the stream ends by the load event; wait for their last network events to be delivered. One
	// the page's network domain never hears the end of (Chromium's own favicon fetch) is reported as such.
	deadline := time.Now().Add(3 * time.Second)
	for {
		mu.Lock()
		var pending []string
		for _, r := range reqs {
			if !r.finished && !r.isEventStream {
				pending = append(pending, r.url+" ("+r.mime+")")
			}
		}
		mu.Unlock()
		if len(pending) == 0 {
			break
		}
		if time.Now().After(deadline) {
			log.Printf("no end reported for: %s", strings.Join(pending, ", "))
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	stopListening()
	mu.Lock()
	defer mu.Unlock()
	var w weight
	for _, id := range order {
		r := *reqs[id]
		if r.isEventStream {
			w.stream = r
			continue
		}
		w.requests = append(w.requests, r)
	}
	return w, nil
}

func (w weight) totals() (body, transferred int64) {
	for _, r := range w.requests {
		body += r.body
		transferred += r.transferred
	}
	return body, transferred
}

func kb(n int64) string { return fmt.Sprintf("%.1f KB", float64(n)/1024) }

func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// spread is p50 / p95 / max of a measure over the samples, in milliseconds.
func spread(samples []sample, f func(sample) float64) string {
	v := make([]float64, 0, len(samples))
	for _, s := range samples {
		v = append(v, f(s))
	}
	sort.Float64s(v)
	return fmt.Sprintf("%.1f / %.1f / %.1f ms", percentile(v, 0.5), percentile(v, 0.95), v[len(v)-1])
}

func report(source string, fn, dep weight, aliasSamples, stepSamples []sample) {
	fmt.Printf("# Web console (%s)\n\n%s\n\n", source, hostinfo.Description())
	fmt.Printf("## Page weight: first load, cache off\n\n| page | requests | bodies (uncompressed) | transferred (headers + bodies) | live stream's first event |\n|---|---|---|---|---|\n")
	for _, p := range []struct {
		name string
		w    weight
	}{{"functions", fn}, {"deployment", dep}} {
		body, transferred := p.w.totals()
		fmt.Printf("| %s | %d | %s | %s | %s |\n", p.name, len(p.w.requests), kb(body), kb(transferred), kb(p.w.stream.body))
	}
	fmt.Printf("\n| page | request | type | body | transferred |\n|---|---|---|---|---|\n")
	for _, p := range []struct {
		name string
		w    weight
	}{{"functions", fn}, {"deployment", dep}} {
		for _, r := range p.w.requests {
			path := r.url
			if i := strings.Index(path, "/_sluice/"); i >= 0 {
				path = path[i:]
			}
			if r.failed != "" {
				path += " (failed: " + r.failed + ")"
			}
			if !r.finished {
				path += " (no response reported to the page's network domain)"
			}
			fmt.Printf("| %s | %s | %s | %d B | %d B |\n", p.name, path, r.mime, r.body, r.transferred)
		}
	}
	fmt.Printf("\n## Update latency, p50 / p95 / max\n\n| change | n | API call (begin → return) | begin → event arrived | begin → DOM shows it | event → DOM |\n|---|---|---|---|---|---|\n")
	for _, m := range []struct {
		name    string
		samples []sample
	}{{"UpdateAlias → functions page split", aliasSamples}, {"SkipWaitTime → deployment page weight", stepSamples}} {
		fmt.Printf("| %s | %d | %s | %s | %s | %s |\n", m.name, len(m.samples),
			spread(m.samples, func(s sample) float64 { return s.end - s.begin }),
			spread(m.samples, func(s sample) float64 { return s.event - s.begin }),
			spread(m.samples, func(s sample) float64 { return s.dom - s.begin }),
			spread(m.samples, func(s sample) float64 { return s.dom - s.event }))
	}
}
