package sandbox

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Defaults applied by Start to zero-valued Spec fields.
const (
	DefaultTaskRoot     = "/var/task"
	DefaultMaxProcs     = 1024
	DefaultTmpSizeMB    = 512
	DefaultCgroupParent = "sluice"
)

// Lower bounds for the limits: the sandbox's init is a Go program that runs inside the limits for
// a moment before it execs the target, and needs a few threads and megabytes for that.
const (
	MinMaxProcs = 32
	MinMemoryMB = 16
)

// ErrExecFailed matches (errors.Is) the error Start returns when the sandbox was set up but the
// target could not be executed (missing file, not executable, bad interpreter, ...). That error
// unwraps (errors.Unwrap) to the *fs.PathError with Op "exec", so errors.Is(err,
// fs.ErrNotExist) works too:
//
//	sandbox: exec failed: exec /var/task/bootstrap: no such file or directory
var ErrExecFailed = errors.New("sandbox: exec failed")

// ErrUnsupported is returned by Start on platforms other than Linux.
var ErrUnsupported = errors.New("sandbox: not supported on this platform")

// Spec describes one sandboxed process. Paths named "as seen inside the sandbox" are translated
// with [Mechanisms.Resolve] when the host offers no mount namespace.
type Spec struct {
	Path          string   // executable, as seen INSIDE the sandbox (e.g. "/var/task/bootstrap" or "/usr/bin/node"); absolute
	Args          []string // argv[1:] (argv[0] is Path)
	Env           []string // complete environment; nothing is inherited from the server
	CodeDir       string   // host directory holding the function's extracted code; mounted read-only at TaskRoot
	TaskRoot      string   // default DefaultTaskRoot; the process's working directory
	ExtraReadOnly []Mount  // extra host directories bound read-only (e.g. runtime shims at /opt/sluice-runtime)
	UID, GID      uint32   // unprivileged identity; Start refuses 0. Give every environment its own UID (see package doc)
	MemoryMB      int      // memory limit (Lambda MemorySize); 0 = no limit, else at least MinMemoryMB
	MaxProcs      int      // max tasks (processes + threads) in the sandbox; default DefaultMaxProcs, at least MinMaxProcs
	// CPUs is how many CPUs the process may run on: Start pins it (sched_setaffinity) to that many of the
	// server's CPUs, those the fewest live sandboxes use. 0, or at least as many as the server has: no pinning.
	CPUs int
	// TmpDir is the host directory that backs the private /tmp: Start creates it (0700, owned by
	// UID:GID) and binds it at /tmp, so files the function writes to /tmp appear here; the caller
	// deletes it afterwards. Empty: /tmp is a private tmpfs of TmpSizeMB instead (strictly size
	// capped, but its pages count against MemoryMB).
	TmpDir string
	// TmpDevice, if set, is a block device holding a fresh, empty file system of type TmpFSType, sized by the
	// caller (e.g. a loop device over an image: package scratch): it is mounted at /tmp inside the sandbox (never on
	// the host), and its root is given to UID:GID. Writes past its size fail with ENOSPC, and it costs the function
	// no memory. Needs a mount namespace; excludes TmpDir.
	TmpDevice, TmpFSType string
	// TmpMount, if set, is TmpDevice already mounted but attached nowhere (fsmount(2), e.g. scratch.Volume.Mount),
	// kept open by the caller until the sandbox is gone: the init takes it from the server (pidfd_getfd(2)) and
	// attaches it at /tmp, which costs microseconds where mounting the device costs milliseconds. If that fails
	// (kernels before 5.6), the init mounts TmpDevice.
	TmpMount  *os.File
	TmpSizeMB int      // size of /tmp (Lambda EphemeralStorage); default DefaultTmpSizeMB; also the per-file RLIMIT_FSIZE
	HideDirs  []string // host directories made invisible (an empty read-only tmpfs is mounted over each), e.g. the data dir
	// Stdout and Stderr receive the process's output through pipes copied by goroutines, so a
	// slow writer never blocks Kill or Wait for more than a short grace period. If both are the
	// same writer, one pipe serves both (ordering is kept and Write is never called concurrently).
	// nil means /dev/null.
	Stdout, Stderr io.Writer
	CgroupParent   string // parent cgroup (relative to each hierarchy's mount point); default DefaultCgroupParent

	mech *Mechanisms // tests only: overrides Detect()
}

// Mount binds the host directory Host at Sandbox.
type Mount struct{ Host, Sandbox string }

