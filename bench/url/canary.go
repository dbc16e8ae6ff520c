package main

import (
	"context"
	"fmt"
	"log"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/sluice-dev/sluice/bench/internal/alarmhistory"
	"github.com/sluice-dev/sluice/bench/internal/benchiam"
)

const (
	canaryConfig = "CodeDeployDefault.LambdaCanary10Percent5Minutes"
	v1, v2, v3   = "1", "2", "3" // healthy, healthy, defective (answers 500)
	stickyTag    = "sluice:sticky-canary"
)

// deployRun is the second part's results for one function: the load, the healthy canary and the rollbacks.
type deployRun struct {
	fn       string
	sticky   bool
	recs     []urlRecord
	span     time.Duration // the generator's run
	skipped  int64
	tooMany  int64
	healthy  healthyCanary
	defects  []rollback
	loadFrom time.Time
	rampEnd  time.Time
	platform []platformSample // the server's /metrics, every 250 ms
	notes    []string         // what did not go as planned
}

// healthyCanary is the deployment v1 → v2; the 10% step is the span in which GetAlias showed the split.
type healthyCanary struct {
	id                 string
	status             string
	created, completed time.Time
	stepFrom, stepTo   time.Time // first split seen returned, last split seen sent
}

// rollback is one deployment from → v3 stopped by the alarm (from is v2 after a successful healthy canary).
type rollback struct {
	id, status, rollbackStatus string
	from                       string
	created                    time.Time
	alarmAt                    time.Time // the alarm's change to ALARM (its history: the server's clock)
	lastSplitSent              time.Time // the last GetAlias sent that still showed the canary
	restored                   time.Time // the first GetAlias returned with live back on from, unsplit
	windowEnd                  time.Time // the next deployment's creation, or the end of the load
}

// alarmFor is the Url5xxCount alarm of a function's alias live.
func alarmFor(fn string) string { return fn + "-url-5xx" }

