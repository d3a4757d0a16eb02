package job

import (
	"context"
	"errors"
	"fmt"
	"slices"
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
	"minik8s/pkg/client/workqueue"
	"minik8s/pkg/controllers/controllertest"
	"minik8s/pkg/controllers/garbagecollector"
)

// These tests run the controller against a real API server on embedded
// etcd. Pods are only objects: runAgent plays the node agent, running
// each pod's containers to the end the test chooses for it.

const ns = "default"

// testBackoff replaces the 10 s delay before failed pods are replaced.
var testBackoff = backoffPolicy{base: 20 * time.Millisecond, max: 100 * time.Millisecond}

// startController runs a Job controller talking to c until the test ends
// or stop is called; stop returns once everything it started is gone.
func startController(t *testing.T, c *client.Client) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	f := client.NewFactory(c, 0)
	rec := events.New(c, "job-controller", "test")
	ctrl := New(c, f, rec)
	ctrl.backoff = testBackoff
	f.Start(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { rec.Run(ctx) })
	wg.Go(func() { ctrl.Run(ctx, 2) })
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			wg.Wait()
			f.Wait()
		})
	}
	t.Cleanup(stop)
	return stop
}

// startGarbageCollector runs the garbage collector, which deletes the
// pods of deleted Jobs, until the test ends.
func startGarbageCollector(t *testing.T, c *client.Client) {
	ctx, cancel := context.WithCancel(context.Background())
	f := client.NewFactory(c, 0)
	gc := garbagecollector.New(c, f, events.New(c, "garbage-collector", "test"))
	f.Start(ctx)
	done := make(chan struct{})
	go func() { gc.Run(ctx, 1); close(done) }()
	t.Cleanup(func() { cancel(); <-done; f.Wait() })
}

// fate is what the stand-in node agent does with a new pod: leave it
// Pending (""), or bring it to Running, Succeeded or Failed.
type fate func(pod *core.Pod) string

func always(phase string) fate { return func(*core.Pod) string { return phase } }

// runAgent plays the node agent for every pod of the namespace: after
// delay it sets the phase fate chooses for each pod it has not handled
// yet, as a node agent would once the containers ran (to completion, for
// Succeeded and Failed).
func runAgent(t *testing.T, c *client.Client, delay time.Duration, f fate) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	inf := client.NewInformer(c.ListWatch(podKind, ns, client.ListOptions{}), 0)
	q := workqueue.New("test-node-agent")
	var mu sync.Mutex
	handled := map[string]bool{}
	inf.AddEventHandler(client.Handler{OnAdd: func(obj meta.Object) { q.AddAfter(client.KeyOf(obj), delay) }})
	var wg sync.WaitGroup
	wg.Go(func() { inf.Run(ctx) })
	wg.Go(func() {
		if !inf.WaitForSync(ctx) {
			return
		}
		workqueue.Run(ctx, q, 2, func(ctx context.Context, key string) error {
			obj, ok := inf.Store().Get(key)
			if !ok {
				return nil
			}
			pod := obj.(*core.Pod)
			mu.Lock()
			done := handled[pod.UID]
			handled[pod.UID] = true
			mu.Unlock()
			if done || pod.DeletionTimestamp != nil {
				return nil
			}
			phase := f(pod)
			if phase == "" {
				return nil
			}
			err := setPhase(ctx, c, pod.Name, phase)
			if errors.Is(err, apierrors.ErrNotFound) {
				return nil
			}
			return err
		})
	})
	t.Cleanup(func() { cancel(); q.ShutDown(); wg.Wait() })
}

