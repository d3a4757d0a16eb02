// Package local runs a whole minik8s cluster in one process on this
// machine (k3s-style): embedded etcd and the API server, the scheduler, the
// controller-manager, one node agent and its proxy. `minik8s up` is a thin
// command around Up; `minik8s down` around Down.
//
// Every component is the same code the separate binaries run, started in
// its own goroutine and talking to the others only through the API server,
// exactly as in a multi-machine cluster. When no containerd answers on the
// given socket, Up starts a private one (config, root and state under the
// data directory) and stops it on exit.
//
// Up changes this network namespace: a pod bridge (mk0), pod network
// namespaces and the proxy's iptables chains. Tests therefore run it inside
// a network namespace of their own (`ip netns exec`). Down removes all of
// it again.
package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"minik8s/pkg/apis/core"
	"minik8s/pkg/apiserver"
	"minik8s/pkg/client"
	"minik8s/pkg/controllers/manager"
	"minik8s/pkg/nodeagent"
	"minik8s/pkg/proxy"
	"minik8s/pkg/scheduler"
)

// Config is `minik8s up`'s configuration.
type Config struct {
	DataDir  string // everything the cluster keeps: etcd, containerd, pods, kubeconfig
	Listen   string // the API server's address (HTTPS; default every address, port 6443)
	NodeName string
	// ContainerdAddress is a running containerd's socket to use; empty:
	// the system's (/run/containerd/containerd.sock) if it answers, else a
	// private one under DataDir.
	ContainerdAddress string
	AgentListen       string // the node agent's API (logs)
	PodCIDR           string // this node's pods (inside ClusterCIDR)
	ClusterCIDR       string
	PreloadImages     string   // directory of image tarballs to import
	InsecureRegistry  []string // registries reached over plain HTTP
	// Out receives the progress and the how-to-use lines; logs go to slog.
	Out io.Writer
}

// Defaults fills unset fields.
func (c *Config) Defaults() {
	if c.DataDir == "" {
		c.DataDir = "/var/lib/minik8s"
	}
	if c.Listen == "" {
		c.Listen = "0.0.0.0:6443"
	}
	if c.NodeName == "" {
		c.NodeName, _ = os.Hostname()
		c.NodeName = strings.ToLower(c.NodeName)
	}
	if c.AgentListen == "" {
		c.AgentListen = "0.0.0.0:10250"
	}
	if c.ClusterCIDR == "" {
		c.ClusterCIDR = "10.244.0.0/16"
	}
	if c.PodCIDR == "" {
		c.PodCIDR = "10.244.0.0/24"
	}
	if c.InsecureRegistry == nil {
		c.InsecureRegistry = []string{"127.0.0.1:5000", "localhost:5000"}
	}
	if c.Out == nil {
		c.Out = os.Stdout
	}
}

// Prerequisite is one thing the machine must have.
type Prerequisite struct {
	What, Path, Install string
}

// Prerequisites lists what `minik8s up` needs on the machine.
var Prerequisites = []Prerequisite{
	{"runc", "runc", "apt-get install runc"},
	{"containerd (unless one is already running)", "containerd", "apt-get install containerd"},
	{"CNI bridge plugin", "/usr/lib/cni/bridge", "apt-get install containernetworking-plugins"},
	{"CNI host-local plugin", "/usr/lib/cni/host-local", "apt-get install containernetworking-plugins"},
	{"CNI loopback plugin", "/usr/lib/cni/loopback", "apt-get install containernetworking-plugins"},
	{"iptables", "iptables-restore", "apt-get install iptables"},
	{"ip (iproute2)", "ip", "apt-get install iproute2"},
}

// Missing returns the prerequisites this machine lacks, and whether the
// process runs as root (containers and networks need it).
func Missing() (missing []Prerequisite, root bool) {
	for _, p := range Prerequisites {
		if strings.HasPrefix(p.Path, "/") {
			if _, err := os.Stat(p.Path); err == nil {
				continue
			}
		} else if _, err := exec.LookPath(p.Path); err == nil {
			continue
		}
		missing = append(missing, p)
	}
	return missing, os.Geteuid() == 0
}

