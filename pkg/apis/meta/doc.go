// Package meta holds the object metadata every minik8s API object carries:
// TypeMeta (apiVersion, kind), ObjectMeta (name, namespace, uid,
// resourceVersion, labels, ...), list metadata, the Status error object,
// label selectors and conditions. Field names and JSON shapes are those of
// Kubernetes' meta/v1, so real manifests and kubectl round-trip unchanged.
//
// The package is pure data: no I/O, no knowledge of storage or HTTP.
package meta
