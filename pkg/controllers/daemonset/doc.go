// Package daemonset is the DaemonSet controller: it keeps exactly one
// pod of each DaemonSet on every node that is eligible for it, and
// reports what it sees in the DaemonSet's status.
//
// It follows Kubernetes' pkg/controller/daemon:
//
//   - Eligibility. A node is eligible when the pod the DaemonSet would put
//     there fits it: the template's nodeSelector and required node
//     affinity match the node's labels, and the pod tolerates the node's
//     NoSchedule and NoExecute taints. A pod already running on a node
//     that stops being eligible stays as long as the node's labels still
//     match and it tolerates the NoExecute taints (an untolerated
//     NoSchedule taint keeps new pods away but evicts nobody). The checks
//     are the scheduler's own filters (pkg/scheduler's NodeAffinityMatches
//     and TaintsTolerated), so the controller and the scheduler can never
//     disagree about a node.
//
//   - Placement by the scheduler. The controller never sets
//     spec.nodeName. Each daemon pod gets a required node affinity term
//     matchFields metadata.name In [<node>] (Kubernetes' way since 1.12),
//     so the scheduler binds it to that node and nowhere else, accounting
//     for its resources like any pod's. Daemon pods also get tolerations
//     for node.kubernetes.io/not-ready and unreachable (NoExecute, without
//     tolerationSeconds: a daemon is never evicted from a sick node) and
//     for disk-, memory- and pid-pressure and unschedulable (NoSchedule),
//     so that a cordoned or struggling node still runs its daemons.
//
//   - One pod per node. A node that should run the DaemonSet and has no
//     pod gets one; a node that should not gets its pods deleted; a node
//     with several keeps the oldest. A Failed pod is deleted and replaced.
//     A pod that is terminating still occupies its node: the replacement
//     is created only once it is gone, so two daemons (holding the same
//     host ports or files) never overlap. Pods on nodes that no longer
//     exist are deleted (the node lifecycle controller force-deletes the
//     ones no node agent is left to stop).
//
//   - Revisions. The template is identified by a hash, kept on each pod
//     in the controller-revision-hash label. Kubernetes also stores each
//     template in a ControllerRevision object for `kubectl rollout undo`;
//     this controller does not (the label is all the update logic needs:
//     a DaemonSet only ever creates pods of its current template).
//
//   - Updates. With updateStrategy RollingUpdate (the default), pods of an
//     old template are deleted on at most maxUnavailable nodes at a time,
//     counting every eligible node that has no available pod as
//     unavailable; a node's new pod is created once its old pod is gone.
//     An old pod that is not available anyway may always be replaced.
//     maxSurge is not implemented (treated as 0, the default). With
//     OnDelete, old pods stay until someone deletes them.
//
//   - Level-triggered, with expectations. Handlers only enqueue DaemonSet
//     keys: a pod change enqueues its owner, a node change (added,
//     deleted, labels or taints changed) every DaemonSet. A sync reads the
//     caches and converges. The creations and deletions a sync makes are
//     remembered until the pod informer shows them, and no sync acts
//     before that: a lagging cache would otherwise show a node still
//     without its new pod (a duplicate), or an old pod still available
//     during a rolling update (too many deleted at once).
//
// Pods are owned through a controller owner reference; orphans matching
// the selector are not adopted (Kubernetes adopts them).
//
// The decisions (eligibility, which pods to create and delete, the
// rolling update, the status) are pure functions in daemon.go;
// controller.go and sync.go read the caches and write to the API.
//
// The caller builds the Controller with New before starting the informer
// factory, starts the factory, and calls Run once; Run returns when its
// context is done. The Controller never deletes DaemonSets and never
// binds pods.
package daemonset
