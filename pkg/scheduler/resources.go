package scheduler

import (
	"minik8s/pkg/apis/core"
)

// Resources is an amount of what the scheduler accounts per node: CPU in
// millicores, memory in bytes, and a number of pods. Plain integers: the
// filters and scores run for every node for every pod, and
// resource.Quantity's big-number arithmetic would dominate them.
type Resources struct {
	MilliCPU int64
	Memory   int64
	Pods     int64
}

// Add returns r + o.
func (r Resources) Add(o Resources) Resources {
	return Resources{MilliCPU: r.MilliCPU + o.MilliCPU, Memory: r.Memory + o.Memory, Pods: r.Pods + o.Pods}
}

// Sub returns r - o.
func (r Resources) Sub(o Resources) Resources {
	return Resources{MilliCPU: r.MilliCPU - o.MilliCPU, Memory: r.Memory - o.Memory, Pods: r.Pods - o.Pods}
}

func (r Resources) max(o Resources) Resources {
	return Resources{MilliCPU: max(r.MilliCPU, o.MilliCPU), Memory: max(r.Memory, o.Memory), Pods: max(r.Pods, o.Pods)}
}

// The requests kube-scheduler assumes for scoring when a container asks
// for no CPU or memory (its DefaultMilliCPURequest and
// DefaultMemoryRequest), so that best-effort pods still count as taking
// something and are not all piled onto one node.
const (
	defaultMilliCPURequest = 100
	defaultMemoryRequest   = 200 * 1024 * 1024
)

// PodRequests returns what pod needs on its node, counted as the kubelet
// admits it and kube-scheduler accounts it (resourcehelper.PodRequests):
//
//   - app containers run together, so their requests add up;
//   - init containers run one at a time before them, so the pod needs the
//     larger of the app containers' sum and the biggest init container;
//   - restartable init containers (sidecars, restartPolicy Always) keep
//     running once started, so each adds to every later init container
//     and to the app containers.
//
// Pods is always 1. With nonZero, a container that requests no CPU or no
// memory is counted as requesting the defaults above: the figure scores
// use, never filters.
func PodRequests(pod *core.Pod, nonZero bool) Resources {
	var app Resources
	for i := range pod.Spec.Containers {
		app = app.Add(containerRequests(&pod.Spec.Containers[i], nonZero))
	}
	var sidecars, initMax Resources
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		r := containerRequests(c, nonZero)
		if c.RestartPolicy != nil && *c.RestartPolicy == core.RestartPolicyAlways {
			sidecars = sidecars.Add(r)
			r = sidecars
		} else {
			r = r.Add(sidecars)
		}
		initMax = initMax.max(r)
	}
	req := app.Add(sidecars).max(initMax)
	req.Pods = 1
	return req
}

func containerRequests(c *core.Container, nonZero bool) Resources {
	var r Resources
	if q, ok := c.Resources.Requests[core.ResourceCPU]; ok {
		r.MilliCPU = q.MilliValue()
	}
	if q, ok := c.Resources.Requests[core.ResourceMemory]; ok {
		r.Memory = q.Value()
	}
	if nonZero {
		if r.MilliCPU == 0 {
			r.MilliCPU = defaultMilliCPURequest
		}
		if r.Memory == 0 {
			r.Memory = defaultMemoryRequest
		}
	}
	return r
}

// NodeAllocatable returns what the node offers to pods: its allocatable,
// or its capacity where allocatable does not say. A node that reports no
// pod limit gets Kubernetes' default of 110.
func NodeAllocatable(n *core.Node) Resources {
	get := func(name string) (q int64, milli int64, ok bool) {
		v, ok := n.Status.Allocatable[name]
		if !ok {
			v, ok = n.Status.Capacity[name]
		}
		if !ok {
			return 0, 0, false
		}
		return v.Value(), v.MilliValue(), true
	}
	var r Resources
	_, r.MilliCPU, _ = get(core.ResourceCPU)
	r.Memory, _, _ = get(core.ResourceMemory)
	pods, _, ok := get(core.ResourcePods)
	if !ok {
		pods = 110
	}
	r.Pods = pods
	return r
}
