package pack

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/codestore"
)

// file is one file of a test tree.
type file struct {
	name string // slash path
	data string
	mode fs.FileMode
}

// writeTree creates files under dir in the order given, each with its own mtime.
func writeTree(t *testing.T, dir string, files []file, mtime time.Time) {
	t.Helper()
	for i, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f.data), 0o600); err != nil {
			t.Fatal(err)
		}
		// Chmod after writing: WriteFile's mode is filtered by the umask, and the test wants exact modes.
		if err := os.Chmod(p, f.mode); err != nil {
			t.Fatal(err)
		}
		mt := mtime.Add(time.Duration(i) * time.Hour)
		if err := os.Chtimes(p, mt, mt); err != nil {
			t.Fatal(err)
		}
	}
}

// zipEntry is what a test checks of one zip entry.
type zipEntry struct {
	name string
	mode fs.FileMode
	data string
}

func readEntries(t *testing.T, b []byte) []zipEntry {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var out []zipEntry
	for _, f := range zr.File {
		if f.Method != zip.Deflate {
			t.Errorf("%s: method %d, want Deflate", f.Name, f.Method)
		}
		if !f.Modified.Equal(zipEpoch) {
			t.Errorf("%s: modified %v, want %v", f.Name, f.Modified, zipEpoch)
		}
		if got, want := f.ExternalAttrs>>16, uint32(0o100000|f.Mode().Perm()); got != want {
			t.Errorf("%s: unix attrs %o, want %o (regular file with its mode, for unzip)", f.Name, got, want)
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, zipEntry{f.Name, f.Mode(), string(data)})
	}
	return out
}

func TestLimitsMatchCodestore(t *testing.T) {
	if maxZipped != codestore.DefaultMaxZipped || maxUnzipped != codestore.DefaultMaxUnzipped {
		t.Errorf("limits %d/%d, codestore's %d/%d: the client must refuse exactly what the server refuses",
			maxZipped, maxUnzipped, codestore.DefaultMaxZipped, codestore.DefaultMaxUnzipped)
	}
}

// Ensure the same files give the same bytes whatever order they were created in, their mtimes and modes
// beyond the execute bits.
func TestPackageDeterministic(t *testing.T) {
	files := []file{
		{"index.js", "exports.handler = async () => 1\n", 0o644},
		{"lib/a.js", "a", 0o600},
		{"lib/z/deep.txt", "deep", 0o444},
		{"bin/tool", "#!/bin/sh\n", 0o700},
		{"empty", "", 0o640},
		{"Ünïcode.txt", "u", 0o664},
	}
	// The same tree with other create order, mtimes and non-execute mode bits.
	other := slices.Clone(files)
	slices.Reverse(other)
	for i, f := range other {
		other[i].mode = 0o604
		if f.mode&0o111 != 0 {
			other[i].mode = 0o711
		}
	}
	// And once more with an execute bit dropped, which must show.
	noExec := slices.Clone(files)
	noExec[3].mode = 0o600

	a, b, c := t.TempDir(), t.TempDir(), t.TempDir()
	writeTree(t, a, files, time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC))
	writeTree(t, b, other, time.Date(2025, 9, 9, 9, 9, 9, 0, time.Local))
	writeTree(t, c, noExec, time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC))
	// An empty directory in one tree only: not packaged, so no difference.
	if err := os.Mkdir(filepath.Join(b, "empty-dir"), 0o700); err != nil {
		t.Fatal(err)
	}

	ctx := context.Background()
	pa, err := Package(ctx, Spec{Dir: a, Runtime: "nodejs22.x"})
	if err != nil {
		t.Fatal(err)
	}
	pb, err := Package(ctx, Spec{Dir: b, Runtime: "nodejs22.x"})
	if err != nil {
		t.Fatal(err)
	}
	if pa.Sha256 != pb.Sha256 || !bytes.Equal(pa.Zip, pb.Zip) {
		t.Fatalf("Sha256 %s vs %s: same files must give the same zip", pa.Sha256, pb.Sha256)
	}
	pc, err := Package(ctx, Spec{Dir: c, Runtime: "nodejs22.x"})
	if err != nil {
		t.Fatal(err)
	}
	if pc.Sha256 == pa.Sha256 {
		t.Error("dropping an execute bit did not change Sha256")
	}
	if _, err := codestore.Inspect(pa.Zip, codestore.Limits{}); err != nil {
		t.Errorf("the server would refuse the package: %v", err)
	}
	if pa.Built {
		t.Error("Built = true without a Go build")
	}
	if len(pa.Sha256) != 44 {
		t.Errorf("Sha256 %q is not standard base64 of 32 bytes", pa.Sha256)
	}

	want := []zipEntry{
		{"bin/tool", 0o755, "#!/bin/sh\n"},
		{"empty", 0o644, ""},
		{"index.js", 0o644, "exports.handler = async () => 1\n"},
		{"lib/a.js", 0o644, "a"},
		{"lib/z/deep.txt", 0o644, "deep"},
		{"Ünïcode.txt", 0o644, "u"},
	}
	if got := readEntries(t, pa.Zip); !slices.Equal(got, want) {
		t.Errorf("entries\n got %v\nwant %v", got, want)
	}
}

