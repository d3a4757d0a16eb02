package cronjob

import (
	"slices"
	"testing"
	"time"

	"minik8s/pkg/apis/batch"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
)

func TestDueAt(t *testing.T) {
	every5, _ := parseSchedule("*/5 * * * *", time.UTC)
	since := time.Date(2024, 1, 1, 10, 0, 0, 0, time.UTC) // the last run
	at := func(h, m int) time.Time { return time.Date(2024, 1, 1, h, m, 0, 0, time.UTC) }
	tests := []struct {
		name     string
		now      time.Time
		deadline *int64
		want     due
	}{
		{"nothing due yet", at(10, 4).Add(59 * time.Second), nil,
			due{next: at(10, 5)}},
		{"due exactly now", at(10, 5), nil,
			due{at: at(10, 5), missed: 1, next: at(10, 10)}},
		{"a few missed: the latest runs", at(10, 17), nil,
			due{at: at(10, 15), missed: 3, next: at(10, 20)}},
		{"nine hours missed: more than 100", at(19, 2), nil,
			due{at: at(19, 0), missed: tooManyMissed + 1, next: at(19, 5)}},
		{"a deadline narrows the window counted", at(19, 2), ptr(int64(600)),
			due{at: at(19, 0), missed: 2, next: at(19, 5)}},
		{"within the deadline", at(10, 5).Add(59 * time.Second), ptr(int64(60)),
			due{at: at(10, 5), missed: 1, next: at(10, 10)}},
		{"past the deadline: late", at(10, 7), ptr(int64(60)),
			due{at: at(10, 5), late: true, next: at(10, 10)}},
	}
	for _, tt := range tests {
		if got := dueAt(every5, since, tt.deadline, tt.now); got != tt.want {
			t.Errorf("%s: got %+v; want %+v", tt.name, got, tt.want)
		}
	}
}

// cronAt returns a CronJob created at 10:00 with a run every five minutes.
func cronAt(policy string) *batch.CronJob {
	cj := newCronJob("cj", "*/5 * * * *")
	cj.UID = "cj-uid"
	cj.CreationTimestamp = meta.NewTime(time.Date(2024, 1, 1, 10, 0, 0, 0, time.UTC))
	cj.Spec.ConcurrencyPolicy = policy
	return cj
}

func runJob(cj *batch.CronJob, at time.Time, finished string) *batch.Job {
	j, _ := newJob(cj, at)
	j.UID = j.Name + "-uid"
	if finished != "" {
		end := meta.NewTime(at.Add(time.Minute))
		j.Status.StartTime = &meta.Time{Time: at}
		j.Status.Conditions = []batch.JobCondition{{Type: finished, Status: core.ConditionTrue}}
		if finished == batch.JobComplete {
			j.Status.CompletionTime = &end
		}
	}
	return j
}

func reasons(p plan) []string {
	var out []string
	for _, e := range p.events {
		out = append(out, e.reason)
	}
	return out
}

func names(jobs []*batch.Job) []string {
	var out []string
	for _, j := range jobs {
		out = append(out, j.Name)
	}
	return out
}

func TestDecideConcurrencyPolicies(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 10, 5, 0, 0, time.UTC)
	t1 := t0.Add(5 * time.Minute)
	now := t1.Add(10 * time.Second)
	sched, _ := parseSchedule("*/5 * * * *", time.UTC)
	tests := []struct {
		policy      string
		wantRun     bool
		wantReplace []string
		wantEvents  []string
	}{
		{batch.AllowConcurrent, true, nil, nil},
		{batch.ForbidConcurrent, false, nil, []string{"JobAlreadyActive"}},
		{batch.ReplaceConcurrent, true, []string{"cj-28401725"}, nil}, // the run at t0
	}
	for _, tt := range tests {
		cj := cronAt(tt.policy)
		first := runJob(cj, t0, "")
		cj.Status.LastScheduleTime = &meta.Time{Time: t0}
		cj.Status.Active = []core.ObjectReference{jobRef(first)}
		p := decide(cj, []*batch.Job{first}, sched, now)
		if got := !p.run.IsZero(); got != tt.wantRun || tt.wantRun && !p.run.Equal(t1) {
			t.Errorf("%s: run %v; want a run at %v: %v", tt.policy, p.run, t1, tt.wantRun)
		}
		if got := names(p.replace); !slices.Equal(got, tt.wantReplace) {
			t.Errorf("%s: replace %v; want %v", tt.policy, got, tt.wantReplace)
		}
		if got := reasons(p); !slices.Equal(got, tt.wantEvents) {
			t.Errorf("%s: events %v; want %v", tt.policy, got, tt.wantEvents)
		}
		if want := t1.Add(5*time.Minute).Sub(now) + nextScheduleDelta; p.requeue != want {
			t.Errorf("%s: requeue in %v; want %v (the next activation)", tt.policy, p.requeue, want)
		}
	}
}

