package garbagecollector

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"strings"

	"minik8s/pkg/apis"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/client"
	"minik8s/pkg/client/events"
	"minik8s/pkg/client/workqueue"
)

// ownerUIDIndex files every cached object under the uids of its owners,
// so that the dependents of X are ByIndex(ownerUIDIndex, X's uid) in each
// kind's store: the edges of the ownership graph, read backwards.
const ownerUIDIndex = "garbagecollector.ownerUID"

func ownerUIDs(obj meta.Object) []string {
	refs := obj.GetObjectMeta().OwnerReferences
	out := make([]string, 0, len(refs))
	for _, r := range refs {
		out = append(out, r.UID)
	}
	return out
}

// Controller is the garbage collector. Create it with New, run it once
// with Run.
type Controller struct {
	c     *client.Client
	rec   *events.Recorder
	queue *workqueue.Queue
	log   *slog.Logger
	// informers holds the shared informer of every served kind; kinds is
	// the same set in the table's order, for deterministic iteration.
	informers map[*apis.Kind]*client.Informer
	kinds     []*apis.Kind
}

// New returns a garbage collector that watches every kind in the
// pkg/apis table through f. The caller starts f and rec.
func New(c *client.Client, f *client.Factory, rec *events.Recorder) *Controller {
	gc := &Controller{
		c:         c,
		rec:       rec,
		queue:     workqueue.New("garbagecollector"),
		log:       slog.Default().With("controller", "garbagecollector"),
		informers: map[*apis.Kind]*client.Informer{},
	}
	for _, k := range apis.All() {
		inf := f.For(k)
		// The only error is "index exists": another collector built on
		// the same factory added the same index before.
		_ = inf.Store().AddIndexers(map[string]client.IndexFunc{ownerUIDIndex: ownerUIDs})
		inf.AddEventHandler(client.Handler{
			OnAdd:    func(obj meta.Object) { gc.changed(k, nil, obj) },
			OnUpdate: func(old, obj meta.Object) { gc.changed(k, old, obj) },
			OnDelete: gc.deleted,
		})
		gc.informers[k] = inf
		gc.kinds = append(gc.kinds, k)
	}
	return gc
}

// Run waits for every cache to fill, then collects garbage with the given
// number of workers until ctx is done. It returns when every worker has
// stopped.
func (gc *Controller) Run(ctx context.Context, workers int) {
	for _, k := range gc.kinds {
		if !gc.informers[k].WaitForSync(ctx) {
			gc.queue.ShutDown()
			return
		}
	}
	gc.log.Info("caches synced; collecting", "kinds", len(gc.kinds))
	workqueue.Run(ctx, gc.queue, workers, gc.sync)
}

// ---- handlers: they only enqueue keys ----

// changed enqueues what a new or updated object may call for: the object
// itself if it has owners or a collector finalizer; when it is being
// deleted, its dependents (a foreground owner needs them deleted) and its
// owners (a waiting owner may be able to finish); and the owners it no
// longer references (they may have been waiting for it).
func (gc *Controller) changed(k *apis.Kind, old, obj meta.Object) {
	if needsAttention(obj) {
		gc.enqueue(k, obj)
	}
	if obj.GetObjectMeta().DeletionTimestamp != nil {
		gc.enqueueDependents(obj.GetObjectMeta().UID)
		gc.enqueueOwners(obj, obj.GetObjectMeta().OwnerReferences)
	}
	if old != nil && !reflect.DeepEqual(old.GetObjectMeta().OwnerReferences, obj.GetObjectMeta().OwnerReferences) {
		gc.enqueueOwners(obj, old.GetObjectMeta().OwnerReferences)
	}
}

// deleted enqueues the dependents of an object that is gone (they may now
// be garbage) and its owners (one may be waiting for it to go).
func (gc *Controller) deleted(obj meta.Object) {
	gc.enqueueDependents(obj.GetObjectMeta().UID)
	gc.enqueueOwners(obj, obj.GetObjectMeta().OwnerReferences)
}

func (gc *Controller) enqueue(k *apis.Kind, obj meta.Object) {
	m := obj.GetObjectMeta()
	gc.queue.Add(objRef{kind: k, namespace: m.Namespace, name: m.Name}.key())
}

func (gc *Controller) enqueueDependents(uid string) {
	for _, k := range gc.kinds {
		for _, d := range gc.informers[k].Store().ByIndex(ownerUIDIndex, uid) {
			gc.enqueue(k, d)
		}
	}
}

func (gc *Controller) enqueueOwners(dependent meta.Object, refs []meta.OwnerReference) {
	for _, r := range refs {
		if o, ok := ownerRef(dependent, r); ok {
			gc.queue.Add(o.key())
		}
	}
}

// dependentsOf returns every cached object that references the owner uid,
// with its kind.
func (gc *Controller) dependentsOf(uid string) []objRef {
	var out []objRef
	for _, k := range gc.kinds {
		for _, d := range gc.informers[k].Store().ByIndex(ownerUIDIndex, uid) {
			m := d.GetObjectMeta()
			out = append(out, objRef{kind: k, namespace: m.Namespace, name: m.Name})
		}
	}
	return out
}

// cached returns the cached object ref names, if any. Never modify it.
func (gc *Controller) cached(ref objRef) (meta.Object, bool) {
	inf, ok := gc.informers[ref.kind]
	if !ok {
		return nil, false
	}
	return inf.Store().Get(ref.storeKey())
}

// ---- object references and queue keys ----

// objRef names one object of one kind. Its queue key is the kind's
// resource (with ".group" outside the core group), then the cache key, as
// kubectl writes them: "pods/default/web-1", "nodes/n1",
// "replicasets.apps/default/web".
type objRef struct {
	kind      *apis.Kind
	namespace string // "" for cluster-scoped kinds
	name      string
}

func (r objRef) storeKey() string {
	if r.namespace == "" {
		return r.name
	}
	return r.namespace + "/" + r.name
}

func (r objRef) key() string {
	res := r.kind.Resource
	if r.kind.Group != "" {
		res += "." + r.kind.Group
	}
	return res + "/" + r.storeKey()
}

func (r objRef) String() string { return r.key() }

// parseKey is the inverse of objRef.key.
func parseKey(key string) (objRef, error) {
	res, rest, ok := strings.Cut(key, "/")
	if !ok {
		return objRef{}, fmt.Errorf("queue key %q is not resource/name", key)
	}
	resource, group, _ := strings.Cut(res, ".")
	k, ok := apis.ByResource(group, resource)
	if !ok {
		return objRef{}, fmt.Errorf("queue key %q: unknown resource %q", key, res)
	}
	ns, name := client.SplitKey(rest)
	return objRef{kind: k, namespace: ns, name: name}, nil
}

// ownerRef resolves an ownerReference of dependent to the object it
// names. It reports false for a kind not in the table. A namespaced owner
// lives in its dependent's namespace (Kubernetes forbids cross-namespace
// owners); a cluster-scoped dependent cannot have one, so such a reference
// resolves to a name that never exists and is treated as dangling.
func ownerRef(dependent meta.Object, r meta.OwnerReference) (objRef, bool) {
	group := "" // "v1": the core group
	if g, _, ok := strings.Cut(r.APIVersion, "/"); ok {
		group = g // "apps/v1"
	}
	k, ok := apis.ByKind(group, r.Kind)
	if !ok {
		return objRef{}, false
	}
	ref := objRef{kind: k, name: r.Name}
	if k.Namespaced {
		ref.namespace = dependent.GetObjectMeta().Namespace
	}
	return ref, true
}
