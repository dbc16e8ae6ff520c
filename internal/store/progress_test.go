package store

import (
	"context"
	"maps"
	"slices"
	"testing"
)

// Ensure Wait returns exactly when every registered cache has applied the revision, and not before.
func TestProgressWait(t *testing.T) {
	for _, tc := range []struct {
		name     string
		advances map[string]int64 // cache → revision it reports
		wait     int64
		done     bool
		lagging  []string
	}{
		{"no caches", nil, 7, true, nil},
		{"all caught up", map[string]int64{"a": 5, "b": 9}, 5, true, nil},
		{"one behind", map[string]int64{"a": 5, "b": 4}, 5, false, []string{"b"}},
		{"one never reported", map[string]int64{"a": 5, "b": 0}, 1, false, []string{"b"}},
		{"a lower report is ignored", map[string]int64{"a": 5, "b": 6}, 5, true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := NewProgress()
			for _, name := range slices.Sorted(maps.Keys(tc.advances)) {
				a := p.Register(name)
				a.Advance(tc.advances[name])
				a.Advance(tc.advances[name] - 3) // ignored
			}
			ctx, cancel := context.WithCancel(context.Background())
			if !tc.done {
				cancel() // Wait would block: it must say so through ctx, not return nil
			}
			defer cancel()
			err := p.Wait(ctx, tc.wait)
			if (err == nil) != tc.done {
				t.Errorf("Wait(%d) = %v, want done=%v", tc.wait, err, tc.done)
			}
			if got := p.Lagging(tc.wait); !slices.Equal(got, tc.lagging) {
				t.Errorf("Lagging(%d) = %v, want %v", tc.wait, got, tc.lagging)
			}
		})
	}
}

// Ensure a blocked Wait wakes when the last cache catches up.
func TestProgressWaitWakes(t *testing.T) {
	p := NewProgress()
	a, b := p.Register("a"), p.Register("b")
	done := make(chan error)
	go func() { done <- p.Wait(context.Background(), 10) }()
	a.Advance(10)
	b.Advance(9)
	select {
	case err := <-done:
		t.Fatalf("Wait returned (%v) before cache b applied revision 10", err)
	default:
	}
	b.Advance(12)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := p.Revision(); got != 10 {
		t.Errorf("Revision = %d, want 10", got)
	}
}
