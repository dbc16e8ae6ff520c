// Command bodies measures what request bodies cost the server's memory. It runs the real `sluice serve` with a
// function `bench` (Active; its package a shell-script bootstrap that never needs to run) and fires two bursts,
// each at a fresh server so that the process's peak resident set (VmHWM) belongs to that burst alone:
//
//   - unsigned: -concurrency uploads at once of -size bytes (by default the largest request AWS accepts) to
//     POST /2015-03-31/functions/bench/invocations, without a signature;
//   - signed: the same uploads SigV4-signed with the root credentials (payload hash included), so that they pass
//     every check the headers allow; Lambda then refuses each as a payload over 6 MB (413), unless the server
//     refused it first.
//
// Bodies are streamed zeros: the harness itself holds none. For each burst it reports the answers, how much the
// clients got to send, and the server's resident set: before the burst, its peak (VmHWM, and the largest VmRSS
// sampled every 10 ms), and 2 s after the last answer. -baseline-bin measures another build first (e.g. one from an
// older commit), for a side-by-side table.
//
//	go run ./bench/bodies [-concurrency 32] [-size 70167211] [-sluice-bin PATH] [-baseline-bin PATH] [-serve-args "..."]
package main

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/sluice-dev/sluice/bench/internal/benchiam"
	"github.com/sluice-dev/sluice/bench/internal/buildkit"
	"github.com/sluice-dev/sluice/bench/internal/hostinfo"
	"github.com/sluice-dev/sluice/bench/internal/sluiceproc"
	"github.com/sluice-dev/sluice/internal/sdkhttp"
)

const (
	accessKey = "AKIABENCHBODIESBENCH"
	secretKey = "bench-secret"
	function  = "bench"
	region    = "us-east-1"
)

type config struct {
	concurrency int
	size        int64
	serveArgs   []string
}

// target is one build of the server: a short name for the table, and what it was built from.
type target struct{ name, source, bin string }

// burst is what one burst of uploads did to one server.
type burst struct {
	target, phase string
	answers       map[string]int // "403 MissingAuthenticationTokenException", "connection closed", …
	sent          int64          // bytes the clients got to send, all uploads together
	wall          time.Duration  // from the first upload to the last answer
	before        int64          // VmRSS before the burst, KiB
	hwm           int64          // VmHWM after the burst, KiB
	sampled       int64          // the largest VmRSS sampled during the burst, KiB
	after         int64          // VmRSS 2 s after the last answer, KiB
}

func main() {
	var cfg config
	flag.IntVar(&cfg.concurrency, "concurrency", 32, "uploads at once in each burst")
	flag.Int64Var(&cfg.size, "size", 70167211, "bytes in each upload (default: the largest request AWS accepts)")
	bin := flag.String("sluice-bin", "", "measure this prebuilt sluice binary instead of building one from the working tree")
	baseline := flag.String("baseline-bin", "", "also measure this prebuilt sluice binary, first (e.g. a build of an older commit)")
	serveArgs := flag.String("serve-args", "", "extra `sluice serve` flags, space-separated")
	flag.Parse()
	cfg.serveArgs = strings.Fields(*serveArgs)
	if cfg.concurrency < 1 || cfg.size < 1 {
		log.Fatal("-concurrency and -size must be positive")
	}
	log.SetFlags(log.Ltime)
	log.SetPrefix("bench/bodies: ")

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, cfg, *bin, *baseline)
	stop()
	if err != nil {
		log.Print(err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg config, bin, baseline string) error {
	tmp, err := os.MkdirTemp("", "sluice-bodies-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	root, err := buildkit.ModuleRoot(ctx)
	if err != nil {
		return err
	}
	var targets []target
	if baseline != "" {
		targets = append(targets, target{"baseline", "the prebuilt binary " + baseline, baseline})
	}
	if bin != "" {
		targets = append(targets, target{"measured", "the prebuilt binary " + bin, bin})
	} else {
		log.Print("building sluice from the working tree")
		out := filepath.Join(tmp, "sluice")
		if err := buildkit.GoBuild(ctx, root, "./cmd/sluice", out, false); err != nil {
			return err
		}
		targets = append(targets, target{"working tree", buildkit.SourceState(ctx, root), out})
	}
	pkg, err := shellZip()
	if err != nil {
		return err
	}
	hash := zerosSHA256(cfg.size)

	var results []burst
	for _, tg := range targets {
		for _, signed := range []bool{false, true} {
			phase := "unsigned"
			if signed {
				phase = "signed"
			}
			log.Printf("%s: %d %s uploads of %d bytes", tg.name, cfg.concurrency, phase, cfg.size)
			b, err := measure(ctx, cfg, tg, filepath.Join(tmp, fmt.Sprintf("data-%d", len(results))), pkg, signed, hash)
			if err != nil {
				return fmt.Errorf("%s, %s: %w", tg.name, phase, err)
			}
			b.target, b.phase = tg.name, phase
			results = append(results, b)
		}
	}
	report(os.Stdout, cfg, targets, results)
	return nil
}

// measure starts a server on dataDir, creates the function, and fires one burst at it.
func measure(ctx context.Context, cfg config, tg target, dataDir string, pkg []byte, signed bool, hash string) (burst, error) {
	b := burst{answers: map[string]int{}}
	srv, err := sluiceproc.Start(tg.bin, dataDir, cfg.serveArgs,
		[]string{"SLUICE_ROOT_ACCESS_KEY_ID=" + accessKey, "SLUICE_ROOT_SECRET_ACCESS_KEY=" + secretKey}, nil)
	if err != nil {
		return b, err
	}
	defer srv.Stop()
	pid := srv.Cmd.Process.Pid
	c := lambda.New(lambda.Options{Region: region, BaseEndpoint: aws.String(srv.Endpoint), Retryer: aws.NopRetryer{}, HTTPClient: sdkhttp.Wrap(nil),
		Credentials: credentials.NewStaticCredentialsProvider(accessKey, secretKey, "")})
	if err := benchiam.CreateFunctionRole(ctx, c); err != nil {
		return b, err
	}
	if _, err := c.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String(function), Role: aws.String(benchiam.FunctionRole),
		Runtime: types.RuntimeProvidedal2023, Handler: aws.String("bootstrap"), Code: &types.FunctionCode{ZipFile: pkg}}); err != nil {
		return b, err
	}
	waiter := lambda.NewFunctionActiveV2Waiter(c, func(o *lambda.FunctionActiveV2WaiterOptions) { o.MinDelay = 20 * time.Millisecond })
	if err := waiter.Wait(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(function)}, time.Minute); err != nil {
		return b, err
	}
	time.Sleep(time.Second) // let start-up garbage settle before the baseline
	if b.before, err = procStatus(pid, "VmRSS"); err != nil {
		return b, err
	}

	sampling := make(chan struct{})
	sampled := make(chan int64)
	go func() {
		var peak int64
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			if kb, err := procStatus(pid, "VmRSS"); err == nil {
				peak = max(peak, kb)
			}
			select {
			case <-sampling:
				sampled <- peak
				return
			case <-tick.C:
			}
		}
	}()

	var mu sync.Mutex
	var wg sync.WaitGroup
	var sent atomic.Int64
	url := srv.Endpoint + "/2015-03-31/functions/" + function + "/invocations"
	start := time.Now()
	for range cfg.concurrency {
		wg.Go(func() {
			answer := upload(ctx, url, cfg.size, signed, hash, &sent)
			mu.Lock()
			b.answers[answer]++
			mu.Unlock()
		})
	}
	wg.Wait()
	b.wall = time.Since(start)
	close(sampling)
	b.sampled = <-sampled
	b.sent = sent.Load()
	if b.hwm, err = procStatus(pid, "VmHWM"); err != nil {
		return b, err
	}
	time.Sleep(2 * time.Second)
	if b.after, err = procStatus(pid, "VmRSS"); err != nil {
		return b, err
	}
	if !srv.Alive() {
		return b, fmt.Errorf("the server died during the burst")
	}
	return b, nil
}

