package metrics

import (
	"math"
	"slices"
	"time"

	"github.com/DataDog/sketches-go/ddsketch"
)

// Aggregate is one node's raw aggregate of one period of a query: what Statistics would turn into a Datapoint,
// before any statistic is computed. Aggregates of the same period from several nodes merge exactly (MergeAggregates):
// counts and sums add, minima and maxima combine, and the sketches merge bin by bin, so the percentiles of the merged
// aggregate are those of one store holding every node's samples. It is the payload nodes exchange in cluster mode;
// its JSON form keeps every float64 exactly.
type Aggregate struct {
	Start int64   `json:"t"` // period start, Unix seconds
	Count float64 `json:"n"`
	Sum   float64 `json:"s"`
	Min   float64 `json:"lo"`
	Max   float64 `json:"hi"`
	Unit  string  `json:"u"`
	// Mixed is set when the period holds samples of several units (Unit is then one of them).
	Mixed bool `json:"x,omitempty"`
	// NoPct is set when the period holds a statistic set whose values are unknown: no percentiles.
	NoPct bool `json:"np,omitempty"`
	// Sketch is the period's DDSketch in its binary encoding (with its index mapping), present when the query asked
	// for percentiles and NoPct is false.
	Sketch []byte `json:"k,omitempty"`
}

// Aggregates returns the raw per-period aggregates of q.Metric in [q.Start, q.End), periods aligned as by
// Statistics (align) or StatisticsUnaligned (!align): the part of the answer this store holds, for a reader that
// merges several stores' parts (Cluster). Errors are those of Statistics.
func (s *Store) Aggregates(q Query, align bool) ([]Aggregate, error) {
	out := []Aggregate{}
	err := s.fold(q, align, func(a *aggregator) { out = append(out, a.aggregate()) })
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (a *aggregator) aggregate() Aggregate {
	g := Aggregate{Start: a.start, Count: a.count, Sum: a.sum, Min: a.min, Max: a.max, Unit: a.s.units.name(a.unit),
		Mixed: a.mixed, NoPct: a.noPct}
	if len(a.pcts) == 0 || a.noPct {
		return g
	}
	sk := a.s.scratch.Get().(*ddsketch.DDSketch)
	defer func() {
		sk.Clear()
		a.s.scratch.Put(sk)
	}()
	if !a.mergeInto(sk) {
		g.NoPct = true
		return g
	}
	sk.Encode(&g.Sketch, false)
	return g
}

// MergeAggregates merges the parts (each in time order, as Aggregates returns them) of one query from several
// stores into its datapoints: per period, counts and sums add, minima and maxima combine, units stay or become
// "None", and the sketches merge before the percentiles named in q.Percentiles are read from them, exactly as
// Statistics computes them over one store. The result is in time order. q is validated as by Statistics.
func (s *Store) MergeAggregates(q Query, parts [][]Aggregate) ([]Datapoint, error) {
	pcts, err := parsePercentiles(q.Percentiles)
	if err != nil {
		return nil, err
	}
	byStart := map[int64]*mergedPeriod{}
	for _, part := range parts {
		for i := range part {
			g := &part[i]
			m := byStart[g.Start]
			if m == nil {
				m = &mergedPeriod{start: g.Start, min: math.Inf(1), max: math.Inf(-1), unit: g.Unit}
				byStart[g.Start] = m
			}
			m.add(g)
		}
	}
	starts := make([]int64, 0, len(byStart))
	for t := range byStart {
		starts = append(starts, t)
	}
	slices.Sort(starts)
	out := make([]Datapoint, 0, len(starts))
	for _, t := range starts {
		out = append(out, s.finish(byStart[t], pcts))
	}
	return out, nil
}

type mergedPeriod struct {
	start                int64
	count, sum, min, max float64
	unit                 string
	mixed, noPct         bool
	sketches             [][]byte
}

func (m *mergedPeriod) add(g *Aggregate) {
	m.count += g.Count
	m.sum += g.Sum
	m.min = min(m.min, g.Min)
	m.max = max(m.max, g.Max)
	m.mixed = m.mixed || g.Mixed || g.Unit != m.unit
	m.noPct = m.noPct || g.NoPct
	if len(g.Sketch) > 0 {
		m.sketches = append(m.sketches, g.Sketch)
	}
}

func (s *Store) finish(m *mergedPeriod, pcts []percentile) Datapoint {
	d := Datapoint{Timestamp: time.Unix(m.start, 0).UTC(), SampleCount: m.count, Sum: m.sum, Minimum: m.min,
		Maximum: m.max, Unit: "None"}
	if !m.mixed {
		d.Unit = m.unit
	}
	if len(pcts) == 0 || m.noPct {
		return d
	}
	if m.min == m.max {
		setPercentiles(&d, pcts, nil)
		return d
	}
	sk := s.scratch.Get().(*ddsketch.DDSketch)
	defer func() {
		sk.Clear()
		s.scratch.Put(sk)
	}()
	for _, b := range m.sketches {
		if sk.DecodeAndMergeWith(b) != nil {
			return d // a sketch of another accuracy, or damaged: no percentiles rather than wrong ones
		}
	}
	if c := sk.GetCount(); math.Abs(c-m.count) > 1e-9*m.count { // a part without its sketch would be missed
		return d
	}
	setPercentiles(&d, pcts, sk)
	return d
}
