package sandbox

import (
	"slices"
	"testing"
)

func TestCPUPlacerSpreadsSandboxes(t *testing.T) {
	tests := []struct {
		name    string
		cpus    []int
		held    [][]int // placed before (and kept)
		release [][]int // then given back
		n       int
		want    []int
	}{
		{name: "no restriction asked", cpus: []int{0, 1}, n: 0, want: nil},
		{name: "as many as there are", cpus: []int{0, 1}, n: 2, want: nil},
		{name: "more than there are", cpus: []int{0, 1}, n: 6, want: nil},
		{name: "idle machine: lowest first", cpus: []int{0, 1, 2, 3}, n: 1, want: []int{0}},
		{name: "next one goes elsewhere", cpus: []int{0, 1, 2, 3}, held: [][]int{{0}}, n: 1, want: []int{1}},
		{name: "least used pair", cpus: []int{0, 1, 2, 3}, held: [][]int{{0}, {1}, {1}}, n: 2, want: []int{2, 3}},
		{name: "released CPUs are free again", cpus: []int{0, 1}, held: [][]int{{0}, {1}, {1}}, release: [][]int{{1}, {1}}, n: 1, want: []int{1}},
		{name: "the server's own set, not 0..n", cpus: []int{5, 3}, held: [][]int{{3}}, n: 1, want: []int{5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newCPUPlacer(tt.cpus)
			for _, h := range tt.held {
				p.mu.Lock()
				for _, cpu := range h {
					p.load[cpu]++
				}
				p.mu.Unlock()
			}
			for _, r := range tt.release {
				p.release(r)
			}
			if got := p.place(tt.n); !slices.Equal(got, tt.want) {
				t.Fatalf("place(%d) = %v, want %v", tt.n, got, tt.want)
			}
		})
	}
}

func TestCPUPlacerBalancesAChurningPool(t *testing.T) {
	p := newCPUPlacer([]int{0, 1, 2})
	var live [][]int
	for i := range 300 {
		live = append(live, p.place(1))
		if i%3 == 2 { // environments come and go out of order
			p.release(live[0])
			live = live[1:]
		}
	}
	counts := map[int]int{}
	for _, l := range live {
		counts[l[0]]++
	}
	lo, hi := len(live), 0
	for _, c := range []int{0, 1, 2} {
		lo, hi = min(lo, counts[c]), max(hi, counts[c])
	}
	if hi-lo > 1 {
		t.Fatalf("live sandboxes per CPU %v: spread %d, want at most 1", counts, hi-lo)
	}
	for _, l := range live {
		p.release(l)
	}
	if len(p.load) != 0 {
		t.Fatalf("load after releasing everything: %v", p.load)
	}
}
