package alarms

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/metricmath"
	"github.com/sluice-dev/sluice/internal/metrics"
)

// CloudWatch's error codes (the query protocol's names; the JSON protocols carry the same code).
const (
	CodeValidationError             = "ValidationError"
	CodeInvalidParameterValue       = metrics.CodeInvalidParameterValue
	CodeInvalidParameterCombination = metrics.CodeInvalidParameterCombination
	CodeMissingParameter            = metrics.CodeMissingParameter
	CodeInvalidNextToken            = metrics.CodeInvalidNextToken
	CodeLimitExceeded               = "LimitExceeded"
	CodeResourceNotFound            = "ResourceNotFound"
	CodeInvalidFormat               = "InvalidFormat"
)

// Limits.
const (
	DefaultMaxAlarms   = 5000 // alarms per account and region (CloudWatch's documented quota)
	MaxHistoryPerAlarm = 100  // history items kept per alarm, newest first
	maxActions         = 5
	maxDimensions      = 30
	maxTags            = 50
)

var (
	// statistics are metrics.StandardStatistics in the order of CloudWatch's alarm front end (Coral), which its
	// enum message lists them in.
	statistics          = []string{"Maximum", "SampleCount", "Sum", "Minimum", "Average"}
	comparisonOperators = []string{"GreaterThanOrEqualToThreshold", "GreaterThanThreshold", "LessThanThreshold",
		"LessThanOrEqualToThreshold", "LessThanLowerOrGreaterThanUpperThreshold", "LessThanLowerThreshold",
		"GreaterThanUpperThreshold"}
	states       = []string{StateInsufficientData, StateAlarm, StateOK}
	historyTypes = []string{"ConfigurationUpdate", "StateUpdate", "Action", "AlarmContributorStateUpdate", "AlarmContributorAction"}
)

// constraint is the model-validation message AWS's front end returns (code ValidationError).
func constraint(value any, field, rule string) *fault.Error {
	return fault.New(CodeValidationError, "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s",
		valueText(value), field, rule)
}

func valueText(v any) string {
	if l, ok := v.([]string); ok {
		return "[" + strings.Join(l, ", ") + "]"
	}
	return fmt.Sprint(v)
}

func enumConstraint(value, field string, set []string) *fault.Error {
	return constraint(value, field, "Member must satisfy enum value set: ["+strings.Join(set, ", ")+"]")
}

func checkLength(value, field string, lo, hi int) error {
	n := utf8.RuneCountInString(value)
	if n < lo {
		return constraint(value, field, fmt.Sprintf("Member must have length greater than or equal to %d", lo))
	}
	if n > hi {
		return constraint(value, field, fmt.Sprintf("Member must have length less than or equal to %d", hi))
	}
	return nil
}

// checkName applies AlarmName's rules: 1 to 255 characters, UTF-8 without ASCII control characters.
func checkName(name string) error {
	if err := checkLength(name, "alarmName", 1, 255); err != nil {
		return err
	}
	if !utf8.ValidString(name) || strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return fault.New(CodeValidationError, "The alarm name must contain only UTF-8 characters, and can't contain ASCII control characters.")
	}
	return nil
}

// validPeriod: CloudWatch accepts 10, 20, 30 and multiples of 60 seconds; Sluice also accepts 1 and 5.
func validPeriod(sec int64) bool {
	switch sec {
	case 1, 5, 10, 20, 30:
		return true
	}
	return sec > 0 && sec%60 == 0
}

// validateCommon checks what every kind of alarm has: a name, a description, actions and tags.
func validateCommon(d *Definition) error {
	if err := checkName(d.Name); err != nil {
		return err
	}
	if err := checkLength(d.Description, "alarmDescription", 0, 1024); err != nil {
		return err
	}
	if len(d.Tags) > maxTags {
		return fault.New(CodeValidationError, "1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to %d", maxTags)
	}
	for k, v := range d.Tags {
		if err := checkLength(k, "tags.member.key", 1, 128); err != nil {
			return err
		}
		if err := checkLength(v, "tags.member.value", 0, 256); err != nil {
			return err
		}
	}
	for _, a := range []struct {
		field string
		list  []string
	}{{"oKActions", d.OKActions}, {"alarmActions", d.AlarmActions}, {"insufficientDataActions", d.InsufficientDataActions}} {
		if len(a.list) > maxActions {
			return constraint(a.list, a.field, fmt.Sprintf("Member must have length less than or equal to %d", maxActions))
		}
		for _, arn := range a.list {
			if err := checkLength(arn, a.field+".member", 1, 1024); err != nil {
				return err
			}
		}
	}
	return nil
}

