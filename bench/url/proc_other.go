//go:build !linux

package main

import "syscall"

// childAttr has nothing to offer off Linux (where Sluice's sandbox does not run anyway).
func childAttr() *syscall.SysProcAttr { return nil }
