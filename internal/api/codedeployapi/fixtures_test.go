package codedeployapi_test

import (
	"time"

	"github.com/sluice-dev/sluice/internal/codedeploy"
)

// Fixture times carry a quarter second (exact in binary floating point, so epoch seconds on the wire carry it
// unchanged) except tNow.
var (
	tCreate = time.Date(2026, 6, 1, 12, 0, 0, 250_000_000, time.UTC)
	tStart  = tCreate.Add(2 * time.Second)
	tShift  = tCreate.Add(30 * time.Second)
	tEnd    = tCreate.Add(6 * time.Minute)
	tNow    = tCreate.Add(3 * time.Minute)
)

// Deployment IDs of the canned deployments.
const (
	idInProgress = "d-RPCR1U3TW" // shifting traffic: 10 % on version 2
	idHook       = "d-5CGUL6ETM" // waiting for its BeforeAllowTraffic hook
	idSucceeded  = "d-SUCCEED01"
	idFailed     = "d-FAILED001" // its BeforeAllowTraffic hook failed; rolled back by d-ROLLBACK1
	idNotStarted = "d-CREATED01"
	idCreated    = "d-NEWDEPL01" // what CreateDeployment answers
	idMissing    = "d-MISSING01" // well-formed, unknown

	hookExecution = "hook-exec-0001"
)

// appSpecYAML is the seed's function behind its live alias, with CodeDeploy hooks, as a YAML AppSpec.
const appSpecYAML = `version: 0.0
Resources:
  - OrdersFunction:
      Type: AWS::Lambda::Function
      Properties:
        Name: orders
        Alias: live
        CurrentVersion: "1"
        TargetVersion: "2"
Hooks:
  - BeforeAllowTraffic: CodeDeployHook_preTraffic
  - AfterAllowTraffic: CodeDeployHook_postTraffic
`

func appSpecRevision() codedeploy.Revision {
	return codedeploy.Revision{RevisionType: codedeploy.RevisionAppSpecContent, AppSpecContent: &codedeploy.RawString{Content: appSpecYAML}}
}

func ordersApp() codedeploy.Application {
	return codedeploy.Application{Name: "orders", ID: "0b6f3d4e-1c2a-4f5e-9d8c-7a6b5c4d3e2f", ComputePlatform: "Lambda", CreateTime: tCreate}
}

var (
	ordersAlarms   = codedeploy.AlarmConfiguration{Enabled: true, Alarms: []codedeploy.Alarm{{Name: "orders-errors"}, {Name: "orders-latency-p99"}}}
	ordersRollback = codedeploy.AutoRollbackConfiguration{Enabled: true, Events: []codedeploy.AutoRollbackEvent{codedeploy.RollbackOnFailure, codedeploy.RollbackOnAlarm}}
	lambdaStyle    = codedeploy.DeploymentStyle{DeploymentType: "BLUE_GREEN", DeploymentOption: "WITH_TRAFFIC_CONTROL"}
)

func ordersGroup() codedeploy.DeploymentGroup {
	return codedeploy.DeploymentGroup{
		ApplicationName: "orders", Name: "orders-live", ID: "5f4e3d2c-1b0a-4987-8654-3210fedcba98",
		ServiceRoleARN:       "arn:aws:iam::123456789012:role/CodeDeployServiceRole",
		DeploymentConfigName: codedeploy.LambdaCanary10Percent5Minutes,
		Alarms:               ordersAlarms, AutoRollback: ordersRollback, Style: lambdaStyle,
		LastAttempted: idInProgress, LastSuccessful: idSucceeded,
	}
}

func customConfig() codedeploy.DeploymentConfig {
	return codedeploy.DeploymentConfig{
		Name: "Canary25Percent45Minutes", ID: "9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d", ComputePlatform: "Lambda",
		TrafficRouting: codedeploy.TrafficRouting{Type: codedeploy.TimeBasedCanary, Percentage: 25, IntervalMinutes: 45}, CreateTime: tCreate,
	}
}

func newDeployment(id string) codedeploy.Deployment {
	cfg, _ := codedeploy.PredefinedConfig(codedeploy.LambdaCanary10Percent5Minutes)
	d, err := codedeploy.NewDeployment(codedeploy.NewDeploymentInput{
		ID: id, ApplicationName: "orders", DeploymentGroupName: "orders-live", Config: cfg, Revision: appSpecRevision(),
		Description: "orders v2", AutoRollback: ordersRollback, Alarms: ordersAlarms, Now: tCreate,
	})
	if err != nil {
		panic(err)
	}
	return d
}

