package daemonset

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"minik8s/pkg/apis/apierrors"
	"minik8s/pkg/apis/apps"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/intstr"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/apiserver/apiservertest"
	"minik8s/pkg/client"
	"minik8s/pkg/client/events"
	"minik8s/pkg/controllers/controllertest"
)

// These tests run the controller against a real API server on embedded
// etcd. No scheduler runs: startBinder plays it, binding each daemon pod
// to the node its matchFields affinity names (and only if that Node
// exists), which is all the real scheduler does for daemon pods. A
// controllertest agent then plays the node agents of the bound pods.

const ns = "default"

var spf = fmt.Sprintf

// startCluster starts an API server, the binder, a node agent for bound
// pods (ready at once, terminating pods removed after 100 ms) and the
// controller, all stopped when the test ends.
func startCluster(t *testing.T, readyAfter time.Duration) *client.Client {
	t.Helper()
	s := apiservertest.Start(t)
	c := s.Client
	startBinder(t, c)
	controllertest.RunAgent(t, c, ns, controllertest.Agent{
		ReadyAfter:     readyAfter,
		TerminateAfter: 100 * time.Millisecond,
		Serves:         func(p *core.Pod) bool { return p.Spec.NodeName != "" },
	})
	ctx, cancel := context.WithCancel(context.Background())
	f := client.NewFactory(c, 0)
	rec := events.New(c, "daemonset-controller", "test")
	ctrl := New(c, f, rec)
	f.Start(ctx)
	done := make(chan struct{})
	go rec.Run(ctx)
	go func() { ctrl.Run(ctx, 2); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
		f.Wait()
	})
	return c
}

