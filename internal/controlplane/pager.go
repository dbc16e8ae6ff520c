package controlplane

import (
	"encoding/base64"
	"strings"

	"github.com/sluice-dev/sluice/internal/fault"
)

// pager collects one page of a listing and remembers the store key of its last item.
type pager[T any] struct {
	max     int
	items   []T
	lastKey string
	more    bool // an item beyond the page exists
}

func newPager[T any](max int) *pager[T] { return &pager[T]{max: max} }

// add appends an item unless the page is full, in which case it records that more exist and returns false.
func (p *pager[T]) add(key string, item T) bool {
	if len(p.items) == p.max {
		p.more = true
		return false
	}
	p.items = append(p.items, item)
	p.lastKey = key
	return true
}

// next is the NextMarker to return: empty when the listing is complete.
func (p *pager[T]) next() string {
	if !p.more {
		return ""
	}
	return encodeMarker(p.lastKey)
}

func encodeMarker(key string) string { return base64.RawURLEncoding.EncodeToString([]byte(key)) }

func decodeMarker(m string) (string, error) {
	if m == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(m)
	if err != nil {
		return "", fault.InvalidParameter("Invalid Marker: %s", m)
	}
	return string(b), nil
}

// versionMarkerFunction reports whether a marker key is a version key, and of which function.
func versionMarkerFunction(key string) (string, bool) {
	rest, ok := strings.CutPrefix(key, "ver/")
	if !ok {
		return "", false
	}
	name, _, ok := strings.Cut(rest, "/")
	return name, ok
}
