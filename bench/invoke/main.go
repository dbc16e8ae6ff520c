// Command invoke measures Sluice's invoke path against the AWS Lambda Runtime Interface Emulator (RIE) and a
// loopback floor, in one run on one machine, with the same aws-lambda-go function (./fn, which echoes its input):
//
//   - Sluice: the real binary; the function has two published versions and an alias `live` sending 10% to v2;
//     invoked through the alias with plain net/http plus a SigV4 signature (Sluice authenticates every call), and
//     again through aws-sdk-go-v2 (what most callers use).
//   - RIE: built from the Go module proxy into a temp dir, run as its docs say, invoked with plain net/http.
//   - Floor: a net/http server echoing the body in a process of its own, invoked with plain net/http.
//   - Reference points that explain the gaps: the floor invoked through aws-sdk-go-v2 (the SDK's cost), the echo
//     server inside the harness (no process boundary at all), and the Runtime API floor (this process hands events
//     straight to host bootstraps: the function's cost).
//
// For each it reports warm latency and throughput at concurrency 1 and at -concurrency, and the CPU each phase
// used per invocation (client, server, function processes; other processes on a shared machine are flagged).
// Then the cold-start overhead of Sluice (its Init Duration minus the bootstrap's own start-up, timed on the host
// against a fake Runtime API), RIE's cold start, bursts of simultaneous cold starts (what refilling the pool of
// prestarted sandbox inits costs while they land, burst.go), and the ratios against the project's targets. -profile-dir also
// writes CPU profiles of the server (built from ./profiled) and of the client during Sluice's phases.
//
//	go run ./bench/invoke [-n 2000] [-duration 10s] [-concurrency 32] [-cold-samples 30] [-cold-burst 32] [-bursts 3]
//	                      [-skip-rie] [-profile-dir DIR]
//	                      [-sluice-only] [-sluice-bin PATH] [-serve-args "..."]
package main

import (
	"context"
	"flag"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/sluice-dev/sluice/bench/internal/buildkit"
)

// payload is the event every target echoes back: small, like most API events.
var payload = []byte(`{"message":"sluice invoke benchmark","n":12345,"ok":true}`)

type config struct {
	n           int           // invocations in the concurrency-1 phase
	duration    time.Duration // length of the concurrent phase; also caps the concurrency-1 phase
	concurrency int
	coldSamples int
	coldBurst   int // simultaneous cold starts per burst (0: no bursts)
	bursts      int // measured bursts (after one discarded)
	warmup      int // sequential warm-up invocations per target
	skipRIE     bool
	sluiceOnly  bool   // measure Sluice alone (profiling and tracing sessions): no floors, no RIE, no ratios
	sluiceBin   string // a prebuilt sluice binary to measure instead of building one (A/B comparisons)
	profileDir  string
}

func main() {
	if len(os.Args) == 2 && (os.Args[1] == echoServerFlag || os.Args[1] == fastEchoServerFlag) {
		serveEcho(os.Args[1] == fastEchoServerFlag)
		return
	}
	var cfg config
	flag.IntVar(&cfg.n, "n", 2000, "invocations at concurrency 1 (latency and throughput)")
	flag.DurationVar(&cfg.duration, "duration", 10*time.Second, "length of the concurrent throughput phase (also caps the concurrency-1 phase)")
	flag.IntVar(&cfg.concurrency, "concurrency", 32, "in-flight invocations in the throughput phase")
	flag.IntVar(&cfg.coldSamples, "cold-samples", 30, "forced cold starts per target (0 skips cold starts)")
	flag.IntVar(&cfg.coldBurst, "cold-burst", 32, "simultaneous cold starts per burst, measuring what the prestarted pool's refills cost (0 skips bursts)")
	flag.IntVar(&cfg.bursts, "bursts", 3, "bursts of -cold-burst cold starts measured (after one discarded)")
	flag.BoolVar(&cfg.skipRIE, "skip-rie", false, "do not build or measure the Runtime Interface Emulator")
	flag.StringVar(&cfg.sluiceBin, "sluice-bin", "", "measure this prebuilt sluice binary instead of building one from the working tree (to compare builds)")
	flag.BoolVar(&cfg.sluiceOnly, "sluice-only", false, "measure Sluice alone, e.g. while profiling or tracing it (no floors, no RIE, no ratios)")
	serveArgs := flag.String("serve-args", "", "extra `sluice serve` flags, space-separated (e.g. --no-invocation-metrics)")
	flag.StringVar(&cfg.profileDir, "profile-dir", "", "write CPU profiles of the Sluice server and of this client during Sluice's phases here")
	flag.Parse()
	if cfg.sluiceOnly {
		cfg.skipRIE = true
	}
	cfg.warmup = 200
	extraServeArgs = strings.Fields(*serveArgs)
	if cfg.profileDir != "" {
		abs, err := filepath.Abs(cfg.profileDir) // the server runs elsewhere: give it a path that means the same
		if err != nil {
			log.Fatal(err)
		}
		cfg.profileDir = abs
	}
	if cfg.n < 1 || cfg.concurrency < 1 || cfg.duration <= 0 || cfg.coldSamples < 0 || cfg.coldBurst < 0 || cfg.bursts < 1 {
		log.Fatal("-n, -concurrency, -duration and -bursts must be positive, -cold-samples and -cold-burst not negative")
	}
	log.SetFlags(log.Ltime)
	log.SetPrefix("bench/invoke: ")

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
	sluice, bootstrap string
	pkg               []byte // the bootstrap zipped for CreateFunction
	source            string // the revision Sluice was built from
	rie, rieVersion   string
}

