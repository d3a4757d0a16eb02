package garbagecollector

import (
	"slices"

	"minik8s/pkg/apis/meta"
)

// ownerState is what the collector knows about the owner one
// ownerReference points to. The names are Kubernetes' (garbagecollector.go,
// classifyReferences).
type ownerState int

const (
	// solid: an object with the referenced uid exists and is not waiting
	// for its dependents to go. It keeps the dependent alive. An owner
	// being deleted with the orphan finalizer is solid too: it is about to
	// let go of the dependent, not to take it along.
	solid ownerState = iota
	// dangling: no object with the referenced uid exists (deleted, never
	// existed, or the name now belongs to another object).
	dangling
	// waiting: the owner is being deleted in the foreground (it has the
	// foregroundDeletion finalizer) and waits for its dependents.
	waiting
)

func (s ownerState) String() string {
	return [...]string{"solid", "dangling", "waiting"}[s]
}

// stateOf classifies an owner that exists.
func stateOf(owner meta.Object) ownerState {
	m := owner.GetObjectMeta()
	if m.DeletionTimestamp != nil && slices.Contains(m.Finalizers, meta.FinalizerDeleteDependents) {
		return waiting
	}
	return solid
}

// verdict is what to do with a dependent, given the states of its owners.
type verdict struct {
	// action is one of keep, dropRefs, deleteBackground, deleteForeground.
	action action
	// drop lists the uids of the references to remove (dropRefs only).
	drop []string
}

type action int

const (
	keep             action = iota // an owner still holds it
	dropRefs                       // a solid owner holds it; forget the others
	deleteBackground               // every owner is gone
	deleteForeground               // owners are gone or waiting for it in the foreground
)

func (a action) String() string {
	return [...]string{"keep", "dropRefs", "deleteBackground", "deleteForeground"}[a]
}

// decide is the collector's rule for one dependent (Kubernetes'
// attemptToDeleteItem), given one state per ownerReference, in order:
//
//   - No references, or all solid: keep it.
//   - Some solid, some not: keep it, but remove the references to the
//     dangling and waiting owners, so that a waiting owner stops waiting
//     for it and a dangling reference does not linger. (Kubernetes
//     instead sets blockOwnerDeletion=false on the waiting ones and
//     removes the reference once that owner is gone; the outcome is the
//     same.)
//   - None solid, some waiting: delete it in the foreground, so its own
//     dependents go before it and the waiting owner goes after them all.
//   - All dangling: delete it in the background.
func decide(refs []meta.OwnerReference, states []ownerState) verdict {
	var nSolid, nWaiting int
	var drop []string
	for i, s := range states {
		switch s {
		case solid:
			nSolid++
		case waiting:
			nWaiting++
			drop = append(drop, refs[i].UID)
		case dangling:
			drop = append(drop, refs[i].UID)
		}
	}
	switch {
	case len(drop) == 0:
		return verdict{action: keep}
	case nSolid > 0:
		return verdict{action: dropRefs, drop: drop}
	case nWaiting > 0:
		return verdict{action: deleteForeground}
	default:
		return verdict{action: deleteBackground}
	}
}

// blocks reports whether dependent d holds up the foreground deletion of
// the owner with uid: it references that owner with blockOwnerDeletion set.
func blocks(d meta.Object, uid string) bool {
	for _, r := range d.GetObjectMeta().OwnerReferences {
		if r.UID == uid && r.BlockOwnerDeletion != nil && *r.BlockOwnerDeletion {
			return true
		}
	}
	return false
}

// withoutRefs returns refs minus those to the given uids, and whether
// anything was removed.
func withoutRefs(refs []meta.OwnerReference, uids []string) ([]meta.OwnerReference, bool) {
	out := slices.DeleteFunc(slices.Clone(refs), func(r meta.OwnerReference) bool {
		return slices.Contains(uids, r.UID)
	})
	return out, len(out) != len(refs)
}

// withoutFinalizer returns fs minus f, and whether f was there.
func withoutFinalizer(fs []string, f string) ([]string, bool) {
	out := slices.DeleteFunc(slices.Clone(fs), func(s string) bool { return s == f })
	return out, len(out) != len(fs)
}

// needsAttention says whether obj itself may call for the collector to
// act: it has owners (which may be gone), or it is being deleted with a
// finalizer the collector is responsible for.
func needsAttention(obj meta.Object) bool {
	m := obj.GetObjectMeta()
	return len(m.OwnerReferences) > 0 || (m.DeletionTimestamp != nil && hasGCFinalizer(m))
}

func hasGCFinalizer(m *meta.ObjectMeta) bool {
	return slices.Contains(m.Finalizers, meta.FinalizerOrphanDependents) ||
		slices.Contains(m.Finalizers, meta.FinalizerDeleteDependents)
}
