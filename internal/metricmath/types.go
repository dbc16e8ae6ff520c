package metricmath

import "math"

// Kind is the type of a value: CloudWatch's S, TS and TS[].
type Kind int

// Kinds.
const (
	Scalar Kind = iota + 1
	TimeSeries
	Array
)

func (k Kind) String() string {
	switch k {
	case Scalar:
		return "a scalar"
	case TimeSeries:
		return "a time series"
	case Array:
		return "an array of time series"
	}
	return "nothing"
}

// Grid is the set of timestamps a series may have datapoints at: Start, Start+Period, … before End (Unix
// seconds). FILL gives a series a datapoint at each; a metric's grid is its query's time range cut into its
// periods.
type Grid struct {
	Start, End, Period int64
}

// Series is one time series: datapoints at ascending timestamps (Unix seconds, the start of each period), on a
// grid.
type Series struct {
	// Label names the series inside an array (a metric query's label); GetMetricData labels each member of an
	// array result with it.
	Label  string
	Times  []int64
	Values []float64
	Grid   Grid
}

// Len is the number of datapoints.
func (s Series) Len() int { return len(s.Times) }

// Value is the result of one expression.
type Value struct {
	Kind   Kind
	Scalar float64  // Kind Scalar
	Series []Series // Kind TimeSeries: one; Kind Array: any number
	// Dropped is set when a datapoint of this expression's computation had no finite value (a division by zero)
	// and was left out: GetMetricData's ArithmeticError.
	Dropped bool
	// Truncated is set when FILL or TIME_SERIES stopped at MaxGridPoints: the value lacks periods it would have.
	Truncated bool
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
