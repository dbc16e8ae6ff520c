package hostinfo

import (
	"os"
	"strconv"
	"strings"
	"syscall"
)

// clockTick is USER_HZ, the unit of /proc CPU times (100 on every Linux architecture Go supports).
const clockTick = 100.0

// Proc is one process's CPU time so far.
type Proc struct {
	Name string
	PPID int
	CPU  float64 // seconds
}

// TVSeconds converts a rusage time.
func TVSeconds(tv syscall.Timeval) float64 { return float64(tv.Sec) + float64(tv.Usec)/1e6 }

// Busy is the non-idle time of all CPUs so far, in seconds, from the first line of /proc/stat.
func Busy() float64 {
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

// ReadProcStat reads the name, parent pid and utime+stime of /proc/PID/stat.
func ReadProcStat(path string) (int, Proc, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, Proc{}, false
	}
	s := string(b)
	open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || close < open {
		return 0, Proc{}, false
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(s[:open]))
	f := strings.Fields(s[close+1:]) // state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
	if len(f) < 13 {
		return 0, Proc{}, false
	}
	ppid, _ := strconv.Atoi(f[1])
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return pid, Proc{Name: s[open+1 : close], PPID: ppid, CPU: (ut + st) / clockTick}, true
}
