package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The init role: Start runs /proc/self/exe with initEnv set; MaybeRunInit notices it, sets the
// sandbox up from the plan read on fd planFD and execs the target. In a cgo build the C init
// (init_linux.c) does all of that before the Go runtime starts, and MaybeRunInit only ever sees
// the probe role; keep the two in step. Anything that goes wrong is
// reported on fd statusFD, which is close-on-exec: EOF on it tells Start the exec succeeded. Before it reads its
// plan the init writes readyMarker there, so the server knows which prestarted inits have finished starting.
const (
	initEnv   = "_SLUICE_SANDBOX_INIT"
	roleInit  = "init"
	roleProbe = "probe"
	planFD    = 3
	statusFD  = 4
	// readyMarker is the first byte an init writes to its status pipe, once it waits for its plan.
	readyMarker = 'R'
)

// initHooked records that MaybeRunInit ran in this process, so re-executing /proc/self/exe
// reaches MaybeRunInit rather than, say, a second server.
var initHooked atomic.Bool

// initPlan is everything the init does, decided by Start; the init follows it blindly.
type initPlan struct {
	Path      string // what to exec (already resolved)
	Argv      []string
	Env       []string
	Dir       string // working directory, entered after dropping privileges
	UID, GID  int
	ParentPID int // the server; the init exits if it is no longer its parent

	MountNS      bool
	Mkdirs       []string // mount points created on the host before the root is made read-only
	ReadOnlyRoot bool     // make every existing mount read-only and nosuid (mount_setattr)
	Mounts       []mountOp
	TmpFresh     bool // /tmp is a fresh file system (Spec.TmpDevice): its root goes to UID:GID, mode 0700, lost+found removed
	Rlimits      []rlimitOp
	DataLimit    uint64 // RLIMIT_DATA (0: none), applied right before execve (see limitAndExec)
	CPUs         []int  // the CPUs the target may run on (empty: those the init has)
}

// mountOp is mount(Source, Target, FSType, Flags, Data), followed, if Remount != 0, by
// mount("", Target, "", Remount, "") (bind mounts ignore flags until remounted). With ServerFD set, the server holds
// that mount already made (detached, fd ServerFD): it is taken and attached at Target instead, and mounted as
// above only if that fails.
type mountOp struct {
	Source, Target, FSType, Data string
	Flags, Remount               uintptr
	ServerFD                     int
}

type rlimitOp struct {
	Name     string
	Resource int
	Cur, Max uint64
}

// initStatus is what the init writes to the status pipe when it fails.
type initStatus struct {
	Stage string
	Errno int    // the errno of the failure, if any
	Msg   string // the full error text
}

// MaybeRunInit must be called at the very start of main() (and of TestMain). If this process was
// started by Start as a sandbox init, it sets the sandbox up and execs the target, never
// returning; otherwise it returns immediately. Start refuses to work in a binary whose main did
// not call it.
func MaybeRunInit() {
	role, ok := os.LookupEnv(initEnv)
	if !ok {
		initHooked.Store(true)
		return
	}
	// Per-thread state (no_new_privs, the parent-death signal) must be set on the thread that
	// calls execve, so keep this goroutine on one thread from here on.
	runtime.LockOSThread()
	_ = os.Unsetenv(initEnv)
	switch role {
	case roleProbe:
		runProbe()
	case roleInit:
		runInit()
	default:
		fmt.Fprintf(os.Stderr, "sluice: unknown %s role %q\n", initEnv, role)
	}
	exitNow(126)
}

// exitNow exits without running exit hooks: nothing needs flushing, and a race-enabled binary
// (tests) would otherwise sleep a second in the race detector's exit hook.
func exitNow(code int) { syscall.Exit(code) }

