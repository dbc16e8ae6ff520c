//go:build linux

package sandbox

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/scratch"
)

// Fixture layout (all below a 0755 directory in /var/tmp, so that unprivileged uids can reach it
// when there is no mount namespace; /root and the Go build cache are 0700):
//
//	root/data/                  the "server data dir": hidden in every sandbox
//	root/data/secret.txt
//	root/data/code/fn1/         CodeDir of the tests (hello.txt, notexec.txt)
//	root/data/code/fn2/secret   a sibling package that must not be visible
//	root/data/tmp/<test>/       TmpDirs
//	root/shims/                 an ExtraReadOnly dir, mounted at /opt/sluice-test-runtime
var fx struct {
	root, data, code, sibling, shims string
}

const shimMount = "/opt/sluice-runtime" // the server's own shim mount point, so the tests add no other

func TestMain(m *testing.M) {
	MaybeRunInit()
	outputGrace = 500 * time.Millisecond // keeps the slow-writer tests short
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	// Not below /tmp: the sandbox's private /tmp would hide the fixture's HideDirs by itself.
	base := "/var/tmp"
	if fi, err := os.Stat(base); err != nil || !fi.IsDir() {
		base = "/tmp"
	}
	root, err := os.MkdirTemp(base, "sandbox-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(root)
	fx.root = root
	fx.data = filepath.Join(root, "data")
	fx.code = filepath.Join(fx.data, "code", "fn1")
	fx.sibling = filepath.Join(fx.data, "code", "fn2")
	fx.shims = filepath.Join(root, "shims")
	files := map[string]string{
		filepath.Join(fx.data, "secret.txt"):      "data secret\n",
		filepath.Join(fx.code, "hello.txt"):       "hello from fn1\n",
		filepath.Join(fx.code, "notexec.txt"):     "not executable\n",
		filepath.Join(fx.sibling, "secret.txt"):   "fn2 secret\n",
		filepath.Join(fx.shims, "shim.js"):        "// shim\n",
		filepath.Join(fx.data, "tmp", ".keep"):    "",
		filepath.Join(fx.code, "sub", "deep.txt"): "deep\n",
	}
	for name, body := range files {
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if err := os.WriteFile(name, []byte(body), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	// MkdirTemp made root 0700.
	if err := os.Chmod(root, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// nextUID hands every sandbox a uid of its own, as the pool will: the no-cgroup fallback kills
// by uid and RLIMIT_NPROC counts per uid. Nothing else on the machine uses these.
var uidSeq atomic.Uint32

func nextUID() uint32 { return 61000 + uidSeq.Add(1) }

// modes are the mechanism sets the behavioural tests run under: whatever this host offers,
// plus forced fallbacks so that the rlimit/uid paths are exercised on a fully capable machine.
type mode struct {
	name string
	mech Mechanisms
}

func modes(t *testing.T) []mode {
	host := Detect()
	ms := []mode{{"host", host}}
	if host.MountNamespace && host.cgroups() {
		nocg := host.clone()
		nocg.CgroupV1, nocg.CgroupV2, nocg.cg = false, false, cgroupInfo{}
		ms = append(ms, mode{"mountns-no-cgroup", nocg})
	}
	if host.MountNamespace || host.cgroups() {
		ms = append(ms, mode{"rlimits-only", Mechanisms{Rlimits: true}})
	}
	return ms
}

// unifiedMembershipMode exercises the v2 code paths on a hybrid host whose cgroup2 mount has no
// memory/pids controllers: membership, cgroup.kill and removal still work there.
func unifiedMembershipMode(t *testing.T) (mode, bool) {
	host := Detect()
	_, v2 := cgroupMounts()
	if host.CgroupV2 || v2 == "" || !host.MountNamespace || !writableCgroupDir(v2) {
		return mode{}, false
	}
	m := host.clone()
	m.CgroupV1, m.CgroupV2 = false, true
	m.cg = cgroupInfo{v2: v2}
	return mode{"cgroup2-membership-only", m}, true
}

// syncBuffer is a goroutine-safe bytes.Buffer.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// baseSpec is a sandbox running `sh -c script` with the fixture's directories.
func baseSpec(t *testing.T, m mode, script string) (Spec, *syncBuffer, *syncBuffer) {
	t.Helper()
	uid := nextUID()
	tmp := filepath.Join(fx.data, "tmp", strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()))
	t.Cleanup(func() { os.RemoveAll(tmp) })
	var out, errb syncBuffer
	mech := m.mech
	return Spec{
		Path:          "/bin/sh",
		Args:          []string{"-c", script},
		Env:           []string{"PATH=/usr/bin:/bin", "ONLY_THIS=1"},
		CodeDir:       fx.code,
		ExtraReadOnly: []Mount{{Host: fx.shims, Sandbox: shimMount}},
		UID:           uid,
		GID:           uid,
		TmpDir:        tmp,
		HideDirs:      []string{fx.data},
		Stdout:        &out,
		Stderr:        &errb,
		mech:          &mech,
	}, &out, &errb
}

func start(t *testing.T, spec Spec) *Process {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := Start(ctx, spec)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(p.Kill)
	return p
}

// waitTimeout fails the test instead of hanging it.
func waitTimeout(t *testing.T, p *Process, d time.Duration) Exit {
	t.Helper()
	ch := make(chan Exit, 1)
	go func() { ch <- p.Wait() }()
	select {
	case e := <-ch:
		return e
	case <-time.After(d):
		t.Fatalf("Wait did not return within %v", d)
		return Exit{}
	}
}

// kv parses KEY=value lines.
func kv(s string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			m[k] = v
		}
	}
	return m
}

func TestDetect(t *testing.T) {
	m := Detect()
	t.Logf("MountNamespace=%v CgroupV1=%v CgroupV2=%v Rlimits=%v", m.MountNamespace, m.CgroupV1, m.CgroupV2, m.Rlimits)
	for _, n := range m.Notes {
		t.Logf("note: %s", n)
	}
	if !m.Rlimits {
		t.Error("Rlimits must always be available")
	}
	if m.CgroupV1 && m.CgroupV2 {
		t.Error("only one cgroup version may be in use")
	}
	if os.Geteuid() == 0 {
		if !m.MountNamespace {
			t.Error("running as root but no mount namespace")
		}
		if _, err := os.Stat("/sys/fs/cgroup/memory/memory.limit_in_bytes"); err == nil && !m.CgroupV1 {
			t.Error("cgroup v1 memory hierarchy mounted but CgroupV1 = false")
		}
	}
	m.Notes[0] = "changed"
	if Detect().Notes[0] == "changed" {
		t.Error("Detect returns a shared Notes slice")
	}
}

func TestIdentityCwdEnv(t *testing.T) {
	for _, m := range modes(t) {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			script := `echo UID=$(id -u); echo GID=$(id -g); echo GROUPS=$(id -G); echo PWD=$(pwd -P)
echo CAPS=$(grep CapEff /proc/self/status | tr -d ' \t')
echo NNP=$(grep NoNewPrivs /proc/self/status | tr -d ' \t')
echo NOFILE=$(ulimit -n); echo NOFILE_HARD=$(ulimit -H -n); echo CORE=$(ulimit -c)
echo DATA=$(ulimit -d); echo NPROC=$(ulimit -p); echo FSIZE=$(ulimit -f)
echo ENV=$(env | sort | tr '\n' ,)`
			spec, out, errb := baseSpec(t, m, script)
			spec.MemoryMB, spec.MaxProcs, spec.TmpSizeMB = 128, 100, 64
			if raceEnabled && !m.mech.memoryCgroup() {
				// Under RLIMIT_DATA the race runtime's own threads may still map trace memory between the
				// limit and the exec; give a race-enabled init room (production binaries have no such threads).
				spec.MemoryMB = 4096
			}
			p := start(t, spec)
			e := waitTimeout(t, p, 10*time.Second)
			if e.Code != 0 || e.Signal != "" || e.Err != nil {
				t.Fatalf("exit %+v, stderr %q", e, errb.String())
			}
			got := kv(out.String())
			want := map[string]string{
				"UID":         strconv.Itoa(int(spec.UID)),
				"GID":         strconv.Itoa(int(spec.GID)),
				"GROUPS":      strconv.Itoa(int(spec.GID)),
				"PWD":         m.mech.TaskRoot(spec),
				"CAPS":        "CapEff:0000000000000000",
				"NNP":         "NoNewPrivs:1",
				"NOFILE":      "1024",
				"NOFILE_HARD": "4096",
				"CORE":        "0",
				"FSIZE":       strconv.Itoa(64 << 20 / 512), // in 512-byte blocks
				// env(1) is run by sh, which adds PWD; nothing else may appear.
				"ENV": "ONLY_THIS=1,PATH=/usr/bin:/bin,PWD=" + m.mech.TaskRoot(spec) + ",",
			}
			// With cgroups these two are inherited from the server.
			if !m.mech.memoryCgroup() {
				want["DATA"] = strconv.Itoa(spec.MemoryMB << 10) // KiB
			}
			if !m.mech.pidsCgroup() {
				want["NPROC"] = "100"
			}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
			if m.mech.MountNamespace && got["PWD"] != DefaultTaskRoot {
				t.Errorf("cwd %q, want %s", got["PWD"], DefaultTaskRoot)
			}
		})
	}
}

