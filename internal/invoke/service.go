// Package invoke runs functions: it resolves a reference (alias → version, deterministically split), admits the
// invocation against account and reserved concurrency, takes a warm environment from the target's pool or starts
// one, hands the event over the Runtime API, enforces the timeout, and records logs. Its view of functions lives
// in memory (catalog) and is refreshed on every control-plane change, so the hot path never reads the store.
package invoke

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/sluice-dev/sluice/internal/asyncq"
	"github.com/sluice-dev/sluice/internal/controlplane"
	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/lambda"
	"github.com/sluice-dev/sluice/internal/logstore"
	"github.com/sluice-dev/sluice/internal/runtimeapi"
	"github.com/sluice-dev/sluice/internal/runtimes"
	"github.com/sluice-dev/sluice/internal/scratch"
	"github.com/sluice-dev/sluice/internal/store"
)

// shimMount is where the embedded runtime shims appear inside a sandbox (Lambda's LAMBDA_RUNTIME_DIR).
const shimMount = "/var/runtime"

// Options configures the execution service.
type Options struct {
	Source   Source
	Store    store.Store // holds the asynchronous invocation queue
	Account  lambda.Account
	DataDir  string
	Endpoint string // AWS_ENDPOINT_URL handed to functions
	// CABundle, if set, is the CA file handed to functions as AWS_CA_BUNDLE (the AWS CLI, boto3, the Go SDK) and
	// NODE_EXTRA_CA_CERTS (Node.js, the JavaScript SDK), so that they trust an Endpoint served over TLS.
	CABundle string
	Logs     *logstore.Store
	// ConcurrencyLimit is the account's concurrent executions (default 1000).
	ConcurrencyLimit int
	// KeepAlive is how long an idle environment stays warm (default 10 minutes).
	KeepAlive time.Duration
	// UIDBase and UIDCount delimit the uids given to sandboxes (default 610000 and 65536).
	UIDBase, UIDCount uint32
	// NodePath and PythonPath override interpreter discovery; PythonPath (the env var) adds packages for Python functions.
	Node, Python, PythonPath string
	// Credentials returns temporary credentials for a function's execution role as AWS_* variables (nil: none).
	// They must outlive MaxLifetime.
	Credentials func(role, function string) []string
	// MaxLifetime retires an environment, even a provisioned one, this long after it started (default 6 h), so
	// its credentials never expire under it.
	MaxLifetime time.Duration
	// InactiveAfter turns a function Inactive after this long without invocations (default 14 days).
	InactiveAfter time.Duration
	// Lifecycle moves functions between Active and Inactive and takes provisioned-concurrency reports (the
	// control plane).
	Lifecycle Lifecycle
	// Progress is where the function catalog reports how far it has applied the store's changes; the control
	// plane's API calls wait on it (nil: a private one).
	Progress *store.Progress
	// Metrics receives the AWS/Lambda metrics of every invocation (nil: not recorded).
	Metrics Recorder
	// Observer is told of invocations, throttles and cold starts (nil: nobody).
	Observer Observer
	// Scratch makes each environment's /tmp a file system of its own, of its EphemeralStorage size (nil: a tmpfs of
	// that size, charged to the function's memory, or a host directory where sandboxes have no mount namespace).
	Scratch *scratch.Pool
	// AsyncRetryDelay is the wait before an asynchronous invocation's first retry (Lambda: 1 minute).
	AsyncRetryDelay time.Duration
	Logger          *slog.Logger

	// For tests only. sandboxes starts function processes (nil: real sandboxes); now is the clock that keep-alive,
	// maximum lifetime and inactivity are measured by (nil: time.Now).
	sandboxes sandboxes
	now       func() time.Time
	// initTimeout bounds a runtime's initialisation (for tests only; 0: initTimeout, Lambda's 10 s).
	initTimeout time.Duration
}

