// Package server wires Sluice together: data dir, store, code store, credentials, services, the HTTP gateway,
// and the background loops; it owns startup and graceful shutdown. It holds no domain logic.
package server

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/sluice-dev/sluice/internal/alarms"
	"github.com/sluice-dev/sluice/internal/api/awsproxy"
	"github.com/sluice-dev/sluice/internal/api/cloudformationapi"
	"github.com/sluice-dev/sluice/internal/api/cloudwatchapi"
	"github.com/sluice-dev/sluice/internal/api/codedeployapi"
	"github.com/sluice-dev/sluice/internal/api/functionurl"
	"github.com/sluice-dev/sluice/internal/api/gateway"
	"github.com/sluice-dev/sluice/internal/api/iamapi"
	"github.com/sluice-dev/sluice/internal/api/lambdaapi"
	"github.com/sluice-dev/sluice/internal/api/logsapi"
	"github.com/sluice-dev/sluice/internal/api/s3api"
	"github.com/sluice-dev/sluice/internal/api/snsapi"
	"github.com/sluice-dev/sluice/internal/api/ssmapi"
	"github.com/sluice-dev/sluice/internal/api/stackapi"
	"github.com/sluice-dev/sluice/internal/api/ui"
	"github.com/sluice-dev/sluice/internal/auth"
	"github.com/sluice-dev/sluice/internal/blobstore"
	blobreplica "github.com/sluice-dev/sluice/internal/blobstore/replica"
	"github.com/sluice-dev/sluice/internal/cloudformation"
	"github.com/sluice-dev/sluice/internal/cluster"
	"github.com/sluice-dev/sluice/internal/codedeploy/controller"
	"github.com/sluice-dev/sluice/internal/codestore"
	"github.com/sluice-dev/sluice/internal/codestore/replica"
	"github.com/sluice-dev/sluice/internal/console"
	"github.com/sluice-dev/sluice/internal/controlplane"
	"github.com/sluice-dev/sluice/internal/iam"
	"github.com/sluice-dev/sluice/internal/invoke"
	"github.com/sluice-dev/sluice/internal/lambda"
	"github.com/sluice-dev/sluice/internal/logstore"
	"github.com/sluice-dev/sluice/internal/metrics"
	"github.com/sluice-dev/sluice/internal/parameterstore"
	"github.com/sluice-dev/sluice/internal/prom"
	"github.com/sluice-dev/sluice/internal/s3"
	"github.com/sluice-dev/sluice/internal/s3/buckets"
	"github.com/sluice-dev/sluice/internal/sandbox"
	"github.com/sluice-dev/sluice/internal/scratch"
	"github.com/sluice-dev/sluice/internal/sigv4"
	"github.com/sluice-dev/sluice/internal/sns"
	"github.com/sluice-dev/sluice/internal/sns/topics"
	"github.com/sluice-dev/sluice/internal/stack"
	"github.com/sluice-dev/sluice/internal/store"
	"github.com/sluice-dev/sluice/internal/tlsca"
)

// embeddedMetricsBatch is how many minute records one bbolt transaction of the metric store writes.
const embeddedMetricsBatch = 500

