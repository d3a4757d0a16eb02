package printers

import (
	"fmt"
	"strings"
	"time"

	"minik8s/pkg/apis/apps"
	"minik8s/pkg/apis/labels"
	"minik8s/pkg/apis/meta"
)

var deploymentPrinter = &Printer{
	Columns: []Column{
		nameColumn,
		{Name: "Ready", Type: "string", Description: "Number of the pod with ready state"},
		{Name: "Up-to-date", Type: "string", Description: "Total number of non-terminated pods targeted by this deployment that have the desired template spec."},
		{Name: "Available", Type: "string", Description: "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment."},
		ageColumn, containersColumn, imagesColumn, selectorColumn,
	},
	Row: rowOf(func(d *apps.Deployment, now time.Time) []any {
		names, images := containerCells(d.Spec.Template.Spec.Containers)
		return []any{
			d.Name,
			fmt.Sprintf("%d/%d", d.Status.ReadyReplicas, replicas(d.Spec.Replicas)),
			int64(d.Status.UpdatedReplicas),
			int64(d.Status.AvailableReplicas),
			age(&d.ObjectMeta, now),
			names, images, deploymentSelector(d.Spec.Selector),
		}
	}),
}

// deploymentSelector renders a Deployment's selector. Unlike the other
// workloads, Kubernetes prints an empty selector as "" and a broken one
// as "<invalid>" here.
func deploymentSelector(ls *meta.LabelSelector) string {
	sel, err := labels.SelectorFromLabelSelector(ls)
	if err != nil {
		return "<invalid>"
	}
	return sel.String()
}

var replicaSetPrinter = &Printer{
	Columns: []Column{
		nameColumn,
		{Name: "Desired", Type: "integer", Description: "Replicas is the number of desired replicas."},
		{Name: "Current", Type: "integer", Description: "Replicas is the most recently observed number of replicas."},
		{Name: "Ready", Type: "integer", Description: "The number of ready replicas for this replica set."},
		ageColumn, containersColumn, imagesColumn, selectorColumn,
	},
	Row: rowOf(func(rs *apps.ReplicaSet, now time.Time) []any {
		names, images := containerCells(rs.Spec.Template.Spec.Containers)
		return []any{
			rs.Name,
			replicas(rs.Spec.Replicas),
			int64(rs.Status.Replicas),
			int64(rs.Status.ReadyReplicas),
			age(&rs.ObjectMeta, now),
			names, images, formatLabelSelector(rs.Spec.Selector),
		}
	}),
}

var statefulSetPrinter = &Printer{
	Columns: []Column{
		nameColumn,
		{Name: "Ready", Type: "string", Description: "Number of the pod with ready state"},
		ageColumn, containersColumn, imagesColumn,
	},
	Row: rowOf(func(ss *apps.StatefulSet, now time.Time) []any {
		names, images := containerCells(ss.Spec.Template.Spec.Containers)
		return []any{
			ss.Name,
			fmt.Sprintf("%d/%d", ss.Status.ReadyReplicas, replicas(ss.Spec.Replicas)),
			age(&ss.ObjectMeta, now),
			names, images,
		}
	}),
}

var daemonSetPrinter = &Printer{
	Columns: []Column{
		nameColumn,
		{Name: "Desired", Type: "integer", Description: "The total number of nodes that should be running the daemon pod."},
		{Name: "Current", Type: "integer", Description: "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod."},
		{Name: "Ready", Type: "integer", Description: "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready."},
		{Name: "Up-to-date", Type: "integer", Description: "The total number of nodes that are running updated daemon pod."},
		{Name: "Available", Type: "integer", Description: "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available."},
		{Name: "Node Selector", Type: "string", Description: "NodeSelector is a selector which must be true for the pod to fit on a node."},
		ageColumn, containersColumn, imagesColumn, selectorColumn,
	},
	Row: rowOf(func(ds *apps.DaemonSet, now time.Time) []any {
		names, images := containerCells(ds.Spec.Template.Spec.Containers)
		st := ds.Status
		return []any{
			ds.Name,
			int64(st.DesiredNumberScheduled),
			int64(st.CurrentNumberScheduled),
			int64(st.NumberReady),
			int64(st.UpdatedNumberScheduled),
			int64(st.NumberAvailable),
			formatLabels(ds.Spec.Template.Spec.NodeSelector),
			age(&ds.ObjectMeta, now),
			names, images, formatLabelSelector(ds.Spec.Selector),
		}
	}),
}

var controllerRevisionPrinter = &Printer{
	Columns: []Column{
		nameColumn,
		{Name: "Controller", Type: "string", Description: "Controller of the object"},
		{Name: "Revision", Type: "string", Description: "Revision indicates the revision of the state represented by Data."},
		ageColumn,
	},
	Row: rowOf(func(cr *apps.ControllerRevision, now time.Time) []any {
		return []any{cr.Name, controllerOf(&cr.ObjectMeta), cr.Revision, age(&cr.ObjectMeta, now)}
	}),
}

// controllerOf names an object's controller as "kind.group/name" in lower
// case ("statefulset.apps/web", "pod/x" for the core group), or "<none>".
func controllerOf(m *meta.ObjectMeta) string {
	for _, ref := range m.OwnerReferences {
		if ref.Controller == nil || !*ref.Controller {
			continue
		}
		group := ""
		if g, _, ok := strings.Cut(ref.APIVersion, "/"); ok {
			group = g
		}
		kind := ref.Kind
		if group != "" {
			kind += "." + group
		}
		if kind == "" {
			return ref.Name
		}
		return strings.ToLower(kind) + "/" + ref.Name
	}
	return none
}
