package job

import (
	"testing"
	"time"

	"minik8s/pkg/apis/batch"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
)

var t0 = time.Date(2024, 1, 1, 10, 0, 0, 0, time.UTC)

// pod returns a pod of a Job in the given phase, holding the tracking
// finalizer unless counted.
func pod(uid, phase string, counted bool) *core.Pod {
	p := &core.Pod{ObjectMeta: meta.ObjectMeta{Name: "p-" + uid, UID: uid, CreationTimestamp: meta.NewTime(t0)}}
	p.Status.Phase = phase
	if !counted {
		p.Finalizers = []string{trackingFinalizer}
	}
	if phase == core.PodRunning {
		p.Status.Conditions = []core.PodCondition{{Type: core.PodReady, Status: core.ConditionTrue}}
	}
	return p
}

func terminating(p *core.Pod) *core.Pod {
	now := meta.NewTime(t0)
	p.DeletionTimestamp = &now
	return p
}

func uids(pods []*core.Pod) []string {
	var out []string
	for _, p := range pods {
		out = append(out, p.UID)
	}
	return out
}

func TestWantActiveNeverExceedsRemainingCompletions(t *testing.T) {
	tests := []struct {
		name                    string
		parallelism             int32
		completions             *int32
		succeeded, active, want int32
	}{
		{"fresh, parallelism limits", 3, ptr(int32(7)), 0, 0, 3},
		{"near the end, remaining limits", 3, ptr(int32(7)), 5, 1, 2},
		{"all done", 3, ptr(int32(7)), 7, 0, 0},
		{"over-counted never goes negative", 3, ptr(int32(7)), 9, 0, 0},
		{"work queue before any success", 4, nil, 0, 1, 4},
		{"work queue after a success: only those running", 4, nil, 1, 2, 2},
		{"parallelism 0 pauses", 0, ptr(int32(5)), 0, 2, 0},
	}
	for _, tt := range tests {
		j := newJob("j", tt.parallelism, tt.completions)
		if got := wantActive(j, tt.succeeded, tt.active); got != tt.want {
			t.Errorf("%s: got %d; want %d", tt.name, got, tt.want)
		}
	}
}

// TestCountingProtocolCountsEachPodOnce walks the three steps with the
// cache lagging behind: pods whose finalizer was removed still show it.
func TestCountingProtocolCountsEachPodOnce(t *testing.T) {
	job := newJob("j", 2, ptr(int32(3)))
	pods := []*core.Pod{
		pod("ok", core.PodSucceeded, false),
		pod("bad", core.PodFailed, false),
		terminating(pod("deleted", core.PodRunning, false)), // deleted before finishing: failed
		pod("old", core.PodSucceeded, true),                 // counted before: no finalizer
		pod("run", core.PodRunning, false),
	}
	job.Status.Succeeded = 1 // "old"

	s := classify(job, pods, nil)
	if len(s.newSucceeded) != 1 || len(s.newFailed) != 2 || uids(s.active)[0] != "run" || len(s.active) != 1 || s.ready != 1 {
		t.Fatalf("classify: new %v/%v, active %v, ready %d; want ok / bad,deleted, run, 1", s.newSucceeded, s.newFailed, uids(s.active), s.ready)
	}
	// Step 1: record.
	u := record(job.Status.UncountedTerminatedPods, s)
	job.Status.UncountedTerminatedPods = &u
	// Step 2: the finalizers to remove are those of the recorded pods.
	if got := uids(untrack(pods, u, tracked(pods, nil))); len(got) != 3 {
		t.Fatalf("untrack = %v; want ok, bad, deleted", got)
	}
	// Say the removal of "bad" failed: it stays uncounted.
	unfinalized := map[string]bool{"ok": true, "deleted": true}
	st := flush(job.Status, tracked(pods, unfinalized))
	if st.Succeeded != 2 || st.Failed != 1 || len(st.UncountedTerminatedPods.Failed) != 1 || st.UncountedTerminatedPods.Failed[0] != "bad" {
		t.Fatalf("flush: %+v, uncounted %+v; want succeeded 2, failed 1, bad still uncounted", st, st.UncountedTerminatedPods)
	}
	// The next sync, cache still stale: nothing looks new.
	job.Status = st
	s = classify(job, pods, unfinalized)
	if len(s.newSucceeded)+len(s.newFailed) != 0 {
		t.Errorf("second classify: new %v/%v; want none (counted or being counted)", s.newSucceeded, s.newFailed)
	}
	// Without the memory of removed finalizers, a stale cache would
	// count "ok" again: that is what the expectations are for.
	if s := classify(job, pods, nil); len(s.newSucceeded) != 1 {
		t.Errorf("classify without unfinalized: new succeeded %v; want ok to look new (the double count the expectations prevent)", s.newSucceeded)
	}
}

