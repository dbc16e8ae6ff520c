package invoke

import (
	"math"
	"sync"
	"testing"
)

func TestSplitIsExact(t *testing.T) {
	for _, w := range []float64{0, 0.01, 0.03, 0.1, 0.25, 1.0 / 3, 0.5, 0.9, 0.999, 1} {
		s := &split{primary: "1", extra: "2", weight: w}
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
