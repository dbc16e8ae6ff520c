package cli

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sluice-dev/sluice/internal/auth"
	"github.com/sluice-dev/sluice/internal/server"
)

func envCommand() *cobra.Command {
	var dataDir, region string
	cmd := &cobra.Command{
		Use:   "env",
		Short: "Print export lines pointing AWS clients at the server running on a data dir",
		Long: "Prints AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_REGION for the server running on\n" +
			"--data-dir, so that `eval \"$(sluice env)\"` makes the AWS CLI, boto3 and the SDKs talk to it.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			endpoint, err := os.ReadFile(filepath.Join(dataDir, server.EndpointFile))
			if err != nil {
				return fmt.Errorf("no server is running on %s (start one with `sluice serve --data-dir %s`)", dataDir, dataDir)
			}
			url := strings.TrimSpace(string(endpoint))
			if !healthy(url) {
				return fmt.Errorf("the server recorded in %s (%s) is not answering; is `sluice serve --data-dir %s` running?", dataDir, url, dataDir)
			}
			creds, err := rootCredentials(dataDir)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "export AWS_ENDPOINT_URL=%s\n", url)
			fmt.Fprintf(out, "export AWS_ACCESS_KEY_ID=%s\n", creds.AccessKeyID)
			fmt.Fprintf(out, "export AWS_SECRET_ACCESS_KEY=%s\n", creds.SecretAccessKey)
			fmt.Fprintf(out, "export AWS_REGION=%s\n", region)
			// AWS CLI v1 and boto3 read AWS_DEFAULT_REGION; the SDKs and CLI v2 read AWS_REGION.
			fmt.Fprintf(out, "export AWS_DEFAULT_REGION=%s\n", region)
			return nil
		},
	}
	cmd.Flags().StringVar(&dataDir, "data-dir", defaultDataDir(), "the server's data directory (env SLUICE_DATA_DIR)")
	cmd.Flags().StringVar(&region, "region", "us-east-1", "the server's region")
	return cmd
}

// rootCredentials finds the root credentials the server uses: the environment's, else the data dir's file.
func rootCredentials(dataDir string) (auth.RootCredentials, error) {
	if id, secret := os.Getenv(auth.EnvRootAccessKeyID), os.Getenv(auth.EnvRootSecretAccessKey); id != "" && secret != "" {
		return auth.RootCredentials{AccessKeyID: id, SecretAccessKey: secret}, nil
	}
	c, err := auth.ReadRootFile(dataDir)
	if err != nil {
		return c, fmt.Errorf("read root credentials in %s: %w", dataDir, err)
	}
	return c, nil
}

// healthy reports whether a Sluice server answers its health check at url.
func healthy(url string) bool {
	client := http.Client{Timeout: 2 * time.Second}
	resp, err := client.Get(url + "/_sluice/health")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}
