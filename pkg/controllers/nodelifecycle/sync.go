package nodelifecycle

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"minik8s/pkg/apis"
	"minik8s/pkg/apis/apierrors"
	"minik8s/pkg/apis/coordination"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/client/events"
)

var podKind, _ = apis.ByResource("", "pods")

// sync converges one node, in the order the consequences flow: heartbeats
// decide the conditions, the Ready condition decides the taints, the
// taints decide which pods must leave. A node that no longer exists only
// has its orphaned pods collected.
func (nc *Controller) sync(ctx context.Context, name string) error {
	obj, ok := nc.nodes.Store().Get(name)
	if !ok {
		nc.mu.Lock()
		delete(nc.seen, name)
		nc.mu.Unlock()
		return nc.collectOrphanedPods(ctx, name)
	}
	nc.mu.Lock()
	delete(nc.missingSince, name)
	nc.mu.Unlock()

	node := obj.(*core.Node)
	now := nc.cfg.Now()
	o := nc.observe(node, now)
	ready := readiness(node.Status.Conditions)
	if o.silentFor(now) > nc.cfg.NodeMonitorGracePeriod {
		var err error
		if node, err = nc.markUnknown(ctx, node, o, now); err != nil {
			return err
		}
		ready = core.ConditionUnknown
	}
	node, err := nc.reconcileTaints(ctx, node, ready, now)
	if err != nil {
		return err
	}
	return nc.evictPods(ctx, node, now)
}

// observe records the node's current heartbeats and returns what is known.
func (nc *Controller) observe(node *core.Node, now time.Time) observation {
	var lease *coordination.Lease
	if obj, ok := nc.leases.Store().Get(leaseNamespace + "/" + node.Name); ok {
		lease = obj.(*coordination.Lease)
	}
	nc.mu.Lock()
	defer nc.mu.Unlock()
	o := observe(nc.seen[node.Name], node, lease, now)
	nc.seen[node.Name] = o
	return o
}

// markUnknown sets every condition of a silent node to Unknown through
// the status subresource, and returns the node as stored (or node itself
// when nothing had to change).
func (nc *Controller) markUnknown(ctx context.Context, node *core.Node, o observation, now time.Time) (*core.Node, error) {
	conds, changed := markUnknown(node.Status.Conditions, now)
	if !changed {
		return node, nil
	}
	n := copyNode(node)
	n.Status.Conditions = conds
	if err := nc.c.UpdateStatus(ctx, n); err != nil {
		return nil, fmt.Errorf("marking node %s Unknown: %w", node.Name, err)
	}
	nc.log.Info("node stopped posting status", "node", n.Name, "silentFor", o.silentFor(now).Round(time.Millisecond))
	nc.rec.Eventf(n, events.Normal, "NodeNotReady", "Node %s status is now: NodeNotReady", n.Name)
	return n, nil
}

// reconcileTaints makes the node's taints match its Ready status with a
// compare-and-swap update, and returns the node as stored.
func (nc *Controller) reconcileTaints(ctx context.Context, node *core.Node, ready string, now time.Time) (*core.Node, error) {
	taints, changed := desiredTaints(node.Spec.Taints, ready, now)
	if !changed {
		return node, nil
	}
	hadManaged := hasManaged(node.Spec.Taints)
	n := copyNode(node)
	n.Spec.Taints = taints
	if err := nc.c.Update(ctx, n); err != nil {
		return nil, fmt.Errorf("updating taints of node %s: %w", node.Name, err)
	}
	nc.log.Info("node taints updated", "node", n.Name, "ready", ready, "taints", taintNames(taints))
	if hadManaged && !hasManaged(taints) {
		nc.rec.Eventf(n, events.Normal, "NodeReady", "Node %s status is now: NodeReady", n.Name)
	}
	return n, nil
}

// evictPods deletes, gracefully, the pods of the node whose tolerations
// of its NoExecute taints have run out, and asks to be called again when
// the next one runs out.
func (nc *Controller) evictPods(ctx context.Context, node *core.Node, now time.Time) error {
	var next time.Duration
	var errs []error
	for _, obj := range nc.pods.Store().ByIndex(nodeNameIndex, node.Name) {
		pod := obj.(*core.Pod)
		if pod.DeletionTimestamp != nil {
			continue // already leaving
		}
		at, ok := evictionTime(pod.Spec.Tolerations, node.Spec.Taints, now)
		switch {
		case !ok:
			continue
		case at.After(now):
			if d := at.Sub(now); next == 0 || d < next {
				next = d
			}
		default:
			errs = append(errs, nc.evict(ctx, pod))
		}
	}
	if next > 0 {
		nc.queue.AddAfter(node.Name, next)
	}
	return errors.Join(errs...)
}

