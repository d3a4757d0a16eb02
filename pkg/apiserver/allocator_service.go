package apiserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"minik8s/pkg/apis"
	"minik8s/pkg/apis/apierrors"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/field"
	"minik8s/pkg/apis/intstr"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/store"
)

// serviceAllocator gives Services their cluster IPs and node ports.
type serviceAllocator struct {
	ipRange   ipRange
	portRange portRange
	ips       *allocator
	ports     *allocator
}

func newServiceAllocator(st store.Store, cidr, ports string) (*serviceAllocator, error) {
	if cidr == "" {
		cidr = DefaultServiceCIDR
	}
	if ports == "" {
		ports = DefaultNodePortRange
	}
	ir, err := parseIPRange(cidr)
	if err != nil {
		return nil, err
	}
	pr, err := parsePortRange(ports)
	if err != nil {
		return nil, err
	}
	return &serviceAllocator{
		ipRange: ir, portRange: pr,
		ips:   newAllocator(st, "serviceips", ir.dynamic()),
		ports: newAllocator(st, "nodeports", pr.all()),
	}, nil
}

// serviceHooks are the Service entry of kindHooks.
var serviceHooks = hooks{
	keepOnUpdate: func(old, next meta.Object) { keepAllocated(old.(*core.Service), next.(*core.Service)) },
	reserve: func(ctx context.Context, s *Server, old, obj meta.Object) (func(), error) {
		o, _ := old.(*core.Service)
		return s.services.reserve(ctx, o, obj.(*core.Service))
	},
	release: func(ctx context.Context, s *Server, old, obj meta.Object) {
		n, _ := obj.(*core.Service)
		s.services.release(ctx, old.(*core.Service), n)
	},
}

func holderOf(svc *core.Service) string { return svc.Namespace + "/" + svc.Name + "/" + svc.UID }

func needsClusterIP(svc *core.Service) bool {
	return svc != nil && svc.Spec.Type != core.ServiceTypeExternalName && svc.Spec.ClusterIP != core.ClusterIPNone
}

func needsNodePorts(svc *core.Service) bool {
	if svc == nil {
		return false
	}
	switch svc.Spec.Type {
	case core.ServiceTypeNodePort:
		return true
	case core.ServiceTypeLoadBalancer:
		return svc.Spec.AllocateLoadBalancerNodePorts == nil || *svc.Spec.AllocateLoadBalancerNodePorts
	}
	return false
}

// keepAllocated carries what the API server allocated into an update that
// leaves it out (kubectl apply and most PUTs send no clusterIP or nodePort),
// and drops it when the new type no longer uses it, as Kubernetes'
// patchAllocatedValues and dropTypeDependentFields do. Values the client
// set itself are left for validation and reserve to judge.
func keepAllocated(old, svc *core.Service) {
	sp, op := &svc.Spec, &old.Spec
	if needsClusterIP(old) && needsClusterIP(svc) && sp.ClusterIP == "" {
		sp.ClusterIP, sp.ClusterIPs = op.ClusterIP, append([]string(nil), op.ClusterIPs...)
	}
	if sp.Type == core.ServiceTypeExternalName && sp.ClusterIP == op.ClusterIP {
		sp.ClusterIP, sp.ClusterIPs = "", nil
	}
	if needsNodePorts(old) && needsNodePorts(svc) {
		used := map[int32]bool{}
		for _, p := range sp.Ports {
			used[p.NodePort] = true
		}
		byName := map[string]int32{}
		for _, p := range op.Ports {
			byName[p.Name] = p.NodePort
		}
		for i := range sp.Ports {
			p := &sp.Ports[i]
			if v := byName[p.Name]; p.NodePort == 0 && !used[v] {
				p.NodePort, used[v] = v, true
			}
		}
	}
	if !needsNodePorts(svc) {
		oldPorts := nodePortsOf(old)
		for i := range sp.Ports {
			if oldPorts[sp.Ports[i].NodePort] {
				sp.Ports[i].NodePort = 0
			}
		}
	}
}

