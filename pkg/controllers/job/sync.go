package job

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"

	"minik8s/pkg/apis/apierrors"
	"minik8s/pkg/apis/batch"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/client"
	"minik8s/pkg/client/events"
)

// sync converges one Job: count its finished pods (the finalizer
// protocol), decide, create or delete pods, write the status, and delete
// the Job when its TTL has run out. A nil error means converged or
// waiting for the next change; an error retries the key with backoff.
func (ctrl *Controller) sync(ctx context.Context, key string) error {
	obj, ok := ctrl.jobs.Store().Get(key)
	if !ok {
		ctrl.exp.forget(key)
		return nil // deleted; pods still holding the finalizer go through the orphan queue
	}
	job := obj.(*batch.Job) // from the cache: read only

	// Read the expectations before the pods: a pod seen between the two
	// reads is then at worst not trusted yet, never counted twice.
	satisfied := ctrl.exp.satisfied(key)
	unfinalized := ctrl.exp.unfinalized(key)
	pods := ctrl.ownedPods(job)

	if job.DeletionTimestamp != nil {
		// A foreground deletion: the garbage collector deletes the pods
		// and waits for them to go. Nothing is counted any more.
		_, err := ctrl.removeFinalizers(ctx, key, trackedPods(pods, unfinalized))
		return err
	}

	now := ctrl.now()
	s := classify(job, pods, unfinalized)
	job, removed, err := ctrl.count(ctx, key, job, s, pods)
	if errors.Is(err, apierrors.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	// The pods snapshot predates the removals: those of this sync are
	// known to be done, and so are those the informer showed since.
	for uid := range ctrl.exp.unfinalized(key) {
		removed[uid] = true
	}
	st := flush(job.Status, tracked(pods, removed))
	d := decide(job, st, s, now, ctrl.backoff)

	var manageErr error
	if satisfied {
		manageErr = ctrl.manage(ctx, job, d)
	}
	job, err = ctrl.writeStatus(ctx, job, d.status)
	if err != nil {
		return err
	}
	for _, e := range d.events {
		ctrl.rec.Eventf(job, e.typ, e.reason, "%s", e.message)
	}
	if d.requeue > 0 {
		ctrl.queue.AddAfter(key, d.requeue)
	}
	if err := ctrl.maybeExpire(ctx, job); err != nil {
		return err
	}
	if n := uncountedLen(d.status.UncountedTerminatedPods); n > 0 {
		return errors.Join(manageErr, fmt.Errorf("%d finished pods of %s are not counted yet", n, job.Name))
	}
	return manageErr
}

// count runs steps 1 and 2 of the counting protocol (see the package
// doc): it records the newly finished pods in the status, then removes
// the finalizers of every recorded pod. It returns the Job as last
// written and the uids whose finalizer it removed. Step 3, moving uids
// into the counters, is part of the final status write.
func (ctrl *Controller) count(ctx context.Context, key string, job *batch.Job, s podSet, pods []*core.Pod) (*batch.Job, map[string]bool, error) {
	u := record(job.Status.UncountedTerminatedPods, s)
	if len(s.newSucceeded)+len(s.newFailed) > 0 {
		cp, err := meta.DeepCopy(job)
		if err != nil {
			return nil, nil, err
		}
		cp.Status.UncountedTerminatedPods = &u
		// The cached resourceVersion is the precondition: a sync that
		// started from an old status must not build counts on it.
		if err := ctrl.c.UpdateStatus(ctx, cp); err != nil {
			return nil, nil, fmt.Errorf("recording the finished pods of %s: %w", job.Name, err)
		}
		job = cp
	}
	untracked := untrack(pods, u, tracked(pods, ctrl.exp.unfinalized(key)))
	removed, err := ctrl.removeFinalizers(ctx, key, untracked)
	return job, removed, err
}

// manage creates and deletes pods as d says, after recording in the
// expectations what the informer should show afterwards. Deletions go
// first: they can only lower the number of active pods.
func (ctrl *Controller) manage(ctx context.Context, job *batch.Job, d decision) error {
	key := client.KeyOf(job)
	n := min(d.create, maxPodsPerSync)
	var dels []string
	for _, p := range append(d.remove, d.kill...) {
		dels = append(dels, client.KeyOf(p))
	}
	if n == 0 && len(dels) == 0 {
		return nil
	}
	ctrl.exp.expect(key, n, dels)

	var errs []error
	for _, p := range d.remove {
		// The finalizer goes first, so that the deletion is not counted
		// as a failure: suspending or scaling down is not the pod's fault.
		_, err := ctrl.removeFinalizers(ctx, key, trackedPods([]*core.Pod{p}, nil))
		if err == nil {
			err = ctrl.deleteJobPod(ctx, job, p)
		}
		if err != nil {
			ctrl.exp.deletionObserved(key, client.KeyOf(p)) // it will not happen
			errs = append(errs, err)
		}
	}
	for _, p := range d.kill {
		if err := ctrl.deleteJobPod(ctx, job, p); err != nil {
			ctrl.exp.deletionObserved(key, client.KeyOf(p))
			errs = append(errs, err)
		}
	}
	if n > 0 {
		created, err := slowStart(n, func(int) error { return ctrl.createPod(ctx, job) })
		if skipped := n - created; skipped > 0 {
			ctrl.exp.lowerAdds(key, skipped) // never to be seen
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (ctrl *Controller) createPod(ctx context.Context, job *batch.Job) error {
	pod, err := newPod(job)
	if err != nil {
		return err
	}
	if err := ctrl.c.Create(ctx, pod); err != nil {
		ctrl.rec.Eventf(job, events.Warning, "FailedCreate", "Error creating: %v", err)
		return fmt.Errorf("creating a pod for %s: %w", job.Name, err)
	}
	ctrl.rec.Eventf(job, events.Normal, "SuccessfulCreate", "Created pod: %s", pod.Name)
	return nil
}

// deleteJobPod deletes pod with its uid as precondition, so that a
// namesake created since is never hit. A pod already gone is not an
// error.
func (ctrl *Controller) deleteJobPod(ctx context.Context, job *batch.Job, pod *core.Pod) error {
	uid := pod.UID
	err := ctrl.c.Delete(ctx, podKind, pod.Namespace, pod.Name, &meta.DeleteOptions{Preconditions: &meta.Preconditions{UID: &uid}})
	switch {
	case errors.Is(err, apierrors.ErrNotFound):
		return nil
	case err != nil:
		ctrl.rec.Eventf(job, events.Warning, "FailedDelete", "Error deleting: %v", err)
		return fmt.Errorf("deleting pod %s of %s: %w", pod.Name, job.Name, err)
	}
	ctrl.rec.Eventf(job, events.Normal, "SuccessfulDelete", "Deleted pod: %s", pod.Name)
	return nil
}

// finalizerPatch removes the tracking finalizer and leaves any other.
var finalizerPatch = []byte(`{"metadata":{"$deleteFromPrimitiveList/finalizers":["` + trackingFinalizer + `"]}}`)

// removeFinalizers removes the tracking finalizer from pods, noting each
// removal in the expectations first, and returns the uids of the pods it
// no longer holds. A pod already gone is not an error.
func (ctrl *Controller) removeFinalizers(ctx context.Context, key string, pods []*core.Pod) (map[string]bool, error) {
	done := make([]bool, len(pods))
	err := inParallel(len(pods), func(i int) error {
		p := pods[i]
		ctrl.exp.finalizerRemoving(key, p.UID)
		err := ctrl.patchOutFinalizer(ctx, p)
		if err != nil {
			ctrl.exp.finalizerObserved(key, p.UID) // the cache stays right
		}
		done[i] = err == nil
		return err
	})
	removed := map[string]bool{}
	for i, p := range pods {
		if done[i] {
			removed[p.UID] = true
		}
	}
	return removed, err
}

func (ctrl *Controller) patchOutFinalizer(ctx context.Context, p *core.Pod) error {
	var out core.Pod
	err := ctrl.c.Patch(ctx, p.Namespace, p.Name, client.StrategicPatch, finalizerPatch, &out)
	if err != nil && !errors.Is(err, apierrors.ErrNotFound) {
		return fmt.Errorf("removing the finalizer of pod %s: %w", p.Name, err)
	}
	return nil
}

// trackedPods returns the pods still holding the tracking finalizer.
func trackedPods(pods []*core.Pod, unfinalized map[string]bool) []*core.Pod {
	var out []*core.Pod
	for _, p := range pods {
		if hasFinalizer(p) && !unfinalized[p.UID] {
			out = append(out, p)
		}
	}
	return out
}

// writeStatus writes st if it differs from job's status, with job's
// resourceVersion as precondition, and returns the Job as stored. Unlike
// a ReplicaSet's, a Job's status cannot be recomputed from the pods alone
// (counted pods may be gone), so a Conflict is retried from fresh state,
// never by pasting st onto a newer object.
func (ctrl *Controller) writeStatus(ctx context.Context, job *batch.Job, st batch.JobStatus) (*batch.Job, error) {
	if reflect.DeepEqual(normalize(st), normalize(job.Status)) {
		return job, nil
	}
	cp, err := meta.DeepCopy(job)
	if err != nil {
		return nil, err
	}
	cp.Status = st
	if err := ctrl.c.UpdateStatus(ctx, cp); err != nil {
		if errors.Is(err, apierrors.ErrNotFound) {
			return job, nil
		}
		return nil, fmt.Errorf("updating the status of %s: %w", job.Name, err)
	}
	return cp, nil
}

// normalize makes empty lists compare equal to nil ones.
func normalize(st batch.JobStatus) batch.JobStatus {
	if len(st.Conditions) == 0 {
		st.Conditions = nil
	}
	u := batch.UncountedTerminatedPods{}
	if st.UncountedTerminatedPods != nil {
		u = *st.UncountedTerminatedPods
	}
	if len(u.Succeeded) == 0 {
		u.Succeeded = nil
	}
	if len(u.Failed) == 0 {
		u.Failed = nil
	}
	st.UncountedTerminatedPods = &u
	return st
}

// maybeExpire deletes a finished Job whose ttlSecondsAfterFinished has
// run out, or syncs it again when it will have. Like Kubernetes' TTL
// controller it checks a fresh copy first (the TTL may have changed) and
// deletes with that copy's resourceVersion as precondition. Propagation
// is Background: the garbage collector deletes the pods.
func (ctrl *Controller) maybeExpire(ctx context.Context, job *batch.Job) error {
	left, ok := ttlRemaining(job, ctrl.now())
	if !ok {
		return nil
	}
	if left > 0 {
		ctrl.queue.AddAfter(client.KeyOf(job), left)
		return nil
	}
	var fresh batch.Job
	err := ctrl.c.Get(ctx, job.Namespace, job.Name, &fresh)
	if errors.Is(err, apierrors.ErrNotFound) || err == nil && fresh.UID != job.UID {
		return nil
	}
	if err != nil {
		return fmt.Errorf("rechecking %s before its TTL deletion: %w", job.Name, err)
	}
	if left, ok := ttlRemaining(&fresh, ctrl.now()); !ok || left > 0 {
		return nil // changed meanwhile: its update event brings it back
	}
	bg, rv := meta.DeletePropagationBackground, fresh.ResourceVersion
	err = ctrl.c.Delete(ctx, jobKind, job.Namespace, job.Name,
		&meta.DeleteOptions{PropagationPolicy: &bg, Preconditions: &meta.Preconditions{ResourceVersion: &rv}})
	if err != nil && !errors.Is(err, apierrors.ErrNotFound) {
		return fmt.Errorf("deleting %s after its TTL: %w", job.Name, err)
	}
	ctrl.log.Info("deleted a finished job after its TTL", "job", client.KeyOf(job))
	return nil
}

// syncOrphanPod removes the tracking finalizer from a pod whose Job is
// gone (confirmed with a live read: the cache may just be behind), so
// that the garbage collector can delete it. Kubernetes' orphan queue.
func (ctrl *Controller) syncOrphanPod(ctx context.Context, key string) error {
	obj, ok := ctrl.pods.Store().Get(key)
	if !ok {
		return nil
	}
	pod := obj.(*core.Pod)
	if !hasFinalizer(pod) || ctrl.jobOf(pod) != nil {
		return nil // nothing held, or the Job's own sync looks after it
	}
	if ref := controllerOf(&pod.ObjectMeta); ref != nil && ref.Kind == controllerKind {
		var job batch.Job
		err := ctrl.c.Get(ctx, pod.Namespace, ref.Name, &job)
		switch {
		case err == nil && job.UID == ref.UID:
			return nil // the Job exists; its informer event will come
		case err != nil && !errors.Is(err, apierrors.ErrNotFound):
			return fmt.Errorf("checking the job of pod %s: %w", pod.Name, err)
		}
	}
	return ctrl.patchOutFinalizer(ctx, pod)
}

// inParallel calls fn(0) ... fn(n-1), at most 16 at a time, and returns
// their errors joined.
func inParallel(n int, fn func(i int) error) error {
	errs := make([]error, n)
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			errs[i] = fn(i)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// slowStart calls fn(0), ..., fn(count-1) in batches of 1, 2, 4, ...; the
// calls of one batch run in parallel. After a batch with a failure it
// stops. It returns how many calls succeeded and the first error. This is
// Kubernetes' slowStartBatch: a request that fails for every pod (quota,
// a bad template) fails once, not count times.
func slowStart(count int, fn func(i int) error) (int, error) {
	done, ok := 0, 0
	for batch := 1; done < count; batch *= 2 {
		n := min(batch, count-done)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for j := range n {
			wg.Go(func() { errs[j] = fn(done + j) })
		}
		wg.Wait()
		done += n
		for _, err := range errs {
			if err == nil {
				ok++
			}
		}
		if err := errors.Join(errs...); err != nil {
			return ok, err
		}
	}
	return ok, nil
}
