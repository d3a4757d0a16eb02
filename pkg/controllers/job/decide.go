package job

import (
	"fmt"
	"slices"
	"time"

	"minik8s/pkg/apis/batch"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
)

// This file holds the pure decisions of the controller: values in, values
// out, no API calls.

// What owner references to a Job say.
const (
	controllerAPIVersion = "batch/v1"
	controllerKind       = "Job"
)

// trackingFinalizer keeps a Job's pod in the API until the controller has
// counted it (Kubernetes' batch.kubernetes.io/job-tracking).
const trackingFinalizer = "batch.kubernetes.io/job-tracking"

// Condition reasons and messages, as Kubernetes words them.
const (
	reasonBackoffLimitExceeded = "BackoffLimitExceeded"
	reasonDeadlineExceeded     = "DeadlineExceeded"
	reasonCompletionsReached   = "CompletionsReached"
	reasonSuspended            = "JobSuspended"
	reasonResumed              = "JobResumed"

	messageBackoffLimitExceeded = "Job has reached the specified backoff limit"
	messageDeadlineExceeded     = "Job was active longer than specified deadline"
	messageCompletionsReached   = "Reached expected number of succeeded pods"
)

// Pod replacement backoff, as Kubernetes' DefaultJobPodFailureBackOff and
// MaxJobPodFailureBackOff.
const (
	defaultBackoff = 10 * time.Second
	maxBackoff     = 6 * time.Minute
)

// controllerOf returns obj's controller owner reference, or nil.
func controllerOf(m *meta.ObjectMeta) *meta.OwnerReference {
	for i := range m.OwnerReferences {
		if r := &m.OwnerReferences[i]; r.Controller != nil && *r.Controller {
			return r
		}
	}
	return nil
}

// controllerRef is the owner reference a Job puts on its pods.
// blockOwnerDeletion makes a foreground deletion of the Job wait for them.
func controllerRef(job *batch.Job) meta.OwnerReference {
	yes := true
	return meta.OwnerReference{
		APIVersion: controllerAPIVersion, Kind: controllerKind,
		Name: job.Name, UID: job.UID,
		Controller: &yes, BlockOwnerDeletion: &yes,
	}
}

func hasFinalizer(p *core.Pod) bool { return slices.Contains(p.Finalizers, trackingFinalizer) }

// outcome is what a pod means for its Job's counts.
type outcome int

const (
	running   outcome = iota // pending or running: active
	succeeded                // phase Succeeded
	failed                   // phase Failed, or deleted before it finished
)

// outcomeOf classifies a pod. A pod deleted before it finished counts as
// failed at once, so it is replaced without waiting for its containers to
// stop (Kubernetes' podReplacementPolicy TerminatingOrFailed, and its
// isPodFailed: "count deleted pods as failures to account for orphan pods
// that never have a chance to reach the Failed phase").
func outcomeOf(p *core.Pod) outcome {
	switch {
	case p.Status.Phase == core.PodSucceeded:
		return succeeded
	case p.Status.Phase == core.PodFailed, p.DeletionTimestamp != nil:
		return failed
	}
	return running
}

// podSet is how one Job's pods count, as classify sorts them.
type podSet struct {
	all    []*core.Pod // every pod the Job owns, counted or not
	active []*core.Pod // running or pending, not being deleted
	ready  int32       // active pods whose Ready condition is True
	// restarts sums the container restarts of the active pods: for
	// restartPolicy OnFailure they are the failures (backoffLimit).
	restarts int32
	// newSucceeded and newFailed are the uids of finished pods that still
	// hold the tracking finalizer and are not yet in
	// status.uncountedTerminatedPods: the ones to count.
	newSucceeded, newFailed []string
}

