package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// outputGrace bounds how long Wait keeps delivering buffered output to a slow Stdout/Stderr
// writer after the whole sandbox has died.
var outputGrace = 2 * time.Second

// killTimeout bounds each attempt to empty a cgroup or uid of processes.
const killTimeout = 5 * time.Second

// devShmSizeMB is the size of the private /dev/shm (it is memory, charged to the sandbox).
const devShmSizeMB = 64

// Process is one running sandbox. Its methods are safe for concurrent use.
type Process struct {
	pid  int
	cmd  *exec.Cmd
	mech Mechanisms
	uid  uint32
	cg   *cgroup // nil without cgroups
	cpus []int   // what the process is pinned to (from placer), given back after teardown

	done     chan struct{} // main process exited
	finished chan struct{} // sandbox torn down; exit is set
	exit     Exit

	mu       sync.Mutex // orders killing against reaping and teardown
	reaped   bool       // the main pid is reaped: its pid (and pgid) may be reused, never signal it again
	tornDown bool       // cgroups removed / uid swept: Kill must not touch anything any more

	peakFinal   atomic.Uint64 // PeakMemoryBytes after teardown
	peakSampled atomic.Uint64 // without a memory cgroup: highest VmHWM seen while running
	outputs     []*outputPipe // read ends of the output pipes
	copying     sync.WaitGroup
}

// outputPipe is the read end of one output pipe and the goroutine copying it.
type outputPipe struct {
	r       *os.File
	rc      syscall.RawConn // r's, for reads and FIONREAD without the os.File wrappers
	mu      sync.Mutex
	waiters []chan struct{} // FlushOutput calls waiting for the copier to drain the pipe
	// holding is set by the copier from just before it reads until what it read has been handed on, so that
	// FlushOutput can tell an empty pipe with nothing in flight (most invocations) without waking the copier.
	holding atomic.Bool
}

// Start starts the sandboxed process described by spec and returns once the target has been
// exec'd, or with an error if the sandbox could not be set up or the target not be executed
// (then errors.Is(err, ErrExecFailed)). ctx only bounds the start itself.
func Start(ctx context.Context, spec Spec) (*Process, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !initHooked.Load() {
		return nil, errors.New("sandbox: MaybeRunInit was not called at the start of main")
	}
	m := Detect()
	if spec.mech != nil {
		m = spec.mech.clone()
	}
	s, err := spec.normalize()
	if err != nil {
		return nil, err
	}
	if err := checkHostDirs(s); err != nil {
		return nil, err
	}
	if s.TmpDevice != "" && !m.MountNamespace {
		return nil, errors.New("sandbox: TmpDevice needs a mount namespace, which this host does not offer")
	}
	if s.TmpDir != "" {
		if err := makeTmpDir(s.TmpDir, s.UID, s.GID); err != nil {
			return nil, err
		}
	}
	w := takeWarm(m, s, spec.mech != nil)
	var cg *cgroup
	joined := false
	if m.cgroups() {
		if w != nil && w.cg != nil {
			// The prestarted init is already in a cgroup of its own: it only needs this sandbox's limits.
			if err := w.cg.limit(m, s.MemoryMB, s.MaxProcs); err != nil {
				w.discard()
				return nil, err
			}
			cg, joined = w.cg, true
		} else if cg, err = newCgroup(m, s.CgroupParent, s.MemoryMB, s.MaxProcs); err != nil {
			if w != nil {
				w.discard()
			}
			return nil, err
		}
	}
	plan := buildPlan(s, m, cg != nil)
	plan.CPUs = placer().place(s.CPUs)
	p := &Process{mech: m, uid: s.UID, cg: cg, cpus: plan.CPUs, done: make(chan struct{}), finished: make(chan struct{})}

	var planW, statusR *os.File
	if w != nil {
		// A prestarted init: its Go start-up is already paid; give it this sandbox's output writer.
		prepareTaken(w.cmd.Process.Pid, plan.CPUs)
		p.adoptOutput(w.outR, s.Stdout)
		p.cmd, planW, statusR = w.cmd, w.planW, w.statusR
	} else if planW, statusR, err = p.startInit(m, s); err != nil {
		_ = destroyCgroup(cg)
		placer().release(p.cpus)
		return nil, err
	}
	cmd := p.cmd
	p.pid = cmd.Process.Pid
	go p.supervise()
	fail := func(err error) (*Process, error) {
		planW.Close()
		p.Kill()
		return nil, err
	}

	// The init waits for its plan, so it is in its cgroups before anything of the function runs.
	if cg != nil && !joined {
		if err := cg.join(p.pid); err != nil {
			statusR.Close()
			return fail(err)
		}
	}
	plan.ParentPID = os.Getpid()
	// The init reads its plan to EOF, so a write error really means the init died before reading it.
	planBytes, err := plan.encode()
	if err != nil {
		statusR.Close()
		return fail(err)
	}
	planErr := make(chan error, 1)
	sendPlan := func() {
		_, err := planW.Write(planBytes)
		planW.Close()
		planErr <- err
	}
	if len(planBytes) <= pipeAtomicWrite {
		sendPlan() // fits the emptiest pipe buffer: cannot block, and a goroutine would only add scheduling latency
	} else {
		go sendPlan()
	}
	type statusMsg struct {
		b   []byte
		err error
	}
	statusCh := make(chan statusMsg, 1)
	go func() {
		var lead []byte
		if w != nil {
			<-w.markerRead // a prestarted init's marker has its own reader (watchReady)
			lead = w.misread
		}
		b, err := io.ReadAll(statusR) // after the marker, EOF without data: a successful exec closed the pipe
		b = append(lead, b...)
		statusR.Close()
		if w == nil && len(b) > 0 && b[0] == readyMarker {
			b = b[1:]
		}
		statusCh <- statusMsg{b, err}
	}()
	var st statusMsg
	select {
	case <-ctx.Done():
		return fail(ctx.Err())
	case st = <-statusCh:
	}
	if st.err != nil {
		return fail(fmt.Errorf("sandbox: reading init status: %w", st.err))
	}
	if len(st.b) > 0 {
		return fail(initError(st.b, plan.Path))
	}
	if err := <-planErr; err != nil {
		return fail(fmt.Errorf("sandbox: init exited before reading its plan: %w", err))
	}
	if cg == nil || cg.mem == "" {
		go p.samplePeak()
	}
	return p, nil
}

