// Package replicaset is the ReplicaSet controller: it keeps exactly
// spec.replicas active pods matching each ReplicaSet's selector, and
// reports what it sees in the ReplicaSet's status.
//
// It is built the way Kubernetes builds it (pkg/controller/replicaset):
//
//   - Level-triggered. The informer handlers only put "namespace/name"
//     keys of ReplicaSets on a work queue (and note what they saw in the
//     expectations, below). A worker's sync(ctx, key) reads the current
//     ReplicaSet and pods from the informer caches, decides, and acts. It
//     never asks what event happened, so a missed or repeated event costs
//     nothing: the next sync converges from whatever is true then.
//
//   - Ownership through owner references. A pod belongs to the ReplicaSet
//     named by its controller owner reference (controller: true). Pods
//     that match the selector and have no controller are adopted; owned
//     pods whose labels stop matching are released. Only owned, active
//     pods (not terminating, not Succeeded or Failed) count.
//
//   - Expectations. Creating a pod and seeing it in the informer cache are
//     two different moments. Between them, a sync that trusted the cache
//     would create the pod again. So a sync that creates N pods (or deletes
//     some) records that, the pod handlers count the creations and
//     deletions as the informer reports them, and the next sync does not
//     create or delete anything until all are seen, or five minutes have
//     passed (a lost expectation must not wedge the ReplicaSet forever).
//     Status is still written meanwhile.
//
//   - Slow start. Pods are created (and deleted) in batches of 1, 2, 4,
//     8, ... and the first failing batch stops the rest: a ReplicaSet
//     whose pods are all refused (quota, admission, a bad template) makes
//     one failing request per sync, not hundreds.
//
//   - Which pods go first when scaling down: unscheduled before scheduled,
//     pending before running, not ready before ready, ready for a shorter
//     time before longer, newer before older (Kubernetes' ranking, without
//     deletion cost and co-location).
//
// The decisions (which pods to adopt, release, delete; the status) are
// pure functions in pods.go, tested without an API server; controller.go
// and sync.go are the thin layer that reads caches and writes to the API.
//
// The caller builds the Controller with New before starting the
// informer factory, starts the factory, and runs Run once; Run returns
// when its context is done. The Controller never deletes ReplicaSets and
// never changes a pod's spec or status.
package replicaset