// classify sorts the pods job owns. unfinalized holds the uids whose
// finalizer this process removed but the cache may still show: such a
// pod is counted already and must not look new.
func classify(job *batch.Job, pods []*core.Pod, unfinalized map[string]bool) podSet {
	recorded := map[string]bool{}
	if u := job.Status.UncountedTerminatedPods; u != nil {
		for _, uid := range slices.Concat(u.Succeeded, u.Failed) {
			recorded[uid] = true
		}
	}
	s := podSet{all: pods}
	for _, p := range pods {
		o := outcomeOf(p)
		switch {
		case o == running:
			s.active = append(s.active, p)
			if isReady(p) {
				s.ready++
			}
			for _, cs := range slices.Concat(p.Status.InitContainerStatuses, p.Status.ContainerStatuses) {
				s.restarts += cs.RestartCount
			}
		case !hasFinalizer(p) || unfinalized[p.UID] || recorded[p.UID]:
			// counted already, or being counted
		case o == succeeded:
			s.newSucceeded = append(s.newSucceeded, p.UID)
		default:
			s.newFailed = append(s.newFailed, p.UID)
		}
	}
	return s
}

// tracked returns the uids of the pods that still hold the tracking
// finalizer as far as this process knows: the cache shows it, and no
// removal of it is in flight.
func tracked(pods []*core.Pod, unfinalized map[string]bool) map[string]bool {
	out := map[string]bool{}
	for _, p := range pods {
		if hasFinalizer(p) && !unfinalized[p.UID] {
			out[p.UID] = true
		}
	}
	return out
}

// ---- the counting protocol ----

// record returns the uncounted list with the newly finished pods of s
// added: step 1, written before any finalizer is removed.
func record(u *batch.UncountedTerminatedPods, s podSet) batch.UncountedTerminatedPods {
	var out batch.UncountedTerminatedPods
	if u != nil {
		out = batch.UncountedTerminatedPods{Succeeded: slices.Clone(u.Succeeded), Failed: slices.Clone(u.Failed)}
	}
	out.Succeeded = append(out.Succeeded, s.newSucceeded...)
	out.Failed = append(out.Failed, s.newFailed...)
	return out
}

// untrack returns the pods whose finalizer may go now: step 2. Their
// uids are recorded in u, so a crash after the removal loses nothing.
func untrack(pods []*core.Pod, u batch.UncountedTerminatedPods, isTracked map[string]bool) []*core.Pod {
	recorded := map[string]bool{}
	for _, uid := range slices.Concat(u.Succeeded, u.Failed) {
		recorded[uid] = true
	}
	var out []*core.Pod
	for _, p := range pods {
		if recorded[p.UID] && isTracked[p.UID] {
			out = append(out, p)
		}
	}
	return out
}

// flush moves the uids of st's uncounted list whose pods no longer hold
// the finalizer (or are gone) into the counters: step 3. The others stay
// listed for a later sync.
func flush(st batch.JobStatus, isTracked map[string]bool) batch.JobStatus {
	u := st.UncountedTerminatedPods
	if u == nil {
		st.UncountedTerminatedPods = &batch.UncountedTerminatedPods{}
		return st
	}
	var left batch.UncountedTerminatedPods
	for _, uid := range u.Succeeded {
		if isTracked[uid] {
			left.Succeeded = append(left.Succeeded, uid)
		} else {
			st.Succeeded++
		}
	}
	for _, uid := range u.Failed {
		if isTracked[uid] {
			left.Failed = append(left.Failed, uid)
		} else {
			st.Failed++
		}
	}
	st.UncountedTerminatedPods = &left
	return st
}

func uncountedLen(u *batch.UncountedTerminatedPods) int32 {
	if u == nil {
		return 0
	}
	return int32(len(u.Succeeded) + len(u.Failed))
}

// ---- what to do next ----

// event is an Event to record once the decision is written.
type event struct{ typ, reason, message string }

// decision is what one sync does to a Job after counting.
type decision struct {
	status batch.JobStatus
	create int         // pods to create
	remove []*core.Pod // pods to delete without counting them (finalizer off first)
	kill   []*core.Pod // pods to delete and count as failed (the Job failed)
	events []event
	// requeue, if positive, is when to sync again though nothing changes
	// (a deadline, a backoff delay).
	requeue time.Duration
}

