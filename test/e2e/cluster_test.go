package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
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
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/sluice-dev/sluice/internal/cluster"
	"github.com/sluice-dev/sluice/internal/stack"
	"github.com/sluice-dev/sluice/internal/store/etcd/etcdtest"
)

// The suite's etcd, started by the first cluster test and stopped when the suite ends (runMain).
var (
	etcdOnce     sync.Once
	etcdEndpoint string
	etcdErr      error
	stopEtcd     = func() {}
	clusterSeq   atomic.Int64
)

// testEtcd returns the client URL of the suite's etcd (Debian's etcd-server binary), starting it on first use.
func testEtcd(t *testing.T) string {
	t.Helper()
	etcdOnce.Do(func() {
		bin, err := exec.LookPath("etcd")
		if err != nil {
			etcdErr = err
			return
		}
		etcdEndpoint, stopEtcd, etcdErr = etcdtest.Start(bin)
	})
	if etcdErr != nil {
		if os.Getenv("SLUICE_REQUIRE_ETCD") != "" {
			t.Fatalf("SLUICE_REQUIRE_ETCD is set but etcd could not start: %v", etcdErr)
		}
		t.Skipf("no etcd (apt-get install etcd-server): %v", etcdErr)
	}
	return etcdEndpoint
}

// clusterSlots bounds the clusters running at once: each is three servers built with -race, and a 2-core machine
// running more of them besides the rest of the suite starves their etcd sessions.
var clusterSlots = make(chan struct{}, 2)

// takeClusterSlot waits for a slot, held until the test ends.
func takeClusterSlot(t *testing.T) {
	t.Helper()
	clusterSlots <- struct{}{}
	t.Cleanup(func() { <-clusterSlots })
}

// startCluster starts n nodes sharing one etcd prefix, named n0…, each on a port of its own that it keeps across
// restarts (as behind a load balancer); args go to every node. The lease TTL is 4 s: a killed node's jobs move
// within it, and a loaded machine's keep-alives do not miss it.
func startCluster(t *testing.T, n int, args ...string) []*server {
	t.Helper()
	endpoint := testEtcd(t)
	takeClusterSlot(t)
	prefix := fmt.Sprintf("/e2e-%d-%d", os.Getpid(), clusterSeq.Add(1))
	nodes := make([]*server, n)
	for i := range nodes {
		nodes[i] = startServer(t, append([]string{"--listen", etcdtest.FreeAddr(), "--etcd-endpoints", endpoint, "--etcd-prefix", prefix,
			"--etcd-max-txn-ops", fmt.Sprint(etcdtest.MaxTxnOps), "--node-name", fmt.Sprintf("n%d", i), "--lease-ttl", "4",
			"--drain-delay", "500ms"}, args...)...)
	}
	return nodes
}

// clusterStatus asks node s for the cluster's status (DescribeCluster, what `sluice cluster status` prints).
func (s *server) clusterStatus(t *testing.T) cluster.Status {
	t.Helper()
	st, err := stack.NewClient(aws.Config{Region: region, BaseEndpoint: aws.String(s.URL), HTTPClient: s.sdkHTTP(),
		Credentials: credentials.NewStaticCredentialsProvider(s.AccessKeyID, s.SecretAccessKey, "")}).DescribeCluster(t.Context())
	if err != nil {
		t.Fatalf("DescribeCluster on %s: %v", s.URL, err)
	}
	return st
}

// leaderOf returns the node leading job, as node 'ask' sees it, waiting for one to be elected.
func leaderOf(t *testing.T, nodes []*server, ask *server, job string) *server {
	t.Helper()
	var leader *server
	eventually(t, 30*time.Second, job+" has a leader", func() (bool, string) {
		st := ask.clusterStatus(t)
		for i, n := range nodes {
			if st.Leaders[job] == fmt.Sprintf("n%d", i) && n.running() {
				leader = n
				return true, ""
			}
		}
		return false, fmt.Sprint(st.Leaders)
	})
	return leader
}