// Service is the execution layer.
type Service struct {
	opts         Options
	sandboxes    sandboxes
	now          func() time.Time
	initTimeout  time.Duration
	catalog      *catalog
	uids         *uidAllocator
	shimDir      string
	interpreters runtimes.Interpreters
	log          *slog.Logger

	mu    sync.Mutex
	pools map[poolKey]*pool

	conc    *concurrency
	queue   *asyncq.Queue
	metrics *lambdaMetrics

	envs     environments // live environments by uid
	refusals refusalLog   // Runtime API connections refused

	reports       *provisionedReports
	asyncFailures asyncFailureSubscribers

	lastInvoked sync.Map // function name → time.Time of its last invocation (or of when Sluice first saw it)
	activity    activity // what of lastInvoked this node published (see activity.go)
	destroying  sync.WaitGroup
	loops       sync.WaitGroup // the catalog's watch and the provisioned reporter (started by Start)
}

// destroyLater destroys an environment in the background (killing a process tree takes a moment); shutdown
// waits for every such destruction.
func (s *Service) destroyLater(e *environment) {
	s.destroying.Add(1)
	go func() {
		defer s.destroying.Done()
		e.destroy(s)
	}()
}

// Lifecycle is the part of the control plane the execution layer writes to: it idles and restores functions, and
// records how far provisioned concurrency got (GetProvisionedConcurrencyConfig's status).
type Lifecycle interface {
	Deactivate(ctx context.Context, name string) (bool, error)
	Reactivate(ctx context.Context, name string) error
	ReportProvisioned(ctx context.Context, name string, reports map[string]controlplane.ProvisionedReport) error
}