// Exit describes how the main process of a sandbox ended.
type Exit struct {
	Code      int    // exit status; -1 if killed by a signal
	Signal    string // "" or the signal's description, e.g. "killed", "segmentation fault"
	OOMKilled bool   // the kernel OOM killer killed a process of the sandbox because of its cgroup memory limit (never set in rlimit-only mode: not detectable)
	Err       error  // a problem supervising or tearing down the sandbox (e.g. a cgroup that could not be removed); nil normally
}

// Mechanisms reports which isolation mechanisms Start uses on this host. See the package
// documentation, section Mechanisms.
type Mechanisms struct {
	MountNamespace bool // private mount namespace: code at TaskRoot read-only, private /tmp, HideDirs, read-only host fs
	CgroupV1       bool // per-sandbox cgroups on the v1 hierarchies (memory, and pids/freezer when mounted)
	CgroupV2       bool // per-sandbox cgroup on the unified (v2) hierarchy
	Rlimits        bool // resource limits (always available)
	Notes          []string

	roRoot      bool // mount_setattr(2) works: the host file system can be made read-only recursively
	procHidepid bool // a private /proc with hidepid=2 can be mounted
	cg          cgroupInfo
}

// cgroupInfo locates the cgroup hierarchies Start uses. Exactly one of v1 / v2 is used.
type cgroupInfo struct {
	v1        map[string]string // controller ("memory", "pids", "freezer") -> mount point
	v2        string            // cgroup2 mount point
	v2Memory  bool              // memory controller usable on v2
	v2Pids    bool              // pids controller usable on v2
	v1Memsw   bool              // memory.memsw.* exists (swap accounting)
	v2SwapMax bool              // memory.swap.max exists
}

func (m Mechanisms) cgroups() bool { return m.CgroupV1 || m.CgroupV2 }

func (m Mechanisms) clone() Mechanisms {
	c := m
	c.Notes = append([]string(nil), m.Notes...)
	if m.cg.v1 != nil {
		c.cg.v1 = make(map[string]string, len(m.cg.v1))
		for k, v := range m.cg.v1 {
			c.cg.v1[k] = v
		}
	}
	return c
}

// memoryCgroup and pidsCgroup tell whether the corresponding limit is enforced by a cgroup (and
// so need not be approximated with an rlimit).
func (m Mechanisms) memoryCgroup() bool {
	return (m.CgroupV1 && m.cg.v1["memory"] != "") || (m.CgroupV2 && m.cg.v2Memory)
}

func (m Mechanisms) pidsCgroup() bool {
	return (m.CgroupV1 && m.cg.v1["pids"] != "") || (m.CgroupV2 && m.cg.v2Pids)
}

// TaskRoot returns the directory the process runs in, as the process sees it: spec.TaskRoot
// (default /var/task) with a mount namespace, spec.CodeDir without one.
func (m Mechanisms) TaskRoot(spec Spec) string {
	return m.Resolve(spec, taskRoot(spec))
}

// Resolve maps a path as seen inside the sandbox (below TaskRoot, an ExtraReadOnly mount or /tmp)
// to the path the process must actually use. With a mount namespace that is the path itself.
// Without one nothing is mounted, so TaskRoot maps to CodeDir, ExtraReadOnly[i].Sandbox to
// ExtraReadOnly[i].Host and /tmp to TmpDir (if set); other paths are returned unchanged. Start
// applies it to Path and the working directory; callers apply it to paths they put into Args or
// Env (e.g. LAMBDA_TASK_ROOT, a shim's path).
func (m Mechanisms) Resolve(spec Spec, sandboxPath string) string {
	p := path.Clean(sandboxPath)
	if m.MountNamespace {
		return p
	}
	type pair struct{ sandbox, host string }
	pairs := []pair{{taskRoot(spec), spec.CodeDir}}
	for _, x := range spec.ExtraReadOnly {
		pairs = append(pairs, pair{x.Sandbox, x.Host})
	}
	if spec.TmpDir != "" {
		pairs = append(pairs, pair{"/tmp", spec.TmpDir})
	}
	best, bestLen := p, -1
	for _, pr := range pairs {
		s := path.Clean(pr.sandbox)
		if rel, ok := under(p, s); ok && len(s) > bestLen {
			best, bestLen = filepath.Join(pr.host, rel), len(s)
		}
	}
	return best
}

func taskRoot(spec Spec) string {
	if spec.TaskRoot == "" {
		return DefaultTaskRoot
	}
	return spec.TaskRoot
}

