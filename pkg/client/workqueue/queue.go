package workqueue

import (
	"sync"
	"time"
)

// Queue is a rate-limited work queue of string keys. It is safe for use by
// many goroutines. The zero value is not usable; create one with New or
// NewWithRateLimiter. A Queue cannot be restarted after ShutDown.
type Queue struct {
	name    string
	limiter RateLimiter

	mu   sync.Mutex
	cond *sync.Cond // signalled when queue grows or shuttingDown is set
	// queue holds the keys ready for Get, in FIFO order. Invariant: every
	// key in queue is in dirty and not in processing, and appears once.
	queue []string
	// dirty holds the keys that need processing: those in queue, plus those
	// added again while a worker was processing them.
	dirty map[string]struct{}
	// processing holds the keys handed out by Get and not yet Done.
	processing map[string]struct{}
	// waiting holds the keys added with a delay that has not yet elapsed,
	// one entry per key: the earliest wake-up wins.
	waiting      map[string]*delayed
	shuttingDown bool
}

// delayed is one pending AddAfter: the key is added when timer fires,
// unless the entry was superseded by an earlier AddAfter of the same key.
type delayed struct {
	at    time.Time
	timer *time.Timer
}

// New returns a Queue named name (for logs and metrics) that uses
// DefaultRateLimiter for AddRateLimited.
func New(name string) *Queue {
	return NewWithRateLimiter(name, DefaultRateLimiter())
}

// NewWithRateLimiter returns a Queue that asks rl how long to delay each
// AddRateLimited.
func NewWithRateLimiter(name string, rl RateLimiter) *Queue {
	q := &Queue{
		name:       name,
		limiter:    rl,
		dirty:      map[string]struct{}{},
		processing: map[string]struct{}{},
		waiting:    map[string]*delayed{},
	}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// Name returns the name the Queue was created with.
func (q *Queue) Name() string { return q.name }

// Add marks key as needing processing. If key is already queued it keeps
// its place; if a worker is processing it, it is queued again on Done.
// After ShutDown, Add does nothing.
func (q *Queue) Add(key string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.addLocked(key)
}

func (q *Queue) addLocked(key string) {
	if q.shuttingDown {
		return
	}
	if _, ok := q.dirty[key]; ok {
		return // already queued, or already due to be requeued on Done
	}
	q.dirty[key] = struct{}{}
	if _, ok := q.processing[key]; ok {
		return // Done will queue it: never two workers on one key
	}
	q.queue = append(q.queue, key)
	q.cond.Signal()
}

// AddAfter adds key once d has elapsed; d <= 0 adds it now. If key is
// already waiting, the earlier of the two wake-ups is kept.
func (q *Queue) AddAfter(key string, d time.Duration) {
	if d <= 0 {
		q.Add(key)
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.shuttingDown {
		return
	}
	at := time.Now().Add(d)
	if w, ok := q.waiting[key]; ok {
		if !at.Before(w.at) {
			return // an earlier wake-up is already set
		}
		w.timer.Stop()
	}
	w := &delayed{at: at}
	// The callback takes q.mu, so it cannot observe q.waiting before the
	// assignment below even if the timer fires at once.
	w.timer = time.AfterFunc(d, func() { q.fire(key, w) })
	q.waiting[key] = w
}

// fire adds a delayed key, unless w was superseded or the queue shut down.
func (q *Queue) fire(key string, w *delayed) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.waiting[key] != w {
		return
	}
	delete(q.waiting, key)
	q.addLocked(key)
}

// AddRateLimited adds key after the delay the rate limiter gives it: for
// the default limiter, a delay that doubles with each call for the same key
// until Forget is called.
func (q *Queue) AddRateLimited(key string) {
	q.AddAfter(key, q.limiter.When(key))
}

// Forget tells the rate limiter that key was processed successfully, so
// its backoff starts again from the base delay. It does not remove key from
// the queue.
func (q *Queue) Forget(key string) { q.limiter.Forget(key) }

// NumRequeues returns how many times key was rate-limited since its last
// Forget.
func (q *Queue) NumRequeues(key string) int { return q.limiter.NumRequeues(key) }

// Get blocks until a key is ready and hands it to the caller, who must call
// Done(key) when finished with it. It returns shutdown=true, at once, when
// the queue is shutting down and no key is ready; keys that were ready
// before ShutDown are still handed out first.
func (q *Queue) Get() (key string, shutdown bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.queue) == 0 && !q.shuttingDown {
		q.cond.Wait()
	}
	if len(q.queue) == 0 {
		return "", true
	}
	key = q.queue[0]
	q.queue[0] = "" // let the backing array drop its reference
	q.queue = q.queue[1:]
	q.processing[key] = struct{}{}
	delete(q.dirty, key)
	return key, false
}

// Done marks key as no longer being processed. If key was added while it
// was being processed, it is queued again now.
func (q *Queue) Done(key string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.processing, key)
	if _, ok := q.dirty[key]; ok {
		q.queue = append(q.queue, key)
		q.cond.Signal()
	}
}

// Len returns the number of keys ready for Get (not those waiting for a
// delay, nor those being processed).
func (q *Queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.queue)
}

// ShutDown makes the queue ignore new keys, drops the keys still waiting
// for a delay, and wakes every blocked Get: each returns the remaining
// ready keys and then shutdown=true. ShutDown may be called more than once.
func (q *Queue) ShutDown() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.shuttingDown = true
	for key, w := range q.waiting {
		w.timer.Stop()
		delete(q.waiting, key)
	}
	q.cond.Broadcast()
}

// ShuttingDown reports whether ShutDown has been called.
func (q *Queue) ShuttingDown() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.shuttingDown
}
