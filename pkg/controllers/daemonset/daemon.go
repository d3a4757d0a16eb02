package daemonset

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strconv"
	"time"

	"minik8s/pkg/apis/apps"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/intstr"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/scheduler"
)

// This file holds the pure decisions of the controller: values in, values
// out, no API calls.

// RevisionHashLabel is the label each daemon pod carries with the hash of
// the template it was created from (Kubernetes'
// DefaultDaemonSetUniqueLabelKey).
const RevisionHashLabel = "controller-revision-hash"

// controllerKind is what owner references to a DaemonSet say.
const (
	controllerAPIVersion = "apps/v1"
	controllerKind       = "DaemonSet"
)

// nodeNameField is the one node field a node selector can match on.
const nodeNameField = "metadata.name"

// Taints of node conditions that the node lifecycle controller (or a
// future node agent) may set; daemon pods tolerate all of them.
const (
	taintDiskPressure       = "node.kubernetes.io/disk-pressure"
	taintMemoryPressure     = "node.kubernetes.io/memory-pressure"
	taintPIDPressure        = "node.kubernetes.io/pid-pressure"
	taintNetworkUnavailable = "node.kubernetes.io/network-unavailable"
)

// ---- template hash ----

// safeAlphabet has no vowels and no look-alike digits, so a hash never
// spells a word (Kubernetes' rand.SafeEncodeString).
const safeAlphabet = "bcdfghjklmnpqrstvwxz2456789"

// templateHash names ds's template: FNV-32a over its JSON plus the
// collision count when set, its decimal digits mapped into safeAlphabet.
// JSON encoding sorts map keys, so equal templates hash equally.
func templateHash(ds *apps.DaemonSet) string {
	h := fnv.New32a()
	b, _ := json.Marshal(&ds.Spec.Template) // plain data: cannot fail
	h.Write(b)
	if c := ds.Status.CollisionCount; c != nil {
		var n [4]byte
		binary.LittleEndian.PutUint32(n[:], uint32(*c))
		h.Write(n[:])
	}
	digits := []byte(strconv.FormatUint(uint64(h.Sum32()), 10))
	for i, d := range digits {
		digits[i] = safeAlphabet[int(d)%len(safeAlphabet)]
	}
	return string(digits)
}

// ---- the daemon pod ----

// controllerRef is the owner reference a DaemonSet puts on its pods.
func controllerRef(ds *apps.DaemonSet) meta.OwnerReference {
	yes := true
	return meta.OwnerReference{
		APIVersion: controllerAPIVersion, Kind: controllerKind,
		Name: ds.Name, UID: ds.UID,
		Controller: &yes, BlockOwnerDeletion: &yes,
	}
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

// newPod returns the pod ds runs on node: its template, labelled with the
// template hash, pinned to node by node affinity, with the daemon
// tolerations. The template is deep-copied: the result shares nothing
// with ds.
func newPod(ds *apps.DaemonSet, node, hash string) (*core.Pod, error) {
	var tmpl core.PodTemplateSpec
	b, err := json.Marshal(&ds.Spec.Template)
	if err == nil {
		err = json.Unmarshal(b, &tmpl)
	}
	if err != nil {
		return nil, fmt.Errorf("copying the template of %s: %w", ds.Name, err)
	}
	labels := maps.Clone(tmpl.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	labels[RevisionHashLabel] = hash
	pod := &core.Pod{
		ObjectMeta: meta.ObjectMeta{
			GenerateName:    ds.Name + "-",
			Namespace:       ds.Namespace,
			Labels:          labels,
			Annotations:     tmpl.Annotations,
			Finalizers:      tmpl.Finalizers,
			OwnerReferences: []meta.OwnerReference{controllerRef(ds)},
		},
		Spec: tmpl.Spec,
	}
	pod.Spec.Affinity = pinnedAffinity(pod.Spec.Affinity, node)
	pod.Spec.Tolerations = daemonTolerations(pod.Spec.Tolerations, pod.Spec.HostNetwork)
	return pod, nil
}

// pinnedAffinity returns a copy of a whose required node affinity allows
// only node (Kubernetes' ReplaceDaemonSetPodNodeNameNodeAffinity): each
// term keeps its label expressions and has its field requirements
// replaced by metadata.name In [node]; with no terms, one term with just
// that requirement. The other parts of a are shared, not copied.
func pinnedAffinity(a *core.Affinity, node string) *core.Affinity {
	pin := []core.NodeSelectorRequirement{{Key: nodeNameField, Operator: core.NodeSelectorOpIn, Values: []string{node}}}
	out := &core.Affinity{}
	if a != nil {
		*out = *a
	}
	na := &core.NodeAffinity{}
	if out.NodeAffinity != nil {
		*na = *out.NodeAffinity
	}
	out.NodeAffinity = na
	var terms []core.NodeSelectorTerm
	if req := na.RequiredDuringSchedulingIgnoredDuringExecution; req != nil {
		for _, t := range req.NodeSelectorTerms {
			terms = append(terms, core.NodeSelectorTerm{MatchExpressions: t.MatchExpressions, MatchFields: pin})
		}
	}
	if len(terms) == 0 {
		terms = []core.NodeSelectorTerm{{MatchFields: pin}}
	}
	na.RequiredDuringSchedulingIgnoredDuringExecution = &core.NodeSelector{NodeSelectorTerms: terms}
	return out
}

// pinnedNode returns the node a daemon pod is for: its spec.nodeName once
// bound, before that the node its affinity pins it to ("" if none).
func pinnedNode(pod *core.Pod) string {
	if pod.Spec.NodeName != "" {
		return pod.Spec.NodeName
	}
	a := pod.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return ""
	}
	for _, t := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		for _, r := range t.MatchFields {
			if r.Key == nodeNameField && r.Operator == core.NodeSelectorOpIn && len(r.Values) == 1 {
				return r.Values[0]
			}
		}
	}
	return ""
}