func TestPackageModes(t *testing.T) {
	tests := []struct {
		name string
		file string
		mode fs.FileMode
		want fs.FileMode
	}{
		{"PlainFile", "a.txt", 0o644, 0o644},
		{"OwnerOnly", "a.txt", 0o600, 0o644},
		{"ReadOnly", "a.txt", 0o444, 0o644},
		{"OwnerExec", "run.sh", 0o700, 0o755},
		{"OtherExecOnly", "run.sh", 0o641, 0o755},
		{"GroupWritableExec", "run.sh", 0o775, 0o755},
		{"BootstrapWithoutXBit", "bootstrap", 0o644, 0o755}, // as checked out on Windows
		{"NestedBootstrapKeepsMode", "sub/bootstrap", 0o644, 0o644},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeTree(t, dir, []file{{tt.file, "x", tt.mode}}, time.Now())
			art, err := Package(context.Background(), Spec{Dir: dir, Runtime: "provided.al2023"})
			if err != nil {
				t.Fatal(err)
			}
			got := readEntries(t, art.Zip)
			if len(got) != 1 || got[0].name != tt.file || got[0].mode != tt.want {
				t.Errorf("got %v, want one entry %s with mode %o", got, tt.file, tt.want)
			}
		})
	}
}

// Ensure what sam build would not package is skipped at any depth, and nothing else.
func TestPackageSkips(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, []file{
		{"app.py", "print(1)", 0o644},
		{".git/config", "[core]", 0o644},
		{".git/objects/ab/cdef", "blob", 0o444},
		{"vendored/.git", "gitdir: ../.git/modules/vendored", 0o644}, // a submodule's .git file
		{"vendored/mod.py", "", 0o644},
		{".aws-sam/build/Fn/app.py", "old", 0o644},
		{"pkg/__pycache__/mod.cpython-312.pyc", "pyc", 0o644},
		{".DS_Store", "finder", 0o644},
		{"pkg/.DS_Store", "finder", 0o644},
		{".env", "KEPT=1", 0o600},
		{".gitignore", "kept", 0o644},
		{"pkg/mod.py", "", 0o644},
	}, time.Now())
	art, err := Package(context.Background(), Spec{Dir: dir, Runtime: "python3.12"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range readEntries(t, art.Zip) {
		names = append(names, e.name)
	}
	want := []string{".env", ".gitignore", "app.py", "pkg/mod.py", "vendored/mod.py"}
	if !slices.Equal(names, want) {
		t.Errorf("packaged %q, want %q", names, want)
	}
}

func TestPackageSymlinks(t *testing.T) {
	tests := []struct {
		name    string
		links   map[string]string // link name (in the package) -> target as written
		want    []zipEntry        // on success
		wantErr string            // substring; names the offending link
	}{
		{name: "FileInside", links: map[string]string{"alias.txt": "real.txt"},
			want: []zipEntry{{"alias.txt", 0o644, "real"}, {"real.txt", 0o644, "real"}, {"sub/run", 0o755, "#!"}}},
		{name: "ExecutableThroughLink", links: map[string]string{"bootstrap2": "sub/run"},
			want: []zipEntry{{"bootstrap2", 0o755, "#!"}, {"real.txt", 0o644, "real"}, {"sub/run", 0o755, "#!"}}},
		{name: "DirInside", links: map[string]string{"linked": "sub"},
			want: []zipEntry{{"linked/run", 0o755, "#!"}, {"real.txt", 0o644, "real"}, {"sub/run", 0o755, "#!"}}},
		{name: "ChainInside", links: map[string]string{"l1": "l2", "l2": "sub/run"},
			want: []zipEntry{{"l1", 0o755, "#!"}, {"l2", 0o755, "#!"}, {"real.txt", 0o644, "real"}, {"sub/run", 0o755, "#!"}}},
		{name: "Escaping", links: map[string]string{"sub/out": "../../outside.txt"}, wantErr: filepath.Join("sub", "out") + ": symlink points outside"},
		{name: "Absolute", links: map[string]string{"abs": "/etc/hostname"}, wantErr: "abs: symlink points outside"},
		{name: "Dangling", links: map[string]string{"gone": "missing.txt"}, wantErr: "gone: dangling symlink"},
		{name: "LoopToParent", links: map[string]string{"sub/up": ".."}, wantErr: filepath.Join("sub", "up") + ": symlink loops back"},
		{name: "LoopToSelf", links: map[string]string{"self": "."}, wantErr: "self: symlink loops back"},
		{name: "LinkCycle", links: map[string]string{"a": "b", "b": "a"}, wantErr: "cannot resolve symlink"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			top := t.TempDir()
			if err := os.WriteFile(filepath.Join(top, "outside.txt"), []byte("secret"), 0o644); err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(top, "fn")
			writeTree(t, dir, []file{{"real.txt", "real", 0o644}, {"sub/run", "#!", 0o755}}, time.Now())
			for name, target := range tt.links {
				if err := os.Symlink(target, filepath.Join(dir, filepath.FromSlash(name))); err != nil {
					t.Fatal(err)
				}
			}
			art, err := Package(context.Background(), Spec{Dir: dir, Runtime: "nodejs22.x"})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := readEntries(t, art.Zip); !slices.Equal(got, tt.want) {
				t.Errorf("entries\n got %v\nwant %v", got, tt.want)
			}
		})
	}
}

