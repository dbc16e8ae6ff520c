// Command visibility measures how a control-plane change reaches the invoke path: each round moves an alias
// (UpdateAlias, unweighted) to the other of two warm versions and, as soon as the call returns, invokes through
// the alias. It reports the UpdateAlias latency the client sees and, for that invocation and for those of
// -readers concurrent invokers started after the call returned, how many still ran the version the alias had
// left (read-your-writes says none). For concurrent readers it also reports the lag from the call's return to the
// start of the first invocation each reader saw on the new version.
//
//	go run ./bench/visibility [-rounds 400] [-readers 4] [-sluice-bin path]
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/sluice-dev/sluice/bench/internal/benchiam"
	"github.com/sluice-dev/sluice/bench/internal/buildkit"
	"github.com/sluice-dev/sluice/bench/internal/hostinfo"
	"github.com/sluice-dev/sluice/bench/internal/latency"
	"github.com/sluice-dev/sluice/bench/internal/sluiceproc"
	"github.com/sluice-dev/sluice/internal/sdkhttp"
)

const (
	accessKey = "AKIABENCHVISIBILITY0"
	secretKey = "bench-visibility-secret"
	fnName    = "visibility"
	alias     = "live"
)

func main() {
	rounds := flag.Int("rounds", 400, "alias moves")
	readers := flag.Int("readers", 4, "concurrent invokers through the alias")
	bin := flag.String("sluice-bin", "", "a prebuilt sluice binary to measure (default: build ./cmd/sluice)")
	flag.Parse()
	if err := run(context.Background(), *rounds, *readers, *bin); err != nil {
		log.Fatal(err)
	}
}

// observation is one reader invocation: when it started and ended, and which version ran it.
type observation struct {
	start, end time.Time
	version    string
}

func run(ctx context.Context, rounds, readers int, bin string) error {
	ws, err := buildkit.NewWorkspace(ctx, "sluice-visibility-", bin)
	if err != nil {
		return err
	}
	defer ws.Close()
	pkg, err := ws.Function(ctx, "./bench/deploy/fn", "fn")
	if err != nil {
		return err
	}
	srv, err := sluiceproc.Start(ws.Bin, filepath.Join(ws.Dir, "data"), []string{"--log-level", "warn"},
		[]string{"SLUICE_ROOT_ACCESS_KEY_ID=" + accessKey, "SLUICE_ROOT_SECRET_ACCESS_KEY=" + secretKey},
		&syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM})
	if err != nil {
		return err
	}
	defer srv.Stop()
	c := lambda.New(lambda.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.Endpoint), Retryer: aws.NopRetryer{}, HTTPClient: sdkhttp.Wrap(nil),
		Credentials: credentials.NewStaticCredentialsProvider(accessKey, secretKey, "")})
	if err := setup(ctx, c, pkg); err != nil {
		return fmt.Errorf("set-up: %w", err)
	}

	// Readers invoke through the alias until the rounds are over, recording what ran each invocation.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	seen := make([][]observation, readers)
	for r := range readers {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				start := time.Now()
				v, err := invoke(ctx, c)
				if err != nil {
					log.Fatal(err)
				}
				seen[r] = append(seen[r], observation{start, time.Now(), v})
			}
		})
	}

	type move struct {
		to, from   string
		begin, end time.Time
	}
	moves := make([]move, 0, rounds)
	var updateLat []time.Duration
	staleNext := 0
	current := "1"
	for i := range rounds {
		to := []string{"2", "1"}[i%2]
		begin := time.Now()
		if _, err := c.UpdateAlias(ctx, &lambda.UpdateAliasInput{FunctionName: aws.String(fnName), Name: aws.String(alias),
			FunctionVersion: aws.String(to)}); err != nil {
			return err
		}
		end := time.Now()
		updateLat = append(updateLat, end.Sub(begin))
		moves = append(moves, move{to: to, from: current, begin: begin, end: end})
		current = to
		v, err := invoke(ctx, c)
		if err != nil {
			return err
		}
		if v != to {
			staleNext++
		}
	}
	close(stop)
	wg.Wait()

	// A reader invocation that started after a move returned and ended before the next move began must have run
	// the version the move set. (One still running when the next move began may have been routed by that one.)
	var readerStale, readerAfter int
	var lags []time.Duration
	for _, obs := range seen {
		for i, m := range moves {
			until := time.Now().Add(time.Hour)
			if i+1 < len(moves) {
				until = moves[i+1].begin
			}
			first := true
			for _, o := range obs {
				if o.start.Before(m.end) || !o.end.Before(until) {
					continue
				}
				readerAfter++
				if o.version != m.to {
					readerStale++
				} else if first {
					lags = append(lags, o.start.Sub(m.end))
					first = false
				}
			}
		}
	}

	fmt.Printf("# Alias-update visibility (%s)\n\n%s\n\n", ws.Source, hostinfo.Description())
	p50, p99, mean := latency.Summary(updateLat)
	fmt.Printf("| measure | value |\n|---|---|\n")
	fmt.Printf("| UpdateAlias, client-observed (%d moves) | p50 %s · p99 %s · mean %s |\n", rounds, latency.Ms(p50), latency.Ms(p99), latency.Ms(mean))
	fmt.Printf("| invocation right after UpdateAlias returned ran the old version | %d of %d |\n", staleNext, rounds)
	fmt.Printf("| reader invocations between a move's return and the next move that ran the old version | %d of %d |\n", readerStale, readerAfter)
	if len(lags) > 0 {
		p50, p99, mean = latency.Summary(lags)
		fmt.Printf("| move returned → a reader's first invocation on the new version started | p50 %s · p99 %s · mean %s |\n", latency.Ms(p50), latency.Ms(p99), latency.Ms(mean))
	}
	return nil
}

