package daemonset

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"time"

	"minik8s/pkg/apis"
	"minik8s/pkg/apis/apps"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/client"
	"minik8s/pkg/client/events"
	"minik8s/pkg/client/workqueue"
	"minik8s/pkg/controllers/expectations"
)

var (
	podKind  = mustKind("", "pods")
	nodeKind = mustKind("", "nodes")
	dsKind   = mustKind("apps", "daemonsets")
)

func mustKind(group, resource string) *apis.Kind {
	k, ok := apis.ByResource(group, resource)
	if !ok {
		panic("daemonset: kind " + resource + " is not served")
	}
	return k
}

// burstPods caps the pods one sync creates or deletes (Kubernetes'
// BurstReplicas), so one DaemonSet on a huge cluster does not hog a
// worker; the next sync does the rest.
const burstPods = 250

// Controller is the DaemonSet controller. Build it with New; run it once
// with Run.
type Controller struct {
	c     *client.Client
	rec   *events.Recorder
	dsInf *client.Informer
	pods  *client.Informer
	nodes *client.Informer
	queue *workqueue.Queue
	// exp holds the creations and deletions made and not yet seen in the
	// pod cache, per DaemonSet key.
	exp *expectations.Expectations
	now func() time.Time
	log *slog.Logger
}

// New returns a DaemonSet controller using c for writes, the shared
// informers of f for DaemonSets, pods and nodes, and rec for events. It
// registers its informers with f, so f.Start must be called after New.
func New(c *client.Client, f *client.Factory, rec *events.Recorder) *Controller {
	ctrl := &Controller{
		c:     c,
		rec:   rec,
		dsInf: f.For(dsKind),
		pods:  f.For(podKind),
		nodes: f.For(nodeKind),
		queue: workqueue.New("daemonset"),
		exp:   expectations.New(),
		now:   time.Now,
		log:   slog.Default().With("controller", "daemonset"),
	}
	ctrl.dsInf.AddEventHandler(client.Handler{
		OnAdd:    ctrl.enqueue,
		OnUpdate: func(_, obj meta.Object) { ctrl.enqueue(obj) },
		OnDelete: func(obj meta.Object) {
			ctrl.exp.Forget(client.KeyOf(obj))
			ctrl.enqueue(obj)
		},
	})
	ctrl.pods.AddEventHandler(client.Handler{
		OnAdd:    ctrl.addPod,
		OnUpdate: ctrl.updatePod,
		OnDelete: ctrl.deletePod,
	})
	ctrl.nodes.AddEventHandler(client.Handler{
		OnAdd:    func(meta.Object) { ctrl.enqueueAll() },
		OnUpdate: ctrl.updateNode,
		OnDelete: func(meta.Object) { ctrl.enqueueAll() },
	})
	return ctrl
}

// Run waits for the caches to fill, then syncs DaemonSets with the given
// number of workers until ctx is done. It returns when every worker has
// stopped. A Controller runs once: Run shuts its queue down on return.
func (ctrl *Controller) Run(ctx context.Context, workers int) {
	defer ctrl.queue.ShutDown()
	for _, inf := range []*client.Informer{ctrl.dsInf, ctrl.pods, ctrl.nodes} {
		if !inf.WaitForSync(ctx) {
			return
		}
	}
	ctrl.log.Info("started", "workers", workers)
	workqueue.Run(ctx, ctrl.queue, workers, ctrl.sync)
}

func (ctrl *Controller) enqueue(obj meta.Object) { ctrl.queue.Add(client.KeyOf(obj)) }

func (ctrl *Controller) enqueueAll() {
	for _, key := range ctrl.dsInf.Store().ListKeys() {
		ctrl.queue.Add(key)
	}
}

// updateNode enqueues every DaemonSet when a change can alter which
// DaemonSets belong on the node: its labels or its taints. Heartbeats
// (status) change neither, and are by far the most frequent update.
func (ctrl *Controller) updateNode(oldObj, newObj meta.Object) {
	old, cur := oldObj.(*core.Node), newObj.(*core.Node)
	if maps.Equal(old.Labels, cur.Labels) && slices.EqualFunc(old.Spec.Taints, cur.Spec.Taints, func(a, b core.Taint) bool {
		return a.Key == b.Key && a.Value == b.Value && a.Effect == b.Effect
	}) {
		return
	}
	ctrl.enqueueAll()
}

// ---- pod handlers: enqueue the owner, count what it expects ----

func (ctrl *Controller) addPod(obj meta.Object) {
	pod := obj.(*core.Pod)
	if pod.DeletionTimestamp != nil {
		// First seen already terminating (a relist): for the owner it is
		// a deletion.
		ctrl.deletePod(pod)
		return
	}
	if ds := ctrl.owner(pod); ds != nil {
		ctrl.exp.CreationObserved(client.KeyOf(ds))
		ctrl.enqueue(ds)
	}
}

// updatePod enqueues the owner of a changed pod; a pod that starts
// terminating counts as the deletion its owner expects.
func (ctrl *Controller) updatePod(oldObj, newObj meta.Object) {
	old, cur := oldObj.(*core.Pod), newObj.(*core.Pod)
	if old.ResourceVersion == cur.ResourceVersion {
		return // a resync: the DaemonSet informer's own resync covers it
	}
	if cur.DeletionTimestamp != nil && old.DeletionTimestamp == nil {
		ctrl.deletePod(cur)
		return
	}
	if ds := ctrl.owner(cur); ds != nil {
		ctrl.enqueue(ds)
	}
}

func (ctrl *Controller) deletePod(obj meta.Object) {
	pod := obj.(*core.Pod)
	if ds := ctrl.owner(pod); ds != nil {
		ctrl.exp.DeletionObserved(client.KeyOf(ds), client.KeyOf(pod))
		ctrl.enqueue(ds)
	}
}

// owner returns the cached DaemonSet that controls pod, or nil (not a
// daemon pod, or its DaemonSet is gone: same name, other UID).
func (ctrl *Controller) owner(pod *core.Pod) *apps.DaemonSet {
	ref := controllerOf(&pod.ObjectMeta)
	if ref == nil || ref.Kind != controllerKind {
		return nil
	}
	obj, ok := ctrl.dsInf.Store().Get(pod.Namespace + "/" + ref.Name)
	if !ok || obj.GetObjectMeta().UID != ref.UID {
		return nil
	}
	return obj.(*apps.DaemonSet)
}
