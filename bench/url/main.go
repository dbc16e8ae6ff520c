// Command url measures Sluice's function URLs, in one run on one machine, with Debian's wrk as the HTTP client:
//
//  1. Latency and throughput at concurrency 1 and -concurrency (wrk --latency: p50, p99, requests/s) of
//     (a) GET through a function URL (auth NONE, on alias live) of a minimal aws-lambda-go bootstrap (./fn) that
//     answers a small payload-2.0 response; (b) the same function through the Invoke API (POST
//     /2015-03-31/functions/web/invocations?Qualifier=live), one request signed with aws-sdk-go-v2's SigV4 signer
//     just before each wrk run and replayed by a wrk Lua script (Sluice accepts a signature for 5 minutes, its
//     clock-skew window, and keeps no replay cache); (c) the loopback floor: a net/http server inside this harness
//     answering the very bytes the URL answered. wrk dials the server's address and sends the URL's host in a
//     Host header (its resolver need not map *.localhost). Targets alternate within each round; -rounds rounds.
//  2. What HTTP clients see during deployments at a fixed rate: an open-loop net/http load generator (-rate
//     requests/s through the URL on live, each request carrying a `user` cookie from a pool of -users) runs while a
//     healthy canary (CodeDeployDefault.LambdaCanary10Percent5Minutes, shortened by --deploy-time-scale) moves
//     live from v1 to v2, then while a defective v3 (answers 500) is deployed -rollbacks times and rolled back by an
//     alarm on Url5xxCount (Sum ≥ 1 over a 1-second period). Once on a function without sticky canaries and once
//     on one tagged sluice:sticky-canary=cookie:user.
//
// It prints a Markdown report: the machine and its load average, the table of each target with ratios against
// the floor of the same round, and the deployment figures.
//
//	go run ./bench/url [-duration 10s] [-rounds 3] [-concurrency 32] [-threads 2] [-rate 1000] [-ramp 4s] [-users 200]
//	                   [-rollbacks 3] [-time-scale 60] [-skip-latency] [-skip-canary] [-sluice-bin PATH]
//	                   [-quiet-load 1.5] [-quiet-wait 10m]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/sluice-dev/sluice/bench/internal/buildkit"
	"github.com/sluice-dev/sluice/bench/internal/hostinfo"
)

type config struct {
	duration    time.Duration // each wrk run
	warmup      time.Duration // wrk at -concurrency before the rounds, per Sluice target
	rounds      int
	concurrency int
	threads     int // wrk threads at -concurrency
	rate        float64
	ramp        time.Duration
	users       int
	rollbacks   int
	timeScale   float64
	skipLatency bool
	skipCanary  bool
	sluiceBin   string
	serveArgs   []string
	quietLoad   float64
	quietWait   time.Duration
}