// TestEnvExact runs env(1) directly: the environment is exactly Spec.Env.
func TestEnvExact(t *testing.T) {
	spec, out, _ := baseSpec(t, modes(t)[0], "")
	spec.Path, spec.Args = "/usr/bin/env", nil
	spec.Env = []string{"A=1", "B=two words", "AWS_SECRET_ACCESS_KEY=s3cr3t"}
	p := start(t, spec)
	if e := waitTimeout(t, p, 10*time.Second); e.Code != 0 {
		t.Fatalf("exit %+v", e)
	}
	if got, want := out.String(), "A=1\nB=two words\nAWS_SECRET_ACCESS_KEY=s3cr3t\n"; got != want {
		t.Errorf("env = %q, want %q", got, want)
	}
}

// TestSignalDispositions: the function starts with no ignored or blocked signals, even if the
// server inherited ignored ones (as under nohup).
func TestSignalDispositions(t *testing.T) {
	signal.Ignore(syscall.SIGHUP)
	defer signal.Reset(syscall.SIGHUP)
	spec, out, _ := baseSpec(t, modes(t)[0], "")
	spec.Path, spec.Args = "/bin/grep", []string{"-E", "^Sig(Ign|Blk)", "/proc/self/status"}
	p := start(t, spec)
	if e := waitTimeout(t, p, 10*time.Second); e.Code != 0 {
		t.Fatalf("exit %+v", e)
	}
	if got, want := out.String(), "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestFilesystem(t *testing.T) {
	host := Detect()
	if !host.MountNamespace {
		t.Skip("no mount namespace on this host")
	}
	for _, withTmpDir := range []bool{true, false} {
		t.Run(fmt.Sprintf("TmpDir=%v", withTmpDir), func(t *testing.T) {
			t.Parallel()
			marker := fmt.Sprintf("sandbox-marker-%d-%v", os.Getpid(), withTmpDir)
			script := `
try() { name=$1; shift; if "$@" >/dev/null 2>&1; then echo "$name=yes"; else echo "$name=no"; fi; }
try CODE_WRITE sh -c 'echo x > /var/task/new.txt'
try CODE_READ cat /var/task/hello.txt
try CODE_SUBDIR cat /var/task/sub/deep.txt
echo CODE_LIST=$(ls -A /var/task | tr '\n' ,)
try TMP_WRITE sh -c 'echo private > /tmp/` + marker + `'
echo TMP_MODE=$(stat -c %a:%u /tmp)
try DATA_SECRET cat ` + fx.data + `/secret.txt
try SIBLING cat ` + fx.sibling + `/secret.txt
try SIBLING_REL cat /var/task/../fn2/secret.txt
echo DATA_LIST=$(ls -A ` + fx.data + ` | tr '\n' ,)
try SHIM cat ` + shimMount + `/shim.js
try SHIM_WRITE sh -c 'echo x > ` + shimMount + `/new.js'
try ROOT_WRITE sh -c 'echo x > /var/tmp/sandbox-test-` + marker + `'
try DEVSHM_WRITE sh -c 'echo x > /dev/shm/` + marker + `'
try SERVER_PROC test -e /proc/` + strconv.Itoa(os.Getpid()) + `
`
			spec, out, errb := baseSpec(t, mode{"host", host}, script)
			if !withTmpDir {
				spec.TmpDir = ""
				spec.TmpSizeMB = 16
			}
			p := start(t, spec)
			e := waitTimeout(t, p, 10*time.Second)
			if e.Code != 0 {
				t.Fatalf("exit %+v, stderr %q", e, errb.String())
			}
			got := kv(out.String())
			want := map[string]string{
				"CODE_WRITE":   "no",
				"CODE_READ":    "yes",
				"CODE_SUBDIR":  "yes",
				"CODE_LIST":    "hello.txt,notexec.txt,sub,",
				"TMP_WRITE":    "yes",
				"TMP_MODE":     fmt.Sprintf("700:%d", spec.UID),
				"DATA_SECRET":  "no",
				"SIBLING":      "no",
				"SIBLING_REL":  "no",
				"DATA_LIST":    "",
				"SHIM":         "yes",
				"SHIM_WRITE":   "no",
				"DEVSHM_WRITE": "yes",
			}
			if host.roRoot {
				want["ROOT_WRITE"] = "no"
			}
			if host.procHidepid {
				want["SERVER_PROC"] = "no"
			}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
			if _, err := os.Stat(filepath.Join("/tmp", marker)); err == nil {
				t.Error("the sandbox's /tmp file is visible in the host's /tmp")
			}
			if _, err := os.Stat(filepath.Join("/dev/shm", marker)); err == nil {
				t.Error("the sandbox's /dev/shm file is visible in the host's /dev/shm")
			}
			os.Remove("/var/tmp/sandbox-test-" + marker)
			if withTmpDir {
				b, err := os.ReadFile(filepath.Join(spec.TmpDir, marker))
				if err != nil || string(b) != "private\n" {
					t.Errorf("TmpDir does not hold the sandbox's /tmp file: %q %v", b, err)
				}
				if fi, err := os.Stat(spec.TmpDir); err != nil || fi.Mode().Perm() != 0o700 ||
					fi.Sys().(*syscall.Stat_t).Uid != spec.UID {
					t.Errorf("TmpDir mode/owner wrong: %v %v", fi.Mode(), err)
				}
			}
		})
	}
}

