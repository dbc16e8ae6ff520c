package codedeployapi_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/codedeploy"
)

// botocore flavors (see testdata/botocore_calls.py): boto3 on the python3 on PATH (the botocore of AWS CLI v1
// too), and the botocore of Debian's AWS CLI v2 2.9 under /usr/bin/python3.
var botocoreFlavors = []struct{ name, python, probe string }{
	{"boto3", "python3", "import boto3"},
	{"awscli", "/usr/bin/python3", "import awscli.botocore"},
}

// pyCase is one call sent through botocore.
type pyCase struct {
	name   string
	op     string
	waiter string
	params map[string]any
	// want are the backend calls the request must cause.
	want []call
	// response is the parsed response botocore must return (without ResponseMetadata), unless err is set.
	response map[string]any
	err      *pyError
	// waited and waiterError are the outcome of a waiter.
	waited      bool
	waiterError string
}

type pyError struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	Status    int    `json:"status"`
	Exception string `json:"exception"`
}

type pyResult struct {
	Response    map[string]any `json:"response"`
	Error       *pyError       `json:"error"`
	Waited      bool           `json:"waited"`
	WaiterError string         `json:"waiter_error"`
	LastStatus  string         `json:"last_status"`
}

// pyTime is a timestamp as botocore_calls.py passes and returns it.
func pyTime(t time.Time) map[string]any {
	return map[string]any{"$time": float64(t.UnixMilli()) / 1000}
}

