package apiserver

import (
	"net/http"
	"strings"

	"minik8s/pkg/apis"
	"minik8s/pkg/apis/apierrors"
)

// requestInfo is what a resource path and method mean.
type requestInfo struct {
	Verb        string // get list watch create update patch delete deletecollection
	Kind        *apis.Kind
	Namespace   string
	Name        string
	Subresource string
}

// resolve parses /api/v1/... and /apis/{group}/{version}/... paths the way
// Kubernetes' RequestInfoResolver does:
//
//	{prefix}/{resource}[/{name}[/{subresource}]]
//	{prefix}/namespaces/{namespace}/{resource}[/{name}[/{subresource}]]
//
// /namespaces/{name} and /namespaces/{name}/{status|finalize} address the
// namespace object itself.
func resolve(r *http.Request) (*requestInfo, error) {
	parts := splitPath(r.URL.Path)
	var group, version string
	switch {
	case len(parts) >= 2 && parts[0] == "api":
		version, parts = parts[1], parts[2:]
	case len(parts) >= 3 && parts[0] == "apis":
		group, version, parts = parts[1], parts[2], parts[3:]
	default:
		return nil, apierrors.New(apierrors.ErrNotFound, "the server could not find the requested resource")
	}
	info := &requestInfo{}
	if len(parts) >= 3 && parts[0] == "namespaces" && !(len(parts) == 3 && (parts[2] == "status" || parts[2] == "finalize")) {
		info.Namespace, parts = parts[1], parts[2:]
	}
	if len(parts) == 0 || len(parts) > 3 {
		return nil, apierrors.New(apierrors.ErrNotFound, "the server could not find the requested resource")
	}
	k, ok := apis.ByResource(group, parts[0])
	if !ok || k.Version != version {
		return nil, apierrors.New(apierrors.ErrNotFound, "the server could not find the requested resource (%s)", r.URL.Path)
	}
	info.Kind = k
	if len(parts) > 1 {
		info.Name = parts[1]
	}
	if len(parts) > 2 {
		info.Subresource = parts[2]
		if !k.HasSubresource(info.Subresource) {
			return nil, apierrors.New(apierrors.ErrNotFound, "the server could not find the requested resource (%s/%s)", k.Resource, info.Subresource)
		}
	}
	if !k.Namespaced && info.Namespace != "" {
		return nil, apierrors.New(apierrors.ErrNotFound, "%s is cluster-scoped: use %s without /namespaces/%s", k.Resource, k.Resource, info.Namespace)
	}
	if k.Namespaced && info.Name != "" && info.Namespace == "" {
		return nil, apierrors.New(apierrors.ErrNotFound, "%s are namespaced: use /namespaces/{namespace}/%s/%s", k.Resource, k.Resource, info.Name)
	}
	q := r.URL.Query()
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		switch {
		case info.Name != "":
			info.Verb = "get"
		case q.Get("watch") == "true" || q.Get("watch") == "1":
			info.Verb = "watch"
		default:
			info.Verb = "list"
		}
	case http.MethodPost:
		info.Verb = "create"
		if info.Name != "" && info.Subresource == "" {
			return nil, apierrors.New(apierrors.ErrMethodNotAllowed, "POST is not allowed on a named %s; use PUT to update or POST to the collection to create", k.Resource)
		}
	case http.MethodPut:
		info.Verb = "update"
	case http.MethodPatch:
		info.Verb = "patch"
	case http.MethodDelete:
		info.Verb = "delete"
		if info.Name == "" {
			info.Verb = "deletecollection"
		}
	default:
		return nil, apierrors.New(apierrors.ErrMethodNotAllowed, "method %s is not allowed", r.Method)
	}
	if info.Name == "" && info.Verb != "list" && info.Verb != "watch" && info.Verb != "create" && info.Verb != "deletecollection" {
		return nil, apierrors.New(apierrors.ErrMethodNotAllowed, "%s needs a name in the path", info.Verb)
	}
	return info, nil
}

func splitPath(p string) []string {
	var out []string
	for _, s := range strings.Split(p, "/") {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
