// Package apiserver is the HTTP face of minik8s: Kubernetes' REST paths for
// every kind in the pkg/apis table, over the store in pkg/store.
//
// A request flows through the same few stages whatever its kind:
//
//	resolve path -> decode (JSON/YAML, strict fields) -> prepare (server-owned
//	fields, generation, status vs spec) -> default -> validate -> admit
//	(namespace exists, kind-specific rules) -> store (create-if-absent or
//	compare-and-swap on resourceVersion) -> encode
//
// Kinds are data: the HTTP layer never names one. The little that differs
// per kind (graceful deletion of pods, terminating namespaces, scale and
// binding subresources) lives in hooks.go, keyed by resource.
//
// The server keeps no state of its own beyond caches: etcd is the source of
// truth, so any number of API servers can run against one etcd, and one can
// be killed at any time without losing an acknowledged write.
package apiserver
