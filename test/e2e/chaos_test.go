package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"

	"github.com/sluice-dev/sluice/internal/cluster"
	"github.com/sluice-dev/sluice/internal/sdkhttp"
	"github.com/sluice-dev/sluice/internal/stack"
)

// chaosDuration is how long TestClusterChaos kills nodes: SLUICE_CHAOS_DURATION (a Go duration, e.g. 10m), 45 s
// by default so that the suite stays fast.
func chaosDuration(t *testing.T) time.Duration {
	t.Helper()
	v := os.Getenv("SLUICE_CHAOS_DURATION")
	if v == "" {
		return 45 * time.Second
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		t.Fatalf("SLUICE_CHAOS_DURATION=%q: want a positive Go duration such as 10m", v)
	}
	return d
}

// chaosNode is one node as the workload sees it: stock clients made once (the workload goroutines never touch the
// *server, which only the test goroutine kills and restarts), and whether it is up. gen counts its kills, so a
// call can tell whether its node was killed while it ran.
type chaosNode struct {
	name string
	srv  *server
	tr   *http.Transport

	lambda *lambda.Client
	iam    *iam.Client
	cd     *codedeploy.Client
	status *stack.Client

	mu  sync.Mutex
	up  bool
	gen int
}

func newChaosNode(name string, s *server) *chaosNode {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	cfg := aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider(s.AccessKeyID, s.SecretAccessKey, ""),
		BaseEndpoint: aws.String(s.URL),
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} }, // one call, one request: an error is this node's
		HTTPClient:   sdkhttp.Wrap(&http.Client{Transport: tr}),
	}
	return &chaosNode{name: name, srv: s, tr: tr, up: true,
		lambda: lambda.NewFromConfig(cfg), iam: iam.NewFromConfig(cfg), cd: codedeploy.NewFromConfig(cfg), status: stack.NewClient(cfg)}
}

// state is whether the node is up and how many times it has been killed.
func (n *chaosNode) state() (up bool, gen int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.up, n.gen
}

// killedSince says whether the node went down after a call saw it up at generation gen.
func (n *chaosNode) killedSince(gen int) bool {
	up, g := n.state()
	return !up || g != gen
}

// chaosCluster hands out the live nodes in turn, so consecutive calls go through different nodes.
type chaosCluster struct {
	nodes []*chaosNode
	next  atomic.Int64
}

// pick returns the next live node and its generation (there is always one: the chaos loop keeps two up).
func (c *chaosCluster) pick() (*chaosNode, int) {
	for {
		i := c.next.Add(1)
		n := c.nodes[int(i)%len(c.nodes)]
		if up, gen := n.state(); up {
			return n, gen
		}
	}
}

// callCtx bounds one call generously: a live node that does not answer within it is a failure.
func callCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 30*time.Second)
}

// outcome classifies a call's error: nil is acknowledged; an API error below 500 is a definite refusal (nothing was
// written); anything else (transport errors, 5xx) leaves the write's fate unknown.
type outcome int

const (
	acknowledged outcome = iota
	refused
	unknown
)

func classify(err error) (outcome, string) {
	if err == nil {
		return acknowledged, ""
	}
	var re *awshttp.ResponseError
	var apiErr smithy.APIError
	if errors.As(err, &re) && errors.As(err, &apiErr) {
		if re.HTTPStatusCode() < 500 {
			return refused, apiErr.ErrorCode()
		}
		return unknown, fmt.Sprintf("%d %s", re.HTTPStatusCode(), apiErr.ErrorCode())
	}
	return unknown, "transport"
}

// register is one value the writer keeps setting. Writes are sequential, so after the run its value must be the
// last acknowledged one, or one written after it whose outcome is unknown (it may have been applied).
type register struct {
	what   string
	acked  string
	hasAck bool
	maybe  []string
}

func (r *register) record(v string, o outcome) {
	switch o {
	case acknowledged:
		r.acked, r.hasAck, r.maybe = v, true, nil
	case unknown:
		r.maybe = append(r.maybe, v)
	}
}

