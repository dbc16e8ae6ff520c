package e2e

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

func TestPrometheusMetrics(t *testing.T) {
	parallel(t)
	s := startServer(t)
	c := s.Lambda()
	createEcho(t, c, "echo")
	invokeJSON(t, c, "echo", "", `{}`)
	invokeJSON(t, c, "echo", "", `{"fail":"x"}`)
	if _, err := s.CloudWatch().PutMetricAlarm(t.Context(), &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("a1"),
		Namespace: aws.String("AWS/Lambda"), MetricName: aws.String("Errors"), Statistic: cwtypes.StatisticSum, Period: aws.Int32(60),
		EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(1), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold}); err != nil {
		t.Fatal(err)
	}

	resp, err := http.Get(s.URL + "/metrics") // unsigned, as scrapers do
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /metrics = %d %s", resp.StatusCode, body)
	}
	for _, want := range []string{
		`sluice_lambda_invocations_total{executed_version="",function="echo",resource=""} 2`,
		`sluice_lambda_errors_total{executed_version="",function="echo",resource=""} 1`,
		`sluice_lambda_duration_seconds_count{executed_version="",function="echo",resource=""} 2`,
		`sluice_cold_starts_total{function="echo",version="$LATEST"} 1`,
		`sluice_environments{function="echo",state="idle",version="$LATEST"} 1`,
		`sluice_async_queue_depth 0`,
		`sluice_alarm_state{alarm="a1",state="INSUFFICIENT_DATA"} 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
