// Package namespace empties namespaces that are being deleted, then lets
// them go.
//
// Deleting a Namespace does not remove it: because its spec.finalizers
// holds "kubernetes", the API server only marks it (deletionTimestamp,
// status.phase Terminating) and from then on refuses to create anything
// in it. This controller, for each such namespace:
//
//  1. deletes the objects of every namespaced kind in the pkg/apis table
//     (one DELETE of the collection per kind, in the background: the
//     garbage collector takes care of dependents elsewhere);
//  2. lists every kind again, live from the API server, and, while
//     anything is left (pods still terminating on their node, objects
//     held by finalizers), records what remains in the namespace's
//     NamespaceContentRemaining condition and checks again later;
//  3. once nothing is left, removes "kubernetes" from spec.finalizers;
//     that update deletes the namespace.
//
// It decides "empty" from live lists, never from a cache: a lagging cache
// could let the namespace go while objects remain, and they would then
// live on, unreachable, in storage. Live lists are enough because no
// object can be added to a terminating namespace.
//
// The caller starts the informer factory and the event recorder; Run
// waits for the caches, then works until its context ends. The
// controller never touches a namespace that is not being deleted, nor one
// whose "kubernetes" finalizer is already gone.
package namespace

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"minik8s/pkg/apis"
	"minik8s/pkg/apis/apierrors"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/client"
	"minik8s/pkg/client/events"
	"minik8s/pkg/client/workqueue"
)

// Controller is the namespace controller. Create it with New, run it
// once with Run.
type Controller struct {
	c          *client.Client
	rec        *events.Recorder
	queue      *workqueue.Queue
	log        *slog.Logger
	namespaces *client.Informer
	pods       *client.Informer
	now        func() time.Time // the clock of condition times and recheck delays
}

// New returns a namespace controller that watches namespaces and pods
// through f. The caller starts f and rec.
func New(c *client.Client, f *client.Factory, rec *events.Recorder) *Controller {
	nsKind, _ := apis.ByResource("", "namespaces")
	podKind, _ := apis.ByResource("", "pods")
	nc := &Controller{
		c:          c,
		rec:        rec,
		queue:      workqueue.New("namespace"),
		log:        slog.Default().With("controller", "namespace"),
		namespaces: f.For(nsKind),
		pods:       f.For(podKind),
		now:        time.Now,
	}
	nc.namespaces.AddEventHandler(client.Handler{
		OnAdd:    nc.enqueueIfTerminating,
		OnUpdate: func(_, obj meta.Object) { nc.enqueueIfTerminating(obj) },
	})
	// The slow part of emptying a namespace is waiting for pods to finish
	// terminating on their nodes: check again as soon as one is gone.
	nc.pods.AddEventHandler(client.Handler{
		OnDelete: func(obj meta.Object) {
			if ns, ok := nc.namespaces.Store().Get(obj.GetObjectMeta().Namespace); ok {
				nc.enqueueIfTerminating(ns)
			}
		},
	})
	return nc
}

func (nc *Controller) enqueueIfTerminating(obj meta.Object) {
	if obj.GetObjectMeta().DeletionTimestamp != nil {
		nc.queue.Add(client.KeyOf(obj))
	}
}

// Run waits for the caches, then empties terminating namespaces with the
// given number of workers until ctx is done. It returns when every worker
// has stopped.
func (nc *Controller) Run(ctx context.Context, workers int) {
	if !nc.namespaces.WaitForSync(ctx) || !nc.pods.WaitForSync(ctx) {
		nc.queue.ShutDown()
		return
	}
	workqueue.Run(ctx, nc.queue, workers, nc.sync)
}

// sync advances the deletion of one namespace by one round: delete what
// is there, look at what is left, and either finalize or check again
// later.
func (nc *Controller) sync(ctx context.Context, name string) error {
	obj, ok := nc.namespaces.Store().Get(name)
	if !ok {
		return nil
	}
	ns := obj.(*core.Namespace)
	if ns.DeletionTimestamp == nil || !slices.Contains(ns.Spec.Finalizers, core.FinalizerKubernetes) {
		return nil
	}
	left, err := nc.deleteContent(ctx, name)
	if err != nil {
		nc.rec.Eventf(ns, events.Warning, "NamespaceDeletionFailed", "Deleting the content of namespace %s: %v", name, err)
		return err
	}
	if len(left) > 0 {
		if err := nc.reportRemaining(ctx, ns, left); err != nil {
			return err
		}
		delay := recheckAfter(left, nc.now())
		nc.log.Info("namespace not empty yet", "namespace", name, "remaining", summary(left), "recheckIn", delay)
		nc.queue.AddAfter(name, delay)
		return nil
	}
	return nc.finalize(ctx, ns)
}

// deleteContent deletes every object of every namespaced kind in the
// namespace and returns, read afresh, what is still there.
func (nc *Controller) deleteContent(ctx context.Context, ns string) ([]remaining, error) {
	var left []remaining
	for _, k := range apis.All() {
		if !k.Namespaced {
			continue
		}
		items, _, err := nc.c.List(ctx, k, ns, client.ListOptions{})
		if err != nil {
			return nil, fmt.Errorf("listing %s in namespace %s: %w", k.Resource, ns, err)
		}
		if slices.ContainsFunc(items, notMarked) {
			if err := nc.deleteCollection(ctx, k, ns); err != nil {
				return nil, err
			}
			if items, _, err = nc.c.List(ctx, k, ns, client.ListOptions{}); err != nil {
				return nil, fmt.Errorf("listing %s in namespace %s: %w", k.Resource, ns, err)
			}
		}
		for _, it := range items {
			left = append(left, remaining{kind: k, meta: *it.GetObjectMeta()})
		}
	}
	return left, nil
}

