// Package volumebinding binds PersistentVolumeClaims to
// PersistentVolumes, provisioning a hostPath volume when no existing one
// fits: a small form of Kubernetes' PV controller (binder and dynamic
// provisioner in one), enough for StatefulSet volumeClaimTemplates.
//
// For each claim that is Pending and names no volume it:
//
//  1. looks for a volume: one whose claimRef already names the claim
//     (pre-bound), else the smallest Available one with the claim's
//     storage class (unset matches unset: there is no default class) and
//     volume mode, every access mode the claim asks for, at least the
//     requested capacity, and the labels the claim's selector wants;
//  2. if there is none, provisions one: a PersistentVolume pvc-<claim uid>
//     of the requested size, hostPath /var/lib/minik8s/volumes/<namespace>/<claim>
//     (DirectoryOrCreate: the node agent creates it on first mount),
//     reclaim policy Retain, its claimRef already naming the claim;
//  3. binds both ways, in Kubernetes' order: the volume's claimRef, then
//     its status Bound; the claim's spec.volumeName, then its status Bound
//     with the volume's capacity and access modes. Each write is
//     idempotent and made with the cached resourceVersion as
//     precondition, so an interrupted bind is finished by the next sync,
//     and two claims racing for one volume cannot both get it (the loser
//     gets Conflict and looks again).
//
// It also keeps volume phases: Available without a claimRef, Bound while
// the claim exists, Released once it is deleted (the data stays; the
// volume is not offered again until an operator clears its claimRef or
// deletes it). Nothing is ever deleted: provisioned volumes are Retain.
//
// A hostPath volume is a directory on whichever node runs the pod. Its
// data survives the pod's deletion and re-creation on the same node; a
// pod scheduled onto another node finds an empty directory (minik8s does
// not yet give provisioned volumes node affinity, as local volumes have).
//
// Handlers only enqueue keys (claims "namespace/name" and volumes "name",
// on two queues); syncClaim and syncVolume converge from the caches. The
// decisions are pure functions in match.go. The caller builds the
// Controller with New before starting the informer factory, starts the
// factory, and calls Run once; Run returns when its context is done.
package volumebinding

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"minik8s/pkg/apis"
	"minik8s/pkg/apis/apierrors"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/client"
	"minik8s/pkg/client/events"
	"minik8s/pkg/client/workqueue"
)

var (
	claimKind  = mustKind("persistentvolumeclaims")
	volumeKind = mustKind("persistentvolumes")
)

func mustKind(resource string) *apis.Kind {
	k, ok := apis.ByResource("", resource)
	if !ok {
		panic("volumebinding: kind " + resource + " is not served")
	}
	return k
}

// Controller binds claims to volumes. Build it with New; run it once with
// Run.
type Controller struct {
	c       *client.Client
	rec     *events.Recorder
	claims  *client.Informer
	volumes *client.Informer
	claimQ  *workqueue.Queue // namespace/name of claims
	volumeQ *workqueue.Queue // names of volumes
	log     *slog.Logger
	root    string // where provisioned volumes live on the nodes
}

// Config configures the binder.
type Config struct {
	// Root is the node directory under which provisioned volumes live
	// (default VolumeRoot).
	Root string
}

// New returns a volume binder using c for writes, the shared informers of
// f for claims and volumes, and rec for events. It registers its
// informers with f, so f.Start must be called after New.
func New(c *client.Client, f *client.Factory, rec *events.Recorder, cfg Config) *Controller {
	if cfg.Root == "" {
		cfg.Root = VolumeRoot
	}
	ctrl := &Controller{
		root:    cfg.Root,
		c:       c,
		rec:     rec,
		claims:  f.For(claimKind),
		volumes: f.For(volumeKind),
		claimQ:  workqueue.New("volumebinding-claims"),
		volumeQ: workqueue.New("volumebinding-volumes"),
		log:     slog.Default().With("controller", "volumebinding"),
	}
	ctrl.claims.AddEventHandler(client.Handler{
		OnAdd:    func(obj meta.Object) { ctrl.claimQ.Add(client.KeyOf(obj)) },
		OnUpdate: func(_, obj meta.Object) { ctrl.claimQ.Add(client.KeyOf(obj)) },
		// A deleted claim releases its volume.
		OnDelete: func(obj meta.Object) {
			if v := obj.(*core.PersistentVolumeClaim).Spec.VolumeName; v != "" {
				ctrl.volumeQ.Add(v)
			}
		},
	})
	ctrl.volumes.AddEventHandler(client.Handler{
		OnAdd:    ctrl.volumeChanged,
		OnUpdate: func(_, obj meta.Object) { ctrl.volumeChanged(obj) },
		OnDelete: ctrl.volumeChanged,
	})
	return ctrl
}

