package cloudwatchapi_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/sluice-dev/sluice/internal/alarms"
	"github.com/sluice-dev/sluice/internal/api/cloudwatchapi"
	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/metrics"
)

// errorRateAlarm is the seed's alarm as a metric-math alarm, as the backend describes it.
func errorRateAlarm() alarms.Alarm {
	a := ordersAlarm()
	a.Name, a.ARN = "orders-error-rate", "arn:aws:cloudwatch:us-east-1:000000000000:alarm:orders-error-rate"
	a.Metric, a.Statistic, a.Period, a.Unit = metrics.MetricID{}, "", 0, ""
	a.Metrics = []alarms.MetricQuery{
		{ID: "errors", Metric: metrics.MetricID{Namespace: "AWS/Lambda", Name: "Errors", Dimensions: ordersDims}, Stat: "Sum", Period: time.Minute},
		{ID: "invocations", Metric: metrics.MetricID{Namespace: "AWS/Lambda", Name: "Invocations", Dimensions: ordersDims}, Stat: "Sum", Period: time.Minute, Unit: "Count"},
		{ID: "rate", Label: "Error rate", Expression: "100*errors/invocations", ReturnData: true},
	}
	return a
}

// outageAlarm is a composite alarm, as the backend describes it.
func outageAlarm() alarms.Alarm {
	return alarms.Alarm{
		Definition: alarms.Definition{Name: "outage", Description: "both", ActionsEnabled: true,
			AlarmActions: []string{"arn:aws:sns:us-east-1:000000000000:page"}, AlarmRule: `ALARM("orders-error-rate") OR ALARM(orders-errors)`,
			ActionsSuppressor: "maintenance", ActionsSuppressorWaitPeriod: 60, ActionsSuppressorExtensionPeriod: 120},
		ARN: "arn:aws:cloudwatch:us-east-1:000000000000:alarm:outage", ConfigurationUpdated: tConfig, StateValue: alarms.StateAlarm,
		StateReason:     "arn:aws:cloudwatch:us-east-1:000000000000:alarm:orders-errors transitioned to ALARM at Thursday 26 November, 2026 10:00:02 UTC",
		StateReasonData: `{"triggeringAlarms":[]}`, StateUpdated: tState, StateTransitioned: tState,
	}
}