// measureDeployments creates a function with versions 1, 2 (healthy) and 3 (defective) behind live and its NONE
// URL, the Url5xxCount alarm and a deployment group with alarm rollback; then, under the open-loop load, deploys
// v1 → v2 (a healthy canary) and -rollbacks times v2 → v3 (stopped by the alarm and rolled back).
func measureDeployments(ctx context.Context, cfg config, c *clients, pkg []byte, sticky bool) (deployRun, error) {
	run := deployRun{fn: "shop", sticky: sticky}
	var tags map[string]string
	if sticky {
		run.fn, tags = "shop-sticky", map[string]string{stickyTag: "cookie:user"}
	}
	fn := run.fn
	log.Printf("deployments (%s): creating %s with versions 1, 2 (healthy) and 3 (answers 500), its URL, alarm and group", stickiness(sticky), fn)
	fnURL, err := webFunction(ctx, c, fn, pkg, tags, map[string]string{"BUILD": "1"}, map[string]string{"BUILD": "2"},
		map[string]string{"BUILD": "3", "DEFECT": "v3"})
	if err != nil {
		return run, fmt.Errorf("%s set-up: %w", fn, err)
	}
	if err := setupGroup(ctx, c, fn); err != nil {
		return run, fmt.Errorf("%s set-up: %w", fn, err)
	}
	hc := urlClient(c.addr, maxInFlight)
	defer hc.CloseIdleConnections()
	for range 20 { // the first environment, before the load
		if r := get(ctx, hc, fnURL, 0); r.status != 200 || r.version != v1 {
			return run, fmt.Errorf("%s: GET %s answered %d from version %q %s", fn, fnURL, r.status, r.version, r.err)
		}
	}

	log.Printf("deployments (%s): %.0f requests/s from %d users through %s", stickiness(sticky), cfg.rate, cfg.users, fnURL)
	sampler := startSampler(ctx, c.endpoint, fn, 250*time.Millisecond)
	load := startOpenLoop(ctx, hc, fnURL, cfg.rate, cfg.users, cfg.ramp)
	run.loadFrom, run.rampEnd = load.started, load.rampEnd
	progress := startProgress(ctx, stickiness(sticky), load, sampler)
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		progress()
		run.recs = load.stop()
		run.platform = sampler.stop()
		run.span = load.stopped.Sub(load.started)
		run.skipped, run.tooMany = load.skipped.Load(), load.tooMany.Load()
		if n := len(run.defects); n > 0 {
			run.defects[n-1].windowEnd = load.stopped
		}
	}
	defer stop()
	sleep(ctx, cfg.ramp+2*time.Second) // the load ramps up and settles: environments for it are started

	// The healthy canary: 10% for five configured minutes, then all of it (or back to v1, if the alarm stops it).
	h := &run.healthy
	h.created = time.Now()
	if h.id, err = createDeployment(ctx, c, fn, v1, v2); err != nil {
		return run, err
	}
	seenSplit := false
	samples := pollAlias(ctx, c, fn, 10*time.Millisecond, 2*time.Minute, func(s aliasSample) bool {
		seenSplit = seenSplit || s.split
		return !s.split && (s.version == v2 || seenSplit && s.version == v1)
	})
	for _, s := range samples {
		if s.split && h.stepFrom.IsZero() {
			h.stepFrom = s.recv
		}
		if s.split {
			h.stepTo = s.sent
		}
	}
	if h.status, _, err = waitDeployment(ctx, c, h.id); err != nil {
		return run, err
	}
	h.completed = time.Now()
	log.Printf("deployments (%s): healthy canary %s %s after %s", stickiness(sticky), h.id, h.status, h.completed.Sub(h.created).Round(time.Millisecond))
	sleep(ctx, time.Second)
	// The defective canaries start from wherever live is: v2, unless the healthy canary was stopped.
	a, err := c.lambda.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String(fn), Name: aws.String("live")})
	if err != nil {
		return run, err
	}
	from := aws.ToString(a.FunctionVersion)
	if h.status != "Succeeded" {
		run.notes = append(run.notes, fmt.Sprintf("the healthy canary %s ended %s; the defective canaries started from version %s", h.id, h.status, from))
	}

	// The defective canaries: each stopped by the alarm, live restored.
	for i := range cfg.rollbacks {
		if err := waitAlarm(ctx, c, alarmFor(fn), cwtypes.StateValueOk, time.Minute); err != nil {
			run.notes = append(run.notes, fmt.Sprintf("%v: %d defective canaries of %d run", err, i, cfg.rollbacks))
			break
		}
		// Requests still queued from the last canary would be answered by v3 after the restore: let them drain.
		for deadline := time.Now().Add(30 * time.Second); load.inFlight.Load() > 32 && time.Now().Before(deadline); {
			sleep(ctx, 50*time.Millisecond)
		}
		sleep(ctx, time.Duration(i)*137*time.Millisecond) // spread the canaries' starts over the alarm's 1-s periods
		rb := rollback{created: time.Now(), from: from}
		if i > 0 {
			run.defects[i-1].windowEnd = rb.created
		}
		if rb.id, err = createDeployment(ctx, c, fn, from, v3); err != nil {
			return run, err
		}
		seenSplit, checked := false, time.Now()
		samples := pollAlias(ctx, c, fn, 2*time.Millisecond, time.Minute, func(s aliasSample) bool {
			seenSplit = seenSplit || s.split
			if !seenSplit && time.Since(checked) > 500*time.Millisecond {
				// A deployment the alarm stopped before its traffic moved never shows a split: stop looking.
				checked = time.Now()
				out, err := c.cd.GetDeployment(ctx, &codedeploy.GetDeploymentInput{DeploymentId: aws.String(rb.id)})
				if err == nil && out.DeploymentInfo.CompleteTime != nil {
					return true
				}
			}
			return seenSplit && s.version == from && !s.split
		})
		for _, s := range samples {
			if s.split {
				rb.lastSplitSent = s.sent
			}
		}
		if last := samples[len(samples)-1]; seenSplit && last.version == from && !last.split {
			rb.restored = last.recv
		}
		var rbID string
		if rb.status, rbID, err = waitDeployment(ctx, c, rb.id); err != nil {
			return run, err
		}
		if rbID != "" {
			if rb.rollbackStatus, _, err = waitDeployment(ctx, c, rbID); err != nil {
				return run, err
			}
		}
		if rb.alarmAt, err = alarmhistory.WentOff(ctx, c.cw, alarmFor(fn), rb.created); err != nil {
			log.Printf("deployments: %v", err)
		}
		log.Printf("deployments (%s): defective canary %d: %s (rollback %s %s), alias seen restored %s after creation",
			stickiness(sticky), i+1, rb.status, rbID, rb.rollbackStatus, rb.restored.Sub(rb.created).Round(time.Millisecond))
		if !seenSplit {
			run.notes = append(run.notes, fmt.Sprintf("defective canary %s ended %s before GetAlias saw its split (the alarm was still counting 5xx answered after the previous restore); left out", rb.id, rb.status))
			sleep(ctx, time.Second)
			continue
		}
		if rb.restored.IsZero() {
			return run, fmt.Errorf("defective canary %s: live was not seen back on version %s within a minute", rb.id, from)
		}
		run.defects = append(run.defects, rb)
		sleep(ctx, time.Second)
	}
	sleep(ctx, time.Second)
	stop()
	return run, ctx.Err()
}

