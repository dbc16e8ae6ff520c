package main

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/sluice-dev/sluice/internal/cluster"
)

// failoverRun is one kill of the deployment controller's leader during a linear shift.
type failoverRun struct {
	leader      string
	weightKill  float64       // the target's weight when the leader was killed
	stepGap     time.Duration // median time between weight changes seen before the kill (the schedule's step)
	newLeader   time.Duration // kill → DescribeCluster on a survivor names another leader
	moved       time.Duration // kill → a survivor's GetAlias shows the weight changed again
	status      string        // how the deployment ended
	restartedOK bool
}

// measureFailover runs a linear deployment (1% more every configured minute) of fn:live from 1 to 3 on the
// cluster; once the target has killWeight, it kills (SIGKILL) the node leading the deployments job and measures
// how long until another node leads it and until the alias weight changes again, seen from a survivor polling
// GetAlias every poll. The deployment is followed to its end and the killed node restarted on its data dir.
func measureFailover(ctx context.Context, nodes []*node, killWeight float64, poll time.Duration) (failoverRun, error) {
	var r failoverRun
	var leader, watcher *node
	for deadline := time.Now().Add(30 * time.Second); leader == nil; time.Sleep(50 * time.Millisecond) {
		name := nodes[0].leader(ctx, cluster.JobDeployments)
		for _, n := range nodes {
			if n.name == name {
				leader = n
			}
		}
		if time.Now().After(deadline) {
			return r, fmt.Errorf("no leader of %s after 30 s", cluster.JobDeployments)
		}
	}
	for _, n := range nodes {
		if n != leader && watcher == nil {
			watcher = n
		}
	}
	r.leader = leader.name
	if err := ensureHealthyAlias(ctx, watcher); err != nil {
		return r, err
	}
	time.Sleep(200 * time.Millisecond)
	created := time.Now()
	id, err := createDeployment(ctx, watcher, linearGroup, healthy, healthy2)
	if err != nil {
		return r, err
	}

	samples := make(chan aliasSample, 1<<16)
	pctx, stopPoll := context.WithCancel(ctx)
	defer stopPoll()
	go pollAlias(pctx, watcher, poll, func(s aliasSample) bool { samples <- s; return false })
	// next returns the poller's next answer; false when none came for a minute (a survivor that stopped answering).
	next := func() (aliasSample, bool) {
		select {
		case s := <-samples:
			return s, true
		case <-time.After(time.Minute):
			return aliasSample{}, false
		}
	}
	var changes []time.Time
	last := -1.0
	for {
		s, ok := next()
		if !ok {
			return r, fmt.Errorf("%s stopped answering GetAlias", watcher.name)
		}
		w := s.weights[healthy2]
		if w != last {
			changes, last = append(changes, s.recv), w
		}
		if w >= killWeight {
			r.weightKill = w
			break
		}
		if time.Since(created) > time.Minute {
			return r, fmt.Errorf("deployment %s did not reach %.2f", id, killWeight)
		}
	}
	if len(changes) > 2 {
		gaps := make([]time.Duration, 0, len(changes)-2)
		for i := 2; i < len(changes); i++ { // the first change is the deployment's start
			gaps = append(gaps, changes[i].Sub(changes[i-1]))
		}
		r.stepGap = median(gaps)
	}

	killAt := leader.kill()
	leaderSeen := make(chan time.Duration, 1)
	go func() {
		for pctx.Err() == nil {
			if name := watcher.leader(pctx, cluster.JobDeployments); name != "" && name != leader.name {
				leaderSeen <- time.Since(killAt)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		leaderSeen <- -1
	}()
	// The dead leader's last write may still be on its way: the weight to compare with is the one seen 50 ms after
	// the kill, when no node leads the job (another only can once the dead one's lease has expired).
	baseline := -1.0
	for {
		s, ok := next()
		if !ok {
			return r, fmt.Errorf("%s stopped answering GetAlias after the kill", watcher.name)
		}
		if s.sent.Before(killAt.Add(50 * time.Millisecond)) {
			continue
		}
		w := s.weights[healthy2]
		if s.version == healthy2 && len(s.weights) == 0 {
			w = 1
		}
		if baseline < 0 {
			baseline = w
			continue
		}
		if w != baseline {
			r.moved = s.recv.Sub(killAt)
			break
		}
		if s.sent.Sub(killAt) > time.Minute {
			return r, fmt.Errorf("deployment %s did not move within a minute of the kill", id)
		}
	}
	r.newLeader = <-leaderSeen
	stopPoll()
	dep, err := waitDeployment(ctx, watcher, id, 2*time.Minute)
	if err != nil {
		return r, err
	}
	r.status = string(dep.Status)
	if err := leader.start(ctx); err != nil {
		log.Printf("restarting %s: %v", leader.name, err)
	} else {
		r.restartedOK = true
	}
	return r, nil
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sortDurations(s)
	return s[len(s)/2]
}
