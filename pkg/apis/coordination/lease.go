// Package coordination holds the coordination.k8s.io/v1 Lease: a small
// object that a holder renews to show it is alive. Node agents renew one
// per node (heartbeats); leader election is a compare-and-swap on one
// (optimistic concurrency through resourceVersion).
//
// The package is pure: nothing here reads or writes the store.
package coordination

import (
	"minik8s/pkg/apis/field"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/apis/validation"
)

// Lease records who holds a lock and until when.
type Lease struct {
	meta.TypeMeta   `json:",inline"`
	meta.ObjectMeta `json:"metadata,omitempty"`
	Spec            LeaseSpec `json:"spec,omitempty"`
}

// LeaseList is a list of Leases.
type LeaseList struct {
	meta.TypeMeta `json:",inline"`
	meta.ListMeta `json:"metadata"`
	Items         []Lease `json:"items"`
}

// LeaseSpec is the state of the lock. The lease is held by HolderIdentity
// until RenewTime + LeaseDurationSeconds.
type LeaseSpec struct {
	HolderIdentity       *string         `json:"holderIdentity,omitempty"`
	LeaseDurationSeconds *int32          `json:"leaseDurationSeconds,omitempty"`
	AcquireTime          *meta.MicroTime `json:"acquireTime,omitempty"`
	RenewTime            *meta.MicroTime `json:"renewTime,omitempty"`
	LeaseTransitions     *int32          `json:"leaseTransitions,omitempty"`
	Strategy             *string         `json:"strategy,omitempty"`
	PreferredHolder      *string         `json:"preferredHolder,omitempty"`
}

// ValidateLease checks the lease duration (positive) and the transition
// count (non-negative), as Kubernetes does.
func ValidateLease(l *Lease) field.ErrorList {
	errs := validation.ValidateObjectMeta(&l.ObjectMeta, true, validation.NameIsDNSSubdomain, field.NewPath("metadata"))
	sp := field.NewPath("spec")
	if d := l.Spec.LeaseDurationSeconds; d != nil {
		errs = append(errs, validation.ValidatePositive(*d, sp.Child("leaseDurationSeconds"))...)
	}
	return append(errs, validation.ValidateNonnegativePtr(l.Spec.LeaseTransitions, sp.Child("leaseTransitions"))...)
}

// ValidateLeaseUpdate checks only the metadata identity.
func ValidateLeaseUpdate(l, old *Lease) field.ErrorList {
	return validation.ValidateObjectMetaUpdate(&l.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
}
