package local

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestServerURL(t *testing.T) {
	for listen, want := range map[string]string{
		"0.0.0.0:6443":   "https://127.0.0.1:6443",
		":7443":          "https://127.0.0.1:7443",
		"127.0.0.1:6443": "https://127.0.0.1:6443",
		"10.1.2.3:6443":  "https://10.1.2.3:6443",
	} {
		if got, err := serverURL(listen); err != nil || got != want {
			t.Errorf("serverURL(%q) = %q, %v; want %q", listen, got, err, want)
		}
	}
	if _, err := serverURL("nonsense"); err == nil {
		t.Error("serverURL(nonsense): want an error")
	}
}

// TestSecurePrepKeepsTheCAAndFollowsTheServer: a second up keeps every
// key (objects and tokens stay valid) but points the kubeconfigs at the
// current address.
func TestSecurePrepKeepsTheCAAndFollowsTheServer(t *testing.T) {
	cfg := Config{DataDir: t.TempDir(), NodeName: "n1"}
	rc, err := securePrep(cfg, "https://127.0.0.1:6443", "10.0.0.5")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{rc.TLSCertFile, rc.TLSKeyFile, rc.ClientCAFile, rc.ServiceAccountKeyFile,
		rc.ServiceAccountSigningKeyFile, rc.EncryptionProviderConfig, filepath.Join(cfg.pki(), "node-n1.kubeconfig")} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("%v", err)
		}
	}
	if rc.AdvertiseAddress != "10.0.0.5" || rc.AuditLogPath == "" {
		t.Errorf("advertise %q, audit log %q", rc.AdvertiseAddress, rc.AuditLogPath)
	}
	read := func(name string) []byte { b, _ := os.ReadFile(filepath.Join(cfg.pki(), name)); return b }
	ca, enc := read("ca.key"), read("encryption.yaml")
	if _, err := securePrep(cfg, "https://127.0.0.1:7443", "10.0.0.5"); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ca, read("ca.key")) || !bytes.Equal(enc, read("encryption.yaml")) {
		t.Error("a second securePrep replaced the CA key or the encryption key")
	}
	if kc := string(read("admin.kubeconfig")); !strings.Contains(kc, "https://127.0.0.1:7443") {
		t.Errorf("admin kubeconfig does not name the new server:\n%s", kc)
	}
}
