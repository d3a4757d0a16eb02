package proxy

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/intstr"
	"minik8s/pkg/apis/meta"
)

func svc(ns, name, ip string, ports ...core.ServicePort) *core.Service {
	return &core.Service{ObjectMeta: meta.ObjectMeta{Namespace: ns, Name: name},
		Spec: core.ServiceSpec{Type: core.ServiceTypeClusterIP, ClusterIP: ip, Ports: ports}}
}

func sport(name string, port, nodePort int32) core.ServicePort {
	return core.ServicePort{Name: name, Protocol: "TCP", Port: port, NodePort: nodePort, TargetPort: intstr.FromInt(int(port))}
}

func eps(ns, name, portName string, port int32, ips ...string) *core.Endpoints {
	e := &core.Endpoints{ObjectMeta: meta.ObjectMeta{Namespace: ns, Name: name}}
	sub := core.EndpointSubset{Ports: []core.EndpointPort{{Name: portName, Port: port, Protocol: "TCP"}}}
	for _, ip := range ips {
		sub.Addresses = append(sub.Addresses, core.EndpointAddress{IP: ip})
	}
	e.Subsets = []core.EndpointSubset{sub}
	return e
}

// TestRulesKubeProxyShape checks the whole table for one Service port with
// three endpoints against kube-proxy's layout, chain names included
// (KUBE-SVC-XPGD46QRK7WJZT7O is ns1/svc1:p80 in kube-proxy's own tests).
func TestRulesKubeProxyShape(t *testing.T) {
	got := Rules(
		[]*core.Service{svc("ns1", "svc1", "172.30.0.41", sport("p80", 80, 0))},
		[]*core.Endpoints{eps("ns1", "svc1", "p80", 80, "10.180.0.3", "10.180.0.1", "10.180.0.2")},
		RulesConfig{ClusterCIDR: "10.0.0.0/8"})
	sep1 := "KUBE-SEP-SXIVWICOYRO3J4NJ" // ns1/svc1:p80 -> 10.180.0.1:80, as kube-proxy names it
	sep2 := (servicePort{name: "ns1/svc1:p80", protocol: "tcp"}).sepChain(endpoint{"10.180.0.2", 80})
	sep3 := (servicePort{name: "ns1/svc1:p80", protocol: "tcp"}).sepChain(endpoint{"10.180.0.3", 80})
	want := Chains{
		"KUBE-SERVICES": `-A KUBE-SERVICES -d 172.30.0.41/32 -p tcp -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O
-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
`,
		"KUBE-NODEPORTS": "",
		"KUBE-SVC-XPGD46QRK7WJZT7O": `-A KUBE-SVC-XPGD46QRK7WJZT7O ! -s 10.0.0.0/8 -d 172.30.0.41/32 -p tcp -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ
-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" -m statistic --mode random --probability 0.3333333333 -j ` + sep1 + `
-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.180.0.2:80" -m statistic --mode random --probability 0.5000000000 -j ` + sep2 + `
-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.180.0.3:80" -j ` + sep3 + `
`,
		sep1: `-A ` + sep1 + ` -s 10.180.0.1/32 -m comment --comment "ns1/svc1:p80" -j KUBE-MARK-MASQ
-A ` + sep1 + ` -p tcp -m comment --comment "ns1/svc1:p80" -m tcp -j DNAT --to-destination 10.180.0.1:80
`,
		"KUBE-MARK-MASQ": "-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000\n",
		"KUBE-POSTROUTING": `-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
`,
	}
	for chain, rules := range want {
		if got[chain] != rules {
			t.Errorf("chain %s:\ngot\n%s\nwant\n%s", chain, got[chain], rules)
		}
	}
	if _, ok := got[sep2]; !ok || len(got) != 8 {
		t.Errorf("chains: got %v; want the 4 fixed ones, 1 KUBE-SVC and 3 KUBE-SEP", keys(got))
	}
}

