package apis

import (
	"reflect"
	"sync"

	"minik8s/pkg/apis/apps"
	"minik8s/pkg/apis/batch"
	"minik8s/pkg/apis/coordination"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/field"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/apis/rbac"
)

// GroupVersion names one API group version, such as apps/v1.
type GroupVersion struct {
	Group   string // "" for the core group
	Version string
}

// String is "group/version", or "version" for the core group.
func (gv GroupVersion) String() string {
	if gv.Group == "" {
		return gv.Version
	}
	return gv.Group + "/" + gv.Version
}

var allCategories = []string{"all"}

// table builds the list of served kinds. Order matters only for
// discovery output: core first, then groups as Kubernetes lists them.
func table() []*Kind {
	return []*Kind{
		// core/v1
		{
			Version: "v1", Kind: "Namespace", ListKind: "NamespaceList", Resource: "namespaces",
			ShortNames: []string{"ns"},
			New:        func() meta.Object { return &core.Namespace{} },
			Default:    defaulter(core.DefaultNamespace), Validate: validator(core.ValidateNamespace),
			ValidateUpdate:   updateValidator(core.ValidateNamespaceUpdate),
			SelectableFields: []string{"status.phase"},
			Subresources:     []string{"status"},
		},
		{
			Version: "v1", Kind: "Pod", ListKind: "PodList", Resource: "pods", Namespaced: true,
			ShortNames: []string{"po"}, Categories: allCategories,
			New:     func() meta.Object { return &core.Pod{} },
			Default: defaulter(core.DefaultPod), Validate: validator(core.ValidatePod),
			ValidateUpdate: updateValidator(core.ValidatePodUpdate),
			SelectableFields: []string{"spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
				"spec.serviceAccountName", "status.phase", "status.podIP", "status.nominatedNodeName"},
			Subresources: []string{"status", "binding", "log"},
		},
		{
			Version: "v1", Kind: "Node", ListKind: "NodeList", Resource: "nodes",
			ShortNames: []string{"no"},
			New:        func() meta.Object { return &core.Node{} },
			Default:    defaulter(core.DefaultNode), Validate: validator(core.ValidateNode),
			ValidateUpdate:   updateValidator(core.ValidateNodeUpdate),
			SelectableFields: []string{"spec.unschedulable"},
			Subresources:     []string{"status"},
		},
		{
			Version: "v1", Kind: "Service", ListKind: "ServiceList", Resource: "services", Namespaced: true,
			ShortNames: []string{"svc"}, Categories: allCategories,
			New:     func() meta.Object { return &core.Service{} },
			Default: defaulter(core.DefaultService), Validate: validator(core.ValidateService),
			ValidateUpdate: updateValidator(core.ValidateServiceUpdate),
			Subresources:   []string{"status"},
		},
		{
			Version: "v1", Kind: "Endpoints", ListKind: "EndpointsList", Resource: "endpoints", Namespaced: true,
			ShortNames: []string{"ep"},
			New:        func() meta.Object { return &core.Endpoints{} },
			Default:    defaulter(core.DefaultEndpoints), Validate: validator(core.ValidateEndpoints),
			ValidateUpdate: updateValidator(core.ValidateEndpointsUpdate),
		},
		{
			Version: "v1", Kind: "ConfigMap", ListKind: "ConfigMapList", Resource: "configmaps", Namespaced: true,
			ShortNames: []string{"cm"},
			New:        func() meta.Object { return &core.ConfigMap{} },
			Validate:   validator(core.ValidateConfigMap), ValidateUpdate: updateValidator(core.ValidateConfigMapUpdate),
		},
		{
			Version: "v1", Kind: "Secret", ListKind: "SecretList", Resource: "secrets", Namespaced: true,
			New:     func() meta.Object { return &core.Secret{} },
			Default: defaulter(core.DefaultSecret), Validate: validator(core.ValidateSecret),
			ValidateUpdate:   updateValidator(core.ValidateSecretUpdate),
			SelectableFields: []string{"type"},
		},
		{
			Version: "v1", Kind: "Event", ListKind: "EventList", Resource: "events", Namespaced: true,
			ShortNames: []string{"ev"},
			New:        func() meta.Object { return &core.Event{} },
			Validate:   validator(core.ValidateEvent), ValidateUpdate: updateValidator(core.ValidateEventUpdate),
			// "source" selects on source.component, as in Kubernetes.
			SelectableFields: []string{"involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
				"involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion",
				"involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"},
		},
		{
			Version: "v1", Kind: "ServiceAccount", ListKind: "ServiceAccountList", Resource: "serviceaccounts", Namespaced: true,
			ShortNames: []string{"sa"},
			New:        func() meta.Object { return &core.ServiceAccount{} },
			Validate:   validator(core.ValidateServiceAccount), ValidateUpdate: updateValidator(core.ValidateServiceAccountUpdate),
			// token is the TokenRequest subresource (POST only).
			Subresources: []string{"token"},
		},
		{
			Version: "v1", Kind: "PersistentVolume", ListKind: "PersistentVolumeList", Resource: "persistentvolumes",
			ShortNames: []string{"pv"},
			New:        func() meta.Object { return &core.PersistentVolume{} },
			Default:    defaulter(core.DefaultPersistentVolume), Validate: validator(core.ValidatePersistentVolume),
			ValidateUpdate: updateValidator(core.ValidatePersistentVolumeUpdate),
			Subresources:   []string{"status"},
		},
		{
			Version: "v1", Kind: "PersistentVolumeClaim", ListKind: "PersistentVolumeClaimList", Resource: "persistentvolumeclaims", Namespaced: true,
			ShortNames: []string{"pvc"},
			New:        func() meta.Object { return &core.PersistentVolumeClaim{} },
			Default:    defaulter(core.DefaultPersistentVolumeClaim), Validate: validator(core.ValidatePersistentVolumeClaim),
			ValidateUpdate: updateValidator(core.ValidatePersistentVolumeClaimUpdate),
			Subresources:   []string{"status"},
		},
		// apps/v1
		{
			Group: "apps", Version: "v1", Kind: "Deployment", ListKind: "DeploymentList", Resource: "deployments", Namespaced: true,
			ShortNames: []string{"deploy"}, Categories: allCategories,
			New:     func() meta.Object { return &apps.Deployment{} },
			Default: defaulter(apps.DefaultDeployment), Validate: validator(apps.ValidateDeployment),
			ValidateUpdate: updateValidator(apps.ValidateDeploymentUpdate),
			Subresources:   []string{"status", "scale"},
		},
		{
			Group: "apps", Version: "v1", Kind: "ReplicaSet", ListKind: "ReplicaSetList", Resource: "replicasets", Namespaced: true,
			ShortNames: []string{"rs"}, Categories: allCategories,
			New:     func() meta.Object { return &apps.ReplicaSet{} },
			Default: defaulter(apps.DefaultReplicaSet), Validate: validator(apps.ValidateReplicaSet),
			ValidateUpdate: updateValidator(apps.ValidateReplicaSetUpdate),
			Subresources:   []string{"status", "scale"},
		},
		{
			Group: "apps", Version: "v1", Kind: "StatefulSet", ListKind: "StatefulSetList", Resource: "statefulsets", Namespaced: true,
			ShortNames: []string{"sts"}, Categories: allCategories,
			New:     func() meta.Object { return &apps.StatefulSet{} },
			Default: defaulter(apps.DefaultStatefulSet), Validate: validator(apps.ValidateStatefulSet),
			ValidateUpdate: updateValidator(apps.ValidateStatefulSetUpdate),
			Subresources:   []string{"status", "scale"},
		},
		{
			Group: "apps", Version: "v1", Kind: "DaemonSet", ListKind: "DaemonSetList", Resource: "daemonsets", Namespaced: true,
			ShortNames: []string{"ds"}, Categories: allCategories,
			New:     func() meta.Object { return &apps.DaemonSet{} },
			Default: defaulter(apps.DefaultDaemonSet), Validate: validator(apps.ValidateDaemonSet),
			ValidateUpdate: updateValidator(apps.ValidateDaemonSetUpdate),
			Subresources:   []string{"status"},
		},
		{
			Group: "apps", Version: "v1", Kind: "ControllerRevision", ListKind: "ControllerRevisionList", Resource: "controllerrevisions", Namespaced: true,
			New:      func() meta.Object { return &apps.ControllerRevision{} },
			Validate: validator(apps.ValidateControllerRevision), ValidateUpdate: updateValidator(apps.ValidateControllerRevisionUpdate),
		},
		// batch/v1
		{
			Group: "batch", Version: "v1", Kind: "Job", ListKind: "JobList", Resource: "jobs", Namespaced: true,
			Categories: allCategories,
			New:        func() meta.Object { return &batch.Job{} },
			Default:    defaulter(batch.DefaultJob), Validate: validator(batch.ValidateJob),
			ValidateUpdate: updateValidator(batch.ValidateJobUpdate),
			Subresources:   []string{"status"},
		},
		{
			Group: "batch", Version: "v1", Kind: "CronJob", ListKind: "CronJobList", Resource: "cronjobs", Namespaced: true,
			ShortNames: []string{"cj"}, Categories: allCategories,
			New:     func() meta.Object { return &batch.CronJob{} },
			Default: defaulter(batch.DefaultCronJob), Validate: validator(batch.ValidateCronJob),
			ValidateUpdate: updateValidator(batch.ValidateCronJobUpdate),
			Subresources:   []string{"status"},
		},
		// coordination.k8s.io/v1
		{
			Group: "coordination.k8s.io", Version: "v1", Kind: "Lease", ListKind: "LeaseList", Resource: "leases", Namespaced: true,
			New:      func() meta.Object { return &coordination.Lease{} },
			Validate: validator(coordination.ValidateLease), ValidateUpdate: updateValidator(coordination.ValidateLeaseUpdate),
		},
		// rbac.authorization.k8s.io/v1
		{
			Group: rbac.GroupName, Version: "v1", Kind: "ClusterRole", ListKind: "ClusterRoleList", Resource: "clusterroles",
			New:      func() meta.Object { return &rbac.ClusterRole{} },
			Validate: validator(rbac.ValidateClusterRole), ValidateUpdate: updateValidator(rbac.ValidateClusterRoleUpdate),
		},
		{
			Group: rbac.GroupName, Version: "v1", Kind: "ClusterRoleBinding", ListKind: "ClusterRoleBindingList", Resource: "clusterrolebindings",
			New:      func() meta.Object { return &rbac.ClusterRoleBinding{} },
			Validate: validator(rbac.ValidateClusterRoleBinding), ValidateUpdate: updateValidator(rbac.ValidateClusterRoleBindingUpdate),
		},
		{
			Group: rbac.GroupName, Version: "v1", Kind: "Role", ListKind: "RoleList", Resource: "roles", Namespaced: true,
			New:      func() meta.Object { return &rbac.Role{} },
			Validate: validator(rbac.ValidateRole), ValidateUpdate: updateValidator(rbac.ValidateRoleUpdate),
		},
		{
			Group: rbac.GroupName, Version: "v1", Kind: "RoleBinding", ListKind: "RoleBindingList", Resource: "rolebindings", Namespaced: true,
			New:      func() meta.Object { return &rbac.RoleBinding{} },
			Validate: validator(rbac.ValidateRoleBinding), ValidateUpdate: updateValidator(rbac.ValidateRoleBindingUpdate),
		},
	}
}

