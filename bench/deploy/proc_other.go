//go:build !linux

package main

import "syscall"

// childAttr has nothing to offer off Linux (where Sluice's sandbox does not run anyway).
func childAttr(syscall.Signal) *syscall.SysProcAttr { return nil }

// takeCPU has no /proc to read off Linux: CPU accounting stays empty.
func takeCPU() cpuSnap { return cpuSnap{} }
