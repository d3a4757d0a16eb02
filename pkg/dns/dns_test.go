package dns

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
)

// fakeSource is a Source over fixed objects.
type fakeSource struct {
	services  map[string]*core.Service
	endpoints map[string]*core.Endpoints
}

func (f fakeSource) Service(ns, name string) (*core.Service, bool) {
	s, ok := f.services[ns+"/"+name]
	return s, ok
}

func (f fakeSource) Endpoints(ns, name string) (*core.Endpoints, bool) {
	e, ok := f.endpoints[ns+"/"+name]
	return e, ok
}

func cluster() fakeSource {
	web := &core.Service{ObjectMeta: meta.ObjectMeta{Namespace: "default", Name: "web"},
		Spec: core.ServiceSpec{ClusterIP: "10.96.0.10", Ports: []core.ServicePort{{Name: "http", Protocol: "TCP", Port: 80}}}}
	db := &core.Service{ObjectMeta: meta.ObjectMeta{Namespace: "prod", Name: "db"},
		Spec: core.ServiceSpec{ClusterIP: "None", Ports: []core.ServicePort{{Name: "pg", Protocol: "TCP", Port: 5432}}}}
	ext := &core.Service{ObjectMeta: meta.ObjectMeta{Namespace: "default", Name: "ext"},
		Spec: core.ServiceSpec{Type: core.ServiceTypeExternalName, ExternalName: "example.com"}}
	dbEps := &core.Endpoints{ObjectMeta: meta.ObjectMeta{Namespace: "prod", Name: "db"}, Subsets: []core.EndpointSubset{{
		Addresses:         []core.EndpointAddress{{IP: "10.1.0.2", Hostname: "db-1"}, {IP: "10.1.0.1", Hostname: "db-0"}},
		NotReadyAddresses: []core.EndpointAddress{{IP: "10.1.0.3", Hostname: "db-2"}},
		Ports:             []core.EndpointPort{{Name: "pg", Protocol: "TCP", Port: 5432}},
	}}}
	return fakeSource{
		services:  map[string]*core.Service{"default/web": web, "prod/db": db, "default/ext": ext},
		endpoints: map[string]*core.Endpoints{"prod/db": dbEps},
	}
}

// rrs renders records compactly: "A 10.96.0.10", "SRV 80 web.default.svc.cluster.local.".
func rrs(in []mdns.RR) []string {
	var out []string
	for _, rr := range in {
		switch r := rr.(type) {
		case *mdns.A:
			out = append(out, "A "+r.A.String())
		case *mdns.SRV:
			out = append(out, "SRV "+strconv.Itoa(int(r.Port))+" "+r.Target)
		case *mdns.CNAME:
			out = append(out, "CNAME "+r.Target)
		default:
			out = append(out, rr.String())
		}
	}
	return out
}

