package daemonset

import (
	"sync"
	"time"
)

// expectationTTL is how long a sync waits for the informer to show the
// creations and deletions it made before it stops trusting the record and
// acts on the cache again (Kubernetes' ExpectationsTimeout): a watch that
// lost an event must not wedge a DaemonSet forever.
const expectationTTL = 5 * time.Minute

// expectations remembers, per DaemonSet key, the pod creations and
// deletions a sync has made and the pod informer has not yet reported.
// While any are outstanding the cache is known to be behind, so a sync
// does not create or delete from it. Creations are counted (pods are
// created with generateName, so no name is known in advance); deletions
// are tracked by pod key, so that seeing one twice (the deletionTimestamp,
// then the DELETED event) counts once. It is Kubernetes'
// UIDTrackingControllerExpectations, and safe for concurrent use.
type expectations struct {
	now func() time.Time

	mu sync.Mutex
	m  map[string]*expectation // by DaemonSet key
}

// expectation is the outstanding work of one DaemonSet.
type expectation struct {
	adds int                 // creations not yet seen; may go below 0
	dels map[string]struct{} // keys of pods whose deletion is not yet seen
	at   time.Time           // when it was set, for the TTL
}

func newExpectations() *expectations {
	return &expectations{now: time.Now, m: map[string]*expectation{}}
}

// satisfied says whether a sync of key may trust the cache.
func (e *expectations) satisfied(key string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	x, ok := e.m[key]
	return !ok || x.adds <= 0 && len(x.dels) == 0 || e.now().Sub(x.at) > expectationTTL
}

// expect replaces key's record: adds creations and the deletions of the
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

// creationObserved records one new pod of key seen (or, after a failed
// create, never to be seen).
func (e *expectations) creationObserved(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x, ok := e.m[key]; ok {
		x.adds--
	}
}

// deletionObserved records that pod podKey of key was seen deleted or
// terminating (or, after a failed delete, never will be).
func (e *expectations) deletionObserved(key, podKey string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x, ok := e.m[key]; ok {
		delete(x.dels, podKey)
	}
}

// forget drops key's record (its DaemonSet is gone).
func (e *expectations) forget(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.m, key)
}
