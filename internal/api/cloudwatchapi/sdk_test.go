package cloudwatchapi_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/schemas"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/aws/smithy-go/transport/http/protocol/awsjson"
	"github.com/aws/smithy-go/transport/http/protocol/awsquery"
	"github.com/aws/smithy-go/transport/http/protocol/rpcv2"

	"github.com/sluice-dev/sluice/internal/alarms"
	"github.com/sluice-dev/sluice/internal/api/cloudwatchapi"
	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/metrics"
	"github.com/sluice-dev/sluice/internal/sdkhttp"
)

// sdkProtocols are the protocols the Go SDK's CloudWatch client can speak: its default (RPC v2 CBOR) and the two
// others of the model, plugged in through Options.Protocol.
var sdkProtocols = []struct {
	name string
	new  func() smithyhttp.ClientProtocol
}{
	{"rpcv2Cbor", func() smithyhttp.ClientProtocol { return rpcv2.NewCBOR(schemas.GraniteServiceVersion20100801) }},
	{"awsJson1_0", func() smithyhttp.ClientProtocol { return awsjson.New10(schemas.GraniteServiceVersion20100801) }},
	{"awsQuery", func() smithyhttp.ClientProtocol { return awsquery.New(schemas.GraniteServiceVersion20100801) }},
}

func sdkClient(url string, protocol smithyhttp.ClientProtocol) *cloudwatch.Client {
	return cloudwatch.NewFromConfig(aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		BaseEndpoint: aws.String(url),
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
		HTTPClient:   sdkhttp.Wrap(nil),
	}, func(o *cloudwatch.Options) {
		if protocol != nil {
			o.Protocol = protocol
		}
	})
}

// TestSDKDefaultProtocol: the Go SDK's CloudWatch client speaks RPC v2 CBOR out of the box.
func TestSDKDefaultProtocol(t *testing.T) {
	s := newServer(t)
	if _, err := sdkClient(s.URL, nil).ListMetrics(t.Context(), &cloudwatch.ListMetricsInput{}); err != nil {
		t.Fatal(err)
	}
	if got := s.protocols(); !slices.Equal(got, []string{"rpcv2Cbor"}) {
		t.Errorf("protocols %v, want [rpcv2Cbor]", got)
	}
}

// sdkCase is one operation called through the Go SDK: what the backend must receive and what the client must
// parse from the answer.
type sdkCase struct {
	name  string
	setup func(f *fake)
	call  func(ctx context.Context, c *cloudwatch.Client) (any, error)
	// want are the backend calls the request must cause.
	want []call
	// fix adjusts recorded calls before comparison (for values that depend on the clock).
	fix   func(t *testing.T, calls []call)
	check func(t *testing.T, out any)
}

func TestSDKRoundTrips(t *testing.T) {
	in := base.Add(-10*time.Minute + 123*time.Millisecond) // a millisecond fraction, as the SDK sends it
	for _, p := range sdkProtocols {
		t.Run(p.name, func(t *testing.T) {
			s := newServer(t)
			c := sdkClient(s.URL, p.new())
			for _, tc := range append(sdkCases(in), mathSDKCases()...) {
				t.Run(tc.name, func(t *testing.T) {
					*s.fake = fake{}
					if tc.setup != nil {
						tc.setup(s.fake)
					}
					s.protocols()
					out, err := tc.call(context.Background(), c)
					if err != nil {
						t.Fatalf("%s: %v", tc.name, err)
					}
					if got := s.protocols(); len(got) == 0 || slices.ContainsFunc(got, func(x string) bool { return x != p.name }) {
						t.Errorf("requests were in %v, want %s", got, p.name)
					}
					calls := s.fake.takeCalls()
					if tc.fix != nil {
						tc.fix(t, calls)
					}
					if !reflect.DeepEqual(calls, tc.want) {
						t.Errorf("backend calls:\n%s\nwant:\n%s", dump(calls), dump(tc.want))
					}
					if tc.check != nil {
						tc.check(t, out)
					}
				})
			}
		})
	}
}

func dump(calls []call) string {
	var b strings.Builder
	for _, c := range calls {
		fmt.Fprintf(&b, "  %s %+v\n", c.Op, c.Args)
	}
	return b.String()
}

