package endpoints

import (
	"strconv"
	"testing"

	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/intstr"
	"minik8s/pkg/apis/meta"
)

type podOpt func(*core.Pod)

func pod(name, ip string, opts ...podOpt) *core.Pod {
	p := &core.Pod{
		ObjectMeta: meta.ObjectMeta{Name: name, Namespace: "default", UID: "uid-" + name},
		Spec: core.PodSpec{NodeName: "n1", RestartPolicy: core.RestartPolicyAlways,
			Containers: []core.Container{{Name: "c", Ports: []core.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: "TCP"}}}}},
		Status: core.PodStatus{Phase: core.PodRunning, PodIP: ip,
			Conditions: []core.PodCondition{{Type: core.PodReady, Status: core.ConditionTrue}}},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func notReady(p *core.Pod)    { p.Status.Conditions[0].Status = core.ConditionFalse }
func terminating(p *core.Pod) { now := meta.Now(); p.DeletionTimestamp = &now }
func httpOn(port int32) podOpt {
	return func(p *core.Pod) { p.Spec.Containers[0].Ports[0].ContainerPort = port }
}

func svc(ports ...core.ServicePort) *core.Service {
	return &core.Service{ObjectMeta: meta.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: core.ServiceSpec{Selector: map[string]string{"app": "web"}, Ports: ports}}
}

func port(name string, p int32, target intstr.IntOrString) core.ServicePort {
	return core.ServicePort{Name: name, Port: p, Protocol: "TCP", TargetPort: target}
}

// short renders subsets compactly: "[ips | notready ips : name/port ...]".
func short(subsets []core.EndpointSubset) string {
	out := ""
	for _, s := range subsets {
		out += "["
		for _, a := range s.Addresses {
			out += a.IP + " "
		}
		out += "|"
		for _, a := range s.NotReadyAddresses {
			out += " " + a.IP
		}
		out += " :"
		for _, p := range s.Ports {
			out += " " + p.Name + "/" + strconv.Itoa(int(p.Port))
		}
		out += "]"
	}
	return out
}

func TestSubsets(t *testing.T) {
	named := port("http", 80, intstr.FromString("http"))
	for _, tc := range []struct {
		name string
		svc  *core.Service
		pods []*core.Pod
		want string
	}{
		{"numbered target port", svc(port("", 80, intstr.FromInt(9376))),
			[]*core.Pod{pod("b", "10.1.0.2"), pod("a", "10.1.0.1")},
			"[10.1.0.1 10.1.0.2 | : /9376]"},
		{"not ready pods are listed apart", svc(port("", 80, intstr.FromInt(9376))),
			[]*core.Pod{pod("a", "10.1.0.1"), pod("b", "10.1.0.2", notReady)},
			"[10.1.0.1 | 10.1.0.2 : /9376]"},
		{"publishNotReadyAddresses lists every pod as ready", func() *core.Service {
			s := svc(port("", 80, intstr.FromInt(9376)))
			s.Spec.PublishNotReadyAddresses = true
			return s
		}(), []*core.Pod{pod("a", "10.1.0.1"), pod("b", "10.1.0.2", notReady)},
			"[10.1.0.1 10.1.0.2 | : /9376]"},
		{"terminating and IP-less pods are left out", svc(port("", 80, intstr.FromInt(9376))),
			[]*core.Pod{pod("a", "10.1.0.1"), pod("b", "10.1.0.2", terminating), pod("c", "")},
			"[10.1.0.1 | : /9376]"},
		{"finished pods that will not restart are left out", svc(port("", 80, intstr.FromInt(9376))),
			[]*core.Pod{pod("a", "10.1.0.1"), pod("b", "10.1.0.2", func(p *core.Pod) {
				p.Spec.RestartPolicy, p.Status.Phase = core.RestartPolicyNever, core.PodSucceeded
			})},
			"[10.1.0.1 | : /9376]"},
		{"named port resolved per pod", svc(named),
			[]*core.Pod{pod("a", "10.1.0.1"), pod("b", "10.1.0.2", httpOn(9090)), pod("c", "10.1.0.3")},
			"[10.1.0.1 10.1.0.3 | : http/8080][10.1.0.2 | : http/9090]"},
		{"a pod without the named port serves only the other ports",
			svc(named, port("metrics", 9100, intstr.FromInt(9100))),
			[]*core.Pod{pod("a", "10.1.0.1"), pod("b", "10.1.0.2", func(p *core.Pod) { p.Spec.Containers[0].Ports = nil })},
			"[10.1.0.1 | : http/8080][10.1.0.1 10.1.0.2 | : metrics/9100]"},
		{"no pods, no subsets", svc(named), nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := short(Subsets(tc.svc, tc.pods)); got != tc.want {
				t.Errorf("got %s; want %s", got, tc.want)
			}
		})
	}
}

func TestAddressDetails(t *testing.T) {
	s := svc(port("", 80, intstr.FromInt(80)))
	p := pod("web-0", "10.1.0.1", func(p *core.Pod) { p.Spec.Hostname, p.Spec.Subdomain = "web-0", "web" })
	other := pod("x", "10.1.0.2", func(p *core.Pod) { p.Spec.Hostname, p.Spec.Subdomain = "x", "elsewhere" })
	got := Subsets(s, []*core.Pod{p, other})[0].Addresses
	a := got[0]
	if a.Hostname != "web-0" || a.NodeName == nil || *a.NodeName != "n1" || a.TargetRef == nil ||
		a.TargetRef.Kind != "Pod" || a.TargetRef.Name != "web-0" || a.TargetRef.UID != "uid-web-0" {
		t.Errorf("address: got %+v; want hostname web-0, nodeName n1, targetRef Pod web-0", a)
	}
	if got[1].Hostname != "" {
		t.Errorf("pod of another subdomain: got hostname %q; want none", got[1].Hostname)
	}
}
