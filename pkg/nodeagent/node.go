package nodeagent

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"minik8s/pkg/apis"
	"minik8s/pkg/apis/apierrors"
	"minik8s/pkg/apis/coordination"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/apis/resource"
)

// Heartbeats, as the kubelet's defaults: the Lease (40 s) is renewed every
// quarter of its duration, 10 s (the node lifecycle controller's signal);
// the Node status is rewritten when it changes or at least every minute.
const (
	defaultLeaseDuration = 40
	nodeStatusFresh      = time.Minute
)

// leaseDuration is the node Lease's duration in seconds.
func (a *Agent) leaseDuration() int {
	if a.cfg.NodeLeaseDurationSeconds > 0 {
		return a.cfg.NodeLeaseDurationSeconds
	}
	return defaultLeaseDuration
}

var (
	nodeKind, _  = apis.ByKind("", "Node")
	leaseKind, _ = apis.ByKind("coordination.k8s.io", "Lease")
)

// capacity is what the host has: CPUs, memory, and the pod limit.
func (a *Agent) capacity() core.ResourceList {
	return core.ResourceList{
		"cpu":    resource.NewQuantity(int64(runtime.NumCPU()), resource.DecimalSI),
		"memory": resource.NewQuantity(memTotal(), resource.BinarySI),
		"pods":   resource.NewQuantity(int64(a.cfg.MaxPods), resource.DecimalSI),
	}
}

// allocatable is capacity minus what --reserved keeps for the system.
func allocatable(capacity, reserved core.ResourceList) core.ResourceList {
	out := core.ResourceList{}
	for k, v := range capacity {
		if r, ok := reserved[k]; ok {
			v.Sub(r)
			if v.Sign() < 0 {
				v = resource.NewQuantity(0, v.Format)
			}
		}
		out[k] = v
	}
	return out
}

func memTotal() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "MemTotal:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// nodeStatus is the status the agent reports now.
func (a *Agent) nodeStatus(old core.NodeStatus, now time.Time) core.NodeStatus {
	capacity := a.capacity()
	_, port, _ := net.SplitHostPort(a.cfg.Listen)
	p, _ := strconv.Atoi(port)
	host, _ := os.Hostname()
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	bootID, _ := os.ReadFile("/proc/sys/kernel/random/boot_id")
	machineID, _ := os.ReadFile("/etc/machine-id")
	ready := core.NodeCondition{Type: core.NodeReady, Status: core.ConditionTrue, Reason: "KubeletReady",
		Message: "node agent is posting ready status", LastHeartbeatTime: meta.NewTime(now), LastTransitionTime: meta.NewTime(now)}
	for _, c := range old.Conditions {
		if c.Type == core.NodeReady && c.Status == core.ConditionTrue {
			ready.LastTransitionTime = c.LastTransitionTime
		}
	}
	return core.NodeStatus{
		Capacity: capacity, Allocatable: allocatable(capacity, a.cfg.Reserved),
		Conditions: []core.NodeCondition{ready},
		Addresses: []core.NodeAddress{
			{Type: core.NodeInternalIP, Address: a.hostIP}, {Type: core.NodeHostName, Address: a.cfg.NodeName},
		},
		DaemonEndpoints: core.NodeDaemonEndpoints{KubeletEndpoint: core.DaemonEndpoint{Port: int32(p)}},
		NodeInfo: core.NodeSystemInfo{
			MachineID: strings.TrimSpace(string(machineID)), BootID: strings.TrimSpace(string(bootID)),
			KernelVersion: strings.TrimSpace(string(kernel)), OSImage: "minik8s on " + host,
			ContainerRuntimeVersion: a.rt.Version(context.Background()), KubeletVersion: "v1.30.0-minik8s",
			OperatingSystem: runtime.GOOS, Architecture: runtime.GOARCH,
		},
	}
}

// registerNode creates the Node or updates its status, and returns the
// podCIDR to use: spec.podCIDR when the node IPAM controller assigned one,
// else --pod-cidr.
func (a *Agent) registerNode(ctx context.Context) (string, error) {
	for {
		cidr, err := a.tryRegister(ctx)
		if err == nil {
			return cidr, nil
		}
		a.log.Warn("registering node", "err", err)
		if !sleep(ctx, time.Second) {
			return "", ctx.Err()
		}
	}
}

