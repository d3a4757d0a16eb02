package deployment

import (
	"encoding/binary"
	"encoding/json"
	"hash/fnv"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"minik8s/pkg/apis/apps"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/intstr"
	"minik8s/pkg/apis/meta"
)

// This file holds the pure part of the controller: names, revisions,
// annotations, rollout arithmetic, conditions and status, all computed
// from values (mostly after k8s.io/kubernetes/pkg/controller/deployment/util).

// Names Kubernetes gives the labels and annotations a Deployment writes;
// kubectl rollout history/undo read them.
const (
	// PodTemplateHashLabel tells apart the ReplicaSets (and their pods)
	// of different templates of one Deployment.
	PodTemplateHashLabel = "pod-template-hash"
	// RevisionAnnotation numbers the templates a Deployment has run, on
	// each ReplicaSet and on the Deployment (its current revision).
	RevisionAnnotation = "deployment.kubernetes.io/revision"
	// RevisionHistoryAnnotation lists the earlier revisions a ReplicaSet
	// had when it was reused by a rollback.
	RevisionHistoryAnnotation = "deployment.kubernetes.io/revision-history"
	// DesiredReplicasAnnotation is the Deployment's spec.replicas when the
	// ReplicaSet was last sized; a difference means the user scaled.
	DesiredReplicasAnnotation = "deployment.kubernetes.io/desired-replicas"
	// MaxReplicasAnnotation is desired + maxSurge at that time, the base of
	// proportional scaling.
	MaxReplicasAnnotation = "deployment.kubernetes.io/max-replicas"
)

// annotationsNotCopied are the Deployment annotations a ReplicaSet does
// not inherit: the controller's own, and kubectl apply's.
var annotationsNotCopied = map[string]bool{
	"kubectl.kubernetes.io/last-applied-configuration": true,
	RevisionAnnotation:                  true,
	RevisionHistoryAnnotation:           true,
	DesiredReplicasAnnotation:           true,
	MaxReplicasAnnotation:               true,
	"deprecated.deployment.rollback.to": true,
}

// ---- template hash and identity ----

// safeAlphabet has no vowels and no look-alike digits, so a hash never
// spells a word (Kubernetes' rand.SafeEncodeString).
const safeAlphabet = "bcdfghjklmnpqrstvwxz2456789"

// templateHash names a template: FNV-32a over its JSON without the
// pod-template-hash label, plus the collision count when set, with the
// decimal digits of the sum mapped into safeAlphabet as Kubernetes does
// (the JSON replaces Kubernetes' spew dump: same idea, different bytes).
// JSON encoding sorts map keys, so the hash is stable.
func templateHash(tmpl *core.PodTemplateSpec, collisionCount *int32) string {
	h := fnv.New32a()
	h.Write(templateJSON(tmpl))
	if collisionCount != nil {
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], uint32(*collisionCount))
		h.Write(b[:])
	}
	digits := []byte(strconv.FormatUint(uint64(h.Sum32()), 10))
	for i, d := range digits {
		digits[i] = safeAlphabet[int(d)%len(safeAlphabet)]
	}
	return string(digits)
}

// templateJSON encodes tmpl without the pod-template-hash label.
func templateJSON(tmpl *core.PodTemplateSpec) []byte {
	t := *tmpl // shallow: only Labels is replaced below
	if _, ok := t.Labels[PodTemplateHashLabel]; ok {
		t.Labels = maps.Clone(t.Labels)
		delete(t.Labels, PodTemplateHashLabel)
	}
	b, _ := json.Marshal(&t) // plain data: cannot fail
	return b
}

// equalIgnoringHash says whether two templates are the same apart from
// the pod-template-hash label: whether a ReplicaSet runs a Deployment's
// current template.
func equalIgnoringHash(a, b *core.PodTemplateSpec) bool {
	return string(templateJSON(a)) == string(templateJSON(b))
}

// withHashLabel returns a copy of m with the pod-template-hash label.
func withHashLabel(m map[string]string, hash string) map[string]string {
	out := maps.Clone(m)
	if out == nil {
		out = map[string]string{}
	}
	out[PodTemplateHashLabel] = hash
	return out
}

// findNewRS returns the ReplicaSet running d's template (the oldest if
// several do), or nil.
func findNewRS(d *apps.Deployment, rss []*apps.ReplicaSet) *apps.ReplicaSet {
	var found *apps.ReplicaSet
	for _, rs := range byCreation(rss) {
		if equalIgnoringHash(&rs.Spec.Template, &d.Spec.Template) {
			if found == nil {
				found = rs
			}
		}
	}
	return found
}

