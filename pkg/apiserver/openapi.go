package apiserver

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"sync"

	"minik8s/pkg/apis"
	"minik8s/pkg/apis/apierrors"
)

// A minimal OpenAPI v3, enough for kubectl's default validation: for each
// kind, a PATCH operation on its item path that carries the kind's
// group-version-kind and a fieldValidation parameter. Seeing that, kubectl
// leaves validation to the server (fieldValidation=Strict), which knows
// every field. Schemas of the types are not published (kubectl explain does
// not work); see docs/kubectl.md.

var openAPI struct {
	once  sync.Once
	index []byte            // /openapi/v3
	docs  map[string][]byte // "api/v1", "apis/apps/v1" -> document
}

func buildOpenAPI() {
	docs := map[string][]byte{}
	paths := map[string]map[string]string{}
	byGV := map[string][]*apis.Kind{}
	var order []string
	for _, k := range apis.All() {
		gv := "api/" + k.Version
		if k.Group != "" {
			gv = "apis/" + k.Group + "/" + k.Version
		}
		if _, ok := byGV[gv]; !ok {
			order = append(order, gv)
		}
		byGV[gv] = append(byGV[gv], k)
	}
	for _, gv := range order {
		doc, _ := json.Marshal(openAPIDoc(gv, byGV[gv]))
		docs[gv] = doc
		sum := sha256.Sum256(doc)
		paths[gv] = map[string]string{"serverRelativeURL": "/openapi/v3/" + gv + "?hash=" + strings.ToUpper(hex.EncodeToString(sum[:]))}
	}
	openAPI.index, _ = json.Marshal(map[string]any{"paths": paths})
	openAPI.docs = docs
}

func openAPIDoc(gv string, kinds []*apis.Kind) map[string]any {
	params := []map[string]any{}
	for _, p := range []string{"dryRun", "fieldManager", "fieldValidation", "force"} {
		params = append(params, map[string]any{"name": p, "in": "query", "schema": map[string]string{"type": "string"}, "uniqueItems": true})
	}
	paths := map[string]any{}
	for _, k := range kinds {
		item := "/" + gv + "/" + k.Resource + "/{name}"
		if k.Namespaced {
			item = "/" + gv + "/namespaces/{namespace}/" + k.Resource + "/{name}"
		}
		paths[item] = map[string]any{
			"patch": map[string]any{
				"operationId":                     "patch" + k.Kind,
				"parameters":                      params,
				"x-kubernetes-action":             "patch",
				"x-kubernetes-group-version-kind": map[string]string{"group": k.Group, "version": k.Version, "kind": k.Kind},
				"responses":                       map[string]any{"200": map[string]string{"description": "OK"}},
			},
		}
	}
	return map[string]any{
		"openapi":    "3.0.0",
		"info":       map[string]string{"title": "minik8s", "version": Version["gitVersion"]},
		"paths":      paths,
		"components": map[string]any{"schemas": map[string]any{}},
	}
}

func (s *Server) serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	openAPI.once.Do(buildOpenAPI)
	p := strings.Trim(strings.TrimPrefix(r.URL.Path, "/openapi/v3"), "/")
	body := openAPI.index
	if p != "" {
		var ok bool
		if body, ok = openAPI.docs[p]; !ok {
			writeError(w, r, apierrors.New(apierrors.ErrNotFound, "no OpenAPI document for %s", p))
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(body)
}
