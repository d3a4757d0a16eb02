package replicaset

import (
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"minik8s/pkg/apis/apps"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/labels"
	"minik8s/pkg/apis/meta"
)

var t0 = time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)

// pod builds a test pod; opts adjust it.
func pod(name string, opts ...func(*core.Pod)) *core.Pod {
	p := &core.Pod{ObjectMeta: meta.ObjectMeta{Name: name, Namespace: "ns", UID: "uid-" + name,
		Labels: map[string]string{"app": "web"}, CreationTimestamp: meta.NewTime(t0)}}
	p.Status.Phase = core.PodPending
	for _, o := range opts {
		o(p)
	}
	return p
}

func ownedBy(uid string) func(*core.Pod) {
	return func(p *core.Pod) {
		yes := true
		p.OwnerReferences = []meta.OwnerReference{{Kind: "ReplicaSet", Name: "x", UID: uid, Controller: &yes}}
	}
}

func withLabels(l map[string]string) func(*core.Pod) { return func(p *core.Pod) { p.Labels = l } }
func scheduled(p *core.Pod)                          { p.Spec.NodeName = "n1" }
func running(p *core.Pod)                            { p.Status.Phase = core.PodRunning }
func createdAt(d time.Duration) func(*core.Pod) {
	return func(p *core.Pod) { p.CreationTimestamp = meta.NewTime(t0.Add(d)) }
}
func readySince(d time.Duration) func(*core.Pod) {
	return func(p *core.Pod) {
		p.Status.Phase = core.PodRunning
		p.Status.Conditions = []core.PodCondition{{Type: core.PodReady, Status: core.ConditionTrue,
			LastTransitionTime: meta.NewTime(t0.Add(d))}}
	}
}

func testRS() *apps.ReplicaSet {
	n := int32(3)
	return &apps.ReplicaSet{
		ObjectMeta: meta.ObjectMeta{Name: "web", Namespace: "ns", UID: "rs-uid", Generation: 4},
		Spec: apps.ReplicaSetSpec{Replicas: &n, Selector: &meta.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: core.PodTemplateSpec{ObjectMeta: meta.ObjectMeta{Labels: map[string]string{"app": "web", "tier": "fe"}}}},
	}
}

func names(pods []*core.Pod) []string {
	var out []string
	for _, p := range pods {
		out = append(out, p.Name)
	}
	return out
}

func TestClaimAdoptsOrphansReleasesMismatchesAndLeavesOthersAlone(t *testing.T) {
	rs := testRS()
	sel, _ := labels.SelectorFromLabelSelector(rs.Spec.Selector)
	pods := []*core.Pod{
		pod("mine", ownedBy("rs-uid")),
		pod("orphan"),
		pod("someone-elses", ownedBy("other")),
		pod("relabelled", ownedBy("rs-uid"), withLabels(map[string]string{"app": "db"})),
		pod("unrelated-orphan", withLabels(map[string]string{"app": "db"})),
	}
	c := claim(rs, sel, pods)
	for _, tc := range []struct {
		what      string
		got, want []string
	}{
		{"owned", names(c.owned), []string{"mine"}},
		{"adopt", names(c.adopt), []string{"orphan"}},
		{"release", names(c.release), []string{"relabelled"}},
	} {
		if !slices.Equal(tc.got, tc.want) {
			t.Errorf("%s: got %v; want %v", tc.what, tc.got, tc.want)
		}
	}

	// A ReplicaSet being deleted adopts and releases nothing.
	now := meta.NewTime(t0)
	rs.DeletionTimestamp = &now
	c = claim(rs, sel, pods)
	if len(c.adopt) != 0 || len(c.release) != 0 {
		t.Errorf("deleting ReplicaSet: adopt %v, release %v; want none", names(c.adopt), names(c.release))
	}
}