// defaulter adapts a typed Default function to the table's signature.
// It panics if obj is not a T: the caller looked up the wrong Kind.
func defaulter[T meta.Object](f func(T)) func(meta.Object) {
	return func(obj meta.Object) { f(obj.(T)) }
}

func validator[T meta.Object](f func(T) field.ErrorList) func(meta.Object) field.ErrorList {
	return func(obj meta.Object) field.ErrorList { return f(obj.(T)) }
}

func updateValidator[T meta.Object](f func(T, T) field.ErrorList) func(meta.Object, meta.Object) field.ErrorList {
	return func(obj, old meta.Object) field.ErrorList { return f(obj.(T), old.(T)) }
}

// index is the table and its lookups, built once.
type index struct {
	kinds      []*Kind
	byResource map[GroupVersion]map[string]*Kind // group (Version "") -> resource
	byKind     map[string]*Kind                  // group + "/" + kind
	byType     map[reflect.Type]*Kind
	groups     []GroupVersion
}

var theIndex = sync.OnceValue(func() *index {
	ix := &index{
		kinds:      table(),
		byResource: map[GroupVersion]map[string]*Kind{},
		byKind:     map[string]*Kind{},
		byType:     map[reflect.Type]*Kind{},
	}
	seen := map[GroupVersion]bool{}
	for _, k := range ix.kinds {
		g := GroupVersion{Group: k.Group}
		if ix.byResource[g] == nil {
			ix.byResource[g] = map[string]*Kind{}
		}
		ix.byResource[g][k.Resource] = k
		ix.byKind[k.Group+"/"+k.Kind] = k
		ix.byType[reflect.TypeOf(k.New())] = k
		gv := GroupVersion{k.Group, k.Version}
		if !seen[gv] {
			seen[gv] = true
			ix.groups = append(ix.groups, gv)
		}
	}
	return ix
})

// All returns every served kind, core group first. The Kinds are shared:
// callers must not modify them.
func All() []*Kind { return theIndex().kinds }

// ByResource finds a kind by group ("" for core) and plural resource name.
func ByResource(group, resource string) (*Kind, bool) {
	k, ok := theIndex().byResource[GroupVersion{Group: group}][resource]
	return k, ok
}

// ByKind finds a kind by group ("" for core) and kind name, e.g. ("apps",
// "Deployment").
func ByKind(group, kind string) (*Kind, bool) {
	k, ok := theIndex().byKind[group+"/"+kind]
	return k, ok
}

// ForObject finds the kind of obj by its Go type (e.g. *core.Pod).
func ForObject(obj meta.Object) (*Kind, bool) {
	k, ok := theIndex().byType[reflect.TypeOf(obj)]
	return k, ok
}

// Groups returns the served group versions in discovery order: core v1
// first, then apps/v1, batch/v1, coordination.k8s.io/v1,
// rbac.authorization.k8s.io/v1.
func Groups() []GroupVersion { return theIndex().groups }
