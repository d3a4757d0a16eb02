package statefulset

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"

	"minik8s/pkg/apis/apierrors"
	"minik8s/pkg/apis/apps"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/client"
	"minik8s/pkg/client/events"
)

// sync converges one StatefulSet: it makes sure the current template has
// a revision, takes the next steps decide allows, writes the status and
// trims the revision history. A nil error means converged or waiting for
// the next pod change; an error retries the key with backoff.
func (ctrl *Controller) sync(ctx context.Context, key string) error {
	obj, ok := ctrl.sets.Store().Get(key)
	if !ok {
		return nil // deleted; its pods and revisions are the garbage collector's
	}
	set := obj.(*apps.StatefulSet) // from the cache: read only
	if set.DeletionTimestamp != nil {
		return nil
	}
	pods := ctrl.ownedPods(set)
	revs := ctrl.ownedRevisions(set)
	update, collisions, err := ctrl.ensureUpdateRevision(ctx, set, revs)
	if err != nil {
		return err
	}
	byName := map[string]*apps.ControllerRevision{update.Name: update}
	for _, r := range revs {
		if r.Name != update.Name {
			byName[r.Name] = r
		}
	}
	current := update
	if r, ok := byName[set.Status.CurrentRevision]; ok {
		current = r
	}

	steps := decide(stateOf(set, current.Name, update.Name), pods)
	stepErr := ctrl.execute(ctx, set, steps, byName)

	var cc *int32
	if collisions != 0 || set.Status.CollisionCount != nil {
		cc = &collisions
	}
	if err := ctrl.updateStatus(ctx, set, pods, current.Name, update.Name, cc); err != nil {
		return err
	}
	live := map[string]bool{current.Name: true, update.Name: true}
	for _, p := range pods {
		live[p.Labels[RevisionLabel]] = true
	}
	for _, r := range revisionsToTrim(set, revs, live) {
		err := ctrl.c.Delete(ctx, revisionKind, r.Namespace, r.Name, nil)
		if err != nil && !errors.Is(err, apierrors.ErrNotFound) {
			return fmt.Errorf("deleting old revision %s: %w", r.Name, err)
		}
	}
	return stepErr
}

// ownedPods returns set's pods from the cache by ordinal. Pods whose name
// is not <set>-<ordinal> are not the set's, whatever their owner says.
func (ctrl *Controller) ownedPods(set *apps.StatefulSet) map[int]*core.Pod {
	pods := map[int]*core.Pod{}
	for _, o := range ctrl.pods.Store().ByIndex(client.NamespaceIndex, set.Namespace) {
		p := o.(*core.Pod)
		if !ownedBy(&p.ObjectMeta, set) {
			continue
		}
		if ord, ok := ordinalOf(set.Name, p.Name); ok {
			pods[ord] = p
		}
	}
	return pods
}

func (ctrl *Controller) ownedRevisions(set *apps.StatefulSet) []*apps.ControllerRevision {
	var revs []*apps.ControllerRevision
	for _, o := range ctrl.revs.Store().ByIndex(client.NamespaceIndex, set.Namespace) {
		if r := o.(*apps.ControllerRevision); ownedBy(&r.ObjectMeta, set) {
			revs = append(revs, r)
		}
	}
	return revs
}

