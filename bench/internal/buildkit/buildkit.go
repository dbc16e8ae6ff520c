// Package buildkit builds what the benchmark harnesses measure: the module's binaries and functions, and the
// deployment package of a bootstrap; and it says which commit (and uncommitted changes) a run measured.
package buildkit

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ModuleRoot finds the Sluice module's directory, so the harness builds the right code from any working dir.
func ModuleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("run the harness inside the sluice module (go run ./bench/...)")
	}
	return filepath.Dir(mod), nil
}

// GoBuild builds pkg (relative to the module root) into out. The function is built static (CGO_ENABLED=0), as
// a provided.al2023 bootstrap is.
func GoBuild(ctx context.Context, root, pkg, out string, static bool) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Dir = root
	cmd.Env = os.Environ()
	if static {
		cmd.Env = append(cmd.Env, "CGO_ENABLED=0")
	}
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
	}
	return nil
}

// ZipBootstrap packages a bootstrap binary as a provided.al2023 deployment package.
func ZipBootstrap(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// SourceState names the commit the working tree is at and whether it has uncommitted changes: the server is
// being edited while it is measured (by others too), so a number must say which code it belongs to.
func SourceState(ctx context.Context, root string) string {
	head, err := exec.CommandContext(ctx, "git", "-C", root, "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "an unknown revision (no git)"
	}
	state := "commit " + strings.TrimSpace(string(head))
	if st, err := exec.CommandContext(ctx, "git", "-C", root, "status", "--porcelain", "--", "cmd", "internal", "go.mod", "go.sum").Output(); err == nil && len(st) > 0 {
		n := len(strings.Split(strings.TrimSpace(string(st)), "\n"))
		state += fmt.Sprintf(" plus uncommitted changes to the server (%d files under cmd/, internal/, go.mod)", n)
	} else if err == nil {
		state += " (no uncommitted changes to the server: cmd/, internal/, go.mod)"
	}
	return state
}

// Sluice is the server binary a harness measures: given (a path from the command line, which then names what was
// measured) or else built from the module into dir. source says which code it is.
func Sluice(ctx context.Context, root, dir, given string) (bin, source string, err error) {
	if given != "" {
		return given, given, nil
	}
	bin = filepath.Join(dir, "sluice")
	if err := GoBuild(ctx, root, "./cmd/sluice", bin, false); err != nil {
		return "", "", err
	}
	return bin, SourceState(ctx, root), nil
}

// Function builds pkg as a static bootstrap at out and returns its deployment package.
func Function(ctx context.Context, root, pkg, out string) ([]byte, error) {
	if err := GoBuild(ctx, root, pkg, out, true); err != nil {
		return nil, err
	}
	return ZipBootstrap(out)
}

// Workspace is a harness's temporary directory, with the sluice binary it measures built (or named) there.
type Workspace struct {
	Dir, Root string
	// Bin is the sluice binary; Source says which code it is (see Sluice).
	Bin, Source string
}

// NewWorkspace makes a temporary directory named after prefix and provides the sluice binary there: given (a
// prebuilt binary) or built from the module. Close removes the directory.
func NewWorkspace(ctx context.Context, prefix, given string) (*Workspace, error) {
	root, err := ModuleRoot(ctx)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		return nil, err
	}
	w := &Workspace{Dir: dir, Root: root}
	if w.Bin, w.Source, err = Sluice(ctx, root, dir, given); err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

// Function builds the module's package pkg as the static bootstrap of a function named name in the workspace and
// returns its deployment package.
func (w *Workspace) Function(ctx context.Context, pkg, name string) ([]byte, error) {
	return Function(ctx, w.Root, pkg, filepath.Join(w.Dir, name, "bootstrap"))
}

// Close removes the workspace.
func (w *Workspace) Close() { os.RemoveAll(w.Dir) }
