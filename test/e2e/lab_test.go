package e2e

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// lab is a local multi-node cluster made by deploy/lab/lab.sh: a control
// plane and nodes as network namespaces joined by a bridge in a namespace
// of the lab's own. The test talks to it through kubectl (the lab's
// kubeconfig, via the forwarder on the host's loopback) and looks inside
// pods with nsenter (minik8s has no exec API).
type lab struct {
	t     *testing.T
	dir   string
	id    int
	nodes int
	env   map[string]string // DIR/lab.env: ID, SOCK, SERVER, REGISTRY, BIN
}

const labScript = "../../deploy/lab/lab.sh"

// hostNetState is what must be the same before and after a lab: the
// machine's own routes, links and KUBE rules.
func hostNetState(t *testing.T) string {
	var b strings.Builder
	for _, args := range [][]string{{"ip", "route"}, {"ip", "-br", "link"}} {
		out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		b.Write(out)
	}
	out, _ := exec.Command("iptables-save").CombinedOutput()
	fmt.Fprintf(&b, "KUBE rules in the host: %d\n", strings.Count(string(out), "KUBE"))
	return b.String()
}

func startLab(t *testing.T, nodes int) *lab {
	requireRoot(t)
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Fatal("kubectl is not installed: run hack/install-deps.sh")
	}
	l := &lab{t: t, nodes: nodes}
	for {
		l.id = 100 + rand.Intn(150)
		if m, _ := filepath.Glob(fmt.Sprintf("/run/netns/mk-lab-%d-*", l.id)); len(m) == 0 {
			break
		}
	}
	l.dir = t.TempDir()
	before := hostNetState(t)
	t.Cleanup(func() {
		if t.Failed() {
			l.dumpLogs()
		}
		if out, err := exec.Command(labScript, "down", "--dir", l.dir).CombinedOutput(); err != nil {
			t.Errorf("lab.sh down: %v\n%s", err, out)
		}
		l.checkGone()
		if after := hostNetState(t); after != before {
			t.Errorf("the machine's network changed:\nbefore:\n%s\nafter:\n%s", before, after)
		}
	})
	start := time.Now()
	out, err := exec.Command(labScript, "up", "--nodes", fmt.Sprint(nodes), "--dir", l.dir,
		"--id", fmt.Sprint(l.id), "--bin", binDir).CombinedOutput()
	if err != nil {
		t.Fatalf("lab.sh up: %v\n%s", err, out)
	}
	t.Logf("lab %d with %d nodes up in %v", l.id, nodes, time.Since(start).Round(time.Millisecond))
	l.env = map[string]string{}
	b, err := os.ReadFile(filepath.Join(l.dir, "lab.env"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			l.env[k] = v
		}
	}
	return l
}

func (l *lab) dumpLogs() {
	logs, _ := filepath.Glob(filepath.Join(l.dir, "logs", "*.log"))
	for _, f := range logs {
		b, _ := os.ReadFile(f)
		if len(b) > 3000 {
			b = b[len(b)-3000:]
		}
		l.t.Logf("%s (tail):\n%s", filepath.Base(f), b)
	}
}

// checkGone verifies that `lab.sh down` left nothing behind.
func (l *lab) checkGone() {
	t := l.t
	if m, _ := filepath.Glob(fmt.Sprintf("/run/netns/mk-lab-%d-*", l.id)); len(m) > 0 {
		t.Errorf("network namespaces left: %v", m)
	}
	mi, _ := os.ReadFile("/proc/self/mountinfo")
	if strings.Contains(string(mi), l.dir+"/") {
		t.Errorf("mounts left under %s", l.dir)
	}
	if _, err := os.Stat(filepath.Join(l.dir, "containerd")); err == nil {
		t.Errorf("the lab's containerd root (and its namespaces) is still there")
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, _ := os.ReadFile(p)
		if cmd := strings.ReplaceAll(string(b), "\x00", " "); strings.Contains(cmd, l.dir) {
			t.Errorf("process left: %s: %s", p, cmd)
		}
	}
}

