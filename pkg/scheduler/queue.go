package scheduler

import (
	"container/heap"
	"sync"
	"time"
)

// Queue holds the keys of the pods waiting for a node, in three parts
// (kube-scheduler's PriorityQueue, reduced):
//
//   - active: ready to try now; Pop takes the highest priority first, and
//     the longest waiting among equals.
//   - backoff: failed recently; each waits its own backoff, InitialBackoff
//     doubling with every failed attempt up to MaxBackoff, so a pod that
//     keeps failing costs little and a crowd of them does not retry in
//     lockstep.
//   - unschedulable: fitted on no node. Retrying it is pointless until the
//     cluster changes, so it waits for MoveAll (a node came or changed, a
//     pod left a node) or, as a safety net, for UnschedulableTimeout.
//
// A popped key is "in flight" until Done, AddBackoff or AddUnschedulable:
// Add does not queue it a second time meanwhile, so one pod is never
// scheduled twice at once.
//
// The Queue starts no goroutine: the owner calls Flush periodically to
// move pods whose wait is over, and Close to release Pop.
type Queue struct {
	// InitialBackoff and MaxBackoff bound a pod's backoff
	// (kube-scheduler's defaults: 1 s and 10 s).
	InitialBackoff, MaxBackoff time.Duration
	// UnschedulableTimeout is the longest a pod stays unschedulable
	// without a cluster change (kube-scheduler: 5 minutes).
	UnschedulableTimeout time.Duration

	now func() time.Time

	mu   sync.Mutex
	cond *sync.Cond
	// Every key is in at most one of active, backoff, unschedulable and
	// inFlight.
	active        podHeap // by priority, then seq
	backoff       podHeap // by readyAt
	unschedulable map[string]*queuedPod
	inFlight      map[string]*queuedPod
	seq           int64
	// cycle counts Pops; moveCycle is the cycle of the last MoveAll. A
	// pod popped at or before moveCycle failed against a cluster that has
	// changed since, so it goes to backoff rather than unschedulable:
	// otherwise a change that came while it was being scheduled would be
	// missed and it could wait for the timeout.
	cycle, moveCycle int64
	closed           bool
}

type queuedPod struct {
	key      string
	priority int32
	seq      int64     // order of entry into active
	readyAt  time.Time // end of backoff
	since    time.Time // entry into unschedulable
	attempts int       // failed attempts so far
	// changed: the pod's spec changed while it was in flight.
	changed bool
	index   int // position in its heap
}

// NewQueue returns an empty Queue using now as its clock (time.Now if nil).
func NewQueue(now func() time.Time) *Queue {
	if now == nil {
		now = time.Now
	}
	q := &Queue{
		InitialBackoff: time.Second, MaxBackoff: 10 * time.Second, UnschedulableTimeout: 5 * time.Minute,
		now: now,
		active: podHeap{less: func(a, b *queuedPod) bool {
			return a.priority > b.priority || a.priority == b.priority && a.seq < b.seq
		}},
		backoff:       podHeap{less: func(a, b *queuedPod) bool { return a.readyAt.Before(b.readyAt) }},
		unschedulable: map[string]*queuedPod{},
		inFlight:      map[string]*queuedPod{},
	}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// Add queues a new pending pod. A key already queued or in flight is left
// where it is.
func (q *Queue) Add(key string, priority int32) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.findLocked(key) != nil {
		return
	}
	q.pushActiveLocked(&queuedPod{key: key, priority: priority})
}

// Update tells the queue a pending pod's spec or labels changed, which may
// make it fit where it did not: an unschedulable pod becomes active (or
// backs off, if its backoff is not over), and one in flight is marked so
// that a failure sends it to backoff, not unschedulable.
func (q *Queue) Update(key string, priority int32) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if p := q.inFlight[key]; p != nil {
		p.changed = true
		return
	}
	if p := q.unschedulable[key]; p != nil {
		delete(q.unschedulable, key)
		p.priority = priority
		q.requeueLocked(p)
		return
	}
	if q.findLocked(key) == nil {
		q.pushActiveLocked(&queuedPod{key: key, priority: priority})
	}
}

// Delete forgets key wherever it is (the pod was bound or deleted).
func (q *Queue) Delete(key string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.deleteLocked(key)
}

// Pop waits for an active pod and returns its key and the scheduling
// cycle it starts; ok is false once the queue is closed.
func (q *Queue) Pop() (key string, cycle int64, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.active.Len() == 0 && !q.closed {
		q.cond.Wait()
	}
	if q.closed {
		return "", 0, false
	}
	p := heap.Pop(&q.active).(*queuedPod)
	p.changed = false
	q.cycle++
	q.inFlight[p.key] = p
	return p.key, q.cycle, true
}

// Done ends the flight of key: it was bound, or needs nothing more. If
// its spec changed meanwhile it is queued again.
func (q *Queue) Done(key string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	p := q.inFlight[key]
	if p == nil {
		return
	}
	delete(q.inFlight, key)
	if p.changed {
		p.attempts = 0
		q.pushActiveLocked(p)
	}
}