// backoffPolicy is the delay before failed pods are replaced: base after
// the first failure, doubling with each further one, at most max.
type backoffPolicy struct{ base, max time.Duration }

// decide returns what to do with job given the status after counting
// (st: the counters plus uids still uncounted) and its pods. It is
// Kubernetes' syncJob order: a finished Job only loses its active pods; a
// suspended one too; then failure (backoff limit, deadline), then
// completion, then the number of active pods.
//
// A finishing condition is only written once every finished pod is
// counted (no uid left uncounted), so Complete never shows short counts.
func decide(job *batch.Job, st batch.JobStatus, s podSet, now time.Time, bp backoffPolicy) decision {
	d := decision{status: st}
	active := int32(len(s.active))
	d.status.Active = active
	ready := s.ready
	d.status.Ready = &ready
	var succeededAll, failedAll int32 = st.Succeeded, st.Failed
	if u := st.UncountedTerminatedPods; u != nil {
		succeededAll += int32(len(u.Succeeded))
		failedAll += int32(len(u.Failed))
	}
	allCounted := uncountedLen(st.UncountedTerminatedPods) == 0

	if c := finishedCondition(st.Conditions); c != nil {
		// Pods left when the Job finished: a failed Job's count as
		// failures (Kubernetes); others are simply stopped.
		if c.Type == batch.JobFailed {
			d.kill = s.active
		} else {
			d.remove = s.active
		}
		return d
	}

	if job.Spec.Suspend != nil && *job.Spec.Suspend {
		var changed bool
		d.status.Conditions, changed = setCondition(d.status.Conditions, batch.JobSuspended, core.ConditionTrue, reasonSuspended, "Job suspended", now)
		if changed {
			d.events = append(d.events, event{"Normal", "Suspended", "Job suspended"})
		}
		d.remove = s.active
		return d
	}
	if c := findCondition(d.status.Conditions, batch.JobSuspended); c != nil && c.Status == core.ConditionTrue {
		d.status.Conditions, _ = setCondition(d.status.Conditions, batch.JobSuspended, core.ConditionFalse, reasonResumed, "Job resumed", now)
		d.events = append(d.events, event{"Normal", "Resumed", "Job resumed"})
		// activeDeadlineSeconds counts the time a Job is continuously
		// active, so resuming restarts its clock (Kubernetes).
		t := meta.NewTime(now)
		d.status.StartTime = &t
	}
	if d.status.StartTime == nil {
		t := meta.NewTime(now)
		d.status.StartTime = &t
	}

	reason, message := "", ""
	deadline, hasDeadline := deadlineRemaining(job, d.status.StartTime.Time, now)
	switch {
	case failedAll > backoffLimit(job) || pastBackoffLimitOnFailure(job, s.restarts):
		reason, message = reasonBackoffLimitExceeded, messageBackoffLimitExceeded
	case hasDeadline && deadline <= 0:
		reason, message = reasonDeadlineExceeded, messageDeadlineExceeded
	}
	if reason != "" {
		d.kill = s.active
		if allCounted {
			d.status.Conditions, _ = setCondition(d.status.Conditions, batch.JobFailed, core.ConditionTrue, reason, message, now)
			d.events = append(d.events, event{"Warning", reason, message})
		}
		return d
	}

	if isComplete(job, succeededAll, active) {
		// Only a Job whose parallelism exceeded its remaining completions
		// before the limit was applied could have pods left here.
		d.remove = s.active
		if allCounted {
			d.status.Conditions, _ = setCondition(d.status.Conditions, batch.JobComplete, core.ConditionTrue, reasonCompletionsReached, messageCompletionsReached, now)
			t := meta.NewTime(now)
			d.status.CompletionTime = &t
			d.events = append(d.events, event{"Normal", "Completed", "Job completed"})
		}
		return d
	}

	if hasDeadline {
		d.requeue = deadline
	}
	want := wantActive(job, succeededAll, active)
	switch {
	case active > want:
		victims := slices.Clone(s.active)
		removalOrder(victims)
		d.remove = victims[:active-want]
	case active < want:
		if wait := bp.remaining(s.all, now); wait > 0 {
			d.requeue = minPositive(d.requeue, wait)
		} else {
			d.create = int(want - active)
		}
	}
	return d
}

