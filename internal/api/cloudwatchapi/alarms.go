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

// alarmDefinition translates a PutMetricAlarm request. The edge refuses what a Definition cannot carry (PromQL
// and anomaly-detection alarms), the metric members beside Metrics, and the absence of the members an alarm
// requires (which the domain could not tell from zero values); the alarm rules themselves — statistic, period,
// evaluation span, operators, lengths, a metric-math alarm's queries — are the domain's (alarms validates every
// Definition). Absent DatapointsToAlarm and TreatMissingData are passed as 0 and "" (the domain's defaults apply,
// and DescribeAlarms leaves them out, as AWS does); ActionsEnabled defaults to true.
func alarmDefinition(in *PutMetricAlarmInput) (alarms.Definition, error) {
	var d alarms.Definition
	if in.AlarmName == nil {
		return d, missing("AlarmName")
	}
	switch {
	case in.EvaluationCriteria != nil || in.EvaluationInterval != nil:
		return d, unsupported("PromQL alarms (EvaluationCriteria, EvaluationInterval) are not supported by Sluice.")
	case in.ThresholdMetricId != nil:
		return d, unsupported("Anomaly detection alarms (ThresholdMetricId) are not supported by Sluice.")
	}
	math := len(in.Metrics) > 0
	if math {
		// CloudWatch's own message, recorded for Statistic; the others are worded alike.
		for _, m := range []struct {
			name    string
			present bool
		}{
			{"Namespace", in.Namespace != nil}, {"MetricName", in.MetricName != nil}, {"Dimensions", len(in.Dimensions) > 0},
			{"Statistic", in.Statistic != nil}, {"ExtendedStatistic", in.ExtendedStatistic != nil}, {"Period", in.Period != nil},
			{"Unit", in.Unit != nil},
		} {
			if m.present {
				return d, unsupported("%s should not be set if list of Metrics is set.", m.name)
			}
		}
	}
	for _, m := range []struct {
		name    string
		present bool
	}{
		{"MetricName", math || in.MetricName != nil}, {"Namespace", math || in.Namespace != nil}, {"Period", math || in.Period != nil},
		{"EvaluationPeriods", in.EvaluationPeriods != nil}, {"Threshold", in.Threshold != nil},
		{"ComparisonOperator", in.ComparisonOperator != nil},
	} {
		if !m.present {
			return d, missing(m.name)
		}
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
		EvaluationPeriods:                *in.EvaluationPeriods,
		DatapointsToAlarm:                num(in.DatapointsToAlarm),
		Threshold:                        *in.Threshold,
		ComparisonOperator:               *in.ComparisonOperator,
		TreatMissingData:                 str(in.TreatMissingData),
		EvaluateLowSampleCountPercentile: str(in.EvaluateLowSampleCountPercentile),
		Tags:                             tags,
	}
	if math {
		if err := maxItems("Metrics", in.Metrics, 20); err != nil {
			return d, err
		}
		for i, mq := range in.Metrics {
			q, err := checkDataQuery(elem("Metrics", i), mq, time.Time{}, time.Time{}, true)
			if err != nil {
				return d, err
			}
			d.Metrics = append(d.Metrics, alarms.MetricQuery{ID: q.id, Label: str(mq.Label), ReturnData: mq.ReturnData == nil || *mq.ReturnData,
				Expression: q.expression, Metric: q.query.Metric, Stat: q.stat, Period: q.query.Period, Unit: q.query.Unit})
		}
		return d, nil
	}
	dims, err := toDimensions("Dimensions", in.Dimensions)
	if err != nil {
		return d, err
	}
	d.Metric = metrics.MetricID{Namespace: *in.Namespace, Name: *in.MetricName, Dimensions: dims}
	d.Statistic, d.ExtendedStatistic, d.Unit = str(in.Statistic), str(in.ExtendedStatistic), str(in.Unit)
	d.Period = time.Duration(*in.Period) * time.Second
	return d, nil
}

