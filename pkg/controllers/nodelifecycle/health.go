package nodelifecycle

import (
	"slices"
	"time"

	"minik8s/pkg/apis/coordination"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
)

// observation is what this controller last saw of one node's heartbeats,
// and when, on its own clock (Kubernetes' nodeHealthData).
type observation struct {
	uid        string    // the node object observed; a new uid starts over
	leaseRenew time.Time // the Lease's last renewTime seen
	heartbeat  time.Time // the Ready condition's last lastHeartbeatTime seen
	// probed is when, on our clock, either value above was last seen to
	// change (or the node was first seen). Invariant: never in the future.
	probed time.Time
}

// observe returns o updated with the node's current heartbeats: probed
// moves to now when the node is new to us or either heartbeat changed.
// lease may be nil (not created yet, or deleted).
func observe(o observation, node *core.Node, lease *coordination.Lease, now time.Time) observation {
	next := observation{uid: node.UID, probed: o.probed}
	if lease != nil && lease.Spec.RenewTime != nil {
		next.leaseRenew = lease.Spec.RenewTime.Time
	}
	if c := condition(node.Status.Conditions, core.NodeReady); c != nil {
		next.heartbeat = c.LastHeartbeatTime.Time
	}
	if o.uid != node.UID || !next.leaseRenew.Equal(o.leaseRenew) || !next.heartbeat.Equal(o.heartbeat) {
		next.probed = now
	}
	return next
}

// silentFor says how long the node has shown no sign of life.
func (o observation) silentFor(now time.Time) time.Duration { return now.Sub(o.probed) }

// Reasons and messages of the conditions the controller writes, as in
// Kubernetes (they are what `kubectl describe node` shows).
const (
	reasonUnknown      = "NodeStatusUnknown"
	messageUnknown     = "Kubelet stopped posting node status."
	reasonNeverUpdated = "NodeStatusNeverUpdated"
	messageNever       = "Kubelet never posted node status."
)

// markUnknown returns the conditions of a node whose agent went silent:
// every condition Unknown, and a Ready condition added if the agent never
// posted one. Heartbeat times are kept (they are the agent's); transition
// times move to now where the status changes. changed is false when every
// condition already says Unknown, so the controller writes once, not on
// every pass.
func markUnknown(conds []core.NodeCondition, now time.Time) (out []core.NodeCondition, changed bool) {
	out = slices.Clone(conds)
	t := meta.NewTime(now)
	if condition(out, core.NodeReady) == nil {
		out = append(out, core.NodeCondition{Type: core.NodeReady, Status: core.ConditionUnknown,
			Reason: reasonNeverUpdated, Message: messageNever, LastTransitionTime: t})
		changed = true
	}
	for i := range out {
		c := &out[i]
		if c.Status == core.ConditionUnknown {
			continue
		}
		c.Status, c.Reason, c.Message, c.LastTransitionTime = core.ConditionUnknown, reasonUnknown, messageUnknown, t
		changed = true
	}
	return out, changed
}

// readiness is the node's Ready status: True, False, Unknown, or "" when
// the agent has not posted one yet.
func readiness(conds []core.NodeCondition) string {
	if c := condition(conds, core.NodeReady); c != nil {
		return c.Status
	}
	return ""
}

func condition(conds []core.NodeCondition, typ string) *core.NodeCondition {
	for i := range conds {
		if conds[i].Type == typ {
			return &conds[i]
		}
	}
	return nil
}

// managed are the taints this controller owns: it adds and removes them,
// and leaves every other taint alone.
var managed = []core.Taint{
	{Key: core.TaintNodeUnreachable, Effect: core.TaintEffectNoSchedule},
	{Key: core.TaintNodeUnreachable, Effect: core.TaintEffectNoExecute},
	{Key: core.TaintNodeNotReady, Effect: core.TaintEffectNoSchedule},
	{Key: core.TaintNodeNotReady, Effect: core.TaintEffectNoExecute},
}

// taintKeyFor is the key of the taints a Ready status calls for: "" when
// none (Ready=True), and also "" with ok false when the status is not yet
// known (no Ready condition: leave the taints as they are).
func taintKeyFor(ready string) (key string, ok bool) {
	switch ready {
	case core.ConditionTrue:
		return "", true
	case core.ConditionFalse:
		return core.TaintNodeNotReady, true
	case core.ConditionUnknown:
		return core.TaintNodeUnreachable, true
	}
	return "", false
}

// desiredTaints returns the node's taints as its Ready status calls for:
// the managed taints of the status' key (NoSchedule and NoExecute), kept
// with their timeAdded if already there, the NoExecute one stamped with
// now if new; the
// other managed taints removed; every other taint kept, a NoExecute one
// without timeAdded stamped with now (evictions count from timeAdded, so
// it must be recorded, not remembered). changed says whether the result
// differs from taints.
func desiredTaints(taints []core.Taint, ready string, now time.Time) (out []core.Taint, changed bool) {
	key, known := taintKeyFor(ready)
	t := meta.NewTime(now)
	for _, taint := range taints {
		switch {
		case isManaged(taint) && known && taint.Key != key:
			changed = true // drop it
			continue
		case taint.Effect == core.TaintEffectNoExecute && taint.TimeAdded == nil:
			taint.TimeAdded = &t
			changed = true
		}
		out = append(out, taint)
	}
	if key == "" {
		return out, changed
	}
	for _, want := range []string{core.TaintEffectNoSchedule, core.TaintEffectNoExecute} {
		if !slices.ContainsFunc(out, func(x core.Taint) bool { return x.Key == key && x.Effect == want }) {
			taint := core.Taint{Key: key, Effect: want}
			if want == core.TaintEffectNoExecute {
				taint.TimeAdded = &t // Kubernetes stamps NoExecute taints only
			}
			out = append(out, taint)
			changed = true
		}
	}
	return out, changed
}

func isManaged(t core.Taint) bool {
	return slices.ContainsFunc(managed, func(m core.Taint) bool { return m.Key == t.Key && m.Effect == t.Effect })
}
