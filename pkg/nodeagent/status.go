package nodeagent

import (
	"time"

	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
)

// computePodStatus is the status the pod should show for what was observed
// and decided in this sync. It is pure: old is the status the API server has
// (for startTime and the conditions' transition times), waits are the
// reasons containers are not running (from podActions and failed pulls).
// The phase follows the kubelet's getPhase.
func computePodStatus(pod *core.Pod, o observed, waits map[string]waiting, podIP, hostIP string, now time.Time) core.PodStatus {
	old := pod.Status
	st := core.PodStatus{
		HostIP: hostIP, PodIP: podIP, StartTime: old.StartTime, QOSClass: old.QOSClass,
	}
	if hostIP != "" {
		st.HostIPs = []core.HostIP{{IP: hostIP}}
	}
	if podIP != "" {
		st.PodIPs = []core.PodIP{{IP: podIP}}
	}
	if st.StartTime == nil {
		t := meta.NewTime(now)
		st.StartTime = &t
	}
	byName := map[string][]instance{}
	for _, in := range o.Instances {
		byName[in.Name] = append(byName[in.Name], in)
	}
	initDone, initFailed := true, false
	for _, c := range pod.Spec.InitContainers {
		cs := containerStatus(c, byName[c.Name], o, waits, "PodInitializing")
		st.InitContainerStatuses = append(st.InitContainerStatuses, cs)
		if t := cs.State.Terminated; t != nil && t.ExitCode == 0 {
			continue
		}
		initDone = false
		if t := cs.State.Terminated; t != nil && pod.Spec.RestartPolicy == core.RestartPolicyNever {
			initFailed = true
		}
	}
	waitingReason := "ContainerCreating"
	if !initDone {
		waitingReason = "PodInitializing"
	}
	allReady := initDone
	var running, waitingNew, stopped, succeeded, failed int
	for _, c := range pod.Spec.Containers {
		cs := containerStatus(c, byName[c.Name], o, waits, waitingReason)
		st.ContainerStatuses = append(st.ContainerStatuses, cs)
		allReady = allReady && cs.Ready
		switch {
		case cs.State.Running != nil:
			running++
		case cs.State.Terminated != nil:
			stopped++
			if cs.State.Terminated.ExitCode == 0 {
				succeeded++
			} else {
				failed++
			}
		case cs.LastState.Terminated != nil:
			stopped++ // waiting to restart after a run
			if cs.LastState.Terminated.ExitCode == 0 {
				succeeded++
			} else {
				failed++
			}
		default:
			waitingNew++
		}
	}
	switch {
	case initFailed:
		st.Phase = core.PodFailed
	case !initDone || waitingNew > 0:
		st.Phase = core.PodPending
	case running > 0:
		st.Phase = core.PodRunning
	case pod.Spec.RestartPolicy == core.RestartPolicyAlways:
		st.Phase = core.PodRunning // crashed containers come back
	case stopped == succeeded:
		st.Phase = core.PodSucceeded
	case pod.Spec.RestartPolicy == core.RestartPolicyOnFailure:
		st.Phase = core.PodRunning
	default:
		st.Phase = core.PodFailed
	}
	if st.Phase == core.PodSucceeded || st.Phase == core.PodFailed {
		allReady = false
	}
	st.Conditions = []core.PodCondition{
		condition(old, core.PodScheduled, true, now),
		condition(old, core.PodInitialized, initDone, now),
		condition(old, core.PodContainersReady, allReady, now),
		condition(old, core.PodReady, allReady, now),
	}
	return st
}

// containerStatus reports one container from its instances (newest first
// after sorting by attempt).
func containerStatus(c core.Container, ins []instance, o observed, waits map[string]waiting, defaultWait string) core.ContainerStatus {
	cs := core.ContainerStatus{Name: c.Name, Image: c.Image}
	var cur, prev *instance
	for i := range ins {
		switch {
		case cur == nil || ins[i].Attempt > cur.Attempt:
			prev, cur = cur, &ins[i]
		case prev == nil || ins[i].Attempt > prev.Attempt:
			prev = &ins[i]
		}
	}
	f := false
	cs.Started = &f
	if cur == nil {
		w := waiting{Reason: defaultWait}
		if ow, ok := waits[c.Name]; ok {
			w = ow
		}
		cs.State.Waiting = &core.ContainerStateWaiting{Reason: w.Reason, Message: w.Message}
		return cs
	}
	cs.RestartCount = int32(cur.Attempt)
	cs.ContainerID = "containerd://" + cur.ID
	if cur.ImageID != "" {
		cs.ImageID = cur.ImageID
	}
	if prev != nil && prev.exited() {
		cs.LastState.Terminated = terminated(*prev)
	}
	switch {
	case cur.Running:
		cs.State.Running = &core.ContainerStateRunning{StartedAt: meta.NewTime(cur.StartedAt)}
		p := o.Probes[cur.ID]
		started := c.StartupProbe == nil || p.Started
		cs.Started = &started
		cs.Ready = started && (c.ReadinessProbe == nil || p.Ready)
	case cur.exited():
		if w, ok := waits[c.Name]; ok {
			// Waiting to be restarted: the run that ended is lastState.
			cs.State.Waiting = &core.ContainerStateWaiting{Reason: w.Reason, Message: w.Message}
			cs.LastState.Terminated = terminated(*cur)
		} else {
			cs.State.Terminated = terminated(*cur)
		}
	default:
		cs.State.Waiting = &core.ContainerStateWaiting{Reason: defaultWait}
	}
	return cs
}

func terminated(in instance) *core.ContainerStateTerminated {
	reason := "Completed"
	switch {
	case in.OOMKilled:
		reason = "OOMKilled"
	case in.ExitCode != 0:
		reason = "Error"
	}
	return &core.ContainerStateTerminated{
		ExitCode: in.ExitCode, Reason: reason, ContainerID: "containerd://" + in.ID,
		StartedAt: meta.NewTime(in.StartedAt), FinishedAt: meta.NewTime(in.FinishedAt),
	}
}

// condition builds a pod condition, keeping the old lastTransitionTime when
// the status did not change (so an unchanged pod gives an equal status and
// no write).
func condition(old core.PodStatus, typ string, ok bool, now time.Time) core.PodCondition {
	s := core.ConditionFalse
	if ok {
		s = core.ConditionTrue
	}
	for _, c := range old.Conditions {
		if c.Type == typ && c.Status == s {
			return core.PodCondition{Type: typ, Status: s, LastTransitionTime: c.LastTransitionTime}
		}
	}
	return core.PodCondition{Type: typ, Status: s, LastTransitionTime: meta.NewTime(now)}
}
