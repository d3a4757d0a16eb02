package printers

import (
	"slices"
	"strings"
	"time"

	"minik8s/pkg/apis/core"
)

var persistentVolumePrinter = &Printer{
	Columns: []Column{
		nameColumn,
		{Name: "Capacity", Type: "string", Description: "capacity is the description of the persistent volume's resources and capacity."},
		{Name: "Access Modes", Type: "string", Description: "accessModes contains all ways the volume can be mounted."},
		{Name: "Reclaim Policy", Type: "string", Description: "persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim."},
		{Name: "Status", Type: "string", Description: "phase indicates if a volume is available, bound to a claim, or released by a claim."},
		{Name: "Claim", Type: "string", Description: "claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim."},
		{Name: "StorageClass", Type: "string", Description: "StorageClass of the pv"},
		{Name: "VolumeAttributesClass", Type: "string", Description: "VolumeAttributesClass of the pv"},
		{Name: "Reason", Type: "string", Description: "reason is a brief CamelCase string that describes any failure."},
		ageColumn,
		{Name: "VolumeMode", Type: "string", Priority: 1, Description: "volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state."},
	},
	Row: rowOf(func(pv *core.PersistentVolume, now time.Time) []any {
		claim := ""
		if ref := pv.Spec.ClaimRef; ref != nil {
			claim = ref.Namespace + "/" + ref.Name
		}
		storageClass := pv.Annotations[annStorageClass]
		if storageClass == "" {
			storageClass = pv.Spec.StorageClassName
		}
		capacity := pv.Spec.Capacity[core.ResourceStorage]
		return []any{
			pv.Name,
			capacity.String(),
			accessModes(pv.Spec.AccessModes),
			pv.Spec.PersistentVolumeReclaimPolicy,
			volumePhase(pv.Status.Phase, pv.DeletionTimestamp != nil),
			claim,
			storageClass,
			unset, // minik8s has no VolumeAttributesClasses
			pv.Status.Reason,
			age(&pv.ObjectMeta, now),
			volumeMode(pv.Spec.VolumeMode),
		}
	}),
}

var persistentVolumeClaimPrinter = &Printer{
	Columns: []Column{
		nameColumn,
		{Name: "Status", Type: "string", Description: "phase represents the current phase of PersistentVolumeClaim."},
		{Name: "Volume", Type: "string", Description: "volumeName is the binding reference to the PersistentVolume backing this claim."},
		{Name: "Capacity", Type: "string", Description: "capacity represents the actual resources of the underlying volume."},
		{Name: "Access Modes", Type: "string", Description: "accessModes contains the actual access modes the volume backing the PVC has."},
		{Name: "StorageClass", Type: "string", Description: "StorageClass of the pvc"},
		{Name: "VolumeAttributesClass", Type: "string", Description: "VolumeAttributesClass of the pvc"},
		ageColumn,
		{Name: "VolumeMode", Type: "string", Priority: 1, Description: "volumeMode defines what type of volume is required by the claim."},
	},
	Row: rowOf(func(pvc *core.PersistentVolumeClaim, now time.Time) []any {
		// Capacity and access modes are the bound volume's: empty
		// until the claim is bound.
		capacity, modes := "", ""
		if pvc.Spec.VolumeName != "" {
			q := pvc.Status.Capacity[core.ResourceStorage]
			capacity, modes = q.String(), accessModes(pvc.Status.AccessModes)
		}
		storageClass := pvc.Annotations[annStorageClass]
		if storageClass == "" && pvc.Spec.StorageClassName != nil {
			storageClass = *pvc.Spec.StorageClassName
		}
		return []any{
			pvc.Name,
			volumePhase(pvc.Status.Phase, pvc.DeletionTimestamp != nil),
			pvc.Spec.VolumeName,
			capacity,
			modes,
			storageClass,
			unset, // minik8s has no VolumeAttributesClasses
			age(&pvc.ObjectMeta, now),
			volumeMode(pvc.Spec.VolumeMode),
		}
	}),
}

// annStorageClass is the beta annotation that, when set, overrides
// storageClassName.
const annStorageClass = "volume.beta.kubernetes.io/storage-class"

// volumePhase is the phase, or "Terminating" while deleting.
func volumePhase(phase string, deleting bool) string {
	if deleting {
		return "Terminating"
	}
	return phase
}

// volumeMode is the volume mode, or "<unset>".
func volumeMode(m *string) string {
	if m == nil {
		return unset
	}
	return *m
}

// accessModes abbreviates access modes in a fixed order, each once:
// "RWO,ROX,RWX,RWOP".
func accessModes(modes []string) string {
	var out []string
	for _, m := range []struct{ mode, short string }{
		{core.ReadWriteOnce, "RWO"},
		{core.ReadOnlyMany, "ROX"},
		{core.ReadWriteMany, "RWX"},
		{core.ReadWriteOncePod, "RWOP"},
	} {
		if slices.Contains(modes, m.mode) {
			out = append(out, m.short)
		}
	}
	return strings.Join(out, ",")
}
