// Package certs makes a cluster's public key infrastructure: a CA, the
// API server's serving certificate, one client certificate per user and
// component (CN = user name, O = groups, as Kubernetes' x509 authenticator
// reads them), the ServiceAccount signing key, and a kubeconfig per client.
//
// Init writes everything under one directory and is idempotent: files that
// exist are kept, so re-running it with another node only adds that node.
// Keys are ECDSA P-256 and are written with mode 0600. The package never
// talks to the network.
package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Options say what Init issues.
type Options struct {
	// APIServerNames are the DNS names and IP addresses the API server's
	// certificate is valid for, besides localhost, 127.0.0.1 and the
	// in-cluster names (kubernetes, kubernetes.default.svc...).
	APIServerNames []string
	// Nodes are the node names to issue system:node:<name> certificates for.
	Nodes []string
	// Server is the API server URL written into the kubeconfigs.
	// Empty: https://127.0.0.1:6443.
	Server string
	// Validity of issued certificates. Zero: one year (the CA: ten).
	Validity time.Duration
	// EtcdNames, when given, are the DNS names and IPs of external etcd
	// members: Init then also makes an etcd CA of its own (so no cluster
	// certificate, a node's say, is an etcd client), a certificate the
	// members serve and peer with, and the API server's etcd client
	// certificate.
	EtcdNames []string
}

// Subject is who a client certificate names.
type Subject struct {
	File   string // base name of the .crt/.key/.kubeconfig files
	User   string // CN
	Groups []string
	// Node certificates also serve the node agent's API (logs): they are
	// valid for server auth too, for the DNS name User's node name.
	Node bool
}

// Subjects lists the client certificates Init issues for opts: the
// admin, the control-plane components and one per node.
func Subjects(opts Options) []Subject {
	s := []Subject{
		{"admin", "admin", []string{"system:masters"}, false},
		{"kube-scheduler", "system:kube-scheduler", nil, false},
		{"kube-controller-manager", "system:kube-controller-manager", nil, false},
		{"kube-proxy", "system:kube-proxy", nil, false},
		// The API server's own client identity (logs from node agents).
		{"apiserver-kubelet-client", "kube-apiserver-kubelet-client", []string{"system:masters"}, false},
	}
	for _, n := range opts.Nodes {
		s = append(s, Subject{"node-" + n, "system:node:" + n, []string{"system:nodes"}, true})
	}
	return s
}

// File names under the directory.
const (
	CAFile           = "ca.crt"
	CAKeyFile        = "ca.key"
	APIServerFile    = "apiserver.crt"
	APIServerKeyFile = "apiserver.key"
	// SAKeyFile signs ServiceAccount tokens (--service-account-signing-key-file);
	// SAPubFile verifies them (--service-account-key-file).
	SAKeyFile = "sa.key"
	SAPubFile = "sa.pub"
	// EtcdCAFile (and its key) signs the etcd certificates only.
	EtcdCAFile, EtcdCAKeyFile = "etcd-ca.crt", "etcd-ca.key"
	// EtcdServerFile is what etcd members serve and peer with (.crt/.key);
	// EtcdClientFile is the API server's client identity toward etcd.
	EtcdServerFile, EtcdClientFile = "etcd-server", "apiserver-etcd-client"
)

// CA is a certificate authority that can issue certificates.
type CA struct {
	Cert *x509.Certificate
	Key  crypto.Signer
	PEM  []byte
}

