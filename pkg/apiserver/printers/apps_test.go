package printers

import (
	"testing"
	"time"

	"minik8s/pkg/apis/apps"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
)

var (
	webTemplate = core.PodTemplateSpec{Spec: core.PodSpec{Containers: []core.Container{
		{Name: "web", Image: "nginx:1.27"}, {Name: "proxy", Image: "envoy:v1.31"},
	}}}
	webSelector = &meta.LabelSelector{
		MatchLabels:      map[string]string{"app": "web"},
		MatchExpressions: []meta.LabelSelectorRequirement{{Key: "tier", Operator: meta.LabelSelectorOpIn, Values: []string{"fe", "be"}}},
	}
	created = meta.ObjectMeta{Name: "web", CreationTimestamp: ago(3 * time.Hour)}
)

func TestDeploymentColumns(t *testing.T) {
	for _, tc := range []struct {
		name string
		d    *apps.Deployment
		want map[string]any
	}{
		{"rolling out", &apps.Deployment{
			ObjectMeta: created,
			Spec:       apps.DeploymentSpec{Replicas: ptr(int32(3)), Selector: webSelector, Template: webTemplate},
			Status:     apps.DeploymentStatus{ReadyReplicas: 2, UpdatedReplicas: 3, AvailableReplicas: 2},
		}, map[string]any{
			"Name": "web", "Ready": "2/3", "Up-to-date": int64(3), "Available": int64(2), "Age": "3h",
			"Containers": "web,proxy", "Images": "nginx:1.27,envoy:v1.31", "Selector": "app=web,tier in (be,fe)",
		}},
		// Kubernetes prints an empty Deployment selector as "", not "<none>".
		{"replicas not yet defaulted", &apps.Deployment{ObjectMeta: created},
			map[string]any{"Ready": "0/1", "Containers": "", "Selector": ""}},
	} {
		checkCells(t, tc.name, row(t, "apps", "deployments", tc.d), tc.want)
	}
}

func TestReplicaSetColumns(t *testing.T) {
	rs := &apps.ReplicaSet{
		ObjectMeta: created,
		Spec:       apps.ReplicaSetSpec{Replicas: ptr(int32(3)), Selector: webSelector, Template: webTemplate},
		Status:     apps.ReplicaSetStatus{Replicas: 3, ReadyReplicas: 1},
	}
	checkCells(t, "replicaset", row(t, "apps", "replicasets", rs), map[string]any{
		"Desired": int64(3), "Current": int64(3), "Ready": int64(1), "Age": "3h",
		"Containers": "web,proxy", "Selector": "app=web,tier in (be,fe)",
	})
	checkCells(t, "replicaset without selector", row(t, "apps", "replicasets", &apps.ReplicaSet{}),
		map[string]any{"Selector": "<none>", "Age": "<unknown>"})
}

func TestStatefulSetColumns(t *testing.T) {
	ss := &apps.StatefulSet{
		ObjectMeta: created,
		Spec:       apps.StatefulSetSpec{Replicas: ptr(int32(3)), Template: webTemplate},
		Status:     apps.StatefulSetStatus{ReadyReplicas: 1},
	}
	checkCells(t, "statefulset", row(t, "apps", "statefulsets", ss), map[string]any{
		"Ready": "1/3", "Age": "3h", "Containers": "web,proxy", "Images": "nginx:1.27,envoy:v1.31",
	})
}

func TestDaemonSetColumns(t *testing.T) {
	ds := &apps.DaemonSet{
		ObjectMeta: created,
		Spec:       apps.DaemonSetSpec{Selector: webSelector, Template: webTemplate},
		Status: apps.DaemonSetStatus{DesiredNumberScheduled: 3, CurrentNumberScheduled: 3,
			NumberReady: 2, UpdatedNumberScheduled: 1, NumberAvailable: 2},
	}
	checkCells(t, "any node", row(t, "apps", "daemonsets", ds), map[string]any{
		"Desired": int64(3), "Current": int64(3), "Ready": int64(2), "Up-to-date": int64(1),
		"Available": int64(2), "Node Selector": "<none>", "Age": "3h",
	})
	ds.Spec.Template.Spec.NodeSelector = map[string]string{"kubernetes.io/os": "linux", "disk": "ssd"}
	checkCells(t, "selected nodes", row(t, "apps", "daemonsets", ds), map[string]any{
		"Node Selector": "disk=ssd,kubernetes.io/os=linux",
	})
}

func TestControllerRevisionNamesItsController(t *testing.T) {
	owned := &apps.ControllerRevision{ObjectMeta: created, Revision: 2}
	owned.OwnerReferences = []meta.OwnerReference{
		{APIVersion: "v1", Kind: "Pod", Name: "not-the-controller"},
		{APIVersion: "apps/v1", Kind: "StatefulSet", Name: "web", Controller: ptr(true)},
	}
	coreOwned := &apps.ControllerRevision{}
	coreOwned.OwnerReferences = []meta.OwnerReference{{APIVersion: "v1", Kind: "Pod", Name: "x", Controller: ptr(true)}}

	checkCells(t, "owned", row(t, "apps", "controllerrevisions", owned), map[string]any{
		"Controller": "statefulset.apps/web", "Revision": int64(2), "Age": "3h",
	})
	checkCells(t, "core owner", row(t, "apps", "controllerrevisions", coreOwned),
		map[string]any{"Controller": "pod/x"})
	checkCells(t, "orphan", row(t, "apps", "controllerrevisions", &apps.ControllerRevision{}),
		map[string]any{"Controller": "<none>"})
}
