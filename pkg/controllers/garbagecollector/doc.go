// Package garbagecollector deletes objects whose owners are gone, and
// carries out the three ways of deleting an owner that Kubernetes offers
// (the propagationPolicy of a DELETE):
//
//   - Background (the default): the API server deletes the owner at once.
//     The collector then finds its dependents, objects whose
//     metadata.ownerReferences all point to owners that no longer exist, and
//     deletes them. "Exist" means an object with the referenced uid: a new
//     owner of the same name but another uid does not keep the old
//     dependents alive. Dependents whose owners never existed ("dangling"
//     references) are collected the same way.
//   - Foreground: the API server only marks the owner (deletionTimestamp
//     and the foregroundDeletion finalizer). The collector deletes its
//     dependents, themselves in the foreground, waits until no dependent
//     with blockOwnerDeletion=true is left, then removes the finalizer,
//     and that update deletes the owner. The owner goes last.
//   - Orphan: the API server marks the owner with the orphan finalizer.
//     The collector removes the owner's reference from every dependent,
//     then removes the finalizer. The dependents stay, owned by no one.
//
// The ownership graph is never stored as such: its edges are the
// ownerReferences of the cached objects, and an index of every cache by
// owner uid answers "who depends on X" in O(dependents). The collector
// watches every kind in the pkg/apis table through the shared informer
// factory (a dependent or an owner can be of any kind, and an orphan or
// foreground finalizer can be put on any object; at minik8s' scale one
// watch per kind is cheap).
//
// Like every minik8s controller it is level-triggered: informer handlers
// only enqueue the keys of objects whose state may now call for action
// (the object itself, its owners, its dependents), and sync looks at one
// object's current state and converges it. Two rules keep it safe with
// caches that lag behind the API server, as in Kubernetes: an owner the
// cache does not show is confirmed gone with a live GET (uid compared)
// before anything is deleted because of it; and every write goes to a
// freshly read object, with its resourceVersion (compare-and-swap) or a
// uid precondition, so a stale decision is refused rather than applied.
//
// The caller starts the informer factory (client.Factory.Start) and the
// event recorder; Run waits for the caches, then works until its context
// ends. The collector never deletes an object that has an owner it cannot
// rule out: owners of kinds it does not know count as alive.
package garbagecollector