// startInit starts a sandbox init for s, with s's output writers, and returns the server's ends of its plan and
// status pipes. The init then waits for its plan.
func (p *Process) startInit(m Mechanisms, s Spec) (planW, statusR *os.File, err error) {
	// Pipes (close-on-exec in the server; exec.Cmd dups the child ends to fds 1-4). childEnds are
	// closed in the server once the child has them, so EOF means the child side is gone.
	var childEnds []*os.File
	closeChildEnds := func() {
		for _, f := range childEnds {
			f.Close()
		}
		childEnds = nil
	}
	var planR, statusW, outW, errW *os.File
	if planR, planW, err = os.Pipe(); err == nil {
		childEnds = append(childEnds, planR)
	}
	if err == nil {
		if statusR, statusW, err = os.Pipe(); err == nil {
			childEnds = append(childEnds, statusW)
		}
	}
	if err == nil && s.Stdout != nil {
		if outW, err = p.output(s.Stdout); err == nil {
			childEnds = append(childEnds, outW)
		}
	}
	if err == nil && s.Stderr != nil {
		if interfaceEqual(s.Stdout, s.Stderr) {
			errW = outW
		} else if errW, err = p.output(s.Stderr); err == nil {
			childEnds = append(childEnds, errW)
		}
	}
	if err != nil {
		closeChildEnds()
		for _, f := range []*os.File{planW, statusR} {
			if f != nil {
				f.Close()
			}
		}
		p.closeOutputs()
		return nil, nil, fmt.Errorf("sandbox: %w", err)
	}
	cmd := initCommand(m, planR, statusW, outW, errW)
	p.cmd = cmd
	err = cmd.Start()
	closeChildEnds()
	if err != nil {
		planW.Close()
		statusR.Close()
		p.closeOutputs()
		return nil, nil, fmt.Errorf("sandbox: starting init: %w", err)
	}
	return planW, statusR, nil
}

