package main

import "syscall"

// childAttr has the kernel send SIGTERM to a child if the harness dies without cleaning up: the server then
// destroys its sandboxes itself.
func childAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM} }
