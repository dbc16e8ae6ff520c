package main

import (
	"runtime"

	"golang.org/x/sys/unix"
	"os/exec"
	"syscall"
)

// childAttr puts a child in its own process group (so it and whatever it spawns can be killed together) and has
// the kernel send it sig if the harness dies without cleaning up.
func childAttr(sig syscall.Signal, ownGroup bool) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: ownGroup, Pdeathsig: sig}
}

// killGroup SIGKILLs the process group a child leads (the child was started with ownGroup).
func killGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}

// startPinned starts cmd on one CPU, as Sluice runs an execution environment of up to 1,769 MB: the child inherits
// the affinity of the thread that forks it, so that thread is pinned for the fork and released after.
func startPinned(cmd *exec.Cmd, cpu int) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var all, one unix.CPUSet
	if err := unix.SchedGetaffinity(0, &all); err != nil {
		return cmd.Start()
	}
	one.Set(cpu)
	if err := unix.SchedSetaffinity(0, &one); err != nil {
		return cmd.Start()
	}
	defer unix.SchedSetaffinity(0, &all)
	return cmd.Start()
}
