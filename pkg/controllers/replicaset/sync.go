package replicaset

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"

	"minik8s/pkg/apis/apierrors"
	"minik8s/pkg/apis/apps"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/labels"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/client"
	"minik8s/pkg/client/events"
)

// sync converges one ReplicaSet: claim its pods, create or delete pods
// until exactly spec.replicas are active (unless earlier creations and
// deletions are still unseen), and write the status. A nil error means
// converged or waiting for the next change; an error retries the key with
// backoff.
func (ctrl *Controller) sync(ctx context.Context, key string) error {
	obj, ok := ctrl.rsInf.Store().Get(key)
	if !ok {
		ctrl.exp.Forget(key)
		return nil // deleted; its pods are the garbage collector's
	}
	rs := obj.(*apps.ReplicaSet) // from the cache: read only
	sel, err := labels.SelectorFromLabelSelector(rs.Spec.Selector)
	if err != nil {
		// The API server validates selectors, so this is a bug, not a
		// retryable state: report it, do not spin.
		ctrl.rec.Eventf(rs, events.Warning, "InvalidSelector", "invalid selector: %v", err)
		return nil
	}

	// Read what the expectations allow before looking at the pods: a
	// creation seen between the two reads is then at worst not trusted
	// yet, never counted twice.
	satisfied := ctrl.exp.Satisfied(key)
	var active []*core.Pod
	for _, o := range ctrl.pods.Store().ByIndex(client.NamespaceIndex, rs.Namespace) {
		if p := o.(*core.Pod); isActive(p) {
			active = append(active, p)
		}
	}
	owned, err := ctrl.claimPods(ctx, rs, sel, active)
	if err != nil {
		return err
	}

	var manageErr *manageError
	if satisfied && rs.DeletionTimestamp == nil {
		manageErr = ctrl.manageReplicas(ctx, rs, owned)
	}
	if err := ctrl.updateStatus(ctx, rs, owned, manageErr); err != nil {
		return err
	}
	if manageErr != nil {
		return manageErr
	}
	return nil
}

// claimPods adopts the orphans rs matches and releases the pods it no
// longer matches, and returns the pods it owns afterwards.
func (ctrl *Controller) claimPods(ctx context.Context, rs *apps.ReplicaSet, sel labels.Selector, pods []*core.Pod) ([]*core.Pod, error) {
	c := claim(rs, sel, pods)
	if len(c.adopt) > 0 {
		// Check with a live read that rs still exists and is not being
		// deleted (Kubernetes' "recheck deletion timestamp"): a cached rs
		// may be gone, and a pod adopted by a deleted owner would be
		// garbage collected for nothing.
		var fresh apps.ReplicaSet
		err := ctrl.c.Get(ctx, rs.Namespace, rs.Name, &fresh)
		switch {
		case errors.Is(err, apierrors.ErrNotFound):
			c.adopt = nil
		case err != nil:
			return nil, fmt.Errorf("rechecking %s before adopting pods: %w", rs.Name, err)
		case fresh.UID != rs.UID || fresh.DeletionTimestamp != nil:
			c.adopt = nil
		}
	}
	owned := c.owned
	for _, p := range c.adopt {
		if err := ctrl.setOwner(ctx, p, func(refs []meta.OwnerReference) []meta.OwnerReference {
			return append(refs, controllerRef(rs))
		}); err != nil {
			return nil, fmt.Errorf("adopting pod %s: %w", p.Name, err)
		}
		owned = append(owned, p)
	}
	for _, p := range c.release {
		if err := ctrl.setOwner(ctx, p, func(refs []meta.OwnerReference) []meta.OwnerReference {
			return slices.DeleteFunc(refs, func(r meta.OwnerReference) bool { return r.UID == rs.UID })
		}); err != nil {
			return nil, fmt.Errorf("releasing pod %s: %w", p.Name, err)
		}
	}
	return owned, nil
}

// setOwner rewrites a copy of pod's owner references with edit and
// updates it, with the cached resourceVersion as precondition: if the pod
// changed meanwhile the update fails with Conflict and the sync retries
// from fresh state. A pod already gone is not an error.
func (ctrl *Controller) setOwner(ctx context.Context, pod *core.Pod, edit func([]meta.OwnerReference) []meta.OwnerReference) error {
	cp, err := meta.DeepCopy(pod)
	if err != nil {
		return err
	}
	cp.OwnerReferences = edit(cp.OwnerReferences)
	if err := ctrl.c.Update(ctx, cp); err != nil && !errors.Is(err, apierrors.ErrNotFound) {
		return err
	}
	return nil
}

