package cronjob

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"minik8s/pkg/apis/batch"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
)

// This file holds the pure decisions of the controller: values in, values
// out, no API calls.

// What owner references to a CronJob say.
const (
	controllerAPIVersion = "batch/v1"
	controllerKind       = "CronJob"
)

// scheduledTimeAnnotation records on each Job the time it was scheduled
// for (Kubernetes' batch.kubernetes.io/cronjob-scheduled-timestamp).
const scheduledTimeAnnotation = "batch.kubernetes.io/cronjob-scheduled-timestamp"

// tooManyMissed is how many missed activations make the controller warn
// (Kubernetes: "somewhat arbitrarily picked 100, as more than 80 [an
// hourly job over a long weekend], but less than lots").
const tooManyMissed = 100

// nextScheduleDelta pads the requeue for the next activation, so that a
// slightly early wake-up (clock skew) does not find nothing due
// (Kubernetes' nextScheduleDelta).
const nextScheduleDelta = 100 * time.Millisecond

// controllerOf returns obj's controller owner reference, or nil.
func controllerOf(m *meta.ObjectMeta) *meta.OwnerReference {
	for i := range m.OwnerReferences {
		if r := &m.OwnerReferences[i]; r.Controller != nil && *r.Controller {
			return r
		}
	}
	return nil
}

// jobName is the name of the Job for the run scheduled at t: the CronJob's
// name and t in minutes since the epoch (Kubernetes' getJobName). The name
// is the lock that makes a run happen once: a controller that restarts
// between creating the Job and recording it in the status gets
// AlreadyExists, not a second Job.
func jobName(cj *batch.CronJob, t time.Time) string {
	return fmt.Sprintf("%s-%d", cj.Name, t.Unix()/60)
}

// newJob returns the Job cj runs at t, from its jobTemplate.
func newJob(cj *batch.CronJob, t time.Time) (*batch.Job, error) {
	tmpl, err := meta.DeepCopy(&cj.Spec.JobTemplate)
	if err != nil {
		return nil, fmt.Errorf("copying the job template of %s: %w", cj.Name, err)
	}
	annotations := tmpl.Annotations
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[scheduledTimeAnnotation] = t.UTC().Format(time.RFC3339)
	yes := true
	return &batch.Job{
		ObjectMeta: meta.ObjectMeta{
			Name: jobName(cj, t), Namespace: cj.Namespace,
			Labels: tmpl.Labels, Annotations: annotations,
			OwnerReferences: []meta.OwnerReference{{
				APIVersion: controllerAPIVersion, Kind: controllerKind, Name: cj.Name, UID: cj.UID,
				Controller: &yes, BlockOwnerDeletion: &yes,
			}},
		},
		Spec: tmpl.Spec,
	}, nil
}

// jobRef is how a CronJob's status lists an active Job. Unlike
// Kubernetes it leaves out the Job's resourceVersion, which would rewrite
// the CronJob's status at every change of every active Job.
func jobRef(j *batch.Job) core.ObjectReference {
	return core.ObjectReference{Kind: "Job", APIVersion: "batch/v1", Namespace: j.Namespace, Name: j.Name, UID: j.UID}
}

// finishedCondition returns the Complete or Failed condition of j that is
// True, or nil while it runs.
func finishedCondition(j *batch.Job) *batch.JobCondition {
	for i := range j.Status.Conditions {
		c := &j.Status.Conditions[i]
		if (c.Type == batch.JobComplete || c.Type == batch.JobFailed) && c.Status == core.ConditionTrue {
			return c
		}
	}
	return nil
}

// ---- when ----

// due is what the schedule asks for at some moment.
type due struct {
	// at is the most recent activation not yet run (zero: none).
	at time.Time
	// missed counts the activations in the window the controller would
	// still start (capped at tooManyMissed+1).
	missed int
	// late says at is past startingDeadlineSeconds: too late to start.
	late bool
	// next is the first activation after now (zero: never again).
	next time.Time
}

// dueAt is Kubernetes' nextScheduleTime: what to run at now for a CronJob
// last scheduled at since (or created then). Only the most recent missed
// activation is ever run, however many were missed; the count covers the
// window that startingDeadlineSeconds leaves open (the whole span since
// the last run without one), so setting a deadline is how a user quiets
// the warning.
func dueAt(s Schedule, since time.Time, deadline *int64, now time.Time) due {
	d := due{at: s.Last(since, now), next: s.Next(now)}
	if d.at.IsZero() {
		return d
	}
	window := since
	if deadline != nil {
		limit := now.Add(-time.Duration(*deadline) * time.Second)
		if limit.After(window) {
			window = limit
		}
		d.late = d.at.Add(time.Duration(*deadline) * time.Second).Before(now)
	}
	for t := s.Next(window); !t.IsZero() && !t.After(now) && d.missed <= tooManyMissed; t = s.Next(t) {
		d.missed++
	}
	return d
}

// ---- what ----

// event is an Event to record once the decision has been acted on.
type event struct{ typ, reason, message string }

// plan is what one sync does to a CronJob.
type plan struct {
	status batch.CronJobStatus
	// run, if not zero, is the scheduled time of the Job to create.
	run time.Time
	// replace are the active Jobs to delete first (concurrencyPolicy
	// Replace).
	replace []*batch.Job
	// prune are finished Jobs beyond the history limits, to delete.
	prune  []*batch.Job
	events []event
	// requeue, if positive, is when the next activation is due.
	requeue time.Duration
}

