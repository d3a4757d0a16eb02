package e2e

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// kubectlEnv is a real kubectl (Debian's) pointed at one apiserver.
type kubectlEnv struct {
	t          *testing.T
	kubeconfig string
	dir        string
}

func newKubectl(t *testing.T, server string) *kubectlEnv {
	t.Helper()
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Fatal("kubectl is not installed: run hack/install-deps.sh")
	}
	dir := t.TempDir()
	kc := filepath.Join(dir, "kubeconfig")
	cfg := `apiVersion: v1
kind: Config
clusters:
- name: minik8s
  cluster:
    server: ` + server + `
contexts:
- name: minik8s
  context:
    cluster: minik8s
    namespace: default
current-context: minik8s
`
	if err := os.WriteFile(kc, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return &kubectlEnv{t: t, kubeconfig: kc, dir: dir}
}

func (k *kubectlEnv) cmd(args ...string) *exec.Cmd {
	c := exec.Command("kubectl", args...)
	c.Env = append(os.Environ(), "KUBECONFIG="+k.kubeconfig, "HOME="+k.dir)
	return c
}

// run returns kubectl's combined output and exit code.
func (k *kubectlEnv) run(args ...string) (string, int) {
	k.t.Helper()
	out, err := k.cmd(args...).CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		k.t.Fatalf("kubectl %v: %v", args, err)
	}
	return string(out), code
}

// ok runs kubectl, requires exit 0 and returns the output.
func (k *kubectlEnv) ok(args ...string) string {
	k.t.Helper()
	out, code := k.run(args...)
	if code != 0 {
		k.t.Fatalf("kubectl %s: exit %d\n%s", strings.Join(args, " "), code, out)
	}
	return out
}

// fails runs kubectl, requires a non-zero exit and returns the output.
func (k *kubectlEnv) fails(args ...string) string {
	k.t.Helper()
	out, code := k.run(args...)
	if code == 0 {
		k.t.Fatalf("kubectl %s: succeeded; want an error\n%s", strings.Join(args, " "), out)
	}
	return out
}

var spaces = regexp.MustCompile(`[ \t]+`)

// squeeze folds runs of blanks, so column layouts compare as words.
func squeeze(s string) string { return spaces.ReplaceAllString(strings.TrimSpace(s), " ") }

func wantLines(t *testing.T, what, out string, want ...string) {
	t.Helper()
	got := squeeze(out)
	for _, w := range want {
		if !strings.Contains(got, squeeze(w)) {
			t.Errorf("%s: output lacks %q:\n%s", what, w, out)
		}
	}
}

func (k *kubectlEnv) writeFile(name, content string) string {
	p := filepath.Join(k.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		k.t.Fatal(err)
	}
	return p
}

