package alarms

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/internal/metrics"
)

// regionNames are the names CloudWatch's notifications give regions ("in US East (N. Virginia)").
var regionNames = map[string]string{
	"us-east-1": "US East (N. Virginia)", "us-east-2": "US East (Ohio)", "us-west-1": "US West (N. California)",
	"us-west-2": "US West (Oregon)", "eu-west-1": "EU (Ireland)", "eu-west-2": "EU (London)", "eu-west-3": "EU (Paris)",
	"eu-central-1": "EU (Frankfurt)", "eu-north-1": "EU (Stockholm)", "ap-northeast-1": "Asia Pacific (Tokyo)",
	"ap-northeast-2": "Asia Pacific (Seoul)", "ap-southeast-1": "Asia Pacific (Singapore)", "ap-southeast-2": "Asia Pacific (Sydney)",
	"ap-south-1": "Asia Pacific (Mumbai)", "ca-central-1": "Canada (Central)", "sa-east-1": "South America (Sao Paulo)",
}

// RegionName is a region's name in notifications (its code where CloudWatch's name is not known here).
func RegionName(region string) string {
	if n, ok := regionNames[region]; ok {
		return n
	}
	return region
}

// ActionsFor are the actions an alarm runs on entering state: its AlarmActions, OKActions or
// InsufficientDataActions — none while its actions are disabled.
func ActionsFor(a Alarm, state string) []string {
	if !a.ActionsEnabled {
		return nil
	}
	switch state {
	case StateAlarm:
		return a.AlarmActions
	case StateOK:
		return a.OKActions
	case StateInsufficientData:
		return a.InsufficientDataActions
	}
	return nil
}

// notificationTime is the timestamp form of CloudWatch's notifications: 2021-04-19T19:52:03.505+0000.
func notificationTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000-0700") }

// Notification is the message CloudWatch publishes to an SNS action when alarm a changes state as c says, and
// its Subject (`ALARM: "name" in US East (N. Virginia)`).
func Notification(a Alarm, c Change, region, account string) (subject string, message []byte) {
	nonNil := func(l []string) []string {
		if l == nil {
			return []string{}
		}
		return l
	}
	var description any // null when the alarm has none
	if a.Description != "" {
		description = a.Description
	}
	doc := map[string]any{
		"AlarmName": a.Name, "AlarmDescription": description, "AWSAccountId": account,
		"AlarmConfigurationUpdatedTimestamp": notificationTime(a.ConfigurationUpdated),
		"NewStateValue":                      c.To, "NewStateReason": c.Reason, "StateChangeTime": notificationTime(c.At),
		"Region": RegionName(region), "AlarmArn": a.ARN, "OldStateValue": c.From,
		"OKActions": nonNil(a.OKActions), "AlarmActions": nonNil(a.AlarmActions), "InsufficientDataActions": nonNil(a.InsufficientDataActions),
	}
	if a.AlarmRule != "" {
		doc["AlarmRule"] = a.AlarmRule
	} else {
		doc["Trigger"] = trigger(a)
	}
	b, _ := json.Marshal(doc)
	return c.To + `: "` + a.Name + `" in ` + RegionName(region), b
}

func trigger(a Alarm) map[string]any {
	t := map[string]any{
		"Period": int(a.Period / time.Second), "EvaluationPeriods": a.EvaluationPeriods, "ComparisonOperator": a.ComparisonOperator,
		"Threshold": a.Threshold, "TreatMissingData": treatMissing(a.TreatMissingData), "EvaluateLowSampleCountPercentile": a.EvaluateLowSampleCountPercentile,
	}
	if a.DatapointsToAlarm > 0 {
		t["DatapointsToAlarm"] = a.DatapointsToAlarm
	}
	if len(a.Metrics) > 0 {
		var qs []map[string]any
		for _, q := range a.Metrics {
			m := map[string]any{"Id": q.ID, "ReturnData": q.ReturnData}
			if q.Label != "" {
				m["Label"] = q.Label
			}
			if q.Expression != "" {
				m["Expression"] = q.Expression
			} else {
				m["MetricStat"] = map[string]any{"Metric": map[string]any{"Namespace": q.Metric.Namespace, "MetricName": q.Metric.Name,
					"Dimensions": dimensions(q.Metric.Dimensions)}, "Period": int(q.Period / time.Second), "Stat": q.Stat}
			}
			qs = append(qs, m)
		}
		t["Metrics"] = qs
		t["Period"] = int(a.evaluationPeriod() / time.Second)
		return t
	}
	t["MetricName"], t["Namespace"], t["Dimensions"] = a.Metric.Name, a.Metric.Namespace, dimensions(a.Metric.Dimensions)
	if a.ExtendedStatistic != "" {
		t["StatisticType"], t["ExtendedStatistic"] = "ExtendedStatistic", a.ExtendedStatistic
	} else {
		t["StatisticType"], t["Statistic"] = "Statistic", strings.ToUpper(a.Statistic)
	}
	if a.Unit != "" {
		t["Unit"] = a.Unit
	} else {
		t["Unit"] = nil
	}
	return t
}

func treatMissing(v string) string {
	if v == "" {
		return "missing"
	}
	return v
}

// dimensions are a metric's dimensions as notifications spell them: [{"value": …, "name": …}].
func dimensions(ds []metrics.Dimension) []map[string]string {
	out := []map[string]string{}
	for _, d := range ds {
		out = append(out, map[string]string{"value": d.Value, "name": d.Name})
	}
	return out
}
