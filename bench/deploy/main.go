// Command deploy measures Sluice's safe deployments under steady load through an alias, in one run on one
// machine, with the real `sluice` binary and an aws-lambda-go function (./fn; FAIL_ALL makes a version defective):
//
//  1. Alarm → alias restored: a canary of a 100%-defective version (v1 → v2, 10%) is watched by the seed's Errors
//     alarm on the alias (periods 1 and 5 seconds, a Sluice extension); from the alarm's change to ALARM (its
//     history item: the server's clock) to the alias back on v1 unsplit — from the deployment's sluiceTimeline
//     (server) and from GetAlias polled every -poll by the client.
//  2. Blast radius: what the defective version served during the deployment (counted by the client from
//     X-Amz-Executed-Version and X-Amz-Function-Error, and the server's sluiceBlastRadius), against the minimum
//     the alarm period allows: load × canary weight × (period + the evaluator's 10 ms).
//  3. No errors from the healthy versions while shifting and rolling back, and a healthy linear deployment
//     (v1 → v3, CodeDeployDefault.LambdaLinear10PercentEvery1Minute, ~9 s at -time-scale 60) run to completion
//     with the split seen at each step.
//
// The load is -load invocations/s offered by -workers workers through the alias (aws-sdk-go-v2, SigV4, retries off
// so every failure counts), from before the first deployment to after the last.
//
//	go run ./bench/deploy [-repeats 5] [-repeats-p5 5] [-load 2000] [-workers 64] [-skip-p1] [-skip-p5] [-skip-healthy]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/sluice-dev/sluice/bench/internal/buildkit"
)

type config struct {
	repeats, repeatsP5 int
	load               float64
	workers            int
	timeScale          float64
	poll               time.Duration
	warmup             time.Duration
	skipP1, skipP5     bool
	skipHealthy        bool
	serveArgs          []string
	records            string
}

func main() {
	var cfg config
	flag.IntVar(&cfg.repeats, "repeats", 5, "defective canaries watched by the 1-second alarm")
	flag.IntVar(&cfg.repeatsP5, "repeats-p5", 5, "defective canaries watched by the 5-second alarm")
	flag.Float64Var(&cfg.load, "load", 2000, "offered load through the alias, invocations per second")
	flag.IntVar(&cfg.workers, "workers", 64, "workers sending the load (each waits for its answer before its next slot)")
	flag.Float64Var(&cfg.timeScale, "time-scale", 60, "sluice serve --deploy-time-scale: a configured minute lasts 60/N s")
	flag.DurationVar(&cfg.poll, "poll", time.Millisecond, "GetAlias polling interval while a defective canary runs")
	flag.DurationVar(&cfg.warmup, "warmup", 8*time.Second, "load before the first deployment: ramped up over the first half (environments start), steady in the second")
	flag.BoolVar(&cfg.skipP1, "skip-p1", false, "skip the defective canaries watched by the 1-second alarm")
	flag.BoolVar(&cfg.skipP5, "skip-p5", false, "skip the defective canaries watched by the 5-second alarm")
	flag.BoolVar(&cfg.skipHealthy, "skip-healthy", false, "skip the healthy linear deployment")
	flag.StringVar(&cfg.records, "records", "", "also write every invocation (start, latency, version, errors) to this CSV file")
	serveArgs := flag.String("serve-args", "", "extra `sluice serve` flags, space-separated (e.g. --no-prewarm)")
	flag.Parse()
	cfg.serveArgs = strings.Fields(*serveArgs)
	if cfg.load <= 0 || cfg.workers < 1 || cfg.repeats < 0 || cfg.repeatsP5 < 0 || cfg.timeScale <= 0 || cfg.poll <= 0 {
		log.Fatal("-load, -workers, -time-scale and -poll must be positive, -repeats not negative")
	}
	log.SetFlags(log.Ltime | log.Lmicroseconds)
	log.SetPrefix("bench/deploy: ")

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, cfg)
	stop()
	if err != nil {
		log.Print(err)
		os.Exit(1)
	}
}

// results is everything one run measured.
type results struct {
	source      string
	quietBefore float64 // machine busy (%) when the measurement began
	baseline    tally
	baselineCPU cpuUse
	warmCold    map[string]int // cold starts during the warm-up
	allCold     map[string]int // ... and from its second half to the end
	p1, p5      []defectiveRun
	healthy     *healthyRun
	all         tally // the whole measured span, warm-up's second half onwards
	allCPU      cpuUse
	skipped     int64 // load slots skipped because every worker was busy (the machine could not keep up)
	serverAlive bool
}

