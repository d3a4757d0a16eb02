package printers

import (
	"testing"
	"time"

	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
)

// Container states, for building pod statuses.
var (
	running = core.ContainerState{Running: &core.ContainerStateRunning{StartedAt: ago(time.Hour)}}
	pending = core.ContainerState{Waiting: &core.ContainerStateWaiting{Reason: "PodInitializing"}}
)

func waiting(reason string) core.ContainerState {
	return core.ContainerState{Waiting: &core.ContainerStateWaiting{Reason: reason}}
}

func terminated(exitCode int32, reason string) core.ContainerState {
	return core.ContainerState{Terminated: &core.ContainerStateTerminated{ExitCode: exitCode, Reason: reason}}
}

// finished is a last state: the previous run ended d ago.
func finished(d time.Duration) core.ContainerState {
	return core.ContainerState{Terminated: &core.ContainerStateTerminated{ExitCode: 1, Reason: "Error", FinishedAt: ago(d)}}
}

// pod builds a pod with one app container per status.
func pod(phase string, statuses ...core.ContainerStatus) *core.Pod {
	p := &core.Pod{
		ObjectMeta: meta.ObjectMeta{Name: "web", CreationTimestamp: ago(time.Hour)},
		Status:     core.PodStatus{Phase: phase, ContainerStatuses: statuses},
	}
	for i := range statuses {
		p.Spec.Containers = append(p.Spec.Containers, core.Container{Name: statuses[i].Name})
	}
	return p
}

func withInit(p *core.Pod, statuses ...core.ContainerStatus) *core.Pod {
	for _, s := range statuses {
		p.Spec.InitContainers = append(p.Spec.InitContainers, core.Container{Name: s.Name})
	}
	p.Status.InitContainerStatuses = statuses
	return p
}

func withConditions(p *core.Pod, conds ...core.PodCondition) *core.Pod {
	p.Status.Conditions = append(p.Status.Conditions, conds...)
	return p
}

func deleting(p *core.Pod) *core.Pod {
	p.DeletionTimestamp = agoPtr(time.Second)
	return p
}

var (
	readyCond       = core.PodCondition{Type: core.PodReady, Status: core.ConditionTrue}
	initializedCond = core.PodCondition{Type: core.PodInitialized, Status: core.ConditionTrue}
)

