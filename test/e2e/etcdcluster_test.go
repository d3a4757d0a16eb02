package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"minik8s/pkg/apis/apierrors"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/certs"
	"minik8s/pkg/client"
	"minik8s/pkg/store"
)

// etcdMember is one process of a test etcd cluster (Debian's etcd).
// Members talk TLS to clients and to each other, with certificates of
// the etcd CA `minik8s certs init --etcd-names` makes, and require client
// certificates from it.
type etcdMember struct {
	name, client, peer, dir string
	pki                     string
	cmd                     *exec.Cmd
}

func (m *etcdMember) start(t *testing.T, cluster string) {
	t.Helper()
	log, _ := os.OpenFile(filepath.Join(m.dir, "etcd.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	m.cmd = exec.Command("etcd", "--name", m.name, "--data-dir", filepath.Join(m.dir, "data"),
		"--listen-client-urls", m.client, "--advertise-client-urls", m.client,
		"--listen-peer-urls", m.peer, "--initial-advertise-peer-urls", m.peer,
		"--initial-cluster", cluster, "--initial-cluster-state", "new", "--log-level", "error",
		"--cert-file", filepath.Join(m.pki, certs.EtcdServerFile+".crt"), "--key-file", filepath.Join(m.pki, certs.EtcdServerFile+".key"),
		"--trusted-ca-file", filepath.Join(m.pki, certs.EtcdCAFile), "--client-cert-auth",
		"--peer-cert-file", filepath.Join(m.pki, certs.EtcdServerFile+".crt"), "--peer-key-file", filepath.Join(m.pki, certs.EtcdServerFile+".key"),
		"--peer-trusted-ca-file", filepath.Join(m.pki, certs.EtcdCAFile), "--peer-client-cert-auth")
	m.cmd.Stdout, m.cmd.Stderr = log, log
	if err := m.cmd.Start(); err != nil {
		t.Fatal(err)
	}
}

// kill stops the member with SIGKILL, by its PID.
func (m *etcdMember) kill() {
	if m.cmd != nil && m.cmd.ProcessState == nil {
		m.cmd.Process.Signal(syscall.SIGKILL)
		m.cmd.Wait()
	}
}

// TestExternalEtcdMemberKilledUnderLoad: the API server on a three-member
// etcd cluster keeps serving while one member is killed with SIGKILL and
// restarted under a steady stream of writes; every acknowledged write is
// there at the end.
func TestExternalEtcdMemberKilledUnderLoad(t *testing.T) {
	if _, err := exec.LookPath("etcd"); err != nil {
		t.Fatal("the etcd binary is missing: run hack/install-deps.sh (Debian package etcd-server)")
	}
	pki := t.TempDir()
	if err := certs.Init(pki, certs.Options{EtcdNames: []string{"127.0.0.1"}}); err != nil {
		t.Fatal(err)
	}
	var members []*etcdMember
	var cluster, endpoints []string
	for i := 1; i <= 3; i++ {
		m := &etcdMember{name: fmt.Sprintf("e%d", i), client: "https://" + freeAddr(t), peer: "https://" + freeAddr(t), dir: t.TempDir(), pki: pki}
		members = append(members, m)
		cluster = append(cluster, m.name+"="+m.peer)
		endpoints = append(endpoints, m.client)
	}
	for _, m := range members {
		m.start(t, strings.Join(cluster, ","))
		t.Cleanup(m.kill)
	}
	addr := freeAddr(t)
	start(t, "apiserver", "--listen", addr, "--etcd-servers", strings.Join(endpoints, ","),
		"--etcd-cafile", filepath.Join(pki, certs.EtcdCAFile),
		"--etcd-certfile", filepath.Join(pki, certs.EtcdClientFile+".crt"), "--etcd-keyfile", filepath.Join(pki, certs.EtcdClientFile+".key"))
	url := "http://" + addr
	waitReady(t, url)
	c, _ := client.New(url)
	etcdRefusesOtherClients(t, pki, endpoints[0])

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	acked := map[string]bool{}
	var duringOutage, failures atomic.Int64
	var down atomic.Bool
	var wg sync.WaitGroup
	for w := 0; w < 6; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				name := fmt.Sprintf("w%d-%d", w, i)
				cctx, ccancel := context.WithTimeout(ctx, 5*time.Second)
				err := c.Create(cctx, &core.ConfigMap{ObjectMeta: meta.ObjectMeta{Name: name, Namespace: "default"}})
				ccancel()
				if err != nil {
					failures.Add(1)
					time.Sleep(20 * time.Millisecond)
					continue
				}
				mu.Lock()
				acked[name] = true
				mu.Unlock()
				if down.Load() {
					duringOutage.Add(1)
				}
			}
		}(w)
	}
	time.Sleep(2 * time.Second)
	victim := members[1]
	victim.kill()
	down.Store(true)
	t.Logf("killed etcd member %s under load", victim.name)
	time.Sleep(3 * time.Second)
	victim.start(t, strings.Join(cluster, ",")) // same data dir: it rejoins and catches up
	down.Store(false)
	time.Sleep(3 * time.Second)
	cancel()
	wg.Wait()

	if duringOutage.Load() == 0 {
		t.Errorf("no write was acknowledged while a member was down: two of three members should keep the cluster writable")
	}
	missing := 0
	for name := range acked {
		var cm core.ConfigMap
		gctx, gcancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := c.Get(gctx, "default", name, &cm)
		gcancel()
		if errors.Is(err, apierrors.ErrNotFound) {
			missing++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d acknowledged writes lost", missing, len(acked))
	}
	t.Logf("SUMMARY | external etcd member kill | 1 of 3 members SIGKILLed for 3 s under 6 writers, then restarted | %d writes acknowledged (%d during the outage, %d failed attempts), none lost |", len(acked), duringOutage.Load(), failures.Load())
}

// etcdRefusesOtherClients: etcd answers only the etcd CA's clients. Without
// a certificate, or with one of the cluster's CA (the admin's: a cluster
// certificate must not open etcd, which would bypass RBAC), it refuses.
func etcdRefusesOtherClients(t *testing.T, pki, endpoint string) {
	t.Helper()
	ca, _ := os.ReadFile(filepath.Join(pki, certs.EtcdCAFile))
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	admin, err := tls.LoadX509KeyPair(filepath.Join(pki, "admin.crt"), filepath.Join(pki, "admin.key"))
	if err != nil {
		t.Fatal(err)
	}
	own, err := tls.LoadX509KeyPair(filepath.Join(pki, certs.EtcdClientFile+".crt"), filepath.Join(pki, certs.EtcdClientFile+".key"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		what   string
		cfg    *tls.Config
		answer bool
	}{
		{"no client certificate", &tls.Config{RootCAs: pool}, false},
		{"the cluster admin's certificate", &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{admin}}, false},
		{"the API server's etcd client certificate", &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{own}}, true},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		cli, err := store.Dial(ctx, endpoint, tc.cfg)
		if err == nil {
			_, err = cli.Get(ctx, "/registry/", clientv3.WithPrefix(), clientv3.WithLimit(1))
			cli.Close()
		}
		cancel()
		if answered := err == nil; answered != tc.answer {
			t.Errorf("etcd with %s: answered %v (%v); want %v", tc.what, answered, err, tc.answer)
		}
	}
}