// run builds everything into a temp dir, measures each target alone (the others are not running), and prints
// the report. Every process it starts is stopped and the temp dir removed before it returns, error or not.
func run(ctx context.Context, cfg config) error {
	tmp, err := os.MkdirTemp("", "sluice-invoke-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	art, err := build(ctx, cfg, tmp)
	if err != nil {
		return err
	}
	m := measurements{source: art.source}
	if !cfg.sluiceOnly {
		log.Print("floor: measuring")
		if m.floor, err = measureFloor(ctx, cfg); err != nil {
			return err
		}
		log.Print("runtime API floor: measuring")
		if m.floor.fnC1, m.floor.fnCN, err = measureFnFloor(ctx, cfg, art.bootstrap); err != nil {
			return err
		}
	}
	if !cfg.skipRIE {
		if m.rie, err = measureRIEAll(ctx, cfg, art); err != nil {
			return err
		}
	}
	if m.sluice, err = measureSluice(ctx, cfg, art, filepath.Join(tmp, "data")); err != nil {
		return err
	}
	if cfg.coldSamples > 0 {
		log.Print("bootstrap on the host: timing its own start-up")
		if m.direct, err = measureDirect(ctx, art.bootstrap, cfg.coldSamples); err != nil {
			return err
		}
	}
	printReport(os.Stdout, cfg, m)
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
		if err := copyFile(cfg.sluiceBin, art.sluice); err != nil {
			return art, err
		}
	} else if err := buildkit.GoBuild(ctx, root, "./cmd/sluice", art.sluice, false); err != nil {
		return art, err
	}
	fnDir := filepath.Join(tmp, "fn")
	if err := os.Mkdir(fnDir, 0o755); err != nil {
		return art, err
	}
	art.bootstrap = filepath.Join(fnDir, "bootstrap")
	if err := buildkit.GoBuild(ctx, root, "./bench/invoke/fn", art.bootstrap, true); err != nil {
		return art, err
	}
	if art.pkg, err = buildkit.ZipBootstrap(art.bootstrap); err != nil {
		return art, err
	}
	if cfg.skipRIE {
		return art, nil
	}
	log.Print("building aws-lambda-rie from the Go module proxy")
	rieDir := filepath.Join(tmp, "rie")
	if err := os.Mkdir(rieDir, 0o755); err != nil {
		return art, err
	}
	art.rie, art.rieVersion, err = installRIE(ctx, rieDir)
	return art, err
}

// collectCold takes n+1 samples and drops the first, which also pays for the page cache and first-use paths.
func collectCold(n int, sample func(i int) (coldSample, error)) ([]coldSample, error) {
	var out []coldSample
	for i := range n + 1 {
		s, err := sample(i)
		if err != nil {
			return nil, err
		}
		if i > 0 {
			out = append(out, s)
		}
	}
	return out, nil
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o755)
}
