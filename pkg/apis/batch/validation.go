package batch

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/field"
	"minik8s/pkg/apis/validation"
)

var (
	metaPath         = field.NewPath("metadata")
	specPath         = field.NewPath("spec")
	jobRestarts      = []string{core.RestartPolicyOnFailure, core.RestartPolicyNever}
	completionModes  = []string{NonIndexedCompletion, IndexedCompletion}
	concurrencyRules = []string{AllowConcurrent, ForbidConcurrent, ReplaceConcurrent}
)

// maxCronJobNameLength leaves room for the 11-character suffix the
// CronJob controller appends to make Job names, as in Kubernetes.
const maxCronJobNameLength = 52

// ValidateJob checks a Job, metadata included.
func ValidateJob(j *Job) field.ErrorList {
	errs := validation.ValidateObjectMeta(&j.ObjectMeta, true, validation.NameIsDNSSubdomain, metaPath)
	return append(errs, validateJobSpec(&j.Spec, specPath)...)
}

func validateJobSpec(s *JobSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, validation.ValidateNonnegativePtr(s.Parallelism, p.Child("parallelism"))...)
	errs = append(errs, validation.ValidateNonnegativePtr(s.Completions, p.Child("completions"))...)
	errs = append(errs, validation.ValidateNonnegativePtr(s.ActiveDeadlineSeconds, p.Child("activeDeadlineSeconds"))...)
	errs = append(errs, validation.ValidateNonnegativePtr(s.BackoffLimit, p.Child("backoffLimit"))...)
	errs = append(errs, validation.ValidateNonnegativePtr(s.TTLSecondsAfterFinished, p.Child("ttlSecondsAfterFinished"))...)
	if m := s.CompletionMode; m != nil {
		errs = append(errs, validation.ValidateEnum(*m, completionModes, p.Child("completionMode"))...)
		if *m == IndexedCompletion && s.Completions == nil {
			errs = append(errs, field.Required(p.Child("completions"), "when completion mode is Indexed"))
		}
	}
	// With no selector the API server generates one from the Job's uid,
	// so only a given selector is checked against the template.
	if s.Selector != nil {
		errs = append(errs, core.ValidateWorkloadTemplate(s.Selector, &s.Template, jobRestarts, "job", p)...)
	} else {
		errs = append(errs, core.ValidatePodTemplateSpec(&s.Template, p.Child("template"))...)
		if rp := s.Template.Spec.RestartPolicy; rp != core.RestartPolicyOnFailure && rp != core.RestartPolicyNever {
			errs = append(errs, field.NotSupported(p.Child("template", "spec", "restartPolicy"), rp, jobRestarts))
		}
	}
	return errs
}

// ValidateJobUpdate keeps the selector, template, completions and
// completion mode. (Kubernetes lets a suspended Job change some template
// fields; minik8s keeps the simpler rule.)
func ValidateJobUpdate(j, old *Job) field.ErrorList {
	errs := validation.ValidateObjectMetaUpdate(&j.ObjectMeta, &old.ObjectMeta, metaPath)
	if old.Spec.Selector != nil {
		errs = append(errs, validation.ValidateImmutableField(j.Spec.Selector, old.Spec.Selector, specPath.Child("selector"))...)
	}
	errs = append(errs, validation.ValidateImmutableField(j.Spec.Template, old.Spec.Template, specPath.Child("template"))...)
	errs = append(errs, validation.ValidateImmutableField(j.Spec.Completions, old.Spec.Completions, specPath.Child("completions"))...)
	errs = append(errs, validation.ValidateImmutableField(j.Spec.CompletionMode, old.Spec.CompletionMode, specPath.Child("completionMode"))...)
	return errs
}

