// Package dns is minik8s' cluster DNS: a small DNS server answering for
// the cluster domain (cluster.local) from the Services and Endpoints a
// caller supplies, and forwarding every other name to upstream resolvers.
// The proxy runs one per node.
//
// Names answered, as Kubernetes' DNS specification has them
// (github.com/kubernetes/dns, docs/specification.md):
//
//	<svc>.<ns>.svc.cluster.local                A     the cluster IP; for a headless
//	                                                  Service the ready endpoints' IPs;
//	                                                  CNAME for an ExternalName Service
//	<hostname>.<svc>.<ns>.svc.cluster.local     A     the endpoint with that hostname
//	                                                  (StatefulSet pods)
//	_<port>._<proto>.<svc>.<ns>.svc.cluster.local SRV each named port: the Service's
//	                                                  name and port; for a headless
//	                                                  Service, each endpoint
//	<a-b-c-d>.<ns>.pod.cluster.local            A     a.b.c.d
//
// Any other name in the cluster domain is NXDOMAIN; a known name without
// records of the asked type is an empty answer (NODATA). The short forms
// (<svc>, <svc>.<ns>) are the clients' business: their resolv.conf search
// list expands them.
//
// The package never watches the API itself: the caller's Source (the
// proxy's informer caches) is read on every query, so answers follow the
// caches with no state here.
package dns

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	mdns "github.com/miekg/dns"

	"minik8s/pkg/apis/core"
)

// Source is where the server looks names up. Objects returned are
// shared: the server never modifies them.
type Source interface {
	Service(namespace, name string) (*core.Service, bool)
	Endpoints(namespace, name string) (*core.Endpoints, bool)
}

// Config configures a Server.
type Config struct {
	// Listen is the UDP and TCP address to serve on (port 0: any).
	Listen string
	// Domain is the cluster domain; empty: cluster.local.
	Domain string
	// Upstreams are resolvers ("host:port" or "host") for other names;
	// empty: the nameservers of /etc/resolv.conf.
	Upstreams []string
	// TTL of the answers, in seconds; 0: 5 (as CoreDNS' kubernetes plugin).
	TTL uint32
}

// Server is a DNS server. New opens its sockets; Run serves them until
// its context ends. A Server runs once.
type Server struct {
	src       Source
	domain    string // "cluster.local." (fully qualified, lower case)
	upstreams []string
	ttl       uint32
	udp       net.PacketConn
	tcp       net.Listener
	client    *mdns.Client
}

// New returns a Server for cfg reading src, listening already (so that
// Addr is known and an address in use fails here).
func New(cfg Config, src Source) (*Server, error) {
	s := &Server{src: src, domain: mdns.Fqdn(strings.ToLower(cfg.Domain)), ttl: cfg.TTL,
		client: &mdns.Client{Timeout: 2 * time.Second}}
	if cfg.Domain == "" {
		s.domain = "cluster.local."
	}
	if s.ttl == 0 {
		s.ttl = 5
	}
	ups := cfg.Upstreams
	if len(ups) == 0 {
		rc, err := mdns.ClientConfigFromFile("/etc/resolv.conf")
		if err == nil {
			for _, h := range rc.Servers {
				ups = append(ups, net.JoinHostPort(h, rc.Port))
			}
		}
	}
	for _, u := range ups {
		if _, _, err := net.SplitHostPort(u); err != nil {
			u = net.JoinHostPort(u, "53")
		}
		s.upstreams = append(s.upstreams, u)
	}
	// TCP on the port UDP got, so that port 0 gives one port for both. A
	// port free for UDP may be taken for TCP: with port 0, try another.
	_, port, _ := net.SplitHostPort(cfg.Listen)
	for attempt := 0; ; attempt++ {
		var err error
		if s.udp, err = net.ListenPacket("udp", cfg.Listen); err != nil {
			return nil, fmt.Errorf("dns: %w", err)
		}
		if s.tcp, err = net.Listen("tcp", s.udp.LocalAddr().String()); err == nil {
			return s, nil
		}
		s.udp.Close()
		if port != "0" || attempt == 10 {
			return nil, fmt.Errorf("dns: %w", err)
		}
	}
}

// Addr is the address the server listens on (UDP and TCP).
func (s *Server) Addr() string { return s.udp.LocalAddr().String() }

// Run serves until ctx is done, then closes the sockets.
func (s *Server) Run(ctx context.Context) error {
	h := mdns.HandlerFunc(s.serveDNS)
	servers := []*mdns.Server{{PacketConn: s.udp, Handler: h}, {Listener: s.tcp, Handler: h}}
	var wg sync.WaitGroup
	errc := make(chan error, len(servers))
	for _, srv := range servers {
		wg.Go(func() { errc <- srv.ActivateAndServe() })
	}
	select {
	case <-ctx.Done():
	case err := <-errc:
		slog.Error("dns server stopped", "err", err)
	}
	for _, srv := range servers {
		srv.Shutdown()
	}
	wg.Wait()
	return nil
}

func (s *Server) serveDNS(w mdns.ResponseWriter, req *mdns.Msg) {
	if len(req.Question) != 1 {
		m := new(mdns.Msg)
		m.SetRcode(req, mdns.RcodeFormatError)
		w.WriteMsg(m)
		return
	}
	q := req.Question[0]
	name := strings.ToLower(q.Name)
	if name != s.domain && !strings.HasSuffix(name, "."+s.domain) {
		w.WriteMsg(s.forward(req, w.RemoteAddr().Network()))
		return
	}
	m := new(mdns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	answer, extra, found := s.resolve(name, q.Qtype)
	switch {
	case !found:
		m.Rcode = mdns.RcodeNameError
		m.Ns = []mdns.RR{s.soa()}
	case len(answer) == 0:
		m.Ns = []mdns.RR{s.soa()} // NODATA
	}
	m.Answer, m.Extra = answer, extra
	w.WriteMsg(m)
}

// forward asks the upstreams in turn; SERVFAIL if none answers.
func (s *Server) forward(req *mdns.Msg, network string) *mdns.Msg {
	c := *s.client
	if network == "tcp" {
		c.Net = "tcp"
	}
	var err error = errors.New("no upstream resolvers")
	for _, u := range s.upstreams {
		var resp *mdns.Msg
		resp, _, err = c.Exchange(req, u)
		if err == nil {
			resp.Id = req.Id
			return resp
		}
	}
	slog.Debug("dns forward failed", "name", req.Question[0].Name, "err", err)
	m := new(mdns.Msg)
	m.SetRcode(req, mdns.RcodeServerFailure)
	return m
}

func (s *Server) soa() mdns.RR {
	return &mdns.SOA{Hdr: mdns.RR_Header{Name: s.domain, Rrtype: mdns.TypeSOA, Class: mdns.ClassINET, Ttl: s.ttl},
		Ns: "ns.dns." + s.domain, Mbox: "hostmaster." + s.domain, Serial: 1, Refresh: 7200, Retry: 1800, Expire: 86400, Minttl: s.ttl}
}
