package replicaset

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"minik8s/pkg/apis/apps"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/labels"
	"minik8s/pkg/apis/meta"
)

// This file holds the pure decisions of the controller: values in, values
// out, no API calls.

// controllerKind is what owner references to a ReplicaSet say.
const (
	controllerAPIVersion = "apps/v1"
	controllerKind       = "ReplicaSet"
)

// controllerOf returns obj's controller owner reference, or nil.
func controllerOf(m *meta.ObjectMeta) *meta.OwnerReference {
	for i := range m.OwnerReferences {
		if r := &m.OwnerReferences[i]; r.Controller != nil && *r.Controller {
			return r
		}
	}
	return nil
}

// controllerRef is the owner reference a ReplicaSet puts on its pods.
// blockOwnerDeletion makes a foreground deletion of the ReplicaSet wait
// for the pod.
func controllerRef(rs *apps.ReplicaSet) meta.OwnerReference {
	yes := true
	return meta.OwnerReference{
		APIVersion: controllerAPIVersion, Kind: controllerKind,
		Name: rs.Name, UID: rs.UID,
		Controller: &yes, BlockOwnerDeletion: &yes,
	}
}

// isActive says whether a pod counts towards replicas: it is neither
// terminating nor finished. A Failed pod is replaced, not repaired.
func isActive(p *core.Pod) bool {
	return p.DeletionTimestamp == nil && p.Status.Phase != core.PodSucceeded && p.Status.Phase != core.PodFailed
}

// readyCondition returns the pod's Ready condition, or nil.
func readyCondition(p *core.Pod) *core.PodCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == core.PodReady {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}

func isReady(p *core.Pod) bool {
	c := readyCondition(p)
	return c != nil && c.Status == core.ConditionTrue
}

// availableIn says how long until a ready pod has been ready for
// minReadySeconds: 0 if it is available now, -1 if it is not ready.
func availableIn(p *core.Pod, minReadySeconds int32, now time.Time) time.Duration {
	c := readyCondition(p)
	if c == nil || c.Status != core.ConditionTrue {
		return -1
	}
	if minReadySeconds == 0 || c.LastTransitionTime.IsZero() {
		return 0
	}
	return max(0, c.LastTransitionTime.Add(time.Duration(minReadySeconds)*time.Second).Sub(now))
}

// claims is how the pods of a namespace relate to one ReplicaSet.
type claims struct {
	owned   []*core.Pod // controlled by the ReplicaSet and matching it
	adopt   []*core.Pod // orphans that match: to be owned
	release []*core.Pod // controlled by it but no longer matching
}

// claim sorts the active pods of rs's namespace, as Kubernetes'
// PodControllerRefManager does: a pod controlled by someone else is never
// touched; a ReplicaSet being deleted neither adopts nor releases.
func claim(rs *apps.ReplicaSet, sel labels.Selector, pods []*core.Pod) claims {
	var c claims
	deleting := rs.DeletionTimestamp != nil
	for _, p := range pods {
		matches := sel.Matches(p.Labels)
		ref := controllerOf(&p.ObjectMeta)
		switch {
		case ref != nil && ref.UID != rs.UID:
			// someone else's
		case ref != nil && matches:
			c.owned = append(c.owned, p)
		case ref != nil:
			if !deleting {
				c.release = append(c.release, p)
			}
		case matches && !deleting && p.DeletionTimestamp == nil:
			c.adopt = append(c.adopt, p)
		}
	}
	return c
}

