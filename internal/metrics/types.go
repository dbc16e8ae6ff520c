package metrics

import "time"

// Dimension is one name/value pair of a metric's identity.
type Dimension struct {
	Name, Value string
}

// MetricID identifies a series. Dimensions are kept sorted by Name (NewMetricID sorts them).
type MetricID struct {
	Namespace  string
	Name       string
	Dimensions []Dimension
}

// Sample is one or more observations recorded at once: a single Value (Count 1), a value repeated Count times
// (PutMetricData Values/Counts), or a pre-aggregated statistic set (Stats non-nil, from PutMetricData
// StatisticValues; such samples contribute to SampleCount/Sum/Min/Max but not to percentiles).
type Sample struct {
	Value float64
	Count float64
	Stats *StatisticSet
	Unit  string // CloudWatch unit ("Count", "Milliseconds", "None", …)
	At    time.Time
}

// StatisticSet is a pre-aggregated sample.
type StatisticSet struct {
	SampleCount, Sum, Minimum, Maximum float64
}

// Datapoint is the aggregate of one period.
type Datapoint struct {
	Timestamp                          time.Time // start of the period
	SampleCount, Sum, Minimum, Maximum float64
	Unit                               string
	// Percentiles maps an extended statistic name ("p99", "p99.9") to its value; only those asked for.
	Percentiles map[string]float64
}

// Average is Sum / SampleCount.
func (d Datapoint) Average() float64 {
	if d.SampleCount == 0 {
		return 0
	}
	return d.Sum / d.SampleCount
}

// StandardStatistics are the statistics every datapoint has, as CloudWatch names them, in the model's enum order;
// the others are percentiles ("p99"), present only when a query asks for them.
var StandardStatistics = []string{"SampleCount", "Average", "Sum", "Minimum", "Maximum"}

// IsStandardStatistic reports whether stat is one of StandardStatistics.
func IsStandardStatistic(stat string) bool {
	for _, s := range StandardStatistics {
		if s == stat {
			return true
		}
	}
	return false
}

// Statistic is the datapoint's value of one statistic: a standard statistic or a percentile its query asked for
// (Percentiles). false for a percentile the datapoint does not have (not asked for, or over pre-aggregated
// samples only).
func (d Datapoint) Statistic(stat string) (float64, bool) {
	switch stat {
	case "SampleCount":
		return d.SampleCount, true
	case "Average":
		return d.Average(), true
	case "Sum":
		return d.Sum, true
	case "Minimum":
		return d.Minimum, true
	case "Maximum":
		return d.Maximum, true
	}
	v, ok := d.Percentiles[stat]
	return v, ok
}

// Query asks for the datapoints of one series.
type Query struct {
	Metric      MetricID
	Start, End  time.Time     // [Start, End)
	Period      time.Duration // ≥ 1 s
	Unit        string        // "" = any unit; otherwise only samples recorded with this unit
	Percentiles []string      // extended statistics wanted ("p99", "p99.9", …)
}

// DimensionFilter matches ListMetrics dimensions: Name must be present; Value, if non-empty, must equal.
type DimensionFilter struct {
	Name, Value string
}
