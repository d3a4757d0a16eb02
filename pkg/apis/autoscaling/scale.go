// Package autoscaling holds autoscaling/v1 Scale, the body of the scale
// subresource of Deployments, ReplicaSets and StatefulSets
// (kubectl scale). Scale is not stored: the API server builds it from the
// workload and writes spec.replicas back.
package autoscaling

import "minik8s/pkg/apis/meta"

// Scale is a workload's replica count.
type Scale struct {
	meta.TypeMeta   `json:",inline"`
	meta.ObjectMeta `json:"metadata,omitempty"`
	Spec            ScaleSpec   `json:"spec,omitempty"`
	Status          ScaleStatus `json:"status,omitempty"`
}

// ScaleSpec is the desired replica count.
type ScaleSpec struct {
	Replicas int32 `json:"replicas,omitempty"`
}

// ScaleStatus is the observed replica count and the workload's label
// selector in selector syntax (for kubectl and autoscalers).
type ScaleStatus struct {
	Replicas int32  `json:"replicas"`
	Selector string `json:"selector,omitempty"`
}