// setPhase plays the node agent reporting a pod's phase: Running (and
// Ready), or finished with its one container terminated with exit code 0
// (Succeeded) or 1 (Failed).
func setPhase(ctx context.Context, c *client.Client, name, phase string) error {
	for {
		var pod core.Pod
		if err := c.Get(ctx, ns, name, &pod); err != nil {
			return err
		}
		now := meta.Now()
		pod.Status.Phase = phase
		pod.Status.StartTime = &now
		cs := core.ContainerStatus{Name: pod.Spec.Containers[0].Name, Image: pod.Spec.Containers[0].Image}
		switch phase {
		case core.PodRunning:
			cs.Ready = true
			cs.State.Running = &core.ContainerStateRunning{StartedAt: now}
			pod.Status.Conditions = []core.PodCondition{{Type: core.PodReady, Status: core.ConditionTrue, LastTransitionTime: now}}
		case core.PodSucceeded, core.PodFailed:
			code, reason := int32(0), "Completed"
			if phase == core.PodFailed {
				code, reason = 1, "Error"
			}
			cs.State.Terminated = &core.ContainerStateTerminated{ExitCode: code, Reason: reason, StartedAt: now, FinishedAt: now}
			pod.Status.Conditions = []core.PodCondition{{Type: core.PodReady, Status: core.ConditionFalse, LastTransitionTime: now}}
		}
		pod.Status.ContainerStatuses = []core.ContainerStatus{cs}
		err := c.UpdateStatus(ctx, &pod)
		if !errors.Is(err, apierrors.ErrConflict) {
			return err
		}
	}
}

func newJob(name string, parallelism int32, completions *int32) *batch.Job {
	return &batch.Job{
		ObjectMeta: meta.ObjectMeta{Name: name, Namespace: ns},
		Spec: batch.JobSpec{
			Parallelism: &parallelism,
			Completions: completions,
			Template: core.PodTemplateSpec{
				ObjectMeta: meta.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec: core.PodSpec{RestartPolicy: core.RestartPolicyNever,
					Containers: []core.Container{{Name: "c", Image: "busybox"}}},
			},
		},
	}
}

func ptr[T any](v T) *T { return &v }

func getJob(t *testing.T, c *client.Client, name string) *batch.Job {
	t.Helper()
	var j batch.Job
	if err := c.Get(context.Background(), ns, name, &j); err != nil {
		t.Fatal(err)
	}
	return &j
}

// jobPods lists the pods of the Job with the given uid, in any state.
func jobPods(t *testing.T, c *client.Client, uid string) []*core.Pod {
	t.Helper()
	objs, _, err := c.List(context.Background(), podKind, ns, client.ListOptions{LabelSelector: batch.ControllerUIDLabel + "=" + uid})
	if err != nil {
		t.Fatal(err)
	}
	var out []*core.Pod
	for _, o := range objs {
		out = append(out, o.(*core.Pod))
	}
	return out
}

// waitFor polls cond until it reports true, failing the test with cond's
// last description after timeout.
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
		time.Sleep(50 * time.Millisecond)
	}
}

// waitCondition waits until the Job has condition typ True and returns it.
func waitCondition(t *testing.T, c *client.Client, name, typ string, timeout time.Duration) *batch.Job {
	t.Helper()
	var j *batch.Job
	waitFor(t, timeout, func() (bool, string) {
		j = getJob(t, c, name)
		cond := findCondition(j.Status.Conditions, typ)
		return cond != nil && cond.Status == core.ConditionTrue, spf("status %s; want condition %s True", show(j.Status), typ)
	})
	return j
}