// wantActive is how many pods should be active (Kubernetes' manageJob):
// with completions, never more than remain to succeed, so the Job never
// gets more successes than completions; as a work queue, parallelism
// until the first success, then only those still running.
func wantActive(job *batch.Job, succeeded, active int32) int32 {
	par := int32(1)
	if job.Spec.Parallelism != nil {
		par = *job.Spec.Parallelism
	}
	if job.Spec.Completions == nil {
		if succeeded > 0 {
			return active
		}
		return par
	}
	return max(0, min(par, *job.Spec.Completions-succeeded))
}

// isComplete says whether the Job has succeeded: completions reached, or
// for a work queue, one pod succeeded and none is still running.
func isComplete(job *batch.Job, succeeded, active int32) bool {
	if job.Spec.Completions == nil {
		return succeeded > 0 && active == 0
	}
	return succeeded >= *job.Spec.Completions
}

func backoffLimit(job *batch.Job) int32 {
	if job.Spec.BackoffLimit == nil {
		return 6
	}
	return *job.Spec.BackoffLimit
}

// pastBackoffLimitOnFailure is Kubernetes' rule for restartPolicy
// OnFailure, whose failures are container restarts inside running pods:
// the Job fails once they reach backoffLimit (any restart when it is 0).
func pastBackoffLimitOnFailure(job *batch.Job, restarts int32) bool {
	if job.Spec.Template.Spec.RestartPolicy != core.RestartPolicyOnFailure {
		return false
	}
	if limit := backoffLimit(job); limit > 0 {
		return restarts >= limit
	}
	return restarts > 0
}

// deadlineRemaining returns how long job may still run under
// activeDeadlineSeconds, counted from start; false if it has no deadline.
func deadlineRemaining(job *batch.Job, start, now time.Time) (time.Duration, bool) {
	if job.Spec.ActiveDeadlineSeconds == nil {
		return 0, false
	}
	return start.Add(time.Duration(*job.Spec.ActiveDeadlineSeconds) * time.Second).Sub(now), true
}

// remaining returns how long to wait before replacing failed pods: the
// delay for n failures since the last success, counted from the last of
// them. Kubernetes keeps these two numbers in memory (backoffRecord);
// here they come from the finished pods the Job still owns.
func (bp backoffPolicy) remaining(pods []*core.Pod, now time.Time) time.Duration {
	var lastSuccess, lastFailure time.Time
	for _, p := range pods {
		switch p.Status.Phase {
		case core.PodSucceeded:
			if t := finishTime(p); t.After(lastSuccess) {
				lastSuccess = t
			}
		case core.PodFailed:
			if t := finishTime(p); t.After(lastFailure) {
				lastFailure = t
			}
		}
	}
	n := 0
	for _, p := range pods {
		if p.Status.Phase == core.PodFailed && finishTime(p).After(lastSuccess) {
			n++
		}
	}
	if n == 0 || bp.base <= 0 {
		return 0
	}
	delay := bp.base
	for i := 1; i < n && delay < bp.max; i++ {
		delay *= 2
	}
	delay = min(delay, bp.max)
	return max(0, lastFailure.Add(delay).Sub(now))
}

// finishTime is when a finished pod's last container stopped, or failing
// that, when the pod last changed a condition or was created.
func finishTime(p *core.Pod) time.Time {
	var t time.Time
	for _, cs := range p.Status.ContainerStatuses {
		if term := cs.State.Terminated; term != nil && term.FinishedAt.After(t) {
			t = term.FinishedAt.Time
		}
	}
	if !t.IsZero() {
		return t
	}
	for _, c := range p.Status.Conditions {
		if c.LastTransitionTime.After(t) {
			t = c.LastTransitionTime.Time
		}
	}
	if !t.IsZero() {
		return t
	}
	return p.CreationTimestamp.Time
}

