package nodeagent

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os/exec"
	"slices"
	"strings"
	"time"

	goiptables "github.com/coreos/go-iptables/iptables"

	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/client"
)

// Host-gateway routing (flannel's host-gw backend, Kubernetes the Hard
// Way's "pod network routes"): every node reaches another node's pods
// through a route "<its podCIDR> via <its InternalIP>" on the node's own
// network, so pod-to-pod traffic crosses nodes unchanged (no NAT, no
// tunnel). The nodes must share an L2 segment, as the lab's bridge and the
// Vagrant private network do.
//
// The routes are kept in step with the Node objects by a level-triggered
// loop: any Node event only pokes it; a sync lists the routes the agent
// owns (marked with routeProto), compares them with what the Nodes ask for
// now and adds, replaces and deletes the difference. Routes the agent did
// not make are never touched.

// routeProto marks the agent's routes (`ip route ... proto 77`), so that a
// sync finds its own routes and only those. 77 is not assigned in
// /etc/iproute2/rt_protos.
const routeProto = "77"

// podMasqChain holds the agent's masquerade rule for pod traffic leaving
// the cluster (see ensureMasquerade).
const podMasqChain = "MINIK8S-POD-MASQ"

// route is a route to another node's pods.
type route struct {
	Dst string // the node's podCIDR, canonical ("10.244.2.0/24")
	Via string // the node's InternalIP
}

// wantedRoutes is the routes node self needs to reach the other nodes'
// pods: one per other node that has both a podCIDR and an InternalIP.
// Nodes whose address is a loopback address (single-machine test setups)
// or that claim self's own podCIDR are skipped. The result is sorted.
func wantedRoutes(self string, nodes []*core.Node) []route {
	var own string
	for _, n := range nodes {
		if n.Name == self {
			own = canonicalCIDR(n.Spec.PodCIDR)
		}
	}
	var out []route
	for _, n := range nodes {
		dst := canonicalCIDR(n.Spec.PodCIDR)
		if n.Name == self || dst == "" || dst == own {
			continue
		}
		ip, ok := internalIP(n)
		if !ok || ip.IsLoopback() || !ip.Is4() {
			continue
		}
		out = append(out, route{Dst: dst, Via: ip.String()})
	}
	slices.SortFunc(out, func(a, b route) int { return strings.Compare(a.Dst, b.Dst) })
	// Two nodes with one podCIDR (a conflict the IPAM controller never
	// makes): keep the first, deterministically.
	return slices.CompactFunc(out, func(a, b route) bool { return a.Dst == b.Dst })
}

// planRoutes is what to do to go from have to want: routes to add or
// replace (missing, or via another gateway) and routes to delete.
func planRoutes(have, want []route) (replace, del []route) {
	wantVia := map[string]string{}
	for _, r := range want {
		wantVia[r.Dst] = r.Via
	}
	haveVia := map[string]string{}
	for _, r := range have {
		haveVia[r.Dst] = r.Via
		if _, ok := wantVia[r.Dst]; !ok {
			del = append(del, r)
		}
	}
	for _, r := range want {
		if via, ok := haveVia[r.Dst]; !ok || via != r.Via {
			replace = append(replace, r)
		}
	}
	return replace, del
}

func canonicalCIDR(s string) string {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return ""
	}
	return p.Masked().String()
}

func internalIP(n *core.Node) (netip.Addr, bool) {
	for _, a := range n.Status.Addresses {
		if a.Type == core.NodeInternalIP {
			ip, err := netip.ParseAddr(a.Address)
			return ip, err == nil
		}
	}
	return netip.Addr{}, false
}

// parseRoutes reads `ip -4 route show proto 77` output
// ("10.244.2.0/24 via 172.30.1.12 dev eth0").
func parseRoutes(out []byte) []route {
	var rs []route
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 3 || f[1] != "via" {
			continue
		}
		dst := f[0]
		if !strings.Contains(dst, "/") {
			dst += "/32"
		}
		rs = append(rs, route{Dst: canonicalCIDR(dst), Via: f[2]})
	}
	return rs
}