// byCreation returns rss sorted oldest first (ties by name).
func byCreation(rss []*apps.ReplicaSet) []*apps.ReplicaSet {
	out := slices.Clone(rss)
	slices.SortStableFunc(out, func(a, b *apps.ReplicaSet) int {
		if c := a.CreationTimestamp.Compare(b.CreationTimestamp.Time); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

// ---- revisions and annotations ----

// revision returns the revision annotation of m, 0 if absent or invalid.
func revision(m *meta.ObjectMeta) int64 {
	v, err := strconv.ParseInt(m.Annotations[RevisionAnnotation], 10, 64)
	if err != nil {
		return 0
	}
	return v
}

func maxRevision(rss []*apps.ReplicaSet) int64 {
	var m int64
	for _, rs := range rss {
		m = max(m, revision(&rs.ObjectMeta))
	}
	return m
}

// setNewRSAnnotations brings the annotations of rs (a copy the caller may
// change) in line with d: d's own annotations are inherited, the revision
// is raised to newRevision when lower (the earlier one goes to the
// revision history: this ReplicaSet is being rolled back to), and a
// ReplicaSet about to be created gets the replica annotations. It reports
// whether anything changed.
func setNewRSAnnotations(d *apps.Deployment, rs *apps.ReplicaSet, newRevision int64, creating bool) bool {
	changed := copyAnnotations(d, rs)
	old, hadRevision := rs.Annotations[RevisionAnnotation]
	oldRevision := revision(&rs.ObjectMeta)
	if oldRevision < newRevision {
		rs.Annotations[RevisionAnnotation] = strconv.FormatInt(newRevision, 10)
		changed = true
		if hadRevision && old != "" {
			if h := rs.Annotations[RevisionHistoryAnnotation]; h != "" {
				rs.Annotations[RevisionHistoryAnnotation] = h + "," + old
			} else {
				rs.Annotations[RevisionHistoryAnnotation] = old
			}
		}
	}
	if creating && setReplicasAnnotations(rs, replicas(d), replicas(d)+maxSurge(d)) {
		changed = true
	}
	return changed
}

// copyAnnotations copies d's annotations (except annotationsNotCopied)
// to rs, so that kubectl rollout history shows each revision's
// kubernetes.io/change-cause. It never removes any.
func copyAnnotations(d *apps.Deployment, rs *apps.ReplicaSet) bool {
	if rs.Annotations == nil {
		rs.Annotations = map[string]string{}
	}
	changed := false
	for k, v := range d.Annotations {
		if annotationsNotCopied[k] || rs.Annotations[k] == v {
			continue
		}
		rs.Annotations[k] = v
		changed = true
	}
	return changed
}

// setReplicasAnnotations sets the desired- and max-replicas annotations
// of rs and reports whether they changed.
func setReplicasAnnotations(rs *apps.ReplicaSet, desired, maxReplicas int32) bool {
	if rs.Annotations == nil {
		rs.Annotations = map[string]string{}
	}
	d, m := strconv.Itoa(int(desired)), strconv.Itoa(int(maxReplicas))
	if rs.Annotations[DesiredReplicasAnnotation] == d && rs.Annotations[MaxReplicasAnnotation] == m {
		return false
	}
	rs.Annotations[DesiredReplicasAnnotation] = d
	rs.Annotations[MaxReplicasAnnotation] = m
	return true
}

func intAnnotation(rs *apps.ReplicaSet, key string) (int32, bool) {
	v, err := strconv.ParseInt(rs.Annotations[key], 10, 32)
	return int32(v), err == nil
}

// ---- rollout arithmetic ----

func replicas(d *apps.Deployment) int32 {
	if d.Spec.Replicas == nil {
		return 1
	}
	return *d.Spec.Replicas
}

func rsReplicas(rs *apps.ReplicaSet) int32 {
	if rs == nil || rs.Spec.Replicas == nil {
		return 0
	}
	return *rs.Spec.Replicas
}

func isRolling(d *apps.Deployment) bool {
	return d.Spec.Strategy.Type != apps.RecreateDeploymentStrategyType
}

// fenceposts resolves maxSurge (rounded up) and maxUnavailable (rounded
// down) against the desired replicas. If both come to zero,
// maxUnavailable becomes 1: a rollout must be able to move (Kubernetes'
// ResolveFenceposts; validation forbids two explicit zeros, rounding can
// still produce them).
func fenceposts(d *apps.Deployment) (surge, unavailable int32) {
	ru := d.Spec.Strategy.RollingUpdate
	zero := intstr.FromInt(0)
	ms, mu := &zero, &zero
	if ru != nil && ru.MaxSurge != nil {
		ms = ru.MaxSurge
	}
	if ru != nil && ru.MaxUnavailable != nil {
		mu = ru.MaxUnavailable
	}
	s, _ := intstr.GetScaledValueFromIntOrPercent(ms, int(replicas(d)), true)
	u, _ := intstr.GetScaledValueFromIntOrPercent(mu, int(replicas(d)), false)
	if s == 0 && u == 0 {
		u = 1
	}
	return int32(s), int32(u)
}

// maxSurge is how many pods above spec.replicas a rollout may run.
func maxSurge(d *apps.Deployment) int32 {
	if !isRolling(d) {
		return 0
	}
	s, _ := fenceposts(d)
	return s
}

// maxUnavailable is how many of spec.replicas may be unavailable during a
// rollout.
func maxUnavailable(d *apps.Deployment) int32 {
	if !isRolling(d) || replicas(d) == 0 {
		return 0
	}
	_, u := fenceposts(d)
	return min(u, replicas(d))
}

func sum(rss []*apps.ReplicaSet, f func(*apps.ReplicaSet) int32) int32 {
	var n int32
	for _, rs := range rss {
		if rs != nil {
			n += f(rs)
		}
	}
	return n
}

// podCeiling bounds the pods the ReplicaSets may have right now: each
// ReplicaSet's spec.replicas, or its status.replicas while its controller
// has not yet deleted the pods of a scale-down. Kubernetes sums specs
// only, so its surge bound holds for intent but can be exceeded for a
// moment by real pods; counting the pods not yet gone keeps it for real
// pods too, at the cost of waiting for the old ReplicaSet's status.
func podCeiling(rss []*apps.ReplicaSet) int32 {
	return sum(rss, func(rs *apps.ReplicaSet) int32 { return max(rsReplicas(rs), rs.Status.Replicas) })
}

// availableFloor bounds from below the pods that will still be available
// once every ReplicaSet has reached its spec: at most spec.replicas of a
// ReplicaSet's available pods survive its scale-down (its controller
// deletes unavailable pods first). A status not yet updated after a
// scale-down therefore never counts pods about to be deleted.
func availableFloor(rss []*apps.ReplicaSet) int32 {
	return sum(rss, func(rs *apps.ReplicaSet) int32 { return min(rs.Status.AvailableReplicas, rsReplicas(rs)) })
}

// scaleOp is one decision: set rs's spec.replicas to to.
type scaleOp struct {
	rs *apps.ReplicaSet
	to int32
}

// rollingNewReplicas is the size a rolling update gives the new
// ReplicaSet now: up towards spec.replicas, as far as maxSurge allows.
func rollingNewReplicas(d *apps.Deployment, all []*apps.ReplicaSet, newRS *apps.ReplicaSet) int32 {
	desired, cur := replicas(d), rsReplicas(newRS)
	if cur >= desired {
		return desired
	}
	maxTotal := desired + maxSurge(d)
	ceiling := podCeiling(all)
	if ceiling >= maxTotal {
		return cur
	}
	return cur + min(maxTotal-ceiling, desired-cur)
}

// rollingOldScaleDown plans how far a rolling update may scale the old
// ReplicaSets down now without going below spec.replicas -
// maxUnavailable available pods (Kubernetes' reconcileOldReplicaSets).
// First it removes old pods that are not available anyway (they cost no
// availability), oldest ReplicaSet first; then available ones, as far as
// the available pods above the minimum allow.
func rollingOldScaleDown(d *apps.Deployment, oldRSs []*apps.ReplicaSet, newRS *apps.ReplicaSet) []scaleOp {
	minAvailable := replicas(d) - maxUnavailable(d)
	all := append(slices.Clone(oldRSs), newRS)
	newUnavailable := max(0, rsReplicas(newRS)-newRS.Status.AvailableReplicas)
	budget := sum(all, rsReplicas) - minAvailable - newUnavailable
	if budget <= 0 {
		return nil
	}
	old := byCreation(oldRSs)
	target := make([]int32, len(old))
	for i, rs := range old {
		target[i] = rsReplicas(rs)
	}
	// 1. Unhealthy old pods go first.
	for i, rs := range old {
		if budget <= 0 {
			break
		}
		unhealthy := target[i] - min(rs.Status.AvailableReplicas, target[i])
		n := min(unhealthy, budget)
		target[i] -= n
		budget -= n
	}
	// 2. Then available ones, while more than minAvailable remain.
	available := min(newRS.Status.AvailableReplicas, rsReplicas(newRS))
	for i, rs := range old {
		available += min(rs.Status.AvailableReplicas, target[i])
	}
	excess := available - minAvailable
	for i := range old {
		if excess <= 0 {
			break
		}
		n := min(target[i], excess)
		target[i] -= n
		excess -= n
	}
	var ops []scaleOp
	for i, rs := range old {
		if target[i] != rsReplicas(rs) {
			ops = append(ops, scaleOp{rs, target[i]})
		}
	}
	return ops
}

// proportionalScale plans a scaling of d (spec.replicas changed) while
// several ReplicaSets are active: the replicas to add or remove are shared
// in proportion to each ReplicaSet's size, read against the
// max-replicas annotation it got when last sized, larger ReplicaSets
// first, leftovers to the largest (Kubernetes' DeploymentController.scale
// and GetReplicaSetProportion). Scaling mid-rollout so keeps the rollout's
// shape instead of giving everything to the new or old side.
func proportionalScale(d *apps.Deployment, active []*apps.ReplicaSet) []scaleOp {
	allowed := int32(0)
	if replicas(d) > 0 {
		allowed = replicas(d) + maxSurge(d)
	}
	toAdd := allowed - sum(active, rsReplicas)
	if toAdd == 0 {
		return nil
	}
	rss := slices.Clone(active)
	slices.SortStableFunc(rss, func(a, b *apps.ReplicaSet) int {
		if rsReplicas(a) != rsReplicas(b) {
			return int(rsReplicas(b) - rsReplicas(a)) // larger first
		}
		c := b.CreationTimestamp.Compare(a.CreationTimestamp.Time) // up: newer first
		if toAdd < 0 {
			c = -c // down: older first
		}
		return c
	})
	sizes := make([]int32, len(rss))
	added := int32(0)
	for i, rs := range rss {
		p := proportion(d, rs, toAdd, added)
		sizes[i] = rsReplicas(rs) + p
		added += p
	}
	sizes[0] = max(0, sizes[0]+toAdd-added)
	var ops []scaleOp
	for i, rs := range rss {
		if sizes[i] != rsReplicas(rs) {
			ops = append(ops, scaleOp{rs, sizes[i]})
		}
	}
	return ops
}

// proportion is rs's share of toAdd, never more than what is left.
func proportion(d *apps.Deployment, rs *apps.ReplicaSet, toAdd, added int32) int32 {
	if rsReplicas(rs) == 0 || toAdd == added {
		return 0
	}
	var fraction int32
	if replicas(d) == 0 {
		fraction = -rsReplicas(rs)
	} else {
		annotated, ok := intAnnotation(rs, MaxReplicasAnnotation)
		if !ok || annotated == 0 {
			annotated = d.Status.Replicas
		}
		if annotated == 0 {
			return 0
		}
		target := float64(rsReplicas(rs)*(replicas(d)+maxSurge(d))) / float64(annotated)
		fraction = int32(target+0.5) - rsReplicas(rs)
	}
	left := toAdd - added
	if toAdd > 0 {
		return min(fraction, left)
	}
	return max(fraction, left)
}

// ---- conditions ----

// Reasons of the Progressing and Available conditions (Kubernetes').
const (
	reasonNewRSCreated      = "NewReplicaSetCreated"
	reasonFoundNewRS        = "FoundNewReplicaSet"
	reasonRSUpdated         = "ReplicaSetUpdated"
	reasonNewRSAvailable    = "NewReplicaSetAvailable"
	reasonTimedOut          = "ProgressDeadlineExceeded"
	reasonPaused            = "DeploymentPaused"
	reasonResumed           = "DeploymentResumed"
	reasonMinimumAvailable  = "MinimumReplicasAvailable"
	reasonMinimumUnavailabe = "MinimumReplicasUnavailable"
)

func newCondition(typ, status, reason, msg string, now time.Time) apps.DeploymentCondition {
	t := meta.NewTime(now)
	return apps.DeploymentCondition{Type: typ, Status: status, Reason: reason, Message: msg, LastUpdateTime: t, LastTransitionTime: t}
}

func getCondition(st *apps.DeploymentStatus, typ string) *apps.DeploymentCondition {
	for i := range st.Conditions {
		if st.Conditions[i].Type == typ {
			return &st.Conditions[i]
		}
	}
	return nil
}

// setCondition sets c in st. Same status and reason as now: nothing
// changes (not even lastUpdateTime); same status: lastTransitionTime is
// kept (Kubernetes' SetDeploymentCondition).
func setCondition(st *apps.DeploymentStatus, c apps.DeploymentCondition) {
	cur := getCondition(st, c.Type)
	if cur != nil && cur.Status == c.Status && cur.Reason == c.Reason {
		return
	}
	if cur != nil && cur.Status == c.Status {
		c.LastTransitionTime = cur.LastTransitionTime
	}
	removeCondition(st, c.Type)
	st.Conditions = append(st.Conditions, c)
}

func removeCondition(st *apps.DeploymentStatus, typ string) {
	st.Conditions = slices.DeleteFunc(slices.Clone(st.Conditions), func(c apps.DeploymentCondition) bool { return c.Type == typ })
}

// hasProgressDeadline says whether d has a progress deadline; MaxInt32
// means none, as in Kubernetes.
func hasProgressDeadline(d *apps.Deployment) bool {
	return d.Spec.ProgressDeadlineSeconds != nil && *d.Spec.ProgressDeadlineSeconds != 1<<31-1
}

// ---- status ----

// calculateStatus is d's status from its ReplicaSets' statuses. The
// conditions start from d's current ones; Available is recomputed here,
// Progressing by syncRolloutStatus.
func calculateStatus(d *apps.Deployment, all []*apps.ReplicaSet, newRS *apps.ReplicaSet, now time.Time) apps.DeploymentStatus {
	available := sum(all, func(rs *apps.ReplicaSet) int32 { return rs.Status.AvailableReplicas })
	st := apps.DeploymentStatus{
		ObservedGeneration:  d.Generation,
		Replicas:            sum(all, func(rs *apps.ReplicaSet) int32 { return rs.Status.Replicas }),
		UpdatedReplicas:     sum([]*apps.ReplicaSet{newRS}, func(rs *apps.ReplicaSet) int32 { return rs.Status.Replicas }),
		ReadyReplicas:       sum(all, func(rs *apps.ReplicaSet) int32 { return rs.Status.ReadyReplicas }),
		AvailableReplicas:   available,
		UnavailableReplicas: max(0, sum(all, rsReplicas)-available),
		CollisionCount:      d.Status.CollisionCount,
		Conditions:          slices.Clone(d.Status.Conditions),
	}
	if available >= replicas(d)-maxUnavailable(d) {
		setCondition(&st, newCondition(apps.DeploymentAvailable, core.ConditionTrue, reasonMinimumAvailable, "Deployment has minimum availability.", now))
	} else {
		setCondition(&st, newCondition(apps.DeploymentAvailable, core.ConditionFalse, reasonMinimumUnavailabe, "Deployment does not have minimum availability.", now))
	}
	return st
}

// complete is the rule kubectl rollout status applies: every replica
// updated and available, none left over, the spec observed.
func complete(d *apps.Deployment, st *apps.DeploymentStatus) bool {
	n := replicas(d)
	return st.UpdatedReplicas == n && st.Replicas == n && st.AvailableReplicas == n && st.ObservedGeneration >= d.Generation
}

// progressing says whether st shows progress over d's current status:
// more updated, ready or available pods, or fewer old ones.
func progressing(d *apps.Deployment, st *apps.DeploymentStatus) bool {
	old := d.Status
	oldStale := old.Replicas - old.UpdatedReplicas
	newStale := st.Replicas - st.UpdatedReplicas
	return st.UpdatedReplicas > old.UpdatedReplicas || newStale < oldStale ||
		st.ReadyReplicas > old.ReadyReplicas || st.AvailableReplicas > old.AvailableReplicas
}

// timedOut says whether d's rollout has made no progress for
// progressDeadlineSeconds, judged by the Progressing condition's
// lastUpdateTime.
func timedOut(d *apps.Deployment, st *apps.DeploymentStatus, now time.Time) bool {
	if !hasProgressDeadline(d) {
		return false
	}
	c := getCondition(st, apps.DeploymentProgressing)
	if c == nil {
		return false
	}
	switch c.Reason {
	case reasonTimedOut:
		return true
	case reasonNewRSAvailable:
		return false
	}
	deadline := c.LastUpdateTime.Add(time.Duration(*d.Spec.ProgressDeadlineSeconds) * time.Second)
	return now.After(deadline)
}