// Init creates, under dir, whatever of the cluster's certificates, keys
// and kubeconfigs is missing. Existing files are left untouched.
func Init(dir string, opts Options) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if opts.Server == "" {
		opts.Server = "https://127.0.0.1:6443"
	}
	ca, err := loadOrCreateCA(dir)
	if err != nil {
		return err
	}
	if !exists(filepath.Join(dir, APIServerFile)) {
		if err := ca.writePair(dir, "apiserver", serverTemplate(opts), opts.Validity); err != nil {
			return err
		}
	}
	for _, s := range Subjects(opts) {
		if !exists(filepath.Join(dir, s.File+".crt")) {
			tmpl := clientTemplate(s.User, s.Groups)
			if s.Node {
				tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageServerAuth)
				tmpl.DNSNames = []string{strings.TrimPrefix(s.User, "system:node:")}
			}
			if err := ca.writePair(dir, s.File, tmpl, opts.Validity); err != nil {
				return err
			}
		}
		kc := filepath.Join(dir, s.File+".kubeconfig")
		if !exists(kc) {
			if err := writeKubeconfig(dir, kc, s, opts.Server, ca.PEM); err != nil {
				return err
			}
		}
	}
	if !exists(filepath.Join(dir, SAKeyFile)) {
		if err := writeSAKey(dir); err != nil {
			return err
		}
	}
	if len(opts.EtcdNames) > 0 {
		return initEtcd(dir, opts)
	}
	return nil
}

// initEtcd makes the etcd CA and certificates that are missing.
func initEtcd(dir string, opts Options) error {
	ca, err := loadOrCreateCAFiles(dir, EtcdCAFile, EtcdCAKeyFile, "minik8s-etcd-ca")
	if err != nil {
		return err
	}
	if !exists(filepath.Join(dir, EtcdServerFile+".crt")) {
		t := withNames(&x509.Certificate{
			Subject: pkix.Name{CommonName: "etcd"},
			// Members are each other's clients (peers) too.
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
			DNSNames:    []string{"localhost"},
			IPAddresses: []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")},
		}, opts.EtcdNames)
		if err := ca.writePair(dir, EtcdServerFile, t, opts.Validity); err != nil {
			return err
		}
	}
	if !exists(filepath.Join(dir, EtcdClientFile+".crt")) {
		if err := ca.writePair(dir, EtcdClientFile, clientTemplate("kube-apiserver-etcd-client", nil), opts.Validity); err != nil {
			return err
		}
	}
	return nil
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

func loadOrCreateCA(dir string) (*CA, error) {
	return loadOrCreateCAFiles(dir, CAFile, CAKeyFile, "minik8s-ca")
}

func loadOrCreateCAFiles(dir, crtFile, keyFile, name string) (*CA, error) {
	crtPath, keyPath := filepath.Join(dir, crtFile), filepath.Join(dir, keyFile)
	if exists(crtPath) {
		return LoadCA(crtPath, keyPath)
	}
	ca, err := NewCA(name)
	if err != nil {
		return nil, err
	}
	keyPEM, err := encodeKey(ca.Key)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(keyPath, keyPEM, 0o600); err != nil {
		return nil, err
	}
	return ca, os.WriteFile(crtPath, ca.PEM, 0o644)
}

// NewCA makes a self-signed CA valid for ten years.
func NewCA(name string) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, err
	}
	cert, _ := x509.ParseCertificate(der)
	return &CA{Cert: cert, Key: key, PEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}, nil
}

// LoadCA reads a CA certificate and its key from PEM files.
func LoadCA(crtPath, keyPath string) (*CA, error) {
	crtPEM, err := os.ReadFile(crtPath)
	if err != nil {
		return nil, err
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, err
	}
	b, _ := pem.Decode(crtPEM)
	if b == nil {
		return nil, fmt.Errorf("%s: no PEM certificate", crtPath)
	}
	cert, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", crtPath, err)
	}
	key, err := ParseKey(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", keyPath, err)
	}
	return &CA{Cert: cert, Key: key, PEM: crtPEM}, nil
}

// ParseKey reads a PEM private key (EC, PKCS#8 or PKCS#1).
func ParseKey(data []byte) (crypto.Signer, error) {
	b, _ := pem.Decode(data)
	if b == nil {
		return nil, errors.New("no PEM private key")
	}
	if k, err := x509.ParseECPrivateKey(b.Bytes); err == nil {
		return k, nil
	}
	if k, err := x509.ParsePKCS1PrivateKey(b.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, err
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, errors.New("unsupported private key type")
	}
	return s, nil
}

