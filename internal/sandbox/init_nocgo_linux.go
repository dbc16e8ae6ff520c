//go:build linux && !cgo

package sandbox

// Without cgo, the sandbox init is the Go one (init_linux.go): the re-executed binary starts its Go runtime and
// runs every package initialiser before MaybeRunInit sets the sandbox up.
const cInit = false
