// Package nodeipam gives every node its own pod CIDR: the range its node
// agent takes pod IPs from (CNI host-local IPAM) and that other nodes
// route to it (host-gateway routing).
//
// The cluster CIDR (default 10.244.0.0/16) is cut into subnets of
// NodeMaskSize (default /24, 254 pods per node). Each node without
// spec.podCIDR gets a free one, written to spec.podCIDR and spec.podCIDRs
// with a compare-and-swap update; the API server refuses any later change,
// so a node keeps its CIDR for life. A deleted node's CIDR is freed and,
// eventually, handed out again. When none is left the node waits, with a
// CIDRNotAvailable warning event, until a node is deleted.
//
// The allocation map lives in memory only; the nodes are its source of
// truth. Run rebuilds it from every existing node's spec.podCIDR before it
// assigns anything, so a restarted controller (or a new leader) never
// hands out a CIDR that a node already holds.
//
// The caller starts the informer factory and the event recorder; Run
// returns when its context ends. The controller never changes a CIDR that
// is set: one set by hand inside its range is respected (never handed out
// again), one outside its range is left alone.
package nodeipam

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"

	"minik8s/pkg/apis"
	"minik8s/pkg/apis/apierrors"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/client"
	"minik8s/pkg/client/events"
	"minik8s/pkg/client/workqueue"
)

// Config says which addresses to hand out. Zero fields take their
// defaults.
type Config struct {
	// ClusterCIDR is the range all pod CIDRs come from (default
	// 10.244.0.0/16, --cluster-cidr). IPv4 only.
	ClusterCIDR string
	// NodeMaskSize is the prefix length of each node's pod CIDR (default
	// 24, --node-cidr-mask-size).
	NodeMaskSize int
}

// Validate reports a configuration that cannot work, saying which field
// to fix.
func (c Config) Validate() error {
	_, err := c.withDefaults().cidrSet()
	return err
}

func (c Config) withDefaults() Config {
	if c.ClusterCIDR == "" {
		c.ClusterCIDR = "10.244.0.0/16"
	}
	if c.NodeMaskSize == 0 {
		c.NodeMaskSize = 24
	}
	return c
}

func (c Config) cidrSet() (*cidrSet, error) {
	p, err := netip.ParsePrefix(c.ClusterCIDR)
	if err != nil {
		return nil, fmt.Errorf("cluster CIDR %q is not a CIDR like 10.244.0.0/16: %w", c.ClusterCIDR, err)
	}
	return newCIDRSet(p, c.NodeMaskSize)
}

// Controller is the node IPAM controller. Create it with New, run it once
// with Run.
type Controller struct {
	c     *client.Client
	rec   *events.Recorder
	queue *workqueue.Queue
	log   *slog.Logger
	nodes *client.Informer

	mu  sync.Mutex
	set *cidrSet
	// held maps a node name to the CIDR it holds or was just given.
	// Invariant: every CIDR in held is marked used in set; an entry goes
	// only when the node is gone or turned out to hold another CIDR.
	held map[string]netip.Prefix
}

// New returns a node IPAM controller that watches nodes through f. Zero
// fields of cfg take their defaults; New panics if cfg does not Validate
// (the caller checks it first). The caller starts f and rec.
func New(c *client.Client, f *client.Factory, rec *events.Recorder, cfg Config) *Controller {
	set, err := cfg.withDefaults().cidrSet()
	if err != nil {
		panic("nodeipam: " + err.Error())
	}
	nodeKind, _ := apis.ByResource("", "nodes")
	ic := &Controller{
		c:     c,
		rec:   rec,
		queue: workqueue.New("nodeipam"),
		log:   slog.Default().With("controller", "nodeipam"),
		nodes: f.For(nodeKind),
		set:   set,
		held:  map[string]netip.Prefix{},
	}
	enqueue := func(obj meta.Object) { ic.queue.Add(obj.GetObjectMeta().Name) }
	ic.nodes.AddEventHandler(client.Handler{
		OnAdd: enqueue,
		OnUpdate: func(old, obj meta.Object) {
			if old.(*core.Node).Spec.PodCIDR != obj.(*core.Node).Spec.PodCIDR || obj.(*core.Node).Spec.PodCIDR == "" {
				enqueue(obj)
			}
		},
		OnDelete: enqueue,
	})
	return ic
}

