package job

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"minik8s/pkg/apis"
	"minik8s/pkg/apis/batch"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/client"
	"minik8s/pkg/client/events"
	"minik8s/pkg/client/workqueue"
)

var (
	podKind = mustKind("", "pods")
	jobKind = mustKind("batch", "jobs")
)

func mustKind(group, resource string) *apis.Kind {
	k, ok := apis.ByResource(group, resource)
	if !ok {
		panic("job: kind " + resource + " is not served")
	}
	return k
}

// maxPodsPerSync caps the pods one sync creates (Kubernetes'
// MaxPodCreateDeletePerSync), so one huge Job does not hog a worker.
const maxPodsPerSync = 500

// Controller is the Job controller. Build it with New; run it once with
// Run.
type Controller struct {
	c      *client.Client
	rec    *events.Recorder
	jobs   *client.Informer
	pods   *client.Informer
	queue  *workqueue.Queue // Job keys
	orphan *workqueue.Queue // keys of pods holding the finalizer of a Job that may be gone
	exp    *expectations
	now    func() time.Time
	// backoff is the delay before failed pods are replaced. A field so
	// that tests can shorten it before Run.
	backoff backoffPolicy
	log     *slog.Logger
}

// New returns a Job controller using c for writes, the shared informers
// of f for Jobs and pods, and rec for events. It registers its informers
// with f, so f.Start must be called after New.
func New(c *client.Client, f *client.Factory, rec *events.Recorder) *Controller {
	ctrl := &Controller{
		c:       c,
		rec:     rec,
		jobs:    f.For(jobKind),
		pods:    f.For(podKind),
		queue:   workqueue.New("job"),
		orphan:  workqueue.New("job-orphan-pods"),
		exp:     newExpectations(),
		now:     time.Now,
		backoff: backoffPolicy{base: defaultBackoff, max: maxBackoff},
		log:     slog.Default().With("controller", "job"),
	}
	ctrl.jobs.AddEventHandler(client.Handler{
		OnAdd:    ctrl.enqueue,
		OnUpdate: func(_, obj meta.Object) { ctrl.enqueue(obj) },
		OnDelete: ctrl.enqueue, // sync finds it gone and forgets it
	})
	ctrl.pods.AddEventHandler(client.Handler{
		OnAdd:    ctrl.addPod,
		OnUpdate: ctrl.updatePod,
		OnDelete: ctrl.deletePod,
	})
	return ctrl
}

// Run waits for the caches to fill, then syncs Jobs (and releases the
// pods of deleted Jobs) with the given number of workers until ctx is
// done. It returns when every worker has stopped. A Controller runs once.
func (ctrl *Controller) Run(ctx context.Context, workers int) {
	defer ctrl.queue.ShutDown()
	defer ctrl.orphan.ShutDown()
	if !ctrl.jobs.WaitForSync(ctx) || !ctrl.pods.WaitForSync(ctx) {
		return
	}
	ctrl.log.Info("started", "workers", workers)
	var wg sync.WaitGroup
	wg.Go(func() { workqueue.Run(ctx, ctrl.orphan, 1, ctrl.syncOrphanPod) })
	workqueue.Run(ctx, ctrl.queue, workers, ctrl.sync)
	wg.Wait()
}

func (ctrl *Controller) enqueue(obj meta.Object) { ctrl.queue.Add(client.KeyOf(obj)) }

// ---- pod handlers: note what the expectations wait for, enqueue the Job ----

func (ctrl *Controller) addPod(obj meta.Object) {
	pod := obj.(*core.Pod)
	job := ctrl.jobOf(pod)
	if job == nil {
		ctrl.maybeOrphan(pod)
		return
	}
	key := client.KeyOf(job)
	if pod.DeletionTimestamp != nil {
		// First seen already terminating (a relist, a restart): for the
		// Job it is a deletion.
		ctrl.exp.deletionObserved(key, client.KeyOf(pod))
	} else {
		ctrl.exp.creationObserved(key)
	}
	if !hasFinalizer(pod) {
		ctrl.exp.finalizerObserved(key, pod.UID)
	}
	ctrl.queue.Add(key)
}

func (ctrl *Controller) updatePod(oldObj, newObj meta.Object) {
	old, cur := oldObj.(*core.Pod), newObj.(*core.Pod)
	if old.ResourceVersion == cur.ResourceVersion {
		return // a resync: the Job informer's own resync covers it
	}
	if oldJob := ctrl.jobOf(old); oldJob != nil && !refsEqual(controllerOf(&old.ObjectMeta), controllerOf(&cur.ObjectMeta)) {
		ctrl.enqueue(oldJob) // someone re-owned the pod: the old Job lost it
	}
	job := ctrl.jobOf(cur)
	if job == nil {
		ctrl.maybeOrphan(cur)
		return
	}
	key := client.KeyOf(job)
	if cur.DeletionTimestamp != nil {
		ctrl.exp.deletionObserved(key, client.KeyOf(cur))
	}
	if !hasFinalizer(cur) {
		ctrl.exp.finalizerObserved(key, cur.UID)
	}
	ctrl.queue.Add(key)
}

func (ctrl *Controller) deletePod(obj meta.Object) {
	pod := obj.(*core.Pod)
	job := ctrl.jobOf(pod)
	if job == nil {
		return
	}
	key := client.KeyOf(job)
	ctrl.exp.deletionObserved(key, client.KeyOf(pod))
	if _, exists := ctrl.pods.Store().Get(client.KeyOf(pod)); !exists {
		ctrl.exp.finalizerObserved(key, pod.UID) // gone: finalizer and all
	}
	ctrl.queue.Add(key)
}

// maybeOrphan queues a pod that holds the tracking finalizer but whose
// Job the cache does not know: if the Job is really gone, nobody else
// would ever remove the finalizer, and the pod would stay forever.
func (ctrl *Controller) maybeOrphan(pod *core.Pod) {
	if hasFinalizer(pod) {
		if _, exists := ctrl.pods.Store().Get(client.KeyOf(pod)); exists {
			ctrl.orphan.Add(client.KeyOf(pod))
		}
	}
}

// jobOf returns the cached Job controlling pod, or nil if its controller
// is not a Job or names one that no longer exists (same name, other uid).
func (ctrl *Controller) jobOf(pod *core.Pod) *batch.Job {
	ref := controllerOf(&pod.ObjectMeta)
	if ref == nil || ref.Kind != controllerKind {
		return nil
	}
	obj, ok := ctrl.jobs.Store().Get(pod.Namespace + "/" + ref.Name)
	if !ok || obj.GetObjectMeta().UID != ref.UID {
		return nil
	}
	return obj.(*batch.Job)
}

// ownedPods returns the cached pods job controls, in any state.
func (ctrl *Controller) ownedPods(job *batch.Job) []*core.Pod {
	var out []*core.Pod
	for _, o := range ctrl.pods.Store().ByIndex(client.NamespaceIndex, job.Namespace) {
		p := o.(*core.Pod)
		if ref := controllerOf(&p.ObjectMeta); ref != nil && ref.UID == job.UID {
			out = append(out, p)
		}
	}
	return out
}

func refsEqual(a, b *meta.OwnerReference) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.UID == b.UID && a.Name == b.Name && a.Kind == b.Kind
}
