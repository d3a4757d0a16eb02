package strategicpatch

import "strings"

// Schema tells the merge how a list at a path merges. Path is the JSON path
// of the list with list indices removed, e.g.
// "spec.template.spec.containers". Merge reports whether the list merges at
// all; mergeKey names the field that identifies the elements of a list of
// objects, and is "" for a list of primitives merged as a set. Return key ""
// and merge=false for "replace". A non-empty key with merge=false also
// means replace.
type Schema interface {
	ListStrategy(path string) (mergeKey string, merge bool)
}

// KubernetesSchema is the Schema of the built-in Kubernetes kinds: the
// patchMergeKey and patchStrategy struct tags of k8s.io/api, for the lists
// kubectl patches. Rules match a suffix of the path, so a pod spec's rules
// apply at any depth (a Pod, a Deployment's template, a CronJob's
// jobTemplate); when several suffixes match, the longest wins, which keeps a
// container's "ports" apart from a Service's "spec.ports". Lists without a
// rule are replaced. The zero value is ready to use.
type KubernetesSchema struct{}

// listRule is how one list merges; the zero value means replace.
type listRule struct {
	key   string // merge key, "" for a set of primitives or for replace
	merge bool
}

// kubernetesLists maps a path suffix to its rule. It is read-only.
var kubernetesLists = map[string]listRule{
	// core/v1 PodSpec.
	"containers":                        {key: "name", merge: true},
	"initContainers":                    {key: "name", merge: true},
	"ephemeralContainers":               {key: "name", merge: true},
	"volumes":                           {key: "name", merge: true},
	"imagePullSecrets":                  {key: "name", merge: true},
	"hostAliases":                       {key: "ip", merge: true},
	"topologySpreadConstraints":         {key: "topologyKey", merge: true},
	"tolerations":                       {}, // no patchMergeKey in Kubernetes
	"containers.ports":                  {key: "containerPort", merge: true},
	"initContainers.ports":              {key: "containerPort", merge: true},
	"ephemeralContainers.ports":         {key: "containerPort", merge: true},
	"containers.env":                    {key: "name", merge: true},
	"initContainers.env":                {key: "name", merge: true},
	"ephemeralContainers.env":           {key: "name", merge: true},
	"containers.volumeMounts":           {key: "mountPath", merge: true},
	"initContainers.volumeMounts":       {key: "mountPath", merge: true},
	"ephemeralContainers.volumeMounts":  {key: "mountPath", merge: true},
	"containers.volumeDevices":          {key: "devicePath", merge: true},
	"initContainers.volumeDevices":      {key: "devicePath", merge: true},
	"ephemeralContainers.volumeDevices": {key: "devicePath", merge: true},

	// ObjectMeta.
	"metadata.ownerReferences": {key: "uid", merge: true},
	"metadata.finalizers":      {merge: true},

	// Status conditions of every kind, Service ports, Endpoints subsets.
	"conditions": {key: "type", merge: true},
	"spec.ports": {key: "port", merge: true},
	"subsets":    {},
}

// ListStrategy returns the rule of the longest suffix of path that has one.
func (KubernetesSchema) ListStrategy(path string) (mergeKey string, merge bool) {
	segments := strings.Split(path, ".")
	for i := range segments {
		if r, ok := kubernetesLists[strings.Join(segments[i:], ".")]; ok {
			return r.key, r.merge
		}
	}
	return "", false
}
