package apiserver

import (
	"context"

	"minik8s/pkg/apis"
	"minik8s/pkg/apis/batch"
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
	// holdsDeletion reports kind-specific finalizers still pending on an
	// object marked for deletion (a namespace's spec.finalizers).
	holdsDeletion func(obj meta.Object) bool
	// keepOnUpdate copies into next what the server allocated for old and
	// the client left out (a Service's clusterIP and nodePorts).
	keepOnUpdate func(old, next meta.Object)
	// reserve takes what obj needs and old (nil on create) does not hold
	// (a Service's IP and ports) before obj is written; undo gives it back
	// if the write does not happen.
	reserve func(ctx context.Context, s *Server, old, obj meta.Object) (undo func(), err error)
	// release gives back, after the write, what old holds and obj (nil
	// once deleted) does not.
	release func(ctx context.Context, s *Server, old, obj meta.Object)
}

// kindHooks is keyed by "group/resource" ("/pods" for the core group).
var kindHooks = map[string]hooks{
	"batch/jobs": {prepareCreate: setJobSelector},
	"/services":  serviceHooks,
	"/pods": {
		prepareCreate: func(obj meta.Object) {
			pod := obj.(*core.Pod)
			pod.Status = core.PodStatus{Phase: core.PodPending}
			addDefaultTolerations(pod)
		},
		gracePeriod: podGracePeriod,
	},
	"/namespaces": {
		// Every namespace waits for the namespace controller to empty it
		// before it goes (set on create only, as Kubernetes does, so that
		// removing it later is possible).
		prepareCreate: func(obj meta.Object) {
			obj.(*core.Namespace).Spec.Finalizers = []string{core.FinalizerKubernetes}
		},
		beginDelete: func(obj meta.Object) bool {
			ns := obj.(*core.Namespace)
			if len(ns.Spec.Finalizers) == 0 {
				return false
			}
			ns.Status.Phase = core.NamespaceTerminating
			return true
		},
		// The namespace controller empties the namespace, then removes
		// "kubernetes" from spec.finalizers; that update deletes it.
		holdsDeletion: func(obj meta.Object) bool {
			return len(obj.(*core.Namespace).Spec.Finalizers) > 0
		},
	},
}

func hooksFor(k *apis.Kind) hooks {
	return kindHooks[k.Group+"/"+k.Resource]
}

// reserve runs k's reserve hook, if any; undo is never nil.
func (s *Server) reserve(ctx context.Context, k *apis.Kind, old, obj meta.Object) (undo func(), err error) {
	if h := hooksFor(k); h.reserve != nil {
		return h.reserve(ctx, s, old, obj)
	}
	return func() {}, nil
}

// release runs k's release hook, if any.
func (s *Server) release(ctx context.Context, k *apis.Kind, old, obj meta.Object) {
	if h := hooksFor(k); h.release != nil {
		h.release(ctx, s, old, obj)
	}
}

// setJobSelector gives a Job the selector Kubernetes generates: its pods
// carry the Job's uid in a label, so two Jobs of the same name (one
// deleted, one new) can never adopt each other's pods. A Job with
// manualSelector keeps the selector it brings.
func setJobSelector(obj meta.Object) {
	job := obj.(*batch.Job)
	if job.Spec.ManualSelector != nil && *job.Spec.ManualSelector {
		return
	}
	l := job.Spec.Template.Labels
	if l == nil {
		l = map[string]string{}
		job.Spec.Template.Labels = l
	}
	l[batch.ControllerUIDLabel], l[batch.LegacyControllerUIDLabel] = job.UID, job.UID
	l[batch.JobNameLabel], l[batch.LegacyJobNameLabel] = job.Name, job.Name
	job.Spec.Selector = &meta.LabelSelector{MatchLabels: map[string]string{batch.ControllerUIDLabel: job.UID}}
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

// defaultTolerationSeconds is how long a pod stays bound to a node that
// is not ready or unreachable before the node lifecycle controller evicts
// it, unless the pod says otherwise (Kubernetes' DefaultTolerationSeconds
// admission plugin).
const defaultTolerationSeconds = 300

func addDefaultTolerations(pod *core.Pod) {
	for _, taint := range []string{core.TaintNodeNotReady, core.TaintNodeUnreachable} {
		found := false
		for _, t := range pod.Spec.Tolerations {
			if (t.Key == taint || (t.Key == "" && t.Operator == core.TolerationOpExists)) &&
				(t.Effect == "" || t.Effect == core.TaintEffectNoExecute) {
				found = true
			}
		}
		if !found {
			secs := int64(defaultTolerationSeconds)
			pod.Spec.Tolerations = append(pod.Spec.Tolerations, core.Toleration{
				Key: taint, Operator: core.TolerationOpExists, Effect: core.TaintEffectNoExecute, TolerationSeconds: &secs,
			})
		}
	}
}
