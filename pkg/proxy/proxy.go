package proxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"minik8s/pkg/apis"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/client"
	"minik8s/pkg/dns"
)

// Config is the proxy's configuration (its flags).
type Config struct {
	// Server is the API server's URL.
	Server string
	// Kubeconfig, when set, is used instead of Server (credentials, CA).
	Kubeconfig string
	// NodeName is the node this proxy runs on.
	NodeName string
	// ClusterCIDR is the pods' range ("" if unknown): traffic to cluster
	// IPs from outside it is masqueraded.
	ClusterCIDR string
	// Listen is where /healthz and /metrics are served ("" for nowhere).
	Listen string
	// MinSyncPeriod is the least time between two syncs: changes arriving
	// meanwhile are written together.
	MinSyncPeriod time.Duration
	// Netns, if set, is the path of the network namespace whose nat table
	// the proxy programs (tests and labs); the proxy itself stays where
	// it runs.
	Netns string
	// DNSListen, if set, is where cluster DNS is served (UDP and TCP),
	// in the Netns namespace when one is given.
	DNSListen string
	// DNSUpstreams are the resolvers names outside the cluster domain
	// are forwarded to; empty: those of /etc/resolv.conf.
	DNSUpstreams []string
}

// Validate checks the configuration before anything starts.
func (c *Config) Validate() error {
	if c.Server == "" {
		return errors.New("--server is required")
	}
	if c.NodeName == "" {
		return errors.New("--node-name is required")
	}
	if c.ClusterCIDR != "" {
		if _, _, err := net.ParseCIDR(c.ClusterCIDR); err != nil {
			return fmt.Errorf("--cluster-cidr: %w", err)
		}
	}
	if c.MinSyncPeriod < 0 {
		return errors.New("--iptables-min-sync-period must not be negative")
	}
	return nil
}

func logger() *slog.Logger { return slog.Default().With("component", "proxy") }

var (
	serviceKind   = mustKind("services")
	endpointsKind = mustKind("endpoints")
)

func mustKind(resource string) *apis.Kind {
	k, ok := apis.ByResource("", resource)
	if !ok {
		panic("proxy: kind " + resource + " is not served")
	}
	return k
}

// Proxy programs one node's nat table from the cluster's Services and
// Endpoints, and serves cluster DNS if asked. Build it with New; Run it
// once.
type Proxy struct {
	cfg       Config
	services  *client.Informer
	endpoints *client.Informer
	syncer    *syncer
	metrics   *metrics
	// changed has a value when something changed since the last sync.
	changed chan struct{}
}

// New returns a Proxy for cfg (which must be valid). It connects to
// nothing until Run.
func New(cfg Config) (*Proxy, error) {
	c, err := client.NewFrom(cfg.Server, cfg.Kubeconfig)
	if err != nil {
		return nil, err
	}
	dp := &iptables{netns: cfg.Netns}
	p := &Proxy{
		cfg:       cfg,
		services:  client.NewInformer(c.ListWatch(serviceKind, "", client.ListOptions{}), 0),
		endpoints: client.NewInformer(c.ListWatch(endpointsKind, "", client.ListOptions{}), 0),
		syncer:    &syncer{dp: dp, flows: dp, cfg: RulesConfig{NodeName: cfg.NodeName, ClusterCIDR: cfg.ClusterCIDR}},
		metrics:   &metrics{},
		changed:   make(chan struct{}, 1),
	}
	h := client.Handler{
		OnAdd:    func(obj meta.Object) { p.poke() },
		OnUpdate: func(_, obj meta.Object) { p.poke() },
		OnDelete: func(obj meta.Object) { p.poke() },
	}
	p.services.AddEventHandler(h)
	p.endpoints.AddEventHandler(h)
	return p, nil
}

func (p *Proxy) poke() {
	select {
	case p.changed <- struct{}{}:
	default:
	}
}

