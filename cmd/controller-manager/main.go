// Command controller-manager runs minik8s' controllers (ReplicaSet,
// Deployment, DaemonSet, StatefulSet, Job, CronJob, garbage collector, namespace, node
// lifecycle, node IPAM, volume binding) behind one leader election.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"minik8s/pkg/controllers/manager"
)

func main() {
	var cfg manager.Config
	flag.StringVar(&cfg.Server, "server", "http://127.0.0.1:6443", "the API server URL")
	flag.StringVar(&cfg.Kubeconfig, "kubeconfig", "", "kubeconfig file with the server, CA and credentials (instead of --server)")
	flag.StringVar(&cfg.Listen, "listen", "127.0.0.1:10257", "address for /healthz and /metrics (empty: none)")
	flag.IntVar(&cfg.Workers, "workers", 4, "workers per controller")
	flag.StringVar(&cfg.Identity, "identity", "", "leader-election identity (default hostname_pid)")
	flag.BoolVar(&cfg.LeaderElect, "leader-elect", true, "run controllers only while holding the controller-manager Lease")
	flag.DurationVar(&cfg.LeaseDuration, "leader-elect-lease-duration", 15*time.Second, "how long a standby waits after the last observed renewal")
	flag.DurationVar(&cfg.RenewDeadline, "leader-elect-renew-deadline", 10*time.Second, "how long a leader acts without a successful renewal")
	flag.DurationVar(&cfg.RetryPeriod, "leader-elect-retry-period", 2*time.Second, "how often to try to acquire or renew the Lease")
	flag.DurationVar(&cfg.NodeMonitorGracePeriod, "node-monitor-grace-period", 40*time.Second, "how long a node may go without a heartbeat before it is marked Unknown")
	flag.StringVar(&cfg.ClusterCIDR, "cluster-cidr", "10.244.0.0/16", "the range pod CIDRs are taken from")
	flag.IntVar(&cfg.NodeCIDRMaskSize, "node-cidr-mask-size", 24, "the size of each node's pod CIDR")
	flag.StringVar(&cfg.VolumeDir, "volume-dir", "/var/lib/minik8s/volumes", "the node directory that provisioned persistent volumes live under")
	logFormat := flag.String("log-format", "text", "log format: text or json")
	flag.Parse()
	var h slog.Handler = slog.NewTextHandler(os.Stderr, nil)
	if *logFormat == "json" {
		h = slog.NewJSONHandler(os.Stderr, nil)
	}
	slog.SetDefault(slog.New(h))
	if err := cfg.Validate(); err != nil {
		fmt.Fprintln(os.Stderr, "controller-manager:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := manager.Run(ctx, cfg); err != nil {
		slog.Error("controller-manager failed", "err", err)
		os.Exit(1)
	}
}
