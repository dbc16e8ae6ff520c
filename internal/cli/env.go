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
	"github.com/sluice-dev/sluice/internal/certfile"
	"github.com/sluice-dev/sluice/internal/server"
	"github.com/sluice-dev/sluice/internal/tlsca"
)

func envCommand() *cobra.Command {
	var dataDir, region string
	var proxy bool
	cmd := &cobra.Command{
		Use:   "env",
		Short: "Print export lines pointing AWS clients at the server running on a data dir",
		Long: "Prints AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_REGION for the server running on\n" +
			"--data-dir, so that `eval \"$(sluice env)\"` makes the AWS CLI, boto3 and the SDKs talk to it.\n\n" +
			"With --proxy, for tools that take no endpoint URL, it prints HTTPS_PROXY (the server, which answers for the\n" +
			"AWS endpoints it serves and refuses every other host) and the CA file those clients must trust, in the\n" +
			"variables they read (AWS_CA_BUNDLE, NODE_EXTRA_CA_CERTS, HTTPS_CAFILE) instead of AWS_ENDPOINT_URL.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			endpoint, err := os.ReadFile(filepath.Join(dataDir, server.EndpointFile))
			if err != nil {
				return fmt.Errorf("no server is running on %s (start one with `sluice serve --data-dir %s`)", dataDir, dataDir)
			}
			url := strings.TrimSpace(string(endpoint))
			if err := healthy(url); err != nil {
				return fmt.Errorf("the server recorded in %s (%s) is not answering (%w); is `sluice serve --data-dir %s` running?", dataDir, url, err, dataDir)
			}
			creds, err := rootCredentials(dataDir)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if proxy {
				ca := filepath.Join(dataDir, server.ProxyCADir, tlsca.CertFile)
				if _, err := os.Stat(ca); err != nil {
					return fmt.Errorf("the server on %s has no proxy CA (%w); is it older than this sluice?", dataDir, err)
				}
				fmt.Fprintf(out, "export HTTPS_PROXY=%s\n", url)
				for _, name := range caBundleVariables {
					fmt.Fprintf(out, "export %s=%s\n", name, ca)
				}
			} else {
				fmt.Fprintf(out, "export AWS_ENDPOINT_URL=%s\n", url)
			}
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
	cmd.Flags().BoolVar(&proxy, "proxy", false, "point clients at the server as their HTTPS proxy for AWS endpoints instead of setting AWS_ENDPOINT_URL")
	return cmd
}

// caBundleVariables are the environment variables naming a CA file that AWS clients read: the AWS CLI, boto3
// and the Go SDK (AWS_CA_BUNDLE), Node.js (NODE_EXTRA_CA_CERTS: added to its own roots, so npm keeps working)
// and the Serverless Framework (HTTPS_CAFILE).
var caBundleVariables = []string{"AWS_CA_BUNDLE", "NODE_EXTRA_CA_CERTS", "HTTPS_CAFILE"}

func caCommand() *cobra.Command {
	var dataDir string
	var printPEM bool
	cmd := &cobra.Command{
		Use:   "ca",
		Short: "Print the path of the CA certificate the server's proxy for AWS endpoints presents",
		Long: "`sluice serve` is also an HTTPS proxy for the AWS endpoints it serves (lambda.<region>.amazonaws.com,\n" +
			"<bucket>.s3.amazonaws.com, …), for tools that take no endpoint URL but honour HTTPS_PROXY. It presents\n" +
			"certificates signed by a CA it keeps in its data dir, valid for amazonaws.com hosts only; clients must trust\n" +
			"that CA's file (AWS_CA_BUNDLE, NODE_EXTRA_CA_CERTS, HTTPS_CAFILE). This prints its path, or with --pem the\n" +
			"certificate itself.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path := filepath.Join(dataDir, server.ProxyCADir, tlsca.CertFile)
			pem, err := os.ReadFile(path)
			if err != nil {
				return fmt.Errorf("no proxy CA in %s yet: `sluice serve --data-dir %s` makes it", dataDir, dataDir)
			}
			if printPEM {
				_, err = cmd.OutOrStdout().Write(pem)
				return err
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), path)
			return err
		},
	}
	cmd.Flags().StringVar(&dataDir, "data-dir", defaultDataDir(), "the server's data directory (env SLUICE_DATA_DIR)")
	cmd.Flags().BoolVar(&printPEM, "pem", false, "print the certificate in PEM instead of its path")
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

// healthy checks that a Sluice server answers its health check at url (an https one trusted through the system's
// roots and AWS_CA_BUNDLE, as the AWS clients `sluice env` sets up trust it).
func healthy(url string) error {
	client, err := certfile.HTTPClient(os.Getenv(certfile.EnvCABundle), 2*time.Second)
	if err != nil {
		return err
	}
	resp, err := client.Get(url + "/_sluice/health")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("health check: %s", resp.Status)
	}
	return nil
}