// initCommand is the re-execution of this binary as a sandbox init, reading its plan on fd 3 and reporting on
// fd 4.
func initCommand(m Mechanisms, planR, statusW, outW, errW *os.File) *exec.Cmd {
	cmd := &exec.Cmd{
		Path: "/proc/self/exe",
		Args: []string{"sluice-sandbox-init"},
		// The plan (with the environment) goes through a pipe, not argv/env. For the Go init (builds without cgo;
		// the C init ignores both): one P, as the init does one thing at a time, and fewer threads make its execve
		// cheaper (the kernel ends every other thread first); no GC, as the init allocates ~5 MB, all of it during
		// start-up, and collecting it costs ~10% of that start-up's CPU.
		Env:        []string{initEnv + "=" + roleInit, "GOMAXPROCS=1", "GOGC=off"},
		Dir:        "/",
		ExtraFiles: []*os.File{planR, statusW}, // fds 3 and 4: planFD, statusFD
		SysProcAttr: &syscall.SysProcAttr{
			Setpgid:   true,
			Pdeathsig: syscall.SIGKILL,
		},
	}
	if m.MountNamespace {
		cmd.SysProcAttr.Cloneflags = syscall.CLONE_NEWNS
	}
	if outW != nil { // (a nil *os.File in the io.Writer would not mean /dev/null)
		cmd.Stdout = outW
	}
	if errW != nil {
		cmd.Stderr = errW
	}
	return cmd
}

// output creates a pipe whose read end is copied to w and returns the write end for the child.
func (p *Process) output(w io.Writer) (*os.File, error) {
	r, cw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	p.adoptOutput(r, w)
	return cw, nil
}

// adoptOutput copies the read end r of an output pipe to w.
func (p *Process) adoptOutput(r *os.File, w io.Writer) {
	o := &outputPipe{r: r}
	o.rc, _ = r.SyscallConn() // nil only for a closed file: the copier then ends at once
	p.outputs = append(p.outputs, o)
	p.copying.Add(1)
	go func() {
		defer p.copying.Done()
		o.copy(w) // ends at EOF, or when the supervisor closes r after the grace period
	}()
}

// copy moves output to w. All reads happen here, so a flush is exact: FlushOutput sets a read deadline in the
// past, the pending read returns, and the copier empties the pipe before it releases the waiters — every byte
// written before the flush request has then been handed to w, in order.
func (o *outputPipe) copy(w io.Writer) {
	rc := o.rc
	if rc == nil {
		o.release()
		return
	}
	buf := make([]byte, 32<<10)
	for {
		var n int
		var rerr error
		err := rc.Read(func(fd uintptr) bool {
			o.holding.Store(true)
			n, rerr = readRetrying(fd, buf)
			if rerr == syscall.EAGAIN {
				o.holding.Store(false)
				return false // wait until readable (or the deadline)
			}
			return true
		})
		if n > 0 {
			w.Write(buf[:n])
		}
		o.holding.Store(false)
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			// A flush. The deadline can win over data that arrived at the same moment: empty the pipe, then
			// release the flushes that were waiting before it was emptied. One that came in meanwhile keeps its
			// deadline, so the next read serves it the same way.
			o.mu.Lock()
			waiters := o.waiters
			o.waiters = nil
			o.mu.Unlock()
			eof := o.drain(rc, buf, w)
			o.mu.Lock()
			if len(o.waiters) == 0 {
				o.r.SetReadDeadline(time.Time{})
			}
			o.mu.Unlock()
			for _, c := range waiters {
				close(c)
			}
			if eof {
				o.release()
				return
			}
		case err != nil || rerr != nil || n == 0: // n == 0: EOF, every writer is gone
			o.release()
			return
		}
	}
}

// drain hands on what the pipe holds right now, reading without waiting (and whatever the deadline), and reports
// whether the pipe is finished (EOF or an error).
func (o *outputPipe) drain(rc syscall.RawConn, buf []byte, w io.Writer) (finished bool) {
	for {
		var n int
		var rerr error
		o.holding.Store(true)
		if err := rc.Control(func(fd uintptr) { n, rerr = readRetrying(fd, buf) }); err != nil {
			o.holding.Store(false)
			return true
		}
		if n > 0 {
			w.Write(buf[:n])
		}
		o.holding.Store(false)
		switch {
		case rerr == syscall.EAGAIN:
			return false
		case rerr != nil || n == 0:
			return true
		}
	}
}