func (r *register) check(got string) error {
	if !r.hasAck || got == r.acked || slices.Contains(r.maybe, got) {
		return nil
	}
	return fmt.Errorf("%s is %q, but %q was acknowledged last (later writes with no answer: %q): an acknowledged write was lost",
		r.what, got, r.acked, r.maybe)
}

// chaosTally counts a workload's calls.
type chaosTally struct {
	mu         sync.Mutex
	ok         int
	refusals   map[string]int // definite refusals by error code (e.g. 409s while an update settles)
	excused    int            // failed calls to a node killed while they ran
	unexpected []chaosFailure // failed calls to a node that stayed up
}

// chaosFailure is a call that failed through a node that was not killed.
type chaosFailure struct {
	start, end time.Time
	node       *chaosNode
	what, code string
	err        error
}

func (f chaosFailure) String() string {
	return fmt.Sprintf("%s–%s %s via %s: %s: %v", f.start.UTC().Format("15:04:05.000"), f.end.UTC().Format("15:04:05.000"), f.what, f.node.name, f.code, f.err)
}

func (c *chaosTally) add(o outcome, code string, n *chaosNode, gen int, start time.Time, what string, err error) {
	excused := n.killedSince(gen)
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case o == acknowledged:
		c.ok++
	case o == refused:
		if c.refusals == nil {
			c.refusals = map[string]int{}
		}
		c.refusals[code]++
	case excused:
		c.excused++
	default:
		c.unexpected = append(c.unexpected, chaosFailure{start: start, end: time.Now(), node: n, what: what, code: code, err: err})
	}
}

// sessionLapses are the times the node logged that its etcd session had ended while it ran (its lease expired:
// it did not reach etcd for a lease TTL); the node is then no member, and admits no invocation (invoke.ShareOf)
// until it has registered again and its share has settled.
func (n *chaosNode) sessionLapses() []time.Time {
	var out []time.Time
	for _, line := range strings.Split(n.srv.log.String(), "\n") {
		if !strings.Contains(line, "cluster session ended") {
			continue
		}
		var rec struct{ Time time.Time }
		if json.Unmarshal([]byte(strings.TrimSpace(line)), &rec) == nil {
			out = append(out, rec.Time)
		}
	}
	return out
}

// throttledAfterLapse says whether f is a 429 from a node whose own session had lapsed shortly before (see
// sessionLapses): not a kill, but not a lost write either; the test reports it and does not fail on it.
func (f chaosFailure) throttledAfterLapse() bool {
	if !strings.Contains(f.code, "TooManyRequestsException") {
		return false
	}
	for _, at := range f.node.sessionLapses() {
		if !at.After(f.end) && at.After(f.start.Add(-10*time.Second)) {
			return true
		}
	}
	return false
}

func (c *chaosTally) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return fmt.Sprintf("%d ok, %d refused %v, %d failed on a node killed meanwhile, %d failed on a live node",
		c.ok, sumValues(c.refusals), c.refusals, c.excused, len(c.unexpected))
}

