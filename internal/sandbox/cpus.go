package sandbox

import (
	"slices"
	"sync"
)

// placer is the process-wide cpuPlacer over the CPUs the server was allowed when it first started a sandbox.
var placer = sync.OnceValue(func() *cpuPlacer { return newCPUPlacer(allowedCPUs()) })

// cpuPlacer decides which CPUs each sandbox may run on: the n CPUs that the fewest live sandboxes use, so
// environments spread evenly over the machine. It is shared by every Start of the process (CPUs are a
// machine-wide resource).
type cpuPlacer struct {
	mu   sync.Mutex
	cpus []int       // what the server itself may run on, ascending
	load map[int]int // CPU → live sandboxes placed on it
}

func newCPUPlacer(cpus []int) *cpuPlacer {
	return &cpuPlacer{cpus: slices.Sorted(slices.Values(cpus)), load: map[int]int{}}
}

// place returns the CPUs for a sandbox that may use n of them, or nil (no restriction) when n is 0 or at least
// as many as there are. A non-nil result must be given back with release.
func (c *cpuPlacer) place(n int) []int {
	if n <= 0 || n >= len(c.cpus) {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	byLoad := slices.Clone(c.cpus)
	// Stable: among equally used CPUs the lowest numbers first, so the result is deterministic.
	slices.SortStableFunc(byLoad, func(a, b int) int { return c.load[a] - c.load[b] })
	chosen := slices.Sorted(slices.Values(byLoad[:n]))
	for _, cpu := range chosen {
		c.load[cpu]++
	}
	return chosen
}

// release gives back what place returned.
func (c *cpuPlacer) release(cpus []int) {
	if len(cpus) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, cpu := range cpus {
		if c.load[cpu]--; c.load[cpu] <= 0 {
			delete(c.load, cpu)
		}
	}
}
