package e2e

import (
	"context"
	"errors"
	"testing"
	"time"

	"minik8s/pkg/apis"
	"minik8s/pkg/apis/apierrors"
	"minik8s/pkg/apis/coordination"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/apis/resource"
	"minik8s/pkg/client"
	"minik8s/pkg/controllers/controllertest"
)

// fakeNode registers a Ready Node and renews its Lease every 500 ms until
// ctx is done: the part of a node agent the control plane sees.
func fakeNode(ctx context.Context, t *testing.T, c *client.Client, name string) {
	t.Helper()
	node := &core.Node{ObjectMeta: meta.ObjectMeta{Name: name}}
	if err := c.Create(ctx, node); err != nil {
		t.Fatal(err)
	}
	now := meta.Now()
	// The IPAM controller may write the node in between: on a conflict,
	// read it again and redo the status (level-triggered, like an agent).
	for attempt := 0; ; attempt++ {
		node.Status.Capacity = map[string]resource.Quantity{"cpu": resource.MustParse("4"), "memory": resource.MustParse("8Gi"), "pods": resource.MustParse("110")}
		node.Status.Allocatable = node.Status.Capacity
		node.Status.Conditions = []core.NodeCondition{{Type: core.NodeReady, Status: core.ConditionTrue, LastHeartbeatTime: now, LastTransitionTime: now, Reason: "KubeletReady"}}
		err := c.UpdateStatus(ctx, node)
		if err == nil {
			break
		}
		if !errors.Is(err, apierrors.ErrConflict) || attempt > 10 {
			t.Fatal(err)
		}
		if err := c.Get(ctx, "", name, node); err != nil {
			t.Fatal(err)
		}
	}
	secs := int32(4)
	lease := &coordination.Lease{ObjectMeta: meta.ObjectMeta{Name: name, Namespace: "kube-node-lease"},
		Spec: coordination.LeaseSpec{HolderIdentity: &name, LeaseDurationSeconds: &secs}}
	go func() {
		for ctx.Err() == nil {
			mt := meta.NowMicro()
			lease.Spec.RenewTime = &mt
			var err error
			if lease.ResourceVersion == "" {
				err = c.Create(ctx, lease)
			} else {
				err = c.Update(ctx, lease)
			}
			if err != nil {
				c.Get(ctx, "kube-node-lease", name, lease)
			}
			select {
			case <-ctx.Done():
			case <-time.After(500 * time.Millisecond):
			}
		}
	}()
}

// TestPodsOfALostNodeComeBackElsewhere: a node stops renewing its Lease;
// the node lifecycle controller marks it Unknown and taints it, evicts its
// pods once their toleration runs out (they stay, marked Terminating, as
// nobody can confirm they stopped), the ReplicaSet replaces them and the
// scheduler puts the replacements on the node that is still alive.
func TestPodsOfALostNodeComeBackElsewhere(t *testing.T) {
	_, server := startAPIServer(t, t.TempDir())
	c, _ := client.New(server)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start(t, "controller-manager", "--server", server, "--listen", "", "--leader-elect=false", "--node-monitor-grace-period", "4s")
	start(t, "scheduler", "--server", server, "--listen", "", "--leader-elect=false")
	// Play the node agents: node-a's stops when node-a is lost.
	aCtx, killA := context.WithCancel(ctx)
	controllertest.RunAgent(t, c, "default", controllertest.Agent{
		Serves: func(p *core.Pod) bool { return p.Spec.NodeName != "node-a" || aCtx.Err() == nil },
	})
	fakeNode(aCtx, t, c, "node-a")
	fakeNode(ctx, t, c, "node-b")

	k := newKubectl(t, server)
	// Pin both replicas to node-a at first, then lift the pin.
	manifest := k.writeFile("web.yaml", `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      nodeSelector: {kubernetes.io/hostname: node-a}
      tolerations:
      - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 2}
      - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: 2}
      containers:
      - name: web
        image: registry.local/web:1
`)
	// The scheduler matches kubernetes.io/hostname only if the node has it.
	for _, n := range []string{"node-a", "node-b"} {
		k.ok("label", "node", n, "kubernetes.io/hostname="+n)
	}
	k.ok("apply", "-f", manifest)
	wantLines(t, "rollout", k.ok("rollout", "status", "deploy/web", "--timeout=60s"), "successfully rolled out")
	k.ok("patch", "deploy", "web", "--type=json", "-p", `[{"op":"remove","path":"/spec/template/spec/nodeSelector"}]`)
	k.ok("rollout", "status", "deploy/web", "--timeout=60s")
	onNode := func() map[string]int {
		pk, _ := apis.ByResource("", "pods")
		items, _, _ := c.List(ctx, pk, "default", client.ListOptions{LabelSelector: "app=web"})
		n := map[string]int{}
		for _, it := range items {
			p := it.(*core.Pod)
			if p.DeletionTimestamp != nil {
				n["terminating"]++
			} else {
				n[p.Spec.NodeName]++
			}
		}
		return n
	}
	t.Logf("before the failure: %v", onNode())

	killA() // node-a stops heartbeating
	lost := time.Now()
	deadline := time.Now().Add(60 * time.Second)
	for {
		n := onNode()
		if n["node-b"] == 2 && n["node-a"] == 0 {
			t.Logf("pods back on node-b %v after the node was lost: %v", time.Since(lost).Round(time.Second), n)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pods by node: %v; want 2 on node-b and none live on node-a", n)
		}
		time.Sleep(200 * time.Millisecond)
	}
	var node core.Node
	c.Get(ctx, "", "node-a", &node)
	tainted := false
	for _, taint := range node.Spec.Taints {
		if taint.Key == core.TaintNodeUnreachable && taint.Effect == core.TaintEffectNoExecute {
			tainted = true
		}
	}
	ready := ""
	for _, cond := range node.Status.Conditions {
		if cond.Type == core.NodeReady {
			ready = cond.Status
		}
	}
	if !tainted || ready != core.ConditionUnknown {
		t.Errorf("node-a: Ready=%s, taints %+v; want Unknown with the unreachable NoExecute taint", ready, node.Spec.Taints)
	}
	// The old pods are marked, never silently lost.
	if n := onNode(); n["terminating"] != 2 {
		t.Errorf("pods by node %v; want the 2 old pods still there, marked Terminating", n)
	}
}