func TestTmpfsSizeLimit(t *testing.T) {
	if !Detect().MountNamespace {
		t.Skip("no mount namespace on this host")
	}
	spec, out, errb := baseSpec(t, mode{"host", Detect()}, `head -c 20000000 /dev/zero > /tmp/big; echo RC=$?; echo SIZE=$(stat -c %s /tmp/big)`)
	spec.TmpDir, spec.TmpSizeMB, spec.MemoryMB = "", 8, 256
	p := start(t, spec)
	waitTimeout(t, p, 10*time.Second)
	got := kv(out.String())
	if got["RC"] == "0" || got["SIZE"] == "20000000" {
		t.Errorf("writing 20 MB into an 8 MB /tmp succeeded: %q %q", out.String(), errb.String())
	}
}

// TestTmpDevice: /tmp on a volume of its own is bounded in total (several files, each under the per-file limit,
// stop at ENOSPC), owned by the sandbox, empty, and costs no memory.
func TestTmpDevice(t *testing.T) {
	if !Detect().MountNamespace {
		t.Skip("no mount namespace on this host")
	}
	pool, err := scratch.Open(filepath.Join(t.TempDir(), "scratch"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Skipf("no scratch volumes on this host: %v", err)
	}
	defer pool.Close()
	const sizeMB = 40
	vol, err := pool.Take(t.Context(), sizeMB)
	if err != nil {
		t.Fatal(err)
	}
	defer vol.Release()
	// Three files of 30 MB each (under RLIMIT_FSIZE = 40 MB): a per-file limit alone would let 90 MB through.
	spec, out, errb := baseSpec(t, mode{"host", Detect()}, `ls -A /tmp | wc -l | sed 's/^/ENTRIES=/'; stat -c 'OWNER=%u MODE=%a' /tmp;
for i in 1 2 3; do head -c 31457280 /dev/zero > /tmp/f$i 2>/tmp/err$i || { echo FAILED=$i; cat /tmp/err$i; break; }; done
echo TOTAL=$(du -sm /tmp | cut -f1)`)
	spec.TmpDir, spec.TmpDevice, spec.TmpFSType, spec.TmpMount, spec.TmpSizeMB, spec.MemoryMB = "", vol.Device, scratch.FSType, vol.Mount, sizeMB, 32
	p := start(t, spec)
	waitTimeout(t, p, 20*time.Second)
	text := out.String()
	got := kv(text)
	if got["ENTRIES"] != "0" {
		t.Errorf("/tmp is not empty at start: %q", text)
	}
	if !strings.Contains(text, fmt.Sprintf("OWNER=%d MODE=700", spec.UID)) {
		t.Errorf("/tmp owner/mode: %q", text)
	}
	if got["FAILED"] != "2" || !strings.Contains(text, "No space left on device") {
		t.Errorf("writing 90 MB into a %d MB /tmp: want the second file to fail with ENOSPC, got %q %q", sizeMB, text, errb.String())
	}
	// The volume leaves room for ext4's own tables (a fixed 16 MB is generous at this test's small size).
	if total, _ := strconv.Atoi(got["TOTAL"]); total > sizeMB+18 || total < sizeMB {
		t.Errorf("/tmp holds %d MB, want %d to %d", total, sizeMB, sizeMB+18)
	}
	if x := p.Wait(); x.OOMKilled {
		t.Errorf("filling /tmp cost memory: OOM-killed with a 32 MB limit")
	}

	// The pre-made mount is attached as it is: with a device that does not exist, only that path can work.
	if vol2, err := pool.Take(t.Context(), sizeMB); err == nil && vol2.Mount != nil {
		defer vol2.Release()
		spec, out, errb := baseSpec(t, mode{"host", Detect()}, `echo USED=$(stat -f -c %b /tmp)`)
		spec.TmpDir, spec.TmpDevice, spec.TmpFSType, spec.TmpMount = "", "/dev/sluice-no-such-device", scratch.FSType, vol2.Mount
		p := start(t, spec)
		waitTimeout(t, p, 10*time.Second)
		if kv(out.String())["USED"] == "" {
			t.Errorf("attaching the pre-made mount: %q %q", out.String(), errb.String())
		}
	}
}

func TestExitStatus(t *testing.T) {
	cases := []struct {
		name   string
		script string
		code   int
		signal string
	}{
		{"zero", "exit 0", 0, ""},
		{"three", "exit 3", 3, ""},
		{"segv", "kill -SEGV $$", -1, "segmentation fault"},
		{"kill", "kill -KILL $$", -1, "killed"},
		{"term", "kill -TERM $$", -1, "terminated"},
	}
	for _, m := range modes(t) {
		for _, c := range cases {
			t.Run(m.name+"/"+c.name, func(t *testing.T) {
				t.Parallel()
				spec, _, _ := baseSpec(t, m, c.script)
				p := start(t, spec)
				e := waitTimeout(t, p, 10*time.Second)
				if e.Code != c.code || e.Signal != c.signal || e.OOMKilled || e.Err != nil {
					t.Errorf("exit %+v, want code %d signal %q", e, c.code, c.signal)
				}
				select {
				case <-p.Done():
				default:
					t.Error("Done not closed after Wait")
				}
				if e2 := p.Wait(); e2 != e {
					t.Errorf("second Wait = %+v, first %+v", e2, e)
				}
			})
		}
	}
}

func TestExecFailure(t *testing.T) {
	for _, m := range modes(t) {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			cases := []struct {
				path string
				is   error
			}{
				{"/var/task/bootstrap", fs.ErrNotExist},
				{"/var/task/notexec.txt", fs.ErrPermission},
				{"/var/task/sub", fs.ErrPermission},
			}
			for _, c := range cases {
				spec, _, _ := baseSpec(t, m, "")
				spec.Path = c.path
				began := time.Now()
				p, err := Start(context.Background(), spec)
				if err == nil {
					p.Kill()
					t.Fatalf("%s: Start succeeded", c.path)
				}
				if !errors.Is(err, ErrExecFailed) || !errors.Is(err, c.is) {
					t.Errorf("%s: err = %v, want ErrExecFailed and %v", c.path, err, c.is)
				}
				var pe *fs.PathError
				if u := errors.Unwrap(err); !errors.As(u, &pe) || pe.Op != "exec" {
					t.Errorf("%s: errors.Unwrap(err) = %v, want the *fs.PathError", c.path, u)
				}
				if !strings.Contains(err.Error(), "exec "+m.mech.Resolve(spec, c.path)+": ") {
					t.Errorf("%s: err = %q does not name the path", c.path, err)
				}
				if d := time.Since(began); d > 3*time.Second {
					t.Errorf("%s: Start took %v", c.path, d)
				}
				t.Logf("%s: %v", c.path, err)
			}
		})
	}
}

