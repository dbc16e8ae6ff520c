package runtimes

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Minimum interpreter versions: those of the oldest runtimes Sluice accepts (nodejs18.x, python3.9).
const (
	MinNodeMajor   = 18
	MinPythonMinor = 9 // 3.9
)

// Interpreters are the host's node and python3 that run the nodejs and python runtimes' shims. Sluice finds
// them at startup with FindInterpreters.
type Interpreters struct {
	Node, Python string // absolute paths; "" when no usable interpreter was found

	NodeVersion, PythonVersion string // as reported by the interpreter, e.g. "20.11.1", "3.11.2"

	// Skipped lists the candidates passed over before the chosen ones (or before giving up), one
	// "path: reason" string each, for Sluice to log.
	Skipped []string
}

var defaults struct {
	sync.Mutex
	set bool
	in  Interpreters
}

// defaultInterpreters returns what the last FindInterpreters call found, or searches once with no overrides.
func defaultInterpreters() Interpreters {
	defaults.Lock()
	defer defaults.Unlock()
	if !defaults.set {
		defaults.in, _ = findInterpreters("", "")
		defaults.set = true
	}
	return defaults.in
}

// FindInterpreters finds the node and python3 interpreters that function processes will run, and records them
// as the ones Runtime.Command uses.
//
// An override (a path, or a name looked up in PATH) is used if it qualifies and is otherwise an error; there is
// no fallback for an interpreter that was named explicitly. Without an override, candidates are "node" (then
// "nodejs") and "python3" in each directory of PATH in order, then in /usr/local/bin, /usr/bin and /bin; the
// first that qualifies wins. A candidate qualifies when an unprivileged user can run it, judged from mode bits
// alone (Sluice usually runs as root, for which access(2) would say yes to everything): every directory on its
// path, and on the path of the file it resolves to through symlinks, must be searchable by "other" users
// (o+x); the file must be a regular file executable by them (o+x), and readable by them (o+r) if it is a "#!"
// script. So /usr/bin/python3 is preferred over a pyenv shim below /root (mode 0700). It must also answer a
// version probe ("node --version", "python3 -I -c ...") within 10 seconds with at least Node 18 / Python 3.9.
//
// The result holds whatever was found. The error is non-nil if either interpreter is missing; it says why each
// candidate was rejected. A missing interpreter only prevents running that family's functions.
func FindInterpreters(nodeOverride, pythonOverride string) (Interpreters, error) {
	in, err := findInterpreters(nodeOverride, pythonOverride)
	defaults.Lock()
	defaults.in, defaults.set = in, true
	defaults.Unlock()
	return in, err
}

func findInterpreters(nodeOverride, pythonOverride string) (Interpreters, error) {
	var in Interpreters
	var errs []error
	node, nodeVersion, skipped, err := findOne(nodeOverride, []string{"node", "nodejs"}, probeNode)
	in.Node, in.NodeVersion = node, nodeVersion
	in.Skipped = append(in.Skipped, skipped...)
	if err != nil {
		errs = append(errs, err)
	}
	python, pythonVersion, skipped, err := findOne(pythonOverride, []string{"python3"}, probePython)
	in.Python, in.PythonVersion = python, pythonVersion
	in.Skipped = append(in.Skipped, skipped...)
	if err != nil {
		errs = append(errs, err)
	}
	return in, errors.Join(errs...)
}

type probeFunc func(path string) (version string, err error)

func findOne(override string, names []string, probe probeFunc) (path, version string, skipped []string, err error) {
	what := names[0]
	if override != "" {
		p := override
		if !strings.ContainsRune(p, filepath.Separator) {
			if p, err = exec.LookPath(override); err != nil {
				return "", "", nil, fmt.Errorf("%s override %q: %w", what, override, err)
			}
		}
		if p, err = filepath.Abs(p); err != nil {
			return "", "", nil, fmt.Errorf("%s override %q: %w", what, override, err)
		}
		if err := checkOthersCanRun(p); err != nil {
			return "", "", nil, fmt.Errorf("%s override %s: %w", what, p, err)
		}
		v, err := probe(p)
		if err != nil {
			return "", "", nil, fmt.Errorf("%s override %s: %w", what, p, err)
		}
		return p, v, nil, nil
	}

	seen := map[string]bool{}
	for _, p := range candidates(names) {
		if seen[p] {
			continue
		}
		seen[p] = true
		if _, err := os.Lstat(p); err != nil {
			continue // not there: not worth reporting
		}
		if real, err := filepath.EvalSymlinks(p); err == nil && real != p {
			if seen["real:"+real] {
				continue
			}
			seen["real:"+real] = true
		}
		if err := checkOthersCanRun(p); err != nil {
			skipped = append(skipped, p+": "+err.Error())
			continue
		}
		v, err := probe(p)
		if err != nil {
			skipped = append(skipped, p+": "+err.Error())
			continue
		}
		return p, v, skipped, nil
	}
	if len(skipped) == 0 {
		return "", "", nil, fmt.Errorf("no %s interpreter found in PATH, /usr/local/bin, /usr/bin or /bin", what)
	}
	return "", "", skipped, fmt.Errorf("no usable %s interpreter: %s", what, strings.Join(skipped, "; "))
}

