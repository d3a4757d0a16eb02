package printers

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"minik8s/pkg/apis/core"
)

var servicePrinter = &Printer{
	Columns: []Column{
		nameColumn,
		{Name: "Type", Type: "string", Description: "Type determines how the Service is exposed."},
		{Name: "Cluster-IP", Type: "string", Description: "ClusterIP is the IP address of the service."},
		{Name: "External-IP", Type: "string", Description: "ExternalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service."},
		{Name: "Port(s)", Type: "string", Description: "The list of ports that are exposed by this service."},
		ageColumn,
		{Name: "Selector", Type: "string", Priority: 1, Description: "Route service traffic to pods with label keys and values matching this selector."},
	},
	Row: rowOf(func(svc *core.Service, now time.Time) []any {
		return []any{
			svc.Name,
			svc.Spec.Type,
			clusterIP(svc),
			externalIP(svc),
			orNone(servicePorts(svc.Spec.Ports)),
			age(&svc.ObjectMeta, now),
			formatLabels(svc.Spec.Selector),
		}
	}),
}

// clusterIP is the service's primary cluster IP ("None" when headless),
// or "<none>" (an ExternalName service).
func clusterIP(svc *core.Service) string {
	if len(svc.Spec.ClusterIPs) > 0 {
		return svc.Spec.ClusterIPs[0]
	}
	return orNone(svc.Spec.ClusterIP)
}

// externalIP is what EXTERNAL-IP shows for each service type. A
// LoadBalancer lists its ingress points, sorted and unique, then its
// external IPs; "<pending>" until it has any.
func externalIP(svc *core.Service) string {
	switch svc.Spec.Type {
	case core.ServiceTypeClusterIP, core.ServiceTypeNodePort:
		if len(svc.Spec.ExternalIPs) > 0 {
			return strings.Join(svc.Spec.ExternalIPs, ",")
		}
		return none
	case core.ServiceTypeLoadBalancer:
		ips := append(loadBalancerIPs(svc.Status.LoadBalancer), svc.Spec.ExternalIPs...)
		if len(ips) == 0 {
			return "<pending>"
		}
		return strings.Join(ips, ",")
	case core.ServiceTypeExternalName:
		return svc.Spec.ExternalName
	}
	return unknown
}

// loadBalancerIPs lists each ingress point's IP, or hostname without
// one, sorted and without duplicates. (kubectl clips the list to 16
// characters without -o wide; the API server always prints wide.)
func loadBalancerIPs(lb core.LoadBalancerStatus) []string {
	var ips []string
	for _, in := range lb.Ingress {
		switch {
		case in.IP != "":
			ips = append(ips, in.IP)
		case in.Hostname != "":
			ips = append(ips, in.Hostname)
		}
	}
	slices.Sort(ips)
	return slices.Compact(ips)
}

// servicePorts renders "80/TCP,443:30443/TCP": port, node port if any,
// protocol.
func servicePorts(ports []core.ServicePort) string {
	parts := make([]string, len(ports))
	for i, p := range ports {
		if p.NodePort > 0 {
			parts[i] = fmt.Sprintf("%d:%d/%s", p.Port, p.NodePort, p.Protocol)
		} else {
			parts[i] = fmt.Sprintf("%d/%s", p.Port, p.Protocol)
		}
	}
	return strings.Join(parts, ",")
}

var endpointsPrinter = &Printer{
	Columns: []Column{
		nameColumn,
		{Name: "Endpoints", Type: "string", Description: "The set of all endpoints is the union of all subsets."},
		ageColumn,
	},
	Row: rowOf(func(ep *core.Endpoints, now time.Time) []any {
		return []any{ep.Name, formatEndpoints(ep), age(&ep.ObjectMeta, now)}
	}),
}

// maxEndpoints is how many addresses the ENDPOINTS column lists before
// "+ N more...".
const maxEndpoints = 3

// formatEndpoints lists ready addresses as "ip:port" for each port of
// each subset ("ip" alone for a subset without ports), at most three,
// then " + N more...". "<none>" without subsets.
func formatEndpoints(ep *core.Endpoints) string {
	if len(ep.Subsets) == 0 {
		return none
	}
	var list []string
	count := 0
	add := func(s string) {
		count++
		if len(list) < maxEndpoints {
			list = append(list, s)
		}
	}
	for _, ss := range ep.Subsets {
		if len(ss.Ports) == 0 {
			// A headless service may have no ports.
			for _, a := range ss.Addresses {
				add(a.IP)
			}
			continue
		}
		for _, p := range ss.Ports {
			for _, a := range ss.Addresses {
				add(net.JoinHostPort(a.IP, strconv.Itoa(int(p.Port))))
			}
		}
	}
	s := strings.Join(list, ",")
	if count > maxEndpoints {
		return fmt.Sprintf("%s + %d more...", s, count-maxEndpoints)
	}
	return s
}
