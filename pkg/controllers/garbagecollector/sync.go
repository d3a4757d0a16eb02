package garbagecollector

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"minik8s/pkg/apis/apierrors"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/client/events"
)

// sync converges one object: an owner being deleted with a collector
// finalizer has that finalizer's work done; a live dependent is checked
// against its owners.
func (gc *Controller) sync(ctx context.Context, key string) error {
	ref, err := parseKey(key)
	if err != nil {
		gc.log.Error("dropping malformed key", "key", key, "err", err)
		return nil
	}
	obj, ok := gc.cached(ref)
	if !ok {
		return nil // gone: its dependents and owners were enqueued when it went
	}
	m := obj.GetObjectMeta()
	switch {
	case m.DeletionTimestamp != nil && slices.Contains(m.Finalizers, meta.FinalizerOrphanDependents):
		return gc.orphanDependents(ctx, ref, m.UID)
	case m.DeletionTimestamp != nil && slices.Contains(m.Finalizers, meta.FinalizerDeleteDependents):
		return gc.finishForeground(ctx, ref, m.UID)
	case m.DeletionTimestamp != nil:
		return nil // already going, by other rules (grace period, other finalizers)
	case len(m.OwnerReferences) > 0:
		return gc.attemptToDelete(ctx, ref, obj)
	}
	return nil
}

// attemptToDelete applies decide to a dependent. The cache answers the
// common case (every owner is there) without a request; otherwise the
// dependent is read afresh and every owner the cache does not show is
// confirmed gone with a live GET before anything is written.
func (gc *Controller) attemptToDelete(ctx context.Context, ref objRef, cached meta.Object) error {
	if v, err := gc.verdictFor(ctx, cached, false); err != nil || v.action == keep {
		return err
	}
	live := ref.kind.New()
	if err := gc.c.Get(ctx, ref.namespace, ref.name, live); err != nil {
		return ignoreNotFound(err)
	}
	if live.GetObjectMeta().UID != cached.GetObjectMeta().UID || live.GetObjectMeta().DeletionTimestamp != nil {
		return nil // replaced or already going: the cache will catch up and enqueue it again
	}
	v, err := gc.verdictFor(ctx, live, true)
	if err != nil {
		return err
	}
	switch v.action {
	case dropRefs:
		return gc.dropOwnerRefs(ctx, ref, live, v.drop)
	case deleteBackground, deleteForeground:
		return gc.deleteDependent(ctx, ref, live, v.action)
	}
	return nil
}

// verdictFor classifies every owner of dependent and decides. With verify
// false it trusts the cache; with verify true an owner missing from the
// cache is looked up on the API server.
func (gc *Controller) verdictFor(ctx context.Context, dependent meta.Object, verify bool) (verdict, error) {
	refs := dependent.GetObjectMeta().OwnerReferences
	states := make([]ownerState, len(refs))
	for i, r := range refs {
		s, err := gc.ownerStateOf(ctx, dependent, r, verify)
		if err != nil {
			return verdict{}, err
		}
		states[i] = s
	}
	return decide(refs, states), nil
}

// ownerStateOf classifies the owner r of dependent.
func (gc *Controller) ownerStateOf(ctx context.Context, dependent meta.Object, r meta.OwnerReference, verify bool) (ownerState, error) {
	o, ok := ownerRef(dependent, r)
	if !ok {
		// A kind we do not serve: we cannot prove it is gone, so it
		// keeps the dependent (deleting too much is the worse error).
		return solid, nil
	}
	if o.kind.Namespaced && o.namespace == "" {
		return dangling, nil // a cluster-scoped object cannot have a namespaced owner
	}
	if owner, ok := gc.cached(o); ok && owner.GetObjectMeta().UID == r.UID {
		return stateOf(owner), nil
	}
	if !verify {
		return dangling, nil
	}
	// The cache may lag: a missing or different owner may just not have
	// reached it yet. Only the API server can say it is gone.
	owner := o.kind.New()
	err := gc.c.Get(ctx, o.namespace, o.name, owner)
	switch {
	case errors.Is(err, apierrors.ErrNotFound):
		return dangling, nil
	case err != nil:
		return solid, fmt.Errorf("looking up owner %s of %s: %w", o, dependent.GetObjectMeta().Name, err)
	case owner.GetObjectMeta().UID != r.UID:
		return dangling, nil // same name, another object
	}
	return stateOf(owner), nil
}

