package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/sluice-dev/sluice/internal/stack"
)

// uiCommand prints a sign-in link to the web console, obtained with the caller's own credentials: the browser that
// opens it and presses its "Sign in" button acts as that IAM identity.
func uiCommand() *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:   "ui",
		Short: "Print a single-use link that signs a browser in to the web console as you (valid for a minute)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			cfg, err := cf.awsConfig(ctx)
			if err != nil {
				return err
			}
			link, expires, err := stack.NewClient(cfg).CreateSignInLink(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), link)
			fmt.Fprintf(cmd.ErrOrStderr(), "Open it in a browser within %s and press Sign in; it signs in once (opening it alone, as a link preview does, uses nothing up).\n", time.Until(expires).Round(time.Second))
			return nil
		},
	}
	cf.register(cmd)
	return cmd
}
