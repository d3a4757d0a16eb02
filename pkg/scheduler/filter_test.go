package scheduler

import (
	"slices"
	"testing"

	"minik8s/pkg/apis/core"
)

type filterCase struct {
	name string
	pod  *core.Pod
	node *NodeInfo
	want []string // nil: fits
}

func runFilterCases(t *testing.T, f Filter, cases []filterCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := f(NewPodInfo(tc.pod), tc.node)
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %q; want %q", got, tc.want)
			}
		})
	}
}

func TestNodeReadyAndSchedulable(t *testing.T) {
	notReady := node("n", "1", "1Gi", 10)
	notReady.Status.Conditions[0].Status = core.ConditionFalse
	noCondition := node("n", "1", "1Gi", 10)
	noCondition.Status.Conditions = nil
	cordoned := node("n", "1", "1Gi", 10)
	cordoned.Spec.Unschedulable = true
	notReadyMsg := "node(s) had untolerated taint {node.kubernetes.io/not-ready: }"
	runFilterCases(t, NodeReadyAndSchedulable, []filterCase{
		{"ready node", pod("p"), info(node("n", "1", "1Gi", 10)), nil},
		{"not ready", pod("p"), info(notReady), []string{notReadyMsg}},
		{"no Ready condition yet", pod("p"), info(noCondition), []string{notReadyMsg}},
		// The default NoExecute toleration every pod gets does not
		// tolerate the NoSchedule taint of a not-ready node.
		{"not ready, default NoExecute toleration", withTolerations(pod("p"), core.Toleration{Key: core.TaintNodeNotReady,
			Operator: core.TolerationOpExists, Effect: core.TaintEffectNoExecute, TolerationSeconds: ptr(int64(300))}),
			info(notReady), []string{notReadyMsg}},
		{"not ready, tolerated like a DaemonSet pod", withTolerations(pod("p"), core.Toleration{Key: core.TaintNodeNotReady,
			Operator: core.TolerationOpExists, Effect: core.TaintEffectNoSchedule}), info(notReady), nil},
		{"cordoned", pod("p"), info(cordoned), []string{ReasonUnschedulable}},
		{"cordoned, tolerated", withTolerations(pod("p"), core.Toleration{Key: core.TaintNodeUnschedulable,
			Operator: core.TolerationOpExists}), info(cordoned), nil},
	})
}

func TestTaintsTolerated(t *testing.T) {
	taint := func(key, value, effect string) *NodeInfo {
		return info(withTaints(node("n", "1", "1Gi", 10), core.Taint{Key: key, Value: value, Effect: effect}))
	}
	runFilterCases(t, TaintsTolerated, []filterCase{
		{"no taints", pod("p"), info(node("n", "1", "1Gi", 10)), nil},
		{"NoSchedule untolerated", pod("p"), taint("dedicated", "db", core.TaintEffectNoSchedule),
			[]string{"node(s) had untolerated taint {dedicated: db}"}},
		{"NoExecute untolerated", pod("p"), taint("dedicated", "db", core.TaintEffectNoExecute),
			[]string{"node(s) had untolerated taint {dedicated: db}"}},
		{"PreferNoSchedule only scores", pod("p"), taint("dedicated", "db", core.TaintEffectPreferNoSchedule), nil},
		{"Equal with the same value", withTolerations(pod("p"), core.Toleration{Key: "dedicated", Operator: core.TolerationOpEqual,
			Value: "db", Effect: core.TaintEffectNoSchedule}), taint("dedicated", "db", core.TaintEffectNoSchedule), nil},
		{"default operator is Equal", withTolerations(pod("p"), core.Toleration{Key: "dedicated", Value: "db"}),
			taint("dedicated", "db", core.TaintEffectNoSchedule), nil},
		{"Equal with another value", withTolerations(pod("p"), core.Toleration{Key: "dedicated", Value: "web"}),
			taint("dedicated", "db", core.TaintEffectNoSchedule), []string{"node(s) had untolerated taint {dedicated: db}"}},
		{"Exists on the key", withTolerations(pod("p"), core.Toleration{Key: "dedicated", Operator: core.TolerationOpExists}),
			taint("dedicated", "db", core.TaintEffectNoExecute), nil},
		{"Exists without key tolerates everything", withTolerations(pod("p"), core.Toleration{Operator: core.TolerationOpExists}),
			taint("anything", "x", core.TaintEffectNoSchedule), nil},
		{"toleration for another effect", withTolerations(pod("p"), core.Toleration{Key: "dedicated", Operator: core.TolerationOpExists,
			Effect: core.TaintEffectNoExecute}), taint("dedicated", "db", core.TaintEffectNoSchedule),
			[]string{"node(s) had untolerated taint {dedicated: db}"}},
		{"toleration for another key", withTolerations(pod("p"), core.Toleration{Key: "gpu", Operator: core.TolerationOpExists}),
			taint("dedicated", "", core.TaintEffectNoSchedule), []string{"node(s) had untolerated taint {dedicated: }"}},
	})
}