func TestInvalidSpec(t *testing.T) {
	ok, _, _ := baseSpec(t, modes(t)[0], "true")
	cases := []struct {
		name string
		mod  func(*Spec)
	}{
		{"uid 0", func(s *Spec) { s.UID = 0 }},
		{"gid 0", func(s *Spec) { s.GID = 0 }},
		{"relative path", func(s *Spec) { s.Path = "bootstrap" }},
		{"relative code dir", func(s *Spec) { s.CodeDir = "code" }},
		{"missing code dir", func(s *Spec) { s.CodeDir = "/nonexistent/code" }},
		{"task root /", func(s *Spec) { s.TaskRoot = "/" }},
		{"task root in /tmp", func(s *Spec) { s.TaskRoot = "/tmp/task" }},
		{"task root unclean", func(s *Spec) { s.TaskRoot = "/var/task/" }},
		{"nested mounts", func(s *Spec) { s.ExtraReadOnly = []Mount{{fx.shims, "/var/task/opt"}} }},
		{"hide covers task root", func(s *Spec) { s.HideDirs = []string{"/var"} }},
		{"hide /proc", func(s *Spec) { s.HideDirs = []string{"/proc/sys"} }},
		{"cgroup parent escapes", func(s *Spec) { s.CgroupParent = "../x" }},
		{"negative memory", func(s *Spec) { s.MemoryMB = -1 }},
		{"tiny memory", func(s *Spec) { s.MemoryMB = 1 }},
		{"tiny MaxProcs", func(s *Spec) { s.MaxProcs = 2 }},
	}
	for _, c := range cases {
		s := ok
		c.mod(&s)
		if p, err := Start(context.Background(), s); err == nil {
			p.Kill()
			t.Errorf("%s: Start succeeded", c.name)
		} else if errors.Is(err, ErrExecFailed) {
			t.Errorf("%s: got ErrExecFailed: %v", c.name, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Start(ctx, ok); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled ctx: err = %v", err)
	}
}

func TestResolve(t *testing.T) {
	spec := Spec{CodeDir: "/data/code/x", TmpDir: "/data/tmp/x",
		ExtraReadOnly: []Mount{{"/usr/lib/sluice/rt", "/opt/rt"}}}
	cases := []struct{ in, ns, bare string }{
		{"/var/task", "/var/task", "/data/code/x"},
		{"/var/task/bootstrap", "/var/task/bootstrap", "/data/code/x/bootstrap"},
		{"/var/taskforce", "/var/taskforce", "/var/taskforce"},
		{"/opt/rt/node.js", "/opt/rt/node.js", "/usr/lib/sluice/rt/node.js"},
		{"/tmp", "/tmp", "/data/tmp/x"},
		{"/usr/bin/node", "/usr/bin/node", "/usr/bin/node"},
	}
	for _, c := range cases {
		if got := (Mechanisms{MountNamespace: true}).Resolve(spec, c.in); got != c.ns {
			t.Errorf("ns Resolve(%s) = %s, want %s", c.in, got, c.ns)
		}
		if got := (Mechanisms{}).Resolve(spec, c.in); got != c.bare {
			t.Errorf("bare Resolve(%s) = %s, want %s", c.in, got, c.bare)
		}
	}
	if got := (Mechanisms{}).TaskRoot(spec); got != "/data/code/x" {
		t.Errorf("TaskRoot = %s", got)
	}
}

// pidsOf reads the pids the script prints as PID=<n> lines.
func pidsOf(s string) []int {
	var pids []int
	for _, line := range strings.Split(s, "\n") {
		if v, ok := strings.CutPrefix(line, "PID="); ok {
			if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
				pids = append(pids, n)
			}
		}
	}
	return pids
}

// waitOutput waits until the sandbox has printed marker, failing early if it exits first.
func waitOutput(t *testing.T, p *Process, out, errb *syncBuffer, marker string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), marker) {
		select {
		case <-p.Done():
			if strings.Contains(out.String(), marker) {
				return
			}
			t.Fatalf("exited (%+v) before printing %q; stdout %q, stderr %q", p.Wait(), marker, out.String(), errb.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %q; stdout %q, stderr %q", marker, out.String(), errb.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// killTreeScript starts children, grandchildren, a process in another process group and a
// double-forked setsid daemon, printing their pids.
const killTreeScript = `
sleep 300 & echo PID=$!
sh -c 'sleep 300 & echo PID=$!; wait' & echo PID=$!
sh -c 'set -m; sleep 300 & echo PID=$!; wait' & echo PID=$!
setsid sh -c 'sleep 300 & echo PID=$!' &
setsid sh -c 'sh -c "sleep 300 & echo PID=\$!" & wait' &
sleep 0.3
echo READY
wait
`

func TestKillTree(t *testing.T) {
	ms := modes(t)
	if u, ok := unifiedMembershipMode(t); ok {
		ms = append(ms, u)
	}
	for _, m := range ms {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			spec, out, errb := baseSpec(t, m, killTreeScript)
			p := start(t, spec)
			waitOutput(t, p, out, errb, "READY")
			pids := append(pidsOf(out.String()), p.Pid())
			if len(pids) < 8 {
				t.Fatalf("expected 8 pids, got %v (%q)", pids, out.String())
			}
			for _, pid := range pids {
				if !alive(pid) {
					t.Fatalf("pid %d not running before Kill", pid)
				}
			}
			select {
			case <-p.Done():
				t.Fatal("Done closed while running")
			default:
			}

			// Kill and Wait concurrently, several times.
			var wg sync.WaitGroup
			exits := make([]Exit, 4)
			for i := range exits {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if i%2 == 0 {
						p.Kill()
					}
					exits[i] = p.Wait()
				}()
			}
			done := make(chan struct{})
			go func() { wg.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(15 * time.Second):
				t.Fatal("Kill/Wait hung")
			}
			for _, e := range exits {
				if e.Signal != "killed" || e.Code != -1 {
					t.Errorf("exit %+v, want killed", e)
				}
			}
			for _, pid := range pids {
				if alive(pid) {
					t.Errorf("pid %d survived Kill", pid)
				}
			}
			if left := pidsOfUID(spec.UID); len(left) > 0 {
				t.Errorf("processes of uid %d survived: %v", spec.UID, left)
			}
			p.Kill() // after teardown: a no-op
			if p.cg != nil {
				for _, d := range p.cg.dirs {
					t.Errorf("cgroup %s not removed", d)
				}
			}
		})
	}
}

