package codedeploy

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/fault"
)

func TestCheckTriggers(t *testing.T) {
	topic := "arn:aws:sns:us-east-1:000000000000:deploys"
	many := make([]TriggerConfig, MaxTriggers+1)
	for i := range many {
		many[i] = TriggerConfig{Name: string(rune('a' + i)), TargetARN: topic}
	}
	for _, tc := range []struct {
		name     string
		triggers []TriggerConfig
		wantCode string
	}{
		{"ok", []TriggerConfig{{Name: "t", TargetARN: topic, Events: []string{"DeploymentFailure", "InstanceReady"}}}, ""},
		{"none", nil, ""},
		{"too many", many, ErrTriggerTargetLimitExceeded},
		{"no name", []TriggerConfig{{TargetARN: topic}}, ErrInvalidTriggerConfig},
		{"a name twice", []TriggerConfig{{Name: "t", TargetARN: topic}, {Name: "t", TargetARN: topic}}, ErrInvalidTriggerConfig},
		{"a queue", []TriggerConfig{{Name: "t", TargetARN: "arn:aws:sqs:us-east-1:000000000000:q"}}, ErrInvalidTriggerConfig},
		{"another account's topic", []TriggerConfig{{Name: "t", TargetARN: "arn:aws:sns:us-east-1:111111111111:deploys"}}, ErrInvalidTriggerConfig},
		{"an unknown event", []TriggerConfig{{Name: "t", TargetARN: topic, Events: []string{"DeploymentExploded"}}}, ErrInvalidTriggerConfig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckTriggers(tc.triggers, "us-east-1", "000000000000")
			if got := ""; err != nil {
				f, _ := fault.As(err)
				got = f.Code
				if got != tc.wantCode {
					t.Fatalf("CheckTriggers: %v, want %s", err, tc.wantCode)
				}
			} else if tc.wantCode != "" {
				t.Fatalf("CheckTriggers accepted it, want %s", tc.wantCode)
			}
		})
	}
}

func TestTriggeredEvents(t *testing.T) {
	started := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		d    Deployment
		want []string
	}{
		{"created", Deployment{Status: StatusCreated}, nil},
		{"queued", Deployment{Status: StatusQueued}, nil},
		{"in progress", Deployment{Status: StatusInProgress, StartTime: started}, []string{TriggerDeploymentStart}},
		{"succeeded", Deployment{Status: StatusSucceeded, StartTime: started}, []string{TriggerDeploymentStart, TriggerDeploymentSuccess}},
		{"failed and rolled back", Deployment{Status: StatusFailed, StartTime: started, RollbackInfo: &RollbackInfo{RollbackDeploymentID: "d-2"}},
			[]string{TriggerDeploymentStart, TriggerDeploymentRollback, TriggerDeploymentFailure}},
		{"stopped before it started", Deployment{Status: StatusStopped}, []string{TriggerDeploymentStop}},
	} {
		if got := TriggeredEvents(tc.d); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestTriggerNotification(t *testing.T) {
	d := Deployment{ID: "d-ABC", ApplicationName: "app", DeploymentGroupName: "dg", Status: StatusFailed,
		CreateTime: time.Unix(1446744188, 595e6), CompleteTime: time.Unix(1446744190, 402e6),
		ErrorInformation: &ErrorInformation{Code: CodeHookExecutionFailure, Message: "hook failed"},
		Events:           []LifecycleEvent{{Name: EventBeforeAllowTraffic, Status: EventFailed}}}
	subject, body := TriggerNotification(TriggerConfig{Name: "to-chat"}, TriggerDeploymentFailure, d, "us-east-1", "000000000000")
	if subject != "FAILED: AWS CodeDeploy d-ABC in us-east-1 to app" {
		t.Errorf("Subject %q", subject)
	}
	var got map[string]any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	overview, _ := got["deploymentOverview"].(map[string]any)
	errInfo, _ := got["errorInformation"].(map[string]any)
	if got["createTime"] != "1446744188.595" || got["completeTime"] != "1446744190.402" || got["status"] != "Failed" ||
		got["eventTriggerName"] != "to-chat" || overview["Failed"] != "1" || overview["Succeeded"] != "0" || errInfo["ErrorCode"] != "HOOK_EXECUTION_FAILURE" ||
		!strings.Contains(string(body), `"accountId":"000000000000"`) {
		t.Errorf("notification: %s", body)
	}
}
