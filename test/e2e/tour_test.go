package e2e

import (
	"bufio"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// upEnv is `minik8s up` running inside a network namespace the test
// made, so that its bridge, routes and iptables rules never touch the
// machine's own. nsenter switches only the network namespace (ip netns
// exec would also give a new mount namespace without the cgroup mounts
// runc needs).
type upEnv struct {
	t       *testing.T
	netns   string
	dataDir string
	images  string
}

func newUpEnv(t *testing.T) *upEnv {
	requireRoot(t)
	e := &upEnv{t: t, netns: fmt.Sprintf("mk-up-%06d", rand.Intn(1000000))}
	base, err := os.MkdirTemp("", "mk-up-")
	if err != nil {
		t.Fatal(err)
	}
	e.dataDir, e.images = filepath.Join(base, "data"), filepath.Join(base, "images")
	if out, err := exec.Command(filepath.Join(binDir, "testimages"), "-out", e.images).CombinedOutput(); err != nil {
		t.Fatalf("building the example images: %v\n%s", err, out)
	}
	// A namespace like a machine: loopback, and an uplink with a default
	// route (Service IPs are routed before they are DNATed).
	script := fmt.Sprintf(`set -e
ip netns add %[1]s
ip -n %[1]s link set lo up
ip -n %[1]s link add mk-up0 type veth peer name mk-up1
ip -n %[1]s link set mk-up0 up
ip -n %[1]s link set mk-up1 up
ip -n %[1]s addr add 192.168.77.1/24 dev mk-up0
ip -n %[1]s route add default via 192.168.77.2 dev mk-up0`, e.netns)
	if out, err := exec.Command("bash", "-c", script).CombinedOutput(); err != nil {
		exec.Command("ip", "netns", "del", e.netns).Run()
		t.Fatalf("making the namespace: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		// Whatever happened, leave nothing behind.
		e.minik8s("down", "--data-dir", e.dataDir, "--wipe")
		exec.Command("ip", "netns", "del", e.netns).Run()
		os.RemoveAll(base)
	})
	return e
}

// inNetns returns a command run in the test's network namespace.
func (e *upEnv) inNetns(name string, args ...string) *exec.Cmd {
	cmd := exec.Command("nsenter", append([]string{"--net=/run/netns/" + e.netns, name}, args...)...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+filepath.Join(e.dataDir, "kubeconfig"))
	return cmd
}

func (e *upEnv) minik8s(args ...string) (string, error) {
	out, err := e.inNetns(filepath.Join(binDir, "minik8s"), args...).CombinedOutput()
	return string(out), err
}

// up starts `minik8s up` and waits for its "node ... Ready" line; the
// returned stop sends SIGINT (Ctrl-C) by PID and returns all its output.
func (e *upEnv) up() (stop func() string) {
	t := e.t
	cmd := e.inNetns(filepath.Join(binDir, "minik8s"), "up", "--data-dir", e.dataDir,
		"--preload-images", e.images) // the agent listens on the namespace's addresses
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var lines []string
	ready := make(chan bool, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines = append(lines, sc.Text())
			if strings.Contains(sc.Text(), "Ready") {
				select {
				case ready <- true:
				default:
				}
			}
		}
	}()
	stopped := false
	stop = func() string {
		if !stopped {
			stopped = true
			syscall.Kill(-cmd.Process.Pid, syscall.SIGINT) // Ctrl-C reaches the group: nsenter and minik8s
			exited := make(chan struct{})
			go func() { cmd.Wait(); close(exited) }()
			select {
			case <-exited:
			case <-time.After(60 * time.Second):
				syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				<-exited
				t.Error("minik8s up did not stop within 60s of Ctrl-C")
			}
			<-done
		}
		return strings.Join(lines, "\n")
	}
	t.Cleanup(func() { stop() })
	select {
	case <-ready:
	case <-done:
		t.Fatalf("minik8s up exited:\n%s", strings.Join(lines, "\n"))
	case <-time.After(120 * time.Second):
		t.Fatalf("minik8s up not ready within 120s:\n%s", stop())
	}
	return stop
}