func runInit() {
	status := os.NewFile(statusFD, "status")
	fail := func(stage string, err error) {
		st := initStatus{Stage: stage, Msg: err.Error()}
		var errno syscall.Errno
		if errors.As(err, &errno) {
			st.Errno = int(errno)
		}
		b, _ := json.Marshal(st)
		_, _ = status.Write(b)
		exitNow(127)
	}
	defer func() {
		if r := recover(); r != nil {
			fail("init", fmt.Errorf("panic: %v", r))
		}
	}()

	var plan initPlan
	// execve keeps ignored signals ignored, and Go leaves SIGHUP/SIGINT ignored if the server was
	// started that way (nohup, a background job). Handling them makes execve reset them to the
	// default, so the function starts with pristine dispositions. (Done before the plan: it takes a while.)
	signal.Notify(make(chan os.Signal, 1), syscall.SIGHUP, syscall.SIGINT)
	// Tell the server this init is ready: its start-up is over, only the plan is missing. Failures follow the
	// marker on the same pipe.
	if _, err := status.Write([]byte{readyMarker}); err != nil {
		exitNow(127) // the server is gone
	}
	pf := os.NewFile(planFD, "plan")
	b, err := io.ReadAll(io.LimitReader(pf, maxPlanBytes+1))
	pf.Close()
	if err == nil && len(b) > maxPlanBytes {
		err = errors.New("plan: too large")
	}
	if err == nil {
		plan, err = decodePlan(b)
	}
	if err != nil {
		fail("plan", err)
	}
	if stage, err := setupAndExec(&plan); err != nil {
		fail(stage, err)
	}
}

// setupAndExec only returns on failure, with the stage that failed.
func setupAndExec(p *initPlan) (string, error) {
	// Mount points created on the host must be traversable by the sandbox uid whatever the
	// server's umask; the function inherits this conventional umask too.
	syscall.Umask(0o022)
	if p.MountNS {
		if err := setupMounts(p); err != nil {
			return "mount", err
		}
	}
	// A prestarted init ran at a low priority (warmNice); the function runs at the normal one. Start already
	// raised every thread; this covers a thread the init started since. A non-root server's inits never
	// lowered it.
	_ = syscall.Setpriority(syscall.PRIO_PROCESS, 0, 0)
	for _, r := range p.Rlimits {
		lim := syscall.Rlimit{Cur: r.Cur, Max: r.Max}
		err := syscall.Setrlimit(r.Resource, &lim)
		if errors.Is(err, syscall.EPERM) {
			// Not root (no CAP_SYS_RESOURCE): the hard limit can only be lowered.
			var old syscall.Rlimit
			if syscall.Getrlimit(r.Resource, &old) == nil {
				lim.Max, lim.Cur = min(lim.Max, old.Max), min(lim.Cur, old.Max)
				err = syscall.Setrlimit(r.Resource, &lim)
			}
		}
		if err != nil {
			return "rlimit", fmt.Errorf("setrlimit %s: %w", r.Name, err)
		}
	}
	// The affinity of the thread that calls execve is the target's: its runtime sizes itself by it (Go's
	// GOMAXPROCS, Python's os.sched_getaffinity).
	if len(p.CPUs) > 0 {
		var set unix.CPUSet
		for _, cpu := range p.CPUs {
			set.Set(cpu)
		}
		if err := unix.SchedSetaffinity(0, &set); err != nil {
			return "affinity", fmt.Errorf("sched_setaffinity %v: %w", p.CPUs, err)
		}
	}
	// Nothing but stdin/stdout/stderr may reach the target; in particular the status pipe must
	// close on exec.
	if err := unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		if err := cloexecAll(); err != nil {
			return "fds", err
		}
	}

	if err := dropPrivileges(p.UID, p.GID); err != nil {
		return "credentials", err
	}
	// After the uid change, so that access to the working directory is checked as the sandbox user.
	if err := syscall.Chdir(p.Dir); err != nil {
		return "chdir", fmt.Errorf("chdir %s: %w", p.Dir, err)
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return "prctl", fmt.Errorf("PR_SET_NO_NEW_PRIVS: %w", err)
	}
	// The kernel clears the parent-death signal on a credential change: set it again, then make
	// sure the server did not die before that (we would have missed the signal).
	if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(syscall.SIGKILL), 0, 0, 0); err != nil {
		return "prctl", fmt.Errorf("PR_SET_PDEATHSIG: %w", err)
	}
	if os.Getppid() != p.ParentPID {
		return "parent", errors.New("server exited")
	}

	path, err := syscall.BytePtrFromString(p.Path)
	if err != nil {
		return "exec", err
	}
	argv, err := syscall.SlicePtrFromStrings(p.Argv)
	if err != nil {
		return "exec", err
	}
	envv, err := syscall.SlicePtrFromStrings(p.Env)
	if err != nil {
		return "exec", err
	}
	var data *syscall.Rlimit
	if p.DataLimit > 0 {
		data = &syscall.Rlimit{Cur: p.DataLimit, Max: p.DataLimit}
	}
	limitAndExec(data, path, &argv[0], &envv[0])
	return "exec", errors.New("unreachable")
}

