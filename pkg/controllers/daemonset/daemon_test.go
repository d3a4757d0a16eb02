package daemonset

import (
	"slices"
	"testing"
	"time"

	"minik8s/pkg/apis/apps"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/intstr"
	"minik8s/pkg/apis/meta"
)

func TestEligibilityFollowsSelectorAffinityAndTaints(t *testing.T) {
	ds := newDS("agent")
	ds.Spec.Template.Spec.NodeSelector = map[string]string{"disk": "ssd"}
	ds.Spec.Template.Spec.Affinity = &core.Affinity{NodeAffinity: &core.NodeAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: &core.NodeSelector{NodeSelectorTerms: []core.NodeSelectorTerm{{
			MatchExpressions: []core.NodeSelectorRequirement{{Key: "zone", Operator: core.NodeSelectorOpIn, Values: []string{"a"}}}}}}}}
	ok := map[string]string{"disk": "ssd", "zone": "a"}
	node := func(labels map[string]string, taints ...core.Taint) *core.Node {
		return &core.Node{ObjectMeta: meta.ObjectMeta{Name: "n", Labels: labels}, Spec: core.NodeSpec{Taints: taints}}
	}
	for _, tc := range []struct {
		name            string
		node            *core.Node
		shouldRun, stay bool
	}{
		{"matching node", node(ok), true, true},
		{"nodeSelector does not match", node(map[string]string{"disk": "hdd", "zone": "a"}), false, false},
		{"affinity expression does not match", node(map[string]string{"disk": "ssd", "zone": "b"}), false, false},
		{"untolerated NoSchedule: no new pod, the old stays", node(ok, core.Taint{Key: "x", Effect: core.TaintEffectNoSchedule}), false, true},
		{"untolerated NoExecute: neither", node(ok, core.Taint{Key: "x", Effect: core.TaintEffectNoExecute}), false, false},
		{"PreferNoSchedule is no obstacle", node(ok, core.Taint{Key: "x", Effect: core.TaintEffectPreferNoSchedule}), true, true},
		{"daemons tolerate unreachable", node(ok, core.Taint{Key: core.TaintNodeUnreachable, Effect: core.TaintEffectNoExecute}), true, true},
		{"daemons tolerate cordoned", node(ok, core.Taint{Key: core.TaintNodeUnschedulable, Effect: core.TaintEffectNoSchedule}), true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			probe, err := newPod(ds, "n", "h")
			if err != nil {
				t.Fatal(err)
			}
			run, stay := eligibility(probe, tc.node)
			if run != tc.shouldRun || stay != tc.stay {
				t.Errorf("got shouldRun %v, shouldStay %v; want %v, %v", run, stay, tc.shouldRun, tc.stay)
			}
		})
	}
}

func TestPinnedAffinityKeepsExpressionsAndPinsTheNode(t *testing.T) {
	expr := []core.NodeSelectorRequirement{{Key: "zone", Operator: core.NodeSelectorOpIn, Values: []string{"a"}}}
	a := &core.Affinity{NodeAffinity: &core.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &core.NodeSelector{
		NodeSelectorTerms: []core.NodeSelectorTerm{{MatchExpressions: expr, MatchFields: []core.NodeSelectorRequirement{{Key: "metadata.name", Operator: core.NodeSelectorOpIn, Values: []string{"old"}}}}}}}}
	got := pinnedAffinity(a, "n1").NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
	if len(got) != 1 || !slices.EqualFunc(got[0].MatchExpressions, expr, reqEqual) || len(got[0].MatchFields) != 1 || got[0].MatchFields[0].Values[0] != "n1" {
		t.Errorf("got terms %+v; want the zone expression and metadata.name In [n1]", got)
	}
	if a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchFields[0].Values[0] != "old" {
		t.Error("pinnedAffinity changed its argument; want a copy")
	}
	if n := pinnedNode(&core.Pod{Spec: core.PodSpec{Affinity: pinnedAffinity(nil, "n2")}}); n != "n2" {
		t.Errorf("pinnedNode of a pod pinned to n2 = %q; want n2", n)
	}
}

func reqEqual(a, b core.NodeSelectorRequirement) bool {
	return a.Key == b.Key && a.Operator == b.Operator && slices.Equal(a.Values, b.Values)
}

