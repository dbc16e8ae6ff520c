package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/sluice-dev/sluice/bench/internal/benchiam"
	"github.com/sluice-dev/sluice/bench/internal/sluiceproc"
	"github.com/sluice-dev/sluice/internal/sdkhttp"
)

const (
	accessKey = "AKIABENCHDEPLOYBENCH"
	secretKey = "bench-deploy-secret"
	region    = "us-east-1"
	role      = benchiam.FunctionRole
)

// sluiceServer is the real `sluice serve` binary on a fresh data dir.
type sluiceServer = sluiceproc.Server

func startSluice(bin, dataDir string, args ...string) (*sluiceServer, error) {
	// SIGTERM if the harness dies: the server then destroys its sandboxes itself.
	return sluiceproc.Start(bin, dataDir, args,
		[]string{"SLUICE_ROOT_ACCESS_KEY_ID=" + accessKey, "SLUICE_ROOT_SECRET_ACCESS_KEY=" + secretKey}, childAttr(syscall.SIGTERM))
}

// clients are what a real caller uses: aws-sdk-go-v2 with SigV4 signing.
type clients struct {
	endpoint string
	invoke   *lambda.Client // for the load: retries off, so every failure is counted rather than hidden
	lambda   *lambda.Client // for control calls and the alias poller
	cw       *cloudwatch.Client
	cd       *codedeploy.Client
	iam      *iam.Client
	raw      *http.Client
}

func newClients(endpoint string, workers int) *clients {
	creds := credentials.NewStaticCredentialsProvider(accessKey, secretKey, "")
	pool := func(n int) *awshttp.BuildableClient {
		return awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
			t.MaxIdleConns = 0
			t.MaxIdleConnsPerHost = n
		})
	}
	return &clients{
		endpoint: endpoint,
		invoke: lambda.New(lambda.Options{Region: region, BaseEndpoint: aws.String(endpoint), HTTPClient: sdkhttp.Wrap(pool(workers)),
			Retryer: aws.NopRetryer{}, Credentials: creds}),
		lambda: lambda.New(lambda.Options{Region: region, BaseEndpoint: aws.String(endpoint), HTTPClient: sdkhttp.Wrap(pool(8)),
			Retryer: aws.NopRetryer{}, Credentials: creds}),
		cw:  cloudwatch.New(cloudwatch.Options{Region: region, BaseEndpoint: aws.String(endpoint), HTTPClient: pool(4), Credentials: creds}),
		cd:  codedeploy.New(codedeploy.Options{Region: region, BaseEndpoint: aws.String(endpoint), HTTPClient: pool(4), Credentials: creds}),
		iam: iam.New(iam.Options{Region: region, BaseEndpoint: aws.String(endpoint), HTTPClient: pool(2), Credentials: creds}),
		raw: &http.Client{Timeout: 30 * time.Second},
	}
}

// deploymentInfo is CodeDeploy's deploymentInfo with Sluice's extensions (sluiceTimeline, sluiceBlastRadius), which
// the SDK's typed client drops: GetDeployment is therefore read raw, with a signed request of our own.
type deploymentInfo struct {
	DeploymentID     string  `json:"deploymentId"`
	Status           string  `json:"status"`
	Creator          string  `json:"creator"`
	CreateTime       float64 `json:"createTime"`
	CompleteTime     float64 `json:"completeTime"`
	ErrorInformation *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"errorInformation"`
	RollbackInfo *struct {
		RollbackDeploymentID string `json:"rollbackDeploymentId"`
		RollbackMessage      string `json:"rollbackMessage"`
	} `json:"rollbackInfo"`
	Timeline    []timelineEntry `json:"sluiceTimeline"`
	BlastRadius *struct {
		TargetInvocations int64 `json:"targetInvocations"`
		TargetErrors      int64 `json:"targetErrors"`
	} `json:"sluiceBlastRadius"`
}

type timelineEntry struct {
	Time   float64  `json:"time"` // epoch seconds, to the millisecond
	Kind   string   `json:"kind"`
	Detail string   `json:"detail"`
	Weight *float64 `json:"weight"`
}

func (e timelineEntry) at() time.Time { return epochTime(e.Time) }

func epochTime(sec float64) time.Time {
	if sec == 0 {
		return time.Time{}
	}
	return time.UnixMilli(int64(math.Round(sec * 1000)))
}

func (d deploymentInfo) terminal() bool {
	return d.Status == "Succeeded" || d.Status == "Failed" || d.Status == "Stopped"
}

// first returns the first timeline entry of a kind (and whether there is one).
func (d deploymentInfo) first(kind string) (timelineEntry, bool) {
	for _, e := range d.Timeline {
		if e.Kind == kind {
			return e, true
		}
	}
	return timelineEntry{}, false
}

// getDeployment reads GetDeployment raw, extensions included.
func (c *clients) getDeployment(ctx context.Context, id string) (deploymentInfo, error) {
	body, _ := json.Marshal(map[string]string{"deploymentId": id})
	b, err := c.signedCall(ctx, "codedeploy", map[string]string{"X-Amz-Target": "CodeDeploy_20141006.GetDeployment",
		"Content-Type": "application/x-amz-json-1.1"}, body)
	if err != nil {
		return deploymentInfo{}, err
	}
	var out struct {
		DeploymentInfo deploymentInfo `json:"deploymentInfo"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return deploymentInfo{}, fmt.Errorf("GetDeployment answer: %w", err)
	}
	return out.DeploymentInfo, nil
}

// signedCall sends one SigV4-signed POST / and returns the body of a 200 (as internal/cli does).
func (c *clients) signedCall(ctx context.Context, service string, header map[string]string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(c.endpoint, "/")+"/", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: accessKey, SecretAccessKey: secretKey}
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), service, region, time.Now()); err != nil {
		return nil, err
	}
	resp, err := c.raw.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s %d: %s", service, resp.StatusCode, strings.TrimSpace(string(out)))
	}
	return out, nil
}

// coldStarts reads sluice_cold_starts_total from the server's Prometheus endpoint: environments started for an
// invocation, by version of the benchmark function (nil if the endpoint is not there).
func (c *clients) coldStarts(ctx context.Context) map[string]float64 {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(c.endpoint, "/")+"/metrics", nil)
	if err != nil {
		return nil
	}
	resp, err := c.raw.Do(req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return nil
	}
	out := map[string]float64{}
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "sluice_cold_starts_total{") || !strings.Contains(line, `function="`+fnName+`"`) {
			continue
		}
		_, rest, _ := strings.Cut(line, `version="`)
		version, _, _ := strings.Cut(rest, `"`)
		var v float64
		if i := strings.LastIndexByte(line, ' '); i > 0 {
			fmt.Sscan(line[i+1:], &v)
		}
		out[version] += v
	}
	return out
}

// coldStartsSince is how many cold starts each version had between two readings.
func coldStartsSince(before, after map[string]float64) map[string]int {
	if before == nil || after == nil {
		return nil
	}
	out := map[string]int{}
	for v, n := range after {
		if d := int(n - before[v]); d > 0 {
			out[v] = d
		}
	}
	return out
}
