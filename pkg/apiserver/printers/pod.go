package printers

import (
	"fmt"
	"strconv"
	"time"

	"minik8s/pkg/apis/core"
)

var podPrinter = &Printer{
	Columns: []Column{
		nameColumn,
		{Name: "Ready", Type: "string", Description: "The aggregate readiness state of this pod for accepting traffic."},
		{Name: "Status", Type: "string", Description: "The aggregate status of the containers in this pod."},
		// A string since Kubernetes 1.28: "3 (5m ago)".
		{Name: "Restarts", Type: "string", Description: "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."},
		ageColumn,
		{Name: "IP", Type: "string", Priority: 1, Description: "IP address allocated to the pod."},
		{Name: "Node", Type: "string", Priority: 1, Description: "NodeName is the node the pod is scheduled onto."},
		{Name: "Nominated Node", Type: "string", Priority: 1, Description: "The node the scheduler nominated after preempting pods for this one."},
		{Name: "Readiness Gates", Type: "string", Priority: 1, Description: "Readiness gates that must be True, and how many are."},
	},
	Row: rowOf(podRow),
}

// Reasons kubectl's STATUS column knows about.
const (
	// reasonSchedulingGated is the PodScheduled condition's reason while
	// a scheduling gate holds the pod back.
	reasonSchedulingGated = "SchedulingGated"
	// reasonNodeLost is the pod reason the node lifecycle controller
	// sets on pods of an unreachable node.
	reasonNodeLost = "NodeLost"
	// reasonPodInitializing is the waiting reason of an init container
	// that simply has not run yet.
	reasonPodInitializing = "PodInitializing"
)

func podRow(pod *core.Pod, now time.Time) []any {
	s := summarizePod(pod)
	restarts := strconv.Itoa(s.restarts)
	if s.restarts != 0 && !s.lastRestart.IsZero() {
		restarts = fmt.Sprintf("%d (%s ago)", s.restarts, since(s.lastRestart, now))
	}
	return []any{
		pod.Name,
		fmt.Sprintf("%d/%d", s.ready, s.total),
		s.reason,
		restarts,
		age(&pod.ObjectMeta, now),
		orNone(podIP(pod)),
		orNone(pod.Spec.NodeName),
		orNone(pod.Status.NominatedNodeName),
		readinessGates(pod),
	}
}

// podSummary is what the READY, STATUS and RESTARTS columns show.
type podSummary struct {
	ready, total int
	reason       string
	restarts     int
	lastRestart  time.Time // when the last counted restart finished; zero if unknown
}

