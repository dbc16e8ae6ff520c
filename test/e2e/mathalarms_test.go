package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// errorRateMetrics is the seed's alarm as an error rate of fn:live — errors above 1% of invocations — as the AWS
// CLI's --metrics takes it, with periods of period seconds.
func errorRateMetrics(fn string, period int) string {
	stat := func(id, name string) map[string]any {
		return map[string]any{"Id": id, "ReturnData": false, "MetricStat": map[string]any{
			"Metric": map[string]any{"Namespace": "AWS/Lambda", "MetricName": name, "Dimensions": []map[string]string{
				{"Name": "FunctionName", "Value": fn}, {"Name": "Resource", "Value": fn + ":live"}}},
			"Period": period, "Stat": "Sum"}}
	}
	b, _ := json.Marshal([]any{stat("errors", "Errors"), stat("invocations", "Invocations"),
		map[string]any{"Id": "rate", "Expression": "100*errors/invocations", "Label": "Error rate (%)", "ReturnData": true}})
	return string(b)
}

// putErrorRateAlarm creates the error-rate alarm on fn:live with the AWS CLI v1 (JSON 1.0 through botocore).
func putErrorRateAlarm(t *testing.T, s *server, name, fn string, period int) {
	t.Helper()
	if _, stderr, code := awsCLI(t, s, false, "cloudwatch", "put-metric-alarm", "--alarm-name", name,
		"--evaluation-periods", "1", "--threshold", "1", "--comparison-operator", "GreaterThanThreshold",
		"--treat-missing-data", "notBreaching", "--metrics", errorRateMetrics(fn, period)); code != 0 {
		t.Fatalf("put-metric-alarm --metrics: exit %d\n%s", code, stderr)
	}
}

// everInAlarm reports whether an alarm's history holds a transition to ALARM.
func everInAlarm(t *testing.T, cw *cloudwatch.Client, name string) bool {
	t.Helper()
	out, err := cw.DescribeAlarmHistory(t.Context(), &cloudwatch.DescribeAlarmHistoryInput{AlarmName: aws.String(name),
		HistoryItemType: cwtypes.HistoryItemTypeStateUpdate, MaxRecords: aws.Int32(100)})
	if err != nil {
		t.Fatal(err)
	}
	return slices.ContainsFunc(out.AlarmHistoryItems, func(i cwtypes.AlarmHistoryItem) bool {
		return strings.HasSuffix(aws.ToString(i.HistorySummary), " to ALARM")
	})
}

// traffic invokes fn:live from workers goroutines until stopped, each pausing pause between invocations and sending
// a payload the echo function fails every failEvery-th time (0: never; the workers' failures are staggered, so
// that they do not bunch up in one period); it counts what each version served.
type traffic struct {
	stop   atomic.Bool
	wg     sync.WaitGroup
	mu     sync.Mutex
	served map[string]int
	failed map[string]int
}

func startTraffic(t *testing.T, c *lambda.Client, fn string, workers int, pause time.Duration, failEvery int) *traffic {
	tr := &traffic{served: map[string]int{}, failed: map[string]int{}}
	for w := range workers {
		tr.wg.Go(func() {
			for i := 1 + failEvery*(workers+w)/(2*workers); !tr.stop.Load(); i++ {
				payload := `{}`
				if failEvery > 0 && i%failEvery == 0 {
					payload = `{"fail":"an occasional error of a healthy version"}`
				}
				out, err := c.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String(fn), Qualifier: aws.String("live"), Payload: []byte(payload)})
				if err == nil {
					tr.mu.Lock()
					tr.served[aws.ToString(out.ExecutedVersion)]++
					if out.FunctionError != nil {
						tr.failed[aws.ToString(out.ExecutedVersion)]++
					}
					tr.mu.Unlock()
				}
				time.Sleep(pause)
			}
		})
	}
	return tr
}

func (tr *traffic) Stop() (served, failed map[string]int) {
	tr.stop.Store(true)
	tr.wg.Wait()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.served, tr.failed
}

// setUpCanaryFunction creates fn with a healthy version 1 and 2 and a defective 3 (every invocation fails), and its
// alias live on 1.
func setUpCanaryFunction(t *testing.T, c *lambda.Client, fn string) (v1, v2, v3 string) {
	t.Helper()
	createEcho(t, c, fn)
	v1 = publishNew(t, c, fn, "one")
	v2 = publishNew(t, c, fn, "two")
	updateConfig(t, c, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String(fn),
		Environment: &types.Environment{Variables: map[string]string{"FAIL_ALL": "defect in v3"}}})
	waitUpdated(t, c, fn)
	v3 = publishNew(t, c, fn, "three (defective)")
	if _, err := c.CreateAlias(t.Context(), &lambda.CreateAliasInput{FunctionName: aws.String(fn), Name: aws.String("live"), FunctionVersion: aws.String(v1)}); err != nil {
		t.Fatal(err)
	}
	return v1, v2, v3
}

