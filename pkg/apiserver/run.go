package apiserver

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"minik8s/pkg/store"
)

// DefaultCompactionInterval is Kubernetes' default: history is kept for at
// least five minutes, enough for watchers to resume after a short break.
const DefaultCompactionInterval = 5 * time.Minute

// bookmarkInterval is how often idle watches learn the current revision.
const bookmarkInterval = 15 * time.Second

// RunConfig is the API server process's configuration (the flags).
type RunConfig struct {
	Listen string
	// AdvertiseAddress is the IP the kubernetes Service's Endpoints name
	// (pods reach the API there); default: the listening address, which
	// must then be a concrete one.
	AdvertiseAddress   string
	DataDir            string
	EtcdServers        string
	EtcdClientURL      string
	CompactionInterval time.Duration
	// ServiceCIDR and NodePortRange are --service-cluster-ip-range and
	// --service-node-port-range.
	ServiceCIDR   string
	NodePortRange string
	// Security flags; see security.md. With TLSCertFile the server serves
	// HTTPS and authenticates every request.
	TLSCertFile, TLSKeyFile string
	ClientCAFile            string
	TokenAuthFile           string
	// ServiceAccountKeyFile verifies ServiceAccount tokens (default: the
	// signing key's public half); ServiceAccountSigningKeyFile issues them.
	ServiceAccountKeyFile        string
	ServiceAccountSigningKeyFile string
	ServiceAccountIssuer         string
	// AuthorizationMode is "Node,RBAC" (the default with TLS) or
	// "AlwaysAllow" (the only choice without).
	AuthorizationMode           string
	EncryptionProviderConfig    string
	AuditLogPath                string
	AuditLogMaxSize             int // megabytes before rotation
	AuditLogMaxBackups          int
	MaxRequestsInflight         int
	MaxMutatingRequestsInflight int
	RequestTimeout              time.Duration
	// KubeletClientCertFile/KeyFile are the API server's client identity
	// toward node agents; KubeletCAFile verifies the agents' certificates.
	KubeletClientCertFile, KubeletClientKeyFile, KubeletCAFile string
	// EtcdCAFile verifies the external etcd's members; EtcdCertFile and
	// EtcdKeyFile are the API server's client certificate toward them.
	EtcdCAFile, EtcdCertFile, EtcdKeyFile string
}

// Validate checks the configuration before anything starts.
func (c *RunConfig) Validate() error {
	host, _, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return fmt.Errorf("--listen %q: %w", c.Listen, err)
	}
	if err := c.validateSecurity(); err != nil {
		return err
	}
	// Without TLS and authentication nobody but this machine may connect.
	ip := net.ParseIP(host)
	if c.TLSCertFile == "" && host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("--listen %s: plain unauthenticated HTTP is only allowed on a loopback address (127.0.0.1, ::1)", c.Listen)
	}
	if a := c.AdvertiseAddress; a != "" && (net.ParseIP(a) == nil || net.ParseIP(a).IsUnspecified()) {
		return fmt.Errorf("--advertise-address %q: want a concrete IP address", a)
	}
	if c.EtcdServers == "" && c.DataDir == "" {
		return fmt.Errorf("--data-dir is required for the embedded etcd (or give --etcd-servers)")
	}
	if _, err := newServiceAllocator(nil, c.ServiceCIDR, c.NodePortRange); err != nil {
		return fmt.Errorf("--service-cluster-ip-range or --service-node-port-range: %w", err)
	}
	return nil
}

// Run starts etcd (embedded unless EtcdServers is set), the API server
// and its background loops (compaction, watch bookmarks), and serves until
// ctx is done. ready, if not nil, is called with the listening address once
// the server accepts requests. Run returns after everything has stopped.
func Run(ctx context.Context, cfg RunConfig, ready func(addr string)) error {
	var cli *clientv3.Client
	if cfg.EtcdServers != "" {
		tc, err := cfg.etcdTLS()
		if err != nil {
			return err
		}
		c, err := store.Dial(ctx, cfg.EtcdServers, tc)
		if err != nil {
			return err
		}
		defer c.Close()
		cli = c
	} else {
		slog.Info("starting embedded etcd", "dir", cfg.DataDir)
		e, err := store.StartEmbedded(store.EmbedConfig{Dir: cfg.DataDir, ClientURL: cfg.EtcdClientURL})
		if err != nil {
			return err
		}
		defer e.Close()
		cli = e.Client
		if cfg.EtcdClientURL != "" {
			slog.Info("embedded etcd serves gRPC", "url", e.ClientURL())
		}
	}
	st := store.NewEtcd(cli)
	sec, closeSec, err := cfg.security()
	if err != nil {
		return err
	}
	defer closeSec()
	srv, err := New(Config{Store: st, ServiceCIDR: cfg.ServiceCIDR, NodePortRange: cfg.NodePortRange, Security: sec})
	if err != nil {
		return err
	}
	if err := bootstrap(ctx, srv); err != nil {
		return err
	}
	l, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	var wg sync.WaitGroup
	loops, stopLoops := context.WithCancel(ctx)
	defer func() { stopLoops(); wg.Wait() }()
	wg.Add(2)
	go func() { defer wg.Done(); st.RunBookmarks(loops, bookmarkInterval) }()
	go func() {
		defer wg.Done()
		if cfg.CompactionInterval > 0 {
			st.RunCompactor(loops, cfg.CompactionInterval)
		}
	}()
	endpoint := l.Addr().String()
	if cfg.AdvertiseAddress != "" {
		_, port, _ := net.SplitHostPort(endpoint)
		endpoint = net.JoinHostPort(cfg.AdvertiseAddress, port)
	}
	if err := srv.ensureAPIEndpoints(ctx, endpoint); err != nil {
		slog.Warn("could not point the kubernetes service at this server", "err", err)
	}
	scheme := "http://"
	if cfg.TLSCertFile != "" {
		if l, err = cfg.tlsListener(l); err != nil {
			return err
		}
		scheme = "https://"
	}
	slog.Info("apiserver serving", "address", scheme+l.Addr().String(), "authorization", sec.Auth != nil)
	if ready != nil {
		ready(l.Addr().String())
	}
	return srv.Serve(ctx, l)
}

// bootstrap retries until etcd accepts the system namespaces: an external
// etcd may still be electing a leader when the API server starts.
func bootstrap(ctx context.Context, srv *Server) error {
	for attempt := 1; ; attempt++ {
		c, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := srv.Bootstrap(c)
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		slog.Warn("bootstrap failed; retrying", "attempt", attempt, "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}
