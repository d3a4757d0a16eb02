package scheduler

import (
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/apis/resource"
)

// Builders for the table tests: small, explicit values.

func rl(cpu, mem string) core.ResourceList {
	l := core.ResourceList{}
	if cpu != "" {
		l[core.ResourceCPU] = resource.MustParse(cpu)
	}
	if mem != "" {
		l[core.ResourceMemory] = resource.MustParse(mem)
	}
	return l
}

func container(cpu, mem string) core.Container {
	return core.Container{Name: "c", Image: "busybox", Resources: core.ResourceRequirements{Requests: rl(cpu, mem)}}
}

// pod returns a pending pod named name with one container per
// (cpu, mem) pair given.
func pod(name string, cpuMem ...string) *core.Pod {
	p := &core.Pod{ObjectMeta: meta.ObjectMeta{Name: name, Namespace: "default", UID: name + "-uid"},
		Spec: core.PodSpec{SchedulerName: core.DefaultSchedulerName}}
	for i := 0; i+1 < len(cpuMem); i += 2 {
		p.Spec.Containers = append(p.Spec.Containers, container(cpuMem[i], cpuMem[i+1]))
	}
	if len(p.Spec.Containers) == 0 {
		p.Spec.Containers = []core.Container{{Name: "c", Image: "busybox"}}
	}
	return p
}

// node returns a Ready node with the given allocatable CPU, memory and pods.
func node(name, cpu, mem string, pods int64) *core.Node {
	alloc := rl(cpu, mem)
	alloc[core.ResourcePods] = resource.NewQuantity(pods, resource.DecimalSI)
	return &core.Node{ObjectMeta: meta.ObjectMeta{Name: name, Labels: map[string]string{core.LabelHostname: name}},
		Status: core.NodeStatus{Allocatable: alloc, Capacity: alloc,
			Conditions: []core.NodeCondition{{Type: core.NodeReady, Status: core.ConditionTrue}}}}
}

func withLabels(n *core.Node, kv ...string) *core.Node {
	for i := 0; i+1 < len(kv); i += 2 {
		n.Labels[kv[i]] = kv[i+1]
	}
	return n
}

func withTaints(n *core.Node, taints ...core.Taint) *core.Node {
	n.Spec.Taints = append(n.Spec.Taints, taints...)
	return n
}

func withTolerations(p *core.Pod, tols ...core.Toleration) *core.Pod {
	p.Spec.Tolerations = append(p.Spec.Tolerations, tols...)
	return p
}

func withRequired(p *core.Pod, terms ...core.NodeSelectorTerm) *core.Pod {
	p.Spec.Affinity = &core.Affinity{NodeAffinity: &core.NodeAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: &core.NodeSelector{NodeSelectorTerms: terms}}}
	return p
}

func term(reqs ...core.NodeSelectorRequirement) core.NodeSelectorTerm {
	return core.NodeSelectorTerm{MatchExpressions: reqs}
}

func req(key, op string, values ...string) core.NodeSelectorRequirement {
	return core.NodeSelectorRequirement{Key: key, Operator: op, Values: values}
}

func withHostPort(p *core.Pod, proto, ip string, port int32) *core.Pod {
	c := &p.Spec.Containers[0]
	c.Ports = append(c.Ports, core.ContainerPort{ContainerPort: 80, HostPort: port, Protocol: proto, HostIP: ip})
	return p
}

// info builds a NodeInfo for n holding pods.
func info(n *core.Node, pods ...*core.Pod) *NodeInfo {
	ps := make([]*PodInfo, len(pods))
	for i, p := range pods {
		ps[i] = NewPodInfo(p)
	}
	return NewNodeInfo(n, ps...)
}

func ptr[T any](v T) *T { return &v }
