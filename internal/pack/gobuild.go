package pack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/build"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// BuildError is a failed go build, with what the go command printed.
type BuildError struct {
	Dir    string // where go build ran
	Output string // the go command's combined stdout and stderr
	Err    error  // how the command failed (usually an *exec.ExitError)
}

func (e *BuildError) Error() string {
	return fmt.Sprintf("go build in %s: %v\n%s", e.Dir, e.Err, strings.TrimRight(e.Output, "\n"))
}

func (e *BuildError) Unwrap() error { return e.Err }

// NeedsGoBuild reports whether Package builds s.Dir with go build: when BuildMethod is go1.x (any case), or
// when the runtime is provided.* and Dir holds a Go main package but no prebuilt bootstrap.
//
// "Holds a Go main package" means what go build would see for linux and the function's architecture:
// build constraints count, so a `//go:build ignore` generator with package main does not make a directory a
// Go function, and _test.go files are ignored. An error means Dir cannot be read, or its Go files disagree
// on the package name.
func NeedsGoBuild(s Spec) (bool, error) {
	fi, err := os.Stat(s.Dir)
	if err != nil {
		return false, err
	}
	if isGoBuildMethod(s.BuildMethod) {
		if !fi.IsDir() {
			return false, fmt.Errorf("%s: BuildMethod go1.x needs CodeUri to be a directory holding a Go main package", s.Dir)
		}
		return true, nil
	}
	if !strings.HasPrefix(s.Runtime, "provided") || !fi.IsDir() {
		return false, nil
	}
	if _, err := os.Lstat(filepath.Join(s.Dir, "bootstrap")); err == nil {
		return false, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	goarch, err := goArch(s.Architecture)
	if err != nil {
		return false, err
	}
	return isMainPackage(s.Dir, goarch)
}

// isMainPackage reports whether dir's Go files, as built for linux/goarch, form package main.
func isMainPackage(dir, goarch string) (bool, error) {
	ctxt := build.Default
	ctxt.GOOS, ctxt.GOARCH, ctxt.CgoEnabled = "linux", goarch, false
	ctxt.BuildTags = []string{"lambda.norpc"}
	pkg, err := ctxt.ImportDir(dir, 0)
	var noGo *build.NoGoError
	if errors.As(err, &noGo) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("%s: read Go package: %w", dir, err)
	}
	// A directory with only _test.go files still gets a package name; go build would find nothing to build.
	return pkg.Name == "main" && len(pkg.GoFiles) > 0, nil
}

// buildAndZip builds the main package in dir and zips the binary as bootstrap.
func buildAndZip(ctx context.Context, dir, goarch string) ([]byte, error) {
	tmp, err := os.MkdirTemp("", "sluice-pack-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "bootstrap")
	if err := goBuild(ctx, dir, goarch, bin); err != nil {
		return nil, err
	}
	fi, err := os.Stat(bin)
	if err != nil {
		return nil, err
	}
	if fi.Size() > maxUnzipped {
		return nil, tooLarge(dir, "unzipped", fi.Size(), maxUnzipped)
	}
	return writeZip(dir, []entry{{name: "bootstrap", path: bin, mode: 0o755}})
}

// goBuild runs go build in dir for linux/goarch, writing the binary to out. Every flag that could vary
// between machines or runs is pinned so the binary is reproducible.
func goBuild(ctx context.Context, dir, goarch, out string) error {
	gocmd, err := goCommand()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, gocmd, "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w",
		"-tags", "lambda.norpc", "-o", out, ".")
	cmd.Dir = dir
	// Later entries win, so these override the user's own GOOS/GOARCH/CGO_ENABLED and keep the rest.
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+goarch, "CGO_ENABLED=0")
	var output bytes.Buffer
	cmd.Stdout, cmd.Stderr = &output, &output
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("go build in %s: %w", dir, ctx.Err())
		}
		return &BuildError{Dir: dir, Output: output.String(), Err: err}
	}
	return nil
}

// goCommand finds the go command: an explicitly set GOROOT names the toolchain the user means; otherwise
// whichever go is on PATH.
func goCommand() (string, error) {
	exe := "go"
	if runtime.GOOS == "windows" {
		exe += ".exe"
	}
	if root := os.Getenv("GOROOT"); root != "" {
		p := filepath.Join(root, "bin", exe)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	p, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("building a Go function needs the go command: %w", err)
	}
	return p, nil
}