// TestMainExitKillsDescendants: when the main process exits by itself, Wait still leaves
// nothing behind (a Lambda runtime that exits must not leak its daemons).
func TestMainExitKillsDescendants(t *testing.T) {
	for _, m := range modes(t) {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			spec, out, _ := baseSpec(t, m, `setsid sh -c 'sleep 300 & echo PID=$!' & sleep 300 & echo PID=$!; sleep 0.2; exit 7`)
			p := start(t, spec)
			e := waitTimeout(t, p, 15*time.Second)
			if e.Code != 7 {
				t.Errorf("exit %+v, want 7", e)
			}
			pids := pidsOf(out.String())
			if len(pids) != 2 {
				t.Fatalf("pids %v (%q)", pids, out.String())
			}
			for _, pid := range pids {
				if alive(pid) {
					t.Errorf("pid %d survived the main process", pid)
				}
			}
		})
	}
}

func TestMemoryLimit(t *testing.T) {
	for _, m := range modes(t) {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			// Allocate and touch 300 MB (dash keeps the whole string in memory).
			spec, out, errb := baseSpec(t, m, `x=$(head -c 300000000 /dev/zero | tr '\0' x); echo LEN=${#x}`)
			spec.MemoryMB = 64
			p := start(t, spec)
			e := waitTimeout(t, p, 20*time.Second)
			t.Logf("exit %+v, stderr %q, peak %d", e, errb.String(), p.PeakMemoryBytes())
			if kv(out.String())["LEN"] == "300000000" || (e.Code == 0 && e.Signal == "") {
				t.Fatalf("the memory hog succeeded: %+v", e)
			}
			if m.mech.memoryCgroup() {
				if !e.OOMKilled || e.Signal != "killed" {
					t.Errorf("exit %+v, want OOMKilled by SIGKILL", e)
				}
				if peak := p.PeakMemoryBytes(); peak < 32<<20 || peak > 80<<20 {
					t.Errorf("peak %d, want about 64 MiB", peak)
				}
			} else if e.OOMKilled {
				t.Errorf("OOMKilled reported without a memory cgroup")
			}
			// The server is unaffected.
			buf := make([]byte, 100<<20)
			for i := 0; i < len(buf); i += 4096 {
				buf[i] = 1
			}
		})
	}
}

