package volumebinding

import (
	"slices"

	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/labels"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/apis/resource"
)

// This file holds the pure decisions: which volume a claim gets, what a
// new volume looks like, and what "bound" means for each side.

// VolumeRoot is the directory under which provisioned volumes live on a
// node: the volume of claim data-web-0 in namespace default is
// VolumeRoot/default/data-web-0.
const VolumeRoot = "/var/lib/minik8s/volumes" // the default of Config.Root

// Annotations the Kubernetes PV controller writes, kept for kubectl and
// for anyone reading the objects.
const (
	annBindCompleted     = "pv.kubernetes.io/bind-completed"
	annBoundByController = "pv.kubernetes.io/bound-by-controller"
	annProvisionedBy     = "pv.kubernetes.io/provisioned-by"
	provisionerName      = "minik8s.io/hostpath"
)

// classOf is the claim's storage class; nil means "" (minik8s has no
// default StorageClass, so an unset class matches volumes without one).
func classOf(c *core.PersistentVolumeClaim) string {
	if c.Spec.StorageClassName == nil {
		return ""
	}
	return *c.Spec.StorageClassName
}

func volumeModeOf(m *string) string {
	if m == nil {
		return core.PersistentVolumeFilesystem
	}
	return *m
}

// request is the storage the claim asks for.
func request(c *core.PersistentVolumeClaim) resource.Quantity {
	return c.Spec.Resources.Requests[core.ResourceStorage]
}

// claimedBy says whether pv's claimRef names claim (by UID when the ref
// has one: a claim deleted and re-created under the same name is another
// claim).
func claimedBy(pv *core.PersistentVolume, c *core.PersistentVolumeClaim) bool {
	r := pv.Spec.ClaimRef
	return r != nil && r.Namespace == c.Namespace && r.Name == c.Name && (r.UID == "" || r.UID == c.UID)
}

// fits says whether pv can serve claim c (Kubernetes' findMatchingVolume
// checks): same storage class and volume mode, every access mode the
// claim asks for, enough capacity, and the claim's selector if any.
func fits(pv *core.PersistentVolume, c *core.PersistentVolumeClaim) bool {
	if pv.Spec.StorageClassName != classOf(c) || volumeModeOf(pv.Spec.VolumeMode) != volumeModeOf(c.Spec.VolumeMode) {
		return false
	}
	for _, m := range c.Spec.AccessModes {
		if !slices.Contains(pv.Spec.AccessModes, m) {
			return false
		}
	}
	capacity, ok := pv.Spec.Capacity[core.ResourceStorage]
	if !ok || capacity.Cmp(request(c)) < 0 {
		return false
	}
	if c.Spec.Selector != nil {
		sel, err := labels.SelectorFromLabelSelector(c.Spec.Selector)
		if err != nil || !sel.Matches(pv.Labels) {
			return false
		}
	}
	return true
}

// available says whether pv is free to be bound: no claim, and not a
// released or failed volume (those keep their data for an operator).
func available(pv *core.PersistentVolume) bool {
	return pv.Spec.ClaimRef == nil && pv.DeletionTimestamp == nil &&
		pv.Status.Phase != core.VolumeReleased && pv.Status.Phase != core.VolumeFailed
}

// findVolume returns the volume claim c should bind to, or nil if a new
// one must be provisioned: a volume already reserved for c (its claimRef
// names c: pre-bound by an operator, or provisioned by an interrupted
// sync) first, else the smallest available volume that fits, ties broken
// by name so that the choice is stable.
func findVolume(c *core.PersistentVolumeClaim, pvs []*core.PersistentVolume) *core.PersistentVolume {
	var best *core.PersistentVolume
	for _, pv := range pvs {
		if pv.DeletionTimestamp != nil {
			continue
		}
		if claimedBy(pv, c) {
			return pv
		}
		if !available(pv) || !fits(pv, c) {
			continue
		}
		if best == nil {
			best = pv
			continue
		}
		a, b := pv.Spec.Capacity[core.ResourceStorage], best.Spec.Capacity[core.ResourceStorage]
		if d := a.Cmp(b); d < 0 || d == 0 && pv.Name < best.Name {
			best = pv
		}
	}
	return best
}

// volumeName is the name of the volume provisioned for c, as Kubernetes'
// dynamic provisioning names it: pvc-<claim uid>. Being deterministic, a
// second attempt finds the first instead of making a second volume.
func volumeName(c *core.PersistentVolumeClaim) string { return "pvc-" + c.UID }

// newVolume returns the hostPath volume provisioned for c: the requested
// size and access modes, its directory under root (created by the
// node agent on first mount), reserved for c, and Retain, so that the
// data outlives the claim until an operator deletes it.
func newVolume(c *core.PersistentVolumeClaim, root string) *core.PersistentVolume {
	dirOrCreate := "DirectoryOrCreate"
	mode := volumeModeOf(c.Spec.VolumeMode)
	return &core.PersistentVolume{
		ObjectMeta: meta.ObjectMeta{
			Name:        volumeName(c),
			Annotations: map[string]string{annProvisionedBy: provisionerName, annBoundByController: "yes"},
		},
		Spec: core.PersistentVolumeSpec{
			Capacity: core.ResourceList{core.ResourceStorage: request(c)},
			// Named after the volume (the claim's uid), so a new claim of the same
			// name never sees an old claim's data.
			HostPath:                      &core.HostPathVolumeSource{Path: root + "/" + volumeName(c), Type: &dirOrCreate},
			AccessModes:                   slices.Clone(c.Spec.AccessModes),
			ClaimRef:                      claimRef(c),
			PersistentVolumeReclaimPolicy: core.PersistentVolumeReclaimRetain,
			StorageClassName:              classOf(c),
			VolumeMode:                    &mode,
		},
	}
}

// claimRef is the reference a volume bound to c holds.
func claimRef(c *core.PersistentVolumeClaim) *core.ObjectReference {
	return &core.ObjectReference{Kind: "PersistentVolumeClaim", APIVersion: "v1",
		Namespace: c.Namespace, Name: c.Name, UID: c.UID, ResourceVersion: c.ResourceVersion}
}

// claimBound says whether c's status already says it is bound to pv with
// pv's capacity and access modes.
func claimBound(c *core.PersistentVolumeClaim, pv *core.PersistentVolume) bool {
	have, want := c.Status.Capacity[core.ResourceStorage], pv.Spec.Capacity[core.ResourceStorage]
	return c.Spec.VolumeName == pv.Name && c.Status.Phase == core.ClaimBound &&
		have.Cmp(want) == 0 && slices.Equal(c.Status.AccessModes, pv.Spec.AccessModes)
}

// volumePhase is the phase pv should have, given whether the claim its
// claimRef names still exists (claimExists; ignored without a claimRef):
// Available when free, Bound while its claim exists, Released once that
// claim is gone (Retain: the data stays, nobody else gets it).
func volumePhase(pv *core.PersistentVolume, claimExists bool) string {
	switch {
	case pv.Spec.ClaimRef == nil:
		return core.VolumeAvailable
	case claimExists:
		return core.VolumeBound
	case pv.Spec.ClaimRef.UID == "":
		return core.VolumeAvailable // reserved by name for a claim to come
	default:
		return core.VolumeReleased
	}
}