// Config is `sluice serve`'s configuration. Zero values take the documented defaults.
type Config struct {
	Listen           string // default 127.0.0.1:9324
	DataDir          string // required
	Region           string // default us-east-1
	AccountID        string // default 000000000000
	ConcurrencyLimit int    // default 1000
	// TLSCertFile and TLSKeyFile, both set, make the listener serve HTTPS (only) with that key pair, re-read on
	// SIGHUP and when the files change.
	TLSCertFile, TLSKeyFile string
	// CABundle is the PEM file of CAs the listener's clients trust (`sluice serve`'s AWS_CA_BUNDLE): functions get it
	// as their AWS_CA_BUNDLE and NODE_EXTRA_CA_CERTS, and a cluster's nodes trust it in their calls to each other.
	CABundle string
	// FunctionURLDomain is the domain function URLs are named under, <url-id>.<domain>, served on the API
	// listener (default lambda-url.<region>.localhost, which resolves to loopback without DNS set-up).
	FunctionURLDomain string
	// S3Domain is S3's host on the API listener (default s3.<region>.localhost): itself path-style,
	// <bucket>.<domain> virtual-hosted. Path-style requests on the main endpoint are served too.
	S3Domain string
	// S3MaxObjectSize bounds one PutObject, UploadPart or copy, in bytes (default 5 GiB, S3's limit).
	S3MaxObjectSize int64
	// S3UploadExpiry is how long an incomplete multipart upload is kept (default 7 days).
	S3UploadExpiry time.Duration
	// MinSettleTime keeps creates Pending and updates InProgress at least this long after they commit (default 0;
	// see controlplane.Options).
	MinSettleTime time.Duration
	// MetricRetention is how long metrics are kept in memory at 1-second resolution (default 3h).
	MetricRetention time.Duration
	// MinuteMetricRetention is how long metrics' 1-minute aggregates are kept in the store (default 15 days).
	MinuteMetricRetention time.Duration
	// DeployTimeScale makes one configured deployment minute last 60/DeployTimeScale seconds (default 1).
	DeployTimeScale float64
	// AlarmTimeScale makes a configured alarm period last Period/AlarmTimeScale when alarms are evaluated (default 1).
	AlarmTimeScale float64
	// SessionTimeScale makes STS sessions last 1/SessionTimeScale of their duration (tests; default 1).
	SessionTimeScale float64
	// HookTimeout bounds how long a lifecycle hook may take to report (default 1 hour).
	HookTimeout time.Duration
	// NoPrewarm turns off starting the target version's environments before a deployment shifts traffic.
	NoPrewarm bool
	// PrestartedSandboxes is how many sandbox inits are kept started ahead of cold starts (0: none).
	PrestartedSandboxes int
	// NoInvocationMetrics turns off recording metrics on the invoke path (to measure what recording costs).
	NoInvocationMetrics bool
	// InactiveAfter turns functions Inactive after this long without invocations (default 336h).
	InactiveAfter time.Duration
	// AsyncRetryDelay is the wait before an asynchronous invocation's first retry (default 1 minute).
	AsyncRetryDelay time.Duration
	// KeepAlive is how long idle execution environments stay warm (default 10 minutes).
	KeepAlive time.Duration
	// MaxRequestMemoryMiB bounds the request bodies held in memory at once, across all requests, in MiB (default
	// 512): past it a request is refused with its service's throttling error (see gateway.Gateway.MaxBodyMemory).
	MaxRequestMemoryMiB int64
	// RequestReadTimeout is how long a request body may stall, or fall behind 64 KiB/s, before its connection is
	// cut (default 30 s; see gateway.Gateway.ReadTimeout).
	RequestReadTimeout time.Duration
	// Node and Python name the interpreters for managed runtimes (default: found on PATH, usable unprivileged);
	// PythonPath is added to Python functions' PYTHONPATH (e.g. a directory holding boto3).
	Node, Python, PythonPath string
	// Cluster, when set, makes this node one of a cluster sharing its state in etcd (see ClusterConfig).
	Cluster *ClusterConfig
	// DrainDelay is how long a stopping node keeps serving while /_sluice/health already answers 503, so a load
	// balancer stops sending to it first (default 0; `sluice serve` sets it in cluster mode).
	DrainDelay time.Duration
	// DrainTimeout caps how long a stopping node waits for in-flight requests and invocations (default 10 s on one
	// node; 15 min, the longest function timeout, in a cluster).
	DrainTimeout time.Duration
	// Version is the build's version, as `sluice cluster status` shows it.
	Version string
	Logger  *slog.Logger
}

// DefaultListen is where `sluice serve` listens unless told otherwise: loopback only.
const DefaultListen = "127.0.0.1:9324"

// EndpointFile records the URL of the server running on a data dir, for `sluice env`.
const EndpointFile = "endpoint"

// ProxyCADir is the data dir's directory of the CA whose certificates the proxy for AWS endpoints presents
// (tlsca.CertFile in it is what clients trust; `sluice ca` prints its path).
const ProxyCADir = "proxy-ca"

// proxiedEndpoints are the AWS endpoints whose hosts the listener serves through its proxy (see awsproxy): the
// endpoint prefix of each service Sluice serves, which is also its signing name.
var proxiedEndpoints = awsproxy.Hosts{
	Regional: []string{"lambda", "codedeploy", "monitoring", "logs", "sts", "cloudformation", "ssm", "s3"},
	Global:   []string{"iam", "sts"},
	S3:       s3.AWSHost,
}

