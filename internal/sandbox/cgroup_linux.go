package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// cgroup is the set of per-sandbox cgroup directories: one per v1 hierarchy, or one on v2.
type cgroup struct {
	v2      bool
	dirs    []string // every directory of this sandbox, one per hierarchy
	mem     string   // directory holding the memory controller ("" if none)
	pids    string   // directory holding the pids controller ("" if none)
	freezer string   // v1 freezer directory, or the v2 directory ("" if none)

	// peakFD is the memory high-water mark file, opened by the first peak and kept until destroy: every REPORT
	// line reads it, and one pread costs a fraction of an open, read and close on cgroupfs.
	peakFD   int
	peakOpen bool
}

var (
	cgSeq          atomic.Uint64
	instanceIDOnce = sync.OnceValue(func() string {
		_, start, _ := procStat(os.Getpid())
		return fmt.Sprintf("p%d.%d", os.Getpid(), start)
	})
	// staleName matches the cgroup names Start creates: p<server pid>.<server start time>-<seq>.
	staleName = regexp.MustCompile(`^p([0-9]+)\.([0-9]+)-[0-9]+$`)
)

// newCgroup creates the sandbox's cgroups below parent and sets their limits. The name embeds
// the server's pid and start time so that CleanupStale can tell leftovers of dead servers apart.
func newCgroup(m Mechanisms, parent string, memoryMB, maxProcs int) (*cgroup, error) {
	c, err := createCgroup(m, parent)
	if err != nil {
		return nil, err
	}
	if err := c.limit(m, memoryMB, maxProcs); err != nil {
		_ = c.destroy()
		return nil, err
	}
	return c, nil
}

// createCgroup creates the sandbox's cgroups below parent, without limits.
func createCgroup(m Mechanisms, parent string) (_ *cgroup, err error) {
	name := fmt.Sprintf("%s-%d", instanceIDOnce(), cgSeq.Add(1))
	c := &cgroup{v2: m.CgroupV2}
	defer func() {
		if err != nil {
			_ = c.destroy()
			err = fmt.Errorf("sandbox: cgroup: %w", err)
		}
	}()
	mkdir := func(dir string) error {
		if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
			return err
		}
		if err := os.Mkdir(dir, 0o755); err != nil {
			return err
		}
		c.dirs = append(c.dirs, dir)
		return nil
	}

	if m.CgroupV2 {
		if err := ensureV2Parent(m.cg, parent); err != nil {
			return nil, err
		}
		dir := filepath.Join(m.cg.v2, parent, name)
		if err := mkdir(dir); err != nil {
			return nil, err
		}
		c.freezer = dir
		if m.cg.v2Memory {
			c.mem = dir
		}
		if m.cg.v2Pids {
			c.pids = dir
		}
		return c, nil
	}

	seen := map[string]string{} // mount point -> dir, for hierarchies with several controllers
	for _, ctrl := range []string{"memory", "pids", "freezer"} {
		mp := m.cg.v1[ctrl]
		if mp == "" {
			continue
		}
		dir, ok := seen[mp]
		if !ok {
			dir = filepath.Join(mp, parent, name)
			if err := mkdir(dir); err != nil {
				return nil, err
			}
			seen[mp] = dir
		}
		switch ctrl {
		case "memory":
			c.mem = dir
		case "pids":
			c.pids = dir
		case "freezer":
			c.freezer = dir
		}
	}
	return c, nil
}

// limit sets the sandbox's memory and process limits. Raising a fresh cgroup's limits from unlimited is always
// possible, so a cgroup created (and joined) ahead of time takes its limits when the sandbox is started.
func (c *cgroup) limit(m Mechanisms, memoryMB, maxProcs int) error {
	wrap := func(err error) error { return fmt.Errorf("sandbox: cgroup: %w", err) }
	if c.mem != "" && memoryMB > 0 {
		limit := strconv.Itoa(memoryMB << 20)
		if m.CgroupV2 {
			if err := writeFile(c.mem, "memory.max", limit); err != nil {
				return wrap(err)
			}
			if m.cg.v2SwapMax {
				// Without this the limit only covers RAM and the sandbox could push the rest to swap.
				if err := writeFile(c.mem, "memory.swap.max", "0"); err != nil {
					return wrap(err)
				}
			}
		} else {
			if err := writeFile(c.mem, "memory.limit_in_bytes", limit); err != nil {
				return wrap(err)
			}
			if m.cg.v1Memsw {
				// memsw limits RAM+swap; set after limit_in_bytes, which it must not undercut.
				if err := writeFile(c.mem, "memory.memsw.limit_in_bytes", limit); err != nil {
					return wrap(err)
				}
			}
		}
	}
	if c.mem != "" && m.CgroupV2 {
		// Best effort: an OOM kill takes the whole sandbox down at once instead of leaving a
		// half-dead process tree behind.
		_ = writeFile(c.mem, "memory.oom.group", "1")
	}
	if c.pids != "" {
		if err := writeFile(c.pids, "pids.max", strconv.Itoa(maxProcs)); err != nil {
			return wrap(err)
		}
	}
	return nil
}

