// Command controlplane measures how Sluice's control-plane operations scale with the number of functions. It builds
// and starts the real `sluice` binary on a fresh data dir, drives it with aws-sdk-go-v2 over loopback, and reports
// per-operation latency (p50/p99) at several catalogue sizes. Flat latency from 100 to 10,000 functions is the
// O(log n) claim of docs/benchmarks.md.
//
//	go run ./bench/controlplane -sizes 100,1000,10000 -samples 200 [-sluice-bin path]
package main

import (
	"archive/zip"
	"bytes"
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/sluice-dev/sluice/bench/internal/benchiam"
	"github.com/sluice-dev/sluice/bench/internal/latency"
)

func main() {
	sizesFlag := flag.String("sizes", "100,1000,10000", "catalogue sizes to measure at")
	samples := flag.Int("samples", 200, "samples per operation per size")
	workers := flag.Int("workers", 8, "concurrent creators while filling the catalogue")
	prebuilt := flag.String("sluice-bin", "", "a prebuilt sluice binary to measure (default: build ./cmd/sluice)")
	flag.Parse()
	var sizes []int
	for _, s := range strings.Split(*sizesFlag, ",") {
		n, err := strconv.Atoi(s)
		if err != nil {
			log.Fatal(err)
		}
		sizes = append(sizes, n)
	}

	dir, err := os.MkdirTemp("", "sluice-bench-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	bin := *prebuilt
	if bin == "" {
		bin = filepath.Join(dir, "sluice")
		if out, err := exec.Command("go", "build", "-o", bin, "./cmd/sluice").CombinedOutput(); err != nil {
			log.Fatalf("build: %v\n%s", err, out)
		}
	}
	data := filepath.Join(dir, "data")
	srv := exec.Command(bin, "serve", "--listen", "127.0.0.1:0", "--data-dir", data, "--log-level", "warn")
	srv.Env = append(os.Environ(), "SLUICE_ROOT_ACCESS_KEY_ID=AKIABENCHBENCHBENCH0", "SLUICE_ROOT_SECRET_ACCESS_KEY=bench-secret")
	srv.Stderr = os.Stderr
	if err := srv.Start(); err != nil {
		log.Fatal(err)
	}
	defer func() { srv.Process.Signal(os.Interrupt); srv.Wait() }()
	endpoint := waitEndpoint(filepath.Join(data, "endpoint"))

	client := lambda.New(lambda.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("AKIABENCHBENCHBENCH0", "bench-secret", ""),
	})
	ctx := context.Background()
	pkg := makeZip()
	role := benchiam.FunctionRole
	if err := benchiam.CreateFunctionRole(ctx, client); err != nil {
		log.Fatal(err)
	}

	fmt.Printf("| functions | operation | p50 | p99 | mean |\n|---:|---|---:|---:|---:|\n")
	have := 0
	for _, size := range sizes {
		fill(ctx, client, have, size, *workers, pkg, role)
		have = size
		waitActive(ctx, client, fmt.Sprintf("fn-%05d", size-1))
		mid := fmt.Sprintf("fn-%05d", size/2)
		probe := fmt.Sprintf("probe-%d", size)
		must(client.CreateFunction(ctx, createInput(probe, pkg, role)))
		waitActive(ctx, client, probe)
		must(client.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: &probe}))
		must(client.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: &probe, Description: aws.String("v2")}))
		waitUpdated(ctx, client, probe)
		must(client.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: &probe}))
		must(client.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: &probe, Name: aws.String("live"), FunctionVersion: aws.String("1")}))
		// A marker in the middle of the catalogue: what a client paging through it sends.
		page := must(client.ListFunctions(ctx, &lambda.ListFunctionsInput{MaxItems: aws.Int32(int32(min(size/2, 50)))}))
		ops := []struct {
			name string
			run  func(i int) error
		}{
			{"GetFunction", func(int) error {
				_, err := client.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: &mid})
				return err
			}},
			{"GetFunctionConfiguration (alias)", func(int) error {
				_, err := client.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: &probe, Qualifier: aws.String("live")})
				return err
			}},
			{"ListFunctions (page of 50 after a marker)", func(int) error {
				_, err := client.ListFunctions(ctx, &lambda.ListFunctionsInput{Marker: page.NextMarker})
				return err
			}},
			{"UpdateAlias (weighted)", func(i int) error {
				_, err := client.UpdateAlias(ctx, &lambda.UpdateAliasInput{FunctionName: &probe, Name: aws.String("live"),
					RoutingConfig: &types.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{"2": float64(i%10+1) / 100}}})
				return err
			}},
			{"PublishVersion (idempotent)", func(int) error {
				_, err := client.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: &probe})
				return err
			}},
			{"CreateFunction + DeleteFunction", func(i int) error {
				name := fmt.Sprintf("tmp-%d-%d", size, i)
				if _, err := client.CreateFunction(ctx, createInput(name, pkg, role)); err != nil {
					return err
				}
				_, err := client.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: &name})
				return err
			}},
		}
		for _, op := range ops {
			lat := make([]time.Duration, 0, *samples)
			for i := range *samples {
				start := time.Now()
				if err := op.run(i); err != nil {
					log.Fatalf("%s: %v", op.name, err)
				}
				lat = append(lat, time.Since(start))
			}
			p50, p99, mean := latency.Summary(lat)
			fmt.Printf("| %d | %s | %s | %s | %s |\n", size, op.name, latency.Ms(p50), latency.Ms(p99), latency.Ms(mean))
		}
	}
}

