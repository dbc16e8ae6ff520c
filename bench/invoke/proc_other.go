//go:build !linux

package main

import (
	"os/exec"
	"syscall"
)

// childAttr has nothing to offer off Linux (where Sluice's sandbox does not run anyway).
func childAttr(syscall.Signal, bool) *syscall.SysProcAttr { return nil }

func killGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		cmd.Process.Kill()
	}
}

// takeCPU has no /proc to read off Linux: CPU accounting stays empty.
func takeCPU() cpuSnap { return cpuSnap{} }

func startPinned(cmd *exec.Cmd, cpu int) error { return cmd.Start() }
