package proxy

import (
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"minik8s/pkg/apis/core"
)

// Chains the proxy owns in the nat table, with kube-proxy's names.
const (
	chainServices    = "KUBE-SERVICES"
	chainNodePorts   = "KUBE-NODEPORTS"
	chainPostrouting = "KUBE-POSTROUTING"
	chainMarkMasq    = "KUBE-MARK-MASQ"
	// masqMark is kube-proxy's default --iptables-masquerade-bit 14.
	masqMark = "0x4000"
)

// RulesConfig is what the rules depend on besides Services and Endpoints.
type RulesConfig struct {
	// NodeName is this node: a Service with internalTrafficPolicy Local
	// only sends to endpoints on it.
	NodeName string
	// ClusterCIDR, if set, is the pods' range: traffic to a cluster IP
	// from outside it is masqueraded so that replies come back through
	// this node (kube-proxy's --cluster-cidr).
	ClusterCIDR string
}

// servicePort is one port of one Service as the proxy programs it.
type servicePort struct {
	name      string // kube-proxy's ServicePortName: "ns/svc:port" ("ns/svc" for an unnamed port)
	protocol  string // lower case: tcp, udp, sctp
	clusterIP string
	port      int32
	nodePort  int32
	affinity  int32 // ClientIP affinity timeout in seconds; 0 for none
	endpoints []endpoint
}

type endpoint struct {
	ip   string
	port int32
}

func (e endpoint) String() string { return net.JoinHostPort(e.ip, strconv.Itoa(int(e.port))) }

// servicePorts resolves Services and their Endpoints into the ports the
// proxy programs, sorted by name and protocol. Services that get no rules
// are left out: ExternalName and headless ones (no cluster IP to catch).
// Only ready addresses are endpoints.
func servicePorts(services []*core.Service, endpoints []*core.Endpoints, cfg RulesConfig) []servicePort {
	eps := map[string]*core.Endpoints{}
	for _, e := range endpoints {
		eps[e.Namespace+"/"+e.Name] = e
	}
	var out []servicePort
	for _, svc := range services {
		ip := svc.Spec.ClusterIP
		if svc.Spec.Type == core.ServiceTypeExternalName || ip == "" || ip == core.ClusterIPNone {
			continue
		}
		local := svc.Spec.InternalTrafficPolicy != nil && *svc.Spec.InternalTrafficPolicy == core.TrafficPolicyLocal
		for _, p := range svc.Spec.Ports {
			sp := servicePort{
				name:      svc.Namespace + "/" + svc.Name,
				protocol:  strings.ToLower(p.Protocol),
				clusterIP: ip, port: p.Port, nodePort: p.NodePort,
			}
			if sp.protocol == "" {
				sp.protocol = "tcp"
			}
			if p.Name != "" {
				sp.name += ":" + p.Name
			}
			if svc.Spec.SessionAffinity == core.ServiceAffinityClientIP {
				sp.affinity = 10800
				if c := svc.Spec.SessionAffinityConfig; c != nil && c.ClientIP != nil && c.ClientIP.TimeoutSeconds != nil {
					sp.affinity = *c.ClientIP.TimeoutSeconds
				}
			}
			sp.endpoints = endpointsOf(eps[svc.Namespace+"/"+svc.Name], p, local, cfg.NodeName)
			out = append(out, sp)
		}
	}
	slices.SortFunc(out, func(a, b servicePort) int {
		return strings.Compare(a.name+"/"+a.protocol, b.name+"/"+b.protocol)
	})
	return out
}

// endpointsOf lists the ready addresses serving p, sorted and without
// duplicates. local keeps only those on node.
func endpointsOf(e *core.Endpoints, p core.ServicePort, local bool, node string) []endpoint {
	if e == nil {
		return nil
	}
	seen := map[endpoint]bool{}
	var out []endpoint
	for _, s := range e.Subsets {
		for _, ep := range s.Ports {
			proto := ep.Protocol
			if proto == "" {
				proto = core.ProtocolTCP
			}
			if ep.Name != p.Name || !strings.EqualFold(proto, p.Protocol) {
				continue
			}
			for _, a := range s.Addresses {
				if local && (a.NodeName == nil || *a.NodeName != node) {
					continue
				}
				if e := (endpoint{ip: a.IP, port: ep.Port}); !seen[e] {
					seen[e] = true
					out = append(out, e)
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b endpoint) int { return strings.Compare(a.String(), b.String()) })
	return out
}

// hash is kube-proxy's chain-name hash: the first 16 characters of the
// base32 SHA-256 of the parts.
func hash(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "")))
	return base32.StdEncoding.EncodeToString(h[:])[:16]
}

func (sp servicePort) svcChain() string { return "KUBE-SVC-" + hash(sp.name, sp.protocol) }
func (sp servicePort) extChain() string { return "KUBE-EXT-" + hash(sp.name, sp.protocol) }
func (sp servicePort) sepChain(e endpoint) string {
	return "KUBE-SEP-" + hash(sp.name, sp.protocol, e.String())
}

// Chains maps each chain the proxy owns to its rules, one
// "-A CHAIN ..." line each, in iptables-restore syntax.
type Chains map[string]string