func TestDecideWhenNotToRun(t *testing.T) {
	sched, _ := parseSchedule("*/5 * * * *", time.UTC)
	t0 := time.Date(2024, 1, 1, 10, 5, 0, 0, time.UTC)

	suspended := cronAt(batch.AllowConcurrent)
	suspended.Spec.Suspend = ptr(true)
	if p := decide(suspended, nil, sched, t0.Add(time.Second)); !p.run.IsZero() || p.requeue != 0 {
		t.Errorf("suspended: run %v, requeue %v; want neither", p.run, p.requeue)
	}

	// The run's Job exists (the cache saw it) but the status does not
	// say so yet: not started twice.
	cj := cronAt(batch.AllowConcurrent)
	if p := decide(cj, []*batch.Job{runJob(cj, t0, "")}, sched, t0.Add(time.Second)); !p.run.IsZero() {
		t.Errorf("run already started: decide runs %v again", p.run)
	}

	late := cronAt(batch.AllowConcurrent)
	late.Spec.StartingDeadlineSeconds = ptr(int64(30))
	if p := decide(late, nil, sched, t0.Add(time.Minute)); !p.run.IsZero() || !slices.Equal(reasons(p), []string{"MissSchedule"}) {
		t.Errorf("past the deadline: run %v, events %v; want no run and MissSchedule", p.run, reasons(p))
	}

	// Created long ago, never run: one run, and a warning.
	p := decide(cronAt(batch.AllowConcurrent), nil, sched, t0.Add(48*time.Hour))
	if !p.run.Equal(t0.Add(48*time.Hour)) || !slices.Equal(reasons(p), []string{"TooManyMissedTimes"}) {
		t.Errorf("two days missed: run %v, events %v; want the latest run %v and TooManyMissedTimes", p.run, reasons(p), t0.Add(48*time.Hour))
	}
	// A few missed: one run, no warning.
	p = decide(cronAt(batch.AllowConcurrent), nil, sched, t0.Add(time.Hour))
	if !p.run.Equal(t0.Add(time.Hour)) || len(p.events) != 0 {
		t.Errorf("an hour missed: run %v, events %v; want the latest run %v and no event", p.run, reasons(p), t0.Add(time.Hour))
	}
}

func TestDecideStatusFollowsTheJobs(t *testing.T) {
	sched, _ := parseSchedule("*/5 * * * *", time.UTC)
	cj := cronAt(batch.AllowConcurrent)
	t0 := time.Date(2024, 1, 1, 10, 5, 0, 0, time.UTC)
	done := runJob(cj, t0, batch.JobComplete)
	running := runJob(cj, t0.Add(5*time.Minute), "")
	gone := runJob(cj, t0.Add(10*time.Minute), "")
	cj.Status.Active = []core.ObjectReference{jobRef(done), jobRef(running), jobRef(gone)}
	cj.Status.LastScheduleTime = &meta.Time{Time: t0.Add(10 * time.Minute)}

	p := decide(cj, []*batch.Job{done, running}, sched, t0.Add(11*time.Minute))
	if len(p.status.Active) != 1 || p.status.Active[0].UID != running.UID {
		t.Errorf("active %+v; want only %s", p.status.Active, running.Name)
	}
	if p.status.LastSuccessfulTime == nil || !p.status.LastSuccessfulTime.Equal(done.Status.CompletionTime.Time) {
		t.Errorf("lastSuccessfulTime %v; want %v", p.status.LastSuccessfulTime, done.Status.CompletionTime)
	}
	if got, want := reasons(p), []string{"SawCompletedJob", "MissingJob"}; !slices.Equal(got, want) {
		t.Errorf("events %v; want %v", got, want)
	}
}

func TestOverHistoryDeletesTheOldestBeyondEachLimit(t *testing.T) {
	cj := cronAt(batch.AllowConcurrent)
	t0 := time.Date(2024, 1, 1, 10, 0, 0, 0, time.UTC)
	var jobs []*batch.Job
	// cj-28401720 is the run at t0, cj-28401721 a minute later, ...
	for i, fate := range []string{batch.JobComplete, batch.JobFailed, batch.JobComplete, batch.JobFailed, batch.JobComplete, "", batch.JobComplete} {
		jobs = append(jobs, runJob(cj, t0.Add(time.Duration(i)*time.Minute), fate))
	}
	slices.Reverse(jobs) // order of the input does not matter
	tests := []struct {
		succeeded, failed *int32
		want              []string
	}{
		{ptr(int32(3)), ptr(int32(1)), []string{"cj-28401720", "cj-28401721"}},
		{ptr(int32(0)), ptr(int32(0)), []string{"cj-28401720", "cj-28401722", "cj-28401724", "cj-28401726", "cj-28401721", "cj-28401723"}},
		{nil, nil, nil},
		{ptr(int32(10)), ptr(int32(10)), nil},
	}
	for _, tt := range tests {
		got := names(overHistory(slices.Clone(jobs), tt.succeeded, tt.failed))
		if !slices.Equal(got, tt.want) {
			t.Errorf("limits %v/%v: delete %v; want %v", deref(tt.succeeded), deref(tt.failed), got, tt.want)
		}
	}
}

func deref(p *int32) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestJobNameIsTheScheduledMinute(t *testing.T) {
	cj := cronAt(batch.AllowConcurrent)
	at := time.Date(2024, 1, 1, 10, 5, 0, 0, time.UTC)
	if got, want := jobName(cj, at), "cj-28401725"; got != want {
		t.Errorf("jobName = %q; want %q (minutes since the epoch)", got, want)
	}
}
