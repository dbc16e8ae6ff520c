package main

import (
	"path/filepath"
	"syscall"
	"time"

	"github.com/sluice-dev/sluice/bench/internal/hostinfo"
)

func takeCPU() cpuSnap {
	s := cpuSnap{at: time.Now(), machineBusy: hostinfo.Busy(), procs: map[int]procCPU{}}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		s.client = hostinfo.TVSeconds(ru.Utime) + hostinfo.TVSeconds(ru.Stime)
	}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, path := range stats {
		if pid, p, ok := hostinfo.ReadProcStat(path); ok {
			s.procs[pid] = procCPU{name: p.Name, ppid: p.PPID, cpu: p.CPU}
		}
	}
	return s
}
