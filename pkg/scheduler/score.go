package scheduler

import (
	"fmt"

	"minik8s/pkg/apis/core"
)

// MaxScore is the best score a Scorer gives a node (kube-scheduler's
// MaxNodeScore); 0 is the worst.
const MaxScore = 100

// A Scorer ranks the nodes that passed the filters. Score is a pure
// function giving a raw score; Normalize, if set, then maps the raw
// scores of all candidates (in place) into [0, MaxScore], for scores that
// only mean something relative to the other nodes. Without Normalize,
// Score must already be in [0, MaxScore]. A node's total is the sum of
// Weight x score over the Scorers.
type Scorer struct {
	Name      string
	Weight    int64
	Score     func(p *PodInfo, n *NodeInfo) int64
	Normalize func(scores []int64)
}

// Resource scoring strategies (the --score flag).
const (
	MostAllocated  = "most-allocated"
	LeastAllocated = "least-allocated"
	Balanced       = "balanced"
)

// Scorers returns the score stage for a resource strategy: the resource
// score (weight 1), preferred node affinity (weight 2) and
// PreferNoSchedule taints (weight 3), kube-scheduler's default weights, so
// that a pod's own preferences outweigh the packing policy.
func Scorers(strategy string) ([]Scorer, error) {
	var res Scorer
	switch strategy {
	case MostAllocated, "":
		res = Scorer{Name: MostAllocated, Weight: 1, Score: MostAllocatedScore}
	case LeastAllocated:
		res = Scorer{Name: LeastAllocated, Weight: 1, Score: LeastAllocatedScore}
	case Balanced:
		res = Scorer{Name: Balanced, Weight: 1, Score: BalancedAllocationScore}
	default:
		return nil, fmt.Errorf("unknown score strategy %q: use %s, %s or %s", strategy, MostAllocated, LeastAllocated, Balanced)
	}
	return []Scorer{
		res,
		{Name: "node-affinity", Weight: 2, Score: PreferredAffinityScore, Normalize: normalizeToMax},
		{Name: "taint-toleration", Weight: 3, Score: IntolerableTaintsScore, Normalize: normalizeReverse},
	}, nil
}

// The resource scores look at CPU and memory with equal weights, as
// kube-scheduler's NodeResourcesFit does by default, and count pods by
// their NonZero requests so that pods asking for nothing still weigh.

// MostAllocated scores a node by how full it would be with the pod:
// bin-packing. Filling busy nodes first keeps whole nodes free for big
// pods and lets idle nodes be removed.
func MostAllocatedScore(p *PodInfo, n *NodeInfo) int64 {
	req := n.NonZeroRequested.Add(p.NonZero)
	return (mostRequested(req.MilliCPU, n.Allocatable.MilliCPU) + mostRequested(req.Memory, n.Allocatable.Memory)) / 2
}

func mostRequested(requested, capacity int64) int64 {
	if capacity <= 0 {
		return 0
	}
	// The NonZero defaults may push requested past capacity.
	return min(requested, capacity) * MaxScore / capacity
}

// LeastAllocatedScore scores a node by how free it would stay with the
// pod: spreading, for headroom against load spikes.
func LeastAllocatedScore(p *PodInfo, n *NodeInfo) int64 {
	req := n.NonZeroRequested.Add(p.NonZero)
	return (leastRequested(req.MilliCPU, n.Allocatable.MilliCPU) + leastRequested(req.Memory, n.Allocatable.Memory)) / 2
}

func leastRequested(requested, capacity int64) int64 {
	if capacity <= 0 || requested > capacity {
		return 0
	}
	return (capacity - requested) * MaxScore / capacity
}

// BalancedAllocationScore prefers the node whose CPU and memory would be
// used in the most equal proportions with the pod, so that neither runs
// out while the other idles (kube-scheduler: 1 minus the standard
// deviation of the fractions, which for two is half their difference).
func BalancedAllocationScore(p *PodInfo, n *NodeInfo) int64 {
	req := n.NonZeroRequested.Add(p.NonZero)
	cpu := fraction(req.MilliCPU, n.Allocatable.MilliCPU)
	mem := fraction(req.Memory, n.Allocatable.Memory)
	diff := cpu - mem
	if diff < 0 {
		diff = -diff
	}
	return int64((1 - diff/2) * MaxScore)
}

func fraction(requested, capacity int64) float64 {
	if capacity <= 0 {
		return 1
	}
	return min(float64(requested)/float64(capacity), 1)
}

// PreferredAffinityScore sums the weights of the pod's preferred node
// affinity terms the node matches (normalized to the best node).
func PreferredAffinityScore(p *PodInfo, n *NodeInfo) int64 {
	a := p.Pod.Spec.Affinity
	if a == nil || a.NodeAffinity == nil {
		return 0
	}
	var sum int64
	for i := range a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution {
		t := &a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution[i]
		if t.Weight != 0 && termMatches(&t.Preference, n.Node) {
			sum += int64(t.Weight)
		}
	}
	return sum
}

// IntolerableTaintsScore counts the node's PreferNoSchedule taints the
// pod does not tolerate (normalized in reverse: fewer is better).
func IntolerableTaintsScore(p *PodInfo, n *NodeInfo) int64 {
	var count int64
	for _, t := range n.Node.Spec.Taints {
		if t.Effect == core.TaintEffectPreferNoSchedule && !tolerated(p.Pod.Spec.Tolerations, t) {
			count++
		}
	}
	return count
}

// normalizeToMax scales scores so the highest becomes MaxScore (all stay 0
// if none is positive).
func normalizeToMax(scores []int64) {
	var top int64
	for _, s := range scores {
		top = max(top, s)
	}
	if top == 0 {
		return
	}
	for i := range scores {
		scores[i] = scores[i] * MaxScore / top
	}
}

// normalizeReverse scales scores so the highest becomes 0 and 0 becomes
// MaxScore.
func normalizeReverse(scores []int64) {
	var top int64
	for _, s := range scores {
		top = max(top, s)
	}
	for i := range scores {
		if top == 0 {
			scores[i] = MaxScore
		} else {
			scores[i] = MaxScore - scores[i]*MaxScore/top
		}
	}
}
