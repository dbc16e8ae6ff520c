package main

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/sluice-dev/sluice/bench/internal/alarmhistory"
	"github.com/sluice-dev/sluice/bench/internal/benchiam"
)

const (
	fnName       = "orders"
	aliasName    = "live"
	appName      = "orders-app"
	canaryConfig = "CodeDeployDefault.LambdaCanary10Percent30Minutes" // 10%, then 100% after 30 configured minutes
	canaryWeight = 0.10
	linearConfig = "CodeDeployDefault.LambdaLinear10PercentEvery1Minute"
	healthy      = "1" // the version the alias starts on and is rolled back to
	defective    = "2" // FAIL_ALL: every invocation fails
	healthy2     = "3" // the healthy target of the linear deployment
)

// alarmName is the seed's Errors alarm on the alias, with a period of p seconds.
func alarmName(p int) string { return fmt.Sprintf("orders-errors-p%d", p) }

// groupName is the deployment group that watches the alarm of period p.
func groupName(p int) string { return fmt.Sprintf("canary-p%d", p) }

// setup creates the function with three versions (1 healthy, 2 defective, 3 healthy), alias live → 1, the
// seed's Errors alarm on the alias with periods 1 and 5, an application and deployment groups with alarm-driven
// automatic rollback: canary-p1 and canary-p5 (10% for 30 configured minutes) and linear (10% more every minute,
// watching the 1-second alarm).
func setup(ctx context.Context, c *clients, pkg []byte) error {
	l := c.lambda
	if err := benchiam.CreateFunctionRole(ctx, l); err != nil {
		return err
	}
	_, err := l.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String(fnName), Role: aws.String(role),
		Runtime: types.RuntimeProvidedal2023, Handler: aws.String("bootstrap"), Code: &types.FunctionCode{ZipFile: pkg},
		Environment: &types.Environment{Variables: map[string]string{"BUILD": "1"}}})
	if err != nil {
		return err
	}
	if err := waitActive(ctx, l); err != nil {
		return err
	}
	for i, env := range []map[string]string{{"BUILD": "1"}, {"BUILD": "2", "FAIL_ALL": "defect in version 2"}, {"BUILD": "3"}} {
		if i > 0 {
			if _, err := l.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String(fnName),
				Environment: &types.Environment{Variables: env}}); err != nil {
				return err
			}
			if err := waitUpdated(ctx, l); err != nil {
				return err
			}
		}
		out, err := l.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String(fnName), Description: aws.String("build " + env["BUILD"])})
		if err != nil {
			return err
		}
		if want := fmt.Sprint(i + 1); aws.ToString(out.Version) != want {
			return fmt.Errorf("published version %s, want %s", aws.ToString(out.Version), want)
		}
	}
	if _, err := l.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String(fnName), Name: aws.String(aliasName),
		FunctionVersion: aws.String(healthy)}); err != nil {
		return err
	}
	for _, p := range []int32{1, 5} {
		if _, err := c.cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String(alarmName(int(p))),
			Namespace: aws.String("AWS/Lambda"), MetricName: aws.String("Errors"), Statistic: cwtypes.StatisticSum,
			Dimensions: []cwtypes.Dimension{{Name: aws.String("FunctionName"), Value: aws.String(fnName)},
				{Name: aws.String("Resource"), Value: aws.String(fnName + ":" + aliasName)}},
			Period: aws.Int32(p), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(1), TreatMissingData: aws.String("notBreaching"),
			ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold}); err != nil {
			return err
		}
	}
	// The deployment groups' service role must exist and be assumable by CodeDeploy, with the managed policy.
	if err := benchiam.CreateCodeDeployRole(ctx, c.iam); err != nil {
		return err
	}
	if _, err := c.cd.CreateApplication(ctx, &codedeploy.CreateApplicationInput{ApplicationName: aws.String(appName),
		ComputePlatform: cdtypes.ComputePlatformLambda}); err != nil {
		return err
	}
	for _, g := range []struct{ name, config, alarm string }{
		{groupName(1), canaryConfig, alarmName(1)}, {groupName(5), canaryConfig, alarmName(5)}, {"linear", linearConfig, alarmName(1)},
	} {
		if _, err := c.cd.CreateDeploymentGroup(ctx, &codedeploy.CreateDeploymentGroupInput{ApplicationName: aws.String(appName),
			DeploymentGroupName: aws.String(g.name), ServiceRoleArn: aws.String(benchiam.CodeDeployRole),
			DeploymentConfigName: aws.String(g.config),
			DeploymentStyle:      &cdtypes.DeploymentStyle{DeploymentType: cdtypes.DeploymentTypeBlueGreen, DeploymentOption: cdtypes.DeploymentOptionWithTrafficControl},
			AlarmConfiguration:   &cdtypes.AlarmConfiguration{Enabled: true, Alarms: []cdtypes.Alarm{{Name: aws.String(g.alarm)}}},
			AutoRollbackConfiguration: &cdtypes.AutoRollbackConfiguration{Enabled: true,
				Events: []cdtypes.AutoRollbackEvent{cdtypes.AutoRollbackEventDeploymentFailure, cdtypes.AutoRollbackEventDeploymentStopOnAlarm}},
		}); err != nil {
			return err
		}
	}
	return nil
}

