// Package batch holds the batch/v1 kinds: Job (run pods to completion)
// and CronJob (create Jobs on a schedule), with their defaulting and
// validation. A Job's selector and the controller-uid labels are not
// defaulted here: they need the Job's uid, which the API server assigns.
//
// The package is pure: nothing here reads or writes the store.
package batch

import (
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
)

// Job runs pods until a number of them succeed.
type Job struct {
	meta.TypeMeta   `json:",inline"`
	meta.ObjectMeta `json:"metadata,omitempty"`
	Spec            JobSpec   `json:"spec,omitempty"`
	Status          JobStatus `json:"status,omitempty"`
}

// JobList is a list of Jobs.
type JobList struct {
	meta.TypeMeta `json:",inline"`
	meta.ListMeta `json:"metadata"`
	Items         []Job `json:"items"`
}

// Completion modes.
const (
	NonIndexedCompletion = "NonIndexed"
	IndexedCompletion    = "Indexed"
)

// Labels the API server puts on a Job's pods and selector (as Kubernetes).
const (
	ControllerUIDLabel       = "batch.kubernetes.io/controller-uid"
	LegacyControllerUIDLabel = "controller-uid"
	JobNameLabel             = "batch.kubernetes.io/job-name"
	LegacyJobNameLabel       = "job-name"
)

// JobSpec is the desired state of a Job.
type JobSpec struct {
	Parallelism             *int32               `json:"parallelism,omitempty"`
	Completions             *int32               `json:"completions,omitempty"`
	ActiveDeadlineSeconds   *int64               `json:"activeDeadlineSeconds,omitempty"`
	BackoffLimit            *int32               `json:"backoffLimit,omitempty"`
	Selector                *meta.LabelSelector  `json:"selector,omitempty"`
	ManualSelector          *bool                `json:"manualSelector,omitempty"`
	Template                core.PodTemplateSpec `json:"template"`
	TTLSecondsAfterFinished *int32               `json:"ttlSecondsAfterFinished,omitempty"`
	CompletionMode          *string              `json:"completionMode,omitempty"`
	Suspend                 *bool                `json:"suspend,omitempty"`
	PodReplacementPolicy    *string              `json:"podReplacementPolicy,omitempty"`
}

// Job condition types.
const (
	JobComplete  = "Complete"
	JobFailed    = "Failed"
	JobSuspended = "Suspended"
)

// JobStatus is the observed state of a Job.
type JobStatus struct {
	Conditions              []JobCondition           `json:"conditions,omitempty"`
	StartTime               *meta.Time               `json:"startTime,omitempty"`
	CompletionTime          *meta.Time               `json:"completionTime,omitempty"`
	Active                  int32                    `json:"active,omitempty"`
	Succeeded               int32                    `json:"succeeded,omitempty"`
	Failed                  int32                    `json:"failed,omitempty"`
	Terminating             *int32                   `json:"terminating,omitempty"`
	Ready                   *int32                   `json:"ready,omitempty"`
	CompletedIndexes        string                   `json:"completedIndexes,omitempty"`
	UncountedTerminatedPods *UncountedTerminatedPods `json:"uncountedTerminatedPods,omitempty"`
}

// UncountedTerminatedPods lists finished pods not yet counted in status.
type UncountedTerminatedPods struct {
	Succeeded []string `json:"succeeded,omitempty"`
	Failed    []string `json:"failed,omitempty"`
}

// JobCondition is one condition of a Job.
type JobCondition struct {
	Type               string    `json:"type"`
	Status             string    `json:"status"`
	LastProbeTime      meta.Time `json:"lastProbeTime,omitempty"`
	LastTransitionTime meta.Time `json:"lastTransitionTime,omitempty"`
	Reason             string    `json:"reason,omitempty"`
	Message            string    `json:"message,omitempty"`
}

// CronJob creates Jobs on a cron schedule.
type CronJob struct {
	meta.TypeMeta   `json:",inline"`
	meta.ObjectMeta `json:"metadata,omitempty"`
	Spec            CronJobSpec   `json:"spec,omitempty"`
	Status          CronJobStatus `json:"status,omitempty"`
}

// CronJobList is a list of CronJobs.
type CronJobList struct {
	meta.TypeMeta `json:",inline"`
	meta.ListMeta `json:"metadata"`
	Items         []CronJob `json:"items"`
}

// Concurrency policies: what to do when a run is due while the last one
// is still active.
const (
	AllowConcurrent   = "Allow"
	ForbidConcurrent  = "Forbid"
	ReplaceConcurrent = "Replace"
)

// CronJobSpec is the desired state of a CronJob.
type CronJobSpec struct {
	Schedule                   string          `json:"schedule"`
	TimeZone                   *string         `json:"timeZone,omitempty"`
	StartingDeadlineSeconds    *int64          `json:"startingDeadlineSeconds,omitempty"`
	ConcurrencyPolicy          string          `json:"concurrencyPolicy,omitempty"`
	Suspend                    *bool           `json:"suspend,omitempty"`
	JobTemplate                JobTemplateSpec `json:"jobTemplate"`
	SuccessfulJobsHistoryLimit *int32          `json:"successfulJobsHistoryLimit,omitempty"`
	FailedJobsHistoryLimit     *int32          `json:"failedJobsHistoryLimit,omitempty"`
}

// JobTemplateSpec is the Job a CronJob creates.
type JobTemplateSpec struct {
	meta.ObjectMeta `json:"metadata,omitempty"`
	Spec            JobSpec `json:"spec,omitempty"`
}

// CronJobStatus is the observed state of a CronJob.
type CronJobStatus struct {
	Active             []core.ObjectReference `json:"active,omitempty"`
	LastScheduleTime   *meta.Time             `json:"lastScheduleTime,omitempty"`
	LastSuccessfulTime *meta.Time             `json:"lastSuccessfulTime,omitempty"`
}
