package pack

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Spec describes one function's code, as a SAM template gives it.
type Spec struct {
	// Dir is the CodeUri: a directory, a .zip file used as is, or a single file zipped alone. Relative paths are
	// relative to the working directory.
	Dir string
	// Runtime is the Lambda runtime, e.g. "provided.al2023", "nodejs22.x", "python3.12".
	Runtime string
	// Architecture is "x86_64" or "arm64"; "" means x86_64.
	Architecture string
	// BuildMethod is the resource's Metadata.BuildMethod, e.g. "go1.x"; "" if none.
	BuildMethod string
}

// Artifact is a deployment package ready for CreateFunction or UpdateFunctionCode.
type Artifact struct {
	Zip []byte
	// Sha256 is Lambda's CodeSha256 of Zip: the SHA-256 digest in standard base64.
	Sha256 string
	// Built reports whether a Go build ran.
	Built bool
}

// ErrTooLarge is wrapped by the error Package returns for a package over Lambda's size limits.
var ErrTooLarge = errors.New("deployment package too large")

// Lambda's quotas, the same as codestore.DefaultMaxZipped and DefaultMaxUnzipped. Variables so tests can
// exercise the refusal without writing hundreds of megabytes.
var (
	maxZipped   int64 = 52428800  // 50 MiB
	maxUnzipped int64 = 262144000 // 250 MiB
)

// Package builds (if needed) and zips the code s describes. See the package documentation for what goes into
// the zip and how it is made deterministic. ctx bounds the Go build.
func Package(ctx context.Context, s Spec) (Artifact, error) {
	if s.Dir == "" {
		return Artifact{}, errors.New("no code directory (CodeUri) given")
	}
	goarch, err := goArch(s.Architecture)
	if err != nil {
		return Artifact{}, err
	}
	if s.BuildMethod != "" && !isGoBuildMethod(s.BuildMethod) {
		return Artifact{}, fmt.Errorf("%s: BuildMethod %q is not supported (only go1.x is built): build the code and point CodeUri at the result", s.Dir, s.BuildMethod)
	}
	fi, err := os.Stat(s.Dir)
	if err != nil {
		return Artifact{}, err
	}
	switch {
	case fi.IsDir():
		build, err := NeedsGoBuild(s)
		if err != nil {
			return Artifact{}, err
		}
		if build {
			b, err := buildAndZip(ctx, s.Dir, goarch)
			if err != nil {
				return Artifact{}, err
			}
			return artifact(b, true), nil
		}
		entries, err := walk(ctx, s.Dir)
		if err != nil {
			return Artifact{}, err
		}
		b, err := writeZip(s.Dir, entries)
		if err != nil {
			return Artifact{}, err
		}
		return artifact(b, false), nil

	case isGoBuildMethod(s.BuildMethod):
		return Artifact{}, fmt.Errorf("%s: BuildMethod go1.x needs CodeUri to be a directory holding a Go main package", s.Dir)

	case fi.Mode().IsRegular() && strings.EqualFold(filepath.Ext(s.Dir), ".zip"):
		b, err := readZip(s.Dir, fi.Size())
		if err != nil {
			return Artifact{}, err
		}
		return artifact(b, false), nil

	case fi.Mode().IsRegular():
		name := filepath.Base(s.Dir)
		b, err := writeZip(s.Dir, []entry{{name: name, path: s.Dir, mode: zipMode(name, fi.Mode())}})
		if err != nil {
			return Artifact{}, err
		}
		return artifact(b, false), nil
	}
	return Artifact{}, fmt.Errorf("%s: not a directory, a zip or a regular file (%s)", s.Dir, fi.Mode().Type())
}

func artifact(zip []byte, built bool) Artifact {
	sum := sha256.Sum256(zip)
	return Artifact{Zip: zip, Sha256: base64.StdEncoding.EncodeToString(sum[:]), Built: built}
}

// goArch maps Lambda's architecture names to GOARCH.
func goArch(arch string) (string, error) {
	switch arch {
	case "", "x86_64":
		return "amd64", nil
	case "arm64":
		return "arm64", nil
	}
	return "", fmt.Errorf("unknown architecture %q (want x86_64 or arm64)", arch)
}

func isGoBuildMethod(m string) bool { return strings.EqualFold(m, "go1.x") }

// readZip reads a prebuilt package, checking only what would make the upload fail anyway: that it is a zip
// and within Lambda's limits (by its declared sizes; the server checks the real ones).
func readZip(path string, size int64) ([]byte, error) {
	if size > maxZipped {
		return nil, tooLarge(path, "zipped", size, maxZipped)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > maxZipped {
		return nil, tooLarge(path, "zipped", int64(len(b)), maxZipped)
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, fmt.Errorf("%s: not a valid zip: %w", path, err)
	}
	var total uint64
	for _, f := range zr.File {
		total += f.UncompressedSize64
		if total > uint64(maxUnzipped) {
			return nil, tooLarge(path, "unzipped", int64(min(total, 1<<62)), maxUnzipped)
		}
	}
	return b, nil
}

func tooLarge(path, what string, size, limit int64) error {
	return fmt.Errorf("%s: %w: %s %s, Lambda allows at most %s", path, ErrTooLarge, humanSize(size), what, humanSize(limit))
}

// exceeded is tooLarge for when writing stopped at the limit, before the full size was known.
func exceeded(path, what string, limit int64) error {
	return fmt.Errorf("%s: %w: more than %s %s, Lambda's limit", path, ErrTooLarge, humanSize(limit), what)
}

// humanSize prints sizes the way Lambda's quotas are written (MiB), exactly below one MiB so tiny test limits
// stay readable.
func humanSize(n int64) string {
	const mib = 1 << 20
	switch {
	case n < mib:
		return fmt.Sprintf("%d bytes", n)
	case n%mib == 0:
		return fmt.Sprintf("%d MiB", n/mib)
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/mib)
}

// zipMode normalises a file's mode to the two a package needs; name is the slash path inside the zip.
func zipMode(name string, m fs.FileMode) fs.FileMode {
	if m&0o111 != 0 || name == "bootstrap" {
		return 0o755
	}
	return 0o644
}
