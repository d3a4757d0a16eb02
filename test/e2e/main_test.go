// Package e2e runs minik8s' real binaries as separate processes and drives
// them with real clients (curl, kubectl, our client), the way a user would.
//
// TestMain builds the binaries once into a temp dir. Every process a test
// starts is stopped by its PID when the test ends, also on failure.
package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "minik8s-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	// nodeagent and testimages are for the node agent e2e tests; proxy
	// and labforward for the local lab (deploy/lab).
	cmd := exec.Command("go", "build", "-o", binDir+"/", "minik8s/cmd/apiserver", "minik8s/cmd/controller-manager", "minik8s/cmd/scheduler", "minik8s/cmd/nodeagent", "minik8s/cmd/minik8s", "minik8s/hack/testimages", "minik8s/cmd/proxy", "minik8s/hack/labforward")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building binaries:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// freeAddr returns a loopback address with a port nobody listens on now.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// proc is a process started by a test.
type proc struct {
	cmd *exec.Cmd
	log string
}

// start runs a built binary with args; its output goes to a log file in
// the test's temp dir. It is killed when the test ends.
func start(t testing.TB, name string, args ...string) *proc {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(binDir, name), args...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, log: logPath}
	t.Cleanup(func() {
		p.kill()
		f.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("%s log:\n%s", name, b)
		}
	})
	return p
}

// kill sends SIGKILL to the process (by its PID) and reaps it.
func (p *proc) kill() {
	if p.cmd.ProcessState != nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGKILL)
	p.cmd.Wait()
}

// startAPIServer starts an apiserver on a fresh port and waits for /readyz.
func startAPIServer(t testing.TB, dataDir string) (*proc, string) {
	t.Helper()
	addr := freeAddr(t)
	p := start(t, "apiserver", "--listen", addr, "--data-dir", dataDir)
	url := "http://" + addr
	waitReady(t, url)
	return p, url
}

func waitReady(t testing.TB, url string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		resp, err := http.Get(url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("apiserver at %s not ready within 60s", url)
}