// deleteDependent deletes a dependent whose owners are all gone (in the
// background) or waiting for it (in the foreground). The uid precondition
// makes sure it is the object that was judged, not a successor of the
// same name.
func (gc *Controller) deleteDependent(ctx context.Context, ref objRef, live meta.Object, a action) error {
	policy := meta.DeletePropagationBackground
	if a == deleteForeground {
		policy = meta.DeletePropagationForeground
	}
	uid := live.GetObjectMeta().UID
	opts := &meta.DeleteOptions{PropagationPolicy: &policy, Preconditions: &meta.Preconditions{UID: &uid}}
	err := gc.c.Delete(ctx, ref.kind, ref.namespace, ref.name, opts)
	if errors.Is(err, apierrors.ErrNotFound) || errors.Is(err, apierrors.ErrConflict) {
		return nil // already gone, or replaced by another object
	}
	if err != nil {
		return fmt.Errorf("deleting %s: %w", ref, err)
	}
	gc.log.Info("deleted dependent", "object", ref.key(), "propagation", policy)
	return nil
}

// dropOwnerRefs removes the references to owners in uids from live, a
// freshly read dependent, with a compare-and-swap update.
func (gc *Controller) dropOwnerRefs(ctx context.Context, ref objRef, live meta.Object, uids []string) error {
	m := live.GetObjectMeta()
	refs, changed := withoutRefs(m.OwnerReferences, uids)
	if !changed {
		return nil
	}
	m.OwnerReferences = refs
	if err := gc.c.Update(ctx, live); err != nil {
		return ignoreNotFound(fmt.Errorf("removing owner references from %s: %w", ref, err))
	}
	return nil
}

// orphanDependents carries out the orphan finalizer of the owner with
// uid: every dependent loses its reference to the owner, then the
// finalizer goes (and with it, if it was the last one, the owner).
func (gc *Controller) orphanDependents(ctx context.Context, owner objRef, uid string) error {
	for _, d := range gc.dependentsOf(uid) {
		live := d.kind.New()
		if err := gc.c.Get(ctx, d.namespace, d.name, live); err != nil {
			if err = ignoreNotFound(err); err != nil {
				return err
			}
			continue
		}
		if err := gc.dropOwnerRefs(ctx, d, live, []string{uid}); err != nil {
			return err
		}
	}
	return gc.removeFinalizer(ctx, owner, uid, meta.FinalizerOrphanDependents)
}

// finishForeground removes the foregroundDeletion finalizer of the owner
// with uid once no dependent blocks it. Until then it does nothing: the
// dependents' own syncs delete them (they see a waiting owner), and each
// dependent that goes enqueues the owner again.
func (gc *Controller) finishForeground(ctx context.Context, owner objRef, uid string) error {
	for _, d := range gc.dependentsOf(uid) {
		if obj, ok := gc.cached(d); ok && blocks(obj, uid) {
			return nil
		}
	}
	return gc.removeFinalizer(ctx, owner, uid, meta.FinalizerDeleteDependents)
}

// removeFinalizer removes finalizer f from the object ref names, if it is
// still the one with uid, reading it afresh and updating it with a
// compare-and-swap. When f was the last finalizer of an object marked for
// deletion, the API server deletes the object.
func (gc *Controller) removeFinalizer(ctx context.Context, ref objRef, uid, f string) error {
	live := ref.kind.New()
	if err := gc.c.Get(ctx, ref.namespace, ref.name, live); err != nil {
		return ignoreNotFound(err)
	}
	m := live.GetObjectMeta()
	if m.UID != uid {
		return nil
	}
	fs, changed := withoutFinalizer(m.Finalizers, f)
	if !changed {
		return nil
	}
	m.Finalizers = fs
	if err := gc.c.Update(ctx, live); err != nil {
		return ignoreNotFound(fmt.Errorf("removing finalizer %s from %s: %w", f, ref, err))
	}
	gc.log.Info("removed finalizer", "object", ref.key(), "finalizer", f)
	if f == meta.FinalizerOrphanDependents {
		gc.rec.Eventf(live, events.Normal, "OrphanedDependents", "Removed the owner reference to %s %s from its dependents", ref.kind.Kind, ref.name)
	}
	return nil
}

// ignoreNotFound treats "it is gone" as success: whatever we meant to do
// to the object no longer matters.
func ignoreNotFound(err error) error {
	if errors.Is(err, apierrors.ErrNotFound) {
		return nil
	}
	return err
}
