package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// clockTick is USER_HZ, the unit of /proc CPU times (100 on every Linux architecture Go supports).
const clockTick = 100.0

func takeCPU() cpuSnap {
	s := cpuSnap{machineBusy: machineBusy(), procs: map[int]procCPU{}}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		s.client = tvSeconds(ru.Utime) + tvSeconds(ru.Stime)
	}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, path := range stats {
		if pid, p, ok := procStat(path); ok {
			s.procs[pid] = p
		}
	}
	return s
}

func tvSeconds(tv syscall.Timeval) float64 { return float64(tv.Sec) + float64(tv.Usec)/1e6 }

// machineBusy is the non-idle time of all CPUs from the first line of /proc/stat.
func machineBusy() float64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
	var busy float64
	for i, v := range f[1:min(len(f), 9)] {
		n, _ := strconv.ParseFloat(v, 64)
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return busy / clockTick
}

// procStat reads the name, parent pid and utime+stime of /proc/PID/stat.
func procStat(path string) (int, procCPU, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, procCPU{}, false
	}
	s := string(b)
	open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || close < open {
		return 0, procCPU{}, false
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(s[:open]))
	f := strings.Fields(s[close+1:]) // state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
	if len(f) < 13 {
		return 0, procCPU{}, false
	}
	ppid, _ := strconv.Atoi(f[1])
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return pid, procCPU{name: s[open+1 : close], ppid: ppid, cpu: (ut + st) / clockTick}, true
}
