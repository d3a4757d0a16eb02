package nodeagent

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/resource"
)

// Config is everything the agent needs to run. cmd/nodeagent fills it from
// flags; Validate checks it.
type Config struct {
	Server            string // API server URL
	Kubeconfig        string // when set, used instead of Server (credentials, CA)
	NodeName          string
	ContainerdAddress string // containerd's socket
	Namespace         string // containerd namespace holding our containers
	RootDir           string // pod directories, CNI state, netns mounts
	Listen            string // the agent's own HTTP API (logs, /healthz, /metrics)
	CNIBinDir         string
	// CNIConfFile, when set, is the conflist used for pods instead of the
	// generated bridge + host-local one.
	CNIConfFile string
	// NodeNetns, when set, is the network namespace (a path such as
	// /run/netns/mk-node-1) that plays the node's network: CNI runs there
	// and probes dial from there. The local lab and e2e tests run each node
	// as a netns on one machine; on a real machine it is empty (the host).
	NodeNetns        string
	PodCIDR          string   // used until the node IPAM controller sets spec.podCIDR
	NodeIP           string   // the node's InternalIP; default: first non-loopback IPv4
	PreloadImages    string   // directory of image tarballs imported at start
	InsecureRegistry []string // registries reached over plain HTTP
	Reserved         core.ResourceList
	MaxPods          int
	// ClusterCIDR, when set, is the range of all nodes' podCIDRs: pod
	// traffic to it is never masqueraded (pods see each other's real IPs
	// across nodes); traffic leaving it is, by the agent's own rule.
	// Empty: the bridge plugin masquerades everything outside the podCIDR.
	ClusterCIDR string
	// Routes makes the agent keep a route to every other node's podCIDR
	// via that node's InternalIP (host-gateway routing; see routes.go).
	Routes bool
	// ClusterDNS, when set, is the nameserver of pods with dnsPolicy
	// ClusterFirst; ClusterDomain is the cluster's DNS domain.
	ClusterDNS, ClusterDomain string
	// CrashBackoff is the first restart delay of a crashing container; it
	// doubles per restart up to MaxCrashBackoff (Kubernetes: 10 s, 5 min).
	CrashBackoff, MaxCrashBackoff time.Duration
	// ResyncPeriod is how often every pod is synced even without a change.
	ResyncPeriod time.Duration
	// NodeLeaseDurationSeconds is the node Lease's duration (the kubelet's
	// nodeLeaseDurationSeconds, default 40); the agent renews it every
	// quarter of that, so it must stay well under the controller-manager's
	// --node-monitor-grace-period.
	NodeLeaseDurationSeconds int
	Log                      *slog.Logger
}

// Validate reports the first thing wrong with c.
func (c *Config) Validate() error {
	var errs []error
	if c.Server == "" {
		errs = append(errs, errors.New("--server is required"))
	}
	if c.NodeName == "" {
		errs = append(errs, errors.New("--node-name is required"))
	}
	if c.ContainerdAddress == "" {
		errs = append(errs, errors.New("--containerd-address is required"))
	}
	if c.RootDir == "" {
		errs = append(errs, errors.New("--root-dir is required"))
	}
	if c.PodCIDR != "" {
		if _, _, err := net.ParseCIDR(c.PodCIDR); err != nil {
			errs = append(errs, fmt.Errorf("--pod-cidr %q is not a CIDR like 10.244.1.0/24", c.PodCIDR))
		}
	}
	if c.ClusterCIDR != "" {
		if _, _, err := net.ParseCIDR(c.ClusterCIDR); err != nil {
			errs = append(errs, fmt.Errorf("--cluster-cidr %q is not a CIDR like 10.244.0.0/16", c.ClusterCIDR))
		}
	}
	if c.ClusterDNS != "" && net.ParseIP(c.ClusterDNS) == nil {
		errs = append(errs, fmt.Errorf("--cluster-dns %q is not an IP address", c.ClusterDNS))
	}
	if c.NodeLeaseDurationSeconds < 0 {
		errs = append(errs, errors.New("--node-lease-duration-seconds must not be negative"))
	}
	if c.CrashBackoff <= 0 || c.MaxCrashBackoff < c.CrashBackoff {
		errs = append(errs, errors.New("crash backoff must be positive and not above its maximum"))
	}
	return errors.Join(errs...)
}

// ParseResourceList parses "cpu=100m,memory=256Mi" (the --reserved flag).
func ParseResourceList(s string) (core.ResourceList, error) {
	rl := core.ResourceList{}
	if s == "" {
		return rl, nil
	}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("%q is not resource=quantity (e.g. cpu=100m,memory=256Mi)", kv)
		}
		q, err := resource.ParseQuantity(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		rl[k] = q
	}
	return rl, nil
}
