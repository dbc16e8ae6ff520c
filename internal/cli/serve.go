package cli

import (
	"log/slog"
	"os"
	"runtime/debug"
	"time"

	"github.com/spf13/cobra"

	"github.com/sluice-dev/sluice/internal/certfile"
	"github.com/sluice-dev/sluice/internal/server"
)

func serveCommand() *cobra.Command {
	var cfg server.Config
	var logLevel string
	var etcd etcdFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the Sluice server (Lambda API on an embedded durable store)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var level slog.Level
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return err
			}
			cfg.Logger = slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
			cluster, err := etcd.config()
			if err != nil {
				return err
			}
			cfg.Cluster = cluster
			// The CA file AWS clients are told to trust, by the AWS convention; the server hands it on to functions.
			cfg.CABundle = os.Getenv(certfile.EnvCABundle)
			if cluster != nil && !cmd.Flags().Changed("drain-delay") {
				cfg.DrainDelay = defaultClusterDrainDelay
			}
			info, _ := debug.ReadBuildInfo()
			cfg.Version = versionString(Version, info)
			return dataDirInUse(cfg.DataDir, server.Run(cmd.Context(), cfg, nil))
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Listen, "listen", server.DefaultListen, "address to listen on (loopback by default)")
	f.StringVar(&cfg.TLSCertFile, "tls-cert", "", "PEM certificate (chain) file: the listener serves HTTPS only, the API, the console, function URLs and the AWS proxy alike (with --tls-key; re-read on SIGHUP and when the files change; clients trust its CA through AWS_CA_BUNDLE, which `sluice serve` also hands to functions)")
	f.StringVar(&cfg.TLSKeyFile, "tls-key", "", "PEM private key file of --tls-cert")
	f.StringVar(&cfg.DataDir, "data-dir", defaultDataDir(), "directory holding the store, code and credentials (env SLUICE_DATA_DIR)")
	f.StringVar(&cfg.Region, "region", "us-east-1", "region named in ARNs and accepted in signatures")
	f.StringVar(&cfg.FunctionURLDomain, "function-url-domain", "", "domain function URLs are named under, <url-id>.<domain>, served on the API listener (default lambda-url.<region>.localhost, which resolves to loopback without DNS set-up; point a wildcard DNS name at the server to use another)")
	f.StringVar(&cfg.S3Domain, "s3-domain", "", "S3's host on the API listener (default s3.<region>.localhost): itself path-style, <bucket>.<domain> virtual-hosted; path-style requests on the main endpoint are served too")
	f.Int64Var(&cfg.S3MaxObjectSize, "s3-max-object-size", 0, "largest object one S3 PutObject, UploadPart or copy may store, in bytes (default 5 GiB, S3's limit; a multipart object may reach 5 TiB)")
	f.DurationVar(&cfg.S3UploadExpiry, "s3-upload-expiry", 0, "how long an incomplete S3 multipart upload (and the disk its parts hold) is kept before it is aborted (default 168h)")
	f.StringVar(&cfg.AccountID, "account-id", "000000000000", "12-digit account ID named in ARNs")
	f.IntVar(&cfg.ConcurrencyLimit, "concurrency-limit", 1000, "account-wide concurrent executions")
	f.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	f.DurationVar(&cfg.KeepAlive, "keep-alive", 10*time.Minute, "how long an idle execution environment stays warm")
	f.StringVar(&cfg.Node, "node", "", "node interpreter for nodejs runtimes (default: found on PATH)")
	f.StringVar(&cfg.Python, "python", "", "python3 interpreter for python runtimes (default: found on PATH, runnable unprivileged)")
	f.StringVar(&cfg.PythonPath, "python-path", "", "extra PYTHONPATH for Python functions (e.g. where boto3 lives)")
	f.DurationVar(&cfg.MinSettleTime, "min-settle-time", 0, "keep a created function Pending, and an updated one InProgress, at least this long after the call, as AWS takes seconds: a script that skips the waiters (aws lambda wait function-updated-v2) then gets the 409 it would get on AWS (default 0: settle as soon as the package is processed)")
	// The flag's earlier, hidden name.
	f.DurationVar(&cfg.MinSettleTime, "processing-delay", 0, "the former name of --min-settle-time")
	_ = f.MarkHidden("processing-delay")
	f.BoolVar(&cfg.NoInvocationMetrics, "no-invocation-metrics", false, "do not record metrics on the invoke path (benchmarking what recording costs)")
	_ = f.MarkHidden("no-invocation-metrics")
	f.Float64Var(&cfg.SessionTimeScale, "session-time-scale", 1, "make STS sessions last 1/N of their DurationSeconds (tests of expiry)")
	_ = f.MarkHidden("session-time-scale")
	f.Float64Var(&cfg.AlarmTimeScale, "alarm-time-scale", 1, "evaluate alarms as if a configured period lasted period/N (at least 1 s; demos and tests, with --deploy-time-scale)")
	f.Float64Var(&cfg.DeployTimeScale, "deploy-time-scale", 1, "make one configured deployment minute last 60/N seconds (demos, tests); AWS-shaped configs stay unchanged")
	f.BoolVar(&cfg.NoPrewarm, "no-prewarm", false, "do not start the target version's environments before a deployment shifts traffic")
	f.DurationVar(&cfg.HookTimeout, "hook-timeout", time.Hour, "how long a lifecycle hook may take to report its status")
	f.IntVar(&cfg.PrestartedSandboxes, "prestarted-sandboxes", 4, "sandbox inits kept started ahead of time: most of a cold start's platform overhead is paid before the invocation arrives")
	f.DurationVar(&cfg.MetricRetention, "metric-retention", 3*time.Hour, "how long metrics are kept at 1-second resolution (in memory)")
	f.DurationVar(&cfg.MinuteMetricRetention, "metrics-retention", 15*24*time.Hour, "how long metrics' 1-minute aggregates are kept in the store, where they survive restarts (CloudWatch keeps 1-minute data 15 days)")
	f.DurationVar(&cfg.InactiveAfter, "inactive-after", 336*time.Hour, "turn a function Inactive after this long without invocations")
	f.Int64Var(&cfg.MaxRequestMemoryMiB, "max-request-memory-mib", 512, "MiB of request bodies held in memory at once, across all requests; past it a request gets its service's throttling error (SDKs retry), so keep it above the largest request (67 MiB)")
	f.DurationVar(&cfg.RequestReadTimeout, "request-read-timeout", 30*time.Second, "how long a request body may stall, or fall behind 64 KiB/s, before its connection is cut")
	f.DurationVar(&cfg.DrainDelay, "drain-delay", 0, "on SIGTERM, keep serving this long while /_sluice/health answers 503, so a load balancer stops sending first (default 0; 3s with --etcd-endpoints)")
	f.DurationVar(&cfg.DrainTimeout, "drain-timeout", 0, "on SIGTERM, wait at most this long for in-flight requests and invocations (default 10s; 15m, the longest function timeout, with --etcd-endpoints)")
	etcd.register(f)
	f.DurationVar(&cfg.AsyncRetryDelay, "async-retry-delay", time.Minute, "wait before an asynchronous invocation's first retry (the second waits twice as long)")
	return cmd
}
