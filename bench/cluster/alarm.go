package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/sluice-dev/sluice/bench/internal/alarmhistory"
)

// record is one invocation of the load: when it started and ended, through which node, which version ran it and
// whether it failed.
type record struct {
	start, end time.Time
	node       int
	version    string
	failed     bool
}

// alarmRun is one defective canary (10% to version 2, every invocation of which fails) with errors arriving
// through every node.
type alarmRun struct {
	label          string
	errorsByNode   []int         // erroring invocations that ended before the alias was seen restored, by node
	firstErr       time.Time     // the end of the first erroring invocation (client clock, same machine)
	periodEnd      time.Time     // the end of the 1-s period holding it: when its datapoint is complete
	alarmAt        time.Time     // the alarm's change to ALARM (its history item: the server's clock)
	decided        time.Time     // the deployment's "rollback" timeline entry: the controller's decision
	leaders        string        // in a cluster, which nodes led the alarms and deployments jobs
	restored       time.Time     // a GetAlias answered with the alias back on version 1 unsplit
	toRestored     time.Duration // firstErr → restored: the measure
	periodToRest   time.Duration // periodEnd → restored
	status, rbStat string
	invocations    int
}

// measureAlarm offers load invocations/s (workers closed-loop workers, paced) through alias live, each invocation
// through the next node in turn, deploys the defective version 2 as a 10% canary watched by the Errors alarm, and
// measures from the first erroring invocation's end to the alias seen back on version 1 (GetAlias through
// nodes[0] every poll).
func measureAlarm(ctx context.Context, label string, nodes []*node, load float64, workers int, poll time.Duration) (alarmRun, error) {
	r := alarmRun{label: label, errorsByNode: make([]int, len(nodes))}
	if err := waitAlarmState(ctx, nodes[0], "OK", 30*time.Second); err != nil {
		return r, err
	}
	if err := ensureHealthyAlias(ctx, nodes[0]); err != nil {
		return r, err
	}
	var (
		mu   sync.Mutex
		recs []record
		seq  atomic.Int64
		wg   sync.WaitGroup
	)
	lctx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	interval := time.Duration(float64(workers) / load * float64(time.Second))
	for w := range workers {
		wg.Go(func() {
			next := time.Now().Add(time.Duration(w) * interval / time.Duration(workers))
			for lctx.Err() == nil {
				if d := time.Until(next); d > 0 {
					time.Sleep(d)
				}
				next = next.Add(interval)
				i := int(seq.Add(1)) % len(nodes)
				rec := record{start: time.Now(), node: i}
				out, err := nodes[i].invoke.Invoke(lctx, &lambda.InvokeInput{FunctionName: aws.String(fnName), Qualifier: aws.String(aliasName), Payload: []byte("{}")})
				rec.end = time.Now()
				if err != nil {
					if lctx.Err() != nil {
						return
					}
					rec.failed = true
				} else {
					rec.version, rec.failed = aws.ToString(out.ExecutedVersion), out.FunctionError != nil
				}
				mu.Lock()
				recs = append(recs, rec)
				mu.Unlock()
			}
		})
	}
	defer wg.Wait()
	time.Sleep(1500 * time.Millisecond) // the load settles before the deployment

	if label != "embedded" {
		if st, err := nodes[0].status(ctx); err == nil {
			r.leaders = fmt.Sprintf("alarms %s, deployments %s", st.Leaders["alarms"], st.Leaders["deployments"])
		}
	}
	created := time.Now()
	id, err := createDeployment(ctx, nodes[len(nodes)-1], canaryGroup, healthy, defective)
	if err != nil {
		return r, err
	}
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	split := false
	pollAlias(wctx, nodes[0], poll, func(s aliasSample) bool {
		if len(s.weights) > 0 {
			split = true
		} else if split && s.version == healthy {
			r.restored = s.recv
			return true
		}
		return false
	})
	cancel()
	time.Sleep(300 * time.Millisecond)
	stopLoad()
	wg.Wait()
	if r.restored.IsZero() {
		return r, fmt.Errorf("%s: the alias was not seen restored within a minute of deployment %s", label, id)
	}
	for _, x := range recs {
		if x.start.Before(created) {
			continue
		}
		r.invocations++
		if x.failed && x.end.Before(r.restored) {
			r.errorsByNode[x.node]++
			if r.firstErr.IsZero() || x.end.Before(r.firstErr) {
				r.firstErr = x.end
			}
		}
	}
	if r.firstErr.IsZero() {
		return r, fmt.Errorf("%s: no erroring invocation before the rollback", label)
	}
	r.periodEnd = r.firstErr.Truncate(time.Second).Add(time.Second)
	r.toRestored, r.periodToRest = r.restored.Sub(r.firstErr), r.restored.Sub(r.periodEnd)
	if r.alarmAt, err = alarmhistory.WentOff(ctx, nodes[0].cw, alarmName, created); err != nil {
		return r, err
	}
	dep, err := waitDeployment(ctx, nodes[0], id, time.Minute)
	if err != nil {
		return r, err
	}
	r.status = string(dep.Status)
	if r.decided, err = timelineAt(ctx, nodes[0], id, "rollback"); err != nil {
		return r, err
	}
	if dep.RollbackInfo != nil && dep.RollbackInfo.RollbackDeploymentId != nil {
		rb, err := waitDeployment(ctx, nodes[0], aws.ToString(dep.RollbackInfo.RollbackDeploymentId), time.Minute)
		if err != nil {
			return r, err
		}
		r.rbStat = string(rb.Status)
	}
	return r, nil
}