func main() {
	var cfg config
	flag.DurationVar(&cfg.duration, "duration", 10*time.Second, "length of each wrk run (at most 4m: the replayed signature must stay within Sluice's 5-minute window)")
	flag.DurationVar(&cfg.warmup, "warmup", 3*time.Second, "wrk at -concurrency against each Sluice target before the measured rounds")
	flag.IntVar(&cfg.rounds, "rounds", 3, "rounds of the latency table: every target at concurrency 1 and -concurrency, alternating")
	flag.IntVar(&cfg.concurrency, "concurrency", 32, "wrk connections in the concurrent runs")
	flag.IntVar(&cfg.threads, "threads", 2, "wrk threads in the concurrent runs (concurrency 1 uses one)")
	flag.Float64Var(&cfg.rate, "rate", 1000, "requests/s the open-loop generator offers during the deployments")
	flag.DurationVar(&cfg.ramp, "ramp", 4*time.Second, "the generator's rate rises linearly from 0 to -rate over this long")
	flag.IntVar(&cfg.users, "users", 200, "distinct `user` cookies the generator's requests carry")
	flag.IntVar(&cfg.rollbacks, "rollbacks", 3, "defective canaries (each rolled back by the alarm) per function")
	flag.Float64Var(&cfg.timeScale, "time-scale", 60, "sluice serve --deploy-time-scale: a configured minute lasts 60/N s (60: the canary's 5 minutes last 5 s)")
	flag.BoolVar(&cfg.skipLatency, "skip-latency", false, "leave out the latency and throughput table")
	flag.BoolVar(&cfg.skipCanary, "skip-canary", false, "leave out the deployments under load")
	flag.StringVar(&cfg.sluiceBin, "sluice-bin", "", "measure this prebuilt sluice binary instead of building one from the working tree")
	serveArgs := flag.String("serve-args", "", "extra `sluice serve` flags, space-separated")
	flag.Float64Var(&cfg.quietLoad, "quiet-load", 1.5, "wait until the 1-minute load average is below this before measuring (0: do not wait)")
	flag.DurationVar(&cfg.quietWait, "quiet-wait", 10*time.Minute, "wait at most this long for -quiet-load, then measure anyway (and say so)")
	flag.Parse()
	cfg.serveArgs = strings.Fields(*serveArgs)
	if cfg.duration <= 0 || cfg.duration > 4*time.Minute || cfg.rounds < 1 || cfg.concurrency < 1 || cfg.threads < 1 ||
		cfg.rate <= 0 || cfg.users < 1 || cfg.rollbacks < 1 || cfg.timeScale <= 0 {
		log.Fatal("-duration must be in (0, 4m]; -rounds, -concurrency, -threads, -rate, -users, -rollbacks and -time-scale positive")
	}
	log.SetFlags(log.Ltime)
	log.SetPrefix("bench/url: ")
	if !cfg.skipLatency {
		if _, err := exec.LookPath("wrk"); err != nil {
			log.Fatal("wrk is not installed: this harness measures with Debian's wrk (apt-get install -y wrk), " +
				"or run it with -skip-latency for the deployment part alone")
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, cfg)
	stop()
	if err != nil {
		log.Print(err)
		os.Exit(1)
	}
}

// artifacts are what the harness builds before measuring anything.
type artifacts struct {
	sluice string
	pkg    []byte // the function's bootstrap zipped for CreateFunction
	source string // the revision Sluice was built from
	wrk    string // wrk's version line
}

func run(ctx context.Context, cfg config) error {
	tmp, err := os.MkdirTemp("", "sluice-url-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	art, err := build(ctx, cfg, tmp)
	if err != nil {
		return err
	}
	m := measurements{cfg: cfg, source: art.source, wrk: art.wrk, machine: hostinfo.Description(),
		started: time.Now()}
	m.loadWaited, m.loadAtStart, m.quiet = hostinfo.WaitForQuiet(ctx, cfg.quietLoad, cfg.quietWait)
	if err := ctx.Err(); err != nil {
		return err
	}
	m.uptime = hostinfo.Uptime()
	log.Printf("measuring at load average %s", m.loadAtStart)

	srv, err := startServer(art.sluice, filepath.Join(tmp, "data"), cfg)
	if err != nil {
		return err
	}
	defer srv.Stop()
	c := newClients(srv.Endpoint)
	if err := setupRoles(ctx, c); err != nil {
		return fmt.Errorf("set-up: %w", err)
	}
	if !cfg.skipLatency {
		if m.latency, err = measureLatency(ctx, cfg, c, art.pkg, tmp, srv.Cmd.Process.Pid); err != nil {
			return err
		}
	}
	if !cfg.skipCanary {
		for _, sticky := range []bool{false, true} {
			run, err := measureDeployments(ctx, cfg, c, art.pkg, sticky)
			if err != nil {
				return err
			}
			m.deploys = append(m.deploys, run)
		}
	}
	m.loadAtEnd = hostinfo.LoadAverage()
	m.serverAlive = srv.Alive()
	if !m.serverAlive {
		return errors.New("the server died during the run")
	}
	printReport(os.Stdout, m)
	return nil
}

func build(ctx context.Context, cfg config, tmp string) (artifacts, error) {
	var art artifacts
	root, err := buildkit.ModuleRoot(ctx)
	if err != nil {
		return art, err
	}
	log.Print("building sluice and the function")
	art.source = buildkit.SourceState(ctx, root)
	art.sluice = filepath.Join(tmp, "sluice")
	if cfg.sluiceBin != "" {
		art.source = "the prebuilt binary " + cfg.sluiceBin
		b, err := os.ReadFile(cfg.sluiceBin)
		if err != nil {
			return art, err
		}
		if err := os.WriteFile(art.sluice, b, 0o755); err != nil {
			return art, err
		}
	} else if err := buildkit.GoBuild(ctx, root, "./cmd/sluice", art.sluice, false); err != nil {
		return art, err
	}
	bootstrap := filepath.Join(tmp, "fn", "bootstrap")
	if err := os.Mkdir(filepath.Dir(bootstrap), 0o755); err != nil {
		return art, err
	}
	if err := buildkit.GoBuild(ctx, root, "./bench/url/fn", bootstrap, true); err != nil {
		return art, err
	}
	if art.pkg, err = buildkit.ZipBootstrap(bootstrap); err != nil {
		return art, err
	}
	if !cfg.skipLatency {
		out, _ := exec.CommandContext(ctx, "wrk", "--version").CombinedOutput() // wrk exits 1 after printing its usage
		art.wrk, _, _ = strings.Cut(strings.TrimSpace(string(out)), "\n")
	}
	return art, nil
}