func waitActive(ctx context.Context, c *lambda.Client) error {
	w := lambda.NewFunctionActiveV2Waiter(c, func(o *lambda.FunctionActiveV2WaiterOptions) {
		o.MinDelay, o.MaxDelay = 10*time.Millisecond, 500*time.Millisecond
	})
	return w.Wait(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(fnName)}, time.Minute)
}

func waitUpdated(ctx context.Context, c *lambda.Client) error {
	w := lambda.NewFunctionUpdatedV2Waiter(c, func(o *lambda.FunctionUpdatedV2WaiterOptions) {
		o.MinDelay, o.MaxDelay = 10*time.Millisecond, 500*time.Millisecond
	})
	return w.Wait(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(fnName)}, time.Minute)
}

func appSpec(current, target string) string {
	return fmt.Sprintf("version: 0.0\nResources:\n  - %s:\n      Type: AWS::Lambda::Function\n      Properties:\n        Name: %s\n        Alias: %s\n        CurrentVersion: %q\n        TargetVersion: %q\n",
		fnName, fnName, aliasName, current, target)
}

func createDeployment(ctx context.Context, c *clients, group, current, target string) (string, error) {
	out, err := c.cd.CreateDeployment(ctx, &codedeploy.CreateDeploymentInput{ApplicationName: aws.String(appName),
		DeploymentGroupName: aws.String(group),
		Revision: &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeAppSpecContent,
			AppSpecContent: &cdtypes.AppSpecContent{Content: aws.String(appSpec(current, target))}}})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.DeploymentId), nil
}

// waitTerminal polls the deployment (raw, with its timeline) until it is Succeeded, Failed or Stopped.
func waitTerminal(ctx context.Context, c *clients, id string, timeout time.Duration) (deploymentInfo, error) {
	deadline := time.Now().Add(timeout)
	for {
		d, err := c.getDeployment(ctx, id)
		if err != nil {
			return d, err
		}
		if d.terminal() {
			return d, nil
		}
		if time.Now().After(deadline) {
			return d, fmt.Errorf("deployment %s still %s after %s", id, d.Status, timeout)
		}
		select {
		case <-ctx.Done():
			return d, ctx.Err()
		case <-time.After(25 * time.Millisecond):
		}
	}
}

