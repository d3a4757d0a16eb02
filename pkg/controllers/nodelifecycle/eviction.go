package nodelifecycle

import (
	"time"

	"minik8s/pkg/apis/core"
)

// tolerates reports whether toleration tol matches taint (Kubernetes'
// Toleration.ToleratesTaint): the effect matches (an empty effect matches
// all), and either the operator is Exists with an empty key (matches every
// taint), Exists with the taint's key, or Equal (the default) with the
// taint's key and value.
func tolerates(tol core.Toleration, taint core.Taint) bool {
	if tol.Effect != "" && tol.Effect != taint.Effect {
		return false
	}
	if tol.Key != "" && tol.Key != taint.Key {
		return false
	}
	switch tol.Operator {
	case core.TolerationOpExists:
		return true
	case "", core.TolerationOpEqual:
		return tol.Key != "" && tol.Value == taint.Value
	}
	return false
}

// evictionTime says when a pod with tolerations must leave a node with
// taints (Kubernetes' NoExecute taint manager). Only NoExecute taints
// count. For each, the first toleration matching it says for how long it
// is tolerated: tolerationSeconds (negative counts as 0) after the taint's
// timeAdded, or forever without tolerationSeconds; an untolerated taint
// means now. The pod must leave at the earliest of those times. ok is
// false when it may stay forever (no NoExecute taint, or all tolerated
// forever).
//
// Every NoExecute taint this controller adds has a timeAdded, and it
// stamps the ones others add without it; one still without counts from
// now.
func evictionTime(tolerations []core.Toleration, taints []core.Taint, now time.Time) (at time.Time, ok bool) {
	for _, taint := range taints {
		if taint.Effect != core.TaintEffectNoExecute {
			continue
		}
		added := now
		if taint.TimeAdded != nil {
			added = taint.TimeAdded.Time
		}
		deadline, bounded := now, true // untolerated: leave now
		for _, tol := range tolerations {
			if !tolerates(tol, taint) {
				continue
			}
			if tol.TolerationSeconds == nil {
				bounded = false
			} else {
				deadline = added.Add(time.Duration(max(*tol.TolerationSeconds, 0)) * time.Second)
			}
			break
		}
		if bounded && (!ok || deadline.Before(at)) {
			at, ok = deadline, true
		}
	}
	return at, ok
}
