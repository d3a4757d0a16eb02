package scheduler

// Integration tests: a real API server on embedded etcd, Node objects
// only (no node agents), and the scheduler as it runs in production. They
// check the resulting state of pods, events and leases, never which calls
// were made, and wait for conditions with deadlines instead of sleeping.

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"minik8s/pkg/apis"
	"minik8s/pkg/apis/coordination"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/apiserver/apiservertest"
	"minik8s/pkg/client"
)

const waitTimeout = 15 * time.Second

// cluster is a test API server and helpers to fill it.
type cluster struct {
	t   *testing.T
	srv *apiservertest.Server
	c   *client.Client
}

func newCluster(t *testing.T) *cluster {
	srv := apiservertest.Start(t)
	return &cluster{t: t, srv: srv, c: srv.Client}
}

func (cl *cluster) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	cl.t.Cleanup(cancel)
	return ctx
}

// addNode creates a node and then writes its status (capacity, Ready),
// as a node agent would.
func (cl *cluster) addNode(n *core.Node) {
	cl.t.Helper()
	status := n.Status
	if err := cl.c.Create(cl.ctx(), n); err != nil {
		cl.t.Fatalf("creating node %s: %v", n.Name, err)
	}
	n.Status = status
	if err := cl.c.UpdateStatus(cl.ctx(), n); err != nil {
		cl.t.Fatalf("writing the status of node %s: %v", n.Name, err)
	}
}

func (cl *cluster) addPod(p *core.Pod) {
	cl.t.Helper()
	p.UID = ""
	if err := cl.c.Create(cl.ctx(), p); err != nil {
		cl.t.Fatalf("creating pod %s: %v", p.Name, err)
	}
}

func (cl *cluster) pods() []*core.Pod {
	cl.t.Helper()
	objs, _, err := cl.c.List(cl.ctx(), podKind, "default", client.ListOptions{})
	if err != nil {
		cl.t.Fatal(err)
	}
	out := make([]*core.Pod, len(objs))
	for i, o := range objs {
		out[i] = o.(*core.Pod)
	}
	return out
}

func (cl *cluster) pod(name string) *core.Pod {
	cl.t.Helper()
	p := &core.Pod{}
	if err := cl.c.Get(cl.ctx(), "default", name, p); err != nil {
		cl.t.Fatal(err)
	}
	return p
}

// events returns the messages of the events with reason about the pod.
func (cl *cluster) events(podName, reason string) []string {
	cl.t.Helper()
	k, _ := apis.ByResource("", "events")
	objs, _, err := cl.c.List(cl.ctx(), k, "default", client.ListOptions{FieldSelector: "involvedObject.name=" + podName + ",reason=" + reason})
	if err != nil {
		cl.t.Fatal(err)
	}
	var out []string
	for _, o := range objs {
		out = append(out, o.(*core.Event).Message)
	}
	return out
}

// waitFor polls cond until it reports true or the deadline passes, and
// then fails with cond's last description of what it saw.
func waitFor(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		ok, saw := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v still waiting for %s; saw %s", waitTimeout, what, saw)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitBound waits until every named pod is bound, and returns pod -> node.
func (cl *cluster) waitBound(names ...string) map[string]string {
	cl.t.Helper()
	var where map[string]string
	waitFor(cl.t, fmt.Sprintf("pods %v to be bound", names), func() (bool, string) {
		where = map[string]string{}
		for _, p := range cl.pods() {
			where[p.Name] = p.Spec.NodeName
		}
		for _, n := range names {
			if where[n] == "" {
				return false, fmt.Sprint(where)
			}
		}
		return true, ""
	})
	return where
}

// startScheduler runs a scheduler until the test ends; stop ends it early
// and waits for it to return.
func startScheduler(t *testing.T, cfg Config) (s *Scheduler, stop func()) {
	t.Helper()
	if cfg.Seed == 0 {
		cfg.Seed = 42
	}
	if cfg.InitialBackoff == 0 {
		cfg.InitialBackoff, cfg.MaxBackoff = 100*time.Millisecond, time.Second
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := s.Run(ctx); err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(waitTimeout):
				t.Errorf("scheduler still running %v after cancel", waitTimeout)
			}
		})
	}
	t.Cleanup(stop)
	return s, stop
}