// startProgress logs the load's progress every 2 s (sent, answered, in flight, the function's environments and
// cold starts): a run that falls behind shows it as it happens. The returned func stops it.
func startProgress(ctx context.Context, label string, load *openLoop, sampler *platformSampler) func() {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for sleep(ctx, 2*time.Second) == nil {
			p := sampler.last()
			log.Printf("deployments (%s): %d sent, %d in flight, %d slots skipped; %.0f environments, %.0f cold starts, %.0f open fds in the server",
				label, load.sent.Load(), load.inFlight.Load(), load.skipped.Load()+load.tooMany.Load(), p.environments, p.coldStarts, p.openFDs)
		}
	}()
	return func() { cancel(); <-done }
}

func stickiness(sticky bool) string {
	if sticky {
		return "sticky canaries"
	}
	return "no stickiness"
}

// setupGroup creates the function's Url5xxCount alarm on live (Sum ≥ 1 over one 1-second period, a Sluice
// extension), an application and a deployment group with the 10% canary and rollback on that alarm, as
// test/e2e's TestFunctionURLCanary does.
func setupGroup(ctx context.Context, c *clients, fn string) error {
	if _, err := c.cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String(alarmFor(fn)),
		Namespace: aws.String("AWS/Lambda"), MetricName: aws.String("Url5xxCount"), Statistic: cwtypes.StatisticSum,
		Dimensions: []cwtypes.Dimension{{Name: aws.String("FunctionName"), Value: aws.String(fn)},
			{Name: aws.String("Resource"), Value: aws.String(fn + ":live")}},
		Period: aws.Int32(1), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(1), TreatMissingData: aws.String("notBreaching"),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold}); err != nil {
		return err
	}
	if _, err := c.cd.CreateApplication(ctx, &codedeploy.CreateApplicationInput{ApplicationName: aws.String(fn),
		ComputePlatform: cdtypes.ComputePlatformLambda}); err != nil {
		return err
	}
	_, err := c.cd.CreateDeploymentGroup(ctx, &codedeploy.CreateDeploymentGroupInput{ApplicationName: aws.String(fn),
		DeploymentGroupName: aws.String("live"), ServiceRoleArn: aws.String(benchiam.CodeDeployRole),
		DeploymentConfigName: aws.String(canaryConfig),
		DeploymentStyle:      &cdtypes.DeploymentStyle{DeploymentType: cdtypes.DeploymentTypeBlueGreen, DeploymentOption: cdtypes.DeploymentOptionWithTrafficControl},
		AlarmConfiguration:   &cdtypes.AlarmConfiguration{Enabled: true, Alarms: []cdtypes.Alarm{{Name: aws.String(alarmFor(fn))}}},
		AutoRollbackConfiguration: &cdtypes.AutoRollbackConfiguration{Enabled: true,
			Events: []cdtypes.AutoRollbackEvent{cdtypes.AutoRollbackEventDeploymentFailure, cdtypes.AutoRollbackEventDeploymentStopOnAlarm}}})
	return err
}

