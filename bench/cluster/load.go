package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/sluice-dev/sluice/bench/internal/benchiam"
)

// payload is what bench/invoke sends: a small JSON document the echo function returns unchanged.
var payload = []byte(`{"order":"12345","items":[{"sku":"A-1","qty":2},{"sku":"B-7","qty":1}],"note":"benchmark payload"}`)

// setupEcho creates bench/invoke's set-up: the echo function with two published versions of the same code (the
// description differs) and alias `live` sending 10% of invocations to version 2.
func setupEcho(ctx context.Context, c *lambda.Client, name string, pkg []byte) error {
	if err := createFunction(ctx, c, name, pkg, map[string]string{"BUILD": "1"}); err != nil {
		return err
	}
	if _, err := c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: &name, Description: aws.String("v1")}); err != nil {
		return err
	}
	if _, err := c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: &name, Description: aws.String("v2")}); err != nil {
		return err
	}
	if err := waitUpdated(ctx, c, name); err != nil {
		return err
	}
	if _, err := c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: &name, Description: aws.String("v2")}); err != nil {
		return err
	}
	_, err := c.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: &name, Name: aws.String("live"), FunctionVersion: aws.String("1"),
		RoutingConfig: &types.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{"2": 0.1}}})
	return err
}

func createFunction(ctx context.Context, c *lambda.Client, name string, pkg []byte, env map[string]string) error {
	if err := benchiam.CreateFunctionRole(ctx, c); err != nil {
		return err
	}
	if _, err := c.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: &name, Role: aws.String(role), Runtime: types.RuntimeProvidedal2023,
		Handler: aws.String("bootstrap"), Code: &types.FunctionCode{ZipFile: pkg}, Environment: &types.Environment{Variables: env}}); err != nil {
		return err
	}
	w := lambda.NewFunctionActiveV2Waiter(c, func(o *lambda.FunctionActiveV2WaiterOptions) {
		o.MinDelay, o.MaxDelay = 10*time.Millisecond, 500*time.Millisecond
	})
	return w.Wait(ctx, &lambda.GetFunctionInput{FunctionName: &name}, time.Minute)
}

func waitUpdated(ctx context.Context, c *lambda.Client, name string) error {
	w := lambda.NewFunctionUpdatedV2Waiter(c, func(o *lambda.FunctionUpdatedV2WaiterOptions) {
		o.MinDelay, o.MaxDelay = 10*time.Millisecond, 500*time.Millisecond
	})
	return w.Wait(ctx, &lambda.GetFunctionInput{FunctionName: &name}, time.Minute)
}

// invoker performs one invocation; it must be safe for concurrent use.
type invoker func(ctx context.Context) error

// signedInvoker invokes name:live as bench/invoke does: plain net/http plus the SigV4 signature Sluice requires
// (aws-sdk-go-v2's signer, payload hash included), checking the function echoed the payload.
func signedInvoker(client *http.Client, endpoint, name string) invoker {
	signer := v4.NewSigner()
	creds := aws.Credentials{AccessKeyID: accessKey, SecretAccessKey: secretKey}
	url := endpoint + "/2015-03-31/functions/" + name + "/invocations?Qualifier=live"
	sum := sha256.Sum256(payload)
	hash := hex.EncodeToString(sum[:])
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(payload))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		if err := signer.SignHTTP(ctx, creds, req, hash, "lambda", region, time.Now()); err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case err != nil:
			return err
		case resp.StatusCode != http.StatusOK || resp.Header.Get("X-Amz-Function-Error") != "":
			return fmt.Errorf("status %d %s: %.80s", resp.StatusCode, resp.Header.Get("X-Amz-Function-Error"), body)
		case !bytes.Equal(body, payload):
			return fmt.Errorf("unexpected answer: %.80s", body)
		}
		return nil
	}
}

func httpClient(concurrency int) *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConns: 0, MaxIdleConnsPerHost: concurrency, DisableCompression: true}}
}

// loadResult is one closed-loop run: latencies of the successful invocations (sorted) and the failures.
type loadResult struct {
	lat     []time.Duration
	errs    int
	lastErr error
	elapsed time.Duration
	cpu     cpuUse
}

func (r loadResult) rate() float64 { return float64(len(r.lat)) / r.elapsed.Seconds() }

func (r loadResult) p(q float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	return r.lat[min(len(r.lat)-1, max(0, int(q*float64(len(r.lat))+0.5)-1))]
}

// runLoad drives inv with concurrency closed-loop workers until n invocations were issued or d has passed.
func runLoad(ctx context.Context, concurrency, n int, d time.Duration, inv invoker) loadResult {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var (
		issued atomic.Int64
		mu     sync.Mutex
		res    loadResult
		wg     sync.WaitGroup
	)
	start := time.Now()
	for range concurrency {
		wg.Go(func() {
			var lat []time.Duration
			var errs int
			var last error
			for ctx.Err() == nil && issued.Add(1) <= int64(n) {
				t := time.Now()
				err := inv(ctx)
				switch {
				case err == nil:
					lat = append(lat, time.Since(t))
				case ctx.Err() == nil:
					errs, last = errs+1, err
				}
			}
			mu.Lock()
			res.lat, res.errs = append(res.lat, lat...), res.errs+errs
			if last != nil {
				res.lastErr = last
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	slices.Sort(res.lat)
	return res
}
