package cloudwatchapi

import (
	"context"
	"time"

	"github.com/sluice-dev/sluice/internal/alarms"
	"github.com/sluice-dev/sluice/internal/metrics"
)

// Backend is what the CloudWatch edge needs from Sluice's metric store and alarm service, in their own terms. The
// edge has decoded the request, checked the model's constraints on it (required members, lengths, enums, list
// sizes), refused what Sluice does not support (anomaly-detection and PromQL alarms), checked
// PutMetricData and the statistics requests completely (the metric store takes samples without checking them),
// and applied the wire defaults (page sizes, ActionsEnabled). The backend owns the domain's rules: an alarm
// definition's validity (statistic, period, evaluation span, operators), existence, limits, pagination tokens.
//
// Errors are *fault.Error values carrying a CloudWatch error code — ResourceNotFound, InvalidParameterValue,
// InvalidParameterCombination, MissingParameter, LimitExceeded, InvalidNextToken, InvalidFormat (the Code*
// constants of this package) — or the name of one of the model's error shapes (InvalidParameterValueException
// and the like); ValidationException is accepted for ValidationError. Anything else is reported to the client as
// a 500 InternalServiceError and logged.
type Backend interface {
	// PutMetricAlarm creates the alarm or replaces its definition (keeping its state): a single-metric alarm, or a
	// metric-math one (d.Metrics).
	PutMetricAlarm(ctx context.Context, d alarms.Definition) error
	// PutCompositeAlarm creates the composite alarm d.AlarmRule describes, or replaces its definition.
	PutCompositeAlarm(ctx context.Context, d alarms.Definition) error
	// DescribeAlarms returns one page of the alarms matching f, ordered by name, and the token of the next page (""
	// on the last page).
	DescribeAlarms(ctx context.Context, f AlarmFilter) (page []alarms.Alarm, nextToken string, err error)
	// AlarmChildren returns the alarms a composite alarm's rule names (none for another alarm); AlarmParents the
	// composite alarms whose rules name an alarm.
	AlarmChildren(ctx context.Context, name string) ([]alarms.Alarm, error)
	AlarmParents(ctx context.Context, name string) ([]alarms.Alarm, error)
	// DescribeAlarmsForMetric returns every alarm on exactly f.Metric (namespace, name and dimension set) that
	// matches f's optional statistic, period and unit.
	DescribeAlarmsForMetric(ctx context.Context, f MetricAlarmFilter) ([]alarms.Alarm, error)
	// DeleteAlarms deletes the named alarms.
	DeleteAlarms(ctx context.Context, names []string) error
	// SetAlarmState sets an alarm's state until its next evaluation; reasonData is JSON or "".
	SetAlarmState(ctx context.Context, name, state, reason, reasonData string) error
	// DescribeAlarmHistory returns one page of history items matching f and the token of the next page.
	DescribeAlarmHistory(ctx context.Context, f HistoryFilter) (page []alarms.HistoryItem, nextToken string, err error)
	// SetAlarmActions enables or disables the actions of the named alarms (Enable/DisableAlarmActions).
	SetAlarmActions(ctx context.Context, names []string, enabled bool) error

	// PutMetricData records samples. The whole request has been validated, so a backend records all or nothing.
	PutMetricData(ctx context.Context, data []Datum) error
	// Statistics returns the datapoints of one series, one per period that has samples, in any order. Aligning
	// the periods to the clock, as CloudWatch does, is the backend's (metrics.Store.Statistics does it).
	Statistics(ctx context.Context, q metrics.Query) ([]metrics.Datapoint, error)
	// ListMetrics returns one page of the series matching f and the token of the next page.
	ListMetrics(ctx context.Context, f ListMetricsFilter) (page []metrics.MetricID, nextToken string, err error)
}

// AlarmFilter selects the alarms of DescribeAlarms. Empty members match everything.
type AlarmFilter struct {
	Names        []string // any of these names (at most 100)
	NamePrefix   string
	StateValue   string   // alarms.State*
	ActionPrefix string   // alarms with an action (OK, ALARM or INSUFFICIENT_DATA) starting with this
	Types        []string // alarms.TypeMetric, alarms.TypeComposite (the edge defaults it to metric alarms)
	MaxRecords   int      // page size, 1–100 (the edge defaults it to 50)
	NextToken    string   // from the previous page
}

// MetricAlarmFilter selects the alarms of DescribeAlarmsForMetric. Empty members match everything.
type MetricAlarmFilter struct {
	Metric            metrics.MetricID // required: namespace, name and the exact (sorted) dimension set
	Statistic         string
	ExtendedStatistic string
	Period            time.Duration
	Unit              string
}

// HistoryFilter selects the items of DescribeAlarmHistory. Empty members match everything.
type HistoryFilter struct {
	AlarmName  string
	Type       string    // ConfigurationUpdate | StateUpdate | Action
	Start, End time.Time // items with Start <= Timestamp <= End; zero = unbounded
	Ascending  bool      // oldest first (ScanBy TimestampAscending); the default is newest first
	Types      []string  // alarm types of the items; none: every type
	MaxRecords int       // page size, 1–100 (the edge defaults it to 100)
	NextToken  string
}

// ListMetricsFilter selects the series of ListMetrics. Empty members match everything.
type ListMetricsFilter struct {
	Namespace  string
	MetricName string
	Dimensions []metrics.DimensionFilter
	// ActiveSince, when set, keeps only series with a sample at or after it (RecentlyActive=PT3H).
	ActiveSince time.Time
	NextToken   string
}

// Datum is one sample of one series, as PutMetricData records it. A MetricDatum with Values/Counts becomes one
// Datum per value.
type Datum struct {
	Metric metrics.MetricID
	Sample metrics.Sample
}