// waitAlarmState waits for an alarm to reach a state (an alarm still in ALARM from the last defective canary would
// stop the next deployment at once).
func waitAlarmState(ctx context.Context, c *clients, name, state string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		out, err := c.cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{name}})
		if err != nil {
			return err
		}
		if len(out.MetricAlarms) == 1 && string(out.MetricAlarms[0].StateValue) == state {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("alarm %s not %s after %s", name, state, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// aliasWatch is what the client saw of the alias while a deployment ran, polling GetAlias.
type aliasWatch struct {
	polls      int
	errs       int
	splitSeen  bool      // the alias was seen with the target version's weight
	lastSplit  time.Time // when the last poll that saw it split was sent
	restored   time.Time // when the first poll that saw it back on version 1 unsplit (after a split) returned
	restoredTx time.Time // ... and when that poll was sent
	maxGap     time.Duration
}

// watchAlias polls GetAlias every interval until the alias has been seen split and then back on the healthy
// version with no routing, or ctx ends.
func watchAlias(ctx context.Context, c *lambda.Client, interval time.Duration) aliasWatch {
	var w aliasWatch
	var prev time.Time
	for ctx.Err() == nil {
		sent := time.Now()
		if !prev.IsZero() {
			w.maxGap = max(w.maxGap, sent.Sub(prev))
		}
		prev = sent
		out, err := c.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String(fnName), Name: aws.String(aliasName)})
		recv := time.Now()
		w.polls++
		if err != nil {
			if ctx.Err() == nil {
				w.errs++
			}
		} else {
			split := out.RoutingConfig != nil && len(out.RoutingConfig.AdditionalVersionWeights) > 0
			switch {
			case split:
				w.splitSeen, w.lastSplit = true, sent
			case w.splitSeen && aws.ToString(out.FunctionVersion) == healthy:
				w.restored, w.restoredTx = recv, sent
				return w
			}
		}
		if d := time.Until(sent.Add(interval)); d > 0 {
			time.Sleep(d)
		}
	}
	return w
}

// ensureHealthyAlias puts the alias back on version 1 unsplit if it is not (it is, after a rollback).
func ensureHealthyAlias(ctx context.Context, c *clients) error {
	out, err := c.lambda.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String(fnName), Name: aws.String(aliasName)})
	if err != nil {
		return err
	}
	if aws.ToString(out.FunctionVersion) == healthy && (out.RoutingConfig == nil || len(out.RoutingConfig.AdditionalVersionWeights) == 0) {
		return nil
	}
	log.Printf("alias was %s %v: resetting it to version %s", aws.ToString(out.FunctionVersion), out.RoutingConfig, healthy)
	_, err = c.lambda.UpdateAlias(ctx, &lambda.UpdateAliasInput{FunctionName: aws.String(fnName), Name: aws.String(aliasName),
		FunctionVersion: aws.String(healthy), RoutingConfig: &types.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{}}})
	return err
}

// defectiveRun is one repetition: v1 → v2 (defective) with a 10% canary watched by the alarm of one period.
type defectiveRun struct {
	period         int
	created, end   time.Time
	dep, rollback  deploymentInfo
	alarmAt        time.Time
	watch          aliasWatch
	t              tally // invocations started in [created, end)
	defectBefore   int   // invocations routed to v2 that started before the alarm went off
	defectAfter    int   // ... and at or after it
	cpu            cpuUse
	cold           map[string]int // cold starts by version in the window
	err            error
	rollbackStatus string
}

// runDefective deploys the defective version and measures the alarm → rollback path and the blast radius.
func runDefective(ctx context.Context, c *clients, g *loadGen, serverPid, period int, pollEvery time.Duration) defectiveRun {
	r := defectiveRun{period: period}
	fail := func(err error) defectiveRun { r.err = err; return r }
	if err := waitAlarmState(ctx, c, alarmName(period), "OK", 30*time.Second); err != nil {
		return fail(err)
	}
	if err := ensureHealthyAlias(ctx, c); err != nil {
		return fail(err)
	}
	time.Sleep(200 * time.Millisecond) // let any reset settle under load before the deployment starts
	before, coldBefore := takeCPU(), c.coldStarts(ctx)
	wctx, cancelWatch := context.WithTimeout(ctx, 90*time.Second)
	defer cancelWatch()
	watched := make(chan aliasWatch, 1)
	go func() { watched <- watchAlias(wctx, c.lambda, pollEvery) }()
	r.created = time.Now()
	id, err := createDeployment(ctx, c, groupName(period), healthy, defective)
	if err != nil {
		return fail(err)
	}
	if r.dep, err = waitTerminal(ctx, c, id, 90*time.Second); err != nil {
		return fail(err)
	}
	if r.dep.Status != "Stopped" || r.dep.RollbackInfo == nil || r.dep.RollbackInfo.RollbackDeploymentID == "" {
		return fail(fmt.Errorf("defective deployment %s ended %s (%+v), without a rollback", id, r.dep.Status, r.dep.ErrorInformation))
	}
	if r.rollback, err = waitTerminal(ctx, c, r.dep.RollbackInfo.RollbackDeploymentID, 60*time.Second); err != nil {
		return fail(err)
	}
	r.rollbackStatus = r.rollback.Status
	select {
	case r.watch = <-watched:
	case <-time.After(5 * time.Second):
		cancelWatch()
		r.watch = <-watched
	}
	r.end = time.Now()
	r.cpu = before.until(takeCPU(), serverPid)
	r.cold = coldStartsSince(coldBefore, c.coldStarts(ctx))
	time.Sleep(500 * time.Millisecond) // invocations started before end have returned
	if r.dep, err = c.getDeployment(ctx, id); err != nil {
		return fail(err)
	}
	recs := g.window(r.created, r.end)
	r.t = count(recs, r.created, r.end)
	if r.alarmAt, err = alarmhistory.WentOff(ctx, c.cw, alarmName(period), r.created); err != nil {
		return fail(err)
	}
	for _, x := range recs {
		if x.version == defective {
			if x.start.Before(r.alarmAt) {
				r.defectBefore++
			} else {
				r.defectAfter++
			}
		}
	}
	return r
}