func (l *lab) kubectl(args ...string) string {
	l.t.Helper()
	out, err := exec.Command("kubectl", append([]string{"--kubeconfig", filepath.Join(l.dir, "kubeconfig")}, args...)...).CombinedOutput()
	if err != nil {
		l.t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func (l *lab) apply(yaml string) {
	l.t.Helper()
	f := filepath.Join(l.t.TempDir(), "m.yaml")
	os.WriteFile(f, []byte(yaml), 0o644)
	l.kubectl("apply", "-f", f)
}

func (l *lab) nodeIP(i int) string { return fmt.Sprintf("172.30.%d.%d", l.id, 10+i) }
func (l *lab) netns(i int) string  { return fmt.Sprintf("mk-lab-%d-node-%d", l.id, i) }

// eventually retries cond every 200 ms for up to d.
func (l *lab) eventually(d time.Duration, what string, cond func() (bool, string)) {
	l.t.Helper()
	deadline := time.Now().Add(d)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			l.t.Fatalf("%s: not within %v; last: %s", what, d, state)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// labPod is a running pod as the test sees it.
type labPod struct{ name, node, ip, uid string }

// pods lists the pods with a label selector.
func (l *lab) pods(selector string) []labPod {
	out := l.kubectl("get", "pods", "-l", selector, "-o",
		`jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName} {.status.podIP} {.metadata.uid} {.status.phase}{"\n"}{end}`)
	var ps []labPod
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 5 && f[4] == "Running" {
			ps = append(ps, labPod{f[0], f[1], f[2], f[3]})
		}
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].node < ps[j].node })
	return ps
}

// inPod runs a shell script inside a pod's container (its network, mount
// and UTS view, so its resolv.conf too): nsenter into the task's PID.
func (l *lab) inPod(p labPod, script string) string {
	l.t.Helper()
	node := strings.TrimPrefix(p.node, "node-")
	out, err := exec.Command("ctr", "-a", l.env["SOCK"], "-n", fmt.Sprintf("mk-lab-%d-node-%s", l.id, node), "tasks", "ls").CombinedOutput()
	if err != nil {
		l.t.Fatalf("ctr tasks ls: %v\n%s", err, out)
	}
	pid := ""
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) == 3 && strings.HasPrefix(f[0], p.uid+"_") && f[2] == "RUNNING" {
			pid = f[1]
		}
	}
	if pid == "" {
		l.t.Fatalf("no running task of pod %s on %s:\n%s", p.name, p.node, out)
	}
	cmd := exec.Command("timeout", "60", "nsenter", "-t", pid, "-n", "-m", "-u", "-r", "-w", "--", "/bin/sh", "-c", script)
	b, err := cmd.CombinedOutput()
	if err != nil {
		l.t.Fatalf("in pod %s: %v\n%s", p.name, err, b)
	}
	return string(b)
}

// fetch makes n requests to url from pod p and returns the answers (one
// line each; "FAIL" for a failed request). busybox wget gets no -T: with
// it Debian's static busybox 1.35 segfaults on a refused connection.
func (l *lab) fetch(p labPod, url string, n int) []string {
	l.t.Helper()
	out := l.inPod(p, fmt.Sprintf(`for i in $(seq %d); do r=$(wget -q -O- %s 2>/dev/null) && echo "$r" || echo FAIL; done`, n, url))
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		lines = append(lines, strings.TrimPrefix(sc.Text(), "hello from "))
	}
	return lines
}

// natRules is a node's nat table.
func (l *lab) natRules(i int) string {
	out, err := exec.Command("ip", "netns", "exec", l.netns(i), "iptables-save", "-t", "nat").CombinedOutput()
	if err != nil {
		l.t.Fatalf("iptables-save in %s: %v\n%s", l.netns(i), err, out)
	}
	return string(out)
}