// execute takes the steps in order and stops at the first failure: with
// OrderedReady there is only one step anyway, and a failing request (a
// quota, a bad template) then fails once per sync, not once per pod.
func (ctrl *Controller) execute(ctx context.Context, set *apps.StatefulSet, steps []step, revs map[string]*apps.ControllerRevision) error {
	for _, s := range steps {
		var err error
		switch s.kind {
		case createPod:
			err = ctrl.createPod(ctx, set, s.ordinal, revs[s.revision])
		case deletePod:
			err = ctrl.deletePod(ctx, set, s.pod, s.condemned)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// createPod creates set's pod ord at revision rev, after its claims.
func (ctrl *Controller) createPod(ctx context.Context, set *apps.StatefulSet, ord int, rev *apps.ControllerRevision) error {
	tmpl, err := templateOf(rev)
	if err != nil {
		return err
	}
	pod, err := newPod(set, ord, rev.Name, tmpl)
	if err != nil {
		return err
	}
	if err := ctrl.createClaims(ctx, set, ord, pod.Name); err != nil {
		return err
	}
	err = ctrl.c.Create(ctx, pod)
	switch {
	case errors.Is(err, apierrors.ErrAlreadyExists):
		return nil // created by an earlier sync; the cache is behind
	case err != nil:
		ctrl.rec.Eventf(set, events.Warning, "FailedCreate", "create Pod %s in StatefulSet %s failed error: %v", pod.Name, set.Name, err)
		return fmt.Errorf("creating pod %s: %w", pod.Name, err)
	}
	ctrl.rec.Eventf(set, events.Normal, "SuccessfulCreate", "create Pod %s in StatefulSet %s successful", pod.Name, set.Name)
	return nil
}

// createClaims creates the claims of set's pod ord that do not exist yet.
// An existing claim is kept as it is: it holds the pod's data.
func (ctrl *Controller) createClaims(ctx context.Context, set *apps.StatefulSet, ord int, pod string) error {
	claims, err := newClaims(set, ord)
	if err != nil {
		return err
	}
	for _, c := range claims {
		if _, ok := ctrl.claims.Store().Get(client.KeyOf(c)); ok {
			continue
		}
		err := ctrl.c.Create(ctx, c)
		switch {
		case errors.Is(err, apierrors.ErrAlreadyExists):
		case err != nil:
			ctrl.rec.Eventf(set, events.Warning, "FailedCreate", "create Claim %s for Pod %s in StatefulSet %s failed error: %v", c.Name, pod, set.Name, err)
			return fmt.Errorf("creating claim %s: %w", c.Name, err)
		default:
			ctrl.rec.Eventf(set, events.Normal, "SuccessfulCreate", "create Claim %s Pod %s in StatefulSet %s success", c.Name, pod, set.Name)
		}
	}
	return nil
}

// deletePod deletes one of set's pods. A condemned pod's claims are first
// handed to the pod when the set's whenScaled policy is Delete, so that
// the garbage collector removes them once the pod is gone.
func (ctrl *Controller) deletePod(ctx context.Context, set *apps.StatefulSet, pod *core.Pod, condemned bool) error {
	if _, whenScaled := retention(set); condemned && whenScaled == apps.DeletePersistentVolumeClaimRetentionPolicyType {
		if err := ctrl.giveClaimsTo(ctx, set, pod); err != nil {
			return err
		}
	}
	uid := pod.UID
	err := ctrl.c.Delete(ctx, podKind, pod.Namespace, pod.Name, &meta.DeleteOptions{Preconditions: &meta.Preconditions{UID: &uid}})
	switch {
	case errors.Is(err, apierrors.ErrNotFound), errors.Is(err, apierrors.ErrConflict):
		return nil // gone already, or replaced: the informer will say so
	case err != nil:
		ctrl.rec.Eventf(set, events.Warning, "FailedDelete", "delete Pod %s in StatefulSet %s failed error: %v", pod.Name, set.Name, err)
		return fmt.Errorf("deleting pod %s: %w", pod.Name, err)
	}
	ctrl.rec.Eventf(set, events.Normal, "SuccessfulDelete", "delete Pod %s in StatefulSet %s successful", pod.Name, set.Name)
	return nil
}

// giveClaimsTo adds an owner reference to pod on each of its claims.
func (ctrl *Controller) giveClaimsTo(ctx context.Context, set *apps.StatefulSet, pod *core.Pod) error {
	ord, _ := ordinalOf(set.Name, pod.Name)
	for _, ct := range set.Spec.VolumeClaimTemplates {
		obj, ok := ctrl.claims.Store().Get(pod.Namespace + "/" + claimName(ct.Name, set.Name, ord))
		if !ok {
			continue
		}
		cached := obj.(*core.PersistentVolumeClaim)
		if slices.ContainsFunc(cached.OwnerReferences, func(r meta.OwnerReference) bool { return r.UID == pod.UID }) {
			continue
		}
		cp, err := meta.DeepCopy(cached)
		if err != nil {
			return err
		}
		cp.OwnerReferences = append(cp.OwnerReferences, meta.OwnerReference{APIVersion: "v1", Kind: "Pod", Name: pod.Name, UID: pod.UID})
		if err := ctrl.c.Update(ctx, cp); err != nil && !errors.Is(err, apierrors.ErrNotFound) {
			return fmt.Errorf("handing claim %s to pod %s: %w", cp.Name, pod.Name, err)
		}
	}
	return nil
}

// updateStatus writes set's status if it changed, and schedules a sync
// for when the next ready pod becomes available (minReadySeconds).
func (ctrl *Controller) updateStatus(ctx context.Context, set *apps.StatefulSet, pods map[int]*core.Pod, current, update string, collisions *int32) error {
	st, next := calculateStatus(set, pods, current, update, collisions, ctrl.now())
	if next > 0 {
		ctrl.queue.AddAfter(client.KeyOf(set), next)
	}
	if reflect.DeepEqual(st, set.Status) {
		return nil
	}
	return client.UpdateStatusOf(ctx, ctrl.c, set, func(o *apps.StatefulSet) { o.Status = st })
}
