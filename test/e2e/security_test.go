package e2e

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"minik8s/pkg/apiserver"
	"minik8s/pkg/certs"
)

// TestKubectlOverTLSWithTheAdminKubeconfig runs the real apiserver with
// certificates, a token file, encryption at rest and an audit log, and
// drives it with the real kubectl: the admin kubeconfig works, a token
// user is bound by RBAC, anonymous requests get 401, and the audit log
// records it all.
func TestKubectlOverTLSWithTheAdminKubeconfig(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	server := "https://" + addr
	if err := certs.Init(dir, certs.Options{Server: server, Nodes: []string{"node-1"}}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "tokens.csv"), []byte("alice-token,alice,1001\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "enc.yaml"), apiserver.AESGCMConfig("key1", bytes.Repeat([]byte{7}, 32)), 0o600)
	audit := filepath.Join(dir, "audit.log")
	start(t, "apiserver", "--listen", addr, "--data-dir", filepath.Join(dir, "etcd"),
		"--tls-cert-file", filepath.Join(dir, "apiserver.crt"), "--tls-private-key-file", filepath.Join(dir, "apiserver.key"),
		"--client-ca-file", filepath.Join(dir, "ca.crt"), "--token-auth-file", filepath.Join(dir, "tokens.csv"),
		"--service-account-signing-key-file", filepath.Join(dir, "sa.key"), "--service-account-key-file", filepath.Join(dir, "sa.pub"),
		"--encryption-provider-config", filepath.Join(dir, "enc.yaml"), "--audit-log-path", audit)
	caPEM, _ := os.ReadFile(filepath.Join(dir, "ca.crt"))
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	anon := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 5 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := anon.Get(server + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("apiserver not ready over TLS: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if resp, err := anon.Get(server + "/api/v1/namespaces"); err != nil || resp.StatusCode != 401 {
		t.Fatalf("anonymous GET /api/v1/namespaces: %v %v; want 401", resp, err)
	}

	admin := &kubectlEnv{t: t, kubeconfig: filepath.Join(dir, "admin.kubeconfig"), dir: t.TempDir()}
	if out := admin.ok("get", "namespaces"); !strings.Contains(out, "kube-system") {
		t.Errorf("kubectl get namespaces:\n%s", out)
	}
	manifest := filepath.Join(dir, "m.yaml")
	os.WriteFile(manifest, []byte(`apiVersion: v1
kind: Secret
metadata: {name: db, namespace: default}
stringData: {password: s3cret-plaintext}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: cm-reader, namespace: default}
rules:
- {apiGroups: [""], resources: [configmaps], verbs: [get, list]}
- {apiGroups: [rbac.authorization.k8s.io], resources: [rolebindings], verbs: [get, create]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: alice-cm, namespace: default}
subjects:
- {kind: User, name: alice, apiGroup: rbac.authorization.k8s.io}
roleRef: {kind: Role, name: cm-reader, apiGroup: rbac.authorization.k8s.io}
`), 0o600)
	admin.ok("apply", "-f", manifest)
	if out := admin.ok("auth", "can-i", "create", "pods"); strings.TrimSpace(out) != "yes" {
		t.Errorf("admin auth can-i create pods = %q; want yes", out)
	}

	aliceKC := filepath.Join(dir, "alice.kubeconfig")
	os.WriteFile(aliceKC, []byte(`apiVersion: v1
kind: Config
clusters:
- name: minik8s
  cluster: {server: `+server+`, certificate-authority-data: `+base64.StdEncoding.EncodeToString(caPEM)+`}
users:
- name: alice
  user: {token: alice-token}
contexts:
- name: alice
  context: {cluster: minik8s, user: alice, namespace: default}
current-context: alice
`), 0o600)
	alice := &kubectlEnv{t: t, kubeconfig: aliceKC, dir: t.TempDir()}
	alice.ok("get", "configmaps")
	if out := alice.fails("get", "secrets"); !strings.Contains(out, `secrets is forbidden: User "alice" cannot list resource "secrets" in API group "" in the namespace "default"`) {
		t.Errorf("alice get secrets:\n%s", out)
	}
	if out, _ := alice.run("auth", "can-i", "list", "configmaps", "-n", "kube-system"); strings.TrimSpace(out) != "no" {
		t.Errorf("alice auth can-i list configmaps -n kube-system = %q; want no", out)
	}
	// kubectl auth can-i --list (SelfSubjectRulesReview) shows her rules
	// in default, not in kube-system.
	list := alice.ok("auth", "can-i", "--list")
	if !regexp.MustCompile(`(?m)^configmaps\s+\[\]\s+\[\]\s+\[get list\]`).MatchString(list) ||
		!regexp.MustCompile(`(?m)^selfsubjectaccessreviews\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]`).MatchString(list) {
		t.Errorf("alice auth can-i --list:\n%s", list)
	}
	if list := alice.ok("auth", "can-i", "--list", "-n", "kube-system"); strings.Contains(list, "configmaps") {
		t.Errorf("alice auth can-i --list -n kube-system shows configmaps:\n%s", list)
	}
	// She may create RoleBindings, but not grant what she does not hold.
	escalate := filepath.Join(dir, "escalate.yaml")
	os.WriteFile(escalate, []byte(`apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: alice-admin, namespace: default}
subjects:
- {kind: User, name: alice, apiGroup: rbac.authorization.k8s.io}
roleRef: {kind: ClusterRole, name: cluster-admin, apiGroup: rbac.authorization.k8s.io}
`), 0o600)
	if out := alice.fails("apply", "-f", escalate); !strings.Contains(out, "is attempting to grant RBAC permissions not currently held") {
		t.Errorf("alice binds cluster-admin to herself:\n%s", out)
	}

	log, err := os.ReadFile(audit)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"username":"admin"`, `"username":"alice"`, `"code":403`, `"code":401`, `"resource":"secrets"`} {
		if !bytes.Contains(log, []byte(want)) {
			t.Errorf("audit log lacks %s", want)
		}
	}
	if bytes.Contains(log, []byte("s3cret-plaintext")) {
		t.Errorf("audit log contains a secret's value")
	}
}