func candidates(names []string) []string {
	var dirs []string
	for _, d := range filepath.SplitList(os.Getenv("PATH")) {
		if filepath.IsAbs(d) {
			dirs = append(dirs, filepath.Clean(d))
		}
	}
	dirs = append(dirs, "/usr/local/bin", "/usr/bin", "/bin")
	var out []string
	for _, name := range names {
		for _, d := range dirs {
			out = append(out, filepath.Join(d, name))
		}
	}
	return out
}

// checkOthersCanRun reports why a user that is neither p's owner nor in its group could not execute p, judged
// from mode bits; nil if it could.
func checkOthersCanRun(p string) error {
	if !filepath.IsAbs(p) {
		return fmt.Errorf("not an absolute path")
	}
	if err := checkDirsSearchable(filepath.Dir(p)); err != nil {
		return err
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return err
	}
	if real != p {
		if err := checkDirsSearchable(filepath.Dir(real)); err != nil {
			return fmt.Errorf("resolves to %s: %w", real, err)
		}
	}
	fi, err := os.Stat(real)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", real)
	}
	perm := fi.Mode().Perm()
	if perm&0o001 == 0 {
		return fmt.Errorf("%s has mode %#o (%v): other users cannot execute it", real, perm, fi.Mode())
	}
	if perm&0o004 == 0 && isScript(real) {
		return fmt.Errorf("%s is a script with mode %#o (%v): other users cannot read it", real, perm, fi.Mode())
	}
	return nil
}

// checkDirsSearchable checks every directory from / down to dir for o+x.
func checkDirsSearchable(dir string) error {
	var chain []string
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		chain = append(chain, d)
		if d == filepath.Dir(d) {
			break
		}
	}
	for i := len(chain) - 1; i >= 0; i-- {
		d := chain[i]
		fi, err := os.Stat(d)
		if err != nil {
			return err
		}
		if !fi.IsDir() {
			return fmt.Errorf("%s is not a directory", d)
		}
		if perm := fi.Mode().Perm(); perm&0o001 == 0 {
			return fmt.Errorf("directory %s has mode %#o (%v): other users cannot traverse it", d, perm, fi.Mode())
		}
	}
	return nil
}

func isScript(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	var head [2]byte
	n, _ := io.ReadFull(f, head[:])
	return n == 2 && head[0] == '#' && head[1] == '!'
}

func runProbe(p string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, p, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Stdin = nil
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 200 {
			msg = msg[:200] + "..."
		}
		if msg != "" {
			return "", fmt.Errorf("version probe failed: %v: %s", err, msg)
		}
		return "", fmt.Errorf("version probe failed: %v", err)
	}
	return strings.TrimSpace(stdout.String()), nil
}

func probeNode(p string) (string, error) {
	out, err := runProbe(p, "--version")
	if err != nil {
		return "", err
	}
	v := strings.TrimPrefix(out, "v")
	major, err := strconv.Atoi(strings.SplitN(v, ".", 2)[0])
	if err != nil {
		return "", fmt.Errorf("version probe: unexpected output %q", out)
	}
	if major < MinNodeMajor {
		return "", fmt.Errorf("Node.js %s is older than %d", v, MinNodeMajor)
	}
	return v, nil
}

func probePython(p string) (string, error) {
	out, err := runProbe(p, "-I", "-c", `import sys; print("%d.%d.%d" % sys.version_info[:3])`)
	if err != nil {
		return "", err
	}
	parts := strings.SplitN(out, ".", 3)
	if len(parts) < 2 {
		return "", fmt.Errorf("version probe: unexpected output %q", out)
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return "", fmt.Errorf("version probe: unexpected output %q", out)
	}
	if major < 3 || (major == 3 && minor < MinPythonMinor) {
		return "", fmt.Errorf("Python %s is older than 3.%d", out, MinPythonMinor)
	}
	return out, nil
}