func pyCases() []pyCase {
	sum := sha256.Sum256([]byte(appSpecYAML))
	sha := hex.EncodeToString(sum[:])
	noRollback := false
	alarms := []any{map[string]any{"name": "orders-errors"}, map[string]any{"name": "orders-latency-p99"}}
	events := []any{"DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"}
	style := map[string]any{"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"}
	return []pyCase{
		{
			name: "CreateApplication", op: "CreateApplication",
			params:   map[string]any{"applicationName": "orders", "computePlatform": "Lambda"},
			want:     []call{{"CreateApplication", codedeploy.Application{Name: "orders", ComputePlatform: "Lambda"}}},
			response: map[string]any{"applicationId": ordersApp().ID},
		},
		{
			name: "CreateDeploymentGroup", op: "CreateDeploymentGroup",
			params: map[string]any{
				"applicationName": "orders", "deploymentGroupName": "orders-live",
				"serviceRoleArn":            "arn:aws:iam::123456789012:role/CodeDeployServiceRole",
				"deploymentConfigName":      codedeploy.LambdaCanary10Percent5Minutes,
				"alarmConfiguration":        map[string]any{"enabled": true, "alarms": alarms},
				"autoRollbackConfiguration": map[string]any{"enabled": true, "events": events},
				"deploymentStyle":           style,
			},
			want: []call{{"CreateDeploymentGroup", codedeploy.DeploymentGroup{
				ApplicationName: "orders", Name: "orders-live", ServiceRoleARN: "arn:aws:iam::123456789012:role/CodeDeployServiceRole",
				DeploymentConfigName: codedeploy.LambdaCanary10Percent5Minutes, Alarms: ordersAlarms, AutoRollback: ordersRollback, Style: lambdaStyle,
			}}},
			response: map[string]any{"deploymentGroupId": ordersGroup().ID},
		},
		{
			name: "CreateDeployment", op: "CreateDeployment",
			params: map[string]any{
				"applicationName": "orders", "deploymentGroupName": "orders-live", "description": "orders v2",
				"revision": map[string]any{"revisionType": "AppSpecContent", "appSpecContent": map[string]any{"content": appSpecYAML, "sha256": sha}},
			},
			want: []call{{"CreateDeployment", codedeploy.CreateDeploymentInput{
				ApplicationName: "orders", DeploymentGroupName: "orders-live", Description: "orders v2",
				Revision: codedeploy.Revision{RevisionType: "AppSpecContent", AppSpecContent: &codedeploy.RawString{Content: appSpecYAML, Sha256: sha}},
			}}},
			response: map[string]any{"deploymentId": idCreated},
		},
		{
			name: "GetDeployment", op: "GetDeployment", params: map[string]any{"deploymentId": idInProgress},
			want: []call{{"GetDeployment", idInProgress}},
			response: map[string]any{"deploymentInfo": map[string]any{
				"applicationName": "orders", "deploymentGroupName": "orders-live", "deploymentConfigName": codedeploy.LambdaCanary10Percent5Minutes,
				"deploymentId": idInProgress,
				"revision":     map[string]any{"revisionType": "AppSpecContent", "appSpecContent": map[string]any{"content": appSpecYAML}},
				"status":       "InProgress", "createTime": pyTime(tCreate), "startTime": pyTime(tStart),
				"deploymentOverview":            map[string]any{"Pending": 0.0, "InProgress": 1.0, "Succeeded": 0.0, "Failed": 0.0, "Skipped": 0.0, "Ready": 0.0},
				"description":                   "orders v2",
				"creator":                       "user",
				"ignoreApplicationStopFailures": false,
				"autoRollbackConfiguration":     map[string]any{"enabled": true, "events": events},
				"updateOutdatedInstancesOnly":   false,
				"deploymentStyle":               style,
				"deploymentStatusMessages":      []any{},
				"computePlatform":               "Lambda",
				"overrideAlarmConfiguration":    map[string]any{"enabled": true, "ignorePollAlarmFailure": false, "alarms": alarms},
			}},
		},
		{
			name: "StopDeployment", op: "StopDeployment", params: map[string]any{"deploymentId": idInProgress, "autoRollbackEnabled": false},
			want:     []call{{"StopDeployment", stopArgs{idInProgress, &noRollback}}},
			response: map[string]any{"status": "Pending", "statusMessage": "The deployment is being stopped."},
		},
		{
			name: "PutLifecycleEventHookExecutionStatus", op: "PutLifecycleEventHookExecutionStatus",
			params:   map[string]any{"deploymentId": idHook, "lifecycleEventHookExecutionId": hookExecution, "status": "Failed"},
			want:     []call{{"PutLifecycleEventHookExecutionStatus", hookArgs{idHook, hookExecution, "Failed"}}},
			response: map[string]any{"lifecycleEventHookExecutionId": hookExecution},
		},
		{
			name: "GetDeploymentTarget", op: "GetDeploymentTarget", params: map[string]any{"deploymentId": idInProgress, "targetId": "orders:live"},
			want: []call{{"GetDeployment", idInProgress}},
			response: map[string]any{"deploymentTarget": map[string]any{"deploymentTargetType": "LambdaTarget", "lambdaTarget": map[string]any{
				"deploymentId": idInProgress, "targetId": "orders:live", "targetArn": "arn:aws:lambda:us-east-1:123456789012:function:orders:live",
				"status": "InProgress", "lastUpdatedAt": pyTime(tShift),
				"lifecycleEvents": []any{
					map[string]any{"lifecycleEventName": "Start", "status": "Succeeded", "startTime": pyTime(tStart), "endTime": pyTime(tStart)},
					map[string]any{"lifecycleEventName": "BeforeAllowTraffic", "status": "Succeeded", "startTime": pyTime(tStart), "endTime": pyTime(tShift)},
					map[string]any{"lifecycleEventName": "AllowTraffic", "status": "InProgress", "startTime": pyTime(tShift)},
					map[string]any{"lifecycleEventName": "AfterAllowTraffic", "status": "Pending"},
					map[string]any{"lifecycleEventName": "End", "status": "Pending"},
				},
				"lambdaFunctionInfo": map[string]any{"functionName": "orders", "functionAlias": "live", "currentVersion": "1", "targetVersion": "2", "targetVersionWeight": 0.1},
			}}},
		},
		{
			name: "ListDeployments", op: "ListDeployments",
			params: map[string]any{"applicationName": "orders", "deploymentGroupName": "orders-live", "includeOnlyStatuses": []any{"Succeeded"},
				"createTimeRange": map[string]any{"start": pyTime(tCreate.Truncate(time.Second)), "end": pyTime(tEnd.Truncate(time.Second))}},
			want: []call{{"ListDeployments", codedeploy.ListDeploymentsFilter{ApplicationName: "orders", DeploymentGroupName: "orders-live",
				Statuses: []codedeploy.Status{codedeploy.StatusSucceeded}, CreatedAfter: tCreate.Truncate(time.Second), CreatedBefore: tEnd.Truncate(time.Second)}}},
			response: map[string]any{"deployments": []any{}},
		},
		{
			name: "deployment_successful waiter", waiter: "deployment_successful", params: map[string]any{"deploymentId": idSucceeded},
			want: []call{{"GetDeployment", idSucceeded}}, waited: true,
		},
		{
			name: "deployment_successful waiter on a failed deployment", waiter: "deployment_successful", params: map[string]any{"deploymentId": idFailed},
			want:        []call{{"GetDeployment", idFailed}},
			waiterError: `Waiter encountered a terminal failure state: For expression "deploymentInfo.status" we matched expected path: "Failed"`,
		},
		// Errors.
		{
			name: "DeploymentDoesNotExist", op: "GetDeployment", params: map[string]any{"deploymentId": idMissing},
			want: []call{{"GetDeployment", idMissing}},
			err:  &pyError{Code: "DeploymentDoesNotExistException", Message: "The deployment d-MISSING01 could not be found.", Status: 400, Exception: "DeploymentDoesNotExistException"},
		},
		{
			name: "InvalidLifecycleEventHookExecutionStatus", op: "PutLifecycleEventHookExecutionStatus",
			params: map[string]any{"deploymentId": idHook, "lifecycleEventHookExecutionId": hookExecution, "status": "Unknown"},
			want:   []call{{"PutLifecycleEventHookExecutionStatus", hookArgs{idHook, hookExecution, "Unknown"}}},
			err: &pyError{Code: "InvalidLifecycleEventHookExecutionStatusException", Status: 400, Exception: "InvalidLifecycleEventHookExecutionStatusException",
				Message: "The status Unknown is not valid for a lifecycle event hook execution; it must be Succeeded or Failed."},
		},
		{
			name: "InternalFailure", op: "ListApplications", params: map[string]any{},
			want: []call{{"ListApplications", ""}},
			err:  &pyError{Code: "InternalFailure", Message: "An internal error occurred. Request ID: ", Status: 500, Exception: "ClientError"},
		},
	}
}