func notMarked(obj meta.Object) bool { return obj.GetObjectMeta().DeletionTimestamp == nil }

// deleteCollection is DELETE on the collection of kind k in namespace ns
// (Kubernetes' deletecollection verb), with background propagation.
func (nc *Controller) deleteCollection(ctx context.Context, k *apis.Kind, ns string) error {
	policy := meta.DeletePropagationBackground
	body, _ := json.Marshal(&meta.DeleteOptions{PropagationPolicy: &policy})
	err := nc.c.Do(ctx, http.MethodDelete, client.Path(k, ns, "", ""), nil, "application/json", body, nil)
	if err != nil {
		return fmt.Errorf("deleting all %s in namespace %s: %w", k.Resource, ns, err)
	}
	return nil
}

// finalize removes the "kubernetes" finalizer from the namespace, read
// afresh and updated with compare-and-swap. The API server deletes the
// namespace when the update leaves it without finalizers.
func (nc *Controller) finalize(ctx context.Context, cached *core.Namespace) error {
	var ns core.Namespace
	if err := nc.c.Get(ctx, "", cached.Name, &ns); err != nil {
		return ignoreNotFound(err)
	}
	if ns.UID != cached.UID {
		return nil // a new namespace of the same name: not ours to finalize
	}
	ns.Spec.Finalizers = slices.DeleteFunc(ns.Spec.Finalizers, func(f string) bool { return f == core.FinalizerKubernetes })
	if err := nc.c.Update(ctx, &ns); err != nil {
		return ignoreNotFound(fmt.Errorf("finalizing namespace %s: %w", ns.Name, err))
	}
	nc.log.Info("namespace emptied and finalized", "namespace", ns.Name)
	return nil
}

// reportRemaining sets the NamespaceContentRemaining condition (as
// Kubernetes does) so that `kubectl get ns -o yaml` says what the
// namespace waits for. It writes only when the message changes.
func (nc *Controller) reportRemaining(ctx context.Context, cached *core.Namespace, left []remaining) error {
	cond := meta.Condition{
		Type: "NamespaceContentRemaining", Status: meta.ConditionTrue, Reason: "SomeResourcesRemain",
		Message: "Some resources are remaining: " + summary(left), LastTransitionTime: meta.NewTime(nc.now()),
	}
	conds, changed := setCondition(cached.Status.Conditions, cond)
	if !changed {
		return nil
	}
	var ns core.Namespace
	if err := nc.c.Get(ctx, "", cached.Name, &ns); err != nil {
		return ignoreNotFound(err)
	}
	ns.Status.Conditions = conds
	if err := nc.c.UpdateStatus(ctx, &ns); err != nil && !errors.Is(err, apierrors.ErrConflict) {
		// A conflict only means the condition waits for the next round.
		return ignoreNotFound(fmt.Errorf("updating status of namespace %s: %w", ns.Name, err))
	}
	return nil
}

// ---- pure parts ----

// remaining is one object still in a terminating namespace.
type remaining struct {
	kind *apis.Kind
	meta meta.ObjectMeta
}

// Bounds of the wait before looking at a terminating namespace again.
// Pod deletions also trigger a look at once; the wait covers everything
// else (objects held by finalizers, pods whose node is slow).
const (
	minRecheck = time.Second
	maxRecheck = 15 * time.Second
)

// recheckAfter says when to look at the namespace again: when the first
// remaining pod's grace period ends (its node agent should have deleted it
// by then), within [minRecheck, maxRecheck]. Objects held by finalizers
// are usually released within moments, so they ask for minRecheck.
func recheckAfter(left []remaining, now time.Time) time.Duration {
	d := maxRecheck
	for _, r := range left {
		wait := minRecheck
		if r.kind.Kind == "Pod" && r.meta.DeletionTimestamp != nil {
			wait = r.meta.DeletionTimestamp.Sub(now)
		}
		d = min(d, max(wait, minRecheck))
	}
	return d
}

// summary counts the remaining objects per resource, as Kubernetes'
// condition message does: "configmaps has 2 resource instances, pods
// has 1 resource instances".
func summary(left []remaining) string {
	counts := map[string]int{}
	for _, r := range left {
		counts[r.kind.Resource]++
	}
	parts := make([]string, 0, len(counts))
	for res, n := range counts {
		parts = append(parts, fmt.Sprintf("%s has %d resource instances", res, n))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// setCondition returns conds with c in place of the condition of the same
// type, and whether that changed anything beyond the transition time.
func setCondition(conds []meta.Condition, c meta.Condition) ([]meta.Condition, bool) {
	out := slices.Clone(conds)
	for i, old := range out {
		if old.Type != c.Type {
			continue
		}
		if old.Status == c.Status && old.Reason == c.Reason && old.Message == c.Message {
			return conds, false
		}
		if old.Status == c.Status {
			c.LastTransitionTime = old.LastTransitionTime
		}
		out[i] = c
		return out, true
	}
	return append(out, c), true
}

func ignoreNotFound(err error) error {
	if errors.Is(err, apierrors.ErrNotFound) {
		return nil
	}
	return err
}
