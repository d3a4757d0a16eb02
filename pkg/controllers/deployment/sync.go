package deployment

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"time"

	"minik8s/pkg/apis/apierrors"
	"minik8s/pkg/apis/apps"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/labels"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/client"
	"minik8s/pkg/client/events"
)

// sync converges one Deployment. It reads the Deployment and its
// ReplicaSets from the caches and takes one step: scale (when the user
// changed spec.replicas, or the Deployment is paused), or one step of the
// rollout strategy; then it writes the status. The next step happens on
// the next sync, when the ReplicaSets' statuses have moved. A nil error
// means converged or waiting for the next change; an error retries the
// key with backoff.
func (ctrl *Controller) sync(ctx context.Context, key string) error {
	obj, ok := ctrl.dInf.Store().Get(key)
	if !ok {
		return nil // deleted: the garbage collector removes its ReplicaSets
	}
	cached := obj.(*apps.Deployment) // read only
	d, err := meta.DeepCopy(cached)  // the working copy
	if err != nil {
		return err
	}
	sel, err := labels.SelectorFromLabelSelector(d.Spec.Selector)
	if err != nil || sel.Empty() {
		// An empty selector would claim every ReplicaSet of the
		// namespace: refuse, as Kubernetes does, and wait for a fix.
		ctrl.rec.Eventf(d, events.Warning, "SelectingAll", "This deployment is selecting all pods. A non-empty selector is required.")
		if d.Status.ObservedGeneration < d.Generation {
			d.Status.ObservedGeneration = d.Generation
			return ctrl.writeStatus(ctx, d, cached, d.Status)
		}
		return nil
	}
	rsList, err := ctrl.claimReplicaSets(ctx, d, sel)
	if err != nil {
		return err
	}
	if d.DeletionTimestamp != nil {
		newRS, oldRSs, err := ctrl.replicaSetsAndSyncRevision(ctx, d, rsList, false)
		if err != nil {
			return err
		}
		return ctrl.syncStatus(ctx, d, cached, append(oldRSs, newRS), newRS)
	}
	setPausedCondition(d, ctrl.now())
	if d.Spec.Paused || isScalingEvent(d, rsList) {
		return ctrl.syncScale(ctx, d, cached, rsList)
	}
	if isRolling(d) {
		return ctrl.rolloutRolling(ctx, d, cached, rsList)
	}
	return ctrl.rolloutRecreate(ctx, d, cached, rsList)
}

// ---- ownership ----

// claimReplicaSets returns the ReplicaSets d controls, after adopting
// matching orphans and releasing those that stopped matching, as the
// ReplicaSet controller does with pods.
func (ctrl *Controller) claimReplicaSets(ctx context.Context, d *apps.Deployment, sel labels.Selector) ([]*apps.ReplicaSet, error) {
	var owned []*apps.ReplicaSet
	recheck := once(func() error { return ctrl.recheck(ctx, d) })
	for _, obj := range ctrl.rsInf.Store().ByIndex(client.NamespaceIndex, d.Namespace) {
		rs := obj.(*apps.ReplicaSet)
		ref := controllerOf(&rs.ObjectMeta)
		matches := sel.Matches(rs.Labels)
		switch {
		case ref != nil && ref.UID != d.UID:
			// someone else's
		case ref != nil && matches:
			owned = append(owned, rs)
		case ref != nil && d.DeletionTimestamp == nil:
			if err := ctrl.setOwner(ctx, rs, func(refs []meta.OwnerReference) []meta.OwnerReference {
				return slices.DeleteFunc(refs, func(r meta.OwnerReference) bool { return r.UID == d.UID })
			}); err != nil {
				return nil, fmt.Errorf("releasing replica set %s: %w", rs.Name, err)
			}
		case ref == nil && matches && d.DeletionTimestamp == nil && rs.DeletionTimestamp == nil:
			if err := recheck(); err != nil {
				return nil, err
			}
			if err := ctrl.setOwner(ctx, rs, func(refs []meta.OwnerReference) []meta.OwnerReference {
				return append(refs, controllerRef(d))
			}); err != nil {
				return nil, fmt.Errorf("adopting replica set %s: %w", rs.Name, err)
			}
			owned = append(owned, rs)
		}
	}
	return owned, nil
}

