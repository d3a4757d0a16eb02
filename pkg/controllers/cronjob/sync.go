package cronjob

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"time"

	"minik8s/pkg/apis/apierrors"
	"minik8s/pkg/apis/batch"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/client"
	"minik8s/pkg/client/events"
)

// sync converges one CronJob: read its Jobs, decide, delete the runs it
// replaces, start the run that is due, write the status, prune the
// history, and come back when the next run is due. A nil error means
// done until the next change or activation; an error retries with
// backoff.
func (ctrl *Controller) sync(ctx context.Context, key string) error {
	obj, ok := ctrl.cronJobs.Store().Get(key)
	if !ok {
		return nil // deleted; the garbage collector deletes its Jobs
	}
	cj := obj.(*batch.CronJob) // from the cache: read only
	loc, err := location(cj)
	if err != nil {
		ctrl.rec.Eventf(cj, events.Warning, "UnknownTimeZone", "invalid timeZone %q: %v", *cj.Spec.TimeZone, err)
		return nil // a user error: wait for the CronJob to change
	}
	sched, err := parseSchedule(cj.Spec.Schedule, loc)
	if err != nil {
		ctrl.rec.Eventf(cj, events.Warning, "UnparseableSchedule", "unparseable schedule %q: %v", cj.Spec.Schedule, err)
		return nil
	}
	jobs, err := ctrl.jobsOf(ctx, cj)
	if err != nil {
		return err
	}

	p := decide(cj, jobs, sched, ctrl.now())
	st := p.status
	for _, j := range p.replace {
		if err := ctrl.deleteJob(ctx, cj, j); err != nil {
			return fmt.Errorf("replacing %s: %w", j.Name, err)
		}
		st.Active = slices.DeleteFunc(st.Active, func(r core.ObjectReference) bool { return r.UID == j.UID })
	}
	var runErr error
	if !p.run.IsZero() {
		var j *batch.Job
		if j, runErr = ctrl.createJob(ctx, cj, p.run); j != nil {
			if finishedCondition(j) == nil && !slices.ContainsFunc(st.Active, func(r core.ObjectReference) bool { return r.UID == j.UID }) {
				st.Active = append(st.Active, jobRef(j))
			}
			t := meta.NewTime(p.run)
			st.LastScheduleTime = &t
		}
	}
	if err := ctrl.writeStatus(ctx, cj, st); err != nil {
		return err
	}
	for _, e := range p.events {
		ctrl.rec.Eventf(cj, e.typ, e.reason, "%s", e.message)
	}
	var pruneErrs []error
	for _, j := range p.prune {
		pruneErrs = append(pruneErrs, ctrl.deleteJob(ctx, cj, j))
	}
	if p.requeue > 0 {
		ctrl.queue.AddAfter(key, p.requeue)
	}
	return errors.Join(runErr, errors.Join(pruneErrs...))
}

// location is the time zone of cj's schedule: spec.timeZone, or UTC.
// (Kubernetes uses kube-controller-manager's local zone when timeZone is
// unset; a controller-manager in a container usually runs in UTC.)
func location(cj *batch.CronJob) (*time.Location, error) {
	if cj.Spec.TimeZone == nil {
		return time.UTC, nil
	}
	return time.LoadLocation(*cj.Spec.TimeZone)
}

// jobsOf returns the Jobs cj controls: those in the cache, plus those its
// status lists as active that the cache does not show yet (typically one
// just created), confirmed with a live read. A listed Job that is really
// gone is left out, and decide reports it missing.
func (ctrl *Controller) jobsOf(ctx context.Context, cj *batch.CronJob) ([]*batch.Job, error) {
	jobs := ctrl.ownedJobs(cj)
	for _, r := range cj.Status.Active {
		if slices.ContainsFunc(jobs, func(j *batch.Job) bool { return j.UID == r.UID }) {
			continue
		}
		var j batch.Job
		err := ctrl.c.Get(ctx, cj.Namespace, r.Name, &j)
		switch {
		case errors.Is(err, apierrors.ErrNotFound):
		case err != nil:
			return nil, fmt.Errorf("reading active job %s of %s: %w", r.Name, cj.Name, err)
		case j.UID == r.UID:
			jobs = append(jobs, &j)
		}
	}
	return jobs, nil
}

