package e2e

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// TestFailingCanaryDrivesAlarm: a version that starts failing behind an alias drives an Errors alarm on
// {FunctionName, Resource=fn:live} to ALARM within one period, and the invocation metrics count exactly.
func TestFailingCanaryDrivesAlarm(t *testing.T) {
	parallel(t)
	s := startServer(t)
	c := s.Lambda()
	cw := s.CloudWatch()
	createEcho(t, c, "orders")
	v1 := publishNew(t, c, "orders", "one")
	if _, err := c.CreateAlias(t.Context(), &lambda.CreateAliasInput{FunctionName: aws.String("orders"), Name: aws.String("live"), FunctionVersion: aws.String(v1)}); err != nil {
		t.Fatal(err)
	}
	dims := []cwtypes.Dimension{{Name: aws.String("FunctionName"), Value: aws.String("orders")}, {Name: aws.String("Resource"), Value: aws.String("orders:live")}}
	if _, err := cw.PutMetricAlarm(t.Context(), &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String("orders-errors"), Namespace: aws.String("AWS/Lambda"), MetricName: aws.String("Errors"),
		Dimensions: dims, Statistic: cwtypes.StatisticSum, Period: aws.Int32(5), EvaluationPeriods: aws.Int32(1),
		Threshold: aws.Float64(1), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold,
		TreatMissingData: aws.String("notBreaching"),
	}); err != nil {
		t.Fatal(err)
	}
	for range 7 {
		invokeJSON(t, c, "orders", "live", `{"message":"fine"}`)
	}
	state := func() cwtypes.StateValue {
		out, err := cw.DescribeAlarms(t.Context(), &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"orders-errors"}})
		if err != nil || len(out.MetricAlarms) != 1 {
			t.Fatalf("describe: %v %v", out, err)
		}
		return out.MetricAlarms[0].StateValue
	}
	waitState := func(want cwtypes.StateValue, within time.Duration) {
		t.Helper()
		deadline := time.Now().Add(within)
		for state() != want {
			if time.Now().After(deadline) {
				t.Fatalf("alarm is %s, want %s within %v", state(), want, within)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	waitState(cwtypes.StateValueOk, 20*time.Second)

	failedAt := time.Now()
	invokeJSON(t, c, "orders", "live", `{"fail":"defect"}`)
	// One 5 s period must complete, then the evaluator runs within a second; allow for a loaded machine.
	waitState(cwtypes.StateValueAlarm, 30*time.Second)
	t.Logf("alarm after %v", time.Since(failedAt).Round(time.Millisecond))

	// Invocations counted exactly, on the alias and split by executed version.
	stats, err := cw.GetMetricStatistics(t.Context(), &cloudwatch.GetMetricStatisticsInput{
		Namespace: aws.String("AWS/Lambda"), MetricName: aws.String("Invocations"),
		Dimensions: append(dims, cwtypes.Dimension{Name: aws.String("ExecutedVersion"), Value: aws.String(v1)}),
		StartTime:  aws.Time(failedAt.Add(-10 * time.Minute)), EndTime: aws.Time(time.Now().Add(time.Minute)),
		Period: aws.Int32(3600), Statistics: []cwtypes.Statistic{cwtypes.StatisticSum, cwtypes.StatisticSampleCount},
	})
	if err != nil {
		t.Fatal(err)
	}
	total := 0.0
	for _, d := range stats.Datapoints {
		total += aws.ToFloat64(d.Sum)
	}
	if total != 8 {
		t.Fatalf("Invocations on orders:live ExecutedVersion=%s sums to %v, want 8 (%+v)", v1, total, stats.Datapoints)
	}

	// The same figures in the terminal.
	stdout, stderr, code := sluice(t, s.Env(), "metrics", "orders", "--qualifier", "live")
	if code != 0 || !strings.Contains(stdout, "By executed version:") || !regexp.MustCompile(`(?m)^\s+`+v1+`\s+8\s+1\s+12\.5%`).MatchString(stdout) {
		t.Fatalf("sluice metrics: %d\n%s\n%s", code, stdout, stderr)
	}
}
