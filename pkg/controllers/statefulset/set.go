package statefulset

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"minik8s/pkg/apis/apps"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
)

// This file holds the pure decisions of the controller: values in, values
// out, no API calls.

// Labels Kubernetes puts on StatefulSet pods.
const (
	// PodNameLabel is the pod's own name, so a Service can select one pod.
	PodNameLabel = "statefulset.kubernetes.io/pod-name"
	// PodIndexLabel is the pod's ordinal.
	PodIndexLabel = "apps.kubernetes.io/pod-index"
	// RevisionLabel is the name of the ControllerRevision the pod was
	// created from.
	RevisionLabel = "controller-revision-hash"
)

// controllerKind is what owner references to a StatefulSet say.
const (
	controllerAPIVersion = "apps/v1"
	controllerKind       = "StatefulSet"
)

// ---- names and ownership ----

// podName is the name of set's pod with ordinal ord.
func podName(set string, ord int) string { return set + "-" + strconv.Itoa(ord) }

// claimName is the name of the claim of template tmpl for set's pod ord.
func claimName(tmpl, set string, ord int) string { return tmpl + "-" + podName(set, ord) }

// ordinalOf returns the ordinal of a pod of set from its name, or false
// if the name is not <set>-<number>.
func ordinalOf(set, pod string) (int, bool) {
	rest, ok := strings.CutPrefix(pod, set+"-")
	if !ok || rest == "" || (len(rest) > 1 && rest[0] == '0') {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// controllerOf returns obj's controller owner reference, or nil.
func controllerOf(m *meta.ObjectMeta) *meta.OwnerReference {
	for i := range m.OwnerReferences {
		if r := &m.OwnerReferences[i]; r.Controller != nil && *r.Controller {
			return r
		}
	}
	return nil
}

// controllerRef is the owner reference a StatefulSet puts on its pods
// and revisions.
func controllerRef(set *apps.StatefulSet) meta.OwnerReference {
	yes := true
	return meta.OwnerReference{
		APIVersion: controllerAPIVersion, Kind: controllerKind,
		Name: set.Name, UID: set.UID,
		Controller: &yes, BlockOwnerDeletion: &yes,
	}
}

// ---- spec accessors, with the API server's defaults ----

func replicas(set *apps.StatefulSet) int {
	if set.Spec.Replicas == nil {
		return 1
	}
	return int(*set.Spec.Replicas)
}

func startOrdinal(set *apps.StatefulSet) int {
	if set.Spec.Ordinals == nil {
		return 0
	}
	return int(set.Spec.Ordinals.Start)
}

func retention(set *apps.StatefulSet) (whenDeleted, whenScaled string) {
	p := set.Spec.PersistentVolumeClaimRetentionPolicy
	whenDeleted, whenScaled = apps.RetainPersistentVolumeClaimRetentionPolicyType, apps.RetainPersistentVolumeClaimRetentionPolicyType
	if p != nil && p.WhenDeleted != "" {
		whenDeleted = p.WhenDeleted
	}
	if p != nil && p.WhenScaled != "" {
		whenScaled = p.WhenScaled
	}
	return whenDeleted, whenScaled
}

// ---- pods and claims ----

// newPod returns set's pod ord at the revision named revision, whose
// template is tmpl: the template's labels and spec plus the pod's
// identity and its claims as volumes. Nothing is shared with tmpl.
func newPod(set *apps.StatefulSet, ord int, revision string, tmpl *core.PodTemplateSpec) (*core.Pod, error) {
	var t core.PodTemplateSpec
	b, err := json.Marshal(tmpl)
	if err == nil {
		err = json.Unmarshal(b, &t)
	}
	if err != nil {
		return nil, fmt.Errorf("copying the template of %s: %w", set.Name, err)
	}
	name := podName(set.Name, ord)
	labels := maps.Clone(t.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	labels[PodNameLabel] = name
	labels[PodIndexLabel] = strconv.Itoa(ord)
	labels[RevisionLabel] = revision
	pod := &core.Pod{
		ObjectMeta: meta.ObjectMeta{
			Name:            name,
			Namespace:       set.Namespace,
			Labels:          labels,
			Annotations:     t.Annotations,
			Finalizers:      t.Finalizers,
			OwnerReferences: []meta.OwnerReference{controllerRef(set)},
		},
		Spec: t.Spec,
	}
	pod.Spec.Hostname = name
	pod.Spec.Subdomain = set.Spec.ServiceName
	// Each claim template becomes a volume of the same name, replacing a
	// template volume of that name (Kubernetes' updateStorage).
	for _, ct := range set.Spec.VolumeClaimTemplates {
		v := core.Volume{Name: ct.Name, VolumeSource: core.VolumeSource{
			PersistentVolumeClaim: &core.PersistentVolumeClaimVolumeSource{ClaimName: claimName(ct.Name, set.Name, ord)}}}
		pod.Spec.Volumes = slices.DeleteFunc(pod.Spec.Volumes, func(old core.Volume) bool { return old.Name == ct.Name })
		pod.Spec.Volumes = append(pod.Spec.Volumes, v)
	}
	return pod, nil
}

// newClaims returns the claims set's pod ord needs, one per claim
// template: the template's spec, its labels plus the set's selector
// labels, and, with whenDeleted Delete, an owner reference to the set.
func newClaims(set *apps.StatefulSet, ord int) ([]*core.PersistentVolumeClaim, error) {
	var out []*core.PersistentVolumeClaim
	whenDeleted, _ := retention(set)
	for i := range set.Spec.VolumeClaimTemplates {
		var c core.PersistentVolumeClaim
		b, err := json.Marshal(&set.Spec.VolumeClaimTemplates[i])
		if err == nil {
			err = json.Unmarshal(b, &c)
		}
		if err != nil {
			return nil, fmt.Errorf("copying claim template %d of %s: %w", i, set.Name, err)
		}
		labels := c.Labels
		if labels == nil {
			labels = map[string]string{}
		}
		if set.Spec.Selector != nil {
			maps.Copy(labels, set.Spec.Selector.MatchLabels)
		}
		c.ObjectMeta = meta.ObjectMeta{Name: claimName(c.Name, set.Name, ord), Namespace: set.Namespace,
			Labels: labels, Annotations: c.Annotations}
		if whenDeleted == apps.DeletePersistentVolumeClaimRetentionPolicyType {
			c.OwnerReferences = []meta.OwnerReference{{APIVersion: controllerAPIVersion, Kind: controllerKind, Name: set.Name, UID: set.UID}}
		}
		c.Status = core.PersistentVolumeClaimStatus{}
		out = append(out, &c)
	}
	return out, nil
}

// ---- pod state ----

func isRunningAndReady(p *core.Pod) bool {
	if p.Status.Phase != core.PodRunning {
		return false
	}
	c := readyCondition(p)
	return c != nil && c.Status == core.ConditionTrue
}

// isHealthy: running, ready and not on its way out.
func isHealthy(p *core.Pod) bool { return p.DeletionTimestamp == nil && isRunningAndReady(p) }

func isTerminating(p *core.Pod) bool { return p.DeletionTimestamp != nil }

// isFinished: the pod's containers will not run again (a StatefulSet's
// pods restart Always, so this is a node-level failure: eviction, a
// rejected pod). It is deleted and re-created.
func isFinished(p *core.Pod) bool {
	return p.Status.Phase == core.PodFailed || p.Status.Phase == core.PodSucceeded
}

func readyCondition(p *core.Pod) *core.PodCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == core.PodReady {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}

// availableIn says how long until a running and ready pod has been ready
// for minReadySeconds: 0 if it is available now, -1 if it is not ready.
func availableIn(p *core.Pod, minReadySeconds int32, now time.Time) time.Duration {
	if !isRunningAndReady(p) {
		return -1
	}
	c := readyCondition(p)
	if minReadySeconds == 0 || c.LastTransitionTime.IsZero() {
		return 0
	}
	return max(0, c.LastTransitionTime.Add(time.Duration(minReadySeconds)*time.Second).Sub(now))
}

// ---- the decision ----

// setState is what decide needs to know about a StatefulSet.
type setState struct {
	start, replicas int // the pods wanted are ordinals start .. start+replicas-1
	monotonic       bool
	rolling         bool
	partition       int // absolute: pods with a lower ordinal stay at current
	current, update string
}

func stateOf(set *apps.StatefulSet, current, update string) setState {
	st := setState{
		start:     startOrdinal(set),
		replicas:  replicas(set),
		monotonic: set.Spec.PodManagementPolicy != apps.ParallelPodManagement,
		rolling:   set.Spec.UpdateStrategy.Type != apps.OnDeleteStrategyType,
		current:   current,
		update:    update,
	}
	st.partition = st.start
	if ru := set.Spec.UpdateStrategy.RollingUpdate; st.rolling && ru != nil && ru.Partition != nil {
		st.partition += int(*ru.Partition)
	}
	return st
}

// stepKind says what a step does.
type stepKind int

const (
	createPod stepKind = iota // create the pod (claims first)
	deletePod                 // delete the pod
)

// step is one action of a sync.
type step struct {
	kind    stepKind
	ordinal int
	// revision is the revision a created pod gets.
	revision string
	// pod is the pod to delete; condemned says its ordinal is no longer
	// wanted (scale-down), as opposed to a pod to be re-created.
	pod       *core.Pod
	condemned bool
}

// decide returns the steps that move set's pods (by ordinal) towards the
// desired state, in order (Kubernetes' updateStatefulSet):
//
//  1. Wanted ordinals, lowest first: create a missing pod (at the current
//     revision below the partition, else at the update revision); delete
//     a finished one so that it is re-created. With OrderedReady, stop at
//     the first step, and wait at the first pod that is terminating or not
//     yet Running and Ready: the pods after it must wait for it.
//  2. Unwanted ordinals (scale-down), highest first: delete. With
//     OrderedReady one at a time, each only once the previous is gone,
//     and only while every other pod is healthy.
//  3. Rolling update, highest wanted ordinal down to the partition: delete
//     the first pod not at the update revision; stop at the first pod
//     that is missing or not healthy. One pod at a time whatever the
//     policy; the pod comes back at the update revision through step 1.
//
// A terminating pod is never replaced: its name (its identity) is free
// only once it is gone.
func decide(st setState, pods map[int]*core.Pod) []step {
	var steps []step
	touched := map[int]bool{}
	end := st.start + st.replicas
	for ord := st.start; ord < end; ord++ {
		pod := pods[ord]
		switch {
		case pod == nil:
			rev := st.update
			if st.rolling && ord < st.partition {
				rev = st.current
			}
			steps = append(steps, step{kind: createPod, ordinal: ord, revision: rev})
		case isFinished(pod) && !isTerminating(pod):
			steps = append(steps, step{kind: deletePod, ordinal: ord, pod: pod})
		case !isHealthy(pod):
			if st.monotonic {
				return steps
			}
			continue
		default:
			continue
		}
		touched[ord] = true
		if st.monotonic {
			return steps
		}
	}

	var condemned []int
	for ord := range pods {
		if ord < st.start || ord >= end {
			condemned = append(condemned, ord)
		}
	}
	slices.Sort(condemned)
	firstUnhealthy := -1
	for _, ord := range condemned {
		if !isHealthy(pods[ord]) {
			firstUnhealthy = ord
			break
		}
	}
	for i := len(condemned) - 1; i >= 0; i-- {
		ord := condemned[i]
		pod := pods[ord]
		if isTerminating(pod) {
			if st.monotonic {
				return steps
			}
			continue
		}
		if st.monotonic && !isHealthy(pod) && ord != firstUnhealthy {
			return steps // a lower pod is unhealthy: it goes first
		}
		steps = append(steps, step{kind: deletePod, ordinal: ord, pod: pod, condemned: true})
		if st.monotonic {
			return steps
		}
	}

	if !st.rolling {
		return steps
	}
	for ord := end - 1; ord >= st.partition; ord-- {
		pod := pods[ord]
		if pod == nil || touched[ord] {
			return steps
		}
		if pod.Labels[RevisionLabel] != st.update && !isTerminating(pod) {
			return append(steps, step{kind: deletePod, ordinal: ord, pod: pod})
		}
		if !isHealthy(pod) {
			return steps
		}
	}
	return steps
}

// ---- status ----

// calculateStatus returns the status of set with pods (by ordinal, all it
// owns, terminating ones included), current and update revisions, and
// how long until a ready pod becomes available (0: none waits). Once
// every pod runs the update revision and is ready, the update revision
// becomes the current one (Kubernetes' completeRollingUpdate).
func calculateStatus(set *apps.StatefulSet, pods map[int]*core.Pod, current, update string, collisions *int32, now time.Time) (apps.StatefulSetStatus, time.Duration) {
	st := apps.StatefulSetStatus{
		ObservedGeneration: set.Generation,
		CurrentRevision:    current,
		UpdateRevision:     update,
		CollisionCount:     collisions,
		Conditions:         set.Status.Conditions,
	}
	var next time.Duration
	for _, p := range pods {
		st.Replicas++
		if isRunningAndReady(p) {
			st.ReadyReplicas++
			switch wait := availableIn(p, set.Spec.MinReadySeconds, now); {
			case wait == 0:
				st.AvailableReplicas++
			case next == 0 || wait < next:
				next = wait
			}
		}
		if isTerminating(p) {
			continue
		}
		if p.Labels[RevisionLabel] == current {
			st.CurrentReplicas++
		}
		if p.Labels[RevisionLabel] == update {
			st.UpdatedReplicas++
		}
	}
	if st.UpdatedReplicas == st.Replicas && st.ReadyReplicas == st.Replicas && int(st.Replicas) == replicas(set) {
		st.CurrentRevision = update
		st.CurrentReplicas = st.UpdatedReplicas
	}
	return st, next
}
