package store

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// startExternalEtcd runs Debian's etcd binary as a separate process on free
// loopback ports, as an external cluster of one, and returns a Store on it
// through a gRPC client (the --etcd-servers path of the API server).
func startExternalEtcd(t *testing.T) Store {
	t.Helper()
	bin, err := exec.LookPath("etcd")
	if err != nil {
		t.Fatal("the etcd binary is missing: run hack/install-deps.sh (Debian package etcd-server)")
	}
	free := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return "http://" + l.Addr().String()
	}
	client, peer := free(), free()
	dir := t.TempDir()
	logf, _ := os.Create(filepath.Join(dir, "etcd.log"))
	cmd := exec.Command(bin, "--name", "ext", "--data-dir", filepath.Join(dir, "data"),
		"--listen-client-urls", client, "--advertise-client-urls", client,
		"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
		"--initial-cluster", "ext="+peer, "--log-level", "error")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		logf.Close()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cli, err := Dial(ctx, client, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	s := NewEtcd(cli)
	for {
		if _, err := s.Revision(ctx); err == nil {
			return s
		} else if ctx.Err() != nil {
			b, _ := os.ReadFile(filepath.Join(dir, "etcd.log"))
			t.Fatal(fmt.Errorf("external etcd did not answer: %v\n%s", err, b))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
