package apps

import (
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/intstr"
)

// Defaults follow k8s.io/kubernetes/pkg/apis/apps/v1/defaults.go; each
// function is idempotent.

// DefaultDeployment defaults replicas 1, a RollingUpdate strategy of
// 25% unavailable / 25% surge, 10 revisions of history, a 600 s progress
// deadline, and the pod template.
func DefaultDeployment(d *Deployment) {
	s := &d.Spec
	if s.Replicas == nil {
		s.Replicas = ptr(int32(1))
	}
	if s.Strategy.Type == "" {
		s.Strategy.Type = RollingUpdateDeploymentStrategyType
	}
	if s.Strategy.Type == RollingUpdateDeploymentStrategyType {
		if s.Strategy.RollingUpdate == nil {
			s.Strategy.RollingUpdate = &RollingUpdateDeployment{}
		}
		if s.Strategy.RollingUpdate.MaxUnavailable == nil {
			s.Strategy.RollingUpdate.MaxUnavailable = ptr(intstr.FromString("25%"))
		}
		if s.Strategy.RollingUpdate.MaxSurge == nil {
			s.Strategy.RollingUpdate.MaxSurge = ptr(intstr.FromString("25%"))
		}
	}
	if s.RevisionHistoryLimit == nil {
		s.RevisionHistoryLimit = ptr(int32(10))
	}
	if s.ProgressDeadlineSeconds == nil {
		s.ProgressDeadlineSeconds = ptr(int32(600))
	}
	core.DefaultPodTemplateSpec(&s.Template)
}

// DefaultReplicaSet defaults replicas 1 and the pod template.
func DefaultReplicaSet(rs *ReplicaSet) {
	if rs.Spec.Replicas == nil {
		rs.Spec.Replicas = ptr(int32(1))
	}
	core.DefaultPodTemplateSpec(&rs.Spec.Template)
}

// DefaultStatefulSet defaults replicas 1, OrderedReady pod management, a
// RollingUpdate strategy with partition 0, 10 revisions of history, the
// Retain claim policy, the pod template and the claim templates.
func DefaultStatefulSet(ss *StatefulSet) {
	s := &ss.Spec
	if s.Replicas == nil {
		s.Replicas = ptr(int32(1))
	}
	if s.PodManagementPolicy == "" {
		s.PodManagementPolicy = OrderedReadyPodManagement
	}
	if s.UpdateStrategy.Type == "" {
		s.UpdateStrategy.Type = RollingUpdateStrategyType
	}
	if s.UpdateStrategy.Type == RollingUpdateStrategyType {
		if s.UpdateStrategy.RollingUpdate == nil {
			s.UpdateStrategy.RollingUpdate = &RollingUpdateStatefulSetStrategy{}
		}
		if s.UpdateStrategy.RollingUpdate.Partition == nil {
			s.UpdateStrategy.RollingUpdate.Partition = ptr(int32(0))
		}
	}
	if s.RevisionHistoryLimit == nil {
		s.RevisionHistoryLimit = ptr(int32(10))
	}
	if s.PersistentVolumeClaimRetentionPolicy == nil {
		s.PersistentVolumeClaimRetentionPolicy = &StatefulSetPersistentVolumeClaimRetentionPolicy{}
	}
	if s.PersistentVolumeClaimRetentionPolicy.WhenDeleted == "" {
		s.PersistentVolumeClaimRetentionPolicy.WhenDeleted = RetainPersistentVolumeClaimRetentionPolicyType
	}
	if s.PersistentVolumeClaimRetentionPolicy.WhenScaled == "" {
		s.PersistentVolumeClaimRetentionPolicy.WhenScaled = RetainPersistentVolumeClaimRetentionPolicyType
	}
	for i := range s.VolumeClaimTemplates {
		if s.VolumeClaimTemplates[i].Spec.VolumeMode == nil {
			s.VolumeClaimTemplates[i].Spec.VolumeMode = ptr(core.PersistentVolumeFilesystem)
		}
	}
	core.DefaultPodTemplateSpec(&s.Template)
}

// DefaultDaemonSet defaults a RollingUpdate strategy with maxUnavailable
// 1 and maxSurge 0, 10 revisions of history and the pod template.
func DefaultDaemonSet(ds *DaemonSet) {
	s := &ds.Spec
	if s.UpdateStrategy.Type == "" {
		s.UpdateStrategy.Type = RollingUpdateStrategyType
	}
	if s.UpdateStrategy.Type == RollingUpdateStrategyType {
		if s.UpdateStrategy.RollingUpdate == nil {
			s.UpdateStrategy.RollingUpdate = &RollingUpdateDaemonSet{}
		}
		if s.UpdateStrategy.RollingUpdate.MaxUnavailable == nil {
			s.UpdateStrategy.RollingUpdate.MaxUnavailable = ptr(intstr.FromInt(1))
		}
		if s.UpdateStrategy.RollingUpdate.MaxSurge == nil {
			s.UpdateStrategy.RollingUpdate.MaxSurge = ptr(intstr.FromInt(0))
		}
	}
	if s.RevisionHistoryLimit == nil {
		s.RevisionHistoryLimit = ptr(int32(10))
	}
	core.DefaultPodTemplateSpec(&s.Template)
}

func ptr[T any](v T) *T { return &v }