func createDeployment(ctx context.Context, c *clients, fn, current, target string) (string, error) {
	spec := fmt.Sprintf("version: 0.0\nResources:\n  - %s:\n      Type: AWS::Lambda::Function\n      Properties:\n        Name: %s\n        Alias: live\n        CurrentVersion: %q\n        TargetVersion: %q\n",
		fn, fn, current, target)
	out, err := c.cd.CreateDeployment(ctx, &codedeploy.CreateDeploymentInput{ApplicationName: aws.String(fn), DeploymentGroupName: aws.String("live"),
		Revision: &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeAppSpecContent,
			AppSpecContent: &cdtypes.AppSpecContent{Content: aws.String(spec)}}})
	if err != nil {
		return "", fmt.Errorf("CreateDeployment %s → %s: %w", current, target, err)
	}
	return aws.ToString(out.DeploymentId), nil
}

// waitDeployment waits for a deployment to end and returns its status and its rollback deployment's ID, if any.
func waitDeployment(ctx context.Context, c *clients, id string) (status, rollbackID string, err error) {
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		out, err := c.cd.GetDeployment(ctx, &codedeploy.GetDeploymentInput{DeploymentId: aws.String(id)})
		if err != nil {
			return "", "", err
		}
		d := out.DeploymentInfo
		switch d.Status {
		case cdtypes.DeploymentStatusSucceeded, cdtypes.DeploymentStatusFailed, cdtypes.DeploymentStatusStopped:
			if d.RollbackInfo != nil {
				rollbackID = aws.ToString(d.RollbackInfo.RollbackDeploymentId)
			}
			return string(d.Status), rollbackID, nil
		}
		if err := sleep(ctx, 50*time.Millisecond); err != nil {
			return "", "", err
		}
	}
	return "", "", fmt.Errorf("deployment %s did not end within 2 minutes", id)
}

// waitAlarm waits for an alarm to be in a state (the next canary must start with the alarm back in OK).
func waitAlarm(ctx context.Context, c *clients, name string, want cwtypes.StateValue, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		out, err := c.cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{name}})
		if err != nil {
			return err
		}
		if len(out.MetricAlarms) == 1 && out.MetricAlarms[0].StateValue == want {
			return nil
		}
		if err := sleep(ctx, 50*time.Millisecond); err != nil {
			return err
		}
	}
	return fmt.Errorf("alarm %s not %s within %s", name, want, timeout)
}

// aliasSample is one GetAlias of live: when it was sent and answered, its version and whether it was split.
type aliasSample struct {
	sent, recv time.Time
	version    string
	split      bool
}

// pollAlias reads live with GetAlias every interval (one call at a time: a slow answer delays the next) until done
// says so or timeout passes; it returns every sample.
func pollAlias(ctx context.Context, c *clients, fn string, interval, timeout time.Duration, done func(aliasSample) bool) []aliasSample {
	var out []aliasSample
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		s := aliasSample{sent: time.Now()}
		a, err := c.lambda.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String(fn), Name: aws.String("live")})
		s.recv = time.Now()
		if err == nil {
			s.version = aws.ToString(a.FunctionVersion)
			s.split = a.RoutingConfig != nil && len(a.RoutingConfig.AdditionalVersionWeights) > 0
			out = append(out, s)
			if done(s) {
				return out
			}
		}
		if d := interval - time.Since(s.sent); d > 0 {
			sleep(ctx, d)
		}
	}
	return out
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// errorKind shortens a transport error to a countable label.
func errorKind(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 && len(s)-i < 80 {
		s = s[i+2:]
	}
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return s
}

func sortBySent(recs []urlRecord) {
	slices.SortStableFunc(recs, func(a, b urlRecord) int { return a.sent.Compare(b.sent) })
}
