package replicaset

import (
	"sync"
	"time"
)

// expectationTTL is how long a sync waits for the informer to show the
// creations and deletions it made before it stops trusting the record and
// acts on the cache again (Kubernetes' ExpectationsTimeout). A watch that
// lost an event must not wedge a ReplicaSet forever.
const expectationTTL = 5 * time.Minute

// expectations remembers, per ReplicaSet key, the pod creations and
// deletions a sync has made and the informer has not yet reported. While
// any are outstanding the cache is known to be behind, so a sync must not
// create or delete pods from it: that is how a slow watch never leads to
// double creation. It is Kubernetes' UIDTrackingControllerExpectations:
// creations are counted (generateName means no name is known in advance),
// deletions are tracked by pod key so that seeing one deletion twice (the
// deletionTimestamp, then the DELETED event) counts once.
//
// It is safe for concurrent use by the handlers and the workers.
type expectations struct {
	now func() time.Time

	mu sync.Mutex
	m  map[string]*expectation // by ReplicaSet key
}

// expectation is the outstanding work of one ReplicaSet.
type expectation struct {
	adds int                 // creations not yet seen; may go below 0
	dels map[string]struct{} // keys of pods whose deletion is not yet seen
	at   time.Time           // when it was set, for the TTL
}

func newExpectations() *expectations {
	return &expectations{now: time.Now, m: map[string]*expectation{}}
}

// satisfied says whether a sync of key may trust the cache: nothing is
// outstanding, or the record has expired, or there is none (a new
// ReplicaSet, or a restarted controller).
func (e *expectations) satisfied(key string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	x, ok := e.m[key]
	if !ok {
		return true
	}
	return x.adds <= 0 && len(x.dels) == 0 || e.now().Sub(x.at) > expectationTTL
}

// expect replaces key's record: adds creations and the deletion of the
// pods with keys dels are in flight.
func (e *expectations) expect(key string, adds int, dels []string) {
	x := &expectation{adds: adds, dels: map[string]struct{}{}, at: e.now()}
	for _, d := range dels {
		x.dels[d] = struct{}{}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.m[key] = x
}

// lowerAdds forgets n creations that will never be seen (they failed).
func (e *expectations) lowerAdds(key string, n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x, ok := e.m[key]; ok {
		x.adds -= n
	}
}

// creationObserved records that the informer showed one new pod of key.
func (e *expectations) creationObserved(key string) { e.lowerAdds(key, 1) }

// deletionObserved records that the informer showed pod podKey of key
// deleted (or terminating). Repeats and unexpected pods are ignored.
func (e *expectations) deletionObserved(key, podKey string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x, ok := e.m[key]; ok {
		delete(x.dels, podKey)
	}
}

// forget drops key's record (its ReplicaSet is gone).
func (e *expectations) forget(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.m, key)
}
