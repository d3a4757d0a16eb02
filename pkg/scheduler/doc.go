// Package scheduler places every pod that has no node on the best node
// that can run it, and binds it there: minik8s' kube-scheduler.
//
// It is built as a pure core inside a thin I/O shell:
//
//   - The core (resources.go, info.go, filter.go, score.go, schedule.go)
//     takes values and returns values. Schedule gets one pod and the
//     nodes with what is already allocated on them, runs the filters
//     (which nodes can run the pod at all) and then the scores (which of
//     those is best), and returns the chosen node or a FitError that says
//     why each node was rejected. It does no I/O and keeps no state, so
//     its tests are tables.
//   - The cache (cache.go) is the scheduler's view of what each node has
//     allocated. It counts a pod on its node as soon as the scheduler
//     assumes it, before the API server has even been asked to bind it,
//     so that the next pod's decision already sees the space taken; when
//     the binding fails the assumption is forgotten, and when the bound
//     pod comes back through the watch the assumption is confirmed.
//   - The queue (queue.go) holds the pods waiting to be scheduled: active
//     (to try now, by priority then age), backoff (failed recently; wait
//     1 s doubling to 10 s per pod) and unschedulable (fits nowhere;
//     waits until the cluster changes in a way that could make it fit).
//   - The loop (scheduler.go) wires them to the API server: informers on
//     pods and nodes feed the cache and the queue; one goroutine pops a
//     pod, decides, assumes, and hands the binding to a pool of binders,
//     so that throughput is not bounded by one round trip at a time.
//
// What the caller must do: build a Config, call New, then Run(ctx). Run
// returns when ctx is done and everything it started has stopped. With
// leader election on, only the replica holding the Lease schedules.
//
// What it never does: it never writes a pod's spec except through the
// binding subresource (which the API server refuses a second time, so two
// schedulers can never place one pod twice), never touches pods of
// another schedulerName, and never modifies an object from an informer's
// cache.
package scheduler