// deletionOrder sorts pods so that the ones to delete first come first:
// unscheduled < scheduled, Pending < Unknown < Running, not ready < ready,
// ready for less time < ready for longer, newer < older. It is a
// simplified form of Kubernetes' controller.ActivePods ordering: a pod
// that serves no traffic yet, or has served it for the shortest time, is
// the cheapest to lose.
func deletionOrder(pods []*core.Pod) {
	phaseRank := map[string]int{core.PodPending: 0, core.PodUnknown: 1, core.PodRunning: 2}
	slices.SortStableFunc(pods, func(a, b *core.Pod) int {
		if (a.Spec.NodeName == "") != (b.Spec.NodeName == "") {
			return boolRank(a.Spec.NodeName != "") - boolRank(b.Spec.NodeName != "")
		}
		if ra, rb := phaseRank[a.Status.Phase], phaseRank[b.Status.Phase]; ra != rb {
			return ra - rb
		}
		if isReady(a) != isReady(b) {
			return boolRank(isReady(a)) - boolRank(isReady(b))
		}
		if isReady(a) {
			// Both ready: the one ready since later goes first.
			if c := readyCondition(b).LastTransitionTime.Compare(readyCondition(a).LastTransitionTime.Time); c != 0 {
				return c
			}
		}
		return b.CreationTimestamp.Compare(a.CreationTimestamp.Time)
	})
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Reasons of the ReplicaFailure condition.
const (
	replicaFailure     = "ReplicaFailure"
	reasonFailedCreate = "FailedCreate"
	reasonFailedDelete = "FailedDelete"
)

// manageError is an error of manageReplicas, remembered in the
// ReplicaFailure condition so that users see why replicas are missing.
type manageError struct {
	reason string // FailedCreate or FailedDelete
	err    error
}

func (e *manageError) Error() string { return e.err.Error() }
func (e *manageError) Unwrap() error { return e.err }

// calculateStatus returns rs's status given the pods it owns, and how
// long until the next ready pod becomes available (0: no such pod; the
// caller syncs again then). manageErr, if any, sets the ReplicaFailure
// condition; nil clears it.
func calculateStatus(rs *apps.ReplicaSet, owned []*core.Pod, manageErr *manageError, now time.Time) (apps.ReplicaSetStatus, time.Duration) {
	st := apps.ReplicaSetStatus{ObservedGeneration: rs.Generation, Replicas: int32(len(owned))}
	templateLabels := labels.SelectorFromSet(rs.Spec.Template.Labels)
	var next time.Duration
	for _, p := range owned {
		if templateLabels.Matches(p.Labels) {
			st.FullyLabeledReplicas++
		}
		if !isReady(p) {
			continue
		}
		st.ReadyReplicas++
		switch wait := availableIn(p, rs.Spec.MinReadySeconds, now); {
		case wait == 0:
			st.AvailableReplicas++
		case next == 0 || wait < next:
			next = wait
		}
	}
	st.Conditions = failureCondition(rs.Status.Conditions, manageErr, now)
	return st, next
}

// failureCondition returns conds with the ReplicaFailure condition set
// from manageErr, or removed when manageErr is nil.
func failureCondition(conds []apps.ReplicaSetCondition, manageErr *manageError, now time.Time) []apps.ReplicaSetCondition {
	var out []apps.ReplicaSetCondition
	var prev *apps.ReplicaSetCondition
	for i := range conds {
		if conds[i].Type == replicaFailure {
			prev = &conds[i]
			continue
		}
		out = append(out, conds[i])
	}
	if manageErr == nil {
		return out
	}
	c := apps.ReplicaSetCondition{Type: replicaFailure, Status: core.ConditionTrue,
		Reason: manageErr.reason, Message: manageErr.err.Error(), LastTransitionTime: meta.NewTime(now)}
	if prev != nil && prev.Status == c.Status {
		c.LastTransitionTime = prev.LastTransitionTime
	}
	return append(out, c)
}

// slowStart calls fn(0), ..., fn(count-1) in batches of 1, 2, 4, ...; the
// calls of one batch run in parallel. After a batch with a failure it
// stops. It returns how many calls succeeded and the first error. This is
// Kubernetes' slowStartBatch: a request that fails for every pod (quota,
// a bad template) fails once, not count times.
func slowStart(count int, fn func(i int) error) (int, error) {
	done := 0
	var ok atomic.Int64
	for batch := 1; done < count; batch *= 2 {
		n := min(batch, count-done)
		var wg sync.WaitGroup
		errs := make([]error, n)
		for j := range n {
			wg.Go(func() {
				if errs[j] = fn(done + j); errs[j] == nil {
					ok.Add(1)
				}
			})
		}
		wg.Wait()
		done += n
		for _, err := range errs {
			if err != nil {
				return int(ok.Load()), err
			}
		}
	}
	return int(ok.Load()), nil
}

// newPod returns the pod rs creates from its template.
func newPod(rs *apps.ReplicaSet) (*core.Pod, error) {
	tmpl, err := meta.DeepCopy(&rs.Spec.Template)
	if err != nil {
		return nil, fmt.Errorf("copying the template of %s: %w", rs.Name, err)
	}
	return &core.Pod{
		ObjectMeta: meta.ObjectMeta{
			GenerateName:    rs.Name + "-",
			Namespace:       rs.Namespace,
			Labels:          tmpl.Labels,
			Annotations:     tmpl.Annotations,
			Finalizers:      tmpl.Finalizers,
			OwnerReferences: []meta.OwnerReference{controllerRef(rs)},
		},
		Spec: tmpl.Spec,
	}, nil
}
