package scheduler

import (
	"slices"
	"testing"

	"minik8s/pkg/apis/core"
)

func TestResourceScores(t *testing.T) {
	// A 4 CPU / 8 GiB node; scores average CPU and memory.
	n := func(pods ...*core.Pod) *NodeInfo { return info(node("n", "4", "8Gi", 100), pods...) }
	cases := []struct {
		name                  string
		pod                   *core.Pod
		node                  *NodeInfo
		most, least, balanced int64
	}{
		{"empty node, small pod", pod("p", "1", "2Gi"), n(), 25, 75, 100},
		{"half full after the pod", pod("p", "1", "2Gi"), n(pod("a", "1", "2Gi")), 50, 50, 100},
		{"full after the pod", pod("p", "2", "4Gi"), n(pod("a", "2", "4Gi")), 100, 0, 100},
		// CPU 3/4 used, memory 1/8: unbalanced by 5/8, so 1 - 5/16.
		{"cpu-heavy", pod("p", "2", "512Mi"), n(pod("a", "1", "512Mi")), (75 + 12) / 2, (25 + 87) / 2, 68},
		// A pod with no requests counts as 100m and 200Mi.
		{"no requests use the defaults", pod("p"), n(), (2 + 2) / 2, (97 + 97) / 2, 99},
		{"overcommitted by defaults is capped", pod("p"), n(pod("a", "4", "8Gi")), 100, 0, 100},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := NewPodInfo(tc.pod)
			if got := MostAllocatedScore(p, tc.node); got != tc.most {
				t.Errorf("most-allocated: got %d; want %d", got, tc.most)
			}
			if got := LeastAllocatedScore(p, tc.node); got != tc.least {
				t.Errorf("least-allocated: got %d; want %d", got, tc.least)
			}
			if got := BalancedAllocationScore(p, tc.node); got != tc.balanced {
				t.Errorf("balanced: got %d; want %d", got, tc.balanced)
			}
		})
	}
}

func TestResourceScoresStayInRange(t *testing.T) {
	empty := info(node("n", "0", "0", 0))
	for _, sc := range []func(*PodInfo, *NodeInfo) int64{MostAllocatedScore, LeastAllocatedScore, BalancedAllocationScore} {
		for _, p := range []*core.Pod{pod("p"), pod("p", "100", "100Gi")} {
			for _, n := range []*NodeInfo{empty, info(node("n", "1", "1Gi", 1))} {
				if s := sc(NewPodInfo(p), n); s < 0 || s > MaxScore {
					t.Errorf("score %d outside [0, %d] for %s on %+v", s, MaxScore, p.Name, n.Allocatable)
				}
			}
		}
	}
}

func TestPreferredAffinityScore(t *testing.T) {
	p := pod("p")
	p.Spec.Affinity = &core.Affinity{NodeAffinity: &core.NodeAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []core.PreferredSchedulingTerm{
		{Weight: 10, Preference: term(req("zone", "In", "a"))},
		{Weight: 5, Preference: term(req("disk", "Exists"))},
	}}}
	cases := []struct {
		labels []string
		want   int64
	}{
		{nil, 0},
		{[]string{"zone", "a"}, 10},
		{[]string{"disk", "hdd"}, 5},
		{[]string{"zone", "a", "disk", "ssd"}, 15},
		{[]string{"zone", "b", "disk", "ssd"}, 5},
	}
	for _, tc := range cases {
		if got := PreferredAffinityScore(NewPodInfo(p), info(withLabels(node("n", "1", "1Gi", 1), tc.labels...))); got != tc.want {
			t.Errorf("labels %v: got %d; want %d", tc.labels, got, tc.want)
		}
	}
	if got := PreferredAffinityScore(NewPodInfo(pod("q")), info(node("n", "1", "1Gi", 1))); got != 0 {
		t.Errorf("pod without affinity: got %d; want 0", got)
	}
}

func TestIntolerableTaintsScore(t *testing.T) {
	soft := func(key string) core.Taint {
		return core.Taint{Key: key, Effect: core.TaintEffectPreferNoSchedule}
	}
	n := info(withTaints(node("n", "1", "1Gi", 1), soft("a"), soft("b"), core.Taint{Key: "c", Effect: core.TaintEffectNoSchedule}))
	cases := []struct {
		name string
		pod  *core.Pod
		want int64
	}{
		{"two soft taints untolerated; hard ones are the filter's", pod("p"), 2},
		{"one tolerated", withTolerations(pod("p"), core.Toleration{Key: "a", Operator: core.TolerationOpExists}), 1},
		{"all tolerated", withTolerations(pod("p"), core.Toleration{Operator: core.TolerationOpExists}), 0},
	}
	for _, tc := range cases {
		if got := IntolerableTaintsScore(NewPodInfo(tc.pod), n); got != tc.want {
			t.Errorf("%s: got %d; want %d", tc.name, got, tc.want)
		}
	}
}

func TestNormalize(t *testing.T) {
	cases := []struct {
		name string
		fn   func([]int64)
		in   []int64
		want []int64
	}{
		{"to max", normalizeToMax, []int64{0, 5, 10}, []int64{0, 50, 100}},
		{"to max, all zero stay zero", normalizeToMax, []int64{0, 0}, []int64{0, 0}},
		{"reverse", normalizeReverse, []int64{0, 1, 2}, []int64{100, 50, 0}},
		{"reverse, all zero are best", normalizeReverse, []int64{0, 0}, []int64{100, 100}},
	}
	for _, tc := range cases {
		got := slices.Clone(tc.in)
		tc.fn(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s %v: got %v; want %v", tc.name, tc.in, got, tc.want)
		}
	}
}

func TestScorersRejectsUnknownStrategy(t *testing.T) {
	if _, err := Scorers("most-alocated"); err == nil {
		t.Error("got no error for an unknown strategy; want one")
	}
	for _, s := range []string{MostAllocated, LeastAllocated, Balanced, ""} {
		if _, err := Scorers(s); err != nil {
			t.Errorf("Scorers(%q): %v", s, err)
		}
	}
}
