package apiserver

import (
	"minik8s/pkg/apis"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
)

// hooks is the little behaviour that differs between kinds. Everything
// else about a kind is data in the pkg/apis table.
type hooks struct {
	// prepareCreate sets server-owned fields of a new object.
	prepareCreate func(obj meta.Object)
	// gracePeriod is how long deletion waits for the object's owner (a
	// node agent) to clean up, given the requested period (may be nil).
	gracePeriod func(obj meta.Object, requested *int64) int64
	// beginDelete marks the object as terminating and reports true when
	// the object must stay until a controller finishes (namespaces).
	beginDelete func(obj meta.Object) bool
}

var kindHooks = map[string]hooks{
	"pods": {
		prepareCreate: func(obj meta.Object) {
			obj.(*core.Pod).Status = core.PodStatus{Phase: core.PodPending}
		},
		gracePeriod: podGracePeriod,
	},
	"namespaces": {
		beginDelete: func(obj meta.Object) bool {
			ns := obj.(*core.Namespace)
			if len(ns.Spec.Finalizers) == 0 {
				return false
			}
			ns.Status.Phase = core.NamespaceTerminating
			return true
		},
	},
}

func hooksFor(k *apis.Kind) hooks {
	if k.Group != "" {
		return hooks{}
	}
	return kindHooks[k.Resource]
}

// podGracePeriod follows Kubernetes: the requested period, else the pod's
// terminationGracePeriodSeconds; but zero for a pod no node runs (not yet
// scheduled, or already finished), since nobody has anything to stop.
func podGracePeriod(obj meta.Object, requested *int64) int64 {
	pod := obj.(*core.Pod)
	if pod.Spec.NodeName == "" || pod.Status.Phase == core.PodSucceeded || pod.Status.Phase == core.PodFailed {
		return 0
	}
	if requested != nil {
		return *requested
	}
	if pod.Spec.TerminationGracePeriodSeconds != nil {
		return *pod.Spec.TerminationGracePeriodSeconds
	}
	return 30
}