// volumeChanged enqueues the volume, the claim its claimRef names, and,
// for a volume that may now be free, every pending claim (one of them may
// fit it).
func (ctrl *Controller) volumeChanged(obj meta.Object) {
	pv := obj.(*core.PersistentVolume)
	ctrl.volumeQ.Add(pv.Name)
	if r := pv.Spec.ClaimRef; r != nil {
		ctrl.claimQ.Add(r.Namespace + "/" + r.Name)
		return
	}
	for _, o := range ctrl.claims.Store().List() {
		if c := o.(*core.PersistentVolumeClaim); c.Spec.VolumeName == "" {
			ctrl.claimQ.Add(client.KeyOf(c))
		}
	}
}

// Run waits for the caches to fill, then syncs claims and volumes, each
// with the given number of workers, until ctx is done. It returns when
// every worker has stopped. A Controller runs once.
func (ctrl *Controller) Run(ctx context.Context, workers int) {
	defer ctrl.claimQ.ShutDown()
	defer ctrl.volumeQ.ShutDown()
	if !ctrl.claims.WaitForSync(ctx) || !ctrl.volumes.WaitForSync(ctx) {
		return
	}
	ctrl.log.Info("started", "workers", workers)
	var wg sync.WaitGroup
	wg.Go(func() { workqueue.Run(ctx, ctrl.claimQ, workers, ctrl.syncClaim) })
	wg.Go(func() { workqueue.Run(ctx, ctrl.volumeQ, workers, ctrl.syncVolume) })
	wg.Wait()
}

// syncClaim binds one claim, provisioning its volume if need be. A nil
// error means bound or nothing to do; an error retries with backoff.
func (ctrl *Controller) syncClaim(ctx context.Context, key string) error {
	obj, ok := ctrl.claims.Store().Get(key)
	if !ok {
		return nil
	}
	claim := obj.(*core.PersistentVolumeClaim) // from the cache: read only
	if claim.DeletionTimestamp != nil {
		return nil
	}
	if name := claim.Spec.VolumeName; name != "" {
		o, ok := ctrl.volumes.Store().Get(name)
		if !ok {
			return nil // waiting for the volume it names (Kubernetes does too)
		}
		pv := o.(*core.PersistentVolume)
		if pv.Spec.ClaimRef != nil && !claimedBy(pv, claim) {
			ctrl.rec.Eventf(claim, events.Warning, "FailedBinding", "volume %q already bound to a different claim", name)
			return nil
		}
		return ctrl.bind(ctx, claim, pv)
	}
	if claim.Status.Phase != core.ClaimPending && claim.Status.Phase != "" {
		return nil
	}
	var pvs []*core.PersistentVolume
	for _, o := range ctrl.volumes.Store().List() {
		pvs = append(pvs, o.(*core.PersistentVolume))
	}
	pv := findVolume(claim, pvs)
	if pv == nil {
		var err error
		if pv, err = ctrl.provision(ctx, claim); err != nil {
			return err
		}
	}
	return ctrl.bind(ctx, claim, pv)
}

// provision creates the hostPath volume of claim, or returns it if an
// earlier sync already did.
func (ctrl *Controller) provision(ctx context.Context, claim *core.PersistentVolumeClaim) (*core.PersistentVolume, error) {
	pv := newVolume(claim, ctrl.root)
	err := ctrl.c.Create(ctx, pv)
	if errors.Is(err, apierrors.ErrAlreadyExists) {
		err = ctrl.c.Get(ctx, "", pv.Name, pv)
	} else if err == nil {
		ctrl.rec.Eventf(claim, events.Normal, "ProvisioningSucceeded", "Successfully provisioned volume %s using %s", pv.Name, provisionerName)
	}
	if err != nil {
		ctrl.rec.Eventf(claim, events.Warning, "ProvisioningFailed", "Failed to provision volume: %v", err)
		return nil, fmt.Errorf("provisioning a volume for claim %s/%s: %w", claim.Namespace, claim.Name, err)
	}
	return pv, nil
}