// syncRoutesLoop keeps the node's routes to the other nodes' pods (when
// Config.Routes) and the pod masquerade rule (when Config.ClusterCIDR) in
// step with the Node objects until ctx is done.
// Failures are logged and retried with backoff; a resync every 30 s also
// repairs routes someone removed.
func (a *Agent) syncRoutesLoop(ctx context.Context, podCIDR string) {
	poke := make(chan struct{}, 1)
	nudge := func(meta.Object) {
		select {
		case poke <- struct{}{}:
		default:
		}
	}
	nodes := client.NewInformer(a.client.ListWatch(nodeKind, "", client.ListOptions{}), 0)
	nodes.AddEventHandler(client.Handler{OnAdd: nudge, OnUpdate: func(_, o meta.Object) { nudge(o) }, OnDelete: nudge})
	done := make(chan struct{})
	go func() { defer close(done); nodes.Run(ctx) }()
	defer func() { <-done }()
	if !nodes.WaitForSync(ctx) {
		return
	}
	const resync, maxBackoff = 30 * time.Second, 30 * time.Second
	backoff := time.Second
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-poke:
		case <-t.C:
		}
		var ns []*core.Node
		for _, o := range nodes.Store().List() {
			ns = append(ns, o.(*core.Node))
		}
		var err error
		if a.cfg.Routes {
			err = a.syncRoutes(ctx, wantedRoutes(a.cfg.NodeName, ns))
		}
		if err == nil && a.cfg.ClusterCIDR != "" {
			err = ensureMasquerade(a.cfg.NodeNetns, podCIDR, a.cfg.ClusterCIDR)
		}
		next := resync
		if err != nil {
			a.log.Warn("syncing pod network routes; retrying", "err", err, "in", backoff)
			next, backoff = backoff, min(2*backoff, maxBackoff)
		} else {
			backoff = time.Second
		}
		if !t.Stop() {
			select {
			case <-t.C:
			default:
			}
		}
		t.Reset(next)
	}
}

// syncRoutes makes the node's own routes (proto 77) exactly want.
func (a *Agent) syncRoutes(ctx context.Context, want []route) error {
	out, err := a.ip(ctx, "-4", "route", "show", "proto", routeProto)
	if err != nil {
		return err
	}
	replace, del := planRoutes(parseRoutes(out), want)
	for _, r := range del {
		if _, err := a.ip(ctx, "route", "del", r.Dst, "via", r.Via, "proto", routeProto); err != nil {
			return err
		}
		a.log.Info("removed pod network route", "dst", r.Dst, "via", r.Via)
	}
	for _, r := range replace {
		if _, err := a.ip(ctx, "route", "replace", r.Dst, "via", r.Via, "proto", routeProto); err != nil {
			return err
		}
		a.log.Info("pod network route", "dst", r.Dst, "via", r.Via)
	}
	return nil
}

// ip runs iproute2's ip in the node's network namespace.
func (a *Agent) ip(ctx context.Context, args ...string) ([]byte, error) {
	var out []byte
	err := inNetns(a.cfg.NodeNetns, func() error {
		var err error
		out, err = exec.CommandContext(ctx, "ip", args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
		}
		return nil
	})
	return out, err
}

// ensureMasquerade keeps the rule that masquerades pod traffic leaving the
// cluster: from podCIDR to anything outside clusterCIDR. With a cluster
// CIDR the bridge plugin's own ipMasq is off (it would masquerade
// everything outside the node's podCIDR, other nodes' pods included), so
// this rule takes its place. It lives in the node's nat table, in the
// agent's own chain, jumped to from POSTROUTING.
func ensureMasquerade(netns, podCIDR, clusterCIDR string) error {
	return inNetns(netns, func() error {
		ipt, err := goiptables.New(goiptables.Timeout(5))
		if err != nil {
			return err
		}
		if ok, err := ipt.ChainExists("nat", podMasqChain); err != nil {
			return err
		} else if !ok {
			if err := ipt.NewChain("nat", podMasqChain); err != nil {
				return err
			}
		}
		rule := []string{"-s", podCIDR, "!", "-d", clusterCIDR, "-m", "comment", "--comment", "minik8s: pods to outside the cluster", "-j", "MASQUERADE"}
		if err := ipt.AppendUnique("nat", podMasqChain, rule...); err != nil {
			return err
		}
		return ipt.AppendUnique("nat", "POSTROUTING", "-m", "comment", "--comment", "minik8s pod masquerade", "-j", podMasqChain)
	})
}
