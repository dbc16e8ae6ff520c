package main

import "syscall"

// childAttr has the kernel send sig to a child if the harness dies without cleaning up.
func childAttr(sig syscall.Signal) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: sig}
}