// recheck makes sure, with a live read, that d still exists and is not
// being deleted before it adopts anything.
func (ctrl *Controller) recheck(ctx context.Context, d *apps.Deployment) error {
	var fresh apps.Deployment
	if err := ctrl.c.Get(ctx, d.Namespace, d.Name, &fresh); err != nil {
		return fmt.Errorf("rechecking %s before adopting: %w", d.Name, err)
	}
	if fresh.UID != d.UID || fresh.DeletionTimestamp != nil {
		return fmt.Errorf("%s was deleted or replaced: not adopting", d.Name)
	}
	return nil
}

// once wraps f so that it runs at most once; later calls return the
// first result.
func once(f func() error) func() error {
	done, err := false, error(nil)
	return func() error {
		if !done {
			done, err = true, f()
		}
		return err
	}
}

// setOwner rewrites a copy of rs's owner references with edit and updates
// it, with the cached resourceVersion as precondition.
func (ctrl *Controller) setOwner(ctx context.Context, rs *apps.ReplicaSet, edit func([]meta.OwnerReference) []meta.OwnerReference) error {
	cp, err := meta.DeepCopy(rs)
	if err != nil {
		return err
	}
	cp.OwnerReferences = edit(cp.OwnerReferences)
	if err := ctrl.c.Update(ctx, cp); err != nil && !errors.Is(err, apierrors.ErrNotFound) {
		return err
	}
	return nil
}

// ---- the new ReplicaSet and revisions ----

// replicaSetsAndSyncRevision splits d's ReplicaSets into the new one (the
// one running d's template; created if create is set and there is none)
// and the old ones, and brings revisions in line: the new ReplicaSet
// gets a revision above every old one (so a rollback, which makes an old
// ReplicaSet new again, moves it to the top), and the Deployment's
// revision annotation follows the new ReplicaSet's.
func (ctrl *Controller) replicaSetsAndSyncRevision(ctx context.Context, d *apps.Deployment, rsList []*apps.ReplicaSet, create bool) (*apps.ReplicaSet, []*apps.ReplicaSet, error) {
	newRS := findNewRS(d, rsList)
	var oldRSs []*apps.ReplicaSet
	for _, rs := range rsList {
		if rs != newRS {
			oldRSs = append(oldRSs, rs)
		}
	}
	newRevision := maxRevision(oldRSs) + 1
	var err error
	switch {
	case newRS != nil:
		if newRS, err = ctrl.syncNewRS(ctx, d, newRS, newRevision); err != nil {
			return nil, nil, err
		}
	case create:
		if newRS, err = ctrl.createNewRS(ctx, d, oldRSs, newRevision); err != nil {
			return nil, nil, err
		}
	}
	if newRS != nil {
		if err := ctrl.setDeploymentRevision(ctx, d, newRS.Annotations[RevisionAnnotation]); err != nil {
			return nil, nil, err
		}
	}
	return newRS, oldRSs, nil
}

// syncNewRS updates the existing new ReplicaSet's annotations and
// minReadySeconds if they lag behind d.
func (ctrl *Controller) syncNewRS(ctx context.Context, d *apps.Deployment, newRS *apps.ReplicaSet, newRevision int64) (*apps.ReplicaSet, error) {
	cp, err := meta.DeepCopy(newRS)
	if err != nil {
		return nil, err
	}
	changed := setNewRSAnnotations(d, cp, newRevision, false)
	if cp.Spec.MinReadySeconds != d.Spec.MinReadySeconds {
		cp.Spec.MinReadySeconds = d.Spec.MinReadySeconds
		changed = true
	}
	if getCondition(&d.Status, apps.DeploymentProgressing) == nil && hasProgressDeadline(d) {
		setCondition(&d.Status, newCondition(apps.DeploymentProgressing, core.ConditionTrue, reasonFoundNewRS,
			fmt.Sprintf("Found new replica set %q", newRS.Name), ctrl.now()))
	}
	if !changed {
		return newRS, nil
	}
	if err := ctrl.c.Update(ctx, cp); err != nil {
		return nil, fmt.Errorf("updating the annotations of replica set %s: %w", newRS.Name, err)
	}
	return cp, nil
}

