package metrics

import "sync"

// StandardUnits are CloudWatch's units (StandardUnit), in the model's order.
var StandardUnits = []string{
	"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes",
	"Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count", "Bytes/Second",
	"Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second", "Bits/Second",
	"Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None",
}

// standardIndex is read-only after init, so Record reads it without a lock.
var standardIndex = func() map[string]uint16 {
	m := make(map[string]uint16, len(StandardUnits))
	for i, u := range StandardUnits {
		m[u] = uint16(i)
	}
	return m
}()

// unitTable interns unit names into the uint16 kept per bucket: CloudWatch's units have fixed indexes, any
// other name (the edge normally rejects them) gets the next free one.
type unitTable struct {
	mu    sync.RWMutex
	extra map[string]uint16
	names []string
}

func (t *unitTable) init() {
	t.extra = make(map[string]uint16)
	t.names = append([]string(nil), StandardUnits...)
}

func (t *unitTable) index(u string) uint16 {
	if i, ok := standardIndex[u]; ok {
		return i
	}
	t.mu.RLock()
	i, ok := t.extra[u]
	t.mu.RUnlock()
	if ok {
		return i
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if i, ok := t.extra[u]; ok {
		return i
	}
	if len(t.names) >= 1<<16-1 {
		return uint16(len(t.names) - 1)
	}
	i = uint16(len(t.names))
	t.names = append(t.names, u)
	t.extra[u] = i
	return i
}

// lookup returns the index of a known unit without interning it.
func (t *unitTable) lookup(u string) (uint16, bool) {
	if i, ok := standardIndex[u]; ok {
		return i, true
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	i, ok := t.extra[u]
	return i, ok
}

func (t *unitTable) name(i uint16) string {
	if int(i) < len(StandardUnits) {
		return StandardUnits[i]
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.names[i]
}