// TestKubectl drives the real kubectl through the verbs a Kubernetes user
// relies on and checks its output and exit codes.
func TestKubectl(t *testing.T) {
	_, server := startAPIServer(t, t.TempDir())
	k := newKubectl(t, server)
	manifest, _ := filepath.Abs("testdata/app.yaml")

	t.Run("version", func(t *testing.T) {
		wantLines(t, "version", k.ok("version"), "Server Version: v1.32.0-minik8s")
	})
	t.Run("api-resources", func(t *testing.T) {
		out := k.ok("api-resources")
		wantLines(t, "api-resources", out,
			"NAME SHORTNAMES APIVERSION NAMESPACED KIND",
			"pods po v1 true Pod",
			"deployments deploy apps/v1 true Deployment",
			"cronjobs cj batch/v1 true CronJob",
			"namespaces ns v1 false Namespace")
	})
	t.Run("apply creates every document", func(t *testing.T) {
		out := k.ok("apply", "-f", manifest)
		wantLines(t, "apply", out, "namespace/demo created", "configmap/app-config created", "secret/app-secret created",
			"deployment.apps/web created", "service/web created")
		out = k.ok("apply", "-f", manifest)
		wantLines(t, "apply again", out, "namespace/demo unchanged", "configmap/app-config unchanged",
			"deployment.apps/web unchanged", "service/web unchanged")
	})
	t.Run("apply with a changed image patches one container", func(t *testing.T) {
		b, _ := os.ReadFile(manifest)
		changed := k.writeFile("app-v2.yaml", strings.Replace(string(b), "testserver:1", "testserver:2", 1))
		wantLines(t, "apply v2", k.ok("apply", "-f", changed), "deployment.apps/web configured", "configmap/app-config unchanged")
		images := k.ok("get", "deploy", "web", "-n", "demo", "-o", "jsonpath={.spec.template.spec.containers[*].image}")
		if images != "127.0.0.1:5000/minik8s/testserver:2 127.0.0.1:5000/minik8s/busybox:1" {
			t.Errorf("images after apply: %q; want testserver:2 and the sidecar unchanged", images)
		}
		gen := k.ok("get", "deploy", "web", "-n", "demo", "-o", "jsonpath={.metadata.generation}")
		if gen != "2" {
			t.Errorf("generation after one spec change: %s; want 2", gen)
		}
	})
	t.Run("apply --server-side", func(t *testing.T) {
		cm := k.writeFile("ssa.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\n  namespace: demo\ndata:\n  a: \"1\"\n")
		wantLines(t, "ssa create", k.ok("apply", "--server-side", "-f", cm), "configmap/ssa serverside-applied")
		k.writeFile("ssa.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\n  namespace: demo\ndata:\n  a: \"2\"\n")
		wantLines(t, "ssa update", k.ok("apply", "--server-side", "-f", cm), "configmap/ssa serverside-applied")
		if v := k.ok("get", "cm", "ssa", "-n", "demo", "-o", "jsonpath={.data.a}"); v != "2" {
			t.Errorf("after server-side apply: a=%q; want 2", v)
		}
	})
	t.Run("get prints server-side columns", func(t *testing.T) {
		wantLines(t, "get deploy", k.ok("get", "deploy", "-n", "demo"), "NAME READY UP-TO-DATE AVAILABLE AGE", "web 0/2 0 0")
		wantLines(t, "get deploy -o wide", k.ok("get", "deploy", "-n", "demo", "-o", "wide"),
			"NAME READY UP-TO-DATE AVAILABLE AGE CONTAINERS IMAGES SELECTOR", "web,sidecar", "app=web")
		wantLines(t, "get svc", k.ok("get", "svc", "-n", "demo"), "NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE", "web ClusterIP")
		wantLines(t, "get cm", k.ok("get", "cm", "-n", "demo"), "NAME DATA AGE", "app-config 1")
		wantLines(t, "get secret", k.ok("get", "secrets", "-n", "demo"), "NAME TYPE DATA AGE", "app-secret Opaque 1")
		wantLines(t, "get ns", k.ok("get", "ns"), "NAME STATUS AGE", "demo Active", "kube-system Active")
		wantLines(t, "get -A", k.ok("get", "cm", "-A"), "NAMESPACE NAME DATA AGE", "demo app-config 1")
		wantLines(t, "--show-labels", k.ok("get", "deploy", "-n", "demo", "--show-labels"), "LABELS", "app=web")
		wantLines(t, "-l", k.ok("get", "deploy", "-n", "demo", "-l", "app=web", "-o", "name"), "deployment.apps/web")
		if out := k.ok("get", "deploy", "-n", "demo", "-l", "app=nope"); !strings.Contains(out, "No resources found in demo namespace.") {
			t.Errorf("-l with no match: %q", out)
		}
	})
	t.Run("output formats", func(t *testing.T) {
		wantLines(t, "-o yaml", k.ok("get", "cm", "app-config", "-n", "demo", "-o", "yaml"), "kind: ConfigMap", "greeting: hello", "resourceVersion:")
		wantLines(t, "-o json", k.ok("get", "cm", "-n", "demo", "-o", "json"), `"kind": "List"`, `"greeting": "hello"`)
		if v := k.ok("get", "secret", "app-secret", "-n", "demo", "-o", "jsonpath={.data.password}"); v != "czNjcmV0" {
			t.Errorf("secret data: %q; want base64 of s3cret", v)
		}
	})
	t.Run("pods with wide columns", func(t *testing.T) {
		pod := k.writeFile("pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: solo\nspec:\n  nodeName: node-1\n  containers:\n  - name: c\n    image: busybox\n")
		k.ok("apply", "-f", pod)
		wantLines(t, "get pods", k.ok("get", "pods"), "NAME READY STATUS RESTARTS AGE", "solo 0/1 Pending 0")
		wantLines(t, "get pods -o wide", k.ok("get", "pods", "-o", "wide"), "IP NODE NOMINATED NODE READINESS GATES", "node-1")
	})
	t.Run("get -w sees a change", func(t *testing.T) {
		c := k.cmd("get", "cm", "app-config", "-n", "demo", "-w", "--output-watch-events")
		out, _ := c.StdoutPipe()
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { c.Process.Signal(syscall.SIGKILL); c.Wait() }()
		lines := make(chan string, 10)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines <- sc.Text()
			}
		}()
		next := func() string {
			select {
			case l := <-lines:
				return l
			case <-time.After(15 * time.Second):
				t.Fatal("kubectl get -w printed nothing for 15s")
				return ""
			}
		}
		wantLines(t, "watch header", next(), "EVENT NAME DATA AGE")
		wantLines(t, "watch initial", next(), "ADDED app-config 1")
		k.ok("patch", "cm", "app-config", "-n", "demo", "--type=merge", "-p", `{"data":{"extra":"x"}}`)
		wantLines(t, "watch change", next(), "MODIFIED app-config 2")
	})
	t.Run("label annotate scale patch", func(t *testing.T) {
		wantLines(t, "label", k.ok("label", "deploy", "web", "-n", "demo", "tier=front"), "deployment.apps/web labeled")
		wantLines(t, "annotate", k.ok("annotate", "deploy", "web", "-n", "demo", "owner=team-a"), "deployment.apps/web annotated")
		wantLines(t, "label removal", k.ok("label", "deploy", "web", "-n", "demo", "tier-"), "deployment.apps/web unlabeled")
		wantLines(t, "scale", k.ok("scale", "deploy", "web", "-n", "demo", "--replicas=3"), "deployment.apps/web scaled")
		wantLines(t, "scale --current-replicas", k.ok("scale", "deploy", "web", "-n", "demo", "--current-replicas=3", "--replicas=4"), "deployment.apps/web scaled")
		if out := k.fails("scale", "deploy", "web", "-n", "demo", "--current-replicas=3", "--replicas=5"); !strings.Contains(out, "Expected replicas to be 3, was 4") {
			t.Errorf("scale with a wrong --current-replicas: %s", out)
		}
		wantLines(t, "patch merge", k.ok("patch", "deploy", "web", "-n", "demo", "--type=merge", "-p", `{"spec":{"minReadySeconds":5}}`), "deployment.apps/web patched")
		wantLines(t, "patch json", k.ok("patch", "deploy", "web", "-n", "demo", "--type=json", "-p", `[{"op":"replace","path":"/spec/replicas","value":2}]`), "deployment.apps/web patched")
		wantLines(t, "patch strategic", k.ok("patch", "deploy", "web", "-n", "demo", "--type=strategic", "-p",
			`{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"127.0.0.1:5000/minik8s/busybox:2"}]}}}}`), "deployment.apps/web patched")
		got := k.ok("get", "deploy", "web", "-n", "demo", "-o", "jsonpath={.spec.replicas} {.spec.minReadySeconds} {.spec.template.spec.containers[*].image} {.metadata.labels.tier} {.metadata.annotations.owner}")
		want := "2 5 127.0.0.1:5000/minik8s/testserver:2 127.0.0.1:5000/minik8s/busybox:2  team-a"
		if got != want {
			t.Errorf("after label/annotate/scale/patch: %q; want %q", got, want)
		}
		k.ok("rollout", "restart", "deploy", "web", "-n", "demo")
		if v := k.ok("get", "deploy", "web", "-n", "demo", "-o", `jsonpath={.spec.template.metadata.annotations.kubectl\.kubernetes\.io/restartedAt}`); v == "" {
			t.Error("rollout restart did not set the restartedAt annotation")
		}
	})
	t.Run("edit", func(t *testing.T) {
		editor := k.writeFile("editor.sh", "#!/bin/sh\nsed -i 's/greeting: hello/greeting: edited/' \"$1\"\n")
		os.Chmod(editor, 0o755)
		c := k.cmd("edit", "cm", "app-config", "-n", "demo")
		c.Env = append(c.Env, "KUBE_EDITOR="+editor)
		out, err := c.CombinedOutput()
		if err != nil {
			t.Fatalf("kubectl edit: %v\n%s", err, out)
		}
		wantLines(t, "edit", string(out), "configmap/app-config edited")
		if v := k.ok("get", "cm", "app-config", "-n", "demo", "-o", "jsonpath={.data.greeting}"); v != "edited" {
			t.Errorf("after edit: %q; want edited", v)
		}
	})
	t.Run("describe shows events", func(t *testing.T) {
		uid := k.ok("get", "pod", "solo", "-o", "jsonpath={.metadata.uid}")
		ev := k.writeFile("event.yaml", `apiVersion: v1
kind: Event
metadata:
  name: solo.1
involvedObject:
  kind: Pod
  name: solo
  namespace: default
  uid: `+uid+`
reason: Scheduled
message: Successfully assigned default/solo to node-1
type: Normal
source:
  component: default-scheduler
count: 1
`)
		k.ok("create", "-f", ev)
		wantLines(t, "describe pod", k.ok("describe", "pod", "solo"), "Name: solo", "Node: node-1", "Events:",
			"Normal Scheduled", "Successfully assigned default/solo to node-1")
	})
	t.Run("delete waits and returns", func(t *testing.T) {
		k.ok("create", "configmap", "tmp", "-n", "demo", "--from-literal=a=b", "--dry-run=client", "-o", "yaml")
		tmp := k.writeFile("tmp.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: tmp\n  namespace: demo\n")
		k.ok("create", "-f", tmp)
		wantLines(t, "delete", k.ok("delete", "cm", "tmp", "-n", "demo"), `configmap "tmp" deleted`)
		// A pod on a node is deleted gracefully; --grace-period=0 --force
		// is the operator's way when no agent will confirm.
		wantLines(t, "delete pod", k.ok("delete", "pod", "solo", "--grace-period=0", "--force"), `pod "solo" force deleted`)
	})
	t.Run("error messages", func(t *testing.T) {
		cm := k.writeFile("dup.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dup\n  namespace: demo\n")
		k.ok("create", "-f", cm)
		wantLines(t, "AlreadyExists", k.fails("create", "-f", cm), `Error from server (AlreadyExists): error when creating "`+cm+`": configmaps "dup" already exists`)
		wantLines(t, "NotFound", k.fails("get", "cm", "nope", "-n", "demo"), `Error from server (NotFound): configmaps "nope" not found`)
		bad := k.writeFile("bad.yaml", `apiVersion: apps/v1
kind: Deployment
metadata:
  name: Bad_Name
spec:
  replicas: -1
  selector:
    matchLabels: {app: x}
  template:
    metadata:
      labels: {app: x}
    spec:
      containers:
      - name: c
`)
		out := k.fails("apply", "-f", bad)
		wantLines(t, "Invalid", out, `The Deployment "Bad_Name" is invalid:`, "* metadata.name: Invalid value: \"Bad_Name\"",
			"* spec.replicas: Invalid value: -1", "* spec.template.spec.containers[0].image: Required value")
		stale := k.writeFile("stale.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dup\n  namespace: demo\n  resourceVersion: \"1\"\ndata:\n  a: b\n")
		wantLines(t, "Conflict", k.fails("replace", "-f", stale), `Error from server (Conflict): error when replacing "`+stale+`": Operation cannot be fulfilled on configmaps "dup": the object has been modified; please apply your changes to the latest version and try again`)
		typo := k.writeFile("typo.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: typo\n  namespace: demo\ndta:\n  a: b\n")
		wantLines(t, "unknown field, validate=true", k.fails("apply", "-f", typo), `unknown field "dta"`)
		out = k.ok("apply", "-f", typo, "--validate=false")
		wantLines(t, "unknown field, validate=false", out, "configmap/typo created")
	})
	t.Run("generators and expose send protobuf", func(t *testing.T) {
		for _, c := range []struct {
			args []string
			want string
		}{
			{[]string{"create", "namespace", "gen"}, "namespace/gen created"},
			{[]string{"create", "deployment", "api", "-n", "gen", "--image=127.0.0.1:5000/minik8s/testserver:1", "--replicas=2", "--port=8080"}, "deployment.apps/api created"},
			{[]string{"expose", "deployment", "api", "-n", "gen", "--port=80", "--target-port=8080"}, "service/api exposed"},
			{[]string{"create", "configmap", "cfg", "-n", "gen", "--from-literal=mode=fast"}, "configmap/cfg created"},
			{[]string{"create", "secret", "generic", "pw", "-n", "gen", "--from-literal=password=s3cret"}, "secret/pw created"},
			{[]string{"create", "serviceaccount", "robot", "-n", "gen"}, "serviceaccount/robot created"},
			{[]string{"create", "role", "reader", "-n", "gen", "--verb=get,list", "--resource=pods"}, "role.rbac.authorization.k8s.io/reader created"},
			{[]string{"create", "rolebinding", "robot-reads", "-n", "gen", "--role=reader", "--serviceaccount=gen:robot"}, "rolebinding.rbac.authorization.k8s.io/robot-reads created"},
			{[]string{"create", "job", "once", "-n", "gen", "--image=127.0.0.1:5000/minik8s/busybox:1", "--", "echo", "hi"}, "job.batch/once created"},
			{[]string{"create", "cronjob", "tick", "-n", "gen", "--image=127.0.0.1:5000/minik8s/busybox:1", "--schedule=*/5 * * * *"}, "cronjob.batch/tick created"},
		} {
			wantLines(t, strings.Join(c.args, " "), k.ok(c.args...), c.want)
		}
		for _, g := range []struct{ args, want string }{
			{"deploy api -o jsonpath={.spec.replicas} {.spec.template.spec.containers[0].image} {.spec.template.spec.containers[0].ports[0].containerPort}",
				"2 127.0.0.1:5000/minik8s/testserver:1 8080"},
			{"svc api -o jsonpath={.spec.ports[0].port} {.spec.ports[0].targetPort} {.spec.selector.app}", "80 8080 api"},
			{"cm cfg -o jsonpath={.data.mode}", "fast"},
			{"secret pw -o jsonpath={.data.password}", "czNjcmV0"},
			{"rolebinding robot-reads -o jsonpath={.roleRef.name} {.subjects[0].kind} {.subjects[0].name}", "reader ServiceAccount robot"},
			{"cronjob tick -o jsonpath={.spec.schedule}", "*/5 * * * *"},
		} {
			args := append([]string{"get", "-n", "gen"}, strings.SplitN(g.args, " ", 4)...)
			if got := k.ok(args...); got != g.want {
				t.Errorf("kubectl get %s = %q; want %q", g.args, got, g.want)
			}
		}
		// An invalid name is still refused with the field, as for JSON.
		wantLines(t, "invalid", k.fails("create", "configmap", "Bad_Name", "-n", "gen"), `metadata.name: Invalid value: "Bad_Name"`)
	})
	t.Run("validate=false works for the manifests", func(t *testing.T) {
		wantLines(t, "apply --validate=false", k.ok("apply", "-f", manifest, "--validate=false"), "namespace/demo unchanged", "secret/app-secret")
	})
}
