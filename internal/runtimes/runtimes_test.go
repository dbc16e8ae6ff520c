package runtimes

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

func TestLookup(t *testing.T) {
	want := map[string]string{
		"provided": FamilyProvided, "provided.al2": FamilyProvided, "provided.al2023": FamilyProvided,
		"nodejs18.x": FamilyNode, "nodejs20.x": FamilyNode, "nodejs22.x": FamilyNode, "nodejs24.x": FamilyNode,
		"python3.9": FamilyPython, "python3.10": FamilyPython, "python3.11": FamilyPython,
		"python3.12": FamilyPython, "python3.13": FamilyPython, "python3.14": FamilyPython,
	}
	for name, family := range want {
		rt, ok := Lookup(name)
		if !ok || rt.Name != name || rt.Family != family || rt.Command == nil {
			t.Errorf("Lookup(%q) = %+v, %v; want family %q", name, rt, ok, family)
		}
	}
	for _, name := range []string{"", "nodejs16.x", "nodejs20", "python3.8", "python3", "Python3.12", "java21", "go1.x", "provided.al2024"} {
		if _, ok := Lookup(name); ok {
			t.Errorf("Lookup(%q) succeeded", name)
		}
	}
	names := Names()
	if len(names) != len(want) || !slices.IsSorted(names) {
		t.Errorf("Names() = %q", names)
	}
	for _, n := range names {
		if _, ok := want[n]; !ok {
			t.Errorf("Names() has unexpected %q", n)
		}
	}
}

func TestCommand(t *testing.T) {
	in := Interpreters{Node: "/usr/bin/node", Python: "/usr/bin/python3"}
	for _, tc := range []struct {
		runtime string
		want    []string
	}{
		{"provided.al2023", []string{"/var/task/bootstrap"}},
		{"provided", []string{"/var/task/bootstrap"}},
		{"nodejs22.x", []string{"/usr/bin/node", "/opt/sluice-runtime/node/index.js"}},
		{"python3.13", []string{"/usr/bin/python3", "-s", "-u", "/opt/sluice-runtime/python/bootstrap.py"}},
	} {
		got, err := mustLookup(t, tc.runtime).CommandFor(in, "/opt/sluice-runtime", "/var/task")
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%s: CommandFor = %q, %v; want %q", tc.runtime, got, err, tc.want)
		}
	}
	if _, err := mustLookup(t, "nodejs20.x").CommandFor(Interpreters{}, "/opt/sluice-runtime", "/var/task"); err == nil {
		t.Error("CommandFor without a node interpreter succeeded")
	}
	if _, err := mustLookup(t, "python3.12").CommandFor(Interpreters{Python: "python3"}, "/opt/sluice-runtime", "/var/task"); err == nil {
		t.Error("CommandFor with a relative python interpreter succeeded")
	}
	if got, err := mustLookup(t, "provided.al2").CommandFor(Interpreters{}, "/s", "/var/task"); err != nil || got[0] != "/var/task/bootstrap" {
		t.Errorf("provided.al2 without interpreters: %q, %v", got, err)
	}

	// Command uses what FindInterpreters recorded.
	found, _ := FindInterpreters("", "")
	if found.Node != "" {
		got := mustLookup(t, "nodejs20.x").Command("/opt/sluice-runtime", "/var/task")
		if want := []string{found.Node, "/opt/sluice-runtime/node/index.js"}; !slices.Equal(got, want) {
			t.Errorf("Command = %q, want %q", got, want)
		}
	}
	if found.Python != "" {
		got := mustLookup(t, "python3.12").Command("/opt/sluice-runtime", "/var/task")
		if want := []string{found.Python, "-s", "-u", "/opt/sluice-runtime/python/bootstrap.py"}; !slices.Equal(got, want) {
			t.Errorf("Command = %q, want %q", got, want)
		}
	}
	if got := mustLookup(t, "provided.al2023").Command("/opt/sluice-runtime", "/var/task"); !slices.Equal(got, []string{"/var/task/bootstrap"}) {
		t.Errorf("Command = %q", got)
	}
}

func TestEnv(t *testing.T) {
	env := func(name string) map[string]string {
		m := map[string]string{}
		for _, kv := range mustLookup(t, name).Env("/opt/sluice-runtime", "/var/task") {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				t.Fatalf("%s: malformed %q", name, kv)
			}
			m[k] = v
		}
		return m
	}
	node := env("nodejs20.x")
	wantEqual(t, "node AWS_EXECUTION_ENV", node["AWS_EXECUTION_ENV"], "AWS_Lambda_nodejs20.x")
	wantEqual(t, "node NODE_PATH", node["NODE_PATH"], "/opt/nodejs/node20/node_modules:/opt/nodejs/node_modules:/var/task")
	wantEqual(t, "node LAMBDA_RUNTIME_DIR", node["LAMBDA_RUNTIME_DIR"], "/opt/sluice-runtime/node")
	wantEqual(t, "node LAMBDA_TASK_ROOT", node["LAMBDA_TASK_ROOT"], "/var/task")
	py := env("python3.12")
	wantEqual(t, "python AWS_EXECUTION_ENV", py["AWS_EXECUTION_ENV"], "AWS_Lambda_python3.12")
	wantEqual(t, "python LAMBDA_RUNTIME_DIR", py["LAMBDA_RUNTIME_DIR"], "/opt/sluice-runtime/python")
	if _, ok := py["PYTHONPATH"]; ok {
		t.Error("python Env sets PYTHONPATH")
	}
	prov := env("provided.al2023")
	if _, ok := prov["AWS_EXECUTION_ENV"]; ok {
		t.Error("provided Env sets AWS_EXECUTION_ENV")
	}
	wantEqual(t, "provided LD_LIBRARY_PATH", prov["LD_LIBRARY_PATH"], "/var/task/lib:/opt/lib")
	for _, m := range []map[string]string{node, py, prov} {
		wantEqual(t, "TZ", m["TZ"], ":UTC")
		wantEqual(t, "LANG", m["LANG"], "en_US.UTF-8")
	}
}

