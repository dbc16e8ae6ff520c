package codedeployapi

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/internal/api/awshttp"
	"github.com/sluice-dev/sluice/internal/codedeploy"
)

// epoch is a CodeDeploy timestamp: epoch seconds as a JSON number, fractional to the millisecond.
type epoch time.Time

func (e epoch) IsZero() bool { return time.Time(e).IsZero() }

func (e epoch) MarshalJSON() ([]byte, error) {
	ms := time.Time(e).UnixMilli()
	return []byte(strconv.FormatFloat(float64(ms)/1000, 'f', -1, 64)), nil
}

// UnmarshalJSON reads epoch seconds (a number, or a string holding one, as some clients send) or an RFC 3339
// string. The value is kept to the millisecond.
func (e *epoch) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		return nil
	}
	s := string(b)
	if strings.HasPrefix(s, `"`) {
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			return &awshttp.FieldError{Msg: "Invalid timestamp " + s}
		}
		if t, err := time.Parse(time.RFC3339Nano, str); err == nil {
			*e = epoch(t.Round(time.Millisecond))
			return nil
		}
		s = str
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e13 {
		return &awshttp.FieldError{Msg: "Invalid timestamp " + string(b) + ": expected epoch seconds"}
	}
	*e = epoch(time.UnixMilli(int64(math.Round(f * 1000))).UTC())
	return nil
}

func timeOf(e *epoch) time.Time {
	if e == nil {
		return time.Time{}
	}
	return time.Time(*e)
}

// ---- shared sub-structures ----

// tag is the Tag shape (its members are capitalised in the model).
type tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

func tagMap(tags []tag) map[string]string {
	if len(tags) == 0 {
		return nil
	}
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[t.Key] = t.Value
	}
	return m
}

// alarmConfig is alarmConfiguration as the edge writes it (alarms always present).
type alarmConfig struct {
	Enabled                bool               `json:"enabled"`
	IgnorePollAlarmFailure bool               `json:"ignorePollAlarmFailure"`
	Alarms                 []codedeploy.Alarm `json:"alarms"`
}

func alarmWire(c codedeploy.AlarmConfiguration) alarmConfig {
	return alarmConfig{Enabled: c.Enabled, IgnorePollAlarmFailure: c.IgnorePollAlarmFailure, Alarms: orEmpty(c.Alarms)}
}

// autoRollback is autoRollbackConfiguration as the edge writes it (events always present).
type autoRollback struct {
	Enabled bool                           `json:"enabled"`
	Events  []codedeploy.AutoRollbackEvent `json:"events"`
}

func autoRollbackWire(c codedeploy.AutoRollbackConfiguration) autoRollback {
	return autoRollback{Enabled: c.Enabled, Events: orEmpty(c.Events)}
}

// lambdaStyle is the deployment style of every Lambda deployment group and deployment.
var lambdaStyle = codedeploy.DeploymentStyle{DeploymentType: "BLUE_GREEN", DeploymentOption: "WITH_TRAFFIC_CONTROL"}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// ---- applications ----

type applicationInfo struct {
	ApplicationID   string `json:"applicationId,omitempty"`
	ApplicationName string `json:"applicationName"`
	CreateTime      epoch  `json:"createTime,omitzero"`
	LinkedToGitHub  bool   `json:"linkedToGitHub"`
	ComputePlatform string `json:"computePlatform,omitempty"`
}

func applicationWire(a codedeploy.Application) applicationInfo {
	return applicationInfo{ApplicationID: a.ID, ApplicationName: a.Name, CreateTime: epoch(a.CreateTime), ComputePlatform: a.ComputePlatform}
}

// ---- deployment groups ----

type lastDeploymentInfo struct {
	DeploymentID string            `json:"deploymentId"`
	Status       codedeploy.Status `json:"status,omitempty"`
	EndTime      epoch             `json:"endTime,omitzero"`
	CreateTime   epoch             `json:"createTime,omitzero"`
}