// evict marks a pod for deletion: a normal graceful DELETE, so its node
// agent (if it is alive) stops it cleanly and its controller replaces it.
func (nc *Controller) evict(ctx context.Context, pod *core.Pod) error {
	uid := pod.UID
	err := nc.c.Delete(ctx, podKind, pod.Namespace, pod.Name, &meta.DeleteOptions{Preconditions: &meta.Preconditions{UID: &uid}})
	if errors.Is(err, apierrors.ErrNotFound) || errors.Is(err, apierrors.ErrConflict) {
		return nil // gone already, or another pod of the same name
	}
	if err != nil {
		return fmt.Errorf("evicting pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	nc.log.Info("evicted pod", "pod", pod.Namespace+"/"+pod.Name, "node", pod.Spec.NodeName)
	nc.rec.Eventf(pod, events.Normal, "TaintManagerEviction", "Marking for deletion Pod %s/%s", pod.Namespace, pod.Name)
	return nil
}

// collectOrphanedPods force-deletes the pods bound to a node that does
// not exist, once it has been missing for the grace period and the API
// server confirms it is gone (the cache may lag; the node may be
// re-registering). No node agent is left to finish a graceful deletion,
// so the grace period is 0 (Kubernetes' PodGC).
func (nc *Controller) collectOrphanedPods(ctx context.Context, name string) error {
	pods := nc.pods.Store().ByIndex(nodeNameIndex, name)
	now := nc.cfg.Now()
	nc.mu.Lock()
	since, ok := nc.missingSince[name]
	switch {
	case len(pods) == 0:
		delete(nc.missingSince, name)
	case !ok:
		nc.missingSince[name], since = now, now
	}
	nc.mu.Unlock()
	if len(pods) == 0 || now.Sub(since) < nc.cfg.NodeMonitorGracePeriod {
		return nil // the monitor loop brings it back
	}
	err := nc.c.Get(ctx, "", name, &core.Node{})
	if err == nil {
		return nil // it exists: our cache is behind
	}
	if !errors.Is(err, apierrors.ErrNotFound) {
		return fmt.Errorf("checking that node %s is gone: %w", name, err)
	}
	zero := int64(0)
	var errs []error
	for _, obj := range pods {
		pod := obj.(*core.Pod)
		uid := pod.UID
		err := nc.c.Delete(ctx, podKind, pod.Namespace, pod.Name,
			&meta.DeleteOptions{GracePeriodSeconds: &zero, Preconditions: &meta.Preconditions{UID: &uid}})
		if errors.Is(err, apierrors.ErrNotFound) || errors.Is(err, apierrors.ErrConflict) {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("deleting orphaned pod %s/%s: %w", pod.Namespace, pod.Name, err))
			continue
		}
		nc.log.Info("deleted orphaned pod", "pod", pod.Namespace+"/"+pod.Name, "node", name)
		nc.rec.Eventf(pod, events.Normal, "PodGCDeleted", "Force-deleting Pod %s/%s: its node %s no longer exists", pod.Namespace, pod.Name, name)
	}
	return errors.Join(errs...)
}

// copyNode returns a deep copy of a cached node, safe to change.
func copyNode(n *core.Node) *core.Node {
	b, err := json.Marshal(n)
	if err != nil {
		panic(fmt.Sprintf("nodelifecycle: encoding a node: %v", err)) // cannot happen: it was decoded from JSON
	}
	var out core.Node
	if err := json.Unmarshal(b, &out); err != nil {
		panic(fmt.Sprintf("nodelifecycle: decoding a node: %v", err))
	}
	return &out
}

func hasManaged(taints []core.Taint) bool {
	for _, t := range taints {
		if isManaged(t) {
			return true
		}
	}
	return false
}

func taintNames(taints []core.Taint) []string {
	out := make([]string, 0, len(taints))
	for _, t := range taints {
		out = append(out, t.Key+":"+t.Effect)
	}
	return out
}
