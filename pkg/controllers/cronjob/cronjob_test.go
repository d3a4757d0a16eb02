package cronjob

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"minik8s/pkg/apis"
	"minik8s/pkg/apis/apierrors"
	"minik8s/pkg/apis/batch"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/apiserver/apiservertest"
	"minik8s/pkg/client"
	"minik8s/pkg/client/events"
)

// These tests run the controller against a real API server on embedded
// etcd, with a clock the test moves by hand: no test waits for a
// schedule. Jobs are only objects (no Job controller runs): the tests
// finish them by writing their status.

const ns = "default"

// harness runs a controller whose clock the test sets, and whose syncs
// it can wait for.
type harness struct {
	t    *testing.T
	c    *client.Client
	ctrl *Controller

	mu  sync.Mutex
	now time.Time
	// epoch counts the calls of at; synced holds, per key, the epoch at
	// the start of the latest sync that succeeded.
	epoch  int
	synced map[string]int
}

func start(t *testing.T) *harness {
	t.Helper()
	s := apiservertest.Start(t)
	h := &harness{t: t, c: s.Client, now: time.Now(), synced: map[string]int{}}
	ctx, cancel := context.WithCancel(context.Background())
	f := client.NewFactory(h.c, 0)
	rec := events.New(h.c, "cronjob-controller", "test")
	h.ctrl = New(h.c, f, rec, Config{Now: h.clock})
	sync := h.ctrl.syncHandler
	h.ctrl.syncHandler = func(ctx context.Context, key string) error {
		h.mu.Lock()
		e := h.epoch
		h.mu.Unlock()
		err := sync(ctx, key)
		if err == nil {
			h.mu.Lock()
			h.synced[key] = max(h.synced[key], e)
			h.mu.Unlock()
		}
		return err
	}
	f.Start(ctx)
	done := make(chan struct{}, 2)
	go func() { rec.Run(ctx); done <- struct{}{} }()
	go func() { h.ctrl.Run(ctx, 2); done <- struct{}{} }()
	t.Cleanup(func() {
		cancel()
		<-done
		<-done
		f.Wait()
	})
	return h
}

func (h *harness) clock() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.now
}

// at sets the clock to now and returns once cj has been synced without
// error at that time, from caches that hold at least the given versions
// of the objects the test wrote.
func (h *harness) at(now time.Time, cj string, written ...meta.Object) {
	h.t.Helper()
	for _, obj := range written {
		h.waitCached(obj)
	}
	h.mu.Lock()
	h.now = now
	h.epoch++
	e := h.epoch
	h.mu.Unlock()
	key := ns + "/" + cj
	h.ctrl.queue.Add(key)
	waitFor(h.t, 15*time.Second, func() (bool, string) {
		h.mu.Lock()
		defer h.mu.Unlock()
		return h.synced[key] >= e, spf("no successful sync of %s at %v", cj, now)
	})
}

// waitCached waits until the controller's cache holds obj at its
// resourceVersion or later.
func (h *harness) waitCached(obj meta.Object) {
	h.t.Helper()
	inf := h.ctrl.jobs
	if _, ok := obj.(*batch.CronJob); ok {
		inf = h.ctrl.cronJobs
	}
	want, _ := strconv.ParseInt(obj.GetObjectMeta().ResourceVersion, 10, 64)
	waitFor(h.t, 10*time.Second, func() (bool, string) {
		got, ok := inf.Store().Get(client.KeyOf(obj))
		if !ok {
			return false, spf("%s not cached", client.KeyOf(obj))
		}
		rv, _ := strconv.ParseInt(got.GetObjectMeta().ResourceVersion, 10, 64)
		return rv >= want, spf("%s cached at %d; want %d", client.KeyOf(obj), rv, want)
	})
}

func (h *harness) create(cj *batch.CronJob) *batch.CronJob {
	h.t.Helper()
	if err := h.c.Create(context.Background(), cj); err != nil {
		h.t.Fatal(err)
	}
	return cj
}

func (h *harness) get(name string) *batch.CronJob {
	h.t.Helper()
	var cj batch.CronJob
	if err := h.c.Get(context.Background(), ns, name, &cj); err != nil {
		h.t.Fatal(err)
	}
	return &cj
}