func nodePortsOf(svc *core.Service) map[int32]bool {
	out := map[int32]bool{}
	if svc != nil {
		for _, p := range svc.Spec.Ports {
			if p.NodePort != 0 {
				out[p.NodePort] = true
			}
		}
	}
	return out
}

func clusterIPOf(svc *core.Service) string {
	if needsClusterIP(svc) {
		return svc.Spec.ClusterIP
	}
	return ""
}

// reserve allocates what svc needs and old (nil on create) does not hold:
// a cluster IP, given or picked, and node ports, given or picked. It
// fills the picked values into svc. undo gives back what reserve took; the
// caller calls it if svc is not written. A given value out of range or
// held by another Service is a 422 naming the field.
func (a *serviceAllocator) reserve(ctx context.Context, old, svc *core.Service) (undo func(), err error) {
	holder := holderOf(svc)
	var ips, ports []string
	giveBack := func() {
		ctx := context.WithoutCancel(ctx)
		for _, v := range ips {
			logRelease(a.ips.release(ctx, v, holder), v)
		}
		for _, v := range ports {
			logRelease(a.ports.release(ctx, v, holder), v)
		}
	}
	defer func() {
		if err != nil {
			giveBack()
		}
	}()
	invalid := func(e *field.Error) error {
		return apierrors.NewInvalid(apierrors.Resource{Kind: "Service", Name: svc.Name}, field.ErrorList{e})
	}
	sp := &svc.Spec
	if sp.ClusterIP == core.ClusterIPNone && len(sp.ClusterIPs) == 0 {
		sp.ClusterIPs = []string{core.ClusterIPNone}
	}
	if needsClusterIP(svc) {
		switch ip := sp.ClusterIP; {
		case ip == "":
			v, err := a.ips.allocate(ctx, holder)
			if err != nil {
				return nil, fmt.Errorf("failed to allocate a serviceIP: %w", err)
			}
			ips = append(ips, v)
			sp.ClusterIP, sp.ClusterIPs = v, []string{v}
		case ip != clusterIPOf(old):
			addr, perr := netip.ParseAddr(ip)
			if perr != nil || !a.ipRange.contains(addr) {
				return nil, invalid(field.Invalid(field.NewPath("spec", "clusterIP"), ip,
					"provided IP is not in the valid range. The range of valid IPs is "+a.ipRange.String()))
			}
			if err := a.ips.claim(ctx, ip, holder); err != nil {
				if errors.Is(err, errAllocated) {
					return nil, invalid(field.Invalid(field.NewPath("spec", "clusterIPs"), []string{ip},
						"failed to allocate IP "+ip+": provided IP is already allocated"))
				}
				return nil, err
			}
			ips = append(ips, ip)
		}
		if len(sp.ClusterIPs) == 0 {
			sp.ClusterIPs = []string{sp.ClusterIP}
		}
		if len(sp.IPFamilies) == 0 {
			sp.IPFamilies = []string{core.IPv4Protocol}
		}
		if sp.IPFamilyPolicy == nil {
			single := core.IPFamilyPolicySingleStack
			sp.IPFamilyPolicy = &single
		}
	}
	if !needsNodePorts(svc) {
		return giveBack, nil
	}
	held := nodePortsOf(old)
	for i := range sp.Ports {
		p := &sp.Ports[i]
		path := field.NewPath("spec", "ports").Index(i).Child("nodePort")
		switch {
		case p.NodePort == 0:
			v, err := a.ports.allocate(ctx, holder)
			if err != nil {
				return nil, fmt.Errorf("failed to allocate a nodePort: %w", err)
			}
			ports = append(ports, v)
			n, _ := strconv.Atoi(v)
			p.NodePort = int32(n)
		case held[p.NodePort]:
			// already ours (or a second protocol on the same port: one key
			// serves both, as in Kubernetes)
		case !a.portRange.contains(int(p.NodePort)):
			return nil, invalid(field.Invalid(path, p.NodePort,
				"provided port is not in the valid range. The range of valid ports is "+a.portRange.String()))
		default:
			v := strconv.Itoa(int(p.NodePort))
			if err := a.ports.claim(ctx, v, holder); err != nil {
				if errors.Is(err, errAllocated) {
					return nil, invalid(field.Invalid(path, p.NodePort, "provided port is already allocated"))
				}
				return nil, err
			}
			ports = append(ports, v)
		}
		held[p.NodePort] = true
	}
	return giveBack, nil
}