// awaitInvocable waits until every node's invoke path knows fn (with qualifier, if any), which it learns from
// etcd's watch milliseconds after the node that made it answered: a DryRun invocation checks without running it.
func awaitInvocable(t *testing.T, nodes []*server, fn, qualifier string) {
	t.Helper()
	for i, n := range nodes {
		c := n.Lambda()
		eventually(t, 10*time.Second, fmt.Sprintf("node %d can invoke %s:%s", i, fn, qualifier), func() (bool, string) {
			in := &lambda.InvokeInput{FunctionName: aws.String(fn), InvocationType: types.InvocationTypeDryRun}
			if qualifier != "" {
				in.Qualifier = aws.String(qualifier)
			}
			_, err := c.Invoke(t.Context(), in)
			return err == nil, fmt.Sprint(err)
		})
	}
}

func echoVersion(t *testing.T, c *lambda.Client, qualifier string) string {
	t.Helper()
	var r echoResponse
	out := invokeJSON(t, c, "orders", qualifier, `{"message":"x"}`)
	if err := json.Unmarshal(out.Payload, &r); err != nil || out.FunctionError != nil {
		t.Fatalf("invoke orders:%s: %v %s", qualifier, err, out.Payload)
	}
	return r.Version
}

// Ensure a 3-node cluster serves the whole API on every node, with stock clients, each call through another node:
// code uploaded to one runs on all; an alias moved on one routes on the others; identities made or deleted on one
// count on the others; logs and metrics read on one node cover the invocations of all; and the cluster's status
// lists every node, each job led by exactly one.
func TestClusterServesEveryCallOnEveryNode(t *testing.T) {
	parallel(t)
	nodes := startCluster(t, 3)
	c := func(i int) *lambda.Client { return nodes[i%3].Lambda() }

	createEcho(t, c(0), "orders")
	v1 := publishNew(t, c(1), "orders", "one")
	if _, err := c(2).CreateAlias(t.Context(), &lambda.CreateAliasInput{FunctionName: aws.String("orders"), Name: aws.String("live"), FunctionVersion: aws.String(v1)}); err != nil {
		t.Fatal(err)
	}
	awaitInvocable(t, nodes, "orders", "live")
	for i := range 3 {
		if got := echoVersion(t, c(i), "live"); got != v1 {
			t.Fatalf("node %d: live ran version %s, want %s", i, got, v1)
		}
	}

	t.Run("an alias moved on one node routes on the others", func(t *testing.T) {
		v2 := publishNew(t, c(1), "orders", "two")
		if _, err := c(0).UpdateAlias(t.Context(), &lambda.UpdateAliasInput{FunctionName: aws.String("orders"), Name: aws.String("live"), FunctionVersion: aws.String(v2)}); err != nil {
			t.Fatal(err)
		}
		for i := 1; i < 3; i++ {
			eventually(t, 10*time.Second, fmt.Sprintf("node %d routes live to %s", i, v2), func() (bool, string) {
				got := echoVersion(t, c(i), "live")
				return got == v2, got
			})
		}
	})

	t.Run("identities made or deleted on one node count on the others", func(t *testing.T) {
		admin := nodes[0].IAM()
		if _, err := admin.CreateUser(t.Context(), &iam.CreateUserInput{UserName: aws.String("ci")}); err != nil {
			t.Fatal(err)
		}
		if _, err := admin.PutUserPolicy(t.Context(), &iam.PutUserPolicyInput{UserName: aws.String("ci"), PolicyName: aws.String("list"),
			PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"lambda:ListFunctions","Resource":"*"}]}`)}); err != nil {
			t.Fatal(err)
		}
		key, err := admin.CreateAccessKey(t.Context(), &iam.CreateAccessKeyInput{UserName: aws.String("ci")})
		if err != nil {
			t.Fatal(err)
		}
		user := &server{URL: nodes[2].URL, AccessKeyID: aws.ToString(key.AccessKey.AccessKeyId), SecretAccessKey: aws.ToString(key.AccessKey.SecretAccessKey)}
		// Node 2 learns of the key from etcd's watch, milliseconds after node 0 answered (no read-your-writes
		// across nodes, docs/compatibility.md).
		eventually(t, 10*time.Second, "a key made on node 0 works on node 2", func() (bool, string) {
			_, err := user.Lambda().ListFunctions(t.Context(), &lambda.ListFunctionsInput{})
			return err == nil, fmt.Sprint(err)
		})
		if _, err := nodes[1].IAM().DeleteAccessKey(t.Context(), &iam.DeleteAccessKeyInput{UserName: aws.String("ci"), AccessKeyId: key.AccessKey.AccessKeyId}); err != nil {
			t.Fatal(err)
		}
		eventually(t, 10*time.Second, "a key deleted on node 1 is refused on node 2", func() (bool, string) {
			_, err := user.Lambda().ListFunctions(t.Context(), &lambda.ListFunctionsInput{})
			return err != nil && strings.Contains(err.Error(), "UnrecognizedClientException"), fmt.Sprint(err)
		})
	})

	t.Run("logs and metrics read on one node cover every node", func(t *testing.T) {
		marks := map[string]bool{}
		for i := range 3 {
			line := fmt.Sprintf("cluster-mark-on-node-%d", i)
			invokeLogging(t, c(i), "orders", "live", line)
			marks[line] = true
		}
		for i := range 3 {
			logs := nodes[i].Logs()
			eventually(t, 20*time.Second, fmt.Sprintf("node %d's FilterLogEvents sees every node's lines", i), func() (bool, string) {
				out, err := logs.FilterLogEvents(t.Context(), &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/aws/lambda/orders"),
					FilterPattern: aws.String("cluster-mark")})
				if err != nil {
					return false, err.Error()
				}
				seen := map[string]bool{}
				var last int64
				sorted := true
				for _, e := range out.Events {
					seen[strings.TrimSpace(aws.ToString(e.Message))] = true
					sorted = sorted && aws.ToInt64(e.Timestamp) >= last
					last = aws.ToInt64(e.Timestamp)
				}
				for m := range marks {
					if !seen[m] {
						return false, fmt.Sprint(seen)
					}
				}
				return sorted, "events not in time order"
			})
		}
		// Every invocation so far, wherever it ran, counts in the Invocations sum read on any node.
		total := func(s *server) float64 {
			out, err := s.CloudWatch().GetMetricStatistics(t.Context(), &cloudwatch.GetMetricStatisticsInput{Namespace: aws.String("AWS/Lambda"),
				MetricName: aws.String("Invocations"), Dimensions: []cwtypes.Dimension{{Name: aws.String("FunctionName"), Value: aws.String("orders")}},
				StartTime: aws.Time(time.Now().Add(-time.Hour)), EndTime: aws.Time(time.Now().Add(time.Minute)), Period: aws.Int32(3600 + 60),
				Statistics: []cwtypes.Statistic{cwtypes.StatisticSum}})
			if err != nil {
				t.Fatal(err)
			}
			sum := 0.0
			for _, p := range out.Datapoints {
				sum += aws.ToFloat64(p.Sum)
			}
			return sum
		}
		want := total(nodes[0])
		if want < 6 {
			t.Fatalf("node 0 counts %v invocations of orders, want at least the 6 this test made on three nodes", want)
		}
		for i := 1; i < 3; i++ {
			if got := total(nodes[i]); got != want {
				t.Errorf("node %d counts %v invocations, node 0 %v: the cluster's sum should not depend on the node asked", i, got, want)
			}
		}
	})

	t.Run("provisioned concurrency N means N environments in the cluster", func(t *testing.T) {
		const want = 4
		environments := func() int {
			n := 0
			for _, node := range nodes[0].clusterStatus(t).Nodes {
				n += node.Environments
			}
			return n
		}
		before := environments() // the on-demand environments of the invocations above
		if _, err := c(1).PutProvisionedConcurrencyConfig(t.Context(), &lambda.PutProvisionedConcurrencyConfigInput{FunctionName: aws.String("orders"),
			Qualifier: aws.String("live"), ProvisionedConcurrentExecutions: aws.Int32(want)}); err != nil {
			t.Fatal(err)
		}
		eventually(t, 60*time.Second, "provisioned concurrency READY on every node's API", func() (bool, string) {
			var states []string
			for i := range 3 {
				got, err := c(i).GetProvisionedConcurrencyConfig(t.Context(), &lambda.GetProvisionedConcurrencyConfigInput{FunctionName: aws.String("orders"), Qualifier: aws.String("live")})
				if err != nil {
					return false, err.Error()
				}
				if got.Status != types.ProvisionedConcurrencyStatusEnumReady || aws.ToInt32(got.AvailableProvisionedConcurrentExecutions) != want {
					states = append(states, fmt.Sprintf("node %d: %s %d", i, got.Status, aws.ToInt32(got.AvailableProvisionedConcurrentExecutions)))
				}
			}
			return len(states) == 0, strings.Join(states, "; ")
		})
		// want more environments in the whole cluster, not want per node (the on-demand ones may have been reaped
		// or reused meanwhile, so the count is bounded, not exact).
		if got := environments(); got > before+want || got < want {
			t.Errorf("%d environments in the cluster with provisioned concurrency %d (%d before): want %d more at most, %d at least", got, want, before, want, want)
		}
		if _, err := c(2).DeleteProvisionedConcurrencyConfig(t.Context(), &lambda.DeleteProvisionedConcurrencyConfigInput{FunctionName: aws.String("orders"), Qualifier: aws.String("live")}); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("cluster status lists every node, each job led once", func(t *testing.T) {
		stdout, stderr, code := sluice(t, nodes[1].Env(), "cluster", "status")
		if code != 0 {
			t.Fatalf("sluice cluster status: %d %s", code, stderr)
		}
		for i := range 3 {
			if !strings.Contains(stdout, fmt.Sprintf("n%d ", i)) || !strings.Contains(stdout, nodes[i].URL) {
				t.Errorf("sluice cluster status does not list n%d at %s:\n%s", i, nodes[i].URL, stdout)
			}
		}
		st := nodes[2].clusterStatus(t)
		led := map[string]int{}
		for _, n := range st.Nodes {
			if n.Error != "" {
				t.Errorf("node %s unreachable: %s", n.Name, n.Error)
			}
			for _, j := range n.Leading {
				led[j]++
			}
		}
		for _, j := range cluster.Jobs {
			if led[j] != 1 || st.Leaders[j] == "" {
				t.Errorf("job %s: led by %d nodes (leader %q), want exactly one", j, led[j], st.Leaders[j])
			}
		}
	})
}

// Ensure SIGTERM drains a node: /_sluice/health turns 503 at once, an invocation in flight finishes and is answered,
// and the node's leaderships pass to the others.
func TestClusterDrainFinishesInFlightInvocations(t *testing.T) {
	parallel(t)
	nodes := startCluster(t, 2, "--drain-delay", "2s")
	createEcho(t, nodes[0].Lambda(), "orders", func(in *lambda.CreateFunctionInput) { in.Timeout = aws.Int32(10) })
	draining := nodes[0]
	leaderOf(t, nodes, draining, cluster.JobSettle) // every job has a leader before the drain
	type result struct {
		out *lambda.InvokeOutput
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := draining.Lambda().Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("orders"), Payload: []byte(`{"message":"slow","sleepMs":4000}`)})
		done <- result{out, err}
	}()
	eventually(t, 30*time.Second, "the invocation runs on the node", func() (bool, string) { // (it sleeps 4 s)
		for _, n := range draining.clusterStatus(t).Nodes {
			if n.Name == "n0" && n.InFlight > 0 {
				return true, ""
			}
		}
		return false, "nothing in flight on n0"
	})
	stopped := make(chan struct{})
	go func() { draining.Stop(t); close(stopped) }()
	eventually(t, 10*time.Second, "the draining node's health answers 503", func() (bool, string) {
		resp, err := http.Get(draining.URL + "/_sluice/health")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusServiceUnavailable, resp.Status
	})
	r := <-done
	if r.err != nil || r.out.FunctionError != nil || !strings.Contains(string(r.out.Payload), "slow") {
		t.Fatalf("the invocation in flight when the drain began: %v %+v", r.err, r.out)
	}
	<-stopped
	st := nodes[1].clusterStatus(t)
	for _, j := range cluster.Jobs {
		if st.Leaders[j] != "n1" {
			t.Errorf("job %s led by %q after n0 drained, want n1", j, st.Leaders[j])
		}
	}
}

// Ensure killing (kill -9) the node that leads the deployment controller during a linear shift does not strand the
// deployment: another node takes the leadership within the lease TTL and the deployment ends Succeeded, its alias
// wholly on the target; and killing the node that dispatches asynchronous invocations loses no accepted event.
func TestClusterSurvivesLeaderKill(t *testing.T) {
	parallel(t)
	nodes := startCluster(t, 3, "--deploy-time-scale", "60", "--async-retry-delay", "100ms")
	alive := func(except *server) *server {
		for _, n := range nodes {
			if n != except && n.running() {
				return n
			}
		}
		t.Fatal("no node left")
		return nil
	}

	t.Run("deployment controller", func(t *testing.T) {
		c, cd := nodes[0].Lambda(), nodes[1].CodeDeploy()
		createEcho(t, c, "orders")
		v1 := publishNew(t, c, "orders", "one")
		v2 := publishNew(t, c, "orders", "two")
		if _, err := c.CreateAlias(t.Context(), &lambda.CreateAliasInput{FunctionName: aws.String("orders"), Name: aws.String("live"), FunctionVersion: aws.String(v1)}); err != nil {
			t.Fatal(err)
		}
		createDeploymentGroup(t, cd, linear10)
		id := createDeployment(t, nodes[2].CodeDeploy(), appSpecFor("orders", "live", v1, v2))
		leader := leaderOf(t, nodes, nodes[0], cluster.JobDeployments)
		watcher := alive(leader).Lambda()
		eventually(t, 30*time.Second, "the linear shift reaches 20%", func() (bool, string) {
			a, err := watcher.GetAlias(t.Context(), &lambda.GetAliasInput{FunctionName: aws.String("orders"), Name: aws.String("live")})
			if err != nil {
				return false, err.Error()
			}
			return a.RoutingConfig != nil && a.RoutingConfig.AdditionalVersionWeights[v2] >= 0.2, fmt.Sprint(a.RoutingConfig)
		})
		leader.Kill(t)
		survivor := alive(leader)
		next := leaderOf(t, nodes, survivor, cluster.JobDeployments)
		if next == leader {
			t.Fatal("the killed node still leads")
		}
		waitDeployment(t, survivor.CodeDeploy(), id, cdtypes.DeploymentStatusSucceeded)
		a, err := survivor.Lambda().GetAlias(t.Context(), &lambda.GetAliasInput{FunctionName: aws.String("orders"), Name: aws.String("live")})
		if err != nil || aws.ToString(a.FunctionVersion) != v2 || a.RoutingConfig != nil && len(a.RoutingConfig.AdditionalVersionWeights) != 0 {
			t.Fatalf("alias after the deployment moved nodes: %+v %v", a, err)
		}
		leader.Restart(t) // back for the next part
	})

	t.Run("async dispatch", func(t *testing.T) {
		c := nodes[0].Lambda()
		createRecorder(t, c, "recorder")
		// Fully throttled: events are accepted and queued, and cannot run yet.
		if _, err := c.PutFunctionConcurrency(t.Context(), &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String("recorder"), ReservedConcurrentExecutions: aws.Int32(0)}); err != nil {
			t.Fatal(err)
		}
		awaitInvocable(t, nodes, "recorder", "")
		const n = 6
		for i := range n {
			out, err := nodes[i%3].Lambda().Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String("recorder"), InvocationType: types.InvocationTypeEvent,
				Payload: []byte(fmt.Sprintf(`{"n":%d}`, i))})
			if err != nil || out.StatusCode != 202 {
				t.Fatalf("event %d: %v %v", i, out, err)
			}
		}
		leader := leaderOf(t, nodes, nodes[0], cluster.JobAsync)
		leader.Kill(t)
		survivor := alive(leader)
		if _, err := survivor.Lambda().DeleteFunctionConcurrency(t.Context(), &lambda.DeleteFunctionConcurrencyInput{FunctionName: aws.String("recorder")}); err != nil {
			t.Fatal(err)
		}
		d := waitDeadLetters(t, survivor, "recorder", n)
		seen := map[string]bool{}
		for _, l := range d.DeadLetters {
			seen[string(l.Payload)] = true
		}
		for i := range n {
			if p := fmt.Sprintf(`{"n":%d}`, i); !seen[p] {
				t.Fatalf("event %s was lost when its dispatcher was killed; dead letters: %+v", p, d.DeadLetters)
			}
		}
	})
}

// Ensure a rolling upgrade of a cluster behind HAProxy loses no invocation: steady synchronous traffic through
// HAProxy (checking /_sluice/health) while each node in turn is drained with SIGTERM and started again from a new
// binary; every invocation succeeds.
func TestClusterRollingUpgradeBehindHAProxy(t *testing.T) {
	parallel(t)
	haproxy, err := exec.LookPath("haproxy")
	if err != nil {
		if os.Getenv("SLUICE_REQUIRE_HAPROXY") != "" {
			t.Fatal("SLUICE_REQUIRE_HAPROXY is set but there is no haproxy on PATH (apt-get install haproxy)")
		}
		t.Skip("no haproxy on PATH (apt-get install haproxy)")
	}
	nodes := startCluster(t, 3)
	createEcho(t, nodes[0].Lambda(), "orders")
	awaitInvocable(t, nodes, "orders", "")

	// The load balancer a user would put in front (README: "Run a cluster").
	front := "127.0.0.1:" + strings.Split(etcdtest.FreeAddr(), ":")[1]
	var backends strings.Builder
	for i, n := range nodes {
		fmt.Fprintf(&backends, "    server n%d %s check inter 200ms fall 1 rise 2\n", i, strings.TrimPrefix(n.URL, "http://"))
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "haproxy.cfg")
	writeFile(t, cfg, []byte(fmt.Sprintf(`global
    maxconn 256
defaults
    mode http
    timeout connect 2s
    timeout check 2s
    timeout client 60s
    timeout server 60s
    retries 3
    option redispatch
frontend sluice
    bind %s
    default_backend nodes
backend nodes
    option httpchk GET /_sluice/health
    http-check expect status 200
%s`, front, backends.String())))
	lb := exec.Command(haproxy, "-f", cfg, "-db")
	var lbLog syncBuffer
	lb.Stdout, lb.Stderr = &lbLog, &lbLog
	if err := lb.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { lb.Process.Kill(); lb.Wait() }()
	through := &server{URL: "http://" + front, AccessKeyID: nodes[0].AccessKeyID, SecretAccessKey: nodes[0].SecretAccessKey}
	eventually(t, 20*time.Second, "HAProxy serves", func() (bool, string) {
		resp, err := http.Get(through.URL + "/_sluice/health")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == 200, resp.Status
	})

	// The new release: another binary file (the same code, as a rolling upgrade to a rebuilt binary).
	newBin := filepath.Join(dir, "sluice-next")
	b, err := os.ReadFile(sluiceBin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(newBin, b, 0o755); err != nil {
		t.Fatal(err)
	}

	var ok, failed atomic.Int64
	var failures sync.Map
	stop := make(chan struct{})
	var traffic sync.WaitGroup
	for w := range 2 {
		traffic.Go(func() {
			client := through.Lambda()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				out, err := client.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("orders"), Payload: []byte(`{"message":"steady"}`)})
				switch {
				case err != nil:
					failed.Add(1)
					failures.Store(fmt.Sprintf("%d/%d", w, i), err.Error())
				case out.FunctionError != nil || out.StatusCode != 200:
					failed.Add(1)
					failures.Store(fmt.Sprintf("%d/%d", w, i), string(out.Payload))
				default:
					ok.Add(1)
				}
			}
		})
	}
	for _, n := range nodes {
		before := ok.Load()
		eventually(t, 30*time.Second, "traffic flows", func() (bool, string) { return ok.Load() > before+20, fmt.Sprint(ok.Load()) })
		n.Stop(t)
		n.bin = newBin
		n.Restart(t)
	}
	before := ok.Load()
	eventually(t, 30*time.Second, "traffic flows after the upgrade", func() (bool, string) { return ok.Load() > before+20, fmt.Sprint(ok.Load()) })
	close(stop)
	traffic.Wait()
	t.Logf("rolling upgrade of 3 nodes behind HAProxy: %d invocations succeeded, %d failed", ok.Load(), failed.Load())
	if failed.Load() > 0 {
		var list []string
		failures.Range(func(k, v any) bool { list = append(list, k.(string)+": "+v.(string)); return len(list) < 10 })
		slices.Sort(list)
		t.Errorf("%d invocations failed during the rolling upgrade:\n%s\nhaproxy:\n%s", failed.Load(), strings.Join(list, "\n"), lbLog.String())
	}
}

// Ensure an alarm counts the errors of every node: a canary whose defective version fails once on each of three
// nodes breaches an alarm no single node's errors could breach (Sum >= 3 over a 10 s period, one error per node
// per period), and the deployment rolls back.
func TestClusterAlarmSeesErrorsOnEveryNode(t *testing.T) {
	parallel(t)
	nodes := startCluster(t, 3, "--deploy-time-scale", "5") // the canary's five minutes last 60 s
	c, cd := nodes[0].Lambda(), nodes[1].CodeDeploy()
	createEcho(t, c, "orders")
	v1 := publishNew(t, c, "orders", "one")
	if _, err := c.UpdateFunctionConfiguration(t.Context(), &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("orders"),
		Environment: &types.Environment{Variables: map[string]string{"FAIL_ALL": "defect in v2"}}}); err != nil {
		t.Fatal(err)
	}
	waitUpdated(t, c, "orders")
	v2 := publishNew(t, c, "orders", "two (defective)")
	if _, err := c.CreateAlias(t.Context(), &lambda.CreateAliasInput{FunctionName: aws.String("orders"), Name: aws.String("live"), FunctionVersion: aws.String(v1)}); err != nil {
		t.Fatal(err)
	}
	if _, err := nodes[2].CloudWatch().PutMetricAlarm(t.Context(), &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("orders-errors"),
		Namespace: aws.String("AWS/Lambda"), MetricName: aws.String("Errors"), Statistic: cwtypes.StatisticSum,
		Dimensions: []cwtypes.Dimension{{Name: aws.String("FunctionName"), Value: aws.String("orders")}, {Name: aws.String("Resource"), Value: aws.String("orders:live")}},
		Period:     aws.Int32(10), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(3), TreatMissingData: aws.String("notBreaching"),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold}); err != nil {
		t.Fatal(err)
	}
	createDeploymentGroup(t, cd, func(in *codedeploy.CreateDeploymentGroupInput) {
		in.DeploymentConfigName = aws.String("CodeDeployDefault.LambdaCanary10Percent5Minutes")
		in.AlarmConfiguration = &cdtypes.AlarmConfiguration{Enabled: true, Alarms: []cdtypes.Alarm{{Name: aws.String("orders-errors")}}}
		in.AutoRollbackConfiguration = &cdtypes.AutoRollbackConfiguration{Enabled: true, Events: []cdtypes.AutoRollbackEvent{cdtypes.AutoRollbackEventDeploymentStopOnAlarm}}
	})
	id := createDeployment(t, cd, appSpecFor("orders", "live", v1, v2))
	eventually(t, 30*time.Second, "the canary routes 10% to the defective version", func() (bool, string) {
		a, err := c.GetAlias(t.Context(), &lambda.GetAliasInput{FunctionName: aws.String("orders"), Name: aws.String("live")})
		if err != nil {
			return false, err.Error()
		}
		return a.RoutingConfig != nil && a.RoutingConfig.AdditionalVersionWeights[v2] > 0, fmt.Sprint(a.RoutingConfig)
	})

	// Rounds 12 s apart, each one error per node: a 10 s period never holds two errors of one node.
	stopped := func() bool {
		d, err := cd.GetDeployment(t.Context(), &codedeploy.GetDeploymentInput{DeploymentId: aws.String(id)})
		return err == nil && d.DeploymentInfo.Status == cdtypes.DeploymentStatusStopped
	}
	for round := 0; round < 4 && !stopped(); round++ {
		for i, n := range nodes {
			client := n.Lambda()
			for {
				res, err := client.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String("orders"), Qualifier: aws.String("live"), Payload: []byte(`{}`)})
				if err != nil {
					t.Fatalf("invoke through node %d: %v", i, err)
				}
				if aws.ToString(res.ExecutedVersion) == v2 {
					break // this node's one error of the round
				}
			}
		}
		deadline := time.Now().Add(12 * time.Second)
		for time.Now().Before(deadline) && !stopped() {
			time.Sleep(100 * time.Millisecond)
		}
	}
	info := waitDeployment(t, nodes[2].CodeDeploy(), id, cdtypes.DeploymentStatusStopped)
	if info.ErrorInformation == nil || info.ErrorInformation.Code != cdtypes.ErrorCodeAlarmActive {
		t.Fatalf("stopped deployment: %+v", info.ErrorInformation)
	}
	eventually(t, 30*time.Second, "the alias is back on the healthy version", func() (bool, string) {
		a, err := nodes[1].Lambda().GetAlias(t.Context(), &lambda.GetAliasInput{FunctionName: aws.String("orders"), Name: aws.String("live")})
		if err != nil {
			return false, err.Error()
		}
		return aws.ToString(a.FunctionVersion) == v1 && (a.RoutingConfig == nil || len(a.RoutingConfig.AdditionalVersionWeights) == 0), fmt.Sprint(a)
	})
}
