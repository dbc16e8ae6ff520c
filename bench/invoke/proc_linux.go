package main

import (
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
