package batch

import "minik8s/pkg/apis/core"

// DefaultJob defaults as Kubernetes' batch/v1 SetDefaults_Job: when both
// completions and parallelism are unset both become 1; otherwise only
// parallelism defaults to 1 (a Job with parallelism and no completions
// runs until any pod succeeds). Also backoffLimit 6, completionMode
// NonIndexed, suspend false, and the Job's labels from its template's when
// it has none.
func DefaultJob(j *Job) {
	defaultJobSpec(&j.Spec)
	if len(j.Labels) == 0 && len(j.Spec.Template.Labels) > 0 {
		j.Labels = map[string]string{}
		for k, v := range j.Spec.Template.Labels {
			j.Labels[k] = v
		}
	}
}

func defaultJobSpec(s *JobSpec) {
	if s.Completions == nil && s.Parallelism == nil {
		s.Completions = ptr(int32(1))
	}
	if s.Parallelism == nil {
		s.Parallelism = ptr(int32(1))
	}
	if s.BackoffLimit == nil {
		s.BackoffLimit = ptr(int32(6))
	}
	if s.CompletionMode == nil {
		s.CompletionMode = ptr(NonIndexedCompletion)
	}
	if s.Suspend == nil {
		s.Suspend = ptr(false)
	}
	if s.PodReplacementPolicy == nil {
		s.PodReplacementPolicy = ptr("TerminatingOrFailed")
	}
	core.DefaultPodTemplateSpec(&s.Template)
}

// DefaultCronJob defaults concurrencyPolicy Allow, suspend false, 3
// successful and 1 failed Job of history, and the pod template. The job
// template's spec is defaulted as a Job when the CronJob creates it.
func DefaultCronJob(c *CronJob) {
	s := &c.Spec
	if s.ConcurrencyPolicy == "" {
		s.ConcurrencyPolicy = AllowConcurrent
	}
	if s.Suspend == nil {
		s.Suspend = ptr(false)
	}
	if s.SuccessfulJobsHistoryLimit == nil {
		s.SuccessfulJobsHistoryLimit = ptr(int32(3))
	}
	if s.FailedJobsHistoryLimit == nil {
		s.FailedJobsHistoryLimit = ptr(int32(1))
	}
	core.DefaultPodTemplateSpec(&s.JobTemplate.Spec.Template)
}

func ptr[T any](v T) *T { return &v }