func readRetrying(fd uintptr, buf []byte) (int, error) {
	for {
		n, err := syscall.Read(int(fd), buf)
		if err != syscall.EINTR {
			return n, err
		}
	}
}

// release frees every FlushOutput waiting on a pipe that will not be read any more.
func (o *outputPipe) release() {
	o.mu.Lock()
	for _, c := range o.waiters {
		close(c)
	}
	o.waiters = nil
	o.mu.Unlock()
}

// idle reports that nothing written to the pipe so far is still to be delivered: the pipe is empty and the
// copier holds nothing. The order matters: the copier marks itself holding before it empties the pipe.
func (o *outputPipe) idle() bool {
	if o.rc == nil {
		return false
	}
	var err error
	pending := -1 // FIONREAD (TIOCINQ on Linux): bytes waiting in the pipe
	if o.rc.Control(func(fd uintptr) { pending, err = unix.IoctlGetInt(int(fd), unix.TIOCINQ) }) != nil || err != nil {
		return false
	}
	return pending == 0 && !o.holding.Load()
}

// FlushOutput waits (at most timeout) until everything the process wrote to stdout and stderr before the call
// has been delivered to Spec.Stdout/Stderr. The execution layer calls it when an invocation ends, so the
// function's last log lines belong to that invocation.
func (p *Process) FlushOutput(timeout time.Duration) {
	var waits []chan struct{}
	for _, o := range p.outputs {
		if o.idle() {
			continue
		}
		c := make(chan struct{})
		o.mu.Lock()
		o.waiters = append(o.waiters, c)
		err := o.r.SetReadDeadline(time.Now())
		o.mu.Unlock()
		if err != nil {
			continue // closed, or not pollable: nothing to wait for
		}
		waits = append(waits, c)
	}
	if len(waits) == 0 {
		return
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for _, c := range waits {
		select {
		case <-c:
		case <-deadline.C:
			return
		}
	}
}

func (p *Process) closeOutputs() {
	for _, o := range p.outputs {
		o.r.Close()
	}
}

func destroyCgroup(cg *cgroup) error {
	if cg == nil {
		return nil
	}
	return cg.destroy()
}

// execError is ErrExecFailed with its cause. It has a single Unwrap chain (errors.Unwrap gives
// the *fs.PathError) and matches ErrExecFailed through Is.
type execError struct{ err *fs.PathError }

func (e *execError) Error() string        { return ErrExecFailed.Error() + ": " + e.err.Error() }
func (e *execError) Unwrap() error        { return e.err }
func (e *execError) Is(target error) bool { return target == ErrExecFailed }

// initError turns the init's failure report into an error.
func initError(b []byte, path string) error {
	var st initStatus
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("sandbox: init failed: %q", b)
	}
	if st.Stage == "exec" && st.Errno != 0 {
		return &execError{&fs.PathError{Op: "exec", Path: path, Err: syscall.Errno(st.Errno)}}
	}
	err := errors.New(st.Msg)
	if st.Errno != 0 {
		err = fmt.Errorf("%s: %w", st.Msg, syscall.Errno(st.Errno))
	}
	return fmt.Errorf("sandbox: init (%s): %w", st.Stage, err)
}

func checkHostDirs(s Spec) error {
	isDir := func(what, p string) error {
		fi, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("sandbox: %s: %w", what, err)
		}
		if !fi.IsDir() {
			return fmt.Errorf("sandbox: %s %s is not a directory", what, p)
		}
		return nil
	}
	if err := isDir("CodeDir", s.CodeDir); err != nil {
		return err
	}
	for _, x := range s.ExtraReadOnly {
		if err := isDir("ExtraReadOnly", x.Host); err != nil {
			return err
		}
	}
	for _, h := range s.HideDirs {
		if fi, err := os.Stat(h); err == nil && !fi.IsDir() {
			return fmt.Errorf("sandbox: HideDirs entry %s is not a directory", h)
		}
	}
	return nil
}

