package endpoints

import (
	"fmt"
	"slices"
	"strings"

	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/intstr"
)

// Subsets returns the Endpoints subsets of svc given the pods its selector
// matches (the caller filters by namespace and selector). The result is
// sorted so that equal inputs give equal outputs.
func Subsets(svc *core.Service, pods []*core.Pod) []core.EndpointSubset {
	publish := svc.Spec.PublishNotReadyAddresses
	// ports[port] is the set of addresses serving it, with readiness.
	ports := map[portKey]map[string]entry{}
	var portless []entry // for a headless Service without ports
	for _, pod := range pods {
		if !inEndpoints(pod, publish) {
			continue
		}
		e := entry{addr: address(svc, pod), ready: publish || podReady(pod)}
		if len(svc.Spec.Ports) == 0 {
			portless = append(portless, e)
			continue
		}
		for _, sp := range svc.Spec.Ports {
			num, ok := findPort(pod, sp)
			if !ok {
				continue // this pod does not serve this port (as Kubernetes: skipped)
			}
			k := portKey{name: sp.Name, port: num, protocol: sp.Protocol}
			if sp.AppProtocol != nil {
				k.appProtocol = *sp.AppProtocol
			}
			if ports[k] == nil {
				ports[k] = map[string]entry{}
			}
			ports[k][e.addr.IP+"/"+pod.UID] = e // hostNetwork pods may share an IP
		}
	}
	if len(svc.Spec.Ports) == 0 {
		if len(portless) == 0 {
			return nil
		}
		return []core.EndpointSubset{subset(portless, nil)}
	}
	return repack(ports)
}

// portKey is an EndpointPort as a comparable value.
type portKey struct {
	name        string
	port        int32
	protocol    string
	appProtocol string
}

func (k portKey) endpointPort() core.EndpointPort {
	p := core.EndpointPort{Name: k.name, Port: k.port, Protocol: k.protocol}
	if k.appProtocol != "" {
		ap := k.appProtocol
		p.AppProtocol = &ap
	}
	return p
}

type entry struct {
	addr  core.EndpointAddress
	ready bool
}

// repack groups ports served by exactly the same addresses into one
// subset, as Kubernetes' RepackSubsets does.
func repack(ports map[portKey]map[string]entry) []core.EndpointSubset {
	type group struct {
		entries []entry
		ports   []core.EndpointPort
	}
	groups := map[string]*group{}
	for k, addrs := range ports {
		entries := make([]entry, 0, len(addrs))
		for _, e := range addrs {
			entries = append(entries, e)
		}
		slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.addr.IP, b.addr.IP) })
		var id strings.Builder
		for _, e := range entries {
			fmt.Fprintf(&id, "%s/%v,", e.addr.IP, e.ready)
		}
		g := groups[id.String()]
		if g == nil {
			g = &group{entries: entries}
			groups[id.String()] = g
		}
		g.ports = append(g.ports, k.endpointPort())
	}
	if len(groups) == 0 {
		return nil
	}
	out := make([]core.EndpointSubset, 0, len(groups))
	for _, g := range groups {
		slices.SortFunc(g.ports, func(a, b core.EndpointPort) int {
			if c := strings.Compare(a.Name, b.Name); c != 0 {
				return c
			}
			if c := strings.Compare(a.Protocol, b.Protocol); c != 0 {
				return c
			}
			return int(a.Port - b.Port)
		})
		out = append(out, subset(g.entries, g.ports))
	}
	slices.SortFunc(out, func(a, b core.EndpointSubset) int {
		return strings.Compare(subsetID(a), subsetID(b))
	})
	return out
}

func subsetID(s core.EndpointSubset) string {
	var b strings.Builder
	for _, p := range s.Ports {
		fmt.Fprintf(&b, "%s/%s/%d,", p.Name, p.Protocol, p.Port)
	}
	for _, a := range append(slices.Clone(s.Addresses), s.NotReadyAddresses...) {
		b.WriteString(a.IP + ",")
	}
	return b.String()
}

// subset splits entries (sorted by IP) into ready and not-ready addresses.
func subset(entries []entry, ports []core.EndpointPort) core.EndpointSubset {
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.addr.IP, b.addr.IP) })
	s := core.EndpointSubset{Ports: ports}
	for _, e := range entries {
		if e.ready {
			s.Addresses = append(s.Addresses, e.addr)
		} else {
			s.NotReadyAddresses = append(s.NotReadyAddresses, e.addr)
		}
	}
	return s
}

// inEndpoints is Kubernetes' ShouldPodBeInEndpoints: the pod has an IP,
// is not terminating (unless not-ready addresses are published), and
// will not run again.
func inEndpoints(pod *core.Pod, includeTerminating bool) bool {
	if pod.Status.PodIP == "" {
		return false
	}
	if pod.DeletionTimestamp != nil && !includeTerminating {
		return false
	}
	switch pod.Spec.RestartPolicy {
	case core.RestartPolicyNever:
		return pod.Status.Phase != core.PodFailed && pod.Status.Phase != core.PodSucceeded
	case core.RestartPolicyOnFailure:
		return pod.Status.Phase != core.PodSucceeded
	}
	return true
}

func podReady(pod *core.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == core.PodReady {
			return c.Status == core.ConditionTrue
		}
	}
	return false
}

// address is the pod as an endpoint. A pod whose spec.subdomain names
// this Service gets its hostname listed, for DNS records
// <hostname>.<service>.<namespace>.svc (StatefulSet pods).
func address(svc *core.Service, pod *core.Pod) core.EndpointAddress {
	a := core.EndpointAddress{
		IP: pod.Status.PodIP,
		TargetRef: &core.ObjectReference{Kind: "Pod", Namespace: pod.Namespace, Name: pod.Name,
			UID: pod.UID},
	}
	if pod.Spec.NodeName != "" {
		node := pod.Spec.NodeName
		a.NodeName = &node
	}
	if pod.Spec.Hostname != "" && pod.Spec.Subdomain == svc.Name {
		a.Hostname = pod.Spec.Hostname
	}
	return a
}

// findPort resolves a Service port's targetPort on pod: a number is
// itself; a name is looked up among the pod's container ports of the same
// protocol.
func findPort(pod *core.Pod, sp core.ServicePort) (int32, bool) {
	tp := sp.TargetPort
	if tp.Type == intstr.Int {
		if tp.IntVal == 0 {
			return sp.Port, true
		}
		return tp.IntVal, true
	}
	for _, c := range pod.Spec.Containers {
		for _, p := range c.Ports {
			proto := p.Protocol
			if proto == "" {
				proto = core.ProtocolTCP
			}
			if p.Name == tp.StrVal && proto == sp.Protocol {
				return p.ContainerPort, true
			}
		}
	}
	return 0, false
}
