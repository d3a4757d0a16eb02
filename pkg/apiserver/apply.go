package apiserver

import (
	"encoding/json"
	"errors"
	"net/http"

	"minik8s/pkg/apis/apierrors"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/apiserver/strategicpatch"
)

// serveApply is server-side apply (PATCH with application/apply-patch+yaml,
// what kubectl apply --server-side sends): the body is the whole manifest.
// If the object does not exist it is created; otherwise the fields the
// manifest sets are merged into the live object the way a strategic merge
// patch merges (lists of containers, ports, env ... by their keys).
//
// minik8s does not track field ownership (managedFields): a field that a
// manifest stops setting is left as it is, not removed, and there are no
// conflicts between managers. docs/kubectl.md says so.
func (s *Server) serveApply(w http.ResponseWriter, r *http.Request, info *requestInfo) {
	k := info.Kind
	body, err := readBody(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	doc, dups, err := toJSON(body, "application/apply-patch+yaml")
	if err != nil {
		writeError(w, r, err)
		return
	}
	manifest, warnings, err := decodeDoc(r, k, doc, dups)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if n := manifest.GetObjectMeta().Name; n != "" && n != info.Name {
		writeError(w, r, apierrors.New(apierrors.ErrBadRequest, "the name of the object (%s) does not match the name on the URL (%s)", n, info.Name))
		return
	}
	writeWarnings(w, warnings)
	obj, err := s.update(r.Context(), k, info.Namespace, info.Name, "", isDryRun(r), func(cur meta.Object) (meta.Object, error) {
		curJSON, err := json.Marshal(cur)
		if err != nil {
			return nil, err
		}
		merged, err := strategicpatch.Apply(curJSON, doc, strategicpatch.KubernetesSchema{})
		if err != nil {
			return nil, apierrors.New(apierrors.ErrBadRequest, "cannot apply the manifest: %v", err)
		}
		next, _, err := decodeDoc(r, k, merged, nil)
		return next, err
	})
	if errors.Is(err, apierrors.ErrNotFound) {
		manifest.GetObjectMeta().Name = info.Name
		if err := s.setNamespace(k, manifest, info.Namespace); err != nil {
			writeError(w, r, err)
			return
		}
		created, err := s.create(r.Context(), k, manifest, isDryRun(r))
		if err != nil {
			writeError(w, r, err)
			return
		}
		writeObject(w, r, http.StatusCreated, created)
		return
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeObject(w, r, http.StatusOK, obj)
}
