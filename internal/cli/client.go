package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"
	"github.com/spf13/cobra"

	"github.com/sluice-dev/sluice/internal/sdkhttp"
	"github.com/sluice-dev/sluice/internal/server"
)

// clientFlags are the connection flags every client command shares.
type clientFlags struct {
	endpoint, region, dataDir string
}

func (f *clientFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.endpoint, "endpoint-url", "", "Sluice endpoint (default: AWS_ENDPOINT_URL, else the server running on --data-dir)")
	cmd.Flags().StringVar(&f.region, "region", "", "region (default: the AWS config chain, else us-east-1)")
	cmd.Flags().StringVar(&f.dataDir, "data-dir", defaultDataDir(), "data dir of a local server, used when no endpoint or credentials are configured")
}

// stsEndpoint is where STS calls go: --endpoint-url, else AWS_ENDPOINT_URL_STS, else AWS_ENDPOINT_URL.
func stsEndpoint(flag string) string {
	return firstNonEmpty(flag, os.Getenv("AWS_ENDPOINT_URL_STS"), os.Getenv("AWS_ENDPOINT_URL"))
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// awsConfig builds an SDK config from the standard chain; with nothing configured, it falls back to the local
// server on --data-dir and its root credentials, which is what a developer at the same machine wants.
func (f *clientFlags) awsConfig(ctx context.Context) (aws.Config, error) {
	opts := []func(*config.LoadOptions) error{
		// A command run at a desk or in CI is never an EC2 instance of Sluice's: without this, an empty credential
		// chain ends by asking the metadata service, which prints SDK warnings and fails with an IMDS error that
		// says nothing about what to do.
		config.WithEC2IMDSClientEnableState(imds.ClientDisabled),
		// The SDK's own log lines (retries, IMDSv1 fallback) are not for the person at the terminal; errors are.
		config.WithLogger(logging.Nop{})}
	if f.region != "" {
		opts = append(opts, config.WithRegion(f.region))
	}
	if stsURL := stsEndpoint(f.endpoint); stsURL != "" {
		// aws-sdk-go-v2 resolves credentials before AWS_ENDPOINT_URL, so its web identity provider would call the
		// real STS: give it a client for Sluice's.
		opts = append(opts, config.WithWebIdentityRoleCredentialOptions(func(o *stscreds.WebIdentityRoleOptions) {
			o.Client = sts.New(sts.Options{Region: firstNonEmpty(f.region, os.Getenv("AWS_REGION"), os.Getenv("AWS_DEFAULT_REGION"), "us-east-1"),
				BaseEndpoint: aws.String(stsURL)})
		}))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return cfg, err
	}
	// Quiet request-body closes: without them a fast local server's answer can be cut off mid-body and the SDK
	// retries a call the server already carried out (see package sdkhttp). Wrapped after loading, because the
	// loader applies AWS_CA_BUNDLE only to the SDK's own client type.
	cfg.HTTPClient = sdkhttp.Wrap(cfg.HTTPClient)
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	endpoint := f.endpoint
	if endpoint == "" && os.Getenv("AWS_ENDPOINT_URL") == "" && os.Getenv("AWS_ENDPOINT_URL_LAMBDA") == "" {
		if b, err := os.ReadFile(filepath.Join(f.dataDir, server.EndpointFile)); err == nil {
			endpoint = strings.TrimSpace(string(b))
		}
	}
	if endpoint != "" {
		cfg.BaseEndpoint = aws.String(endpoint)
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		// Credentials that were configured but do not work are an error, never a reason to fall back to root.
		for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_PROFILE"} {
			if os.Getenv(k) != "" {
				// Name the call that failed (sts:AssumeRoleWithWebIdentity): the short error line keeps only its code.
				var op *smithy.OperationError
				if errors.As(err, &op) {
					return cfg, fmt.Errorf("credentials from %s (%s:%s): %w", k, strings.ToLower(op.Service()), op.Operation(), err)
				}
				return cfg, fmt.Errorf("credentials from %s: %w", k, err)
			}
		}
		c, rerr := rootCredentials(f.dataDir)
		if errors.Is(rerr, os.ErrNotExist) {
			return cfg, noCredentialsError(f.dataDir)
		}
		if rerr != nil {
			return cfg, rerr
		}
		cfg.Credentials = credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, "")
	}
	return cfg, nil
}

// noCredentialsError says what to do when neither the AWS chain nor a local server's data dir has credentials:
// the two ways a newcomer gets some.
func noCredentialsError(dataDir string) error {
	return fmt.Errorf("no credentials: none in the environment or AWS config, and no sluice server has run on %s; "+
		"start one with `sluice serve --data-dir %s`, or run eval \"$(sluice env --data-dir DIR)\" for a server on another data dir", dataDir, dataDir)
}