// Run watches Services and Endpoints and keeps the rules in step until
// ctx is done; it also serves /healthz, /metrics and DNS when configured.
// It returns after everything it started has stopped. Rules are left in
// place on return (as kube-proxy does), so traffic keeps flowing while
// the proxy restarts.
func (p *Proxy) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { p.services.Run(ctx) })
	wg.Go(func() { p.endpoints.Run(ctx) })
	if p.cfg.Listen != "" {
		l, err := net.Listen("tcp", p.cfg.Listen)
		if err != nil {
			return fmt.Errorf("listen on %s: %w", p.cfg.Listen, err)
		}
		hs := &http.Server{Handler: p.Handler(), ReadHeaderTimeout: 10 * time.Second}
		wg.Go(func() { hs.Serve(l) })
		wg.Go(func() { <-ctx.Done(); hs.Close() })
	}
	if p.cfg.DNSListen != "" {
		// The DNS sockets are made in the node's namespace (a socket
		// stays in the namespace it was created in), so pods reach
		// them at the node's address.
		var d *dns.Server
		err := inNetns(p.cfg.Netns, func() error {
			var err error
			d, err = dns.New(dns.Config{Listen: p.cfg.DNSListen, Upstreams: p.cfg.DNSUpstreams}, p)
			return err
		})
		if err != nil {
			return err
		}
		logger().Info("serving cluster DNS", "address", d.Addr())
		wg.Go(func() { d.Run(ctx) })
	}
	if !p.services.WaitForSync(ctx) || !p.endpoints.WaitForSync(ctx) {
		return nil
	}
	logger().Info("started", "node", p.cfg.NodeName, "netns", p.cfg.Netns)
	p.loop(ctx)
	return nil
}

// loop syncs after every change, at most once per MinSyncPeriod, and
// retries failures with backoff.
func (p *Proxy) loop(ctx context.Context) {
	const maxBackoff = 30 * time.Second
	backoff := time.Second
	var last time.Time
	retry := time.NewTimer(0) // the first sync
	defer retry.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.changed:
		case <-retry.C:
		}
		if wait := p.cfg.MinSyncPeriod - time.Since(last); wait > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
		}
		last = time.Now()
		if err := p.syncOnce(ctx); err != nil {
			logger().Error("sync failed; retrying", "err", err, "in", backoff)
			retry.Reset(backoff)
			backoff = min(2*backoff, maxBackoff)
			continue
		}
		backoff = time.Second
	}
}

// syncOnce writes the rules for what the caches hold now.
func (p *Proxy) syncOnce(ctx context.Context) error {
	var svcs []*core.Service
	for _, o := range p.services.Store().List() {
		svcs = append(svcs, o.(*core.Service))
	}
	var eps []*core.Endpoints
	for _, o := range p.endpoints.Store().List() {
		eps = append(eps, o.(*core.Endpoints))
	}
	res, err := p.syncer.sync(ctx, svcs, eps)
	p.metrics.observe(res, err)
	if err == nil && (res.chainsWritten > 0 || res.chainsDeleted > 0) {
		logger().Debug("rules synced", "written", res.chainsWritten, "deleted", res.chainsDeleted,
			"full", res.full, "compute", res.compute, "apply", res.apply)
	}
	return err
}

// Service returns the cached Service ns/name (for DNS).
func (p *Proxy) Service(ns, name string) (*core.Service, bool) {
	o, ok := p.services.Store().Get(ns + "/" + name)
	if !ok {
		return nil, false
	}
	return o.(*core.Service), true
}

// Endpoints returns the cached Endpoints ns/name (for DNS).
func (p *Proxy) Endpoints(ns, name string) (*core.Endpoints, bool) {
	o, ok := p.endpoints.Store().Get(ns + "/" + name)
	if !ok {
		return nil, false
	}
	return o.(*core.Endpoints), true
}

// Handler serves /healthz (503 while the last sync failed) and /metrics.
func (p *Proxy) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if err := p.metrics.lastError(); err != nil {
			http.Error(w, "last sync failed: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok"))
	})
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) { p.metrics.write(w) })
	return mux
}
