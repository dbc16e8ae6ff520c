package metrics

import (
	"context"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/DataDog/sketches-go/ddsketch"
)

// Statistics returns the datapoints of q.Metric in [q.Start, q.End): one per period that has samples, in time
// order. Periods are aligned to the epoch as CloudWatch aligns them: the first one starts at q.Start rounded down
// to a multiple of q.Period since 1970-01-01T00:00:00Z (so it may include samples from before q.Start), and a
// period that straddles q.End only counts the samples before q.End. Each datapoint aggregates the 1-second
// buckets of its period: SampleCount, Sum, Minimum and Maximum are exact; the percentiles named in
// q.Percentiles come from the merged sketches (see RelativeAccuracy) and are left out of a period that contains a
// statistic set with Minimum != Maximum, whose values are unknown. If q.Unit is set, only samples recorded with
// that unit count; otherwise all units are aggregated together and Datapoint.Unit is the common unit, or "None"
// when the period mixes units. Samples outside retention are gone, except that with a durable store periods of
// whole minutes also read the persisted minutes (see the package doc), for Options.MinuteRetention.
//
// Errors (*fault.Error, CloudWatch's codes): InvalidParameterValue for a Period that is not a positive whole
// number of seconds, an End not after Start, or a percentile name that is not pNN(.N) within [p0, p100].
func (s *Store) Statistics(q Query) ([]Datapoint, error) { return s.statistics(q, true) }

// StatisticsUnaligned is Statistics with periods that start exactly at q.Start (truncated to the second) rather
// than at an epoch multiple of q.Period. The alarm evaluator uses it for periods longer than a minute, whose
// windows CloudWatch slides by whole minutes.
func (s *Store) StatisticsUnaligned(q Query) ([]Datapoint, error) { return s.statistics(q, false) }

type percentile struct {
	name string
	q    float64 // 0..1
}