func (c *Config) defaults() {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.Region == "" {
		c.Region = "us-east-1"
	}
	if c.AccountID == "" {
		c.AccountID = "000000000000"
	}
	if c.FunctionURLDomain == "" {
		c.FunctionURLDomain = "lambda-url." + c.Region + ".localhost"
	}
	if c.S3Domain == "" {
		c.S3Domain = "s3." + c.Region + ".localhost"
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.DrainTimeout <= 0 {
		c.DrainTimeout = 10 * time.Second // one node: Ctrl-C should not wait long
		if c.Cluster != nil {
			c.DrainTimeout = 15 * time.Minute // the longest function timeout: the node's invocations finish
		}
	}
	if c.Version == "" {
		c.Version = "dev"
	}
}

// Run serves until ctx is cancelled, then shuts down gracefully. ready, if non-nil, receives the listen address once
// the server accepts requests.
func Run(ctx context.Context, cfg Config, ready func(addr string)) error {
	cfg.defaults()
	log := cfg.Logger
	if cfg.DataDir == "" {
		return errors.New("a data dir is required")
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	keyPair, err := loadKeyPair(cfg)
	if err != nil {
		return err
	}
	started := time.Now()
	db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	code, err := codestore.Open(filepath.Join(cfg.DataDir, "code"))
	if err != nil {
		return err
	}
	// Sandboxes of a server that died (kill -9) may linger in their cgroups: remove them before starting new ones.
	if n, err := sandbox.CleanupStale(sandbox.DefaultCgroupParent); err != nil {
		log.Warn("clean up stale sandboxes", "err", err)
	} else if n > 0 {
		log.Info("removed stale sandboxes of a previous run", "count", n)
	}
	root, err := sharedRoot(ctx, cfg, db)
	if err != nil {
		return err
	}
	randomKey := make([]byte, 32)
	if _, err := rand.Read(randomKey); err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer ln.Close()
	endpoint := "http://" + ln.Addr().String()
	if keyPair != nil {
		// Plain HTTP on this port fails its handshake (Go's server answers it 400): there is no second, plain port.
		ln = tls.NewListener(ln, keyPair.ServerConfig())
		var named bool
		if endpoint, named = tlsEndpoint(ln.Addr().String(), keyPair.Certificate().Leaf); !named {
			log.Warn("the TLS certificate does not name the listener's address (nor localhost): functions and `sluice env` are given an endpoint their clients will refuse",
				"endpoint", endpoint)
		}
	}
	node, err := joinCluster(ctx, cfg, db, endpoint, started)
	if err != nil {
		return err
	}
	if node != nil {
		defer func() {
			leaveCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := node.Leave(leaveCtx); err != nil {
				log.Warn("leave the cluster", "err", err)
			}
		}()
		log.Info("joined the cluster", "node", node.Self().Name, "url", node.Self().URL, "members", len(node.Nodes()))
	}
	linkKey := linkKeyFor(node, randomKey)
	// Code packages are files on each node; in a cluster an upload is acknowledged once two nodes hold it, and a
	// node fetches what it lacks from its peers (package replica).
	var codeStore controlplane.CodeStore = code
	var codeReplica *replica.Replica
	if node != nil {
		codeReplica = replica.New(replica.Options{Local: code, Peers: node, Logger: log})
		codeStore = codeReplica
	}

	logs, err := logstore.Open(filepath.Join(cfg.DataDir, "logs"), 0)
	if err != nil {
		return err
	}
	logs.SetLogger(log)
	defer logs.Close()
	acct := lambda.Account{Region: cfg.Region, ID: cfg.AccountID}
	keyring := auth.NewKeyring(root, cfg.AccountID)
	// The in-memory state of services (the invoke path's catalog, identities and credentials) is a watch-fed cache of
	// the store; API calls return once these caches have applied what they wrote or read.
	caches := store.NewProgress()
	identities, err := iam.New(context.Background(), iam.Options{Store: db, Keyring: keyring, AccountID: cfg.AccountID, SessionTimeScale: cfg.SessionTimeScale, Logger: log, Progress: caches})
	if err != nil {
		return err
	}
	// Metrics: 1-second buckets in memory, each closed minute persisted in the store under this node's name.
	// A closed minute is one batch: a few large bbolt transactions (one fsync each), or etcd transactions within
	// its --max-txn-ops and well under its request size limit (a record is about 0.5 KB, a few KB at most).
	metricsNode, metricsBatch := "", embeddedMetricsBatch
	if node != nil {
		metricsNode = node.Self().Name
		ops := cfg.Cluster.MaxTxnOps
		if ops <= 0 {
			ops = 128 // etcd's default
		}
		metricsBatch = max(1, min(ops-1, 250))
	}
	metricStore := metrics.NewStore(metrics.Options{Retention: cfg.MetricRetention, Durable: db, Node: metricsNode,
		MinuteRetention: cfg.MinuteMetricRetention, WriteBatch: metricsBatch, Logger: log})
	// Metrics and logs stay where they are produced; in a cluster every read merges all live nodes' (clusterreads.go).
	var (
		alarmMetrics alarms.MetricReader = metricStore
		apiMetrics   cloudWatchMetrics   = metricStore
		exposure     controller.Exposure = controller.MetricsExposure(metricStore)
		logReader    logstore.Reader     = logs
		reads        *clusterReads
	)
	if node != nil {
		reads = newClusterReads(node, metricStore, logs, log)
		alarmMetrics, apiMetrics, logReader = reads.Metrics, reads.Metrics, reads.Logs
		exposure = controller.MetricsExposure(reads.Metrics)
	}
	alarmService, err := alarms.New(alarms.Options{Store: db, Metrics: alarmMetrics, Region: cfg.Region, AccountID: cfg.AccountID, TimeScale: cfg.AlarmTimeScale, Logger: log, Progress: caches})
	if err != nil {
		return err
	}
	exporter := prom.New()
	cp := controlplane.New(controlplane.Options{
		Store: db, Code: codeStore, Account: acct, ConcurrencyLimit: cfg.ConcurrencyLimit,
		MinSettleTime: cfg.MinSettleTime, Logger: log, Progress: caches, ExecutionRoles: identities,
	})
	// Resource-based policies: a cache of their own, and the second half of the Lambda API's authorization.
	if err := cp.StartPolicyCache(context.Background()); err != nil {
		return err
	}
	// S3: object bytes in blobs on this node's disk, records in the store.
	blobs, err := blobstore.Open(filepath.Join(cfg.DataDir, "s3"))
	if err != nil {
		return err
	}
	// In a cluster an object is acknowledged once a second node holds its bytes, and a node fetches what it lacks.
	var objectBlobs buckets.Blobs = blobstore.Single{Store: blobs}
	var blobReplica *blobreplica.Replica
	if node != nil {
		blobReplica = blobreplica.New(blobreplica.Options{Local: blobs, Peers: node, MaxBlob: buckets.MaxMultipartSize, Logger: log})
		objectBlobs = blobReplica
	}
	objects := buckets.New(buckets.Options{Store: db, Blobs: objectBlobs, Region: cfg.Region, MaxObjectSize: cfg.S3MaxObjectSize,
		UploadExpiry: cfg.S3UploadExpiry, Logger: log})
	// SNS: topics, subscriptions and a durable delivery queue, deliveries signed with the deployment's one key.
	var clusterSecret []byte
	if node != nil {
		clusterSecret = node.Secret()
	}
	snsSigner, err := openSNSSigner(ctx, clusterSecret, db, cfg.DataDir)
	if err != nil {
		return err
	}
	snsFunctionsRef := &snsFunctions{cp: cp}
	notifications := topics.New(topics.Options{Store: db, Account: sns.Account{Region: cfg.Region, ID: cfg.AccountID}, Endpoint: endpoint,
		CertPath: snsCertPath, Signer: snsSigner, Functions: snsFunctionsRef, Logger: log})
	identities.UseResourcePolicies(resourcePolicies{lambda: functionPolicies{cp}, buckets: bucketPolicies{objects}, topics: topicPolicies{notifications}})
	var recorder invoke.Recorder = metricStore
	var observer invoke.Observer = exporter
	var urlMetrics functionurl.Recorder = metricStore
	if cfg.NoInvocationMetrics {
		recorder, observer, urlMetrics = nil, nil, nil
	}
	// Sandbox uids keep environments apart, also from those of another Sluice server on this host.
	uids, err := sandbox.LeaseUIDs()
	if err != nil {
		return err
	}
	defer uids.Release()
	// Each environment's /tmp is a file system of its own, bounded in total (see package scratch).
	scratchPool, err := scratch.Open(filepath.Join(cfg.DataDir, "scratch"), log)
	if err != nil {
		scratchPool = nil
		log.Warn("function /tmp falls back to a tmpfs of EphemeralStorage's size, charged to the function's memory", "reason", err.Error())
	} else {
		defer scratchPool.Close()
	}
	inv, err := invoke.New(invoke.Options{
		UIDBase: uids.Base, UIDCount: uids.Count, Scratch: scratchPool,
		Source: cp, Store: db, Lifecycle: cp, Progress: caches, Account: acct, AsyncRetryDelay: cfg.AsyncRetryDelay, InactiveAfter: cfg.InactiveAfter, DataDir: cfg.DataDir, Endpoint: endpoint, CABundle: cfg.CABundle, Logs: logs,
		ConcurrencyLimit: cfg.ConcurrencyLimit, KeepAlive: cfg.KeepAlive, Metrics: recorder, Observer: observer,
		Node: cfg.Node, Python: cfg.Python, PythonPath: cfg.PythonPath, Logger: log,
		Credentials: func(role, function string) []string {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, err := identities.FunctionCredentials(ctx, role, function)
			if err != nil {
				log.Error("issue function credentials", "function", function, "err", err)
				return nil
			}
			return []string{"AWS_ACCESS_KEY_ID=" + c.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + c.SecretAccessKey,
				"AWS_SESSION_TOKEN=" + c.SessionToken, "AWS_ACCESS_KEY=" + c.AccessKeyID}
		},
	})
	if err != nil {
		return err
	}
	snsFunctionsRef.inv = inv
	defer alarmActions(alarmService, notifications, cfg.Region, cfg.AccountID, log)()
	exporter.ReadPlatform(prom.Sources{
		Pools: func() []prom.PoolStats {
			var out []prom.PoolStats
			for _, p := range inv.Pools() {
				out = append(out, prom.PoolStats{Function: p.Function, Version: p.Version, Idle: p.Idle, Busy: p.Busy, Provisioned: p.Provisioned})
			}
			return out
		},
		QueueDepth: func(ctx context.Context) (int, error) { return inv.QueueDepth(ctx) },
		Alarms: func(ctx context.Context) ([]alarms.Alarm, error) {
			var all []alarms.Alarm
			for token := ""; ; {
				page, next, err := alarmService.Describe(ctx, alarms.DescribeFilter{MaxRecords: 100, NextToken: token})
				if err != nil || next == "" {
					return append(all, page...), err
				}
				all, token = append(all, page...), next
			}
		},
	})
	links := &codeLinks{key: linkKey, now: time.Now, path: codeStore.ZipPath} // brings a package another node holds
	var prewarm controller.Prewarm                                            // nil: --no-prewarm
	if !cfg.NoPrewarm {
		prewarm = controller.PrewarmWith(inv)
	}
	deployments := controller.New(controller.Options{Store: db, Lambda: deployLambda{cp}, Hooks: controller.AuthorizedHooks{Roles: identities, Account: acct, Invoke: deployInvokeAsync(inv)},
		Alarms: deployAlarms{alarmService}, Exposure: exposure, Prewarm: prewarm, TimeScale: cfg.DeployTimeScale, HookTimeout: cfg.HookTimeout,
		Region: cfg.Region, AccountID: cfg.AccountID, Logger: log})
	// A hook whose invocation ends in a function error (a Python hook without boto3) shows on its deployment at once,
	// with its last log lines.
	defer inv.OnAsyncFailure(func(f invoke.AsyncFailure) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := deployments.NoteHookInvocationFailed(ctx, f.Payload, f.Response, f.LogTail); err != nil {
			log.Warn("record a failed hook invocation", "err", err)
		}
	})()

	var phase lifecycle
	self := cluster.Node{Name: "embedded", URL: endpoint, Version: cfg.Version, Started: started}
	if node != nil {
		self = node.Self()
	}
	local := nodeStatus(node, self, &phase, func() (envs, busy int) {
		for _, p := range inv.Pools() {
			envs, busy = envs+p.Idle+p.Busy, busy+p.Busy
		}
		return envs, busy
	})
	internal := http.NewServeMux()
	internal.HandleFunc("GET /_sluice/health", phase.health)
	internal.Handle("GET /_sluice/code/{file}", links)
	internal.Handle("GET "+snsCertPath+"{cert}", serveSigningCert(snsSigner))
	if node != nil {
		internal.Handle("GET "+cluster.NodePath, node.PeersOnly(cluster.ServeNode(local)))
		internal.Handle(replica.PathPrefix, node.PeersOnly(codeReplica.Handler()))
		internal.Handle(blobreplica.PathPrefix, node.PeersOnly(blobReplica.Handler()))
		internal.Handle(pathClusterMetrics, node.PeersOnly(reads.Handler))
		internal.Handle(pathClusterLogs, node.PeersOnly(reads.Handler))
	}

	paramKey, err := parameterKey(node, cfg.DataDir)
	if err != nil {
		return err
	}
	params, err := parameterstore.New(parameterstore.Options{Store: db, Key: paramKey})
	if err != nil {
		return err
	}

	// Stacks: one record kind for `sluice deploy` and the CloudFormation API, whose engine calls this node's own
	// listener with each operation's session.
	stacks := stack.NewStore(db, stack.WithStackIDs(cfg.Region, cfg.AccountID))
	stackService := cloudformation.New(cloudformation.Options{Store: db, Stacks: stacks, Engine: newStackEngine(endpoint, cfg.Region, stacks, keyPair),
		Sessions: identities, Objects: s3Templates{objects, identities}, S3Domain: strings.ToLower(cfg.S3Domain),
		Region: cfg.Region, Account: cfg.AccountID, Logger: log})

	// The web console: sign-in links made through the signed API (CreateSignInLink), pages on the internal mux that
	// authorize each session as its IAM identity.
	consoleSessions := console.New(console.Options{Store: db, Credentials: keyring})
	consoleUI := ui.New(ui.Options{Sessions: consoleSessions, Authorizer: identities, Functions: cp, Deployments: deployments,
		Alarms: alarmService, Metrics: apiMetrics, Logs: logReader, Account: acct, DeployTimeScale: cfg.DeployTimeScale, Log: log})
	internal.Handle(ui.Prefix, consoleUI)

	stsHandler := iamapi.NewSTS(identities, log)
	snsHandler := snsapi.New(notifications, log)
	gw := &gateway.Gateway{
		Verifier: &sigv4.Verifier{Credentials: keyring},
		Services: map[string]http.Handler{
			"lambda":         lambdaapi.New(cp, inv, links.Locate, cfg.FunctionURLDomain, log).WithPackages(s3Packages{objects}),
			"logs":           logsapi.New(logReader, acct, log, logsapi.WithRegistry(logstore.NewRegistry(db, nil))),
			"monitoring":     cloudwatchapi.New(&cloudWatch{metrics: apiMetrics, alarms: alarmService}, log, cloudwatchapi.WithAccount(acct)),
			"codedeploy":     codedeployapi.New(deployments, log, codedeployapi.WithAccount(acct)),
			"iam":            iamapi.NewIAM(identities, log),
			"sts":            stsHandler,
			"sluice":         stackapi.New(log, describeCluster(node, local)).WithSignInLinks(consoleSessions),
			"cloudformation": cloudformationapi.New(stackService, acct, log),
			"ssm":            ssmapi.New(params, acct, log),
			"sns":            snsHandler,
		},
		Authorizer: identities,
		FunctionURLs: &functionurl.Handler{Domain: strings.ToLower(cfg.FunctionURLDomain), Account: acct, Functions: inv,
			Policies: cp, Authorizer: identities, Metrics: urlMetrics, Log: log.With("component", "functionurl")},
		Anonymous: func(r *http.Request, body []byte) http.Handler {
			if iamapi.IsAnonymousSTS(r, body) {
				return stsHandler
			}
			if snsapi.IsAnonymous(r, body) {
				return snsHandler
			}
			return nil
		},
		S3:             s3api.New(objects, log),
		S3Domain:       strings.ToLower(cfg.S3Domain),
		AWSHosts:       true,
		GlobalServices: map[string]bool{"iam": true, "sts": true},
		Internal:       internal,
		Region:         cfg.Region,
		Metrics:        notFromSandboxes(exporter.Handler(), uids),
		Log:            log,
		MaxBodyMemory:  cfg.MaxRequestMemoryMiB << 20,
		ReadTimeout:    cfg.RequestReadTimeout,
	}

	if err := os.WriteFile(filepath.Join(cfg.DataDir, EndpointFile), []byte(endpoint+"\n"), 0o600); err != nil {
		ln.Close()
		return err
	}
	// The listener is also an HTTPS proxy for the AWS endpoints Sluice serves, so that tools which take no endpoint
	// URL (the JavaScript SDK v2's) reach it with HTTPS_PROXY set to the endpoint: one address for both, and one
	// drain.
	proxyCA, err := openProxyCA(ctx, cfg, db, tlsca.Options{Domains: []string{"amazonaws.com"}})
	if err != nil {
		ln.Close()
		return err
	}
	proxy := awsproxy.New(awsproxy.Options{Next: gw, Hosts: proxiedEndpoints, Certificate: proxyCA.Leaf, ConnContext: withConn,
		Log: log.With("component", "awsproxy")})
	srv := &http.Server{Handler: proxy, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute, ConnContext: withConn} // no WriteTimeout: invocations last up to 15 minutes
	// The console's live streams would hold the drain up.
	srv.RegisterOnShutdown(consoleUI.Close)

	// Node-local loops run until the end; the cluster-wide jobs (one node's each in a cluster) stop first, when
	// draining starts, so that their leaderships pass to another node while this one finishes its requests.
	runCtx, stopLoops := context.WithCancel(context.Background())
	var loops sync.WaitGroup
	loops.Go(func() { metricStore.Run(runCtx) })
	loops.Go(func() { s3Janitor(runCtx, objects, blobs, log) })
	loops.Go(func() { deploymentTriggers(runCtx, deployments, notifications, cfg.Region, cfg.AccountID, log) })
	if node != nil {
		sharing := make(chan struct{})
		loops.Go(func() { followShares(runCtx, node, inv, cp, log, sharing) })
		<-sharing
	}
	if err := inv.Start(runCtx); err != nil {
		stopLoops()
		loops.Wait()
		return fmt.Errorf("start execution layer: %w", err)
	}
	loops.Go(func() { inv.Run(runCtx) })
	jobCtx, stopJobs := context.WithCancel(context.Background())
	leader := &jobs{cluster: node, ctx: jobCtx}
	leader.start(cluster.JobSettle, cp.Run)
	leader.start(cluster.JobAlarms, alarmService.Run)
	leader.start(cluster.JobDeployments, deployments.Run)
	leader.start(cluster.JobAsync, inv.RunQueue)
	leader.start(cluster.JobInactivity, inv.RunInactivitySweep)
	leader.start(cluster.JobStacks, stackService.Run)
	leader.start(cluster.JobNotifications, notifications.Run)
	sandbox.Prewarm(cfg.PrestartedSandboxes)
	defer sandbox.Prewarm(0)

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	if keyPair != nil {
		loops.Go(func() { followKeyPair(runCtx, keyPair, cfg, log) })
	}
	if node != nil {
		// A joining node admits no invocation until the others shrank their shares of the limits; it tells the
		// load balancer it is ready only then.
		select {
		case <-time.After(invoke.ShareSettle):
		case <-ctx.Done():
		}
	}
	phase.set(phaseServing)
	log.Info("sluice serving", "endpoint", endpoint, "data_dir", cfg.DataDir, "region", cfg.Region, "account", cfg.AccountID)
	if ready != nil {
		ready(ln.Addr().String())
	}

	select {
	case err = <-serveErr:
	case <-ctx.Done():
		err = drain(log, srv, proxy, &phase, cfg, stopJobs, &leader.wg)
	}
	proxyCtx, cancelProxy := context.WithTimeout(context.Background(), cfg.DrainTimeout) // after a drain: at once
	proxy.Shutdown(proxyCtx)
	cancelProxy()
	stopJobs()
	leader.wg.Wait()
	stopLoops()
	loops.Wait()
	os.Remove(filepath.Join(cfg.DataDir, EndpointFile))
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}
