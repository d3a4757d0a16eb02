package e2e

import (
	"context"
	"fmt"
	"math/rand"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/containerd"
	"github.com/containerd/containerd/namespaces"
	"golang.org/x/sys/unix"

	"minik8s/pkg/client"
)

// nodeEnv is one node's world for the node agent tests: an apiserver, a
// private containerd, a registry with the test images, a network namespace
// playing the node, and the agent. Everything is removed at cleanup.
type nodeEnv struct {
	t          *testing.T
	url        string
	c          *client.Client
	containerd string // socket
	ctrNS      string
	netns      string // path
	root       string // agent root dir
	registry   string // HOST:PORT
	agentAddr  string
	agent      *proc
	node       string
}

func requireRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("node agent e2e tests need root")
	}
	for _, b := range []string{"/usr/bin/containerd", "/usr/sbin/runc", "/usr/lib/cni/bridge", "/usr/bin/docker-registry"} {
		if _, err := os.Stat(b); err != nil {
			if _, err2 := exec.LookPath(filepath.Base(b)); err2 != nil {
				t.Skipf("%s missing (hack/install-deps.sh installs it)", b)
			}
		}
	}
}

func newNodeEnv(t *testing.T) *nodeEnv {
	requireRoot(t)
	e := &nodeEnv{t: t, node: fmt.Sprintf("mk-node-%06d", rand.Intn(1000000))}
	_, e.url = startAPIServer(t, t.TempDir())
	var err error
	if e.c, err = client.New(e.url); err != nil {
		t.Fatal(err)
	}
	// Short paths: unix socket paths are limited to 108 bytes.
	base, err := os.MkdirTemp("", "mk-na-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	e.startContainerd(base)
	e.startRegistry(base)
	e.makeNetns()
	e.root = filepath.Join(base, "agent")
	e.agentAddr = freeAddr(t)
	e.startAgent()
	return e
}

func (e *nodeEnv) startContainerd(base string) {
	t := e.t
	dir := filepath.Join(base, "ctrd")
	os.MkdirAll(dir, 0o755)
	e.containerd = filepath.Join(dir, "c.sock")
	e.ctrNS = "minik8s-e2e"
	conf := fmt.Sprintf(`version = 2
root = %q
state = %q
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = %q
[ttrpc]
  address = %q
[debug]
  address = ""
[metrics]
  address = ""
`, filepath.Join(dir, "root"), filepath.Join(dir, "state"), e.containerd, e.containerd+".ttrpc")
	cf := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startExternal(t, "containerd", "/usr/bin/containerd", "--config", cf)
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := containerd.New(e.containerd, containerd.WithTimeout(time.Second))
		if err == nil {
			_, err = c.Version(context.Background())
			c.Close()
			if err == nil {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("containerd did not start: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Runs before containerd is stopped (cleanups run last-in first-out):
	// every task and container of ours goes, also after a failure.
	t.Cleanup(func() {
		c, err := containerd.New(e.containerd)
		if err != nil {
			return
		}
		defer c.Close()
		ctx := namespaces.WithNamespace(context.Background(), e.ctrNS)
		cs, _ := c.Containers(ctx)
		for _, ct := range cs {
			if task, err := ct.Task(ctx, nil); err == nil {
				task.Delete(ctx, containerd.WithProcessKill)
			}
			ct.Delete(ctx, containerd.WithSnapshotCleanup)
		}
		_ = p
	})
}

func (e *nodeEnv) startRegistry(base string) {
	t := e.t
	e.registry = freeAddr(t)
	dir := filepath.Join(base, "registry")
	os.MkdirAll(dir, 0o755)
	conf := fmt.Sprintf("version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n", dir, e.registry)
	cf := filepath.Join(dir, "config.yml")
	os.WriteFile(cf, []byte(conf), 0o644)
	startExternal(t, "registry", "/usr/bin/docker-registry", "serve", cf)
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + e.registry + "/v2/")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("registry did not start: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	out, err := exec.Command(filepath.Join(binDir, "testimages"), "-push", e.registry).CombinedOutput()
	if err != nil {
		t.Fatalf("pushing test images: %v\n%s", err, out)
	}
}

func (e *nodeEnv) makeNetns() {
	t := e.t
	if out, err := exec.Command("ip", "netns", "add", e.node).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v\n%s", err, out)
	}
	e.netns = "/run/netns/" + e.node
	t.Cleanup(func() {
		// Pod namespaces and /dev/shm mounts the agent left behind (it
		// is killed first).
		unmountUnder(e.root)
		exec.Command("ip", "netns", "del", e.node).Run()
	})
	if out, err := exec.Command("ip", "netns", "exec", e.node, "ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("lo up: %v\n%s", err, out)
	}
}

// startAgent starts (or restarts) the node agent.
func (e *nodeEnv) startAgent() {
	e.agent = start(e.t, "nodeagent", "--server", e.url, "--node-name", e.node,
		"--containerd-address", e.containerd, "--containerd-namespace", e.ctrNS,
		"--root-dir", e.root, "--listen", e.agentAddr, "--node-netns", e.netns, "--node-ip", "127.0.0.1",
		"--pod-cidr", "10.244.7.0/24", "--insecure-registry", e.registry,
		"--crash-backoff", "1s", "--resync-period", "2s")
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + e.agentAddr + "/healthz")
		if err == nil {
			resp.Body.Close()
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("node agent not serving: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (e *nodeEnv) image(name string) string { return e.registry + "/minik8s/" + name + ":latest" }

// inNode runs a command inside the node's network namespace.
func (e *nodeEnv) inNode(args ...string) (string, error) {
	out, err := exec.Command("ip", append([]string{"netns", "exec", e.node}, args...)...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// startExternal runs a program that is not one of our binaries, logging to
// the test's temp dir; it is stopped (SIGTERM, then SIGKILL) by PID at
// cleanup.
func startExternal(t *testing.T, name, path string, args ...string) *exec.Cmd {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		f.Close()
		if t.Failed() {
			b, _ := os.ReadFile(f.Name())
			if len(b) > 4000 {
				b = b[len(b)-4000:]
			}
			t.Logf("%s log (tail):\n%s", name, b)
		}
	})
	return cmd
}

// unmountUnder detaches every mount below dir, deepest first.
func unmountUnder(dir string) {
	mi, _ := os.ReadFile("/proc/self/mountinfo")
	var points []string
	for _, l := range strings.Split(string(mi), "\n") {
		if f := strings.Fields(l); len(f) > 4 && strings.HasPrefix(f[4], dir+"/") {
			points = append(points, f[4])
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(points)))
	for _, p := range points {
		unix.Unmount(p, unix.MNT_DETACH)
	}
}