func encodeKey(k crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n
}

func serverTemplate(opts Options) *x509.Certificate {
	t := &x509.Certificate{
		Subject:     pkix.Name{CommonName: "kube-apiserver"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames: []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
			"kubernetes.default.svc.cluster.local"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1"), net.ParseIP("10.96.0.1")},
	}
	return withNames(t, opts.APIServerNames)
}

// withNames adds DNS names and IP addresses to a certificate template.
func withNames(t *x509.Certificate, names []string) *x509.Certificate {
	for _, n := range names {
		n = strings.TrimSpace(n)
		switch ip := net.ParseIP(n); {
		case n == "":
		case ip != nil:
			t.IPAddresses = append(t.IPAddresses, ip)
		default:
			t.DNSNames = append(t.DNSNames, n)
		}
	}
	return t
}

func clientTemplate(user string, groups []string) *x509.Certificate {
	return &x509.Certificate{
		Subject:     pkix.Name{CommonName: user, Organization: groups},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
}

// Issue signs a new ECDSA P-256 key's certificate built from tmpl (its
// subject, names and extended key usages), valid for validity (zero: one
// year). It returns the certificate and key in PEM.
func (ca *CA) Issue(tmpl *x509.Certificate, validity time.Duration) (certPEM, keyPEM []byte, err error) {
	if validity == 0 {
		validity = 365 * 24 * time.Hour
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	t := *tmpl
	t.SerialNumber = serial()
	t.NotBefore, t.NotAfter = now.Add(-time.Hour), now.Add(validity)
	t.KeyUsage = x509.KeyUsageDigitalSignature
	t.BasicConstraintsValid = true
	der, err := x509.CreateCertificate(rand.Reader, &t, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		return nil, nil, err
	}
	keyPEM, err = encodeKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), keyPEM, nil
}

// IssueClient issues a client certificate for user in groups.
func (ca *CA) IssueClient(user string, groups []string) (certPEM, keyPEM []byte, err error) {
	return ca.Issue(clientTemplate(user, groups), 0)
}

func (ca *CA) writePair(dir, base string, tmpl *x509.Certificate, validity time.Duration) error {
	crt, key, err := ca.Issue(tmpl, validity)
	if err != nil {
		return fmt.Errorf("issue %s: %w", base, err)
	}
	if err := os.WriteFile(filepath.Join(dir, base+".key"), key, 0o600); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, base+".crt"), crt, 0o644)
}

func writeSAKey(dir string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return err
	}
	pub, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, SAKeyFile), keyPEM, 0o600); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, SAPubFile), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o644)
}

// Kubeconfig renders a kubeconfig with everything embedded (CA, client
// certificate and key), so the file alone is enough to connect.
func Kubeconfig(server string, caPEM, certPEM, keyPEM []byte, user string) []byte {
	b64 := base64.StdEncoding.EncodeToString
	return []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: minik8s
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: %s
  user:
    client-certificate-data: %s
    client-key-data: %s
contexts:
- name: minik8s
  context:
    cluster: minik8s
    user: %s
current-context: minik8s
`, server, b64(caPEM), quoteYAML(user), b64(certPEM), b64(keyPEM), quoteYAML(user)))
}

func quoteYAML(s string) string { return "\"" + strings.ReplaceAll(s, "\"", "\\\"") + "\"" }

func writeKubeconfig(dir, path string, s Subject, server string, caPEM []byte) error {
	crt, err := os.ReadFile(filepath.Join(dir, s.File+".crt"))
	if err != nil {
		return err
	}
	key, err := os.ReadFile(filepath.Join(dir, s.File+".key"))
	if err != nil {
		return err
	}
	return os.WriteFile(path, Kubeconfig(server, caPEM, crt, key, s.User), 0o600)
}
