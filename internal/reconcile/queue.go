package reconcile

import "sync"

// Queue is a work queue of keys in controller-runtime's model: a key queued twice before a worker takes it is
// processed once; a key is processed by at most one worker at a time; a key added while it is being processed is
// queued again when its worker is done with it. It does no I/O under its lock.
type Queue[K comparable] struct {
	mu         sync.Mutex
	cond       *sync.Cond
	order      []K        // keys waiting for a worker, oldest first
	dirty      map[K]bool // keys waiting, or added again while processed
	processing map[K]bool // keys a worker holds
	shutDown   bool
}

// NewQueue returns an empty queue.
func NewQueue[K comparable]() *Queue[K] {
	q := &Queue[K]{dirty: map[K]bool{}, processing: map[K]bool{}}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// Add queues k, unless it is queued already; a key being processed is queued again once it is Done.
func (q *Queue[K]) Add(k K) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.shutDown || q.dirty[k] {
		return
	}
	q.dirty[k] = true
	if q.processing[k] {
		return
	}
	q.order = append(q.order, k)
	q.cond.Signal()
}

// Get waits for a key and hands it to the caller, who must call Done with it; ok is false once the queue is shut
// down.
func (q *Queue[K]) Get() (k K, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.order) == 0 && !q.shutDown {
		q.cond.Wait()
	}
	if q.shutDown {
		return k, false
	}
	k, q.order = q.order[0], q.order[1:]
	delete(q.dirty, k)
	q.processing[k] = true
	return k, true
}

// Done ends the processing of k, queueing it again if it was added meanwhile.
func (q *Queue[K]) Done(k K) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.processing, k)
	if q.dirty[k] && !q.shutDown {
		q.order = append(q.order, k)
		q.cond.Signal()
	}
}

// ShutDown makes every Get return false and every Add a no-op.
func (q *Queue[K]) ShutDown() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.shutDown = true
	q.cond.Broadcast()
}

// Len reports how many keys wait for a worker.
func (q *Queue[K]) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.order)
}

// Reopen empties a queue that was shut down, for the next Run (in a cluster, the node's next leadership term);
// no worker may be using it.
func (q *Queue[K]) Reopen() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.shutDown = false
	q.order = nil
	q.dirty = map[K]bool{}
	q.processing = map[K]bool{}
}
