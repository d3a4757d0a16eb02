package scheduler

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
)

// Profile is one configuration of the pipeline: the filters, in order,
// then the weighted scorers.
type Profile struct {
	Filters []Filter
	Scorers []Scorer
}

// NewProfile returns the default pipeline with the given resource score
// strategy (MostAllocated when empty).
func NewProfile(strategy string) (*Profile, error) {
	sc, err := Scorers(strategy)
	if err != nil {
		return nil, err
	}
	return &Profile{Filters: Filters, Scorers: sc}, nil
}

// FitError says why a pod fits on no node: how many nodes were
// considered, and for each reason how many nodes it rejected.
type FitError struct {
	NumNodes int
	Reasons  map[string]int
}

// Error is kube-scheduler's message, e.g. "0/3 nodes are available:
// 1 node(s) had untolerated taint {dedicated: db}, 2 Insufficient cpu.":
// each reason with its count, sorted as strings, as kube-scheduler does,
// so the same situation always reads the same.
func (e *FitError) Error() string {
	parts := make([]string, 0, len(e.Reasons))
	for r, n := range e.Reasons {
		parts = append(parts, fmt.Sprintf("%d %s", n, r))
	}
	sort.Strings(parts)
	msg := fmt.Sprintf("0/%d nodes are available", e.NumNodes)
	if len(parts) > 0 {
		msg += ": " + strings.Join(parts, ", ")
	}
	return msg + "."
}

// Schedule picks the node for p among nodes: the filters keep the nodes
// that can run it, the scorers rank those, and the best wins, a tie
// broken at random by rnd (so that equal nodes share the load rather than
// the first in some order getting everything). It returns a *FitError if
// no node passes the filters. Schedule reads p and nodes and changes
// neither; nodes whose Node is nil are not candidates.
func (prof *Profile) Schedule(p *PodInfo, nodes []*NodeInfo, rnd *rand.Rand) (string, error) {
	feasible, fitErr := prof.filter(p, nodes)
	if len(feasible) == 0 {
		return "", fitErr
	}
	if len(feasible) == 1 {
		return feasible[0].Name, nil // nothing to rank
	}
	totals := prof.score(p, feasible)
	return feasible[pickBest(totals, rnd)].Name, nil
}

// filter runs the filters on every node. Every node is checked (there is
// no kube-scheduler percentageOfNodesToScore cut-off): at a thousand
// nodes the filters cost microseconds, and bin-packing is only as good as
// the set of nodes it may choose from.
func (prof *Profile) filter(p *PodInfo, nodes []*NodeInfo) ([]*NodeInfo, *FitError) {
	feasible := make([]*NodeInfo, 0, len(nodes))
	var fitErr *FitError
	candidates := 0
	for _, n := range nodes {
		if n.Node == nil {
			continue
		}
		candidates++
		reasons := prof.rejects(p, n)
		if reasons == nil {
			feasible = append(feasible, n)
			continue
		}
		if fitErr == nil {
			fitErr = &FitError{Reasons: map[string]int{}}
		}
		for _, r := range reasons {
			fitErr.Reasons[r]++
		}
	}
	if fitErr == nil {
		fitErr = &FitError{Reasons: map[string]int{}}
	}
	fitErr.NumNodes = candidates
	return feasible, fitErr
}

// rejects returns the reasons of the first filter that fails, or nil.
func (prof *Profile) rejects(p *PodInfo, n *NodeInfo) []string {
	for _, f := range prof.Filters {
		if r := f(p, n); len(r) > 0 {
			return r
		}
	}
	return nil
}

// score returns each feasible node's weighted total.
func (prof *Profile) score(p *PodInfo, feasible []*NodeInfo) []int64 {
	totals := make([]int64, len(feasible))
	raw := make([]int64, len(feasible))
	for _, sc := range prof.Scorers {
		for i, n := range feasible {
			raw[i] = sc.Score(p, n)
		}
		if sc.Normalize != nil {
			sc.Normalize(raw)
		}
		for i := range raw {
			totals[i] += sc.Weight * raw[i]
		}
	}
	return totals
}

// pickBest returns the index of the highest total, choosing uniformly
// among ties by reservoir sampling (kube-scheduler's selectHost).
func pickBest(totals []int64, rnd *rand.Rand) int {
	best, ties := 0, 1
	for i := 1; i < len(totals); i++ {
		switch {
		case totals[i] > totals[best]:
			best, ties = i, 1
		case totals[i] == totals[best]:
			ties++
			if rnd.IntN(ties) == 0 {
				best = i
			}
		}
	}
	return best
}
