package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/sluice-dev/sluice/internal/oidc/oidctest"
)

// devOIDCRefresh is how often dev-oidc writes a fresh token: GitHub-shaped tokens live five minutes.
const devOIDCRefresh = time.Minute

// devOIDCCommand serves a development OpenID Connect issuer on loopback and keeps a GitHub-shaped token for a
// repository and ref in a file, so the keyless flow (AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE) can be tried on one
// machine. It signs whatever it is asked to, so it refuses any address but loopback.
func devOIDCCommand() *cobra.Command {
	var repo, ref, listen, tokenFile string
	cmd := &cobra.Command{
		Use:   "dev-oidc --repo OWNER/NAME",
		Short: "Development only: a loopback OIDC issuer minting GitHub-shaped tokens, to try keyless CI locally",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !strings.Contains(repo, "/") {
				return fmt.Errorf("--repo must be OWNER/NAME, got %q", repo)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runDevOIDC(ctx, cmd.OutOrStdout(), listen, repo, ref, tokenFile, devOIDCRefresh)
		},
	}
	cmd.Flags().StringVar(&repo, "repo", "", "the repository the tokens name (OWNER/NAME)")
	cmd.Flags().StringVar(&ref, "ref", "refs/heads/main", "the git ref the tokens name")
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:9500", "loopback address of the issuer (its URL is http://ADDRESS)")
	cmd.Flags().StringVar(&tokenFile, "token-file", "web-identity-token", "where the current token is kept (AWS_WEB_IDENTITY_TOKEN_FILE)")
	return cmd
}

// devOIDC is a running development issuer and the token file it keeps.
type devOIDC struct {
	issuer          *oidctest.Issuer
	repo, ref, path string
}

// startDevOIDC starts the issuer on listen and writes a first token.
func startDevOIDC(listen, repo, ref, tokenFile string) (*devOIDC, error) {
	path, err := filepath.Abs(tokenFile)
	if err != nil {
		return nil, err
	}
	issuer, err := oidctest.StartOn(listen)
	if err != nil {
		return nil, err
	}
	d := &devOIDC{issuer: issuer, repo: repo, ref: ref, path: path}
	if err := d.writeToken(); err != nil {
		issuer.Close()
		return nil, err
	}
	return d, nil
}

// writeToken replaces the token file with a fresh token; a reader never sees half a token.
func (d *devOIDC) writeToken() error {
	tmp := d.path + ".tmp"
	if err := os.WriteFile(tmp, []byte(d.issuer.Sign(d.issuer.GitHubClaims(d.repo, d.ref))), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, d.path)
}

// instructions say how to register and trust the issuer and where the token is.
func (d *devOIDC) instructions(out io.Writer) {
	url, host, aud := d.issuer.URL, strings.TrimPrefix(d.issuer.URL, "http://"), oidctest.Audience
	fmt.Fprintf(out, `development OIDC issuer %s — for trying keyless CI on this machine only; it signs anything
tokens for repo:%s:ref:%s (audience %s) are kept fresh in %s

register it once:  aws iam create-open-id-connect-provider --url %s --client-id-list %s
trust it in a role: Principal {"Federated": "arn:aws:iam::ACCOUNT:oidc-provider/%s"},
                    Condition StringEquals "%s:aud" = "%s", "%s:sub" = "repo:%s:ref:%s"
then:              export AWS_ROLE_ARN=arn:aws:iam::ACCOUNT:role/ROLE AWS_WEB_IDENTITY_TOKEN_FILE=%s
`, url, d.repo, d.ref, aud, d.path, url, aud, host, host, aud, host, d.repo, d.ref, d.path)
}

// runDevOIDC serves the issuer until ctx ends, rewriting the token file every refresh.
func runDevOIDC(ctx context.Context, out io.Writer, listen, repo, ref, tokenFile string, refresh time.Duration) error {
	d, err := startDevOIDC(listen, repo, ref, tokenFile)
	if err != nil {
		return err
	}
	defer d.issuer.Close()
	d.instructions(out)
	t := time.NewTicker(refresh)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := d.writeToken(); err != nil {
				return err
			}
		}
	}
}