// waitEvent waits until an Event with reason is recorded for the object.
func waitEvent(t *testing.T, c *client.Client, name, reason string) {
	t.Helper()
	evKind, _ := apis.ByResource("", "events")
	waitFor(t, 10*time.Second, func() (bool, string) {
		objs, _, err := c.List(context.Background(), evKind, ns, client.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var seen []string
		for _, o := range objs {
			ev := o.(*core.Event)
			if ev.InvolvedObject.Name == name {
				if ev.Reason == reason {
					return true, ""
				}
				seen = append(seen, ev.Reason)
			}
		}
		return false, spf("events of %s: %v; want one with reason %s", name, seen, reason)
	})
}

func show(st batch.JobStatus) string {
	s := spf("active=%d succeeded=%d failed=%d", st.Active, st.Succeeded, st.Failed)
	if u := st.UncountedTerminatedPods; u != nil && len(u.Succeeded)+len(u.Failed) > 0 {
		s += spf(" uncounted=%d+%d", len(u.Succeeded), len(u.Failed))
	}
	for _, c := range st.Conditions {
		s += spf(" %s=%s(%s)", c.Type, c.Status, c.Reason)
	}
	return s
}

// podWatch follows every pod of the namespace from before the Job exists
// and checks an invariant at every event.
type podWatch struct {
	w      client.Watcher
	active map[string]bool // pods neither finished nor being deleted
	ever   map[string]bool // every pod seen
	passed map[string]bool // pods seen Succeeded
	max    int             // most active pods at once
}

func watchPods(t *testing.T, c *client.Client) *podWatch {
	t.Helper()
	w, err := c.Watch(context.Background(), podKind, ns, client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	return &podWatch{w: w, active: map[string]bool{}, ever: map[string]bool{}, passed: map[string]bool{}}
}

// until applies watch events until done reports true (checked at most
// every 100ms), calling check after every event.
func (pw *podWatch) until(t *testing.T, timeout time.Duration, check func(pw *podWatch), done func() (bool, string)) {
	t.Helper()
	deadline := time.After(timeout)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case ev, ok := <-pw.w.ResultChan():
			if !ok {
				t.Fatal("pod watch ended early")
			}
			p := ev.Object.(*core.Pod)
			pw.ever[p.Name] = true
			if p.Status.Phase == core.PodSucceeded {
				pw.passed[p.Name] = true
			}
			if ev.Type == meta.Deleted || outcomeOf(p) != running {
				delete(pw.active, p.Name)
			} else {
				pw.active[p.Name] = true
			}
			pw.max = max(pw.max, len(pw.active))
			check(pw)
		case <-tick.C:
			if ok, _ := done(); ok {
				return
			}
		case <-deadline:
			_, desc := done()
			t.Fatalf("timed out after %v: %s", timeout, desc)
		}
	}
}

func TestJobRunsCompletionsWithAtMostParallelismActive(t *testing.T) {
	s := apiservertest.Start(t)
	c := s.Client
	pw := watchPods(t, c)
	runAgent(t, c, 150*time.Millisecond, always(core.PodSucceeded))
	startController(t, c)

	if err := c.Create(context.Background(), newJob("pi", 3, ptr(int32(7)))); err != nil {
		t.Fatal(err)
	}
	pw.until(t, 25*time.Second, func(pw *podWatch) {
		if len(pw.active) > 3 {
			t.Fatalf("%d active pods at a watch event; want at most parallelism 3", len(pw.active))
		}
	}, func() (bool, string) {
		j := getJob(t, c, "pi")
		return finishedCondition(j.Status.Conditions) != nil, "job status " + show(j.Status) + "; want it finished"
	})

	j := getJob(t, c, "pi")
	cond := findCondition(j.Status.Conditions, batch.JobComplete)
	if cond == nil || cond.Status != core.ConditionTrue || cond.Reason != reasonCompletionsReached {
		t.Fatalf("conditions %+v; want Complete True (CompletionsReached)", j.Status.Conditions)
	}
	st := j.Status
	if st.Succeeded != 7 || st.Failed != 0 || st.Active != 0 || st.Ready == nil || *st.Ready != 0 || uncountedLen(st.UncountedTerminatedPods) != 0 {
		t.Errorf("status %s ready=%v; want succeeded=7 failed=0 active=0 ready=0, nothing uncounted", show(st), st.Ready)
	}
	if st.StartTime == nil || st.CompletionTime == nil || st.CompletionTime.Before(st.StartTime.Time) {
		t.Errorf("startTime %v completionTime %v; want both, in that order", st.StartTime, st.CompletionTime)
	}
	if len(pw.ever) != 7 || len(pw.passed) != 7 {
		t.Errorf("%d pods created, %d succeeded; want exactly 7 of each", len(pw.ever), len(pw.passed))
	}
	if pw.max != 3 {
		t.Errorf("at most %d pods were active at once; want parallelism 3 used", pw.max)
	}
	for _, p := range jobPods(t, c, j.UID) {
		if hasFinalizer(p) {
			t.Errorf("pod %s still holds %s after being counted", p.Name, trackingFinalizer)
		}
		if ref := controllerOf(&p.ObjectMeta); ref == nil || ref.UID != j.UID || p.GenerateName != "pi-" {
			t.Errorf("pod %s: controller %+v, generateName %q; want the Job and pi-", p.Name, ref, p.GenerateName)
		}
	}
	waitEvent(t, c, "pi", "Completed")
}

