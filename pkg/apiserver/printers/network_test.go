package printers

import (
	"testing"
	"time"

	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
)

func TestServiceColumns(t *testing.T) {
	svc := func(typ string, mutate func(*core.Service)) *core.Service {
		s := &core.Service{
			ObjectMeta: meta.ObjectMeta{Name: "web", CreationTimestamp: ago(5 * time.Minute)},
			Spec: core.ServiceSpec{Type: typ, ClusterIP: "10.96.0.10", ClusterIPs: []string{"10.96.0.10"},
				Selector: map[string]string{"app": "web"},
				Ports:    []core.ServicePort{{Port: 80, Protocol: core.ProtocolTCP}}},
		}
		if mutate != nil {
			mutate(s)
		}
		return s
	}
	for _, tc := range []struct {
		name string
		svc  *core.Service
		want map[string]any
	}{
		{"cluster IP", svc(core.ServiceTypeClusterIP, nil), map[string]any{
			"Name": "web", "Type": "ClusterIP", "Cluster-IP": "10.96.0.10", "External-IP": "<none>",
			"Port(s)": "80/TCP", "Age": "5m", "Selector": "app=web"}},
		{"node port", svc(core.ServiceTypeNodePort, func(s *core.Service) {
			s.Spec.Ports = []core.ServicePort{{Port: 80, NodePort: 30080, Protocol: "TCP"}, {Port: 443, Protocol: "TCP"}}
			s.Spec.ExternalIPs = []string{"192.0.2.1", "192.0.2.2"}
		}), map[string]any{"Port(s)": "80:30080/TCP,443/TCP", "External-IP": "192.0.2.1,192.0.2.2"}},
		{"load balancer pending", svc(core.ServiceTypeLoadBalancer, nil),
			map[string]any{"External-IP": "<pending>"}},
		{"load balancer with ingress", svc(core.ServiceTypeLoadBalancer, func(s *core.Service) {
			s.Status.LoadBalancer.Ingress = []core.LoadBalancerIngress{{IP: "198.51.100.9"}, {Hostname: "lb.example.com"}, {IP: "198.51.100.2"}, {IP: "198.51.100.9"}}
			s.Spec.ExternalIPs = []string{"192.0.2.1"}
		}), map[string]any{"External-IP": "198.51.100.2,198.51.100.9,lb.example.com,192.0.2.1"}},
		{"external name", svc(core.ServiceTypeExternalName, func(s *core.Service) {
			s.Spec.ClusterIP, s.Spec.ClusterIPs, s.Spec.Ports = "", nil, nil
			s.Spec.ExternalName = "db.example.com"
			s.Spec.Selector = nil
		}), map[string]any{"Cluster-IP": "<none>", "External-IP": "db.example.com", "Port(s)": "<none>", "Selector": "<none>"}},
		{"headless", svc(core.ServiceTypeClusterIP, func(s *core.Service) {
			s.Spec.ClusterIP, s.Spec.ClusterIPs = core.ClusterIPNone, []string{core.ClusterIPNone}
		}), map[string]any{"Cluster-IP": "None"}},
		{"cluster IP without clusterIPs", svc(core.ServiceTypeClusterIP, func(s *core.Service) {
			s.Spec.ClusterIPs = nil
		}), map[string]any{"Cluster-IP": "10.96.0.10"}},
	} {
		checkCells(t, tc.name, row(t, "", "services", tc.svc), tc.want)
	}
}

func TestEndpointsListsAtMostThreeAddresses(t *testing.T) {
	addrs := func(ips ...string) []core.EndpointAddress {
		var as []core.EndpointAddress
		for _, ip := range ips {
			as = append(as, core.EndpointAddress{IP: ip})
		}
		return as
	}
	port80 := []core.EndpointPort{{Port: 80}}
	for _, tc := range []struct {
		name    string
		subsets []core.EndpointSubset
		want    string
	}{
		{"none", nil, "<none>"},
		{"two", []core.EndpointSubset{{Addresses: addrs("10.0.0.1", "10.0.0.2"), Ports: port80}},
			"10.0.0.1:80,10.0.0.2:80"},
		{"five", []core.EndpointSubset{{Addresses: addrs("10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"), Ports: port80}},
			"10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 2 more..."},
		{"each port", []core.EndpointSubset{{Addresses: addrs("10.0.0.1", "10.0.0.2"), Ports: []core.EndpointPort{{Port: 80}, {Port: 443}}}},
			"10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 1 more..."},
		{"headless without ports", []core.EndpointSubset{{Addresses: addrs("10.0.0.1")}}, "10.0.0.1"},
		{"IPv6", []core.EndpointSubset{{Addresses: addrs("fd00::1"), Ports: port80}}, "[fd00::1]:80"},
		{"only not-ready addresses", []core.EndpointSubset{{NotReadyAddresses: addrs("10.0.0.1"), Ports: port80}}, ""},
	} {
		ep := &core.Endpoints{ObjectMeta: meta.ObjectMeta{Name: "web"}, Subsets: tc.subsets}
		checkCells(t, tc.name, row(t, "", "endpoints", ep), map[string]any{"Name": "web", "Endpoints": tc.want})
	}
}
