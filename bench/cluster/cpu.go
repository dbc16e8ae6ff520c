package main

import (
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/sluice-dev/sluice/bench/internal/hostinfo"
)

// cpuSnap is a reading of the CPU time consumed so far by the machine and by every process on it.
type cpuSnap struct {
	at    time.Time
	busy  float64
	procs map[int]hostinfo.Proc
}

func takeCPU() cpuSnap {
	s := cpuSnap{at: time.Now(), busy: hostinfo.Busy(), procs: map[int]hostinfo.Proc{}}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, path := range stats {
		if pid, p, ok := hostinfo.ReadProcStat(path); ok {
			s.procs[pid] = p
		}
	}
	return s
}

// cpuUse is what a phase used, as percentages of the machine: all of it, this harness with everything it started
// (servers, function processes, etcd), and other processes (other people's builds and tests), the biggest named.
type cpuUse struct {
	busy, ours, foreign float64
	topForeign          string
}

// until computes what was used between a and b (a process started during the phase counts in full).
func (a cpuSnap) until(b cpuSnap) cpuUse {
	capacity := b.at.Sub(a.at).Seconds() * float64(runtime.NumCPU()) / 100
	if capacity <= 0 {
		return cpuUse{}
	}
	self := os.Getpid()
	mine := func(pid int) bool {
		for range 64 {
			if pid == self {
				return true
			}
			p, ok := b.procs[pid]
			if !ok || pid <= 1 {
				return false
			}
			pid = p.PPID
		}
		return false
	}
	var ours, foreign float64
	names := map[string]float64{}
	for pid, p := range b.procs {
		d := p.CPU - a.procs[pid].CPU
		if mine(pid) {
			ours += d
		} else {
			foreign += d
			names[p.Name] += d
		}
	}
	return cpuUse{busy: (b.busy - a.busy) / capacity, ours: ours / capacity, foreign: foreign / capacity, topForeign: hostinfo.TopNames(names, 3)}
}