// limitAndExec applies RLIMIT_DATA and execs, and on failure reports to the status pipe and
// exits; it never returns. RLIMIT_DATA counts the init's own mappings until execve replaces them
// (a Go runtime's can exceed a small limit, a race-enabled one's always do), so from setting it
// to execve nothing may allocate: raw system calls only, no race instrumentation, no heap.
//
//go:norace
func limitAndExec(data *syscall.Rlimit, path *byte, argv, envv **byte) {
	stage := statusRlimit
	var errno syscall.Errno
	if data != nil {
		_, _, errno = syscall.RawSyscall6(unix.SYS_PRLIMIT64, 0, unix.RLIMIT_DATA, uintptr(unsafe.Pointer(data)), 0, 0, 0)
	}
	if errno == 0 {
		stage = statusExec
		_, _, errno = syscall.RawSyscall(unix.SYS_EXECVE, uintptr(unsafe.Pointer(path)), uintptr(unsafe.Pointer(argv)), uintptr(unsafe.Pointer(envv)))
	}
	// {"Stage":"exec","Errno":2} without allocating: fixed prefix, digits into a stack buffer.
	var buf [64]byte
	n := copy(buf[:], stage)
	var digits [20]byte
	i := len(digits)
	for e := uint64(errno); ; e /= 10 {
		i--
		digits[i] = byte('0' + e%10)
		if e < 10 {
			break
		}
	}
	n += copy(buf[n:], digits[i:])
	buf[n] = '}'
	n++
	_, _, _ = syscall.RawSyscall(unix.SYS_WRITE, statusFD, uintptr(unsafe.Pointer(&buf[0])), uintptr(n))
	_, _, _ = syscall.RawSyscall(unix.SYS_EXIT_GROUP, 127, 0, 0)
}

const (
	statusRlimit = `{"Stage":"rlimit","Errno":`
	statusExec   = `{"Stage":"exec","Errno":`
)

func setupMounts(p *initPlan) error {
	// Nothing mounted from here on may propagate back to the host (or other sandboxes).
	if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("making mounts private: %w", err)
	}
	for _, d := range p.Mkdirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	if p.ReadOnlyRoot {
		attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID}
		if err := unix.MountSetattr(unix.AT_FDCWD, "/", unix.AT_RECURSIVE, &attr); err != nil {
			return fmt.Errorf("making / read-only: %w", err)
		}
	}
	for _, m := range p.Mounts {
		if m.ServerFD > 0 && attachServerMount(p.ParentPID, m.ServerFD, m.Target) == nil {
			continue
		}
		if err := syscall.Mount(m.Source, m.Target, m.FSType, m.Flags, m.Data); err != nil {
			return fmt.Errorf("mount %s on %s: %w", m.Source, m.Target, err)
		}
		if m.Remount != 0 {
			if err := syscall.Mount("", m.Target, "", m.Remount, ""); err != nil {
				return fmt.Errorf("remount %s: %w", m.Target, err)
			}
		}
	}
	if p.TmpFresh {
		if err := syscall.Rmdir("/tmp/lost+found"); err != nil && !errors.Is(err, syscall.ENOENT) {
			return fmt.Errorf("/tmp/lost+found: %w", err)
		}
		if err := syscall.Chown("/tmp", p.UID, p.GID); err != nil {
			return fmt.Errorf("chown /tmp: %w", err)
		}
		if err := syscall.Chmod("/tmp", 0o700); err != nil {
			return fmt.Errorf("chmod /tmp: %w", err)
		}
	}
	return nil
}

