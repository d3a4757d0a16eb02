package apiserver

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"minik8s/pkg/apis"
	"minik8s/pkg/apis/apierrors"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/intstr"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/client"
	"minik8s/pkg/store"
)

func TestIPRange(t *testing.T) {
	r, err := parseIPRange("10.96.0.0/12")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ip   string
		want bool
	}{
		{"10.96.0.0", false}, // network address
		{"10.96.0.1", true},
		{"10.100.3.4", true},
		{"10.111.255.254", true},
		{"10.111.255.255", false}, // broadcast
		{"10.112.0.1", false},
		{"10.0.0.5", false},
	} {
		if got := r.contains(netip.MustParseAddr(tc.ip)); got != tc.want {
			t.Errorf("contains(%s): got %v; want %v", tc.ip, got, tc.want)
		}
	}
	if got := r.kubernetesIP().String(); got != "10.96.0.1" {
		t.Errorf("kubernetesIP: got %s; want 10.96.0.1", got)
	}
	d := r.dynamic()
	if first, last := d.name(d.first), d.name(d.first+d.count-1); first != "10.96.0.2" || last != "10.111.255.254" {
		t.Errorf("dynamic range: got %s..%s; want 10.96.0.2..10.111.255.254", first, last)
	}
	for _, bad := range []string{"10.96.0.0", "fd00::/64", "10.0.0.0/30", "x"} {
		if _, err := parseIPRange(bad); err == nil {
			t.Errorf("parseIPRange(%q): got no error; want one", bad)
		}
	}
}

func TestPortRange(t *testing.T) {
	for _, tc := range []struct {
		in          string
		first, last int
		bad         bool
	}{
		{in: "30000-32767", first: 30000, last: 32767},
		{in: "8080", first: 8080, last: 8080},
		{in: "32767-30000", bad: true},
		{in: "0-10", bad: true},
		{in: "1-70000", bad: true},
		{in: "a-b", bad: true},
	} {
		r, err := parsePortRange(tc.in)
		if (err != nil) != tc.bad || (!tc.bad && (r.first != tc.first || r.last != tc.last)) {
			t.Errorf("parsePortRange(%q): got %v, %v; want %d-%d (error: %v)", tc.in, r, err, tc.first, tc.last, tc.bad)
		}
	}
}