func checkRolledBack(t *testing.T, c *lambda.Client, cd *codedeploy.Client, id, fn, version string) {
	t.Helper()
	info := waitDeployment(t, cd, id, cdtypes.DeploymentStatusStopped)
	if info.ErrorInformation == nil || info.ErrorInformation.Code != cdtypes.ErrorCodeAlarmActive || info.RollbackInfo == nil {
		t.Fatalf("stopped deployment: %+v %+v", info.ErrorInformation, info.RollbackInfo)
	}
	waitDeployment(t, cd, aws.ToString(info.RollbackInfo.RollbackDeploymentId), cdtypes.DeploymentStatusSucceeded)
	alias, err := c.GetAlias(t.Context(), &lambda.GetAliasInput{FunctionName: aws.String(fn), Name: aws.String("live")})
	if err != nil || aws.ToString(alias.FunctionVersion) != version || alias.RoutingConfig != nil && len(alias.RoutingConfig.AdditionalVersionWeights) != 0 {
		t.Fatalf("alias after the rollback: %+v %v (must be back on %s, unsplit)", alias, err, version)
	}
}

// TestErrorRateAlarmRollsBackACanary: under heavy traffic the healthy versions fail now and then — a few errors a
// period, well within 1% — and a deployment succeeds; under light traffic a defective canary fails 10% of the
// alias's invocations but only a handful a period, which a count alarm tolerating the healthy noise does not see:
// the error-rate alarm (100*errors/invocations > 1, created with the AWS CLI v1) stops the deployment and rolls
// it back. The AWS CLI v2 describes the metric-math alarm, aws-sdk-go-v2 reads the rate through GetMetricData.
func TestErrorRateAlarmRollsBackACanary(t *testing.T) {
	parallel(t)
	cliV1(t)
	requireCLIv2(t)
	s := startServer(t, "--deploy-time-scale", "20") // the canary's five configured minutes last 15 s
	c, cw, cd := s.Lambda(), s.CloudWatch(), s.CodeDeploy()
	v1, v2, v3 := setUpCanaryFunction(t, c, "orders")
	putErrorRateAlarm(t, s, "orders-error-rate", "orders", 5)
	// The count alarm a rate replaces: 10 errors in 5 s, set above the healthy noise of heavy traffic.
	if _, err := cw.PutMetricAlarm(t.Context(), &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("orders-errors"),
		Namespace: aws.String("AWS/Lambda"), MetricName: aws.String("Errors"), Statistic: cwtypes.StatisticSum,
		Dimensions: []cwtypes.Dimension{{Name: aws.String("FunctionName"), Value: aws.String("orders")}, {Name: aws.String("Resource"), Value: aws.String("orders:live")}},
		Period:     aws.Int32(5), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(10), TreatMissingData: aws.String("notBreaching"),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold}); err != nil {
		t.Fatal(err)
	}
	createCanaryGroupWithRollback(t, cd, "orders-error-rate")

	// The AWS CLI v2 (query protocol) describes the metric-math alarm with its Metrics and no metric of its own.
	stdout, stderr, code := awsCLI(t, s, true, "cloudwatch", "describe-alarms", "--alarm-names", "orders-error-rate")
	var described struct{ MetricAlarms []map[string]any }
	if code != 0 {
		t.Fatalf("describe-alarms: exit %d\n%s", code, stderr)
	}
	mustJSON(t, "describe-alarms", stdout, &described)
	if len(described.MetricAlarms) != 1 || described.MetricAlarms[0]["MetricName"] != nil || len(described.MetricAlarms[0]["Metrics"].([]any)) != 3 {
		t.Fatalf("describe-alarms: %s", stdout)
	}

	// 1. Heavy traffic, one invocation in 500 failing on the healthy versions: a healthy canary succeeds.
	heavy := startTraffic(t, c, "orders", 4, 0, 500)
	id := createDeployment(t, cd, appSpecFor("orders", "live", v1, v2))
	waitDeployment(t, cd, id, cdtypes.DeploymentStatusSucceeded)
	served, failed := heavy.Stop()
	t.Logf("heavy traffic: served %v, failed %v", served, failed)
	if failed[v1]+failed[v2] == 0 {
		t.Fatalf("heavy traffic served %v and failed %v: the test needs occasional errors under load", served, failed)
	}
	if everInAlarm(t, cw, "orders-error-rate") {
		t.Fatal("the error-rate alarm fired on the healthy versions' occasional errors")
	}

	// 2. Light traffic; a defective canary fails 10% of the alias's invocations, a few errors a period.
	light := startTraffic(t, c, "orders", 1, 100*time.Millisecond, 0)
	time.Sleep(2 * time.Second)
	id = createDeployment(t, cd, appSpecFor("orders", "live", v2, v3))
	checkRolledBack(t, c, cd, id, "orders", v2)
	served, failed = light.Stop()
	t.Logf("light traffic: served %v, failed %v", served, failed)
	if served[v3] == 0 || failed[v3] != served[v3] || failed[v2] != 0 {
		t.Fatalf("light traffic served %v and failed %v", served, failed)
	}
	if everInAlarm(t, cw, "orders-errors") {
		t.Fatal("the count alarm fired too: the canary's errors should have been too few for it")
	}
	hist, err := cw.DescribeAlarmHistory(t.Context(), &cloudwatch.DescribeAlarmHistoryInput{AlarmName: aws.String("orders-error-rate"),
		HistoryItemType: cwtypes.HistoryItemTypeStateUpdate})
	if err != nil || len(hist.AlarmHistoryItems) == 0 || !strings.Contains(aws.ToString(hist.AlarmHistoryItems[0].HistoryData), `"newState":{"stateValue":"ALARM","stateReason":"Threshold Crossed: 1 datapoint [`) {
		t.Fatalf("the rate alarm's history: %+v %v", hist, err)
	}

	// 3. GetMetricData (CBOR) computes the same rate: the canary's periods are above 1%.
	now := time.Now()
	out, err := cw.GetMetricData(t.Context(), &cloudwatch.GetMetricDataInput{StartTime: aws.Time(now.Add(-5 * time.Minute)), EndTime: aws.Time(now),
		ScanBy: cwtypes.ScanByTimestampAscending, MetricDataQueries: func() []cwtypes.MetricDataQuery {
			var qs []cwtypes.MetricDataQuery
			if err := json.Unmarshal([]byte(errorRateMetrics("orders", 5)), &qs); err != nil {
				t.Fatal(err)
			}
			return qs
		}()})
	if err != nil || len(out.MetricDataResults) != 1 {
		t.Fatalf("GetMetricData: %+v %v", out, err)
	}
	r := out.MetricDataResults[0]
	if aws.ToString(r.Label) != "Error rate (%)" || r.StatusCode != cwtypes.StatusCodeComplete || len(r.Values) == 0 || slices.Max(r.Values) <= 1 {
		t.Fatalf("the error rate: %s %v %v", aws.ToString(r.Label), r.StatusCode, r.Values)
	}
}

