package endpoints

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"

	"minik8s/pkg/apis"
	"minik8s/pkg/apis/apierrors"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/labels"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/client"
	"minik8s/pkg/client/events"
	"minik8s/pkg/client/workqueue"
)

var (
	podKind       = mustKind("pods")
	serviceKind   = mustKind("services")
	endpointsKind = mustKind("endpoints")
)

func mustKind(resource string) *apis.Kind {
	k, ok := apis.ByResource("", resource)
	if !ok {
		panic("endpoints: kind " + resource + " is not served")
	}
	return k
}

// Controller is the Endpoints controller. Build it with New; run it once
// with Run.
type Controller struct {
	c         *client.Client
	rec       *events.Recorder
	services  *client.Informer
	pods      *client.Informer
	endpoints *client.Informer
	queue     *workqueue.Queue
	log       *slog.Logger
}

// New returns an Endpoints controller using c for writes, the shared
// informers of f for Services, pods and Endpoints, and rec for events. It
// registers its informers with f, so f.Start must be called after New.
func New(c *client.Client, f *client.Factory, rec *events.Recorder) *Controller {
	ctrl := &Controller{
		c:         c,
		rec:       rec,
		services:  f.For(serviceKind),
		pods:      f.For(podKind),
		endpoints: f.For(endpointsKind),
		queue:     workqueue.New("endpoints"),
		log:       slog.Default().With("controller", "endpoints"),
	}
	ctrl.services.AddEventHandler(client.Handler{
		OnAdd:    ctrl.enqueue,
		OnUpdate: func(_, obj meta.Object) { ctrl.enqueue(obj) },
		OnDelete: ctrl.enqueue,
	})
	ctrl.pods.AddEventHandler(client.Handler{
		OnAdd: ctrl.enqueueServicesOf,
		OnUpdate: func(old, cur meta.Object) {
			ctrl.enqueueServicesOf(old)
			ctrl.enqueueServicesOf(cur)
		},
		OnDelete: ctrl.enqueueServicesOf,
	})
	// An Endpoints changed or deleted by someone else is put back; one
	// left over from a Service deleted while no controller ran is removed.
	ctrl.endpoints.AddEventHandler(client.Handler{
		OnAdd:    ctrl.enqueue,
		OnUpdate: func(_, obj meta.Object) { ctrl.enqueue(obj) },
		OnDelete: ctrl.enqueue,
	})
	return ctrl
}

// Run waits for the caches to fill, then syncs Services with the given
// number of workers until ctx is done. It returns when every worker has
// stopped. A Controller runs once: Run shuts its queue down on return.
func (ctrl *Controller) Run(ctx context.Context, workers int) {
	defer ctrl.queue.ShutDown()
	for _, inf := range []*client.Informer{ctrl.services, ctrl.pods, ctrl.endpoints} {
		if !inf.WaitForSync(ctx) {
			return
		}
	}
	ctrl.log.Info("started", "workers", workers)
	workqueue.Run(ctx, ctrl.queue, workers, ctrl.sync)
}

func (ctrl *Controller) enqueue(obj meta.Object) { ctrl.queue.Add(client.KeyOf(obj)) }

// enqueueServicesOf enqueues the Services of the pod's namespace whose
// selector matches the pod.
func (ctrl *Controller) enqueueServicesOf(obj meta.Object) {
	pod := obj.(*core.Pod)
	for _, o := range ctrl.services.Store().ByIndex(client.NamespaceIndex, pod.Namespace) {
		svc := o.(*core.Service)
		if len(svc.Spec.Selector) > 0 && labels.SelectorFromSet(svc.Spec.Selector).Matches(pod.Labels) {
			ctrl.enqueue(svc)
		}
	}
}

// sync converges the Endpoints of the Service with key: deleted with the
// Service, left alone without a selector, else written when its subsets
// differ from what the pods say.
func (ctrl *Controller) sync(ctx context.Context, key string) error {
	ns, name := client.SplitKey(key)
	obj, ok := ctrl.services.Store().Get(key)
	if !ok {
		if _, exists := ctrl.endpoints.Store().Get(key); !exists {
			return nil
		}
		err := ctrl.c.Delete(ctx, endpointsKind, ns, name, nil)
		if errors.Is(err, apierrors.ErrNotFound) {
			return nil
		}
		return err
	}
	svc := obj.(*core.Service)
	if len(svc.Spec.Selector) == 0 || svc.Spec.Type == core.ServiceTypeExternalName {
		return nil
	}
	want := &core.Endpoints{
		ObjectMeta: meta.ObjectMeta{Name: name, Namespace: ns, Labels: endpointsLabels(svc)},
		Subsets:    Subsets(svc, ctrl.selectedPods(svc)),
	}
	cur, exists := ctrl.endpoints.Store().Get(key)
	if !exists {
		err := ctrl.c.Create(ctx, want)
		if errors.Is(err, apierrors.ErrAlreadyExists) {
			return err // the cache is behind; retry once it has caught up
		}
		return ctrl.report(svc, err)
	}
	old := cur.(*core.Endpoints)
	if same(old.Subsets, want.Subsets) && same(old.Labels, want.Labels) {
		return nil
	}
	// Only fields the controller owns change; the rest (annotations,
	// resourceVersion for the compare-and-swap) come from the cached
	// object, copied first: cached objects are shared.
	next := *old
	next.ObjectMeta.Labels = want.Labels
	next.Subsets = want.Subsets
	return ctrl.report(svc, ctrl.c.Update(ctx, &next))
}

// report records a failed write as an event on the Service, then returns
// it so the key is retried with backoff.
func (ctrl *Controller) report(svc *core.Service, err error) error {
	if err != nil && !errors.Is(err, apierrors.ErrConflict) {
		ctrl.rec.Eventf(svc, core.EventTypeWarning, "FailedToUpdateEndpoint", "Failed to update endpoint %s/%s: %v", svc.Namespace, svc.Name, err)
	}
	return err
}

// selectedPods returns the cached pods of svc's namespace its selector
// matches.
func (ctrl *Controller) selectedPods(svc *core.Service) []*core.Pod {
	sel := labels.SelectorFromSet(svc.Spec.Selector)
	var out []*core.Pod
	for _, o := range ctrl.pods.Store().ByIndex(client.NamespaceIndex, svc.Namespace) {
		if pod := o.(*core.Pod); sel.Matches(pod.Labels) {
			out = append(out, pod)
		}
	}
	return out
}

// endpointsLabels are the Service's labels plus, for a headless Service,
// Kubernetes' service.kubernetes.io/headless marker.
func endpointsLabels(svc *core.Service) map[string]string {
	out := map[string]string{}
	for k, v := range svc.Labels {
		out[k] = v
	}
	if svc.Spec.ClusterIP == core.ClusterIPNone {
		out["service.kubernetes.io/headless"] = ""
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// same compares two values as the API server stores them (JSON), so nil
// and empty lists or maps count as equal.
func same(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}