func TestDecide(t *testing.T) {
	running := func(n int) []*core.Pod {
		var out []*core.Pod
		for i := range n {
			out = append(out, pod(string(rune('a'+i)), core.PodRunning, false))
		}
		return out
	}
	started := meta.NewTime(t0)
	tests := []struct {
		name       string
		job        func(j *batch.Job)
		status     batch.JobStatus
		pods       []*core.Pod
		now        time.Time
		wantCreate int
		wantRemove int
		wantKill   int
		wantCond   string // condition type set True, reason after a slash
	}{
		{name: "fresh: parallelism pods", now: t0, wantCreate: 3},
		{name: "two running: one more", pods: running(2), now: t0, wantCreate: 1},
		{name: "completions reached", status: batch.JobStatus{Succeeded: 7}, now: t0, wantCond: "Complete/CompletionsReached"},
		{name: "not complete while a success is uncounted",
			status: batch.JobStatus{Succeeded: 6, UncountedTerminatedPods: &batch.UncountedTerminatedPods{Succeeded: []string{"x"}}}, now: t0},
		{name: "parallelism lowered: the extra pods go", job: func(j *batch.Job) { j.Spec.Parallelism = ptr(int32(1)) },
			pods: running(3), now: t0, wantRemove: 2},
		{name: "failures over the backoff limit", job: func(j *batch.Job) { j.Spec.BackoffLimit = ptr(int32(1)) },
			status: batch.JobStatus{Failed: 2}, pods: running(2), now: t0, wantKill: 2, wantCond: "Failed/BackoffLimitExceeded"},
		{name: "failures at the backoff limit", job: func(j *batch.Job) { j.Spec.BackoffLimit = ptr(int32(1)) },
			status: batch.JobStatus{Failed: 1}, pods: running(2), now: t0, wantCreate: 1},
		{name: "OnFailure: container restarts count", job: func(j *batch.Job) {
			j.Spec.BackoffLimit = ptr(int32(2))
			j.Spec.Template.Spec.RestartPolicy = core.RestartPolicyOnFailure
		}, pods: func() []*core.Pod {
			ps := running(1)
			ps[0].Status.ContainerStatuses = []core.ContainerStatus{{Name: "c", RestartCount: 2}}
			return ps
		}(), now: t0, wantKill: 1, wantCond: "Failed/BackoffLimitExceeded"},
		{name: "past the active deadline", job: func(j *batch.Job) { j.Spec.ActiveDeadlineSeconds = ptr(int64(30)) },
			status: batch.JobStatus{StartTime: &started}, pods: running(3), now: t0.Add(30 * time.Second), wantKill: 3, wantCond: "Failed/DeadlineExceeded"},
		{name: "suspended: pods go uncounted", job: func(j *batch.Job) { j.Spec.Suspend = ptr(true) },
			pods: running(3), now: t0, wantRemove: 3, wantCond: "Suspended/JobSuspended"},
		{name: "finished Failed: leftovers killed",
			status: batch.JobStatus{Conditions: []batch.JobCondition{{Type: batch.JobFailed, Status: core.ConditionTrue}}},
			pods:   running(1), now: t0, wantKill: 1},
		{name: "work queue: no new pod after a success", job: func(j *batch.Job) { j.Spec.Completions = nil },
			status: batch.JobStatus{Succeeded: 1}, pods: running(1), now: t0},
		{name: "work queue: done when none runs", job: func(j *batch.Job) { j.Spec.Completions = nil },
			status: batch.JobStatus{Succeeded: 1}, now: t0, wantCond: "Complete/CompletionsReached"},
	}
	for _, tt := range tests {
		j := newJob("j", 3, ptr(int32(7)))
		if tt.job != nil {
			tt.job(j)
		}
		j.Status = tt.status
		st := j.Status
		if st.UncountedTerminatedPods == nil {
			st.UncountedTerminatedPods = &batch.UncountedTerminatedPods{}
		}
		d := decide(j, st, classify(j, tt.pods, nil), tt.now, backoffPolicy{})
		if d.create != tt.wantCreate || len(d.remove) != tt.wantRemove || len(d.kill) != tt.wantKill {
			t.Errorf("%s: create %d, remove %d, kill %d; want %d, %d, %d", tt.name, d.create, len(d.remove), len(d.kill), tt.wantCreate, tt.wantRemove, tt.wantKill)
		}
		got := ""
		for _, c := range d.status.Conditions {
			if c.Status == core.ConditionTrue && findCondition(tt.status.Conditions, c.Type) == nil {
				got = c.Type + "/" + c.Reason
			}
		}
		if got != tt.wantCond {
			t.Errorf("%s: new condition %q; want %q", tt.name, got, tt.wantCond)
		}
		if d.status.Active != int32(len(tt.pods)) || d.status.StartTime == nil && tt.status.StartTime == nil && tt.wantCond != "Suspended/JobSuspended" && tt.status.Conditions == nil {
			t.Errorf("%s: active %d, startTime %v; want %d and a start time", tt.name, d.status.Active, d.status.StartTime, len(tt.pods))
		}
	}
}