func makeTmpDir(dir string, uid, gid uint32) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("sandbox: TmpDir: %w", err)
	}
	if err := os.Lchown(dir, int(uid), int(gid)); err != nil {
		return fmt.Errorf("sandbox: TmpDir: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil { // MkdirAll leaves an existing dir's mode alone
		return fmt.Errorf("sandbox: TmpDir: %w", err)
	}
	return nil
}

// buildPlan decides everything the init does. haveCgroup tells whether the cgroup limits are in
// force; otherwise rlimits stand in for them.
func buildPlan(s Spec, m Mechanisms, haveCgroup bool) initPlan {
	path := m.Resolve(s, s.Path)
	p := initPlan{
		Path:    path,
		Argv:    append([]string{path}, s.Args...),
		Env:     append([]string{}, s.Env...),
		Dir:     m.TaskRoot(s),
		UID:     int(s.UID),
		GID:     int(s.GID),
		MountNS: m.MountNamespace,
	}
	if m.MountNamespace {
		p.ReadOnlyRoot = m.roRoot
		bindRO := func(src, dst string) {
			p.Mkdirs = append(p.Mkdirs, dst)
			p.Mounts = append(p.Mounts, mountOp{Source: src, Target: dst, Flags: unix.MS_BIND,
				Remount: unix.MS_BIND | unix.MS_REMOUNT | unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV})
		}
		bindRO(s.CodeDir, s.TaskRoot)
		for _, x := range s.ExtraReadOnly {
			bindRO(x.Host, x.Sandbox)
		}
		p.Mkdirs = append(p.Mkdirs, "/tmp")
		switch {
		case s.TmpDevice != "":
			op := mountOp{Source: s.TmpDevice, Target: "/tmp", FSType: s.TmpFSType, Flags: unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOATIME}
			if s.TmpMount != nil {
				op.ServerFD = int(s.TmpMount.Fd())
			}
			p.Mounts = append(p.Mounts, op)
			p.TmpFresh = true
		case s.TmpDir != "":
			p.Mounts = append(p.Mounts, mountOp{Source: s.TmpDir, Target: "/tmp", Flags: unix.MS_BIND,
				Remount: unix.MS_BIND | unix.MS_REMOUNT | unix.MS_NOSUID | unix.MS_NODEV})
		default:
			p.Mounts = append(p.Mounts, mountOp{Source: "tmpfs", Target: "/tmp", FSType: "tmpfs",
				Flags: unix.MS_NOSUID | unix.MS_NODEV,
				Data:  fmt.Sprintf("size=%dm,mode=0700,uid=%d,gid=%d", s.TmpSizeMB, s.UID, s.GID)})
		}
		if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
			p.Mounts = append(p.Mounts, mountOp{Source: "tmpfs", Target: "/dev/shm", FSType: "tmpfs",
				Flags: unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, Data: fmt.Sprintf("size=%dm,mode=1777", devShmSizeMB)})
		}
		if m.procHidepid {
			p.Mounts = append(p.Mounts, mountOp{Source: "proc", Target: "/proc", FSType: "proc",
				Flags: unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, Data: "hidepid=2"})
		}
		// Last, so that CodeDir, TmpDir etc. may lie inside a hidden directory (the data dir).
		for _, h := range s.HideDirs {
			if _, inTmp := under(h, "/tmp"); inTmp {
				continue // not visible behind the private /tmp (and no mount point there)
			}
			if fi, err := os.Stat(h); err == nil && fi.IsDir() {
				p.Mounts = append(p.Mounts, mountOp{Source: "tmpfs", Target: h, FSType: "tmpfs",
					Flags: unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, Data: "size=4k,mode=0555"})
			}
		}
	}

	mb := func(n int) uint64 { return uint64(n) << 20 }
	p.Rlimits = []rlimitOp{
		{"RLIMIT_CORE", unix.RLIMIT_CORE, 0, 0},
		{"RLIMIT_NOFILE", unix.RLIMIT_NOFILE, 1024, 4096},
		{"RLIMIT_FSIZE", unix.RLIMIT_FSIZE, mb(s.TmpSizeMB), mb(s.TmpSizeMB)},
	}
	if !haveCgroup || !m.pidsCgroup() {
		// Counts every process of the real uid, not just this sandbox's: one uid per environment.
		p.Rlimits = append(p.Rlimits, rlimitOp{"RLIMIT_NPROC", unix.RLIMIT_NPROC, uint64(s.MaxProcs), uint64(s.MaxProcs)})
	}
	if s.MemoryMB > 0 && (!haveCgroup || !m.memoryCgroup()) {
		// RLIMIT_DATA, not RLIMIT_AS: Go and V8 reserve far more address space than they use.
		p.DataLimit = mb(s.MemoryMB)
	}
	return p
}

