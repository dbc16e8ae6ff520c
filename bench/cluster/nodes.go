package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/sluice-dev/sluice/bench/internal/benchiam"
	"github.com/sluice-dev/sluice/bench/internal/sluiceproc"
	"github.com/sluice-dev/sluice/internal/cluster"
	"github.com/sluice-dev/sluice/internal/sdkhttp"
	"github.com/sluice-dev/sluice/internal/stack"
	"github.com/sluice-dev/sluice/internal/store/etcd/etcdtest"
)

const (
	accessKey = "AKIABENCHCLUSTERBEN0"
	secretKey = "bench-cluster-secret"
	region    = "us-east-1"
	role      = benchiam.FunctionRole
)

// node is one `sluice serve` process, embedded or a cluster member, with the clients a caller uses against it.
// It keeps its name, address and data dir across a kill and a restart, as a node behind a load balancer does.
type node struct {
	name, addr, dataDir string
	args                []string
	bin                 string
	srv                 *sluiceproc.Server

	lambda *lambda.Client // control calls and pollers
	invoke *lambda.Client // load: its own connection pool
	cd     *codedeploy.Client
	cw     *cloudwatch.Client
	iam    *iam.Client
	stack  *stack.Client
}

// startNode runs `bin serve` on a fresh data dir under tmp, with etcd flags when etcd is not "" (a cluster member
// under prefix), and waits until /_sluice/health answers 200.
func startNode(ctx context.Context, bin, tmp, name, etcd, prefix string, extra ...string) (*node, error) {
	n := &node{name: name, addr: etcdtest.FreeAddr(), dataDir: filepath.Join(tmp, name), bin: bin}
	n.args = append([]string{"--listen", n.addr}, extra...)
	if etcd != "" {
		n.args = append(n.args, "--etcd-endpoints", etcd, "--etcd-prefix", prefix, "--etcd-max-txn-ops", fmt.Sprint(etcdtest.MaxTxnOps),
			"--node-name", name)
	}
	if err := n.start(ctx); err != nil {
		return nil, fmt.Errorf("node %s: %w", name, err)
	}
	endpoint := "http://" + n.addr
	creds := credentials.NewStaticCredentialsProvider(accessKey, secretKey, "")
	pool := func(size int) *awshttp.BuildableClient {
		return awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
			t.MaxIdleConns = 0
			t.MaxIdleConnsPerHost = size
		})
	}
	lopts := func(size int) lambda.Options {
		return lambda.Options{Region: region, BaseEndpoint: aws.String(endpoint), HTTPClient: sdkhttp.Wrap(pool(size)),
			Retryer: aws.NopRetryer{}, Credentials: creds}
	}
	n.lambda, n.invoke = lambda.New(lopts(8)), lambda.New(lopts(64))
	n.cd = codedeploy.New(codedeploy.Options{Region: region, BaseEndpoint: aws.String(endpoint), HTTPClient: pool(4), Credentials: creds})
	n.cw = cloudwatch.New(cloudwatch.Options{Region: region, BaseEndpoint: aws.String(endpoint), HTTPClient: pool(4), Credentials: creds})
	n.iam = iam.New(iam.Options{Region: region, BaseEndpoint: aws.String(endpoint), HTTPClient: pool(2), Credentials: creds})
	n.stack = stack.NewClient(aws.Config{Region: region, BaseEndpoint: aws.String(endpoint), Credentials: creds})
	return n, nil
}

// start (re)starts the process on the node's data dir and address and waits until it is healthy.
func (n *node) start(ctx context.Context) error {
	_ = os.Remove(filepath.Join(n.dataDir, "endpoint")) // a killed node leaves it behind
	srv, err := sluiceproc.Start(n.bin, n.dataDir, n.args,
		[]string{"SLUICE_ROOT_ACCESS_KEY_ID=" + accessKey, "SLUICE_ROOT_SECRET_ACCESS_KEY=" + secretKey},
		&syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM})
	if err != nil {
		return err
	}
	n.srv = srv
	deadline := time.Now().Add(60 * time.Second)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+n.addr+"/_sluice/health", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) || !srv.Alive() {
			srv.Stop()
			return fmt.Errorf("not healthy within 60 s (alive: %v)", srv.Alive())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill sends SIGKILL and waits for the process to be gone; it returns when the signal was sent.
func (n *node) kill() time.Time {
	at := time.Now()
	_ = n.srv.Cmd.Process.Signal(syscall.SIGKILL)
	for n.srv.Alive() {
		time.Sleep(time.Millisecond)
	}
	return at
}

func (n *node) stop() {
	if n != nil && n.srv != nil {
		n.srv.Stop()
	}
}

func (n *node) pid() int { return n.srv.Cmd.Process.Pid }

// status asks the node for the cluster's status (DescribeCluster, what `sluice cluster status` prints).
func (n *node) status(ctx context.Context) (cluster.Status, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	return n.stack.DescribeCluster(ctx)
}

// leader returns the name of the node leading job as n sees it ("" while there is none).
func (n *node) leader(ctx context.Context, job string) string {
	st, err := n.status(ctx)
	if err != nil {
		return ""
	}
	return st.Leaders[job]
}