func (h *Handler) putCompositeAlarm(ctx context.Context, in *PutCompositeAlarmInput) error {
	switch {
	case in.AlarmName == nil:
		return missing("AlarmName")
	case in.AlarmRule == nil:
		return missing("AlarmRule")
	}
	if err := firstErr(length("AlarmName", *in.AlarmName, 1, 255), length("AlarmRule", *in.AlarmRule, 1, 10240),
		optLength("AlarmDescription", in.AlarmDescription, 0, 1024), optLength("ActionsSuppressor", in.ActionsSuppressor, 1, 1600),
		maxItems("AlarmActions", in.AlarmActions, 5), maxItems("OKActions", in.OKActions, 5),
		maxItems("InsufficientDataActions", in.InsufficientDataActions, 5)); err != nil {
		return err
	}
	tags, err := tagMap(in.Tags)
	if err != nil {
		return err
	}
	return h.backend.PutCompositeAlarm(ctx, alarms.Definition{
		Name:                             *in.AlarmName,
		Description:                      str(in.AlarmDescription),
		ActionsEnabled:                   in.ActionsEnabled == nil || *in.ActionsEnabled,
		OKActions:                        in.OKActions,
		AlarmActions:                     in.AlarmActions,
		InsufficientDataActions:          in.InsufficientDataActions,
		AlarmRule:                        *in.AlarmRule,
		ActionsSuppressor:                str(in.ActionsSuppressor),
		ActionsSuppressorWaitPeriod:      num(in.ActionsSuppressorWaitPeriod),
		ActionsSuppressorExtensionPeriod: num(in.ActionsSuppressorExtensionPeriod),
		Tags:                             tags,
	})
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
		// As CloudWatch documents it: children with their name, ARN, state and its timestamp; parents with their
		// name and ARN.
		var list []alarms.Alarm
		var err error
		children := in.ChildrenOfAlarmName != nil
		if children {
			list, err = h.backend.AlarmChildren(ctx, *in.ChildrenOfAlarmName)
		} else {
			list, err = h.backend.AlarmParents(ctx, *in.ParentsOfAlarmName)
		}
		if err != nil {
			return nil, err
		}
		for _, a := range list {
			var state *string
			var updated *time.Time
			if children {
				state, updated = ptr(a.StateValue), optTime(a.StateUpdated)
			}
			if a.Type() == alarms.TypeComposite {
				out.CompositeAlarms = append(out.CompositeAlarms, CompositeAlarm{AlarmName: ptr(a.Name), AlarmArn: ptr(a.ARN), StateValue: state, StateUpdatedTimestamp: updated})
			} else {
				out.MetricAlarms = append(out.MetricAlarms, MetricAlarm{AlarmName: ptr(a.Name), AlarmArn: ptr(a.ARN), StateValue: state, StateUpdatedTimestamp: updated})
			}
		}
		return out, nil
	}
	f := AlarmFilter{
		Names:        in.AlarmNames,
		NamePrefix:   str(in.AlarmNamePrefix),
		StateValue:   str(in.StateValue),
		ActionPrefix: str(in.ActionPrefix),
		Types:        in.AlarmTypes,
		MaxRecords:   defaultAlarmPage,
		NextToken:    str(in.NextToken),
	}
	if len(f.Types) == 0 { // "If you omit this parameter, only metric alarms are returned"
		f.Types = []string{alarms.TypeMetric}
	}
	if in.MaxRecords != nil {
		f.MaxRecords = *in.MaxRecords
	}
	page, next, err := h.backend.DescribeAlarms(ctx, f)
	if err != nil {
		return nil, err
	}
	for _, a := range page {
		if a.Type() == alarms.TypeComposite {
			out.CompositeAlarms = append(out.CompositeAlarms, compositeAlarm(a))
		} else {
			out.MetricAlarms = append(out.MetricAlarms, metricAlarm(a))
		}
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
	if len(a.Metrics) > 0 { // a metric-math alarm has no metric of its own
		m.MetricName, m.Namespace, m.Period = nil, nil, nil
		for _, q := range a.Metrics {
			w := MetricDataQuery{Id: ptr(q.ID), Label: optString(q.Label), ReturnData: ptr(q.ReturnData)}
			if q.Expression != "" {
				w.Expression = ptr(q.Expression)
			} else {
				w.MetricStat = &MetricStat{
					Metric: &Metric{Namespace: ptr(q.Metric.Namespace), MetricName: ptr(q.Metric.Name), Dimensions: fromDimensions(q.Metric.Dimensions)},
					Period: ptr(int(q.Period / time.Second)), Stat: ptr(q.Stat), Unit: optString(q.Unit),
				}
			}
			m.Metrics = append(m.Metrics, w)
		}
	}
	return m
}

// compositeAlarm is the wire form of a composite alarm.
func compositeAlarm(a alarms.Alarm) CompositeAlarm {
	c := CompositeAlarm{
		ActionsEnabled:                     ptr(a.ActionsEnabled),
		AlarmActions:                       nonNil(slices.Clone(a.AlarmActions)),
		AlarmArn:                           ptr(a.ARN),
		AlarmConfigurationUpdatedTimestamp: optTime(a.ConfigurationUpdated),
		AlarmDescription:                   optString(a.Description),
		AlarmName:                          ptr(a.Name),
		AlarmRule:                          ptr(a.AlarmRule),
		InsufficientDataActions:            nonNil(slices.Clone(a.InsufficientDataActions)),
		OKActions:                          nonNil(slices.Clone(a.OKActions)),
		StateReason:                        ptr(a.StateReason),
		StateReasonData:                    optString(a.StateReasonData),
		StateUpdatedTimestamp:              optTime(a.StateUpdated),
		StateValue:                         ptr(a.StateValue),
		StateTransitionedTimestamp:         optTime(a.StateTransitioned),
		ActionsSuppressor:                  optString(a.ActionsSuppressor),
	}
	if a.ActionsSuppressor != "" {
		c.ActionsSuppressorWaitPeriod, c.ActionsSuppressorExtensionPeriod = ptr(a.ActionsSuppressorWaitPeriod), ptr(a.ActionsSuppressorExtensionPeriod)
	}
	return c
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
	}
	f := HistoryFilter{
		Types:      in.AlarmTypes,
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
			AlarmType:       ptr(it.AlarmType),
			Timestamp:       ptr(it.Timestamp),
			HistoryItemType: ptr(it.Type),
			HistorySummary:  ptr(it.Summary),
			HistoryData:     optString(it.Data),
		})
	}
	out.NextToken = optString(next)
	return out, nil
}