// daemonTolerations returns tols plus the tolerations every daemon pod
// has (Kubernetes' AddOrUpdateDaemonPodTolerations), each replacing a
// toleration of the same key and effect: a daemon stays on a node that is
// not ready or unreachable (no tolerationSeconds), and is placed on nodes
// under pressure or cordoned.
func daemonTolerations(tols []core.Toleration, hostNetwork bool) []core.Toleration {
	add := []core.Toleration{
		{Key: core.TaintNodeNotReady, Operator: core.TolerationOpExists, Effect: core.TaintEffectNoExecute},
		{Key: core.TaintNodeUnreachable, Operator: core.TolerationOpExists, Effect: core.TaintEffectNoExecute},
		{Key: taintDiskPressure, Operator: core.TolerationOpExists, Effect: core.TaintEffectNoSchedule},
		{Key: taintMemoryPressure, Operator: core.TolerationOpExists, Effect: core.TaintEffectNoSchedule},
		{Key: taintPIDPressure, Operator: core.TolerationOpExists, Effect: core.TaintEffectNoSchedule},
		{Key: core.TaintNodeUnschedulable, Operator: core.TolerationOpExists, Effect: core.TaintEffectNoSchedule},
	}
	if hostNetwork {
		// A host-network daemon (a CNI agent) is what makes the network
		// available.
		add = append(add, core.Toleration{Key: taintNetworkUnavailable, Operator: core.TolerationOpExists, Effect: core.TaintEffectNoSchedule})
	}
	out := slices.Clone(tols)
	for _, a := range add {
		out = slices.DeleteFunc(out, func(t core.Toleration) bool { return t.Key == a.Key && t.Effect == a.Effect })
		out = append(out, a)
	}
	return out
}

// ---- eligibility ----

// eligibility says whether a new daemon pod should run on node
// (shouldRun), and whether an existing one may stay (shouldStay): both
// need the node affinity and nodeSelector to match; a new pod must
// tolerate the NoSchedule and NoExecute taints, an existing one only the
// NoExecute ones (Kubernetes' NodeShouldRunDaemonPod). probe is the pod
// newPod returns for node.
func eligibility(probe *core.Pod, node *core.Node) (shouldRun, shouldStay bool) {
	p, n := scheduler.NewPodInfo(probe), scheduler.NewNodeInfo(node)
	if scheduler.NodeAffinityMatches(p, n) != nil {
		return false, false
	}
	if scheduler.TaintsTolerated(p, n) == nil {
		return true, true
	}
	noExecute := *node // shallow: only the taints are replaced
	noExecute.Spec.Taints = slices.DeleteFunc(slices.Clone(node.Spec.Taints), func(t core.Taint) bool {
		return t.Effect != core.TaintEffectNoExecute
	})
	return false, scheduler.TaintsTolerated(p, scheduler.NewNodeInfo(&noExecute)) == nil
}

// ---- the plan ----

// nodeView is one node as a sync sees it.
type nodeView struct {
	name       string
	exists     bool // false: pods point at a node that is gone
	shouldRun  bool
	shouldStay bool
	// active are the DaemonSet's pods on the node that are neither
	// terminating nor finished, oldest first; terminating are the ones
	// being deleted; failed the ones whose phase is Failed or Succeeded.
	active, terminating, failed []*core.Pod
}

