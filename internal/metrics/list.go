package metrics

import (
	"encoding/base64"
	"slices"
	"strings"
)

// List returns the series that match namespace and name (empty = any) and every filter (the filter's Name must
// be one of the series' dimensions and, if its Value is not empty, have that value) and that have data within
// retention — in memory, or, with a durable store, persisted minutes (the catalog of this node's series, so a
// series is listed after a restart) —, sorted by namespace, name and dimensions, at most ListPageSize per page. The returned token is empty
// on the last page; passing it back continues after the last series returned. Series created after a page was
// served appear on a later page if they sort after it.
//
// Errors: InvalidParameterValue for a token this store did not issue.
func (s *Store) List(namespace, name string, filters []DimensionFilter, token string) ([]MetricID, string, error) {
	after := ""
	if token != "" {
		b, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil || len(b) == 0 {
			return nil, "", invalidValue("The value for parameter NextToken is not valid.")
		}
		after = string(b)
	}
	cutoff := s.cutoff(s.now())
	var hits []*series
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.RLock()
		for _, se := range sh.m {
			for ; se != nil; se = se.next {
				if se.last.Load() >= cutoff && (after == "" || se.key > after) && matches(&se.id, namespace, name, filters) {
					hits = append(hits, se)
				}
			}
		}
		sh.mu.RUnlock()
	}
	type hit struct {
		key string
		id  MetricID
	}
	all := make([]hit, 0, len(hits))
	for _, se := range hits {
		all = append(all, hit{se.key, MetricID{Namespace: se.id.Namespace, Name: se.id.Name, Dimensions: slices.Clone(se.id.Dimensions)}})
	}
	if s.arch != nil {
		listed, err := s.arch.catalog()
		if err != nil {
			return nil, "", err
		}
		inMemory := make(map[string]bool, len(all))
		for _, h := range all {
			inMemory[h.key] = true
		}
		for _, id := range listed {
			id = NewMetricID(id.Namespace, id.Name, id.Dimensions...)
			if k := seriesKey(&id); !inMemory[k] && (after == "" || k > after) && matches(&id, namespace, name, filters) {
				inMemory[k] = true
				all = append(all, hit{k, id})
			}
		}
	}
	slices.SortFunc(all, func(a, b hit) int { return strings.Compare(a.key, b.key) })
	next := ""
	if len(all) > ListPageSize {
		all = all[:ListPageSize]
		next = base64.RawURLEncoding.EncodeToString([]byte(all[len(all)-1].key))
	}
	out := make([]MetricID, len(all))
	for i, h := range all {
		out[i] = h.id
	}
	return out, next, nil
}

func matches(id *MetricID, namespace, name string, filters []DimensionFilter) bool {
	if (namespace != "" && id.Namespace != namespace) || (name != "" && id.Name != name) {
		return false
	}
	for _, f := range filters {
		found := false
		for _, d := range id.Dimensions {
			if d.Name == f.Name && (f.Value == "" || d.Value == f.Value) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
