package cloudwatchapi

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/sluice-dev/sluice/internal/alarms"
	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/metrics"
)

// Page sizes when the request names none.
const (
	defaultAlarmPage   = 50
	defaultHistoryPage = 100
)

func (h *Handler) putMetricAlarm(ctx context.Context, in *PutMetricAlarmInput) error {
	d, err := alarmDefinition(in)
	if err != nil {
		return err
	}
	return h.backend.PutMetricAlarm(ctx, d)
}

// alarmDefinition translates a PutMetricAlarm request. The edge refuses what a Definition cannot carry (metric
// math, PromQL and anomaly-detection alarms) and the absence of the members a static-threshold alarm requires
// (which the domain could not tell from zero values); the alarm rules themselves — statistic, period, evaluation
// span, operators, lengths — are the domain's (alarms validates every Definition). Absent DatapointsToAlarm and
// TreatMissingData are passed as 0 and "" (the domain's defaults apply, and DescribeAlarms leaves them out, as AWS
// does); ActionsEnabled defaults to true.
func alarmDefinition(in *PutMetricAlarmInput) (alarms.Definition, error) {
	var d alarms.Definition
	if in.AlarmName == nil {
		return d, missing("AlarmName")
	}
	switch {
	case in.Metrics != nil:
		return d, unsupported("Metric math alarms (Metrics) are not supported by Sluice; set MetricName, Namespace, Dimensions, Statistic and Period instead.")
	case in.EvaluationCriteria != nil || in.EvaluationInterval != nil:
		return d, unsupported("PromQL alarms (EvaluationCriteria, EvaluationInterval) are not supported by Sluice.")
	case in.ThresholdMetricId != nil:
		return d, unsupported("Anomaly detection alarms (ThresholdMetricId) are not supported by Sluice.")
	}
	for _, m := range []struct {
		name    string
		present bool
	}{
		{"MetricName", in.MetricName != nil}, {"Namespace", in.Namespace != nil}, {"Period", in.Period != nil},
		{"EvaluationPeriods", in.EvaluationPeriods != nil}, {"Threshold", in.Threshold != nil},
		{"ComparisonOperator", in.ComparisonOperator != nil},
	} {
		if !m.present {
			return d, missing(m.name)
		}
	}
	dims, err := toDimensions("Dimensions", in.Dimensions)
	if err != nil {
		return d, err
	}
	if err := firstErr(intRange("Period", in.Period, 1, 0), intRange("EvaluationPeriods", in.EvaluationPeriods, 1, 0),
		intRange("DatapointsToAlarm", in.DatapointsToAlarm, 1, 0)); err != nil {
		return d, err
	}
	tags, err := tagMap(in.Tags)
	if err != nil {
		return d, err
	}
	d = alarms.Definition{
		Name:                             *in.AlarmName,
		Description:                      str(in.AlarmDescription),
		ActionsEnabled:                   in.ActionsEnabled == nil || *in.ActionsEnabled,
		OKActions:                        in.OKActions,
		AlarmActions:                     in.AlarmActions,
		InsufficientDataActions:          in.InsufficientDataActions,
		Metric:                           metrics.MetricID{Namespace: *in.Namespace, Name: *in.MetricName, Dimensions: dims},
		Statistic:                        str(in.Statistic),
		ExtendedStatistic:                str(in.ExtendedStatistic),
		Period:                           time.Duration(*in.Period) * time.Second,
		Unit:                             str(in.Unit),
		EvaluationPeriods:                *in.EvaluationPeriods,
		DatapointsToAlarm:                num(in.DatapointsToAlarm),
		Threshold:                        *in.Threshold,
		ComparisonOperator:               *in.ComparisonOperator,
		TreatMissingData:                 str(in.TreatMissingData),
		EvaluateLowSampleCountPercentile: str(in.EvaluateLowSampleCountPercentile),
		Tags:                             tags,
	}
	return d, nil
}

func tagMap(tags []Tag) (map[string]string, error) {
	if len(tags) == 0 {
		return nil, nil
	}
	m := make(map[string]string, len(tags))
	for i, t := range tags {
		p := elem("Tags", i)
		switch {
		case t.Key == nil:
			return nil, missing(p + ".Key")
		case t.Value == nil:
			return nil, missing(p + ".Value")
		}
		if err := firstErr(length(p+".Key", *t.Key, 1, 128), length(p+".Value", *t.Value, 0, 256)); err != nil {
			return nil, err
		}
		m[*t.Key] = *t.Value
	}
	return m, nil
}