func TestPeakMemory(t *testing.T) {
	for _, m := range modes(t) {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			// dash keeps the 30 MB string while it waits for sleep.
			spec, out, errb := baseSpec(t, m, `x=$(head -c 30000000 /dev/zero | tr '\0' x); echo LEN=${#x}; echo READY; sleep 60`)
			spec.MemoryMB = 256
			p := start(t, spec)
			waitOutput(t, p, out, errb, "READY")
			live := p.PeakMemoryBytes()
			p.Kill()
			final := p.PeakMemoryBytes()
			t.Logf("live %d final %d", live, final)
			if live < 30e6 || final < 30e6 {
				t.Errorf("peak live %d, final %d; want >= 30 MB", live, final)
			}
			if live > 200<<20 || final > 200<<20 {
				t.Errorf("implausible peak live %d, final %d", live, final)
			}
		})
	}
}

func TestForkBomb(t *testing.T) {
	for _, m := range modes(t) {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			// A bounded bomb: an inner shell in its own session spawns up to 2000 long sleeps and
			// dies at the first fork failure (dash exits on "Cannot fork"); the main process then
			// stays alive without forking.
			spec, out, errb := baseSpec(t, m, `
setsid sh -c 'i=0; while [ $i -lt 2000 ]; do sleep 30 & i=$((i+1)); done; echo SPAWNED=$i' 2>&1
echo BOMB_EXIT=$?
exec sleep 60`)
			spec.MaxProcs = 64
			p := start(t, spec)
			waitOutput(t, p, out, errb, "BOMB_EXIT=")
			got := kv(out.String())
			if got["BOMB_EXIT"] == "0" || got["SPAWNED"] == "2000" {
				t.Fatalf("the bomb was not contained: %q %q", out.String(), errb.String())
			}
			if !strings.Contains(out.String(), "Cannot fork") {
				t.Errorf("no fork failure reported: %q", out.String())
			}
			n := len(pidsOfUID(spec.UID))
			t.Logf("processes in the sandbox: %d", n)
			if n > spec.MaxProcs || n < spec.MaxProcs/2 {
				t.Errorf("%d processes in the sandbox, want about %d", n, spec.MaxProcs)
			}
			if err := exec.Command("/bin/true").Run(); err != nil {
				t.Errorf("the server cannot fork: %v", err)
			}
			p.Kill()
			if left := pidsOfUID(spec.UID); len(left) > 0 {
				t.Errorf("%d processes survived Kill", len(left))
			}
		})
	}
}

// slowWriter takes delay per Write.
type slowWriter struct {
	delay time.Duration
	n     atomic.Int64
}

func (w *slowWriter) Write(p []byte) (int, error) {
	time.Sleep(w.delay)
	w.n.Add(int64(len(p)))
	return len(p), nil
}

func TestOutputFloodSlowWriter(t *testing.T) {
	m := modes(t)[0]
	t.Run("kill", func(t *testing.T) {
		t.Parallel()
		spec, _, _ := baseSpec(t, m, "")
		w := &slowWriter{delay: 50 * time.Millisecond}
		spec.Path, spec.Args, spec.Stdout, spec.Stderr = "/usr/bin/yes", nil, w, w
		p := start(t, spec)
		time.Sleep(300 * time.Millisecond)
		began := time.Now()
		p.Kill()
		if d := time.Since(began); d > outputGrace+2*time.Second {
			t.Errorf("Kill took %v", d)
		}
		if w.n.Load() == 0 {
			t.Error("no output delivered")
		}
	})
	t.Run("exit", func(t *testing.T) {
		t.Parallel()
		// 100 kB at one 32 kB chunk per second: the process can exit after a second or two (the
		// pipe buffers the rest), delivering everything would take four seconds or more.
		spec, _, _ := baseSpec(t, m, "yes | head -c 100000; exit 5")
		w := &slowWriter{delay: time.Second}
		spec.Stdout = w
		began := time.Now()
		p := start(t, spec)
		if e := waitTimeout(t, p, 10*time.Second); e.Code != 5 {
			t.Errorf("exit %+v", e)
		}
		d, n := time.Since(began), w.n.Load()
		t.Logf("Wait took %v, %d bytes delivered", d, n)
		if n >= 100000 || d > 3500*time.Millisecond+outputGrace {
			t.Errorf("Wait waited for the slow writer")
		}
	})
	t.Run("complete", func(t *testing.T) {
		t.Parallel()
		// A normal writer gets every byte, stdout and stderr interleaved in one stream.
		spec, _, _ := baseSpec(t, m, "i=0; while [ $i -lt 1000 ]; do echo out$i; echo err$i >&2; i=$((i+1)); done")
		var buf syncBuffer
		spec.Stdout, spec.Stderr = &buf, &buf
		p := start(t, spec)
		waitTimeout(t, p, 10*time.Second)
		sc := bufio.NewScanner(strings.NewReader(buf.String()))
		var lines []string
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		if len(lines) != 2000 || lines[0] != "out0" || lines[1] != "err0" || lines[1999] != "err999" {
			t.Errorf("got %d lines, first %q", len(lines), lines[:min(4, len(lines))])
		}
	})
}