// view groups pods (the DaemonSet's own) by node and decides each node's
// eligibility with probe(node), which returns the pod newPod would make.
// Every node appears, and so does every node name a pod points at.
func view(nodes []*core.Node, pods []*core.Pod, probe func(node string) *core.Pod) []*nodeView {
	byName := map[string]*nodeView{}
	var out []*nodeView
	get := func(name string) *nodeView {
		v, ok := byName[name]
		if !ok {
			v = &nodeView{name: name}
			byName[name] = v
			out = append(out, v)
		}
		return v
	}
	for _, n := range nodes {
		v := get(n.Name)
		v.exists = true
		v.shouldRun, v.shouldStay = eligibility(probe(n.Name), n)
	}
	for _, p := range pods {
		v := get(pinnedNode(p))
		switch {
		case p.DeletionTimestamp != nil:
			v.terminating = append(v.terminating, p)
		case p.Status.Phase == core.PodFailed || p.Status.Phase == core.PodSucceeded:
			v.failed = append(v.failed, p)
		default:
			v.active = append(v.active, p)
		}
	}
	for _, v := range out {
		slices.SortStableFunc(v.active, func(a, b *core.Pod) int {
			if c := a.CreationTimestamp.Compare(b.CreationTimestamp.Time); c != 0 {
				return c
			}
			return cmpString(a.Name, b.Name)
		})
	}
	slices.SortFunc(out, func(a, b *nodeView) int { return cmpString(a.name, b.name) })
	return out
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// plan is what one sync does: create a pod on each node of create, delete
// each pod of del.
type plan struct {
	create []string
	del    []*core.Pod
}

func (p plan) empty() bool { return len(p.create) == 0 && len(p.del) == 0 }

// manage returns the creations and deletions that give every node the
// right number of daemon pods (Kubernetes' podsShouldBeOnNode):
//
//	eligible, no pod at all           create one
//	eligible, several active          keep the oldest, delete the rest
//	may stay (but not be placed)      leave what runs
//	neither, or the node is gone      delete every active pod
//	finished (Failed, Succeeded) pod  delete it; it is replaced once gone
//
// A terminating pod counts as present, so a replacement waits for it.
func manage(views []*nodeView) plan {
	var p plan
	for _, v := range views {
		p.del = append(p.del, v.failed...)
		switch {
		case v.exists && v.shouldRun:
			if len(v.active) == 0 && len(v.terminating) == 0 && len(v.failed) == 0 {
				p.create = append(p.create, v.name)
			}
			if len(v.active) > 1 {
				p.del = append(p.del, v.active[1:]...)
			}
		case v.exists && v.shouldStay:
		default:
			p.del = append(p.del, v.active...)
		}
	}
	return p
}

// maxUnavailable resolves the rolling update's maxUnavailable against the
// number of eligible nodes, rounding up; 0 becomes 1 so that an update
// can always move (maxSurge, which would allow 0, is not implemented).
func maxUnavailable(ds *apps.DaemonSet, desired int) int {
	one := intstr.FromInt(1)
	v := &one
	if ru := ds.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.MaxUnavailable != nil {
		v = ru.MaxUnavailable
	}
	n, err := intstr.GetScaledValueFromIntOrPercent(v, desired, true)
	if err != nil || n < 1 {
		return 1
	}
	return n
}

// rollingUpdate returns the old-template pods to delete now so that at
// most maxUnavailable eligible nodes are without an available pod
// (Kubernetes' rollingUpdate with maxSurge 0). It is called only when
// manage has nothing to do, so each eligible node holds at most one
// active pod. A node counts as unavailable when its pod is missing,
// terminating, not yet available, or of the new template but not
// available; an old pod that is not available is replaced at once, since
// deleting it costs no availability.
func rollingUpdate(ds *apps.DaemonSet, views []*nodeView, hash string, now time.Time) []*core.Pod {
	desired := 0
	for _, v := range views {
		if v.exists && v.shouldRun {
			desired++
		}
	}
	limit := maxUnavailable(ds, desired)
	unavailable := 0
	var replaceNow, candidates []*core.Pod
	for _, v := range views {
		if !v.exists || !v.shouldRun {
			continue
		}
		if len(v.active) == 0 {
			unavailable++ // being replaced, or about to be created
			continue
		}
		pod := v.active[0]
		available := availableIn(pod, ds.Spec.MinReadySeconds, now) == 0
		switch {
		case pod.Labels[RevisionHashLabel] == hash:
			if !available {
				unavailable++
			}
		case !available:
			replaceNow = append(replaceNow, pod)
		default:
			candidates = append(candidates, pod)
		}
	}
	room := min(max(limit-unavailable, 0), len(candidates))
	return append(replaceNow, candidates[:room]...)
}

// ---- readiness and status ----

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

// calculateStatus returns ds's status (Kubernetes' updateDaemonSetStatus:
// ready, available and updated are judged on each node's oldest active
// pod) and how long until a ready pod becomes available (0: none waits).
func calculateStatus(ds *apps.DaemonSet, views []*nodeView, hash string, now time.Time) (apps.DaemonSetStatus, time.Duration) {
	st := apps.DaemonSetStatus{ObservedGeneration: ds.Generation, CollisionCount: ds.Status.CollisionCount,
		Conditions: ds.Status.Conditions}
	var next time.Duration
	for _, v := range views {
		if !v.exists || !v.shouldRun {
			if len(v.active) > 0 {
				st.NumberMisscheduled++
			}
			continue
		}
		st.DesiredNumberScheduled++
		if len(v.active) == 0 {
			continue
		}
		st.CurrentNumberScheduled++
		pod := v.active[0]
		if pod.Labels[RevisionHashLabel] == hash {
			st.UpdatedNumberScheduled++
		}
		if !isReady(pod) {
			continue
		}
		st.NumberReady++
		switch wait := availableIn(pod, ds.Spec.MinReadySeconds, now); {
		case wait == 0:
			st.NumberAvailable++
		case next == 0 || wait < next:
			next = wait
		}
	}
	st.NumberUnavailable = max(st.DesiredNumberScheduled-st.NumberAvailable, 0)
	return st, next
}
