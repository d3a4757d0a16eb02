package apiserver

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"minik8s/pkg/apis"
	"minik8s/pkg/apis/apierrors"
	"minik8s/pkg/apis/authentication"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/apis/rbac"
	"minik8s/pkg/certs"
	"minik8s/pkg/client"
	"minik8s/pkg/store"
)

// secureCluster is an in-process API server with TLS, every
// authenticator, Node+RBAC authorization, encryption and an audit log.
type secureCluster struct {
	url   string
	dir   string // certs
	ca    *certs.CA
	store store.Store
	srv   *Server
	audit *bytes.Buffer
	mu    *sync.Mutex
}

type lockedBuffer struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (l lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func writeEncryptionConfig(t testing.TB, path string, keys ...string) {
	var b strings.Builder
	b.WriteString("kind: EncryptionConfiguration\napiVersion: apiserver.config.k8s.io/v1\nresources:\n- resources: [secrets]\n  providers:\n  - aesgcm:\n      keys:\n")
	for _, k := range keys {
		secret := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte(k[:1]), 32))
		fmt.Fprintf(&b, "      - name: %s\n        secret: %s\n", k, secret)
	}
	b.WriteString("  - identity: {}\n")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

func startSecure(t *testing.T, st store.Store, encConfig string) *secureCluster {
	t.Helper()
	dir := t.TempDir()
	if err := certs.Init(dir, certs.Options{Nodes: []string{"node-a", "node-b"}}); err != nil {
		t.Fatal(err)
	}
	if st == nil {
		e, err := store.StartEmbedded(store.EmbedConfig{Dir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(e.Close)
		st = store.NewEtcd(e.Client)
	}
	tokenFile := filepath.Join(dir, "tokens.csv")
	os.WriteFile(tokenFile, []byte("alice-token,alice,1001,\"devs\"\n"), 0o600)
	rc := RunConfig{TLSCertFile: filepath.Join(dir, "apiserver.crt"), TLSKeyFile: filepath.Join(dir, "apiserver.key"),
		ClientCAFile: filepath.Join(dir, certs.CAFile), TokenAuthFile: tokenFile,
		ServiceAccountSigningKeyFile: filepath.Join(dir, certs.SAKeyFile), ServiceAccountKeyFile: filepath.Join(dir, certs.SAPubFile),
		EncryptionProviderConfig: encConfig}
	sec, _, err := rc.security()
	if err != nil {
		t.Fatal(err)
	}
	c := &secureCluster{dir: dir, store: st, audit: &bytes.Buffer{}, mu: &sync.Mutex{}}
	sec.AuditLog = lockedBuffer{c.mu, c.audit}
	srv, err := New(Config{Store: st, Security: sec})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Bootstrap(context.Background()); err != nil {
		t.Fatal(err)
	}
	cert, err := tls.LoadX509KeyPair(rc.TLSCertFile, rc.TLSKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(srv.Handler())
	hs.TLS = TLSConfig(cert)
	hs.StartTLS()
	t.Cleanup(hs.Close)
	c.url, c.srv = hs.URL, srv
	c.ca, err = certs.LoadCA(filepath.Join(dir, certs.CAFile), filepath.Join(dir, certs.CAKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (c *secureCluster) auditLines() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.audit.String()
}

// as returns a client authenticating with the kubeconfig of certs' file
// base name (admin, node-a, ...).
func (c *secureCluster) as(t *testing.T, who string) *client.Client {
	t.Helper()
	cfg, err := client.ConfigFromKubeconfig(filepath.Join(c.dir, who+".kubeconfig"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Server = c.url
	cl, err := client.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

func (c *secureCluster) withToken(t *testing.T, token string) *client.Client {
	pool := x509.NewCertPool()
	pool.AddCert(c.ca.Cert)
	cl, err := client.NewForConfig(client.Config{Server: c.url, TLS: &tls.Config{RootCAs: pool}, BearerToken: token})
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

func mustCreate(t *testing.T, c *client.Client, objs ...meta.Object) {
	t.Helper()
	for _, o := range objs {
		if err := c.Create(context.Background(), o); err != nil {
			t.Fatalf("create %T %s: %v", o, o.GetObjectMeta().Name, err)
		}
	}
}

func wantCode(t *testing.T, what string, err error, cat error) {
	t.Helper()
	if !errors.Is(err, cat) {
		t.Errorf("%s: got %v; want %v", what, err, cat)
	}
}

func TestAnonymousAndWrongCertificatesAreRefused(t *testing.T) {
	c := startSecure(t, nil, "")
	pool := x509.NewCertPool()
	pool.AddCert(c.ca.Cert)
	anon := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	for path, want := range map[string]int{"/api/v1/pods": 401, "/api": 401, "/metrics": 401, "/healthz": 200, "/version": 200, "/readyz": 200} {
		resp, err := anon.Get(c.url + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("anonymous GET %s = %d; want %d", path, resp.StatusCode, want)
		}
	}
	// A certificate from another CA, with the admin's name and group.
	other, _ := certs.NewCA("impostor")
	crt, key, _ := other.IssueClient("admin", []string{"system:masters"})
	pair, _ := tls.X509KeyPair(crt, key)
	wrong, _ := client.NewForConfig(client.Config{Server: c.url, TLS: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{pair}}})
	_, _, err := wrong.List(context.Background(), podKind(), "default", client.ListOptions{})
	wantCode(t, "list with a foreign certificate", err, apierrors.ErrUnauthorized)
	_, _, err = c.withToken(t, "not-a-token").List(context.Background(), podKind(), "default", client.ListOptions{})
	wantCode(t, "list with an unknown token", err, apierrors.ErrUnauthorized)
	if _, _, err := c.as(t, "admin").List(context.Background(), podKind(), "default", client.ListOptions{}); err != nil {
		t.Errorf("admin list: %v", err)
	}
	if log := c.auditLines(); !strings.Contains(log, `"code":401`) || !strings.Contains(log, `"username":"admin"`) {
		t.Errorf("audit log lacks the 401s or the admin's request:\n%s", log)
	}
}

func podKind() *apis.Kind { k, _ := apis.ByResource("", "pods"); return k }

func TestRoleGrantsOnlyInItsNamespace(t *testing.T) {
	c := startSecure(t, nil, "")
	admin := c.as(t, "admin")
	ctx := context.Background()
	mustCreate(t, admin,
		&core.Namespace{ObjectMeta: meta.ObjectMeta{Name: "dev"}},
		&core.Namespace{ObjectMeta: meta.ObjectMeta{Name: "prod"}},
		&rbac.Role{ObjectMeta: meta.ObjectMeta{Name: "pod-reader", Namespace: "dev"},
			Rules: []rbac.PolicyRule{{Verbs: []string{"get", "list", "watch"}, APIGroups: []string{""}, Resources: []string{"pods"}}}},
		&rbac.RoleBinding{ObjectMeta: meta.ObjectMeta{Name: "alice-reads", Namespace: "dev"},
			Subjects: []rbac.Subject{{Kind: "User", APIGroup: rbac.GroupName, Name: "alice"}},
			RoleRef:  rbac.RoleRef{APIGroup: rbac.GroupName, Kind: "Role", Name: "pod-reader"}},
	)
	alice := c.withToken(t, "alice-token")
	if _, _, err := alice.List(ctx, podKind(), "dev", client.ListOptions{}); err != nil {
		t.Errorf("alice list pods in dev: %v", err)
	}
	_, _, err := alice.List(ctx, podKind(), "prod", client.ListOptions{})
	wantCode(t, "alice list pods in prod", err, apierrors.ErrForbidden)
	if want := `pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "prod"`; err == nil || err.Error() != want {
		t.Errorf("message = %v; want %s", err, want)
	}
	err = alice.Create(ctx, &core.ConfigMap{ObjectMeta: meta.ObjectMeta{Name: "x", Namespace: "dev"}})
	wantCode(t, "alice create a configmap in dev", err, apierrors.ErrForbidden)
	if !strings.Contains(c.auditLines(), `"username":"alice"`) {
		t.Errorf("audit log has no request of alice")
	}
}

func TestSelfSubjectAccessReview(t *testing.T) {
	c := startSecure(t, nil, "")
	alice := c.withToken(t, "alice-token")
	for _, tt := range []struct {
		verb, resource string
		want           bool
	}{{"create", "selfsubjectaccessreviews", true}, {"list", "pods", false}} {
		group := ""
		if tt.resource == "selfsubjectaccessreviews" {
			group = "authorization.k8s.io"
		}
		body := fmt.Sprintf(`{"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectAccessReview","spec":{"resourceAttributes":{"verb":%q,"group":%q,"resource":%q,"namespace":"default"}}}`, tt.verb, group, tt.resource)
		var out struct {
			Status struct{ Allowed bool }
		}
		if err := alice.Do(context.Background(), "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", nil, "application/json", []byte(body), &out); err != nil {
			t.Fatal(err)
		}
		if out.Status.Allowed != tt.want {
			t.Errorf("can alice %s %s: got %v; want %v", tt.verb, tt.resource, out.Status.Allowed, tt.want)
		}
	}
}

func TestNodeCredentialsReachOnlyTheirOwnPods(t *testing.T) {
	c := startSecure(t, nil, "")
	admin := c.as(t, "admin")
	ctx := context.Background()
	podOn := func(name, node, secret string) *core.Pod {
		return &core.Pod{ObjectMeta: meta.ObjectMeta{Name: name, Namespace: "default"}, Spec: core.PodSpec{
			NodeName:   node,
			Containers: []core.Container{{Name: "c", Image: "busybox"}},
			Volumes:    []core.Volume{{Name: "s", VolumeSource: core.VolumeSource{Secret: &core.SecretVolumeSource{SecretName: secret}}}},
		}}
	}
	mustCreate(t, admin,
		&core.Secret{ObjectMeta: meta.ObjectMeta{Name: "a-secret", Namespace: "default"}, Data: map[string][]byte{"k": []byte("v")}},
		&core.Secret{ObjectMeta: meta.ObjectMeta{Name: "b-secret", Namespace: "default"}, Data: map[string][]byte{"k": []byte("v")}},
		podOn("pa", "node-a", "a-secret"), podOn("pb", "node-b", "b-secret"))
	node := c.as(t, "node-node-a")
	var s core.Secret
	if err := node.Get(ctx, "default", "a-secret", &s); err != nil {
		t.Errorf("node-a get the secret its pod uses: %v", err)
	}
	wantCode(t, "node-a get node-b's secret", node.Get(ctx, "default", "b-secret", &s), apierrors.ErrForbidden)
	var pa, pb core.Pod
	if err := node.Get(ctx, "default", "pa", &pa); err != nil {
		t.Fatalf("node-a get its pod: %v", err)
	}
	pa.Status.Phase = core.PodRunning
	if err := node.UpdateStatus(ctx, &pa); err != nil {
		t.Errorf("node-a update its pod's status: %v", err)
	}
	admin.Get(ctx, "default", "pb", &pb)
	pb.Status.Phase = core.PodRunning
	wantCode(t, "node-a update node-b's pod status", node.UpdateStatus(ctx, &pb), apierrors.ErrForbidden)
	wantCode(t, "node-a delete node-b's pod", node.Delete(ctx, podKind(), "default", "pb", nil), apierrors.ErrForbidden)
	if _, _, err := node.List(ctx, podKind(), "", client.ListOptions{FieldSelector: "spec.nodeName=node-a"}); err != nil {
		t.Errorf("node-a list its pods: %v", err)
	}
	_, _, err := node.List(ctx, podKind(), "", client.ListOptions{})
	wantCode(t, "node-a list all pods", err, apierrors.ErrForbidden)
	wantCode(t, "node-a create node-b", node.Create(ctx, &core.Node{ObjectMeta: meta.ObjectMeta{Name: "node-b"}}), apierrors.ErrForbidden)
	if err := node.Create(ctx, &core.Node{ObjectMeta: meta.ObjectMeta{Name: "node-a"}}); err != nil {
		t.Errorf("node-a register itself: %v", err)
	}
}

func TestServiceAccountTokenFollowsItsRoleAndDiesWithIt(t *testing.T) {
	c := startSecure(t, nil, "")
	admin := c.as(t, "admin")
	ctx := context.Background()
	sa := &core.ServiceAccount{ObjectMeta: meta.ObjectMeta{Name: "robot", Namespace: "default"}}
	mustCreate(t, admin, sa, &rbac.RoleBinding{ObjectMeta: meta.ObjectMeta{Name: "robot-view", Namespace: "default"},
		Subjects: []rbac.Subject{{Kind: "ServiceAccount", Name: "robot", Namespace: "default"}},
		RoleRef:  rbac.RoleRef{APIGroup: rbac.GroupName, Kind: "ClusterRole", Name: "view"}})
	var tr authentication.TokenRequest
	if err := admin.Do(ctx, "POST", "/api/v1/namespaces/default/serviceaccounts/robot/token", nil, "application/json",
		[]byte(`{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{}}`), &tr); err != nil {
		t.Fatal(err)
	}
	if tr.Status.Token == "" || tr.Status.ExpirationTimestamp.Before(time.Now().Add(50*time.Minute)) {
		t.Fatalf("token request answered %+v; want a token valid for an hour", tr.Status)
	}
	robot := c.withToken(t, tr.Status.Token)
	if _, _, err := robot.List(ctx, podKind(), "default", client.ListOptions{}); err != nil {
		t.Errorf("robot list pods (view): %v", err)
	}
	secrets, _ := apis.ByResource("", "secrets")
	_, _, err := robot.List(ctx, secrets, "default", client.ListOptions{})
	wantCode(t, "robot list secrets", err, apierrors.ErrForbidden)
	if err := admin.Delete(ctx, mustKind("serviceaccounts"), "default", "robot", nil); err != nil {
		t.Fatal(err)
	}
	_, _, err = robot.List(ctx, podKind(), "default", client.ListOptions{})
	wantCode(t, "robot list pods after its ServiceAccount is deleted", err, apierrors.ErrUnauthorized)
}

func mustKind(res string) *apis.Kind { k, _ := apis.ByResource("", res); return k }

func TestSecretsAreEncryptedAtRestAcrossKeyRotation(t *testing.T) {
	e, err := store.StartEmbedded(store.EmbedConfig{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	st := store.NewEtcd(e.Client)
	ctx := context.Background()
	cfgPath := filepath.Join(t.TempDir(), "enc.yaml")
	writeEncryptionConfig(t, cfgPath, "key1")
	c1 := startSecure(t, st, cfgPath)
	mustCreate(t, c1.as(t, "admin"), &core.Secret{ObjectMeta: meta.ObjectMeta{Name: "old", Namespace: "default"},
		Data: map[string][]byte{"password": []byte("hunter2-plaintext")}})
	raw := func(name string) []byte {
		kv, err := st.Get(ctx, "/registry/core/secrets/default/"+name)
		if err != nil {
			t.Fatal(err)
		}
		return kv.Value
	}
	plain := base64.StdEncoding.EncodeToString([]byte("hunter2-plaintext"))
	if v := raw("old"); bytes.Contains(v, []byte(plain)) || !bytes.HasPrefix(v, []byte("k8s:enc:aesgcm:v1:key1:")) {
		t.Fatalf("etcd holds %q; want ciphertext under key1", v[:min(len(v), 60)])
	}
	// Rotation step 1: the new key first, the old one still listed.
	writeEncryptionConfig(t, cfgPath, "key2", "key1")
	c2 := startSecure(t, st, cfgPath)
	admin := c2.as(t, "admin")
	mustCreate(t, admin, &core.Secret{ObjectMeta: meta.ObjectMeta{Name: "new", Namespace: "default"}, Data: map[string][]byte{"k": []byte("v")}})
	if v := raw("new"); !bytes.HasPrefix(v, []byte("k8s:enc:aesgcm:v1:key2:")) {
		t.Errorf("a new secret is stored as %q; want key2", v[:min(len(v), 40)])
	}
	var s core.Secret
	if err := admin.Get(ctx, "default", "old", &s); err != nil || string(s.Data["password"]) != "hunter2-plaintext" {
		t.Fatalf("reading the key1 secret after rotation: %v %q", err, s.Data["password"])
	}
	// Step 2: rewrite every secret, which re-encrypts it with key2.
	if err := admin.Update(ctx, &s); err != nil {
		t.Fatal(err)
	}
	if v := raw("old"); !bytes.HasPrefix(v, []byte("k8s:enc:aesgcm:v1:key2:")) {
		t.Errorf("a rewritten secret is stored as %q; want key2", v[:min(len(v), 40)])
	}
}

func TestInflightLimitAnswers429AndProbesStayUp(t *testing.T) {
	release := make(chan struct{})
	var started sync.WaitGroup
	started.Add(2)
	blocking := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			w.Write([]byte("ok"))
			return
		}
		started.Done()
		<-release
	})
	s := &Server{now: time.Now}
	hs := httptest.NewServer(s.withLimits(blocking, newInflight(2, 1), time.Minute))
	defer hs.Close()
	var wg sync.WaitGroup
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); http.Get(hs.URL + "/api/v1/pods") }()
	}
	started.Wait()
	var limited int
	for i := 0; i < 20; i++ {
		resp, err := http.Get(hs.URL + "/api/v1/pods")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") == "1" {
			limited++
		}
	}
	if limited != 20 {
		t.Errorf("%d of 20 requests beyond the limit got 429 with Retry-After: 1; want all", limited)
	}
	resp, err := http.Get(hs.URL + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Errorf("/healthz during the flood: %v %v; want 200", resp, err)
	}
	close(release)
	wg.Wait()
	var st meta.Status
	_ = json.Unmarshal(nil, &st)
}

func TestPodsGetAProjectedTokenOnlyTheirNodeMayRequest(t *testing.T) {
	c := startSecure(t, nil, "")
	admin := c.as(t, "admin")
	ctx := context.Background()
	pod := &core.Pod{ObjectMeta: meta.ObjectMeta{Name: "app", Namespace: "default"},
		Spec: core.PodSpec{NodeName: "node-a", Containers: []core.Container{{Name: "c", Image: "busybox"}}}}
	mustCreate(t, admin, &core.ServiceAccount{ObjectMeta: meta.ObjectMeta{Name: "default", Namespace: "default"}}, pod)
	var got core.Pod
	admin.Get(ctx, "default", "app", &got)
	if len(got.Spec.Volumes) != 1 || got.Spec.Volumes[0].Projected == nil || got.Spec.Containers[0].VolumeMounts[0].MountPath != ServiceAccountMountPath {
		t.Fatalf("pod volumes %+v, mounts %+v; want the kube-api-access projected volume", got.Spec.Volumes, got.Spec.Containers[0].VolumeMounts)
	}
	body := fmt.Sprintf(`{"spec":{"boundObjectRef":{"kind":"Pod","apiVersion":"v1","name":"app","uid":%q}}}`, got.UID)
	var tr authentication.TokenRequest
	err := c.as(t, "node-node-b").Do(ctx, "POST", "/api/v1/namespaces/default/serviceaccounts/default/token", nil, "application/json", []byte(body), &tr)
	wantCode(t, "node-b requests a token for node-a's pod", err, apierrors.ErrForbidden)
	if err := c.as(t, "node-node-a").Do(ctx, "POST", "/api/v1/namespaces/default/serviceaccounts/default/token", nil, "application/json", []byte(body), &tr); err != nil {
		t.Fatalf("node-a requests a token for its pod: %v", err)
	}
	sa := c.withToken(t, tr.Status.Token)
	_, _, err = sa.List(ctx, podKind(), "default", client.ListOptions{})
	wantCode(t, "the default ServiceAccount lists pods (no role)", err, apierrors.ErrForbidden)
	zero := int64(0)
	admin.Delete(ctx, podKind(), "default", "app", &meta.DeleteOptions{GracePeriodSeconds: &zero})
	_, _, err = sa.List(ctx, podKind(), "default", client.ListOptions{})
	wantCode(t, "the token of a deleted pod", err, apierrors.ErrUnauthorized)
}
