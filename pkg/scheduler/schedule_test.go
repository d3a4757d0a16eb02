package scheduler

import (
	"errors"
	"math/rand/v2"
	"testing"

	"minik8s/pkg/apis/core"
)

func mustProfile(t *testing.T, strategy string) *Profile {
	t.Helper()
	prof, err := NewProfile(strategy)
	if err != nil {
		t.Fatal(err)
	}
	return prof
}

func TestFitErrorMessage(t *testing.T) {
	cases := []struct {
		err  FitError
		want string
	}{
		{FitError{NumNodes: 0, Reasons: map[string]int{}}, "0/0 nodes are available."},
		{FitError{NumNodes: 3, Reasons: map[string]int{ReasonInsufficientCPU: 2, "node(s) had untolerated taint {dedicated: db}": 1}},
			// kube-scheduler sorts the "count reason" strings.
			"0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: db}, 2 Insufficient cpu."},
		{FitError{NumNodes: 2, Reasons: map[string]int{ReasonInsufficientCPU: 2, ReasonInsufficientMem: 1}},
			"0/2 nodes are available: 1 Insufficient memory, 2 Insufficient cpu."},
	}
	for _, tc := range cases {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("got %q; want %q", got, tc.want)
		}
	}
}

func TestScheduleExplainsEveryRejectedNode(t *testing.T) {
	nodes := []*NodeInfo{
		info(node("small1", "500m", "4Gi", 10)),
		info(node("small2", "500m", "4Gi", 10)),
		// Tainted and small: only the first failing filter is reported.
		info(withTaints(node("tainted", "500m", "4Gi", 10), core.Taint{Key: "dedicated", Value: "db", Effect: core.TaintEffectNoSchedule})),
		NewNodeInfo(nil), // pods bound to a node not known yet: no candidate
	}
	_, err := mustProfile(t, MostAllocated).Schedule(NewPodInfo(pod("p", "1", "1Gi")), nodes, rand.New(rand.NewPCG(1, 2)))
	var fe *FitError
	if !errors.As(err, &fe) {
		t.Fatalf("got %v; want a *FitError", err)
	}
	if want := "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: db}, 2 Insufficient cpu."; err.Error() != want {
		t.Errorf("got %q; want %q", err.Error(), want)
	}
}

func TestScheduleByStrategy(t *testing.T) {
	busy := info(node("busy", "4", "8Gi", 100), pod("a", "2", "4Gi"))
	idle := info(node("idle", "4", "8Gi", 100))
	// cpuHeavy is used unevenly: packing a memory-heavy pod there
	// balances it.
	cpuHeavy := info(node("cpu-heavy", "4", "8Gi", 100), pod("b", "3", "1Gi"))
	cases := []struct {
		strategy string
		pod      *core.Pod
		nodes    []*NodeInfo
		want     string
	}{
		{MostAllocated, pod("p", "1", "1Gi"), []*NodeInfo{idle, busy}, "busy"},
		{LeastAllocated, pod("p", "1", "1Gi"), []*NodeInfo{idle, busy}, "idle"},
		{MostAllocated, pod("p", "3", "1Gi"), []*NodeInfo{idle, busy}, "idle"}, // busy cannot fit it
		{Balanced, pod("p", "500m", "5Gi"), []*NodeInfo{idle, cpuHeavy}, "cpu-heavy"},
	}
	for _, tc := range cases {
		for seed := uint64(0); seed < 20; seed++ {
			got, err := mustProfile(t, tc.strategy).Schedule(NewPodInfo(tc.pod), tc.nodes, rand.New(rand.NewPCG(seed, 0)))
			if err != nil || got != tc.want {
				t.Fatalf("%s, %s: got %q, %v; want %q", tc.strategy, tc.pod.Name, got, err, tc.want)
			}
		}
	}
}

func TestPreferredAffinityOutweighsPacking(t *testing.T) {
	busy := info(withLabels(node("busy", "4", "8Gi", 100), "zone", "a"), pod("a", "3", "6Gi"))
	idle := info(withLabels(node("idle", "4", "8Gi", 100), "zone", "b"))
	p := pod("p", "500m", "1Gi")
	p.Spec.Affinity = &core.Affinity{NodeAffinity: &core.NodeAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []core.PreferredSchedulingTerm{
		{Weight: 1, Preference: term(req("zone", "In", "b"))}}}}
	got, err := mustProfile(t, MostAllocated).Schedule(NewPodInfo(p), []*NodeInfo{busy, idle}, rand.New(rand.NewPCG(1, 1)))
	if err != nil || got != "idle" {
		t.Errorf("got %q, %v; want idle (preferred zone b)", got, err)
	}
}

func TestTiesAreBrokenAtRandom(t *testing.T) {
	var nodes []*NodeInfo
	for _, name := range []string{"a", "b", "c", "d"} {
		nodes = append(nodes, info(node(name, "4", "8Gi", 100)))
	}
	prof := mustProfile(t, MostAllocated)
	rnd := rand.New(rand.NewPCG(7, 7))
	counts := map[string]int{}
	for range 400 {
		got, err := prof.Schedule(NewPodInfo(pod("p", "1", "1Gi")), nodes, rnd)
		if err != nil {
			t.Fatal(err)
		}
		counts[got]++
	}
	for _, n := range nodes {
		// Uniform would be 100 each; 50 is far outside chance.
		if counts[n.Name] < 50 {
			t.Errorf("node %s chosen %d times out of 400 equal ties; want about 100 (%v)", n.Name, counts[n.Name], counts)
		}
	}
}

func TestPickBest(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 1))
	cases := []struct {
		totals []int64
		want   int
	}{
		{[]int64{5}, 0},
		{[]int64{1, 9, 3}, 1},
		{[]int64{0, 0, 7}, 2},
	}
	for _, tc := range cases {
		if got := pickBest(tc.totals, rnd); got != tc.want {
			t.Errorf("pickBest(%v): got %d; want %d", tc.totals, got, tc.want)
		}
	}
}
