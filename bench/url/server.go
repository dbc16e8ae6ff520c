package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/sluice-dev/sluice/bench/internal/benchiam"
	"github.com/sluice-dev/sluice/bench/internal/sluiceproc"
	"github.com/sluice-dev/sluice/internal/sdkhttp"
)

const (
	accessKey = "AKIABENCHURLBENCHURL"
	secretKey = "bench-url-secret"
	region    = "us-east-1"
)

// startServer runs the real `sluice serve` on a fresh data dir, with deployments shortened by -time-scale.
func startServer(bin, dataDir string, cfg config) (*sluiceproc.Server, error) {
	args := append([]string{"--deploy-time-scale", strconv.FormatFloat(cfg.timeScale, 'f', -1, 64)}, cfg.serveArgs...)
	// SIGTERM if the harness dies: the server then destroys its sandboxes itself.
	return sluiceproc.Start(bin, dataDir, args,
		[]string{"SLUICE_ROOT_ACCESS_KEY_ID=" + accessKey, "SLUICE_ROOT_SECRET_ACCESS_KEY=" + secretKey}, childAttr())
}

// clients are what a real caller uses for the control plane: aws-sdk-go-v2 with SigV4 signing.
type clients struct {
	endpoint string
	addr     string // host:port of the API listener, which function URLs are served on too
	lambda   *lambda.Client
	cw       *cloudwatch.Client
	cd       *codedeploy.Client
	iam      *iam.Client
}

func newClients(endpoint string) *clients {
	creds := credentials.NewStaticCredentialsProvider(accessKey, secretKey, "")
	pool := func(n int) *awshttp.BuildableClient {
		return awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
			t.MaxIdleConns = 0
			t.MaxIdleConnsPerHost = n
		})
	}
	u, _ := url.Parse(endpoint)
	return &clients{
		endpoint: endpoint, addr: u.Host,
		lambda: lambda.New(lambda.Options{Region: region, BaseEndpoint: aws.String(endpoint), HTTPClient: sdkhttp.Wrap(pool(4)),
			Retryer: aws.NopRetryer{}, Credentials: creds}),
		cw:  cloudwatch.New(cloudwatch.Options{Region: region, BaseEndpoint: aws.String(endpoint), HTTPClient: pool(2), Credentials: creds}),
		cd:  codedeploy.New(codedeploy.Options{Region: region, BaseEndpoint: aws.String(endpoint), HTTPClient: pool(2), Credentials: creds}),
		iam: iam.New(iam.Options{Region: region, BaseEndpoint: aws.String(endpoint), HTTPClient: pool(2), Credentials: creds}),
	}
}

// setupRoles creates the functions' execution role and the deployment groups' service role: Sluice, as AWS, refuses
// a function whose role Lambda cannot assume and a group whose role CodeDeploy cannot.
func setupRoles(ctx context.Context, c *clients) error {
	if err := benchiam.CreateFunctionRole(ctx, c.lambda); err != nil {
		return err
	}
	return benchiam.CreateCodeDeployRole(ctx, c.iam)
}

// webFunction is a function with published versions of ./fn (one per environment, in order: version i+1 gets
// envs[i]), alias live on version 1, and a NONE function URL on live with the two statements AWS requires for
// the public to call it (README "Serve HTTP"). It returns the URL.
func webFunction(ctx context.Context, c *clients, name string, pkg []byte, tags map[string]string, envs ...map[string]string) (string, error) {
	l := c.lambda
	if _, err := l.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String(name), Role: aws.String(benchiam.FunctionRole),
		Runtime: types.RuntimeProvidedal2023, Handler: aws.String("bootstrap"), Code: &types.FunctionCode{ZipFile: pkg},
		Environment: &types.Environment{Variables: envs[0]}, Tags: tags}); err != nil {
		return "", err
	}
	if err := waitActive(ctx, l, name); err != nil {
		return "", err
	}
	for i, env := range envs {
		if i > 0 {
			if _, err := l.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String(name),
				Environment: &types.Environment{Variables: env}}); err != nil {
				return "", err
			}
			if err := waitUpdated(ctx, l, name); err != nil {
				return "", err
			}
		}
		out, err := l.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String(name)})
		if err != nil {
			return "", err
		}
		if want := strconv.Itoa(i + 1); aws.ToString(out.Version) != want {
			return "", fmt.Errorf("%s: published version %s, want %s", name, aws.ToString(out.Version), want)
		}
	}
	if _, err := l.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String(name), Name: aws.String("live"),
		FunctionVersion: aws.String("1")}); err != nil {
		return "", err
	}
	out, err := l.CreateFunctionUrlConfig(ctx, &lambda.CreateFunctionUrlConfigInput{FunctionName: aws.String(name),
		Qualifier: aws.String("live"), AuthType: types.FunctionUrlAuthTypeNone})
	if err != nil {
		return "", err
	}
	for _, grant := range []*lambda.AddPermissionInput{
		{FunctionName: aws.String(name), Qualifier: aws.String("live"), StatementId: aws.String("url"),
			Action: aws.String("lambda:InvokeFunctionUrl"), Principal: aws.String("*"), FunctionUrlAuthType: types.FunctionUrlAuthTypeNone},
		{FunctionName: aws.String(name), Qualifier: aws.String("live"), StatementId: aws.String("invoke"),
			Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("*"), InvokedViaFunctionUrl: aws.Bool(true)},
	} {
		if _, err := l.AddPermission(ctx, grant); err != nil {
			return "", err
		}
	}
	return aws.ToString(out.FunctionUrl), nil
}

func waitActive(ctx context.Context, c *lambda.Client, name string) error {
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

// urlClient sends requests for a function URL's host to the server's address, whatever the host resolves to, as
// curl --resolve does. It keeps up to conns idle connections.
func urlClient(addr string, conns int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 0
	t.MaxIdleConnsPerHost = conns
	dial := t.DialContext
	t.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) { return dial(ctx, network, addr) }
	return &http.Client{Transport: t, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}
