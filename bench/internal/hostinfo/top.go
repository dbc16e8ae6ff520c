package hostinfo

import (
	"fmt"
	"slices"
	"strings"
)

// TopNames lists the n biggest CPU users of a phase (seconds by process name), e.g. "metrics.test 4.1 s, go 0.3 s".
func TopNames(use map[string]float64, n int) string {
	names := make([]string, 0, len(use))
	for k, v := range use {
		if v >= 0.05 {
			names = append(names, k)
		}
	}
	slices.SortFunc(names, func(x, y string) int {
		switch {
		case use[x] > use[y]:
			return -1
		case use[x] < use[y]:
			return 1
		}
		return strings.Compare(x, y)
	})
	var parts []string
	for _, k := range names[:min(n, len(names))] {
		parts = append(parts, fmt.Sprintf("%s %.1f s", k, use[k]))
	}
	return strings.Join(parts, ", ")
}
