package nodelifecycle

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"minik8s/pkg/apis"
	"minik8s/pkg/apis/apierrors"
	"minik8s/pkg/apis/coordination"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/apiserver/apiservertest"
	"minik8s/pkg/client"
	"minik8s/pkg/client/events"
)

// The integration tests drive the controller's clock by hand: a node goes
// silent when the test moves the clock past the grace period without
// renewing its lease, and a toleration runs out when the clock passes it.
// The test itself plays the node agent (lease renewals, Ready condition).

const grace = 10 * time.Second

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Step(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	ctx   context.Context
	c     *client.Client
	clock *fakeClock
}

func start(t *testing.T) *env {
	t.Helper()
	s := apiservertest.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	clock := &fakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	f := client.NewFactory(s.Client, 0)
	rec := events.New(s.Client, "node-controller", "test")
	nc := New(s.Client, f, rec, Config{NodeMonitorGracePeriod: grace, MonitorPeriod: 50 * time.Millisecond, Now: clock.Now})
	f.Start(ctx)
	done := make(chan struct{})
	go rec.Run(ctx)
	go func() { nc.Run(ctx, 2); close(done) }()
	t.Cleanup(func() { cancel(); <-done; f.Wait() })
	return &env{ctx: ctx, c: s.Client, clock: clock}
}

func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok, got := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still not true after 20s; got %s", what, got)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// registerNode plays a node agent starting up: the Node (with the given
// taints), its Ready condition, and its Lease.
func (e *env) registerNode(t *testing.T, name string, taints ...core.Taint) {
	t.Helper()
	n := &core.Node{ObjectMeta: meta.ObjectMeta{Name: name}, Spec: core.NodeSpec{Taints: taints}}
	if err := e.c.Create(e.ctx, n); err != nil {
		t.Fatal(err)
	}
	e.postReady(t, name, core.ConditionTrue)
	hb := meta.NowMicro()
	holder := name
	if err := e.c.Create(e.ctx, &coordination.Lease{
		ObjectMeta: meta.ObjectMeta{Name: name, Namespace: leaseNamespace},
		Spec:       coordination.LeaseSpec{HolderIdentity: &holder, RenewTime: &hb},
	}); err != nil {
		t.Fatal(err)
	}
}

// postReady plays the node agent posting its Ready condition with a new
// heartbeat.
func (e *env) postReady(t *testing.T, name, status string) {
	t.Helper()
	for {
		var n core.Node
		if err := e.c.Get(e.ctx, "", name, &n); err != nil {
			t.Fatal(err)
		}
		now := meta.Now()
		n.Status.Conditions = []core.NodeCondition{{Type: core.NodeReady, Status: status, Reason: "KubeletReady",
			LastHeartbeatTime: now, LastTransitionTime: now}}
		err := e.c.UpdateStatus(e.ctx, &n)
		if errors.Is(err, apierrors.ErrConflict) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		return
	}
}

// renewLease plays the node agent's heartbeat.
func (e *env) renewLease(t *testing.T, name string) {
	t.Helper()
	var l coordination.Lease
	if err := e.c.Get(e.ctx, leaseNamespace, name, &l); err != nil {
		t.Fatal(err)
	}
	now := meta.NowMicro()
	l.Spec.RenewTime = &now
	if err := e.c.Update(e.ctx, &l); err != nil {
		t.Fatal(err)
	}
}

func (e *env) node(t *testing.T, name string) *core.Node {
	t.Helper()
	var n core.Node
	if err := e.c.Get(e.ctx, "", name, &n); err != nil {
		t.Fatal(err)
	}
	return &n
}

func (e *env) createPod(t *testing.T, name, node string, tolerations ...core.Toleration) {
	t.Helper()
	p := &core.Pod{
		ObjectMeta: meta.ObjectMeta{Name: name, Namespace: "default"},
		Spec:       core.PodSpec{NodeName: node, Tolerations: tolerations, Containers: []core.Container{{Name: "c", Image: "busybox"}}},
	}
	if err := e.c.Create(e.ctx, p); err != nil {
		t.Fatal(err)
	}
}

// pod returns the pod, or nil if it does not exist.
func (e *env) pod(t *testing.T, name string) *core.Pod {
	t.Helper()
	var p core.Pod
	err := e.c.Get(e.ctx, "default", name, &p)
	if errors.Is(err, apierrors.ErrNotFound) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return &p
}

func unreachableFor(secs *int64) core.Toleration {
	return core.Toleration{Key: core.TaintNodeUnreachable, Operator: core.TolerationOpExists, Effect: core.TaintEffectNoExecute, TolerationSeconds: secs}
}

func taintsOf(n *core.Node) []string {
	var out []string
	for _, t := range n.Spec.Taints {
		out = append(out, t.Key+":"+t.Effect)
	}
	slices.Sort(out)
	return out
}

var unreachable = []string{core.TaintNodeUnreachable + ":NoExecute", core.TaintNodeUnreachable + ":NoSchedule"}