// TestBotocore replays the cases through boto3 and through the botocore of AWS CLI v2: what the backend receives,
// what botocore parses (the Sluice extension members are not in its model and disappear), the errors and the
// DeploymentSuccessful waiter.
func TestBotocore(t *testing.T) {
	script, err := filepath.Abs(filepath.Join("testdata", "botocore_calls.py"))
	if err != nil {
		t.Fatal(err)
	}
	for _, fl := range botocoreFlavors {
		t.Run(fl.name, func(t *testing.T) {
			t.Parallel()
			if out, err := exec.Command(fl.python, "-c", fl.probe).CombinedOutput(); err != nil {
				t.Skipf("%s has no %s: %v %s", fl.python, fl.name, err, out)
			}
			s := newServer(t)
			s.fake.fail = func(op string, _ any) error {
				if op == "ListApplications" {
					return errInternal
				}
				return nil
			}
			cases := pyCases()
			var calls []map[string]any
			for _, c := range cases {
				if c.waiter != "" {
					calls = append(calls, map[string]any{"waiter": c.waiter, "params": c.params})
				} else {
					calls = append(calls, map[string]any{"op": c.op, "params": c.params})
				}
			}
			in, _ := json.Marshal(calls)
			cmd := exec.CommandContext(t.Context(), fl.python, script, fl.name, s.URL)
			cmd.Stdin = bytes.NewReader(in)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("%s: %v\n%s", script, err, stderr.String())
			}
			var res []pyResult
			if err := json.Unmarshal(out, &res); err != nil {
				t.Fatalf("output %s: %v", out, err)
			}
			byRequest := s.fake.callsByRequest()
			if len(res) != len(cases) || len(byRequest) != len(cases) {
				t.Fatalf("%d results and %d requests for %d calls:\n%s", len(res), len(byRequest), len(cases), out)
			}
			for i, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					got := byRequest[i]
					if len(got) == 0 {
						got = nil
					}
					if !reflect.DeepEqual(got, c.want) {
						t.Errorf("backend calls:\n%s\nwant:\n%s", dump(got), dump(c.want))
					}
					r := res[i]
					switch {
					case c.waiter != "":
						if r.Waited != c.waited || r.WaiterError != c.waiterError {
							t.Errorf("waiter: waited %v error %q (last status %s), want %v %q", r.Waited, r.WaiterError, r.LastStatus, c.waited, c.waiterError)
						}
					case c.err != nil:
						checkPyError(t, r, *c.err)
					case r.Error != nil:
						t.Fatalf("error %+v", *r.Error)
					case !pyEqual(r.Response, c.response):
						gotJSON, _ := json.MarshalIndent(r.Response, "", " ")
						wantJSON, _ := json.MarshalIndent(c.response, "", " ")
						t.Errorf("response:\n%s\nwant:\n%s", gotJSON, wantJSON)
					}
				})
			}
		})
	}
}

type internalError struct{}

func (internalError) Error() string { return "disk on fire" }

var errInternal error = internalError{}

func checkPyError(t *testing.T, r pyResult, want pyError) {
	t.Helper()
	if r.Error == nil {
		t.Fatalf("succeeded with %v, want %+v", r.Response, want)
	}
	got := *r.Error
	if want.Code == "InternalFailure" && strings.HasPrefix(got.Message, want.Message) && len(got.Message) > len(want.Message) {
		got.Message = want.Message
	}
	if got != want {
		t.Errorf("error %+v, want %+v", got, want)
	}
}

// pyEqual compares parsed responses, timestamps to the microsecond (botocore's datetime resolution).
func pyEqual(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		if tx, ok := x["$time"].(float64); ok {
			ty, ok := y["$time"].(float64)
			return ok && math.Abs(tx-ty) < 1e-6
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !pyEqual(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !pyEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}
