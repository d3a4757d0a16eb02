// Command scheduler places pending pods on nodes and binds them through
// the API server: `scheduler --server URL` is all it takes.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"minik8s/pkg/scheduler"
)

func main() {
	var cfg scheduler.Config
	flag.StringVar(&cfg.Server, "server", "http://127.0.0.1:6443", "the API server's URL")
	flag.StringVar(&cfg.Kubeconfig, "kubeconfig", "", "kubeconfig file with the server, CA and credentials (instead of --server)")
	flag.StringVar(&cfg.SchedulerName, "scheduler-name", "default-scheduler", "schedule the pods whose spec.schedulerName is this")
	flag.StringVar(&cfg.Score, "score", scheduler.MostAllocated, "resource scoring: most-allocated (bin-packing), least-allocated (spreading) or balanced")
	flag.BoolVar(&cfg.LeaderElect, "leader-elect", true, "take turns with other replicas through the Lease kube-system/minik8s-scheduler")
	flag.StringVar(&cfg.Listen, "listen", "127.0.0.1:10259", "address to serve /healthz and /metrics on")
	logFormat := flag.String("log-format", "text", "log format: text or json")
	flag.Parse()
	setupLogging(*logFormat)
	s, err := scheduler.New(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "scheduler:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := s.Run(ctx); err != nil {
		slog.Error("scheduler failed", "err", err)
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
