// Package apis is the table of every kind minik8s serves. Each entry says
// where the kind lives in the API (group, version, resource, scope), how to
// make an empty one, and its pure defaulting and validation functions.
// Adding a kind is adding one entry here plus its types; the API server and
// the client find everything else through the table.
package apis

import (
	"minik8s/pkg/apis/field"
	"minik8s/pkg/apis/meta"
)

// Kind describes one served kind.
type Kind struct {
	Group    string // "" for the core group
	Version  string
	Kind     string // e.g. "Pod"
	ListKind string // e.g. "PodList"
	Resource string // plural lower-case, e.g. "pods"
	// Namespaced is false for cluster-scoped kinds (Node, Namespace).
	Namespaced bool
	ShortNames []string
	Categories []string
	// New returns an empty object of this kind (a pointer to the struct).
	New func() meta.Object
	// Default fills unset fields as Kubernetes does; may be nil. It is
	// idempotent, so the API server may run it on every create and update.
	Default func(obj meta.Object)
	// Validate checks the WHOLE object, metadata included (name or
	// generateName, namespace present for namespaced kinds and absent for
	// cluster-scoped ones, labels, annotations, ownerReferences,
	// finalizers), and returns every problem at once; never nil for a
	// served kind. The API server calls it on create, after setting
	// metadata.name from generateName and metadata.namespace from the URL;
	// it does not require the server-owned uid, resourceVersion or
	// creationTimestamp.
	Validate func(obj meta.Object) field.ErrorList
	// ValidateUpdate checks an update against the stored object: identity
	// metadata and immutable fields. The API server calls Validate on the
	// new object and then ValidateUpdate; never nil for a served kind.
	ValidateUpdate func(obj, old meta.Object) field.ErrorList
	// SelectableFields lists the field-selector paths beyond metadata.name
	// and metadata.namespace, such as "spec.nodeName" (JSON names).
	SelectableFields []string
	// Subresources served besides the object itself: "status", "scale",
	// "binding", "log".
	Subresources []string
}

// APIVersion is "group/version", or just "version" for the core group.
func (k *Kind) APIVersion() string {
	if k.Group == "" {
		return k.Version
	}
	return k.Group + "/" + k.Version
}

// HasSubresource says whether the kind serves sub.
func (k *Kind) HasSubresource(sub string) bool {
	for _, s := range k.Subresources {
		if s == sub {
			return true
		}
	}
	return false
}