// upload sends one body of size zeros and names the answer: "STATUS ERRORTYPE", or what went wrong.
func upload(ctx context.Context, url string, size int64, signed bool, hash string, sent *atomic.Int64) string {
	body := &zeros{left: size, sent: sent}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, io.NopCloser(body))
	if err != nil {
		return err.Error()
	}
	req.ContentLength = size
	req.Header.Set("Content-Type", "application/json")
	if signed {
		creds := aws.Credentials{AccessKeyID: accessKey, SecretAccessKey: secretKey}
		if err := v4.NewSigner().SignHTTP(ctx, creds, req, hash, "lambda", region, time.Now()); err != nil {
			return err.Error()
		}
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Do(req)
	switch {
	case err != nil && (strings.Contains(err.Error(), "connection reset by peer") || strings.Contains(err.Error(), "broken pipe")):
		return "connection reset while sending"
	case err != nil:
		return "error: " + err.Error()
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	code, _, _ := strings.Cut(resp.Header.Get("X-Amzn-Errortype"), ":")
	return strings.TrimSpace(strconv.Itoa(resp.StatusCode) + " " + code)
}

// zeros is an upload of zero bytes that counts what the transport read of it.
type zeros struct {
	left int64
	sent *atomic.Int64
}

func (z *zeros) Read(p []byte) (int, error) {
	if z.left == 0 {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), z.left))
	clear(p[:n])
	z.left -= int64(n)
	if z.sent != nil {
		z.sent.Add(int64(n))
	}
	return n, nil
}

func zerosSHA256(n int64) string {
	h := sha256.New()
	io.Copy(h, &zeros{left: n})
	return hex.EncodeToString(h.Sum(nil))
}

// procStatus reads a field of /proc/PID/status in KiB (VmRSS: resident now; VmHWM: the peak since start).
func procStatus(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

// shellZip is a provided.al2023 package whose bootstrap is an empty shell script: the function exists and is
// Active, and no invocation of this benchmark ever runs it.
func shellZip() ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return nil, err
	}
	if _, err := io.WriteString(w, "#!/bin/sh\n"); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func report(w io.Writer, cfg config, targets []target, results []burst) {
	fmt.Fprintf(w, "\nMachine: %s\n", hostinfo.Description())
	for _, tg := range targets {
		fmt.Fprintf(w, "%s: %s\n", tg.name, tg.source)
	}
	fmt.Fprintf(w, "Each burst: %d uploads at once of %d bytes of zeros to POST /2015-03-31/functions/%s/invocations, at a fresh server.\n\n",
		cfg.concurrency, cfg.size, function)
	fmt.Fprintln(w, "| server | uploads | answers | sent by the clients | RSS before | peak RSS (VmHWM) | peak RSS sampled | RSS 2 s after | burst took |")
	fmt.Fprintln(w, "|---|---|---|---:|---:|---:|---:|---:|---:|")
	for _, b := range results {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %.1f s |\n", b.target, b.phase, answers(b.answers),
			mib(b.sent>>10), mib(b.before), mib(b.hwm), mib(b.sampled), mib(b.after), b.wall.Seconds())
	}
}

func answers(m map[string]int) string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d × %s", m[k], k))
	}
	return strings.Join(parts, ", ")
}

func mib(kib int64) string { return fmt.Sprintf("%d MiB", kib>>10) }