// compositeScript creates the composite alarm with boto3 (JSON 1.0) and checks DescribeAlarms' composite shape.
const compositeScript = `import boto3
cw = boto3.client("cloudwatch")
cw.put_composite_alarm(AlarmName="orders-unhealthy", AlarmDescription="errors or latency on orders:live",
    AlarmRule='ALARM("orders-error-rate") OR ALARM(orders-latency)')
out = cw.describe_alarms(AlarmNames=["orders-unhealthy"], AlarmTypes=["CompositeAlarm"])
assert out["MetricAlarms"] == [], out
c = out["CompositeAlarms"][0]
assert c["AlarmRule"] == 'ALARM("orders-error-rate") OR ALARM(orders-latency)', c
assert c["StateValue"] == "OK" and c["StateReason"].endswith(":alarm:orders-unhealthy was created and its alarm rule evaluates to OK"), c
kids = cw.describe_alarms(ChildrenOfAlarmName="orders-unhealthy")
assert sorted(a["AlarmName"] for a in kids["MetricAlarms"]) == ["orders-error-rate", "orders-latency"], kids
try:
    cw.delete_alarms(AlarmNames=["orders-latency"])
    raise SystemExit("deleting a child of a composite alarm succeeded")
except cw.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "ValidationError", e.response
    assert e.response["Error"]["Message"] == "Cannot delete orders-latency as there are composite alarm(s) depending on it.", e.response
print("composite alarm created:", c["StateReason"])
`

