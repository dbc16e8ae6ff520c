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

// Definition is what PutMetricAlarm sets (single-metric alarms; metric-math alarms are out of scope).
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
