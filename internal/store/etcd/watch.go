package etcd

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/sluice-dev/sluice/internal/store"
)

func (s *Store) Watch(ctx context.Context, prefix string, fromRevision int64) (<-chan store.WatchResponse, error) {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return nil, store.ErrClosed
	}
	start, err := s.watchStart(ctx, fromRevision)
	if err != nil {
		select {
		case <-s.done:
			return nil, store.ErrClosed
		default:
			return nil, err
		}
	}
	// WithRequireLeader: a member cut off from its cluster ends the watch (the caller re-lists elsewhere) instead
	// of going silent.
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	w := &watch{
		s:      s,
		ctx:    ctx,
		cancel: cancel,
		prefix: s.root + prefix,
		etcd: s.client.Watch(wctx, s.root, clientv3.WithRange(clientv3.GetPrefixRangeEnd(s.root)),
			clientv3.WithRev(start), clientv3.WithProgressNotify()),
		out:     make(chan store.WatchResponse),
		lastRev: start - 1,
	}
	go w.run()
	return w.out, nil
}

// watchStart returns the first revision to deliver, or store.ErrCompacted when etcd no longer holds from.
func (s *Store) watchStart(ctx context.Context, from int64) (int64, error) {
	resp, err := s.client.Get(ctx, s.root, clientv3.WithCountOnly())
	if err != nil {
		return 0, fmt.Errorf("etcd store: watch: %w", err)
	}
	current := resp.Header.Revision
	switch {
	case from <= 0:
		return current + 1, nil // everything committed after Watch returns
	case from > current:
		return from, nil // etcd waits for it
	}
	// A read at from fails exactly when a watch from it would: from is older than the compaction.
	if _, err := s.client.Get(ctx, s.root, clientv3.WithCountOnly(), clientv3.WithRev(from)); err != nil {
		if isCompacted(err) {
			return 0, store.ErrCompacted
		}
		return 0, fmt.Errorf("etcd store: watch: %w", err)
	}
	return from, nil
}

// watch turns one etcd watch over the whole key space into the store.WatchResponses of one prefix.
type watch struct {
	s      *Store
	ctx    context.Context // the caller's: cancelling it closes out without an error
	cancel context.CancelFunc
	prefix string // etcd key prefix
	etcd   clientv3.WatchChan
	out    chan store.WatchResponse

	// queue holds what the reader has not taken yet; it is bounded by the Config's watch buffer.
	queue      []store.WatchResponse
	queueBytes int
	lastRev    int64 // the newest revision queued or delivered
}

func (w *watch) run() {
	defer close(w.out)
	defer w.cancel()
	ech := w.etcd
	var final error // once set, nothing more is read from etcd; the queue drains, then final is sent
	for {
		var send chan store.WatchResponse
		var head store.WatchResponse
		if len(w.queue) > 0 {
			send, head = w.out, w.queue[0]
		} else if final != nil {
			send, head = w.out, store.WatchResponse{Revision: w.lastRev, Err: final}
		}
		select {
		case <-w.ctx.Done():
			return
		case <-w.s.done:
			w.end(store.ErrClosed)
			return
		case send <- head:
			if len(w.queue) == 0 {
				return // that was the final error
			}
			w.queueBytes -= size(head)
			w.queue[0] = store.WatchResponse{}
			w.queue = w.queue[1:]
		case wr, ok := <-ech:
			err := w.receive(wr, ok)
			switch {
			case err == nil:
			case w.ctx.Err() != nil:
				return
			case err == store.ErrClosed || err == store.ErrLagged:
				w.end(err) // what is queued no longer matters
				return
			default:
				final, ech = err, nil
				w.cancel()
			}
		}
	}
}

// end drops what is queued and delivers err as the last response, unless the reader goes away first.
func (w *watch) end(err error) {
	w.cancel()
	w.queue = nil
	select {
	case w.out <- store.WatchResponse{Revision: w.lastRev, Err: err}:
	case <-w.ctx.Done():
	}
}

// receive queues one etcd response, or returns the error that ends the watch.
func (w *watch) receive(wr clientv3.WatchResponse, ok bool) error {
	if !ok || wr.Canceled || wr.Err() != nil {
		select {
		case <-w.s.done:
			return store.ErrClosed
		default:
		}
		if err := w.ctx.Err(); err != nil {
			return err // the reader cancelled: run closes out without an error response
		}
		if wr.CompactRevision != 0 {
			return store.ErrCompacted
		}
		return fmt.Errorf("etcd store: watch ended (%v): %w", wr.Err(), store.ErrLagged)
	}
	if wr.IsProgressNotify() {
		w.progress(wr.Header.Revision)
		return w.checkLag()
	}
	// etcd keeps a revision's events in one response; group them per revision.
	events := wr.Events
	for len(events) > 0 {
		rev := events[0].Kv.ModRevision
		n := 1
		for n < len(events) && events[n].Kv.ModRevision == rev {
			n++
		}
		if err := w.commit(rev, events[:n]); err != nil {
			return err
		}
		events = events[n:]
	}
	return w.checkLag()
}

// commit queues one revision's events under the prefix, or a progress notification when there are none. It
// fails when a large value's chunks were swept before the watch reached it (store.ErrCompacted: re-list).
func (w *watch) commit(rev int64, events []*clientv3.Event) error {
	if rev <= w.lastRev {
		return nil
	}
	var out []store.Event
	for _, ev := range events {
		k := string(ev.Kv.Key)
		if k == w.s.root || !strings.HasPrefix(k, w.prefix) {
			continue
		}
		e := store.Event{Key: k[len(w.s.root):], Revision: rev, Type: store.EventPut, Value: ev.Kv.Value}
		if ev.Type == mvccpb.DELETE {
			e.Type, e.Value = store.EventDelete, nil
		} else if e.Value == nil {
			e.Value = []byte{} // a put of an empty value is still a value
		} else {
			v, err := w.s.decodeValue(w.ctx, e.Value)
			if errors.Is(err, store.ErrCompacted) {
				return err
			}
			if err != nil { // the reader re-lists, as after any watch that ended early
				return fmt.Errorf("%v: %w", err, store.ErrLagged)
			}
			e.Value = v
		}
		out = append(out, e)
	}
	if len(out) == 0 {
		w.progress(rev)
		return nil
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	resp := store.WatchResponse{Revision: rev, Events: out}
	w.queue = append(w.queue, resp)
	w.queueBytes += size(resp)
	w.lastRev = rev
	return nil
}

// progress queues a progress notification, folding it into one already waiting at the tail.
func (w *watch) progress(rev int64) {
	if rev <= w.lastRev {
		return
	}
	w.lastRev = rev
	if n := len(w.queue); n > 0 && len(w.queue[n-1].Events) == 0 {
		w.queue[n-1].Revision = rev
		return
	}
	w.queue = append(w.queue, store.WatchResponse{Revision: rev})
}

func (w *watch) checkLag() error {
	if len(w.queue) > w.s.cfg.WatchBufferResponses || w.queueBytes > w.s.cfg.WatchBufferBytes {
		return store.ErrLagged
	}
	return nil
}

func size(r store.WatchResponse) int {
	n := 0
	for _, e := range r.Events {
		n += len(e.Key) + len(e.Value)
	}
	return n
}
