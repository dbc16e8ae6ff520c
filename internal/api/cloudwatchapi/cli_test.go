package cloudwatchapi_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/alarms"
	"github.com/sluice-dev/sluice/internal/metrics"
)

// TestCLIs runs the AWS CLI v1 (on PATH; botocore, JSON 1.0) and v2 (/usr/bin/aws 2.9; query) against the handler:
// the seed's alarm from shorthand arguments, and a describe-alarms whose output the CLI prints.
func TestCLIs(t *testing.T) {
	for _, cli := range []struct {
		name, bin, version, protocol string
	}{
		{"v1", "aws", "aws-cli/1.", "awsJson1_0"},
		{"v2", "/usr/bin/aws", "aws-cli/2.", "awsQuery"},
	} {
		t.Run(cli.name, func(t *testing.T) {
			t.Parallel()
			bin, err := exec.LookPath(cli.bin)
			if err != nil {
				t.Skipf("%s: %v", cli.bin, err)
			}
			if out, err := exec.Command(bin, "--version").CombinedOutput(); err != nil || !strings.HasPrefix(string(out), cli.version) {
				t.Skipf("%s is not the AWS CLI %s: %v %s", bin, cli.name, err, out)
			}
			s := newServer(t)
			s.fake.alarms = []alarms.Alarm{ordersAlarm()}
			run := func(args ...string) string {
				t.Helper()
				cmd := exec.CommandContext(t.Context(), bin, append([]string{"--endpoint-url", s.URL, "--output", "json", "cloudwatch"}, args...)...)
				cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=secret", "AWS_DEFAULT_REGION=us-east-1",
					"AWS_REGION=us-east-1", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=")
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				out, err := cmd.Output()
				if err != nil {
					t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
				}
				return string(out)
			}
			run("put-metric-alarm", "--alarm-name", "orders-errors", "--namespace", "AWS/Lambda", "--metric-name", "Errors",
				"--dimensions", "Name=FunctionName,Value=orders", "Name=Resource,Value=orders:live", "--statistic", "Sum",
				"--period", "60", "--evaluation-periods", "1", "--threshold", "1", "--comparison-operator", "GreaterThanOrEqualToThreshold")
			want := alarms.Definition{Name: "orders-errors", ActionsEnabled: true,
				Metric:    metrics.MetricID{Namespace: "AWS/Lambda", Name: "Errors", Dimensions: ordersDims},
				Statistic: "Sum", Period: time.Minute, EvaluationPeriods: 1, Threshold: 1, ComparisonOperator: "GreaterThanOrEqualToThreshold"}
			if calls := s.fake.takeCalls(); len(calls) != 1 || !reflect.DeepEqual(calls[0].Args, want) {
				t.Errorf("backend calls:\n%s\nwant PutMetricAlarm %+v", dump(calls), want)
			}

			var out struct {
				MetricAlarms []map[string]any
			}
			if err := json.Unmarshal([]byte(run("describe-alarms", "--alarm-names", "orders-errors")), &out); err != nil || len(out.MetricAlarms) != 1 {
				t.Fatalf("describe-alarms: %v %+v", err, out)
			}
			a := out.MetricAlarms[0]
			if a["AlarmName"] != "orders-errors" || a["StateValue"] != "ALARM" || a["Threshold"] != 1.0 || a["Period"] != 60.0 ||
				len(a["Dimensions"].([]any)) != 2 {
				t.Errorf("alarm %v", a)
			}
			// v1 prints timestamps as they came on the wire (epoch seconds in JSON), v2 in ISO 8601.
			var ts time.Time
			switch v := a["StateUpdatedTimestamp"].(type) {
			case float64:
				ts = time.UnixMilli(int64(v * 1000))
			case string:
				ts, _ = time.Parse(time.RFC3339Nano, v)
			}
			if !ts.Equal(tState) {
				t.Errorf("StateUpdatedTimestamp %v, want %s", a["StateUpdatedTimestamp"], tState)
			}
			for _, p := range s.protocols() {
				if p != cli.protocol {
					t.Errorf("a request was in %s, want %s", p, cli.protocol)
				}
			}
		})
	}
}
