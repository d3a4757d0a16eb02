package deployment

import (
	"context"
	"slices"

	"minik8s/pkg/apis/apps"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/client"
)

// rolloutRolling takes one step of a RollingUpdate: scale the new
// ReplicaSet up as far as maxSurge allows; if it could not grow, scale old
// ReplicaSets down as far as maxUnavailable allows; once the rollout is
// complete, trim the history. Each step waits for the ReplicaSets'
// statuses to show the previous one (their changes requeue us), which is
// what keeps the pod count within replicas + maxSurge and the available
// count at or above replicas - maxUnavailable.
func (ctrl *Controller) rolloutRolling(ctx context.Context, d, cached *apps.Deployment, rsList []*apps.ReplicaSet) error {
	newRS, oldRSs, err := ctrl.replicaSetsAndSyncRevision(ctx, d, rsList, true)
	if err != nil {
		return err
	}
	all := append(slices.Clone(oldRSs), newRS)

	if n := rollingNewReplicas(d, all, newRS); n != rsReplicas(newRS) {
		scaled, err := ctrl.scaleRS(ctx, d, newRS, n)
		if err != nil {
			return err
		}
		if scaled {
			return ctrl.syncRolloutStatus(ctx, d, cached, all, newRS)
		}
	}
	if ops := rollingOldScaleDown(d, oldRSs, newRS); len(ops) > 0 {
		if err := ctrl.applyScale(ctx, d, ops); err != nil {
			return err
		}
		return ctrl.syncRolloutStatus(ctx, d, cached, all, newRS)
	}
	if complete(d, &d.Status) {
		if err := ctrl.cleanup(ctx, d, oldRSs); err != nil {
			return err
		}
	}
	return ctrl.syncRolloutStatus(ctx, d, cached, all, newRS)
}

// rolloutRecreate takes one step of a Recreate rollout: scale every old
// ReplicaSet to zero; wait until no old pod exists at all (not even a
// terminating one); only then create or scale up the new ReplicaSet. Old
// and new pods therefore never run at the same time.
func (ctrl *Controller) rolloutRecreate(ctx context.Context, d, cached *apps.Deployment, rsList []*apps.ReplicaSet) error {
	newRS, oldRSs, err := ctrl.replicaSetsAndSyncRevision(ctx, d, rsList, false)
	if err != nil {
		return err
	}
	var ops []scaleOp
	for _, rs := range oldRSs {
		if rsReplicas(rs) > 0 {
			ops = append(ops, scaleOp{rs, 0})
		}
	}
	if len(ops) > 0 {
		if err := ctrl.applyScale(ctx, d, ops); err != nil {
			return err
		}
		return ctrl.syncRolloutStatus(ctx, d, cached, append(oldRSs, newRS), newRS)
	}
	if ctrl.oldPodsExist(oldRSs) {
		// The pod informer's deletions requeue us.
		return ctrl.syncRolloutStatus(ctx, d, cached, append(oldRSs, newRS), newRS)
	}
	if newRS == nil {
		if newRS, oldRSs, err = ctrl.replicaSetsAndSyncRevision(ctx, d, rsList, true); err != nil {
			return err
		}
	}
	if _, err := ctrl.scaleRS(ctx, d, newRS, replicas(d)); err != nil {
		return err
	}
	if complete(d, &d.Status) {
		if err := ctrl.cleanup(ctx, d, oldRSs); err != nil {
			return err
		}
	}
	return ctrl.syncRolloutStatus(ctx, d, cached, append(oldRSs, newRS), newRS)
}

// oldPodsExist says whether any pod of the old ReplicaSets still exists
// and has not finished: by their statuses, or, since those lag, by the
// pod cache (where terminating pods count too: their containers may
// still run).
func (ctrl *Controller) oldPodsExist(oldRSs []*apps.ReplicaSet) bool {
	if len(oldRSs) == 0 {
		return false
	}
	old := map[string]bool{}
	for _, rs := range oldRSs {
		if rs.Status.Replicas > 0 {
			return true
		}
		old[rs.UID] = true
	}
	for _, obj := range ctrl.pods.Store().ByIndex(client.NamespaceIndex, oldRSs[0].Namespace) {
		pod := obj.(*core.Pod)
		ref := controllerOf(&pod.ObjectMeta)
		if ref == nil || !old[ref.UID] {
			continue
		}
		if pod.Status.Phase != core.PodSucceeded && pod.Status.Phase != core.PodFailed {
			return true
		}
	}
	return false
}