// under reports whether p equals dir or lies below it, and returns p relative to dir.
func under(p, dir string) (string, bool) {
	if p == dir {
		return ".", true
	}
	if dir == "/" {
		return strings.TrimPrefix(p, "/"), true
	}
	if strings.HasPrefix(p, dir+"/") {
		return p[len(dir)+1:], true
	}
	return "", false
}

// overlaps reports whether one of a, b equals or contains the other.
func overlaps(a, b string) bool {
	_, ab := under(a, b)
	_, ba := under(b, a)
	return ab || ba
}

// normalize validates spec and fills in defaults.
func (s Spec) normalize() (Spec, error) {
	bad := func(format string, args ...any) (Spec, error) {
		return s, fmt.Errorf("sandbox: invalid spec: "+format, args...)
	}
	if s.UID == 0 || s.GID == 0 {
		return bad("UID and GID must not be 0 (got %d:%d)", s.UID, s.GID)
	}
	if !path.IsAbs(s.Path) {
		return bad("Path %q is not absolute", s.Path)
	}
	if !filepath.IsAbs(s.CodeDir) {
		return bad("CodeDir %q is not absolute", s.CodeDir)
	}
	s.TaskRoot = taskRoot(s)
	if s.MaxProcs == 0 {
		s.MaxProcs = DefaultMaxProcs
	}
	if s.TmpSizeMB == 0 {
		s.TmpSizeMB = DefaultTmpSizeMB
	}
	if s.CgroupParent == "" {
		s.CgroupParent = DefaultCgroupParent
	}
	if s.MemoryMB < 0 || s.MaxProcs < 0 || s.TmpSizeMB < 0 || s.CPUs < 0 {
		return bad("MemoryMB, MaxProcs, TmpSizeMB and CPUs must not be negative")
	}
	if s.MaxProcs < MinMaxProcs || (s.MemoryMB > 0 && s.MemoryMB < MinMemoryMB) {
		return bad("MaxProcs must be at least %d and MemoryMB 0 or at least %d", MinMaxProcs, MinMemoryMB)
	}
	if c := path.Clean(s.CgroupParent); c != s.CgroupParent || path.IsAbs(c) || c == "." || c == ".." || strings.HasPrefix(c, "../") {
		return bad("CgroupParent %q must be a clean relative path", s.CgroupParent)
	}
	if s.TmpDir != "" && !filepath.IsAbs(s.TmpDir) {
		return bad("TmpDir %q is not absolute", s.TmpDir)
	}
	if s.TmpDevice != "" && (s.TmpDir != "" || !filepath.IsAbs(s.TmpDevice) || s.TmpFSType == "") {
		return bad("TmpDevice %q needs an absolute path, a TmpFSType and no TmpDir", s.TmpDevice)
	}

	// Mount targets inside the sandbox must be distinct, non-nested and away from the
	// directories the sandbox itself mounts, so that no mount hides another.
	reserved := []string{"/tmp", "/proc", "/dev", "/sys"}
	targets := []string{s.TaskRoot}
	for _, x := range s.ExtraReadOnly {
		if !filepath.IsAbs(x.Host) {
			return bad("ExtraReadOnly host path %q is not absolute", x.Host)
		}
		targets = append(targets, x.Sandbox)
	}
	for i, t := range targets {
		if !path.IsAbs(t) || path.Clean(t) != t || t == "/" {
			return bad("sandbox path %q must be absolute, clean and not /", t)
		}
		for _, r := range reserved {
			if overlaps(t, r) {
				return bad("sandbox path %q overlaps %s", t, r)
			}
		}
		for _, u := range targets[:i] {
			if overlaps(t, u) {
				return bad("sandbox paths %q and %q overlap", t, u)
			}
		}
	}
	for _, h := range s.HideDirs {
		if !filepath.IsAbs(h) || filepath.Clean(h) != h || h == "/" {
			return bad("HideDirs entry %q must be absolute, clean and not /", h)
		}
		for _, t := range targets {
			if _, ok := under(t, h); ok {
				return bad("HideDirs entry %q would hide %s", h, t)
			}
		}
		for _, r := range reserved {
			// Below /tmp is fine: the private /tmp hides it anyway (and buildPlan skips it).
			if _, ok := under(r, h); ok || (r != "/tmp" && overlaps(h, r)) {
				return bad("HideDirs entry %q overlaps %s", h, r)
			}
		}
	}
	return s, nil
}

// interfaceEqual is a == b without panicking on uncomparable dynamic types.
func interfaceEqual(a, b any) (eq bool) {
	defer func() {
		if recover() != nil {
			eq = false
		}
	}()
	return a == b
}