type deploymentGroupInfo struct {
	ApplicationName              string                     `json:"applicationName"`
	DeploymentGroupID            string                     `json:"deploymentGroupId,omitempty"`
	DeploymentGroupName          string                     `json:"deploymentGroupName"`
	DeploymentConfigName         string                     `json:"deploymentConfigName,omitempty"`
	EC2TagFilters                []struct{}                 `json:"ec2TagFilters"`
	OnPremisesInstanceTagFilters []struct{}                 `json:"onPremisesInstanceTagFilters"`
	AutoScalingGroups            []struct{}                 `json:"autoScalingGroups"`
	ServiceRoleARN               string                     `json:"serviceRoleArn,omitempty"`
	TriggerConfigurations        []struct{}                 `json:"triggerConfigurations"`
	AlarmConfiguration           alarmConfig                `json:"alarmConfiguration"`
	AutoRollbackConfiguration    autoRollback               `json:"autoRollbackConfiguration"`
	DeploymentStyle              codedeploy.DeploymentStyle `json:"deploymentStyle"`
	LastSuccessfulDeployment     *lastDeploymentInfo        `json:"lastSuccessfulDeployment,omitempty"`
	LastAttemptedDeployment      *lastDeploymentInfo        `json:"lastAttemptedDeployment,omitempty"`
	ComputePlatform              string                     `json:"computePlatform"`
}

// ---- deployment configurations ----

type deploymentConfigInfo struct {
	DeploymentConfigID   string                   `json:"deploymentConfigId,omitempty"`
	DeploymentConfigName string                   `json:"deploymentConfigName"`
	CreateTime           epoch                    `json:"createTime,omitzero"`
	ComputePlatform      string                   `json:"computePlatform"`
	TrafficRoutingConfig codedeploy.RoutingConfig `json:"trafficRoutingConfig"`
}

func deploymentConfigWire(c codedeploy.DeploymentConfig) deploymentConfigInfo {
	return deploymentConfigInfo{
		DeploymentConfigID: c.ID, DeploymentConfigName: c.Name, CreateTime: epoch(c.CreateTime),
		ComputePlatform: c.ComputePlatform, TrafficRoutingConfig: c.TrafficRouting.Wire(),
	}
}

// ---- deployments ----

// deploymentOverview is DeploymentOverview (its members are capitalised in the model).
type deploymentOverview struct {
	Pending    int64 `json:"Pending"`
	InProgress int64 `json:"InProgress"`
	Succeeded  int64 `json:"Succeeded"`
	Failed     int64 `json:"Failed"`
	Skipped    int64 `json:"Skipped"`
	Ready      int64 `json:"Ready"`
}

// timelineEntry is one entry of the sluiceTimeline extension.
type timelineEntry struct {
	Time   epoch                   `json:"time"`
	Kind   codedeploy.TimelineKind `json:"kind"`
	Detail string                  `json:"detail,omitempty"`
	Weight *float64                `json:"weight,omitempty"`
}