func mathSDKCases() []sdkCase {
	stat := func(id, name string, unit types.StandardUnit) types.MetricDataQuery {
		return types.MetricDataQuery{Id: aws.String(id), ReturnData: aws.Bool(false), MetricStat: &types.MetricStat{
			Metric: &types.Metric{Namespace: aws.String("AWS/Lambda"), MetricName: aws.String(name), Dimensions: []types.Dimension{
				{Name: aws.String("Resource"), Value: aws.String("orders:live")}, {Name: aws.String("FunctionName"), Value: aws.String("orders")}}},
			Period: aws.Int32(60), Stat: aws.String("Sum"), Unit: unit}}
	}
	return []sdkCase{
		{
			name: "PutMetricAlarm with Metrics",
			call: func(ctx context.Context, c *cloudwatch.Client) (any, error) {
				return c.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
					AlarmName: aws.String("orders-error-rate"), EvaluationPeriods: aws.Int32(3), Threshold: aws.Float64(1),
					ComparisonOperator: types.ComparisonOperatorGreaterThanThreshold, TreatMissingData: aws.String("notBreaching"),
					Metrics: []types.MetricDataQuery{stat("errors", "Errors", ""), stat("invocations", "Invocations", types.StandardUnitCount),
						{Id: aws.String("rate"), Label: aws.String("Error rate"), Expression: aws.String("100*errors/invocations"), ReturnData: aws.Bool(true)}},
				})
			},
			want: []call{{"PutMetricAlarm", func() alarms.Definition {
				d := errorRateAlarm().Definition
				d.Description, d.AlarmActions, d.Threshold, d.ComparisonOperator = "", nil, 1, "GreaterThanThreshold"
				d.DatapointsToAlarm, d.Unit, d.Metric = 0, "", metrics.MetricID{}
				return d
			}()}},
		},
		{
			name:  "DescribeAlarms of every type",
			setup: func(f *fake) { f.alarms = []alarms.Alarm{errorRateAlarm(), outageAlarm()} },
			call: func(ctx context.Context, c *cloudwatch.Client) (any, error) {
				return c.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmTypes: []types.AlarmType{types.AlarmTypeCompositeAlarm, types.AlarmTypeMetricAlarm}})
			},
			want: []call{{"DescribeAlarms", cloudwatchapi.AlarmFilter{Types: []string{"CompositeAlarm", "MetricAlarm"}, MaxRecords: 50}}},
			check: func(t *testing.T, out any) {
				o := out.(*cloudwatch.DescribeAlarmsOutput)
				if len(o.MetricAlarms) != 1 || len(o.CompositeAlarms) != 1 {
					t.Fatalf("output %+v", o)
				}
				m := o.MetricAlarms[0]
				if m.MetricName != nil || m.Namespace != nil || m.Period != nil || m.Statistic != "" || len(m.Metrics) != 3 {
					t.Fatalf("metric-math alarm %+v", m)
				}
				ms := m.Metrics[1]
				if aws.ToString(ms.Id) != "invocations" || aws.ToBool(ms.ReturnData) || ms.MetricStat == nil ||
					aws.ToString(ms.MetricStat.Metric.MetricName) != "Invocations" || len(ms.MetricStat.Metric.Dimensions) != 2 ||
					aws.ToInt32(ms.MetricStat.Period) != 60 || aws.ToString(ms.MetricStat.Stat) != "Sum" || ms.MetricStat.Unit != types.StandardUnitCount {
					t.Errorf("metric query %+v %+v", ms, ms.MetricStat)
				}
				if e := m.Metrics[2]; aws.ToString(e.Expression) != "100*errors/invocations" || aws.ToString(e.Label) != "Error rate" || !aws.ToBool(e.ReturnData) || e.MetricStat != nil {
					t.Errorf("expression %+v", e)
				}
				ca := o.CompositeAlarms[0]
				if aws.ToString(ca.AlarmName) != "outage" || aws.ToString(ca.AlarmRule) != `ALARM("orders-error-rate") OR ALARM(orders-errors)` ||
					ca.StateValue != types.StateValueAlarm || !aws.ToBool(ca.ActionsEnabled) || len(ca.AlarmActions) != 1 ||
					aws.ToString(ca.ActionsSuppressor) != "maintenance" || aws.ToInt32(ca.ActionsSuppressorWaitPeriod) != 60 ||
					aws.ToInt32(ca.ActionsSuppressorExtensionPeriod) != 120 || !aws.ToTime(ca.StateUpdatedTimestamp).Equal(tState) ||
					!aws.ToTime(ca.AlarmConfigurationUpdatedTimestamp).Equal(tConfig) || aws.ToString(ca.StateReasonData) != `{"triggeringAlarms":[]}` {
					t.Errorf("composite alarm %+v", ca)
				}
			},
		},
		{
			name: "PutCompositeAlarm",
			call: func(ctx context.Context, c *cloudwatch.Client) (any, error) {
				return c.PutCompositeAlarm(ctx, &cloudwatch.PutCompositeAlarmInput{
					AlarmName: aws.String("outage"), AlarmDescription: aws.String("both"), AlarmRule: aws.String(`ALARM("orders-error-rate") OR ALARM(orders-errors)`),
					AlarmActions: []string{"arn:aws:sns:us-east-1:000000000000:page"}, ActionsSuppressor: aws.String("maintenance"),
					ActionsSuppressorWaitPeriod: aws.Int32(60), ActionsSuppressorExtensionPeriod: aws.Int32(120),
					Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("payments")}},
				})
			},
			want: []call{{"PutCompositeAlarm", func() alarms.Definition {
				d := outageAlarm().Definition
				d.Tags = map[string]string{"team": "payments"}
				return d
			}()}},
		},
		{
			name:  "GetMetricData expression pages and Period",
			setup: func(f *fake) { f.datapoints = datapoints() },
			call: func(ctx context.Context, c *cloudwatch.Client) (any, error) {
				var pages []*cloudwatch.GetMetricDataOutput
				in := &cloudwatch.GetMetricDataInput{
					MetricDataQueries: []types.MetricDataQuery{
						{Id: aws.String("m1"), ReturnData: aws.Bool(false), MetricStat: &types.MetricStat{
							Metric: &types.Metric{Namespace: aws.String("Sluice/Test"), MetricName: aws.String("Latency")},
							Period: aws.Int32(60), Stat: aws.String("Maximum")}},
						{Id: aws.String("double"), Expression: aws.String("m1 * 2")},
						{Id: aws.String("ones"), Expression: aws.String("TIME_SERIES(1)"), Period: aws.Int32(60), ReturnData: aws.Bool(false)},
						{Id: aws.String("count"), Expression: aws.String("ones * 0 + SUM(ones)"), Label: aws.String("periods")},
					},
					StartTime: aws.Time(base.Add(-10 * time.Minute)), EndTime: aws.Time(base), MaxDatapoints: aws.Int32(7),
				}
				for p := cloudwatch.NewGetMetricDataPaginator(c, in); p.HasMorePages(); {
					page, err := p.NextPage(ctx)
					if err != nil {
						return nil, err
					}
					pages = append(pages, page)
				}
				return pages, nil
			},
			fix: func(t *testing.T, calls []call) {
				if len(calls) != 2 {
					t.Errorf("%d Statistics calls, want one per page", len(calls))
				}
			},
			want: func() []call {
				q := call{"Statistics", metrics.Query{Metric: metrics.MetricID{Namespace: "Sluice/Test", Name: "Latency", Dimensions: []metrics.Dimension{}},
					Start: base.Add(-10 * time.Minute), End: base, Period: time.Minute}}
				return []call{q, q}
			}(),
			check: func(t *testing.T, out any) {
				// 2 datapoints of double, then 10 of count (a datapoint a minute, each the number of minutes):
				// 12 in pages of 7.
				pages := out.([]*cloudwatch.GetMetricDataOutput)
				if len(pages) != 2 {
					t.Fatalf("%d pages, want 2", len(pages))
				}
				first, second := pages[0].MetricDataResults, pages[1].MetricDataResults
				if len(first) != 2 || len(first[0].Values) != 2 || first[0].Values[0] != 8 || len(first[1].Values) != 5 ||
					first[1].StatusCode != types.StatusCodePartialData || aws.ToString(first[1].Label) != "periods" || first[1].Values[0] != 10 {
					t.Fatalf("page 1: %+v", first)
				}
				if len(second) != 2 || len(second[0].Values) != 0 || len(second[1].Values) != 5 || second[1].StatusCode != types.StatusCodeComplete {
					t.Fatalf("page 2: %+v", second)
				}
			},
		},
		{
			name:  "DescribeAlarms children",
			setup: func(f *fake) { f.alarms = []alarms.Alarm{errorRateAlarm(), outageAlarm()} },
			call: func(ctx context.Context, c *cloudwatch.Client) (any, error) {
				return c.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{ChildrenOfAlarmName: aws.String("top")})
			},
			want: []call{{"AlarmChildren", "top"}},
			check: func(t *testing.T, out any) {
				o := out.(*cloudwatch.DescribeAlarmsOutput)
				if len(o.MetricAlarms) != 1 || len(o.CompositeAlarms) != 1 || aws.ToString(o.MetricAlarms[0].AlarmName) != "orders-error-rate" ||
					o.MetricAlarms[0].StateValue != types.StateValueAlarm || o.MetricAlarms[0].EvaluationPeriods != nil ||
					aws.ToString(o.CompositeAlarms[0].AlarmArn) != "arn:aws:cloudwatch:us-east-1:000000000000:alarm:outage" || o.CompositeAlarms[0].AlarmRule != nil {
					t.Errorf("children %+v", o)
				}
			},
		},
		{
			name:  "DescribeAlarms parents",
			setup: func(f *fake) { f.alarms = []alarms.Alarm{outageAlarm()} },
			call: func(ctx context.Context, c *cloudwatch.Client) (any, error) {
				return c.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{ParentsOfAlarmName: aws.String("orders-errors")})
			},
			want: []call{{"AlarmParents", "orders-errors"}},
			check: func(t *testing.T, out any) {
				o := out.(*cloudwatch.DescribeAlarmsOutput)
				if len(o.CompositeAlarms) != 1 || aws.ToString(o.CompositeAlarms[0].AlarmName) != "outage" || o.CompositeAlarms[0].StateValue != "" {
					t.Errorf("parents %+v", o)
				}
			},
		},
	}
}

