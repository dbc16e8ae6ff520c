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
	"regexp"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// Version is set at build time with -ldflags "-X github.com/sluice-dev/sluice/internal/cli.Version=…"; otherwise
// `sluice version` takes the module version and the commit from the build info Go embeds.
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
	root.AddCommand(serveCommand(), clusterCommand(), uiCommand(), envCommand(), caCommand(), devOIDCCommand(), versionCommand(), statusCommand(), dlqCommand(), metricsCommand(), logsCommand(), deploymentsCommand(),
		deployCommand(), diffCommand(), rollbackCommand(), stackCommand())
	if err := root.ExecuteContext(ctx); err != nil {
		// The one place a failed command is reported (cobra's own printing is silenced above).
		if debug {
			fmt.Fprintln(stderr, "sluice:", debugLine(err))
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
			info, _ := debug.ReadBuildInfo()
			fmt.Fprintln(cmd.OutOrStdout(), "sluice", versionString(Version, info))
		},
	}
}

// pseudoVersion matches the versions Go gives commits with no release tag (v0.0.0-20240506070809-0123456789ab).
var pseudoVersion = regexp.MustCompile(`-(\d+\.)?\d{14}-[0-9a-f]{12}(\+dirty)?$`)

// versionString names the build: the release (set by -ldflags, or the module version of `go install …@v1.2.3`),
// else "dev"; then, when Go recorded them, the commit, whether the tree had uncommitted changes, and the commit's
// time — "dev (0123456789ab, modified, 2024-05-06T07:08:09Z)" for a local build.
func versionString(version string, info *debug.BuildInfo) string {
	if info == nil {
		return version
	}
	if m := info.Main.Version; version == "dev" && m != "" && m != "(devel)" && !pseudoVersion.MatchString(m) {
		version = m
	}
	var details []string
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	if rev := settings["vcs.revision"]; rev != "" {
		details = append(details, rev[:min(12, len(rev))])
	}
	if settings["vcs.modified"] == "true" {
		details = append(details, "modified")
	}
	if t := settings["vcs.time"]; t != "" {
		details = append(details, t)
	}
	if len(details) == 0 {
		return version
	}
	return version + " (" + strings.Join(details, ", ") + ")"
}