// daemonPod returns a pod of hash on node: r ready, p pending, t terminating, f failed.
func daemonPod(name, node, hash string, state byte) *core.Pod {
	p := &core.Pod{ObjectMeta: meta.ObjectMeta{Name: name, Labels: map[string]string{RevisionHashLabel: hash}},
		Spec: core.PodSpec{NodeName: node}}
	switch state {
	case 'r', 't':
		p.Status = core.PodStatus{Phase: core.PodRunning, Conditions: []core.PodCondition{{Type: core.PodReady, Status: core.ConditionTrue}}}
		if state == 't' {
			now := meta.Now()
			p.DeletionTimestamp = &now
		}
	case 'p':
		p.Status.Phase = core.PodPending
	case 'f':
		p.Status.Phase = core.PodFailed
	}
	return p
}

func names(pods []*core.Pod) []string {
	var out []string
	for _, p := range pods {
		out = append(out, p.Name)
	}
	slices.Sort(out)
	return out
}

func TestManageKeepsOnePodPerEligibleNode(t *testing.T) {
	nodes := []*core.Node{{ObjectMeta: meta.ObjectMeta{Name: "a"}}, {ObjectMeta: meta.ObjectMeta{Name: "b"}},
		{ObjectMeta: meta.ObjectMeta{Name: "c"}}, {ObjectMeta: meta.ObjectMeta{Name: "d"}}}
	pods := []*core.Pod{
		daemonPod("b1", "b", "h", 'r'), daemonPod("b2", "b", "h", 'r'), // b: one too many
		daemonPod("c1", "c", "h", 't'),       // c: replacement waits
		daemonPod("d1", "d", "h", 'f'),       // d: failed, deleted first
		daemonPod("gone1", "gone", "h", 'r'), // node deleted
	}
	pods[1].CreationTimestamp = meta.NewTime(time.Now()) // b2 is newer
	views := view(nodes, pods, func(string) *core.Pod { return &core.Pod{} })
	p := manage(views)
	if !slices.Equal(p.create, []string{"a"}) {
		t.Errorf("create on %v; want [a]", p.create)
	}
	if got, want := names(p.del), []string{"b2", "d1", "gone1"}; !slices.Equal(got, want) {
		t.Errorf("delete %v; want %v", got, want)
	}
}

func TestRollingUpdateStaysWithinMaxUnavailable(t *testing.T) {
	ds := newDS("agent")
	two := intstr.FromInt(2)
	ds.Spec.UpdateStrategy = apps.DaemonSetUpdateStrategy{Type: apps.RollingUpdateStrategyType,
		RollingUpdate: &apps.RollingUpdateDaemonSet{MaxUnavailable: &two}}
	var nodes []*core.Node
	for _, n := range []string{"a", "b", "c", "d", "e"} {
		nodes = append(nodes, &core.Node{ObjectMeta: meta.ObjectMeta{Name: n}})
	}
	for _, tc := range []struct {
		name string
		pods []*core.Pod
		want []string
	}{
		{"all old and available: two at a time", []*core.Pod{daemonPod("a", "a", "old", 'r'), daemonPod("b", "b", "old", 'r'),
			daemonPod("c", "c", "old", 'r'), daemonPod("d", "d", "old", 'r'), daemonPod("e", "e", "old", 'r')}, []string{"a", "b"}},
		{"one terminating, one new not ready: no room", []*core.Pod{daemonPod("a", "a", "old", 't'), daemonPod("b", "b", "new", 'p'),
			daemonPod("c", "c", "old", 'r'), daemonPod("d", "d", "old", 'r'), daemonPod("e", "e", "old", 'r')}, nil},
		{"one new not ready: one more", []*core.Pod{daemonPod("a", "a", "new", 'r'), daemonPod("b", "b", "new", 'p'),
			daemonPod("c", "c", "old", 'r'), daemonPod("d", "d", "old", 'r'), daemonPod("e", "e", "old", 'r')}, []string{"c"}},
		{"an unavailable old pod is always replaced", []*core.Pod{daemonPod("a", "a", "old", 't'), daemonPod("b", "b", "new", 'p'),
			daemonPod("c", "c", "old", 'p'), daemonPod("d", "d", "old", 'r'), daemonPod("e", "e", "old", 'r')}, []string{"c"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			views := view(nodes, tc.pods, func(string) *core.Pod { return &core.Pod{} })
			if got := names(rollingUpdate(ds, views, "new", time.Now())); !slices.Equal(got, tc.want) {
				t.Errorf("got %v; want %v", got, tc.want)
			}
		})
	}
}