// New prepares the service: writes the runtime shims and finds interpreters. Call Start before invoking.
func New(o Options) (*Service, error) {
	if o.ConcurrencyLimit == 0 {
		o.ConcurrencyLimit = 1000
	}
	if o.KeepAlive == 0 {
		o.KeepAlive = 10 * time.Minute
	}
	if o.UIDBase == 0 {
		o.UIDBase, o.UIDCount = 610000, 65536
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.MaxLifetime == 0 {
		o.MaxLifetime = 6 * time.Hour
	}
	if o.InactiveAfter == 0 {
		o.InactiveAfter = 14 * 24 * time.Hour
	}
	if o.sandboxes == nil {
		o.sandboxes = hostSandboxes{}
	}
	if o.now == nil {
		o.now = time.Now
	}
	if o.initTimeout == 0 {
		o.initTimeout = initTimeout
	}
	if o.Progress == nil {
		o.Progress = store.NewProgress()
	}
	log := o.Logger.With("component", "invoke")
	s := &Service{opts: o, sandboxes: o.sandboxes, now: o.now, initTimeout: o.initTimeout, catalog: newCatalog(o.Source, o.Account, o.Progress, log), uids: newUIDAllocator(o.UIDBase, o.UIDCount),
		shimDir: filepath.Join(o.DataDir, "runtime"), pools: map[poolKey]*pool{}, reports: newProvisionedReports(),
		log: log, conc: newConcurrency(o.ConcurrencyLimit), metrics: &lambdaMetrics{rec: o.Metrics, obs: o.Observer}}
	s.queue = asyncq.New(asyncq.Options{Store: o.Store, Run: s.runEvent, Policy: s.eventPolicy, Destination: s.destination,
		ARN: o.Account.QualifiedARN, RetryDelay: o.AsyncRetryDelay, Logger: s.log})
	if err := runtimes.WriteShims(s.shimDir); err != nil {
		return nil, fmt.Errorf("write runtime shims: %w", err)
	}
	in, err := runtimes.FindInterpreters(o.Node, o.Python)
	if err != nil {
		return nil, err
	}
	for _, why := range in.Skipped {
		s.log.Info("interpreter skipped", "reason", why)
	}
	if advice, ok := runtimes.Boto3Missing(in.Python, o.PythonPath); !ok {
		s.log.Warn("python functions cannot import boto3", "advice", advice)
	}
	s.interpreters = in
	return s, nil
}

// Start loads the catalog, starts provisioned environments, and keeps both current with the control plane's
// changes until ctx ends (Run waits for that); call it before serving invocations.
func (s *Service) Start(ctx context.Context) error {
	rev, names, err := s.catalog.load(ctx)
	if err != nil {
		return err
	}
	for _, n := range names {
		s.reconcileProvisioned(n)
	}
	s.catalog.applied.Advance(rev)
	s.loops.Go(func() { s.catalog.follow(ctx, rev, s.functionChanged) })
	s.loops.Go(func() { s.reportProvisioned(ctx) })
	return nil
}

// Run runs the reaper of this node's environments until ctx ends, then destroys every environment before it
// returns (stop serving invocations first: busy environments are waited for). The jobs one node runs for the
// cluster — RunQueue and RunInactivitySweep — are started separately (server runs them under leaderships).
func (s *Service) Run(ctx context.Context) {
	s.reapLoop(ctx)
	s.loops.Wait()
	s.shutdown()
}

// functionChanged brings a function's pools in line with its new view in the catalog.
func (s *Service) functionChanged(name string) {
	s.retireStale(name)
	s.reconcileProvisioned(name)
}

// Invoke runs one invocation.
func (s *Service) Invoke(ctx context.Context, req Request) (Result, error) {
	return s.invoke(ctx, req, nil)
}

// invoke runs one invocation; a synchronous one hands its response to w as it comes when w is not nil
// (InvokeStream).
func (s *Service) invoke(ctx context.Context, req Request, w io.Writer) (Result, error) {
	r, err := s.catalog.resolve(req.Ref, req.StickyKey)
	if err != nil {
		return Result{}, err
	}
	s.lastInvoked.Store(r.fn.name, s.now())
	if err := runnable(r); err != nil {
		if r.fn.status.State == lambda.StateInactive && s.opts.Lifecycle != nil {
			// The first invocation of an inactive function fails and starts its restoration, as on Lambda.
			if rerr := s.opts.Lifecycle.Reactivate(context.WithoutCancel(ctx), r.fn.name); rerr != nil {
				s.log.Error("reactivate function", "function", r.fn.name, "err", rerr)
			}
		}
		return Result{}, err
	}
	switch req.Type {
	case DryRun:
		return Result{StatusCode: http.StatusNoContent}, nil
	case Event:
		// Acknowledged once durably queued; the alias is resolved again when the event runs.
		if _, err := s.queue.Enqueue(ctx, req.Ref.Name, req.Ref.Qualifier, req.Payload); err != nil {
			return Result{}, err
		}
		return Result{StatusCode: http.StatusAccepted}, nil
	}
	release, err := s.conc.admit(r.fn, s.catalog)
	if err != nil {
		s.metrics.throttle(r, time.Now())
		return Result{}, err
	}
	defer release()
	return s.run(ctx, r, req, w)
}

// FunctionURL is a function URL as the front door serves it: the function and the URL's configuration (its
// qualifier is the alias it sits on, "" for $LATEST).
type FunctionURL struct {
	Function string
	Config   controlplane.URLConfig
	// Sticky is the function's StickyTag value: where a request's stickiness key is ("cookie:<name>" or
	// "header:<name>"); "" when the URL's canaries are not sticky.
	Sticky string
}

// StickyTag is the function tag that makes its URLs' canaries sticky (a Sluice extension AWS ignores): its value
// names the cookie or header whose value keys a user to a version, "cookie:<name>" or "header:<name>".
const StickyTag = "sluice:sticky-canary"

// FunctionURL finds the URL an ID names, from the in-memory catalog (no store read).
func (s *Service) FunctionURL(id string) (FunctionURL, bool) {
	fn, cfg, tags, ok := s.catalog.functionURL(id)
	return FunctionURL{Function: fn, Config: cfg, Sticky: tags[StickyTag]}, ok
}

// runnable refuses invocations of functions that are not Active. An Active target whose package this node has not
// extracted yet (codeDir "": in a cluster, the function was settled by another node) is runnable: its cold start
// brings the code here (launch).
func runnable(r resolved) error {
	st := r.target.status
	if r.target.version == lambda.Latest {
		st = r.fn.status
	}
	switch {
	case st.State == lambda.StateActive:
		return nil
	case st.State == lambda.StateInactive:
		return fault.New("ResourceNotReadyException", "The function %s is inactive: its execution environments were reclaimed. It is being restored; retry shortly.", r.fn.name)
	default:
		state := st.State
		if state == "" || state == lambda.StateActive {
			state = lambda.StatePending
		}
		return fault.Conflict("The operation cannot be performed at this time. The function is currently in the following state: %s", state)
	}
}

// poolFor returns the pool of a target, creating it.
func (s *Service) poolFor(t *target) *pool {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.pools[t.key]
	if !ok {
		p = &pool{target: t, now: s.now}
		s.pools[t.key] = p
	}
	return p
}

// run executes a synchronous invocation on an environment of the target; w, when not nil, takes the response as
// it comes (InvokeStream).
func (s *Service) run(ctx context.Context, r resolved, req Request, w io.Writer) (Result, error) {
	t := r.target
	p := s.poolFor(t)
	env := p.take()
	cold := env == nil
	if cold {
		var err error
		if env, err = s.launch(ctx, p, "on-demand"); err != nil {
			p.forget(nil)
			return Result{}, err
		}
		if s.opts.Observer != nil {
			s.opts.Observer.ColdStart(t.function, t.version)
		}
	}
	requestID := uuid.NewString()
	p.mu.Lock()
	provisioned, spillover := env.provisioned, !env.provisioned && p.provisionedWant > 0
	p.mu.Unlock()
	var sink *streamSink
	if w != nil {
		sink = newStreamSink(w, t.version)
	}
	res, healthy := s.execute(env, t, r.invokedARN, requestID, req, cold, sink)
	s.metrics.invocation(r, invocationOutcome{started: res.started, duration: res.duration, failed: res.FunctionError != "",
		provisioned: provisioned, spillover: spillover, concurrent: s.conc.inFlight(r.fn.name)})
	if healthy && p.giveBack(env) {
		return res, nil
	}
	if !healthy && p.forget(env) {
		defer s.reconcileProvisioned(t.function) // replace the lost provisioned environment
	}
	s.destroyLater(env)
	return res, nil
}

// execute runs one invocation on env and reports whether env may be reused. A sink (InvokeStream) takes the
// response as it comes; it is closed before execute returns.
func (s *Service) execute(env *environment, t *target, invokedARN, requestID string, req Request, cold bool, sink *streamSink) (Result, bool) {
	res := Result{StatusCode: http.StatusOK, ExecutedVersion: t.version}
	var initDuration time.Duration
	if cold {
		env.out.platform(fmt.Sprintf("INIT_START Runtime Version: sluice:%s\tRuntime Version ARN: arn:aws:lambda:%s::runtime:sluice-%s", t.config.Runtime, s.opts.Account.Region, t.config.Runtime))
		err := env.awaitInit(s.initTimeout)
		initDuration = env.initDuration
		if err != nil {
			if sink != nil {
				sink.close()
			}
			return s.failInit(env, t, requestID, req, err), false
		}
	}
	env.out.platform("START RequestId: " + requestID + " Version: " + t.version)
	timeout := time.Duration(t.config.Timeout) * time.Second
	start := time.Now()
	inv := runtimeapi.NewInvocation(requestID, req.Payload, start.Add(timeout))
	inv.InvokedFunctionARN = invokedARN
	inv.ClientContext = req.ClientContext
	inv.TraceID = traceID()
	if sink != nil {
		inv.Stream = sink
	}
	env.api.Deliver(inv)

	timer := time.NewTimer(timeout)
	defer timer.Stop()
	healthy := true
	status := ""
	done := inv.Done()
	for settled := false; !settled; {
		select {
		case answer := <-done:
			if answer.Truncated {
				// The streamed response broke off: the runtime is most likely dying, and how it ends (or the
				// timeout) decides the outcome, as it does for a runtime that never answers.
				done = nil
				continue
			}
			settled = true
			res.Payload, res.ContentType = answer.Payload, answer.ContentType
			if answer.FunctionError {
				res.FunctionError, res.ErrorType = "Unhandled", answer.ErrorType
			} else if sink != nil {
				if !answer.Streamed {
					// A response posted in one piece is written once, whole.
					sink.Begin(answer.ContentType)
					sink.Write(answer.Payload)
				}
				res.Payload = nil
			}
		case <-env.proc.Done():
			settled = true
			x := env.proc.Wait()
			env.api.Abandon()
			errorType := "Runtime.ExitError"
			if x.OOMKilled {
				errorType, status = "Runtime.OutOfMemory", "error"
			}
			res.Payload = runtimeapi.ErrorDocument(errorType, "RequestId: "+requestID+" Error: Runtime exited with error: "+exitDescription(x))
			res.FunctionError, res.ErrorType, healthy = "Unhandled", errorType, false
			if status == "" {
				status = "error"
			}
		case <-timer.C:
			settled = true
			env.api.Abandon()
			res.Payload = runtimeapi.ErrorDocument("Sandbox.Timedout", fmt.Sprintf("RequestId: %s Error: Task timed out after %.2f seconds", requestID, timeout.Seconds()))
			res.FunctionError, res.ErrorType, healthy, status = "Unhandled", "Sandbox.Timedout", false, "timeout"
		}
	}
	duration := time.Since(start)
	res.started, res.duration = start, duration
	if healthy {
		// Lines the function printed before answering are in the pipe: they belong to this invocation.
		env.proc.FlushOutput(100 * time.Millisecond)
	} else {
		env.proc.Kill()
	}
	if sink != nil {
		// After the kill: a piece the dying runtime was still sending is written, or dropped, before this returns.
		ct, written := sink.close()
		res.Streamed = written
		if res.ContentType == "" {
			res.ContentType = ct
		}
	}
	s.finishLog(env, t, requestID, duration, initDuration, status, req.LogTail, &res)
	return res, healthy
}

// failInit answers an invocation whose environment could not initialise, and logs it.
func (s *Service) failInit(env *environment, t *target, requestID string, req Request, err error) Result {
	res := Result{StatusCode: http.StatusOK, ExecutedVersion: t.version, FunctionError: "Unhandled"}
	switch err {
	case errInitFailed:
		ie := env.api.InitError()
		res.Payload, res.ErrorType = ie.Payload, ie.ErrorType
	case errExited:
		x := env.proc.Wait()
		res.Payload, res.ErrorType = runtimeapi.ErrorDocument("Runtime.ExitError", "RequestId: "+requestID+" Error: Runtime exited with error: "+exitDescription(x)), "Runtime.ExitError"
	case errInitTimeout:
		res.Payload = runtimeapi.ErrorDocument("Sandbox.Timedout", fmt.Sprintf("RequestId: %s Error: Task timed out after %.2f seconds", requestID, s.initTimeout.Seconds()))
		res.ErrorType = "Sandbox.Timedout"
	default: // the runtime could not be started at all
		errorType, msg, _ := strings.Cut(err.Error(), ": ")
		res.Payload, res.ErrorType = runtimeapi.ErrorDocument(errorType, "RequestId: "+requestID+" Error: "+msg), errorType
	}
	env.out.platform("START RequestId: " + requestID + " Version: " + t.version)
	s.finishLog(env, t, requestID, 0, s.now().Sub(env.spawned), "error", req.LogTail, &res)
	return res
}

// finishLog writes END and REPORT, stores the invocation's lines, and fills the tail when asked.
func (s *Service) finishLog(env *environment, t *target, requestID string, d, initDuration time.Duration, status string, wantTail bool, res *Result) {
	env.out.platform("END RequestId: " + requestID)
	env.out.platform(reportLine(requestID, d, initDuration, t.config.MemorySize, peakMB(env), status))
	lines := env.out.take()
	if wantTail {
		res.LogTail = tail(lines, 4096)
	}
	if s.opts.Logs != nil {
		events := make([]logstore.Event, len(lines))
		now := time.Now().UnixMilli()
		for i, l := range lines {
			events[i] = logstore.Event{Timestamp: l.at.UnixMilli(), IngestionTime: now, Stream: env.logStream, Message: l.text}
		}
		if err := s.opts.Logs.Append(t.config.LogGroup, events); err != nil {
			s.log.Warn("store logs", "function", t.function, "err", err)
		}
	}
}

// peakMB is the environment's Max Memory Used. Reading it from the cgroup costs tens of microseconds, a large
// share of a warm invocation, so a busy environment re-reads it at most every peakRefresh; the figure is a
// running maximum, so a slightly older reading is only ever a little low.
func peakMB(env *environment) uint64 {
	if env.proc == nil {
		return 0
	}
	if now := time.Now(); now.Sub(env.peakRead) >= peakRefresh {
		env.peakBytes, env.peakRead = env.proc.PeakMemoryBytes(), now
	}
	return (env.peakBytes + (1<<20 - 1)) >> 20
}

const peakRefresh = 250 * time.Millisecond

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func itoa(n int) string { return strconv.Itoa(n) }

// reportLine is an invocation's REPORT line, as Lambda writes it: "REPORT RequestId: ID\tDuration: 0.41 ms\tBilled
// Duration: 1 ms\tMemory Size: 128 MB\tMax Memory Used: 9 MB\t", then "Init Duration: … ms\t" after a cold start
// and "Status: …\t" when the invocation failed. Built by appending: every invocation writes one.
func reportLine(requestID string, d, initDuration time.Duration, memorySize int, maxUsedMB uint64, status string) string {
	b := make([]byte, 0, 160)
	b = append(b, "REPORT RequestId: "...)
	b = append(b, requestID...)
	b = append(b, "\tDuration: "...)
	b = strconv.AppendFloat(b, ms(d), 'f', 2, 64)
	b = append(b, " ms\tBilled Duration: "...)
	b = strconv.AppendInt(b, int64(math.Ceil(ms(d))), 10)
	b = append(b, " ms\tMemory Size: "...)
	b = strconv.AppendInt(b, int64(memorySize), 10)
	b = append(b, " MB\tMax Memory Used: "...)
	b = strconv.AppendUint(b, maxUsedMB, 10)
	b = append(b, " MB\t"...)
	if initDuration > 0 {
		b = append(b, "Init Duration: "...)
		b = strconv.AppendFloat(b, ms(initDuration), 'f', 2, 64)
		b = append(b, " ms\t"...)
	}
	if status != "" {
		b = append(b, "Status: "...)
		b = append(b, status...)
		b = append(b, '\t')
	}
	return string(b)
}

// traceID mints an X-Ray style trace header for the invocation: Root=1-<epoch seconds, 8 hex digits>-<24 hex
// digits>;Parent=<16 hex digits>;Sampled=0, the digits from one random UUID.
func traceID() string {
	u := uuid.New()
	var id [32]byte
	hex.Encode(id[:], u[:])
	b := make([]byte, 0, 80)
	b = append(b, "Root=1-"...)
	b = appendHex8(b, uint32(time.Now().Unix()))
	b = append(b, '-')
	b = append(b, id[:24]...)
	b = append(b, ";Parent="...)
	b = append(b, id[16:32]...)
	b = append(b, ";Sampled=0"...)
	return string(b)
}

// appendHex8 appends v as eight lowercase hex digits (%08x).
func appendHex8(b []byte, v uint32) []byte {
	const digits = "0123456789abcdef"
	for shift := 28; shift >= 0; shift -= 4 {
		b = append(b, digits[v>>uint(shift)&0xf])
	}
	return b
}

// retireStale retires pools whose configuration no longer exists for a function (after an update or delete), so
// they drain: in-flight invocations finish, nothing stays idle.
func (s *Service) retireStale(name string) {
	fn := s.catalog.get(name)
	live := map[poolKey]bool{}
	if fn != nil {
		live[fn.latest.key] = true
		for _, t := range fn.versions {
			live[t.key] = true
		}
	}
	s.mu.Lock()
	var retired []*pool
	for k, p := range s.pools {
		if k.function == name && !live[k] {
			p.mu.Lock()
			p.retired = true
			p.mu.Unlock()
			retired = append(retired, p)
		}
	}
	s.mu.Unlock()
	for _, p := range retired {
		for _, e := range p.reap(s.now(), time.Time{}) {
			s.destroyLater(e)
		}
	}
}

// reapLoop destroys environments idle longer than KeepAlive and forgets drained pools.
func (s *Service) reapLoop(ctx context.Context) {
	tick := time.NewTicker(min(s.opts.KeepAlive/4, s.opts.InactiveAfter/4, 5*time.Second))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		s.reap(ctx)
	}
}

