package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/sluice-dev/sluice/bench/internal/benchiam"
	"github.com/sluice-dev/sluice/bench/internal/sluiceproc"
	"github.com/sluice-dev/sluice/internal/sdkhttp"
)

const (
	accessKey = "AKIABENCHBENCHBENCH0"
	secretKey = "bench-secret"
	role      = benchiam.FunctionRole
)

// extraServeArgs are added to `sluice serve` (flag -serve-args), e.g. --no-invocation-metrics to measure what
// recording metrics costs.
var extraServeArgs []string

// sluiceServer is the real `sluice serve` binary on a fresh data dir.
type sluiceServer = sluiceproc.Server

func startSluice(bin, dataDir string, env ...string) (*sluiceServer, error) {
	// SIGTERM if the harness dies: the server then destroys its sandboxes itself.
	return sluiceproc.Start(bin, dataDir, extraServeArgs,
		append([]string{"SLUICE_ROOT_ACCESS_KEY_ID=" + accessKey, "SLUICE_ROOT_SECRET_ACCESS_KEY=" + secretKey}, env...), childAttr(syscall.SIGTERM, false))
}

// client is what a real caller uses: aws-sdk-go-v2 with SigV4 signing. Retries are off so every failure is
// counted rather than hidden, and the connection pool holds one connection per worker, as for the other targets.
func sluiceClient(s *sluiceServer, concurrency int) *lambda.Client {
	return sdkClient(s.Endpoint, concurrency)
}

func sdkClient(endpoint string, concurrency int) *lambda.Client {
	hc := awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConns = 0
		t.MaxIdleConnsPerHost = concurrency
	})
	return lambda.New(lambda.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(endpoint), HTTPClient: sdkhttp.Wrap(hc), Retryer: aws.NopRetryer{},
		Credentials: credentials.NewStaticCredentialsProvider(accessKey, secretKey, ""),
	})
}

// setupCanary creates the benchmark function with two published versions of the same code (the description
// differs) and the alias `live` sending 10% of invocations to version 2.
func setupCanary(ctx context.Context, c *lambda.Client, name string, pkg []byte) error {
	if _, err := c.CreateFunction(ctx, createInput(name, pkg)); err != nil {
		return err
	}
	if err := waitActive(ctx, c, name); err != nil {
		return err
	}
	if _, err := c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: &name, Description: aws.String("v1")}); err != nil {
		return err
	}
	if _, err := c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: &name, Description: aws.String("v2")}); err != nil {
		return err
	}
	if err := waitUpdated(ctx, c, name); err != nil {
		return err
	}
	if _, err := c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: &name, Description: aws.String("v2")}); err != nil {
		return err
	}
	_, err := c.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: &name, Name: aws.String("live"), FunctionVersion: aws.String("1"),
		RoutingConfig: &types.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{"2": 0.1}}})
	return err
}

func createInput(name string, pkg []byte) *lambda.CreateFunctionInput {
	return &lambda.CreateFunctionInput{FunctionName: &name, Role: aws.String(role), Runtime: types.RuntimeProvidedal2023,
		Handler: aws.String("bootstrap"), Code: &types.FunctionCode{ZipFile: pkg},
		Environment: &types.Environment{Variables: map[string]string{"SAMPLE": "0"}}}
}

func waitActive(ctx context.Context, c *lambda.Client, name string) error {
	w := lambda.NewFunctionActiveV2Waiter(c, func(o *lambda.FunctionActiveV2WaiterOptions) {
		o.MinDelay, o.MaxDelay = 10*time.Millisecond, 500*time.Millisecond
	})
	return w.Wait(ctx, &lambda.GetFunctionInput{FunctionName: &name}, time.Minute)
}

