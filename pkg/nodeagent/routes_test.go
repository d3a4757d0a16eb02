package nodeagent

import (
	"reflect"
	"testing"

	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
)

func node(name, cidr, ip string) *core.Node {
	n := &core.Node{ObjectMeta: meta.ObjectMeta{Name: name}}
	n.Spec.PodCIDR = cidr
	if ip != "" {
		n.Status.Addresses = []core.NodeAddress{{Type: core.NodeHostName, Address: name}, {Type: core.NodeInternalIP, Address: ip}}
	}
	return n
}

func TestWantedRoutesReachEveryOtherNodesPodCIDR(t *testing.T) {
	tests := []struct {
		name  string
		nodes []*core.Node
		want  []route
	}{
		{"alone", []*core.Node{node("a", "10.244.1.0/24", "172.30.1.11")}, nil},
		{"three nodes", []*core.Node{
			node("c", "10.244.3.0/24", "172.30.1.13"),
			node("a", "10.244.1.0/24", "172.30.1.11"),
			node("b", "10.244.2.0/24", "172.30.1.12"),
		}, []route{{"10.244.2.0/24", "172.30.1.12"}, {"10.244.3.0/24", "172.30.1.13"}}},
		{"no podCIDR or address yet", []*core.Node{
			node("a", "10.244.1.0/24", "172.30.1.11"), node("b", "", "172.30.1.12"), node("c", "10.244.3.0/24", ""),
		}, nil},
		{"loopback address (single-machine tests)", []*core.Node{
			node("a", "10.244.1.0/24", "127.0.0.1"), node("b", "10.244.2.0/24", "127.0.0.1"),
		}, nil},
		{"non-canonical CIDR", []*core.Node{
			node("a", "10.244.1.0/24", "172.30.1.11"), node("b", "10.244.2.7/24", "172.30.1.12"),
		}, []route{{"10.244.2.0/24", "172.30.1.12"}}},
		{"another node claims our podCIDR", []*core.Node{
			node("a", "10.244.1.0/24", "172.30.1.11"), node("b", "10.244.1.0/24", "172.30.1.12"),
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := wantedRoutes("a", tt.nodes); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v; want %v", got, tt.want)
			}
		})
	}
}

func TestPlanRoutesChangesOnlyTheDifference(t *testing.T) {
	r1, r2, r3 := route{"10.244.1.0/24", "172.30.1.11"}, route{"10.244.2.0/24", "172.30.1.12"}, route{"10.244.3.0/24", "172.30.1.13"}
	moved := route{"10.244.2.0/24", "172.30.1.99"}
	tests := []struct {
		name                 string
		have, want           []route
		wantReplace, wantDel []route
	}{
		{"in sync", []route{r1, r2}, []route{r1, r2}, nil, nil},
		{"node joined", []route{r1}, []route{r1, r2}, []route{r2}, nil},
		{"node left", []route{r1, r2, r3}, []route{r1, r3}, nil, []route{r2}},
		{"node changed address", []route{r1, r2}, []route{r1, moved}, []route{moved}, nil},
		{"from nothing", nil, []route{r1, r3}, []route{r1, r3}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, del := planRoutes(tt.have, tt.want)
			if !reflect.DeepEqual(rep, tt.wantReplace) || !reflect.DeepEqual(del, tt.wantDel) {
				t.Errorf("got replace %v, delete %v; want %v, %v", rep, del, tt.wantReplace, tt.wantDel)
			}
		})
	}
}

func TestParseRoutesReadsIPRouteOutput(t *testing.T) {
	out := []byte("10.244.2.0/24 via 172.30.1.12 dev eth0 \n10.244.3.0/24 via 172.30.1.13 dev eth0 onlink\n10.9.9.9 via 172.30.1.14 dev eth0\nblackhole 10.1.0.0/16\n")
	want := []route{{"10.244.2.0/24", "172.30.1.12"}, {"10.244.3.0/24", "172.30.1.13"}, {"10.9.9.9/32", "172.30.1.14"}}
	if got := parseRoutes(out); !reflect.DeepEqual(got, want) {
		t.Errorf("got %v; want %v", got, want)
	}
}
