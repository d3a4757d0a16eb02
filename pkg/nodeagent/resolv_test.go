package nodeagent

import (
	"testing"

	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
)

func TestResolvConfFollowsDNSPolicy(t *testing.T) {
	host := []byte("# generated\nnameserver 192.0.2.53\nsearch example.org\noptions edns0\n")
	five := "5"
	pod := func(policy string, cfg *core.PodDNSConfig) *core.Pod {
		return &core.Pod{ObjectMeta: meta.ObjectMeta{Name: "p", Namespace: "web"},
			Spec: core.PodSpec{DNSPolicy: policy, DNSConfig: cfg}}
	}
	tests := []struct {
		name       string
		pod        *core.Pod
		clusterDNS string
		want       string
	}{
		{"ClusterFirst uses the cluster DNS and search list", pod(core.DNSClusterFirst, nil), "172.30.1.11",
			"nameserver 172.30.1.11\nsearch web.svc.cluster.local svc.cluster.local cluster.local example.org\noptions edns0 ndots:5\n"},
		{"ClusterFirst without a cluster DNS is Default", pod(core.DNSClusterFirst, nil), "",
			"nameserver 192.0.2.53\nsearch example.org\noptions edns0\n"},
		{"Default is the node's", pod(core.DNSDefault, nil), "172.30.1.11",
			"nameserver 192.0.2.53\nsearch example.org\noptions edns0\n"},
		{"None is only dnsConfig", pod(core.DNSNone, &core.PodDNSConfig{Nameservers: []string{"1.2.3.4"}, Searches: []string{"x.test"}}), "172.30.1.11",
			"nameserver 1.2.3.4\nsearch x.test\n"},
		{"dnsConfig is merged in", pod(core.DNSClusterFirst, &core.PodDNSConfig{Nameservers: []string{"1.2.3.4"},
			Options: []core.PodDNSConfigOption{{Name: "ndots", Value: &five}}}), "172.30.1.11",
			"nameserver 172.30.1.11\nnameserver 1.2.3.4\nsearch web.svc.cluster.local svc.cluster.local cluster.local example.org\noptions edns0 ndots:5\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(resolvConf(tt.pod, host, tt.clusterDNS, "cluster.local")); got != tt.want {
				t.Errorf("got\n%s; want\n%s", got, tt.want)
			}
		})
	}
}