func TestWriteShims(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "runtime")
	if err := WriteShims(dir); err != nil {
		t.Fatal(err)
	}
	files, err := shimFiles()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{NodeShim, PythonShim, "node/package.json"} {
		if !slices.Contains(files, f) {
			t.Errorf("embedded shims lack %s (have %q)", f, files)
		}
	}

	type state struct {
		mode fs.FileMode
		ino  uint64
	}
	snapshot := func() map[string]state {
		m := map[string]state{}
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			fi, err := os.Lstat(p)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(dir, p)
			m[rel] = state{fi.Mode(), fi.Sys().(*syscall.Stat_t).Ino}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	check := func() map[string]state {
		t.Helper()
		snap := snapshot()
		for rel, st := range snap {
			switch {
			case st.mode.IsDir():
				if st.mode.Perm() != 0o755 {
					t.Errorf("%s: mode %v, want drwxr-xr-x", rel, st.mode)
				}
			case st.mode.IsRegular():
				if st.mode.Perm() != 0o444 {
					t.Errorf("%s: mode %v, want -r--r--r--", rel, st.mode)
				}
				if !slices.Contains(files, filepath.ToSlash(rel)) {
					t.Errorf("unexpected file %s", rel)
				}
			default:
				t.Errorf("%s: unexpected mode %v", rel, st.mode)
			}
		}
		for _, f := range files {
			got, err := os.ReadFile(filepath.Join(dir, f))
			want, _ := Shim(f)
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s: content differs from the embedded shim (%v)", f, err)
			}
		}
		return snap
	}
	first := check()

	// Idempotent: a second call changes nothing (same inodes, same modes).
	if err := WriteShims(dir); err != nil {
		t.Fatal(err)
	}
	if second := check(); !mapsEqual(first, second) {
		t.Errorf("second WriteShims changed the tree:\n%v\n%v", first, second)
	}

	// A damaged tree is repaired: wrong content, wrong modes, a missing file.
	node := filepath.Join(dir, filepath.FromSlash(NodeShim))
	if err := os.Chmod(node, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(node, []byte("tampered"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, filepath.FromSlash(PythonShim))); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, "node"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := WriteShims(dir); err != nil {
		t.Fatal(err)
	}
	check()

	// WriteShims refuses a path that is a file.
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteShims(file); err == nil {
		t.Error("WriteShims on a regular file succeeded")
	}
}

func mapsEqual[K comparable, V comparable](a, b map[K]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestShimsRunUnprivileged runs both shims as nobody (uid 65534) against a read-only task root, as Sluice's
// sandbox does: the interpreters FindInterpreters picked and the shims WriteShims wrote must be usable by
// another user, and the shims must not need to write anything.
func TestShimsRunUnprivileged(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to switch to an unprivileged user")
	}
	cred := &syscall.Credential{Uid: 65534, Gid: 65534}
	// The task root's ancestors must be traversable by nobody.
	base := t.TempDir()
	for _, d := range []string{filepath.Dir(base), base} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{base, testShimDir} {
		if err := checkDirsSearchable(d); err != nil {
			t.Skipf("the temporary directory is not reachable by other users: %v", err)
		}
	}
	readOnlyRoot := func(name string) string {
		root := filepath.Join(base, name)
		if err := os.Mkdir(root, 0o755); err != nil {
			t.Fatal(err)
		}
		return root
	}
	seal := func(root string) {
		// Files 0444, directories 0555, like an extracted code package.
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				return os.Chmod(p, 0o555)
			}
			return os.Chmod(p, 0o444)
		})
		if err != nil {
			t.Fatal(err)
		}
	}

	t.Run("node", func(t *testing.T) {
		in := needNode(t)
		root := readOnlyRoot("node")
		if err := os.WriteFile(filepath.Join(root, "index.js"), []byte(`exports.handler = async () => process.getuid();`), 0o644); err != nil {
			t.Fatal(err)
		}
		seal(root)
		h := startIn(t, root, cred, mustLookup(t, "nodejs20.x"), in, nil, "index.handler", nil)
		wantEqual(t, "uid", h.respond(`{}`), "65534")
	})
	t.Run("python", func(t *testing.T) {
		in := needPython(t)
		root := readOnlyRoot("python")
		if err := os.WriteFile(filepath.Join(root, "app.py"), []byte("import os\n\ndef handler(event, context):\n    return os.getuid()\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		seal(root)
		h := startIn(t, root, cred, mustLookup(t, "python3.12"), in, nil, "app.handler", nil)
		wantEqual(t, "uid", h.respond(`{}`), "65534")
		if _, err := os.Stat(filepath.Join(root, "__pycache__")); err == nil {
			t.Error("the task root got a __pycache__")
		}
	})
}
