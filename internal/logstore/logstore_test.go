package logstore

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
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