// startBinder binds every unbound pod of ns whose required node affinity
// is exactly one matchFields metadata.name In [node] term, to that node,
// if the Node exists. It reads the affinity itself (not with the code
// under test) so that a wrong affinity shows as a pod never bound.
func startBinder(t *testing.T, c *client.Client) {
	ctx, cancel := context.WithCancel(context.Background())
	nodes := client.NewInformer(c.ListWatch(nodeKind, "", client.ListOptions{}), 0)
	pods := client.NewInformer(c.ListWatch(podKind, ns, client.ListOptions{}), 0)
	bindPod := func(obj meta.Object) {
		pod := obj.(*core.Pod)
		target := affinityTarget(pod)
		if pod.Spec.NodeName != "" || pod.DeletionTimestamp != nil || target == "" {
			return
		}
		if _, ok := nodes.Store().Get(target); !ok {
			return
		}
		b := core.Binding{TypeMeta: meta.TypeMeta{APIVersion: "v1", Kind: "Binding"},
			ObjectMeta: meta.ObjectMeta{Name: pod.Name, Namespace: pod.Namespace, UID: pod.UID},
			Target:     core.ObjectReference{Kind: "Node", Name: target}}
		body, _ := json.Marshal(&b)
		_ = c.Do(ctx, http.MethodPost, client.Path(podKind, pod.Namespace, pod.Name, "binding"), nil, "application/json", body, nil)
	}
	pods.AddEventHandler(client.Handler{OnAdd: bindPod, OnUpdate: func(_, o meta.Object) { bindPod(o) }})
	// A node that joins late gets the pods that were waiting for it.
	nodes.AddEventHandler(client.Handler{OnAdd: func(meta.Object) {
		for _, o := range pods.Store().List() {
			bindPod(o)
		}
	}})
	var wg sync.WaitGroup
	wg.Go(func() { nodes.Run(ctx) })
	wg.Go(func() { pods.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
}

func affinityTarget(pod *core.Pod) string {
	a := pod.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return ""
	}
	terms := a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
	if len(terms) != 1 || len(terms[0].MatchFields) != 1 {
		return ""
	}
	r := terms[0].MatchFields[0]
	if r.Key != "metadata.name" || r.Operator != core.NodeSelectorOpIn || len(r.Values) != 1 {
		return ""
	}
	return r.Values[0]
}

// waitFor polls cond until it reports true, failing the test with cond's
// last description after timeout.
func waitFor(t *testing.T, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, desc := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v: %s", timeout, desc)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// addNode creates a Ready node with labels and taints.
func addNode(t *testing.T, c *client.Client, name string, labels map[string]string, taints ...core.Taint) {
	t.Helper()
	ctx := context.Background()
	n := &core.Node{ObjectMeta: meta.ObjectMeta{Name: name, Labels: labels}, Spec: core.NodeSpec{Taints: taints}}
	if err := c.Create(ctx, n); err != nil {
		t.Fatal(err)
	}
	n.Status.Conditions = []core.NodeCondition{{Type: core.NodeReady, Status: core.ConditionTrue, LastHeartbeatTime: meta.Now()}}
	if err := c.UpdateStatus(ctx, n); err != nil {
		t.Fatal(err)
	}
}

// editNode applies edit to a fresh copy of the node and updates it.
func editNode(t *testing.T, c *client.Client, name string, edit func(*core.Node)) {
	t.Helper()
	var n core.Node
	if err := c.Get(context.Background(), "", name, &n); err != nil {
		t.Fatal(err)
	}
	edit(&n)
	if err := c.Update(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
}

func newDS(name string) *apps.DaemonSet {
	return &apps.DaemonSet{
		ObjectMeta: meta.ObjectMeta{Name: name, Namespace: ns},
		Spec: apps.DaemonSetSpec{
			Selector: &meta.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: core.PodTemplateSpec{
				ObjectMeta: meta.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec:       core.PodSpec{Containers: []core.Container{{Name: "c", Image: "img:1"}}},
			},
		},
	}
}

// editDS applies edit to a fresh copy of the DaemonSet and updates it,
// again on a conflict with the controller's status writes.
func editDS(t *testing.T, c *client.Client, name string, edit func(*apps.DaemonSet)) *apps.DaemonSet {
	t.Helper()
	for {
		ds := getDS(t, c, name)
		edit(ds)
		err := c.Update(context.Background(), ds)
		if err == nil {
			return ds
		}
		if !errors.Is(err, apierrors.ErrConflict) {
			t.Fatal(err)
		}
	}
}

func getDS(t *testing.T, c *client.Client, name string) *apps.DaemonSet {
	t.Helper()
	var ds apps.DaemonSet
	if err := c.Get(context.Background(), ns, name, &ds); err != nil {
		t.Fatal(err)
	}
	return &ds
}

func listPods(t *testing.T, c *client.Client, app string) []*core.Pod {
	t.Helper()
	objs, _, err := c.List(context.Background(), podKind, ns, client.ListOptions{LabelSelector: "app=" + app})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]*core.Pod, len(objs))
	for i, o := range objs {
		out[i] = o.(*core.Pod)
	}
	return out
}

// waitOnNodes waits until the DaemonSet has exactly one pod, bound and
// ready, on each of nodes, no other pod at all (terminating included),
// and a status that says so for its current generation.
func waitOnNodes(t *testing.T, c *client.Client, name string, nodes ...string) {
	t.Helper()
	sort.Strings(nodes)
	want := int32(len(nodes))
	waitFor(t, 20*time.Second, func() (bool, string) {
		var got []string
		allReady := true
		for _, p := range listPods(t, c, name) {
			got = append(got, p.Spec.NodeName)
			allReady = allReady && p.DeletionTimestamp == nil && controllertest.IsReady(p)
		}
		sort.Strings(got)
		ds := getDS(t, c, name)
		st := ds.Status
		ok := slices.Equal(got, nodes) && allReady && st.ObservedGeneration == ds.Generation &&
			st.DesiredNumberScheduled == want && st.CurrentNumberScheduled == want && st.NumberReady == want &&
			st.NumberAvailable == want && st.UpdatedNumberScheduled == want && st.NumberUnavailable == 0 && st.NumberMisscheduled == 0
		return ok, spf("pods on nodes %v (all ready: %v), status %+v; want one ready pod on each of %v and a status counting %d",
			got, allReady, st, nodes, want)
	})
}

func TestDaemonSetFollowsNodesJoiningAndLeaving(t *testing.T) {
	c := startCluster(t, 0)
	ctx := context.Background()
	addNode(t, c, "n1", nil)
	addNode(t, c, "n2", nil)
	if err := c.Create(ctx, newDS("agent")); err != nil {
		t.Fatal(err)
	}
	waitOnNodes(t, c, "agent", "n1", "n2")

	// Every daemon pod is pinned by affinity (the binder only binds those)
	// and tolerates what a daemon must.
	pod := listPods(t, c, "agent")[0]
	for _, want := range []core.Toleration{
		{Key: core.TaintNodeNotReady, Operator: core.TolerationOpExists, Effect: core.TaintEffectNoExecute},
		{Key: core.TaintNodeUnreachable, Operator: core.TolerationOpExists, Effect: core.TaintEffectNoExecute},
		{Key: taintDiskPressure, Operator: core.TolerationOpExists, Effect: core.TaintEffectNoSchedule},
		{Key: taintMemoryPressure, Operator: core.TolerationOpExists, Effect: core.TaintEffectNoSchedule},
		{Key: taintPIDPressure, Operator: core.TolerationOpExists, Effect: core.TaintEffectNoSchedule},
		{Key: core.TaintNodeUnschedulable, Operator: core.TolerationOpExists, Effect: core.TaintEffectNoSchedule},
	} {
		if !slices.Contains(pod.Spec.Tolerations, want) {
			t.Errorf("pod %s tolerations %+v; want them to include %+v", pod.Name, pod.Spec.Tolerations, want)
		}
	}
	if pod.Labels[RevisionHashLabel] == "" {
		t.Errorf("pod %s labels %v; want a %s label", pod.Name, pod.Labels, RevisionHashLabel)
	}

	addNode(t, c, "n3", nil)
	waitOnNodes(t, c, "agent", "n1", "n2", "n3")

	if err := c.Delete(ctx, nodeKind, "", "n2", nil); err != nil {
		t.Fatal(err)
	}
	waitOnNodes(t, c, "agent", "n1", "n3")
}

func TestDaemonSetRespectsNodeSelectorAndTaints(t *testing.T) {
	c := startCluster(t, 0)
	ctx := context.Background()
	ssd := map[string]string{"disk": "ssd"}
	addNode(t, c, "ssd-1", ssd)
	addNode(t, c, "ssd-2", ssd)
	addNode(t, c, "hdd", map[string]string{"disk": "hdd"})
	addNode(t, c, "ssd-dedicated", ssd, core.Taint{Key: "dedicated", Value: "db", Effect: core.TaintEffectNoSchedule})
	// Daemons tolerate an unreachable node (no tolerationSeconds).
	addNode(t, c, "ssd-unreachable", ssd, core.Taint{Key: core.TaintNodeUnreachable, Effect: core.TaintEffectNoExecute})

	ds := newDS("agent")
	ds.Spec.Template.Spec.NodeSelector = ssd
	if err := c.Create(ctx, ds); err != nil {
		t.Fatal(err)
	}
	waitOnNodes(t, c, "agent", "ssd-1", "ssd-2", "ssd-unreachable")

	// A node that stops matching loses its pod.
	editNode(t, c, "ssd-1", func(n *core.Node) { n.Labels["disk"] = "hdd" })
	waitOnNodes(t, c, "agent", "ssd-2", "ssd-unreachable")

	// An untolerated NoSchedule taint keeps new pods away but evicts no
	// running one; an untolerated NoExecute taint evicts it.
	editNode(t, c, "ssd-2", func(n *core.Node) {
		n.Spec.Taints = append(n.Spec.Taints, core.Taint{Key: "maintenance", Effect: core.TaintEffectNoSchedule})
	})
	waitFor(t, 20*time.Second, func() (bool, string) {
		st := getDS(t, c, "agent").Status
		return st.DesiredNumberScheduled == 1 && st.NumberMisscheduled == 1, spf("status %+v; want 1 desired, 1 misscheduled (the pod that may stay on ssd-2)", st)
	})
	if got := len(listPods(t, c, "agent")); got != 2 {
		t.Fatalf("%d pods after a NoSchedule taint; want 2 (the running pod stays)", got)
	}
	editNode(t, c, "ssd-2", func(n *core.Node) {
		n.Spec.Taints = append(n.Spec.Taints, core.Taint{Key: "maintenance", Effect: core.TaintEffectNoExecute})
	})
	waitOnNodes(t, c, "agent", "ssd-unreachable")

	// A DaemonSet whose template tolerates the dedicated taint runs there.
	db := newDS("db-agent")
	db.Spec.Template.Spec.NodeSelector = ssd
	db.Spec.Template.Spec.Tolerations = []core.Toleration{{Key: "dedicated", Operator: core.TolerationOpEqual, Value: "db", Effect: core.TaintEffectNoSchedule}}
	if err := c.Create(ctx, db); err != nil {
		t.Fatal(err)
	}
	waitOnNodes(t, c, "db-agent", "ssd-dedicated", "ssd-unreachable")
}

// TestDaemonSetRollingUpdateNeverExceedsMaxUnavailable watches the pods
// during a rolling update over five nodes with maxUnavailable 2 and
// counts, at every pod event, the nodes without an available pod (ready
// and not terminating). It must never exceed 2, and must reach 2: the
// update uses the room it has.
func TestDaemonSetRollingUpdateNeverExceedsMaxUnavailable(t *testing.T) {
	c := startCluster(t, 150*time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	nodes := []string{"n1", "n2", "n3", "n4", "n5"}
	for _, n := range nodes {
		addNode(t, c, n, nil)
	}
	two := intstr.FromInt(2)
	ds := newDS("agent")
	ds.Spec.UpdateStrategy = apps.DaemonSetUpdateStrategy{Type: apps.RollingUpdateStrategyType,
		RollingUpdate: &apps.RollingUpdateDaemonSet{MaxUnavailable: &two}}
	if err := c.Create(ctx, ds); err != nil {
		t.Fatal(err)
	}
	waitOnNodes(t, c, "agent", nodes...)

	objs, rv, err := c.List(ctx, podKind, ns, client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	live := map[string]*core.Pod{}
	for _, o := range objs {
		live[o.GetObjectMeta().Name] = o.(*core.Pod)
	}
	w, err := c.Watch(ctx, podKind, ns, client.ListOptions{ResourceVersion: rv})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	cur := editDS(t, c, "agent", func(ds *apps.DaemonSet) { ds.Spec.Template.Spec.Containers[0].Image = "img:2" })
	newHash := templateHash(cur)

	unavailable := func() int {
		n := 0
		for _, node := range nodes {
			if !slices.ContainsFunc(mapValues(live), func(p *core.Pod) bool {
				return p.Spec.NodeName == node && p.DeletionTimestamp == nil && controllertest.IsReady(p)
			}) {
				n++
			}
		}
		return n
	}
	done := func() bool {
		if len(live) != len(nodes) {
			return false
		}
		for _, p := range live {
			if p.Labels[RevisionHashLabel] != newHash || p.DeletionTimestamp != nil || !controllertest.IsReady(p) {
				return false
			}
		}
		return true
	}
	maxSeen := 0
	deadline := time.After(25 * time.Second)
	for !done() {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				t.Fatal("watch ended early")
			}
			if ev.Type == meta.Bookmark {
				continue
			}
			p := ev.Object.(*core.Pod)
			if ev.Type == meta.Deleted {
				delete(live, p.Name)
			} else {
				live[p.Name] = p
			}
			u := unavailable()
			maxSeen = max(maxSeen, u)
			if u > 2 {
				t.Fatalf("%d nodes without an available pod at a %s event of %s; want at most maxUnavailable = 2", u, ev.Type, p.Name)
			}
		case <-deadline:
			t.Fatalf("timed out: pods %s; want all 5 of template %s and ready", describe(live), newHash)
		}
	}
	if maxSeen != 2 {
		t.Errorf("at most %d nodes were unavailable at once; want the update to use maxUnavailable = 2", maxSeen)
	}
	waitOnNodes(t, c, "agent", nodes...)
}

func TestDaemonSetOnDeleteReplacesOnlyDeletedPods(t *testing.T) {
	c := startCluster(t, 0)
	ctx := context.Background()
	addNode(t, c, "n1", nil)
	addNode(t, c, "n2", nil)
	ds := newDS("agent")
	ds.Spec.UpdateStrategy = apps.DaemonSetUpdateStrategy{Type: apps.OnDeleteStrategyType}
	if err := c.Create(ctx, ds); err != nil {
		t.Fatal(err)
	}
	waitOnNodes(t, c, "agent", "n1", "n2")
	oldHash := listPods(t, c, "agent")[0].Labels[RevisionHashLabel]

	cur := editDS(t, c, "agent", func(ds *apps.DaemonSet) { ds.Spec.Template.Spec.Containers[0].Image = "img:2" })
	// Once the status shows the new generation, the sync that saw it has
	// acted (a sync writes the status after its creations and deletions):
	// no pod may have been deleted.
	waitFor(t, 20*time.Second, func() (bool, string) {
		ds := getDS(t, c, "agent")
		return ds.Status.ObservedGeneration == ds.Generation, spf("observedGeneration %d; want %d", ds.Status.ObservedGeneration, ds.Generation)
	})
	for _, p := range listPods(t, c, "agent") {
		if p.DeletionTimestamp != nil || p.Labels[RevisionHashLabel] != oldHash {
			t.Fatalf("pod %s (hash %s, terminating %v) after a template change with OnDelete; want the old pod untouched",
				p.Name, p.Labels[RevisionHashLabel], p.DeletionTimestamp != nil)
		}
	}
	var victim *core.Pod
	for _, p := range listPods(t, c, "agent") {
		if p.Spec.NodeName == "n1" {
			victim = p
		}
	}
	if err := c.Delete(ctx, podKind, ns, victim.Name, nil); err != nil {
		t.Fatal(err)
	}
	newHash := templateHash(cur)
	waitFor(t, 20*time.Second, func() (bool, string) {
		var got []string
		for _, p := range listPods(t, c, "agent") {
			got = append(got, p.Spec.NodeName+"="+p.Labels[RevisionHashLabel])
		}
		sort.Strings(got)
		want := []string{"n1=" + newHash, "n2=" + oldHash}
		return slices.Equal(got, want), spf("pods (node=hash) %v; want %v", got, want)
	})
}

func mapValues(m map[string]*core.Pod) []*core.Pod {
	out := make([]*core.Pod, 0, len(m))
	for _, p := range m {
		out = append(out, p)
	}
	return out
}

func describe(pods map[string]*core.Pod) string {
	var parts []string
	for _, p := range pods {
		parts = append(parts, spf("%s(node %s, hash %s, ready %v, terminating %v)", p.Name, p.Spec.NodeName,
			p.Labels[RevisionHashLabel], controllertest.IsReady(p), p.DeletionTimestamp != nil))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}
