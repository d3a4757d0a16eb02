package apiserver

import (
	"encoding/json"
	"net/http"

	"minik8s/pkg/apis/apierrors"
	"minik8s/pkg/apis/meta"
)

// patcher is PATCH: the new object is the current one with the patch
// applied. The patch is re-applied to the fresh object on every retry, so a
// patch never overwrites a concurrent change to fields it does not touch.
// A resourceVersion inside the patch acts as a precondition.
func (s *Server) patcher(r *http.Request, info *requestInfo, body []byte, warnings *[]string) (mutateFunc, error) {
	media := mediaType(r)
	if len(body) == 0 {
		return nil, apierrors.New(apierrors.ErrBadRequest, "the patch is empty")
	}
	patch, _, err := toJSON(body, media)
	if err != nil {
		return nil, err
	}
	return func(cur meta.Object) (meta.Object, error) {
		curJSON, err := json.Marshal(cur)
		if err != nil {
			return nil, err
		}
		doc, err := applyPatch(media, curJSON, patch)
		if err != nil {
			return nil, err
		}
		obj, ws, err := decodeDoc(r, info.Kind, doc, nil)
		if err != nil {
			return nil, err
		}
		*warnings = ws
		return obj, nil
	}, nil
}