// ensureV2Parent creates parent on the v2 hierarchy and enables the memory and pids controllers
// on every level down to it (the per-sandbox leaves get them through subtree_control).
func ensureV2Parent(info cgroupInfo, parent string) error {
	dir := info.v2
	if err := enableV2Controllers(dir, info); err != nil {
		return err
	}
	for _, l := range strings.Split(parent, "/") {
		dir = filepath.Join(dir, l)
		if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
		if err := enableV2Controllers(dir, info); err != nil {
			return err
		}
	}
	return nil
}

// enableV2Controllers makes the usable controllers available to the children of dir.
func enableV2Controllers(dir string, info cgroupInfo) error {
	have, _ := readFile(dir, "cgroup.subtree_control")
	for _, c := range []string{"memory", "pids"} {
		usable := (c == "memory" && info.v2Memory) || (c == "pids" && info.v2Pids)
		if usable && !hasWord(have, c) {
			if err := writeFile(dir, "cgroup.subtree_control", "+"+c); err != nil {
				return fmt.Errorf("enabling %s in %s: %w", c, dir, err)
			}
		}
	}
	return nil
}

func hasWord(s, w string) bool {
	for _, f := range strings.Fields(s) {
		if f == w {
			return true
		}
	}
	return false
}

func writeFile(dir, name, value string) error {
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(value)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func readFile(dir, name string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, name))
	return strings.TrimSpace(string(b)), err
}

// join moves pid (all its threads) into every cgroup of the sandbox.
func (c *cgroup) join(pid int) error {
	for _, d := range c.dirs {
		if err := writeFile(d, "cgroup.procs", strconv.Itoa(pid)); err != nil {
			return fmt.Errorf("sandbox: joining cgroup %s: %w", d, err)
		}
	}
	return nil
}

// procs returns the processes in any of the sandbox's cgroups. Exited tasks leave their cgroup
// at exit, before they are reaped, so a listed pid always has a live thread (possibly under a
// zombie leader, which is why there is no zombie filter here).
func (c *cgroup) procs() []int {
	seen := map[int]bool{}
	var out []int
	for _, d := range c.dirs {
		s, _ := readFile(d, "cgroup.procs")
		for _, f := range strings.Fields(s) {
			pid, err := strconv.Atoi(f)
			if err == nil && !seen[pid] {
				seen[pid] = true
				out = append(out, pid)
			}
		}
	}
	return out
}

