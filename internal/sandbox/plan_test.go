//go:build linux

package sandbox

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestPlanRoundTrip(t *testing.T) {
	full := initPlan{
		Path: "/var/task/bootstrap", Argv: []string{"/var/task/bootstrap", "", "a b"}, Env: []string{"A=1", "EMPTY="},
		Dir: "/var/task", UID: 1001, GID: 1002, ParentPID: 42, MountNS: true, Mkdirs: []string{"/var/task", "/tmp"},
		ReadOnlyRoot: true,
		Mounts: []mountOp{
			{Source: "/data/code/x", Target: "/var/task", Flags: unix.MS_BIND, Remount: unix.MS_BIND | unix.MS_REMOUNT | unix.MS_RDONLY},
			{Source: "/dev/loop3", Target: "/tmp", FSType: "ext4", Flags: unix.MS_NOSUID, ServerFD: 17},
			{Source: "tmpfs", Target: "/dev/shm", FSType: "tmpfs", Data: "size=64m,mode=1777"},
		},
		TmpFresh:  true,
		Rlimits:   []rlimitOp{{"RLIMIT_CORE", unix.RLIMIT_CORE, 0, 0}, {"RLIMIT_FSIZE", unix.RLIMIT_FSIZE, 1 << 40, ^uint64(0)}},
		DataLimit: 128 << 20, CPUs: []int{0, 3},
	}
	for _, tc := range []struct {
		name string
		plan initPlan
	}{
		{"every field", full},
		{"no mount namespace, no lists", initPlan{Path: "/x", Argv: []string{"/x"}, Dir: "/", UID: 1, GID: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := tc.plan.encode()
			if err != nil {
				t.Fatal(err)
			}
			got, err := decodePlan(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.plan) {
				t.Errorf("decoded\n%+v\nwant\n%+v", got, tc.plan)
			}
		})
	}
}

func TestPlanEncodeRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		plan initPlan
		want string
	}{
		{"NUL in the environment", initPlan{Path: "/x", Argv: []string{"/x"}, Env: []string{"A=\x00b"}}, "NUL"},
		{"NUL in a path", initPlan{Path: "/x\x00", Argv: []string{"/x"}}, "NUL"},
		{"no argv", initPlan{Path: "/x"}, "empty argv"},
		{"too large", initPlan{Path: "/x", Argv: []string{"/x"}, Env: []string{strings.Repeat("a", maxPlanBytes)}}, "more than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.plan.encode(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("encode: %v, want an error with %q", err, tc.want)
			}
		})
	}
}

// malformedPlan is a plan an init must refuse, with what Go's decodePlan says about it.
type malformedPlan struct {
	name string
	b    []byte
	want string
}

func malformedPlans(t *testing.T) []malformedPlan {
	good, err := (&initPlan{Path: "/x", Argv: []string{"/x"}, Dir: "/", UID: 1, GID: 1}).encode()
	if err != nil {
		t.Fatal(err)
	}
	return []malformedPlan{
		{"empty", nil, "truncated"},
		{"another format", []byte(`{"Path":"/x"}`), "truncated"},
		{"wrong magic", append([]byte("SLUICEPLAN0\x00"), good[len(planMagic)+1:]...), "starts with"},
		{"cut short", good[:len(good)-3], "truncated"},
		{"no final NUL", good[:len(good)-1], "truncated"},
		{"trailing bytes", append(append([]byte{}, good...), "x\x00"...), "after its end"},
		{"not a number", []byte(planMagic + "\x00/x\x00one\x00"), "invalid syntax"},
		{"negative number", []byte(planMagic + "\x00/x\x00-1\x00"), "invalid syntax"},
		{"huge list", []byte(planMagic + "\x00/x\x0099999999\x00"), "list of"},
		{"empty argv", bytes.Replace(good, []byte("\x001\x00/x\x00"), []byte("\x000\x00"), 1), "empty argv"},
	}
}

func TestPlanDecodeRejectsMalformed(t *testing.T) {
	for _, tc := range malformedPlans(t) {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := decodePlan(tc.b); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("decodePlan: %v, want an error with %q", err, tc.want)
			}
		})
	}
}
