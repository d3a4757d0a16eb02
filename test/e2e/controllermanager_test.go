package e2e

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"minik8s/pkg/apis"
	"minik8s/pkg/apis/coordination"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/client"
	"minik8s/pkg/controllers/controllertest"
)

// leaseHolder returns who holds the controller-manager Lease.
func leaseHolder(ctx context.Context, c *client.Client) string {
	var l coordination.Lease
	if err := c.Get(ctx, "kube-system", "minik8s-controller-manager", &l); err != nil || l.Spec.HolderIdentity == nil {
		return ""
	}
	return *l.Spec.HolderIdentity
}

// TestRolloutSurvivesLeaderKill: kill -9 the leading controller-manager in
// the middle of a rolling update; the standby takes over and finishes it,
// never exceeding replicas+maxSurge pods; then kubectl's rollout status,
// history and undo behave as a Kubernetes user expects.
func TestRolloutSurvivesLeaderKill(t *testing.T) {
	_, server := startAPIServer(t, t.TempDir())
	c, _ := client.New(server)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	controllertest.MarkPodsReady(t, c, "default", 0)
	cms := map[string]*proc{}
	for _, id := range []string{"cm-a", "cm-b"} {
		cms[id] = start(t, "controller-manager", "--server", server, "--identity", id, "--listen", "",
			"--leader-elect-lease-duration", "3s", "--leader-elect-renew-deadline", "2s", "--leader-elect-retry-period", "250ms")
	}
	k := newKubectl(t, server)
	manifest := k.writeFile("web.yaml", `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 4
  minReadySeconds: 1
  strategy:
    rollingUpdate: {maxSurge: 1, maxUnavailable: 1}
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: registry.local/web:1
`)
	k.ok("apply", "-f", manifest)
	wantLines(t, "rollout status v1", k.ok("rollout", "status", "deploy/web", "--timeout=60s"), `deployment "web" successfully rolled out`)

	// Count live pods at every pod event from here on.
	podKind, _ := apis.ByResource("", "pods")
	w, err := c.Watch(ctx, podKind, "default", client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	maxLive := 0
	live := map[string]bool{}
	go func() {
		for ev := range w.ResultChan() {
			if ev.Type == meta.Bookmark || ev.Type == meta.Error {
				continue
			}
			p := ev.Object.(*core.Pod)
			mu.Lock()
			if ev.Type == meta.Deleted || p.DeletionTimestamp != nil {
				delete(live, p.Name)
			} else {
				live[p.Name] = true
			}
			if len(live) > maxLive {
				maxLive = len(live)
			}
			mu.Unlock()
		}
	}()

	k.ok("set", "image", "deploy/web", "web=registry.local/web:2")
	leader := ""
	deadline := time.Now().Add(20 * time.Second)
	for leader == "" && time.Now().Before(deadline) {
		leader = leaseHolder(ctx, c)
		time.Sleep(50 * time.Millisecond)
	}
	if cms[leader] == nil {
		t.Fatalf("no known controller-manager holds the lease (holder %q)", leader)
	}
	cms[leader].kill()
	updated := k.ok("get", "deploy", "web", "-o", "jsonpath={.status.updatedReplicas}/{.status.availableReplicas}")
	if updated == "4/4" {
		t.Fatalf("the rollout had finished before the leader was killed (%s): the test exercised nothing", updated)
	}
	t.Logf("killed the leader %s mid-rollout (updated/available %s)", leader, updated)
	wantLines(t, "rollout status v2", k.ok("rollout", "status", "deploy/web", "--timeout=90s"), `deployment "web" successfully rolled out`)
	if h := leaseHolder(ctx, c); h == leader || h == "" {
		t.Errorf("lease holder after the kill: %q; want the standby", h)
	}
	mu.Lock()
	if maxLive > 5 {
		t.Errorf("at most %d live pods during the rollout; want <= replicas+maxSurge = 5", maxLive)
	}
	mu.Unlock()
	img := k.ok("get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].spec.containers[0].image}")
	if n := strings.Count(img, "web:2"); n != 4 || strings.Contains(img, "web:1") {
		t.Errorf("pods after the rollout run %q; want 4 at web:2", img)
	}

	hist := k.ok("rollout", "history", "deploy/web")
	wantLines(t, "rollout history", hist, "deployment.apps/web", "REVISION CHANGE-CAUSE", "1 <none>", "2 <none>")
	wantLines(t, "rollout undo", k.ok("rollout", "undo", "deploy/web"), "deployment.apps/web rolled back")
	k.ok("rollout", "status", "deploy/web", "--timeout=90s")
	if got := k.ok("get", "deploy", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image}"); got != "registry.local/web:1" {
		t.Errorf("after undo: image %q; want registry.local/web:1", got)
	}
	wantLines(t, "history after undo", k.ok("rollout", "history", "deploy/web"), "2 <none>", "3 <none>")
	wantLines(t, "undo to revision", k.ok("rollout", "undo", "deploy/web", "--to-revision=2"), "deployment.apps/web rolled back")
	k.ok("rollout", "status", "deploy/web", "--timeout=90s")
	if got := k.ok("get", "deploy", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image}"); got != "registry.local/web:2" {
		t.Errorf("after undo --to-revision=2: image %q; want registry.local/web:2", got)
	}
	wantLines(t, "get rs", k.ok("get", "rs"), "NAME DESIRED CURRENT READY AGE")
}