// createJob creates the Job for the run at t and returns it. If a Job of
// that name exists already and belongs to cj, the run was started before
// (by this controller before a restart, or by a sync whose status write
// failed): it is returned as if just created. A namesake owned by someone
// else is left alone, and nil is returned, as Kubernetes does.
func (ctrl *Controller) createJob(ctx context.Context, cj *batch.CronJob, t time.Time) (*batch.Job, error) {
	job, err := newJob(cj, t)
	if err != nil {
		return nil, err
	}
	err = ctrl.c.Create(ctx, job)
	switch {
	case err == nil:
		ctrl.rec.Eventf(cj, events.Normal, "SuccessfulCreate", "Created job %s", job.Name)
		return job, nil
	case errors.Is(err, apierrors.ErrAlreadyExists):
		var existing batch.Job
		if err := ctrl.c.Get(ctx, cj.Namespace, job.Name, &existing); err != nil {
			return nil, fmt.Errorf("reading existing job %s: %w", job.Name, err)
		}
		if ref := controllerOf(&existing.ObjectMeta); ref == nil || ref.UID != cj.UID {
			ctrl.log.Info("a job not controlled by the cronjob has the name of its run", "cronjob", client.KeyOf(cj), "job", job.Name)
			return nil, nil
		}
		return &existing, nil
	default:
		ctrl.rec.Eventf(cj, events.Warning, "FailedCreate", "Error creating job: %v", err)
		return nil, fmt.Errorf("creating job %s: %w", job.Name, err)
	}
}

// deleteJob deletes j in the background (the garbage collector deletes
// its pods), with its uid as precondition. A Job already gone is not an
// error.
func (ctrl *Controller) deleteJob(ctx context.Context, cj *batch.CronJob, j *batch.Job) error {
	bg, uid := meta.DeletePropagationBackground, j.UID
	err := ctrl.c.Delete(ctx, jobKind, j.Namespace, j.Name,
		&meta.DeleteOptions{PropagationPolicy: &bg, Preconditions: &meta.Preconditions{UID: &uid}})
	switch {
	case errors.Is(err, apierrors.ErrNotFound):
		return nil
	case err != nil:
		ctrl.rec.Eventf(cj, events.Warning, "FailedDelete", "Deleted job: %v", err)
		return fmt.Errorf("deleting job %s: %w", j.Name, err)
	}
	ctrl.rec.Eventf(cj, events.Normal, "SuccessfulDelete", "Deleted job %s", j.Name)
	return nil
}

// writeStatus writes st if it differs from cj's, with the cached
// resourceVersion as precondition: lastScheduleTime is what keeps a run
// from starting twice, so a status computed from a stale copy must be
// refused (Conflict, retried from fresh state), never applied.
func (ctrl *Controller) writeStatus(ctx context.Context, cj *batch.CronJob, st batch.CronJobStatus) error {
	if reflect.DeepEqual(normalize(st), normalize(cj.Status)) {
		return nil
	}
	cp, err := meta.DeepCopy(cj)
	if err != nil {
		return err
	}
	cp.Status = st
	if err := ctrl.c.UpdateStatus(ctx, cp); err != nil && !errors.Is(err, apierrors.ErrNotFound) {
		return fmt.Errorf("updating the status of %s: %w", cj.Name, err)
	}
	return nil
}

// normalize makes an empty active list compare equal to a nil one.
func normalize(st batch.CronJobStatus) batch.CronJobStatus {
	if len(st.Active) == 0 {
		st.Active = nil
	}
	return st
}