func TestJobFailsOnceFailedPodsExceedBackoffLimit(t *testing.T) {
	s := apiservertest.Start(t)
	c := s.Client
	pw := watchPods(t, c)
	// The first two pods fail; every other one runs until deleted.
	var mu sync.Mutex
	n := 0
	runAgent(t, c, 0, func(*core.Pod) string {
		mu.Lock()
		defer mu.Unlock()
		if n++; n <= 2 {
			return core.PodFailed
		}
		return core.PodRunning
	})
	startController(t, c)

	job := newJob("flaky", 3, ptr(int32(6)))
	job.Spec.BackoffLimit = ptr(int32(1))
	if err := c.Create(context.Background(), job); err != nil {
		t.Fatal(err)
	}
	// Every pod ends failed: two by themselves, the rest deleted when
	// the Job fails; all are counted, and the deleted ones are gone.
	pw.until(t, 25*time.Second, func(*podWatch) {}, func() (bool, string) {
		j := getJob(t, c, "flaky")
		cond := findCondition(j.Status.Conditions, batch.JobFailed)
		pods := jobPods(t, c, j.UID)
		return cond != nil && cond.Reason == reasonBackoffLimitExceeded && j.Status.Active == 0 &&
				int(j.Status.Failed) == len(pw.ever) && len(pods) == 2 && len(pw.active) == 0,
			spf("status %s, %d pods left of %d created, %d active; want Failed (BackoffLimitExceeded), all created pods failed, only the 2 failed pods left",
				show(j.Status), len(pods), len(pw.ever), len(pw.active))
	})
	if len(pw.ever) < 3 {
		t.Errorf("%d pods created; want at least parallelism 3", len(pw.ever))
	}
	waitEvent(t, c, "flaky", reasonBackoffLimitExceeded)
}

func TestJobFailsPastActiveDeadline(t *testing.T) {
	s := apiservertest.Start(t)
	c := s.Client
	runAgent(t, c, 0, always(core.PodRunning))
	startController(t, c)

	job := newJob("slow", 2, ptr(int32(2)))
	job.Spec.ActiveDeadlineSeconds = ptr(int64(1))
	if err := c.Create(context.Background(), job); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, func() (bool, string) {
		j := getJob(t, c, "slow")
		cond := findCondition(j.Status.Conditions, batch.JobFailed)
		pods := jobPods(t, c, j.UID)
		return cond != nil && cond.Reason == reasonDeadlineExceeded && j.Status.Active == 0 && j.Status.Failed == 2 && len(pods) == 0,
			spf("status %s, %d pods left; want Failed (DeadlineExceeded), the 2 running pods deleted and counted failed", show(j.Status), len(pods))
	})
	j := getJob(t, c, "slow")
	if cond := findCondition(j.Status.Conditions, batch.JobFailed); cond.LastTransitionTime.Before(j.Status.StartTime.Add(time.Second)) {
		t.Errorf("failed at %v, started at %v; want at least activeDeadlineSeconds (1s) in between", cond.LastTransitionTime, j.Status.StartTime)
	}
}