// validate checks a definition as PutMetricAlarm does and normalizes it (sorted dimensions). retention bounds
// the evaluation range.
func validate(d *Definition, retention time.Duration) error {
	if err := validateCommon(d); err != nil {
		return err
	}
	if len(d.Metrics) > 0 {
		if err := validateMath(d); err != nil {
			return err
		}
	} else if err := validateMetric(d); err != nil {
		return err
	}
	return validateEvaluation(d, retention)
}

// validateMetric checks a single-metric alarm's metric, statistic, period and unit.
func validateMetric(d *Definition) error {
	m := &d.Metric
	if m.Namespace == "" {
		return fault.New(CodeMissingParameter, "The parameter Namespace is required.")
	}
	if err := checkLength(m.Namespace, "namespace", 1, 255); err != nil {
		return err
	}
	if strings.HasPrefix(m.Namespace, ":") {
		return constraint(m.Namespace, "namespace", "Member must satisfy regular expression pattern: [^:].*")
	}
	if m.Name == "" {
		return fault.New(CodeMissingParameter, "The parameter MetricName is required.")
	}
	if err := checkLength(m.Name, "metricName", 1, 255); err != nil {
		return err
	}
	if len(m.Dimensions) > maxDimensions {
		return fault.New(CodeValidationError, "1 validation error detected: Value at 'dimensions' failed to satisfy constraint: Member must have length less than or equal to %d", maxDimensions)
	}
	seen := make(map[string]bool, len(m.Dimensions))
	for _, dim := range m.Dimensions {
		if err := checkLength(dim.Name, "dimensions.member.name", 1, 255); err != nil {
			return err
		}
		if err := checkLength(dim.Value, "dimensions.member.value", 1, 1024); err != nil {
			return err
		}
		if seen[dim.Name] {
			return fault.New(CodeInvalidParameterValue, "No Metric may specify the same dimension twice.")
		}
		seen[dim.Name] = true
	}
	*m = metrics.NewMetricID(m.Namespace, m.Name, m.Dimensions...)

	switch {
	case d.Statistic != "" && d.ExtendedStatistic != "":
		return fault.New(CodeInvalidParameterCombination, "The parameters Statistic and ExtendedStatistic are mutually exclusive and you have specified both.")
	case d.Statistic == "" && d.ExtendedStatistic == "":
		return fault.New(CodeValidationError, "Exactly one of Statistic or ExtendedStatistic must be specified.")
	case d.Statistic != "" && !metrics.IsStandardStatistic(d.Statistic):
		return enumConstraint(d.Statistic, "statistic", statistics)
	case d.ExtendedStatistic != "":
		if _, ok := metrics.ParsePercentile(d.ExtendedStatistic); !ok {
			return fault.New(CodeInvalidParameterValue, "The value %s for parameter ExtendedStatistic is not supported.", d.ExtendedStatistic)
		}
	}

	if d.Period <= 0 {
		return fault.New(CodeMissingParameter, "The parameter Period is required.")
	}
	period := int64(d.Period / time.Second)
	if d.Period%time.Second != 0 || !validPeriod(period) {
		return fault.New(CodeValidationError, "Period must be 10, 20, 30 or a multiple of 60")
	}
	if d.Unit != "" && !slices.Contains(metrics.StandardUnits, d.Unit) {
		return enumConstraint(d.Unit, "unit", metrics.StandardUnits)
	}
	return nil
}

// Limits of a metric-math alarm's Metrics (PutMetricAlarm's documentation).
const (
	maxAlarmMetricStats  = 10
	maxAlarmExpressions  = 10
	maxAlarmMetricsQuery = maxAlarmMetricStats + maxAlarmExpressions
)