func TestDeletionOrderPrefersUnscheduledPendingNotReadyNewest(t *testing.T) {
	pods := []*core.Pod{
		pod("ready-long", scheduled, readySince(0)),
		pod("ready-recently", scheduled, readySince(time.Minute)),
		pod("running-not-ready", scheduled, running),
		pod("pending-old", scheduled),
		pod("pending-new", scheduled, createdAt(time.Second)),
		pod("unscheduled", readySince(0)),
	}
	deletionOrder(pods)
	want := []string{"unscheduled", "pending-new", "pending-old", "running-not-ready", "ready-recently", "ready-long"}
	if got := names(pods); !slices.Equal(got, want) {
		t.Errorf("deletion order: got %v; want %v", got, want)
	}
}

func TestStatusCountsAvailableOnlyAfterMinReadySeconds(t *testing.T) {
	rs := testRS()
	rs.Spec.MinReadySeconds = 10
	owned := []*core.Pod{
		pod("a", readySince(0), withLabels(map[string]string{"app": "web", "tier": "fe"})),
		pod("b", readySince(6*time.Second)),
		pod("c"),
	}
	st, next := calculateStatus(rs, owned, nil, t0.Add(12*time.Second))
	want := apps.ReplicaSetStatus{Replicas: 3, FullyLabeledReplicas: 1, ReadyReplicas: 2, AvailableReplicas: 1, ObservedGeneration: 4}
	if !equalStatus(st, want) {
		t.Errorf("status: got %+v; want %+v", st, want)
	}
	if next != 4*time.Second {
		t.Errorf("next check: got %v; want 4s (b is ready since 6s, available at 16s)", next)
	}
}

func TestStatusReportsAndClearsReplicaFailure(t *testing.T) {
	rs := testRS()
	st, _ := calculateStatus(rs, nil, &manageError{reason: reasonFailedCreate, err: errors.New("quota exceeded")}, t0)
	if len(st.Conditions) != 1 || st.Conditions[0].Type != replicaFailure || st.Conditions[0].Reason != reasonFailedCreate {
		t.Fatalf("conditions after a failed create: got %+v; want one ReplicaFailure/FailedCreate", st.Conditions)
	}
	rs.Status = st
	st, _ = calculateStatus(rs, nil, nil, t0)
	if len(st.Conditions) != 0 {
		t.Errorf("conditions after success: got %+v; want none", st.Conditions)
	}
}

func equalStatus(a, b apps.ReplicaSetStatus) bool {
	return a.Replicas == b.Replicas && a.FullyLabeledReplicas == b.FullyLabeledReplicas && a.ReadyReplicas == b.ReadyReplicas &&
		a.AvailableReplicas == b.AvailableReplicas && a.ObservedGeneration == b.ObservedGeneration
}

func TestSlowStartDoublesBatchesAndStopsAtFirstFailure(t *testing.T) {
	var calls atomic.Int32
	ok, err := slowStart(10, func(int) error { calls.Add(1); return nil })
	if ok != 10 || err != nil || calls.Load() != 10 {
		t.Errorf("all succeed: got %d ok, err %v, %d calls; want 10, nil, 10", ok, err, calls.Load())
	}

	// Every call fails: batches 1 then stop.
	calls.Store(0)
	ok, err = slowStart(10, func(int) error { calls.Add(1); return errors.New("refused") })
	if ok != 0 || err == nil || calls.Load() != 1 {
		t.Errorf("all fail: got %d ok, err %v, %d calls; want 0, an error, 1 call", ok, err, calls.Load())
	}

	// Call 5 fails: batches 1, 2, 4 (calls 0..6) run, then stop.
	calls.Store(0)
	ok, err = slowStart(100, func(i int) error {
		calls.Add(1)
		if i == 5 {
			return errors.New("refused")
		}
		return nil
	})
	if ok != 6 || err == nil || calls.Load() != 7 {
		t.Errorf("one fails: got %d ok, err %v, %d calls; want 6, an error, 7 calls", ok, err, calls.Load())
	}
}
