package controller

import (
	"context"
	"encoding/json"
	"time"

	"github.com/sluice-dev/sluice/internal/codedeploy"
	"github.com/sluice-dev/sluice/internal/reconcile"
	"github.com/sluice-dev/sluice/internal/store"
)

// FollowDeployments calls fn with each deployment record written from now on, after calling it with every
// deployment created within the last `recent` (so a consumer that missed changes while its process was down
// sees where they stand); a listing repeats when the watch falls behind, and every resync period. It is for
// level-triggered consumers — the server's trigger notifications, which send each event of a deployment once —
// and runs until ctx ends.
func (c *Controller) FollowDeployments(ctx context.Context, recent time.Duration, fn func(codedeploy.Deployment)) {
	list := func(ctx context.Context) (int64, error) {
		since := c.o.Now().Add(-recent)
		var (
			rev  int64
			deps []codedeploy.Deployment
		)
		err := c.o.Store.View(ctx, func(tx store.Tx) error {
			rev, deps = tx.Revision(), nil
			return tx.Scan(prefixDep, "", func(_ string, v []byte) (bool, error) {
				var d codedeploy.Deployment
				if err := json.Unmarshal(v, &d); err != nil {
					return false, err
				}
				if d.CreateTime.After(since) {
					deps = append(deps, d)
				}
				return true, nil
			})
		})
		if err != nil {
			return 0, err
		}
		for _, d := range deps {
			fn(d)
		}
		return rev, nil
	}
	apply := func(ev store.Event) {
		var d codedeploy.Deployment
		if ev.Type == store.EventPut && json.Unmarshal(ev.Value, &d) == nil {
			fn(d)
		}
	}
	reconcile.Follower{Store: c.o.Store, Prefix: prefixDep, List: list, Apply: apply, ResyncEvery: resyncEvery, RetryAfter: retryAfter,
		AfterFunc: c.o.AfterFunc, Logger: c.log}.Run(ctx)
}
