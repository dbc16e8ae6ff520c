package sandbox

import (
	"os"
	"os/exec"
	"sync"
	"syscall"
)

// warmNice is the scheduling priority of prestarted inits until they are used.
const warmNice = 10

// Prestarted inits. Most of a sandbox's start-up is this binary starting in its init role (the dynamic loader,
// the Go runtime, every package initialiser) before it reads its plan; nothing of that depends on the plan. So the
// server may keep a few inits started ahead of time, each blocked reading its plan in its own mount namespace,
// and hand one to the next Start: the new sandbox then only pays its mounts, limits and the exec. A prestarted
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
		w, warm.idle = warm.idle[n-1], warm.idle[:n-1]
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
	err = cmd.Start()
	planR.Close()
	statusW.Close()
	outW.Close()
	if err != nil {
		planW.Close()
		statusR.Close()
		outR.Close()
		return nil, err
	}
	// A prestarted init's start-up (the Go runtime, the package initialisers) is background work: at a low
	// priority it does not slow the cold start that just took its predecessor. The init restores priority 0
	// before it execs the function.
	_ = syscall.Setpriority(syscall.PRIO_PROCESS, cmd.Process.Pid, warmNice)
	w := &warmInit{cmd: cmd, planW: planW, statusR: statusR, outR: outR}
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
