// Package cli holds the `sluice` commands for humans. Except for `serve`, every command is a client of the
// server's AWS-compatible API (standard credential chain, AWS_ENDPOINT_URL), never a back door into its store.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
)

// Version is set at build time with -ldflags "-X github.com/sluice-dev/sluice/internal/cli.Version=…".
var Version = "dev"

// Execute runs the command line and returns the process exit code.
func Execute(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := &cobra.Command{
		Use:           "sluice",
		Short:         "Safe, self-hosted Lambda deployments: versions, aliases, canaries, alarms, rollback",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	var debug bool
	root.PersistentFlags().BoolVar(&debug, "debug", false, "on failure, print the whole error chain (SDK operation, HTTP status, request ID)")
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(serveCommand(), envCommand(), versionCommand(), statusCommand(), dlqCommand(), metricsCommand(), logsCommand(), deploymentsCommand(),
		deployCommand(), diffCommand(), rollbackCommand(), stackCommand())
	if err := root.ExecuteContext(ctx); err != nil {
		// The one place a failed command is reported (cobra's own printing is silenced above).
		if debug {
			fmt.Fprintln(stderr, "sluice:", err)
		} else {
			fmt.Fprintln(stderr, "sluice:", errorLine(err))
		}
		var exit *ExitError
		if errors.As(err, &exit) {
			return exit.Code
		}
		return 1
	}
	return 0
}

// defaultDataDir is where state lives unless --data-dir or SLUICE_DATA_DIR says otherwise.
func defaultDataDir() string {
	if d := os.Getenv("SLUICE_DATA_DIR"); d != "" {
		return d
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".sluice")
	}
	return ".sluice"
}

func versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the sluice version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintln(cmd.OutOrStdout(), "sluice", Version)
		},
	}
}
