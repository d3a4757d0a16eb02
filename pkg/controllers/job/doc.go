// Package job is the Job controller: it runs a Job's pods until enough of
// them succeed (or too many fail, or time runs out), counts every
// finished pod exactly once, and reports what it sees in the Job's status.
//
// It follows Kubernetes' pkg/controller/job:
//
//   - How many pods run. With spec.completions set (a fixed completion
//     count) at most min(parallelism, completions - succeeded) pods are
//     active, so there are never more successes than completions; the Job
//     is Complete when succeeded reaches completions. Without completions
//     (a work queue: the pods coordinate among themselves) parallelism
//     pods run until one succeeds; after that none are added, and the Job
//     is Complete once a pod succeeded and none is active.
//
//   - Failures. A pod counts as failed when its phase is Failed, or when
//     it is deleted before finishing (and is then replaced at once:
//     Kubernetes' podReplacementPolicy TerminatingOrFailed). A pod with
//     restartPolicy OnFailure restarts its containers in place, so it only
//     fails as a whole when the node agent gives up on it; its container
//     restarts count towards backoffLimit, as in Kubernetes. Once failed
//     pods exceed spec.backoffLimit the Job fails (condition Failed,
//     reason BackoffLimitExceeded) and its active pods are deleted. Failed
//     pods are replaced after an exponential delay (10 s, 20 s, 40 s ...
//     up to 6 minutes, counted from the last failure since the last
//     success), so a crashing pod is not re-created hot.
//
//   - Time. spec.activeDeadlineSeconds counts from status.startTime; past
//     it the Job fails with reason DeadlineExceeded. A Job finished for
//     spec.ttlSecondsAfterFinished is deleted (propagation Background: the
//     garbage collector removes its pods). Kubernetes has a separate TTL
//     controller for that last rule; here it is one more step of sync.
//
//   - Suspension. A suspended Job has no active pods (they are deleted,
//     and not counted as failures) and a Suspended condition; resuming it
//     restarts the clock of activeDeadlineSeconds.
//
//   - Counting with a finalizer. Finished pods may be deleted at any time
//     (by a user, the garbage collector, a node agent), so a count taken
//     from the pods that happen to exist would go down. Every pod is
//     created with the finalizer batch.kubernetes.io/job-tracking, which
//     keeps it in the API, deleted or not, until the controller has
//     counted it. Counting is a two-step protocol that survives a crash at
//     any point: (1) the uids of newly finished pods are written to
//     status.uncountedTerminatedPods; (2) their finalizers are removed;
//     (3) uids whose pods no longer hold the finalizer move from that list
//     into status.succeeded and status.failed. A pod without the finalizer
//     is counted already (or deliberately not counted) and is never
//     counted again; a finalizer removal this process made but the cache
//     does not show yet is remembered, so a stale cache cannot count a pod
//     twice either. Status writes carry the cached resourceVersion: a sync
//     that started from an old status is refused with Conflict and
//     retried, never applied.
//
//   - Expectations. A sync that creates or deletes pods remembers it, and
//     the next sync does not create or delete more until the informer has
//     shown them (or five minutes passed): a slow watch never leads to
//     extra pods.
//
// What it does not do (yet): Indexed completion mode, podFailurePolicy,
// successPolicy, backoffLimitPerIndex, and adopting orphan pods (a Job's
// generated selector carries its own uid, so only a Job with
// spec.manualSelector could have any).
//
// The decisions are pure functions of a Job, its pods and the time, in
// decide.go; controller.go and sync.go are the thin layer that reads the
// caches and writes to the API. Build the Controller with New before
// starting the informer factory, then call Run once; Run returns when its
// context is done. Pods whose Job is gone lose their finalizer so the
// garbage collector can delete them; the controller itself never deletes
// a Job except for its TTL.
package job