type deploymentInfo struct {
	ApplicationName               string                       `json:"applicationName"`
	DeploymentGroupName           string                       `json:"deploymentGroupName"`
	DeploymentConfigName          string                       `json:"deploymentConfigName"`
	DeploymentID                  string                       `json:"deploymentId"`
	Revision                      *codedeploy.Revision         `json:"revision,omitempty"`
	Status                        codedeploy.Status            `json:"status"`
	ErrorInformation              *codedeploy.ErrorInformation `json:"errorInformation,omitempty"`
	CreateTime                    epoch                        `json:"createTime"`
	StartTime                     epoch                        `json:"startTime,omitzero"`
	CompleteTime                  epoch                        `json:"completeTime,omitzero"`
	DeploymentOverview            deploymentOverview           `json:"deploymentOverview"`
	Description                   string                       `json:"description,omitempty"`
	Creator                       codedeploy.Creator           `json:"creator"`
	IgnoreApplicationStopFailures bool                         `json:"ignoreApplicationStopFailures"`
	AutoRollbackConfiguration     autoRollback                 `json:"autoRollbackConfiguration"`
	UpdateOutdatedInstancesOnly   bool                         `json:"updateOutdatedInstancesOnly"`
	RollbackInfo                  *codedeploy.RollbackInfo     `json:"rollbackInfo,omitempty"`
	DeploymentStyle               codedeploy.DeploymentStyle   `json:"deploymentStyle"`
	DeploymentStatusMessages      []string                     `json:"deploymentStatusMessages"`
	ComputePlatform               string                       `json:"computePlatform"`
	OverrideAlarmConfiguration    *alarmConfig                 `json:"overrideAlarmConfiguration,omitempty"`

	SluiceTimeline    []timelineEntry        `json:"sluiceTimeline"`
	SluiceBlastRadius codedeploy.BlastRadius `json:"sluiceBlastRadius"`
	// SluiceTargetWeight is the share of the alias's traffic on the target version.
	SluiceTargetWeight float64 `json:"sluiceTargetWeight"`
	// SluiceNextStepTime is when the deployment next acts on its own (a traffic shift, a hook timeout).
	SluiceNextStepTime epoch `json:"sluiceNextStepTime,omitzero"`
	// SluiceLifecycleEvents are the deployment's lifecycle events with their hooks.
	SluiceLifecycleEvents []sluiceEvent `json:"sluiceLifecycleEvents"`
}

// sluiceEvent is a lifecycle event in the sluiceLifecycleEvents extension.
type sluiceEvent struct {
	Name   codedeploy.EventName   `json:"lifecycleEventName"`
	Status codedeploy.EventStatus `json:"status"`
	Hook   string                 `json:"hook,omitempty"`
	// HookProblems say what went wrong with the hook's run that its status does not (a failed or refused
	// invocation, a denied report).
	HookProblems []string `json:"hookProblems,omitempty"`
}

// deploymentWire renders a deployment record as deploymentInfo.
//
// The record keeps the alarm configuration in force (the group's at creation, or the request's override) without
// saying which it was; it is reported as overrideAlarmConfiguration whenever it is enabled or names alarms, so that
// clients see what the deployment watches.
func deploymentWire(d codedeploy.Deployment) deploymentInfo {
	o := d.Overview()
	out := deploymentInfo{
		ApplicationName:           d.ApplicationName,
		DeploymentGroupName:       d.DeploymentGroupName,
		DeploymentConfigName:      d.DeploymentConfigName,
		DeploymentID:              d.ID,
		Status:                    d.Status,
		ErrorInformation:          d.ErrorInformation,
		CreateTime:                epoch(d.CreateTime),
		StartTime:                 epoch(d.StartTime),
		CompleteTime:              epoch(d.CompleteTime),
		DeploymentOverview:        deploymentOverview{o.Pending, o.InProgress, o.Succeeded, o.Failed, o.Skipped, o.Ready},
		Description:               d.Description,
		Creator:                   d.Creator,
		AutoRollbackConfiguration: autoRollbackWire(d.AutoRollback),
		RollbackInfo:              d.RollbackInfo,
		DeploymentStyle:           lambdaStyle,
		DeploymentStatusMessages:  orEmpty(d.StatusMessages()),
		ComputePlatform:           codedeploy.ComputePlatformLambda,
		SluiceTimeline:            make([]timelineEntry, len(d.Timeline)),
		SluiceBlastRadius:         d.BlastRadius,
		SluiceTargetWeight:        d.TargetWeight,
		SluiceLifecycleEvents:     make([]sluiceEvent, len(d.Events)),
	}
	if d.Status == codedeploy.StatusInProgress {
		out.SluiceNextStepTime = epoch(d.WakeAt)
	}
	for i, e := range d.Events {
		out.SluiceLifecycleEvents[i] = sluiceEvent{Name: e.Name, Status: e.Status, Hook: e.Hook, HookProblems: e.HookProblems}
	}
	if d.Revision.RevisionType != "" || d.Revision.AppSpecContent != nil || d.Revision.String != nil {
		r := d.Revision
		out.Revision = &r
	}
	if d.Alarms.Enabled || len(d.Alarms.Alarms) > 0 {
		a := alarmWire(d.Alarms)
		out.OverrideAlarmConfiguration = &a
	}
	for i, e := range d.Timeline {
		out.SluiceTimeline[i] = timelineEntry{Time: epoch(e.Time), Kind: e.Kind, Detail: e.Detail, Weight: e.Weight}
	}
	return out
}