func sdkCases(in time.Time) []sdkCase {
	sluiceDims := []types.Dimension{{Name: aws.String("FunctionName"), Value: aws.String("orders")}}
	sluiceID := metrics.MetricID{Namespace: "Sluice/Test", Name: "Latency", Dimensions: []metrics.Dimension{{Name: "FunctionName", Value: "orders"}}}
	return []sdkCase{
		{
			name: "PutMetricAlarm",
			call: func(ctx context.Context, c *cloudwatch.Client) (any, error) {
				return c.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
					AlarmName:        aws.String("orders-errors"),
					AlarmDescription: aws.String("Errors of orders:live"),
					ActionsEnabled:   aws.Bool(false),
					AlarmActions:     []string{"arn:aws:sns:us-east-1:000000000000:page"},
					MetricName:       aws.String("Errors"),
					Namespace:        aws.String("AWS/Lambda"),
					// Out of order: the backend receives them sorted by name.
					Dimensions: []types.Dimension{
						{Name: aws.String("Resource"), Value: aws.String("orders:live")},
						{Name: aws.String("FunctionName"), Value: aws.String("orders")},
					},
					Statistic:          types.StatisticSum,
					Period:             aws.Int32(60),
					Unit:               types.StandardUnitCount,
					EvaluationPeriods:  aws.Int32(3),
					DatapointsToAlarm:  aws.Int32(2),
					Threshold:          aws.Float64(1.5),
					ComparisonOperator: types.ComparisonOperatorGreaterThanOrEqualToThreshold,
					TreatMissingData:   aws.String("notBreaching"),
					Tags:               []types.Tag{{Key: aws.String("team"), Value: aws.String("payments")}},
				})
			},
			want: []call{{"PutMetricAlarm", alarms.Definition{
				Name:               "orders-errors",
				Description:        "Errors of orders:live",
				ActionsEnabled:     false,
				AlarmActions:       []string{"arn:aws:sns:us-east-1:000000000000:page"},
				Metric:             metrics.MetricID{Namespace: "AWS/Lambda", Name: "Errors", Dimensions: ordersDims},
				Statistic:          "Sum",
				Period:             time.Minute,
				Unit:               "Count",
				EvaluationPeriods:  3,
				DatapointsToAlarm:  2,
				Threshold:          1.5,
				ComparisonOperator: "GreaterThanOrEqualToThreshold",
				TreatMissingData:   "notBreaching",
				Tags:               map[string]string{"team": "payments"},
			}}},
		},
		{
			name:  "DescribeAlarms",
			setup: func(f *fake) { f.alarms, f.nextToken = []alarms.Alarm{ordersAlarm()}, "page-2" },
			call: func(ctx context.Context, c *cloudwatch.Client) (any, error) {
				return c.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{
					AlarmNames: []string{"orders-errors", "other"},
					StateValue: types.StateValueAlarm,
					MaxRecords: aws.Int32(10),
					NextToken:  aws.String("page-1"),
				})
			},
			want: []call{{"DescribeAlarms", cloudwatchapi.AlarmFilter{
				Names: []string{"orders-errors", "other"}, StateValue: "ALARM", Types: []string{"MetricAlarm"}, MaxRecords: 10, NextToken: "page-1",
			}}},
			check: func(t *testing.T, out any) {
				o := out.(*cloudwatch.DescribeAlarmsOutput)
				if aws.ToString(o.NextToken) != "page-2" || len(o.MetricAlarms) != 1 || len(o.CompositeAlarms) != 0 {
					t.Fatalf("output %+v", o)
				}
				checkSDKAlarm(t, o.MetricAlarms[0])
			},
		},
		{
			name:  "DescribeAlarms default page size",
			setup: func(f *fake) { f.alarms = []alarms.Alarm{} },
			call: func(ctx context.Context, c *cloudwatch.Client) (any, error) {
				return c.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String("orders-")})
			},
			want: []call{{"DescribeAlarms", cloudwatchapi.AlarmFilter{NamePrefix: "orders-", Types: []string{"MetricAlarm"}, MaxRecords: 50}}},
			check: func(t *testing.T, out any) {
				o := out.(*cloudwatch.DescribeAlarmsOutput)
				if len(o.MetricAlarms) != 0 || o.NextToken != nil {
					t.Errorf("output %+v", o)
				}
			},
		},
		{
			name:  "DescribeAlarmsForMetric",
			setup: func(f *fake) { f.alarms = []alarms.Alarm{ordersAlarm()} },
			call: func(ctx context.Context, c *cloudwatch.Client) (any, error) {
				return c.DescribeAlarmsForMetric(ctx, &cloudwatch.DescribeAlarmsForMetricInput{
					MetricName: aws.String("Errors"),
					Namespace:  aws.String("AWS/Lambda"),
					Dimensions: []types.Dimension{
						{Name: aws.String("FunctionName"), Value: aws.String("orders")},
						{Name: aws.String("Resource"), Value: aws.String("orders:live")},
					},
					Statistic: types.StatisticSum,
					Period:    aws.Int32(60),
					Unit:      types.StandardUnitCount,
				})
			},
			want: []call{{"DescribeAlarmsForMetric", cloudwatchapi.MetricAlarmFilter{
				Metric:    metrics.MetricID{Namespace: "AWS/Lambda", Name: "Errors", Dimensions: ordersDims},
				Statistic: "Sum", Period: time.Minute, Unit: "Count",
			}}},
			check: func(t *testing.T, out any) {
				o := out.(*cloudwatch.DescribeAlarmsForMetricOutput)
				if len(o.MetricAlarms) != 1 {
					t.Fatalf("output %+v", o)
				}
				checkSDKAlarm(t, o.MetricAlarms[0])
			},
		},
		{
			name: "DeleteAlarms",
			call: func(ctx context.Context, c *cloudwatch.Client) (any, error) {
				return c.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{"a", "b"}})
			},
			want: []call{{"DeleteAlarms", []string{"a", "b"}}},
		},
		{
			name: "SetAlarmState",
			call: func(ctx context.Context, c *cloudwatch.Client) (any, error) {
				return c.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{
					AlarmName: aws.String("orders-errors"), StateValue: types.StateValueAlarm,
					StateReason: aws.String("testing the page"), StateReasonData: aws.String(`{"k":[1,2]}`),
				})
			},
			want: []call{{"SetAlarmState", setStateArgs{"orders-errors", "ALARM", "testing the page", `{"k":[1,2]}`}}},
		},
		{
			name:  "DescribeAlarmHistory",
			setup: func(f *fake) { f.history, f.nextToken = historyItems(), "h-2" },
			call: func(ctx context.Context, c *cloudwatch.Client) (any, error) {
				return c.DescribeAlarmHistory(ctx, &cloudwatch.DescribeAlarmHistoryInput{
					AlarmName:       aws.String("orders-errors"),
					HistoryItemType: types.HistoryItemTypeStateUpdate,
					StartDate:       aws.Time(in),
					EndDate:         aws.Time(base),
					MaxRecords:      aws.Int32(5),
					ScanBy:          types.ScanByTimestampAscending,
					NextToken:       aws.String("h-1"),
				})
			},
			want: []call{{"DescribeAlarmHistory", cloudwatchapi.HistoryFilter{
				AlarmName: "orders-errors", Type: "StateUpdate", Start: in, End: base, Ascending: true, MaxRecords: 5, NextToken: "h-1",
			}}},
			check: func(t *testing.T, out any) {
				o := out.(*cloudwatch.DescribeAlarmHistoryOutput)
				if aws.ToString(o.NextToken) != "h-2" || len(o.AlarmHistoryItems) != 2 {
					t.Fatalf("output %+v", o)
				}
				for i, want := range historyItems() {
					got := o.AlarmHistoryItems[i]
					if aws.ToString(got.AlarmName) != want.AlarmName || !aws.ToTime(got.Timestamp).Equal(want.Timestamp) ||
						string(got.HistoryItemType) != want.Type || aws.ToString(got.HistorySummary) != want.Summary ||
						aws.ToString(got.HistoryData) != want.Data || got.AlarmType != types.AlarmTypeMetricAlarm {
						t.Errorf("item %d: %+v, want %+v", i, got, want)
					}
				}
			},
		},
		{
			name: "EnableAlarmActions",
			call: func(ctx context.Context, c *cloudwatch.Client) (any, error) {
				return c.EnableAlarmActions(ctx, &cloudwatch.EnableAlarmActionsInput{AlarmNames: []string{"orders-errors"}})
			},
			want: []call{{"SetAlarmActions", actionsArgs{[]string{"orders-errors"}, true}}},
		},
		{
			name: "DisableAlarmActions",
			call: func(ctx context.Context, c *cloudwatch.Client) (any, error) {
				return c.DisableAlarmActions(ctx, &cloudwatch.DisableAlarmActionsInput{AlarmNames: []string{"orders-errors", "x"}})
			},
			want: []call{{"SetAlarmActions", actionsArgs{[]string{"orders-errors", "x"}, false}}},
		},
		{
			name: "PutMetricData",
			call: func(ctx context.Context, c *cloudwatch.Client) (any, error) {
				return c.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{
					Namespace: aws.String("Sluice/Test"),
					MetricData: []types.MetricDatum{
						{MetricName: aws.String("Latency"), Dimensions: sluiceDims, Timestamp: aws.Time(in),
							Value: aws.Float64(12.5), Unit: types.StandardUnitMilliseconds, StorageResolution: aws.Int32(1)},
						{MetricName: aws.String("Latency"), Dimensions: sluiceDims, Timestamp: aws.Time(in),
							Values: []float64{1, 2, 3}, Counts: []float64{1, 0, 5}, Unit: types.StandardUnitMilliseconds},
						{MetricName: aws.String("Batch"), Timestamp: aws.Time(in),
							StatisticValues: &types.StatisticSet{SampleCount: aws.Float64(10), Sum: aws.Float64(55), Minimum: aws.Float64(1), Maximum: aws.Float64(10)}},
					},
				})
			},
			want: []call{{"PutMetricData", []cloudwatchapi.Datum{
				{Metric: sluiceID, Sample: metrics.Sample{Value: 12.5, Count: 1, Unit: "Milliseconds", At: in}},
				{Metric: sluiceID, Sample: metrics.Sample{Value: 1, Count: 1, Unit: "Milliseconds", At: in}},
				{Metric: sluiceID, Sample: metrics.Sample{Value: 3, Count: 5, Unit: "Milliseconds", At: in}},
				{Metric: metrics.MetricID{Namespace: "Sluice/Test", Name: "Batch", Dimensions: []metrics.Dimension{}},
					Sample: metrics.Sample{Count: 10, Stats: &metrics.StatisticSet{SampleCount: 10, Sum: 55, Minimum: 1, Maximum: 10}, Unit: "None", At: in}},
			}}},
		},
		{
			name:  "GetMetricStatistics",
			setup: func(f *fake) { f.datapoints = datapoints() },
			call: func(ctx context.Context, c *cloudwatch.Client) (any, error) {
				return c.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{
					Namespace: aws.String("Sluice/Test"), MetricName: aws.String("Latency"), Dimensions: sluiceDims,
					StartTime: aws.Time(in), EndTime: aws.Time(base), Period: aws.Int32(60),
					Statistics: []types.Statistic{types.StatisticSum, types.StatisticSampleCount, types.StatisticAverage, types.StatisticMinimum, types.StatisticMaximum},
					Unit:       types.StandardUnitMilliseconds,
				})
			},
			want: []call{{"Statistics", metrics.Query{Metric: sluiceID, Start: in, End: base, Period: time.Minute, Unit: "Milliseconds"}}},
			check: func(t *testing.T, out any) {
				o := out.(*cloudwatch.GetMetricStatisticsOutput)
				if aws.ToString(o.Label) != "Latency" || len(o.Datapoints) != 2 {
					t.Fatalf("output %+v", o)
				}
				dps := datapoints()
				for i, want := range []int{1, 0} { // oldest first
					got, w := o.Datapoints[i], dps[want]
					if !aws.ToTime(got.Timestamp).Equal(w.Timestamp) || aws.ToFloat64(got.Sum) != w.Sum ||
						aws.ToFloat64(got.SampleCount) != w.SampleCount || aws.ToFloat64(got.Average) != w.Sum/w.SampleCount ||
						aws.ToFloat64(got.Minimum) != w.Minimum || aws.ToFloat64(got.Maximum) != w.Maximum ||
						got.Unit != types.StandardUnitMilliseconds || got.ExtendedStatistics != nil {
						t.Errorf("datapoint %d: %+v, want %+v", i, got, w)
					}
				}
			},
		},
		{
			name:  "GetMetricStatistics percentiles",
			setup: func(f *fake) { f.datapoints = datapoints() },
			call: func(ctx context.Context, c *cloudwatch.Client) (any, error) {
				return c.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{
					Namespace: aws.String("Sluice/Test"), MetricName: aws.String("Latency"), Dimensions: sluiceDims,
					StartTime: aws.Time(base.Add(-time.Hour)), EndTime: aws.Time(base), Period: aws.Int32(300),
					ExtendedStatistics: []string{"p99", "p50"},
				})
			},
			want: []call{{"Statistics", metrics.Query{Metric: sluiceID, Start: base.Add(-time.Hour), End: base, Period: 5 * time.Minute, Percentiles: []string{"p99", "p50"}}}},
			check: func(t *testing.T, out any) {
				o := out.(*cloudwatch.GetMetricStatisticsOutput)
				if len(o.Datapoints) != 2 {
					t.Fatalf("output %+v", o)
				}
				got := o.Datapoints[1]
				if want := map[string]float64{"p99": 3.96, "p50": 2.5}; !reflect.DeepEqual(got.ExtendedStatistics, want) || got.Sum != nil {
					t.Errorf("datapoint %+v, want ExtendedStatistics %v only", got, want)
				}
			},
		},
		{
			name:  "GetMetricData",
			setup: func(f *fake) { f.datapoints = datapoints() },
			call: func(ctx context.Context, c *cloudwatch.Client) (any, error) {
				stat := func(id, s string, ret bool, label *string) types.MetricDataQuery {
					return types.MetricDataQuery{Id: aws.String(id), Label: label, ReturnData: aws.Bool(ret), MetricStat: &types.MetricStat{
						Metric: &types.Metric{Namespace: aws.String("Sluice/Test"), MetricName: aws.String("Latency"), Dimensions: sluiceDims},
						Period: aws.Int32(60), Stat: aws.String(s),
					}}
				}
				return c.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{
					MetricDataQueries: []types.MetricDataQuery{
						stat("lat", "p99", true, aws.String("p99 latency")), stat("cnt", "SampleCount", true, nil), stat("hidden", "Sum", false, nil),
					},
					StartTime: aws.Time(in), EndTime: aws.Time(base), ScanBy: types.ScanByTimestampAscending,
				})
			},
			want: []call{
				{"Statistics", metrics.Query{Metric: sluiceID, Start: in, End: base, Period: time.Minute, Percentiles: []string{"p99"}}},
				{"Statistics", metrics.Query{Metric: sluiceID, Start: in, End: base, Period: time.Minute}},
			},
			check: func(t *testing.T, out any) {
				o := out.(*cloudwatch.GetMetricDataOutput)
				if len(o.MetricDataResults) != 2 || o.NextToken != nil {
					t.Fatalf("output %+v", o)
				}
				times := []time.Time{base.Add(-8 * time.Minute), base.Add(-5 * time.Minute)}
				for i, want := range []struct {
					id, label string
					values    []float64
				}{{"lat", "p99 latency", []float64{1.99, 3.96}}, {"cnt", "Latency", []float64{2, 4}}} {
					r := o.MetricDataResults[i]
					if aws.ToString(r.Id) != want.id || aws.ToString(r.Label) != want.label || !slices.Equal(r.Values, want.values) ||
						!equalTimes(r.Timestamps, times) || r.StatusCode != types.StatusCodeComplete {
						t.Errorf("result %d: %+v, want %+v at %v", i, r, want, times)
					}
				}
			},
		},
		{
			name:  "GetMetricData expressions",
			setup: func(f *fake) { f.datapoints = datapoints() },
			call: func(ctx context.Context, c *cloudwatch.Client) (any, error) {
				stat := func(id, s, label string) types.MetricDataQuery {
					return types.MetricDataQuery{Id: aws.String(id), Label: aws.String(label), ReturnData: aws.Bool(false), MetricStat: &types.MetricStat{
						Metric: &types.Metric{Namespace: aws.String("Sluice/Test"), MetricName: aws.String("Latency"), Dimensions: sluiceDims},
						Period: aws.Int32(60), Stat: aws.String(s),
					}}
				}
				return c.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{
					MetricDataQueries: []types.MetricDataQuery{
						stat("errors", "Sum", "Errors"), stat("calls", "SampleCount", "Calls"),
						{Id: aws.String("rate"), Expression: aws.String("100*errors/calls"), Label: aws.String("Error rate")},
						{Id: aws.String("twice"), Expression: aws.String("METRICS() * 2")},
						{Id: aws.String("zero"), Expression: aws.String("errors / (calls - calls)")},
						{Id: aws.String("unused"), Expression: aws.String("errors + 1"), ReturnData: aws.Bool(false)},
					},
					StartTime: aws.Time(in), EndTime: aws.Time(base), ScanBy: types.ScanByTimestampAscending,
				})
			},
			want: []call{
				{"Statistics", metrics.Query{Metric: sluiceID, Start: in, End: base, Period: time.Minute}},
				{"Statistics", metrics.Query{Metric: sluiceID, Start: in, End: base, Period: time.Minute}},
			},
			check: func(t *testing.T, out any) {
				o := out.(*cloudwatch.GetMetricDataOutput)
				times := []time.Time{base.Add(-8 * time.Minute), base.Add(-5 * time.Minute)}
				want := []struct {
					id, label string
					values    []float64
					dropped   bool
				}{
					{"rate", "Error rate", []float64{150, 250}, false},
					{"twice", "Errors", []float64{6, 20}, false}, {"twice", "Calls", []float64{4, 8}, false},
					{"zero", "zero", nil, true},
				}
				if len(o.MetricDataResults) != len(want) || o.NextToken != nil {
					t.Fatalf("output %+v", o)
				}
				for i, w := range want {
					r := o.MetricDataResults[i]
					wantTimes := times
					if w.values == nil {
						wantTimes = nil
					}
					if aws.ToString(r.Id) != w.id || aws.ToString(r.Label) != w.label || !slices.Equal(r.Values, w.values) ||
						!equalTimes(r.Timestamps, wantTimes) || r.StatusCode != types.StatusCodeComplete {
						t.Errorf("result %d: %+v, want %+v at %v", i, r, w, wantTimes)
					}
					arithmetic := len(r.Messages) == 1 && aws.ToString(r.Messages[0].Code) == "ArithmeticError" &&
						aws.ToString(r.Messages[0].Value) == "One or more data-points have been dropped due to non-numeric values (NaN, -Infinite, +Infinite)"
					if arithmetic != w.dropped || (!w.dropped && len(r.Messages) != 0) {
						t.Errorf("result %d messages %+v, want ArithmeticError: %v", i, r.Messages, w.dropped)
					}
				}
			},
		},
		{
			name:  "GetMetricData pages",
			setup: func(f *fake) { f.datapoints = datapoints() },
			call: func(ctx context.Context, c *cloudwatch.Client) (any, error) {
				var pages []*cloudwatch.GetMetricDataOutput
				in := &cloudwatch.GetMetricDataInput{
					MetricDataQueries: []types.MetricDataQuery{{Id: aws.String("m1"), MetricStat: &types.MetricStat{
						Metric: &types.Metric{Namespace: aws.String("Sluice/Test"), MetricName: aws.String("Latency")},
						Period: aws.Int32(60), Stat: aws.String("Maximum"),
					}}},
					StartTime: aws.Time(base.Add(-time.Hour)), EndTime: aws.Time(base), MaxDatapoints: aws.Int32(1),
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
					Start: base.Add(-time.Hour), End: base, Period: time.Minute}}
				return []call{q, q}
			}(),
			check: func(t *testing.T, out any) {
				pages := out.([]*cloudwatch.GetMetricDataOutput)
				if len(pages) != 2 {
					t.Fatalf("%d pages, want 2", len(pages))
				}
				// Newest first (the default ScanBy), one datapoint a page.
				for i, want := range []struct {
					v      float64
					status types.StatusCode
				}{{4, types.StatusCodePartialData}, {2, types.StatusCodeComplete}} {
					r := pages[i].MetricDataResults[0]
					if !slices.Equal(r.Values, []float64{want.v}) || r.StatusCode != want.status {
						t.Errorf("page %d: %+v, want %v %s", i, r, want.v, want.status)
					}
				}
			},
		},
		{
			name:  "ListMetrics",
			setup: func(f *fake) { f.metricIDs, f.nextToken = metricIDs(), "m-2" },
			call: func(ctx context.Context, c *cloudwatch.Client) (any, error) {
				return c.ListMetrics(ctx, &cloudwatch.ListMetricsInput{
					Namespace: aws.String("Sluice/Test"),
					Dimensions: []types.DimensionFilter{
						{Name: aws.String("FunctionName"), Value: aws.String("orders")}, {Name: aws.String("Resource")},
					},
					RecentlyActive: types.RecentlyActivePt3h,
					NextToken:      aws.String("m-1"),
				})
			},
			fix: func(t *testing.T, calls []call) {
				f := calls[0].Args.(cloudwatchapi.ListMetricsFilter)
				if d := time.Since(f.ActiveSince); d < 3*time.Hour || d > 3*time.Hour+time.Minute {
					t.Errorf("ActiveSince %v ago, want 3h", d)
				}
				f.ActiveSince = time.Time{}
				calls[0].Args = f
			},
			want: []call{{"ListMetrics", cloudwatchapi.ListMetricsFilter{
				Namespace:  "Sluice/Test",
				Dimensions: []metrics.DimensionFilter{{Name: "FunctionName", Value: "orders"}, {Name: "Resource"}},
				NextToken:  "m-1",
			}}},
			check: func(t *testing.T, out any) {
				o := out.(*cloudwatch.ListMetricsOutput)
				if aws.ToString(o.NextToken) != "m-2" || len(o.Metrics) != 2 {
					t.Fatalf("output %+v", o)
				}
				m := o.Metrics[0]
				if aws.ToString(m.Namespace) != "Sluice/Test" || aws.ToString(m.MetricName) != "Latency" || len(m.Dimensions) != 1 ||
					aws.ToString(m.Dimensions[0].Name) != "FunctionName" || aws.ToString(m.Dimensions[0].Value) != "orders" {
					t.Errorf("metric %+v", m)
				}
				if m := o.Metrics[1]; aws.ToString(m.MetricName) != "Requests" || len(m.Dimensions) != 0 {
					t.Errorf("metric %+v", m)
				}
			},
		},
	}
}

