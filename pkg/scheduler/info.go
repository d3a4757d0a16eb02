package scheduler

import (
	"minik8s/pkg/apis/core"
	"minik8s/pkg/client"
)

// PodInfo is a pod with what the filters and scores need of it computed
// once per scheduling attempt rather than once per node.
type PodInfo struct {
	Pod *core.Pod // shared with the informer's cache: read only
	Key string    // namespace/name
	// Requests is what the pod needs (PodRequests); NonZero the same with
	// kube-scheduler's defaults for containers that ask for nothing.
	Requests, NonZero Resources
	HostPorts         []HostPort
}

// NewPodInfo computes pod's PodInfo.
func NewPodInfo(pod *core.Pod) *PodInfo {
	p := &PodInfo{
		Pod:      pod,
		Key:      client.KeyOf(pod),
		Requests: PodRequests(pod, false),
		NonZero:  PodRequests(pod, true),
	}
	for _, cs := range [][]core.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for i := range cs {
			for _, cp := range cs[i].Ports {
				if cp.HostPort > 0 {
					p.HostPorts = append(p.HostPorts, newHostPort(cp))
				}
			}
		}
	}
	return p
}

// HostPort is one port a pod takes on its node's addresses.
type HostPort struct {
	Protocol string // TCP when the pod did not say
	IP       string // 0.0.0.0 (every address) when the pod did not say
	Port     int32
}

func newHostPort(cp core.ContainerPort) HostPort {
	hp := HostPort{Protocol: cp.Protocol, IP: cp.HostIP, Port: cp.HostPort}
	if hp.Protocol == "" {
		hp.Protocol = core.ProtocolTCP
	}
	if hp.IP == "" {
		hp.IP = "0.0.0.0"
	}
	return hp
}

// conflicts says whether two host ports cannot both be bound: same
// protocol and port, on the same address or with either on every address
// (kube-scheduler's NodePorts rule).
func (hp HostPort) conflicts(o HostPort) bool {
	return hp.Port == o.Port && hp.Protocol == o.Protocol &&
		(hp.IP == o.IP || hp.IP == "0.0.0.0" || o.IP == "0.0.0.0")
}

// NodeInfo is one node and what the pods placed on it (bound or assumed)
// take. Filters and scores read it; only the cache changes it.
type NodeInfo struct {
	// Node is nil while the cache knows pods bound to the node but not
	// the node itself (its watch event is late, or it was deleted): such
	// a NodeInfo only keeps the accounting and is never a candidate.
	Node *core.Node
	Name string
	// Ready caches whether the node's Ready condition is True.
	Ready       bool
	Allocatable Resources
	// Requested and NonZeroRequested are the sums of Requests and NonZero
	// of the pods on the node. Invariant: they equal the sums over pods.
	Requested, NonZeroRequested Resources
	// ports holds the host ports the node's pods take, with how many pods
	// take each (the same port on different IPs is allowed).
	ports map[HostPort]int
	// pods are the keys of the pods counted here.
	pods map[string]*PodInfo
}

// NewNodeInfo returns the NodeInfo of node (which may be nil, see Node)
// holding pods.
func NewNodeInfo(node *core.Node, pods ...*PodInfo) *NodeInfo {
	n := &NodeInfo{ports: map[HostPort]int{}, pods: map[string]*PodInfo{}}
	n.setNode(node)
	for _, p := range pods {
		n.addPod(p)
	}
	return n
}

// setNode records a new state of the node, keeping the pods.
func (n *NodeInfo) setNode(node *core.Node) {
	n.Node = node
	if node == nil {
		n.Ready, n.Allocatable = false, Resources{}
		return
	}
	n.Name = node.Name
	n.Ready = false
	for _, c := range node.Status.Conditions {
		if c.Type == core.NodeReady {
			n.Ready = c.Status == core.ConditionTrue
		}
	}
	n.Allocatable = NodeAllocatable(node)
}

// NumPods returns how many pods are counted on the node.
func (n *NodeInfo) NumPods() int { return len(n.pods) }

func (n *NodeInfo) addPod(p *PodInfo) {
	if _, ok := n.pods[p.Key]; ok {
		n.removePod(p.Key)
	}
	n.pods[p.Key] = p
	n.Requested = n.Requested.Add(p.Requests)
	n.NonZeroRequested = n.NonZeroRequested.Add(p.NonZero)
	for _, hp := range p.HostPorts {
		n.ports[hp]++
	}
}

// removePod subtracts exactly what addPod added for key, whatever the
// pod looks like now.
func (n *NodeInfo) removePod(key string) {
	p, ok := n.pods[key]
	if !ok {
		return
	}
	delete(n.pods, key)
	n.Requested = n.Requested.Sub(p.Requests)
	n.NonZeroRequested = n.NonZeroRequested.Sub(p.NonZero)
	for _, hp := range p.HostPorts {
		if n.ports[hp]--; n.ports[hp] <= 0 {
			delete(n.ports, hp)
		}
	}
}
