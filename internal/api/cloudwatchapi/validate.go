package cloudwatchapi

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/sluice-dev/sluice/internal/metrics"
)

// The model's enums.
var (
	statisticValues = metrics.StandardStatistics
	unitValues      = []string{"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes",
		"Gigabytes", "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
		"Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second",
		"Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second",
		"None"}
	stateValues      = []string{"OK", "ALARM", "INSUFFICIENT_DATA"}
	historyItemTypes = []string{"ConfigurationUpdate", "StateUpdate", "Action", "AlarmContributorStateUpdate", "AlarmContributorAction"}
	scanByValues     = []string{"TimestampDescending", "TimestampAscending"}
	alarmTypeValues  = []string{"CompositeAlarm", "MetricAlarm"}
	recentlyActive   = []string{"PT3H"}
)

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func num(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

func ptr[T any](v T) *T { return &v }

// optString is nil for "" (an absent optional member).
func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// oneOf checks an enum member.
func oneOf(path, v string, set []string) error {
	if slices.Contains(set, v) {
		return nil
	}
	return constraint(v, path, "Member must satisfy enum value set: ["+strings.Join(set, ", ")+"]")
}

// optOneOf checks an optional enum member.
func optOneOf(path string, v *string, set []string) error {
	if v == nil {
		return nil
	}
	return oneOf(path, *v, set)
}

// length checks a string member's length (in characters) against the model.
func length(path, v string, min, max int) error {
	n := utf8.RuneCountInString(v)
	switch {
	case n < min && max == 0:
		return constraint(v, path, fmt.Sprintf("Member must have length greater than or equal to %d", min))
	case n < min || (max > 0 && n > max):
		return constraint(v, path, fmt.Sprintf("Member must have length between %d and %d", min, max))
	}
	return nil
}

// optLength checks an optional string member's length.
func optLength(path string, v *string, min, max int) error {
	if v == nil {
		return nil
	}
	return length(path, *v, min, max)
}

// maxItems checks a list member's size.
func maxItems[T any](path string, list []T, max int) error {
	if len(list) <= max {
		return nil
	}
	return constraint(fmt.Sprint(list), path, fmt.Sprintf("Member must have length less than or equal to %d", max))
}

// intRange checks an integer member against [min, max] (max 0 = unbounded).
func intRange(path string, v *int, min, max int) error {
	switch {
	case v == nil:
		return nil
	case *v < min:
		return constraint(*v, path, fmt.Sprintf("Member must have value greater than or equal to %d", min))
	case max > 0 && *v > max:
		return constraint(*v, path, fmt.Sprintf("Member must have value less than or equal to %d", max))
	}
	return nil
}

// firstErr returns the first non-nil error: the checks of a request run in the model's member order.
func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// checkNamespace applies the model's Namespace constraints.
func checkNamespace(path string, ns string) error {
	if err := length(path, ns, 1, 255); err != nil {
		return err
	}
	if strings.HasPrefix(ns, ":") {
		return constraint(ns, path, "Member must satisfy regular expression pattern: [^:].*")
	}
	return nil
}

// finite rejects the values CloudWatch cannot store: NaN, ±Inf and magnitudes beyond 2^360 or below 2^-260.
func finite(path string, v float64) error {
	a := math.Abs(v)
	if math.IsNaN(v) || math.IsInf(v, 0) || a > 0x1p360 || (a != 0 && a < 0x1p-260) {
		return invalidValue("The value %s for parameter %s is invalid.", formatValue(v), path)
	}
	return nil
}

func formatValue(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "Infinity"
	case math.IsInf(v, -1):
		return "-Infinity"
	}
	return fmt.Sprint(v)
}

// percentile matches the extended statistics Sluice computes: p0 to p100 with up to 10 decimals.
var percentile = regexp.MustCompile(`^p(\d{1,2}(\.\d{1,10})?|100(\.0{1,10})?)$`)

// checkExtendedStatistic accepts percentiles; CloudWatch's other extended statistics (trimmed means and the like)
// are refused.
func checkExtendedStatistic(path, s string) error {
	if percentile.MatchString(s) {
		return nil
	}
	if regexp.MustCompile(`^(tm|wm|tc|ts|TM|WM|TC|TS|PR)\(|^(tm|wm|tc|ts)\d|^IQM$`).MatchString(s) {
		return unsupported("The extended statistic %s at %s is not supported by Sluice; use a percentile (p0 to p100).", s, path)
	}
	return invalidValue("The value %s for parameter %s is invalid.", s, path)
}

// toDimensions checks a Dimensions member and returns the dimensions sorted by name, as metrics.MetricID keeps them.
func toDimensions(path string, ds []Dimension) ([]metrics.Dimension, error) {
	if err := maxItems(path, ds, 30); err != nil {
		return nil, err
	}
	out := make([]metrics.Dimension, 0, len(ds))
	seen := map[string]bool{}
	for i, d := range ds {
		p := elem(path, i)
		switch {
		case d.Name == nil:
			return nil, missing(p + ".Name")
		case d.Value == nil:
			return nil, missing(p + ".Value")
		}
		if err := firstErr(length(p+".Name", *d.Name, 1, 255), length(p+".Value", *d.Value, 1, 1024)); err != nil {
			return nil, err
		}
		if seen[*d.Name] {
			return nil, invalidValue("No Metric may specify the same dimension twice.")
		}
		seen[*d.Name] = true
		out = append(out, metrics.Dimension{Name: *d.Name, Value: *d.Value})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// fromDimensions is the wire form of a series' dimensions (an empty list, never absent).
func fromDimensions(ds []metrics.Dimension) []Dimension {
	out := make([]Dimension, len(ds))
	for i, d := range ds {
		out[i] = Dimension{Name: ptr(d.Name), Value: ptr(d.Value)}
	}
	return out
}

// nonNil makes an absent list an empty one, for output lists AWS always sends.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
