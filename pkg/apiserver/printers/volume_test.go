package printers

import (
	"testing"
	"time"

	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/apis/resource"
)

func TestPersistentVolumeColumns(t *testing.T) {
	pv := &core.PersistentVolume{
		ObjectMeta: meta.ObjectMeta{Name: "pv-1", CreationTimestamp: ago(2 * time.Hour)},
		Spec: core.PersistentVolumeSpec{
			Capacity:                      core.ResourceList{core.ResourceStorage: resource.MustParse("10Gi")},
			AccessModes:                   []string{core.ReadWriteMany, core.ReadWriteOnce, core.ReadWriteOnce},
			PersistentVolumeReclaimPolicy: core.PersistentVolumeReclaimRetain,
			ClaimRef:                      &core.ObjectReference{Namespace: "default", Name: "data"},
			StorageClassName:              "local",
			VolumeMode:                    ptr(core.PersistentVolumeFilesystem),
		},
		Status: core.PersistentVolumeStatus{Phase: core.VolumeBound},
	}
	checkCells(t, "bound", row(t, "", "persistentvolumes", pv), map[string]any{
		"Name": "pv-1", "Capacity": "10Gi", "Access Modes": "RWO,RWX", "Reclaim Policy": "Retain",
		"Status": "Bound", "Claim": "default/data", "StorageClass": "local", "VolumeAttributesClass": "<unset>",
		"Reason": "", "Age": "120m", "VolumeMode": "Filesystem",
	})

	pv.DeletionTimestamp = agoPtr(0)
	pv.Annotations = map[string]string{"volume.beta.kubernetes.io/storage-class": "legacy"}
	checkCells(t, "deleting", row(t, "", "persistentvolumes", pv), map[string]any{
		"Status": "Terminating", "StorageClass": "legacy",
	})
	checkCells(t, "empty", row(t, "", "persistentvolumes", &core.PersistentVolume{}), map[string]any{
		"Capacity": "0", "Access Modes": "", "Claim": "", "VolumeMode": "<unset>",
	})
}

func TestPersistentVolumeClaimColumns(t *testing.T) {
	pending := &core.PersistentVolumeClaim{
		ObjectMeta: meta.ObjectMeta{Name: "data", CreationTimestamp: ago(time.Minute)},
		Spec: core.PersistentVolumeClaimSpec{
			AccessModes: []string{core.ReadWriteOnce},
			Resources:   core.VolumeResourceRequirements{Requests: core.ResourceList{core.ResourceStorage: resource.MustParse("1Gi")}},
		},
		Status: core.PersistentVolumeClaimStatus{Phase: core.ClaimPending},
	}
	checkCells(t, "pending", row(t, "", "persistentvolumeclaims", pending), map[string]any{
		"Name": "data", "Status": "Pending", "Volume": "", "Capacity": "", "Access Modes": "",
		"StorageClass": "", "VolumeAttributesClass": "<unset>", "Age": "60s", "VolumeMode": "<unset>",
	})

	bound := &core.PersistentVolumeClaim{
		ObjectMeta: meta.ObjectMeta{Name: "data"},
		Spec:       core.PersistentVolumeClaimSpec{VolumeName: "pv-1", StorageClassName: ptr("standard")},
		Status: core.PersistentVolumeClaimStatus{Phase: core.ClaimBound, AccessModes: []string{core.ReadWriteOncePod},
			Capacity: core.ResourceList{core.ResourceStorage: resource.MustParse("10Gi")}},
	}
	checkCells(t, "bound", row(t, "", "persistentvolumeclaims", bound), map[string]any{
		"Status": "Bound", "Volume": "pv-1", "Capacity": "10Gi", "Access Modes": "RWOP", "StorageClass": "standard",
	})
}
