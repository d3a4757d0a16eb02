package local

import (
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"minik8s/pkg/apiserver"
	"minik8s/pkg/certs"
)

// The cluster `minik8s up` runs is a secure one (docs/security.md): the
// API server serves only HTTPS and authenticates and authorizes every
// request, every component has its own client certificate, Secrets are
// encrypted in etcd and every request is audited. All of it lives in
// DataDir/pki and is made once, on the first up.

// pki is where the certificates, keys and kubeconfigs are.
func (c *Config) pki() string { return filepath.Join(c.DataDir, "pki") }

// serverURL is how the components and the admin reach the API server:
// over loopback when it listens on every address or on loopback.
func serverURL(listen string) (string, error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("--listen %q: %w", listen, err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && (ip.IsUnspecified() || ip.IsLoopback())) {
		host = "127.0.0.1"
	}
	return "https://" + net.JoinHostPort(host, port), nil
}

// securePrep makes whatever of the PKI and the encryption key is missing,
// writes every kubeconfig for server (the listen address may have changed
// since the last up) and returns the API server's security settings.
func securePrep(cfg Config, server, nodeIP string) (apiserver.RunConfig, error) {
	dir := cfg.pki()
	opts := certs.Options{Server: server, Nodes: []string{cfg.NodeName}, APIServerNames: []string{nodeIP, cfg.NodeName}}
	if err := certs.Init(dir, opts); err != nil {
		return apiserver.RunConfig{}, err
	}
	ca, err := os.ReadFile(filepath.Join(dir, certs.CAFile))
	if err != nil {
		return apiserver.RunConfig{}, err
	}
	for _, s := range certs.Subjects(opts) {
		crt, err := os.ReadFile(filepath.Join(dir, s.File+".crt"))
		if err != nil {
			return apiserver.RunConfig{}, err
		}
		key, err := os.ReadFile(filepath.Join(dir, s.File+".key"))
		if err != nil {
			return apiserver.RunConfig{}, err
		}
		if err := os.WriteFile(filepath.Join(dir, s.File+".kubeconfig"), certs.Kubeconfig(server, ca, crt, key, s.User), 0o600); err != nil {
			return apiserver.RunConfig{}, err
		}
	}
	enc := filepath.Join(dir, "encryption.yaml")
	if _, err := os.Stat(enc); os.IsNotExist(err) {
		if err := writeEncryptionConfig(enc); err != nil {
			return apiserver.RunConfig{}, err
		}
	}
	return apiserver.RunConfig{
		TLSCertFile: filepath.Join(dir, certs.APIServerFile), TLSKeyFile: filepath.Join(dir, certs.APIServerKeyFile),
		ClientCAFile:                 filepath.Join(dir, certs.CAFile),
		ServiceAccountSigningKeyFile: filepath.Join(dir, certs.SAKeyFile),
		ServiceAccountKeyFile:        filepath.Join(dir, certs.SAPubFile),
		EncryptionProviderConfig:     enc,
		AuditLogPath:                 filepath.Join(cfg.DataDir, "audit.log"),
		AuditLogMaxSize:              100, AuditLogMaxBackups: 3,
		AdvertiseAddress:      nodeIP,
		KubeletClientCertFile: filepath.Join(dir, "apiserver-kubelet-client.crt"),
		KubeletClientKeyFile:  filepath.Join(dir, "apiserver-kubelet-client.key"),
		KubeletCAFile:         filepath.Join(dir, certs.CAFile),
	}, nil
}

// writeEncryptionConfig writes an EncryptionConfiguration that encrypts
// Secrets with a new random AES-GCM key (and still reads plain ones).
func writeEncryptionConfig(path string) error {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return err
	}
	return os.WriteFile(path, apiserver.AESGCMConfig("key1", key), 0o600)
}