func TestJobIsDeletedTTLAfterFinishing(t *testing.T) {
	s := apiservertest.Start(t)
	c := s.Client
	runAgent(t, c, 0, always(core.PodSucceeded))
	startGarbageCollector(t, c)
	startController(t, c)

	job := newJob("once", 1, nil)
	// 3 s, not 1: completionTime has second precision, so a 1 s TTL can
	// run out before a poll ever sees the Job complete.
	job.Spec.TTLSecondsAfterFinished = ptr(int32(3))
	if err := c.Create(context.Background(), job); err != nil {
		t.Fatal(err)
	}
	j := waitCondition(t, c, "once", batch.JobComplete, 15*time.Second)
	finished := time.Now()
	waitFor(t, 15*time.Second, func() (bool, string) {
		var cur batch.Job
		err := c.Get(context.Background(), ns, "once", &cur)
		return errors.Is(err, apierrors.ErrNotFound), spf("get: %v; want NotFound once the TTL ran out", err)
	})
	// The TTL counts from completionTime, which has second precision.
	if elapsed := time.Since(j.Status.CompletionTime.Time); elapsed < 3*time.Second {
		t.Errorf("deleted %v after completion (seen complete at %v); want at least the TTL of 3s", elapsed, finished)
	}
	waitFor(t, 15*time.Second, func() (bool, string) {
		pods := jobPods(t, c, j.UID)
		return len(pods) == 0, spf("%d pods of the deleted job left; want the garbage collector to delete them", len(pods))
	})
}

func TestJobAsWorkQueueCompletesWhenOnePodSucceededAndNoneRuns(t *testing.T) {
	s := apiservertest.Start(t)
	c := s.Client
	ctx := context.Background()
	runAgent(t, c, 0, always(core.PodRunning))
	startController(t, c)

	if err := c.Create(ctx, newJob("queue", 3, nil)); err != nil {
		t.Fatal(err)
	}
	var uid string
	var pods []*core.Pod
	waitFor(t, 15*time.Second, func() (bool, string) {
		j := getJob(t, c, "queue")
		uid, pods = j.UID, jobPods(t, c, j.UID)
		return j.Status.Active == 3 && len(pods) == 3 && *j.Status.Ready == 3, spf("status %s, %d pods; want 3 running", show(j.Status), len(pods))
	})

	// One worker finds the queue empty and exits 0: the others keep
	// running, and no new pod starts.
	if err := setPhase(ctx, c, pods[0].Name, core.PodSucceeded); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, func() (bool, string) {
		j := getJob(t, c, "queue")
		return j.Status.Succeeded == 1 && j.Status.Active == 2, spf("status %s; want succeeded=1 active=2", show(j.Status))
	})
	if j := getJob(t, c, "queue"); finishedCondition(j.Status.Conditions) != nil {
		t.Fatalf("status %s; want no Complete condition while pods still run", show(j.Status))
	}
	for _, p := range pods[1:] {
		if err := setPhase(ctx, c, p.Name, core.PodSucceeded); err != nil {
			t.Fatal(err)
		}
	}
	j := waitCondition(t, c, "queue", batch.JobComplete, 15*time.Second)
	if j.Status.Succeeded != 3 || j.Status.Active != 0 {
		t.Errorf("status %s; want succeeded=3 active=0", show(j.Status))
	}
	if all := jobPods(t, c, uid); len(all) != 3 {
		t.Errorf("%d pods; want the 3 first ones only: none is started after a success", len(all))
	}
}

