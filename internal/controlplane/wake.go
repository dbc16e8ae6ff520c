package controlplane

import (
	"context"
	"time"
)

// followWork wakes the processor for work another process queued (in a cluster, API calls on other nodes queue
// it; one node's processor settles it): a watch of the work/ prefix kicks it on every new entry. A watch that ends
// (compaction, a lagging reader) is opened again after a kick, so nothing queued in between waits for long.
func (s *Service) followWork(ctx context.Context) {
	for ctx.Err() == nil {
		ch, err := s.store.Watch(ctx, workPrefix, 0)
		if err == nil {
			s.kick() // covers what was queued while no watch was open
			for resp := range ch {
				if len(resp.Events) > 0 {
					s.kick()
				}
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}