// validateMath checks a metric-math alarm's queries: the limits, exactly one returning data, the metrics' statistics
// and one shared period, and the expressions (metricmath.Compile), the returned one giving a single time series.
func validateMath(d *Definition) error {
	stats, exprs, returning := 0, 0, 0
	var period time.Duration
	mq := make([]metricmath.Query, len(d.Metrics))
	for i := range d.Metrics {
		q := &d.Metrics[i]
		if q.ReturnData {
			returning++
		}
		mq[i] = metricmath.Query{ID: q.ID, Expression: q.Expression, Label: q.Label}
		if q.Expression != "" {
			exprs++
			continue
		}
		stats++
		switch {
		case q.Stat == "":
			return fault.New(CodeMissingParameter, "The parameter Metrics.member.%d.MetricStat.Stat is required.", i+1)
		case !metrics.IsStandardStatistic(q.Stat):
			if _, ok := metrics.ParsePercentile(q.Stat); !ok {
				return fault.New(CodeInvalidParameterValue, "The value %s for parameter Metrics.member.%d.MetricStat.Stat is not supported.", q.Stat, i+1)
			}
		}
		sec := int64(q.Period / time.Second)
		if q.Period%time.Second != 0 || !validPeriod(sec) {
			return fault.New(CodeValidationError, "Period must be 10, 20, 30 or a multiple of 60")
		}
		if period != 0 && q.Period != period {
			return fault.New(CodeValidationError, "The metrics of a metric math alarm must all have the same period (Metrics.member.%d.MetricStat.Period is %d, not %d).", i+1, sec, int64(period/time.Second))
		}
		period = q.Period
		if q.Unit != "" && !slices.Contains(metrics.StandardUnits, q.Unit) {
			return enumConstraint(q.Unit, fmt.Sprintf("metrics.%d.member.metricStat.unit", i+1), metrics.StandardUnits)
		}
		mq[i].Period = sec
		q.Metric = metrics.NewMetricID(q.Metric.Namespace, q.Metric.Name, q.Metric.Dimensions...)
	}
	switch {
	case len(d.Metrics) > maxAlarmMetricsQuery || stats > maxAlarmMetricStats || exprs > maxAlarmExpressions:
		return fault.New(CodeValidationError, "The Metrics of an alarm may hold at most %d metrics (MetricStat) and %d expressions; these hold %d and %d.", maxAlarmMetricStats, maxAlarmExpressions, stats, exprs)
	case returning != 1:
		return fault.New(CodeValidationError, "Exactly one element of the metrics list should return data.")
	case stats == 0:
		return fault.New(CodeValidationError, "The Metrics of an alarm must hold at least one metric (MetricStat).")
	}
	prog, err := metricmath.Compile(mq)
	if err != nil {
		return err
	}
	for _, q := range d.Metrics {
		if q.ReturnData {
			return prog.RequireSeries(q.ID, metricmath.TimeSeries)
		}
	}
	return nil
}

// validateEvaluation checks how a metric or metric-math alarm is evaluated: periods, datapoints, the threshold and
// its operator, missing data.
func validateEvaluation(d *Definition, retention time.Duration) error {
	period := int64(d.evaluationPeriod() / time.Second)
	if d.EvaluationPeriods < 1 {
		return constraint(d.EvaluationPeriods, "evaluationPeriods", "Member must have value greater than or equal to 1")
	}
	if d.DatapointsToAlarm < 0 {
		return constraint(d.DatapointsToAlarm, "datapointsToAlarm", "Member must have value greater than or equal to 1")
	}
	if d.DatapointsToAlarm > d.EvaluationPeriods {
		return fault.New(CodeValidationError, "DatapointsToAlarm must be less than or equal to EvaluationPeriods")
	}
	span := period * int64(d.EvaluationPeriods)
	if period < 3600 && span > 86400 {
		return fault.New(CodeValidationError, "Metrics cannot be checked across more than a day (EvaluationPeriods * Period must be <= 86400)")
	}
	if span > 604800 {
		return fault.New(CodeValidationError, "Metrics cannot be checked across more than 7 days (EvaluationPeriods * Period must be <= 604800)")
	}
	if keep := int64(retention / time.Second); span > keep {
		return fault.New(CodeValidationError, "Sluice keeps metrics for %d seconds, so EvaluationPeriods * Period (%d) must be <= %d", keep, span, keep)
	}
	if math.IsNaN(d.Threshold) || math.IsInf(d.Threshold, 0) {
		return fault.New(CodeValidationError, "The value for parameter Threshold must be a finite number.")
	}
	switch {
	case d.ComparisonOperator == "":
		return fault.New(CodeMissingParameter, "The parameter ComparisonOperator is required.")
	case !slices.Contains(comparisonOperators, d.ComparisonOperator):
		return enumConstraint(d.ComparisonOperator, "comparisonOperator", comparisonOperators)
	case opPhrases[d.ComparisonOperator] == "":
		return fault.New(CodeValidationError, "The comparison operator %s is for anomaly detection alarms (ThresholdMetricId), which Sluice does not support.", d.ComparisonOperator)
	}
	switch d.TreatMissingData {
	case "", MissingDataMissing, MissingDataBreaching, MissingDataNotBreaching, MissingDataIgnore:
	default:
		return fault.New(CodeValidationError, "The value %s is not supported for TreatMissingData parameter. Supported values are [breaching, notBreaching, ignore, missing].", d.TreatMissingData)
	}
	switch d.EvaluateLowSampleCountPercentile {
	case "", "evaluate", "ignore":
	default:
		return fault.New(CodeValidationError, "Option %s is not supported. Supported options for parameter EvaluateLowSampleCountPercentile are evaluate and ignore.", d.EvaluateLowSampleCountPercentile)
	}
	return nil
}
