package nodeagent

import (
	"fmt"
	"sort"
	"time"

	"minik8s/pkg/apis/core"
)

// instance is one observed run of a container of a pod, as containerd
// reports it. Everything in it comes from the container's labels and its
// task, so it survives an agent restart.
type instance struct {
	ID      string
	Name    string // the container's name in the pod spec
	Init    bool
	Attempt int // the container's restart count when this instance started
	// Running: the task is running. When false and Started is true it
	// has exited with ExitCode at FinishedAt.
	Running    bool
	Started    bool
	ExitCode   int32
	OOMKilled  bool
	StartedAt  time.Time
	FinishedAt time.Time
	Image      string
	ImageID    string
}

// exited reports whether the instance ran and is over.
func (in instance) exited() bool { return in.Started && !in.Running }

// probeState is what the probe workers found about one running instance.
type probeState struct {
	Ready         bool // readiness (true when there is no readiness probe)
	Started       bool // startup probe passed (true when there is none)
	LivenessFails bool // the liveness probe crossed its failure threshold
}

// pullFailure remembers a failed image pull of one container, so that the
// next attempt waits (ImagePullBackOff) instead of hammering the registry.
type pullFailure struct {
	Message string
	Count   int       // failures in a row
	Until   time.Time // no new pull before this
}

// observed is the world as the agent sees it for one pod.
type observed struct {
	Instances []instance
	Probes    map[string]probeState  // by instance ID
	Pulls     map[string]pullFailure // by container name
}

// latest returns the newest instance of each container name.
func (o observed) latest() map[string]instance {
	m := map[string]instance{}
	for _, in := range o.Instances {
		if cur, ok := m[in.Name]; !ok || in.Attempt > cur.Attempt {
			m[in.Name] = in
		}
	}
	return m
}

// startAction asks for a new instance of a container.
type startAction struct {
	Name    string
	Init    bool
	Attempt int
}

// waiting is why a container is not running now (CrashLoopBackOff,
// ImagePullBackOff ...), for its status.
type waiting struct{ Reason, Message string }

// podActions is what sync must do for one pod to converge. The zero value
// means "nothing to do".
type podActions struct {
	// Kill lists running instances to stop (with the pod's grace period),
	// with the reason for the event.
	Kill map[string]string
	// Start lists containers to start, in order (init containers one at a
	// time, app containers together).
	Start []startAction
	// Remove lists instances no longer needed: everything older than a
	// container's previous instance (kept for lastState and previous logs).
	Remove []string
	// Waiting explains containers held back by backoff.
	Waiting map[string]waiting
	// Requeue, when positive, is when to look again though nothing may
	// change by itself (a backoff ends).
	Requeue time.Duration
}

// shouldRestart applies the pod's restartPolicy to an exited container
// (Kubernetes: Always restarts everything, OnFailure non-zero exits).
func shouldRestart(policy string, exitCode int32) bool {
	switch policy {
	case core.RestartPolicyNever:
		return false
	case core.RestartPolicyOnFailure:
		return exitCode != 0
	default:
		return true
	}
}

// crashBackoff is how long a container that has restarted restarts times
// waits before the next start: base doubled per restart, capped at max
// (kubelet: 10 s doubling to 5 min).
func crashBackoff(restarts int, base, max time.Duration) time.Duration {
	d := base
	for i := 0; i < restarts && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}

// computePodActions is the pod diff: from the pod's spec and what runs, what
// to kill, start and remove now. It is pure; the kubelet's
// computePodActions is the model.
//
// Init containers run one at a time in spec order, each to success; a
// failed one is restarted (unless restartPolicy is Never, which fails the
// pod) and blocks the app containers. Then every app container runs; an
// exited one is restarted per restartPolicy after crashBackoff, counted
// from when it finished.
func computePodActions(pod *core.Pod, o observed, now time.Time, base, max time.Duration) podActions {
	a := podActions{Kill: map[string]string{}, Waiting: map[string]waiting{}}
	latest := o.latest()
	a.Remove = garbage(o.Instances)
	if pod.DeletionTimestamp != nil {
		for _, in := range o.Instances {
			if in.Running {
				a.Kill[in.ID] = "Stopping container " + in.Name
			}
		}
		return a
	}
	policy := pod.Spec.RestartPolicy
	next := func(c core.Container, init bool) {
		in, ok := latest[c.Name]
		if !ok {
			a.start(c.Name, init, 0, o, now)
			return
		}
		if !shouldRestart(policy, in.ExitCode) {
			return
		}
		wait := in.FinishedAt.Add(crashBackoff(in.Attempt, base, max)).Sub(now)
		if wait > 0 {
			a.Waiting[c.Name] = waiting{"CrashLoopBackOff", fmt.Sprintf("back-off %s restarting failed container=%s pod=%s_%s",
				crashBackoff(in.Attempt, base, max), c.Name, pod.Name, pod.Namespace)}
			a.requeue(wait)
			return
		}
		a.start(c.Name, init, in.Attempt+1, o, now)
	}
	for _, c := range pod.Spec.InitContainers {
		in, ok := latest[c.Name]
		if ok && in.exited() && in.ExitCode == 0 {
			continue // done; on to the next one
		}
		if ok && (in.Running || !in.Started) {
			return a // still running: the next one waits
		}
		next(c, true)
		return a
	}
	for _, c := range pod.Spec.Containers {
		in, ok := latest[c.Name]
		switch {
		case ok && in.Running:
			if o.Probes[in.ID].LivenessFails {
				a.Kill[in.ID] = fmt.Sprintf("Container %s failed liveness probe, will be restarted", c.Name)
			}
		case ok && !in.Started:
			// Created but never started (the agent died in between):
			// replace it.
			a.Remove = append(a.Remove, in.ID)
			a.start(c.Name, false, in.Attempt, o, now)
		default:
			next(c, false)
		}
	}
	return a
}

// start adds a start unless the container's image pull is backing off.
func (a *podActions) start(name string, init bool, attempt int, o observed, now time.Time) {
	if f, ok := o.Pulls[name]; ok && now.Before(f.Until) {
		a.Waiting[name] = waiting{"ImagePullBackOff", "Back-off pulling image: " + f.Message}
		a.requeue(f.Until.Sub(now))
		return
	}
	a.Start = append(a.Start, startAction{Name: name, Init: init, Attempt: attempt})
}

func (a *podActions) requeue(d time.Duration) {
	if a.Requeue == 0 || d < a.Requeue {
		a.Requeue = d
	}
}

// garbage returns the exited instances older than each container's two
// newest: the newest is the current one, the one before it gives lastState
// and `logs --previous`.
func garbage(ins []instance) []string {
	byName := map[string][]instance{}
	for _, in := range ins {
		byName[in.Name] = append(byName[in.Name], in)
	}
	var out []string
	for _, list := range byName {
		sort.Slice(list, func(i, j int) bool { return list[i].Attempt > list[j].Attempt })
		for _, in := range list[min(2, len(list)):] {
			if !in.Running {
				out = append(out, in.ID)
			}
		}
	}
	sort.Strings(out)
	return out
}
