package pack

import (
	"archive/zip"
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNeedsGoBuild(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		spec    Spec // Dir is filled in
		want    bool
		wantErr string
	}{
		{"GoBuildMethod", map[string]string{"app.js": ""}, Spec{BuildMethod: "go1.x"}, true, ""},
		{"GoBuildMethodAnyCase", map[string]string{"main.go": "package main"}, Spec{Runtime: "provided.al2", BuildMethod: "GO1.X"}, true, ""},
		{"ProvidedMain", map[string]string{"main.go": "package main\n\nfunc main() {}\n"}, Spec{Runtime: "provided.al2023"}, true, ""},
		{"ProvidedMainArm", map[string]string{"main.go": "package main"}, Spec{Runtime: "provided.al2023", Architecture: "arm64"}, true, ""},
		{"ProvidedMainWithComments", map[string]string{"handler.go": "// Copyright\n\n// Package main is.\npackage main\n"}, Spec{Runtime: "provided"}, true, ""},
		{"PrebuiltBootstrap", map[string]string{"main.go": "package main", "bootstrap": "ELF"}, Spec{Runtime: "provided.al2023"}, false, ""},
		{"Library", map[string]string{"lib.go": "package orders"}, Spec{Runtime: "provided.al2023"}, false, ""},
		{"MainOnlyInSubdir", map[string]string{"cmd/fn/main.go": "package main"}, Spec{Runtime: "provided.al2023"}, false, ""},
		{"IgnoredGenerator", map[string]string{"gen.go": "//go:build ignore\n\npackage main", "lib.go": "package orders"}, Spec{Runtime: "provided.al2023"}, false, ""},
		{"OnlyIgnoredGenerator", map[string]string{"gen.go": "//go:build ignore\n\npackage main"}, Spec{Runtime: "provided.al2023"}, false, ""},
		{"WindowsOnlyMain", map[string]string{"main_windows.go": "package main"}, Spec{Runtime: "provided.al2023"}, false, ""},
		{"TestFileOnly", map[string]string{"main_test.go": "package main"}, Spec{Runtime: "provided.al2023"}, false, ""},
		{"NoGoFiles", map[string]string{"bootstrap.sh": "#!/bin/sh"}, Spec{Runtime: "provided.al2023"}, false, ""},
		{"NotProvided", map[string]string{"main.go": "package main"}, Spec{Runtime: "nodejs22.x"}, false, ""},
		{"MixedPackages", map[string]string{"main.go": "package main", "lib.go": "package orders"}, Spec{Runtime: "provided.al2023"}, false, "read Go package"},
		{"BadArchitecture", map[string]string{"main.go": "package main"}, Spec{Runtime: "provided.al2023", Architecture: "x86"}, false, "unknown architecture"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, data := range tt.files {
				p := filepath.Join(dir, filepath.FromSlash(name))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			spec := tt.spec
			spec.Dir = dir
			got, err := NeedsGoBuild(spec)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("NeedsGoBuild = %v, want %v", got, tt.want)
			}
		})
	}
}

// buildTestdata packages testdata/hello, a real aws-lambda-go function built from this module.
func buildTestdata(t *testing.T, arch string) Artifact {
	t.Helper()
	art, err := Package(context.Background(), Spec{Dir: filepath.Join("testdata", "hello"), Runtime: "provided.al2023", Architecture: arch})
	if err != nil {
		t.Fatal(err)
	}
	return art
}

// checkBootstrap checks a Go artifact holds exactly an executable bootstrap for linux/machine, and returns
// the binary.
func checkBootstrap(t *testing.T, art Artifact, machine elf.Machine) []byte {
	t.Helper()
	if !art.Built {
		t.Error("Built = false after a Go build")
	}
	zr, err := zip.NewReader(bytes.NewReader(art.Zip), int64(len(art.Zip)))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != 1 || zr.File[0].Name != "bootstrap" || zr.File[0].Mode() != 0o755 {
		t.Fatalf("zip holds %v, want just bootstrap 0755", zr.File)
	}
	rc, err := zr.File[0].Open()
	if err != nil {
		t.Fatal(err)
	}
	bin, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.NewFile(bytes.NewReader(bin))
	if err != nil {
		t.Fatalf("bootstrap is not an ELF binary: %v", err)
	}
	if f.Machine != machine {
		t.Errorf("bootstrap is for %v, want %v", f.Machine, machine)
	}
	if f.Section(".symtab") != nil {
		t.Error("bootstrap has a symbol table: -ldflags=-s was not applied")
	}
	return bin
}

// Ensure an unchanged main package rebuilds to the same CodeSha256, so redeploying publishes nothing new.
func TestPackageGoBuildReproducible(t *testing.T) {
	first := buildTestdata(t, "")
	checkBootstrap(t, first, elf.EM_X86_64)
	second := buildTestdata(t, "x86_64")
	if first.Sha256 != second.Sha256 {
		t.Errorf("rebuild changed Sha256: %s then %s", first.Sha256, second.Sha256)
	}
}

// writeModule writes a dependency-free main module into dir.
func writeModule(t *testing.T, dir, main string) {
	t.Helper()
	for name, data := range map[string]string{"go.mod": "module example.com/fn\n\ngo 1.26\n", "main.go": main} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// Ensure where the source lives does not leak into the binary (-trimpath): two checkouts at different paths
// give the same zip, and neither path appears in it.
func TestPackageGoBuildPathIndependent(t *testing.T) {
	const main = "package main\n\nimport \"os\"\n\nfunc main() { os.Stdout.WriteString(\"hi\\n\") }\n"
	a := t.TempDir()
	b := filepath.Join(t.TempDir(), "elsewhere", "deeper")
	if err := os.MkdirAll(b, 0o755); err != nil {
		t.Fatal(err)
	}
	writeModule(t, a, main)
	writeModule(t, b, main)
	var sums []string
	for _, dir := range []string{a, b} {
		art, err := Package(context.Background(), Spec{Dir: dir, Runtime: "provided.al2023", BuildMethod: "go1.x"})
		if err != nil {
			t.Fatal(err)
		}
		if bin := checkBootstrap(t, art, elf.EM_X86_64); bytes.Contains(bin, []byte(dir)) {
			t.Errorf("the binary built in %s contains that path", dir)
		}
		sums = append(sums, art.Sha256)
	}
	if sums[0] != sums[1] {
		t.Errorf("same source at two paths gave %s and %s", sums[0], sums[1])
	}
}

func TestPackageGoBuildArm64(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles the standard library the first time")
	}
	checkBootstrap(t, buildTestdata(t, "arm64"), elf.EM_AARCH64)
}

func TestPackageGoBuildError(t *testing.T) {
	dir := t.TempDir()
	writeModule(t, dir, "package main\n\nfunc main() { undefinedThing() }\n")
	_, err := Package(context.Background(), Spec{Dir: dir, Runtime: "provided.al2023"})
	var be *BuildError
	if !errors.As(err, &be) {
		t.Fatalf("err = %v (%T), want *BuildError", err, err)
	}
	if be.Dir != dir || !strings.Contains(be.Output, "undefined: undefinedThing") {
		t.Errorf("BuildError{Dir: %q, Output: %q}, want the compiler's complaint", be.Dir, be.Output)
	}
	if !strings.Contains(err.Error(), "undefined: undefinedThing") {
		t.Errorf("Error() = %q, want the compiler output in it", err)
	}
}

func TestPackageGoBuildCancelled(t *testing.T) {
	dir := t.TempDir()
	writeModule(t, dir, "package main\n\nfunc main() {}\n")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Package(ctx, Spec{Dir: dir, Runtime: "provided.al2023"})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}