func sumValues(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// chaosWriter makes acknowledged control-plane writes through the live nodes in turn and records what was
// acknowledged, to be read back after the run.
type chaosWriter struct {
	c     *chaosCluster
	fn    string
	tally chaosTally

	counter, code, concurrency, live register
	versions                         map[string][2]string // acknowledged version → description, CodeSha256
	aliases                          map[string]string    // acknowledged alias → version
	users, apps                      []string             // acknowledged creations
	latestVersion                    string
	conflicts                        []string // PublishVersion acknowledging one number for two different contents
	stuck                            []string // updates that did not settle within the wait
	packages                         map[string][]byte
}

// write makes one call through the next live node and classifies its outcome.
func (w *chaosWriter) write(what string, call func(ctx context.Context, n *chaosNode) error) outcome {
	n, gen := w.c.pick()
	ctx, cancel := callCtx()
	defer cancel()
	start := time.Now()
	err := call(ctx, n)
	o, code := classify(err)
	w.tally.add(o, code, n, gen, start, what, err)
	return o
}

// settle waits (through the live nodes in turn) until the function's last update has settled.
func (w *chaosWriter) settle(stop <-chan struct{}, what string) {
	deadline := time.Now().Add(90 * time.Second)
	last := ""
	for time.Now().Before(deadline) {
		n, _ := w.c.pick()
		ctx, cancel := callCtx()
		cfg, err := n.lambda.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(w.fn)})
		cancel()
		if err == nil && cfg.State == types.StateActive && cfg.LastUpdateStatus != types.LastUpdateStatusInProgress {
			return
		}
		if err != nil {
			last = err.Error()
		} else {
			last = fmt.Sprintf("%s %s via %s", cfg.State, cfg.LastUpdateStatus, n.name)
		}
		select {
		case <-stop:
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
	w.stuck = append(w.stuck, fmt.Sprintf("%s %s did not settle within 90s: %s", time.Now().Format("15:04:05.000"), what, last))
}

// run makes cycles of writes until stop is closed.
func (w *chaosWriter) run(t *testing.T, stop <-chan struct{}) {
	for i := 1; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		if i%4 == 0 {
			zip := bootstrapZip(t, fmt.Sprintf("chaos package %d", i))
			sha := codeSha256(zip)
			w.packages[sha] = zip
			w.code.record(sha, w.write("UpdateFunctionCode", func(ctx context.Context, n *chaosNode) error {
				_, err := n.lambda.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String(w.fn), ZipFile: zip})
				return err
			}))
			w.settle(stop, "UpdateFunctionCode")
		}
		desc := fmt.Sprintf("chaos %d", i)
		w.counter.record(desc, w.write("UpdateFunctionConfiguration", func(ctx context.Context, n *chaosNode) error {
			_, err := n.lambda.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String(w.fn),
				Description: aws.String(desc), Environment: &types.Environment{Variables: map[string]string{"COUNTER": strconv.Itoa(i)}}})
			return err
		}))
		w.settle(stop, "UpdateFunctionConfiguration "+desc)

		var published *lambda.PublishVersionOutput
		if w.write("PublishVersion", func(ctx context.Context, n *chaosNode) error {
			out, err := n.lambda.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String(w.fn)})
			published = out
			return err
		}) == acknowledged {
			v := aws.ToString(published.Version)
			got := [2]string{aws.ToString(published.Description), aws.ToString(published.CodeSha256)}
			if prev, ok := w.versions[v]; ok && prev != got {
				w.conflicts = append(w.conflicts, fmt.Sprintf("version %s acknowledged as %q and later as %q", v, prev, got))
			}
			w.versions[v], w.latestVersion = got, v
		}

		if v := w.latestVersion; v != "" {
			w.live.record(v, w.write("UpdateAlias", func(ctx context.Context, n *chaosNode) error {
				_, err := n.lambda.UpdateAlias(ctx, &lambda.UpdateAliasInput{FunctionName: aws.String(w.fn), Name: aws.String("live"), FunctionVersion: aws.String(v)})
				return err
			}))
			if i%5 == 0 {
				name := fmt.Sprintf("a%d", i)
				if w.write("CreateAlias", func(ctx context.Context, n *chaosNode) error {
					_, err := n.lambda.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String(w.fn), Name: aws.String(name), FunctionVersion: aws.String(v)})
					return err
				}) == acknowledged {
					w.aliases[name] = v
				}
			}
		}

		reserved := int32(i%20 + 1)
		w.concurrency.record(strconv.Itoa(int(reserved)), w.write("PutFunctionConcurrency", func(ctx context.Context, n *chaosNode) error {
			_, err := n.lambda.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String(w.fn), ReservedConcurrentExecutions: aws.Int32(reserved)})
			return err
		}))

		user := fmt.Sprintf("chaos-%d", i)
		if w.write("CreateUser", func(ctx context.Context, n *chaosNode) error {
			_, err := n.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(user)})
			return err
		}) == acknowledged {
			w.users = append(w.users, user)
		}

		app := fmt.Sprintf("chaos-%d", i)
		if w.write("CreateApplication", func(ctx context.Context, n *chaosNode) error {
			_, err := n.cd.CreateApplication(ctx, &codedeploy.CreateApplicationInput{ApplicationName: aws.String(app), ComputePlatform: cdtypes.ComputePlatformLambda})
			return err
		}) == acknowledged {
			w.apps = append(w.apps, app)
		}
	}
}

