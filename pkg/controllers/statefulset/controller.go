package statefulset

import (
	"context"
	"log/slog"
	"time"

	"minik8s/pkg/apis"
	"minik8s/pkg/apis/apps"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/client"
	"minik8s/pkg/client/events"
	"minik8s/pkg/client/workqueue"
)

var (
	podKind      = mustKind("", "pods")
	claimKind    = mustKind("", "persistentvolumeclaims")
	setKind      = mustKind("apps", "statefulsets")
	revisionKind = mustKind("apps", "controllerrevisions")
)

func mustKind(group, resource string) *apis.Kind {
	k, ok := apis.ByResource(group, resource)
	if !ok {
		panic("statefulset: kind " + resource + " is not served")
	}
	return k
}

// Controller is the StatefulSet controller. Build it with New; run it once
// with Run.
type Controller struct {
	c      *client.Client
	rec    *events.Recorder
	sets   *client.Informer
	pods   *client.Informer
	claims *client.Informer
	revs   *client.Informer
	queue  *workqueue.Queue
	now    func() time.Time
	log    *slog.Logger
}

// New returns a StatefulSet controller using c for writes, the shared
// informers of f for StatefulSets, pods, PersistentVolumeClaims and
// ControllerRevisions, and rec for events. It registers its informers
// with f, so f.Start must be called after New.
func New(c *client.Client, f *client.Factory, rec *events.Recorder) *Controller {
	ctrl := &Controller{
		c:      c,
		rec:    rec,
		sets:   f.For(setKind),
		pods:   f.For(podKind),
		claims: f.For(claimKind),
		revs:   f.For(revisionKind),
		queue:  workqueue.New("statefulset"),
		now:    time.Now,
		log:    slog.Default().With("controller", "statefulset"),
	}
	ctrl.sets.AddEventHandler(client.Handler{
		OnAdd:    ctrl.enqueue,
		OnUpdate: func(_, obj meta.Object) { ctrl.enqueue(obj) },
		OnDelete: ctrl.enqueue,
	})
	// Every pod change matters to its owner: the next pod waits for this
	// one to be ready, or to be gone.
	ctrl.pods.AddEventHandler(client.Handler{
		OnAdd: ctrl.enqueueOwner,
		OnUpdate: func(old, cur meta.Object) {
			if old.GetObjectMeta().ResourceVersion != cur.GetObjectMeta().ResourceVersion {
				ctrl.enqueueOwner(cur)
			}
		},
		OnDelete: ctrl.enqueueOwner,
	})
	return ctrl
}

// Run waits for the caches to fill, then syncs StatefulSets with the
// given number of workers until ctx is done. It returns when every worker
// has stopped. A Controller runs once: Run shuts its queue down on
// return.
func (ctrl *Controller) Run(ctx context.Context, workers int) {
	defer ctrl.queue.ShutDown()
	for _, inf := range []*client.Informer{ctrl.sets, ctrl.pods, ctrl.claims, ctrl.revs} {
		if !inf.WaitForSync(ctx) {
			return
		}
	}
	ctrl.log.Info("started", "workers", workers)
	workqueue.Run(ctx, ctrl.queue, workers, ctrl.sync)
}

func (ctrl *Controller) enqueue(obj meta.Object) { ctrl.queue.Add(client.KeyOf(obj)) }

// enqueueOwner enqueues the StatefulSet controlling a pod, if any. The
// key is enough: a sync of a set that no longer matches the reference
// (deleted, or re-created with another UID) ignores the pod.
func (ctrl *Controller) enqueueOwner(obj meta.Object) {
	pod := obj.(*core.Pod)
	if ref := controllerOf(&pod.ObjectMeta); ref != nil && ref.Kind == controllerKind {
		ctrl.queue.Add(pod.Namespace + "/" + ref.Name)
	}
}

// ownedBy says whether m is controlled by set.
func ownedBy(m *meta.ObjectMeta, set *apps.StatefulSet) bool {
	ref := controllerOf(m)
	return ref != nil && ref.UID == set.UID
}
