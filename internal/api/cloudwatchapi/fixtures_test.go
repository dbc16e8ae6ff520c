package cloudwatchapi_test

import (
	"time"

	"github.com/sluice-dev/sluice/internal/alarms"
	"github.com/sluice-dev/sluice/internal/metrics"
)

// Fixture times: whole seconds (botocore's CBOR and JSON serializers send integer epoch seconds) and a quarter
// second (exact in binary floating point, so float-encoded epoch seconds carry it unchanged).
var (
	base    = time.Now().UTC().Truncate(time.Minute).Add(-30 * time.Minute)
	tConfig = base.Add(-2*time.Hour + 250*time.Millisecond)
	tState  = base.Add(-time.Hour + 500*time.Millisecond)
)

var ordersDims = []metrics.Dimension{{Name: "FunctionName", Value: "orders"}, {Name: "Resource", Value: "orders:live"}}

// ordersAlarm is the seed's alarm, as the backend describes it.
func ordersAlarm() alarms.Alarm {
	return alarms.Alarm{
		Definition: alarms.Definition{
			Name:               "orders-errors",
			Description:        "Errors of orders:live",
			ActionsEnabled:     true,
			AlarmActions:       []string{"arn:aws:sns:us-east-1:000000000000:page"},
			Metric:             metrics.MetricID{Namespace: "AWS/Lambda", Name: "Errors", Dimensions: ordersDims},
			Statistic:          "Sum",
			Period:             time.Minute,
			Unit:               "Count",
			EvaluationPeriods:  3,
			DatapointsToAlarm:  2,
			Threshold:          1,
			ComparisonOperator: "GreaterThanOrEqualToThreshold",
			TreatMissingData:   "notBreaching",
		},
		ARN:                  "arn:aws:cloudwatch:us-east-1:000000000000:alarm:orders-errors",
		ConfigurationUpdated: tConfig,
		StateValue:           alarms.StateAlarm,
		StateReason:          "Threshold Crossed: 2 out of the last 3 datapoints were greater than or equal to the threshold (1.0).",
		StateReasonData:      `{"version":"1.0","queryDate":"x"}`,
		StateUpdated:         tState,
		StateTransitioned:    tState,
	}
}

func historyItems() []alarms.HistoryItem {
	return []alarms.HistoryItem{
		{AlarmName: "orders-errors", AlarmType: "MetricAlarm", Timestamp: tConfig, Type: "ConfigurationUpdate", Summary: "Alarm \"orders-errors\" created", Data: `{"type":"Create"}`},
		{AlarmName: "orders-errors", AlarmType: "MetricAlarm", Timestamp: tState, Type: "StateUpdate", Summary: "Alarm updated from OK to ALARM", Data: `{"oldState":{"stateValue":"OK"},"newState":{"stateValue":"ALARM"}}`},
	}
}

// datapoints are two periods, out of order (the edge sorts them).
func datapoints() []metrics.Datapoint {
	return []metrics.Datapoint{
		{Timestamp: base.Add(-5 * time.Minute), SampleCount: 4, Sum: 10, Minimum: 1, Maximum: 4, Unit: "Milliseconds",
			Percentiles: map[string]float64{"p99": 3.96, "p50": 2.5, "p90": 3.7}},
		{Timestamp: base.Add(-8 * time.Minute), SampleCount: 2, Sum: 3, Minimum: 1, Maximum: 2, Unit: "Milliseconds",
			Percentiles: map[string]float64{"p99": 1.99, "p50": 1.5, "p90": 1.9}},
	}
}

func metricIDs() []metrics.MetricID {
	return []metrics.MetricID{
		{Namespace: "Sluice/Test", Name: "Latency", Dimensions: []metrics.Dimension{{Name: "FunctionName", Value: "orders"}}},
		{Namespace: "Sluice/Test", Name: "Requests", Dimensions: []metrics.Dimension{}},
	}
}
