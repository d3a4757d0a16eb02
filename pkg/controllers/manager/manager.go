// Package manager runs minik8s' controllers in one process, behind one
// leader election: only the replica holding the Lease runs controllers,
// and it stops them the moment it loses the Lease. Each leadership term
// starts from fresh informer caches, so a new leader acts on current
// state only (DESIGN.md section 9: control logic depends only on current
// state).
package manager

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"minik8s/pkg/client"
	"minik8s/pkg/client/events"
	"minik8s/pkg/client/leaderelection"
	"minik8s/pkg/controllers/cronjob"
	"minik8s/pkg/controllers/daemonset"
	"minik8s/pkg/controllers/deployment"
	"minik8s/pkg/controllers/endpoints"
	"minik8s/pkg/controllers/garbagecollector"
	"minik8s/pkg/controllers/job"
	"minik8s/pkg/controllers/namespace"
	"minik8s/pkg/controllers/nodeipam"
	"minik8s/pkg/controllers/nodelifecycle"
	"minik8s/pkg/controllers/replicaset"
	"minik8s/pkg/controllers/serviceaccount"
	"minik8s/pkg/controllers/statefulset"
	"minik8s/pkg/controllers/volumebinding"
)

// Config is the controller-manager's configuration (its flags).
type Config struct {
	Server   string // the API server URL
	Listen   string // /healthz and /metrics
	Workers  int    // workers per controller
	Identity string // leader-election identity; default hostname_pid

	// Kubeconfig, when set, is used instead of Server (credentials, CA).
	Kubeconfig string

	LeaderElect   bool
	LeaseDuration time.Duration
	RenewDeadline time.Duration
	RetryPeriod   time.Duration

	NodeMonitorGracePeriod time.Duration
	ClusterCIDR            string
	NodeCIDRMaskSize       int
	// VolumeDir is the node directory provisioned volumes live under.
	VolumeDir string
}

// Validate checks the configuration and fills defaults.
func (c *Config) Validate() error {
	if c.Server == "" {
		return errors.New("--server is required")
	}
	if c.Workers <= 0 {
		c.Workers = 2
	}
	if c.Identity == "" {
		host, _ := os.Hostname()
		c.Identity = fmt.Sprintf("%s_%d", host, os.Getpid())
	}
	ipam := c.nodeIPAM()
	if err := ipam.Validate(); err != nil {
		return fmt.Errorf("--cluster-cidr %s / --node-cidr-mask-size %d: %w", c.ClusterCIDR, c.NodeCIDRMaskSize, err)
	}
	nl := c.nodeLifecycle()
	if err := nl.Validate(); err != nil {
		return fmt.Errorf("--node-monitor-grace-period %v: %w", c.NodeMonitorGracePeriod, err)
	}
	return nil
}

// Run serves health and metrics and runs the controllers (when leader)
// until ctx is done.
func Run(ctx context.Context, cfg Config) error {
	c, err := client.NewFrom(cfg.Server, cfg.Kubeconfig)
	if err != nil {
		return err
	}
	c.UserAgent = "minik8s-controller-manager"
	var leading atomic.Bool
	var wg sync.WaitGroup
	if cfg.Listen != "" {
		l, err := net.Listen("tcp", cfg.Listen)
		if err != nil {
			return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
		}
		srv := &http.Server{Handler: healthMux(&leading), ReadHeaderTimeout: 5 * time.Second}
		wg.Add(1)
		go func() { defer wg.Done(); srv.Serve(l) }()
		defer func() { srv.Close(); wg.Wait() }()
	}
	run := func(ctx context.Context) {
		leading.Store(true)
		defer leading.Store(false)
		runControllers(ctx, c, cfg)
	}
	if !cfg.LeaderElect {
		run(ctx)
		return nil
	}
	return leaderelection.Run(ctx, leaderelection.Config{
		Client: c, Namespace: "kube-system", Name: "minik8s-controller-manager", Identity: cfg.Identity,
		LeaseDuration: cfg.LeaseDuration, RenewDeadline: cfg.RenewDeadline, RetryPeriod: cfg.RetryPeriod,
	}, run)
}

// runControllers starts every controller on fresh shared informers and
// returns when ctx is done and all of them have stopped.
func runControllers(ctx context.Context, c *client.Client, cfg Config) {
	f := client.NewFactory(c, 10*time.Minute)
	host, _ := os.Hostname()
	var recorders []*events.Recorder
	recorder := func(component string) *events.Recorder {
		r := events.New(c, component, host)
		recorders = append(recorders, r)
		return r
	}
	rec := recorder("controller-manager")
	controllers := map[string]interface{ Run(context.Context, int) }{
		"replicaset":       replicaset.New(c, f, recorder("replicaset-controller")),
		"deployment":       deployment.New(c, f, recorder("deployment-controller")),
		"garbagecollector": garbagecollector.New(c, f, rec),
		"namespace":        namespace.New(c, f, rec),
		"nodelifecycle":    nodelifecycle.New(c, f, recorder("node-controller"), cfg.nodeLifecycle()),
		"nodeipam":         nodeipam.New(c, f, rec, cfg.nodeIPAM()),
		"daemonset":        daemonset.New(c, f, recorder("daemonset-controller")),
		"statefulset":      statefulset.New(c, f, recorder("statefulset-controller")),
		"endpoints":        endpoints.New(c, f, recorder("endpoint-controller")),
		"job":              job.New(c, f, recorder("job-controller")),
		"serviceaccount":   serviceaccount.New(c, f, rec),
		"cronjob":          cronjob.New(c, f, recorder("cronjob-controller"), cronjob.Config{}),
		"volumebinding":    volumebinding.New(c, f, recorder("persistentvolume-controller"), volumebinding.Config{Root: cfg.VolumeDir}),
	}
	var wg sync.WaitGroup
	for _, r := range recorders {
		wg.Add(1)
		go func() { defer wg.Done(); r.Run(ctx) }()
	}
	for name, ctrl := range controllers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			slog.Info("starting controller", "controller", name)
			ctrl.Run(ctx, cfg.Workers)
		}()
	}
	f.Start(ctx)
	<-ctx.Done()
	wg.Wait()
	f.Wait()
	slog.Info("controllers stopped")
}

func (c *Config) nodeLifecycle() nodelifecycle.Config {
	return nodelifecycle.Config{NodeMonitorGracePeriod: c.NodeMonitorGracePeriod}
}

func (c *Config) nodeIPAM() nodeipam.Config {
	return nodeipam.Config{ClusterCIDR: c.ClusterCIDR, NodeMaskSize: c.NodeCIDRMaskSize}
}

func healthMux(leading *atomic.Bool) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
		v := 0
		if leading.Load() {
			v = 1
		}
		fmt.Fprintf(w, "# HELP minik8s_leader Whether this replica holds the controller-manager lease.\n# TYPE minik8s_leader gauge\nminik8s_leader %d\n", v)
	})
	return mux
}
