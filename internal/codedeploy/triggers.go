package codedeploy

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/internal/fault"
)

// TriggerConfig is one of a deployment group's triggerConfigurations: the SNS topic told of the events named.
type TriggerConfig struct {
	Name      string   `json:"triggerName"`
	TargetARN string   `json:"triggerTargetArn"`
	Events    []string `json:"triggerEvents,omitempty"`
}

// Trigger events (the model's TriggerEventType). A Lambda deployment has no instances and is never Ready (a phase
// of EC2/ECS blue/green deployments): those events are accepted, as CodeDeploy accepts them, and never sent.
const (
	TriggerDeploymentStart    = "DeploymentStart"
	TriggerDeploymentSuccess  = "DeploymentSuccess"
	TriggerDeploymentFailure  = "DeploymentFailure"
	TriggerDeploymentStop     = "DeploymentStop"
	TriggerDeploymentRollback = "DeploymentRollback"
	TriggerDeploymentReady    = "DeploymentReady"
)

var triggerEvents = []string{TriggerDeploymentStart, TriggerDeploymentSuccess, TriggerDeploymentFailure, TriggerDeploymentStop,
	TriggerDeploymentRollback, TriggerDeploymentReady, "InstanceStart", "InstanceSuccess", "InstanceFailure", "InstanceReady"}

// MaxTriggers is how many triggers a deployment group may have.
const MaxTriggers = 10

// Trigger errors (the model's exceptions).
const (
	ErrInvalidTriggerConfig       = "InvalidTriggerConfigException"
	ErrTriggerTargetLimitExceeded = "TriggerTargetsLimitExceededException"
)

// CheckTriggers validates a group's triggerConfigurations: at most ten, each named once, each an SNS topic ARN
// of account in region, each event one of CodeDeploy's.
func CheckTriggers(ts []TriggerConfig, region, account string) error {
	if len(ts) > MaxTriggers {
		return fault.New(ErrTriggerTargetLimitExceeded, "The limit of %d triggers for a deployment group has been exceeded.", MaxTriggers)
	}
	seen := map[string]bool{}
	for _, t := range ts {
		if t.Name == "" || len(t.Name) > 256 {
			return fault.New(ErrInvalidTriggerConfig, "The trigger name must be 1 to 256 characters long.")
		}
		if seen[t.Name] {
			return fault.New(ErrInvalidTriggerConfig, "The trigger name %s is used more than once.", t.Name)
		}
		seen[t.Name] = true
		prefix := "arn:aws:sns:" + region + ":" + account + ":"
		if topic, ok := strings.CutPrefix(t.TargetARN, prefix); !ok || topic == "" || strings.Contains(topic, ":") {
			return fault.New(ErrInvalidTriggerConfig, "The trigger target %q of trigger %s is not an SNS topic ARN of account %s in %s.", t.TargetARN, t.Name, account, region)
		}
		for _, e := range t.Events {
			if !slices.Contains(triggerEvents, e) {
				return fault.New(ErrInvalidTriggerConfig, "The trigger event %s of trigger %s is invalid.", e, t.Name)
			}
		}
	}
	return nil
}

// TriggeredEvents are the deployment events d's state shows have happened, in the order they happen: started once
// it has a start time, then rolled back (when auto-rollback reverted it), succeeded, failed or stopped. It is
// level-triggered: a caller that sends each (deployment, event) once may call it on every change of d.
func TriggeredEvents(d Deployment) []string {
	var out []string
	if !d.StartTime.IsZero() || d.Status == StatusInProgress {
		out = append(out, TriggerDeploymentStart)
	}
	if d.RollbackInfo != nil && d.RollbackInfo.RollbackDeploymentID != "" {
		out = append(out, TriggerDeploymentRollback)
	}
	switch d.Status {
	case StatusSucceeded:
		out = append(out, TriggerDeploymentSuccess)
	case StatusFailed:
		out = append(out, TriggerDeploymentFailure)
	case StatusStopped:
		out = append(out, TriggerDeploymentStop)
	}
	return out
}

// Subscribes reports whether trigger t is told of event: it names it (no events name none).
func (t TriggerConfig) Subscribes(event string) bool { return slices.Contains(t.Events, event) }

// epochMillis is the time form of trigger notifications: Unix seconds with milliseconds, as a string.
func epochMillis(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return fmt.Sprintf("%d.%03d", t.Unix(), t.Nanosecond()/int(time.Millisecond))
}

// triggerStatus is the status word of a notification's Subject for an event.
var triggerStatus = map[string]string{
	TriggerDeploymentStart: "CREATED", TriggerDeploymentSuccess: "SUCCEEDED", TriggerDeploymentFailure: "FAILED",
	TriggerDeploymentStop: "STOPPED", TriggerDeploymentRollback: "ROLLBACK",
}

// TriggerNotification is the message CodeDeploy publishes to trigger t's topic for event of deployment d, in the
// JSON data format CodeDeploy documents for deployment-based triggers, and its Subject.
func TriggerNotification(t TriggerConfig, event string, d Deployment, region, account string) (subject string, message []byte) {
	overview := map[string]string{"Pending": "0", "InProgress": "0", "Succeeded": "0", "Failed": "0", "Skipped": "0", "Ready": "0"}
	overview[string(d.TargetStatus())] = "1"
	doc := map[string]any{
		"region": region, "accountId": account, "eventTriggerName": t.Name, "applicationName": d.ApplicationName,
		"deploymentId": d.ID, "deploymentGroupName": d.DeploymentGroupName, "createTime": epochMillis(d.CreateTime),
		"completeTime": epochMillis(d.CompleteTime), "deploymentOverview": overview, "status": string(d.Status),
	}
	if d.ErrorInformation != nil {
		doc["errorInformation"] = map[string]string{"ErrorCode": string(d.ErrorInformation.Code), "ErrorMessage": d.ErrorInformation.Message}
	}
	if d.RollbackInfo != nil && d.RollbackInfo.RollbackMessage != "" {
		doc["rollbackInformation"] = map[string]string{"RollbackDeploymentId": d.RollbackInfo.RollbackDeploymentID, "RollbackMessage": d.RollbackInfo.RollbackMessage}
	}
	b, _ := json.Marshal(doc)
	return triggerStatus[event] + ": AWS CodeDeploy " + d.ID + " in " + region + " to " + d.ApplicationName, b
}