// createNewRS creates the ReplicaSet for d's template, named after the
// template's hash and already sized for the first step of the rollout.
func (ctrl *Controller) createNewRS(ctx context.Context, d *apps.Deployment, oldRSs []*apps.ReplicaSet, newRevision int64) (*apps.ReplicaSet, error) {
	rs, err := newReplicaSet(d, newRevision)
	if err != nil {
		return nil, err
	}
	n := replicas(d)
	if isRolling(d) {
		n = rollingNewReplicas(d, append(slices.Clone(oldRSs), rs), rs)
	}
	rs.Spec.Replicas = &n

	err = ctrl.c.Create(ctx, rs)
	if errors.Is(err, apierrors.ErrAlreadyExists) {
		return ctrl.nameTaken(ctx, d, rs.Name)
	}
	if err != nil {
		ctrl.rec.Eventf(d, events.Warning, "FailedCreate", "Failed to create new replica set %q: %v", rs.Name, err)
		return nil, fmt.Errorf("creating replica set %s: %w", rs.Name, err)
	}
	if n > 0 {
		ctrl.rec.Eventf(d, events.Normal, "ScalingReplicaSet", "Scaled up replica set %s from 0 to %d", rs.Name, n)
	}
	if hasProgressDeadline(d) {
		setCondition(&d.Status, newCondition(apps.DeploymentProgressing, core.ConditionTrue, reasonNewRSCreated,
			fmt.Sprintf("Created new replica set %q", rs.Name), ctrl.now()))
	}
	return rs, nil
}

// newReplicaSet is the ReplicaSet for d's current template, unsized.
func newReplicaSet(d *apps.Deployment, newRevision int64) (*apps.ReplicaSet, error) {
	tmpl, err := meta.DeepCopy(&d.Spec.Template)
	if err != nil {
		return nil, err
	}
	sel, err := meta.DeepCopy(d.Spec.Selector)
	if err != nil {
		return nil, err
	}
	hash := templateHash(&d.Spec.Template, d.Status.CollisionCount)
	tmpl.Labels = withHashLabel(tmpl.Labels, hash)
	sel.MatchLabels = withHashLabel(sel.MatchLabels, hash)
	rs := &apps.ReplicaSet{
		ObjectMeta: meta.ObjectMeta{
			Name:            d.Name + "-" + hash,
			Namespace:       d.Namespace,
			Labels:          withHashLabel(tmpl.Labels, hash),
			OwnerReferences: []meta.OwnerReference{controllerRef(d)},
		},
		Spec: apps.ReplicaSetSpec{MinReadySeconds: d.Spec.MinReadySeconds, Selector: sel, Template: *tmpl},
	}
	setNewRSAnnotations(d, rs, newRevision, true)
	return rs, nil
}

// nameTaken handles AlreadyExists on creating the new ReplicaSet. If the
// existing one is ours with our template, our cache was merely behind:
// use it. Otherwise two templates hash alike: bump status.collisionCount
// so the next sync hashes differently (Kubernetes does the same).
func (ctrl *Controller) nameTaken(ctx context.Context, d *apps.Deployment, name string) (*apps.ReplicaSet, error) {
	var existing apps.ReplicaSet
	if err := ctrl.c.Get(ctx, d.Namespace, name, &existing); err != nil {
		return nil, fmt.Errorf("reading replica set %s after a name clash: %w", name, err)
	}
	if ref := controllerOf(&existing.ObjectMeta); ref != nil && ref.UID == d.UID && equalIgnoringHash(&existing.Spec.Template, &d.Spec.Template) {
		return &existing, nil
	}
	cp, err := meta.DeepCopy(d)
	if err != nil {
		return nil, err
	}
	cc := int32(1)
	if cp.Status.CollisionCount != nil {
		cc = *cp.Status.CollisionCount + 1
	}
	cp.Status.CollisionCount = &cc
	if err := ctrl.c.UpdateStatus(ctx, cp); err != nil {
		return nil, fmt.Errorf("raising the collision count of %s: %w", d.Name, err)
	}
	return nil, fmt.Errorf("replica set name %s is taken by another template; collision count now %d", name, cc)
}

