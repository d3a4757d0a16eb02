// Command apiserver serves the minik8s API over etcd: embedded by default
// (data in --data-dir), or an external cluster with --etcd-servers.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"minik8s/pkg/apiserver"
)

func main() {
	var cfg apiserver.RunConfig
	flag.StringVar(&cfg.Listen, "listen", "127.0.0.1:6443", "address to serve the API on (plain HTTP is allowed on loopback addresses only)")
	flag.StringVar(&cfg.DataDir, "data-dir", "/var/lib/minik8s/etcd", "embedded etcd's data directory")
	flag.StringVar(&cfg.EtcdServers, "etcd-servers", "", "comma-separated URLs of an external etcd cluster (instead of the embedded one)")
	flag.StringVar(&cfg.EtcdClientURL, "etcd-listen-client", "", "also serve the embedded etcd's gRPC API at this URL (e.g. http://127.0.0.1:2379)")
	flag.DurationVar(&cfg.CompactionInterval, "compaction-interval", apiserver.DefaultCompactionInterval, "how often etcd history older than one interval is compacted (0: never)")
	flag.StringVar(&cfg.ServiceCIDR, "service-cluster-ip-range", apiserver.DefaultServiceCIDR, "CIDR Service cluster IPs are allocated from (its first address is the kubernetes Service's)")
	flag.StringVar(&cfg.NodePortRange, "service-node-port-range", apiserver.DefaultNodePortRange, "range of NodePorts, FIRST-LAST")
	logFormat := flag.String("log-format", "text", "log format: text or json")
	flag.Parse()
	setupLogging(*logFormat)
	if err := cfg.Validate(); err != nil {
		fmt.Fprintln(os.Stderr, "apiserver:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := apiserver.Run(ctx, cfg, nil); err != nil {
		slog.Error("apiserver failed", "err", err)
		os.Exit(1)
	}
}

func setupLogging(format string) {
	var h slog.Handler = slog.NewTextHandler(os.Stderr, nil)
	if format == "json" {
		h = slog.NewJSONHandler(os.Stderr, nil)
	}
	slog.SetDefault(slog.New(h))
}