// bind makes pv and claim point at each other and says so in both
// statuses, skipping what is already done. cachedPV and cachedClaim are
// never modified: each write starts from a copy.
func (ctrl *Controller) bind(ctx context.Context, cachedClaim *core.PersistentVolumeClaim, cachedPV *core.PersistentVolume) error {
	pv, err := meta.DeepCopy(cachedPV)
	if err != nil {
		return err
	}
	claim, err := meta.DeepCopy(cachedClaim)
	if err != nil {
		return err
	}
	if r := pv.Spec.ClaimRef; r == nil || r.UID != claim.UID {
		pv.Spec.ClaimRef = claimRef(claim)
		setAnnotation(&pv.ObjectMeta, annBoundByController, "yes")
		if err := ctrl.c.Update(ctx, pv); err != nil {
			return fmt.Errorf("binding volume %s to claim %s/%s: %w", pv.Name, claim.Namespace, claim.Name, err)
		}
	}
	if pv.Status.Phase != core.VolumeBound {
		pv.Status.Phase = core.VolumeBound
		if err := ctrl.c.UpdateStatus(ctx, pv); err != nil {
			return fmt.Errorf("marking volume %s bound: %w", pv.Name, err)
		}
	}
	if claim.Spec.VolumeName != pv.Name {
		claim.Spec.VolumeName = pv.Name
		setAnnotation(&claim.ObjectMeta, annBindCompleted, "yes")
		setAnnotation(&claim.ObjectMeta, annBoundByController, "yes")
		if err := ctrl.c.Update(ctx, claim); err != nil {
			return fmt.Errorf("binding claim %s/%s to volume %s: %w", claim.Namespace, claim.Name, pv.Name, err)
		}
	}
	if !claimBound(claim, pv) {
		claim.Status.Phase = core.ClaimBound
		claim.Status.Capacity = core.ResourceList{core.ResourceStorage: pv.Spec.Capacity[core.ResourceStorage]}
		claim.Status.AccessModes = pv.Spec.AccessModes
		if err := ctrl.c.UpdateStatus(ctx, claim); err != nil {
			return fmt.Errorf("marking claim %s/%s bound: %w", claim.Namespace, claim.Name, err)
		}
		ctrl.log.Info("bound", "claim", client.KeyOf(claim), "volume", pv.Name)
	}
	return nil
}

// syncVolume keeps one volume's phase: Available, Bound or Released.
func (ctrl *Controller) syncVolume(ctx context.Context, name string) error {
	obj, ok := ctrl.volumes.Store().Get(name)
	if !ok {
		return nil
	}
	pv := obj.(*core.PersistentVolume)
	exists, err := ctrl.claimExists(ctx, pv.Spec.ClaimRef)
	if err != nil {
		return err
	}
	phase := volumePhase(pv, exists)
	if phase == pv.Status.Phase {
		return nil
	}
	cp, err := meta.DeepCopy(pv)
	if err != nil {
		return err
	}
	cp.Status.Phase = phase
	if err := ctrl.c.UpdateStatus(ctx, cp); err != nil && !errors.Is(err, apierrors.ErrNotFound) {
		return fmt.Errorf("setting volume %s %s: %w", pv.Name, phase, err)
	}
	return nil
}

// claimExists says whether the claim ref names still exists (same UID
// when ref has one). A claim missing from the cache is looked up on the
// API server before its volume is declared Released: the cache may not
// show a claim created a moment ago.
func (ctrl *Controller) claimExists(ctx context.Context, ref *core.ObjectReference) (bool, error) {
	if ref == nil {
		return false, nil
	}
	matches := func(c *core.PersistentVolumeClaim) bool { return ref.UID == "" || c.UID == ref.UID }
	if o, ok := ctrl.claims.Store().Get(ref.Namespace + "/" + ref.Name); ok && matches(o.(*core.PersistentVolumeClaim)) {
		return true, nil
	}
	var c core.PersistentVolumeClaim
	err := ctrl.c.Get(ctx, ref.Namespace, ref.Name, &c)
	switch {
	case errors.Is(err, apierrors.ErrNotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("looking up claim %s/%s: %w", ref.Namespace, ref.Name, err)
	}
	return matches(&c), nil
}

func setAnnotation(m *meta.ObjectMeta, k, v string) {
	if m.Annotations == nil {
		m.Annotations = map[string]string{}
	}
	m.Annotations[k] = v
}
