// Command profiled is cmd/sluice plus a loopback control endpoint that starts and stops a CPU profile of the
// server, so `go run ./bench/invoke -profile-dir DIR` can profile exactly the measured phases. Only the benchmark
// builds it; the numbers it reports come from the real ./cmd/sluice when -profile-dir is not given.
package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/metrics"
	"runtime/pprof"
	"strings"
	"sync"
	"syscall"

	"github.com/sluice-dev/sluice/internal/cli"
	"github.com/sluice-dev/sluice/internal/sandbox"
)

func main() {
	sandbox.MaybeRunInit() // as cmd/sluice: a sandbox's init is a re-execution of this binary
	if path := os.Getenv("SLUICE_BENCH_PROFILE_ADDR_FILE"); path != "" {
		if err := serveControl(path); err != nil {
			os.Stderr.WriteString("profiled: " + err.Error() + "\n")
			os.Exit(1)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Execute(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// writeAllocs writes the allocation profile so far (cumulative since the start: a phase's allocations are its end
// profile with its start profile as -base).
func writeAllocs(path string) error {
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("allocs").WriteTo(out, 0); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// counters are the runtime's exact cumulative counts: heap allocations (a phase's per invocation is its end minus
// its start over its invocations, unlike the sampled profile) and the CPU the garbage collector took.
var counters = []string{"/gc/heap/allocs:objects", "/gc/heap/allocs:bytes", "/gc/cycles/total:gc-cycles",
	"/cpu/classes/gc/total:cpu-seconds", "/cpu/classes/total:cpu-seconds"}

// writeCounters writes counters, one "name value" a line.
func writeCounters(path string) error {
	samples := make([]metrics.Sample, len(counters))
	for i, name := range counters {
		samples[i].Name = name
	}
	metrics.Read(samples)
	var b strings.Builder
	for _, s := range samples {
		switch s.Value.Kind() {
		case metrics.KindUint64:
			fmt.Fprintf(&b, "%s %d\n", s.Name, s.Value.Uint64())
		case metrics.KindFloat64:
			fmt.Fprintf(&b, "%s %g\n", s.Name, s.Value.Float64())
		}
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// serveControl listens on loopback and writes its address to path. GET /start?path=P starts a CPU profile into
// P; GET /stop ends it and answers once the file is complete. Each also writes the allocation profile so far,
// P-allocs-start.pprof and P-allocs-end.pprof (go tool pprof -sample_index=alloc_space -base start end), and the
// runtime's exact counters, P-counters-start.txt and P-counters-end.txt.
func serveControl(path string) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	var (
		mu        sync.Mutex
		f         *os.File
		allocsEnd string
	)
	mux := http.NewServeMux()
	mux.HandleFunc("/start", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		path := r.URL.Query().Get("path")
		out, err := os.Create(path)
		if err == nil {
			err = writeAllocs(strings.TrimSuffix(path, ".pprof") + "-allocs-start.pprof")
		}
		if err == nil {
			err = writeCounters(strings.TrimSuffix(path, ".pprof") + "-counters-start.txt")
		}
		if err == nil {
			if err = pprof.StartCPUProfile(out); err != nil {
				out.Close()
			}
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		f, allocsEnd = out, strings.TrimSuffix(path, ".pprof")+"-allocs-end.pprof"
	})
	mux.HandleFunc("/stop", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if f != nil {
			pprof.StopCPUProfile()
			f.Close()
			f = nil
			err := writeAllocs(allocsEnd)
			if err == nil {
				err = writeCounters(strings.Replace(allocsEnd, "-allocs-end.pprof", "-counters-end.txt", 1))
			}
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
			}
		}
	})
	go http.Serve(ln, mux)
	return os.WriteFile(path, []byte(ln.Addr().String()), 0o600)
}
