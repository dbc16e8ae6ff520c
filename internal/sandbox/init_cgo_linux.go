//go:build linux && cgo

package sandbox

// #include "init_linux.h"
import "C"

// With cgo, the sandbox init is init_linux.c's ELF constructor: a re-executed binary sets the sandbox up and execs
// the function before the Go runtime starts, so a cold start no longer pays the binary's Go start-up. The Go init
// (init_linux.go) then only serves builds without cgo.
const cInit = true

// cInitConstants are the values init_linux.h shares with the Go side, for a test to compare.
func cInitConstants() (env, role string, planFD, statusFD int, marker byte, magic string, maxBytes, maxList int) {
	return C.SLUICE_INIT_ENV, C.SLUICE_ROLE_INIT, C.SLUICE_PLAN_FD, C.SLUICE_STATUS_FD, C.SLUICE_READY_MARKER,
		C.SLUICE_PLAN_MAGIC, C.SLUICE_MAX_PLAN_BYTES, C.SLUICE_MAX_PLAN_LIST
}