// setup creates the function with two published versions (different environments, so different pools), the
// alias on version 1, and warms both versions.
func setup(ctx context.Context, c *lambda.Client, pkg []byte) error {
	if err := benchiam.CreateFunctionRole(ctx, c); err != nil {
		return err
	}
	if _, err := c.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String(fnName),
		Role: aws.String(benchiam.FunctionRole), Runtime: types.RuntimeProvidedal2023,
		Handler: aws.String("bootstrap"), Code: &types.FunctionCode{ZipFile: pkg},
		Environment: &types.Environment{Variables: map[string]string{"BUILD": "1"}}}); err != nil {
		return err
	}
	active := lambda.NewFunctionActiveV2Waiter(c, func(o *lambda.FunctionActiveV2WaiterOptions) {
		o.MinDelay, o.MaxDelay = 10*time.Millisecond, 500*time.Millisecond
	})
	if err := active.Wait(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(fnName)}, time.Minute); err != nil {
		return err
	}
	if _, err := c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String(fnName)}); err != nil {
		return err
	}
	if _, err := c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String(fnName),
		Environment: &types.Environment{Variables: map[string]string{"BUILD": "2"}}}); err != nil {
		return err
	}
	updated := lambda.NewFunctionUpdatedV2Waiter(c, func(o *lambda.FunctionUpdatedV2WaiterOptions) {
		o.MinDelay, o.MaxDelay = 10*time.Millisecond, 500*time.Millisecond
	})
	if err := updated.Wait(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(fnName)}, time.Minute); err != nil {
		return err
	}
	if _, err := c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String(fnName)}); err != nil {
		return err
	}
	if _, err := c.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String(fnName), Name: aws.String(alias),
		FunctionVersion: aws.String("1")}); err != nil {
		return err
	}
	for _, q := range []string{"1", "2", "1", "2"} {
		if _, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(fnName), Qualifier: aws.String(q), Payload: []byte("{}")}); err != nil {
			return err
		}
	}
	return nil
}

// invoke calls the function through the alias and returns the version that ran it.
func invoke(ctx context.Context, c *lambda.Client) (string, error) {
	out, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(fnName), Qualifier: aws.String(alias), Payload: []byte("{}")})
	if err != nil {
		return "", err
	}
	if out.FunctionError != nil {
		return "", fmt.Errorf("function error: %s", out.Payload)
	}
	return aws.ToString(out.ExecutedVersion), nil
}