// ---- deployment targets ----

type diagnostics struct {
	ErrorCode  string `json:"errorCode,omitempty"`
	ScriptName string `json:"scriptName,omitempty"`
	Message    string `json:"message,omitempty"`
	LogTail    string `json:"logTail,omitempty"`
}

type lifecycleEvent struct {
	LifecycleEventName codedeploy.EventName   `json:"lifecycleEventName"`
	Diagnostics        *diagnostics           `json:"diagnostics,omitempty"`
	StartTime          epoch                  `json:"startTime,omitzero"`
	EndTime            epoch                  `json:"endTime,omitzero"`
	Status             codedeploy.EventStatus `json:"status"`
}

type lambdaFunctionInfo struct {
	FunctionName        string  `json:"functionName"`
	FunctionAlias       string  `json:"functionAlias"`
	CurrentVersion      string  `json:"currentVersion"`
	TargetVersion       string  `json:"targetVersion"`
	TargetVersionWeight float64 `json:"targetVersionWeight"`
}

type lambdaTarget struct {
	DeploymentID       string                 `json:"deploymentId"`
	TargetID           string                 `json:"targetId"`
	TargetARN          string                 `json:"targetArn"`
	Status             codedeploy.EventStatus `json:"status"`
	LastUpdatedAt      epoch                  `json:"lastUpdatedAt,omitzero"`
	LifecycleEvents    []lifecycleEvent       `json:"lifecycleEvents"`
	LambdaFunctionInfo lambdaFunctionInfo     `json:"lambdaFunctionInfo"`
}

type deploymentTarget struct {
	DeploymentTargetType string        `json:"deploymentTargetType"`
	LambdaTarget         *lambdaTarget `json:"lambdaTarget"`
}

// targetID names a deployment's one target: "<function>:<alias>", the alias being what the deployment moves.
func targetID(d codedeploy.Deployment) string {
	return d.AppSpec.Resource.Name + ":" + d.AppSpec.Resource.Alias
}

// targetWire renders d's one Lambda target.
func (h *Handler) targetWire(d codedeploy.Deployment) deploymentTarget {
	r := d.AppSpec.Resource
	t := &lambdaTarget{
		DeploymentID:    d.ID,
		TargetID:        targetID(d),
		TargetARN:       h.acct.FunctionARN(r.Name) + ":" + r.Alias,
		Status:          d.TargetStatus(),
		LifecycleEvents: make([]lifecycleEvent, len(d.Events)),
		LambdaFunctionInfo: lambdaFunctionInfo{
			FunctionName: r.Name, FunctionAlias: r.Alias, CurrentVersion: r.CurrentVersion, TargetVersion: r.TargetVersion,
			TargetVersionWeight: d.TargetWeight,
		},
	}
	last := latest(d.CreateTime, d.StartTime, d.CompleteTime)
	for i, e := range d.Events {
		ev := lifecycleEvent{LifecycleEventName: e.Name, StartTime: epoch(e.StartTime), EndTime: epoch(e.EndTime), Status: e.Status}
		if e.Diagnostics != nil {
			ev.Diagnostics = &diagnostics{ErrorCode: e.Diagnostics.ErrorCode, ScriptName: e.Diagnostics.ScriptName, Message: e.Diagnostics.Message}
		}
		t.LifecycleEvents[i] = ev
		last = latest(last, e.StartTime, e.EndTime)
	}
	t.LastUpdatedAt = epoch(last)
	return deploymentTarget{DeploymentTargetType: "LambdaTarget", LambdaTarget: t}
}

func latest(ts ...time.Time) time.Time {
	var out time.Time
	for _, t := range ts {
		if t.After(out) {
			out = t
		}
	}
	return out
}