func TestDecideResumingRestartsTheDeadlineClock(t *testing.T) {
	j := newJob("j", 1, ptr(int32(1)))
	j.Spec.ActiveDeadlineSeconds = ptr(int64(60))
	long := meta.NewTime(t0.Add(-time.Hour))
	j.Status = batch.JobStatus{StartTime: &long, UncountedTerminatedPods: &batch.UncountedTerminatedPods{},
		Conditions: []batch.JobCondition{{Type: batch.JobSuspended, Status: core.ConditionTrue}}}
	d := decide(j, j.Status, classify(j, nil, nil), t0, backoffPolicy{})
	c := findCondition(d.status.Conditions, batch.JobSuspended)
	if c.Status != core.ConditionFalse || c.Reason != reasonResumed || !d.status.StartTime.Equal(t0) || d.create != 1 {
		t.Errorf("resumed: condition %+v, startTime %v, create %d; want Suspended False (JobResumed), startTime now, 1 pod", c, d.status.StartTime, d.create)
	}
	if d.requeue != time.Minute {
		t.Errorf("requeue %v; want the deadline, 1m", d.requeue)
	}
}

func TestBackoffGrowsWithFailuresSinceTheLastSuccess(t *testing.T) {
	bp := backoffPolicy{base: 10 * time.Second, max: 6 * time.Minute}
	finished := func(uid, phase string, at time.Time) *core.Pod {
		p := pod(uid, phase, true)
		p.Status.ContainerStatuses = []core.ContainerStatus{{State: core.ContainerState{Terminated: &core.ContainerStateTerminated{FinishedAt: meta.NewTime(at)}}}}
		return p
	}
	tests := []struct {
		name string
		pods []*core.Pod
		now  time.Time
		want time.Duration
	}{
		{"no failure", []*core.Pod{finished("a", core.PodSucceeded, t0)}, t0, 0},
		{"one failure", []*core.Pod{finished("a", core.PodFailed, t0)}, t0.Add(time.Second), 9 * time.Second},
		{"three failures: 40s", []*core.Pod{finished("a", core.PodFailed, t0), finished("b", core.PodFailed, t0), finished("c", core.PodFailed, t0)}, t0, 40 * time.Second},
		{"failures before a success are forgiven", []*core.Pod{finished("a", core.PodFailed, t0), finished("b", core.PodSucceeded, t0.Add(time.Minute))}, t0.Add(time.Minute), 0},
		{"capped", func() []*core.Pod {
			var ps []*core.Pod
			for i := range 20 {
				ps = append(ps, finished(string(rune('a'+i)), core.PodFailed, t0))
			}
			return ps
		}(), t0, 6 * time.Minute},
		{"delay over", []*core.Pod{finished("a", core.PodFailed, t0)}, t0.Add(time.Minute), 0},
	}
	for _, tt := range tests {
		if got := bp.remaining(tt.pods, tt.now); got != tt.want {
			t.Errorf("%s: got %v; want %v", tt.name, got, tt.want)
		}
	}
}

func TestTTLCountsFromTheFinish(t *testing.T) {
	j := newJob("j", 1, ptr(int32(1)))
	if _, ok := ttlRemaining(j, t0); ok {
		t.Error("a Job without TTL has one")
	}
	j.Spec.TTLSecondsAfterFinished = ptr(int32(100))
	if _, ok := ttlRemaining(j, t0); ok {
		t.Error("a running Job's TTL runs")
	}
	done := meta.NewTime(t0)
	j.Status.CompletionTime = &done
	j.Status.Conditions = []batch.JobCondition{{Type: batch.JobComplete, Status: core.ConditionTrue, LastTransitionTime: done}}
	if left, ok := ttlRemaining(j, t0.Add(40*time.Second)); !ok || left != time.Minute {
		t.Errorf("40s after completion: %v, %v; want 1m left", left, ok)
	}
}