// decide returns what to do for cj at now, given the Jobs it owns (from
// the cache, plus any the status lists that a live read found) and its
// parsed schedule. It is Kubernetes' syncCronJob: first the status from
// the Jobs (active ones, finished ones noticed, last success), then the
// schedule: nothing due, too late, already run, Forbid with a run
// active, or a run to start (after deleting the active ones for
// Replace).
func decide(cj *batch.CronJob, jobs []*batch.Job, sched Schedule, now time.Time) plan {
	p := plan{status: batch.CronJobStatus{LastScheduleTime: cj.Status.LastScheduleTime, LastSuccessfulTime: cj.Status.LastSuccessfulTime}}
	wasActive := map[string]bool{}
	for _, r := range cj.Status.Active {
		wasActive[r.UID] = true
	}
	var active []*batch.Job
	seen := map[string]bool{}
	for _, j := range jobs {
		seen[j.UID] = true
		c := finishedCondition(j)
		if c == nil {
			active = append(active, j)
			continue
		}
		if wasActive[j.UID] {
			p.events = append(p.events, event{"Normal", "SawCompletedJob", fmt.Sprintf("Saw completed job: %s, status: %s", j.Name, c.Type)})
		}
		if c.Type == batch.JobComplete && j.Status.CompletionTime != nil &&
			(p.status.LastSuccessfulTime == nil || j.Status.CompletionTime.After(p.status.LastSuccessfulTime.Time)) {
			t := *j.Status.CompletionTime
			p.status.LastSuccessfulTime = &t
		}
	}
	for _, r := range cj.Status.Active {
		if !seen[r.UID] {
			p.events = append(p.events, event{"Warning", "MissingJob", "Active job went missing: " + r.Name})
		}
	}
	slices.SortFunc(active, func(a, b *batch.Job) int { return strings.Compare(a.Name, b.Name) })
	for _, j := range active {
		p.status.Active = append(p.status.Active, jobRef(j))
	}
	p.prune = overHistory(jobs, cj.Spec.SuccessfulJobsHistoryLimit, cj.Spec.FailedJobsHistoryLimit)

	if cj.DeletionTimestamp != nil || cj.Spec.Suspend != nil && *cj.Spec.Suspend {
		return p // a suspended CronJob wakes up with its update event
	}
	since := cj.CreationTimestamp.Time
	if cj.Status.LastScheduleTime != nil {
		since = cj.Status.LastScheduleTime.Time
	}
	d := dueAt(sched, since, cj.Spec.StartingDeadlineSeconds, now)
	if !d.next.IsZero() {
		p.requeue = d.next.Sub(now) + nextScheduleDelta
	}
	switch {
	case d.at.IsZero():
		return p
	case d.late:
		p.events = append(p.events, event{"Warning", "MissSchedule", "Missed scheduled time to start a job: " + d.at.UTC().Format(time.RFC1123Z)})
		return p
	case slices.ContainsFunc(active, func(j *batch.Job) bool { return j.Name == jobName(cj, d.at) }):
		return p // run already, the status just does not say so yet
	case cj.Spec.ConcurrencyPolicy == batch.ForbidConcurrent && len(active) > 0:
		// Not recorded as scheduled: when the active run ends, this one
		// still starts, unless startingDeadlineSeconds has passed by then
		// (Kubernetes).
		p.events = append(p.events, event{"Normal", "JobAlreadyActive", "Not starting job because prior execution is running and concurrency policy is Forbid"})
		return p
	}
	if d.missed > tooManyMissed {
		p.events = append(p.events, event{"Warning", "TooManyMissedTimes", "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew"})
	}
	if cj.Spec.ConcurrencyPolicy == batch.ReplaceConcurrent {
		p.replace = active
	}
	p.run = d.at
	return p
}

// overHistory returns the finished Jobs beyond the history limits: the
// oldest succeeded ones past successfulJobsHistoryLimit and the oldest
// failed ones past failedJobsHistoryLimit. A nil limit keeps them all.
// Age is status.startTime (Jobs never started count as newest), then the
// name, which for a CronJob's Jobs encodes the scheduled minute.
func overHistory(jobs []*batch.Job, succeededLimit, failedLimit *int32) []*batch.Job {
	var succeeded, failed []*batch.Job
	for _, j := range jobs {
		if c := finishedCondition(j); c != nil && j.DeletionTimestamp == nil {
			if c.Type == batch.JobComplete {
				succeeded = append(succeeded, j)
			} else {
				failed = append(failed, j)
			}
		}
	}
	return append(oldest(succeeded, succeededLimit), oldest(failed, failedLimit)...)
}

func oldest(jobs []*batch.Job, limit *int32) []*batch.Job {
	if limit == nil || len(jobs) <= int(*limit) {
		return nil
	}
	slices.SortFunc(jobs, func(a, b *batch.Job) int {
		sa, sb := a.Status.StartTime, b.Status.StartTime
		switch {
		case sa == nil && sb != nil:
			return 1
		case sa != nil && sb == nil:
			return -1
		case sa != nil && !sa.Equal(sb.Time):
			return sa.Compare(sb.Time)
		}
		return strings.Compare(a.Name, b.Name)
	})
	return jobs[:len(jobs)-int(*limit)]
}