func weight(w float64) *float64 { return &w }

// deployments are the canned deployment records.
func deployments() []codedeploy.Deployment {
	inProgress := newDeployment(idInProgress)
	inProgress.Status, inProgress.StartTime, inProgress.TargetWeight = codedeploy.StatusInProgress, tStart, 0.1
	setEvent(&inProgress, codedeploy.EventStart, codedeploy.EventSucceeded, tStart, tStart)
	setEvent(&inProgress, codedeploy.EventBeforeAllowTraffic, codedeploy.EventSucceeded, tStart, tShift)
	setEvent(&inProgress, codedeploy.EventAllowTraffic, codedeploy.EventInProgress, tShift, time.Time{})
	inProgress.Event(codedeploy.EventBeforeAllowTraffic).HookExecutionID = "hook-exec-done"
	inProgress.Event(codedeploy.EventBeforeAllowTraffic).HookResult = codedeploy.HookSucceeded
	inProgress.BlastRadius = codedeploy.BlastRadius{TargetInvocations: 120, TargetErrors: 3}
	inProgress.Timeline = append(inProgress.Timeline,
		codedeploy.TimelineEntry{Time: tStart, Kind: codedeploy.KindStarted, Detail: "deployment started"},
		codedeploy.TimelineEntry{Time: tShift, Kind: codedeploy.KindStep, Detail: "alias live: version 2 at 10%", Weight: weight(0.1)})

	hook := newDeployment(idHook)
	hook.Status, hook.StartTime = codedeploy.StatusInProgress, tStart
	setEvent(&hook, codedeploy.EventStart, codedeploy.EventSucceeded, tStart, tStart)
	setEvent(&hook, codedeploy.EventBeforeAllowTraffic, codedeploy.EventInProgress, tStart, time.Time{})
	hook.Event(codedeploy.EventBeforeAllowTraffic).HookExecutionID = hookExecution

	succeeded := newDeployment(idSucceeded)
	succeeded.Status, succeeded.StartTime, succeeded.CompleteTime, succeeded.TargetWeight = codedeploy.StatusSucceeded, tStart, tEnd, 1
	for _, e := range codedeploy.LifecycleEvents {
		setEvent(&succeeded, e, codedeploy.EventSucceeded, tStart, tEnd)
	}
	succeeded.WakeAt = time.Time{}

	failed := newDeployment(idFailed)
	failed.Status, failed.StartTime, failed.CompleteTime = codedeploy.StatusFailed, tStart, tShift
	failed.ErrorInformation = &codedeploy.ErrorInformation{Code: codedeploy.CodeHookExecutionFailure,
		Message: "The deployment failed because one or more of the lifecycle event hooks failed."}
	failed.RollbackInfo = &codedeploy.RollbackInfo{RollbackDeploymentID: "d-ROLLBACK1",
		RollbackMessage: "Deployment d-FAILED001 terminated. Automatic rollback is triggered with a DeploymentId d-ROLLBACK1."}
	setEvent(&failed, codedeploy.EventStart, codedeploy.EventSucceeded, tStart, tStart)
	setEvent(&failed, codedeploy.EventBeforeAllowTraffic, codedeploy.EventFailed, tStart, tShift)
	failed.Event(codedeploy.EventBeforeAllowTraffic).Diagnostics = &codedeploy.Diagnostics{ErrorCode: "ScriptFailed",
		ScriptName: "CodeDeployHook_preTraffic", Message: "The hook CodeDeployHook_preTraffic reported Failed."}
	for _, e := range []codedeploy.EventName{codedeploy.EventAllowTraffic, codedeploy.EventAfterAllowTraffic, codedeploy.EventEnd} {
		setEvent(&failed, e, codedeploy.EventSkipped, time.Time{}, time.Time{})
	}

	return []codedeploy.Deployment{inProgress, hook, succeeded, failed, newDeployment(idNotStarted)}
}

func setEvent(d *codedeploy.Deployment, name codedeploy.EventName, status codedeploy.EventStatus, start, end time.Time) {
	e := d.Event(name)
	e.Status, e.StartTime, e.EndTime = status, start, end
}