func TestPodStatusFollowsKubectl(t *testing.T) {
	sidecar := withInit(pod(core.PodRunning,
		core.ContainerStatus{Name: "app", State: running, Ready: true}),
		core.ContainerStatus{Name: "proxy", State: running, Ready: true, Started: ptr(true),
			RestartCount: 1, LastState: finished(2 * time.Minute)})
	sidecar.Spec.InitContainers[0].RestartPolicy = ptr(core.RestartPolicyAlways)
	withConditions(sidecar, initializedCond, readyCond)

	// A container's reason would override the pod's, as in Kubernetes.
	evicted := pod(core.PodFailed)
	evicted.Status.Reason = "Evicted"

	nodeLost := deleting(pod(core.PodRunning, core.ContainerStatus{Name: "app", State: running, Ready: true}))
	nodeLost.Status.Reason = "NodeLost"

	signaled := pod(core.PodRunning, core.ContainerStatus{Name: "app",
		State: core.ContainerState{Terminated: &core.ContainerStateTerminated{ExitCode: 137, Signal: 9}}})

	for _, tc := range []struct {
		name                    string
		pod                     *core.Pod
		ready, status, restarts string
	}{
		{"running and ready",
			withConditions(pod(core.PodRunning,
				core.ContainerStatus{Name: "app", State: running, Ready: true},
				core.ContainerStatus{Name: "log", State: running, Ready: true}), readyCond),
			"2/2", "Running", "0"},
		{"one of two not ready",
			pod(core.PodRunning,
				core.ContainerStatus{Name: "app", State: running, Ready: true},
				core.ContainerStatus{Name: "log", State: running}),
			"1/2", "Running", "0"},
		{"crash loop shows when it last restarted",
			pod(core.PodRunning, core.ContainerStatus{Name: "app", State: waiting("CrashLoopBackOff"),
				RestartCount: 5, LastState: finished(30 * time.Second)}),
			"0/1", "CrashLoopBackOff", "5 (30s ago)"},
		{"restarts without a last state are a bare number",
			pod(core.PodRunning, core.ContainerStatus{Name: "app", State: running, Ready: true, RestartCount: 3}),
			"1/1", "Running", "3"},
		{"image pull error",
			pod(core.PodPending, core.ContainerStatus{Name: "app", State: waiting("ErrImagePull")}),
			"0/1", "ErrImagePull", "0"},
		{"the first container's reason wins",
			pod(core.PodPending,
				core.ContainerStatus{Name: "app", State: waiting("ImagePullBackOff")},
				core.ContainerStatus{Name: "log", State: waiting("ContainerCreating")}),
			"0/2", "ImagePullBackOff", "0"},
		{"pending without statuses shows the phase",
			pod(core.PodPending), "0/0", "Pending", "0"},
		{"completed",
			pod(core.PodSucceeded, core.ContainerStatus{Name: "app", State: terminated(0, "Completed")}),
			"0/1", "Completed", "0"},
		{"completed container beside a running one, pod not ready",
			pod(core.PodRunning,
				core.ContainerStatus{Name: "app", State: running, Ready: true},
				core.ContainerStatus{Name: "job", State: terminated(0, "Completed")}),
			"1/2", "NotReady", "0"},
		{"completed container beside a running one, pod ready",
			withConditions(pod(core.PodRunning,
				core.ContainerStatus{Name: "app", State: running, Ready: true},
				core.ContainerStatus{Name: "job", State: terminated(0, "Completed")}), readyCond),
			"1/2", "Running", "0"},
		{"terminated without reason shows the exit code",
			pod(core.PodFailed, core.ContainerStatus{Name: "app", State: terminated(2, "")}),
			"0/1", "ExitCode:2", "0"},
		{"terminated by a signal", signaled, "0/1", "Signal:9", "0"},
		{"pod reason overrides the phase", evicted, "0/0", "Evicted", "0"},
		{"first init container running",
			withInit(pod(core.PodPending, core.ContainerStatus{Name: "app", State: pending}),
				core.ContainerStatus{Name: "migrate", State: running},
				core.ContainerStatus{Name: "seed", State: pending}),
			"0/1", "Init:0/2", "0"},
		{"second init container running",
			withInit(pod(core.PodPending, core.ContainerStatus{Name: "app", State: pending}),
				core.ContainerStatus{Name: "migrate", State: terminated(0, "Completed")},
				core.ContainerStatus{Name: "seed", State: running}),
			"0/1", "Init:1/2", "0"},
		{"init container crash looping",
			withInit(pod(core.PodPending, core.ContainerStatus{Name: "app", State: pending}),
				core.ContainerStatus{Name: "migrate", State: waiting("CrashLoopBackOff"),
					RestartCount: 4, LastState: finished(time.Minute)}),
			"0/1", "Init:CrashLoopBackOff", "4 (60s ago)"},
		{"init container failed",
			withInit(pod(core.PodFailed, core.ContainerStatus{Name: "app", State: pending}),
				core.ContainerStatus{Name: "migrate", State: terminated(1, "Error")}),
			"0/1", "Init:Error", "0"},
		{"init container failed without reason",
			withInit(pod(core.PodFailed, core.ContainerStatus{Name: "app", State: pending}),
				core.ContainerStatus{Name: "migrate", State: terminated(3, "")}),
			"0/1", "Init:ExitCode:3", "0"},
		{"started sidecar counts as a container", sidecar, "2/2", "Running", "1 (2m ago)"},
		{"scheduling gated",
			withConditions(pod(core.PodPending),
				core.PodCondition{Type: core.PodScheduled, Status: core.ConditionFalse, Reason: "SchedulingGated"}),
			"0/0", "SchedulingGated", "0"},
		{"being deleted",
			deleting(pod(core.PodRunning, core.ContainerStatus{Name: "app", State: running, Ready: true})),
			"1/1", "Terminating", "0"},
		{"deleted after completing keeps its status",
			deleting(pod(core.PodSucceeded, core.ContainerStatus{Name: "app", State: terminated(0, "Completed")})),
			"0/1", "Completed", "0"},
		{"deleted on a lost node", nodeLost, "1/1", "Unknown", "0"},
	} {
		got := row(t, "", "pods", tc.pod)
		checkCells(t, tc.name, got, map[string]any{
			"Name": "web", "Ready": tc.ready, "Status": tc.status, "Restarts": tc.restarts, "Age": "60m",
		})
	}
}

func TestPodWideColumns(t *testing.T) {
	bare := pod(core.PodPending)
	placed := pod(core.PodRunning)
	placed.Spec.NodeName = "node-1"
	placed.Status.PodIPs = []core.PodIP{{IP: "10.244.1.5"}, {IP: "fd00::5"}}
	placed.Status.NominatedNodeName = "node-2"
	placed.Spec.ReadinessGates = []core.PodReadinessGate{{ConditionType: "example.com/lb"}, {ConditionType: "example.com/dns"}}
	withConditions(placed, core.PodCondition{Type: "example.com/lb", Status: core.ConditionTrue})
	legacyIP := pod(core.PodRunning)
	legacyIP.Status.PodIP = "10.244.1.6"

	for _, tc := range []struct {
		name string
		pod  *core.Pod
		want map[string]any
	}{
		{"unscheduled", bare, map[string]any{
			"IP": "<none>", "Node": "<none>", "Nominated Node": "<none>", "Readiness Gates": "<none>"}},
		{"scheduled", placed, map[string]any{
			"IP": "10.244.1.5", "Node": "node-1", "Nominated Node": "node-2", "Readiness Gates": "1/2"}},
		{"only podIP set", legacyIP, map[string]any{"IP": "10.244.1.6"}},
	} {
		checkCells(t, tc.name, row(t, "", "pods", tc.pod), tc.want)
	}
}
