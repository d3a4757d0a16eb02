package e2e

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const deploymentYAML = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: 127.0.0.1:5000/minik8s/testserver:1
        ports:
        - containerPort: 8080
`

// curl runs curl with args and returns its output; the last line of the
// output is the HTTP status code (-w).
func curl(t *testing.T, args ...string) (body string, code string) {
	t.Helper()
	full := append([]string{"-sS", "-w", "\n%{http_code}"}, args...)
	out, err := exec.Command("curl", full...).Output()
	if err != nil {
		t.Fatalf("curl %v: %v", args, err)
	}
	s := string(out)
	i := strings.LastIndex(s, "\n")
	return s[:i], s[i+1:]
}

// TestCurlWalkthrough is the README's curl tour: create a Deployment from
// YAML, read it back as YAML and JSON, lose a race with a stale
// resourceVersion, and watch a change arrive.
func TestCurlWalkthrough(t *testing.T) {
	_, url := startAPIServer(t, t.TempDir())
	deps := url + "/apis/apps/v1/namespaces/default/deployments"
	file := filepath.Join(t.TempDir(), "web.yaml")
	os.WriteFile(file, []byte(deploymentYAML), 0o644)

	body, code := curl(t, "-X", "POST", "-H", "Content-Type: application/yaml", "--data-binary", "@"+file, deps)
	if code != "201" {
		t.Fatalf("POST YAML: got %s %s; want 201", code, body)
	}
	body, code = curl(t, "-H", "Accept: application/yaml", deps+"/web")
	if code != "200" || !strings.Contains(body, "kind: Deployment") || !strings.Contains(body, "replicas: 2") {
		t.Fatalf("GET as YAML: got %s\n%s", code, body)
	}
	body, code = curl(t, deps+"/web")
	var dep map[string]any
	if err := json.Unmarshal([]byte(body), &dep); err != nil || code != "200" {
		t.Fatalf("GET as JSON: got %s %s (%v)", code, body, err)
	}
	md := dep["metadata"].(map[string]any)
	rv := md["resourceVersion"].(string)
	if md["uid"] == "" || rv == "" || md["generation"].(float64) != 1 {
		t.Errorf("metadata %v: want uid, resourceVersion and generation 1", md)
	}
	// Someone else updates it; our copy is now stale.
	_, code = curl(t, "-X", "PATCH", "-H", "Content-Type: application/merge-patch+json", "-d", `{"metadata":{"labels":{"tier":"front"}}}`, deps+"/web")
	if code != "200" {
		t.Fatalf("PATCH: got %s", code)
	}
	stale, _ := json.Marshal(dep)
	body, code = curl(t, "-X", "PUT", "-H", "Content-Type: application/json", "--data-binary", string(stale), deps+"/web")
	if code != "409" || !strings.Contains(body, `"reason":"Conflict"`) {
		t.Errorf("PUT with a stale resourceVersion: got %s %s; want 409 Conflict", code, body)
	}
	// Watch from now with curl, then scale: the watch shows the change.
	_, _ = curl(t, deps+"/web")
	body, _ = curl(t, deps+"/web")
	json.Unmarshal([]byte(body), &dep)
	rv = dep["metadata"].(map[string]any)["resourceVersion"].(string)
	watch := exec.Command("curl", "-sN", deps+"?watch=true&resourceVersion="+rv)
	out, _ := watch.StdoutPipe()
	if err := watch.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { watch.Process.Signal(syscall.SIGKILL); watch.Wait() }()
	time.Sleep(300 * time.Millisecond)
	_, code = curl(t, "-X", "PATCH", "-H", "Content-Type: application/merge-patch+json", "-d", `{"spec":{"replicas":3}}`, deps+"/web")
	if code != "200" {
		t.Fatalf("scale PATCH: got %s", code)
	}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		if sc.Scan() {
			lines <- sc.Text()
		}
	}()
	select {
	case line := <-lines:
		var ev struct {
			Type   string
			Object struct {
				Spec struct{ Replicas int }
			}
		}
		if err := json.Unmarshal([]byte(line), &ev); err != nil || ev.Type != "MODIFIED" || ev.Object.Spec.Replicas != 3 {
			t.Errorf("watch line %q: want a MODIFIED event with replicas 3", line)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("curl watch saw nothing within 10s")
	}
}