// run builds the binary and the function into a temp dir, starts the server, drives the deployments under load
// and prints the report. The server is stopped and the temp dir removed before it returns, error or not.
func run(ctx context.Context, cfg config) error {
	tmp, err := os.MkdirTemp("", "sluice-deploy-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	root, err := buildkit.ModuleRoot(ctx)
	if err != nil {
		return err
	}
	res := results{source: buildkit.SourceState(ctx, root)}
	log.Print("building sluice and the function")
	bin := filepath.Join(tmp, "sluice")
	if err := buildkit.GoBuild(ctx, root, "./cmd/sluice", bin, false); err != nil {
		return err
	}
	bootstrap := filepath.Join(tmp, "fn", "bootstrap")
	if err := buildkit.GoBuild(ctx, root, "./bench/deploy/fn", bootstrap, true); err != nil {
		return err
	}
	pkg, err := buildkit.ZipBootstrap(bootstrap)
	if err != nil {
		return err
	}
	args := append([]string{"--deploy-time-scale", fmt.Sprint(cfg.timeScale)}, cfg.serveArgs...)
	srv, err := startSluice(bin, filepath.Join(tmp, "data"), args...)
	if err != nil {
		return err
	}
	defer srv.Stop()
	pid := srv.Cmd.Process.Pid
	c := newClients(srv.Endpoint, cfg.workers)
	log.Print("creating the function, its versions, the alarms and the deployment groups")
	if err := setup(ctx, c, pkg); err != nil {
		return fmt.Errorf("set-up: %w", err)
	}
	res.quietBefore = waitQuiet(10 * time.Second)
	log.Printf("load: %.0f invocations/s offered by %d workers; warming up for %s (ramp over the first half)", cfg.load, cfg.workers, cfg.warmup)
	cold0 := c.coldStarts(ctx)
	g := startLoad(ctx, c.invoke, fnName, aliasName, cfg.load, cfg.workers, cfg.warmup/2)
	defer g.stop()
	sleep(ctx, cfg.warmup/2)
	from, before, cold1 := time.Now(), takeCPU(), c.coldStarts(ctx)
	res.warmCold = coldStartsSince(cold0, cold1)
	sleep(ctx, cfg.warmup/2)
	res.baseline, res.baselineCPU = count(g.window(from, time.Now()), from, time.Now()), before.until(takeCPU(), pid)

	for i := range cfg.repeats {
		if cfg.skipP1 || ctx.Err() != nil {
			break
		}
		r := runDefective(ctx, c, g, pid, 1, cfg.poll)
		logRun(i, r)
		res.p1 = append(res.p1, r)
	}
	for i := range cfg.repeatsP5 {
		if cfg.skipP5 || ctx.Err() != nil {
			break
		}
		r := runDefective(ctx, c, g, pid, 5, cfg.poll)
		logRun(i, r)
		res.p5 = append(res.p5, r)
	}
	if !cfg.skipHealthy && ctx.Err() == nil {
		log.Printf("healthy linear deployment %s → %s (%s)", healthy, healthy2, linearConfig)
		h := runHealthy(ctx, c, g, pid)
		if h.err != nil {
			log.Printf("healthy deployment: %v", h.err)
		}
		res.healthy = &h
	}
	end := time.Now()
	res.allCPU = before.until(takeCPU(), pid)
	res.allCold = coldStartsSince(cold1, c.coldStarts(ctx))
	g.stop()
	res.all = count(g.window(from, end), from, end)
	res.skipped = g.skipped.Load()
	res.serverAlive = srv.Alive()
	if err := ctx.Err(); err != nil {
		return err
	}
	if cfg.records != "" {
		if err := g.writeCSV(cfg.records); err != nil {
			return err
		}
	}
	printReport(os.Stdout, cfg, res)
	var failed []error
	for _, r := range append(res.p1, res.p5...) {
		if r.err != nil {
			failed = append(failed, r.err)
		}
	}
	return errors.Join(failed...)
}

func logRun(i int, r defectiveRun) {
	if r.err != nil {
		log.Printf("defective canary, %d-s alarm, #%d: %v", r.period, i+1, r.err)
		return
	}
	rb, _ := r.dep.first("rollback")
	log.Printf("defective canary, %d-s alarm, #%d: %s stopped; alarm → rollback decided %s, → client sees alias restored %s; defective served %d",
		r.period, i+1, r.dep.DeploymentID, ms(rb.at().Sub(r.alarmAt)), ms(r.watch.restored.Sub(r.alarmAt)), r.t.served[defective])
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
