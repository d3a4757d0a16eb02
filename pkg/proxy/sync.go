package proxy

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"minik8s/pkg/apis/core"
)

// dataplane is what the syncer needs from iptables.
type dataplane interface {
	// restore applies iptables-restore input (nat table) without
	// flushing the chains it does not name.
	restore(ctx context.Context, data []byte) error
	// ensureJumps puts the jumps from PREROUTING, OUTPUT and POSTROUTING
	// to the proxy's chains in place (once each).
	ensureJumps(ctx context.Context) error
	// chains lists the nat table's chains.
	chains(ctx context.Context) ([]string, error)
}

// flowCleaner deletes conntrack entries.
type flowCleaner interface {
	// clearFlows runs `conntrack -D` with args; no match is no error.
	clearFlows(ctx context.Context, args []string) error
}

// syncer turns Services and Endpoints into nat rules, writing only the
// chains whose content changed since its last successful write (as
// kube-proxy does since 1.27): with the nf_tables backend an
// iptables-restore costs time growing faster than linearly with what it
// writes, so a full rewrite on every endpoint change would not keep up
// with thousands of Services.
//
// A syncer is used by one goroutine at a time.
type syncer struct {
	dp    dataplane
	flows flowCleaner
	cfg   RulesConfig
	// written is each chain's content as last written; nil when the
	// kernel's state is not known (before the first sync and after a
	// failed one), so the next sync writes everything and removes
	// leftovers.
	written Chains
	// ports are the service ports of the last successful sync, to find
	// the UDP flows an endpoint change leaves stale.
	ports []servicePort
}

// syncResult says what one sync did.
type syncResult struct {
	chainsWritten, chainsDeleted int
	full                         bool
	flowsCleared                 int
	compute, apply               time.Duration
}

// sync converges the nat table on services and endpoints.
func (s *syncer) sync(ctx context.Context, services []*core.Service, endpoints []*core.Endpoints) (syncResult, error) {
	var res syncResult
	start := time.Now()
	ports := servicePorts(services, endpoints, s.cfg)
	want := render(ports, s.cfg)
	res.compute = time.Since(start)

	var leftovers []string
	if s.written == nil {
		res.full = true
		existing, err := s.dp.chains(ctx)
		if err != nil {
			return res, fmt.Errorf("list chains: %w", err)
		}
		leftovers = ownedChains(existing)
	}
	data, written, deleted := restoreInput(s.written, want, leftovers)
	res.chainsWritten, res.chainsDeleted = written, deleted
	if data != nil {
		if err := s.dp.restore(ctx, data); err != nil {
			s.written = nil
			return res, err
		}
	}
	if res.full {
		if err := s.dp.ensureJumps(ctx); err != nil {
			s.written = nil
			return res, fmt.Errorf("jump rules: %w", err)
		}
	}
	s.written = want
	// Flows are cleared after the new rules are in place, so a packet
	// arriving meanwhile makes a new flow through the new rules.
	if s.flows != nil {
		for _, args := range staleFlows(s.ports, ports) {
			if err := s.flows.clearFlows(ctx, args); err != nil {
				// Not retried: the flow times out by itself (UDP: 30 s,
				// or 120 s once it is "assured").
				logger().Warn("could not clear stale UDP flows", "args", strings.Join(args, " "), "err", err)
				continue
			}
			res.flowsCleared++
		}
	}
	s.ports = ports
	res.apply = time.Since(start) - res.compute
	return res, nil
}

// ownedChains picks the per-service chains the proxy creates out of a
// list of chains.
func ownedChains(all []string) []string {
	var out []string
	for _, c := range all {
		for _, p := range []string{"KUBE-SVC-", "KUBE-SEP-", "KUBE-EXT-"} {
			if strings.HasPrefix(c, p) {
				out = append(out, c)
			}
		}
	}
	return out
}

// restoreInput returns the iptables-restore input that turns the chains
// as last written (nil: unknown, write all) into want, deleting
// leftovers (chains found in the kernel) that want lacks. A chain
// declared with ":NAME" is created or flushed, so only changed and new
// chains are declared; chains that are gone are declared (flushed) and
// then deleted with -X, after every rule pointing at them has been
// rewritten. nil when nothing changed.
func restoreInput(written, want Chains, leftovers []string) (data []byte, nWritten, nDeleted int) {
	var changed, gone []string
	for c, rules := range want {
		if old, ok := written[c]; !ok || old != rules {
			changed = append(changed, c)
		}
	}
	for c := range written {
		if _, ok := want[c]; !ok {
			gone = append(gone, c)
		}
	}
	for _, c := range leftovers {
		if _, ok := want[c]; !ok && !slices.Contains(gone, c) {
			gone = append(gone, c)
		}
	}
	if len(changed) == 0 && len(gone) == 0 {
		return nil, 0, 0
	}
	slices.Sort(changed)
	slices.Sort(gone)
	var b bytes.Buffer
	b.WriteString("*nat\n")
	for _, c := range changed {
		b.WriteString(":" + c + " - [0:0]\n")
	}
	for _, c := range gone {
		b.WriteString(":" + c + " - [0:0]\n")
	}
	for _, c := range changed {
		b.WriteString(want[c])
	}
	for _, c := range gone {
		b.WriteString("-X " + c + "\n")
	}
	b.WriteString("COMMIT\n")
	return b.Bytes(), len(changed), len(gone)
}

// staleFlows returns the conntrack arguments that delete UDP flows the
// new rules would not fix by themselves (kube-proxy's conntrack
// cleanup): conntrack keeps sending a flow where its first packet went,
// so flows to an endpoint that is gone, and flows to a cluster IP that
// had no endpoints (not DNATed at all), must be deleted.
func staleFlows(prev, next []servicePort) [][]string {
	type key struct{ name, protocol string }
	before := map[key]servicePort{}
	for _, sp := range prev {
		before[key{sp.name, sp.protocol}] = sp
	}
	var out [][]string
	seen := map[key]bool{}
	for _, sp := range next {
		if sp.protocol != "udp" {
			continue
		}
		k := key{sp.name, sp.protocol}
		seen[k] = true
		old, existed := before[k]
		if existed && len(old.endpoints) == 0 && len(sp.endpoints) > 0 {
			out = append(out, []string{"-D", "-p", "udp", "--orig-dst", sp.clusterIP})
			if sp.nodePort != 0 {
				out = append(out, []string{"-D", "-p", "udp", "--dport", strconv.Itoa(int(sp.nodePort))})
			}
		}
		out = append(out, goneEndpointFlows(old, sp.endpoints)...)
	}
	for _, sp := range prev {
		if sp.protocol == "udp" && !seen[key{sp.name, sp.protocol}] {
			out = append(out, goneEndpointFlows(sp, nil)...)
		}
	}
	return out
}

// goneEndpointFlows deletes the flows of old's endpoints missing from now.
func goneEndpointFlows(old servicePort, now []endpoint) [][]string {
	var out [][]string
	for _, e := range old.endpoints {
		if slices.Contains(now, e) {
			continue
		}
		out = append(out, []string{"-D", "-p", "udp", "--orig-dst", old.clusterIP, "--dst-nat", e.ip})
		if old.nodePort != 0 {
			out = append(out, []string{"-D", "-p", "udp", "--dport", strconv.Itoa(int(old.nodePort)), "--dst-nat", e.ip})
		}
	}
	return out
}
