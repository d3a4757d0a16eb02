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
	flag.StringVar(&cfg.AdvertiseAddress, "advertise-address", "", "IP the kubernetes Service's endpoints point at, for pods (default: the --listen address)")
	flag.StringVar(&cfg.DataDir, "data-dir", "/var/lib/minik8s/etcd", "embedded etcd's data directory")
	flag.StringVar(&cfg.EtcdServers, "etcd-servers", "", "comma-separated URLs of an external etcd cluster (instead of the embedded one)")
	flag.StringVar(&cfg.EtcdClientURL, "etcd-listen-client", "", "also serve the embedded etcd's gRPC API at this URL (e.g. http://127.0.0.1:2379)")
	flag.DurationVar(&cfg.CompactionInterval, "compaction-interval", apiserver.DefaultCompactionInterval, "how often etcd history older than one interval is compacted (0: never)")
	flag.StringVar(&cfg.ServiceCIDR, "service-cluster-ip-range", apiserver.DefaultServiceCIDR, "CIDR Service cluster IPs are allocated from (its first address is the kubernetes Service's)")
	flag.StringVar(&cfg.NodePortRange, "service-node-port-range", apiserver.DefaultNodePortRange, "range of NodePorts, FIRST-LAST")
	flag.StringVar(&cfg.TLSCertFile, "tls-cert-file", "", "serving certificate (PEM); with it the API is served over HTTPS and every request is authenticated")
	flag.StringVar(&cfg.TLSKeyFile, "tls-private-key-file", "", "private key of --tls-cert-file")
	flag.StringVar(&cfg.ClientCAFile, "client-ca-file", "", "CA bundle that verifies client certificates (CN = user, O = groups)")
	flag.StringVar(&cfg.TokenAuthFile, "token-auth-file", "", "static bearer tokens, CSV: token,user,uid,\"group1,group2\"")
	flag.StringVar(&cfg.ServiceAccountKeyFile, "service-account-key-file", "", "PEM public keys that verify ServiceAccount tokens")
	flag.StringVar(&cfg.ServiceAccountSigningKeyFile, "service-account-signing-key-file", "", "PEM private key that signs ServiceAccount tokens")
	flag.StringVar(&cfg.ServiceAccountIssuer, "service-account-issuer", apiserver.DefaultIssuer, "iss claim (and default audience) of ServiceAccount tokens")
	flag.StringVar(&cfg.AuthorizationMode, "authorization-mode", "", "comma-separated authorizers: Node, RBAC, AlwaysAllow (default Node,RBAC with TLS, AlwaysAllow without)")
	flag.StringVar(&cfg.EncryptionProviderConfig, "encryption-provider-config", "", "EncryptionConfiguration file: encrypt Secrets in etcd")
	flag.StringVar(&cfg.AuditLogPath, "audit-log-path", "", "write one JSON audit event per request to this file")
	flag.IntVar(&cfg.AuditLogMaxSize, "audit-log-maxsize", 100, "megabytes of audit log before it is rotated")
	flag.IntVar(&cfg.AuditLogMaxBackups, "audit-log-maxbackup", 10, "rotated audit log files to keep")
	flag.IntVar(&cfg.MaxRequestsInflight, "max-requests-inflight", apiserver.DefaultMaxRequestsInflight, "reads served at once before 429 (0: unlimited)")
	flag.IntVar(&cfg.MaxMutatingRequestsInflight, "max-mutating-requests-inflight", apiserver.DefaultMaxMutatingRequestsInflight, "writes served at once before 429 (0: unlimited)")
	flag.DurationVar(&cfg.RequestTimeout, "request-timeout", apiserver.DefaultRequestTimeout, "longest a non-watch request may take")
	flag.StringVar(&cfg.EtcdCAFile, "etcd-cafile", "", "CA that verifies the external etcd members (https --etcd-servers)")
	flag.StringVar(&cfg.EtcdCertFile, "etcd-certfile", "", "client certificate for the external etcd")
	flag.StringVar(&cfg.EtcdKeyFile, "etcd-keyfile", "", "private key of --etcd-certfile")
	flag.StringVar(&cfg.KubeletClientCertFile, "kubelet-client-certificate", "", "client certificate for node agents (logs); with it agents are reached over HTTPS")
	flag.StringVar(&cfg.KubeletClientKeyFile, "kubelet-client-key", "", "private key of --kubelet-client-certificate")
	flag.StringVar(&cfg.KubeletCAFile, "kubelet-certificate-authority", "", "CA that verifies node agents' certificates (for the node's name)")
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