func TestPodsLandWhereTheRulesSay(t *testing.T) {
	cl := newCluster(t)
	cl.addNode(withLabels(node("small", "1", "2Gi", 10), "disk", "ssd"))
	cl.addNode(node("big", "8", "16Gi", 10))
	cl.addNode(withLabels(node("zone-b", "1", "2Gi", 10), "zone", "b"))
	cl.addNode(withTaints(withLabels(node("gpu", "1", "2Gi", 10), "gpu", "true"),
		core.Taint{Key: "dedicated", Value: "gpu", Effect: core.TaintEffectNoSchedule}))
	cordoned := node("cordoned", "64", "64Gi", 10)
	cordoned.Spec.Unschedulable = true
	cl.addNode(cordoned)
	notReady := node("not-ready", "64", "64Gi", 10)
	notReady.Status.Conditions[0].Status = core.ConditionFalse
	cl.addNode(notReady)
	startScheduler(t, Config{Server: cl.srv.URL})

	selector := pod("selector", "100m", "100Mi")
	selector.Spec.NodeSelector = map[string]string{"zone": "b"}
	toleration := withTolerations(pod("toleration", "100m", "100Mi"),
		core.Toleration{Key: "dedicated", Operator: core.TolerationOpEqual, Value: "gpu", Effect: core.TaintEffectNoSchedule})
	toleration.Spec.NodeSelector = map[string]string{"gpu": "true"}
	want := map[string]string{
		// Only big has 4 CPUs among the nodes that are Ready and schedulable.
		"big-request": "big",
		"selector":    "zone-b",
		"affinity":    "small",
		"notin":       "big",
		"toleration":  "gpu",
	}
	cl.addPod(pod("big-request", "4", "1Gi"))
	cl.addPod(selector)
	cl.addPod(withRequired(pod("affinity", "100m", "100Mi"), term(req("disk", "Exists"))))
	cl.addPod(withRequired(pod("notin", "100m", "100Mi"), term(req(core.LabelHostname, "NotIn", "small", "zone-b"))))
	cl.addPod(toleration)

	where := cl.waitBound("big-request", "selector", "affinity", "notin", "toleration")
	for p, n := range want {
		if where[p] != n {
			t.Errorf("pod %s: got node %q; want %q", p, where[p], n)
		}
	}
	// The binding sets PodScheduled=True, and the scheduler says so.
	waitFor(t, "a Scheduled event", func() (bool, string) {
		ev := cl.events("selector", "Scheduled")
		return len(ev) == 1 && ev[0] == "Successfully assigned default/selector to zone-b", fmt.Sprint(ev)
	})
}

func TestUnschedulablePodWaitsThenLandsWhenANodeAppears(t *testing.T) {
	cl := newCluster(t)
	cl.addNode(node("n1", "1", "4Gi", 10))
	cl.addNode(node("n2", "1", "4Gi", 10))
	cl.addNode(withTaints(node("n3", "8", "16Gi", 10), core.Taint{Key: "dedicated", Value: "db", Effect: core.TaintEffectNoSchedule}))
	startScheduler(t, Config{Server: cl.srv.URL})
	cl.addPod(pod("p", "2", "1Gi"))

	const msg = "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: db}, 2 Insufficient cpu."
	waitFor(t, "PodScheduled=False", func() (bool, string) {
		p := cl.pod("p")
		for _, c := range p.Status.Conditions {
			if c.Type == core.PodScheduled {
				return c.Status == core.ConditionFalse && c.Reason == "Unschedulable" && c.Message == msg, fmt.Sprintf("%+v", c)
			}
		}
		return false, fmt.Sprintf("conditions %+v", p.Status.Conditions)
	})
	waitFor(t, "a FailedScheduling event", func() (bool, string) {
		ev := cl.events("p", "FailedScheduling")
		return len(ev) > 0 && ev[0] == msg, fmt.Sprint(ev)
	})
	if p := cl.pod("p"); p.Spec.NodeName != "" || p.Status.Phase != core.PodPending {
		t.Fatalf("unschedulable pod: got node %q phase %q; want none and Pending", p.Spec.NodeName, p.Status.Phase)
	}

	cl.addNode(node("roomy", "4", "8Gi", 10))
	if where := cl.waitBound("p"); where["p"] != "roomy" {
		t.Errorf("got node %q; want roomy", where["p"])
	}
	p := cl.pod("p")
	for _, c := range p.Status.Conditions {
		if c.Type == core.PodScheduled && c.Status != core.ConditionTrue {
			t.Errorf("after binding: PodScheduled %s; want True", c.Status)
		}
	}
}