// healthyRun is the healthy linear deployment v1 → v3 under the same load.
type healthyRun struct {
	created, end time.Time
	dep          deploymentInfo
	t            tally
	steps        []stepSplit
	cpu          cpuUse
	cold         map[string]int
	err          error
}

// stepSplit is what the client saw while the alias was at one step of the schedule (from the step's timeline
// entry to the next one).
type stepSplit struct {
	weight   float64
	from, to time.Time
	t        tally
	cold     int // cold starts of the target version (sampled every 100 ms, so ±1 sample at the edges)
}

func runHealthy(ctx context.Context, c *clients, g *loadGen, serverPid int) healthyRun {
	var r healthyRun
	if err := waitAlarmState(ctx, c, alarmName(1), "OK", 30*time.Second); err != nil {
		r.err = err
		return r
	}
	if err := ensureHealthyAlias(ctx, c); err != nil {
		r.err = err
		return r
	}
	time.Sleep(200 * time.Millisecond)
	before, coldBefore := takeCPU(), c.coldStarts(ctx)
	r.created = time.Now()
	id, err := createDeployment(ctx, c, "linear", healthy, healthy2)
	if err != nil {
		r.err = err
		return r
	}
	// Cold starts of the target over time (every 100 ms), to attribute them to the steps.
	type coldAt struct {
		at time.Time
		n  float64
	}
	var colds []coldAt
	sctx, stopSampling := context.WithCancel(ctx)
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for sctx.Err() == nil {
			if m := c.coldStarts(sctx); m != nil {
				colds = append(colds, coldAt{time.Now(), m[healthy2]})
			}
			sleep(sctx, 100*time.Millisecond)
		}
	}()
	defer func() { stopSampling(); <-sampled }()
	if r.dep, err = waitTerminal(ctx, c, id, 120*time.Second); err != nil {
		r.err = err
		return r
	}
	time.Sleep(time.Second) // a second on the target alone: the end of the shift, under load
	r.end = time.Now()
	stopSampling()
	<-sampled
	coldBy := func(t time.Time) float64 { // cold starts of the target counted by the last sample before t
		n := 0.0
		for _, x := range colds {
			if x.at.After(t) {
				break
			}
			n = x.n
		}
		return n
	}
	r.cpu = before.until(takeCPU(), serverPid)
	r.cold = coldStartsSince(coldBefore, c.coldStarts(ctx))
	time.Sleep(500 * time.Millisecond)
	r.t = count(g.window(r.created, r.end), r.created, r.end)
	if r.dep.Status != "Succeeded" {
		r.err = fmt.Errorf("healthy deployment %s ended %s (%+v)", id, r.dep.Status, r.dep.ErrorInformation)
	}
	var steps []timelineEntry
	for _, e := range r.dep.Timeline {
		if e.Kind == "step" && e.Weight != nil {
			steps = append(steps, e)
		}
	}
	for i, s := range steps {
		to := r.end
		if i+1 < len(steps) {
			to = steps[i+1].at()
		}
		r.steps = append(r.steps, stepSplit{weight: *s.Weight, from: s.at(), to: to, t: count(g.window(s.at(), to), s.at(), to),
			cold: int(coldBy(to) - coldBy(s.at()))})
	}
	return r
}
