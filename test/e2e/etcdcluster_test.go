package e2e

import (
	"context"
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

	"minik8s/pkg/apis/apierrors"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/client"
)

// etcdMember is one process of a test etcd cluster (Debian's etcd).
type etcdMember struct {
	name, client, peer, dir string
	cmd                     *exec.Cmd
}

func (m *etcdMember) start(t *testing.T, cluster string) {
	t.Helper()
	log, _ := os.OpenFile(filepath.Join(m.dir, "etcd.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	m.cmd = exec.Command("etcd", "--name", m.name, "--data-dir", filepath.Join(m.dir, "data"),
		"--listen-client-urls", m.client, "--advertise-client-urls", m.client,
		"--listen-peer-urls", m.peer, "--initial-advertise-peer-urls", m.peer,
		"--initial-cluster", cluster, "--initial-cluster-state", "new", "--log-level", "error")
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
	var members []*etcdMember
	var cluster, endpoints []string
	for i := 1; i <= 3; i++ {
		m := &etcdMember{name: fmt.Sprintf("e%d", i), client: "http://" + freeAddr(t), peer: "http://" + freeAddr(t), dir: t.TempDir()}
		members = append(members, m)
		cluster = append(cluster, m.name+"="+m.peer)
		endpoints = append(endpoints, m.client)
	}
	for _, m := range members {
		m.start(t, strings.Join(cluster, ","))
		t.Cleanup(m.kill)
	}
	addr := freeAddr(t)
	start(t, "apiserver", "--listen", addr, "--etcd-servers", strings.Join(endpoints, ","))
	url := "http://" + addr
	waitReady(t, url)
	c, _ := client.New(url)

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
