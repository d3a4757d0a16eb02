package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"minik8s/pkg/apis"
	"minik8s/pkg/apis/apierrors"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/intstr"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/apis/resource"
	"minik8s/pkg/client"
)

// TestNodeAgent runs the node agent against a real apiserver, containerd,
// runc and CNI. The subtests share one node (they use different pods) to
// keep the suite short; each checks one behaviour from issue 4.
func TestNodeAgent(t *testing.T) {
	e := newNodeEnv(t)
	t.Run("TwoContainersShareLocalhostAndEmptyDir", e.testSharedPod)
	t.Run("ContainersShareIPCAndHostname", e.testSharedIPC)
	t.Run("EnvAndVolumesFromConfigMapAndSecret", e.testConfig)
	t.Run("InitContainersRunInOrderAndAFailureBlocks", e.testInit)
	t.Run("CrashingContainerBacksOff", e.testBackoff)
	t.Run("MemoryLimitOOMKills", e.testOOM)
	t.Run("BadImageIsErrImagePull", e.testBadImage)
	t.Run("ProbesRestartAndFlipReady", e.testProbes)
	t.Run("Logs", e.testLogs)
	t.Run("GracefulDeletion", e.testGracefulDelete)
	t.Run("Kill9AdoptsAndCleansUp", e.testAdopt)
	t.Run("DeploymentRollsOutWithRealContainers", e.testRollout)
	t.Run("StatefulSetPodKeepsItsData", e.testStatefulData)
	t.Run("JobComputesAndCompletes", e.testJob)
}

// testJob: a Job's pod computes something on the real node and exits 0;
// the Job completes and kubectl shows the result.
func (e *nodeEnv) testJob(t *testing.T) {
	start(t, "controller-manager", "--server", e.url, "--listen", "", "--leader-elect=false")
	start(t, "scheduler", "--server", e.url, "--listen", "", "--leader-elect=false")
	k := newKubectl(t, e.url)
	k.ok("apply", "-f", k.writeFile("answer.yaml", `apiVersion: batch/v1
kind: Job
metadata:
  name: answer
spec:
  completions: 2
  parallelism: 2
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: calc
        image: `+e.image("busybox")+`
        imagePullPolicy: IfNotPresent
        command: ["sh", "-c", "echo answer=$((6 * 7))"]
`))
	wantLines(t, "wait", k.ok("wait", "--for=condition=complete", "job/answer", "--timeout=90s"), "job.batch/answer condition met")
	wantLines(t, "get jobs", k.ok("get", "jobs"), "NAME STATUS COMPLETIONS DURATION AGE", "answer Complete 2/2")
	wantLines(t, "logs", k.ok("logs", "job/answer"), "answer=42")
	phases := k.ok("get", "pods", "-l", "job-name=answer", "-o", "jsonpath={.items[*].status.phase}")
	if phases != "Succeeded Succeeded" {
		t.Errorf("job pods: %q; want two Succeeded", phases)
	}
}

// testStatefulData: a StatefulSet pod writes an identity to its claimed
// volume once; deleted and re-created, the new pod reads the same one.
func (e *nodeEnv) testStatefulData(t *testing.T) {
	start(t, "controller-manager", "--server", e.url, "--listen", "", "--leader-elect=false", "--volume-dir", t.TempDir())
	start(t, "scheduler", "--server", e.url, "--listen", "", "--leader-elect=false")
	k := newKubectl(t, e.url)
	k.ok("apply", "-f", k.writeFile("db.yaml", `apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
spec:
  replicas: 1
  serviceName: db
  selector:
    matchLabels: {app: db}
  template:
    metadata:
      labels: {app: db}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: db
        image: `+e.image("busybox")+`
        imagePullPolicy: IfNotPresent
        command: ["sh", "-c", "[ -f /data/id ] || cat /proc/sys/kernel/random/uuid > /data/id; echo id=$(cat /data/id); sleep 3600"]
        volumeMounts:
        - {name: data, mountPath: /data}
  volumeClaimTemplates:
  - metadata:
      name: data
    spec:
      accessModes: [ReadWriteOnce]
      resources:
        requests: {storage: 1Gi}
`))
	first := e.waitLogLine(t, "db-0", "id=")
	uid1 := k.ok("get", "pod", "db-0", "-o", "jsonpath={.metadata.uid}")
	wantLines(t, "delete db-0", k.ok("delete", "pod", "db-0"), `pod "db-0" deleted`)
	deadline := time.Now().Add(60 * time.Second)
	for {
		uid, code := k.run("get", "pod", "db-0", "-o", "jsonpath={.metadata.uid}")
		if code == 0 && uid != uid1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("db-0 was not re-created within 60s")
		}
		time.Sleep(200 * time.Millisecond)
	}
	if second := e.waitLogLine(t, "db-0", "id="); second != first {
		t.Errorf("the re-created db-0 read %q; want the first pod's %q from the same volume", second, first)
	}
	wantLines(t, "pvc", k.ok("get", "pvc"), "data-db-0 Bound")
}