// TestTourOnMinik8sUp runs the README's tour (examples/tour.sh, the very
// script the README shows) on `minik8s up` and checks what it promises;
// then Ctrl-C, up again (the objects are kept), and down (nothing left).
func TestTourOnMinik8sUp(t *testing.T) {
	e := newUpEnv(t)
	stop := e.up()
	tour, _ := filepath.Abs("../../examples/tour.sh")
	out, err := e.inNetns(tour).CombinedOutput()
	if err != nil {
		t.Fatalf("the tour failed: %v\n%s", err, out)
	}
	words := func(s string) string { return strings.Join(strings.Fields(s), " ") } // lines and columns as words
	got := words(string(out))
	for _, want := range []string{
		"deployment.apps/web created", "service/web created",
		`deployment "web" successfully rolled out`,
		"deployment.apps/web scaled", "deployment.apps/web env updated",
		"REVISION CHANGE-CAUSE 1 <none> 2 <none>", "deployment.apps/web rolled back",
		"NAME READY UP-TO-DATE AVAILABLE AGE web 5/5 5 5",
		"testserver listening on :8080", // kubectl logs, through the agent's HTTPS API
	} {
		if !strings.Contains(got, words(want)) {
			t.Errorf("the tour's output lacks %q", want)
		}
	}
	hosts := map[string]bool{}
	for _, m := range regexp.MustCompile(`hello from (web-\S+)`).FindAllStringSubmatch(string(out), -1) {
		hosts[m[1]] = true
	}
	if len(hosts) < 2 {
		t.Errorf("requests through the Service reached %d pods %v; want them spread over several", len(hosts), hosts)
	}
	if t.Failed() {
		t.Logf("tour output:\n%s", out)
	}
	e.checkSecure(t)
	if log := stop(); !strings.Contains(log, "minik8s stopped") {
		t.Errorf("Ctrl-C: minik8s did not say it stopped:\n%s", log)
	}

	// Up again: the objects are still there and the app comes back.
	stop = e.up()
	deadline := time.Now().Add(90 * time.Second)
	for {
		o, _ := e.inNetns("kubectl", "get", "deployment", "web", "-o", "jsonpath={.status.readyReplicas}").CombinedOutput()
		if string(o) == "5" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after a second up, deployment web has %q ready replicas; want 5", o)
		}
		time.Sleep(500 * time.Millisecond)
	}
	stop()

	o, err := e.minik8s("down", "--data-dir", e.dataDir)
	if err != nil {
		t.Fatalf("minik8s down: %v\n%s", err, o)
	}
	e.checkNothingLeft(t)
}

// checkSecure: minik8s up runs a secure cluster. Anonymous requests get
// 401; a pod of the tour reaches the API through the kubernetes Service
// with its mounted ServiceAccount token (the testserver's /kube uses
// client.InCluster): discovery is allowed, listing pods is not (RBAC).
func (e *upEnv) checkSecure(t *testing.T) {
	out, _ := e.inNetns("curl", "-s", "--cacert", filepath.Join(e.dataDir, "pki", "ca.crt"), "https://127.0.0.1:6443/api/v1/pods").CombinedOutput()
	if !strings.Contains(string(out), `"code":401`) {
		t.Errorf("anonymous GET /api/v1/pods: %s; want a 401 Status", out)
	}
	ip, err := e.inNetns("kubectl", "get", "pods", "-l", "app=web", "-o", "jsonpath={.items[0].status.podIP}").CombinedOutput()
	if err != nil {
		t.Fatalf("a web pod's IP: %v\n%s", err, ip)
	}
	for path, want := range map[string]string{
		"/api":                            "200",
		"/api/v1/namespaces/default/pods": `403 pods is forbidden: User "system:serviceaccount:default:default" cannot list resource "pods"`,
	} {
		out, err := e.inNetns("curl", "-s", "--max-time", "15", "http://"+string(ip)+":8080/kube?path="+path).CombinedOutput()
		if got := strings.TrimSpace(string(out)); err != nil || !strings.HasPrefix(got, want) {
			t.Errorf("in-cluster GET %s from pod %s: %q, %v; want %q", path, ip, got, err, want)
		}
	}
}

// checkNothingLeft: no bridge, no chains, no mounts, no containers'
// processes under the data directory.
func (e *upEnv) checkNothingLeft(t *testing.T) {
	if out, err := e.inNetns("ip", "link", "show", "mk0").CombinedOutput(); err == nil {
		t.Errorf("the pod bridge is still there:\n%s", out)
	}
	nat, _ := e.inNetns("iptables-save").CombinedOutput()
	if n := regexp.MustCompile(`(?m)^:(KUBE|CNI)-`).FindAll(nat, -1); len(n) > 0 {
		t.Errorf("%d chains left:\n%s", len(n), nat)
	}
	mounts, _ := os.ReadFile("/proc/self/mountinfo")
	if strings.Contains(string(mounts), e.dataDir) {
		t.Errorf("mounts left under %s", e.dataDir)
	}
	ps, _ := exec.Command("ps", "-eo", "pid,args").Output()
	for _, line := range strings.Split(string(ps), "\n") {
		if strings.Contains(line, e.dataDir) {
			t.Errorf("process left: %s", line)
		}
	}
}
