package logstore

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func events(stream string, from, n int) []Event {
	out := make([]Event, n)
	for i := range out {
		out[i] = Event{Timestamp: int64(from + i), IngestionTime: int64(from + i), Stream: stream, Message: fmt.Sprintf("line %d", from+i)}
	}
	return out
}

func TestReadersSeeAppendsAtOnce(t *testing.T) {
	s, err := Open(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const group = "/aws/lambda/orders"
	if err := s.Append(group, events("a", 0, 3)); err != nil {
		t.Fatal(err)
	}
	got, _, err := s.Find(group, Query{})
	if err != nil || len(got) != 3 || got[2].Message != "line 2" {
		t.Fatalf("Find right after Append: %v, %v", got, err)
	}
	streams, err := s.Streams(group)
	if err != nil || len(streams) != 1 || streams[0].LastEvent != 2 {
		t.Fatalf("Streams: %+v, %v", streams, err)
	}
	info, ok, err := s.Group(group)
	if err != nil || !ok || info.StoredBytes == 0 {
		t.Fatalf("Group: %+v %v %v", info, ok, err)
	}
	groups, err := s.Groups()
	if err != nil || len(groups) != 1 || groups[0].Name != group {
		t.Fatalf("Groups: %+v, %v", groups, err)
	}
}

func TestCloseWritesWhatIsPending(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	const group = "/aws/lambda/orders"
	if err := s.Append(group, events("a", 0, 5)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "aws_lambda_orders.log"))
	if err != nil || strings.Count(string(b), "\n") != 5 {
		t.Fatalf("file after Close: %q, %v", b, err)
	}
	again, err := Open(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if got, _, err := again.Find(group, Query{}); err != nil || len(got) != 5 {
		t.Fatalf("reopened: %d events, %v", len(got), err)
	}
}

func TestRetentionKeepsTwoGenerations(t *testing.T) {
	s, err := Open(t.TempDir(), 4<<10) // generations of 2 KiB
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const group = "g"
	for i := range 200 {
		if err := s.Append(group, events("a", i, 1)); err != nil {
			t.Fatal(err)
		}
		if i%10 == 9 {
			if _, _, err := s.Find(group, Query{Limit: 1}); err != nil { // reading writes what is pending
				t.Fatal(err)
			}
		}
	}
	got, _, err := s.Find(group, Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 || len(got) >= 200 || got[len(got)-1].Message != "line 199" {
		t.Fatalf("after rotation: %d events, last %+v", len(got), got[len(got)-1])
	}
	info, _, _ := s.Group(group)
	if info.StoredBytes > 4<<10 {
		t.Fatalf("stored %d bytes, retention is %d", info.StoredBytes, 4<<10)
	}
}

func TestConcurrentAppendsAndReads(t *testing.T) {
	s, err := Open(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 100 {
				if err := s.Append("g", events(fmt.Sprint(w), i, 2)); err != nil {
					t.Error(err)
				}
				if i%25 == 0 {
					if _, _, err := s.Find("g", Query{Limit: 5}); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
	wg.Wait()
	got, _, err := s.Find("g", Query{})
	if err != nil || len(got) != 800 {
		t.Fatalf("%d events, %v; want 800", len(got), err)
	}
}

// TestFailedRotationLosesNothing: when the current generation cannot be moved aside, the pending lines stay
// pending, the store keeps working, and once the obstacle is gone everything is written.
func TestFailedRotationLosesNothing(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, 2<<10) // generations of 1 KiB
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const group = "g"
	if err := s.Append(group, events("a", 0, 5)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Find(group, Query{}); err != nil {
		t.Fatal(err)
	}
	// A directory where the previous generation goes makes the rename fail.
	if err := os.Mkdir(filepath.Join(dir, "g.log.1"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "g.log.1", "x"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for i := 5; i < 40; i++ {
		s.Append(group, events("a", i, 1)) // errors are reported, nothing panics
	}
	if _, _, err := s.Find(group, Query{}); err == nil {
		t.Fatal("Find succeeded while the rotation cannot happen")
	}
	if err := os.RemoveAll(filepath.Join(dir, "g.log.1")); err != nil {
		t.Fatal(err)
	}
	got, _, err := s.Find(group, Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 40 || got[len(got)-1].Message != "line 39" {
		t.Fatalf("after the obstacle went: %d events, want all 40", len(got))
	}
}

// fakeTimers stands in for time.AfterFunc: a background write runs when the test fires it.
type fakeTimers struct {
	mu  sync.Mutex
	fns []func()
}

func (c *fakeTimers) afterFunc(_ time.Duration, fn func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fns = append(c.fns, fn)
}

// fire runs the background writes due so far.
func (c *fakeTimers) fire() {
	c.mu.Lock()
	fns := c.fns
	c.fns = nil
	c.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
}

func openFake(t *testing.T) (*Store, *fakeTimers) {
	t.Helper()
	s, err := Open(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	timers := &fakeTimers{}
	s.afterFunc = timers.afterFunc
	return s, timers
}

// bound is only there to fail instead of hanging.
const bound = 10 * time.Second

func messages(evs []Event) string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Message)
	}
	return strings.Join(out, ",")
}

// TestAppendDoesNotWaitForAWrite: while a background write of a group is held in the file write, an Append to
// the same group (and to another) returns, and a reader started after it waits for the write and sees every line.
func TestAppendDoesNotWaitForAWrite(t *testing.T) {
	s, timers := openFake(t)
	entered := make(chan struct{}, 1)
	release := make(chan struct{})
	s.write = func(f *os.File, b []byte) (int, error) {
		select {
		case entered <- struct{}{}:
		default:
		}
		<-release
		return f.Write(b)
	}
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()
	const group = "/aws/lambda/orders"
	if err := s.Append(group, events("a", 0, 3)); err != nil {
		t.Fatal(err)
	}
	go timers.fire()
	select {
	case <-entered:
	case <-time.After(bound):
		t.Fatal("the background write never started")
	}

	done := make(chan error, 2)
	go func() { done <- s.Append(group, events("a", 3, 3)) }()
	go func() { done <- s.Append("/aws/lambda/other", events("b", 0, 1)) }()
	for range 2 {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(bound):
			t.Fatal("Append waited for the group's write in progress")
		}
	}

	type found struct {
		evs []Event
		err error
	}
	read := make(chan found, 1)
	go func() {
		evs, _, err := s.Find(group, Query{})
		read <- found{evs, err}
	}()
	close(release)
	select {
	case r := <-read:
		if want := "line 0,line 1,line 2,line 3,line 4,line 5"; r.err != nil || messages(r.evs) != want {
			t.Fatalf("Find: %q, %v; want %q", messages(r.evs), r.err, want)
		}
	case <-time.After(bound):
		t.Fatal("Find never returned")
	}
}

// TestFailedBackgroundWrite: a background write that fails is logged with its group and counted, the next
// Append succeeds, the lines stay pending, a reader's own write reports its failure, and once writes work again
// every line is there in order.
func TestFailedBackgroundWrite(t *testing.T) {
	s, timers := openFake(t)
	var logged bytes.Buffer
	s.SetLogger(slog.New(slog.NewTextHandler(&logged, nil)))
	errDisk := errors.New("disk on fire")
	var failing atomic.Bool
	failing.Store(true)
	s.write = func(f *os.File, b []byte) (int, error) {
		if failing.Load() {
			return 0, errDisk
		}
		return f.Write(b)
	}
	const group = "/aws/lambda/orders"
	if err := s.Append(group, events("a", 0, 3)); err != nil {
		t.Fatal(err)
	}
	timers.fire() // fails
	if err := s.Append(group, events("a", 3, 3)); err != nil {
		t.Fatalf("Append after a failed background write: %v", err)
	}
	if got := logged.String(); !strings.Contains(got, "group="+group) || !strings.Contains(got, errDisk.Error()) {
		t.Fatalf("log: %q; want the group and the error", got)
	}
	if got := s.Stats().FlushErrors; got != 1 {
		t.Fatalf("FlushErrors = %d, want 1", got)
	}
	if _, _, err := s.Find(group, Query{}); !errors.Is(err, errDisk) {
		t.Fatalf("Find while writes fail: %v, want %v", err, errDisk)
	}
	timers.fire() // fails again: logged once, counted
	if got := strings.Count(logged.String(), errDisk.Error()); got != 1 {
		t.Fatalf("the failure was logged %d times, want once until writes work again", got)
	}

	failing.Store(false)
	got, _, err := s.Find(group, Query{})
	if want := "line 0,line 1,line 2,line 3,line 4,line 5"; err != nil || messages(got) != want {
		t.Fatalf("Find once writes work: %q, %v; want %q", messages(got), err, want)
	}
	if !strings.Contains(logged.String(), "writing logs again") {
		t.Fatalf("log: %q; want the recovery", logged.String())
	}
}

// TestBacklogIsBounded: while a group cannot be written, what waits stays under maxPending; the Append whose
// events are dropped says so and the drop is counted; what was kept is written in order once writes work.
func TestBacklogIsBounded(t *testing.T) {
	s, _ := openFake(t)
	var failing atomic.Bool
	failing.Store(true)
	s.write = func(f *os.File, b []byte) (int, error) {
		if failing.Load() {
			return 0, errors.New("disk full")
		}
		return f.Write(b)
	}
	s.SetLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	big := strings.Repeat("x", 64<<10)
	kept, dropped := 0, 0
	for i := range maxPending/len(big) + 8 {
		err := s.Append("g", []Event{{Timestamp: int64(i), Stream: "a", Message: big}})
		switch {
		case err == nil:
			kept++
		case errors.Is(err, ErrBacklogFull):
			dropped++
		default:
			t.Fatal(err)
		}
		s.flush("g") // fails: the lines stay pending
	}
	if dropped == 0 || s.Stats().DroppedEvents != int64(dropped) {
		t.Fatalf("dropped %d, counted %d", dropped, s.Stats().DroppedEvents)
	}
	failing.Store(false)
	got, _, err := s.Find("g", Query{})
	if err != nil || len(got) != kept {
		t.Fatalf("Find: %d events, %v; want the %d kept", len(got), err, kept)
	}
	for i, e := range got {
		if e.Timestamp != int64(i) {
			t.Fatalf("event %d has timestamp %d: order lost", i, e.Timestamp)
		}
	}
}