// allocServer is a test API server over st with the given ranges.
func allocServer(t *testing.T, st store.Store, cidr, ports string) *client.Client {
	t.Helper()
	srv, err := New(Config{Store: st, ServiceCIDR: cidr, NodePortRange: ports})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Bootstrap(context.Background()); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { hs.CloseClientConnections(); hs.Close() })
	c, err := client.New(hs.URL)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func embeddedStore(t *testing.T) store.Store {
	t.Helper()
	e, err := store.StartEmbedded(store.EmbedConfig{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return store.NewEtcd(e.Client)
}

func service(name, typ string, mutate ...func(*core.Service)) *core.Service {
	svc := &core.Service{
		ObjectMeta: meta.ObjectMeta{Name: name, Namespace: "default"},
		Spec: core.ServiceSpec{Type: typ, Selector: map[string]string{"app": name},
			Ports: []core.ServicePort{{Port: 80, TargetPort: intstr.FromInt(8080)}}},
	}
	for _, m := range mutate {
		m(svc)
	}
	return svc
}

var svcKind, _ = apis.ByResource("", "services")

func deleteService(t *testing.T, c *client.Client, name string) {
	t.Helper()
	if err := c.Delete(context.Background(), svcKind, "default", name, nil); err != nil {
		t.Fatalf("delete %s: %v", name, err)
	}
}

func TestKubernetesServiceGetsFirstAddress(t *testing.T) {
	c := allocServer(t, embeddedStore(t), "", "")
	var svc core.Service
	if err := c.Get(context.Background(), "default", "kubernetes", &svc); err != nil {
		t.Fatal(err)
	}
	if svc.Spec.ClusterIP != "10.96.0.1" || len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Port != 443 {
		t.Errorf("kubernetes service: got clusterIP %s ports %+v; want 10.96.0.1, 443", svc.Spec.ClusterIP, svc.Spec.Ports)
	}
}

// TestConcurrentCreatesNeverShareAnIP creates 50 Services at once, half of
// them NodePort, on two API servers sharing one etcd, in a range just big
// enough (a /26 has 61 dynamic addresses): no IP and no node port is
// handed out twice.
func TestConcurrentCreatesNeverShareAnIP(t *testing.T) {
	st := embeddedStore(t)
	clients := []*client.Client{allocServer(t, st, "10.0.0.0/26", "30000-30060"), allocServer(t, st, "10.0.0.0/26", "30000-30060")}
	const n = 50
	svcs := make([]*core.Service, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		typ := core.ServiceTypeClusterIP
		if i%2 == 0 {
			typ = core.ServiceTypeNodePort
		}
		svcs[i] = service(fmt.Sprintf("s%d", i), typ)
		wg.Go(func() { errs[i] = clients[i%2].Create(context.Background(), svcs[i]) })
	}
	wg.Wait()
	ips, ports := map[string]string{}, map[int32]string{}
	for i, svc := range svcs {
		if errs[i] != nil {
			t.Fatalf("create %s: %v", svc.Name, errs[i])
		}
		ip := svc.Spec.ClusterIP
		if other, dup := ips[ip]; dup || ip == "" || ip == "10.0.0.1" {
			t.Errorf("%s got IP %q (also held by %q)", svc.Name, ip, other)
		}
		ips[ip] = svc.Name
		if svc.Spec.Type == core.ServiceTypeNodePort {
			p := svc.Spec.Ports[0].NodePort
			if other, dup := ports[p]; dup || p < 30000 || p > 30060 {
				t.Errorf("%s got node port %d (also held by %q)", svc.Name, p, other)
			}
			ports[p] = svc.Name
		}
	}
}

// TestRestartNeverReuses fills a small range, restarts the API server on
// the same etcd, and checks that the new server hands out nothing that is
// held until a Service is deleted, and then exactly the freed address.
func TestRestartNeverReuses(t *testing.T) {
	st := embeddedStore(t)
	ctx := context.Background()
	c := allocServer(t, st, "10.0.0.0/29", "") // dynamic: .2 to .6
	held := map[string]bool{}
	for i := range 5 {
		svc := service(fmt.Sprintf("s%d", i), "")
		if err := c.Create(ctx, svc); err != nil {
			t.Fatal(err)
		}
		held[svc.Spec.ClusterIP] = true
	}
	if len(held) != 5 {
		t.Fatalf("5 services hold %d addresses; want 5", len(held))
	}
	c = allocServer(t, st, "10.0.0.0/29", "") // the restart
	err := c.Create(ctx, service("full", ""))
	if err == nil || !strings.Contains(err.Error(), "range is full") {
		t.Fatalf("create in a full range: got %v; want range is full", err)
	}
	var victim core.Service
	if err := c.Get(ctx, "default", "s3", &victim); err != nil {
		t.Fatal(err)
	}
	deleteService(t, c, "s3")
	again := service("again", "")
	if err := c.Create(ctx, again); err != nil {
		t.Fatal(err)
	}
	if again.Spec.ClusterIP != victim.Spec.ClusterIP {
		t.Errorf("after deleting s3: got %s; want its freed address %s", again.Spec.ClusterIP, victim.Spec.ClusterIP)
	}
}

func TestGivenClusterIP(t *testing.T) {
	c := allocServer(t, embeddedStore(t), "", "")
	ctx := context.Background()
	withIP := func(ip string) func(*core.Service) {
		return func(s *core.Service) { s.Spec.ClusterIP = ip }
	}
	svc := service("dns", "", withIP("10.96.0.10"))
	if err := c.Create(ctx, svc); err != nil {
		t.Fatal(err)
	}
	if svc.Spec.ClusterIP != "10.96.0.10" || len(svc.Spec.ClusterIPs) != 1 || svc.Spec.ClusterIPs[0] != "10.96.0.10" {
		t.Errorf("given IP: got %s %v; want 10.96.0.10 [10.96.0.10]", svc.Spec.ClusterIP, svc.Spec.ClusterIPs)
	}
	for _, tc := range []struct {
		ip, want string
	}{
		{"10.0.0.5", `Service "bad" is invalid: spec.clusterIP: Invalid value: "10.0.0.5": provided IP is not in the valid range. The range of valid IPs is 10.96.0.0/12`},
		{"10.96.0.10", `Service "bad" is invalid: spec.clusterIPs: Invalid value: []string{"10.96.0.10"}: failed to allocate IP 10.96.0.10: provided IP is already allocated`},
		{"10.96.0.1", `Service "bad" is invalid: spec.clusterIPs: Invalid value: []string{"10.96.0.1"}: failed to allocate IP 10.96.0.1: provided IP is already allocated`},
	} {
		err := c.Create(ctx, service("bad", "", withIP(tc.ip)))
		if !errors.Is(err, apierrors.ErrInvalid) || err.Error() != tc.want {
			t.Errorf("create with %s: got %v; want 422 %s", tc.ip, err, tc.want)
		}
	}
	// Headless services get no address.
	headless := service("headless", "", withIP(core.ClusterIPNone))
	if err := c.Create(ctx, headless); err != nil {
		t.Fatal(err)
	}
	if headless.Spec.ClusterIP != "None" || len(headless.Spec.ClusterIPs) != 1 || headless.Spec.ClusterIPs[0] != "None" {
		t.Errorf("headless: got %s %v; want None [None]", headless.Spec.ClusterIP, headless.Spec.ClusterIPs)
	}
	// Deleting frees the given address for someone else.
	deleteService(t, c, "dns")
	if err := c.Create(ctx, service("dns2", "", withIP("10.96.0.10"))); err != nil {
		t.Errorf("reuse of a freed address: %v", err)
	}
}

func TestNodePorts(t *testing.T) {
	c := allocServer(t, embeddedStore(t), "", "")
	ctx := context.Background()
	withNodePort := func(p int32) func(*core.Service) {
		return func(s *core.Service) { s.Spec.Ports[0].NodePort = p }
	}
	web := service("web", core.ServiceTypeNodePort, withNodePort(30080))
	if err := c.Create(ctx, web); err != nil {
		t.Fatal(err)
	}
	auto := service("auto", core.ServiceTypeNodePort)
	if err := c.Create(ctx, auto); err != nil {
		t.Fatal(err)
	}
	if p := auto.Spec.Ports[0].NodePort; p < 30000 || p > 32767 || p == 30080 {
		t.Errorf("allocated node port: got %d; want a free one in 30000-32767", p)
	}
	for _, tc := range []struct {
		port int32
		want string
	}{
		{30080, `Service "bad" is invalid: spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated`},
		{80, `Service "bad" is invalid: spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range. The range of valid ports is 30000-32767`},
	} {
		err := c.Create(ctx, service("bad", core.ServiceTypeNodePort, withNodePort(tc.port)))
		if !errors.Is(err, apierrors.ErrInvalid) || err.Error() != tc.want {
			t.Errorf("create with node port %d: got %v; want 422 %s", tc.port, err, tc.want)
		}
	}
	// A failed create gives back what it took before failing: bad2's
	// cluster IP and first port must be free again.
	bad2 := service("bad2", core.ServiceTypeNodePort, func(s *core.Service) {
		s.Spec.ClusterIP = "10.96.0.50"
		s.Spec.Ports = []core.ServicePort{{Name: "a", Port: 1, NodePort: 30001}, {Name: "b", Port: 2, NodePort: 30080}}
	})
	if err := c.Create(ctx, bad2); err == nil {
		t.Fatal("create with a taken second port succeeded")
	}
	ok := service("ok", core.ServiceTypeNodePort, withNodePort(30001), func(s *core.Service) { s.Spec.ClusterIP = "10.96.0.50" })
	if err := c.Create(ctx, ok); err != nil {
		t.Errorf("create with what a failed create had taken: %v", err)
	}
	deleteService(t, c, "web")
	if err := c.Create(ctx, service("web2", core.ServiceTypeNodePort, withNodePort(30080))); err != nil {
		t.Errorf("node port of a deleted service: %v", err)
	}
}

// TestUpdateKeepsAllocations: a PUT that leaves clusterIP and nodePort out
// (as kubectl apply does) keeps them; changing the type to NodePort
// allocates ports, back to ClusterIP releases them.
func TestUpdateKeepsAllocations(t *testing.T) {
	c := allocServer(t, embeddedStore(t), "", "")
	ctx := context.Background()
	svc := service("web", "")
	if err := c.Create(ctx, svc); err != nil {
		t.Fatal(err)
	}
	ip := svc.Spec.ClusterIP

	put := func(typ string) *core.Service {
		t.Helper()
		next := service("web", typ)
		next.Spec.Selector = map[string]string{"app": "other"}
		if err := c.Update(ctx, next); err != nil {
			t.Fatalf("update to %s: %v", typ, err)
		}
		if next.Spec.ClusterIP != ip || len(next.Spec.ClusterIPs) != 1 || next.Spec.ClusterIPs[0] != ip {
			t.Errorf("update to %s: got clusterIP %s %v; want %s kept", typ, next.Spec.ClusterIP, next.Spec.ClusterIPs, ip)
		}
		return next
	}
	put(core.ServiceTypeClusterIP)
	np := put(core.ServiceTypeNodePort)
	port := np.Spec.Ports[0].NodePort
	if port == 0 {
		t.Fatal("update to NodePort: no node port allocated")
	}
	if again := put(core.ServiceTypeNodePort); again.Spec.Ports[0].NodePort != port {
		t.Errorf("second NodePort update: got node port %d; want %d kept", again.Spec.Ports[0].NodePort, port)
	}
	if back := put(core.ServiceTypeClusterIP); back.Spec.Ports[0].NodePort != 0 {
		t.Errorf("update to ClusterIP: got node port %d; want none", back.Spec.Ports[0].NodePort)
	}
	other := service("other", core.ServiceTypeNodePort, func(s *core.Service) { s.Spec.Ports[0].NodePort = port })
	if err := c.Create(ctx, other); err != nil {
		t.Errorf("node port released by a type change: %v", err)
	}
	// Changing the address of a Service is refused.
	moved := service("web", "", func(s *core.Service) { s.Spec.ClusterIP = "10.96.0.77" })
	if err := c.Update(ctx, moved); !errors.Is(err, apierrors.ErrInvalid) {
		t.Errorf("update changing clusterIP: got %v; want 422", err)
	}
	// The service still holds its address after the refused change.
	if err := c.Create(ctx, service("thief", "", func(s *core.Service) { s.Spec.ClusterIP = ip })); !errors.Is(err, apierrors.ErrInvalid) {
		t.Errorf("create with web's address: got %v; want 422 already allocated", err)
	}
}

func TestAPIEndpointsFollowTheServer(t *testing.T) {
	st := embeddedStore(t)
	srv, err := New(Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := srv.Bootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{"127.0.0.1:6443", "10.0.0.2:7443"} { // a restart elsewhere
		if err := srv.ensureAPIEndpoints(ctx, addr); err != nil {
			t.Fatal(err)
		}
		k, _ := apis.ByResource("", "endpoints")
		obj, err := srv.get(ctx, k, "default", "kubernetes")
		if err != nil {
			t.Fatal(err)
		}
		ep := obj.(*core.Endpoints)
		got := fmt.Sprintf("%s:%d", ep.Subsets[0].Addresses[0].IP, ep.Subsets[0].Ports[0].Port)
		if len(ep.Subsets) != 1 || len(ep.Subsets[0].Addresses) != 1 || got != addr {
			t.Errorf("endpoints: got %+v; want only %s", ep.Subsets, addr)
		}
	}
}
