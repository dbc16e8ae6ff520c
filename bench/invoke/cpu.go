package main

import (
	"context"
	"os"
	"time"

	"github.com/sluice-dev/sluice/bench/internal/hostinfo"
)

// procCPU is one process's CPU time so far.
type procCPU struct {
	name string
	ppid int
	cpu  float64 // seconds
}

// cpuSnap is a reading of CPU time consumed so far, in seconds: by the whole machine (all CPUs), by this process
// (the client) and by every process on the machine.
type cpuSnap struct {
	machineBusy float64
	client      float64
	procs       map[int]procCPU
}

// cpuUse is the CPU a phase consumed, split by who used it. foreign is every process that is not part of the
// measurement (on a shared machine, somebody's test run); kernel is machine time charged to no process.
type cpuUse struct {
	wall                                             time.Duration
	busy, client, server, functions, foreign, kernel float64
	topForeign                                       string // the foreign processes that used the most
}

// until computes what was used between a and b. The server is serverPid (0: the server runs in this process);
// the functions are the children of fnParent (0: there are none). A process started during the phase counts in
// full.
func (a cpuSnap) until(b cpuSnap, wall time.Duration, serverPid, fnParent int) cpuUse {
	u := cpuUse{wall: wall, busy: b.machineBusy - a.machineBusy, client: b.client - a.client}
	self := os.Getpid()
	foreign := map[string]float64{}
	for pid, p := range b.procs {
		d := p.cpu - a.procs[pid].cpu
		switch {
		case pid == self:
		case serverPid != 0 && pid == serverPid:
			u.server = d
		case fnParent != 0 && p.ppid == fnParent:
			u.functions += d
		default:
			u.foreign += d
			foreign[p.name] += d
		}
	}
	u.kernel = max(0, u.busy-u.client-u.server-u.functions-u.foreign)
	u.topForeign = hostinfo.TopNames(foreign, 3)
	return u
}

// perInvocation is CPU time per successful invocation.
func perInvocation(sec float64, ok int) time.Duration {
	if ok == 0 {
		return 0
	}
	return time.Duration(sec / float64(ok) * float64(time.Second))
}

// measure runs one load phase and accounts for the CPU it used. serverPid is 0 when the server is this process;
// the function processes are the children of fnParent (0: none).
func measure(ctx context.Context, p phase, inv invoker, serverPid, fnParent int) result {
	before := takeCPU()
	res := runLoad(ctx, p, inv)
	res.cpu = before.until(takeCPU(), res.elapsed, serverPid, fnParent)
	return res
}

// waitQuiet waits (up to 15 s) for the machine to be idle before a measured phase: on a machine shared with
// other work, a compile or test run starting mid-phase halves the CPU available. Phases that are disturbed all
// the same are flagged in the report.
func waitQuiet() {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		a := takeCPU()
		time.Sleep(250 * time.Millisecond)
		if u := a.until(takeCPU(), 250*time.Millisecond, 0, 0); share(u.busy, u) < 15 {
			return
		}
	}
}