func TestFreedRoomIsReused(t *testing.T) {
	cl := newCluster(t)
	cl.addNode(node("n", "2", "4Gi", 10))
	startScheduler(t, Config{Server: cl.srv.URL})
	cl.addPod(pod("first", "2", "1Gi"))
	cl.waitBound("first")
	waitUnschedulable := func(name string) {
		waitFor(t, name+" to be found unschedulable", func() (bool, string) {
			return len(cl.events(name, "FailedScheduling")) > 0, "no event"
		})
	}

	// A pod that finishes frees its room.
	cl.addPod(pod("second", "2", "1Gi"))
	waitUnschedulable("second")
	first := cl.pod("first")
	first.Status.Phase = core.PodSucceeded
	if err := cl.c.UpdateStatus(cl.ctx(), first); err != nil {
		t.Fatal(err)
	}
	cl.waitBound("second")

	// So does a pod that is deleted. (A pod in graceful deletion still
	// holds its room: it may still be running.)
	cl.addPod(pod("third", "2", "1Gi"))
	waitUnschedulable("third")
	if err := cl.c.Delete(cl.ctx(), podKind, "default", "second", &meta.DeleteOptions{GracePeriodSeconds: new(int64)}); err != nil {
		t.Fatal(err)
	}
	cl.waitBound("third")
}

// nodesUsed returns how many pods each node got and fails if any node has
// more CPU requested than it has.
func nodesUsed(t *testing.T, cl *cluster, cpuPerNode int64) map[string]int {
	t.Helper()
	count, cpu := map[string]int{}, map[string]int64{}
	for _, p := range cl.pods() {
		if p.Spec.NodeName != "" {
			count[p.Spec.NodeName]++
			cpu[p.Spec.NodeName] += PodRequests(p, false).MilliCPU
		}
	}
	for n, c := range cpu {
		if c > cpuPerNode {
			t.Errorf("node %s double-booked: %dm CPU requested of %dm", n, c, cpuPerNode)
		}
	}
	return count
}

func TestBinPackingFillsNodesBeforeUsingNewOnes(t *testing.T) {
	for _, tc := range []struct {
		strategy string
		// maxNodes, minNodes bound how many of the 5 nodes 8 pods use.
		minNodes, maxNodes int
	}{
		{MostAllocated, 2, 2},  // 4 pods of 1 CPU fill a 4-CPU node
		{LeastAllocated, 5, 5}, // spreading uses every node
	} {
		t.Run(tc.strategy, func(t *testing.T) {
			cl := newCluster(t)
			for i := range 5 {
				cl.addNode(node(fmt.Sprintf("n%d", i), "4", "8Gi", 110))
			}
			startScheduler(t, Config{Server: cl.srv.URL, Score: tc.strategy})
			var names []string
			for i := range 8 {
				names = append(names, fmt.Sprintf("p%d", i))
				cl.addPod(pod(names[i], "1", "1Gi"))
			}
			cl.waitBound(names...)
			used := nodesUsed(t, cl, 4000)
			if len(used) < tc.minNodes || len(used) > tc.maxNodes {
				t.Errorf("got %d nodes used %v; want %d..%d", len(used), used, tc.minNodes, tc.maxNodes)
			}
		})
	}
}