// reap runs one pass of the reaper: it publishes this node's invocation activity, destroys environments idle
// longer than KeepAlive or older than MaxLifetime, replaces provisioned ones so lost, and forgets drained pools.
func (s *Service) reap(ctx context.Context) {
	s.publishActivity(ctx)
	now := s.now()
	idleCutoff, bornCutoff := now.Add(-s.opts.KeepAlive), now.Add(-s.opts.MaxLifetime)
	s.mu.Lock()
	pools := make([]*pool, 0, len(s.pools))
	for k, p := range s.pools {
		if p.retired && p.empty() {
			delete(s.pools, k)
			continue
		}
		pools = append(pools, p)
	}
	s.mu.Unlock()
	for _, p := range pools {
		lostProvisioned := false
		for _, e := range p.reap(idleCutoff, bornCutoff) {
			lostProvisioned = lostProvisioned || e.provisioned
			e.destroy(s)
		}
		if lostProvisioned {
			s.reconcileProvisioned(p.target.function)
		}
	}
}

// shutdown destroys every environment: idle ones at once, busy ones as soon as their invocation returns them.
func (s *Service) shutdown() {
	s.mu.Lock()
	pools := make([]*pool, 0, len(s.pools))
	for _, p := range s.pools {
		p.mu.Lock()
		p.retired = true
		p.mu.Unlock()
		pools = append(pools, p)
	}
	s.mu.Unlock()
	deadline := time.Now().Add(30 * time.Second)
	var wg sync.WaitGroup
	for _, p := range pools {
		for {
			for _, e := range p.reap(s.now(), time.Time{}) {
				wg.Go(func() { e.destroy(s) })
			}
			if p.empty() || time.Now().After(deadline) {
				break
			}
			time.Sleep(10 * time.Millisecond) // a busy environment is being given back (and destroyed: the pool is retired)
		}
	}
	wg.Wait()
	s.destroying.Wait()
}

