package sandbox

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// procStat returns the state letter and start time (field 22, clock ticks since boot) of pid.
func procStat(pid int) (state byte, start uint64, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	// comm (field 2) may contain spaces and parentheses: split after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return 0, 0, false
	}
	start, err = strconv.ParseUint(f[19], 10, 64)
	return f[0][0], start, err == nil
}

// alive reports whether any thread of process pid is still running. Zombies are harmless
// leftovers waiting for their (new) parent to reap them, but a zombie thread-group leader can
// still have live threads, which can act (and must be killed).
func alive(pid int) bool {
	st, _, ok := procStat(pid)
	if !ok {
		return false
	}
	if st != 'Z' && st != 'X' {
		return true
	}
	tasks, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
	if err != nil {
		return false
	}
	for _, t := range tasks {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/task/" + t.Name() + "/stat")
		if i := bytes.LastIndexByte(b, ')'); err == nil && i >= 0 && i+2 < len(b) && b[i+2] != 'Z' && b[i+2] != 'X' {
			return true
		}
	}
	return false
}

// statusField returns the value of a "Name:\tvalue" line of /proc/<pid>/status.
func statusField(pid int, name string) (string, bool) {
	return statusFieldFile("/proc/"+strconv.Itoa(pid)+"/status", name)
}

func statusFieldFile(file, name string) (string, bool) {
	b, err := os.ReadFile(file)
	if err != nil {
		return "", false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

// statusKB parses a "VmHWM:    1234 kB" style field into bytes.
func statusKB(pid int, name string) uint64 {
	v, ok := statusField(pid, name)
	if !ok {
		return 0
	}
	n, err := strconv.ParseUint(strings.TrimSuffix(v, " kB"), 10, 64)
	if err != nil {
		return 0
	}
	return n * 1024
}

// pidsOfUID lists live processes whose real or effective uid is uid.
func pidsOfUID(uid uint32) []int {
	d, err := os.Open("/proc")
	if err != nil {
		return nil
	}
	names, _ := d.Readdirnames(-1)
	d.Close()
	self := os.Getpid()
	want := strconv.FormatUint(uint64(uid), 10)
	var pids []int
	for _, n := range names {
		pid, err := strconv.Atoi(n)
		if err != nil || pid == self {
			continue
		}
		v, ok := statusField(pid, "Uid") // real, effective, saved, fs
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) >= 2 && (f[0] == want || f[1] == want) && alive(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// serverOwnsUID reports whether the server itself runs with uid: killing "every process of the
// uid" would then kill the server and its user's other processes.
func serverOwnsUID(uid uint32) bool {
	r, e, s := unix.Getresuid()
	return uint32(r) == uid || uint32(e) == uid || uint32(s) == uid
}

// killUID is the no-cgroup fallback for reaching processes that left the process group (setsid
// daemons): it SIGKILLs every process of uid until none is left or the deadline passes. It relies
// on the pool giving each environment a uid of its own.
func killUID(uid uint32, timeout time.Duration) bool {
	if uid == 0 || serverOwnsUID(uid) {
		return false
	}
	deadline := time.Now().Add(timeout)
	for {
		pids := pidsOfUID(uid)
		if len(pids) == 0 {
			return true
		}
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// allowedCPUs lists the CPUs this thread may run on (the server's affinity), or none if that cannot be read.
func allowedCPUs() []int {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil
	}
	var cpus []int
	for cpu := range len(set) * 64 {
		if set.IsSet(cpu) {
			cpus = append(cpus, cpu)
		}
	}
	return cpus
}