// verify reads every acknowledged write back, each kind through another node.
func (w *chaosWriter) verify(t *testing.T) {
	t.Helper()
	ctx := t.Context()
	n, _ := w.c.pick()
	gf, err := n.lambda.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(w.fn)})
	if err != nil {
		t.Fatalf("GetFunction %s via %s: %v", w.fn, n.name, err)
	}
	cfg := gf.Configuration
	if err := w.counter.check(aws.ToString(cfg.Description)); err != nil {
		t.Errorf("via %s: %v", n.name, err)
	}
	if env := cfg.Environment; env == nil || "chaos "+env.Variables["COUNTER"] != aws.ToString(cfg.Description) {
		t.Errorf("via %s: description %q and environment %+v were written together", n.name, aws.ToString(cfg.Description), env)
	}
	if err := w.code.check(aws.ToString(cfg.CodeSha256)); err != nil {
		t.Errorf("via %s: %v", n.name, err)
	}
	if gf.Concurrency == nil {
		t.Errorf("via %s: no reserved concurrency; %s was acknowledged", n.name, w.concurrency.acked)
	} else if err := w.concurrency.check(strconv.Itoa(int(aws.ToInt32(gf.Concurrency.ReservedConcurrentExecutions)))); err != nil {
		t.Errorf("via %s: %v", n.name, err)
	}
	// Every node serves the package $LATEST runs (two copies at the acknowledgement, fetched by the others).
	for _, m := range w.c.nodes {
		out, err := m.lambda.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(w.fn)})
		if err != nil {
			t.Errorf("GetFunction via %s: %v", m.name, err)
			continue
		}
		want := w.packages[aws.ToString(out.Configuration.CodeSha256)]
		if body := download(t, aws.ToString(out.Code.Location)); want != nil && string(body) != string(want) {
			t.Errorf("via %s: the package of $LATEST is %d bytes (sha %s), want the uploaded %d bytes (sha %s)", m.name, len(body),
				codeSha256(body), len(want), aws.ToString(out.Configuration.CodeSha256))
		}
	}

	n, _ = w.c.pick()
	got := map[string][2]string{}
	vp := lambda.NewListVersionsByFunctionPaginator(n.lambda, &lambda.ListVersionsByFunctionInput{FunctionName: aws.String(w.fn)})
	for vp.HasMorePages() {
		page, err := vp.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListVersionsByFunction via %s: %v", n.name, err)
		}
		for _, v := range page.Versions {
			got[aws.ToString(v.Version)] = [2]string{aws.ToString(v.Description), aws.ToString(v.CodeSha256)}
		}
	}
	for _, v := range slices.Sorted(maps.Keys(w.versions)) {
		if g, ok := got[v]; !ok {
			t.Errorf("via %s: acknowledged version %s (%q) is missing", n.name, v, w.versions[v][0])
		} else if g != w.versions[v] {
			t.Errorf("via %s: version %s is %q, acknowledged as %q", n.name, v, g, w.versions[v])
		}
	}

	n, _ = w.c.pick()
	aliases := map[string]string{}
	ap := lambda.NewListAliasesPaginator(n.lambda, &lambda.ListAliasesInput{FunctionName: aws.String(w.fn)})
	for ap.HasMorePages() {
		page, err := ap.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListAliases via %s: %v", n.name, err)
		}
		for _, a := range page.Aliases {
			aliases[aws.ToString(a.Name)] = aws.ToString(a.FunctionVersion)
		}
	}
	if err := w.live.check(aliases["live"]); err != nil {
		t.Errorf("via %s: %v", n.name, err)
	}
	for _, a := range slices.Sorted(maps.Keys(w.aliases)) {
		if aliases[a] != w.aliases[a] {
			t.Errorf("via %s: acknowledged alias %s → %s reads %q", n.name, a, w.aliases[a], aliases[a])
		}
	}

	n, _ = w.c.pick()
	users := map[string]bool{}
	up := iam.NewListUsersPaginator(n.iam, &iam.ListUsersInput{})
	for up.HasMorePages() {
		page, err := up.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListUsers via %s: %v", n.name, err)
		}
		for _, u := range page.Users {
			users[aws.ToString(u.UserName)] = true
		}
	}
	for _, u := range w.users {
		if !users[u] {
			t.Errorf("via %s: acknowledged IAM user %s is missing", n.name, u)
		}
	}

	n, _ = w.c.pick()
	apps := map[string]bool{}
	cp := codedeploy.NewListApplicationsPaginator(n.cd, &codedeploy.ListApplicationsInput{})
	for cp.HasMorePages() {
		page, err := cp.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListApplications via %s: %v", n.name, err)
		}
		for _, a := range page.Applications {
			apps[a] = true
		}
	}
	for _, a := range w.apps {
		if !apps[a] {
			t.Errorf("via %s: acknowledged CodeDeploy application %s is missing", n.name, a)
		}
	}
	for _, c := range w.conflicts {
		t.Errorf("PublishVersion: %s", c)
	}
	for _, s := range w.stuck {
		t.Errorf("stuck: %s", s)
	}
}