// waitLogLine waits for a line starting with prefix in the pod's logs
// (container of the only container) and returns it.
func (e *nodeEnv) waitLogLine(t *testing.T, pod, prefix string) string {
	t.Helper()
	k := newKubectl(t, e.url)
	deadline := time.Now().Add(90 * time.Second)
	for {
		out, code := k.run("logs", pod)
		if code == 0 {
			for _, l := range strings.Split(out, "\n") {
				if strings.HasPrefix(l, prefix) {
					return l
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q line in the logs of %s within 90s: %s", prefix, pod, out)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// testRollout runs the whole control plane on the real node: the
// scheduler places a Deployment's pods on it, the agent runs them, and a
// rolling update replaces every container.
func (e *nodeEnv) testRollout(t *testing.T) {
	start(t, "controller-manager", "--server", e.url, "--listen", "", "--leader-elect=false")
	start(t, "scheduler", "--server", e.url, "--listen", "", "--leader-elect=false")
	k := newKubectl(t, e.url)
	manifest := func(version string) string {
		return k.writeFile("web-"+version+".yaml", `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  strategy:
    rollingUpdate: {maxSurge: 1, maxUnavailable: 0}
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      terminationGracePeriodSeconds: 2
      containers:
      - name: web
        image: `+e.image("testserver")+`
        imagePullPolicy: IfNotPresent
        env:
        - {name: VERSION, value: "`+version+`"}
        readinessProbe:
          httpGet: {path: /healthz, port: 8080}
          periodSeconds: 1
`)
	}
	k.ok("apply", "-f", manifest("1"))
	wantLines(t, "rollout v1", k.ok("rollout", "status", "deploy/web", "--timeout=120s"), `deployment "web" successfully rolled out`)
	k.ok("apply", "-f", manifest("2"))
	wantLines(t, "rollout v2", k.ok("rollout", "status", "deploy/web", "--timeout=120s"), `deployment "web" successfully rolled out`)
	// Every running pod is a v2 pod whose container really runs and
	// answers with the new environment.
	pods := k.ok("get", "pods", "-l", "app=web", "-o", `jsonpath={range .items[*]}{.metadata.name} {.status.podIP} {.spec.containers[0].env[0].value} {.metadata.deletionTimestamp}{"\n"}{end}`)
	live := 0
	for _, line := range strings.Split(strings.TrimSpace(pods), "\n") {
		f := strings.Fields(line)
		if len(f) == 4 {
			continue // terminating
		}
		if len(f) != 3 || f[2] != "2" {
			t.Errorf("pod line %q: want a live v2 pod", line)
			continue
		}
		live++
		if body := e.httpGetInNode(t, f[1], "/env"); !strings.Contains(body, "VERSION=2") {
			t.Errorf("pod %s answers %q; want its environment with VERSION=2", f[0], body)
		}
	}
	if live != 3 {
		t.Errorf("%d live pods after the rollout; want 3:\n%s", live, pods)
	}
}

var podKind, _ = apis.ByKind("", "Pod")

func (e *nodeEnv) pod(name string, cs ...core.Container) *core.Pod {
	for i := range cs {
		cs[i].ImagePullPolicy = core.PullIfNotPresent
	}
	return &core.Pod{ObjectMeta: meta.ObjectMeta{Name: name, Namespace: "default"},
		Spec: core.PodSpec{NodeName: e.node, Containers: cs}}
}

func (e *nodeEnv) create(t *testing.T, p *core.Pod) {
	t.Helper()
	if err := e.c.Create(context.Background(), p); err != nil {
		t.Fatal(err)
	}
}

// waitPod polls the pod until cond holds (up to timeout) and returns it.
func (e *nodeEnv) waitPod(t *testing.T, name string, timeout time.Duration, what string, cond func(*core.Pod) bool) *core.Pod {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var p core.Pod
	for {
		p = core.Pod{}
		err := e.c.Get(context.Background(), "default", name, &p)
		if err == nil && cond(&p) {
			return &p
		}
		if time.Now().After(deadline) {
			t.Fatalf("pod %s: %s not reached within %s; phase %s, containers: %s (err %v)", name, what, timeout, p.Status.Phase, describeContainers(&p), err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func running(p *core.Pod) bool { return p.Status.Phase == core.PodRunning && allRunning(p) }

func allRunning(p *core.Pod) bool {
	if len(p.Status.ContainerStatuses) == 0 {
		return false
	}
	for _, cs := range p.Status.ContainerStatuses {
		if cs.State.Running == nil {
			return false
		}
	}
	return true
}

func ready(p *core.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == core.PodReady {
			return c.Status == core.ConditionTrue
		}
	}
	return false
}

func (e *nodeEnv) logs(t *testing.T, pod, container, query string) string {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://%s/containerLogs/default/%s/%s?%s", e.agentAddr, pod, container, query))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func (e *nodeEnv) waitLogs(t *testing.T, pod, container, want string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := e.logs(t, pod, container, "")
		if strings.Contains(got, want) {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("logs of %s/%s = %q; want them to contain %q", pod, container, got, want)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func sh(name, script string) core.Container {
	return core.Container{Name: name, Image: "", Command: []string{"sh", "-c", script}}
}

func (e *nodeEnv) bb(c core.Container) core.Container { c.Image = e.image("busybox"); return c }

func (e *nodeEnv) testSharedPod(t *testing.T) {
	p := e.pod("shared",
		core.Container{Name: "server", Image: e.image("testserver"), VolumeMounts: []core.VolumeMount{{Name: "data", MountPath: "/data"}}},
		e.bb(sh("client", "echo from-client > /data/f; while true; do wget -q -O - http://localhost:8080/ && break; sleep 0.2; done; sleep 3600")),
	)
	p.Spec.Containers[1].VolumeMounts = []core.VolumeMount{{Name: "data", MountPath: "/data"}}
	p.Spec.Volumes = []core.Volume{{Name: "data", VolumeSource: core.VolumeSource{EmptyDir: &core.EmptyDirVolumeSource{}}}}
	e.create(t, p)
	got := e.waitPod(t, "shared", 60*time.Second, "Running and Ready", func(p *core.Pod) bool { return running(p) && ready(p) })
	if got.Status.PodIP == "" || !strings.HasPrefix(got.Status.PodIP, "10.244.7.") {
		t.Errorf("podIP = %q; want an address in 10.244.7.0/24", got.Status.PodIP)
	}
	e.waitLogs(t, "shared", "client", "hello from shared")
	// The pod answers on its IP from the node's namespace.
	if out, err := e.inNode("/bin/busybox", "wget", "-q", "-O", "-", "http://"+got.Status.PodIP+":8080/"); err != nil || !strings.Contains(out, "hello") {
		t.Errorf("wget from the node = %q, %v; want hello", out, err)
	}
}

// testSharedIPC: the containers of a pod are in one IPC namespace with one
// /dev/shm and one UTS namespace holding the pod's hostname, as in
// Kubernetes; another pod is not. Deleting the pod unmounts all of it.
func (e *nodeEnv) testSharedIPC(t *testing.T) {
	show := `echo "ipc=$(readlink /proc/self/ns/ipc) uts=$(readlink /proc/self/ns/uts) host=$(hostname)"; `
	quick := func(p *core.Pod) *core.Pod { g := int64(0); p.Spec.TerminationGracePeriodSeconds = &g; return p }
	e.create(t, quick(e.pod("ipc",
		e.bb(sh("a", show+"echo shm-from-a > /dev/shm/x; sleep 3600")),
		e.bb(sh("b", "while [ ! -f /dev/shm/x ]; do sleep 0.1; done; echo read=$(cat /dev/shm/x); "+show+"sleep 3600")),
	)))
	e.create(t, quick(e.pod("ipc-other", e.bb(sh("c", show+"echo \"shm=[$(ls /dev/shm)]\"; sleep 3600")))))
	got := e.waitPod(t, "ipc", 60*time.Second, "Running", running)
	e.waitPod(t, "ipc-other", 60*time.Second, "Running", running)
	field := func(logs, key string) string {
		i := strings.Index(logs, key+"=")
		if i < 0 {
			return ""
		}
		return strings.Fields(logs[i+len(key)+1:])[0]
	}
	a := e.waitLogs(t, "ipc", "a", "ipc=")
	b := e.waitLogs(t, "ipc", "b", "ipc=")
	c := e.waitLogs(t, "ipc-other", "c", "shm=")
	if got := field(b, "read"); got != "shm-from-a" {
		t.Errorf("b read %q from /dev/shm/x; want what a wrote (logs %q)", got, b)
	}
	for _, k := range []string{"ipc", "uts"} {
		if field(a, k) == "" || field(a, k) != field(b, k) {
			t.Errorf("%s namespace of a = %q, of b = %q; want one shared namespace", k, field(a, k), field(b, k))
		}
		if field(c, k) == field(a, k) {
			t.Errorf("%s namespace of another pod = %q; want its own", k, field(c, k))
		}
	}
	if field(a, "host") != "ipc" || field(b, "host") != "ipc" {
		t.Errorf("hostnames %q, %q; want the pod's name", field(a, "host"), field(b, "host"))
	}
	if field(c, "shm") != "[]" {
		t.Errorf("another pod sees this pod's /dev/shm: %q", c)
	}
	for _, name := range []string{"ipc", "ipc-other"} {
		if err := e.c.Delete(context.Background(), podKind, "default", name, nil); err != nil {
			t.Fatal(err)
		}
		e.waitGone(t, name, 60*time.Second)
	}
	// With a grace period of 0 the pod object goes at once; the agent
	// cleans up after it.
	deadline := time.Now().Add(20 * time.Second)
	for {
		mi, err := os.ReadFile("/proc/self/mountinfo")
		if err != nil {
			t.Fatal(err)
		}
		left := grepLines(string(mi), got.UID)
		if left == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("mounts of the deleted pod are left:\n%s", left)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitEvents waits until the pod has events with each of the reasons.
func (e *nodeEnv) waitEvents(t *testing.T, pod string, reasons ...string) {
	t.Helper()
	eventKind, _ := apis.ByKind("", "Event")
	deadline := time.Now().Add(20 * time.Second)
	for {
		objs, _, err := e.c.List(context.Background(), eventKind, "default", client.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, o := range objs {
			if ev := o.(*core.Event); ev.InvolvedObject.Name == pod {
				seen[ev.Reason] = true
			}
		}
		var missing []string
		for _, r := range reasons {
			if !seen[r] {
				missing = append(missing, r)
			}
		}
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pod %s has no events with reasons %v (has %v)", pod, missing, seen)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func (e *nodeEnv) testConfig(t *testing.T) {
	ctx := context.Background()
	if err := e.c.Create(ctx, &core.ConfigMap{ObjectMeta: meta.ObjectMeta{Name: "cfg", Namespace: "default"}, Data: map[string]string{"color": "blue", "app.conf": "debug=true"}}); err != nil {
		t.Fatal(err)
	}
	if err := e.c.Create(ctx, &core.Secret{ObjectMeta: meta.ObjectMeta{Name: "sec", Namespace: "default"}, Data: map[string][]byte{"password": []byte("s3cret")}}); err != nil {
		t.Fatal(err)
	}
	c := e.bb(sh("main", `echo "COLOR=$COLOR PASSWORD=$PASSWORD POD=$MY_POD FROM_color=$FROM_color"; cat /etc/cfg/app.conf; echo; sleep 3600`))
	c.Env = []core.EnvVar{
		{Name: "COLOR", ValueFrom: &core.EnvVarSource{ConfigMapKeyRef: &core.ConfigMapKeySelector{LocalObjectReference: core.LocalObjectReference{Name: "cfg"}, Key: "color"}}},
		{Name: "PASSWORD", ValueFrom: &core.EnvVarSource{SecretKeyRef: &core.SecretKeySelector{LocalObjectReference: core.LocalObjectReference{Name: "sec"}, Key: "password"}}},
		{Name: "MY_POD", ValueFrom: &core.EnvVarSource{FieldRef: &core.ObjectFieldSelector{FieldPath: "metadata.name"}}},
	}
	c.EnvFrom = []core.EnvFromSource{{Prefix: "FROM_", ConfigMapRef: &core.ConfigMapEnvSource{LocalObjectReference: core.LocalObjectReference{Name: "cfg"}}}}
	c.VolumeMounts = []core.VolumeMount{{Name: "cfg", MountPath: "/etc/cfg"}}
	p := e.pod("config", c)
	p.Spec.Volumes = []core.Volume{{Name: "cfg", VolumeSource: core.VolumeSource{ConfigMap: &core.ConfigMapVolumeSource{LocalObjectReference: core.LocalObjectReference{Name: "cfg"}}}}}
	e.create(t, p)
	e.waitLogs(t, "config", "main", "COLOR=blue PASSWORD=s3cret POD=config FROM_color=blue")
	e.waitLogs(t, "config", "main", "debug=true")
}

func (e *nodeEnv) testInit(t *testing.T) {
	p := e.pod("init", e.bb(sh("app", "cat /work/order; sleep 3600")))
	p.Spec.Containers[0].VolumeMounts = []core.VolumeMount{{Name: "work", MountPath: "/work"}}
	p.Spec.Volumes = []core.Volume{{Name: "work", VolumeSource: core.VolumeSource{EmptyDir: &core.EmptyDirVolumeSource{}}}}
	for _, n := range []string{"first", "second"} {
		ic := e.bb(sh(n, "echo "+n+" >> /work/order"))
		ic.ImagePullPolicy = core.PullIfNotPresent
		ic.VolumeMounts = []core.VolumeMount{{Name: "work", MountPath: "/work"}}
		p.Spec.InitContainers = append(p.Spec.InitContainers, ic)
	}
	e.create(t, p)
	e.waitPod(t, "init", 60*time.Second, "Running", running)
	if got := e.waitLogs(t, "init", "app", "second"); got != "first\nsecond\n" {
		t.Errorf("app saw %q; want the init containers in order, %q", got, "first\nsecond\n")
	}

	bad := e.pod("init-fails", e.bb(sh("app", "sleep 3600")))
	ic := e.bb(sh("broken", "exit 3"))
	ic.ImagePullPolicy = core.PullIfNotPresent
	bad.Spec.InitContainers = []core.Container{ic}
	bad.Spec.RestartPolicy = core.RestartPolicyNever
	e.create(t, bad)
	got := e.waitPod(t, "init-fails", 60*time.Second, "Failed", func(p *core.Pod) bool { return p.Status.Phase == core.PodFailed })
	if cs := got.Status.ContainerStatuses; len(cs) != 1 || cs[0].State.Running != nil || cs[0].ContainerID != "" {
		t.Errorf("app container status = %+v; want it never started", cs)
	}
}

func (e *nodeEnv) testBackoff(t *testing.T) {
	for _, tc := range []struct {
		policy    string
		exit      string
		wantPhase string
		restarts  bool
	}{
		{core.RestartPolicyAlways, "exit 0", "", true},
		{core.RestartPolicyOnFailure, "exit 1", "", true},
		{core.RestartPolicyOnFailure, "exit 0", core.PodSucceeded, false},
		{core.RestartPolicyNever, "exit 1", core.PodFailed, false},
	} {
		name := strings.ToLower(fmt.Sprintf("crash-%s-%s", tc.policy, strings.ReplaceAll(tc.exit, " ", "")))
		p := e.pod(name, e.bb(sh("main", "echo run; "+tc.exit)))
		p.Spec.RestartPolicy = tc.policy
		e.create(t, p)
		if !tc.restarts {
			got := e.waitPod(t, name, 30*time.Second, tc.wantPhase, func(p *core.Pod) bool { return p.Status.Phase == tc.wantPhase })
			if r := got.Status.ContainerStatuses[0].RestartCount; r != 0 {
				t.Errorf("%s: restartCount = %d; want 0", name, r)
			}
			continue
		}
		// Backoff 1 s doubling: restarts 1, 2 and 3 come about 1, 2, 4 s apart.
		var times []time.Time
		last := int32(0)
		e.waitPod(t, name, 40*time.Second, "restartCount 3", func(p *core.Pod) bool {
			if len(p.Status.ContainerStatuses) == 0 {
				return false
			}
			cs := p.Status.ContainerStatuses[0]
			if cs.RestartCount > last {
				last = cs.RestartCount
				times = append(times, time.Now())
			}
			if w := cs.State.Waiting; w != nil && w.Reason == "CrashLoopBackOff" && cs.LastState.Terminated == nil {
				t.Errorf("CrashLoopBackOff without lastState: %+v", cs)
			}
			return cs.RestartCount >= 3
		})
		if len(times) >= 3 && times[2].Sub(times[1]) < times[1].Sub(times[0]) {
			t.Errorf("%s: restart gaps %v then %v; want growing backoff", name, times[1].Sub(times[0]), times[2].Sub(times[1]))
		}
		e.waitEvents(t, name, "Pulled", "Created", "Started", "BackOff")
	}
}

func (e *nodeEnv) testOOM(t *testing.T) {
	c := e.bb(sh("hog", "dd if=/dev/zero of=/dev/null bs=64M count=1"))
	c.Resources.Limits = core.ResourceList{"memory": resource.MustParse("16Mi")}
	p := e.pod("oom", c)
	p.Spec.RestartPolicy = core.RestartPolicyNever
	e.create(t, p)
	// The exit and the OOM event reach the agent separately, so the first
	// status may say Error for a moment; it must settle on OOMKilled.
	e.waitPod(t, "oom", 30*time.Second, "Failed with OOMKilled", func(p *core.Pod) bool {
		if p.Status.Phase != core.PodFailed || len(p.Status.ContainerStatuses) == 0 {
			return false
		}
		term := p.Status.ContainerStatuses[0].State.Terminated
		return term != nil && term.Reason == "OOMKilled" && term.ExitCode == 137
	})
}

func (e *nodeEnv) testBadImage(t *testing.T) {
	p := e.pod("bad-image", core.Container{Name: "main", Image: e.registry + "/minik8s/nope:latest"})
	e.create(t, p)
	e.waitPod(t, "bad-image", 30*time.Second, "ErrImagePull or ImagePullBackOff", func(p *core.Pod) bool {
		if len(p.Status.ContainerStatuses) == 0 || p.Status.ContainerStatuses[0].State.Waiting == nil {
			return false
		}
		r := p.Status.ContainerStatuses[0].State.Waiting.Reason
		return r == "ErrImagePull" || r == "ImagePullBackOff"
	})
	// Other pods are unaffected.
	e.create(t, e.pod("beside-bad-image", e.bb(sh("main", "sleep 3600"))))
	e.waitPod(t, "beside-bad-image", 30*time.Second, "Running", running)
	e.waitEvents(t, "bad-image", "Failed", "BackOff")
}

func (e *nodeEnv) testProbes(t *testing.T) {
	get := func(ip, path string) {
		if out, err := e.inNode("/bin/busybox", "wget", "-q", "-O", "-", "http://"+ip+":8080"+path); err != nil {
			t.Fatalf("GET %s: %v %s", path, err, out)
		}
	}
	// Readiness follows /healthz both ways.
	rc := core.Container{Name: "server", Image: e.image("testserver")}
	rc.ReadinessProbe = &core.Probe{PeriodSeconds: 1, FailureThreshold: 1}
	rc.ReadinessProbe.HTTPGet = &core.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt(8080)}
	e.create(t, e.pod("ready-flip", rc))
	p := e.waitPod(t, "ready-flip", 60*time.Second, "Ready", ready)
	get(p.Status.PodIP, "/fail")
	e.waitPod(t, "ready-flip", 20*time.Second, "not Ready", func(p *core.Pod) bool { return !ready(p) && running(p) })
	get(p.Status.PodIP, "/heal")
	e.waitPod(t, "ready-flip", 20*time.Second, "Ready again", ready)

	// A failing liveness probe restarts the container.
	lc := core.Container{Name: "server", Image: e.image("testserver")}
	lc.LivenessProbe = &core.Probe{PeriodSeconds: 1, FailureThreshold: 2}
	lc.LivenessProbe.HTTPGet = &core.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt(8080)}
	lc.ReadinessProbe = &core.Probe{PeriodSeconds: 1}
	lc.ReadinessProbe.Exec = &core.ExecAction{Command: []string{"true"}}
	e.create(t, e.pod("liveness", lc))
	p = e.waitPod(t, "liveness", 60*time.Second, "Ready", ready)
	get(p.Status.PodIP, "/fail")
	e.waitPod(t, "liveness", 30*time.Second, "restarted after liveness failures", func(p *core.Pod) bool {
		return len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].RestartCount >= 1 && ready(p)
	})
}

func (e *nodeEnv) testLogs(t *testing.T) {
	e.create(t, e.pod("logger", e.bb(sh("main", "for i in 1 2 3 4 5; do echo line $i; done; sleep 1; echo late; sleep 3600"))))
	e.waitLogs(t, "logger", "main", "late")
	if got := e.logs(t, "logger", "main", "tailLines=2"); got != "line 5\nlate\n" {
		t.Errorf("tailLines=2 gave %q; want %q", got, "line 5\nlate\n")
	}
	if got := e.logs(t, "logger", "main", "limitBytes=6"); got != "line 1" {
		t.Errorf("limitBytes=6 gave %q; want %q", got, "line 1")
	}
	if got := e.logs(t, "logger", "main", "timestamps=true&tailLines=1"); !strings.HasSuffix(got, " late\n") || !strings.Contains(got, "T") {
		t.Errorf("timestamps gave %q; want an RFC 3339 time before the line", got)
	}
	// kubectl logs goes through the API server, which proxies to the agent.
	k := newKubectl(t, e.url)
	if got := k.ok("logs", "logger"); got != "line 1\nline 2\nline 3\nline 4\nline 5\nlate\n" {
		t.Errorf("kubectl logs: %q", got)
	}
	if got := k.ok("logs", "logger", "--tail=1"); got != "late\n" {
		t.Errorf("kubectl logs --tail=1: %q; want %q", got, "late\n")
	}
	// follow streams lines written later.
	e.create(t, e.pod("ticker", e.bb(sh("main", "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.3; done"))))
	e.waitLogs(t, "ticker", "main", "tick 0")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+e.agentAddr+"/containerLogs/default/ticker/main?follow=true", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if n := strings.Count(string(b), "tick"); n < 5 {
		t.Errorf("follow for 3s gave %d lines (%q); want new lines as they come", n, b)
	}
	// And kubectl logs -f, through the API server's streaming proxy.
	kf := k.cmd("logs", "-f", "ticker")
	out, _ := kf.StdoutPipe()
	if err := kf.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { kf.Process.Kill(); kf.Wait() }()
	seen := make(chan int, 1)
	go func() {
		sc := bufio.NewScanner(out)
		n := 0
		for sc.Scan() {
			if n++; n == 8 {
				seen <- n
				return
			}
		}
	}()
	select {
	case <-seen:
	case <-time.After(15 * time.Second):
		t.Error("kubectl logs -f did not stream 8 lines within 15s")
	}
}

func (e *nodeEnv) testGracefulDelete(t *testing.T) {
	// The container ignores SIGTERM for 2 s, then exits: deletion takes
	// about that long, well within the 10 s grace period.
	c := e.bb(sh("main", `trap 'echo got TERM; sleep 2; exit 0' TERM; while true; do sleep 0.1; done`))
	p := e.pod("graceful", c)
	g := int64(10)
	p.Spec.TerminationGracePeriodSeconds = &g
	e.create(t, p)
	e.waitPod(t, "graceful", 30*time.Second, "Running", running)
	start := time.Now()
	if err := e.c.Delete(context.Background(), podKind, "default", "graceful", nil); err != nil {
		t.Fatal(err)
	}
	e.waitGone(t, "graceful", 20*time.Second)
	if d := time.Since(start); d < 1500*time.Millisecond || d > 10*time.Second {
		t.Errorf("deletion took %s; want the 2 s the container needed after SIGTERM, within the grace period", d)
	}
}

func (e *nodeEnv) waitGone(t *testing.T, name string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var p core.Pod
		err := e.c.Get(context.Background(), "default", name, &p)
		if errors.Is(err, apierrors.ErrNotFound) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pod %s still there after %s: %+v", name, timeout, p.Status)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (e *nodeEnv) testAdopt(t *testing.T) {
	e.create(t, e.pod("survivor", e.bb(sh("main", "sleep 3600"))))
	e.create(t, e.pod("doomed", e.bb(sh("main", "sleep 3600"))))
	before := e.waitPod(t, "survivor", 30*time.Second, "Running", running)
	e.waitPod(t, "doomed", 30*time.Second, "Running", running)
	e.agent.kill()
	// Deleted while the agent is down: it stays, marked, until the agent
	// is back and stops it.
	if err := e.c.Delete(context.Background(), podKind, "default", "doomed", nil); err != nil {
		t.Fatal(err)
	}
	e.startAgent()
	e.waitGone(t, "doomed", 40*time.Second)
	after := e.waitPod(t, "survivor", 10*time.Second, "Running", running)
	b, a := before.Status.ContainerStatuses[0], after.Status.ContainerStatuses[0]
	if a.ContainerID != b.ContainerID || a.RestartCount != 0 {
		t.Errorf("after the agent restart the container is %s (restarts %d); want the same %s adopted, not restarted", a.ContainerID, a.RestartCount, b.ContainerID)
	}
}

// describeContainers renders container states for failure messages.
func describeContainers(p *core.Pod) string {
	var b strings.Builder
	for _, cs := range append(append([]core.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
		fmt.Fprintf(&b, "[%s restarts=%d ready=%v", cs.Name, cs.RestartCount, cs.Ready)
		switch st := cs.State; {
		case st.Waiting != nil:
			fmt.Fprintf(&b, " waiting %s: %s", st.Waiting.Reason, st.Waiting.Message)
		case st.Running != nil:
			b.WriteString(" running")
		case st.Terminated != nil:
			fmt.Fprintf(&b, " terminated %s exit %d", st.Terminated.Reason, st.Terminated.ExitCode)
		}
		b.WriteString("] ")
	}
	return b.String()
}

// httpGetInNode fetches http://ip:8080/path from inside the node's
// network namespace (pod IPs are only reachable there).
func (e *nodeEnv) httpGetInNode(t *testing.T, ip, path string) string {
	t.Helper()
	out, err := e.inNode("/bin/busybox", "wget", "-q", "-O", "-", "http://"+ip+":8080"+path)
	if err != nil {
		t.Errorf("GET %s from %s: %v %s", path, ip, err, out)
	}
	return out
}