// deactivateIdle turns functions not invoked for InactiveAfter Inactive and releases their environments. Functions
// with provisioned concurrency stay active.
func (s *Service) deactivateIdle(ctx context.Context) {
	if s.opts.Lifecycle == nil {
		return
	}
	cutoff := s.now().Add(-s.opts.InactiveAfter)
	for _, name := range s.catalog.names() {
		fn := s.catalog.get(name)
		if fn == nil || fn.status.State != lambda.StateActive || len(fn.provisioned) > 0 {
			continue
		}
		last, seen, err := s.lastActivity(ctx, name)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("read invocation activity", "function", name, "err", err)
			}
			continue
		}
		if !seen || last.After(cutoff) {
			continue
		}
		changed, err := s.opts.Lifecycle.Deactivate(ctx, name)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Error("deactivate function", "function", name, "err", err)
			}
			continue
		}
		if changed {
			s.releaseIdle(name)
			s.log.Info("function inactive", "function", name)
		}
	}
}

// releaseIdle destroys every idle environment of a function.
func (s *Service) releaseIdle(name string) {
	s.mu.Lock()
	var pools []*pool
	for k, p := range s.pools {
		if k.function == name {
			pools = append(pools, p)
		}
	}
	s.mu.Unlock()
	far := s.now().Add(time.Hour)
	for _, p := range pools {
		for _, e := range p.reap(far, time.Time{}) {
			s.destroyLater(e)
		}
	}
}

// PoolStats describes the environments of one pool.
type PoolStats struct {
	Function, Version       string
	Idle, Busy, Provisioned int
}

// Pools reports every pool's environments (for metrics export and status).
func (s *Service) Pools() []PoolStats {
	s.mu.Lock()
	pools := make([]*pool, 0, len(s.pools))
	for _, p := range s.pools {
		pools = append(pools, p)
	}
	s.mu.Unlock()
	out := make([]PoolStats, 0, len(pools))
	for _, p := range pools {
		p.mu.Lock()
		out = append(out, PoolStats{Function: p.target.function, Version: p.target.version, Idle: len(p.idle), Busy: p.busy, Provisioned: p.provisionedHave})
		p.mu.Unlock()
	}
	return out
}

// QueueDepth counts queued asynchronous invocations.
func (s *Service) QueueDepth(ctx context.Context) (int, error) { return s.queue.Pending(ctx) }