func TestOtherSchedulerNamesAreLeftAlone(t *testing.T) {
	cl := newCluster(t)
	cl.addNode(node("n", "4", "8Gi", 10))
	startScheduler(t, Config{Server: cl.srv.URL})
	other := pod("other", "100m", "")
	other.Spec.SchedulerName = "my-scheduler"
	cl.addPod(other)
	cl.addPod(pod("mine", "100m", ""))
	cl.waitBound("mine")
	// Both were queued in creation order: had the scheduler taken
	// "other", it would have done so before "mine".
	if p := cl.pod("other"); p.Spec.NodeName != "" || len(p.Status.Conditions) != 0 {
		t.Errorf("pod of another scheduler: got node %q conditions %+v; want untouched", p.Spec.NodeName, p.Status.Conditions)
	}

	// A second scheduler with that name takes it.
	startScheduler(t, Config{Server: cl.srv.URL, SchedulerName: "my-scheduler", LeaseName: "my-scheduler"})
	cl.waitBound("other")
}

func TestTwoSchedulersWithLeaderElectionNeverDoubleBook(t *testing.T) {
	cl := newCluster(t)
	for i := range 3 {
		cl.addNode(node(fmt.Sprintf("n%d", i), "2", "8Gi", 110))
	}
	// Different seeds: two replicas that were both (wrongly) scheduling
	// would not make identical choices that hide each other's mistakes.
	fast := func(id string, seed uint64) Config {
		return Config{Server: cl.srv.URL, LeaderElect: true, Identity: id, Seed: seed,
			LeaseDuration: 2 * time.Second, RenewDeadline: 1500 * time.Millisecond, RetryPeriod: 100 * time.Millisecond}
	}
	sa, stopA := startScheduler(t, fast("a", 1))
	sb, stopB := startScheduler(t, fast("b", 2))
	replicas := map[string]*Scheduler{"a": sa, "b": sb}
	stops := map[string]func(){"a": stopA, "b": stopB}

	// 8 pods of 1 CPU on 6 CPUs: 6 fit, 2 wait. Created all at once, so
	// that two active schedulers would race for the same room.
	var names []string
	var wg sync.WaitGroup
	for i := range 8 {
		names = append(names, fmt.Sprintf("p%d", i))
		p := pod(names[i], "1", "100Mi")
		wg.Go(func() { cl.addPod(p) })
	}
	wg.Wait()
	waitFor(t, "6 pods bound and 2 unschedulable", func() (bool, string) {
		bound, failed := 0, 0
		for _, p := range cl.pods() {
			if p.Spec.NodeName != "" {
				bound++
			} else if len(p.Status.Conditions) > 0 && p.Status.Conditions[0].Reason == "Unschedulable" {
				failed++
			}
		}
		return bound == 6 && failed == 2, fmt.Sprintf("%d bound, %d unschedulable", bound, failed)
	})
	nodesUsed(t, cl, 2000)

	attempts := map[string]int64{}
	for id, s := range replicas {
		attempts[id] = s.metrics.scheduled.Load() + s.metrics.unschedulable.Load()
	}
	if (attempts["a"] == 0) == (attempts["b"] == 0) {
		t.Fatalf("scheduling attempts by replica: %v; want exactly one replica scheduling", attempts)
	}
	leader := holder(t, cl)
	standby := map[string]string{"a": "b", "b": "a"}[leader]
	if attempts[standby] != 0 {
		t.Errorf("standby %s made %d scheduling attempts while %s led; want none", standby, attempts[standby], leader)
	}

	// The leader goes away; the standby takes over from the server's
	// state alone and places the rest on a new node, without
	// overbooking the full ones.
	stops[leader]()
	cl.addNode(node("n3", "2", "8Gi", 110))
	cl.waitBound(names...)
	nodesUsed(t, cl, 2000)
	if got := holder(t, cl); got != standby {
		t.Errorf("lease holder after failover: got %q; want %q", got, standby)
	}
}

// holder returns who holds the scheduler's Lease.
func holder(t *testing.T, cl *cluster) string {
	t.Helper()
	var l coordination.Lease
	if err := cl.c.Get(cl.ctx(), "kube-system", "minik8s-scheduler", &l); err != nil {
		t.Fatal(err)
	}
	if l.Spec.HolderIdentity == nil {
		return ""
	}
	return *l.Spec.HolderIdentity
}