// TestCompositeAlarmRollsBackACanary: a deployment group watches one composite alarm (created with boto3) over an
// error-rate alarm (aws-sdk-go-v2, CBOR) and a latency alarm; the defective canary trips the rate, the composite
// follows and the deployment rolls back. Both AWS CLIs describe the composite alarm and its history.
func TestCompositeAlarmRollsBackACanary(t *testing.T) {
	parallel(t)
	requireBoto3(t)
	cliV1(t)
	requireCLIv2(t)
	s := startServer(t, "--deploy-time-scale", "20")
	c, cw, cd := s.Lambda(), s.CloudWatch(), s.CodeDeploy()
	v1, _, v3 := setUpCanaryFunction(t, c, "orders")
	dims := []cwtypes.Dimension{{Name: aws.String("FunctionName"), Value: aws.String("orders")}, {Name: aws.String("Resource"), Value: aws.String("orders:live")}}
	stat := func(id, name string) cwtypes.MetricDataQuery {
		return cwtypes.MetricDataQuery{Id: aws.String(id), ReturnData: aws.Bool(false), MetricStat: &cwtypes.MetricStat{
			Metric: &cwtypes.Metric{Namespace: aws.String("AWS/Lambda"), MetricName: aws.String(name), Dimensions: dims}, Period: aws.Int32(5), Stat: aws.String("Sum")}}
	}
	if _, err := cw.PutMetricAlarm(t.Context(), &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("orders-error-rate"),
		EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(1), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold,
		TreatMissingData: aws.String("notBreaching"), Metrics: []cwtypes.MetricDataQuery{stat("errors", "Errors"), stat("invocations", "Invocations"),
			{Id: aws.String("rate"), Expression: aws.String("100*errors/invocations"), ReturnData: aws.Bool(true)}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := cw.PutMetricAlarm(t.Context(), &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("orders-latency"),
		Namespace: aws.String("AWS/Lambda"), MetricName: aws.String("Duration"), ExtendedStatistic: aws.String("p99"), Dimensions: dims,
		Period: aws.Int32(5), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(5000), TreatMissingData: aws.String("notBreaching"),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	script := filepath.Join(dir, "composite.py")
	if err := os.WriteFile(script, []byte(compositeScript), 0o644); err != nil {
		t.Fatal(err)
	}
	if stdout, stderr, code := run(t, s.Env(), dir, "python3", script); code != 0 {
		t.Fatalf("python3 composite.py: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	createCanaryGroupWithRollback(t, cd, "orders-unhealthy")

	tr := startTraffic(t, c, "orders", 2, 20*time.Millisecond, 0)
	id := createDeployment(t, cd, appSpecFor("orders", "live", v1, v3))
	checkRolledBack(t, c, cd, id, "orders", v1)
	served, failed := tr.Stop()
	t.Logf("served %v, failed %v", served, failed)
	if failed[v1] != 0 || served[v3] == 0 {
		t.Fatalf("served %v, failed %v", served, failed)
	}

	for _, v2 := range []bool{false, true} {
		stdout, stderr, code := awsCLI(t, s, v2, "cloudwatch", "describe-alarms", "--alarm-names", "orders-unhealthy", "--alarm-types", "CompositeAlarm")
		var out struct {
			CompositeAlarms []map[string]any
			MetricAlarms    []map[string]any
		}
		if code != 0 {
			t.Fatalf("describe-alarms (CLI %s): exit %d\n%s", cliName(v2), code, stderr)
		}
		mustJSON(t, "describe-alarms", stdout, &out)
		if len(out.CompositeAlarms) != 1 || len(out.MetricAlarms) != 0 {
			t.Fatalf("describe-alarms (CLI %s): %s", cliName(v2), stdout)
		}
		a := out.CompositeAlarms[0]
		reason, _ := a["StateReason"].(string)
		if a["AlarmRule"] != `ALARM("orders-error-rate") OR ALARM(orders-latency)` ||
			!strings.HasPrefix(reason, "arn:aws:cloudwatch:us-east-1:000000000000:alarm:orders-error-rate transitioned to ") {
			t.Errorf("composite alarm (CLI %s): %v", cliName(v2), a)
		}
		stdout, _, code = awsCLI(t, s, v2, "cloudwatch", "describe-alarm-history", "--alarm-name", "orders-unhealthy",
			"--history-item-type", "StateUpdate")
		var hist struct{ AlarmHistoryItems []map[string]any }
		mustJSON(t, "describe-alarm-history", stdout, &hist)
		if code != 0 || !slices.ContainsFunc(hist.AlarmHistoryItems, func(i map[string]any) bool {
			return i["AlarmType"] == "CompositeAlarm" && i["HistorySummary"] == "Alarm updated from OK to ALARM"
		}) {
			t.Errorf("composite history (CLI %s): %s", cliName(v2), stdout)
		}
	}
}
