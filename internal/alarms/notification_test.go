package alarms

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/metrics"
)

func TestNotification(t *testing.T) {
	a := Alarm{Definition: Definition{Name: "errors", ActionsEnabled: true, AlarmActions: []string{"arn:aws:sns:us-east-1:000000000000:t"},
		Metric:    metrics.MetricID{Namespace: "AWS/Lambda", Name: "Errors", Dimensions: []metrics.Dimension{{Name: "FunctionName", Value: "f"}}},
		Statistic: "Sum", Period: time.Minute, EvaluationPeriods: 2, Threshold: 1, ComparisonOperator: "GreaterThanOrEqualToThreshold"},
		ARN: "arn:aws:cloudwatch:us-east-1:000000000000:alarm:errors", ConfigurationUpdated: time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)}
	c := Change{AlarmName: "errors", From: StateOK, To: StateAlarm, Reason: "Threshold Crossed", At: time.Date(2026, 12, 7, 10, 0, 0, 505e6, time.UTC)}
	subject, body := Notification(a, c, "us-east-1", "000000000000")
	if subject != `ALARM: "errors" in US East (N. Virginia)` {
		t.Errorf("Subject %q", subject)
	}
	var got map[string]any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	trig, _ := got["Trigger"].(map[string]any)
	dims, _ := trig["Dimensions"].([]any)
	if got["StateChangeTime"] != "2026-12-07T10:00:00.505+0000" || got["OldStateValue"] != "OK" || got["AlarmDescription"] != nil ||
		got["AWSAccountId"] != "000000000000" || trig["Statistic"] != "SUM" || trig["Period"] != 60.0 || trig["TreatMissingData"] != "missing" ||
		len(dims) != 1 || dims[0].(map[string]any)["name"] != "FunctionName" {
		t.Errorf("notification: %s", body)
	}
	if got := ActionsFor(a, StateAlarm); !slices.Equal(got, a.AlarmActions) {
		t.Errorf("ActionsFor ALARM: %v", got)
	}
	if got := ActionsFor(a, StateOK); got != nil {
		t.Errorf("ActionsFor OK: %v", got)
	}
	a.ActionsEnabled = false
	if got := ActionsFor(a, StateAlarm); got != nil {
		t.Errorf("ActionsFor with actions disabled: %v", got)
	}
}
