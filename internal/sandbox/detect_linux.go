package sandbox

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

var detectOnce = sync.OnceValue(detect)

// Detect reports which mechanisms Start uses on this host. The result is computed once (it
// starts one short-lived probe process) and cached.
func Detect() Mechanisms { return detectOnce().clone() }

func detect() Mechanisms {
	m := Mechanisms{Rlimits: true}
	note := func(format string, args ...any) { m.Notes = append(m.Notes, fmt.Sprintf(format, args...)) }
	if os.Geteuid() != 0 {
		note("not running as root: no mount namespace or cgroups; UID must equal the server's uid")
	}

	switch {
	case !initHooked.Load():
		note("mount namespace: unavailable because MaybeRunInit was not called from main (Start will fail)")
	default:
		r, err := probeMountNS()
		switch {
		case err != nil:
			note("mount namespace: unavailable (%v); CodeDir is used as TaskRoot, /tmp is shared, HideDirs are not hidden", err)
		default:
			m.MountNamespace, m.roRoot, m.procHidepid = true, r.ROErr == "", r.ProcErr == ""
			if m.roRoot {
				note("mount namespace: yes; host file system read-only inside the sandbox")
			} else {
				note("mount namespace: yes; host file system stays writable inside the sandbox (mount_setattr: %s)", r.ROErr)
			}
			if m.procHidepid {
				note("private /proc with hidepid=2: yes")
			} else {
				note("private /proc with hidepid=2: no (%s)", r.ProcErr)
			}
		}
	}

	v1, v2 := cgroupMounts()
	switch {
	case v1["memory"] != "" && writableCgroupDir(v1["memory"]):
		m.CgroupV1 = true
		m.cg.v1 = map[string]string{"memory": v1["memory"]}
		_, err := os.Stat(filepath.Join(v1["memory"], "memory.memsw.limit_in_bytes"))
		m.cg.v1Memsw = err == nil
		note("cgroup v1: memory at %s (swap accounting: %v)", v1["memory"], m.cg.v1Memsw)
		for _, c := range []string{"pids", "freezer"} {
			if v1[c] != "" && writableCgroupDir(v1[c]) {
				m.cg.v1[c] = v1[c]
				note("cgroup v1: %s at %s", c, v1[c])
			} else {
				note("cgroup v1: %s controller not available", c)
			}
		}
	case v2 != "":
		ctrls, _ := readFile(v2, "cgroup.controllers")
		m.cg.v2Memory, m.cg.v2Pids = hasWord(ctrls, "memory"), hasWord(ctrls, "pids")
		switch {
		case !m.cg.v2Memory:
			note("cgroup v2 at %s: memory controller not available (controllers: %q)", v2, ctrls)
		case !writableCgroupDir(v2):
			note("cgroup v2 at %s: not writable", v2)
		default:
			// Enabling controllers for children fails (EBUSY) on a non-root cgroup that holds
			// processes, e.g. at the root of a container's cgroup namespace.
			if err := enableV2Controllers(v2, m.cg); err != nil {
				note("cgroup v2 at %s: cannot enable controllers for sub-cgroups: %v", v2, err)
				break
			}
			m.CgroupV2 = true
			m.cg.v2 = v2
			probe := filepath.Join(v2, fmt.Sprintf(".sluice-probe-%d", os.Getpid()))
			if os.Mkdir(probe, 0o755) == nil {
				_, err := os.Stat(filepath.Join(probe, "memory.swap.max"))
				m.cg.v2SwapMax = err == nil
				_ = syscall.Rmdir(probe)
			}
			note("cgroup v2: %s (memory: yes, pids: %v, swap limit: %v)", v2, m.cg.v2Pids, m.cg.v2SwapMax)
		}
	default:
		note("cgroups: no usable memory controller")
	}
	if v2 != "" && !m.CgroupV2 && m.CgroupV1 {
		ctrls, _ := readFile(v2, "cgroup.controllers")
		note("cgroup2 at %s not used (controllers: %q; memory/pids are bound to v1)", v2, ctrls)
	}
	if !m.memoryCgroup() {
		note("memory limit: RLIMIT_DATA (no OOM detection)")
	}
	if !m.pidsCgroup() {
		note("process limit: RLIMIT_NPROC (per uid)")
	}
	if !m.cgroups() {
		note("kill: process group + all processes of the sandbox uid")
	}
	return m
}

// cgroupMounts finds the v1 controller mounts and the cgroup2 mount in /proc/self/mountinfo.
func cgroupMounts() (v1 map[string]string, v2 string) {
	v1 = map[string]string{}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return v1, ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// id parent major:minor root mountpoint options [optional...] - fstype source superoptions
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		pf, qf := strings.Fields(pre), strings.Fields(post)
		if len(pf) < 5 || len(qf) < 3 {
			continue
		}
		mp := unescapeMountinfo(pf[4])
		switch qf[0] {
		case "cgroup2":
			if v2 == "" || mp == "/sys/fs/cgroup" {
				v2 = mp
			}
		case "cgroup":
			for _, o := range strings.Split(qf[2], ",") {
				if o == "memory" || o == "pids" || o == "freezer" {
					if v1[o] == "" {
						v1[o] = mp
					}
				}
			}
		}
	}
	return v1, v2
}

// unescapeMountinfo undoes the octal escaping (\040 for space etc.) of mountinfo paths.
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			var n byte
			if _, err := fmt.Sscanf(s[i+1:i+4], "%3o", &n); err == nil {
				b.WriteByte(n)
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// writableCgroupDir checks that sub-cgroups can be created below dir.
func writableCgroupDir(dir string) bool {
	probe := filepath.Join(dir, fmt.Sprintf(".sluice-probe-%d", os.Getpid()))
	if err := os.Mkdir(probe, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return false
	}
	return syscall.Rmdir(probe) == nil
}

// probeResult is what the probe init (see MaybeRunInit) reports on its stdout.
type probeResult struct {
	ROErr   string // "" if mount_setattr(MOUNT_ATTR_RDONLY, AT_RECURSIVE) on / works
	ProcErr string // "" if a new /proc with hidepid=2 can be mounted
}

// probeMountNS starts this executable in a new mount namespace in probe mode and reports what
// mount operations work there. The probe only changes its own, private namespace.
func probeMountNS() (probeResult, error) {
	var r probeResult
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/proc/self/exe")
	cmd.Args = []string{"sluice-sandbox-probe"}
	cmd.Env = []string{initEnv + "=" + roleProbe}
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNS, Pdeathsig: syscall.SIGKILL}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if s := strings.TrimSpace(stderr.String()); s != "" {
			return r, fmt.Errorf("%v: %s", err, s)
		}
		return r, err
	}
	if err := json.Unmarshal(out, &r); err != nil {
		return r, fmt.Errorf("probe output %q: %v", out, err)
	}
	return r, nil
}