// ValidateCronJob checks a CronJob, metadata included.
func ValidateCronJob(c *CronJob) field.ErrorList {
	errs := validation.ValidateObjectMeta(&c.ObjectMeta, true, validation.NameIsDNSSubdomain, metaPath)
	if len(c.Name) > maxCronJobNameLength {
		errs = append(errs, field.Invalid(metaPath.Child("name"), c.Name, validation.MaxLenError(maxCronJobNameLength)))
	}
	s := &c.Spec
	if s.Schedule == "" {
		errs = append(errs, field.Required(specPath.Child("schedule"), ""))
	} else if err := ValidateSchedule(s.Schedule); err != nil {
		errs = append(errs, field.Invalid(specPath.Child("schedule"), s.Schedule, err.Error()))
	}
	if tz := s.TimeZone; tz != nil && (*tz == "" || strings.ContainsAny(*tz, " \t")) {
		errs = append(errs, field.Invalid(specPath.Child("timeZone"), *tz, "unknown time zone "+*tz))
	}
	errs = append(errs, validation.ValidateEnum(s.ConcurrencyPolicy, concurrencyRules, specPath.Child("concurrencyPolicy"))...)
	errs = append(errs, validation.ValidateNonnegativePtr(s.StartingDeadlineSeconds, specPath.Child("startingDeadlineSeconds"))...)
	errs = append(errs, validation.ValidateNonnegativePtr(s.SuccessfulJobsHistoryLimit, specPath.Child("successfulJobsHistoryLimit"))...)
	errs = append(errs, validation.ValidateNonnegativePtr(s.FailedJobsHistoryLimit, specPath.Child("failedJobsHistoryLimit"))...)
	jp := specPath.Child("jobTemplate")
	errs = append(errs, validation.ValidateLabels(s.JobTemplate.Labels, jp.Child("metadata", "labels"))...)
	errs = append(errs, validation.ValidateAnnotations(s.JobTemplate.Annotations, jp.Child("metadata", "annotations"))...)
	return append(errs, validateJobSpec(&s.JobTemplate.Spec, jp.Child("spec"))...)
}

// ValidateCronJobUpdate checks only the metadata identity: every field of
// a CronJob's spec may change.
func ValidateCronJobUpdate(c, old *CronJob) field.ErrorList {
	return validation.ValidateObjectMetaUpdate(&c.ObjectMeta, &old.ObjectMeta, metaPath)
}

// cronFields are the five fields of a standard cron line and their ranges.
var cronFields = []struct {
	name     string
	min, max int
	names    []string // symbolic values, index = min + position
}{
	{"minute", 0, 59, nil},
	{"hour", 0, 23, nil},
	{"day of month", 1, 31, nil},
	{"month", 1, 12, []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}},
	{"day of week", 0, 7, []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}},
}

// ValidateSchedule checks a cron schedule in the syntax Kubernetes
// accepts: five fields (minute hour day-of-month month day-of-week) of
// "*", "?", values, ranges "a-b", lists "a,b" and steps "/n", or one of
// @yearly @annually @monthly @weekly @daily @midnight @hourly @every <d>.
func ValidateSchedule(schedule string) error {
	if strings.Contains(schedule, "TZ") {
		return fmt.Errorf("cannot use TZ or CRON_TZ in schedule, use timeZone field instead")
	}
	if strings.HasPrefix(schedule, "@") {
		switch schedule {
		case "@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly":
			return nil
		}
		if d, ok := strings.CutPrefix(schedule, "@every "); ok {
			if _, err := time.ParseDuration(d); err != nil {
				return fmt.Errorf("failed to parse duration %s: %v", schedule, err)
			}
			return nil
		}
		return fmt.Errorf("unrecognized descriptor: %s", schedule)
	}
	fields := strings.Fields(schedule)
	if len(fields) != len(cronFields) {
		return fmt.Errorf("expected exactly 5 fields, found %d: %v", len(fields), fields)
	}
	for i, f := range fields {
		for _, item := range strings.Split(f, ",") {
			if err := checkCronItem(item, i); err != nil {
				return fmt.Errorf("%s field %q: %w", cronFields[i].name, f, err)
			}
		}
	}
	return nil
}

// checkCronItem checks one list item: ("*" | "?" | a | a-b) ["/" step].
func checkCronItem(item string, field int) error {
	rng, step, hasStep := strings.Cut(item, "/")
	if hasStep {
		if n, err := strconv.Atoi(step); err != nil || n <= 0 {
			return fmt.Errorf("invalid step %q", step)
		}
	}
	if rng == "*" || rng == "?" {
		return nil
	}
	lo, hi, isRange := strings.Cut(rng, "-")
	a, err := cronValue(lo, field)
	if err != nil {
		return err
	}
	if !isRange {
		return nil
	}
	b, err := cronValue(hi, field)
	if err != nil {
		return err
	}
	if a > b {
		return fmt.Errorf("beginning of range (%d) beyond end of range (%d)", a, b)
	}
	return nil
}

func cronValue(s string, field int) (int, error) {
	f := cronFields[field]
	for i, name := range f.names {
		if strings.EqualFold(s, name) {
			return f.min + i, nil
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("failed to parse int from %s", s)
	}
	if n < f.min || n > f.max {
		return 0, fmt.Errorf("end of range (%d) above maximum (%d) or below minimum (%d)", n, f.max, f.min)
	}
	return n, nil
}