// TestRolloutIgnoresStandbyKill: kill -9 the standby controller-manager
// mid-rollout; the leader keeps its lease and finishes the rollout, and a
// restarted standby stays standby.
func TestRolloutIgnoresStandbyKill(t *testing.T) {
	_, server := startAPIServer(t, t.TempDir())
	c, _ := client.New(server)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	controllertest.MarkPodsReady(t, c, "default", 0)
	args := func(id string) []string {
		return []string{"--server", server, "--identity", id, "--listen", "",
			"--leader-elect-lease-duration", "3s", "--leader-elect-renew-deadline", "2s", "--leader-elect-retry-period", "250ms"}
	}
	cms := map[string]*proc{"cm-a": start(t, "controller-manager", args("cm-a")...)}
	leader := ""
	for deadline := time.Now().Add(20 * time.Second); leader == "" && time.Now().Before(deadline); {
		leader = leaseHolder(ctx, c)
		time.Sleep(50 * time.Millisecond)
	}
	if leader != "cm-a" {
		t.Fatalf("lease holder %q; want cm-a, the only replica", leader)
	}
	cms["cm-b"] = start(t, "controller-manager", args("cm-b")...)
	k := newKubectl(t, server)
	k.ok("apply", "-f", k.writeFile("web.yaml", `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 4
  minReadySeconds: 1
  strategy:
    rollingUpdate: {maxSurge: 1, maxUnavailable: 1}
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: registry.local/web:1
`))
	k.ok("rollout", "status", "deploy/web", "--timeout=60s")
	k.ok("set", "image", "deploy/web", "web=registry.local/web:2")
	cms["cm-b"].kill()
	if updated := k.ok("get", "deploy", "web", "-o", "jsonpath={.status.updatedReplicas}/{.status.availableReplicas}"); updated == "4/4" {
		t.Fatalf("the rollout had finished before the standby was killed (%s)", updated)
	}
	wantLines(t, "rollout status", k.ok("rollout", "status", "deploy/web", "--timeout=60s"), `deployment "web" successfully rolled out`)
	cms["cm-b"] = start(t, "controller-manager", args("cm-b")...)
	time.Sleep(2 * time.Second) // longer than a renew period: a wrongful takeover would show
	if h := leaseHolder(ctx, c); h != "cm-a" {
		t.Errorf("lease holder after the standby's kill and restart: %q; want cm-a throughout", h)
	}
	if n := strings.Count(k.ok("get", "pods", "-l", "app=web", "-o", "name"), "pod/"); n > 5 {
		t.Errorf("%d pods after the rollout; want at most replicas+maxSurge", n)
	}
}