func keys(c Chains) []string {
	var out []string
	for k := range c {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestRulesCases(t *testing.T) {
	local := core.TrafficPolicyLocal
	node := func(n string) *string { return &n }
	for _, tc := range []struct {
		name      string
		svc       *core.Service
		eps       *core.Endpoints
		contains  []string // lines some chain must have
		absent    []string // substrings no chain may have
		numChains int
	}{
		{name: "no endpoints: no rules at all",
			svc: svc("d", "web", "10.96.0.10", sport("", 80, 30080)), eps: nil,
			absent: []string{"KUBE-SVC-", "KUBE-EXT-", "--dport 30080"}, numChains: 4},
		{name: "node port: through KUBE-EXT with a masquerade mark",
			svc: func() *core.Service {
				s := svc("d", "web", "10.96.0.10", sport("", 80, 30080))
				s.Spec.Type = core.ServiceTypeNodePort
				return s
			}(), eps: eps("d", "web", "", 8080, "10.1.0.1"),
			contains: []string{
				`-A KUBE-NODEPORTS -p tcp -m comment --comment "d/web" -m tcp --dport 30080 -j KUBE-EXT-`,
				`-m comment --comment "masquerade traffic for d/web external destinations" -j KUBE-MARK-MASQ`,
				`-m comment --comment "d/web" -m tcp -j DNAT --to-destination 10.1.0.1:8080`,
			}, numChains: 7},
		{name: "one endpoint: no statistic match",
			svc: svc("d", "web", "10.96.0.10", sport("", 80, 0)), eps: eps("d", "web", "", 8080, "10.1.0.1"),
			absent: []string{"statistic", "! -s"}, numChains: 6},
		{name: "endpoints of another port name are not used",
			svc: svc("d", "web", "10.96.0.10", sport("http", 80, 0)), eps: eps("d", "web", "metrics", 9100, "10.1.0.1"),
			absent: []string{"KUBE-SVC-"}, numChains: 4},
		{name: "headless: nothing to catch",
			svc: svc("d", "web", "None", sport("", 80, 0)), eps: eps("d", "web", "", 8080, "10.1.0.1"),
			absent: []string{"KUBE-SVC-"}, numChains: 4},
		{name: "client IP affinity: xt_recent per endpoint",
			svc: func() *core.Service {
				s := svc("d", "web", "10.96.0.10", sport("", 80, 0))
				s.Spec.SessionAffinity = core.ServiceAffinityClientIP
				return s
			}(), eps: eps("d", "web", "", 8080, "10.1.0.1"),
			contains: []string{"--mask 255.255.255.255 --rcheck --seconds 10800 --reap -j KUBE-SEP-", " --set -m tcp -j DNAT"}, numChains: 6},
		{name: "internalTrafficPolicy Local: only this node's endpoints",
			svc: func() *core.Service {
				s := svc("d", "web", "10.96.0.10", sport("", 80, 0))
				s.Spec.InternalTrafficPolicy = &local
				return s
			}(), eps: func() *core.Endpoints {
				e := eps("d", "web", "", 8080, "10.1.0.1", "10.2.0.1")
				e.Subsets[0].Addresses[0].NodeName = node("n1")
				e.Subsets[0].Addresses[1].NodeName = node("n2")
				return e
			}(),
			contains: []string{"--to-destination 10.1.0.1:8080"}, absent: []string{"10.2.0.1"}, numChains: 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var e []*core.Endpoints
			if tc.eps != nil {
				e = append(e, tc.eps)
			}
			got := Rules([]*core.Service{tc.svc}, e, RulesConfig{NodeName: "n1"})
			all := ""
			for _, c := range keys(got) {
				all += got[c]
			}
			for _, s := range tc.contains {
				if !strings.Contains(all, s) {
					t.Errorf("rules lack %q:\n%s", s, all)
				}
			}
			for _, s := range tc.absent {
				if strings.Contains(all, s) {
					t.Errorf("rules have %q:\n%s", s, all)
				}
			}
			if len(got) != tc.numChains {
				t.Errorf("got %d chains %v; want %d", len(got), keys(got), tc.numChains)
			}
		})
	}
}

// TestRestoreInputWritesOnlyChanges: the restore input declares (and so
// flushes) only changed and new chains, deletes vanished ones after
// flushing them, and is nil when nothing changed.
func TestRestoreInputWritesOnlyChanges(t *testing.T) {
	written := Chains{"KUBE-SERVICES": "-A KUBE-SERVICES a\n", "KUBE-SVC-A": "-A KUBE-SVC-A x\n", "KUBE-SEP-1": "-A KUBE-SEP-1 y\n"}
	if data, _, _ := restoreInput(written, written, nil); data != nil {
		t.Errorf("unchanged: got %q; want nothing", data)
	}
	want := Chains{"KUBE-SERVICES": "-A KUBE-SERVICES a\n", "KUBE-SVC-A": "-A KUBE-SVC-A z\n", "KUBE-SEP-2": "-A KUBE-SEP-2 w\n"}
	data, nw, nd := restoreInput(written, want, []string{"KUBE-SEP-OLD", "KUBE-SERVICES"})
	wantData := "*nat\n:KUBE-SEP-2 - [0:0]\n:KUBE-SVC-A - [0:0]\n:KUBE-SEP-1 - [0:0]\n:KUBE-SEP-OLD - [0:0]\n" +
		"-A KUBE-SEP-2 w\n-A KUBE-SVC-A z\n-X KUBE-SEP-1\n-X KUBE-SEP-OLD\nCOMMIT\n"
	if string(data) != wantData || nw != 2 || nd != 2 {
		t.Errorf("got (%d written, %d deleted)\n%s\nwant (2, 2)\n%s", nw, nd, data, wantData)
	}
	if data, nw, _ := restoreInput(nil, want, nil); nw != 3 || !bytes.Contains(data, []byte(":KUBE-SERVICES - [0:0]")) {
		t.Errorf("first sync: got %d chains written; want all 3:\n%s", nw, data)
	}
}

func udpPort(name, ip string, nodePort int32, ips ...string) servicePort {
	sp := servicePort{name: name, protocol: "udp", clusterIP: ip, port: 53, nodePort: nodePort}
	for _, i := range ips {
		sp.endpoints = append(sp.endpoints, endpoint{i, 53})
	}
	return sp
}

func TestStaleFlows(t *testing.T) {
	for _, tc := range []struct {
		name       string
		prev, next []servicePort
		want       []string
	}{
		{"endpoint gone", []servicePort{udpPort("d/dns", "10.96.0.10", 0, "10.1.0.1", "10.1.0.2")},
			[]servicePort{udpPort("d/dns", "10.96.0.10", 0, "10.1.0.2")},
			[]string{"-D -p udp --orig-dst 10.96.0.10 --dst-nat 10.1.0.1"}},
		{"node port endpoint gone", []servicePort{udpPort("d/dns", "10.96.0.10", 30053, "10.1.0.1")},
			[]servicePort{udpPort("d/dns", "10.96.0.10", 30053)},
			[]string{"-D -p udp --orig-dst 10.96.0.10 --dst-nat 10.1.0.1", "-D -p udp --dport 30053 --dst-nat 10.1.0.1"}},
		{"first endpoint: flows that went nowhere", []servicePort{udpPort("d/dns", "10.96.0.10", 0)},
			[]servicePort{udpPort("d/dns", "10.96.0.10", 0, "10.1.0.1")},
			[]string{"-D -p udp --orig-dst 10.96.0.10"}},
		{"service gone", []servicePort{udpPort("d/dns", "10.96.0.10", 0, "10.1.0.1")}, nil,
			[]string{"-D -p udp --orig-dst 10.96.0.10 --dst-nat 10.1.0.1"}},
		{"tcp needs nothing", []servicePort{{name: "d/web", protocol: "tcp", endpoints: []endpoint{{"10.1.0.1", 80}}}}, nil, nil},
		{"unchanged", []servicePort{udpPort("d/dns", "10.96.0.10", 0, "10.1.0.1")},
			[]servicePort{udpPort("d/dns", "10.96.0.10", 0, "10.1.0.1")}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, args := range staleFlows(tc.prev, tc.next) {
				got = append(got, strings.Join(args, " "))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %q; want %q", got, tc.want)
			}
		})
	}
}

