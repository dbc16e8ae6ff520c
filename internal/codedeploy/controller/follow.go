package controller

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/sluice-dev/sluice/internal/codedeploy"
	"github.com/sluice-dev/sluice/internal/store"
)

// FollowDeployments calls fn with each deployment record written from now on, after calling it with every
// deployment created within the last `recent` (so a consumer that missed changes while its process was down
// sees where they stand). It is for level-triggered consumers — the server's trigger notifications, which send
// each event of a deployment once — and runs until ctx ends, listing again whenever the watch falls behind.
func (c *Controller) FollowDeployments(ctx context.Context, recent time.Duration, fn func(codedeploy.Deployment)) {
	for ctx.Err() == nil {
		rev, err := c.listRecent(ctx, c.o.Now().Add(-recent), fn)
		if err == nil {
			err = c.watchDeployments(ctx, rev+1, fn)
		}
		if ctx.Err() != nil || errors.Is(err, store.ErrClosed) {
			return
		}
		c.log.Warn("follow deployments: listing again", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

func (c *Controller) listRecent(ctx context.Context, since time.Time, fn func(codedeploy.Deployment)) (int64, error) {
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
	for _, d := range deps {
		fn(d)
	}
	return rev, err
}

func (c *Controller) watchDeployments(ctx context.Context, from int64, fn func(codedeploy.Deployment)) error {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch, err := c.o.Store.Watch(wctx, prefixDep, from)
	if err != nil {
		return err
	}
	for resp := range ch {
		if resp.Err != nil {
			return resp.Err
		}
		for _, ev := range resp.Events {
			var d codedeploy.Deployment
			if ev.Type == store.EventPut && json.Unmarshal(ev.Value, &d) == nil {
				fn(d)
			}
		}
	}
	return ctx.Err()
}
