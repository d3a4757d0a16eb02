// Package core holds the core/v1 kinds (group ""): Pod, Node, Namespace,
// Service, Endpoints, ConfigMap, Secret, Event, ServiceAccount,
// PersistentVolume and PersistentVolumeClaim, plus the shared shapes other
// groups embed (PodTemplateSpec, ObjectReference, ResourceList).
//
// Field names and JSON shapes are Kubernetes', so real manifests decode.
// For each kind the package offers DefaultX (fill unset fields as
// Kubernetes does; idempotent), ValidateX (the whole object, metadata
// included, every problem at once) and ValidateXUpdate (what may not
// change). All of it is pure: nothing here reads or writes the store.
package core
