package printers

import (
	"testing"
	"time"

	"minik8s/pkg/apis/batch"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
)

func jobCondition(typ string) batch.JobCondition {
	return batch.JobCondition{Type: typ, Status: core.ConditionTrue}
}

func TestJobColumns(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec batch.JobSpec
		st   batch.JobStatus
		del  bool
		want map[string]any
	}{
		{"running with completions",
			batch.JobSpec{Completions: ptr(int32(3)), Parallelism: ptr(int32(1))},
			batch.JobStatus{Succeeded: 1, Active: 1, StartTime: agoPtr(90 * time.Second)}, false,
			map[string]any{"Status": "Running", "Completions": "1/3", "Duration": "90s"}},
		{"complete",
			batch.JobSpec{Completions: ptr(int32(1))},
			batch.JobStatus{Succeeded: 1, StartTime: agoPtr(10 * time.Minute), CompletionTime: agoPtr(7 * time.Minute),
				Conditions: []batch.JobCondition{jobCondition(batch.JobComplete)}}, false,
			map[string]any{"Status": "Complete", "Completions": "1/1", "Duration": "3m"}},
		{"work queue with parallel pods",
			batch.JobSpec{Parallelism: ptr(int32(2))}, batch.JobStatus{}, false,
			map[string]any{"Completions": "0/1 of 2", "Duration": ""}},
		{"work queue with one pod",
			batch.JobSpec{Parallelism: ptr(int32(1))}, batch.JobStatus{}, false,
			map[string]any{"Completions": "0/1"}},
		{"failed",
			batch.JobSpec{Completions: ptr(int32(1))},
			batch.JobStatus{Failed: 7, Conditions: []batch.JobCondition{jobCondition(batch.JobFailed)}}, false,
			map[string]any{"Status": "Failed", "Completions": "0/1"}},
		{"suspended",
			batch.JobSpec{Suspend: ptr(true)},
			batch.JobStatus{Conditions: []batch.JobCondition{jobCondition(batch.JobSuspended)}}, false,
			map[string]any{"Status": "Suspended"}},
		{"false conditions do not count",
			batch.JobSpec{},
			batch.JobStatus{Conditions: []batch.JobCondition{{Type: batch.JobSuspended, Status: core.ConditionFalse}}}, false,
			map[string]any{"Status": "Running"}},
		{"being deleted", batch.JobSpec{}, batch.JobStatus{}, true,
			map[string]any{"Status": "Terminating"}},
	} {
		j := &batch.Job{ObjectMeta: meta.ObjectMeta{Name: "pi", CreationTimestamp: ago(time.Hour)}, Spec: tc.spec, Status: tc.st}
		j.Spec.Template = webTemplate
		if tc.del {
			j.DeletionTimestamp = agoPtr(0)
		}
		tc.want["Name"], tc.want["Age"], tc.want["Images"] = "pi", "60m", "nginx:1.27,envoy:v1.31"
		checkCells(t, tc.name, row(t, "batch", "jobs", j), tc.want)
	}
}

func TestCronJobColumns(t *testing.T) {
	cj := &batch.CronJob{
		ObjectMeta: meta.ObjectMeta{Name: "backup", CreationTimestamp: ago(50 * time.Hour)},
		Spec:       batch.CronJobSpec{Schedule: "*/5 * * * *"},
	}
	checkCells(t, "never scheduled", row(t, "batch", "cronjobs", cj), map[string]any{
		"Name": "backup", "Schedule": "*/5 * * * *", "Timezone": "<none>", "Suspend": "<unset>",
		"Active": int64(0), "Last Schedule": "<none>", "Age": "2d2h", "Selector": "<none>",
	})

	cj.Spec.TimeZone = ptr("Europe/Paris")
	cj.Spec.Suspend = ptr(false)
	cj.Status.Active = []core.ObjectReference{{Kind: "Job", Name: "backup-1"}}
	cj.Status.LastScheduleTime = agoPtr(2 * time.Minute)
	checkCells(t, "scheduled", row(t, "batch", "cronjobs", cj), map[string]any{
		"Timezone": "Europe/Paris", "Suspend": "False", "Active": int64(1), "Last Schedule": "2m",
	})
}