// setDeploymentRevision writes the revision annotation of d when it
// differs. Annotations are metadata, so this goes through a plain update
// (it does not change spec, so not the generation either); d takes the
// new resourceVersion for the status write that follows.
func (ctrl *Controller) setDeploymentRevision(ctx context.Context, d *apps.Deployment, rev string) error {
	if rev == "" || d.Annotations[RevisionAnnotation] == rev {
		return nil
	}
	cp, err := meta.DeepCopy(d)
	if err != nil {
		return err
	}
	if cp.Annotations == nil {
		cp.Annotations = map[string]string{}
	}
	cp.Annotations[RevisionAnnotation] = rev
	if err := ctrl.c.Update(ctx, cp); err != nil {
		return fmt.Errorf("setting the revision of %s: %w", d.Name, err)
	}
	d.Annotations, d.ResourceVersion = cp.Annotations, cp.ResourceVersion
	return nil
}

// ---- scaling ----

// isScalingEvent says whether spec.replicas changed since the active
// ReplicaSets were last sized: their desired-replicas annotation says
// what it was then.
func isScalingEvent(d *apps.Deployment, rsList []*apps.ReplicaSet) bool {
	for _, rs := range rsList {
		if rsReplicas(rs) == 0 {
			continue
		}
		if desired, ok := intAnnotation(rs, DesiredReplicasAnnotation); ok && desired != replicas(d) {
			return true
		}
	}
	return false
}

// syncScale brings the ReplicaSets' sizes in line with spec.replicas
// without moving the rollout forward: used when the user scaled, and
// whenever the Deployment is paused.
func (ctrl *Controller) syncScale(ctx context.Context, d, cached *apps.Deployment, rsList []*apps.ReplicaSet) error {
	newRS, oldRSs, err := ctrl.replicaSetsAndSyncRevision(ctx, d, rsList, false)
	if err != nil {
		return err
	}
	if err := ctrl.applyScale(ctx, d, scalePlan(d, newRS, oldRSs)); err != nil {
		return err
	}
	if d.Spec.Paused {
		if err := ctrl.cleanup(ctx, d, oldRSs); err != nil {
			return err
		}
	}
	return ctrl.syncStatus(ctx, d, cached, append(oldRSs, newRS), newRS)
}

// scalePlan decides the sizes after a scaling of d: with one active
// ReplicaSet (or none: then the newest), it takes spec.replicas; with a
// saturated new ReplicaSet, the old ones go to zero; otherwise, during a
// rolling update, the change is shared proportionally. Recreate with
// several active ReplicaSets waits for its rollout to resolve.
func scalePlan(d *apps.Deployment, newRS *apps.ReplicaSet, oldRSs []*apps.ReplicaSet) []scaleOp {
	var active []*apps.ReplicaSet
	for _, rs := range append(slices.Clone(oldRSs), newRS) {
		if rs != nil && rsReplicas(rs) > 0 {
			active = append(active, rs)
		}
	}
	switch {
	case len(active) == 1:
		if rsReplicas(active[0]) != replicas(d) || needsReplicasAnnotations(d, active[0]) {
			return []scaleOp{{active[0], replicas(d)}}
		}
		return nil
	case len(active) == 0:
		latest := newRS
		if latest == nil && len(oldRSs) > 0 {
			all := byCreation(oldRSs)
			latest = all[len(all)-1]
		}
		if latest != nil && (rsReplicas(latest) != replicas(d) || needsReplicasAnnotations(d, latest)) {
			return []scaleOp{{latest, replicas(d)}}
		}
		return nil
	case newRS != nil && rsReplicas(newRS) == replicas(d) && newRS.Status.AvailableReplicas == replicas(d):
		var ops []scaleOp
		for _, rs := range active {
			if rs != newRS {
				ops = append(ops, scaleOp{rs, 0})
			}
		}
		return ops
	case isRolling(d):
		return proportionalScale(d, active)
	}
	return nil
}

func needsReplicasAnnotations(d *apps.Deployment, rs *apps.ReplicaSet) bool {
	desired, ok1 := intAnnotation(rs, DesiredReplicasAnnotation)
	maxR, ok2 := intAnnotation(rs, MaxReplicasAnnotation)
	return !ok1 || !ok2 || desired != replicas(d) || maxR != replicas(d)+maxSurge(d)
}

// applyScale carries out scale decisions in order and stops at the first
// failure.
func (ctrl *Controller) applyScale(ctx context.Context, d *apps.Deployment, ops []scaleOp) error {
	for _, op := range ops {
		if _, err := ctrl.scaleRS(ctx, d, op.rs, op.to); err != nil {
			return err
		}
	}
	return nil
}

