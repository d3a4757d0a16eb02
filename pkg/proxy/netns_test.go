package proxy

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/apiserver/apiservertest"
	"minik8s/pkg/client"
)

// These tests program a real nat table, always inside a network namespace
// the test creates (and deletes, also on failure): never the machine's own.

// testNetns creates a network namespace with lo up and returns its path.
func testNetns(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root for network namespaces")
	}
	for _, prog := range []string{"ip", "iptables-restore", "iptables-save"} {
		if _, err := exec.LookPath(prog); err != nil {
			t.Skipf("needs %s", prog)
		}
	}
	b := make([]byte, 4)
	rand.Read(b)
	name := "mk-proxytest-" + hex.EncodeToString(b)
	ipCmd(t, "netns", "add", name)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	ipCmd(t, "-n", name, "link", "set", "lo", "up")
	return "/run/netns/" + name
}

func ipCmd(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

func nsName(path string) string { return strings.TrimPrefix(path, "/run/netns/") }

// serveIn starts an HTTP server answering its own address, listening on
// addr inside the namespace.
func serveIn(t *testing.T, netns, addr string) {
	t.Helper()
	var l net.Listener
	err := inNetns(netns, func() (err error) {
		l, err = net.Listen("tcp", addr)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, addr) })}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
}

// clientIn is an HTTP client whose connections start inside the namespace
// (one new connection per request, so each is balanced anew).
func clientIn(netns string) *http.Client {
	return &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, network, addr string) (conn net.Conn, err error) {
			err = inNetns(netns, func() (err error) {
				conn, err = (&net.Dialer{Timeout: time.Second}).DialContext(ctx, network, addr)
				return err
			})
			return conn, err
		},
	}}
}

