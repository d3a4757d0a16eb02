// Command proxy is minik8s' per-node service proxy: it watches Services
// and Endpoints and programs the node's nat table (kube-proxy's iptables
// layout), and serves cluster DNS when --dns-listen is given.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"minik8s/pkg/proxy"
)

func main() {
	var cfg proxy.Config
	host, _ := os.Hostname()
	flag.StringVar(&cfg.Server, "server", "http://127.0.0.1:6443", "the API server's URL")
	flag.StringVar(&cfg.Kubeconfig, "kubeconfig", "", "kubeconfig with the API server, its CA and the proxy's credentials (instead of --server)")
	flag.StringVar(&cfg.NodeName, "node-name", host, "the node this proxy runs on")
	flag.StringVar(&cfg.ClusterCIDR, "cluster-cidr", "", "the pods' range; traffic to cluster IPs from outside it is masqueraded")
	flag.StringVar(&cfg.Listen, "listen", "127.0.0.1:10256", "address to serve /healthz and /metrics on")
	flag.DurationVar(&cfg.MinSyncPeriod, "iptables-min-sync-period", time.Second, "least time between two rule syncs")
	flag.StringVar(&cfg.Netns, "netns", "", "program the nat table of this network namespace (a path such as /run/netns/NAME) instead of the proxy's own")
	flag.StringVar(&cfg.DNSListen, "dns-listen", "", "serve cluster DNS on this address (e.g. 10.0.0.2:53), inside --netns when given; empty: no DNS")
	upstreams := flag.String("dns-upstream", "", "comma-separated resolvers for names outside the cluster (default: /etc/resolv.conf's)")
	logFormat := flag.String("log-format", "text", "log format: text or json")
	flag.Parse()
	setupLogging(*logFormat)
	if *upstreams != "" {
		cfg.DNSUpstreams = strings.Split(*upstreams, ",")
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintln(os.Stderr, "proxy:", err)
		os.Exit(2)
	}
	p, err := proxy.New(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "proxy:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := p.Run(ctx); err != nil {
		slog.Error("proxy failed", "err", err)
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