func equalTimes(a, b []time.Time) bool {
	return slices.EqualFunc(a, b, func(x, y time.Time) bool { return x.Equal(y) })
}

// checkSDKAlarm compares an alarm the SDK parsed with ordersAlarm.
func checkSDKAlarm(t *testing.T, got types.MetricAlarm) {
	t.Helper()
	a := ordersAlarm()
	var problems []string
	check := func(what string, ok bool) {
		if !ok {
			problems = append(problems, what)
		}
	}
	check("AlarmName", aws.ToString(got.AlarmName) == a.Name)
	check("AlarmArn", aws.ToString(got.AlarmArn) == a.ARN)
	check("AlarmDescription", aws.ToString(got.AlarmDescription) == a.Description)
	check("AlarmConfigurationUpdatedTimestamp", aws.ToTime(got.AlarmConfigurationUpdatedTimestamp).Equal(a.ConfigurationUpdated))
	check("ActionsEnabled", aws.ToBool(got.ActionsEnabled))
	check("OKActions", len(got.OKActions) == 0)
	check("AlarmActions", slices.Equal(got.AlarmActions, a.AlarmActions))
	check("StateValue", string(got.StateValue) == a.StateValue)
	check("StateReason", aws.ToString(got.StateReason) == a.StateReason)
	check("StateReasonData", aws.ToString(got.StateReasonData) == a.StateReasonData)
	check("StateUpdatedTimestamp", aws.ToTime(got.StateUpdatedTimestamp).Equal(a.StateUpdated))
	check("StateTransitionedTimestamp", aws.ToTime(got.StateTransitionedTimestamp).Equal(a.StateTransitioned))
	check("MetricName", aws.ToString(got.MetricName) == "Errors")
	check("Namespace", aws.ToString(got.Namespace) == "AWS/Lambda")
	check("Statistic", got.Statistic == types.StatisticSum && got.ExtendedStatistic == nil)
	check("Dimensions", len(got.Dimensions) == 2 && aws.ToString(got.Dimensions[1].Name) == "Resource" && aws.ToString(got.Dimensions[1].Value) == "orders:live")
	check("Period", aws.ToInt32(got.Period) == 60)
	check("Unit", got.Unit == types.StandardUnitCount)
	check("EvaluationPeriods", aws.ToInt32(got.EvaluationPeriods) == 3)
	check("DatapointsToAlarm", aws.ToInt32(got.DatapointsToAlarm) == 2)
	check("Threshold", aws.ToFloat64(got.Threshold) == 1)
	check("ComparisonOperator", got.ComparisonOperator == types.ComparisonOperatorGreaterThanOrEqualToThreshold)
	check("TreatMissingData", aws.ToString(got.TreatMissingData) == "notBreaching")
	check("EvaluateLowSampleCountPercentile", got.EvaluateLowSampleCountPercentile == nil)
	if len(problems) > 0 {
		t.Errorf("alarm differs in %v: %+v", problems, got)
	}
}

