package cloudformation

import "sync"

// keyQueue is a work queue of keys in controller-runtime's model: a key queued twice before a worker takes it is
// processed once; a key is processed by at most one worker at a time; a key added while it is being processed is
// queued again when its worker is done with it.
type keyQueue struct {
	mu         sync.Mutex
	cond       *sync.Cond
	order      []string
	dirty      map[string]bool
	processing map[string]bool
	shutDown   bool
}

func newKeyQueue() *keyQueue {
	q := &keyQueue{dirty: map[string]bool{}, processing: map[string]bool{}}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// Add queues k unless it is queued already.
func (q *keyQueue) Add(k string) {
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

// Get waits for a key; ok is false once the queue is shut down.
func (q *keyQueue) Get() (k string, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.order) == 0 && !q.shutDown {
		q.cond.Wait()
	}
	if q.shutDown {
		return "", false
	}
	k, q.order = q.order[0], q.order[1:]
	delete(q.dirty, k)
	q.processing[k] = true
	return k, true
}

// Done ends the processing of k, queueing it again if it was added meanwhile.
func (q *keyQueue) Done(k string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.processing, k)
	if q.dirty[k] && !q.shutDown {
		q.order = append(q.order, k)
		q.cond.Signal()
	}
}

// ShutDown makes every Get return false.
func (q *keyQueue) ShutDown() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.shutDown = true
	q.cond.Broadcast()
}

// reopen empties a queue that was shut down, for the next Run (a node leads again).
func (q *keyQueue) reopen() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.shutDown, q.order, q.dirty, q.processing = false, nil, map[string]bool{}, map[string]bool{}
}