// summarizePod computes the status of a pod as kubectl shows it, with the
// rules of Kubernetes' printPod:
//
//  1. The pod's reason, else its phase.
//  2. While init containers run, the first one that has not succeeded
//     decides: "Init:<reason>", "Init:ExitCode:N" or "Init:N/M".
//  3. Then the app containers, last to first, so the first container
//     wins: its waiting reason, terminated reason or "ExitCode:N". A pod
//     whose containers report "Completed" but one still runs is
//     "Running" (or "NotReady" without the Ready condition).
//  4. A pod being deleted is "Terminating", or "Unknown" if its node is
//     lost.
//
// Sidecars (init containers with restartPolicy Always) count as
// containers for READY once started.
func summarizePod(pod *core.Pod) podSummary {
	s := podSummary{total: len(pod.Spec.Containers), reason: pod.Status.Phase}
	if pod.Status.Reason != "" {
		s.reason = pod.Status.Reason
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == core.PodScheduled && c.Reason == reasonSchedulingGated {
			s.reason = reasonSchedulingGated
		}
	}

	sidecars := map[string]bool{}
	for _, c := range pod.Spec.InitContainers {
		if c.RestartPolicy != nil && *c.RestartPolicy == core.RestartPolicyAlways {
			sidecars[c.Name] = true
			s.total++
		}
	}

	// Sidecar restarts keep counting after initialization; restarts of
	// ordinary init containers only while the pod initializes.
	sidecarRestarts, sidecarLastRestart := 0, time.Time{}
	initializing := false
initContainers:
	for i := range pod.Status.InitContainerStatuses {
		cs := &pod.Status.InitContainerStatuses[i]
		s.restarts += int(cs.RestartCount)
		s.lastRestart = laterRestart(s.lastRestart, cs)
		if sidecars[cs.Name] {
			sidecarRestarts += int(cs.RestartCount)
			sidecarLastRestart = laterRestart(sidecarLastRestart, cs)
		}
		t, w := cs.State.Terminated, cs.State.Waiting
		switch {
		case t != nil && t.ExitCode == 0:
			// Done; the next one decides.
		case sidecars[cs.Name] && cs.Started != nil && *cs.Started:
			if cs.Ready {
				s.ready++
			}
		case t != nil:
			s.reason = "Init:" + terminatedReason(t)
			initializing = true
			break initContainers
		case w != nil && w.Reason != "" && w.Reason != reasonPodInitializing:
			s.reason = "Init:" + w.Reason
			initializing = true
			break initContainers
		default:
			s.reason = fmt.Sprintf("Init:%d/%d", i, len(pod.Spec.InitContainers))
			initializing = true
			break initContainers
		}
	}

	if !initializing || hasCondition(pod, core.PodInitialized) {
		s.restarts, s.lastRestart = sidecarRestarts, sidecarLastRestart
		hasRunning := false
		for i := len(pod.Status.ContainerStatuses) - 1; i >= 0; i-- {
			cs := &pod.Status.ContainerStatuses[i]
			s.restarts += int(cs.RestartCount)
			s.lastRestart = laterRestart(s.lastRestart, cs)
			switch t, w := cs.State.Terminated, cs.State.Waiting; {
			case w != nil && w.Reason != "":
				s.reason = w.Reason
			case t != nil:
				s.reason = terminatedReason(t)
			case cs.Ready && cs.State.Running != nil:
				hasRunning = true
				s.ready++
			}
		}
		if s.reason == "Completed" && hasRunning {
			s.reason = "NotReady"
			if hasCondition(pod, core.PodReady) {
				s.reason = "Running"
			}
		}
	}

	if pod.DeletionTimestamp != nil {
		switch {
		case pod.Status.Reason == reasonNodeLost:
			s.reason = "Unknown"
		case pod.Status.Phase != core.PodSucceeded && pod.Status.Phase != core.PodFailed:
			s.reason = "Terminating"
		}
	}
	return s
}

// terminatedReason is the reason a container terminated, or
// "Signal:N" / "ExitCode:N" when the runtime gave none.
func terminatedReason(t *core.ContainerStateTerminated) string {
	switch {
	case t.Reason != "":
		return t.Reason
	case t.Signal != 0:
		return fmt.Sprintf("Signal:%d", t.Signal)
	}
	return fmt.Sprintf("ExitCode:%d", t.ExitCode)
}

// laterRestart returns the later of last and the time cs's previous run
// finished.
func laterRestart(last time.Time, cs *core.ContainerStatus) time.Time {
	if t := cs.LastState.Terminated; t != nil && last.Before(t.FinishedAt.Time) {
		return t.FinishedAt.Time
	}
	return last
}

// hasCondition says whether the pod condition of type typ is True.
func hasCondition(pod *core.Pod, typ string) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == typ {
			return c.Status == core.ConditionTrue
		}
	}
	return false
}

// podIP is the pod's primary IP, or "".
func podIP(pod *core.Pod) string {
	if len(pod.Status.PodIPs) > 0 {
		return pod.Status.PodIPs[0].IP
	}
	return pod.Status.PodIP
}

// readinessGates renders "true gates/gates", or "<none>" without gates.
func readinessGates(pod *core.Pod) string {
	if len(pod.Spec.ReadinessGates) == 0 {
		return none
	}
	passed := 0
	for _, g := range pod.Spec.ReadinessGates {
		if hasCondition(pod, g.ConditionType) {
			passed++
		}
	}
	return fmt.Sprintf("%d/%d", passed, len(pod.Spec.ReadinessGates))
}

// orNone returns s, or "<none>" when s is empty.
func orNone(s string) string {
	if s == "" {
		return none
	}
	return s
}