// supervise waits for the main process, then tears the whole sandbox down and records the exit.
func (p *Process) supervise() {
	// Wait without reaping first: while the main process is a zombie its pid, and so its process
	// group id, cannot be reused, so signalling the group cannot hit an unrelated process.
	werr := waitExited(p.pid)
	close(p.done)

	var exit Exit
	p.mu.Lock()
	if werr == nil {
		p.killLocked()
	}
	err := p.cmd.Wait() // an *exec.ExitError for a non-zero status: not a supervision problem
	state := p.cmd.ProcessState
	p.reaped = true
	if err != nil && state == nil {
		exit.Err = fmt.Errorf("sandbox: wait: %w", err)
	}
	if p.cg != nil {
		if killed, known, limitHit := p.cg.oomKilled(); killed {
			exit.OOMKilled = true
		} else if !known && limitHit && state != nil {
			ws, _ := state.Sys().(syscall.WaitStatus)
			exit.OOMKilled = ws.Signaled() && ws.Signal() == syscall.SIGKILL
		}
		if v, ok := p.cg.peak(); ok {
			p.peakFinal.Store(v)
		}
		if err := p.cg.destroy(); err != nil && exit.Err == nil {
			exit.Err = err
		}
	} else {
		if !killUID(p.uid, killTimeout) && !serverOwnsUID(p.uid) && exit.Err == nil {
			exit.Err = fmt.Errorf("sandbox: processes of uid %d survived SIGKILL", p.uid)
		}
	}
	if p.peakFinal.Load() == 0 {
		p.peakFinal.Store(p.peakSampled.Load())
	}
	if p.peakFinal.Load() == 0 && state != nil {
		// Last resort, for processes that ended before the first sample: ru_maxrss, which
		// also covers the init's own footprint before exec (the kernel carries it over).
		if ru, ok := state.SysUsage().(*syscall.Rusage); ok {
			p.peakFinal.Store(uint64(ru.Maxrss) * 1024) // kilobytes on Linux
		}
	}
	p.tornDown = true
	p.mu.Unlock()
	placer().release(p.cpus)

	if state != nil {
		ws, _ := state.Sys().(syscall.WaitStatus)
		exit.Code = ws.ExitStatus()
		if ws.Signaled() {
			exit.Code, exit.Signal = -1, ws.Signal().String()
		}
	}

	// Everything that held the pipes' write ends is dead: deliver what is left, but do not let a
	// slow writer hold Wait (and so the pool) hostage.
	drained := make(chan struct{})
	go func() { p.copying.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(outputGrace):
	}
	p.closeOutputs()

	p.exit = exit
	close(p.finished)
}

// pipeAtomicWrite is PIPE_BUF: a write of at most this many bytes to an empty pipe completes at once, whatever
// the pipe's buffer size (at least one page).
const pipeAtomicWrite = 4096