func (h *Handler) describeAlarms(ctx context.Context, in *DescribeAlarmsInput) (*DescribeAlarmsOutput, error) {
	if err := firstErr(
		checkAlarmNames("AlarmNames", in.AlarmNames),
		optLength("AlarmNamePrefix", in.AlarmNamePrefix, 1, 255),
		checkAlarmTypes(in.AlarmTypes),
		optLength("ChildrenOfAlarmName", in.ChildrenOfAlarmName, 1, 255),
		optLength("ParentsOfAlarmName", in.ParentsOfAlarmName, 1, 255),
		optOneOf("StateValue", in.StateValue, stateValues),
		optLength("ActionPrefix", in.ActionPrefix, 1, 1024),
		intRange("MaxRecords", in.MaxRecords, 1, 100),
	); err != nil {
		return nil, err
	}
	out := &DescribeAlarmsOutput{CompositeAlarms: []CompositeAlarm{}, MetricAlarms: []MetricAlarm{}}
	if in.ChildrenOfAlarmName != nil || in.ParentsOfAlarmName != nil {
		others := len(in.AlarmNames) > 0 || in.AlarmNamePrefix != nil || len(in.AlarmTypes) > 0 ||
			in.StateValue != nil || in.ActionPrefix != nil || (in.ChildrenOfAlarmName != nil && in.ParentsOfAlarmName != nil)
		if others {
			return nil, invalidCombination("If you specify ChildrenOfAlarmName or ParentsOfAlarmName, you cannot specify any other parameters in the request except for MaxRecords and NextToken.")
		}
		return out, nil // only composite alarms have children or parents, and Sluice has none
	}
	if len(in.AlarmTypes) > 0 && !slices.Contains(in.AlarmTypes, "MetricAlarm") {
		return out, nil
	}
	f := AlarmFilter{
		Names:        in.AlarmNames,
		NamePrefix:   str(in.AlarmNamePrefix),
		StateValue:   str(in.StateValue),
		ActionPrefix: str(in.ActionPrefix),
		MaxRecords:   defaultAlarmPage,
		NextToken:    str(in.NextToken),
	}
	if in.MaxRecords != nil {
		f.MaxRecords = *in.MaxRecords
	}
	page, next, err := h.backend.DescribeAlarms(ctx, f)
	if err != nil {
		return nil, err
	}
	for _, a := range page {
		out.MetricAlarms = append(out.MetricAlarms, metricAlarm(a))
	}
	out.NextToken = optString(next)
	return out, nil
}

func checkAlarmNames(path string, names []string) error {
	if err := maxItems(path, names, 100); err != nil {
		return err
	}
	for i, n := range names {
		if err := length(elem(path, i), n, 1, 255); err != nil {
			return err
		}
	}
	return nil
}

func checkAlarmTypes(types []string) error {
	for i, t := range types {
		if err := oneOf(elem("AlarmTypes", i), t, alarmTypeValues); err != nil {
			return err
		}
	}
	return nil
}

func (h *Handler) describeAlarmsForMetric(ctx context.Context, in *DescribeAlarmsForMetricInput) (*DescribeAlarmsForMetricOutput, error) {
	switch {
	case in.MetricName == nil:
		return nil, missing("MetricName")
	case in.Namespace == nil:
		return nil, missing("Namespace")
	}
	if err := firstErr(
		length("MetricName", *in.MetricName, 1, 255),
		checkNamespace("Namespace", *in.Namespace),
		optOneOf("Statistic", in.Statistic, statisticValues),
	); err != nil {
		return nil, err
	}
	dims, err := toDimensions("Dimensions", in.Dimensions)
	if err != nil {
		return nil, err
	}
	if err := firstErr(intRange("Period", in.Period, 1, 0), optOneOf("Unit", in.Unit, unitValues)); err != nil {
		return nil, err
	}
	list, err := h.backend.DescribeAlarmsForMetric(ctx, MetricAlarmFilter{
		Metric:            metrics.MetricID{Namespace: *in.Namespace, Name: *in.MetricName, Dimensions: dims},
		Statistic:         str(in.Statistic),
		ExtendedStatistic: str(in.ExtendedStatistic),
		Period:            time.Duration(num(in.Period)) * time.Second,
		Unit:              str(in.Unit),
	})
	if err != nil {
		return nil, err
	}
	out := &DescribeAlarmsForMetricOutput{MetricAlarms: []MetricAlarm{}}
	for _, a := range list {
		out.MetricAlarms = append(out.MetricAlarms, metricAlarm(a))
	}
	return out, nil
}