func waitUpdated(ctx context.Context, c *lambda.Client, name string) error {
	w := lambda.NewFunctionUpdatedV2Waiter(c, func(o *lambda.FunctionUpdatedV2WaiterOptions) {
		o.MinDelay, o.MaxDelay = 10*time.Millisecond, 500*time.Millisecond
	})
	return w.Wait(ctx, &lambda.GetFunctionInput{FunctionName: &name}, time.Minute)
}

// versionCount tallies which version the alias routed each invocation to (ExecutedVersion).
type versionCount struct {
	mu sync.Mutex
	n  map[string]int
}

func (v *versionCount) add(version string) {
	v.mu.Lock()
	v.n[version]++
	v.mu.Unlock()
}

func (v *versionCount) reset() map[string]int {
	v.mu.Lock()
	defer v.mu.Unlock()
	old := v.n
	v.n = map[string]int{}
	return old
}

// sdkInvoker invokes name:qualifier through the SDK and checks the function echoed the payload.
func sdkInvoker(c *lambda.Client, name, qualifier string, payload []byte, versions *versionCount) invoker {
	return func(ctx context.Context) error {
		out, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: &name, Qualifier: aws.String(qualifier), Payload: payload})
		if err != nil {
			return err
		}
		if out.FunctionError != nil {
			return fmt.Errorf("function error %s: %.80s", *out.FunctionError, out.Payload)
		}
		if !bytes.Equal(out.Payload, payload) {
			return fmt.Errorf("unexpected answer: %.80s", out.Payload)
		}
		versions.add(aws.ToString(out.ExecutedVersion))
		return nil
	}
}

// signedInvoker invokes name:qualifier the way the other targets are invoked, with plain net/http, plus what
// Sluice requires of every caller: a SigV4 signature (aws-sdk-go-v2's signer, payload hash included). It checks
// the function echoed the payload and tallies the version that ran.
func signedInvoker(client *http.Client, endpoint, name, qualifier string, payload []byte, versions *versionCount) invoker {
	signer := v4.NewSigner()
	creds := aws.Credentials{AccessKeyID: accessKey, SecretAccessKey: secretKey}
	url := endpoint + "/2015-03-31/functions/" + name + "/invocations?Qualifier=" + qualifier
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(payload))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		sum := sha256.Sum256(payload)
		if err := signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "lambda", "us-east-1", time.Now()); err != nil {
			return err
		}
		header, body, err := send(client, req)
		switch {
		case err != nil:
			return err
		case header.Get("X-Amz-Function-Error") != "":
			return fmt.Errorf("function error %s: %.80s", header.Get("X-Amz-Function-Error"), body)
		case !bytes.Equal(body, payload):
			return fmt.Errorf("unexpected answer: %.80s", body)
		}
		versions.add(header.Get("X-Amz-Executed-Version"))
		return nil
	}
}

// sluiceColdSample forces a cold start of $LATEST: changing an environment variable makes a new configuration,
// whose pool has no environment yet. The invocation asks for the log tail to read Sluice's Init Duration (spawn
// + sandbox set-up + the runtime's start until its first GET /next).
func sluiceColdSample(ctx context.Context, c *lambda.Client, name string, i int, payload []byte) (coldSample, error) {
	var s coldSample
	_, err := c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: &name,
		Environment: &types.Environment{Variables: map[string]string{"SAMPLE": strconv.Itoa(i)}}})
	if err != nil {
		return s, err
	}
	if err := waitUpdated(ctx, c, name); err != nil {
		return s, err
	}
	start := time.Now()
	out, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: &name, Payload: payload, LogType: types.LogTypeTail})
	s.first = time.Since(start)
	if err != nil {
		return s, err
	}
	logs, _ := base64.StdEncoding.DecodeString(aws.ToString(out.LogResult))
	d, ok := parseInitDuration(string(logs))
	if !ok {
		return s, errServedWarm
	}
	s.init = d
	start = time.Now()
	if _, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: &name, Payload: payload}); err != nil {
		return s, err
	}
	s.warm = time.Since(start)
	return s, nil
}