// scaleRS sets rs's size to n, with the replica annotations of d, and
// records a ScalingReplicaSet event when the size changed.
func (ctrl *Controller) scaleRS(ctx context.Context, d *apps.Deployment, rs *apps.ReplicaSet, n int32) (bool, error) {
	from := rsReplicas(rs)
	cp, err := meta.DeepCopy(rs)
	if err != nil {
		return false, err
	}
	annotated := setReplicasAnnotations(cp, replicas(d), replicas(d)+maxSurge(d))
	if from == n && !annotated {
		return false, nil
	}
	cp.Spec.Replicas = &n
	if err := ctrl.c.Update(ctx, cp); err != nil {
		return false, fmt.Errorf("scaling replica set %s to %d: %w", rs.Name, n, err)
	}
	if from != n {
		dir := "up"
		if n < from {
			dir = "down"
		}
		ctrl.rec.Eventf(d, events.Normal, "ScalingReplicaSet", "Scaled %s replica set %s from %d to %d", dir, rs.Name, from, n)
	}
	return from != n, nil
}

// ---- cleanup ----

// cleanup deletes the oldest old ReplicaSets beyond revisionHistoryLimit,
// only those already scaled to zero and settled, so no pod is lost.
func (ctrl *Controller) cleanup(ctx context.Context, d *apps.Deployment, oldRSs []*apps.ReplicaSet) error {
	if d.Spec.RevisionHistoryLimit == nil {
		return nil
	}
	var alive []*apps.ReplicaSet
	for _, rs := range oldRSs {
		if rs.DeletionTimestamp == nil {
			alive = append(alive, rs)
		}
	}
	extra := len(alive) - int(*d.Spec.RevisionHistoryLimit)
	if extra <= 0 {
		return nil
	}
	slices.SortStableFunc(alive, func(a, b *apps.ReplicaSet) int {
		ra, rb := revision(&a.ObjectMeta), revision(&b.ObjectMeta)
		if ra != rb {
			return int(ra - rb)
		}
		return a.CreationTimestamp.Compare(b.CreationTimestamp.Time)
	})
	background := meta.DeletePropagationBackground
	for _, rs := range alive[:extra] {
		if rs.Status.Replicas != 0 || rsReplicas(rs) != 0 || rs.Generation > rs.Status.ObservedGeneration {
			continue
		}
		uid := rs.UID
		err := ctrl.c.Delete(ctx, rsKind, rs.Namespace, rs.Name, &meta.DeleteOptions{
			PropagationPolicy: &background, Preconditions: &meta.Preconditions{UID: &uid}})
		if err != nil && !errors.Is(err, apierrors.ErrNotFound) {
			return fmt.Errorf("deleting old replica set %s: %w", rs.Name, err)
		}
	}
	return nil
}

// ---- status ----

// syncStatus writes the status computed from the ReplicaSets, without
// judging progress (scaling, paused, deleting).
func (ctrl *Controller) syncStatus(ctx context.Context, d, cached *apps.Deployment, all []*apps.ReplicaSet, newRS *apps.ReplicaSet) error {
	return ctrl.writeStatus(ctx, d, cached, calculateStatus(d, nonNil(all), newRS, ctrl.now()))
}