// acknowledgedWrites counts the writes the server acknowledged.
func (w *chaosWriter) acknowledgedWrites() int {
	w.tally.mu.Lock()
	defer w.tally.mu.Unlock()
	return w.tally.ok
}

// describeCluster asks a node for the cluster's status, without failing the test.
func (n *chaosNode) describeCluster() (cluster.Status, error) {
	ctx, cancel := callCtx()
	defer cancel()
	return n.status.DescribeCluster(ctx)
}

// jobsLedOnce says whether the status shows every node answering and every job led by exactly one of them.
func jobsLedOnce(st cluster.Status, nodes int) (bool, string) {
	if len(st.Nodes) != nodes {
		return false, fmt.Sprintf("%d nodes listed, want %d: %+v", len(st.Nodes), nodes, st.Nodes)
	}
	leading := map[string][]string{}
	for _, n := range st.Nodes {
		if n.Error != "" {
			return false, fmt.Sprintf("node %s: %s", n.Name, n.Error)
		}
		for _, j := range n.Leading {
			leading[j] = append(leading[j], n.Name)
		}
	}
	for _, j := range cluster.Jobs {
		if len(leading[j]) != 1 || st.Leaders[j] != leading[j][0] {
			return false, fmt.Sprintf("job %s: leader %q in etcd, led by %v; leaders %v", j, st.Leaders[j], leading[j], st.Leaders)
		}
	}
	return true, ""
}