// freeze stops (or resumes) every task of the sandbox so that a fork bomb cannot create new
// processes between listing cgroup.procs and signalling them. Frozen tasks only act on a
// SIGKILL once thawed, so every freeze must be followed by a thaw: if the server died in between,
// the sandbox would stay frozen until CleanupStale thaws it.
func (c *cgroup) freeze(on bool) {
	if c.freezer == "" {
		return
	}
	file, value, want := "freezer.state", "THAWED", ""
	if c.v2 {
		file, value = "cgroup.freeze", "0"
	}
	if on {
		if c.v2 {
			value = "1"
		} else {
			value, want = "FROZEN", "FROZEN"
		}
	}
	if writeFile(c.freezer, file, value) != nil || want == "" {
		return // v2 freezing is asynchronous but fast; the kill loop copes with stragglers
	}
	for i := 0; i < 20; i++ {
		if s, _ := readFile(c.freezer, file); s == want {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// kill SIGKILLs every process of the sandbox, repeating until the cgroups are empty or the
// timeout passes. It reports whether they are empty.
func (c *cgroup) kill(timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	// A sandbox left frozen (see freeze) cannot die: thaw it first.
	c.freeze(false)
	if c.v2 && writeFile(c.dirs[0], "cgroup.kill", "1") == nil {
		// cgroup.kill (Linux 5.14+) kills atomically, including tasks forked concurrently.
		for time.Now().Before(deadline) {
			if len(c.procs()) == 0 {
				return true
			}
			time.Sleep(time.Millisecond)
		}
	}
	for round := 0; ; round++ {
		// Plain rounds first: they nearly always suffice (a SIGKILLed process cannot fork any
		// more, and pids.max bounds what a fork bomb can add meanwhile). Freezing, which stops
		// forking altogether, is the escalation, because of its thaw hazard.
		frozen := round >= 3 && c.freezer != ""
		if frozen {
			c.freeze(true)
		}
		pids := c.procs()
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		if frozen {
			c.freeze(false)
		}
		if len(pids) == 0 {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
}

// peak returns the memory high-water mark of the sandbox.
func (c *cgroup) peak() (uint64, bool) {
	if c.mem == "" {
		return 0, false
	}
	if !c.peakOpen {
		file := "memory.max_usage_in_bytes"
		if c.v2 {
			file = "memory.peak" // Linux 5.19+
		}
		fd, err := unix.Open(filepath.Join(c.mem, file), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return 0, false
		}
		c.peakFD, c.peakOpen = fd, true
	}
	// A read at offset 0 makes cgroupfs render the value afresh.
	var buf [32]byte
	n, err := unix.Pread(c.peakFD, buf[:], 0)
	if err != nil || n == 0 {
		return 0, false
	}
	v, err := strconv.ParseUint(strings.TrimSpace(string(buf[:n])), 10, 64)
	return v, err == nil
}

// closePeak closes the high-water mark file.
func (c *cgroup) closePeak() {
	if c.peakOpen {
		unix.Close(c.peakFD)
		c.peakOpen = false
	}
}

// oomKilled reports whether the kernel OOM killer killed a process of the sandbox. known is
// false when the kernel exposes no oom_kill counter (v1 before Linux 4.13); failcnt then tells
// whether the limit was hit at all.
func (c *cgroup) oomKilled() (killed, known, limitHit bool) {
	if c.mem == "" {
		return false, false, false
	}
	file := "memory.oom_control"
	if c.v2 {
		file = "memory.events"
	}
	s, _ := readFile(c.mem, file)
	for _, line := range strings.Split(s, "\n") {
		if v, ok := strings.CutPrefix(line, "oom_kill "); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n > 0, true, n > 0
		}
	}
	if !c.v2 {
		f, _ := readFile(c.mem, "memory.failcnt")
		n, _ := strconv.Atoi(f)
		return false, false, n > 0
	}
	return false, false, false
}

// destroy kills whatever is left and removes the cgroups. Removal is retried briefly because a
// cgroup stays busy until its last task has fully exited.
func (c *cgroup) destroy() error {
	c.closePeak()
	if len(c.dirs) == 0 {
		return nil
	}
	c.kill(5 * time.Second)
	var errs []error
	for _, d := range c.dirs {
		deadline := time.Now().Add(2 * time.Second)
		for {
			err := syscall.Rmdir(d)
			if err == nil || errors.Is(err, syscall.ENOENT) {
				break
			}
			if !errors.Is(err, syscall.EBUSY) || time.Now().After(deadline) {
				errs = append(errs, fmt.Errorf("sandbox: removing cgroup %s: %w", d, err))
				break
			}
			c.kill(100 * time.Millisecond)
			time.Sleep(2 * time.Millisecond)
		}
	}
	c.dirs = nil
	return errors.Join(errs...)
}

// CleanupStale kills the processes of, and removes, per-sandbox cgroups below cgroupParent
// ("" = DefaultCgroupParent) that were created by sluice server processes that no longer run
// (e.g. after a crash, when descendants of function processes may have survived). Cgroups of
// live servers are left alone, so it is safe to call at any time. It returns how many sandboxes
// were removed.
func CleanupStale(cgroupParent string) (int, error) {
	if cgroupParent == "" {
		cgroupParent = DefaultCgroupParent
	}
	m := Detect()
	if !m.cgroups() {
		return 0, nil
	}
	var roots []string // parent directory on each hierarchy
	if m.CgroupV2 {
		roots = append(roots, filepath.Join(m.cg.v2, cgroupParent))
	} else {
		seen := map[string]bool{}
		for _, mp := range m.cg.v1 {
			if !seen[mp] {
				seen[mp] = true
				roots = append(roots, filepath.Join(mp, cgroupParent))
			}
		}
	}
	stale := map[string]*cgroup{}
	var names []string
	for _, root := range roots {
		ents, _ := os.ReadDir(root)
		for _, e := range ents {
			sm := staleName.FindStringSubmatch(e.Name())
			if !e.IsDir() || sm == nil {
				continue
			}
			pid, _ := strconv.Atoi(sm[1])
			start, _ := strconv.ParseUint(sm[2], 10, 64)
			if st, s, ok := procStat(pid); ok && s == start && st != 'Z' {
				continue // its server is still running
			}
			c := stale[e.Name()]
			if c == nil {
				c = &cgroup{v2: m.CgroupV2}
				stale[e.Name()] = c
				names = append(names, e.Name())
			}
			dir := filepath.Join(root, e.Name())
			c.dirs = append(c.dirs, dir)
			if _, err := os.Stat(filepath.Join(dir, "freezer.state")); err == nil || m.CgroupV2 {
				c.freezer = dir
			}
		}
	}
	var errs []error
	for _, n := range names {
		errs = append(errs, stale[n].destroy())
	}
	return len(names), errors.Join(errs...)
}