// syncRolloutStatus writes the status after a rollout step, judging
// progress: the Progressing condition says NewReplicaSetAvailable when
// complete, ReplicaSetUpdated (with a fresh lastUpdateTime) when pods
// moved, ProgressDeadlineExceeded when nothing moved for
// progressDeadlineSeconds. A rollout still in time is requeued for its
// deadline, since nothing else may wake it up.
func (ctrl *Controller) syncRolloutStatus(ctx context.Context, d, cached *apps.Deployment, all []*apps.ReplicaSet, newRS *apps.ReplicaSet) error {
	now := ctrl.now()
	st := calculateStatus(d, nonNil(all), newRS, now)
	if !hasProgressDeadline(d) {
		removeCondition(&st, apps.DeploymentProgressing)
	}
	cur := getCondition(&st, apps.DeploymentProgressing)
	alreadyComplete := st.Replicas == st.UpdatedReplicas && cur != nil && cur.Reason == reasonNewRSAvailable
	if hasProgressDeadline(d) && !alreadyComplete && newRS != nil {
		switch {
		case complete(d, &st):
			setCondition(&st, newCondition(apps.DeploymentProgressing, core.ConditionTrue, reasonNewRSAvailable,
				fmt.Sprintf("ReplicaSet %q has successfully progressed.", newRS.Name), now))
		case progressing(d, &st):
			// Progress refreshes lastUpdateTime even though the reason
			// stays the same, so this bypasses setCondition's no-op rule.
			c := newCondition(apps.DeploymentProgressing, core.ConditionTrue, reasonRSUpdated,
				fmt.Sprintf("ReplicaSet %q is progressing.", newRS.Name), now)
			if cur != nil && cur.Status == core.ConditionTrue {
				c.LastTransitionTime = cur.LastTransitionTime
			}
			removeCondition(&st, apps.DeploymentProgressing)
			st.Conditions = append(st.Conditions, c)
		case timedOut(d, &st, now):
			setCondition(&st, newCondition(apps.DeploymentProgressing, core.ConditionFalse, reasonTimedOut,
				fmt.Sprintf("ReplicaSet %q has timed out progressing.", newRS.Name), now))
		}
	}
	ctrl.requeueForDeadline(d, &st, now)
	return ctrl.writeStatus(ctx, d, cached, st)
}

// requeueForDeadline syncs d again when its progress deadline passes, if
// the rollout is neither complete nor already timed out.
func (ctrl *Controller) requeueForDeadline(d *apps.Deployment, st *apps.DeploymentStatus, now time.Time) {
	c := getCondition(st, apps.DeploymentProgressing)
	if c == nil || !hasProgressDeadline(d) || complete(d, st) || timedOut(d, st, now) || c.Reason == reasonPaused {
		return
	}
	deadline := c.LastUpdateTime.Add(time.Duration(*d.Spec.ProgressDeadlineSeconds) * time.Second)
	ctrl.queue.AddAfter(client.KeyOf(d), deadline.Sub(now)+time.Second)
}

// writeStatus writes st as d's status unless the cached status already
// says exactly that.
func (ctrl *Controller) writeStatus(ctx context.Context, d, cached *apps.Deployment, st apps.DeploymentStatus) error {
	if reflect.DeepEqual(normalize(st), normalize(cached.Status)) {
		return nil
	}
	cp, err := meta.DeepCopy(d)
	if err != nil {
		return err
	}
	cp.Status = st
	err = ctrl.c.UpdateStatus(ctx, cp)
	switch {
	case errors.Is(err, apierrors.ErrConflict):
		// A newer Deployment exists than the one in our cache (often our
		// own previous status write, not yet seen). Its watch event is on
		// its way and will sync this key again from the newer state, so
		// there is nothing to retry here.
		return nil
	case err != nil && !errors.Is(err, apierrors.ErrNotFound):
		return fmt.Errorf("updating the status of %s: %w", d.Name, err)
	}
	return nil
}

func normalize(st apps.DeploymentStatus) apps.DeploymentStatus {
	if len(st.Conditions) == 0 {
		st.Conditions = nil
	}
	return st
}

// setPausedCondition records a pause or a resume in the Progressing
// condition (status Unknown), unless the rollout already timed out. A
// resume so restarts the progress deadline.
func setPausedCondition(d *apps.Deployment, now time.Time) {
	if !hasProgressDeadline(d) {
		return
	}
	c := getCondition(&d.Status, apps.DeploymentProgressing)
	if c != nil && c.Reason == reasonTimedOut {
		return
	}
	paused := c != nil && c.Reason == reasonPaused
	switch {
	case d.Spec.Paused && !paused:
		setCondition(&d.Status, newCondition(apps.DeploymentProgressing, core.ConditionUnknown, reasonPaused, "Deployment is paused", now))
	case !d.Spec.Paused && paused:
		setCondition(&d.Status, newCondition(apps.DeploymentProgressing, core.ConditionUnknown, reasonResumed, "Deployment is resumed", now))
	}
}

func nonNil(rss []*apps.ReplicaSet) []*apps.ReplicaSet {
	return slices.DeleteFunc(slices.Clone(rss), func(rs *apps.ReplicaSet) bool { return rs == nil })
}
