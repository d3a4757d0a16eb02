package scheduler

import (
	"fmt"
	"strconv"

	"minik8s/pkg/apis/core"
)

// A Filter says whether the pod can run on the node: nil if it can,
// otherwise the reasons it cannot, in kube-scheduler's words, which end up
// counted in the FailedScheduling message. A Filter is a pure function of
// its arguments and must not modify them or the returned slices.
type Filter func(p *PodInfo, n *NodeInfo) []string

// Filters is the filter stage of the pipeline, in the order they run: a
// node is rejected by the first filter that fails, so each node is
// reported under one filter's reasons, as kube-scheduler does. The order
// is kube-scheduler's (NodeUnschedulable, TaintToleration, NodeAffinity,
// NodePorts, NodeResourcesFit), which is also cheapest and most often
// decisive first: a state bit, then short lists of taints and labels,
// then the host-port set, and last the resource arithmetic, the only
// check that depends on everything else placed on the node.
var Filters = []Filter{
	NodeReadyAndSchedulable,
	TaintsTolerated,
	NodeAffinityMatches,
	HostPortsFree,
	ResourcesFit,
}

// The reasons, in kube-scheduler's wording.
const (
	ReasonUnschedulable   = "node(s) were unschedulable"
	ReasonNodeAffinity    = "node(s) didn't match Pod's node affinity/selector"
	ReasonHostPorts       = "node(s) didn't have free ports for the requested pod ports"
	ReasonInsufficientCPU = "Insufficient cpu"
	ReasonInsufficientMem = "Insufficient memory"
	ReasonTooManyPods     = "Too many pods"
	reasonTaintFormat     = "node(s) had untolerated taint {%s: %s}"
)

// Single-reason answers are shared slices, so that rejecting a node
// allocates nothing.
var (
	rejectedUnschedulable = []string{ReasonUnschedulable}
	rejectedAffinity      = []string{ReasonNodeAffinity}
	rejectedPorts         = []string{ReasonHostPorts}
	rejectedNotReady      = []string{fmt.Sprintf(reasonTaintFormat, core.TaintNodeNotReady, "")}
)

// The taints Kubernetes' node lifecycle controller puts on a node that is
// not Ready or is cordoned. A node in that state is treated as carrying
// them even before (or without) the controller, so that a pod tolerating
// them (a DaemonSet's) still goes there, as in Kubernetes.
var (
	notReadyTaint      = core.Taint{Key: core.TaintNodeNotReady, Effect: core.TaintEffectNoSchedule}
	unschedulableTaint = core.Taint{Key: core.TaintNodeUnschedulable, Effect: core.TaintEffectNoSchedule}
)

// NodeReadyAndSchedulable rejects a node that is not Ready or is cordoned
// (spec.unschedulable), unless the pod tolerates the taint that state
// implies.
func NodeReadyAndSchedulable(p *PodInfo, n *NodeInfo) []string {
	if !n.Ready && !tolerated(p.Pod.Spec.Tolerations, notReadyTaint) {
		return rejectedNotReady
	}
	if n.Node.Spec.Unschedulable && !tolerated(p.Pod.Spec.Tolerations, unschedulableTaint) {
		return rejectedUnschedulable
	}
	return nil
}

// TaintsTolerated rejects a node with a NoSchedule or NoExecute taint the
// pod does not tolerate. PreferNoSchedule only lowers the score.
func TaintsTolerated(p *PodInfo, n *NodeInfo) []string {
	for _, t := range n.Node.Spec.Taints {
		if t.Effect != core.TaintEffectNoSchedule && t.Effect != core.TaintEffectNoExecute {
			continue
		}
		if !tolerated(p.Pod.Spec.Tolerations, t) {
			return []string{fmt.Sprintf(reasonTaintFormat, t.Key, t.Value)}
		}
	}
	return nil
}

// tolerated says whether any of tols tolerates t (Kubernetes'
// Toleration.ToleratesTaint): the effect matches or the toleration names
// none; the key matches or the toleration is an Exists with no key; and
// with Equal (the default operator) the values are equal.
func tolerated(tols []core.Toleration, t core.Taint) bool {
	for _, tol := range tols {
		if tol.Effect != "" && tol.Effect != t.Effect {
			continue
		}
		if tol.Key != "" && tol.Key != t.Key {
			continue
		}
		switch tol.Operator {
		case core.TolerationOpExists:
			return true
		case "", core.TolerationOpEqual:
			if tol.Key != "" && tol.Value == t.Value {
				return true
			}
		}
	}
	return false
}