// sluiceCold creates a function of its own (unqualified, $LATEST) and forces n cold starts of it, after one
// discarded.
//
// An invocation that should have been cold but was served by a warm environment (no Init Duration: it reached
// the previous configuration's environment although the function-updated-v2 waiter had seen the update
// settle) is a server misbehaviour: it is counted, reported, and the sample taken again.
//
// Before each sample the bootstrap is also started directly on the host (hostAPI), so that every cold start has a
// start-up of the function's own taken a moment before, with the server and its environments alive: the block of
// host samples the report also shows is taken with nothing else running, under other conditions.
func sluiceCold(ctx context.Context, c *lambda.Client, pkg []byte, n int, hostAPI *fakeRuntimeAPI, bootstrap string) (samples []coldSample, servedWarm int, err error) {
	const name = "cold"
	if _, err := c.CreateFunction(ctx, createInput(name, pkg)); err != nil {
		return nil, 0, err
	}
	if err := waitActive(ctx, c, name); err != nil {
		return nil, 0, err
	}
	update := 0
	samples, err = collectCold(n, func(int) (coldSample, error) {
		for {
			update++
			host, err := hostAPI.directSample(ctx, bootstrap)
			if err != nil {
				return coldSample{}, err
			}
			s, err := sluiceColdSample(ctx, c, name, update, payload)
			s.host = host
			if !errors.Is(err, errServedWarm) {
				return s, err
			}
			if servedWarm++; servedWarm > n {
				return s, fmt.Errorf("%d forced cold starts were served warm", servedWarm)
			}
		}
	})
	return samples, servedWarm, err
}

// errServedWarm is a forced cold start that reached a warm environment.
var errServedWarm = errors.New("the forced cold start was served by a warm environment")

var reportDurationRE = regexp.MustCompile(`REPORT RequestId: \S+\tDuration: ([0-9.]+) ms`)

// breakdown is where a warm invocation's time goes: the REPORT line's Duration is Sluice's own clock from
// handing the event to the runtime until its answer (the Runtime API round trip through the function); the
// rest of the client-observed latency is the SDK, HTTP, SigV4 verification, routing and log handling.
type breakdown struct {
	client, function, rest time.Duration // p50s
	n                      int
}

// sluiceBreakdown runs n sequential invocations through the alias asking for the log tail (which adds its own
// small cost), pairing each client-observed latency with its REPORT Duration.
func sluiceBreakdown(ctx context.Context, c *lambda.Client, name string, n int) (breakdown, error) {
	var client, function, rest []time.Duration
	for range n {
		start := time.Now()
		out, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: &name, Qualifier: aws.String("live"), Payload: payload, LogType: types.LogTypeTail})
		lat := time.Since(start)
		if err != nil {
			return breakdown{}, err
		}
		logs, _ := base64.StdEncoding.DecodeString(aws.ToString(out.LogResult))
		m := reportDurationRE.FindSubmatch(logs)
		if m == nil {
			return breakdown{}, fmt.Errorf("no REPORT Duration in the log tail:\n%s", logs)
		}
		f, _ := strconv.ParseFloat(string(m[1]), 64)
		d := time.Duration(f * float64(time.Millisecond))
		client, function, rest = append(client, lat), append(function, d), append(rest, lat-d)
	}
	return breakdown{client: p50(client), function: p50(function), rest: p50(rest), n: n}, nil
}

// sluiceMeasurements are Sluice's results.
type sluiceMeasurements struct {
	c1, cN       result         // plain net/http + SigV4, like the other targets
	sdkC1, sdkCN result         // aws-sdk-go-v2
	warmSplit    map[string]int // versions the alias chose during warm-up
	split        map[string]int // ... and during the measured phases
	cold         []coldSample
	servedWarm   int // forced cold starts that reached a warm environment of the previous configuration
	bursts       []burstResult
	breakdown    breakdown
	aliveAtEnd   bool
	left         leftovers // what the server left of its sandboxes after it stopped
}

