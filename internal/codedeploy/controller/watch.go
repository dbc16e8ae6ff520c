package controller

import (
	"context"
	"errors"
	"strings"

	"github.com/sluice-dev/sluice/internal/store"
)

// WatchDeployments tells a reader (the web console's live pages) which deployments' records changed, from the
// store's watch of cd/dep/, whichever process committed the change. Each value is the IDs one commit changed; a
// nil value means "any may have changed" (the watch fell behind and was started again). The channel closes when ctx
// ends or the store closes.
func (c *Controller) WatchDeployments(ctx context.Context) (<-chan []string, error) {
	ch, err := c.o.Store.Watch(ctx, prefixDep, 0)
	if err != nil {
		return nil, err
	}
	out := make(chan []string, 1)
	go func() {
		defer close(out)
		for {
			for resp := range ch {
				if resp.Err != nil {
					break
				}
				if len(resp.Events) == 0 {
					continue
				}
				ids := make([]string, 0, len(resp.Events))
				for _, e := range resp.Events {
					ids = append(ids, strings.TrimPrefix(e.Key, prefixDep))
				}
				select {
				case out <- ids:
				case <-ctx.Done():
					return
				}
			}
			if ctx.Err() != nil {
				return
			}
			// Behind (ErrLagged): start again from now, and say that anything may have changed meanwhile.
			if ch, err = c.o.Store.Watch(ctx, prefixDep, 0); err != nil {
				if !errors.Is(err, store.ErrClosed) {
					c.log.Warn("watch deployments", "err", err)
				}
				return
			}
			select {
			case out <- nil:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}