// attachServerMount takes the detached mount the server holds as fd and attaches it at target in this namespace.
func attachServerMount(server, fd int, target string) error {
	pidfd, err := unix.PidfdOpen(server, 0)
	if err != nil {
		return err
	}
	defer unix.Close(pidfd)
	mfd, err := unix.PidfdGetfd(pidfd, fd, 0)
	if err != nil {
		return err
	}
	defer unix.Close(mfd)
	return unix.MoveMount(mfd, "", unix.AT_FDCWD, target, unix.MOVE_MOUNT_F_EMPTY_PATH)
}

// dropPrivileges switches to uid/gid with no supplementary groups and verifies the result: a
// sandbox must never start with root credentials or capabilities.
func dropPrivileges(uid, gid int) error {
	if uid <= 0 || gid <= 0 {
		return fmt.Errorf("refusing uid %d gid %d", uid, gid)
	}
	// Raw system calls change the credentials of this thread only — the one that calls execve (MaybeRunInit
	// locked it), whose credentials the new program gets; execve ends every other thread. Go's wrappers would
	// change every thread's by signalling each of them in turn, which costs a cold start about a millisecond
	// (more under load); the other threads run nothing but the Go runtime until execve ends them.
	// Only root can drop supplementary groups; a non-root server runs sandboxes as itself.
	wasRoot := os.Geteuid() == 0
	if wasRoot {
		if _, _, errno := syscall.RawSyscall(syscall.SYS_SETGROUPS, 0, 0, 0); errno != 0 {
			return fmt.Errorf("setgroups: %w", errno)
		}
	}
	if _, _, errno := syscall.RawSyscall(syscall.SYS_SETRESGID, uintptr(gid), uintptr(gid), uintptr(gid)); errno != 0 {
		return fmt.Errorf("setresgid %d: %w", gid, errno)
	}
	if _, _, errno := syscall.RawSyscall(syscall.SYS_SETRESUID, uintptr(uid), uintptr(uid), uintptr(uid)); errno != 0 {
		return fmt.Errorf("setresuid %d: %w", uid, errno)
	}
	r, e, s := unix.Getresuid()
	rg, eg, sg := unix.Getresgid()
	if r != uid || e != uid || s != uid || rg != gid || eg != gid || sg != gid {
		return fmt.Errorf("credentials are %d/%d/%d:%d/%d/%d after switching to %d:%d", r, e, s, rg, eg, sg, uid, gid)
	}
	if groups, err := syscall.Getgroups(); wasRoot && (err != nil || len(groups) > 0) {
		return fmt.Errorf("supplementary groups %v remain (%v)", groups, err)
	}
	if v, ok := statusFieldFile("/proc/thread-self/status", "CapEff"); !ok || strings.Trim(v, "0") != "" {
		return fmt.Errorf("effective capabilities %q remain", v)
	}
	return nil
}

// cloexecAll marks every descriptor above stderr close-on-exec (fallback for kernels before 5.11).
func cloexecAll() error {
	d, err := os.Open("/proc/self/fd")
	if err != nil {
		return err
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return err
	}
	for _, n := range names {
		if fd, err := strconv.Atoi(n); err == nil && fd > 2 {
			_, _ = unix.FcntlInt(uintptr(fd), unix.F_SETFD, unix.FD_CLOEXEC)
		}
	}
	return nil
}

// runProbe runs in a new mount namespace (see probeMountNS) and reports which of the optional
// mount operations work.
func runProbe() {
	var r probeResult
	if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		fmt.Fprintf(os.Stderr, "making mounts private: %v\n", err)
		exitNow(1)
	}
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID}
	if err := unix.MountSetattr(unix.AT_FDCWD, "/", unix.AT_RECURSIVE, &attr); err != nil {
		r.ROErr = err.Error()
	}
	if err := syscall.Mount("proc", "/proc", "proc", syscall.MS_NOSUID|syscall.MS_NODEV|syscall.MS_NOEXEC, "hidepid=2"); err != nil {
		r.ProcErr = err.Error()
	}
	b, _ := json.Marshal(r)
	_, _ = os.Stdout.Write(b)
	exitNow(0)
}
