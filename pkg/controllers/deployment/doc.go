// Package deployment is the Deployment controller: it rolls a pod
// template out by managing ReplicaSets, one per template, and never
// touches pods itself (the ReplicaSet controller does).
//
// How a Deployment maps onto ReplicaSets (as in Kubernetes):
//
//   - The ReplicaSet running the current template is the "new" one; it is
//     named <deployment>-<pod-template-hash>, and the hash is also added
//     to its selector, its labels and its template's labels, so the pods
//     of different templates never mix. Every other ReplicaSet the
//     Deployment controls is "old".
//   - Each ReplicaSet carries deployment.kubernetes.io/revision. A new
//     template gets the highest revision + 1. A rollback is nothing but
//     the template becoming equal to an old ReplicaSet's (kubectl rollout
//     undo patches spec.template): that ReplicaSet becomes the new one
//     again and moves to the highest revision, its earlier number kept
//     in deployment.kubernetes.io/revision-history.
//   - desired-replicas and max-replicas annotations record spec.replicas
//     and spec.replicas + maxSurge when each ReplicaSet was last sized. A
//     mismatch means the user scaled (kubectl scale); the change is then
//     shared among the active ReplicaSets in proportion to their sizes.
//
// Each sync takes one step and returns; the ReplicaSets' status changes
// bring the next sync. A RollingUpdate step first grows the new
// ReplicaSet as far as maxSurge allows, otherwise shrinks old ones as far
// as maxUnavailable allows. A Recreate step scales the old ReplicaSets to
// zero, waits until none of their pods exist, then sizes the new one. A
// paused Deployment is only scaled. The decisions are pure functions in
// util.go; sync.go and rollout.go read the caches and write.
//
// Two deliberate, documented departures from Kubernetes' arithmetic make
// the bounds hold for real pods, not just for spec.replicas sums: the
// surge check counts a ReplicaSet's status.replicas while its pods have
// not yet been deleted, and the availability check never counts more
// available pods of a ReplicaSet than its spec.replicas (see podCeiling
// and availableFloor).
//
// Status is what kubectl rollout status reads: observedGeneration,
// replicas, updatedReplicas, readyReplicas, availableReplicas,
// unavailableReplicas, and the Available and Progressing conditions
// (NewReplicaSetCreated, FoundNewReplicaSet, ReplicaSetUpdated,
// NewReplicaSetAvailable, ProgressDeadlineExceeded, DeploymentPaused,
// DeploymentResumed).
//
// The caller builds the Controller with New before starting the informer
// factory, starts the factory, and runs Run once; Run returns when its
// context is done. Deleting a Deployment's ReplicaSets when it is deleted
// is the garbage collector's job, through their owner references.
package deployment