// jobs lists the Jobs controlled by the CronJob named cj, by name.
func (h *harness) jobs(cj string) []*batch.Job {
	h.t.Helper()
	objs, _, err := h.c.List(context.Background(), jobKind, ns, client.ListOptions{})
	if err != nil {
		h.t.Fatal(err)
	}
	var out []*batch.Job
	for _, o := range objs {
		j := o.(*batch.Job)
		if ref := controllerOf(&j.ObjectMeta); ref != nil && ref.Name == cj && ref.Kind == controllerKind && j.DeletionTimestamp == nil {
			out = append(out, j)
		}
	}
	slices.SortFunc(out, func(a, b *batch.Job) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// wantJobs checks that cj's Jobs are exactly the runs scheduled at times.
func (h *harness) wantJobs(cj string, times ...time.Time) []*batch.Job {
	h.t.Helper()
	jobs := h.jobs(cj)
	var got, want []string
	for _, j := range jobs {
		got = append(got, j.Name)
	}
	for _, t := range times {
		want = append(want, fmt.Sprintf("%s-%d", cj, t.Unix()/60))
	}
	if !slices.Equal(got, want) {
		h.t.Fatalf("jobs of %s: %v; want %v", cj, got, want)
	}
	return jobs
}

// wantActive checks that cj's status lists exactly jobs as active.
func (h *harness) wantActive(cj string, jobs ...*batch.Job) {
	h.t.Helper()
	var got, want []string
	for _, r := range h.get(cj).Status.Active {
		got = append(got, r.Name+"/"+r.UID)
	}
	for _, j := range jobs {
		want = append(want, j.Name+"/"+j.UID)
	}
	if !slices.Equal(got, want) {
		h.t.Fatalf("active jobs of %s: %v; want %v", cj, got, want)
	}
}

// finish plays the Job controller: it marks the Job Complete or Failed,
// started at start and finished at end.
func (h *harness) finish(j *batch.Job, typ string, start, end time.Time) *batch.Job {
	h.t.Helper()
	var cur batch.Job
	if err := h.c.Get(context.Background(), ns, j.Name, &cur); err != nil {
		h.t.Fatal(err)
	}
	s, e := meta.NewTime(start), meta.NewTime(end)
	cur.Status.StartTime = &s
	if typ == batch.JobComplete {
		cur.Status.CompletionTime = &e
		cur.Status.Succeeded = 1
	} else {
		cur.Status.Failed = 1
	}
	cur.Status.Conditions = []batch.JobCondition{{Type: typ, Status: core.ConditionTrue, LastTransitionTime: e}}
	if err := h.c.UpdateStatus(context.Background(), &cur); err != nil {
		h.t.Fatal(err)
	}
	return &cur
}

// waitEvent waits until an Event with reason is recorded for the object.
func (h *harness) waitEvent(name, reason string) {
	h.t.Helper()
	evKind, _ := apis.ByResource("", "events")
	waitFor(h.t, 10*time.Second, func() (bool, string) {
		objs, _, err := h.c.List(context.Background(), evKind, ns, client.ListOptions{})
		if err != nil {
			h.t.Fatal(err)
		}
		var seen []string
		for _, o := range objs {
			if ev := o.(*core.Event); ev.InvolvedObject.Name == name {
				if ev.Reason == reason {
					return true, ""
				}
				seen = append(seen, ev.Reason)
			}
		}
		return false, spf("events of %s: %v; want one with reason %s", name, seen, reason)
	})
}

func newCronJob(name, schedule string) *batch.CronJob {
	return &batch.CronJob{
		ObjectMeta: meta.ObjectMeta{Name: name, Namespace: ns},
		Spec: batch.CronJobSpec{
			Schedule: schedule,
			JobTemplate: batch.JobTemplateSpec{
				ObjectMeta: meta.ObjectMeta{Labels: map[string]string{"cron": name}},
				Spec: batch.JobSpec{Template: core.PodTemplateSpec{
					Spec: core.PodSpec{RestartPolicy: core.RestartPolicyNever, Containers: []core.Container{{Name: "c", Image: "busybox"}}},
				}},
			},
		},
	}
}

// activations returns the first n activations of schedule after from.
func activations(t *testing.T, schedule string, from time.Time, n int) []time.Time {
	t.Helper()
	s, err := parseSchedule(schedule, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	var out []time.Time
	for at := from; len(out) < n; {
		at = s.Next(at)
		out = append(out, at)
	}
	return out
}

func waitFor(t *testing.T, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, desc := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v: %s", timeout, desc)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func ptr[T any](v T) *T { return &v }

var spf = fmt.Sprintf

func TestCronJobStartsEachRunOnceOnScheduleAndAllowsOverlap(t *testing.T) {
	h := start(t)
	cj := h.create(newCronJob("tick", "*/5 * * * *"))
	at := activations(t, "*/5 * * * *", cj.CreationTimestamp.Time, 2)

	h.at(at[0].Add(-time.Second), "tick", cj)
	h.wantJobs("tick")

	h.at(at[0].Add(10*time.Second), "tick")
	jobs := h.wantJobs("tick", at[0])
	j := jobs[0]
	if ref := controllerOf(&j.ObjectMeta); ref == nil || ref.UID != cj.UID || ref.Kind != "CronJob" {
		t.Errorf("job's controller: %+v; want the CronJob %s", ref, cj.UID)
	}
	if got := j.Annotations[scheduledTimeAnnotation]; got != at[0].UTC().Format(time.RFC3339) {
		t.Errorf("scheduled-timestamp annotation %q; want %s", got, at[0].UTC().Format(time.RFC3339))
	}
	if j.Labels["cron"] != "tick" || j.Spec.Template.Spec.Containers[0].Image != "busybox" {
		t.Errorf("job labels %v, template %+v; want them from the jobTemplate", j.Labels, j.Spec.Template.Spec)
	}
	h.wantActive("tick", j)
	if st := h.get("tick").Status; st.LastScheduleTime == nil || !st.LastScheduleTime.Equal(at[0]) {
		t.Errorf("lastScheduleTime %v; want %v", st.LastScheduleTime, at[0])
	}

	// Later in the same period: the run is not started again.
	h.at(at[0].Add(2*time.Minute), "tick")
	h.wantJobs("tick", at[0])

	// Allow: the next run starts while the first is still active.
	h.at(at[1].Add(time.Second), "tick")
	jobs = h.wantJobs("tick", at[0], at[1])
	h.wantActive("tick", jobs...)
	h.waitEvent("tick", "SuccessfulCreate")
}

func TestCronJobForbidSkipsWhileARunIsActive(t *testing.T) {
	h := start(t)
	cj := newCronJob("solo", "*/5 * * * *")
	cj.Spec.ConcurrencyPolicy = batch.ForbidConcurrent
	h.create(cj)
	at := activations(t, "*/5 * * * *", cj.CreationTimestamp.Time, 2)

	h.at(at[0].Add(time.Second), "solo", cj)
	first := h.wantJobs("solo", at[0])[0]
	h.at(at[1].Add(time.Second), "solo")
	h.wantJobs("solo", at[0])
	h.waitEvent("solo", "JobAlreadyActive")

	// The active run ends: the skipped one starts, late but within no
	// deadline, as in Kubernetes.
	done := h.finish(first, batch.JobComplete, at[0], at[1].Add(20*time.Second))
	h.at(at[1].Add(30*time.Second), "solo", done)
	jobs := h.wantJobs("solo", at[0], at[1])
	h.wantActive("solo", jobs[1])
	st := h.get("solo").Status
	if st.LastSuccessfulTime == nil || !st.LastSuccessfulTime.Equal(at[1].Add(20*time.Second)) {
		t.Errorf("lastSuccessfulTime %v; want the first run's completion %v", st.LastSuccessfulTime, at[1].Add(20*time.Second))
	}
	h.waitEvent("solo", "SawCompletedJob")
}

func TestCronJobReplaceDeletesTheActiveRun(t *testing.T) {
	h := start(t)
	cj := newCronJob("fresh", "*/5 * * * *")
	cj.Spec.ConcurrencyPolicy = batch.ReplaceConcurrent
	h.create(cj)
	at := activations(t, "*/5 * * * *", cj.CreationTimestamp.Time, 2)

	h.at(at[0].Add(time.Second), "fresh", cj)
	first := h.wantJobs("fresh", at[0])[0]
	h.at(at[1].Add(time.Second), "fresh")
	second := h.wantJobs("fresh", at[1])[0]
	h.wantActive("fresh", second)
	var gone batch.Job
	if err := h.c.Get(context.Background(), ns, first.Name, &gone); !errors.Is(err, apierrors.ErrNotFound) {
		t.Errorf("replaced job %s: get = %v; want NotFound", first.Name, err)
	}
	h.waitEvent("fresh", "SuccessfulDelete")
}

func TestCronJobSuspendedStartsNothingUntilResumed(t *testing.T) {
	h := start(t)
	cj := newCronJob("nap", "*/5 * * * *")
	cj.Spec.Suspend = ptr(true)
	h.create(cj)
	at := activations(t, "*/5 * * * *", cj.CreationTimestamp.Time, 1)

	h.at(at[0].Add(time.Second), "nap", cj)
	h.wantJobs("nap")

	cur := h.get("nap")
	cur.Spec.Suspend = ptr(false)
	if err := h.c.Update(context.Background(), cur); err != nil {
		t.Fatal(err)
	}
	// The run missed while suspended starts on resume (no deadline).
	h.at(at[0].Add(2*time.Second), "nap", cur)
	h.wantJobs("nap", at[0])
}

func TestCronJobSkipsARunPastStartingDeadline(t *testing.T) {
	h := start(t)
	cj := newCronJob("strict", "*/5 * * * *")
	cj.Spec.StartingDeadlineSeconds = ptr(int64(60))
	h.create(cj)
	at := activations(t, "*/5 * * * *", cj.CreationTimestamp.Time, 2)

	h.at(at[0].Add(2*time.Minute), "strict", cj)
	h.wantJobs("strict")
	h.waitEvent("strict", "MissSchedule")

	h.at(at[1].Add(30*time.Second), "strict")
	h.wantJobs("strict", at[1])
}

func TestCronJobCatchesUpOnceAfterAnOutage(t *testing.T) {
	h := start(t)
	cj := h.create(newCronJob("hourly", "@hourly"))
	created := cj.CreationTimestamp.Time

	// Five hours without the controller: one run, the most recent.
	now := created.Add(5*time.Hour + 10*time.Minute)
	latest := now.Truncate(time.Hour)
	h.at(now, "hourly", cj)
	h.wantJobs("hourly", latest)

	// Then the schedule resumes normally.
	h.at(latest.Add(time.Hour+time.Second), "hourly")
	h.wantJobs("hourly", latest, latest.Add(time.Hour))
}

func TestCronJobWarnsWhenMoreThan100RunsWereMissed(t *testing.T) {
	h := start(t)
	cj := h.create(newCronJob("minutely", "* * * * *"))

	// Three hours: 180 missed runs. One starts, with a warning.
	now := cj.CreationTimestamp.Add(3*time.Hour + 30*time.Second)
	h.at(now, "minutely", cj)
	h.wantJobs("minutely", now.Truncate(time.Minute))
	h.waitEvent("minutely", "TooManyMissedTimes")
}

func TestCronJobKeepsOnlyTheNewestFinishedJobs(t *testing.T) {
	h := start(t)
	cj := newCronJob("history", "* * * * *")
	cj.Spec.SuccessfulJobsHistoryLimit = ptr(int32(2))
	cj.Spec.FailedJobsHistoryLimit = ptr(int32(1))
	h.create(cj)
	at := activations(t, "* * * * *", cj.CreationTimestamp.Time, 6)

	// Runs 0-3 succeed, 4-5 fail.
	var written []meta.Object = []meta.Object{cj}
	for i, t0 := range at {
		h.at(t0.Add(time.Second), "history", written...)
		var j *batch.Job
		for _, cand := range h.jobs("history") {
			if cand.Name == jobName(cj, t0) {
				j = cand
			}
		}
		if j == nil {
			t.Fatalf("run %d (%v) did not start", i, t0)
		}
		typ := batch.JobComplete
		if i >= 4 {
			typ = batch.JobFailed
		}
		written = []meta.Object{h.finish(j, typ, t0, t0.Add(30*time.Second))}
	}
	h.at(at[5].Add(40*time.Second), "history", written...)
	h.wantJobs("history", at[2], at[3], at[5])
	st := h.get("history").Status
	if len(st.Active) != 0 || st.LastSuccessfulTime == nil || !st.LastSuccessfulTime.Equal(at[3].Add(30*time.Second)) {
		t.Errorf("status %+v; want nothing active and lastSuccessfulTime %v", st, at[3].Add(30*time.Second))
	}
	h.waitEvent("history", "SawCompletedJob")
}