func TestHealthAndMetrics(t *testing.T) {
	s, err := New(Config{Server: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	defer hs.Close()
	for path, want := range map[string]string{"/healthz": "ok", "/metrics": `scheduler_schedule_attempts_total{result="scheduled"} 0`} {
		resp, err := hs.Client().Get(hs.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
			t.Errorf("GET %s: got %d %q; want 200 containing %q", path, resp.StatusCode, body, want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		cfg Config
		ok  bool
	}{
		{Config{Server: "http://127.0.0.1:6443"}, true},
		{Config{}, false},
		{Config{Server: "http://x", Score: "random"}, false},
		{Config{Server: "http://x", Listen: "10259"}, false},
	}
	for _, tc := range cases {
		if err := tc.cfg.Validate(); (err == nil) != tc.ok {
			t.Errorf("Validate(%+v): got %v; want ok=%v", tc.cfg, err, tc.ok)
		}
	}
}

func TestUnschedulableCondition(t *testing.T) {
	now, earlier := meta.Now(), meta.NewTime(time.Unix(1000, 0))
	ready := core.PodCondition{Type: core.PodReady, Status: core.ConditionFalse}
	same := core.PodCondition{Type: core.PodScheduled, Status: core.ConditionFalse, Reason: "Unschedulable", Message: "m", LastTransitionTime: earlier}
	cases := []struct {
		name        string
		in          []core.PodCondition
		wantChanged bool
		wantTime    meta.Time
	}{
		{"no condition yet: added", []core.PodCondition{ready}, true, now},
		{"same message: no write", []core.PodCondition{same}, false, earlier},
		{"new message: rewritten, transition time kept", []core.PodCondition{{Type: core.PodScheduled, Status: core.ConditionFalse,
			Reason: "Unschedulable", Message: "old", LastTransitionTime: earlier}}, true, earlier},
		{"was True: transition time moves", []core.PodCondition{{Type: core.PodScheduled, Status: core.ConditionTrue,
			LastTransitionTime: earlier}}, true, now},
	}
	for _, tc := range cases {
		out, changed := unschedulableCondition(tc.in, "m", now)
		var got *core.PodCondition
		for i := range out {
			if out[i].Type == core.PodScheduled {
				got = &out[i]
			}
		}
		switch {
		case changed != tc.wantChanged:
			t.Errorf("%s: changed %v; want %v", tc.name, changed, tc.wantChanged)
		case got == nil || got.Status != core.ConditionFalse || got.Reason != "Unschedulable" || got.Message != "m":
			t.Errorf("%s: got %+v; want PodScheduled False Unschedulable \"m\"", tc.name, got)
		case !got.LastTransitionTime.Equal(tc.wantTime.Time):
			t.Errorf("%s: transition time %v; want %v", tc.name, got.LastTransitionTime, tc.wantTime)
		}
		if want := len(tc.in) + btoi(tc.in[0].Type != core.PodScheduled); len(out) != want {
			t.Errorf("%s: got %d conditions; want %d (others kept)", tc.name, len(out), want)
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestNodeMayNowFit(t *testing.T) {
	base := node("n", "4", "8Gi", 10)
	heartbeat := node("n", "4", "8Gi", 10)
	heartbeat.Status.Conditions[0].LastHeartbeatTime = meta.Now()
	notReady := node("n", "4", "8Gi", 10)
	notReady.Status.Conditions[0].Status = core.ConditionFalse
	cordoned := node("n", "4", "8Gi", 10)
	cordoned.Spec.Unschedulable = true
	cases := []struct {
		name     string
		old, new *core.Node
		want     bool
	}{
		{"heartbeat only", base, heartbeat, false},
		{"became ready", notReady, base, true},
		{"grew", base, node("n", "8", "8Gi", 10), true},
		{"uncordoned", cordoned, base, true},
		{"labelled", base, withLabels(node("n", "4", "8Gi", 10), "zone", "a"), true},
		{"untainted", withTaints(node("n", "4", "8Gi", 10), core.Taint{Key: "k", Effect: core.TaintEffectNoSchedule}), base, true},
	}
	for _, tc := range cases {
		if got := nodeMayNowFit(tc.old, tc.new); got != tc.want {
			t.Errorf("%s: got %v; want %v", tc.name, got, tc.want)
		}
	}
}