// waitExited waits until pid has exited, leaving it a zombie (WNOWAIT). It waits on a pidfd through the Go
// poller where the kernel offers pidfds (Linux 5.3+): a wait(2) blocked in the kernel would hold on to a P of the
// Go scheduler, and goroutines queued behind it (a cold start's own) could wait milliseconds for sysmon to retake it.
func waitExited(pid int) error {
	var info unix.Siginfo
	exited := func(flags int) (bool, error) {
		for {
			info = unix.Siginfo{}
			err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT|flags, nil)
			switch {
			case err == unix.EINTR:
				continue
			case err != nil:
				return true, err
			}
			// With WNOHANG, a child that has not exited leaves info zeroed (si_pid 0).
			return flags&unix.WNOHANG == 0 || info.Signo != 0, nil
		}
	}
	if fd, err := unix.PidfdOpen(pid, 0); err == nil && unix.SetNonblock(fd, true) == nil {
		f := os.NewFile(uintptr(fd), "pidfd")
		defer f.Close()
		if rc, err := f.SyscallConn(); err == nil {
			var werr error
			if err := rc.Read(func(uintptr) bool {
				var done bool
				done, werr = exited(unix.WNOHANG)
				return done
			}); err == nil {
				return werr
			}
		}
	} else if err == nil {
		unix.Close(fd)
	}
	_, err := exited(0)
	return err
}

// killLocked SIGKILLs everything in the sandbox. p.mu must be held.
func (p *Process) killLocked() {
	if p.tornDown {
		return // the uid / cgroup may already belong to another sandbox
	}
	if !p.reaped {
		_ = syscall.Kill(-p.pid, syscall.SIGKILL) // the process group (the main process leads it)
		_ = syscall.Kill(p.pid, syscall.SIGKILL)  // in case the main process left its group
	}
	if p.cg != nil {
		p.cg.kill(killTimeout)
	} else {
		// Without cgroups, setsid() daemons escape the process group; the sandbox's own uid
		// finds them.
		killUID(p.uid, killTimeout)
	}
}

// Pid returns the process id of the main process (in the server's pid namespace).
func (p *Process) Pid() int { return p.pid }

// Done is closed when the main process has exited (the rest of the sandbox may still be being
// torn down; Wait waits for that).
func (p *Process) Done() <-chan struct{} { return p.done }

// Wait waits for the main process to exit and returns how it ended. When it returns, every
// process of the sandbox has been killed and its cgroups removed. It may be called any number
// of times, concurrently. If the Stdout/Stderr writers are slower than the output, Wait returns
// after a grace period of two seconds and discards what they did not take (a Write already in
// progress may still complete after Wait returned).
func (p *Process) Wait() Exit {
	<-p.finished
	return p.exit
}

// Kill kills every process of the sandbox (process group, cgroup or, without cgroups, every
// process of the sandbox's uid), then waits like Wait. It is safe to call any number of times and
// concurrently with Wait; after the sandbox has been torn down it does nothing.
func (p *Process) Kill() {
	p.mu.Lock()
	p.killLocked()
	p.mu.Unlock()
	<-p.finished
}

// PeakMemoryBytes returns the most memory the sandbox has used so far: the cgroup's high-water
// mark (page cache and tmpfs included) when there is a memory cgroup; otherwise the main
// process's peak RSS (VmHWM, sampled every 100 ms while it runs; descendants not counted; for a
// process that lived less than that, ru_maxrss, which includes the init's own footprint).
func (p *Process) PeakMemoryBytes() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.tornDown {
		if p.cg != nil && p.cg.mem != "" {
			if v, ok := p.cg.peak(); ok {
				return v
			}
		} else if v := p.sampleLocked(); v > 0 {
			return v
		}
	}
	return p.peakFinal.Load()
}

// samplePeak tracks the main process's VmHWM while it runs, for hosts without a memory cgroup:
// once it has exited the kernel no longer shows it, and ru_maxrss is polluted by the init.
func (p *Process) samplePeak() {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-p.done:
			return
		case <-t.C:
			p.mu.Lock()
			p.sampleLocked()
			p.mu.Unlock()
		}
	}
}

// sampleLocked records and returns the main process's current VmHWM (0 once it is reaped; p.mu
// must be held so that the pid cannot be reused meanwhile).
func (p *Process) sampleLocked() uint64 {
	if p.reaped {
		return 0
	}
	v := statusKB(p.pid, "VmHWM")
	for {
		old := p.peakSampled.Load()
		if v <= old || p.peakSampled.CompareAndSwap(old, v) {
			return max(v, old)
		}
	}
}

// Mechanisms returns the mechanisms this sandbox was started with (see Mechanisms.Resolve).
func (p *Process) Mechanisms() Mechanisms { return p.mech.clone() }
