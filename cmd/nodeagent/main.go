// Command nodeagent is minik8s' kubelet: it registers its node, runs the
// pods bound to it on containerd and reports their status. See
// pkg/nodeagent. The containerd shim also runs this binary as the logging
// driver of each container ("nodeagent log-file PATH").
package main

import (
	"context"
	"flag"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"minik8s/pkg/nodeagent"
)

func main() {
	if nodeagent.IsLogDriver(os.Args) {
		nodeagent.RunLogDriver(os.Args[2])
		return
	}
	host, _ := os.Hostname()
	var cfg nodeagent.Config
	flag.StringVar(&cfg.Server, "server", "http://127.0.0.1:6443", "the API server's URL")
	flag.StringVar(&cfg.Kubeconfig, "kubeconfig", "", "kubeconfig with the API server, its CA and this node's credentials (instead of --server)")
	flag.StringVar(&cfg.NodeName, "node-name", host, "the node's name")
	flag.StringVar(&cfg.ContainerdAddress, "containerd-address", "/run/containerd/containerd.sock", "containerd's socket")
	flag.StringVar(&cfg.Namespace, "containerd-namespace", "minik8s", "containerd namespace for this agent's containers")
	flag.StringVar(&cfg.RootDir, "root-dir", "/var/lib/minik8s/nodeagent", "directory for pod volumes, logs, network state")
	flag.StringVar(&cfg.Listen, "listen", "0.0.0.0:10250", "address of the agent's API (logs, /healthz, /metrics)")
	flag.StringVar(&cfg.CNIBinDir, "cni-bin-dir", "/usr/lib/cni", "directory of the CNI plugins")
	flag.StringVar(&cfg.CNIConfFile, "cni-conf-file", "", "CNI conflist for pods (default: bridge + host-local on the podCIDR)")
	flag.StringVar(&cfg.NodeNetns, "node-netns", "", "network namespace (path) acting as the node's network, for nodes run as namespaces")
	flag.StringVar(&cfg.PodCIDR, "pod-cidr", "", "pod CIDR until the node IPAM controller assigns spec.podCIDR")
	flag.StringVar(&cfg.ClusterCIDR, "cluster-cidr", "", "all pods' range (e.g. 10.244.0.0/16): pod traffic within it is not masqueraded")
	flag.BoolVar(&cfg.Routes, "pod-routes", true, "route other nodes' podCIDRs via their InternalIPs (host-gateway pod network)")
	flag.StringVar(&cfg.ClusterDNS, "cluster-dns", "", "nameserver for pods with dnsPolicy ClusterFirst (empty: the node's resolv.conf)")
	flag.StringVar(&cfg.ClusterDomain, "cluster-domain", "cluster.local", "the cluster's DNS domain")
	flag.StringVar(&cfg.NodeIP, "node-ip", "", "the node's InternalIP (default: its first non-loopback IPv4)")
	flag.StringVar(&cfg.PreloadImages, "preload-images", "", "directory of image tarballs to import at start")
	insecure := flag.String("insecure-registry", "127.0.0.1:5000,localhost:5000", "registries reached over plain HTTP, comma-separated")
	reserved := flag.String("reserved", "", "resources kept for the system, e.g. cpu=100m,memory=256Mi")
	flag.IntVar(&cfg.MaxPods, "max-pods", 110, "pods this node accepts")
	flag.DurationVar(&cfg.CrashBackoff, "crash-backoff", 10*time.Second, "first restart delay of a crashing container (doubles per restart)")
	flag.DurationVar(&cfg.MaxCrashBackoff, "max-crash-backoff", 5*time.Minute, "longest restart delay")
	flag.IntVar(&cfg.NodeLeaseDurationSeconds, "node-lease-duration-seconds", 40, "the node Lease's duration; it is renewed every quarter of it (keep it at most the controller-manager's --node-monitor-grace-period)")
	flag.DurationVar(&cfg.ResyncPeriod, "resync-period", 10*time.Second, "how often every pod is synced without a change")
	logFormat := flag.String("log-format", "text", "log format: text or json")
	flag.Parse()

	var h slog.Handler = slog.NewTextHandler(os.Stderr, nil)
	if *logFormat == "json" {
		h = slog.NewJSONHandler(os.Stderr, nil)
	}
	cfg.Log = slog.New(h)
	slog.SetDefault(cfg.Log)
	for _, r := range strings.Split(*insecure, ",") {
		if r = strings.TrimSpace(r); r != "" {
			cfg.InsecureRegistry = append(cfg.InsecureRegistry, r)
		}
	}
	var err error
	if cfg.Reserved, err = nodeagent.ParseResourceList(*reserved); err != nil {
		slog.Error("--reserved", "err", err)
		os.Exit(2)
	}
	a, err := nodeagent.New(cfg)
	if err != nil {
		slog.Error("invalid configuration", "err", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := a.Run(ctx); err != nil {
		slog.Error("nodeagent failed", "err", err)
		os.Exit(1)
	}
}
