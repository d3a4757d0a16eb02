// Package nodelifecycle notices nodes that stop reporting, taints them,
// and moves their pods away: Kubernetes' node lifecycle controller, its
// NoExecute taint manager and the orphan part of its pod garbage
// collector, in one level-triggered loop over nodes.
//
// # Heartbeats
//
// A node agent proves it is alive two ways: it renews a Lease named after
// the node in namespace kube-node-lease (every 10 s), and it posts the
// Ready condition with a lastHeartbeatTime. The controller never compares
// those timestamps with its own clock, since machines' clocks disagree. It
// records, on its own clock, when it last saw either of them change (as
// leader election does with a Lease's renewTime). A node that has shown
// no change for NodeMonitorGracePeriod is unreachable: every condition of
// its status is set to Unknown ("Kubelet stopped posting node status.").
// A node seen for the first time, for instance after this controller
// restarts, gets a full grace period.
//
// # Taints
//
// The Ready condition decides the node's taints, both NoSchedule (the
// scheduler places nothing new there) and NoExecute (pods already there
// must leave):
//
//	Ready=Unknown  node.kubernetes.io/unreachable
//	Ready=False    node.kubernetes.io/not-ready
//	Ready=True     neither
//
// Each taint carries the time it was added. A node whose agent comes back
// posts Ready=True and loses the taints. The controller turns the Ready
// condition into taints but never sets Ready=True itself: only the node
// agent knows that the node works.
//
// # Evictions
//
// A pod bound to a node with a NoExecute taint stays for as long as its
// tolerations allow: tolerationSeconds after the taint's timeAdded (the
// API server gives every pod 300 s for not-ready and unreachable unless
// the pod says otherwise), at once without a matching toleration, forever
// with a toleration without tolerationSeconds. Eviction is an ordinary
// graceful DELETE: the pod is marked (deletionTimestamp), visibly
// Terminating, so its controller can replace it, and is never silently
// lost.
//
// # Orphaned pods
//
// Pods bound to a node that no longer exists are force-deleted (grace
// period 0: no node agent is left to stop them), once the node has been
// missing for NodeMonitorGracePeriod and the API server confirms it is
// gone, so that a node being re-registered, or a cache lagging, does not
// cost its pods.
//
// # Using it
//
// The caller starts the informer factory and the event recorder; Run
// waits for the node, lease and pod caches, re-examines every node each
// MonitorPeriod, and returns when its context ends. Time comes from
// Config.Now, so tests can drive it. All writes go through
// compare-and-swap (resourceVersion) or uid preconditions; cached objects
// are copied before they are changed.
package nodelifecycle
