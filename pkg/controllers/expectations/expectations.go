// Package expectations lets a controller that creates or deletes objects
// know when its informer cache has caught up with its own writes, so that a
// slow watch never makes it act twice (Kubernetes'
// UIDTrackingControllerExpectations). The ReplicaSet and DaemonSet
// controllers share it; controllers never import each other, so it lives
// in a package of its own.
package expectations

import (
	"sync"
	"time"
)

// TTL is how long a sync waits for the informer to show the
// creations and deletions it made before it stops trusting the record and
// acts on the cache again (Kubernetes' ExpectationsTimeout). A watch that
// lost an event must not wedge a ReplicaSet forever.
const TTL = 5 * time.Minute

// Expectations remembers, per owner key, the pod creations and
// deletions a sync has made and the informer has not yet reported. While
// any are outstanding the cache is known to be behind, so a sync must not
// create or delete pods from it: that is how a slow watch never leads to
// double creation. It is Kubernetes' UIDTrackingControllerExpectations:
// creations are counted (generateName means no name is known in advance),
// deletions are tracked by pod key so that seeing one deletion twice (the
// deletionTimestamp, then the DELETED event) counts once.
//
// It is safe for concurrent use by the handlers and the workers.
type Expectations struct {
	// Now is the clock (time.Now by default; tests may set it).
	Now func() time.Time

	mu sync.Mutex
	m  map[string]*expectation // by owner key
}

// Expectation is the outstanding work of one owner.
type expectation struct {
	adds int                 // creations not yet seen; may go below 0
	dels map[string]struct{} // keys of pods whose deletion is not yet seen
	at   time.Time           // when it was set, for the TTL
}

// New returns empty Expectations.
func New() *Expectations {
	return &Expectations{Now: time.Now, m: map[string]*expectation{}}
}

// Satisfied says whether a sync of key may trust the cache: nothing is
// outstanding, or the record has expired, or there is none (a new
// owner, or a restarted controller).
func (e *Expectations) Satisfied(key string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	x, ok := e.m[key]
	if !ok {
		return true
	}
	return x.adds <= 0 && len(x.dels) == 0 || e.Now().Sub(x.at) > TTL
}

// Expect replaces key's record: adds creations and the deletion of the
// pods with keys dels are in flight.
func (e *Expectations) Expect(key string, adds int, dels []string) {
	x := &expectation{adds: adds, dels: map[string]struct{}{}, at: e.Now()}
	for _, d := range dels {
		x.dels[d] = struct{}{}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.m[key] = x
}

// LowerAdds forgets n creations that will never be seen (they failed).
func (e *Expectations) LowerAdds(key string, n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x, ok := e.m[key]; ok {
		x.adds -= n
	}
}

// CreationObserved records that the informer showed one new pod of key.
func (e *Expectations) CreationObserved(key string) { e.LowerAdds(key, 1) }

// DeletionObserved records that the informer showed pod podKey of key
// deleted (or terminating). Repeats and unexpected pods are ignored.
func (e *Expectations) DeletionObserved(key, podKey string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x, ok := e.m[key]; ok {
		delete(x.dels, podKey)
	}
}

// Forget drops key's record (its owner is gone).
func (e *Expectations) Forget(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.m, key)
}
