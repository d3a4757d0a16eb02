package local

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

const systemContainerd = "/run/containerd/containerd.sock"

// ensureContainerd returns the socket of a containerd to use: addr if
// given, else the system's if it answers, else a private one started under
// dir (its own config with the CRI plugin off, root, state and sockets),
// which stop ends by its PID.
func ensureContainerd(ctx context.Context, addr, dir string) (string, func(), error) {
	if addr != "" {
		if !dialable(addr) {
			return "", nil, fmt.Errorf("no containerd answers on %s", addr)
		}
		return addr, func() {}, nil
	}
	if dialable(systemContainerd) {
		return systemContainerd, func() {}, nil
	}
	return startContainerd(ctx, dir)
}

func privateSocket(dir string) string { return filepath.Join(dir, "containerd.sock") }

func startContainerd(ctx context.Context, dir string) (string, func(), error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", nil, err
	}
	sock := privateSocket(dir)
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
`, filepath.Join(dir, "root"), filepath.Join(dir, "state"), sock, sock+".ttrpc")
	cf := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cf, []byte(conf), 0o644); err != nil {
		return "", nil, err
	}
	log, err := os.OpenFile(filepath.Join(dir, "containerd.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return "", nil, err
	}
	bin, err := exec.LookPath("containerd")
	if err != nil {
		return "", nil, fmt.Errorf("no containerd answers and none is installed: apt-get install containerd")
	}
	cmd := exec.Command(bin, "--config", cf)
	cmd.Stdout, cmd.Stderr = log, log
	// Its own process group: a Ctrl-C in the terminal reaches minik8s,
	// which then stops containerd last, after the node agent.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop := func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		log.Close()
	}
	deadline := time.Now().Add(30 * time.Second)
	for !dialable(sock) {
		if time.Now().After(deadline) || ctx.Err() != nil {
			stop()
			return "", nil, fmt.Errorf("the private containerd did not start; see %s", filepath.Join(dir, "containerd.log"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	return sock, stop, nil
}