// sdkErrorCase is a request that fails, with the error the SDK must report.
type sdkErrorCase struct {
	name    string
	setup   func(f *fake)
	call    func(ctx context.Context, c *cloudwatch.Client) error
	status  int
	code    string
	message string
	// typed checks that the SDK built the modelled error type.
	typed func(err error) bool
}

func sdkErrorCases() []sdkErrorCase {
	return []sdkErrorCase{
		{
			name: "backend ResourceNotFound",
			setup: func(f *fake) {
				f.errs = map[string]error{"DeleteAlarms": fault.New("ResourceNotFound", "1 or more alarms do not exist: nope")}
			},
			call: func(ctx context.Context, c *cloudwatch.Client) error {
				_, err := c.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{"nope"}})
				return err
			},
			status: 404, code: "ResourceNotFound", message: "1 or more alarms do not exist: nope",
			typed: func(err error) bool { var e *types.ResourceNotFound; return errors.As(err, &e) },
		},
		{
			name: "backend InvalidNextToken",
			setup: func(f *fake) {
				f.errs = map[string]error{"DescribeAlarms": fault.New("InvalidNextToken", "The next token is invalid.")}
			},
			call: func(ctx context.Context, c *cloudwatch.Client) error {
				_, err := c.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{NextToken: aws.String("junk")})
				return err
			},
			status: 400, code: "InvalidNextToken", message: "The next token is invalid.",
			typed: func(err error) bool { var e *types.InvalidNextToken; return errors.As(err, &e) },
		},
		{
			name: "AWS namespace",
			call: func(ctx context.Context, c *cloudwatch.Client) error {
				_, err := c.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("AWS/Lambda"),
					MetricData: []types.MetricDatum{{MetricName: aws.String("Errors"), Value: aws.Float64(1)}}})
				return err
			},
			status: 400, code: "InvalidParameterValue", message: "The value AWS/ for parameter Namespace is invalid.",
			typed: func(err error) bool { var e *types.InvalidParameterValueException; return errors.As(err, &e) },
		},
		{
			name: "Value and Values",
			call: func(ctx context.Context, c *cloudwatch.Client) error {
				_, err := c.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("Sluice/Test"),
					MetricData: []types.MetricDatum{{MetricName: aws.String("A"), Value: aws.Float64(1)},
						{MetricName: aws.String("B"), Value: aws.Float64(1), Values: []float64{1}}}})
				return err
			},
			status: 400, code: "InvalidParameterCombination",
			message: "The parameters MetricData.member.2.Value and MetricData.member.2.Values are mutually exclusive and you have specified both.",
			typed:   func(err error) bool { var e *types.InvalidParameterCombinationException; return errors.As(err, &e) },
		},
		{
			name: "statistics missing",
			call: func(ctx context.Context, c *cloudwatch.Client) error {
				_, err := c.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{Namespace: aws.String("N"), MetricName: aws.String("M"),
					StartTime: aws.Time(base.Add(-time.Hour)), EndTime: aws.Time(base), Period: aws.Int32(60)})
				return err
			},
			status: 400, code: "InvalidParameterCombination",
			message: "At least one of the parameters Statistics and ExtendedStatistics must be specified.",
			typed:   func(err error) bool { var e *types.InvalidParameterCombinationException; return errors.As(err, &e) },
		},
		{
			name: "too many datapoints",
			call: func(ctx context.Context, c *cloudwatch.Client) error {
				_, err := c.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{Namespace: aws.String("N"), MetricName: aws.String("M"),
					StartTime: aws.Time(base.Add(-48 * time.Hour)), EndTime: aws.Time(base), Period: aws.Int32(60),
					Statistics: []types.Statistic{types.StatisticSum}})
				return err
			},
			status: 400, code: "InvalidParameterCombination",
			message: "You have requested up to 2,880 datapoints, which exceeds the limit of 1,440. You may reduce the datapoints requested by increasing Period, or decreasing the time range.",
		},
		{
			name: "enum",
			call: func(ctx context.Context, c *cloudwatch.Client) error {
				_, err := c.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("Sluice/Test"),
					MetricData: []types.MetricDatum{{MetricName: aws.String("A"), Value: aws.Float64(1), Unit: "Parsecs"}}})
				return err
			},
			status: 400, code: "ValidationError",
			message: "1 validation error detected: Value 'Parsecs' at 'metricData.1.member.unit' failed to satisfy constraint: Member must satisfy enum value set: [Seconds, Microseconds, Milliseconds, Bytes, Kilobytes, Megabytes, Gigabytes, Terabytes, Bits, Kilobits, Megabits, Gigabits, Terabits, Percent, Count, Bytes/Second, Kilobytes/Second, Megabytes/Second, Gigabytes/Second, Terabytes/Second, Bits/Second, Kilobits/Second, Megabits/Second, Gigabits/Second, Terabits/Second, Count/Second, None]",
		},
		{
			name: "metric math: an unknown id",
			call: func(ctx context.Context, c *cloudwatch.Client) error {
				_, err := c.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{StartTime: aws.Time(base.Add(-time.Hour)), EndTime: aws.Time(base),
					MetricDataQueries: []types.MetricDataQuery{{Id: aws.String("e1"), Expression: aws.String("100 * errors / m1")}}})
				return err
			},
			status: 400, code: "ValidationError",
			message: "Error in expression e1 [Unrecognized metric or expression id 'errors' at char 6]",
			typed:   func(err error) bool { var e *types.ValidationException; return errors.As(err, &e) },
		},
		{
			name: "metric math: a scalar result",
			call: func(ctx context.Context, c *cloudwatch.Client) error {
				_, err := c.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{StartTime: aws.Time(base.Add(-time.Hour)), EndTime: aws.Time(base),
					MetricDataQueries: []types.MetricDataQuery{{Id: aws.String("m1"), ReturnData: aws.Bool(false), MetricStat: &types.MetricStat{
						Metric: &types.Metric{Namespace: aws.String("N"), MetricName: aws.String("M")}, Period: aws.Int32(60), Stat: aws.String("Sum")}},
						{Id: aws.String("e1"), Expression: aws.String("AVG(m1)")}}})
				return err
			},
			status: 400, code: "ValidationError",
			message: "Error in expression e1 [The expression returns a scalar; its result must be a time series or an array of time series]",
		},
		{
			name: "metric math: both MetricStat and Expression",
			call: func(ctx context.Context, c *cloudwatch.Client) error {
				_, err := c.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{StartTime: aws.Time(base.Add(-time.Hour)), EndTime: aws.Time(base),
					MetricDataQueries: []types.MetricDataQuery{{Id: aws.String("m1"), Expression: aws.String("1"), MetricStat: &types.MetricStat{
						Metric: &types.Metric{Namespace: aws.String("N"), MetricName: aws.String("M")}, Period: aws.Int32(60), Stat: aws.String("Sum")}}}})
				return err
			},
			status: 400, code: "InvalidParameterCombination",
			message: "The parameters MetricDataQueries.member.1.MetricStat and MetricDataQueries.member.1.Expression are mutually exclusive and you have specified both.",
		},
		{
			name: "reason data not JSON",
			call: func(ctx context.Context, c *cloudwatch.Client) error {
				_, err := c.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("a"), StateValue: types.StateValueOk,
					StateReason: aws.String("r"), StateReasonData: aws.String("{not json")})
				return err
			},
			status: 400, code: "InvalidFormat", message: "The parameter StateReasonData must be valid JSON.",
			typed: func(err error) bool { var e *types.InvalidFormatFault; return errors.As(err, &e) },
		},
		{
			name:  "internal error",
			setup: func(f *fake) { f.errs = map[string]error{"ListMetrics": errors.New("disk on fire")} },
			call: func(ctx context.Context, c *cloudwatch.Client) error {
				_, err := c.ListMetrics(ctx, &cloudwatch.ListMetricsInput{})
				return err
			},
			status: 500, code: "InternalServiceError", message: "An internal error occurred. Request ID: ",
			typed: func(err error) bool { var e *types.InternalServiceFault; return errors.As(err, &e) },
		},
	}
}

