package alarms

import (
	"time"

	"github.com/sluice-dev/sluice/internal/metrics"
)

// States.
const (
	StateOK               = "OK"
	StateAlarm            = "ALARM"
	StateInsufficientData = "INSUFFICIENT_DATA"
)

// Types of alarm, as DescribeAlarms' AlarmTypes and history items name them.
const (
	TypeMetric    = "MetricAlarm"
	TypeComposite = "CompositeAlarm"
)

// MetricQuery is one query of a metric-math alarm (PutMetricAlarm's Metrics): a metric (Expression empty) or an
// expression over the others. Exactly one of an alarm's queries has ReturnData: the series the alarm watches.
type MetricQuery struct {
	ID         string
	Label      string
	ReturnData bool
	Expression string
	// The MetricStat of a metric query.
	Metric metrics.MetricID
	Stat   string // SampleCount|Average|Sum|Minimum|Maximum or a percentile (p99)
	Period time.Duration
	Unit   string
}

// Definition is what PutMetricAlarm sets — a single-metric alarm (Metric, Statistic or ExtendedStatistic, Period,
// Unit) or a metric-math alarm (Metrics) — or PutCompositeAlarm (AlarmRule).
type Definition struct {
	Name                             string
	Description                      string
	ActionsEnabled                   bool // default true
	OKActions, AlarmActions          []string
	InsufficientDataActions          []string
	Metric                           metrics.MetricID
	Statistic                        string // SampleCount|Average|Sum|Minimum|Maximum, or "" when ExtendedStatistic is set
	ExtendedStatistic                string // "p99", "p99.9", …
	Period                           time.Duration
	Unit                             string
	EvaluationPeriods                int
	DatapointsToAlarm                int // default EvaluationPeriods
	Threshold                        float64
	ComparisonOperator               string // GreaterThanOrEqualToThreshold | GreaterThanThreshold | LessThanThreshold | LessThanOrEqualToThreshold
	TreatMissingData                 string // missing (default) | breaching | notBreaching | ignore
	EvaluateLowSampleCountPercentile string // evaluate | ignore ("" = evaluate)
	Tags                             map[string]string
	// Metrics makes a metric-math alarm: Metric, Statistic, ExtendedStatistic, Period and Unit are then empty.
	Metrics []MetricQuery
	// AlarmRule makes a composite alarm (PutCompositeAlarm): its state is the rule's value over other alarms'
	// states; none of the metric members apply.
	AlarmRule                        string
	ActionsSuppressor                string
	ActionsSuppressorWaitPeriod      int
	ActionsSuppressorExtensionPeriod int
}

// Type is TypeComposite for a composite alarm, TypeMetric otherwise.
func (d *Definition) Type() string {
	if d.AlarmRule != "" {
		return TypeComposite
	}
	return TypeMetric
}

// evaluationPeriod is the period an alarm's datapoints cover: its Period, or for a metric-math alarm the period
// of its metrics (validate requires them to be equal).
func (d *Definition) evaluationPeriod() time.Duration {
	if len(d.Metrics) == 0 {
		return d.Period
	}
	for _, q := range d.Metrics {
		if q.Expression == "" {
			return q.Period
		}
	}
	return 0
}

// Alarm is a definition with its state.
type Alarm struct {
	Definition
	ARN                  string
	ConfigurationUpdated time.Time
	StateValue           string
	StateReason          string
	StateReasonData      string // JSON
	StateUpdated         time.Time
	StateTransitioned    time.Time
}

// HistoryItem is one entry of an alarm's history.
type HistoryItem struct {
	AlarmName string
	AlarmType string // TypeMetric or TypeComposite
	Timestamp time.Time
	Type      string // ConfigurationUpdate | StateUpdate | Action
	Summary   string
	Data      string // JSON
}

// Change is pushed to subscribers when an alarm changes state.
type Change struct {
	AlarmName string
	From, To  string
	Reason    string
	At        time.Time
}
