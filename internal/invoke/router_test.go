package invoke

import (
	"math"
	"strconv"
	"sync"
	"testing"
)

func TestSplitIsExact(t *testing.T) {
	for _, w := range []float64{0, 0.01, 0.03, 0.1, 0.25, 1.0 / 3, 0.5, 0.9, 0.999, 1} {
		s := &split{primary: "1", extra: "2", weight: w, sticky: &sticky{extra: map[string]bool{}}}
		extra := 0
		for n := 1; n <= 5000; n++ {
			if s.pick() == "2" {
				extra++
			}
			if want := int(math.Floor(w*float64(n) + 0.5)); extra < want-1 || extra > want+1 {
				t.Fatalf("w=%v after %d invocations extra served %d, want round(w·n)=%d ±1", w, n, extra, want)
			}
		}
	}
}

func TestSplitConcurrentCountsExactly(t *testing.T) {
	s := &split{primary: "1", extra: "2", weight: 0.1}
	var mu sync.Mutex
	extra := 0
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				if s.pick() == "2" {
					mu.Lock()
					extra++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if extra != 800 {
		t.Fatalf("8000 concurrent picks at 10%% gave %d to the canary, want exactly 800", extra)
	}
}

func TestSplitWithoutExtra(t *testing.T) {
	s := &split{primary: "7"}
	for range 10 {
		if v := s.pick(); v != "7" {
			t.Fatalf("pick = %s", v)
		}
	}
}

func newSplit(primary, extra string, w float64, prev *split) *split {
	s := &split{primary: primary, extra: extra, weight: w}
	s.inherit(prev)
	return s
}

func TestStickyKeysAreExactAndStable(t *testing.T) {
	for _, w := range []float64{0.03, 0.1, 1.0 / 3, 0.5} {
		s := newSplit("1", "2", w, nil)
		assigned := map[string]string{}
		extra := 0
		for n := 1; n <= 3000; n++ {
			key := "user-" + strconv.Itoa(n)
			v := s.pickFor(key)
			assigned[key] = v
			if v == "2" {
				extra++
			}
			if want := int(math.Floor(w*float64(n) + 0.5)); extra < want-1 || extra > want+1 {
				t.Fatalf("w=%v after %d distinct keys the canary has %d, want round(w·n)=%d ±1", w, n, extra, want)
			}
			// Every earlier key, asked again, gets the same version.
			again := "user-" + strconv.Itoa(1+(n*7919%9973)%n)
			if got := s.pickFor(again); got != assigned[again] {
				t.Fatalf("w=%v key %s moved from %s to %s", w, again, assigned[again], got)
			}
		}
	}
}

func TestStickyAssignmentsAcrossAliasChanges(t *testing.T) {
	first := newSplit("1", "2", 0.1, nil)
	onCanary := ""
	for n := 0; onCanary == ""; n++ {
		if k := "k" + strconv.Itoa(n); first.pickFor(k) == "2" {
			onCanary = k
		}
	}
	cases := []struct {
		name string
		next *split
		want string
	}{
		{"a linear step grows the weight: the key stays on the canary", newSplit("1", "2", 0.2, first), "2"},
		{"all traffic on the new version", newSplit("1", "2", 1, first), "2"},
		{"rolled back: no weights", newSplit("1", "", 0, first), "1"},
		{"the weight shrinks: assignments start afresh, within the new weight", newSplit("1", "2", 0.000001, first), "1"},
		{"another deployment: other versions", newSplit("2", "3", 0.1, first), "2"},
	}
	for _, c := range cases {
		if got := c.next.pickFor(onCanary); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
}

func TestStickyPastTheLimitStaysStable(t *testing.T) {
	s := newSplit("1", "2", 0.5, nil)
	for n := range maxStickyKeys {
		s.pickFor("k" + strconv.Itoa(n))
	}
	counts := map[string]int{}
	for n := range 2000 {
		key := "late-" + strconv.Itoa(n)
		v := s.pickFor(key)
		if s.pickFor(key) != v {
			t.Fatalf("key %s past the limit changed version", key)
		}
		counts[v]++
	}
	if counts["2"] < 800 || counts["2"] > 1200 {
		t.Errorf("hashed placement at 50%%: %v", counts)
	}
}
