package daemonset

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"

	"minik8s/pkg/apis/apierrors"
	"minik8s/pkg/apis/apps"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/client"
	"minik8s/pkg/client/events"
)

// sync converges one DaemonSet: one pod on each eligible node, the
// rolling update's next step, then the status. A nil error means
// converged or waiting for the next change; an error retries the key
// with backoff.
func (ctrl *Controller) sync(ctx context.Context, key string) error {
	obj, ok := ctrl.dsInf.Store().Get(key)
	if !ok {
		ctrl.exp.Forget(key)
		return nil // deleted; its pods are the garbage collector's
	}
	ds := obj.(*apps.DaemonSet) // from the cache: read only
	hash := templateHash(ds)

	// Read what the expectations allow before looking at the pods: a
	// change seen between the two reads is then at worst not trusted yet,
	// never counted twice.
	satisfied := ctrl.exp.Satisfied(key)
	views, err := ctrl.view(ds, hash)
	if err != nil {
		return err
	}
	var actErr error
	if satisfied && ds.DeletionTimestamp == nil {
		p := manage(views)
		if p.empty() && ds.Spec.UpdateStrategy.Type != apps.OnDeleteStrategyType {
			p.del = rollingUpdate(ds, views, hash, ctrl.now())
		}
		actErr = ctrl.execute(ctx, ds, p, hash)
	}
	if err := ctrl.updateStatus(ctx, ds, views, hash); err != nil {
		return err
	}
	return actErr
}

// view reads the nodes and ds's own pods from the caches and groups them.
func (ctrl *Controller) view(ds *apps.DaemonSet, hash string) ([]*nodeView, error) {
	var nodes []*core.Node
	for _, o := range ctrl.nodes.Store().List() {
		nodes = append(nodes, o.(*core.Node))
	}
	var pods []*core.Pod
	for _, o := range ctrl.pods.Store().ByIndex(client.NamespaceIndex, ds.Namespace) {
		p := o.(*core.Pod)
		if ref := controllerOf(&p.ObjectMeta); ref != nil && ref.UID == ds.UID {
			pods = append(pods, p)
		}
	}
	var probeErr error
	views := view(nodes, pods, func(node string) *core.Pod {
		p, err := newPod(ds, node, hash)
		if err != nil {
			probeErr = err
			return &core.Pod{}
		}
		return p
	})
	return views, probeErr
}

// execute carries out p, at most burstPods creations and deletions,
// recording them in the expectations first (the informer may report a
// pod before its Create call returns). Creations and deletions run in
// parallel; the first error is returned after all have been tried.
func (ctrl *Controller) execute(ctx context.Context, ds *apps.DaemonSet, p plan, hash string) error {
	if p.empty() {
		return nil
	}
	key := client.KeyOf(ds)
	create := p.create[:min(len(p.create), burstPods)]
	del := p.del[:min(len(p.del), burstPods)]
	delKeys := make([]string, len(del))
	for i, pod := range del {
		delKeys[i] = client.KeyOf(pod)
	}
	ctrl.exp.Expect(key, len(create), delKeys)

	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if first == nil {
			first = err
		}
	}
	for _, node := range create {
		wg.Go(func() {
			if err := ctrl.createPod(ctx, ds, node, hash); err != nil {
				ctrl.exp.CreationObserved(key) // it will never be seen
				fail(err)
			}
		})
	}
	for i, pod := range del {
		wg.Go(func() {
			if err := ctrl.deletePodOf(ctx, ds, pod); err != nil {
				ctrl.exp.DeletionObserved(key, delKeys[i]) // it will not happen
				fail(err)
			}
		})
	}
	wg.Wait()
	return first
}

func (ctrl *Controller) createPod(ctx context.Context, ds *apps.DaemonSet, node, hash string) error {
	pod, err := newPod(ds, node, hash)
	if err != nil {
		return err
	}
	if err := ctrl.c.Create(ctx, pod); err != nil {
		ctrl.rec.Eventf(ds, events.Warning, "FailedCreate", "Error creating: %v", err)
		return fmt.Errorf("creating the pod of %s for node %s: %w", ds.Name, node, err)
	}
	ctrl.rec.Eventf(ds, events.Normal, "SuccessfulCreate", "Created pod: %s", pod.Name)
	return nil
}

func (ctrl *Controller) deletePodOf(ctx context.Context, ds *apps.DaemonSet, pod *core.Pod) error {
	// The uid precondition makes sure we delete the pod we chose, not a
	// namesake created since.
	uid := pod.UID
	err := ctrl.c.Delete(ctx, podKind, pod.Namespace, pod.Name, &meta.DeleteOptions{Preconditions: &meta.Preconditions{UID: &uid}})
	switch {
	case errors.Is(err, apierrors.ErrNotFound):
		return nil // already gone; the informer will say so
	case err != nil:
		ctrl.rec.Eventf(ds, events.Warning, "FailedDelete", "Error deleting: %v", err)
		return fmt.Errorf("deleting pod %s of %s: %w", pod.Name, ds.Name, err)
	}
	ctrl.rec.Eventf(ds, events.Normal, "SuccessfulDelete", "Deleted pod: %s", pod.Name)
	return nil
}

// updateStatus writes ds's status if it changed, and schedules a sync for
// when the next ready pod becomes available (minReadySeconds).
func (ctrl *Controller) updateStatus(ctx context.Context, ds *apps.DaemonSet, views []*nodeView, hash string) error {
	st, next := calculateStatus(ds, views, hash, ctrl.now())
	if next > 0 {
		ctrl.queue.AddAfter(client.KeyOf(ds), next)
	}
	if reflect.DeepEqual(st, ds.Status) {
		return nil
	}
	return client.UpdateStatusOf(ctx, ctrl.c, ds, func(o *apps.DaemonSet) { o.Status = st })
}