// goQueryCodes are the codes aws-sdk-go-v2's query protocol reports for modelled errors: their shape names.
var goQueryCodes = map[string]string{
	"ResourceNotFound":            "ResourceNotFound",
	"InvalidNextToken":            "InvalidNextToken",
	"InvalidParameterValue":       "InvalidParameterValueException",
	"InvalidParameterCombination": "InvalidParameterCombinationException",
	"InvalidFormat":               "InvalidFormatFault",
	"InternalServiceError":        "InternalServiceFault",
	"ValidationError":             "ValidationException",
}

func TestSDKErrors(t *testing.T) {
	for _, p := range sdkProtocols {
		t.Run(p.name, func(t *testing.T) {
			s := newServer(t)
			c := sdkClient(s.URL, p.new())
			for _, tc := range append(sdkErrorCases(), mathSDKErrorCases()...) {
				t.Run(tc.name, func(t *testing.T) {
					*s.fake = fake{}
					if tc.setup != nil {
						tc.setup(s.fake)
					}
					err := tc.call(context.Background(), c)
					var apiErr smithy.APIError
					if !errors.As(err, &apiErr) {
						t.Fatalf("error %v, want an API error", err)
					}
					var re *awshttp.ResponseError
					status := 0
					if errors.As(err, &re) {
						status = re.HTTPStatusCode()
					}
					code := tc.code
					if qc, ok := goQueryCodes[tc.code]; ok && p.name == "awsQuery" {
						// The SDK's query protocol names modelled errors by their shape, not their query code.
						code = qc
					}
					msg := apiErr.ErrorMessage()
					if tc.code == "InternalServiceError" {
						msg = msg[:min(len(msg), len(tc.message))] // the request ID follows
					}
					if status != tc.status || apiErr.ErrorCode() != code || msg != tc.message {
						t.Errorf("got %d %s %q, want %d %s %q", status, apiErr.ErrorCode(), apiErr.ErrorMessage(), tc.status, code, tc.message)
					}
					if tc.typed != nil && !tc.typed(err) {
						t.Errorf("error %T (%v) is not the modelled error type", apiErr, err)
					}
					wantFault := smithy.FaultClient
					if tc.status >= 500 {
						wantFault = smithy.FaultServer
					}
					if p.name != "awsQuery" && apiErr.ErrorFault() != wantFault { // the query protocol reports no fault
						t.Errorf("fault %v, want %v", apiErr.ErrorFault(), wantFault)
					}
				})
			}
		})
	}
}
