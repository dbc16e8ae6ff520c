package runtimes

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeBin creates dir (with mode dirMode) holding an executable script name that prints out, with mode
// fileMode.
func fakeBin(t *testing.T, base, dir string, dirMode os.FileMode, name, out string, fileMode os.FileMode) string {
	t.Helper()
	d := filepath.Join(base, dir)
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(d, name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\necho "+out+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, fileMode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(d, dirMode); err != nil {
		t.Fatal(err)
	}
	return p
}

// publicTempDir is a t.TempDir that other users may traverse (t.TempDir and its parent are 0700).
func publicTempDir(t *testing.T) string {
	base := t.TempDir()
	for _, d := range []string{filepath.Dir(base), base} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return base
}

func TestFindInterpretersPrefersOneOthersCanRun(t *testing.T) {
	base := publicTempDir(t)
	private := fakeBin(t, base, "root-home/.pyenv/shims", 0o755, "python3", "3.12.1", 0o755)
	if err := os.Chmod(filepath.Join(base, "root-home"), 0o700); err != nil {
		t.Fatal(err)
	}
	unreadable := fakeBin(t, base, "unreadable", 0o755, "python3", "3.12.1", 0o711)
	notExec := fakeBin(t, base, "noexec", 0o755, "python3", "3.12.1", 0o754)
	old := fakeBin(t, base, "old", 0o755, "python3", "3.8.10", 0o755)
	good := fakeBin(t, base, "good", 0o755, "python3", "3.12.1", 0o755)
	later := fakeBin(t, base, "later", 0o755, "python3", "3.13.0", 0o755)
	oldNode := fakeBin(t, base, "old", 0o755, "node", "v16.20.0", 0o755)
	goodNode := fakeBin(t, base, "good", 0o755, "node", "v20.11.1", 0o755)
	t.Setenv("PATH", strings.Join([]string{
		filepath.Dir(private), filepath.Dir(unreadable), filepath.Dir(notExec), filepath.Dir(old),
		"relative/ignored", filepath.Dir(good), filepath.Dir(later),
	}, string(os.PathListSeparator)))

	in, err := findInterpreters("", "")
	if err != nil {
		t.Fatalf("findInterpreters: %v", err)
	}
	wantEqual(t, "Python", in.Python, good)
	wantEqual(t, "PythonVersion", in.PythonVersion, "3.12.1")
	wantEqual(t, "Node", in.Node, goodNode)
	wantEqual(t, "NodeVersion", in.NodeVersion, "20.11.1")
	skipped := strings.Join(in.Skipped, "\n")
	for _, want := range []string{
		private + ": directory " + filepath.Join(base, "root-home") + " has mode 0700",
		"other users cannot traverse it",
		unreadable + ": " + unreadable + " is a script with mode 0711",
		notExec + ": " + notExec + " has mode 0754",
		old + ": Python 3.8.10 is older than 3.9",
		oldNode + ": Node.js 16.20.0 is older than 18",
	} {
		if !strings.Contains(skipped, want) {
			t.Errorf("Skipped lacks %q:\n%s", want, skipped)
		}
	}

	// A symlink in a public directory to an interpreter in a private one is rejected too.
	link := filepath.Join(base, "links", "python3")
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(private, link); err != nil {
		t.Fatal(err)
	}
	if err := checkOthersCanRun(link); err == nil || !strings.Contains(err.Error(), "resolves to") {
		t.Errorf("checkOthersCanRun(symlink into a private dir) = %v", err)
	}
	// ... and a symlink to a public one accepted.
	link2 := filepath.Join(base, "links", "python3-good")
	if err := os.Symlink(good, link2); err != nil {
		t.Fatal(err)
	}
	if err := checkOthersCanRun(link2); err != nil {
		t.Errorf("checkOthersCanRun(symlink to a public interpreter) = %v", err)
	}

	// Overrides are used as given, or rejected with the reason; no fallback.
	in, err = findInterpreters(goodNode, later)
	if err != nil || in.Python != later || in.PythonVersion != "3.13.0" || in.Node != goodNode {
		t.Errorf("overrides: %+v, %v", in, err)
	}
	in, err = findInterpreters("", private)
	if err == nil || in.Python != "" || !strings.Contains(err.Error(), "python3 override "+private+": directory") {
		t.Errorf("private override: %+v, %v", in, err)
	}
	if in.Node != goodNode {
		t.Errorf("a bad python override lost the node interpreter: %+v", in)
	}
	in, err = findInterpreters("no-such-node-binary", "")
	if err == nil || in.Node != "" || in.Python != good || !strings.Contains(err.Error(), `node override "no-such-node-binary"`) {
		t.Errorf("missing node override: %+v, %v", in, err)
	}
	// An override by name is looked up in PATH.
	in, err = findInterpreters("node", "python3")
	if err == nil {
		// PATH's first python3 is the private one: the name resolves to it and it is rejected.
		t.Errorf("override by name: %+v, want an error for the private python3", in)
	}
}

func TestFindInterpretersNothingFound(t *testing.T) {
	t.Setenv("PATH", publicTempDir(t))
	p, v, skipped, err := findOne("", []string{"sluice-no-such-interpreter"}, probeNode)
	if p != "" || v != "" || len(skipped) != 0 || err == nil ||
		err.Error() != "no sluice-no-such-interpreter interpreter found in PATH, /usr/local/bin, /usr/bin or /bin" {
		t.Errorf("findOne = %q, %q, %q, %v", p, v, skipped, err)
	}
}

func TestFindInterpretersOnThisMachine(t *testing.T) {
	in, err := FindInterpreters("", "")
	t.Logf("node %s (%s), python %s (%s), skipped %q, err %v", in.Node, in.NodeVersion, in.Python, in.PythonVersion, in.Skipped, err)
	for _, p := range []string{in.Node, in.Python} {
		if p == "" {
			continue
		}
		if !filepath.IsAbs(p) {
			t.Errorf("%q is not absolute", p)
		}
		if err := checkOthersCanRun(p); err != nil {
			t.Errorf("chose %s: %v", p, err)
		}
	}
}
