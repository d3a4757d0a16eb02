package batch

import (
	"strings"
	"testing"

	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
)

func newJob() *Job {
	return &Job{
		ObjectMeta: meta.ObjectMeta{Name: "j", Namespace: "default"},
		Spec: JobSpec{Template: core.PodTemplateSpec{
			ObjectMeta: meta.ObjectMeta{Labels: map[string]string{"app": "j"}},
			Spec:       core.PodSpec{RestartPolicy: "Never", Containers: []core.Container{{Name: "c", Image: "busybox"}}},
		}},
	}
}

func TestJobDefaults(t *testing.T) {
	i32 := func(v int32) *int32 { return &v }
	str := func(p *int32) string {
		if p == nil {
			return "nil"
		}
		return string(rune('0' + *p))
	}
	tests := []struct {
		name                     string
		parallelism, completions *int32
		wantPar, wantComp        string
	}{
		{"both unset", nil, nil, "1", "1"},
		{"parallelism set", i32(3), nil, "3", "nil"},
		{"completions set", nil, i32(5), "1", "5"},
	}
	for _, tt := range tests {
		j := newJob()
		j.Spec.Parallelism, j.Spec.Completions = tt.parallelism, tt.completions
		DefaultJob(j)
		if got := str(j.Spec.Parallelism); got != tt.wantPar {
			t.Errorf("%s: parallelism = %s; want %s", tt.name, got, tt.wantPar)
		}
		if got := str(j.Spec.Completions); got != tt.wantComp {
			t.Errorf("%s: completions = %s; want %s", tt.name, got, tt.wantComp)
		}
	}
	j := newJob()
	DefaultJob(j)
	if *j.Spec.BackoffLimit != 6 || *j.Spec.CompletionMode != NonIndexedCompletion || *j.Spec.Suspend || j.Spec.Selector != nil || j.Labels["app"] != "j" {
		t.Errorf("defaulted job = %+v; want backoffLimit 6, NonIndexed, not suspended, no selector, labels from template", j)
	}
	if errs := ValidateJob(j); len(errs) > 0 {
		t.Errorf("ValidateJob = %v; want none", errs.ToAggregate())
	}
}

func TestJobValidation(t *testing.T) {
	j := newJob()
	j.Spec.Template.Spec.RestartPolicy = ""
	DefaultJob(j) // defaults the template to Always, which a Job rejects
	errs := ValidateJob(j)
	want := `spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"`
	if len(errs) != 1 || errs[0].Error() != want {
		t.Errorf("got %v; want %q", errs.ToAggregate(), want)
	}
	old := newJob()
	DefaultJob(old)
	changed := newJob()
	DefaultJob(changed)
	changed.Spec.Template.Spec.Containers[0].Image = "other"
	if errs := ValidateJobUpdate(changed, old); len(errs) != 1 || errs[0].Field != "spec.template" {
		t.Errorf("changing the template: %v; want spec.template: field is immutable", errs.ToAggregate())
	}
}

func TestCronJob(t *testing.T) {
	c := &CronJob{ObjectMeta: meta.ObjectMeta{Name: "c", Namespace: "default"}, Spec: CronJobSpec{Schedule: "0 * * * *"}}
	c.Spec.JobTemplate.Spec = newJob().Spec
	DefaultCronJob(c)
	if c.Spec.ConcurrencyPolicy != AllowConcurrent || *c.Spec.Suspend || *c.Spec.SuccessfulJobsHistoryLimit != 3 || *c.Spec.FailedJobsHistoryLimit != 1 {
		t.Errorf("defaulted spec = %+v; want Allow, not suspended, 3 and 1", c.Spec)
	}
	if errs := ValidateCronJob(c); len(errs) > 0 {
		t.Errorf("ValidateCronJob = %v; want none", errs.ToAggregate())
	}
	c.Name = strings.Repeat("a", 53)
	if errs := ValidateCronJob(c); len(errs) != 1 || errs[0].Field != "metadata.name" {
		t.Errorf("53-character name: %v; want one error at metadata.name", errs.ToAggregate())
	}
}

func TestValidateSchedule(t *testing.T) {
	tests := []struct {
		schedule string
		ok       bool
	}{
		{"*/5 * * * *", true},
		{"0 9-17 * * MON-FRI", true},
		{"0 0 1,15 JAN,jul ?", true},
		{"@hourly", true},
		{"@every 1h30m", true},
		{"* * * *", false},
		{"60 * * * *", false},
		{"* * * 13 *", false},
		{"5-1 * * * *", false},
		{"*/0 * * * *", false},
		{"@sometimes", false},
		{"TZ=UTC 0 * * * *", false},
	}
	for _, tt := range tests {
		err := ValidateSchedule(tt.schedule)
		if (err == nil) != tt.ok {
			t.Errorf("ValidateSchedule(%q) = %v; want ok=%v", tt.schedule, err, tt.ok)
		}
	}
}
