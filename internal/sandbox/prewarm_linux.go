package sandbox

import (
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// warmNice is the scheduling priority of prestarted inits until they are used.
const warmNice = 10

// Prestarted inits. Most of a sandbox's start-up is this binary starting in its init role (the dynamic loader,
// the Go runtime, every package initialiser) before it reads its plan; nothing of that depends on the plan. So the
// server may keep a few inits started ahead of time, each blocked reading its plan in its own mount namespace,
// and hand one to the next Start: the new sandbox then only pays its mounts, limits and the exec. Start takes the
// oldest init that has reported ready (readyMarker), since one still starting up would make it wait for the rest
// of its start-up (the pool refills right after a take, so back-to-back cold starts meet fresh ones). A prestarted
// init has a single output pipe, so it serves specs whose Stdout and Stderr are the same writer (the execution
// layer's case); other specs, and tests that override the host's mechanisms, start an init of their own.

// warmInit is a started init waiting for its plan.
type warmInit struct {
	cmd     *exec.Cmd
	planW   *os.File
	statusR *os.File
	outR    *os.File // read end of its combined stdout and stderr
	// cg is the init's own cgroup under DefaultCgroupParent, created and joined ahead of time (nil without
	// cgroups, or if that failed): moving a process into a cgroup costs milliseconds (the kernel waits for an
	// RCU grace period per hierarchy), which a cold start should not pay. Start only sets its limits.
	cg *cgroup
	// markerRead is closed once the init's readyMarker has been read off statusR (or the pipe failed); ready
	// then tells which. An init still starting up is a poor pick: its taker would wait for the rest of it.
	markerRead chan struct{}
	ready      atomic.Bool
	misread    []byte // what watchReady read instead of the marker (the start of a failure report), for Start
}

// watchReady reads the init's readyMarker.
func (w *warmInit) watchReady() {
	defer close(w.markerRead)
	var b [1]byte
	n, _ := w.statusR.Read(b[:])
	switch {
	case n == 1 && b[0] == readyMarker:
		w.ready.Store(true)
	case n == 1:
		w.misread = b[:]
	}
}

var warm struct {
	mu      sync.Mutex
	idle    []*warmInit
	want    int
	filling bool
	taken   int // prestarted inits handed to Start (for tests and reports)
}

// Prewarm keeps n inits started ahead of time (0 stops and kills the idle ones). Safe to call at any time.
func Prewarm(n int) {
	warm.mu.Lock()
	warm.want = n
	var surplus []*warmInit
	if len(warm.idle) > n {
		surplus = warm.idle[n:]
		warm.idle = warm.idle[:n]
	}
	warm.mu.Unlock()
	for _, w := range surplus {
		w.discard()
	}
	go fillWarm()
}

// takeWarm returns a prestarted init usable for s, or nil.
func takeWarm(m Mechanisms, s Spec, mechOverridden bool) *warmInit {
	if mechOverridden || s.Stdout == nil || !interfaceEqual(s.Stdout, s.Stderr) {
		return nil
	}
	warm.mu.Lock()
	var w *warmInit
	if n := len(warm.idle); n > 0 {
		// The oldest ready init; else the oldest, the closest to ready (inits start in the order they are kept).
		i := slices.IndexFunc(warm.idle, func(w *warmInit) bool { return w.ready.Load() })
		i = max(i, 0)
		w = warm.idle[i]
		warm.idle = slices.Delete(warm.idle, i, i+1)
		warm.taken++
	}
	warm.mu.Unlock()
	go fillWarm()
	if w != nil && (w.cmd.SysProcAttr.Cloneflags != cloneFlags(m) || w.cg != nil && s.CgroupParent != DefaultCgroupParent) {
		// The host's mechanisms changed (cannot happen after Detect's first run; belt and braces), or the spec
		// wants its cgroup elsewhere than where the init already is.
		w.discard()
		return nil
	}
	return w
}

func cloneFlags(m Mechanisms) uintptr {
	c := initCommand(m, nil, nil, nil, nil)
	return c.SysProcAttr.Cloneflags
}

// fillWarm starts inits until the pool holds as many as wanted; one filler at a time.
func fillWarm() {
	warm.mu.Lock()
	if warm.filling {
		warm.mu.Unlock()
		return
	}
	warm.filling = true
	warm.mu.Unlock()
	defer func() {
		warm.mu.Lock()
		warm.filling = false
		warm.mu.Unlock()
	}()
	for {
		warm.mu.Lock()
		need := len(warm.idle) < warm.want
		warm.mu.Unlock()
		if !need || !initHooked.Load() {
			return
		}
		w, err := startWarm(Detect())
		if err != nil {
			return // a cold start will report the problem
		}
		warm.mu.Lock()
		if len(warm.idle) < warm.want {
			warm.idle = append(warm.idle, w)
			w = nil
		}
		warm.mu.Unlock()
		if w != nil {
			w.discard()
		}
	}
}

func startWarm(m Mechanisms) (*warmInit, error) {
	planR, planW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	statusR, statusW, err := os.Pipe()
	if err != nil {
		planR.Close()
		planW.Close()
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		planR.Close()
		planW.Close()
		statusR.Close()
		statusW.Close()
		return nil, err
	}
	cmd := initCommand(m, planR, statusW, outW, outW)
	err = startLowPriority(cmd)
	planR.Close()
	statusW.Close()
	outW.Close()
	if err != nil {
		planW.Close()
		statusR.Close()
		outR.Close()
		return nil, err
	}
	w := &warmInit{cmd: cmd, planW: planW, statusR: statusR, outR: outR, markerRead: make(chan struct{})}
	go w.watchReady()
	if m.cgroups() {
		// Best effort: without its own cgroup yet, Start creates one and moves the init there.
		if cg, err := createCgroup(m, DefaultCgroupParent); err == nil {
			if err := cg.join(cmd.Process.Pid); err == nil {
				w.cg = cg
			} else {
				_ = cg.destroy()
			}
		}
	}
	return w, nil
}

// discard ends an unused init: closing its plan pipe makes it exit; SIGKILL makes sure.
func (w *warmInit) discard() {
	w.planW.Close()
	w.cmd.Process.Kill()
	w.cmd.Wait()
	w.statusR.Close()
	w.outR.Close()
	if w.cg != nil {
		_ = destroyCgroup(w.cg)
	}
}

// A prestarted init's start-up (the dynamic loader, the Go runtime, the package initialisers: ~10 ms of CPU) is
// background work: at a low priority it does not slow the cold start that just took its predecessor. Linux keeps
// the nice value per thread and a child starts with its forking thread's, so every prestarted init is forked by
// one thread kept at warmNice for the life of the server: the whole init, each of its threads, and the fork itself
// run at that priority from the first instruction. The thread never exits, because the kernel sends a child its
// parent-death signal when the thread that forked it ends. Start raises a taken init back to priority 0 (prepareTaken).
var lowPrioritySpawner = sync.OnceValue(func() chan<- func() {
	jobs := make(chan func())
	go func() {
		runtime.LockOSThread() // never unlocked: see above
		if os.Geteuid() == 0 { // only root may raise the priority again (CAP_SYS_NICE)
			_ = syscall.Setpriority(syscall.PRIO_PROCESS, 0, warmNice) // 0: this thread
		}
		for job := range jobs {
			job()
		}
	}()
	return jobs
})

func startLowPriority(cmd *exec.Cmd) error {
	done := make(chan error, 1)
	lowPrioritySpawner() <- func() { done <- cmd.Start() }
	return <-done
}

// prepareTaken readies a prestarted init for the sandbox that took it, before it gets its plan: every thread back
// to priority 0, so the cold start does not compete on equal terms with the refill it triggered, and onto the CPUs
// the sandbox will run on (if it is pinned), so that the init wakes up there rather than where it happened to
// sleep: a kernel that packs tasks onto few CPUs would otherwise queue it behind the server's own work.
func prepareTaken(pid int, cpus []int) {
	tasks, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
	if err != nil {
		return
	}
	var set unix.CPUSet
	for _, cpu := range cpus {
		set.Set(cpu)
	}
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		_ = syscall.Setpriority(syscall.PRIO_PROCESS, tid, 0)
		if len(cpus) > 0 && tid == pid {
			// Only the main thread, which execs (the init runs on it from the start): execve waits for the
			// other threads to exit, and they should not queue for that on the main thread's CPU.
			_ = unix.SchedSetaffinity(tid, &set)
		}
	}
}
