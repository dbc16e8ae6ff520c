package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// TestMetricsSurviveKill invokes a function and puts custom data, lets the minute close (the server persists it a
// second later), reads the minute's statistics, kill -9s the server and restarts it on the same data dir: the
// same statistics come back — with aws-sdk-go-v2 (GetMetricStatistics, GetMetricData) and the AWS CLI v2 —, an
// alarm created before the kill and set back to OK after it returns to ALARM from the pre-restart minute, and an
// alarm created after the restart goes to ALARM on it while one whose threshold the data does not cross goes OK;
// and after a graceful stop the minute that was still open is there too.
// It lasts one to two real minutes: a 1-minute period cannot be shortened.
func TestMetricsSurviveKill(t *testing.T) {
	parallel(t)
	s := startServer(t)
	c, cw := s.Lambda(), s.CloudWatch()
	createEcho(t, c, "ledger")

	// Everything lands in one minute: start at its beginning if less than 20 s of it are left.
	if left := time.Until(time.Now().Truncate(time.Minute).Add(time.Minute)); left < 20*time.Second {
		time.Sleep(left + 100*time.Millisecond)
	}
	minute := time.Now().UTC().Truncate(time.Minute)
	for range 5 {
		invokeJSON(t, c, "ledger", "", `{"message":"fine"}`)
	}
	latencies := []float64{12, 18, 25, 31, 44, 47, 52, 60, 75, 90}
	var data []cwtypes.MetricDatum
	for i, v := range latencies {
		data = append(data, cwtypes.MetricDatum{MetricName: aws.String("Latency"), Value: aws.Float64(v),
			Unit: cwtypes.StandardUnitMilliseconds, Timestamp: aws.Time(minute.Add(time.Duration(i) * time.Second))})
	}
	if _, err := cw.PutMetricData(t.Context(), &cloudwatch.PutMetricDataInput{Namespace: aws.String(metricNS), MetricData: data}); err != nil {
		t.Fatal(err)
	}
	if end := time.Now().UTC().Truncate(time.Minute); !end.Equal(minute) {
		t.Fatalf("the samples straddle minutes %s and %s", minute, end) // 20 s were not enough on this machine
	}
	fnDims := []cwtypes.Dimension{{Name: aws.String("FunctionName"), Value: aws.String("ledger")}}
	alarm := func(name string, threshold float64) *cloudwatch.PutMetricAlarmInput {
		return &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String(name), Namespace: aws.String(metricNS),
			MetricName: aws.String("Latency"), Statistic: cwtypes.StatisticMaximum, Period: aws.Int32(60),
			EvaluationPeriods: aws.Int32(3), DatapointsToAlarm: aws.Int32(1), Threshold: aws.Float64(threshold),
			ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold, TreatMissingData: aws.String("notBreaching")}
	}
	if _, err := cw.PutMetricAlarm(t.Context(), alarm("latency-before", 80)); err != nil {
		t.Fatal(err)
	}

	// The minute closes; a second later the server persists it.
	time.Sleep(time.Until(minute.Add(time.Minute + 3*time.Second)))
	read := func() string {
		t.Helper()
		var b strings.Builder
		for _, q := range []struct {
			ns, name string
			dims     []cwtypes.Dimension
		}{{"AWS/Lambda", "Invocations", fnDims}, {"AWS/Lambda", "Duration", fnDims}, {"AWS/Lambda", "Invocations", nil},
			{metricNS, "Latency", nil}} {
			out, err := cw.GetMetricStatistics(t.Context(), &cloudwatch.GetMetricStatisticsInput{
				Namespace: aws.String(q.ns), MetricName: aws.String(q.name), Dimensions: q.dims,
				StartTime: aws.Time(minute.Add(-time.Minute)), EndTime: aws.Time(minute.Add(time.Minute)), Period: aws.Int32(60),
				Statistics: []cwtypes.Statistic{cwtypes.StatisticSampleCount, cwtypes.StatisticSum, cwtypes.StatisticMinimum,
					cwtypes.StatisticMaximum, cwtypes.StatisticAverage},
			})
			if err != nil {
				t.Fatal(err)
			}
			pct, err := cw.GetMetricStatistics(t.Context(), &cloudwatch.GetMetricStatisticsInput{
				Namespace: aws.String(q.ns), MetricName: aws.String(q.name), Dimensions: q.dims,
				StartTime: aws.Time(minute.Add(-time.Minute)), EndTime: aws.Time(minute.Add(time.Minute)), Period: aws.Int32(60),
				ExtendedStatistics: []string{"p50", "p99"},
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Datapoints) != 1 || len(pct.Datapoints) != 1 {
				t.Fatalf("%s %s: datapoints %+v and %+v, want one for %s", q.ns, q.name, out.Datapoints, pct.Datapoints, minute)
			}
			d, p := out.Datapoints[0], pct.Datapoints[0]
			fmt.Fprintf(&b, "%s %s %s: n=%v sum=%v min=%v max=%v avg=%v unit=%s p50=%v p99=%v\n", q.ns, q.name,
				d.Timestamp.UTC().Format(time.TimeOnly), *d.SampleCount, *d.Sum, *d.Minimum, *d.Maximum, *d.Average, d.Unit,
				p.ExtendedStatistics["p50"], p.ExtendedStatistics["p99"])
		}
		md, err := cw.GetMetricData(t.Context(), &cloudwatch.GetMetricDataInput{
			StartTime: aws.Time(minute.Add(-2 * time.Minute)), EndTime: aws.Time(minute.Add(time.Minute)),
			MetricDataQueries: []cwtypes.MetricDataQuery{
				{Id: aws.String("p99"), MetricStat: &cwtypes.MetricStat{Metric: &cwtypes.Metric{Namespace: aws.String(metricNS),
					MetricName: aws.String("Latency")}, Period: aws.Int32(60), Stat: aws.String("p99")}},
				{Id: aws.String("inv"), MetricStat: &cwtypes.MetricStat{Metric: &cwtypes.Metric{Namespace: aws.String("AWS/Lambda"),
					MetricName: aws.String("Invocations"), Dimensions: fnDims}, Period: aws.Int32(60), Stat: aws.String("Sum")}},
				{Id: aws.String("ratio"), Expression: aws.String("p99 / inv")},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range md.MetricDataResults {
			fmt.Fprintf(&b, "GetMetricData %s:", *r.Id)
			for i := range r.Timestamps {
				fmt.Fprintf(&b, " %s=%v", r.Timestamps[i].UTC().Format(time.TimeOnly), r.Values[i])
			}
			b.WriteString("\n")
		}
		return b.String()
	}
	before := read()
	if !strings.Contains(before, "AWS/Lambda Invocations "+minute.Format(time.TimeOnly)+": n=5 sum=5") ||
		!strings.Contains(before, "Sluice/E2E Latency "+minute.Format(time.TimeOnly)+": n=10 sum=454 min=12 max=90 avg=45.4 unit=Milliseconds") {
		t.Fatalf("statistics before the kill:\n%s", before)
	}
	t.Logf("before the kill:\n%s", before)

	s.Kill(t)
	s.Restart(t)
	cw = s.CloudWatch() // the new process listens on another port
	after := read()
	if after != before {
		t.Fatalf("statistics after kill -9 and a restart:\n%s\nwant, as before:\n%s", after, before)
	}

	// The AWS CLI v2 reads the same minute.
	t.Run("cli v2", func(t *testing.T) {
		out, stderr, code := awsCLI(t, s, true, "cloudwatch", "get-metric-statistics", "--namespace", metricNS,
			"--metric-name", "Latency", "--start-time", minute.Format(time.RFC3339), "--end-time",
			minute.Add(time.Minute).Format(time.RFC3339), "--period", "60", "--statistics", "SampleCount", "Sum", "Maximum")
		if code != 0 {
			t.Fatalf("get-metric-statistics: %d %s", code, stderr)
		}
		var got struct {
			Datapoints []struct{ SampleCount, Sum, Maximum float64 }
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil || len(got.Datapoints) != 1 ||
			got.Datapoints[0].SampleCount != 10 || got.Datapoints[0].Sum != 454 || got.Datapoints[0].Maximum != 90 {
			t.Fatalf("get-metric-statistics after the restart: %v %s", err, out)
		}
	})

	// Alarms with a 1-minute period see the minute before the restart.
	state := func(name string) (cwtypes.StateValue, string) {
		out, err := cw.DescribeAlarms(t.Context(), &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{name}})
		if err != nil || len(out.MetricAlarms) != 1 {
			t.Fatalf("describe %s: %v %v", name, out, err)
		}
		return out.MetricAlarms[0].StateValue, aws.ToString(out.MetricAlarms[0].StateReason)
	}
	waitState := func(name string, want cwtypes.StateValue, within time.Duration) {
		t.Helper()
		deadline := time.Now().Add(within)
		for {
			got, reason := state(name)
			if got == want {
				t.Logf("%s: %s (%s)", name, got, reason)
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s is %s (%s), want %s within %v", name, got, reason, want, within)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	for _, a := range []*cloudwatch.PutMetricAlarmInput{alarm("latency-after", 80), alarm("latency-high", 95)} {
		if _, err := cw.PutMetricAlarm(t.Context(), a); err != nil {
			t.Fatal(err)
		}
	}
	waitState("latency-after", cwtypes.StateValueAlarm, 30*time.Second)
	waitState("latency-high", cwtypes.StateValueOk, 30*time.Second)
	waitState("latency-before", cwtypes.StateValueAlarm, 30*time.Second)
	if _, err := cw.SetAlarmState(t.Context(), &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("latency-before"),
		StateValue: cwtypes.StateValueOk, StateReason: aws.String("reset after the restart")}); err != nil {
		t.Fatal(err)
	}
	if got, _ := state("latency-before"); got != cwtypes.StateValueOk {
		t.Fatalf("latency-before after SetAlarmState: %s", got)
	}
	// SetAlarmState holds until the next period ends; then the evaluator decides from the data again.
	waitState("latency-before", cwtypes.StateValueAlarm, 75*time.Second)
	if _, reason := state("latency-before"); !strings.Contains(reason, "90") {
		t.Errorf("latency-before's reason does not name the pre-restart datapoint (90): %s", reason)
	}

	// A graceful stop (SIGTERM) writes the minute still open: its samples are there after the restart.
	open := time.Now().UTC().Truncate(time.Minute)
	if _, err := cw.PutMetricData(t.Context(), &cloudwatch.PutMetricDataInput{Namespace: aws.String(metricNS),
		MetricData: []cwtypes.MetricDatum{{MetricName: aws.String("Open"), Values: []float64{3, 4}, Timestamp: aws.Time(open)}}}); err != nil {
		t.Fatal(err)
	}
	s.Stop(t)
	s.Restart(t)
	cw = s.CloudWatch()
	out, err := cw.GetMetricStatistics(t.Context(), &cloudwatch.GetMetricStatisticsInput{Namespace: aws.String(metricNS),
		MetricName: aws.String("Open"), StartTime: aws.Time(open), EndTime: aws.Time(open.Add(time.Minute)), Period: aws.Int32(60),
		Statistics: []cwtypes.Statistic{cwtypes.StatisticSampleCount, cwtypes.StatisticSum}})
	if err != nil || len(out.Datapoints) != 1 || *out.Datapoints[0].SampleCount != 2 || *out.Datapoints[0].Sum != 7 {
		t.Fatalf("the open minute after a graceful restart: %+v, %v", out, err)
	}
}