// TestJobCountsPodsDeletedBeforeTheyWereCounted stops the controller,
// lets two pods finish and deletes them, then starts a new controller:
// the tracking finalizer kept the pods in the API, so both count.
func TestJobCountsPodsDeletedBeforeTheyWereCounted(t *testing.T) {
	s := apiservertest.Start(t)
	c := s.Client
	ctx := context.Background()
	stop := startController(t, c)
	if err := c.Create(ctx, newJob("tracked", 2, ptr(int32(2)))); err != nil {
		t.Fatal(err)
	}
	var pods []*core.Pod
	waitFor(t, 15*time.Second, func() (bool, string) {
		j := getJob(t, c, "tracked")
		pods = jobPods(t, c, j.UID)
		return len(pods) == 2 && j.Status.Active == 2, spf("%d pods, status %s; want 2 active", len(pods), show(j.Status))
	})
	for _, p := range pods {
		if !hasFinalizer(p) {
			t.Fatalf("pod %s has finalizers %v; want %s", p.Name, p.Finalizers, trackingFinalizer)
		}
	}
	stop()

	if err := setPhase(ctx, c, pods[0].Name, core.PodSucceeded); err != nil {
		t.Fatal(err)
	}
	if err := setPhase(ctx, c, pods[1].Name, core.PodFailed); err != nil {
		t.Fatal(err)
	}
	for _, p := range pods {
		if err := c.Delete(ctx, podKind, ns, p.Name, nil); err != nil {
			t.Fatal(err)
		}
		var got core.Pod
		if err := c.Get(ctx, ns, p.Name, &got); err != nil || got.DeletionTimestamp == nil {
			t.Fatalf("pod %s after delete: %v, deletionTimestamp %v; want it kept, terminating, by the finalizer", p.Name, err, got.DeletionTimestamp)
		}
	}

	startController(t, c)
	var replacement string
	waitFor(t, 15*time.Second, func() (bool, string) {
		j := getJob(t, c, "tracked")
		left := jobPods(t, c, j.UID)
		if len(left) == 1 {
			replacement = left[0].Name
		}
		return j.Status.Succeeded == 1 && j.Status.Failed == 1 && j.Status.Active == 1 && len(left) == 1 && !slices.ContainsFunc(pods, func(p *core.Pod) bool { return p.Name == replacement }),
			spf("status %s, %d pods; want succeeded=1 failed=1, the deleted pods gone and one replacement active", show(j.Status), len(left))
	})
	if err := setPhase(ctx, c, replacement, core.PodSucceeded); err != nil {
		t.Fatal(err)
	}
	j := waitCondition(t, c, "tracked", batch.JobComplete, 15*time.Second)
	if j.Status.Succeeded != 2 || j.Status.Failed != 1 {
		t.Errorf("status %s; want succeeded=2 failed=1", show(j.Status))
	}
}

func TestJobSuspendDeletesActivePodsWithoutCountingThem(t *testing.T) {
	s := apiservertest.Start(t)
	c := s.Client
	ctx := context.Background()
	runAgent(t, c, 0, always(core.PodRunning))
	startController(t, c)

	job := newJob("paused", 2, ptr(int32(4)))
	job.Spec.Suspend = ptr(true)
	if err := c.Create(ctx, job); err != nil {
		t.Fatal(err)
	}
	j := waitCondition(t, c, "paused", batch.JobSuspended, 15*time.Second)
	if pods := jobPods(t, c, j.UID); len(pods) != 0 || j.Status.StartTime != nil {
		t.Fatalf("suspended job: %d pods, startTime %v; want none", len(pods), j.Status.StartTime)
	}

	setSuspend := func(v bool) {
		t.Helper()
		for {
			j := getJob(t, c, "paused")
			j.Spec.Suspend = &v
			err := c.Update(ctx, j)
			if err == nil {
				return
			}
			if !errors.Is(err, apierrors.ErrConflict) {
				t.Fatal(err)
			}
		}
	}
	setSuspend(false)
	waitFor(t, 15*time.Second, func() (bool, string) {
		j := getJob(t, c, "paused")
		cond := findCondition(j.Status.Conditions, batch.JobSuspended)
		return j.Status.Active == 2 && *j.Status.Ready == 2 && cond.Status == core.ConditionFalse && cond.Reason == reasonResumed && j.Status.StartTime != nil,
			spf("status %s; want 2 ready pods, Suspended False (JobResumed), a startTime", show(j.Status))
	})

	setSuspend(true)
	waitFor(t, 15*time.Second, func() (bool, string) {
		j := getJob(t, c, "paused")
		cond := findCondition(j.Status.Conditions, batch.JobSuspended)
		pods := jobPods(t, c, j.UID)
		return cond.Status == core.ConditionTrue && j.Status.Active == 0 && len(pods) == 0,
			spf("status %s, %d pods; want Suspended True and the pods deleted", show(j.Status), len(pods))
	})
	if j := getJob(t, c, "paused"); j.Status.Failed != 0 || j.Status.Succeeded != 0 {
		t.Errorf("status %s; want pods deleted by suspension not counted", show(j.Status))
	}
	waitEvent(t, c, "paused", "SuccessfulDelete")
}