func TestCleanupStale(t *testing.T) {
	m := Detect()
	if !m.cgroups() {
		t.Skip("no cgroups on this host")
	}
	parent := "sluice-test-stale"
	t.Cleanup(func() {
		for _, mp := range []string{m.cg.v1["memory"], m.cg.v1["pids"], m.cg.v1["freezer"], m.cg.v2} {
			if mp != "" {
				_ = syscall.Rmdir(filepath.Join(mp, parent))
			}
		}
	})
	// A sandbox of a server that "died": pid 999999999 does not exist.
	c := &cgroup{v2: m.CgroupV2}
	mounts := []string{m.cg.v2}
	if m.CgroupV1 {
		mounts = []string{m.cg.v1["memory"], m.cg.v1["pids"]}
	}
	for _, mp := range mounts {
		if mp == "" {
			continue
		}
		dir := filepath.Join(mp, parent, "p999999999.1-1")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		c.dirs = append(c.dirs, dir)
	}
	if fr := m.cg.v1["freezer"]; fr != "" {
		dir := filepath.Join(fr, parent, "p999999999.1-1")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		c.dirs = append(c.dirs, dir)
		c.freezer = dir
	}
	cmd := exec.Command("/bin/sleep", "300")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if err := c.join(cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	// The server died while the sandbox was frozen: CleanupStale must thaw it to kill it.
	c.freeze(true)
	if c.freezer != "" {
		if st, _ := readFile(c.freezer, "freezer.state"); st != "FROZEN" {
			t.Errorf("freezer.state = %q", st)
		}
	}
	// And one of this (live) server, which must survive.
	live, err := newCgroup(m, parent, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	defer live.destroy()
	n, err := CleanupStale(parent)
	if n != 1 || err != nil {
		t.Errorf("CleanupStale = %d, %v; want 1, nil", n, err)
	}
	werr := cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
		t.Errorf("stale process: %v", werr)
	}
	for _, d := range c.dirs {
		if _, err := os.Stat(d); err == nil {
			t.Errorf("%s still exists", d)
		}
	}
	for _, d := range live.dirs {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("live cgroup removed: %v", err)
		}
	}
}

// TestConcurrentStartsNoLeaks starts many sandboxes at once, including failing ones, and checks
// that each gets its own output and that no descriptor or cgroup of the server leaks.
func TestConcurrentStartsNoLeaks(t *testing.T) {
	countFDs := func() int {
		ents, _ := os.ReadDir("/proc/self/fd")
		return len(ents)
	}
	// Warm up (Detect, pollers) so that one-time descriptors are not counted as leaks.
	spec, _, _ := baseSpec(t, modes(t)[0], "true")
	waitTimeout(t, start(t, spec), 10*time.Second)
	before := countFDs()

	var wg sync.WaitGroup
	for i := range 24 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			spec, out, _ := baseSpec(t, modes(t)[0], fmt.Sprintf("echo hello %d", i))
			if i%4 == 3 {
				spec.Path = "/var/task/missing"
				if _, err := Start(context.Background(), spec); !errors.Is(err, ErrExecFailed) {
					t.Errorf("%d: err = %v", i, err)
				}
				return
			}
			p, err := Start(context.Background(), spec)
			if err != nil {
				t.Errorf("%d: %v", i, err)
				return
			}
			if e := p.Wait(); e.Code != 0 {
				t.Errorf("%d: exit %+v", i, e)
			}
			if got, want := out.String(), fmt.Sprintf("hello %d\n", i); got != want {
				t.Errorf("%d: output %q, want %q", i, got, want)
			}
		}()
	}
	wg.Wait()
	// Output copiers finish asynchronously after Wait; give them a moment.
	waitForCond(t, 2*time.Second, func() bool { return countFDs() <= before })
	if after := countFDs(); after > before {
		t.Errorf("descriptors: %d before, %d after", before, after)
	}
}

func waitForCond(t *testing.T, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
}

func TestFlushOutputDeliversEverythingWrittenBefore(t *testing.T) {
	for _, m := range modes(t) {
		t.Run(m.name, func(t *testing.T) {
			// The process writes 2000 lines, then a marker file in /tmp, then idles: once the marker exists, every
			// line is in the pipe or already delivered, and a flush must deliver all of them.
			spec, out, _ := baseSpec(t, m, `i=0; while [ $i -lt 2000 ]; do echo "line $i"; i=$((i+1)); done; : > "$MARKER"; sleep 30`)
			spec.Env = append(spec.Env, "MARKER="+m.mech.Resolve(spec, "/tmp/written"))
			p := start(t, spec)
			marker := filepath.Join(spec.TmpDir, "written")
			deadline := time.Now().Add(20 * time.Second)
			for {
				if _, err := os.Stat(marker); err == nil {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the process never wrote its marker")
				}
				time.Sleep(5 * time.Millisecond)
			}
			p.FlushOutput(5 * time.Second)
			if got := out.String(); !strings.HasSuffix(got, "line 1999\n") || strings.Count(got, "\n") != 2000 {
				t.Fatalf("after flush: %d lines, ends %q", strings.Count(got, "\n"), got[max(0, len(got)-20):])
			}
			p.Kill()
			p.FlushOutput(time.Second) // on a dead process: returns, does not hang
		})
	}
}