func TestNodeAffinityMatches(t *testing.T) {
	n := info(withLabels(node("n1", "1", "1Gi", 10), "zone", "a", "disk", "ssd", "cores", "8"))
	withSelector := func(kv ...string) *core.Pod {
		p := pod("p")
		p.Spec.NodeSelector = map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			p.Spec.NodeSelector[kv[i]] = kv[i+1]
		}
		return p
	}
	no := []string{ReasonNodeAffinity}
	runFilterCases(t, NodeAffinityMatches, []filterCase{
		{"no selector", pod("p"), n, nil},
		{"nodeSelector matches", withSelector("zone", "a", "disk", "ssd"), n, nil},
		{"nodeSelector value differs", withSelector("zone", "b"), n, no},
		{"nodeSelector label missing", withSelector("gpu", "true"), n, no},
		{"In", withRequired(pod("p"), term(req("zone", "In", "a", "b"))), n, nil},
		{"In, no value matches", withRequired(pod("p"), term(req("zone", "In", "b", "c"))), n, no},
		{"In, label missing", withRequired(pod("p"), term(req("gpu", "In", "true"))), n, no},
		{"NotIn", withRequired(pod("p"), term(req("zone", "NotIn", "b"))), n, nil},
		{"NotIn, value listed", withRequired(pod("p"), term(req("zone", "NotIn", "a"))), n, no},
		{"NotIn, label missing matches", withRequired(pod("p"), term(req("gpu", "NotIn", "true"))), n, nil},
		{"Exists", withRequired(pod("p"), term(req("disk", "Exists"))), n, nil},
		{"Exists, missing", withRequired(pod("p"), term(req("gpu", "Exists"))), n, no},
		{"DoesNotExist", withRequired(pod("p"), term(req("gpu", "DoesNotExist"))), n, nil},
		{"DoesNotExist, present", withRequired(pod("p"), term(req("disk", "DoesNotExist"))), n, no},
		{"Gt", withRequired(pod("p"), term(req("cores", "Gt", "4"))), n, nil},
		{"Gt, equal is not greater", withRequired(pod("p"), term(req("cores", "Gt", "8"))), n, no},
		{"Lt", withRequired(pod("p"), term(req("cores", "Lt", "16"))), n, nil},
		{"Lt, not less", withRequired(pod("p"), term(req("cores", "Lt", "8"))), n, no},
		{"Gt on a non-integer label", withRequired(pod("p"), term(req("zone", "Gt", "1"))), n, no},
		{"requirements in a term are ANDed", withRequired(pod("p"), term(req("zone", "In", "a"), req("disk", "In", "hdd"))), n, no},
		{"terms are ORed", withRequired(pod("p"), term(req("zone", "In", "b")), term(req("disk", "In", "ssd"))), n, nil},
		{"an empty term matches nothing", withRequired(pod("p"), term()), n, no},
		{"no terms match nothing", withRequired(pod("p")), n, no},
		{"matchFields on metadata.name", withRequired(pod("p"), core.NodeSelectorTerm{MatchFields: []core.NodeSelectorRequirement{
			req("metadata.name", "In", "n1")}}), n, nil},
		{"matchFields on another name", withRequired(pod("p"), core.NodeSelectorTerm{MatchFields: []core.NodeSelectorRequirement{
			req("metadata.name", "In", "n2")}}), n, no},
		{"nodeSelector and affinity must both match", withRequired(withSelector("zone", "b"), term(req("disk", "Exists"))), n, no},
	})
}

func TestHostPortsFree(t *testing.T) {
	used := info(node("n", "1", "1Gi", 10), withHostPort(pod("web"), "", "", 8080), withHostPort(pod("dns"), "UDP", "10.0.0.1", 53))
	no := []string{ReasonHostPorts}
	runFilterCases(t, HostPortsFree, []filterCase{
		{"no host ports", pod("p"), used, nil},
		{"free port", withHostPort(pod("p"), "TCP", "", 8081), used, nil},
		{"taken port, default protocol and IP", withHostPort(pod("p"), "", "", 8080), used, no},
		{"taken port on every address conflicts with one address", withHostPort(pod("p"), "TCP", "10.0.0.2", 8080), used, no},
		{"same port, other protocol", withHostPort(pod("p"), "UDP", "", 8080), used, nil},
		{"same port and protocol, other address", withHostPort(pod("p"), "UDP", "10.0.0.2", 53), used, nil},
		{"same port, protocol and address", withHostPort(pod("p"), "UDP", "10.0.0.1", 53), used, no},
		{"every address conflicts with one address in use", withHostPort(pod("p"), "UDP", "", 53), used, no},
	})
}

func TestResourcesFit(t *testing.T) {
	n := func(pods ...*core.Pod) *NodeInfo { return info(node("n", "2", "4Gi", 3), pods...) }
	runFilterCases(t, ResourcesFit, []filterCase{
		{"empty node", pod("p", "1", "1Gi"), n(), nil},
		{"exactly full", pod("p", "1", "3Gi"), n(pod("a", "1", "1Gi")), nil},
		{"cpu short", pod("p", "1500m", "1Gi"), n(pod("a", "1", "1Gi")), []string{ReasonInsufficientCPU}},
		{"memory short", pod("p", "500m", "3500Mi"), n(pod("a", "1", "1Gi")), []string{ReasonInsufficientMem}},
		{"both short", pod("p", "2", "4Gi"), n(pod("a", "1", "1Gi")), []string{ReasonInsufficientCPU, ReasonInsufficientMem}},
		{"pod count full", pod("p", "10m", "1Mi"), n(pod("a", "", ""), pod("b", "", ""), pod("c", "", "")), []string{ReasonTooManyPods}},
		{"no requests fit a full node", pod("p"), n(pod("a", "2", "4Gi")), nil},
		{"larger than the node", pod("p", "3", "1Gi"), n(), []string{ReasonInsufficientCPU}},
	})
}

func TestResourcesFitCountsInitContainers(t *testing.T) {
	// 1.5 CPU free: app containers need 1, the init container 2, so the
	// pod needs 2 and does not fit.
	p := pod("p", "500m", "", "500m", "")
	p.Spec.InitContainers = []core.Container{container("2", "")}
	got := ResourcesFit(NewPodInfo(p), info(node("n", "2", "4Gi", 10), pod("a", "500m", "")))
	if want := []string{ReasonInsufficientCPU}; !slices.Equal(got, want) {
		t.Errorf("got %q; want %q", got, want)
	}
}