// Ensure a 3-node cluster loses nothing it acknowledged while its nodes are killed (kill -9) at random, one at a
// time, and restarted, for SLUICE_CHAOS_DURATION (45 s by default; issue 14 asks for 10 minutes). Meanwhile stock
// clients, each call through the next live node: a writer makes control-plane writes (function configuration and
// code, versions, aliases, reserved concurrency, IAM users, CodeDeploy applications) and records each it got an
// acknowledgement for; asynchronous invocations of a recorder (which fails, so each run leaves a dead letter with
// its event) record each 202; synchronous invocations keep going. No call may fail through a node that stayed up
// (for a write, a definite refusal such as a 409 while an update settles is an answer, not a failure). Afterwards every acknowledged write reads back through another node, every accepted event has run at least once,
// and every job is led by exactly one live node.
func TestClusterChaos(t *testing.T) {
	parallelLong(t)
	duration := chaosDuration(t)
	servers := startCluster(t, 3, "--async-retry-delay", "100ms")
	c := &chaosCluster{}
	for i, s := range servers {
		c.nodes = append(c.nodes, newChaosNode(fmt.Sprintf("n%d", i), s))
	}
	setup := servers[0].Lambda()
	w := &chaosWriter{c: c, fn: "chaos-w", versions: map[string][2]string{}, aliases: map[string]string{}, packages: map[string][]byte{},
		counter: register{what: "the description of $LATEST"}, code: register{what: "the CodeSha256 of $LATEST"},
		concurrency: register{what: "the reserved concurrency"}, live: register{what: "the alias live"}}
	zip := bootstrapZip(t, "chaos-w v0")
	w.packages[codeSha256(zip)] = zip
	if _, err := setup.CreateFunction(t.Context(), createInput(w.fn, zip)); err != nil {
		t.Fatal(err)
	}
	waitActive(t, setup, w.fn)
	v1 := publish(t, setup, w.fn)
	w.versions["1"] = [2]string{aws.ToString(v1.Description), aws.ToString(v1.CodeSha256)}
	if _, err := setup.CreateAlias(t.Context(), &lambda.CreateAliasInput{FunctionName: aws.String(w.fn), Name: aws.String("live"), FunctionVersion: aws.String("1")}); err != nil {
		t.Fatal(err)
	}
	w.live.record("1", acknowledged)
	createEcho(t, servers[1].Lambda(), "chaos-echo")
	createRecorder(t, servers[2].Lambda(), "chaos-rec")

	// The workload, until stop; a test that ends early (t.Fatal in the chaos loop) stops it before the servers.
	stop := make(chan struct{})
	var workload sync.WaitGroup
	stopWorkload := sync.OnceFunc(func() { close(stop); workload.Wait() })
	t.Cleanup(stopWorkload)

	workload.Go(func() { w.run(t, stop) })

	var syncTally chaosTally
	workload.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			n, gen := c.pick()
			msg := fmt.Sprintf("sync-%d", i)
			ctx, cancel := callCtx()
			start := time.Now()
			out, err := n.lambda.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("chaos-echo"), Payload: []byte(`{"message":"` + msg + `"}`)})
			cancel()
			var r echoResponse
			if err == nil && (out.FunctionError != nil || json.Unmarshal(out.Payload, &r) != nil || r.Message != msg) {
				err = fmt.Errorf("function error %s: %s", aws.ToString(out.FunctionError), out.Payload)
			}
			o, code := classify(err)
			if o == refused {
				// A refused invocation is a failure too: nothing asked for it to be refused.
				o, code = unknown, code+" (refused)"
			}
			syncTally.add(o, code, n, gen, start, "Invoke "+msg, err)
		}
	})

	var asyncTally chaosTally
	var acceptedMu sync.Mutex
	accepted := map[string]string{} // payloads answered 202 → the event's request ID, node and time
	workload.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			n, gen := c.pick()
			payload := fmt.Sprintf(`{"chaos":%d}`, i)
			ctx, cancel := callCtx()
			start := time.Now()
			out, err := n.lambda.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("chaos-rec"), InvocationType: types.InvocationTypeEvent, Payload: []byte(payload)})
			cancel()
			if err == nil && out.StatusCode != http.StatusAccepted {
				err = fmt.Errorf("status %d", out.StatusCode)
			}
			o, code := classify(err)
			if o == refused {
				o, code = unknown, code+" (refused)"
			}
			if o == acknowledged {
				id, _ := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata)
				acceptedMu.Lock()
				accepted[payload] = fmt.Sprintf("%s (request %s via %s at %s)", payload, id, n.name, start.UTC().Format("15:04:05.000"))
				acceptedMu.Unlock()
			}
			asyncTally.add(o, code, n, gen, start, "Invoke (Event) "+payload, err)
		}
	})

	// The chaos: every few seconds kill -9 a node (half the time one leading a job), restart it a little later. One
	// node at most is down, so two are always up.
	start := time.Now()
	kills, leaderKills := 0, 0
	var killLog []string
	for time.Since(start) < duration {
		time.Sleep(time.Duration(1000+rand.IntN(3000)) * time.Millisecond)
		victim := c.nodes[rand.IntN(len(c.nodes))]
		why := "random"
		if rand.IntN(2) == 0 {
			job := cluster.Jobs[rand.IntN(len(cluster.Jobs))]
			asker, _ := c.pick()
			if st, err := asker.describeCluster(); err == nil {
				for _, n := range c.nodes {
					if n.name == st.Leaders[job] {
						victim, why = n, "leader of "+job
						leaderKills++
					}
				}
			}
		}
		victim.mu.Lock()
		victim.up = false
		victim.gen++
		victim.mu.Unlock()
		victim.srv.Kill(t)
		kills++
		killLog = append(killLog, fmt.Sprintf("%s %s (%s)", time.Now().Format("15:04:05.000"), victim.name, why))
		// Down a few seconds, sometimes less than the lease TTL (4 s): the restarted node, on the same data dir,
		// takes its registration over from the killed process.
		time.Sleep(time.Duration(1000+rand.IntN(4000)) * time.Millisecond)
		victim.srv.Restart(t)
		victim.tr.CloseIdleConnections()
		victim.mu.Lock()
		victim.up = true
		victim.mu.Unlock()
	}
	stopWorkload()
	t.Logf("chaos for %s: %d kills (%d of a job's leader): %s", time.Since(start).Round(time.Second), kills, leaderKills, strings.Join(killLog, ", "))
	t.Logf("writes: %s", w.tally.String())
	t.Logf("  acknowledged: %d versions, %d aliases, %d IAM users, %d CodeDeploy applications; last description %q, code %s, concurrency %s, live → %s",
		len(w.versions), len(w.aliases)+1, len(w.users), len(w.apps), w.counter.acked, w.code.acked, w.concurrency.acked, w.live.acked)
	t.Logf("synchronous invokes: %s", syncTally.String())
	t.Logf("asynchronous invokes: %s", asyncTally.String())
	failedOnLiveNode := false
	for _, tally := range []*chaosTally{&syncTally, &asyncTally, &w.tally} {
		for _, f := range tally.unexpected {
			if f.throttledAfterLapse() {
				t.Logf("throttled by a node whose etcd session had lapsed (no member, no share of the limits): %s", f)
				continue
			}
			failedOnLiveNode = true
			t.Errorf("a call through a node that was not killed failed: %s", f)
		}
	}
	if w.acknowledgedWrites() == 0 || len(accepted) == 0 || kills == 0 {
		t.Fatalf("nothing to check: %d acknowledged writes, %d accepted events, %d kills", w.acknowledgedWrites(), len(accepted), kills)
	}

	// Every job ends led by exactly one live node, as every node sees it.
	for _, n := range c.nodes {
		eventually(t, 60*time.Second, "every job is led by exactly one live node, as "+n.name+" sees it", func() (bool, string) {
			st, err := n.describeCluster()
			if err != nil {
				return false, err.Error()
			}
			return jobsLedOnce(st, len(c.nodes))
		})
	}

	// Every acknowledged write reads back.
	w.verify(t)

	// Every accepted event ran at least once: its dead letter holds it.
	deadline := time.Now().Add(2*time.Minute + duration/2)
	var missing []string
	runs := map[string]int{}
	for {
		n, _ := c.pick()
		stdout, stderr, code := sluice(t, n.srv.Env(), "dlq", "chaos-rec", "--json")
		if code != 0 {
			t.Fatalf("sluice dlq via %s: %d %s", n.name, code, stderr)
		}
		var d deadLetters
		mustJSON(t, "sluice dlq", stdout, &d)
		clear(runs)
		for _, l := range d.DeadLetters {
			runs[string(l.Payload)]++
		}
		missing = missing[:0]
		for p, how := range accepted {
			if runs[p] == 0 {
				missing = append(missing, how)
			}
		}
		if len(missing) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	more := 0
	for _, k := range runs {
		if k > 1 {
			more++
		}
	}
	t.Logf("events: %d accepted, %d ran (%d more than once), %d not run", len(accepted), len(accepted)-len(missing), more, len(missing))
	if len(missing) > 0 {
		slices.Sort(missing)
		t.Errorf("%d accepted events never ran (no dead letter within %s): %s", len(missing), 2*time.Minute+duration/2, strings.Join(missing, "; "))
	}
	if len(missing) > 0 || failedOnLiveNode {
		dumpGoroutines(t, c.nodes)
	}
}

// dumpGoroutines makes every node print its goroutines (SIGQUIT: the Go runtime's dump, then exit) into its
// output, which the harness shows for a failed test: where a call or an event hangs.
func dumpGoroutines(t *testing.T, nodes []*chaosNode) {
	t.Helper()
	for _, n := range nodes {
		if !n.srv.running() {
			continue
		}
		fmt.Fprintf(n.srv.log, "----- SIGQUIT for a goroutine dump (TestClusterChaos failed)\n")
		_ = n.srv.cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case <-n.srv.done:
		case <-time.After(30 * time.Second):
			n.srv.Kill(t)
		}
	}
}