func (a *Agent) tryRegister(ctx context.Context) (string, error) {
	var n core.Node
	err := a.client.Get(ctx, "", a.cfg.NodeName, &n)
	if errors.Is(err, apierrors.ErrNotFound) {
		n = core.Node{ObjectMeta: meta.ObjectMeta{Name: a.cfg.NodeName, Labels: map[string]string{
			"kubernetes.io/hostname": a.cfg.NodeName, "kubernetes.io/os": runtime.GOOS, "kubernetes.io/arch": runtime.GOARCH,
		}}}
		n.Spec.PodCIDR = a.cfg.PodCIDR
		if a.cfg.PodCIDR != "" {
			n.Spec.PodCIDRs = []string{a.cfg.PodCIDR}
		}
		if err := a.client.Create(ctx, &n); err != nil && !errors.Is(err, apierrors.ErrAlreadyExists) {
			return "", fmt.Errorf("creating node: %w", err)
		}
		return a.tryRegister(ctx)
	}
	if err != nil {
		return "", err
	}
	if err := a.updateNodeStatus(ctx, &n); err != nil {
		return "", err
	}
	if n.Spec.PodCIDR != "" {
		return n.Spec.PodCIDR, nil
	}
	return a.cfg.PodCIDR, nil
}

func (a *Agent) updateNodeStatus(ctx context.Context, n *core.Node) error {
	n.Status = a.nodeStatus(n.Status, time.Now())
	if err := a.client.UpdateStatus(ctx, n); err != nil {
		return fmt.Errorf("updating node status: %w", err)
	}
	return nil
}

// heartbeat renews the Lease every quarter of its duration until ctx is
// done. At each tick it also reads its Node, and writes the Node's status
// when a condition differs from what the agent sees (the node lifecycle
// controller set Ready to Unknown while the agent was away: say Ready again
// at once, as the kubelet does) or at least every minute. Failures are
// logged and retried at the next tick.
func (a *Agent) heartbeat(ctx context.Context) {
	lastStatus := time.Now()
	for {
		if err := a.renewLease(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("renewing lease", "err", err)
		}
		var n core.Node
		err := a.client.Get(ctx, "", a.cfg.NodeName, &n)
		if err == nil && (time.Since(lastStatus) >= nodeStatusFresh ||
			conditionsDiffer(n.Status.Conditions, a.nodeStatus(n.Status, time.Now()).Conditions)) {
			if err = a.updateNodeStatus(ctx, &n); err == nil {
				lastStatus = time.Now()
			}
		}
		if err != nil && ctx.Err() == nil {
			a.log.Warn("node status", "err", err)
		}
		if !sleep(ctx, time.Duration(a.leaseDuration())*time.Second/4) {
			return
		}
	}
}

// conditionsDiffer reports whether two sets of node conditions differ in
// a type's status (times and messages aside).
func conditionsDiffer(a, b []core.NodeCondition) bool {
	status := func(cs []core.NodeCondition) map[string]string {
		m := map[string]string{}
		for _, c := range cs {
			m[c.Type] = c.Status
		}
		return m
	}
	x, y := status(a), status(b)
	if len(x) != len(y) {
		return true
	}
	for t, s := range x {
		if y[t] != s {
			return true
		}
	}
	return false
}

func (a *Agent) renewLease(ctx context.Context) error {
	now := meta.MicroTime{Time: time.Now()}
	var l coordination.Lease
	err := a.client.Get(ctx, "kube-node-lease", a.cfg.NodeName, &l)
	if errors.Is(err, apierrors.ErrNotFound) {
		holder, d := a.cfg.NodeName, int32(a.leaseDuration())
		l = coordination.Lease{
			ObjectMeta: meta.ObjectMeta{Name: a.cfg.NodeName, Namespace: "kube-node-lease"},
			Spec:       coordination.LeaseSpec{HolderIdentity: &holder, LeaseDurationSeconds: &d, RenewTime: &now},
		}
		return a.client.Create(ctx, &l)
	}
	if err != nil {
		return err
	}
	d := int32(a.leaseDuration())
	l.Spec.RenewTime, l.Spec.LeaseDurationSeconds = &now, &d
	return a.client.Update(ctx, &l)
}

var _ = nodeKind
var _ = leaseKind

// DefaultNodeIP is the address an agent without --node-ip reports as the
// node's InternalIP: this machine's first non-loopback IPv4 address.
func DefaultNodeIP() string { return firstIPv4("") }