func mathSDKErrorCases() []sdkErrorCase {
	return []sdkErrorCase{
		{
			name: "Statistic beside Metrics",
			call: func(ctx context.Context, c *cloudwatch.Client) error {
				_, err := c.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("a"), Statistic: types.StatisticSum,
					EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(1), ComparisonOperator: types.ComparisonOperatorGreaterThanThreshold,
					Metrics: []types.MetricDataQuery{{Id: aws.String("e1"), Expression: aws.String("TIME_SERIES(1)")}}})
				return err
			},
			status: 400, code: "ValidationError", message: "Statistic should not be set if list of Metrics is set.",
		},
		{
			name: "an expression's Period in an alarm",
			call: func(ctx context.Context, c *cloudwatch.Client) error {
				_, err := c.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("a"),
					EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(1), ComparisonOperator: types.ComparisonOperatorGreaterThanThreshold,
					Metrics: []types.MetricDataQuery{{Id: aws.String("e1"), Expression: aws.String("TIME_SERIES(1)"), Period: aws.Int32(60)}}})
				return err
			},
			status: 400, code: "ValidationError",
			message: "The parameter Metrics.member.1.Period is for GetMetricData only; a metric math alarm evaluates its expressions at the period of its metrics.",
		},
		{
			name: "a composite alarm's rule the backend refuses",
			setup: func(f *fake) {
				f.errs = map[string]error{"PutCompositeAlarm": fault.New("ValidationError", "Error in AlarmRule [Unsupported token ')' at char 1]")}
			},
			call: func(ctx context.Context, c *cloudwatch.Client) error {
				_, err := c.PutCompositeAlarm(ctx, &cloudwatch.PutCompositeAlarmInput{AlarmName: aws.String("a"), AlarmRule: aws.String("()")})
				return err
			},
			status: 400, code: "ValidationError", message: "Error in AlarmRule [Unsupported token ')' at char 1]",
		},
	}
}