// ttlRemaining returns how long until a finished job may be deleted for
// its ttlSecondsAfterFinished; false if it has no TTL or is not finished.
func ttlRemaining(job *batch.Job, now time.Time) (time.Duration, bool) {
	c := finishedCondition(job.Status.Conditions)
	if job.Spec.TTLSecondsAfterFinished == nil || c == nil {
		return 0, false
	}
	finished := c.LastTransitionTime.Time
	if c.Type == batch.JobComplete && job.Status.CompletionTime != nil {
		finished = job.Status.CompletionTime.Time
	}
	return finished.Add(time.Duration(*job.Spec.TTLSecondsAfterFinished) * time.Second).Sub(now), true
}

// ---- conditions ----

func findCondition(conds []batch.JobCondition, typ string) *batch.JobCondition {
	for i := range conds {
		if conds[i].Type == typ {
			return &conds[i]
		}
	}
	return nil
}

// finishedCondition returns the Complete or Failed condition that is
// True, or nil while the Job runs.
func finishedCondition(conds []batch.JobCondition) *batch.JobCondition {
	for i := range conds {
		c := &conds[i]
		if (c.Type == batch.JobComplete || c.Type == batch.JobFailed) && c.Status == core.ConditionTrue {
			return c
		}
	}
	return nil
}

// setCondition returns a copy of conds with the condition typ set to
// status, and whether that changed anything. A condition already at
// status keeps its reason and transition time.
func setCondition(conds []batch.JobCondition, typ, status, reason, message string, now time.Time) ([]batch.JobCondition, bool) {
	out := slices.Clone(conds)
	c := batch.JobCondition{Type: typ, Status: status, Reason: reason, Message: message,
		LastProbeTime: meta.NewTime(now), LastTransitionTime: meta.NewTime(now)}
	for i := range out {
		if out[i].Type == typ {
			if out[i].Status == status {
				return out, false
			}
			out[i] = c
			return out, true
		}
	}
	return append(out, c), true
}

// ---- pods ----

func isReady(p *core.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == core.PodReady {
			return c.Status == core.ConditionTrue
		}
	}
	return false
}

// removalOrder sorts pods so that the cheapest to lose come first:
// unscheduled before scheduled, pending before running, not ready before
// ready, newer before older (a short form of Kubernetes' ActivePods
// ordering).
func removalOrder(pods []*core.Pod) {
	rank := func(p *core.Pod) int {
		r := 0
		if p.Spec.NodeName != "" {
			r += 4
		}
		if p.Status.Phase == core.PodRunning {
			r += 2
		}
		if isReady(p) {
			r++
		}
		return r
	}
	slices.SortStableFunc(pods, func(a, b *core.Pod) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		return b.CreationTimestamp.Compare(a.CreationTimestamp.Time)
	})
}

// newPod returns a pod for job from its template: named <job>-<random>,
// controlled by job, and holding the tracking finalizer.
func newPod(job *batch.Job) (*core.Pod, error) {
	tmpl, err := meta.DeepCopy(&job.Spec.Template)
	if err != nil {
		return nil, fmt.Errorf("copying the template of %s: %w", job.Name, err)
	}
	return &core.Pod{
		ObjectMeta: meta.ObjectMeta{
			GenerateName:    job.Name + "-",
			Namespace:       job.Namespace,
			Labels:          tmpl.Labels,
			Annotations:     tmpl.Annotations,
			Finalizers:      append(tmpl.Finalizers, trackingFinalizer),
			OwnerReferences: []meta.OwnerReference{controllerRef(job)},
		},
		Spec: tmpl.Spec,
	}, nil
}

func minPositive(a, b time.Duration) time.Duration {
	if a <= 0 {
		return b
	}
	if b <= 0 {
		return a
	}
	return min(a, b)
}
