package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// installRIE builds the AWS Lambda Runtime Interface Emulator from the Go module proxy into dir (never into the
// repository); the module has no tagged releases, so @latest is its newest commit.
func installRIE(ctx context.Context, dir string) (bin, version string, err error) {
	const pkg = "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@latest"
	cmd := exec.CommandContext(ctx, "go", "install", pkg)
	cmd.Dir = dir // outside the sluice module: @latest is resolved on its own, go.mod is untouched
	cmd.Env = append(os.Environ(), "GOBIN="+dir)
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", "", fmt.Errorf("go install %s: %v\n%s", pkg, err, b)
	}
	bin = filepath.Join(dir, "aws-lambda-rie")
	out, err := exec.CommandContext(ctx, "go", "version", "-m", bin).Output()
	if err == nil {
		for _, line := range strings.Split(string(out), "\n") {
			if f := strings.Fields(line); len(f) >= 3 && f[0] == "mod" {
				version = f[2]
			}
		}
	}
	return bin, version, nil
}
