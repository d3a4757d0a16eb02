// Package statefulset is the StatefulSet controller: it runs pods with a
// stable identity (name, hostname, storage) and creates, deletes and
// updates them in a defined order. It follows Kubernetes'
// pkg/controller/statefulset.
//
// # Identity
//
// A StatefulSet web with 3 replicas owns pods web-0, web-1 and web-2 (from
// spec.ordinals.start, default 0). Each pod is labelled
// statefulset.kubernetes.io/pod-name=web-1 and apps.kubernetes.io/pod-index=1,
// and has spec.hostname web-1 and spec.subdomain set to spec.serviceName,
// so with a headless Service of that name it resolves as
// web-1.<service>.<namespace>.svc.cluster.local (once cluster DNS serves
// it). For every entry of spec.volumeClaimTemplates, say data, each pod
// gets a PersistentVolumeClaim data-web-1, created before the pod and
// mounted as the volume data. Claims outlive their pods: a re-created
// web-1 gets the same claim and hence the same volume. With the default
// persistentVolumeClaimRetentionPolicy (Retain) claims are never deleted
// by the controller; with whenDeleted: Delete they carry an owner
// reference to the StatefulSet (the garbage collector deletes them with
// it), with whenScaled: Delete a claim of a pod removed by scale-down gets
// an owner reference to that pod before it is deleted.
//
// # Order
//
// With podManagementPolicy OrderedReady (the default) the controller does
// one thing at a time: it creates the missing pod with the lowest ordinal
// only when every lower one is Running and Ready, deletes (on scale-down)
// the highest ordinal first and only when every other pod is healthy, and
// waits until that pod is completely gone before deleting the next. With
// Parallel it creates and deletes all at once. A Failed pod is deleted
// and then re-created under the same name.
//
// # Updates and revisions
//
// Each template is stored in a ControllerRevision named <set>-<hash>
// (owned by the set, numbered 1, 2, ...; rolling back to an earlier
// template reuses its revision and renumbers it), and each pod carries the
// name of its revision in the controller-revision-hash label.
// status.updateRevision is the revision of the current template,
// status.currentRevision the one the set is moving away from; the latter
// becomes the former once every pod runs it and is ready. Keeping old
// templates is what lets a pod below the partition be re-created at the
// old revision. revisionHistoryLimit bounds the revisions kept that no pod
// uses.
//
// With updateStrategy RollingUpdate (the default) pods whose revision is
// not the update revision are deleted, one at a time, from the highest
// ordinal down to rollingUpdate.partition; each is re-created at the new
// revision, and the next is deleted only when it is Running and Ready.
// Pods below the partition keep (and are re-created at) the current
// revision. With OnDelete pods are only replaced when someone deletes
// them, and then at the update revision.
//
// # At most one pod per identity
//
// A pod's name is its identity, and the API server holds at most one
// object per name, so two web-1 can never run at once as long as the
// controller never replaces a pod before its object is gone. It never
// does: a terminating pod (marked for deletion, for example evicted by
// the node lifecycle controller from a node that stopped heartbeating) is
// not replaced until it has disappeared from the API. A pod on an
// unreachable node disappears only when a node agent confirms its
// containers stopped, which an unreachable node cannot do; that is
// Kubernetes' pod-safety rule, and it is deliberate: the node may still be
// running web-1, writing to its volume. An operator who knows the node is
// down for good (powered off, or deleted) releases the identity by force:
//
//	kubectl delete pod web-1 --grace-period=0 --force
//
// after which the controller creates web-1 again, wherever the scheduler
// puts it. Deleting the Node object has the same effect after the node
// lifecycle controller's grace period (it force-deletes pods of nodes
// that no longer exist).
//
// # Shape
//
// Handlers only enqueue StatefulSet keys (a pod change enqueues its
// owner); sync reads the caches and takes the next steps. No
// expectations are needed: names are deterministic, so a create the
// cache has not shown yet fails with AlreadyExists, and a delete repeats
// harmlessly. The decisions (which pod to create, delete or update next,
// the pods and claims themselves, the status) are pure functions in
// set.go; controller.go, sync.go and revisions.go read the caches and
// write to the API. Pods are owned through a controller owner reference;
// orphans are not adopted (Kubernetes adopts matching orphans).
//
// The caller builds the Controller with New before starting the informer
// factory, starts the factory, and calls Run once; Run returns when its
// context is done. The Controller never deletes StatefulSets, never binds
// pods and never deletes a claim itself.
package statefulset