// TestSilentNodeIsTaintedItsPodsEvictedAndUntaintedWhenItReturns walks a
// node through failure and recovery.
func TestSilentNodeIsTaintedItsPodsEvictedAndUntaintedWhenItReturns(t *testing.T) {
	e := start(t)
	// A leftover unreachable taint on a Ready node: the controller
	// removing it shows it has seen the node (at the clock's start).
	e.registerNode(t, "n1", core.Taint{Key: core.TaintNodeUnreachable, Effect: core.TaintEffectNoSchedule})
	two := int64(2)
	e.createPod(t, "short", "n1", unreachableFor(&two))
	e.createPod(t, "forever", "n1", unreachableFor(nil))
	e.createPod(t, "default", "n1") // the API server gives it 300 s
	eventually(t, "stale taint removed from a Ready node", func() (bool, string) {
		got := taintsOf(e.node(t, "n1"))
		return len(got) == 0, fmt.Sprintf("taints %v", got)
	})

	// The agent goes silent: no lease renewal, no status, for longer than
	// the grace period.
	e.clock.Step(grace + time.Second)
	eventually(t, "silent node Unknown and tainted unreachable", func() (bool, string) {
		n := e.node(t, "n1")
		c := condition(n.Status.Conditions, core.NodeReady)
		got := taintsOf(n)
		return c != nil && c.Status == core.ConditionUnknown && c.Reason == reasonUnknown && c.Message == messageUnknown &&
				slices.Equal(got, unreachable),
			fmt.Sprintf("Ready %+v, taints %v", c, got)
	})
	for _, tn := range e.node(t, "n1").Spec.Taints {
		if tn.Effect == core.TaintEffectNoExecute && (tn.TimeAdded == nil || !tn.TimeAdded.Equal(e.clock.Now())) {
			t.Errorf("NoExecute taint timeAdded %v; want the controller's clock, %v", tn.TimeAdded, e.clock.Now())
		}
	}
	if p := e.pod(t, "short"); p == nil || p.DeletionTimestamp != nil {
		t.Fatalf("pod tolerating unreachable for 2s, 0s after the taint: %+v; want it still running", p)
	}

	// Its 2 s toleration runs out: it is marked for deletion, not removed.
	e.clock.Step(3 * time.Second)
	eventually(t, "pod with short toleration marked for deletion", func() (bool, string) {
		p := e.pod(t, "short")
		return p != nil && p.DeletionTimestamp != nil, fmt.Sprintf("pod %v", p != nil)
	})
	for _, name := range []string{"forever", "default"} {
		if p := e.pod(t, name); p == nil || p.DeletionTimestamp != nil {
			t.Errorf("pod %s tolerating longer: exists %v; want it untouched", name, p != nil)
		}
	}
	eventually(t, "TaintManagerEviction event", func() (bool, string) {
		evs, _, err := e.c.List(e.ctx, mustKind("", "events"), "default", client.ListOptions{})
		var reasons []string
		for _, obj := range evs {
			ev := obj.(*core.Event)
			if ev.Reason == "TaintManagerEviction" && ev.InvolvedObject.Name == "short" && ev.Message == "Marking for deletion Pod default/short" {
				return true, ""
			}
			reasons = append(reasons, ev.Reason+": "+ev.Message)
		}
		return false, fmt.Sprintf("events %v (err %v)", reasons, err)
	})

	// The agent comes back: it renews its lease and posts Ready=True.
	e.renewLease(t, "n1")
	e.postReady(t, "n1", core.ConditionTrue)
	eventually(t, "returning node untainted", func() (bool, string) {
		got := taintsOf(e.node(t, "n1"))
		return len(got) == 0, fmt.Sprintf("taints %v", got)
	})
	if p := e.pod(t, "default"); p == nil || p.DeletionTimestamp != nil {
		t.Errorf("pod default after the node returned: exists %v; want it untouched", p != nil)
	}
}

func TestNodeReportingNotReadyGetsNotReadyTaints(t *testing.T) {
	e := start(t)
	e.registerNode(t, "n1")
	e.postReady(t, "n1", core.ConditionFalse)
	want := []string{core.TaintNodeNotReady + ":NoExecute", core.TaintNodeNotReady + ":NoSchedule"}
	eventually(t, "not-ready taints", func() (bool, string) {
		got := taintsOf(e.node(t, "n1"))
		return slices.Equal(got, want), fmt.Sprintf("taints %v", got)
	})
	if c := condition(e.node(t, "n1").Status.Conditions, core.NodeReady); c.Status != core.ConditionFalse {
		t.Errorf("Ready %s; want False as the agent posted it (the node is not silent)", c.Status)
	}
}

func TestPodsOfDeletedNodeAreForceDeleted(t *testing.T) {
	e := start(t)
	e.registerNode(t, "gone")
	e.registerNode(t, "kept")
	e.createPod(t, "orphan-1", "gone")
	e.createPod(t, "orphan-2", "gone")
	e.createPod(t, "safe", "kept", unreachableFor(nil))
	if err := e.c.Delete(e.ctx, mustKind("", "nodes"), "", "gone", nil); err != nil {
		t.Fatal(err)
	}
	// Move the clock on while waiting: the pods may only go once the node
	// has been missing for the grace period.
	eventually(t, "orphaned pods deleted", func() (bool, string) {
		e.clock.Step(time.Second)
		var left []string
		for _, name := range []string{"orphan-1", "orphan-2"} {
			if p := e.pod(t, name); p != nil {
				left = append(left, fmt.Sprintf("%s(deletionTimestamp %v)", name, p.DeletionTimestamp))
			}
		}
		return len(left) == 0, strings.Join(left, ", ")
	})
	if p := e.pod(t, "safe"); p == nil || p.DeletionTimestamp != nil {
		t.Errorf("pod on an existing node: exists %v; want it untouched", p != nil)
	}
}

func mustKind(group, resource string) *apis.Kind {
	k, ok := apis.ByResource(group, resource)
	if !ok {
		panic(resource)
	}
	return k
}