// Up runs the cluster until ctx is done, then stops every component and
// the private containerd (if it started one). The data directory keeps all
// objects: running Up again brings back the same cluster.
func Up(ctx context.Context, cfg Config) error {
	cfg.Defaults()
	if missing, root := Missing(); !root || len(missing) > 0 {
		return prerequisiteError(missing, root)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return err
	}
	say := func(format string, args ...any) { fmt.Fprintf(cfg.Out, format+"\n", args...) }

	ctrd, stopContainerd, err := ensureContainerd(ctx, cfg.ContainerdAddress, filepath.Join(cfg.DataDir, "containerd"))
	if err != nil {
		return err
	}
	defer stopContainerd()
	say("✓ containerd at %s", ctrd)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, 6)
	run := func(name string, f func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(ctx); err != nil && ctx.Err() == nil {
				errc <- fmt.Errorf("%s: %w", name, err)
				cancel()
			}
		}()
	}
	defer wg.Wait()

	server, err := serverURL(cfg.Listen)
	if err != nil {
		return err
	}
	nodeIP := nodeagent.DefaultNodeIP()
	rc, err := securePrep(cfg, server, nodeIP)
	if err != nil {
		return fmt.Errorf("certificates: %w", err)
	}
	pki := cfg.pki()
	kc := func(name string) string { return filepath.Join(pki, name+".kubeconfig") }
	rc.Listen, rc.DataDir, rc.CompactionInterval = cfg.Listen, filepath.Join(cfg.DataDir, "etcd"), apiserver.DefaultCompactionInterval
	ready := make(chan string, 1)
	run("apiserver", func(ctx context.Context) error {
		return apiserver.Run(ctx, rc, func(addr string) { ready <- addr })
	})
	select {
	case <-ready:
	case err := <-errc:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
	say("✓ etcd and the API server at %s: TLS, certificates in %s, pods reach it at %s", server, pki, nodeIP)
	kubeconfig := filepath.Join(cfg.DataDir, "kubeconfig")
	if err := copyFile(kc("admin"), kubeconfig); err != nil {
		return err
	}

	cm := manager.Config{Server: server, Kubeconfig: kc("kube-controller-manager"), Workers: 2, ClusterCIDR: cfg.ClusterCIDR, NodeCIDRMaskSize: 24,
		NodeMonitorGracePeriod: 40 * time.Second, VolumeDir: filepath.Join(cfg.DataDir, "volumes")}
	if err := cm.Validate(); err != nil {
		return err
	}
	run("controller-manager", func(ctx context.Context) error { return manager.Run(ctx, cm) })
	sched, err := scheduler.New(scheduler.Config{Server: server, Kubeconfig: kc("kube-scheduler"), SchedulerName: "default-scheduler", Score: scheduler.MostAllocated})
	if err != nil {
		return err
	}
	run("scheduler", sched.Run)
	agent, err := nodeagent.New(nodeagent.Config{
		Server: server, Kubeconfig: kc("node-" + cfg.NodeName), NodeName: cfg.NodeName, NodeIP: nodeIP, ContainerdAddress: ctrd, Namespace: "minik8s",
		RootDir: filepath.Join(cfg.DataDir, "nodeagent"), Listen: cfg.AgentListen, CNIBinDir: "/usr/lib/cni",
		PodCIDR: cfg.PodCIDR, PreloadImages: cfg.PreloadImages, InsecureRegistry: cfg.InsecureRegistry,
		MaxPods: 110, CrashBackoff: 10 * time.Second, MaxCrashBackoff: 5 * time.Minute, ResyncPeriod: 10 * time.Second,
		Log: slog.Default(),
	})
	if err != nil {
		return err
	}
	run("nodeagent", agent.Run)
	pcfg := proxy.Config{Server: server, Kubeconfig: kc("kube-proxy"), NodeName: cfg.NodeName, ClusterCIDR: cfg.ClusterCIDR, MinSyncPeriod: time.Second}
	if err := pcfg.Validate(); err != nil {
		return err
	}
	px, err := proxy.New(pcfg)
	if err != nil {
		return err
	}
	run("proxy", px.Run)

	if err := waitNodeReady(ctx, kubeconfig, cfg.NodeName); err != nil {
		cancel()
		select {
		case e := <-errc:
			return e
		default:
			return err
		}
	}
	say("✓ node %s Ready", cfg.NodeName)
	say(`
minik8s is running. In another terminal:

  export KUBECONFIG=%s
  kubectl get nodes
  kubectl apply -f examples/web.yaml
  curl --cacert %[2]s/ca.crt --cert %[2]s/admin.crt --key %[2]s/admin.key %[3]s/api/v1/namespaces/default/pods

Stop it with Ctrl-C (objects are kept for the next "minik8s up");
"minik8s down" removes containers, networks and rules ("--wipe" also the data).`, kubeconfig, pki, server)

	select {
	case <-ctx.Done():
	case err := <-errc:
		cancel()
		wg.Wait()
		return err
	}
	wg.Wait()
	say("minik8s stopped")
	return nil
}

func prerequisiteError(missing []Prerequisite, root bool) error {
	var b strings.Builder
	if !root {
		b.WriteString("minik8s up must run as root (it runs containers and sets up their networks)\n")
	}
	for _, p := range missing {
		fmt.Fprintf(&b, "missing %s (%s): install it with: %s\n", p.What, p.Path, p.Install)
	}
	b.WriteString("or run: make deps")
	return errors.New(b.String())
}

// copyFile copies a small file (a kubeconfig), keeping it private.
func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o600)
}

// waitNodeReady waits until the node reports Ready.
func waitNodeReady(ctx context.Context, kubeconfig, name string) error {
	c, err := client.FromKubeconfig(kubeconfig)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var n core.Node
		if err := c.Get(ctx, "", name, &n); err == nil {
			for _, cond := range n.Status.Conditions {
				if cond.Type == core.NodeReady && cond.Status == core.ConditionTrue {
					return nil
				}
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("node %s did not become Ready within 2 minutes", name)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// dialable says whether something listens on a unix socket.
func dialable(sock string) bool {
	c, err := net.DialTimeout("unix", sock, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}