// release gives back what old holds and svc (nil after a delete) does not.
// Errors are logged: a value that stays held is a leak, never a double
// allocation.
func (a *serviceAllocator) release(ctx context.Context, old, svc *core.Service) {
	ctx = context.WithoutCancel(ctx)
	holder := holderOf(old)
	if ip := clusterIPOf(old); ip != "" && ip != clusterIPOf(svc) {
		logRelease(a.ips.release(ctx, ip, holder), ip)
	}
	keep := map[int32]bool{}
	if needsNodePorts(svc) {
		keep = nodePortsOf(svc)
	}
	for p := range nodePortsOf(old) {
		if !keep[p] {
			v := strconv.Itoa(int(p))
			logRelease(a.ports.release(ctx, v, holder), v)
		}
	}
}

func logRelease(err error, v string) {
	if err != nil {
		slog.Warn("could not release a service allocation; it stays held", "value", v, "err", err)
	}
}

// ---- the kubernetes Service ----

// ensureKubernetesService creates the "kubernetes" Service in default
// (cluster IP: the first host of the range, port 443 named https) if it
// is missing. A claim on that IP left by a crash between allocating and
// writing the Service is taken over.
func (s *Server) ensureKubernetesService(ctx context.Context) error {
	k, _ := apis.ByResource("", "services")
	if _, err := s.get(ctx, k, "default", "kubernetes"); err == nil || !errors.Is(err, apierrors.ErrNotFound) {
		return err
	}
	ip := s.services.ipRange.kubernetesIP().String()
	if h, err := s.services.ips.holder(ctx, ip); err != nil {
		return err
	} else if strings.HasPrefix(h, "default/kubernetes/") {
		if err := s.services.ips.release(ctx, ip, h); err != nil {
			return err
		}
	}
	svc := &core.Service{
		ObjectMeta: meta.ObjectMeta{Name: "kubernetes", Namespace: "default",
			Labels: map[string]string{"component": "apiserver", "provider": "kubernetes"}},
		Spec: core.ServiceSpec{Type: core.ServiceTypeClusterIP, ClusterIP: ip, Ports: []core.ServicePort{{
			Name: "https", Protocol: core.ProtocolTCP, Port: 443, TargetPort: intstr.FromInt(6443)}}},
	}
	_, err := s.create(ctx, k, svc, false)
	if errors.Is(err, apierrors.ErrAlreadyExists) {
		return nil
	}
	return err
}

// ensureAPIEndpoints points the kubernetes Service's Endpoints at this
// API server's address (host:port). With one API server that is all
// there is; several would each write their own (Kubernetes reconciles a
// list of leases instead).
func (s *Server) ensureAPIEndpoints(ctx context.Context, hostport string) error {
	host, portStr, err := net.SplitHostPort(hostport)
	if err != nil {
		return err
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		return fmt.Errorf("endpoints need a concrete IP address, not %q", host)
	}
	k, _ := apis.ByResource("", "endpoints")
	want := []core.EndpointSubset{{
		Addresses: []core.EndpointAddress{{IP: host}},
		Ports:     []core.EndpointPort{{Name: "https", Port: int32(port), Protocol: core.ProtocolTCP}},
	}}
	ep := &core.Endpoints{ObjectMeta: meta.ObjectMeta{Name: "kubernetes", Namespace: "default"}, Subsets: want}
	_, err = s.create(ctx, k, ep, false)
	if !errors.Is(err, apierrors.ErrAlreadyExists) {
		return err
	}
	_, err = s.update(ctx, k, "default", "kubernetes", "", false, func(cur meta.Object) (meta.Object, error) {
		cur.(*core.Endpoints).Subsets = want
		return cur, nil
	})
	return err
}