// endpointsSynced waits until every node's rules for service svc have
// exactly n endpoint chains.
func (l *lab) endpointsSynced(svc string, n int) {
	l.t.Helper()
	l.eventually(30*time.Second, fmt.Sprintf("rules for %s with %d endpoints on every node", svc, n), func() (bool, string) {
		for i := 1; i <= l.nodes; i++ {
			got := 0
			for _, line := range strings.Split(l.natRules(i), "\n") {
				if strings.HasPrefix(line, "-A KUBE-SEP-") && strings.Contains(line, "DNAT") && strings.Contains(line, `"default/`+svc) {
					got++
				}
			}
			if got != n {
				return false, fmt.Sprintf("node-%d has %d", i, got)
			}
		}
		return true, ""
	})
}

func tally(answers []string) map[string]int {
	m := map[string]int{}
	for _, a := range answers {
		m[a]++
	}
	return m
}

// TestLabServicesAcrossNodes is issue 10's "done when" in a 3-node lab,
// plus issue 7's DaemonSet on every lab node.
func TestLabServicesAcrossNodes(t *testing.T) {
	l := startLab(t, 3)
	baseline := strings.Count(l.natRules(1), ":KUBE-SVC-")
	reg := l.env["REGISTRY"]
	l.apply(fmt.Sprintf(`apiVersion: apps/v1
kind: DaemonSet
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: %[1]s/minik8s/testserver:latest
        ports: [{containerPort: 8080, name: http}]
        readinessProbe: {httpGet: {path: /healthz, port: http}, periodSeconds: 1, failureThreshold: 1}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80, targetPort: http}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: scale}
spec:
  replicas: 3
  selector: {matchLabels: {app: scale}}
  template:
    metadata: {labels: {app: scale}}
    spec:
      containers:
      - name: web
        image: %[1]s/minik8s/testserver:latest
        ports: [{containerPort: 8080}]
        readinessProbe: {httpGet: {path: /healthz, port: 8080}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: scale}
spec:
  selector: {app: scale}
  ports: [{port: 80, targetPort: 8080}]
`, reg))

	// Issue 7: a DaemonSet pod on every lab node, and its status says so.
	var web []labPod
	l.eventually(90*time.Second, "a ready web pod on every node", func() (bool, string) {
		web = l.pods("app=web")
		st := l.kubectl("get", "daemonset", "web", "-o", "jsonpath={.status.desiredNumberScheduled} {.status.numberReady}")
		nodes := map[string]bool{}
		for _, p := range web {
			nodes[p.node] = true
		}
		return len(web) == 3 && len(nodes) == 3 && st == "3 3", fmt.Sprintf("pods %v, status %q", web, st)
	})
	l.endpointsSynced("web", 3)
	l.endpointsSynced("scale", 3)
	clusterIP := l.kubectl("get", "svc", "web", "-o", "jsonpath={.spec.clusterIP}")
	nodePort := l.kubectl("get", "svc", "web", "-o", "jsonpath={.spec.ports[0].nodePort}")
	names := map[string]bool{}
	for _, p := range web {
		names[p.name] = true
	}

	t.Run("every node reaches every endpoint by ClusterIP, DNS name and NodePort", func(t *testing.T) {
		for i, p := range web {
			other := l.nodeIP((i+1)%3 + 1) // a NodePort on another node
			for _, url := range []string{
				"http://" + clusterIP + "/",
				"http://web.default.svc.cluster.local/",
				"http://" + other + ":" + nodePort + "/",
			} {
				got := tally(l.fetch(p, url, 30))
				if got["FAIL"] > 0 || len(got) != 3 {
					t.Errorf("from %s on %s, %s: got %v; want all 3 pods of %v and no failure", p.name, p.node, url, got, names)
				}
				for n := range got {
					if !names[n] {
						t.Errorf("from %s, %s: answer %q is not a web pod", p.name, url, n)
					}
				}
			}
		}
	})

	t.Run("a pod reaches a pod on another node by IP, without NAT", func(t *testing.T) {
		for i, p := range web {
			q := web[(i+1)%3]
			got := strings.TrimSpace(l.inPod(p, "wget -q -O- http://"+q.ip+":8080/remote"))
			if host, _, _ := strings.Cut(got, ":"); host != p.ip {
				t.Errorf("%s (%s) -> %s (%s): the server saw %q; want the client's own IP %s", p.name, p.node, q.name, q.node, got, p.ip)
			}
		}
	})

	t.Run("a not-ready pod receives no traffic", func(t *testing.T) {
		sick := web[1]
		l.inPod(web[0], "wget -q -O- http://"+sick.ip+":8080/fail")
		l.endpointsSynced("web", 2)
		for _, p := range web {
			got := tally(l.fetch(p, "http://"+clusterIP+"/", 30))
			if got[sick.name] > 0 || got["FAIL"] > 0 {
				t.Errorf("from %s: got %v; want no answer from not-ready %s and no failure", p.name, got, sick.name)
			}
		}
		l.inPod(web[0], "wget -q -O- http://"+sick.ip+":8080/heal")
		l.endpointsSynced("web", 3)
	})

	t.Run("scaling down removes endpoints from rotation", func(t *testing.T) {
		l.kubectl("scale", "deployment", "scale", "--replicas", "1")
		l.endpointsSynced("scale", 1)
		left := ""
		l.eventually(60*time.Second, "one scale pod left", func() (bool, string) {
			ps := l.pods("app=scale")
			if len(ps) == 1 {
				left = ps[0].name
			}
			return len(ps) == 1, fmt.Sprint(ps)
		})
		for _, p := range web {
			got := tally(l.fetch(p, "http://scale/", 20))
			if len(got) != 1 || got[left] != 20 {
				t.Errorf("from %s: got %v; want all 20 from %s", p.name, got, left)
			}
		}
	})

	t.Run("kubectl logs reaches the agent in the node's namespace", func(t *testing.T) {
		for _, p := range web {
			if out := l.kubectl("logs", p.name); !strings.Contains(out, "GET /healthz") {
				t.Errorf("kubectl logs %s: got %q; want the probe requests", p.name, out)
			}
		}
		// The agents serve HTTPS for their node's name and only to the API
		// server: a request without a certificate, or with another node's,
		// is refused.
		pki := filepath.Join(l.dir, "pki")
		p := web[0]
		i, _ := strconv.Atoi(strings.TrimPrefix(p.node, "node-"))
		for _, tc := range []struct {
			cert string
			want string
		}{{"", "401"}, {"node-node-2", "403"}, {"apiserver-kubelet-client", "200"}} {
			args := []string{"netns", "exec", l.netns(i), "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
				"--cacert", filepath.Join(pki, "ca.crt"), "--resolve", fmt.Sprintf("%s:10250:%s", p.node, l.nodeIP(i))}
			if tc.cert != "" {
				args = append(args, "--cert", filepath.Join(pki, tc.cert+".crt"), "--key", filepath.Join(pki, tc.cert+".key"))
			}
			args = append(args, fmt.Sprintf("https://%s:10250/containerLogs/default/%s/web", p.node, p.name))
			out, _ := exec.Command("ip", args...).CombinedOutput()
			if got := strings.TrimSpace(string(out)); got != tc.want {
				t.Errorf("GET %s's logs from its agent with certificate %q: %s; want %s", p.name, tc.cert, got, tc.want)
			}
		}
	})

	t.Run("a pod reads the API with its ServiceAccount token, as far as RBAC allows", func(t *testing.T) {
		l.apply(fmt.Sprintf(`apiVersion: v1
kind: ServiceAccount
metadata: {name: reader}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pod-reader}
rules:
- {apiGroups: [""], resources: [pods], verbs: [get, list, watch]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reader-reads-pods}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-reader}
subjects: [{kind: ServiceAccount, name: reader, namespace: default}]
---
apiVersion: v1
kind: Pod
metadata: {name: api-client, labels: {app: api-client}}
spec:
  serviceAccountName: reader
  containers:
  - {name: c, image: %s/minik8s/testserver:latest}
`, reg))
		var me labPod
		l.eventually(60*time.Second, "the api-client pod running", func() (bool, string) {
			ps := l.pods("app=api-client")
			if len(ps) == 1 {
				me = ps[0]
			}
			return len(ps) == 1, fmt.Sprint(ps)
		})
		// The testserver's /kube does a GET as the pod's ServiceAccount
		// (client.InCluster) and answers the status code.
		ask := func(p labPod, path string) string {
			return strings.TrimSpace(l.inPod(p, "wget -q -O- 'http://127.0.0.1:8080/kube?path="+path+"'"))
		}
		for _, tc := range []struct {
			who        labPod
			path, want string
		}{
			{me, "/api/v1/namespaces/default/pods", "200"},
			{me, "/api/v1/namespaces/default/pods/api-client", "200"},
			{me, "/api/v1/namespaces/default/secrets", `403 secrets is forbidden: User "system:serviceaccount:default:reader" cannot list resource "secrets"`},
			{me, "/api/v1/namespaces/kube-system/pods", `403 pods is forbidden: User "system:serviceaccount:default:reader" cannot list resource "pods" in API group "" in the namespace "kube-system"`},
			{web[0], "/api/v1/namespaces/default/pods", `403 pods is forbidden: User "system:serviceaccount:default:default"`},
		} {
			if got := ask(tc.who, tc.path); !strings.HasPrefix(got, tc.want) {
				t.Errorf("%s GET %s: %q; want %q", tc.who.name, tc.path, got, tc.want)
			}
		}
		if env := l.inPod(me, "wget -q -O- http://127.0.0.1:8080/env"); !strings.Contains(env, "KUBERNETES_SERVICE_HOST=10.96.0.1") {
			t.Errorf("the pod's environment lacks KUBERNETES_SERVICE_HOST=10.96.0.1:\n%s", env)
		}
		// The agent replaces a token at 80% of its lifetime. Put one in
		// that is long past that (and, not being signed, refused): the
		// agent must swap it for a fresh one and the pod's client works
		// again without a restart.
		tokens, _ := filepath.Glob(filepath.Join(l.dir, "nodes", me.node, "pods", me.uid, "volumes", "kube-api-access-*", "token"))
		if len(tokens) != 1 {
			t.Fatalf("the pod's token files on %s: %v; want one", me.node, tokens)
		}
		b64 := base64.RawURLEncoding.EncodeToString
		stale := b64([]byte(`{"alg":"ES256"}`)) + "." + b64([]byte(`{"iat":1000,"exp":5000}`)) + ".c2ln"
		if err := os.WriteFile(tokens[0], []byte(stale), 0o644); err != nil {
			t.Fatal(err)
		}
		l.eventually(30*time.Second, "the stale token replaced and accepted", func() (bool, string) {
			got := ask(me, "/api/v1/namespaces/default/pods")
			b, _ := os.ReadFile(tokens[0])
			return got == "200" && string(b) != stale, got
		})
		// Deleting the ServiceAccount revokes the token the pod holds.
		l.kubectl("delete", "serviceaccount", "reader")
		l.eventually(20*time.Second, "the deleted ServiceAccount's token refused", func() (bool, string) {
			got := ask(me, "/api/v1/namespaces/default/pods")
			return strings.HasPrefix(got, "401"), got
		})
		audit, err := os.ReadFile(filepath.Join(l.dir, "logs", "audit.log"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(audit), `"username":"system:serviceaccount:default:reader"`) {
			t.Errorf("the audit log has no request by the pod's ServiceAccount")
		}
		l.kubectl("delete", "pod", "api-client", "--grace-period", "1")
	})

	t.Run("deleting a Service removes its rules", func(t *testing.T) {
		l.kubectl("delete", "service", "web", "scale")
		l.eventually(30*time.Second, "only the kubernetes Service's rules left", func() (bool, string) {
			for i := 1; i <= 3; i++ {
				if n := strings.Count(l.natRules(i), ":KUBE-SVC-"); n != baseline {
					return false, fmt.Sprintf("node-%d has %d KUBE-SVC chains; want %d", i, n, baseline)
				}
			}
			return true, ""
		})
	})
}
