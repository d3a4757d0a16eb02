package nodelifecycle

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"minik8s/pkg/apis"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/client"
	"minik8s/pkg/client/events"
	"minik8s/pkg/client/workqueue"
)

// leaseNamespace holds the node agents' heartbeat Leases, one per node,
// named after the node.
const leaseNamespace = "kube-node-lease"

// Config tunes the controller. Zero fields take their defaults.
type Config struct {
	// NodeMonitorGracePeriod is how long a node may show no heartbeat
	// before it is considered unreachable (default 40s, Kubernetes'
	// --node-monitor-grace-period). It is also how long a deleted node's
	// pods wait before they are force-deleted.
	NodeMonitorGracePeriod time.Duration
	// MonitorPeriod is how often every node is re-examined even when
	// nothing about it changed (default 5s, or half the grace period if
	// that is shorter): silence is noticed by looking, not by an event.
	MonitorPeriod time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	if c.NodeMonitorGracePeriod < 0 || c.MonitorPeriod < 0 {
		return errors.New("node monitor grace period and monitor period must not be negative")
	}
	d := c.withDefaults()
	if d.MonitorPeriod >= d.NodeMonitorGracePeriod {
		return errors.New("the monitor period must be shorter than the node monitor grace period, or silent nodes are noticed late")
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.NodeMonitorGracePeriod == 0 {
		c.NodeMonitorGracePeriod = 40 * time.Second
	}
	if c.MonitorPeriod == 0 {
		// Look at least twice per grace period, so a short grace period
		// set alone still works.
		c.MonitorPeriod = min(5*time.Second, c.NodeMonitorGracePeriod/2)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// nodeNameIndex files pods under the node they are bound to.
const nodeNameIndex = "nodelifecycle.nodeName"

func podNodeName(obj meta.Object) []string {
	if n := obj.(*core.Pod).Spec.NodeName; n != "" {
		return []string{n}
	}
	return nil
}

// Controller is the node lifecycle controller. Create it with New, run it
// once with Run.
type Controller struct {
	c      *client.Client
	rec    *events.Recorder
	cfg    Config
	queue  *workqueue.Queue
	log    *slog.Logger
	nodes  *client.Informer
	leases *client.Informer
	pods   *client.Informer

	mu sync.Mutex
	// seen holds, per node name, the heartbeats last observed. Entries
	// are dropped when the node goes.
	seen map[string]observation
	// missingSince holds, per node name that pods are bound to but that
	// does not exist, when this controller first noticed. Entries are
	// dropped when the node appears or its pods are gone.
	missingSince map[string]time.Time
}

// New returns a node lifecycle controller that watches nodes, leases and
// pods through f. Zero fields of cfg take their defaults; New panics if
// cfg does not Validate (the caller checks it first). The caller starts f
// and rec.
func New(c *client.Client, f *client.Factory, rec *events.Recorder, cfg Config) *Controller {
	if err := cfg.Validate(); err != nil {
		panic("nodelifecycle: " + err.Error())
	}
	nodeKind, _ := apis.ByResource("", "nodes")
	leaseKind, _ := apis.ByResource("coordination.k8s.io", "leases")
	podKind, _ := apis.ByResource("", "pods")
	nc := &Controller{
		c:            c,
		rec:          rec,
		cfg:          cfg.withDefaults(),
		queue:        workqueue.New("nodelifecycle"),
		log:          slog.Default().With("controller", "nodelifecycle"),
		nodes:        f.For(nodeKind),
		leases:       f.For(leaseKind),
		pods:         f.For(podKind),
		seen:         map[string]observation{},
		missingSince: map[string]time.Time{},
	}
	// The only error is "index exists": another instance on the same
	// factory added the same index.
	_ = nc.pods.Store().AddIndexers(map[string]client.IndexFunc{nodeNameIndex: podNodeName})

	byName := func(obj meta.Object) { nc.queue.Add(obj.GetObjectMeta().Name) }
	nc.nodes.AddEventHandler(client.Handler{
		OnAdd:    byName,
		OnUpdate: func(_, obj meta.Object) { byName(obj) },
		OnDelete: byName,
	})
	lease := func(obj meta.Object) {
		if obj.GetObjectMeta().Namespace == leaseNamespace {
			byName(obj)
		}
	}
	nc.leases.AddEventHandler(client.Handler{OnAdd: lease, OnUpdate: func(_, obj meta.Object) { lease(obj) }})
	// A pod arriving on a tainted node, or on a node that is gone, calls
	// for a look at that node.
	podNode := func(obj meta.Object) {
		if n := obj.(*core.Pod).Spec.NodeName; n != "" {
			nc.queue.Add(n)
		}
	}
	nc.pods.AddEventHandler(client.Handler{
		OnAdd: podNode,
		OnUpdate: func(old, obj meta.Object) {
			if old.(*core.Pod).Spec.NodeName != obj.(*core.Pod).Spec.NodeName {
				podNode(obj)
			}
		},
	})
	return nc
}

// Run waits for the caches, then keeps nodes' conditions, taints and pods
// in line with their heartbeats, with the given number of workers, until
// ctx is done. It returns when every goroutine it started has stopped.
func (nc *Controller) Run(ctx context.Context, workers int) {
	for _, inf := range []*client.Informer{nc.nodes, nc.leases, nc.pods} {
		if !inf.WaitForSync(ctx) {
			nc.queue.ShutDown()
			return
		}
	}
	var wg sync.WaitGroup
	wg.Go(func() { nc.monitor(ctx) })
	workqueue.Run(ctx, nc.queue, workers, nc.sync)
	wg.Wait()
}

// monitor enqueues every node each MonitorPeriod, and every vanished node
// that still has pods: a node that goes silent sends no event, so the
// only way to notice is to look (Kubernetes' monitorNodeHealth loop).
func (nc *Controller) monitor(ctx context.Context) {
	t := time.NewTicker(nc.cfg.MonitorPeriod)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, key := range nc.nodes.Store().ListKeys() {
			nc.queue.Add(key)
		}
		nc.mu.Lock()
		for name := range nc.missingSince {
			nc.queue.Add(name)
		}
		nc.mu.Unlock()
	}
}
