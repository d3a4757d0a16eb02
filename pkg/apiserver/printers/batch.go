package printers

import (
	"fmt"
	"time"

	"minik8s/pkg/apis/batch"
	"minik8s/pkg/apis/core"
)

var jobPrinter = &Printer{
	Columns: []Column{
		nameColumn,
		{Name: "Status", Type: "string", Description: "Status of the job."},
		{Name: "Completions", Type: "string", Description: "The number of pods which reached phase Succeeded."},
		{Name: "Duration", Type: "string", Description: "Time required to complete the job."},
		ageColumn, containersColumn, imagesColumn, selectorColumn,
	},
	Row: rowOf(func(j *batch.Job, now time.Time) []any {
		names, images := containerCells(j.Spec.Template.Spec.Containers)
		return []any{
			j.Name,
			jobStatus(j),
			jobCompletions(j),
			jobDuration(j, now),
			age(&j.ObjectMeta, now),
			names, images, formatLabelSelector(j.Spec.Selector),
		}
	}),
}

// jobFailureTarget is the condition a Job gets once it is bound to fail,
// before its pods are gone and Failed is set.
const jobFailureTarget = "FailureTarget"

// jobStatus is Complete, Failed, Terminating, Suspended, FailureTarget or
// Running, in that order of precedence (Kubernetes' printJob).
func jobStatus(j *batch.Job) string {
	switch {
	case hasJobCondition(j, batch.JobComplete):
		return "Complete"
	case hasJobCondition(j, batch.JobFailed):
		return "Failed"
	case j.DeletionTimestamp != nil:
		return "Terminating"
	case hasJobCondition(j, batch.JobSuspended):
		return "Suspended"
	case hasJobCondition(j, jobFailureTarget):
		return "FailureTarget"
	}
	return "Running"
}

// hasJobCondition says whether the job condition of type typ is True.
func hasJobCondition(j *batch.Job, typ string) bool {
	for _, c := range j.Status.Conditions {
		if c.Type == typ {
			return c.Status == core.ConditionTrue
		}
	}
	return false
}

// jobCompletions is "succeeded/completions". A job without completions
// (a work queue) needs one success: "0/1", or "0/1 of 3" when several pods
// run in parallel.
func jobCompletions(j *batch.Job) string {
	if c := j.Spec.Completions; c != nil {
		return fmt.Sprintf("%d/%d", j.Status.Succeeded, *c)
	}
	if p := j.Spec.Parallelism; p != nil && *p > 1 {
		return fmt.Sprintf("%d/1 of %d", j.Status.Succeeded, *p)
	}
	return fmt.Sprintf("%d/1", j.Status.Succeeded)
}

// jobDuration is how long the job ran, or has run so far; "" before it
// starts.
func jobDuration(j *batch.Job, now time.Time) string {
	start, end := j.Status.StartTime, j.Status.CompletionTime
	switch {
	case start == nil:
		return ""
	case end == nil:
		return HumanDuration(now.Sub(start.Time))
	}
	return HumanDuration(end.Sub(start.Time))
}

var cronJobPrinter = &Printer{
	Columns: []Column{
		nameColumn,
		{Name: "Schedule", Type: "string", Description: "The schedule in Cron format."},
		{Name: "Timezone", Type: "string", Description: "The time zone name for the given schedule."},
		{Name: "Suspend", Type: "boolean", Description: "This flag tells the controller to suspend subsequent executions."},
		{Name: "Active", Type: "integer", Description: "A list of pointers to currently running jobs."},
		{Name: "Last Schedule", Type: "string", Description: "Information when was the last time the job was successfully scheduled."},
		ageColumn, containersColumn, imagesColumn, selectorColumn,
	},
	Row: rowOf(func(cj *batch.CronJob, now time.Time) []any {
		job := &cj.Spec.JobTemplate.Spec
		names, images := containerCells(job.Template.Spec.Containers)
		lastSchedule, timeZone := none, none
		if t := cj.Status.LastScheduleTime; t != nil {
			lastSchedule = since(t.Time, now)
		}
		if tz := cj.Spec.TimeZone; tz != nil {
			timeZone = *tz
		}
		return []any{
			cj.Name,
			cj.Spec.Schedule,
			timeZone,
			printBoolPtr(cj.Spec.Suspend),
			int64(len(cj.Status.Active)),
			lastSchedule,
			age(&cj.ObjectMeta, now),
			names, images, formatLabelSelector(job.Selector),
		}
	}),
}
