package e2e

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"minik8s/pkg/apis"
	"minik8s/pkg/apis/apierrors"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/client"
)

// faultLab is the local lab plus the fault suite's workload and its
// steady stream of acknowledged API writes.
type faultLab struct {
	*lab
	c     *client.Client
	mu    sync.Mutex
	acked map[string]bool
}

const faultWorkload = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      tolerations:
      - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 2}
      - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: 2}
      containers:
      - name: web
        image: %[1]s/minik8s/testserver:latest
        ports: [{containerPort: 8080}]
        readinessProbe: {httpGet: {path: /healthz, port: 8080}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  replicas: 1
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      tolerations:
      - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 2}
      - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: 2}
      containers:
      - name: db
        image: %[1]s/minik8s/testserver:latest
        ports: [{containerPort: 8080}]
`

// writeLoop creates a ConfigMap every 20 ms until ctx is done and records
// the names the API server acknowledged.
func (f *faultLab) writeLoop(ctx context.Context) {
	for n := 0; ctx.Err() == nil; n++ {
		name := fmt.Sprintf("ack-%d", n)
		wctx, cancel := context.WithTimeout(ctx, time.Second)
		err := f.c.Create(wctx, &core.ConfigMap{ObjectMeta: meta.ObjectMeta{Name: name, Namespace: "default"}})
		cancel()
		if err == nil {
			f.mu.Lock()
			f.acked[name] = true
			f.mu.Unlock()
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkAcked fails the test if an acknowledged create is missing.
func (f *faultLab) checkAcked(t *testing.T) int {
	t.Helper()
	// The names acknowledged so far, before the list: the writer keeps going.
	f.mu.Lock()
	acked := make([]string, 0, len(f.acked))
	for name := range f.acked {
		acked = append(acked, name)
	}
	f.mu.Unlock()
	k, _ := apis.ForObject(&core.ConfigMap{})
	var objs []meta.Object
	var err error
	for i := 0; i < 50; i++ {
		if objs, _, err = f.c.List(context.Background(), k, "default", client.ListOptions{}); err == nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, o := range objs {
		have[o.GetObjectMeta().Name] = true
	}
	var missing []string
	for _, name := range acked {
		if !have[name] {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		t.Errorf("%d of %d acknowledged ConfigMap creates lost: %v", len(missing), len(acked), missing)
	}
	return len(acked)
}

// try runs kubectl and reports success instead of failing the test (the
// API server may be down).
func (f *faultLab) try(args ...string) (string, error) {
	out, err := exec.Command("kubectl", append([]string{"--kubeconfig", filepath.Join(f.dir, "kubeconfig"), "--request-timeout", "3s"}, args...)...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func (f *faultLab) labsh(args ...string) string {
	f.t.Helper()
	out, err := exec.Command(labScript, append([]string{args[0], "--dir", f.dir}, args[1:]...)...).CombinedOutput()
	if err != nil {
		f.t.Fatalf("lab.sh %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// converged: the Deployment is available, the Service's endpoints are
// exactly three running web pods, and every web pod reaches the Service.
func (f *faultLab) converged(avoid string) (bool, string) {
	avail, err := f.try("get", "deployment", "web", "-o", "jsonpath={.status.availableReplicas}")
	if err != nil || avail != "3" {
		return false, "available replicas " + avail
	}
	eps, err := f.try("get", "endpoints", "web", "-o", "jsonpath={.subsets[*].addresses[*].ip}")
	if err != nil {
		return false, eps
	}
	got := strings.Fields(eps)
	sort.Strings(got)
	out, err := f.try("get", "pods", "-l", "app=web", "-o", `jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName} {.status.podIP} {.metadata.uid} {.status.phase} {.metadata.deletionTimestamp}{"\n"}{end}`)
	if err != nil {
		return false, out
	}
	var want []string
	var pods []labPod
	for _, line := range strings.Split(out, "\n") {
		fl := strings.Fields(line)
		if len(fl) == 5 && fl[4] == "Running" && fl[1] != avoid {
			want = append(want, fl[2])
			pods = append(pods, labPod{fl[0], fl[1], fl[2], fl[3]})
		}
	}
	sort.Strings(want)
	if strings.Join(got, ",") != strings.Join(want, ",") || len(got) != 3 {
		return false, fmt.Sprintf("endpoints %v; running pods %v", got, want)
	}
	for _, p := range pods {
		if err := f.reach(p, "http://web/"); err != nil {
			return false, fmt.Sprintf("from %s: %v", p.name, err)
		}
	}
	return true, ""
}

// reach fetches url three times from inside pod p; unlike lab.fetch it
// returns an error (the pod may be going away mid-fault).
func (f *faultLab) reach(p labPod, url string) error {
	node := strings.TrimPrefix(p.node, "node-")
	out, err := exec.Command("ctr", "-a", f.env["SOCK"], "-n", fmt.Sprintf("mk-lab-%d-node-%s", f.id, node), "tasks", "ls").CombinedOutput()
	if err != nil {
		return fmt.Errorf("ctr tasks ls: %v", err)
	}
	pid := ""
	for _, line := range strings.Split(string(out), "\n") {
		if fl := strings.Fields(line); len(fl) == 3 && strings.HasPrefix(fl[0], p.uid+"_") && fl[2] == "RUNNING" {
			pid = fl[1]
		}
	}
	if pid == "" {
		return fmt.Errorf("no running task")
	}
	b, err := exec.Command("timeout", "10", "nsenter", "-t", pid, "-n", "-m", "-u", "-r", "-w", "--", "/bin/sh", "-c",
		"for i in 1 2 3; do wget -q -O- "+url+" >/dev/null || exit 1; done").CombinedOutput()
	if err != nil {
		return fmt.Errorf("%v: %s", err, b)
	}
	return nil
}

// faultCase injects a fault, waits for convergence and reports.
func (f *faultLab) faultCase(t *testing.T, name, injected string, inject func(), avoid string) time.Duration {
	t.Helper()
	f.t = t
	t.Logf("inject: %s", injected)
	begin := time.Now()
	inject()
	last := "-"
	f.eventually(120*time.Second, name+": convergence", func() (bool, string) {
		ok, state := f.converged(avoid)
		if state != last { // where the time goes, in the CI log
			t.Logf("  +%v %s", time.Since(begin).Round(100*time.Millisecond), state)
			last = state
		}
		return ok, state
	})
	took := time.Since(begin)
	n := f.checkAcked(t)
	reliabilityRow(t, name, injected, fmt.Sprintf("deployment available, endpoints = 3 running pods, service reachable from each; %d acknowledged writes present", n), took)
	return took
}

// pausedView is what a node's agent last saw before it was paused: its
// Node and the pods bound to it.
type pausedView struct {
	node core.Node
	pods []core.Pod
}

func (f *faultLab) viewOfNode(name string) pausedView {
	ctx := context.Background()
	var v pausedView
	if err := f.c.Get(ctx, "", name, &v.node); err != nil {
		f.t.Fatal(err)
	}
	objs, _, err := f.c.List(ctx, podKind, "default", client.ListOptions{FieldSelector: "spec.nodeName=" + name})
	if err != nil {
		f.t.Fatal(err)
	}
	for _, o := range objs {
		v.pods = append(v.pods, *o.(*core.Pod))
	}
	return v
}

// lateWritesRefused makes the paused agent's late status writes with its
// node's own credentials: the Node and each pod as they were before the
// pause, claiming Ready, over the newer state the node lifecycle
// controller wrote meanwhile (Ready Unknown/False). Each must be refused
// with 409 by the resourceVersion check and leave Ready as it was.
func (f *faultLab) lateWritesRefused(t *testing.T, stale pausedView) {
	ctx := context.Background()
	name := stale.node.Name
	nc, err := client.FromKubeconfig(filepath.Join(f.dir, "nodes", name+".kubeconfig"))
	if err != nil {
		t.Fatal(err)
	}
	claimReady := func(conds []core.NodeCondition) {
		for i := range conds {
			if conds[i].Type == core.NodeReady {
				conds[i].Status = core.ConditionTrue
			}
		}
	}
	// The Node: the controller has set Ready to Unknown since.
	late := stale.node
	late.Status.Conditions = append([]core.NodeCondition(nil), stale.node.Status.Conditions...)
	claimReady(late.Status.Conditions)
	if err := nc.UpdateStatus(ctx, &late); !errors.Is(err, apierrors.ErrConflict) {
		t.Errorf("late status write of node %s from resourceVersion %s: %v; want 409 Conflict", name, stale.node.ResourceVersion, err)
	}
	var now core.Node
	if err := f.c.Get(ctx, "", name, &now); err != nil {
		t.Fatal(err)
	}
	for _, c := range now.Status.Conditions {
		if c.Type == core.NodeReady && c.Status == core.ConditionTrue {
			t.Errorf("node %s is Ready after the refused late write", name)
		}
	}
	refused := 1
	// Its pods: marked not ready (and evicted) since.
	for _, p := range stale.pods {
		var cur core.Pod
		if err := f.c.Get(ctx, p.Namespace, p.Name, &cur); err != nil || cur.UID != p.UID {
			continue // evicted and gone: nothing to write over
		}
		late := p
		late.Status.Conditions = append([]core.PodCondition(nil), p.Status.Conditions...)
		for i := range late.Status.Conditions {
			if late.Status.Conditions[i].Type == core.PodReady {
				late.Status.Conditions[i].Status = core.ConditionTrue
			}
		}
		if cur.ResourceVersion == p.ResourceVersion {
			continue // not changed by anyone since: a write would be legitimate
		}
		if err := nc.UpdateStatus(ctx, &late); !errors.Is(err, apierrors.ErrConflict) {
			t.Errorf("late status write of pod %s from resourceVersion %s (now %s): %v; want 409 Conflict", p.Name, p.ResourceVersion, cur.ResourceVersion, err)
			continue
		}
		refused++
	}
	t.Logf("late status writes with %s's credentials from before the pause: %d refused with 409 (the node and %d of its %d pods)", name, refused, refused-1, len(stale.pods))
}

// TestFaultTolerance runs the fault cases one after another on one 3-node
// lab while a Deployment behind a Service and a stream of ConfigMap
// creates run (issue 8).
func TestFaultTolerance(t *testing.T) {
	t.Setenv("LAB_NODE_MONITOR_GRACE_PERIOD", "8s")
	f := &faultLab{lab: startLab(t, 3), acked: map[string]bool{}}
	var err error
	if f.c, err = client.FromKubeconfig(filepath.Join(f.dir, "kubeconfig")); err != nil {
		t.Fatal(err)
	}
	f.apply(fmt.Sprintf(faultWorkload, f.env["REGISTRY"]))
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); f.writeLoop(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait() })
	f.eventually(90*time.Second, "workload up", func() (bool, string) { return f.converged("") })
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))

	for _, comp := range []string{"apiserver", "scheduler", "controller-manager", "nodeagent-2", "proxy-3"} {
		t.Run("kill -9 "+comp, func(t *testing.T) {
			time.Sleep(time.Duration(rng.Intn(3000)) * time.Millisecond)
			f.faultCase(t, "kill -9 "+comp, "kill -9 and restart of "+comp+", then one web pod deleted", func() {
				f.labsh("restart", comp)
				victim := ""
				f.eventually(30*time.Second, "a web pod deleted", func() (bool, string) {
					out, err := f.try("get", "pods", "-l", "app=web", "-o", "jsonpath={.items[0].metadata.name}")
					if err != nil || out == "" {
						return false, out
					}
					victim = out
					_, err = f.try("delete", "pod", victim, "--wait=false")
					return err == nil, victim
				})
			}, "")
		})
	}

	t.Run("node agent paused past its lease", func(t *testing.T) {
		f.t = t
		log := filepath.Join(f.dir, "logs", "nodeagent-1.log")
		before, _ := os.ReadFile(log)
		f.faultCase(t, "SIGSTOP node agent", "nodeagent-1 SIGSTOP for 15 s (grace 8 s), then SIGCONT", func() {
			f.labsh("signal", "nodeagent-1", "STOP")
			// What the paused agent last saw: nothing it sends after
			// SIGCONT can be based on anything newer.
			stale := f.viewOfNode("node-1")
			f.eventually(30*time.Second, "node-1 not ready", func() (bool, string) {
				st, _ := f.try("get", "node", "node-1", "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status}`)
				return st != "True" && st != "", st
			})
			time.Sleep(5 * time.Second)
			f.lateWritesRefused(t, stale)
			f.labsh("signal", "nodeagent-1", "CONT")
			f.eventually(60*time.Second, "node-1 Ready again", func() (bool, string) {
				st, _ := f.try("get", "node", "node-1", "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status}`)
				return st == "True", st
			})
		}, "")
		after, _ := os.ReadFile(log)
		late := strings.ToLower(string(after[len(before):]))
		t.Logf("nodeagent-1 after SIGCONT: %d log lines mention a conflict (its writes from a stale resourceVersion refused)", strings.Count(late, "conflict")+strings.Count(late, "409"))
	})

	t.Run("node cut off from the control plane", func(t *testing.T) {
		f.t = t
		dbNode, _ := f.try("get", "pod", "db-0", "-o", "jsonpath={.spec.nodeName}")
		if dbNode == "" {
			t.Fatal("db-0 is not scheduled")
		}
		var i int
		fmt.Sscanf(dbNode, "node-%d", &i)
		ns, cp := f.netns(i), fmt.Sprintf("172.30.%d.2", f.id)
		ipt := func(op string) {
			for _, r := range [][]string{{op, "OUTPUT", "-d", cp, "-j", "DROP"}, {op, "INPUT", "-s", cp, "-j", "DROP"}} {
				if out, err := exec.Command("ip", append([]string{"netns", "exec", ns, "iptables"}, r...)...).CombinedOutput(); err != nil {
					t.Fatalf("iptables in %s: %v\n%s", ns, err, out)
				}
			}
		}
		dbUID, _ := f.try("get", "pod", "db-0", "-o", "jsonpath={.metadata.uid}")
		healed := false
		t.Cleanup(func() {
			if !healed {
				ipt("-D")
			}
		})
		f.faultCase(t, "node cut off", fmt.Sprintf("iptables DROP to/from the control plane in %s (db-0's node)", dbNode), func() {
			ipt("-I")
			f.eventually(60*time.Second, dbNode+" not ready", func() (bool, string) {
				st, _ := f.try("get", "node", dbNode, "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status}`)
				return st != "True" && st != "", st
			})
		}, dbNode)
		// The StatefulSet pod is not duplicated while its node is cut off:
		// db-0 is the same pod (same UID) or gone, never two.
		for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(500 * time.Millisecond) {
			out, _ := f.try("get", "pods", "-l", "app=db", "-o", "jsonpath={.items[*].metadata.uid}")
			if u := strings.Fields(out); len(u) > 1 || (len(u) == 1 && u[0] != dbUID) {
				t.Errorf("db pods while %s is cut off: %v; want only the original %s", dbNode, u, dbUID)
			}
		}
		begin := time.Now()
		ipt("-D")
		healed = true
		f.eventually(90*time.Second, dbNode+" Ready again, stale pods gone", func() (bool, string) {
			st, _ := f.try("get", "node", dbNode, "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status}`)
			out, _ := f.try("get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].spec.nodeName}")
			nodes := strings.Fields(out)
			db, _ := f.try("get", "pods", "-l", "app=db", "-o", "jsonpath={.items[*].status.phase}")
			return st == "True" && len(nodes) == 3 && db == "Running", fmt.Sprintf("ready %s, web pods on %v, db %q", st, nodes, db)
		})
		f.eventually(60*time.Second, "converged after the heal", func() (bool, string) { return f.converged("") })
		reliabilityRow(t, "node cut healed", dbNode+" reconnected", "node Ready, evicted pods deleted, db-0 Running once", time.Since(begin))
	})

	t.Run("watch history compacted every 2 s", func(t *testing.T) {
		f.t = t
		// Count the live web pods at every watch event (through relists
		// after 410 Gone, which the compaction causes): never above the
		// 3 replicas, or a controller duplicated a pod.
		var mu sync.Mutex
		maxSeen, events := 0, 0
		inf := client.NewInformer(f.c.ListWatch(podKind, "default", client.ListOptions{LabelSelector: "app=web"}), 0)
		check := func(meta.Object) {
			live := 0
			for _, o := range inf.Store().List() {
				if o.GetObjectMeta().DeletionTimestamp == nil {
					live++
				}
			}
			mu.Lock()
			defer mu.Unlock()
			events++
			maxSeen = max(maxSeen, live)
		}
		inf.AddEventHandler(client.Handler{OnAdd: check, OnUpdate: func(_, o meta.Object) { check(o) }, OnDelete: check})
		ictx, stopInformer := context.WithCancel(context.Background())
		var sampler sync.WaitGroup
		sampler.Add(1)
		go func() { defer sampler.Done(); inf.Run(ictx) }()
		f.faultCase(t, "compaction every 2 s", "API server restarted with --compaction-interval 2s; 4 web pods deleted 3 s apart", func() {
			f.labsh("restart", "apiserver", "--", "--compaction-interval", "2s")
			for i := 0; i < 4; i++ {
				time.Sleep(3 * time.Second)
				if out, err := f.try("get", "pods", "-l", "app=web", "-o", "jsonpath={.items[0].metadata.name}"); err == nil && out != "" {
					f.try("delete", "pod", out, "--wait=false")
				}
			}
		}, "")
		stopInformer()
		sampler.Wait()
		t.Logf("live web pods counted at each of %d watch events: at most %d", events, maxSeen)
		if maxSeen > 3 || events == 0 {
			t.Errorf("up to %d live web pods seen in %d watch events; want never more than 3 replicas", maxSeen, events)
		}
		relists := 0
		for _, name := range []string{"controller-manager", "scheduler", "proxy-1", "nodeagent-1"} {
			b, _ := os.ReadFile(filepath.Join(f.dir, "logs", name+".log"))
			s := strings.ToLower(string(b))
			for _, w := range []string{"too old", "410", "gone", "expired", "compacted"} {
				relists += strings.Count(s, w)
			}
		}
		t.Logf("compaction: %d log lines of informers told their watch was too old", relists)
	})
}