// Run waits for the node cache, rebuilds the allocation map from it, then
// assigns CIDRs with the given number of workers until ctx is done. It
// returns when every worker has stopped.
func (ic *Controller) Run(ctx context.Context, workers int) {
	if !ic.nodes.WaitForSync(ctx) {
		ic.queue.ShutDown()
		return
	}
	// Before the first assignment: every CIDR a node already holds is
	// taken, whoever assigned it.
	for _, obj := range ic.nodes.Store().List() {
		ic.occupy(obj.(*core.Node))
	}
	workqueue.Run(ctx, ic.queue, workers, ic.sync)
}

// sync makes sure the node holds a CIDR, or frees the CIDR of a node that
// is gone.
func (ic *Controller) sync(ctx context.Context, name string) error {
	obj, ok := ic.nodes.Store().Get(name)
	if !ok {
		ic.release(name)
		return nil
	}
	node := obj.(*core.Node)
	if node.Spec.PodCIDR != "" {
		ic.occupy(node)
		return nil
	}
	cidr, err := ic.reserve(name)
	if errors.Is(err, errExhausted) {
		// Retrying will not help; a deleted node re-enqueues the
		// nodes that wait (see release).
		ic.log.Warn("no pod CIDR for node", "node", name, "err", err)
		ic.rec.Eventf(node, events.Warning, "CIDRNotAvailable", "Node %s status is now: CIDRNotAvailable (%v): delete a node or widen the cluster CIDR", name, err)
		return nil
	}
	n := copyNode(node)
	n.Spec.PodCIDR = cidr.String()
	n.Spec.PodCIDRs = []string{cidr.String()}
	if err := ic.c.Update(ctx, n); err != nil {
		if errors.Is(err, apierrors.ErrNotFound) {
			return nil // deleted meanwhile; its delete event frees the CIDR
		}
		if !errors.Is(err, apierrors.ErrConflict) {
			ic.rec.Eventf(node, events.Warning, "CIDRAssignmentFailed", "Node %s: assigning pod CIDR %s: %v", name, cidr, err)
		}
		// The reservation stays in held, so the retry offers the same CIDR.
		return fmt.Errorf("assigning pod CIDR %s to node %s: %w", cidr, name, err)
	}
	ic.log.Info("assigned pod CIDR", "node", name, "podCIDR", cidr)
	ic.rec.Eventf(n, events.Normal, "CIDRAssigned", "Node %s was assigned pod CIDR %s", name, cidr)
	return nil
}

// reserve returns the CIDR reserved for the node, taking a new one if it
// has none.
func (ic *Controller) reserve(name string) (netip.Prefix, error) {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	if p, ok := ic.held[name]; ok {
		return p, nil
	}
	p, err := ic.set.allocate()
	if err != nil {
		return netip.Prefix{}, err
	}
	ic.held[name] = p
	return p, nil
}

// occupy records the CIDR a node holds, freeing a different one we had
// reserved for it (it got its CIDR elsewhere).
func (ic *Controller) occupy(node *core.Node) {
	p, err := netip.ParsePrefix(node.Spec.PodCIDR)
	if err != nil {
		return // none, or invalid (the API server validates it; nothing to do)
	}
	ic.mu.Lock()
	defer ic.mu.Unlock()
	if old, ok := ic.held[node.Name]; ok && old != p {
		ic.set.release(old)
		delete(ic.held, node.Name)
	}
	if ic.set.occupy(p) {
		ic.held[node.Name] = p
	}
}

// release frees the CIDR of a node that is gone, and enqueues the nodes
// still waiting for one.
func (ic *Controller) release(name string) {
	ic.mu.Lock()
	p, ok := ic.held[name]
	if ok {
		ic.set.release(p)
		delete(ic.held, name)
	}
	ic.mu.Unlock()
	if !ok {
		return
	}
	ic.log.Info("released pod CIDR", "node", name, "podCIDR", p)
	for _, obj := range ic.nodes.Store().List() {
		if obj.(*core.Node).Spec.PodCIDR == "" {
			ic.queue.Add(obj.GetObjectMeta().Name)
		}
	}
}

// copyNode returns a deep copy of a cached node, safe to change.
func copyNode(n *core.Node) *core.Node {
	b, err := json.Marshal(n)
	if err != nil {
		panic(fmt.Sprintf("nodeipam: encoding a node: %v", err)) // cannot happen: it was decoded from JSON
	}
	var out core.Node
	if err := json.Unmarshal(b, &out); err != nil {
		panic(fmt.Sprintf("nodeipam: decoding a node: %v", err))
	}
	return &out
}