// Ensure Dir may itself be a symlink (a common monorepo layout): "inside" means inside its target.
func TestPackageDirIsSymlink(t *testing.T) {
	top := t.TempDir()
	writeTree(t, filepath.Join(top, "real"), []file{{"a.txt", "a", 0o644}}, time.Now())
	if err := os.Symlink("a.txt", filepath.Join(top, "real", "b.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("real", filepath.Join(top, "link")); err != nil {
		t.Fatal(err)
	}
	art, err := Package(context.Background(), Spec{Dir: filepath.Join(top, "link")})
	if err != nil {
		t.Fatal(err)
	}
	want := []zipEntry{{"a.txt", 0o644, "a"}, {"b.txt", 0o644, "a"}}
	if got := readEntries(t, art.Zip); !slices.Equal(got, want) {
		t.Errorf("entries %v, want %v", got, want)
	}
}

func TestPackageFileInputs(t *testing.T) {
	dir := t.TempDir()
	single := filepath.Join(dir, "handler.py")
	if err := os.WriteFile(single, []byte("def h(e, c): pass\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A zip that is not deterministic at all: it must come back byte for byte.
	var prebuilt bytes.Buffer
	zw := zip.NewWriter(&prebuilt)
	zw.CreateHeader(&zip.FileHeader{Name: "x/", Modified: time.Now()})
	w, _ := zw.Create("x/app.js")
	io.WriteString(w, "module.exports = {}")
	zw.SetComment("made elsewhere")
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	zipPath := filepath.Join(dir, "Fn.ZIP")
	if err := os.WriteFile(zipPath, prebuilt.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	notZip := filepath.Join(dir, "broken.zip")
	if err := os.WriteFile(notZip, []byte("not a zip"), 0o644); err != nil {
		t.Fatal(err)
	}

	t.Run("SingleFile", func(t *testing.T) {
		art, err := Package(context.Background(), Spec{Dir: single, Runtime: "python3.12"})
		if err != nil {
			t.Fatal(err)
		}
		want := []zipEntry{{"handler.py", 0o644, "def h(e, c): pass\n"}}
		if got := readEntries(t, art.Zip); !slices.Equal(got, want) {
			t.Errorf("entries %v, want %v", got, want)
		}
	})
	t.Run("ZipAsIs", func(t *testing.T) {
		art, err := Package(context.Background(), Spec{Dir: zipPath, Runtime: "nodejs22.x"})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(art.Zip, prebuilt.Bytes()) {
			t.Error("a prebuilt zip was rewritten")
		}
		if art.Sha256 != artifact(prebuilt.Bytes(), false).Sha256 {
			t.Error("Sha256 is not the prebuilt zip's")
		}
	})
	t.Run("NotAZip", func(t *testing.T) {
		_, err := Package(context.Background(), Spec{Dir: notZip})
		if err == nil || !strings.Contains(err.Error(), "broken.zip: not a valid zip") {
			t.Errorf("err = %v, want a not-a-zip error naming the file", err)
		}
	})
	t.Run("Missing", func(t *testing.T) {
		_, err := Package(context.Background(), Spec{Dir: filepath.Join(dir, "nope")})
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("err = %v, want ErrNotExist", err)
		}
	})
}

func TestPackageInvalidSpec(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "main.go")
	if err := os.WriteFile(file, []byte("package main\nfunc main() {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		spec    Spec
		wantErr string
	}{
		{"NoDir", Spec{}, "no code directory"},
		{"BadArchitecture", Spec{Dir: dir, Architecture: "amd64"}, `unknown architecture "amd64"`},
		{"OtherBuildMethod", Spec{Dir: dir, BuildMethod: "esbuild"}, `BuildMethod "esbuild" is not supported`},
		{"GoBuildOfAFile", Spec{Dir: file, BuildMethod: "go1.x"}, "go1.x needs CodeUri to be a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Package(context.Background(), tt.spec)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

// setLimits shrinks Lambda's limits for one test. Tests calling it must not run in parallel.
func setLimits(t *testing.T, zipped, unzipped int64) {
	t.Helper()
	oldZ, oldU := maxZipped, maxUnzipped
	maxZipped, maxUnzipped = zipped, unzipped
	t.Cleanup(func() { maxZipped, maxUnzipped = oldZ, oldU })
}

func TestPackageTooLarge(t *testing.T) {
	random := make([]byte, 4096) // incompressible, so the zip is about as big
	rand.Read(random)

	tests := []struct {
		name     string
		zipped   int64
		unzipped int64
		setup    func(t *testing.T, dir string) string // returns Spec.Dir
		wantErr  string                                // besides wrapping ErrTooLarge
	}{
		{"UnzippedDir", 1 << 20, 1000, func(t *testing.T, dir string) string {
			writeTree(t, dir, []file{{"a", strings.Repeat("a", 600), 0o644}, {"b", strings.Repeat("b", 600), 0o644}}, time.Now())
			return dir
		}, "1200 bytes unzipped, Lambda allows at most 1000 bytes"},
		{"SparseFile", 1 << 20, 10 << 20, func(t *testing.T, dir string) string {
			// Stat says 1 GiB; no disk is used, and the refusal comes before any byte is read.
			f, err := os.Create(filepath.Join(dir, "huge.bin"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if err := f.Truncate(1 << 30); err != nil {
				t.Fatal(err)
			}
			return dir
		}, "1024 MiB unzipped, Lambda allows at most 10 MiB"},
		{"ZippedDir", 2048, 1 << 20, func(t *testing.T, dir string) string {
			writeTree(t, dir, []file{{"random.bin", string(random), 0o644}}, time.Now())
			return dir
		}, "more than 2048 bytes zipped"},
		{"ZipFileTooBig", 2048, 1 << 20, func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "fn.zip")
			writeTree(t, dir, []file{{"random.bin", string(random), 0o644}}, time.Now())
			b, err := writeZip(dir, []entry{{name: "random.bin", path: filepath.Join(dir, "random.bin"), mode: 0o644}})
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
			return p
		}, "zipped, Lambda allows at most 2048 bytes"},
		{"ZipFileBomb", 1 << 20, 1 << 20, func(t *testing.T, dir string) string {
			// Compresses to about 10 KiB, claims 10 MiB.
			var buf bytes.Buffer
			zw := zip.NewWriter(&buf)
			w, _ := zw.Create("zeros")
			w.Write(make([]byte, 10<<20))
			zw.Close()
			p := filepath.Join(dir, "bomb.zip")
			if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			return p
		}, "10 MiB unzipped, Lambda allows at most 1 MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			setLimits(t, 1<<30, 1<<30) // setup may zip; the limits under test apply to Package only
			spec := Spec{Dir: tt.setup(t, dir)}
			maxZipped, maxUnzipped = tt.zipped, tt.unzipped
			_, err := Package(context.Background(), spec)
			if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want ErrTooLarge with %q", err, tt.wantErr)
			}
			if !strings.HasPrefix(err.Error(), spec.Dir+": ") {
				t.Errorf("err = %v, want it to name %s", err, spec.Dir)
			}
		})
	}
}

func TestHumanSize(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{1000, "1000 bytes"},
		{52428800, "50 MiB"},
		{262144000, "250 MiB"},
		{300000000, "286.1 MiB"},
	}
	for _, tt := range tests {
		if got := humanSize(tt.n); got != tt.want {
			t.Errorf("humanSize(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}
