package main

import (
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"github.com/sluice-dev/sluice/bench/internal/hostinfo"
)

// cpuSnap is a reading of CPU time consumed so far, in seconds: by the whole machine (all CPUs), by this process
// and by every process on the machine.
type cpuSnap struct {
	at          time.Time
	machineBusy float64
	self        float64
	procs       map[int]hostinfo.Proc
}

// cpuUse is the CPU a phase consumed, split by who used it: wrk (the client), this harness (the floor's server),
// Sluice's server process, the function processes (the server's children), and other processes on the machine
// (somebody else's build or test run), and time charged to no process seen (kernel, short-lived processes).
type cpuUse struct {
	wall                                                  time.Duration
	busy, wrk, harness, server, functions, others, kernel float64
	topOthers                                             string
}

func takeCPU() cpuSnap {
	s := cpuSnap{at: time.Now(), machineBusy: hostinfo.Busy(), procs: map[int]hostinfo.Proc{}}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		s.self = hostinfo.TVSeconds(ru.Utime) + hostinfo.TVSeconds(ru.Stime)
	}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, path := range stats {
		if pid, p, ok := hostinfo.ReadProcStat(path); ok {
			s.procs[pid] = p
		}
	}
	return s
}

// until computes what was used between a and b. wrk ran between the two and had exited by b, so its CPU comes
// from its own rusage (wrkCPU); a process started during the phase counts in full.
func (a cpuSnap) until(b cpuSnap, wrkCPU float64, serverPid int) cpuUse {
	u := cpuUse{wall: b.at.Sub(a.at), busy: b.machineBusy - a.machineBusy, harness: b.self - a.self, wrk: wrkCPU}
	self := os.Getpid()
	others := map[string]float64{}
	for pid, p := range b.procs {
		d := p.CPU - a.procs[pid].CPU
		switch {
		case pid == self:
		case serverPid != 0 && pid == serverPid:
			u.server = d
		case serverPid != 0 && p.PPID == serverPid:
			u.functions += d
		default:
			u.others += d
			others[p.Name] += d
		}
	}
	u.kernel = max(0, u.busy-u.wrk-u.harness-u.server-u.functions-u.others)
	u.topOthers = hostinfo.TopNames(others, 3)
	return u
}

// share is sec as a percentage of the machine's capacity over the phase.
func (u cpuUse) share(sec float64) float64 {
	if u.wall <= 0 {
		return 0
	}
	return 100 * sec / (u.wall.Seconds() * float64(runtime.NumCPU()))
}

func nCPU() int { return runtime.NumCPU() }