// fakeDataplane records restores, for the syncer's tests.
type fakeDataplane struct {
	restores []string
	existing []string
	jumps    int
}

func (f *fakeDataplane) restore(_ context.Context, data []byte) error {
	f.restores = append(f.restores, string(data))
	return nil
}
func (f *fakeDataplane) ensureJumps(context.Context) error        { f.jumps++; return nil }
func (f *fakeDataplane) chains(context.Context) ([]string, error) { return f.existing, nil }

// TestSyncerSkipsUnchangedState: a second sync of the same state writes
// nothing; a changed endpoint rewrites only its service's chains.
func TestSyncerSkipsUnchangedState(t *testing.T) {
	dp := &fakeDataplane{existing: []string{"PREROUTING", "KUBE-SVC-LEFTOVER"}}
	s := &syncer{dp: dp}
	svcs := []*core.Service{svc("d", "a", "10.96.0.10", sport("", 80, 0)), svc("d", "b", "10.96.0.11", sport("", 80, 0))}
	e := []*core.Endpoints{eps("d", "a", "", 80, "10.1.0.1"), eps("d", "b", "", 80, "10.1.0.2")}
	ctx := context.Background()
	if res, err := s.sync(ctx, svcs, e); err != nil || !res.full || res.chainsDeleted != 1 || dp.jumps != 1 {
		t.Fatalf("first sync: got %+v, %v, %d jump syncs; want a full sync deleting the leftover, jumps ensured", res, err, dp.jumps)
	}
	if _, err := s.sync(ctx, svcs, e); err != nil || len(dp.restores) != 1 {
		t.Fatalf("same state again: got %d restores, %v; want still 1", len(dp.restores), err)
	}
	e[1] = eps("d", "b", "", 80, "10.1.0.3")
	res, err := s.sync(ctx, svcs, e)
	if err != nil || res.chainsWritten != 2 || res.chainsDeleted != 1 || res.full {
		t.Fatalf("endpoint change: got %+v, %v; want b's KUBE-SVC and new KUBE-SEP written, old KUBE-SEP deleted", res, err)
	}
	if last := dp.restores[len(dp.restores)-1]; strings.Contains(last, "10.1.0.1") || strings.Contains(last, ":KUBE-SERVICES") {
		t.Errorf("endpoint change rewrote more than service b:\n%s", last)
	}
}
