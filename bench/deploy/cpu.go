package main

import (
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
	at          time.Time
	machineBusy float64
	client      float64
	procs       map[int]procCPU
}

// cpuUse is the CPU a phase consumed, split by who used it: this harness (client: load generator and pollers),
// the server, the function processes (the server's children), other processes on the machine (foreign) and
// time charged to no process (kernel, short-lived processes).
type cpuUse struct {
	wall                                             time.Duration
	busy, client, server, functions, foreign, kernel float64
	topForeign                                       string
}

// until computes what was used between a and b. A process started during the phase counts in full.
func (a cpuSnap) until(b cpuSnap, serverPid int) cpuUse {
	u := cpuUse{wall: b.at.Sub(a.at), busy: b.machineBusy - a.machineBusy, client: b.client - a.client}
	self := os.Getpid()
	foreign := map[string]float64{}
	for pid, p := range b.procs {
		d := p.cpu - a.procs[pid].cpu
		switch {
		case pid == self:
		case pid == serverPid:
			u.server = d
		case p.ppid == serverPid:
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

// share is a CPU time as a percentage of the machine's capacity over the phase.
func (u cpuUse) share(sec float64) float64 {
	if u.wall <= 0 {
		return 0
	}
	return 100 * sec / (u.wall.Seconds() * float64(nproc()))
}

// waitQuiet waits (up to max) for the machine to be idle before measuring: on a machine shared with other work,
// a compile or test run halves the CPU available. It returns how busy the machine was when it gave up or began.
func waitQuiet(maxWait time.Duration) float64 {
	deadline := time.Now().Add(maxWait)
	for {
		a := takeCPU()
		time.Sleep(250 * time.Millisecond)
		busy := a.until(takeCPU(), 0)
		if pct := busy.share(busy.busy); pct < 15 || time.Now().After(deadline) {
			return pct
		}
	}
}
