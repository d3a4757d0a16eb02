package apiserver

import (
	"net/http"
	"runtime"

	"github.com/gorilla/mux"

	"minik8s/pkg/apis"
	"minik8s/pkg/apis/apierrors"
)

// Version is what /version reports. kubectl's Debian dispatcher picks its
// client by the minor version, so we claim the API level we implement.
var Version = map[string]string{
	"major":        "1",
	"minor":        "32",
	"gitVersion":   "v1.32.0-minik8s",
	"gitCommit":    "",
	"gitTreeState": "clean",
	"buildDate":    "",
	"goVersion":    runtime.Version(),
	"compiler":     runtime.Compiler,
	"platform":     runtime.GOOS + "/" + runtime.GOARCH,
}

func (s *Server) version(w http.ResponseWriter, r *http.Request) {
	writeObject(w, r, http.StatusOK, Version)
}

// apiVersions is /api: the core group's versions.
func (s *Server) apiVersions(w http.ResponseWriter, r *http.Request) {
	writeObject(w, r, http.StatusOK, map[string]any{
		"kind": "APIVersions", "versions": []string{"v1"},
		"serverAddressByClientCIDRs": []map[string]string{{"clientCIDR": "0.0.0.0/0", "serverAddress": r.Host}},
	})
}

type groupVersion struct {
	GroupVersion string `json:"groupVersion"`
	Version      string `json:"version"`
}

// apiGroups is /apis: every named group, from the kinds table.
func (s *Server) apiGroups(w http.ResponseWriter, r *http.Request) {
	type group struct {
		Name             string         `json:"name"`
		Versions         []groupVersion `json:"versions"`
		PreferredVersion groupVersion   `json:"preferredVersion"`
	}
	groups := []group{}
	seen := map[string]bool{}
	for _, k := range apis.All() {
		if k.Group == "" || seen[k.Group] {
			continue
		}
		seen[k.Group] = true
		gv := groupVersion{GroupVersion: k.APIVersion(), Version: k.Version}
		groups = append(groups, group{Name: k.Group, Versions: []groupVersion{gv}, PreferredVersion: gv})
	}
	writeObject(w, r, http.StatusOK, map[string]any{"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

type apiResource struct {
	Name         string   `json:"name"`
	SingularName string   `json:"singularName"`
	Namespaced   bool     `json:"namespaced"`
	Group        string   `json:"group,omitempty"`
	Version      string   `json:"version,omitempty"`
	Kind         string   `json:"kind"`
	Verbs        []string `json:"verbs"`
	ShortNames   []string `json:"shortNames,omitempty"`
	Categories   []string `json:"categories,omitempty"`
}

// subresourceVerbs are the verbs of each subresource, as Kubernetes lists them.
var subresourceVerbs = map[string][]string{
	"status":  {"get", "patch", "update"},
	"scale":   {"get", "patch", "update"},
	"binding": {"create"},
	"log":     {"get"},
}

// resourceList is /api/v1 and /apis/{group}/{version}: the resources of
// one group version, with their verbs, short names and subresources.
func (s *Server) resourceList(w http.ResponseWriter, r *http.Request) {
	vars := mux.Vars(r)
	group, version := vars["group"], vars["version"]
	gv := version
	if group != "" {
		gv = group + "/" + version
	}
	var resources []apiResource
	for _, k := range apis.All() {
		if k.Group != group || k.Version != version {
			continue
		}
		resources = append(resources, apiResource{
			Name: k.Resource, Namespaced: k.Namespaced, Kind: k.Kind,
			Verbs:      []string{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"},
			ShortNames: k.ShortNames, Categories: k.Categories,
		})
		for _, sub := range k.Subresources {
			res := apiResource{Name: k.Resource + "/" + sub, Namespaced: k.Namespaced, Kind: k.Kind, Verbs: subresourceVerbs[sub]}
			switch sub {
			case "scale":
				res.Group, res.Version, res.Kind = "autoscaling", "v1", "Scale"
			case "binding":
				res.Kind = "Binding"
			}
			resources = append(resources, res)
		}
	}
	if resources == nil {
		writeError(w, r, apierrors.New(apierrors.ErrNotFound, "the server could not find the requested resource (%s)", gv))
		return
	}
	writeObject(w, r, http.StatusOK, map[string]any{
		"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources,
	})
}