func TestResolve(t *testing.T) {
	s := &Server{src: cluster(), domain: "cluster.local.", ttl: 5}
	for _, tc := range []struct {
		name   string
		qtype  uint16
		answer []string
		extra  []string
		found  bool
	}{
		{"web.default.svc.cluster.local.", mdns.TypeA, []string{"A 10.96.0.10"}, nil, true},
		{"web.default.svc.cluster.local.", mdns.TypeAAAA, nil, nil, true}, // NODATA
		{"nope.default.svc.cluster.local.", mdns.TypeA, nil, nil, false},
		{"web.other.svc.cluster.local.", mdns.TypeA, nil, nil, false},
		{"db.prod.svc.cluster.local.", mdns.TypeA, []string{"A 10.1.0.1", "A 10.1.0.2"}, nil, true}, // headless: ready only
		{"db-0.db.prod.svc.cluster.local.", mdns.TypeA, []string{"A 10.1.0.1"}, nil, true},
		{"db-9.db.prod.svc.cluster.local.", mdns.TypeA, nil, nil, false},
		{"_http._tcp.web.default.svc.cluster.local.", mdns.TypeSRV,
			[]string{"SRV 80 web.default.svc.cluster.local."}, []string{"A 10.96.0.10"}, true},
		{"_pg._tcp.db.prod.svc.cluster.local.", mdns.TypeSRV,
			[]string{"SRV 5432 db-1.db.prod.svc.cluster.local.", "SRV 5432 db-0.db.prod.svc.cluster.local."},
			[]string{"A 10.1.0.2", "A 10.1.0.1"}, true},
		{"_http._udp.web.default.svc.cluster.local.", mdns.TypeSRV, nil, nil, false},
		{"ext.default.svc.cluster.local.", mdns.TypeA, []string{"CNAME example.com."}, nil, true},
		{"10-1-0-7.default.pod.cluster.local.", mdns.TypeA, []string{"A 10.1.0.7"}, nil, true},
		{"default.svc.cluster.local.", mdns.TypeA, nil, nil, false},
	} {
		answer, extra, found := s.resolve(tc.name, tc.qtype)
		if got := rrs(answer); !slices.Equal(got, tc.answer) || found != tc.found || !slices.Equal(rrs(extra), tc.extra) {
			t.Errorf("%s %s: got %q extra %q found %v; want %q extra %q found %v",
				tc.name, mdns.TypeToString[tc.qtype], got, rrs(extra), found, tc.answer, tc.extra, tc.found)
		}
	}
}

// TestServeOverUDP asks a real server on 127.0.0.1 over UDP: a cluster
// name, an unknown one (NXDOMAIN), and an outside name forwarded to a
// fake upstream, also on 127.0.0.1.
func TestServeOverUDP(t *testing.T) {
	upstream := &mdns.Server{Addr: "127.0.0.1:0", Net: "udp", Handler: mdns.HandlerFunc(func(w mdns.ResponseWriter, r *mdns.Msg) {
		m := new(mdns.Msg)
		m.SetReply(r)
		m.Answer = []mdns.RR{&mdns.A{Hdr: mdns.RR_Header{Name: r.Question[0].Name, Rrtype: mdns.TypeA, Class: mdns.ClassINET, Ttl: 60}, A: []byte{192, 0, 2, 1}}}
		w.WriteMsg(m)
	})}
	started := make(chan struct{})
	upstream.NotifyStartedFunc = func() { close(started) }
	go upstream.ListenAndServe()
	<-started
	t.Cleanup(func() { upstream.Shutdown() })

	s, err := New(Config{Listen: "127.0.0.1:0", Upstreams: []string{upstream.PacketConn.LocalAddr().String()}}, cluster())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	c := &mdns.Client{Timeout: 2 * time.Second}
	for _, tc := range []struct {
		name   string
		rcode  int
		answer []string
	}{
		{"web.default.svc.cluster.local.", mdns.RcodeSuccess, []string{"A 10.96.0.10"}},
		{"WEB.default.svc.cluster.local.", mdns.RcodeSuccess, []string{"A 10.96.0.10"}},
		{"nope.default.svc.cluster.local.", mdns.RcodeNameError, nil},
		{"example.org.", mdns.RcodeSuccess, []string{"A 192.0.2.1"}},
	} {
		m := new(mdns.Msg)
		m.SetQuestion(tc.name, mdns.TypeA)
		resp, _, err := c.Exchange(m, s.Addr())
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if resp.Rcode != tc.rcode || !slices.Equal(rrs(resp.Answer), tc.answer) || resp.Id != m.Id {
			t.Errorf("%s: got %s %q; want %s %q", tc.name, mdns.RcodeToString[resp.Rcode], rrs(resp.Answer),
				mdns.RcodeToString[tc.rcode], tc.answer)
		}
	}
	// TCP answers too.
	tc := &mdns.Client{Net: "tcp", Timeout: 2 * time.Second}
	m := new(mdns.Msg)
	m.SetQuestion("web.default.svc.cluster.local.", mdns.TypeA)
	if resp, _, err := tc.Exchange(m, s.Addr()); err != nil || !slices.Equal(rrs(resp.Answer), []string{"A 10.96.0.10"}) {
		t.Errorf("over TCP: got %v, %v", resp, err)
	}
}