func measureSluice(ctx context.Context, cfg config, art artifacts, dataDir string) (sm sluiceMeasurements, err error) {
	log.Print("sluice: starting the server and creating the canary")
	bin, prof, err := sluiceBinary(ctx, cfg, art, dataDir)
	if err != nil {
		return sm, err
	}
	srv, err := startSluice(bin, dataDir, prof.env()...)
	if err != nil {
		return sm, err
	}
	defer func() { sm.left = stopAndCheck(srv, bin, dataDir) }()
	c := sluiceClient(srv, cfg.concurrency)
	if err := benchiam.CreateFunctionRole(ctx, c); err != nil {
		return sm, fmt.Errorf("sluice set-up: %w", err)
	}
	if err := setupCanary(ctx, c, "bench", art.pkg); err != nil {
		return sm, fmt.Errorf("sluice set-up: %w", err)
	}
	versions := &versionCount{n: map[string]int{}}
	hc := httpClient(cfg.concurrency)
	defer hc.CloseIdleConnections()
	inv := signedInvoker(hc, srv.Endpoint, "bench", "live", payload, versions)
	if sm.warmSplit, err = warmCanary(ctx, cfg, inv, versions); err != nil {
		return sm, err
	}
	log.Print("sluice: measuring warm invocations through the alias")
	if sm.c1, sm.cN, err = measureCanary(ctx, cfg, inv, srv.Cmd.Process.Pid, prof); err != nil {
		return sm, err
	}
	sm.split = versions.reset()
	log.Print("sluice: the same through aws-sdk-go-v2")
	sdkInv := sdkInvoker(c, "bench", "live", payload, versions)
	if err := warmUp(ctx, sdkInv, cfg.concurrency, 10*cfg.concurrency); err != nil {
		return sm, fmt.Errorf("sluice warm-up (SDK): %w", err)
	}
	waitQuiet()
	pid := srv.Cmd.Process.Pid
	sm.sdkC1 = measure(ctx, phase{1, cfg.n, cfg.duration}, sdkInv, pid, pid)
	sm.sdkCN = measure(ctx, phase{cfg.concurrency, 1 << 30, cfg.duration}, sdkInv, pid, pid)
	for v, n := range versions.reset() {
		sm.split[v] += n
	}
	if sm.breakdown, err = sluiceBreakdown(ctx, c, "bench", 500); err != nil {
		return sm, fmt.Errorf("sluice breakdown: %w", err)
	}
	if cfg.coldSamples > 0 {
		log.Printf("sluice: %d forced cold starts", cfg.coldSamples)
		hostAPI, err := startFakeRuntimeAPI()
		if err != nil {
			return sm, err
		}
		sm.cold, sm.servedWarm, err = sluiceCold(ctx, c, art.pkg, cfg.coldSamples, hostAPI, art.bootstrap)
		hostAPI.close()
		if err != nil {
			return sm, fmt.Errorf("sluice cold start: %w", err)
		}
	}
	if cfg.coldBurst > 0 {
		log.Printf("sluice: %d bursts of %d simultaneous cold starts", cfg.bursts+1, cfg.coldBurst)
		if sm.bursts, err = sluiceBursts(ctx, c, art.pkg, cfg.coldBurst, cfg.bursts, srv.Cmd.Process.Pid); err != nil {
			return sm, fmt.Errorf("sluice cold-start burst: %w", err)
		}
	}
	sm.aliveAtEnd = srv.Alive()
	return sm, ctx.Err()
}

// sluiceBinary is the real binary, or with -profile-dir the profiled build of it and the profiler driving it.
func sluiceBinary(ctx context.Context, cfg config, art artifacts, dataDir string) (string, *profiler, error) {
	if cfg.profileDir == "" {
		return art.sluice, nil, nil
	}
	bin, err := buildProfiled(ctx, filepath.Dir(art.sluice))
	return bin, &profiler{dir: cfg.profileDir, addrFile: filepath.Join(filepath.Dir(dataDir), "pprof-addr")}, err
}