// manageReplicas creates or deletes pods so that owned reaches
// spec.replicas, at most burstReplicas at a time, and records what it did
// in the expectations before doing it.
func (ctrl *Controller) manageReplicas(ctx context.Context, rs *apps.ReplicaSet, owned []*core.Pod) *manageError {
	key := client.KeyOf(rs)
	diff := len(owned) - int(replicas(rs))
	switch {
	case diff < 0:
		n := min(-diff, burstReplicas)
		// Expect before creating: the informer may report a pod before
		// its Create call returns.
		ctrl.exp.Expect(key, n, nil)
		created, err := slowStart(n, func(int) error { return ctrl.createPod(ctx, rs) })
		if skipped := n - created; skipped > 0 {
			ctrl.exp.LowerAdds(key, skipped) // never to be seen
		}
		if err != nil {
			return &manageError{reason: reasonFailedCreate, err: err}
		}
	case diff > 0:
		n := min(diff, burstReplicas)
		victims := slices.Clone(owned)
		deletionOrder(victims)
		victims = victims[:n]
		keys := make([]string, n)
		for i, p := range victims {
			keys[i] = client.KeyOf(p)
		}
		ctrl.exp.Expect(key, 0, keys)
		_, err := slowStart(n, func(i int) error {
			err := ctrl.deletePodOf(ctx, rs, victims[i])
			if err != nil {
				ctrl.exp.DeletionObserved(key, keys[i]) // it will not happen
			}
			return err
		})
		if err != nil {
			return &manageError{reason: reasonFailedDelete, err: err}
		}
	}
	return nil
}

func (ctrl *Controller) createPod(ctx context.Context, rs *apps.ReplicaSet) error {
	pod, err := newPod(rs)
	if err != nil {
		return err
	}
	if err := ctrl.c.Create(ctx, pod); err != nil {
		ctrl.rec.Eventf(rs, events.Warning, "FailedCreate", "Error creating: %v", err)
		return fmt.Errorf("creating a pod for %s: %w", rs.Name, err)
	}
	ctrl.rec.Eventf(rs, events.Normal, "SuccessfulCreate", "Created pod: %s", pod.Name)
	return nil
}

func (ctrl *Controller) deletePodOf(ctx context.Context, rs *apps.ReplicaSet, pod *core.Pod) error {
	// The uid precondition makes sure we delete the pod we chose, not a
	// namesake created since.
	uid := pod.UID
	err := ctrl.c.Delete(ctx, podKind, pod.Namespace, pod.Name, &meta.DeleteOptions{Preconditions: &meta.Preconditions{UID: &uid}})
	switch {
	case errors.Is(err, apierrors.ErrNotFound):
		return nil // already gone; the informer will say so
	case err != nil:
		ctrl.rec.Eventf(rs, events.Warning, "FailedDelete", "Error deleting: %v", err)
		return fmt.Errorf("deleting pod %s of %s: %w", pod.Name, rs.Name, err)
	}
	ctrl.rec.Eventf(rs, events.Normal, "SuccessfulDelete", "Deleted pod: %s", pod.Name)
	return nil
}

// updateStatus writes rs's status if it changed, and schedules a sync for
// when the next ready pod becomes available (minReadySeconds).
func (ctrl *Controller) updateStatus(ctx context.Context, rs *apps.ReplicaSet, owned []*core.Pod, manageErr *manageError) error {
	st, next := calculateStatus(rs, owned, manageErr, ctrl.now())
	if next > 0 {
		ctrl.queue.AddAfter(client.KeyOf(rs), next)
	}
	if reflect.DeepEqual(normalize(st), normalize(rs.Status)) {
		return nil
	}
	return client.UpdateStatusOf(ctx, ctrl.c, rs, func(o *apps.ReplicaSet) { o.Status = st })
}

// normalize makes an empty condition list compare equal to a nil one.
func normalize(st apps.ReplicaSetStatus) apps.ReplicaSetStatus {
	if len(st.Conditions) == 0 {
		st.Conditions = nil
	}
	return st
}

// replicas is spec.replicas, defaulted to 1 as the API server does.
func replicas(rs *apps.ReplicaSet) int32 {
	if rs.Spec.Replicas == nil {
		return 1
	}
	return *rs.Spec.Replicas
}