// AddBackoff requeues a key in flight after a failure that may be
// transient (an API error): it waits out its backoff.
func (q *Queue) AddBackoff(key string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	p := q.inFlight[key]
	if p == nil {
		return
	}
	delete(q.inFlight, key)
	p.attempts++
	q.pushBackoffLocked(p)
}

// AddUnschedulable requeues a key in flight that fitted nowhere in the
// given cycle: it waits for the cluster to change, unless it already has
// since the cycle began or the pod itself changed.
func (q *Queue) AddUnschedulable(key string, cycle int64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	p := q.inFlight[key]
	if p == nil {
		return
	}
	delete(q.inFlight, key)
	p.attempts++
	if p.changed || q.moveCycle >= cycle {
		q.pushBackoffLocked(p)
		return
	}
	p.since = q.now()
	q.unschedulable[key] = p
}

// MoveAll sends every unschedulable pod back to be tried again, because
// the cluster changed in a way that may let it fit. Pods still within
// their backoff go to backoff.
func (q *Queue) MoveAll() {
	q.mu.Lock()
	defer q.mu.Unlock()
	for key, p := range q.unschedulable {
		delete(q.unschedulable, key)
		q.requeueLocked(p)
	}
	q.moveCycle = q.cycle
}

// Flush moves the pods whose backoff is over to active, and the pods
// unschedulable for longer than UnschedulableTimeout back into play.
func (q *Queue) Flush() {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.now()
	for q.backoff.Len() > 0 && !q.backoff.items[0].readyAt.After(now) {
		q.pushActiveLocked(heap.Pop(&q.backoff).(*queuedPod))
	}
	for key, p := range q.unschedulable {
		if now.Sub(p.since) >= q.UnschedulableTimeout {
			delete(q.unschedulable, key)
			q.requeueLocked(p)
		}
	}
}

// Close releases Pop for good.
func (q *Queue) Close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	q.cond.Broadcast()
}

// Len returns how many pods are active, backing off and unschedulable.
func (q *Queue) Len() (active, backoff, unschedulable int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.active.Len(), q.backoff.Len(), len(q.unschedulable)
}

// requeueLocked puts a pod leaving unschedulable into backoff if its
// backoff is not over yet, else into active.
func (q *Queue) requeueLocked(p *queuedPod) {
	p.readyAt = p.since.Add(q.backoffFor(p.attempts))
	if p.readyAt.After(q.now()) {
		heap.Push(&q.backoff, p)
		return
	}
	q.pushActiveLocked(p)
}

func (q *Queue) pushActiveLocked(p *queuedPod) {
	q.seq++
	p.seq = q.seq
	heap.Push(&q.active, p)
	q.cond.Signal()
}

func (q *Queue) pushBackoffLocked(p *queuedPod) {
	p.since = q.now()
	p.readyAt = p.since.Add(q.backoffFor(p.attempts))
	heap.Push(&q.backoff, p)
}

// backoffFor is InitialBackoff doubled for each failed attempt after the
// first, capped at MaxBackoff.
func (q *Queue) backoffFor(attempts int) time.Duration {
	d := q.InitialBackoff
	for i := 1; i < attempts && d < q.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, q.MaxBackoff)
}

func (q *Queue) findLocked(key string) *queuedPod {
	if p := q.inFlight[key]; p != nil {
		return p
	}
	if p := q.unschedulable[key]; p != nil {
		return p
	}
	if p := q.active.find(key); p != nil {
		return p
	}
	return q.backoff.find(key)
}

func (q *Queue) deleteLocked(key string) {
	delete(q.inFlight, key)
	delete(q.unschedulable, key)
	if p := q.active.find(key); p != nil {
		heap.Remove(&q.active, p.index)
	}
	if p := q.backoff.find(key); p != nil {
		heap.Remove(&q.backoff, p.index)
	}
}

// podHeap is a container/heap of queued pods with an index by key.
type podHeap struct {
	items []*queuedPod
	byKey map[string]*queuedPod
	less  func(a, b *queuedPod) bool
}

func (h *podHeap) find(key string) *queuedPod { return h.byKey[key] }
func (h *podHeap) Len() int                   { return len(h.items) }
func (h *podHeap) Less(i, j int) bool         { return h.less(h.items[i], h.items[j]) }
func (h *podHeap) Swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	h.items[i].index, h.items[j].index = i, j
}

func (h *podHeap) Push(x any) {
	p := x.(*queuedPod)
	if h.byKey == nil {
		h.byKey = map[string]*queuedPod{}
	}
	p.index = len(h.items)
	h.items = append(h.items, p)
	h.byKey[p.key] = p
}

func (h *podHeap) Pop() any {
	p := h.items[len(h.items)-1]
	h.items[len(h.items)-1] = nil
	h.items = h.items[:len(h.items)-1]
	delete(h.byKey, p.key)
	return p
}