// warmCanary warms the alias up, concurrently first so that enough environments exist for the concurrent phase,
// and checks both versions were reached; it returns the split it saw.
func warmCanary(ctx context.Context, cfg config, inv invoker, versions *versionCount) (map[string]int, error) {
	if err := warmUp(ctx, inv, cfg.concurrency, 50*cfg.concurrency); err != nil {
		return nil, fmt.Errorf("sluice warm-up: %w", err)
	}
	if err := warmUp(ctx, inv, 1, cfg.warmup); err != nil {
		return nil, fmt.Errorf("sluice warm-up: %w", err)
	}
	split := versions.reset()
	if split["1"] == 0 || split["2"] == 0 {
		return split, fmt.Errorf("sluice warm-up did not reach both versions: %v", split)
	}
	return split, nil
}

// measureCanary runs the concurrency-1 and concurrent phases, each under its own profile when profiling.
func measureCanary(ctx context.Context, cfg config, inv invoker, pid int, prof *profiler) (c1, cN result, err error) {
	waitQuiet()
	prof.begin("c1")
	c1 = measure(ctx, phase{1, cfg.n, cfg.duration}, inv, pid, pid)
	prof.end()
	prof.begin(fmt.Sprintf("c%d", cfg.concurrency))
	cN = measure(ctx, phase{cfg.concurrency, 1 << 30, cfg.duration}, inv, pid, pid)
	prof.end()
	return c1, cN, prof.failed()
}

// leftovers is what a stopped server left of its sandboxes: per-sandbox cgroups (named p<server pid>.<start>-<n>,
// counted once across cgroup v1 hierarchies), how many of them are frozen and how many still hold a process.
type leftovers struct {
	cgroups, frozen, withProcs int
	cleaned                    bool // a restart of the server (whose start-up cleans up after dead servers) removed them
}

// sandboxLeftovers finds the cgroups of server pid under the default parent "sluice", on v1 and v2 alike.
func sandboxLeftovers(pid int) leftovers {
	names, frozen, busy := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, pattern := range []string{"/sys/fs/cgroup/*/sluice/p%d.*", "/sys/fs/cgroup/sluice/p%d.*"} {
		dirs, _ := filepath.Glob(fmt.Sprintf(pattern, pid))
		for _, dir := range dirs {
			name := filepath.Base(dir)
			names[name] = true
			if fileHas(filepath.Join(dir, "freezer.state"), "FROZEN", "FREEZING") || fileHas(filepath.Join(dir, "cgroup.freeze"), "1") {
				frozen[name] = true
			}
			if b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs")); err == nil && len(bytes.TrimSpace(b)) > 0 {
				busy[name] = true
			}
		}
	}
	return leftovers{cgroups: len(names), frozen: len(frozen), withProcs: len(busy)}
}

// fileHas reports whether a (cgroup control) file holds one of the values.
func fileHas(path string, values ...string) bool {
	b, err := os.ReadFile(path)
	return err == nil && slices.Contains(values, strings.TrimSpace(string(b)))
}

// stopAndCheck stops the server, then looks for sandboxes it failed to tear down. If there are any, it starts the
// server once more on the same data dir: its start-up removes what dead servers left behind, so the machine is
// left clean.
func stopAndCheck(srv *sluiceServer, bin, dataDir string) leftovers {
	pid := srv.Cmd.Process.Pid
	srv.Stop()
	l := sandboxLeftovers(pid)
	if l.cgroups == 0 {
		return l
	}
	if again, err := startSluice(bin, dataDir); err == nil {
		again.Stop()
	}
	l.cleaned = sandboxLeftovers(pid).cgroups == 0
	return l
}
