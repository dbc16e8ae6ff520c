package main

import (
	"fmt"
	"net"
	"regexp"
	"strconv"
	"sync"
	"time"
)

// tailBuffer keeps the last bytes a child wrote (its logs), for parsing REPORT lines and for explaining a crash.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func newTailBuffer(max int) *tailBuffer { return &tailBuffer{max: max} }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

var initDurationRE = regexp.MustCompile(`Init Duration: ([0-9.]+) ms`)

// parseInitDuration finds the `Init Duration: X ms` of a REPORT line, as Lambda, Sluice and RIE all print it.
func parseInitDuration(logs string) (time.Duration, bool) {
	m := initDurationRE.FindStringSubmatch(logs)
	if m == nil {
		return 0, false
	}
	f, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, false
	}
	return time.Duration(f * float64(time.Millisecond)), true
}

// freePort asks the kernel for an unused loopback port. Another process could take it before the child binds
// it; on this benchmark machine nothing else does.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// waitListening polls addr until it accepts a connection, the child dies (done closes) or the timeout passes.
func waitListening(addr string, done <-chan struct{}, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
			c.Close()
			return nil
		}
		select {
		case <-done:
			return fmt.Errorf("exited before listening on %s", addr)
		case <-time.After(time.Millisecond):
		}
	}
	return fmt.Errorf("not listening on %s after %s", addr, timeout)
}