// ParsePercentile parses an extended statistic of the form pNN or pNN.N… (p0 to p100) and returns it as a
// fraction in [0, 1]. Other CloudWatch extended statistics (tm90, IQM, PR(…), …) are not supported.
func ParsePercentile(name string) (float64, bool) {
	rest, ok := strings.CutPrefix(name, "p")
	if !ok || rest == "" || len(rest) > 12 {
		return 0, false
	}
	intPart, frac, hasFrac := strings.Cut(rest, ".")
	if intPart == "" || len(intPart) > 3 || (hasFrac && frac == "") || !digits(intPart) || !digits(frac) {
		return 0, false
	}
	v, err := strconv.ParseFloat(rest, 64)
	if err != nil || v < 0 || v > 100 {
		return 0, false
	}
	return v / 100, true
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func parsePercentiles(names []string) ([]percentile, error) {
	if len(names) == 0 {
		return nil, nil
	}
	out := make([]percentile, 0, len(names))
	for _, n := range names {
		q, ok := ParsePercentile(n)
		if !ok {
			return nil, invalidValue("The value %s for parameter ExtendedStatistics is not supported.", n)
		}
		out = append(out, percentile{n, q})
	}
	return out, nil
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func (s *Store) statistics(q Query, align bool) ([]Datapoint, error) {
	out := []Datapoint{}
	err := s.fold(q, align, func(a *aggregator) { out = append(out, a.datapoint()) })
	if err != nil {
		return nil, err
	}
	return out, nil
}

// fold validates q and hands emit the aggregator of each period of q.Metric that has samples, in time order, under
// the series lock (emit must not keep the aggregator).
func (s *Store) fold(q Query, align bool, emit func(*aggregator)) error {
	if q.Period < time.Second || q.Period%time.Second != 0 {
		return invalidValue("The parameter Period must be a positive multiple of 1 second.")
	}
	if !q.End.After(q.Start) {
		return invalidValue("The parameter StartTime must be less than the parameter EndTime.")
	}
	pcts, err := parsePercentiles(q.Percentiles)
	if err != nil {
		return err
	}
	period := int64(q.Period / time.Second)
	start := q.Start.Unix()
	if align {
		start = floorDiv(start, period) * period
	}
	end := q.End.Unix() // buckets [sec, sec+1) with sec < End
	if q.End.Nanosecond() != 0 {
		end++
	}
	now := s.now()
	lo := max(start, s.cutoff(now))
	id := normalize(q.Metric)
	// Periods of whole minutes are also served from the persisted minutes, where the 1-second buckets of this
	// process do not reach: before memFrom, and before this process started (its node's earlier runs).
	var recs []bucket
	if s.arch != nil && period%60 == 0 && start%60 == 0 {
		memFrom := s.memFrom(now)
		rlo := max(start, floor60(now.Unix()-s.arch.retention), 0)
		rhi := min(end, max(memFrom, floor60(s.arch.bootSec)+60))
		if rlo < rhi {
			ctx, cancel := context.WithTimeout(context.Background(), archiveReadTimeout)
			var err error
			recs, err = s.archived(ctx, &id, rlo, rhi, memFrom, q.Unit)
			cancel()
			if err != nil {
				return err
			}
			defer s.releaseBuckets(recs)
		}
		lo = max(start, memFrom)
	}
	unit, unitKnown := uint16(0), true
	if q.Unit != "" {
		unit, unitKnown = s.units.lookup(q.Unit)
	}
	agg := aggregator{s: s, pcts: pcts}
	cur := int64(math.MinInt64)
	add := func(b *bucket) {
		p := floorDiv(b.sec-start, period)
		if p != cur {
			if agg.n > 0 {
				emit(&agg)
			}
			agg.reset(start + p*period)
			cur = p
		}
		agg.add(b)
	}
	var bs []bucket
	if se := s.lookup(s.hash(&id), &id); se != nil && unitKnown {
		se.mu.Lock()
		defer se.mu.Unlock()
		bs = se.buckets
	}
	// Merge the two streams in time order (a late sample may fall between an earlier run's minutes).
	i, j := sort.Search(len(bs), func(i int) bool { return bs[i].sec >= lo }), 0
	for {
		memOK := i < len(bs) && bs[i].sec < end
		if memOK && q.Unit != "" && bs[i].unit != unit {
			i++
			continue
		}
		switch {
		case j < len(recs) && (!memOK || recs[j].sec <= bs[i].sec):
			add(&recs[j])
			j++
		case memOK:
			add(&bs[i])
			i++
		default:
			if agg.n > 0 {
				emit(&agg)
			}
			return nil
		}
	}
}

// archiveReadTimeout bounds a query's read of the persisted minutes.
const archiveReadTimeout = 10 * time.Second

// aggregator folds the buckets of one period. It runs under the series lock.
type aggregator struct {
	s                    *Store
	pcts                 []percentile
	start                int64
	n                    int
	count, sum, min, max float64
	unit                 uint16
	mixed, noPct         bool
	buckets              []*bucket
}

func (a *aggregator) reset(start int64) {
	a.start, a.n = start, 0
	a.count, a.sum, a.min, a.max = 0, 0, math.Inf(1), math.Inf(-1)
	a.mixed, a.noPct = false, false
	a.buckets = a.buckets[:0]
}

func (a *aggregator) add(b *bucket) {
	if a.n == 0 {
		a.unit = b.unit
	} else if b.unit != a.unit {
		a.mixed = true
	}
	a.n++
	a.count += b.count
	a.sum += b.sum
	a.min = min(a.min, b.min)
	a.max = max(a.max, b.max)
	a.noPct = a.noPct || b.noPct
	if len(a.pcts) > 0 {
		a.buckets = append(a.buckets, b)
	}
}

func (a *aggregator) datapoint() Datapoint {
	d := Datapoint{
		Timestamp:   time.Unix(a.start, 0).UTC(),
		SampleCount: a.count,
		Sum:         a.sum,
		Minimum:     a.min,
		Maximum:     a.max,
		Unit:        "None",
	}
	if !a.mixed {
		d.Unit = a.s.units.name(a.unit)
	}
	if len(a.pcts) == 0 || a.noPct {
		return d
	}
	if a.min == a.max { // every value is the same: exact
		setPercentiles(&d, a.pcts, nil)
		return d
	}
	sk := a.s.scratch.Get().(*ddsketch.DDSketch)
	defer func() {
		sk.Clear()
		a.s.scratch.Put(sk)
	}()
	if !a.mergeInto(sk) {
		return d
	}
	setPercentiles(&d, a.pcts, sk)
	return d
}

// mergeInto adds the period's values to sk; false if the sketch refused one (the period then has no percentiles).
func (a *aggregator) mergeInto(sk *ddsketch.DDSketch) bool {
	for _, b := range a.buckets {
		var err error
		if b.sk != nil {
			err = sk.MergeWith(b.sk)
		} else {
			err = sk.AddWithCount(b.min, b.count)
		}
		if err != nil {
			return false
		}
	}
	return true
}

// setPercentiles fills d.Percentiles from the period's merged sketch (nil when all its values equal d.Minimum ==
// d.Maximum), given its exact Minimum and Maximum.
func setPercentiles(d *Datapoint, pcts []percentile, sk *ddsketch.DDSketch) {
	d.Percentiles = make(map[string]float64, len(pcts))
	for _, p := range pcts {
		switch {
		case sk == nil || p.q == 0: // p0 and p100 are the exact extremes
			d.Percentiles[p.name] = d.Minimum
			continue
		case p.q == 1:
			d.Percentiles[p.name] = d.Maximum
			continue
		}
		v, err := sk.GetValueAtQuantile(p.q)
		if err != nil {
			continue
		}
		// The exact extremes are known: clamping can only bring the estimate closer.
		d.Percentiles[p.name] = min(max(v, d.Minimum), d.Maximum)
	}
}
