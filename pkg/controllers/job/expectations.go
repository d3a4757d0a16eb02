package job

import (
	"sync"
	"time"
)

// expectationTTL is how long a sync waits for the informer to show the
// creations and deletions it made before it acts on the cache again
// (Kubernetes' ExpectationsTimeout): a lost event must not wedge a Job.
const expectationTTL = 5 * time.Minute

// expectations remembers, per Job key, what a sync did that the pod
// informer has not shown yet:
//
//   - pod creations (a count: generateName means no name is known in
//     advance) and deletions (by pod key, so seeing a deletion twice, as
//     the deletionTimestamp and then as the DELETED event, counts once).
//     While any are outstanding the cache is known to be behind, so no pod
//     is created or deleted from it;
//   - tracking finalizers removed (by pod uid). Until the cache shows such
//     a pod without its finalizer, the cached copy still looks uncounted,
//     and counting it would count it twice (Kubernetes'
//     finalizerExpectations).
//
// It is safe for concurrent use by the handlers and the workers.
type expectations struct {
	now func() time.Time

	mu sync.Mutex
	m  map[string]*expectation // by Job key
}

// expectation is the outstanding work of one Job.
type expectation struct {
	adds int                 // creations not yet seen; may go below 0
	dels map[string]struct{} // keys of pods whose deletion is not yet seen
	at   time.Time           // when adds and dels were set, for the TTL
	// unfinalized holds the uids of pods whose finalizer this process
	// removed and the cache may still show. It is not subject to the TTL:
	// entries leave when the informer shows the change.
	unfinalized map[string]struct{}
}

func newExpectations() *expectations {
	return &expectations{now: time.Now, m: map[string]*expectation{}}
}

func (e *expectations) getLocked(key string) *expectation {
	x, ok := e.m[key]
	if !ok {
		x = &expectation{dels: map[string]struct{}{}, unfinalized: map[string]struct{}{}}
		e.m[key] = x
	}
	return x
}

// satisfied says whether a sync of key may create or delete pods from
// the cache: nothing is outstanding, or the record has expired.
func (e *expectations) satisfied(key string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	x, ok := e.m[key]
	if !ok {
		return true
	}
	return x.adds <= 0 && len(x.dels) == 0 || e.now().Sub(x.at) > expectationTTL
}

// expect replaces key's creations and deletions in flight: adds pods to
// be created and the pods with keys dels to be deleted.
func (e *expectations) expect(key string, adds int, dels []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	x := e.getLocked(key)
	x.adds, x.dels, x.at = adds, map[string]struct{}{}, e.now()
	for _, d := range dels {
		x.dels[d] = struct{}{}
	}
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
// deleted or terminating. Repeats and unexpected pods are ignored.
func (e *expectations) deletionObserved(key, podKey string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x, ok := e.m[key]; ok {
		delete(x.dels, podKey)
	}
}

// finalizerRemoving records that the tracking finalizer of pod uid is
// being removed; call it before the request, as the informer may report
// the change before the call returns.
func (e *expectations) finalizerRemoving(key, uid string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.getLocked(key).unfinalized[uid] = struct{}{}
}

// finalizerObserved records that the informer showed pod uid without
// the tracking finalizer (or gone), or that the removal failed.
func (e *expectations) finalizerObserved(key, uid string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x, ok := e.m[key]; ok {
		delete(x.unfinalized, uid)
	}
}

// unfinalized returns a copy of the uids whose finalizer removal the
// cache may not show yet.
func (e *expectations) unfinalized(key string) map[string]bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := map[string]bool{}
	if x, ok := e.m[key]; ok {
		for uid := range x.unfinalized {
			out[uid] = true
		}
	}
	return out
}

// forget drops key's record (its Job is gone).
func (e *expectations) forget(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.m, key)
}
