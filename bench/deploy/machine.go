package main

import "runtime"

// nproc is the number of CPUs this process may use (what `nproc` prints).
func nproc() int { return runtime.NumCPU() }