func createInput(name string, pkg []byte, role string) *lambda.CreateFunctionInput {
	return &lambda.CreateFunctionInput{FunctionName: &name, Role: &role, Runtime: types.RuntimeProvidedal2023,
		Handler: aws.String("bootstrap"), Code: &types.FunctionCode{ZipFile: pkg}}
}

// fill creates functions fn-<from> .. fn-<to-1> with several workers.
func fill(ctx context.Context, client *lambda.Client, from, to, workers int, pkg []byte, role string) {
	var next atomic.Int64
	next.Store(int64(from))
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= to {
					return
				}
				must(client.CreateFunction(ctx, createInput(fmt.Sprintf("fn-%05d", i), pkg, role)))
			}
		})
	}
	wg.Wait()
	if to > from {
		log.Printf("created %d functions in %s (%.0f creates/s)", to-from, time.Since(start).Round(time.Millisecond), float64(to-from)/time.Since(start).Seconds())
	}
}

func waitActive(ctx context.Context, client *lambda.Client, name string) {
	w := lambda.NewFunctionActiveV2Waiter(client, func(o *lambda.FunctionActiveV2WaiterOptions) {
		o.MinDelay = 50 * time.Millisecond
		o.MaxDelay = time.Second
	})
	if err := w.Wait(ctx, &lambda.GetFunctionInput{FunctionName: &name}, 5*time.Minute); err != nil {
		log.Fatal(err)
	}
}

func waitUpdated(ctx context.Context, client *lambda.Client, name string) {
	w := lambda.NewFunctionUpdatedV2Waiter(client, func(o *lambda.FunctionUpdatedV2WaiterOptions) {
		o.MinDelay = 50 * time.Millisecond
		o.MaxDelay = time.Second
	})
	if err := w.Wait(ctx, &lambda.GetFunctionInput{FunctionName: &name}, 5*time.Minute); err != nil {
		log.Fatal(err)
	}
}

func waitEndpoint(path string) string {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(path); err == nil {
			return strings.TrimSpace(string(b))
		}
		time.Sleep(20 * time.Millisecond)
	}
	log.Fatal("server did not start")
	return ""
}

func makeZip() []byte {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate}
	h.SetMode(0o755)
	f, _ := w.CreateHeader(h)
	f.Write([]byte("#!/bin/sh\nexit 0\n"))
	w.Close()
	return buf.Bytes()
}

func must[T any](v T, err error) T {
	if err != nil {
		log.Fatal(err)
	}
	return v
}
