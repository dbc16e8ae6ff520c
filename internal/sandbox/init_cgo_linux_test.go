//go:build linux && cgo

package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"testing"
)

func TestCInitSharesTheGoConstants(t *testing.T) {
	env, role, plan, status, marker, magic, maxBytes, maxList := cInitConstants()
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"initEnv", env, initEnv}, {"roleInit", role, roleInit}, {"planFD", plan, planFD}, {"statusFD", status, statusFD},
		{"readyMarker", marker, byte(readyMarker)}, {"planMagic", magic, planMagic}, {"maxPlanBytes", maxBytes, maxPlanBytes},
		{"maxPlanList", maxList, maxPlanList},
	} {
		if c.got != c.want {
			t.Errorf("%s: C has %v, Go %v", c.name, c.got, c.want)
		}
	}
}

// runCInit starts this test binary as a sandbox init given plan, and returns what it wrote to its status pipe and
// to stderr, and its exit code.
func runCInit(t *testing.T, plan []byte) (status, stderr []byte, code int) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	planR, planW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	statusR, statusW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	var errBuf bytes.Buffer
	// inittrace makes the Go runtime print a line per package initialiser to stderr: silence proves that the
	// init acted before the Go runtime started.
	cmd := &exec.Cmd{Path: exe, Args: []string{"sluice-sandbox-init"}, Stderr: &errBuf,
		Env: []string{initEnv + "=" + roleInit, "GODEBUG=inittrace=1"}, ExtraFiles: []*os.File{planR, statusW}}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	planR.Close()
	statusW.Close()
	_, _ = planW.Write(plan)
	planW.Close()
	var out bytes.Buffer
	_, _ = out.ReadFrom(statusR)
	statusR.Close()
	_ = cmd.Wait()
	return out.Bytes(), errBuf.Bytes(), cmd.ProcessState.ExitCode()
}

// The C init refuses every plan Go's decoder refuses, before the Go runtime ever starts.
func TestCInitRejectsMalformedPlans(t *testing.T) {
	for _, tc := range malformedPlans(t) {
		t.Run(tc.name, func(t *testing.T) {
			status, stderr, code := runCInit(t, tc.b)
			if len(status) == 0 || status[0] != readyMarker {
				t.Fatalf("status %q does not start with the ready marker", status)
			}
			var st initStatus
			if err := json.Unmarshal(status[1:], &st); err != nil || st.Stage != "plan" || code != 127 {
				t.Errorf("status %q (%v), exit %d; want a plan failure and exit 127", status, err, code)
			}
			if len(stderr) > 0 {
				t.Errorf("the Go runtime started (stderr %.200q)", stderr)
			}
		})
	}
}

// A well-formed plan that fails later reports its stage and errno as the Go init would, still without Go.
func TestCInitReportsFailingStage(t *testing.T) {
	missing := "/nonexistent-sluice-test/bootstrap"
	for _, tc := range []struct {
		name  string
		plan  initPlan
		stage string
	}{
		{"uid 0 refused", initPlan{Path: "/bin/true", Argv: []string{"true"}, Dir: "/", UID: 0, GID: 0, ParentPID: os.Getpid()}, "credentials"},
		{"missing working directory", initPlan{Path: "/bin/true", Argv: []string{"true"}, Dir: "/nonexistent-sluice-test", UID: 65534, GID: 65534, ParentPID: os.Getpid()}, "chdir"},
		{"not our parent", initPlan{Path: "/bin/true", Argv: []string{"true"}, Dir: "/", UID: 65534, GID: 65534, ParentPID: 1}, "parent"},
		{"missing program", initPlan{Path: missing, Argv: []string{missing}, Dir: "/", UID: 65534, GID: 65534, ParentPID: os.Getpid()}, "exec"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if os.Geteuid() != 0 && tc.plan.UID != 0 {
				t.Skip("needs root to switch uid")
			}
			b, err := tc.plan.encode()
			if err != nil {
				t.Fatal(err)
			}
			status, stderr, code := runCInit(t, b)
			var st initStatus
			if len(status) < 2 || json.Unmarshal(status[1:], &st) != nil || st.Stage != tc.stage || code != 127 {
				t.Fatalf("status %q, exit %d; want stage %q and exit 127", status, code, tc.stage)
			}
			if len(stderr) > 0 {
				t.Errorf("the Go runtime started (stderr %.200q)", stderr)
			}
			if tc.stage == "exec" {
				if err := initError(status[1:], missing); !errors.Is(err, ErrExecFailed) || !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("initError = %v, want ErrExecFailed with ENOENT", err)
				}
			}
		})
	}
}
