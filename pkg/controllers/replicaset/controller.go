package replicaset

import (
	"context"
	"log/slog"
	"time"

	"minik8s/pkg/apis"
	"minik8s/pkg/apis/apps"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/labels"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/client"
	"minik8s/pkg/client/events"
	"minik8s/pkg/client/workqueue"
	"minik8s/pkg/controllers/expectations"
)

var (
	podKind = mustKind("", "pods")
	rsKind  = mustKind("apps", "replicasets")
)

func mustKind(group, resource string) *apis.Kind {
	k, ok := apis.ByResource(group, resource)
	if !ok {
		panic("replicaset: kind " + resource + " is not served")
	}
	return k
}

// burstReplicas caps the pods one sync creates or deletes (Kubernetes'
// BurstReplicas), so one huge ReplicaSet does not hog a worker; the next
// sync does the rest.
const burstReplicas = 500

// Controller is the ReplicaSet controller. Build it with New; run it once
// with Run.
type Controller struct {
	c     *client.Client
	rec   *events.Recorder
	rsInf *client.Informer
	pods  *client.Informer
	queue *workqueue.Queue
	// exp holds the creations and deletions made and not yet seen in the
	// pod cache, per ReplicaSet key.
	exp *expectations.Expectations
	now func() time.Time
	log *slog.Logger
}

// New returns a ReplicaSet controller using c for writes, the shared
// informers of f for ReplicaSets and pods, and rec for events. It
// registers its informers with f, so f.Start must be called after New.
func New(c *client.Client, f *client.Factory, rec *events.Recorder) *Controller {
	ctrl := &Controller{
		c:     c,
		rec:   rec,
		rsInf: f.For(rsKind),
		pods:  f.For(podKind),
		queue: workqueue.New("replicaset"),
		exp:   expectations.New(),
		now:   time.Now,
		log:   slog.Default().With("controller", "replicaset"),
	}
	ctrl.rsInf.AddEventHandler(client.Handler{
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
	return ctrl
}

// Run waits for the caches to fill, then syncs ReplicaSets with the given
// number of workers until ctx is done. It returns when every worker has
// stopped. A Controller runs once: Run shuts its queue down on return.
func (ctrl *Controller) Run(ctx context.Context, workers int) {
	defer ctrl.queue.ShutDown()
	if !ctrl.rsInf.WaitForSync(ctx) || !ctrl.pods.WaitForSync(ctx) {
		return
	}
	ctrl.log.Info("started", "workers", workers)
	workqueue.Run(ctx, ctrl.queue, workers, ctrl.sync)
}

func (ctrl *Controller) enqueue(obj meta.Object) { ctrl.queue.Add(client.KeyOf(obj)) }

// ---- pod handlers: enqueue the ReplicaSets a pod change matters to ----

// addPod counts a creation the owner expects, or finds the ReplicaSets
// that may adopt an orphan.
func (ctrl *Controller) addPod(obj meta.Object) {
	pod := obj.(*core.Pod)
	if pod.DeletionTimestamp != nil {
		// Seen for the first time already terminating (after a relist or
		// a restart): for the owner it is a deletion.
		ctrl.deletePod(pod)
		return
	}
	if ref := controllerOf(&pod.ObjectMeta); ref != nil {
		if rs := ctrl.resolve(pod.Namespace, ref); rs != nil {
			ctrl.exp.CreationObserved(client.KeyOf(rs))
			ctrl.enqueue(rs)
		}
		return
	}
	ctrl.enqueueMatching(pod)
}

// updatePod enqueues the old and new owners of a changed pod. A pod that
// starts terminating counts as deleted at once, so its replacement is
// created without waiting for the node to stop it (as Kubernetes does).
func (ctrl *Controller) updatePod(oldObj, newObj meta.Object) {
	old, cur := oldObj.(*core.Pod), newObj.(*core.Pod)
	if old.ResourceVersion == cur.ResourceVersion {
		return // a resync: the ReplicaSet informer's own resync covers it
	}
	labelsChanged := !mapsEqual(old.Labels, cur.Labels)
	if cur.DeletionTimestamp != nil {
		ctrl.deletePod(cur)
		if labelsChanged {
			ctrl.deletePod(old)
		}
		return
	}
	oldRef, curRef := controllerOf(&old.ObjectMeta), controllerOf(&cur.ObjectMeta)
	refChanged := !refsEqual(oldRef, curRef)
	if refChanged && oldRef != nil {
		if rs := ctrl.resolve(old.Namespace, oldRef); rs != nil {
			ctrl.enqueue(rs)
		}
	}
	if curRef != nil {
		if rs := ctrl.resolve(cur.Namespace, curRef); rs != nil {
			ctrl.enqueue(rs)
		}
		return
	}
	if labelsChanged || refChanged {
		ctrl.enqueueMatching(cur)
	}
}

// deletePod counts a deletion the owner expects and enqueues the owner.
func (ctrl *Controller) deletePod(obj meta.Object) {
	pod := obj.(*core.Pod)
	ref := controllerOf(&pod.ObjectMeta)
	if ref == nil {
		return // an orphan's deletion changes no ReplicaSet's count
	}
	if rs := ctrl.resolve(pod.Namespace, ref); rs != nil {
		ctrl.exp.DeletionObserved(client.KeyOf(rs), client.KeyOf(pod))
		ctrl.enqueue(rs)
	}
}

// resolve returns the cached ReplicaSet ref points to, or nil if ref is
// not a ReplicaSet or names one that no longer exists (same name, other
// UID: deleted and re-created).
func (ctrl *Controller) resolve(ns string, ref *meta.OwnerReference) *apps.ReplicaSet {
	if ref.Kind != controllerKind {
		return nil
	}
	obj, ok := ctrl.rsInf.Store().Get(ns + "/" + ref.Name)
	if !ok || obj.GetObjectMeta().UID != ref.UID {
		return nil
	}
	return obj.(*apps.ReplicaSet)
}

// enqueueMatching enqueues every ReplicaSet of pod's namespace whose
// selector matches it: the candidates to adopt an orphan.
func (ctrl *Controller) enqueueMatching(pod *core.Pod) {
	for _, obj := range ctrl.rsInf.Store().ByIndex(client.NamespaceIndex, pod.Namespace) {
		rs := obj.(*apps.ReplicaSet)
		sel, err := labels.SelectorFromLabelSelector(rs.Spec.Selector)
		if err == nil && !sel.Empty() && sel.Matches(pod.Labels) {
			ctrl.enqueue(rs)
		}
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func refsEqual(a, b *meta.OwnerReference) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.UID == b.UID && a.Name == b.Name && a.Kind == b.Kind
}
