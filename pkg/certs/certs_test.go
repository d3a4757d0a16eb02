package certs

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
)

func load(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := pem.Decode(b)
	c, err := x509.ParseCertificate(p.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func pool(c *x509.Certificate) *x509.CertPool { p := x509.NewCertPool(); p.AddCert(c); return p }

// TestInitIssuesWhatEachPartChecks: node certificates serve for their
// node's name, etcd's certificates come from a CA of their own (no cluster
// certificate is an etcd client), and a second Init keeps every key.
func TestInitIssuesWhatEachPartChecks(t *testing.T) {
	dir := t.TempDir()
	opts := Options{Nodes: []string{"n1"}, EtcdNames: []string{"10.0.0.7", "etcd-a"}}
	if err := Init(dir, opts); err != nil {
		t.Fatal(err)
	}
	ca, etcdCA := load(t, filepath.Join(dir, CAFile)), load(t, filepath.Join(dir, EtcdCAFile))
	verify := func(file string, roots *x509.Certificate, usage x509.ExtKeyUsage, name string) error {
		_, err := load(t, filepath.Join(dir, file)).Verify(x509.VerifyOptions{Roots: pool(roots), DNSName: name, KeyUsages: []x509.ExtKeyUsage{usage}})
		return err
	}
	for _, tc := range []struct {
		file  string
		roots *x509.Certificate
		usage x509.ExtKeyUsage
		name  string
		ok    bool
	}{
		{"node-n1.crt", ca, x509.ExtKeyUsageServerAuth, "n1", true},
		{"node-n1.crt", ca, x509.ExtKeyUsageServerAuth, "n2", false},
		{"node-n1.crt", ca, x509.ExtKeyUsageClientAuth, "", true},
		{"admin.crt", ca, x509.ExtKeyUsageServerAuth, "", false},
		{EtcdServerFile + ".crt", etcdCA, x509.ExtKeyUsageServerAuth, "etcd-a", true},
		{EtcdServerFile + ".crt", etcdCA, x509.ExtKeyUsageServerAuth, "10.0.0.7", true},
		{EtcdServerFile + ".crt", etcdCA, x509.ExtKeyUsageClientAuth, "", true}, // peers
		{EtcdClientFile + ".crt", etcdCA, x509.ExtKeyUsageClientAuth, "", true},
		{"admin.crt", etcdCA, x509.ExtKeyUsageClientAuth, "", false},
		{"node-n1.crt", etcdCA, x509.ExtKeyUsageClientAuth, "", false},
		{EtcdClientFile + ".crt", ca, x509.ExtKeyUsageClientAuth, "", false},
	} {
		if err := verify(tc.file, tc.roots, tc.usage, tc.name); (err == nil) != tc.ok {
			t.Errorf("%s for %q (usage %v, root %s): %v; want ok=%v", tc.file, tc.name, tc.usage, tc.roots.Subject.CommonName, err, tc.ok)
		}
	}
	before, _ := os.ReadFile(filepath.Join(dir, EtcdCAKeyFile))
	if err := Init(dir, opts); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, EtcdCAKeyFile)); !bytes.Equal(before, after) {
		t.Error("a second Init replaced the etcd CA's key")
	}
}