// NodeAffinityMatches rejects a node whose labels do not match the pod's
// nodeSelector or its required node affinity (both must match).
func NodeAffinityMatches(p *PodInfo, n *NodeInfo) []string {
	labels := n.Node.Labels
	for k, v := range p.Pod.Spec.NodeSelector {
		if got, ok := labels[k]; !ok || got != v {
			return rejectedAffinity
		}
	}
	if a := p.Pod.Spec.Affinity; a != nil && a.NodeAffinity != nil {
		if req := a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution; req != nil {
			if !anyTermMatches(req.NodeSelectorTerms, n.Node) {
				return rejectedAffinity
			}
		}
	}
	return nil
}

// anyTermMatches: node selector terms are ORed. A required affinity with
// no terms matches no node, as in Kubernetes.
func anyTermMatches(terms []core.NodeSelectorTerm, node *core.Node) bool {
	for i := range terms {
		if termMatches(&terms[i], node) {
			return true
		}
	}
	return false
}

// termMatches: the requirements of a term are ANDed; an empty term
// matches nothing (Kubernetes: "a null or empty node selector term
// matches no objects").
func termMatches(t *core.NodeSelectorTerm, node *core.Node) bool {
	if len(t.MatchExpressions) == 0 && len(t.MatchFields) == 0 {
		return false
	}
	for _, r := range t.MatchExpressions {
		v, ok := node.Labels[r.Key]
		if !requirementMatches(r, v, ok) {
			return false
		}
	}
	for _, r := range t.MatchFields {
		// metadata.name is the only node field Kubernetes selects on.
		if r.Key != "metadata.name" || !requirementMatches(r, node.Name, true) {
			return false
		}
	}
	return true
}

// requirementMatches applies one node selector operator to a label's
// value (ok: the label exists).
func requirementMatches(r core.NodeSelectorRequirement, v string, ok bool) bool {
	switch r.Operator {
	case core.NodeSelectorOpIn:
		return ok && contains(r.Values, v)
	case core.NodeSelectorOpNotIn:
		return !ok || !contains(r.Values, v)
	case core.NodeSelectorOpExists:
		return ok
	case core.NodeSelectorOpDoesNotExist:
		return !ok
	case core.NodeSelectorOpGt, core.NodeSelectorOpLt:
		// Both sides must be integers and there must be exactly one
		// value; anything else does not match (validation rejects it).
		if !ok || len(r.Values) != 1 {
			return false
		}
		have, err1 := strconv.ParseInt(v, 10, 64)
		want, err2 := strconv.ParseInt(r.Values[0], 10, 64)
		if err1 != nil || err2 != nil {
			return false
		}
		if r.Operator == core.NodeSelectorOpGt {
			return have > want
		}
		return have < want
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// HostPortsFree rejects a node where a host port the pod wants is taken.
func HostPortsFree(p *PodInfo, n *NodeInfo) []string {
	for _, want := range p.HostPorts {
		for used := range n.ports {
			if want.conflicts(used) {
				return rejectedPorts
			}
		}
	}
	return nil
}

// ResourcesFit rejects a node without room for the pod's requests next to
// those of the pods already there (bound or assumed), naming each
// resource that is short, as kube-scheduler's NodeResourcesFit does.
// Requests of zero always fit, even on an overcommitted node.
func ResourcesFit(p *PodInfo, n *NodeInfo) []string {
	var reasons []string
	free := n.Allocatable.Sub(n.Requested)
	if free.Pods < 1 {
		reasons = append(reasons, ReasonTooManyPods)
	}
	if r := p.Requests.MilliCPU; r > 0 && r > free.MilliCPU {
		reasons = append(reasons, ReasonInsufficientCPU)
	}
	if r := p.Requests.Memory; r > 0 && r > free.Memory {
		reasons = append(reasons, ReasonInsufficientMem)
	}
	return reasons
}