// Rules computes the nat table chains for the Services and Endpoints:
// kube-proxy's iptables layout. It is a pure function.
//
//	KUBE-SERVICES     cluster IP:port -> KUBE-SVC-x; local addresses -> KUBE-NODEPORTS (last)
//	KUBE-NODEPORTS    nodePort -> KUBE-EXT-x
//	KUBE-EXT-x        mark for masquerade, then KUBE-SVC-x
//	KUBE-SVC-x        (off-cluster source: mark) then one endpoint at random:
//	                  -m statistic --mode random --probability 1/n, 1/(n-1), ..., the last always
//	KUBE-SEP-y        (hairpin: the endpoint itself is the source: mark) DNAT to the endpoint
//	KUBE-POSTROUTING  masquerade what is marked
//	KUBE-MARK-MASQ    set the mark
//
// A Service port without ready endpoints gets no rules at all: its
// traffic is not caught and goes nowhere (kube-proxy rejects it in the
// filter table instead; minik8s leaves that out).
func Rules(services []*core.Service, endpoints []*core.Endpoints, cfg RulesConfig) Chains {
	return render(servicePorts(services, endpoints, cfg), cfg)
}

func render(ports []servicePort, cfg RulesConfig) Chains {
	var svcs, nodePorts strings.Builder
	out := Chains{
		chainPostrouting: "-A KUBE-POSTROUTING -m mark ! --mark " + masqMark + "/" + masqMark + " -j RETURN\n" +
			"-A KUBE-POSTROUTING -j MARK --xor-mark " + masqMark + "\n" +
			`-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully` + "\n",
		chainMarkMasq: "-A KUBE-MARK-MASQ -j MARK --or-mark " + masqMark + "\n",
	}
	for _, sp := range ports {
		if len(sp.endpoints) == 0 {
			continue
		}
		svcChain := sp.svcChain()
		match := fmt.Sprintf("-d %s/32 -p %s -m comment --comment %q -m %s --dport %d",
			sp.clusterIP, sp.protocol, sp.name+" cluster IP", sp.protocol, sp.port)
		fmt.Fprintf(&svcs, "-A %s %s -j %s\n", chainServices, match, svcChain)
		if sp.nodePort != 0 {
			ext := sp.extChain()
			fmt.Fprintf(&nodePorts, "-A %s -p %s -m comment --comment %q -m %s --dport %d -j %s\n",
				chainNodePorts, sp.protocol, sp.name, sp.protocol, sp.nodePort, ext)
			out[ext] = fmt.Sprintf("-A %s -m comment --comment %q -j %s\n-A %s -j %s\n",
				ext, "masquerade traffic for "+sp.name+" external destinations", chainMarkMasq, ext, svcChain)
		}
		out[svcChain] = svcRules(sp, match, cfg)
		for _, e := range sp.endpoints {
			out[sp.sepChain(e)] = sepRules(sp, e)
		}
	}
	svcs.WriteString(`-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS` + "\n")
	out[chainServices] = svcs.String()
	out[chainNodePorts] = nodePorts.String()
	return out
}

func svcRules(sp servicePort, match string, cfg RulesConfig) string {
	var b strings.Builder
	c := sp.svcChain()
	if cfg.ClusterCIDR != "" {
		fmt.Fprintf(&b, "-A %s ! -s %s %s -j %s\n", c, cfg.ClusterCIDR, match, chainMarkMasq)
	}
	if sp.affinity > 0 {
		// A client seen recently goes back to the endpoint it had
		// (xt_recent lists named after the endpoint chains).
		for _, e := range sp.endpoints {
			sep := sp.sepChain(e)
			fmt.Fprintf(&b, "-A %s -m comment --comment %q -m recent --name %s --mask 255.255.255.255 --rcheck --seconds %d --reap -j %s\n",
				c, sp.name+" -> "+e.String(), sep, sp.affinity, sep)
		}
	}
	n := len(sp.endpoints)
	for i, e := range sp.endpoints {
		fmt.Fprintf(&b, "-A %s -m comment --comment %q", c, sp.name+" -> "+e.String())
		if i < n-1 {
			// The i-th rule sees the traffic the earlier ones passed on,
			// so 1/(n-i) of it gives each endpoint 1/n overall.
			fmt.Fprintf(&b, " -m statistic --mode random --probability %0.10f", 1/float64(n-i))
		}
		fmt.Fprintf(&b, " -j %s\n", sp.sepChain(e))
	}
	return b.String()
}

func sepRules(sp servicePort, e endpoint) string {
	sep := sp.sepChain(e)
	comment := strconv.Quote(sp.name)
	affinity := ""
	if sp.affinity > 0 {
		affinity = " -m recent --name " + sep + " --set"
	}
	// Hairpin: a pod reaching itself through its Service must see the
	// reply come from the Service, so its own traffic is masqueraded.
	return fmt.Sprintf("-A %s -s %s/32 -m comment --comment %s -j %s\n", sep, e.ip, comment, chainMarkMasq) +
		fmt.Sprintf("-A %s -p %s -m comment --comment %s%s -m %s -j DNAT --to-destination %s\n",
			sep, sp.protocol, comment, affinity, sp.protocol, e.String())
}
