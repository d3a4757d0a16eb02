package deployment

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
)

var (
	podKind        = mustKind("", "pods")
	rsKind         = mustKind("apps", "replicasets")
	deploymentKind = mustKind("apps", "deployments")
)

func mustKind(group, resource string) *apis.Kind {
	k, ok := apis.ByResource(group, resource)
	if !ok {
		panic("deployment: kind " + resource + " is not served")
	}
	return k
}

// Controller is the Deployment controller. Build it with New; run it once
// with Run.
type Controller struct {
	c     *client.Client
	rec   *events.Recorder
	dInf  *client.Informer
	rsInf *client.Informer
	pods  *client.Informer
	queue *workqueue.Queue
	now   func() time.Time
	log   *slog.Logger
}

// New returns a Deployment controller using c for writes, the shared
// informers of f for Deployments, ReplicaSets and pods, and rec for
// events. It registers its informers with f, so f.Start must be called
// after New.
func New(c *client.Client, f *client.Factory, rec *events.Recorder) *Controller {
	ctrl := &Controller{
		c:     c,
		rec:   rec,
		dInf:  f.For(deploymentKind),
		rsInf: f.For(rsKind),
		pods:  f.For(podKind),
		queue: workqueue.New("deployment"),
		now:   time.Now,
		log:   slog.Default().With("controller", "deployment"),
	}
	ctrl.dInf.AddEventHandler(client.Handler{
		OnAdd:    ctrl.enqueue,
		OnUpdate: func(_, obj meta.Object) { ctrl.enqueue(obj) },
		OnDelete: ctrl.enqueue,
	})
	ctrl.rsInf.AddEventHandler(client.Handler{
		OnAdd:    ctrl.addRS,
		OnUpdate: ctrl.updateRS,
		OnDelete: ctrl.deleteRS,
	})
	// Only pod deletions matter: a Recreate rollout waits for the old
	// pods to be gone. Everything else reaches us through ReplicaSet
	// status changes.
	ctrl.pods.AddEventHandler(client.Handler{OnDelete: ctrl.deletePod})
	return ctrl
}

// Run waits for the caches to fill, then syncs Deployments with the given
// number of workers until ctx is done. It returns when every worker has
// stopped. A Controller runs once: Run shuts its queue down on return.
func (ctrl *Controller) Run(ctx context.Context, workers int) {
	defer ctrl.queue.ShutDown()
	for _, inf := range []*client.Informer{ctrl.dInf, ctrl.rsInf, ctrl.pods} {
		if !inf.WaitForSync(ctx) {
			return
		}
	}
	ctrl.log.Info("started", "workers", workers)
	workqueue.Run(ctx, ctrl.queue, workers, ctrl.sync)
}

func (ctrl *Controller) enqueue(obj meta.Object) { ctrl.queue.Add(client.KeyOf(obj)) }

// ---- ReplicaSet and pod handlers: enqueue the Deployments concerned ----

func (ctrl *Controller) addRS(obj meta.Object) {
	rs := obj.(*apps.ReplicaSet)
	if ref := controllerOf(&rs.ObjectMeta); ref != nil {
		if d := ctrl.resolve(rs.Namespace, ref); d != nil {
			ctrl.enqueue(d)
		}
		return
	}
	ctrl.enqueueMatching(rs)
}

func (ctrl *Controller) updateRS(oldObj, newObj meta.Object) {
	old, cur := oldObj.(*apps.ReplicaSet), newObj.(*apps.ReplicaSet)
	oldRef, curRef := controllerOf(&old.ObjectMeta), controllerOf(&cur.ObjectMeta)
	if oldRef != nil && (curRef == nil || oldRef.UID != curRef.UID) {
		if d := ctrl.resolve(old.Namespace, oldRef); d != nil {
			ctrl.enqueue(d)
		}
	}
	if curRef != nil {
		if d := ctrl.resolve(cur.Namespace, curRef); d != nil {
			ctrl.enqueue(d)
		}
		return
	}
	ctrl.enqueueMatching(cur)
}

func (ctrl *Controller) deleteRS(obj meta.Object) {
	rs := obj.(*apps.ReplicaSet)
	if ref := controllerOf(&rs.ObjectMeta); ref != nil {
		if d := ctrl.resolve(rs.Namespace, ref); d != nil {
			ctrl.enqueue(d)
		}
	}
}

// deletePod enqueues the Deployment that owns the pod's ReplicaSet.
func (ctrl *Controller) deletePod(obj meta.Object) {
	pod := obj.(*core.Pod)
	ref := controllerOf(&pod.ObjectMeta)
	if ref == nil || ref.Kind != "ReplicaSet" {
		return
	}
	rsObj, ok := ctrl.rsInf.Store().Get(pod.Namespace + "/" + ref.Name)
	if !ok || rsObj.GetObjectMeta().UID != ref.UID {
		return
	}
	if dref := controllerOf(rsObj.GetObjectMeta()); dref != nil {
		if d := ctrl.resolve(pod.Namespace, dref); d != nil && !isRolling(d) {
			ctrl.enqueue(d)
		}
	}
}

// resolve returns the cached Deployment ref points to, or nil.
func (ctrl *Controller) resolve(ns string, ref *meta.OwnerReference) *apps.Deployment {
	if ref.Kind != deploymentKind.Kind {
		return nil
	}
	obj, ok := ctrl.dInf.Store().Get(ns + "/" + ref.Name)
	if !ok || obj.GetObjectMeta().UID != ref.UID {
		return nil
	}
	return obj.(*apps.Deployment)
}

// enqueueMatching enqueues the Deployments whose selector matches an
// orphan ReplicaSet: the candidates to adopt it.
func (ctrl *Controller) enqueueMatching(rs *apps.ReplicaSet) {
	for _, obj := range ctrl.dInf.Store().ByIndex(client.NamespaceIndex, rs.Namespace) {
		d := obj.(*apps.Deployment)
		sel, err := labels.SelectorFromLabelSelector(d.Spec.Selector)
		if err == nil && !sel.Empty() && sel.Matches(rs.Labels) {
			ctrl.enqueue(d)
		}
	}
}

// controllerOf returns m's controller owner reference, or nil.
func controllerOf(m *meta.ObjectMeta) *meta.OwnerReference {
	for i := range m.OwnerReferences {
		if r := &m.OwnerReferences[i]; r.Controller != nil && *r.Controller {
			return r
		}
	}
	return nil
}

// controllerRef is the owner reference a Deployment puts on its
// ReplicaSets.
func controllerRef(d *apps.Deployment) meta.OwnerReference {
	yes := true
	return meta.OwnerReference{
		APIVersion: deploymentKind.APIVersion(), Kind: deploymentKind.Kind,
		Name: d.Name, UID: d.UID, Controller: &yes, BlockOwnerDeletion: &yes,
	}
}
