package statefulset

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strconv"

	"minik8s/pkg/apis/apierrors"
	"minik8s/pkg/apis/apps"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
)

// A StatefulSet's templates are kept in ControllerRevisions, as in
// Kubernetes (pkg/controller/history): the data is the patch that
// restores the template, {"spec":{"template":{...,"$patch":"replace"}}},
// which is also what `kubectl rollout undo` applies.

// revisionData returns the ControllerRevision data of set's template.
func revisionData(set *apps.StatefulSet) ([]byte, error) {
	tb, err := json.Marshal(&set.Spec.Template)
	if err != nil {
		return nil, err
	}
	var tmpl map[string]json.RawMessage
	if err := json.Unmarshal(tb, &tmpl); err != nil {
		return nil, err
	}
	tmpl["$patch"] = json.RawMessage(`"replace"`)
	return json.Marshal(map[string]any{"spec": map[string]any{"template": tmpl}})
}

// templateOf returns the template a revision stores.
func templateOf(cr *apps.ControllerRevision) (*core.PodTemplateSpec, error) {
	var d struct {
		Spec struct {
			Template core.PodTemplateSpec `json:"template"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(cr.Data, &d); err != nil {
		return nil, fmt.Errorf("decoding revision %s: %w", cr.Name, err)
	}
	return &d.Spec.Template, nil
}

// safeAlphabet has no vowels and no look-alike digits, so a hash never
// spells a word (Kubernetes' rand.SafeEncodeString).
const safeAlphabet = "bcdfghjklmnpqrstvwxz2456789"

// revisionName is <set>-<hash of data and collision count> (Kubernetes'
// ControllerRevisionName over HashControllerRevision).
func revisionName(set string, data []byte, collisions int32) string {
	h := fnv.New32a()
	h.Write(data)
	if collisions != 0 {
		var n [4]byte
		binary.LittleEndian.PutUint32(n[:], uint32(collisions))
		h.Write(n[:])
	}
	digits := []byte(strconv.FormatUint(uint64(h.Sum32()), 10))
	for i, d := range digits {
		digits[i] = safeAlphabet[int(d)%len(safeAlphabet)]
	}
	prefix := set
	if len(prefix) > 223 { // names are at most 253 characters
		prefix = prefix[:223]
	}
	return prefix + "-" + string(digits)
}

// sameData compares two JSON documents ignoring insignificant whitespace.
func sameData(a, b []byte) bool {
	var ca, cb bytes.Buffer
	if json.Compact(&ca, a) != nil || json.Compact(&cb, b) != nil {
		return bytes.Equal(a, b)
	}
	return bytes.Equal(ca.Bytes(), cb.Bytes())
}

// maxRevision is the highest revision number among revs (0 if none).
func maxRevision(revs []*apps.ControllerRevision) int64 {
	var n int64
	for _, r := range revs {
		n = max(n, r.Revision)
	}
	return n
}

// ensureUpdateRevision returns the revision of set's current template,
// among revs (set's own revisions, from the cache) or newly created, and
// the collision count to record in the status. A revision of an earlier
// template that is now current again (a rollback) is renumbered to be the
// newest. A name taken by a revision with other data (a hash collision)
// bumps the collision count, which changes the name.
func (ctrl *Controller) ensureUpdateRevision(ctx context.Context, set *apps.StatefulSet, revs []*apps.ControllerRevision) (*apps.ControllerRevision, int32, error) {
	var collisions int32
	if set.Status.CollisionCount != nil {
		collisions = *set.Status.CollisionCount
	}
	data, err := revisionData(set)
	if err != nil {
		return nil, collisions, fmt.Errorf("encoding the template of %s: %w", set.Name, err)
	}
	newest := maxRevision(revs)
	for _, r := range revs {
		if !sameData(r.Data, data) {
			continue
		}
		if r.Revision == newest {
			return r, collisions, nil
		}
		cp := *r // shallow: Revision is the only field changed
		cp.Revision = newest + 1
		if err := ctrl.c.Update(ctx, &cp); err != nil {
			return nil, collisions, fmt.Errorf("renumbering revision %s: %w", r.Name, err)
		}
		return &cp, collisions, nil
	}
	for range 10 {
		cr := &apps.ControllerRevision{
			ObjectMeta: meta.ObjectMeta{
				Name:            revisionName(set.Name, data, collisions),
				Namespace:       set.Namespace,
				Labels:          maps.Clone(set.Spec.Template.Labels),
				OwnerReferences: []meta.OwnerReference{controllerRef(set)},
			},
			Data:     data,
			Revision: newest + 1,
		}
		err := ctrl.c.Create(ctx, cr)
		if err == nil {
			return cr, collisions, nil
		}
		if !errors.Is(err, apierrors.ErrAlreadyExists) {
			return nil, collisions, fmt.Errorf("creating a revision of %s: %w", set.Name, err)
		}
		// Ours, not yet in the cache? Or a collision?
		var have apps.ControllerRevision
		if err := ctrl.c.Get(ctx, cr.Namespace, cr.Name, &have); err != nil {
			return nil, collisions, fmt.Errorf("reading revision %s: %w", cr.Name, err)
		}
		if ref := controllerOf(&have.ObjectMeta); ref != nil && ref.UID == set.UID && sameData(have.Data, data) {
			return &have, collisions, nil
		}
		collisions++
	}
	return nil, collisions, fmt.Errorf("no free revision name for %s after 10 hash collisions", set.Name)
}

// revisionsToTrim returns the revisions beyond set's revisionHistoryLimit
// that no pod uses and that are neither current nor update, oldest first
// (Kubernetes' truncateHistory).
func revisionsToTrim(set *apps.StatefulSet, revs []*apps.ControllerRevision, live map[string]bool) []*apps.ControllerRevision {
	limit := 10
	if set.Spec.RevisionHistoryLimit != nil {
		limit = int(*set.Spec.RevisionHistoryLimit)
	}
	var history []*apps.ControllerRevision
	for _, r := range revs {
		if !live[r.Name] {
			history = append(history, r)
		}
	}
	if len(history) <= limit {
		return nil
	}
	slices.SortFunc(history, func(a, b *apps.ControllerRevision) int { return int(a.Revision - b.Revision) })
	return history[:len(history)-limit]
}
