package dns

import (
	"net"
	"slices"
	"strings"

	mdns "github.com/miekg/dns"

	"minik8s/pkg/apis/core"
)

// resolve answers name (lower case, fully qualified, inside the cluster
// domain) for qtype. found is false for a name that does not exist.
func (s *Server) resolve(name string, qtype uint16) (answer, extra []mdns.RR, found bool) {
	rest := strings.TrimSuffix(strings.TrimSuffix(name, s.domain), ".")
	if rest == "" {
		return nil, nil, true // the domain itself exists (its SOA)
	}
	labels := strings.Split(rest, ".")
	n := len(labels)
	switch {
	case n >= 2 && labels[n-1] == "pod":
		return s.resolvePod(name, labels[:n-1], qtype)
	case n < 3 || labels[n-1] != "svc":
		return nil, nil, false
	}
	ns, svcName := labels[n-2], labels[n-3]
	svc, ok := s.src.Service(ns, svcName)
	if !ok {
		return nil, nil, false
	}
	eps, _ := s.src.Endpoints(ns, svcName)
	switch prefix := labels[:n-3]; len(prefix) {
	case 0:
		return s.serviceRecords(name, svc, eps, qtype)
	case 1:
		return s.hostRecords(name, prefix[0], eps, qtype)
	case 2:
		return s.srvRecords(name, prefix[0], prefix[1], svc, eps, qtype)
	}
	return nil, nil, false
}

// serviceRecords: the cluster IP, or a headless Service's ready
// endpoints, or an ExternalName's CNAME.
func (s *Server) serviceRecords(name string, svc *core.Service, eps *core.Endpoints, qtype uint16) ([]mdns.RR, []mdns.RR, bool) {
	if svc.Spec.Type == core.ServiceTypeExternalName {
		if qtype == mdns.TypeA || qtype == mdns.TypeCNAME || qtype == mdns.TypeANY {
			return []mdns.RR{&mdns.CNAME{Hdr: s.hdr(name, mdns.TypeCNAME), Target: mdns.Fqdn(svc.Spec.ExternalName)}}, nil, true
		}
		return nil, nil, true
	}
	if qtype != mdns.TypeA && qtype != mdns.TypeANY {
		return nil, nil, true
	}
	if ip := svc.Spec.ClusterIP; ip != "" && ip != core.ClusterIPNone {
		return s.a(name, ip), nil, true
	}
	var out []mdns.RR
	for _, ip := range readyIPs(eps) {
		out = append(out, s.a(name, ip)...)
	}
	return out, nil, true
}

// hostRecords: the endpoint whose hostname is host.
func (s *Server) hostRecords(name, host string, eps *core.Endpoints, qtype uint16) ([]mdns.RR, []mdns.RR, bool) {
	var ips []string
	for _, a := range addresses(eps) {
		if strings.EqualFold(a.Hostname, host) && !slices.Contains(ips, a.IP) {
			ips = append(ips, a.IP)
		}
	}
	if len(ips) == 0 {
		return nil, nil, false
	}
	if qtype != mdns.TypeA && qtype != mdns.TypeANY {
		return nil, nil, true
	}
	var out []mdns.RR
	for _, ip := range ips {
		out = append(out, s.a(name, ip)...)
	}
	return out, nil, true
}

// srvRecords: _port._proto for a named port. A Service with a cluster IP
// has one record (target: the Service's name); a headless one has one per
// ready endpoint (target: its hostname, or its IP with dashes), with the
// targets' A records as extras.
func (s *Server) srvRecords(name, portLabel, protoLabel string, svc *core.Service, eps *core.Endpoints, qtype uint16) ([]mdns.RR, []mdns.RR, bool) {
	portName, ok1 := strings.CutPrefix(portLabel, "_")
	proto, ok2 := strings.CutPrefix(protoLabel, "_")
	if !ok1 || !ok2 {
		return nil, nil, false
	}
	var port *core.ServicePort
	for i, p := range svc.Spec.Ports {
		if p.Name != "" && strings.EqualFold(p.Name, portName) && strings.EqualFold(p.Protocol, proto) {
			port = &svc.Spec.Ports[i]
		}
	}
	if port == nil {
		return nil, nil, false
	}
	if qtype != mdns.TypeSRV && qtype != mdns.TypeANY {
		return nil, nil, true
	}
	svcName := svc.Name + "." + svc.Namespace + ".svc." + s.domain
	if ip := svc.Spec.ClusterIP; ip != "" && ip != core.ClusterIPNone {
		return []mdns.RR{s.srv(name, svcName, uint16(port.Port))}, s.a(svcName, ip), true
	}
	var answer, extra []mdns.RR
	if eps == nil {
		return nil, nil, true
	}
	for _, sub := range eps.Subsets {
		for _, ep := range sub.Ports {
			if ep.Name != port.Name || !strings.EqualFold(ep.Protocol, port.Protocol) {
				continue
			}
			for _, a := range sub.Addresses {
				host := a.Hostname
				if host == "" {
					host = strings.NewReplacer(".", "-", ":", "-").Replace(a.IP)
				}
				target := host + "." + svcName
				answer = append(answer, s.srv(name, target, uint16(ep.Port)))
				extra = append(extra, s.a(target, a.IP)...)
			}
		}
	}
	return answer, extra, true
}

// resolvePod answers <a-b-c-d>.<ns>.pod with a.b.c.d.
func (s *Server) resolvePod(name string, labels []string, qtype uint16) ([]mdns.RR, []mdns.RR, bool) {
	if len(labels) != 2 {
		return nil, nil, false
	}
	ip := net.ParseIP(strings.ReplaceAll(labels[0], "-", "."))
	if ip == nil || ip.To4() == nil {
		return nil, nil, false
	}
	if qtype != mdns.TypeA && qtype != mdns.TypeANY {
		return nil, nil, true
	}
	return s.a(name, ip.String()), nil, true
}

func (s *Server) hdr(name string, t uint16) mdns.RR_Header {
	return mdns.RR_Header{Name: name, Rrtype: t, Class: mdns.ClassINET, Ttl: s.ttl}
}

func (s *Server) a(name, ip string) []mdns.RR {
	addr := net.ParseIP(ip).To4()
	if addr == nil {
		return nil // IPv6 would be AAAA; minik8s is IPv4 only
	}
	return []mdns.RR{&mdns.A{Hdr: s.hdr(name, mdns.TypeA), A: addr}}
}

func (s *Server) srv(name, target string, port uint16) mdns.RR {
	return &mdns.SRV{Hdr: s.hdr(name, mdns.TypeSRV), Priority: 0, Weight: 100, Port: port, Target: target}
}

func addresses(eps *core.Endpoints) []core.EndpointAddress {
	if eps == nil {
		return nil
	}
	var out []core.EndpointAddress
	for _, sub := range eps.Subsets {
		out = append(out, sub.Addresses...)
	}
	return out
}

// readyIPs are the distinct IPs of the ready addresses, sorted.
func readyIPs(eps *core.Endpoints) []string {
	var ips []string
	for _, a := range addresses(eps) {
		if !slices.Contains(ips, a.IP) {
			ips = append(ips, a.IP)
		}
	}
	slices.Sort(ips)
	return ips
}