// metricAlarm is the wire form of an alarm.
func metricAlarm(a alarms.Alarm) MetricAlarm {
	m := MetricAlarm{
		AlarmName:                          ptr(a.Name),
		AlarmArn:                           ptr(a.ARN),
		AlarmDescription:                   optString(a.Description),
		AlarmConfigurationUpdatedTimestamp: optTime(a.ConfigurationUpdated),
		ActionsEnabled:                     ptr(a.ActionsEnabled),
		OKActions:                          nonNil(slices.Clone(a.OKActions)),
		AlarmActions:                       nonNil(slices.Clone(a.AlarmActions)),
		InsufficientDataActions:            nonNil(slices.Clone(a.InsufficientDataActions)),
		StateValue:                         ptr(a.StateValue),
		StateReason:                        ptr(a.StateReason),
		StateReasonData:                    optString(a.StateReasonData),
		StateUpdatedTimestamp:              optTime(a.StateUpdated),
		MetricName:                         ptr(a.Metric.Name),
		Namespace:                          ptr(a.Metric.Namespace),
		Statistic:                          optString(a.Statistic),
		ExtendedStatistic:                  optString(a.ExtendedStatistic),
		Dimensions:                         fromDimensions(a.Metric.Dimensions),
		Period:                             ptr(int(a.Period / time.Second)),
		Unit:                               optString(a.Unit),
		EvaluationPeriods:                  ptr(a.EvaluationPeriods),
		Threshold:                          ptr(a.Threshold),
		ComparisonOperator:                 ptr(a.ComparisonOperator),
		TreatMissingData:                   optString(a.TreatMissingData),
		EvaluateLowSampleCountPercentile:   optString(a.EvaluateLowSampleCountPercentile),
		StateTransitionedTimestamp:         optTime(a.StateTransitioned),
	}
	if a.DatapointsToAlarm > 0 {
		m.DatapointsToAlarm = ptr(a.DatapointsToAlarm)
	}
	return m
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func (h *Handler) deleteAlarms(ctx context.Context, in *AlarmNamesInput) error {
	if err := requireAlarmNames(in); err != nil {
		return err
	}
	return h.backend.DeleteAlarms(ctx, in.AlarmNames)
}

func requireAlarmNames(in *AlarmNamesInput) error {
	if len(in.AlarmNames) == 0 {
		return missing("AlarmNames")
	}
	return checkAlarmNames("AlarmNames", in.AlarmNames)
}

func (h *Handler) setAlarmActions(enabled bool) func(context.Context, *AlarmNamesInput) error {
	return func(ctx context.Context, in *AlarmNamesInput) error {
		if err := requireAlarmNames(in); err != nil {
			return err
		}
		return h.backend.SetAlarmActions(ctx, in.AlarmNames, enabled)
	}
}

func (h *Handler) setAlarmState(ctx context.Context, in *SetAlarmStateInput) error {
	switch {
	case in.AlarmName == nil:
		return missing("AlarmName")
	case in.StateValue == nil:
		return missing("StateValue")
	case in.StateReason == nil:
		return missing("StateReason")
	}
	if err := firstErr(
		length("AlarmName", *in.AlarmName, 1, 255),
		oneOf("StateValue", *in.StateValue, stateValues),
		length("StateReason", *in.StateReason, 0, 1023),
		optLength("StateReasonData", in.StateReasonData, 0, 4000),
	); err != nil {
		return err
	}
	if data := str(in.StateReasonData); data != "" && !json.Valid([]byte(data)) {
		return fault.New(CodeInvalidFormat, "The parameter StateReasonData must be valid JSON.")
	}
	return h.backend.SetAlarmState(ctx, *in.AlarmName, *in.StateValue, *in.StateReason, str(in.StateReasonData))
}

func (h *Handler) describeAlarmHistory(ctx context.Context, in *DescribeAlarmHistoryInput) (*DescribeAlarmHistoryOutput, error) {
	if err := firstErr(
		optLength("AlarmName", in.AlarmName, 1, 255),
		optLength("AlarmContributorId", in.AlarmContributorId, 1, 16),
		checkAlarmTypes(in.AlarmTypes),
		optOneOf("HistoryItemType", in.HistoryItemType, historyItemTypes),
		intRange("MaxRecords", in.MaxRecords, 1, 100),
		optOneOf("ScanBy", in.ScanBy, scanByValues),
	); err != nil {
		return nil, err
	}
	if in.StartDate != nil && in.EndDate != nil && in.StartDate.After(*in.EndDate) {
		return nil, invalidValue("The parameter StartDate must be less than or equal to the parameter EndDate.")
	}
	out := &DescribeAlarmHistoryOutput{AlarmHistoryItems: []AlarmHistoryItem{}}
	switch t := str(in.HistoryItemType); {
	case in.AlarmContributorId != nil, t == "AlarmContributorStateUpdate", t == "AlarmContributorAction":
		return out, nil // Sluice's alarms have no contributors
	case len(in.AlarmTypes) > 0 && !slices.Contains(in.AlarmTypes, "MetricAlarm"):
		return out, nil
	}
	f := HistoryFilter{
		AlarmName:  str(in.AlarmName),
		Type:       str(in.HistoryItemType),
		Ascending:  str(in.ScanBy) == "TimestampAscending",
		MaxRecords: defaultHistoryPage,
		NextToken:  str(in.NextToken),
	}
	if in.StartDate != nil {
		f.Start = *in.StartDate
	}
	if in.EndDate != nil {
		f.End = *in.EndDate
	}
	if in.MaxRecords != nil {
		f.MaxRecords = *in.MaxRecords
	}
	items, next, err := h.backend.DescribeAlarmHistory(ctx, f)
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		out.AlarmHistoryItems = append(out.AlarmHistoryItems, AlarmHistoryItem{
			AlarmName:       ptr(it.AlarmName),
			AlarmType:       ptr("MetricAlarm"),
			Timestamp:       ptr(it.Timestamp),
			HistoryItemType: ptr(it.Type),
			HistorySummary:  ptr(it.Summary),
			HistoryData:     optString(it.Data),
		})
	}
	out.NextToken = optString(next)
	return out, nil
}