// answers GETs url n times and counts the answers by body.
func answers(t *testing.T, c *http.Client, url string, n int) map[string]int {
	t.Helper()
	got := map[string]int{}
	for range n {
		resp, err := c.Get(url)
		if err != nil {
			got["error: "+err.Error()]++
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got[string(b)]++
	}
	return got
}

func natTable(t *testing.T, netns string) string {
	t.Helper()
	out, err := (&iptables{netns: netns}).run(context.Background(), nil, "iptables-save", "-t", "nat")
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// waitNat waits until the nat table satisfies ok.
func waitNat(t *testing.T, netns, what string, ok func(string) bool) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		nat := natTable(t, netns)
		if ok(nat) {
			return nat
		}
		if time.Now().After(deadline) {
			t.Fatalf("nat table never %s:\n%s", what, nat)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var sepChainRE = regexp.MustCompile(`(?m)^:(KUBE-SEP-\w+)`)

func count(re *regexp.Regexp, s string) int { return len(re.FindAllString(s, -1)) }

func startProxy(t *testing.T, server, netns string) *Proxy {
	t.Helper()
	cfg := Config{Server: server, NodeName: "n1", Netns: netns, ClusterCIDR: "10.244.0.0/16"}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return p
}

func setEndpoints(t *testing.T, c *client.Client, ips ...string) {
	t.Helper()
	ctx := context.Background()
	e := eps("default", "web", "", 8080, ips...)
	var cur core.Endpoints
	if err := c.Get(ctx, "default", "web", &cur); err == nil {
		cur.Subsets = e.Subsets
		if err := c.Update(ctx, &cur); err != nil {
			t.Fatal(err)
		}
		return
	}
	if err := c.Create(ctx, e); err != nil {
		t.Fatal(err)
	}
}

// TestProxyInNetns runs the proxy against a real API server, programming
// a scratch namespace in which four "pods" (addresses on lo, each with an
// HTTP server) serve; requests to the cluster IP and the node port must
// reach every endpoint, and follow endpoint changes and the Service's
// deletion.
func TestProxyInNetns(t *testing.T) {
	netns := testNetns(t)
	ns := nsName(netns)
	pods := []string{"10.244.1.1", "10.244.1.2", "10.244.1.3", "10.244.1.4"}
	for _, ip := range pods {
		ipCmd(t, "-n", ns, "addr", "add", ip+"/32", "dev", "lo")
		serveIn(t, netns, ip+":8080")
	}
	// The node's own address, for the node port.
	ipCmd(t, "-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0p")
	ipCmd(t, "-n", ns, "addr", "add", "192.168.77.2/24", "dev", "eth0")
	ipCmd(t, "-n", ns, "link", "set", "eth0", "up")
	ipCmd(t, "-n", ns, "link", "set", "eth0p", "up")
	// As on a node, cluster IPs are routed like any address (the default
	// route); the nat table catches them before they leave.
	ipCmd(t, "-n", ns, "route", "add", "default", "via", "192.168.77.1", "dev", "eth0")

	api := apiservertest.Start(t)
	c := api.Client
	ctx := context.Background()
	svc := &core.Service{ObjectMeta: meta.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: core.ServiceSpec{Type: core.ServiceTypeNodePort, ClusterIP: "10.96.0.10",
			Ports: []core.ServicePort{{Port: 80, NodePort: 30080}}}}
	if err := c.Create(ctx, svc); err != nil {
		t.Fatal(err)
	}
	setEndpoints(t, c, pods[:3]...)
	p := startProxy(t, api.URL, netns)

	// The jumps from the built-in chains are kept in place one by one
	// (go-iptables), so wait for the last of them too.
	nat := waitNat(t, netns, "has 3 endpoints and the jumps", func(s string) bool {
		return count(sepChainRE, s) == 3 && strings.Contains(s, "-j KUBE-POSTROUTING")
	})
	for _, want := range []string{
		`-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES`,
		`-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES`,
		`-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING`,
		"-m statistic --mode random --probability 0.33333333349",
		"-j DNAT --to-destination 10.244.1.1:8080",
		"--dport 30080 -j KUBE-EXT-",
	} {
		if !strings.Contains(nat, want) {
			t.Errorf("nat table lacks %q:\n%s", want, nat)
		}
	}

	hc := clientIn(netns)
	got := answers(t, hc, "http://10.96.0.10/", 60)
	for _, ip := range pods[:3] {
		if got[ip+":8080"] == 0 {
			t.Errorf("cluster IP: %s never answered in 60 requests: %v", ip, got)
		}
	}
	if len(got) != 3 {
		t.Errorf("cluster IP: got answers %v; want only the 3 endpoints", got)
	}
	if got := answers(t, hc, "http://192.168.77.2:30080/", 20); len(got) != 3 {
		t.Errorf("node port: got answers %v; want the 3 endpoints", got)
	}

	// One endpoint replaced: only web's KUBE-SVC and the two KUBE-SEP
	// chains concerned change.
	before := p.metrics
	before.mu.Lock()
	written, deleted := before.chainsWritten, before.deleted
	before.mu.Unlock()
	setEndpoints(t, c, pods[0], pods[1], pods[3])
	waitNat(t, netns, "moves to 10.244.1.4", func(s string) bool {
		return strings.Contains(s, "10.244.1.4:8080") && !strings.Contains(s, "10.244.1.3:8080")
	})
	// The metrics follow the write by a moment.
	var dw, dd int64
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		p.metrics.mu.Lock()
		dw, dd = p.metrics.chainsWritten-written, p.metrics.deleted-deleted
		p.metrics.mu.Unlock()
		if dw > 0 {
			break
		}
	}
	if dw != 2 || dd != 1 {
		t.Errorf("endpoint change: %d chains written, %d deleted; want 2 (KUBE-SVC, new KUBE-SEP) and 1 (old KUBE-SEP)", dw, dd)
	}
	got = answers(t, hc, "http://10.96.0.10/", 60)
	if got["10.244.1.3:8080"] != 0 || got["10.244.1.4:8080"] == 0 || len(got) != 3 {
		t.Errorf("after the change: got answers %v; want .1, .2 and .4 only", got)
	}

	// The Service goes: so do its chains.
	if err := c.Delete(ctx, serviceKind, "default", "web", nil); err != nil {
		t.Fatal(err)
	}
	waitNat(t, netns, "loses the service's chains", func(s string) bool {
		return !strings.Contains(s, "KUBE-SVC-") && !strings.Contains(s, "KUBE-SEP-") && !strings.Contains(s, "KUBE-EXT-")
	})
	if body, code := get(t, p.Handler(), "/metrics"); code != 200 || !strings.Contains(body, "proxy_syncs_total") {
		t.Errorf("/metrics: got %d %q", code, body)
	}
	if body, code := get(t, p.Handler(), "/healthz"); code != 200 || body != "ok" {
		t.Errorf("/healthz: got %d %q; want 200 ok", code, body)
	}
}

func get(t *testing.T, h http.Handler, path string) (string, int) {
	t.Helper()
	rec := &recorder{header: http.Header{}, code: 200}
	req, _ := http.NewRequest("GET", path, nil)
	h.ServeHTTP(rec, req)
	return rec.body.String(), rec.code
}

type recorder struct {
	header http.Header
	body   strings.Builder
	code   int
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(code int)        { r.code = code }

// TestRestartRemovesLeftovers: a proxy starting on a table that holds
// chains of a Service deleted while no proxy ran removes them.
func TestRestartRemovesLeftovers(t *testing.T) {
	netns := testNetns(t)
	dp := &iptables{netns: netns}
	ctx := context.Background()
	s1 := &syncer{dp: dp}
	svcs := []*core.Service{svc("d", "gone", "10.96.0.20", sport("", 80, 0))}
	svcs[0].Spec.SessionAffinity = core.ServiceAffinityClientIP // xt_recent must load too
	if _, err := s1.sync(ctx, svcs, []*core.Endpoints{eps("d", "gone", "", 80, "10.244.9.9")}); err != nil {
		t.Fatal(err)
	}
	if nat := natTable(t, netns); count(sepChainRE, nat) != 1 {
		t.Fatalf("first proxy: want 1 KUBE-SEP chain:\n%s", nat)
	}
	s2 := &syncer{dp: dp} // a restart: nothing known
	if _, err := s2.sync(ctx, nil, nil); err != nil {
		t.Fatal(err)
	}
	nat := natTable(t, netns)
	if strings.Contains(nat, "KUBE-SVC-") || strings.Contains(nat, "KUBE-SEP-") {
		t.Errorf("after a restart without the service: leftovers remain:\n%s", nat)
	}
	if n := strings.Count(nat, "-j KUBE-SERVICES"); n != 2 {
		t.Errorf("jump rules: got %d to KUBE-SERVICES; want 2 (PREROUTING, OUTPUT), not duplicated:\n%s", n, nat)
	}
	if err := dp.clearFlows(ctx, []string{"-D", "-p", "udp", "--orig-dst", "10.96.0.20"}); err != nil {
		t.Errorf("conntrack with nothing to delete: %v", err)
	}
}
