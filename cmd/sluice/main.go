// Command sluice is the whole Sluice platform in one binary: `sluice serve` runs the server, the other
// subcommands are clients of its API.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/sluice-dev/sluice/internal/cli"
	"github.com/sluice-dev/sluice/internal/sandbox"
)

func main() {
	// A sandboxed function process starts as a re-execution of this binary: set it up and exec the function.
	sandbox.MaybeRunInit()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Execute(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
