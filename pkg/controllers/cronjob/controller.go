package cronjob

import (
	"context"
	"log/slog"
	"time"

	"minik8s/pkg/apis"
	"minik8s/pkg/apis/batch"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/client"
	"minik8s/pkg/client/events"
	"minik8s/pkg/client/workqueue"
)

var (
	jobKind     = mustKind("batch", "jobs")
	cronJobKind = mustKind("batch", "cronjobs")
)

func mustKind(group, resource string) *apis.Kind {
	k, ok := apis.ByResource(group, resource)
	if !ok {
		panic("cronjob: kind " + resource + " is not served")
	}
	return k
}

// Config tunes the controller. Zero fields take their defaults.
type Config struct {
	// Now is the clock schedules are read against (default time.Now).
	// Tests set it to move time by hand.
	Now func() time.Time
}

// Controller is the CronJob controller. Build it with New; run it once
// with Run.
type Controller struct {
	c        *client.Client
	rec      *events.Recorder
	cronJobs *client.Informer
	jobs     *client.Informer
	queue    *workqueue.Queue
	now      func() time.Time
	// syncHandler is sync; a field so that tests can observe each sync
	// (Kubernetes' controllers have the same seam).
	syncHandler workqueue.SyncFunc
	log         *slog.Logger
}

// New returns a CronJob controller using c for writes, the shared
// informers of f for CronJobs and Jobs, rec for events, and cfg's clock.
// It registers its informers with f, so f.Start must be called after New.
func New(c *client.Client, f *client.Factory, rec *events.Recorder, cfg Config) *Controller {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	ctrl := &Controller{
		c:        c,
		rec:      rec,
		cronJobs: f.For(cronJobKind),
		jobs:     f.For(jobKind),
		queue:    workqueue.New("cronjob"),
		now:      cfg.Now,
		log:      slog.Default().With("controller", "cronjob"),
	}
	ctrl.syncHandler = ctrl.sync
	ctrl.cronJobs.AddEventHandler(client.Handler{
		OnAdd:    ctrl.enqueue,
		OnUpdate: func(_, obj meta.Object) { ctrl.enqueue(obj) },
		OnDelete: ctrl.enqueue,
	})
	ctrl.jobs.AddEventHandler(client.Handler{
		OnAdd:    ctrl.enqueueOwner,
		OnUpdate: func(old, cur meta.Object) { ctrl.enqueueOwner(old); ctrl.enqueueOwner(cur) },
		OnDelete: ctrl.enqueueOwner,
	})
	return ctrl
}

// Run waits for the caches to fill, then syncs CronJobs with the given
// number of workers until ctx is done. It returns when every worker has
// stopped. A Controller runs once: Run shuts its queue down on return.
func (ctrl *Controller) Run(ctx context.Context, workers int) {
	defer ctrl.queue.ShutDown()
	if !ctrl.cronJobs.WaitForSync(ctx) || !ctrl.jobs.WaitForSync(ctx) {
		return
	}
	ctrl.log.Info("started", "workers", workers)
	workqueue.Run(ctx, ctrl.queue, workers, ctrl.syncHandler)
}

func (ctrl *Controller) enqueue(obj meta.Object) { ctrl.queue.Add(client.KeyOf(obj)) }

// enqueueOwner enqueues the CronJob controlling a Job, if it is cached
// (same name and uid).
func (ctrl *Controller) enqueueOwner(obj meta.Object) {
	if cj := ctrl.ownerOf(obj.(*batch.Job)); cj != nil {
		ctrl.enqueue(cj)
	}
}

func (ctrl *Controller) ownerOf(j *batch.Job) *batch.CronJob {
	ref := controllerOf(&j.ObjectMeta)
	if ref == nil || ref.Kind != controllerKind {
		return nil
	}
	obj, ok := ctrl.cronJobs.Store().Get(j.Namespace + "/" + ref.Name)
	if !ok || obj.GetObjectMeta().UID != ref.UID {
		return nil
	}
	return obj.(*batch.CronJob)
}

// ownedJobs returns the cached Jobs cj controls.
func (ctrl *Controller) ownedJobs(cj *batch.CronJob) []*batch.Job {
	var out []*batch.Job
	for _, o := range ctrl.jobs.Store().ByIndex(client.NamespaceIndex, cj.Namespace) {
		j := o.(*batch.Job)
		if ref := controllerOf(&j.ObjectMeta); ref != nil && ref.UID == cj.UID {
			out = append(out, j)
		}
	}
	return out
}