// TestJobExpectationsPreventExtraPodsWithASlowWatch runs the controller
// behind a proxy that delays every watch event, so its pod cache lags
// far behind its own creations; a separate, fast watch checks the count
// of pods at every event.
func TestJobExpectationsPreventExtraPodsWithASlowWatch(t *testing.T) {
	s := apiservertest.Start(t)
	slow, err := client.New(controllertest.SlowWatchProxy(t, s.URL, 30*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	pw := watchPods(t, s.Client)
	startController(t, slow)
	const want = 12
	if err := s.Client.Create(context.Background(), newJob("wide", want, ptr(int32(want)))); err != nil {
		t.Fatal(err)
	}
	settled := 0
	pw.until(t, 25*time.Second, func(pw *podWatch) {
		if len(pw.ever) > want {
			t.Fatalf("%d pods created; want at most %d", len(pw.ever), want)
		}
	}, func() (bool, string) {
		j := getJob(t, s.Client, "wide")
		if j.Status.Active == want && len(pw.ever) == want {
			settled++
		}
		// Stay a little longer once settled: extra pods would show now.
		return settled >= 5, spf("status %s, %d pods created; want %d active", show(j.Status), len(pw.ever), want)
	})
}

var spf = fmt.Sprintf

// TestDeletingAJobReleasesItsPods deletes Jobs whose pods still run and
// hold the tracking finalizer: in the background (the Job is gone at
// once; its pods go through the orphan queue) and in the foreground (the
// Job waits, marked, for its pods). Either way the finalizer must not
// keep the pods, or the Job, forever.
func TestDeletingAJobReleasesItsPods(t *testing.T) {
	s := apiservertest.Start(t)
	c := s.Client
	ctx := context.Background()
	runAgent(t, c, 0, always(core.PodRunning))
	startGarbageCollector(t, c)
	startController(t, c)

	for _, policy := range []string{meta.DeletePropagationBackground, meta.DeletePropagationForeground} {
		name := "del-" + strings.ToLower(policy)
		if err := c.Create(ctx, newJob(name, 2, ptr(int32(2)))); err != nil {
			t.Fatal(err)
		}
		var uid string
		waitFor(t, 15*time.Second, func() (bool, string) {
			j := getJob(t, c, name)
			uid = j.UID
			return j.Status.Active == 2 && *j.Status.Ready == 2, spf("%s: status %s; want 2 running", name, show(j.Status))
		})
		if err := c.Delete(ctx, jobKind, ns, name, &meta.DeleteOptions{PropagationPolicy: &policy}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 15*time.Second, func() (bool, string) {
			var j batch.Job
			err := c.Get(ctx, ns, name, &j)
			pods := jobPods(t, c, uid)
			return errors.Is(err, apierrors.ErrNotFound) && len(pods) == 0,
				spf("%s deletion: get job = %v, %d pods left; want both gone", policy, err, len(pods))
		})
	}
}
