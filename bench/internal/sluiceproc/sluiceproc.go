// Package sluiceproc runs the real `sluice serve` binary for a benchmark harness: on a loopback port and a data dir
// of the harness's, stopped gracefully (so the server destroys its sandboxes) with a kill after a grace period.
package sluiceproc

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Server is a running `sluice serve`.
type Server struct {
	Cmd      *exec.Cmd
	Endpoint string
	done     chan struct{}
}

// Start runs `bin serve` on dataDir with extra flags and environment, and returns once it listens. attr sets how
// the child relates to the harness (e.g. a parent-death signal so it does not outlive a crashed harness).
func Start(bin, dataDir string, args, env []string, attr *syscall.SysProcAttr) (*Server, error) {
	s := &Server{done: make(chan struct{})}
	all := append([]string{"serve", "--listen", "127.0.0.1:0", "--data-dir", dataDir, "--log-level", "warn"}, args...)
	s.Cmd = exec.Command(bin, all...)
	s.Cmd.Env = append(os.Environ(), env...)
	s.Cmd.Stdout, s.Cmd.Stderr = os.Stderr, os.Stderr // warnings and errors are worth seeing
	s.Cmd.SysProcAttr = attr
	if err := s.Cmd.Start(); err != nil {
		return nil, err
	}
	go func() { s.Cmd.Wait(); close(s.done) }()
	endpoint, err := waitEndpoint(filepath.Join(dataDir, "endpoint"), s.done)
	if err != nil {
		s.Stop()
		return nil, err
	}
	s.Endpoint = endpoint
	return s, nil
}

// waitEndpoint waits for the server to write its URL, which it does once it is listening.
func waitEndpoint(path string, done <-chan struct{}) (string, error) {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(path); err == nil && len(bytes.TrimSpace(b)) > 0 {
			return strings.TrimSpace(string(b)), nil
		}
		select {
		case <-done:
			return "", fmt.Errorf("sluice exited during start-up")
		case <-time.After(20 * time.Millisecond):
		}
	}
	return "", fmt.Errorf("sluice did not write %s within 30s", path)
}

// Alive reports whether the server is still running.
func (s *Server) Alive() bool {
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// Stop asks for a graceful shutdown (the server destroys its environments), then kills after a grace period.
func (s *Server) Stop() {
	s.Cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		s.Cmd.Process.Kill()
		<-s.done
	}
}