func TestPrestartedInit(t *testing.T) {
	Prewarm(1)
	defer Prewarm(0)
	deadline := time.Now().Add(10 * time.Second)
	for {
		warm.mu.Lock()
		n := len(warm.idle)
		warm.mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no init was prestarted")
		}
		time.Sleep(5 * time.Millisecond)
	}
	spec, out, _ := baseSpec(t, mode{"host", Detect()}, `echo "uid=$(id -u) cwd=$(pwd)"; echo oops >&2`)
	spec.mech = nil // the host's mechanisms, so a prestarted init may serve
	spec.Stderr = spec.Stdout
	warm.mu.Lock()
	takenBefore := warm.taken
	warm.mu.Unlock()
	p := start(t, spec)
	warm.mu.Lock()
	taken := warm.taken - takenBefore
	warm.mu.Unlock()
	if taken != 1 {
		t.Fatalf("Start took %d prestarted inits, want 1", taken)
	}
	if x := waitTimeout(t, p, 10*time.Second); x.Code != 0 {
		t.Fatalf("exit %+v", x)
	}
	want := fmt.Sprintf("uid=%d cwd=%s\noops\n", spec.UID, Detect().TaskRoot(spec))
	if got := out.String(); got != want {
		t.Fatalf("output %q, want %q", got, want)
	}
}

// TestCPUPinning: a sandbox asking for fewer CPUs than the server has runs on that many, and two live ones are
// spread over different CPUs; asking for none leaves the server's set.
func TestCPUPinning(t *testing.T) {
	all := allowedCPUs()
	if len(all) < 2 {
		t.Skipf("the server may use %d CPU(s): nothing to pin to", len(all))
	}
	cpusOf := func(cpus int) (string, *Process) {
		spec, out, _ := baseSpec(t, modes(t)[0], "grep Cpus_allowed_list /proc/self/status; exec sleep 30")
		spec.CPUs = cpus
		p := start(t, spec)
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(out.String(), "\n") {
			if time.Now().After(deadline) {
				t.Fatalf("no output from the sandbox: %q", out.String())
			}
			time.Sleep(5 * time.Millisecond)
		}
		return strings.TrimSpace(strings.TrimPrefix(out.String(), "Cpus_allowed_list:")), p
	}
	first, p1 := cpusOf(1)
	second, p2 := cpusOf(1)
	if strings.ContainsAny(first, ",-") || strings.ContainsAny(second, ",-") {
		t.Fatalf("pinned to %q and %q, want one CPU each", first, second)
	}
	if first == second {
		t.Fatalf("two live sandboxes share CPU %s while another is idle", first)
	}
	unpinned, p3 := cpusOf(0)
	if strings.Count(unpinned, ",")+strings.Count(unpinned, "-") == 0 {
		t.Fatalf("CPUs 0 ran on %q, want the server's whole set %v", unpinned, all)
	}
	for _, p := range []*Process{p1, p2, p3} {
		p.Kill()
		waitTimeout(t, p, 10*time.Second)
	}
	if pl := placer(); len(pl.load) != 0 {
		t.Fatalf("CPUs still held after the sandboxes ended: %v", pl.load)
	}
}

// TestFlushOutputAfterEachLine: a flush right after the process wrote one line delivers that line, round after
// round — whether the copier already has it, is handing it on, or has not woken up yet.
func TestFlushOutputAfterEachLine(t *testing.T) {
	m := modes(t)[0]
	spec, out, _ := baseSpec(t, m, `i=0; while [ $i -lt 100 ]; do while [ ! -e "$DIR/go$i" ]; do :; done; echo "line $i"; : > "$DIR/done$i"; i=$((i+1)); done; sleep 30`)
	spec.Env = append(spec.Env, "DIR="+m.mech.Resolve(spec, "/tmp"))
	p := start(t, spec)
	for i := range 100 {
		if err := os.WriteFile(filepath.Join(spec.TmpDir, fmt.Sprintf("go%d", i)), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			if _, err := os.Stat(filepath.Join(spec.TmpDir, fmt.Sprintf("done%d", i))); err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("round %d: the process never wrote its marker", i)
			}
			time.Sleep(200 * time.Microsecond)
		}
		p.FlushOutput(5 * time.Second)
		if got, want := out.String(), fmt.Sprintf("line %d\n", i); !strings.HasSuffix(got, want) {
			t.Fatalf("round %d: after flush the output ends %q, want %q", i, got[max(0, len(got)-20):], want)
		}
	}
}

// TestPeakMemoryRereads checks that the high-water mark, read once before the function grows (which opens the
// cgroup file it then keeps), is read afresh later.
func TestPeakMemoryRereads(t *testing.T) {
	for _, m := range modes(t) {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			spec, out, errb := baseSpec(t, m, "")
			// The signal to grow: a file in the sandbox's /tmp (spec.TmpDir), or where a sandbox without a mount
			// namespace sees that directory.
			grow := filepath.Join(spec.TmpDir, "grow")
			spec.Args[1] = `echo STARTED; while [ ! -e /tmp/grow ] && [ ! -e ` + grow + ` ]; do sleep 0.01; done; x=$(head -c 30000000 /dev/zero | tr '\0' x); echo LEN=${#x}; echo READY; sleep 60`
			spec.MemoryMB = 256
			p := start(t, spec)
			defer p.Kill()
			waitOutput(t, p, out, errb, "STARTED")
			before := p.PeakMemoryBytes()
			if err := os.WriteFile(grow, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			waitOutput(t, p, out, errb, "READY")
			after := p.PeakMemoryBytes()
			t.Logf("before %d after %d", before, after)
			if before >= 30e6 || after < 30e6 {
				t.Errorf("peak before growing %d, after %d; want < 30 MB, then >= 30 MB", before, after)
			}
		})
	}
}
